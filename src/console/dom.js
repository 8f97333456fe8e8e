// Building elements without HTML strings: text is always text, so nothing a customer writes
// can become markup.

/** Creates an element: attributes (`on*` become listeners, `class`, booleans) and children. */
export function h(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") {
      node.addEventListener(key.slice(2).toLowerCase(), value);
    } else if (key === "value") {
      node.value = value;
    } else if (key === "checked") {
      node.checked = Boolean(value);
    } else {
      node.setAttribute(key, value === true ? "" : String(value));
    }
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces every child of `node`. */
export function mount(node, ...children) {
  node.replaceChildren();
  append(node, children);
  return node;
}

/** "now", "5m", "3h", "2d", or a date. */
export function ago(iso) {
  if (!iso) return "";
  const seconds = Math.max(0, (Date.now() - new Date(iso).getTime()) / 1000);
  if (seconds < 60) return "now";
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)}h`;
  if (seconds < 7 * 86400) return `${Math.floor(seconds / 86400)}d`;
  return new Date(iso).toLocaleDateString();
}

/** A time of day, e.g. 14:05. */
export function clock(iso) {
  return new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

/** A day heading, e.g. "Today", "Yesterday" or a date. */
export function day(iso) {
  const date = new Date(iso);
  const today = new Date();
  const yesterday = new Date(Date.now() - 86400000);
  if (date.toDateString() === today.toDateString()) return "Today";
  if (date.toDateString() === yesterday.toDateString()) return "Yesterday";
  return date.toLocaleDateString([], { weekday: "long", month: "long", day: "numeric" });
}

/** Says `text` to screen readers through the page's live region. */
export function announce(text) {
  const region = document.getElementById("announcer");
  if (region) region.textContent = text;
}

/** A labelled form field; `input` is the control, given an id tied to its label. */
let fieldCount = 0;
export function field(label, input, hint) {
  fieldCount += 1;
  const id = input.id || `f${fieldCount}`;
  input.id = id;
  return h("div", { class: "field" },
    h("label", { for: id }, label), input, hint ? h("small", { class: "hint" }, hint) : null);
}

/** A label as a coloured chip, with `extra` (a remove button) after its name. */
export function chip(label, ...extra) {
  const node = h("span", { class: "label-chip" }, h("span", { class: "label-dot", "aria-hidden": "true" }), label.name, ...extra);
  node.style.setProperty("--label", label.color);
  return node;
}

export const CHANNELS = { facebook: "Messenger", instagram: "Instagram", widget: "Website", api: "API" };

const URL_PATTERN = /\bhttps?:\/\/[^\s<>"]+/gi;

/** A URL found in text without the punctuation that ends the sentence around it. */
function trimUrl(raw) {
  for (;;) {
    const end = raw.at(-1);
    const unbalanced = (end === ")" && raw.split("(").length < raw.split(")").length)
      || (end === "]" && raw.split("[").length < raw.split("]").length);
    if (".,;:!?'\"".includes(end) || unbalanced) raw = raw.slice(0, -1);
    else return raw;
  }
}

/** The link of an http or https address; anything else is no link. */
function safeHref(raw) {
  try {
    const url = new URL(raw);
    return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
  } catch {
    return null;
  }
}

/** `text` as text nodes with its web addresses as links that open in a new tab. */
export function linked(text) {
  const nodes = [];
  let done = 0;
  for (const match of text.matchAll(URL_PATTERN)) {
    const raw = trimUrl(match[0]);
    const href = safeHref(raw);
    if (!href) continue;
    if (match.index > done) nodes.push(text.slice(done, match.index));
    nodes.push(h("a", { href, target: "_blank", rel: "noopener noreferrer" }, raw));
    done = match.index + raw.length;
  }
  if (done < text.length) nodes.push(text.slice(done));
  return nodes;
}
