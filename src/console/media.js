// Kept media in the chat: thumbnails, the image viewer, players and file chips. The hub serves
// media only with the session's token, so each file is fetched with it and shown from a blob
// URL, cached by its address and revoked once nothing on the page shows it.

import { session } from "./api.js";
import { h } from "./dom.js";

/** Blob URLs (as promises) by the media address they were fetched from. */
const cache = new Map();

/** "512 B", "48 KB", "3.2 MB". */
export function size(bytes) {
  if (!Number.isFinite(bytes)) return "";
  if (bytes < 1000) return `${bytes} B`;
  if (bytes < 1000000) return `${Math.round(bytes / 1000)} KB`;
  return `${(bytes / 1000000).toFixed(1)} MB`;
}

/** A file's kind as a short badge: its extension ("PDF"), or "FILE". */
export function fileBadge(name) {
  const match = /\.([a-z0-9]{1,5})$/i.exec(name || "");
  return h("span", { class: "file-icon", "aria-hidden": "true" }, match ? match[1].toUpperCase() : "FILE");
}

/** A blob URL of the media at `path`, fetched with the session's token once. */
export function blobUrl(path) {
  if (!cache.has(path)) {
    const loading = fetch(path, { headers: { Authorization: `Bearer ${session.token}` } })
      .then((response) => {
        if (!response.ok) throw new Error(`The hub answered ${response.status}`);
        return response.blob();
      })
      .then((blob) => URL.createObjectURL(blob));
    loading.catch(() => cache.delete(path));
    cache.set(path, loading);
  }
  return cache.get(path);
}

/** Revokes the blob URLs of media no element on the page shows any more. */
export function sweep() {
  const shown = new Set([...document.querySelectorAll("[data-media]")].map((e) => e.dataset.media));
  for (const [path, loading] of cache) {
    if (shown.has(path)) continue;
    cache.delete(path);
    loading.then((url) => URL.revokeObjectURL(url)).catch(() => {});
  }
}

/** Gives `node` (an img, audio or video) the fetched media at `path` as its source. */
function load(node, path, failed) {
  node.dataset.media = path;
  blobUrl(path).then((url) => {
    node.src = url;
  }).catch(() => node.replaceWith(failed));
}

/** The full image over the page; Escape or Close closes it and focus returns to `opener`. */
function view(attachment, opener) {
  const image = h("img", { class: "viewer-image", alt: attachment.name || "Image sent in the chat" });
  const close = h("button", { type: "button", class: "viewer-close", onclick: () => dialog.close() }, "Close");
  const dialog = h("dialog", { class: "viewer", "aria-label": attachment.name || "Image" },
    h("div", { class: "viewer-bar" }, h("span", { class: "viewer-name" }, attachment.name || "Image"), close),
    image);
  dialog.addEventListener("close", () => {
    dialog.remove();
    sweep();
    opener.focus();
  });
  dialog.addEventListener("click", (event) => {
    if (event.target === dialog) dialog.close();
  });
  document.body.append(dialog);
  load(image, attachment.url, h("p", { class: "notice error" }, "The image could not be loaded."));
  dialog.showModal();
  close.focus();
}

/** Downloads a kept file under its name. */
async function download(attachment, button) {
  button.disabled = true;
  try {
    const link = h("a", { href: await blobUrl(attachment.url), download: attachment.name || "file", hidden: true });
    document.body.append(link);
    link.click();
    link.remove();
  } catch {
    button.title = "The file could not be downloaded; try again.";
  }
  button.disabled = false;
}

function image(a) {
  const label = a.name ? `Open image ${a.name}` : "Open image";
  const thumb = h("img", { class: "attachment", alt: a.name || "Image sent in the chat" });
  const button = h("button", { type: "button", class: "thumb", "aria-label": label, title: label, onclick: () => view(a, button) }, thumb);
  load(thumb, a.thumbnail_url || a.url, h("span", { class: "file" }, "The image could not be loaded."));
  return button;
}

function player(a) {
  const node = h(a.type, { class: `player player-${a.type}`, controls: true, preload: "metadata", "aria-label": a.name || a.type });
  load(node, a.url, h("span", { class: "file" }, `The ${a.type} could not be loaded.`));
  return h("figure", { class: "media-figure" }, node, a.name ? h("figcaption", {}, a.name, " · ", size(a.size)) : null);
}

function fileChip(a) {
  const name = a.name || "File";
  const button = h("button", { type: "button", class: "file-chip", title: `Download ${name}`, onclick: () => download(a, button) },
    fileBadge(name),
    h("span", { class: "file-name" }, name),
    h("span", { class: "file-size" }, size(a.size)),
    h("span", { class: "file-action", "aria-hidden": "true" }, "Download"));
  button.setAttribute("aria-label", `Download ${name} (${size(a.size)})`);
  button.dataset.media = a.url;
  return button;
}

/** One kept attachment as the chat shows it. */
export function keptAttachment(a) {
  if (a.state === "pending") {
    return h("span", { class: "media-state pending" }, "Keeping…", a.name ? ` ${a.name}` : "");
  }
  if (a.state === "failed" || !a.url) {
    return h("span", { class: "media-state failed" },
      a.name ? h("span", { class: "media-name" }, a.name) : null,
      `Could not be kept: ${a.reason || "unknown reason"}`);
  }
  if (a.type === "image") return image(a);
  if (a.type === "audio" || a.type === "video") return player(a);
  return fileChip(a);
}
