// The composer's canned responses: typing / opens the account's ready answers, filtered as
// one types; Enter, Tab or a click puts the chosen one in, with the customer's name filled in.

import { api } from "../api.js";
import { h, mount } from "../dom.js";

let loaded = null;

/** The account's canned responses, fetched once per page load (and again after a failure). */
function cannedResponses() {
  loaded ??= api("GET", "/api/canned-responses").catch((error) => {
    loaded = null;
    throw error;
  });
  return loaded;
}

/** `text` with the contact's placeholders filled in. */
export function fill(text, contact) {
  const name = (contact?.name || "").trim();
  return text
    .replaceAll("{{contact.name}}", name || "there")
    .replaceAll("{{contact.first_name}}", name.split(/\s+/)[0] || "there");
}

/**
 * Attaches the picker to `textarea`; `contact()` gives the open chat's customer. Returns the
 * list to place under the textarea and `keydown`, which answers true when it used the key.
 */
export function cannedPicker(textarea, contact) {
  let matches = [];
  let active = 0;
  const list = h("ul", { class: "canned", role: "listbox", id: "canned-list", "aria-label": "Canned responses", hidden: true });
  textarea.setAttribute("aria-controls", "canned-list");
  textarea.setAttribute("aria-autocomplete", "list");

  function close() {
    matches = [];
    list.hidden = true;
    textarea.setAttribute("aria-expanded", "false");
    textarea.removeAttribute("aria-activedescendant");
  }

  function choose(index) {
    const picked = matches[index];
    if (!picked) return;
    textarea.value = fill(picked.text, contact());
    close();
    textarea.focus();
    textarea.dispatchEvent(new Event("input", { bubbles: true }));
  }

  function draw() {
    if (!matches.length) {
      mount(list, h("li", { class: "canned-none" }, "No canned response matches."));
    } else {
      mount(list, matches.map((c, i) => h("li", {
        id: `canned-${c.id}`,
        role: "option",
        "aria-selected": String(i === active),
        onmousedown: (event) => {
          event.preventDefault();
          choose(i);
        },
      }, h("strong", {}, `/${c.shortcut}`), " ", h("span", {}, fill(c.text, contact())))));
      textarea.setAttribute("aria-activedescendant", `canned-${matches[active].id}`);
    }
    list.hidden = false;
    textarea.setAttribute("aria-expanded", "true");
  }

  async function search() {
    const typed = /^\/([\w-]*)$/.exec(textarea.value);
    if (!typed) return close();
    const word = typed[1].toLowerCase();
    let all;
    try {
      all = await cannedResponses();
    } catch {
      return close();
    }
    if (!/^\/([\w-]*)$/.test(textarea.value)) return close();
    matches = all.filter((c) => c.shortcut.startsWith(word))
      .concat(all.filter((c) => !c.shortcut.startsWith(word) && c.text.toLowerCase().includes(word)))
      .slice(0, 8);
    active = 0;
    draw();
  }

  textarea.addEventListener("input", search);
  textarea.addEventListener("blur", () => setTimeout(close, 150));

  function keydown(event) {
    if (list.hidden || !matches.length) {
      if (event.key === "Escape" && !list.hidden) close();
      return false;
    }
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      active = (active + (event.key === "ArrowDown" ? 1 : matches.length - 1)) % matches.length;
      draw();
    } else if (event.key === "Enter" || event.key === "Tab") {
      choose(active);
    } else if (event.key === "Escape") {
      close();
    } else {
      return false;
    }
    event.preventDefault();
    return true;
  }

  return { list, keydown };
}
