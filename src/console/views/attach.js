// Files an agent attaches to a reply: chosen with Attach, dropped on the chat or pasted,
// checked against the hub's size limit, uploaded with a progress bar, shown as removable chips
// until the reply that carries them is sent.

import { session } from "../api.js";
import { h } from "../dom.js";
import { fileBadge, size } from "../media.js";
import { state } from "../state.js";

/** Uploads `file` to chat `chatId` as one multipart `file` part; `progress(fraction)` while it
 * goes. Resolves with the hub's attachment, rejects with the hub's error message. */
function uploadFile(chatId, file, progress) {
  const xhr = new XMLHttpRequest();
  const done = new Promise((resolve, reject) => {
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable) progress(event.loaded / event.total);
    };
    xhr.onload = () => {
      let body = null;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        /* no JSON: the status speaks */
      }
      if (xhr.status === 201 && body?.attachments?.[0]) resolve(body.attachments[0]);
      else reject(new Error(refusal(file, xhr.status, body?.error)));
    };
    xhr.onerror = () => reject(new Error(`${file.name} could not be sent: the hub cannot be reached.`));
    xhr.onabort = () => reject(new Error(""));
  });
  const form = new FormData();
  form.append("file", file, file.name);
  xhr.open("POST", `/api/chats/${chatId}/attachments`);
  xhr.setRequestHeader("Authorization", `Bearer ${session.token}`);
  xhr.setRequestHeader("Accept", "application/json");
  xhr.send(form);
  return { done, abort: () => xhr.abort() };
}

/** What to tell the agent about an upload the hub refused. */
function refusal(file, status, error) {
  if (status === 413 || error?.code === "file_too_large") {
    return `${file.name} is too large: ${error?.message || "the hub refused its size"}.`;
  }
  return `${file.name} was not attached: ${error?.message || `the hub answered ${status}`}.`;
}

/** Why `file` cannot be uploaded here, before it is sent; null when it may go. */
function refusedBefore(file) {
  const limit = state.mediaMaxBytes;
  if (limit && file.size > limit) {
    return `${file.name} is too large (${size(file.size)}): files may be at most ${size(limit)}.`;
  }
  if (file.size === 0) return `${file.name} is empty.`;
  return null;
}

/**
 * The attachments of chat `chatId`'s composer: `button` (Attach with its file input), `tray`
 * (the chips), `add(files)`, `ids()` of the uploaded files, `busy()` while uploads go,
 * `clear()` once sent. `onError(text)` shows a problem beside the composer.
 */
export function attachments(chatId, onError) {
  const uploads = [];
  const input = h("input", {
    type: "file",
    id: "attach-input",
    class: "visually-hidden",
    multiple: true,
    onchange: () => {
      add([...input.files]);
      input.value = "";
    },
  });
  const button = h("span", { class: "attach" }, input, h("label", { for: "attach-input", class: "button" }, "Attach"));
  const tray = h("ul", { class: "upload-tray", "aria-label": "Attachments", hidden: true });

  function redraw() {
    tray.replaceChildren(...uploads.map((u) => u.chip));
    tray.hidden = uploads.length === 0;
  }

  function remove(upload) {
    upload.request?.abort();
    if (upload.preview) URL.revokeObjectURL(upload.preview);
    uploads.splice(uploads.indexOf(upload), 1);
    redraw();
  }

  function chip(upload) {
    const { file } = upload;
    upload.bar = h("progress", { max: 1, value: 0, "aria-label": `Uploading ${file.name}` });
    return h("li", { class: "upload-chip" },
      upload.preview ? h("img", { class: "upload-thumb", src: upload.preview, alt: "" }) : fileBadge(file.name),
      h("span", { class: "upload-name" }, file.name),
      h("span", { class: "upload-size" }, size(file.size)),
      upload.bar,
      h("button", { type: "button", class: "chip-remove", "aria-label": `Remove ${file.name}`, onclick: () => remove(upload) }, "×"));
  }

  function start(file) {
    const upload = { file, id: null, preview: file.type.startsWith("image/") ? URL.createObjectURL(file) : null };
    upload.chip = chip(upload);
    uploads.push(upload);
    upload.request = uploadFile(chatId, file, (fraction) => { upload.bar.value = fraction; });
    upload.request.done.then((attachment) => {
      upload.id = attachment.id;
      upload.request = null;
      upload.bar.remove();
      upload.chip.classList.add("uploaded");
    }).catch((error) => {
      if (!uploads.includes(upload)) return;
      remove(upload);
      if (error.message) onError(error.message);
    });
  }

  /** Checks and uploads each of `files`; those refused are named beside the composer. */
  function add(files) {
    const problems = [];
    for (const file of files) {
      const problem = refusedBefore(file);
      if (problem) problems.push(problem);
      else start(file);
    }
    onError(problems.join(" "));
    redraw();
  }

  return {
    button,
    tray,
    add,
    ids: () => uploads.filter((u) => u.id !== null).map((u) => u.id),
    busy: () => uploads.some((u) => u.id === null),
    clear() {
      for (const upload of [...uploads]) remove(upload);
    },
  };
}
