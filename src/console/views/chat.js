// One open chat: its messages (customer, agents, bot, notes told apart), delivery marks,
// reactions and attachments, the composer (with the channel's length limit and files to
// attach), typing both ways, status, handoff, assignment ("Assign to me" for a chat waiting in
// the queue).

import { api } from "../api.js";
import { attachments as composerFiles } from "./attach.js";
import { cannedPicker } from "./canned.js";
import { announce, CHANNELS, chip, clock, day, field, h, linked, mount } from "../dom.js";
import { keptAttachment, sweep } from "../media.js";
import {
  changed, isSupervisor, loadLabels, loadMessages, loadTeam, mergeMessages, refreshChat, state, userName,
} from "../state.js";

const MARKS = {
  pending: ["…", "Sending"],
  sent: ["✓", "Sent"],
  delivered: ["✓✓", "Delivered"],
  read: ["✓✓", "Read"],
  failed: ["⚠", "Failed"],
};

function mark(message) {
  if (message.direction !== "outbound" || message.private || message.sender_kind === "system") return null;
  const [symbol, label] = MARKS[message.delivery_status] || ["", message.delivery_status];
  if (!label || message.delivery_status === "received") return null;
  const reason = message.delivery_status === "failed" && message.delivery_error ? `: ${message.delivery_error}` : "";
  return h("span", { class: `mark mark-${message.delivery_status}`, title: `${label}${reason}` },
    h("span", { "aria-hidden": "true" }, symbol), ` ${label}${reason}`);
}

/** A message's attachments: kept media (with an `id`) from the hub, older ones by their link. */
function attachments(message) {
  const list = Array.isArray(message.attachments) ? message.attachments : [];
  const kept = list.filter((a) => a.id !== undefined && a.state);
  const linkedOnly = list.filter((a) => (a.id === undefined || !a.state) && a.url);
  return [
    kept.length ? h("div", { class: "kept-media" }, kept.map(keptAttachment)) : null,
    linkedOnly.map(linkedAttachment),
  ];
}

function linkedAttachment(a) {
  return (a.type === "image"
    ? h("a", { href: a.url, target: "_blank", rel: "noopener noreferrer" },
      h("img", { class: "attachment", src: a.url, alt: "Image sent in the chat", loading: "lazy" }))
    : h("a", { class: "file", href: a.url, target: "_blank", rel: "noopener noreferrer" }, `${a.type || "File"} attachment`));
}

function bubble(message) {
  const kind = message.private ? "note"
    : message.sender_kind === "system" ? "system"
      : message.direction === "inbound" ? "customer"
        : message.sender_kind === "bot" ? "bot" : "agent";
  const who = {
    note: `Note by ${message.sender_id ? userName(message.sender_id) : "the team"}`,
    system: "Switchboard",
    customer: "",
    bot: "Bot",
    agent: message.sender_kind === "page" ? "Sent from Meta's inbox" : (message.sender_id ? userName(message.sender_id) : "Agent"),
  }[kind];
  const reactions = (message.reactions || []).map((r) => h("span", {
    class: "reaction",
    title: r.by === "contact" ? "The customer reacted" : "Reaction",
  }, r.emoji));
  return h("li", { class: `msg msg-${kind}`, "data-message-id": message.id },
    who ? h("span", { class: "who" }, who) : null,
    message.deleted ? h("p", { class: "text deleted" }, "The customer unsent this message.")
      : h("p", { class: "text" }, linked(message.text || "")),
    attachments(message),
    reactions.length ? h("span", { class: "reactions", "aria-label": "Reactions" }, reactions) : null,
    h("span", { class: "meta" }, h("time", { datetime: message.sent_at }, clock(message.sent_at)), mark(message)));
}

/** What of a message's kept attachments changes how they show. */
function mediaStates(message) {
  const list = Array.isArray(message.attachments) ? message.attachments : [];
  return list.map((a) => `${a.id}/${a.state}`).join(";");
}

/** Keeps the newest messages in sight while media in them loads or the list shrinks, unless
 * the person scrolled up to read older ones. */
function stickToBottom(list) {
  let atBottom = true;
  list.addEventListener("scroll", () => {
    atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 80;
  });
  const follow = () => {
    if (atBottom) list.scrollTop = list.scrollHeight;
  };
  list.addEventListener("load", follow, true);
  list.addEventListener("loadedmetadata", follow, true);
  // The list shrinks when the composer grows (files attached, a long draft).
  new ResizeObserver(follow).observe(list);
}

/** Files dragged onto `node` go to `take(files)`; the node is marked while they hover. */
function dropTarget(node, take) {
  const carriesFiles = (event) => [...(event.dataTransfer?.types || [])].includes("Files");
  let depth = 0;
  node.addEventListener("dragenter", (event) => {
    if (!carriesFiles(event)) return;
    depth += 1;
    node.classList.add("dropping");
  });
  node.addEventListener("dragover", (event) => {
    if (carriesFiles(event)) event.preventDefault();
  });
  node.addEventListener("dragleave", () => {
    depth = Math.max(0, depth - 1);
    if (!depth) node.classList.remove("dropping");
  });
  node.addEventListener("drop", (event) => {
    if (!carriesFiles(event)) return;
    event.preventDefault();
    depth = 0;
    node.classList.remove("dropping");
    take([...event.dataTransfer.files]);
  });
}

/** "Maria Lopez" → "ML"; "?" without a name. */
function initials(name) {
  const words = (name || "").trim().split(/\s+/).filter(Boolean);
  if (!words.length) return "?";
  const letters = words.length > 1 ? [words[0], words.at(-1)] : [words[0]];
  return letters.map((w) => [...w][0].toUpperCase()).join("");
}

/** The customer's picture, or their initials when there is none or it fails to load (Meta's
 * picture links expire). */
function avatar(contact) {
  const who = contact.name || "the customer";
  const fallback = h("span", { class: "avatar avatar-initials", role: "img", "aria-label": `Initials of ${who}` }, initials(contact.name));
  if (!contact.picture_url) return fallback;
  const picture = h("img", { class: "avatar", src: contact.picture_url, alt: `Picture of ${who}` });
  picture.addEventListener("error", () => picture.replaceWith(fallback), { once: true });
  return picture;
}

function windowLine(chat) {
  if (chat.channel.kind === "widget" || !chat.last_inbound_at) return "";
  const hours = (Date.now() - new Date(chat.last_inbound_at).getTime()) / 3600000;
  if (hours < 24) {
    return `Messaging window: ${Math.max(1, Math.floor(24 - hours))} h left to reply freely.`;
  }
  if (hours < 24 * 7) {
    return "Outside the 24-hour window: replies go out tagged as a human agent's, until 7 days after the customer's last message.";
  }
  return "More than 7 days since the customer wrote: Meta refuses replies until they write again.";
}

/** Draws chat `id` into `container` with its details beside it. */
export function chatPane(container, id, live) {
  let mode = "reply";
  let typingSent = 0;
  let typingOff = null;
  let listSignature = "";
  let loaded = false;
  let missing = false;
  let readFor = null;
  let detailsSignature = "";
  let editingContact = false;
  let rendered = false;

  const title = h("h2", { class: "chat-title" }, "Loading…");
  const subtitle = h("p", { class: "chat-sub" });
  const statusSelect = h("select", {
    id: "chat-status",
    onchange: async (event) => {
      try {
        const chat = await api("POST", `/api/chats/${id}/status`, { status: event.target.value });
        state.chats.set(id, chat);
        changed();
      } catch (error) {
        showError(error.message);
      }
    },
  }, ["open", "pending", "resolved"].map((s) => h("option", { value: s }, s[0].toUpperCase() + s.slice(1))));
  const handoff = h("button", { type: "button", onclick: () => toggleBot() });
  const takeButton = h("button", { type: "button", class: "primary", hidden: true, onclick: () => take() }, "Assign to me");
  const detailsToggle = h("button", {
    type: "button",
    class: "details-toggle",
    "aria-expanded": "false",
    onclick: (event) => {
      const open = wrapper.classList.toggle("show-details");
      event.currentTarget.setAttribute("aria-expanded", String(open));
    },
  }, "Details");
  const messagesList = h("ol", { class: "messages", "aria-label": "Messages", tabindex: "0" });
  stickToBottom(messagesList);
  const typingLine = h("p", { class: "typing", "aria-live": "polite" });
  const windowNote = h("p", { class: "window-line" });
  const error = h("p", { class: "notice error", role: "alert", hidden: true });
  const textarea = h("textarea", {
    id: "composer",
    rows: 3,
    placeholder: "Write a reply… (Enter sends, Shift+Enter for a new line, / for canned responses)",
    onpaste: (event) => {
      const pasted = [...(event.clipboardData?.files || [])];
      if (!pasted.length) return;
      event.preventDefault();
      files.add(pasted);
    },
    onkeydown: (event) => {
      if (picker.keydown(event)) return;
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        send();
      }
    },
    "aria-describedby": "reply-count",
    oninput: () => {
      typing();
      count();
    },
  });
  const picker = cannedPicker(textarea, () => state.chats.get(id)?.contact);
  const composerLabel = h("label", { for: "composer" }, "Reply");
  const replyTab = h("button", { type: "button", class: "mode", "aria-pressed": "true", onclick: () => setMode("reply") }, "Reply");
  const noteTab = h("button", { type: "button", class: "mode", "aria-pressed": "false", onclick: () => setMode("note") }, "Note");
  const sendButton = h("button", { type: "submit", class: "primary" }, "Send");
  const counter = h("span", { id: "reply-count", class: "reply-count", "aria-live": "polite" });
  const suggestButton = h("button", { type: "button", onclick: () => suggest() }, "Suggest a reply");
  const files = composerFiles(id, (text) => showError(text));
  const composer = h("form", { class: "composer", onsubmit: (event) => { event.preventDefault(); send(); } },
    h("div", { class: "modes", role: "group", "aria-label": "Message kind" }, replyTab, noteTab),
    composerLabel, textarea, picker.list, files.tray,
    h("div", { class: "composer-actions" }, counter, files.button, suggestButton, sendButton));

  const details = h("aside", { class: "details", "aria-label": "Details" });
  const chatSection = h("section", { class: "chat", "aria-label": "Chat" },
    h("header", { class: "chat-head" },
      h("a", { class: "back", href: "#/", "aria-label": "Back to the inbox" }, "←"),
      h("div", { class: "chat-heading" }, title, subtitle),
      h("div", { class: "chat-actions" },
        takeButton, h("label", { for: "chat-status", class: "visually-hidden" }, "Chat status"), statusSelect, handoff, detailsToggle)),
    messagesList, typingLine, windowNote, error, composer);
  const wrapper = h("div", { class: "chat-wrap" }, chatSection, details);
  mount(container, wrapper);
  dropTarget(chatSection, (dropped) => {
    if (!composer.hidden) files.add(dropped);
  });

  function showError(text) {
    error.textContent = text;
    error.hidden = !text;
  }

  function setMode(next) {
    mode = next;
    replyTab.setAttribute("aria-pressed", String(mode === "reply"));
    noteTab.setAttribute("aria-pressed", String(mode === "note"));
    composer.classList.toggle("note", mode === "note");
    composerLabel.textContent = mode === "note" ? "Private note (only your team sees it)" : "Reply";
    textarea.placeholder = mode === "note" ? "Write a note for your team…" : "Write a reply… (Enter sends, Shift+Enter for a new line, / for canned responses)";
    count();
    textarea.focus();
  }

  /**
   * Shows how long the reply is against what the chat's channel takes ("123 / 2000"), in red
   * and with Send off beyond it. Notes never leave the hub: no count.
   */
  function count() {
    const limit = state.chats.get(id)?.reply_limit;
    const length = [...textarea.value.trim()].length;
    const over = mode === "reply" && Boolean(limit) && length > limit;
    counter.hidden = mode !== "reply" || !limit;
    counter.textContent = limit ? `${length} / ${limit}${over ? " · too long for this channel" : ""}` : "";
    counter.classList.toggle("over", over);
    counter.title = "Characters in the reply, and the most this channel takes";
    sendButton.disabled = over;
  }

  function typing() {
    if (mode === "note") return;
    const now = Date.now();
    if (now - typingSent > 2500) {
      typingSent = now;
      live?.send({ type: "typing", chat_id: id, on: true });
    }
    clearTimeout(typingOff);
    typingOff = setTimeout(stopTyping, 3000);
  }

  function stopTyping() {
    clearTimeout(typingOff);
    if (typingSent) live?.send({ type: "typing", chat_id: id, on: false });
    typingSent = 0;
  }

  async function send() {
    const text = textarea.value.trim();
    const ids = files.ids();
    if (files.busy()) {
      showError("Wait until the files are uploaded, then send.");
      return;
    }
    if (!text && !ids.length) return;
    sendButton.disabled = true;
    showError("");
    try {
      const body = { text, private: mode === "note" };
      if (ids.length) body.attachments = ids;
      const message = await api("POST", `/api/chats/${id}/messages`, body);
      mergeMessages(id, [message]);
      textarea.value = "";
      files.clear();
      stopTyping();
      announce(mode === "note" ? "Note added" : "Reply sent");
      changed();
    } catch (error) {
      showError(error.message);
    }
    count();
    textarea.focus();
  }

  async function suggest() {
    suggestButton.disabled = true;
    suggestButton.textContent = "Suggesting…";
    showError("");
    try {
      const draft = await api("POST", `/api/chats/${id}/suggest`);
      if (mode !== "reply") setMode("reply");
      textarea.value = draft.text;
      announce("Suggested reply in the composer: edit it, then send");
      textarea.focus();
    } catch (error) {
      showError(error.code === "ai_unavailable" ? "No suggestion: the AI assistant is unavailable right now." : error.message);
    }
    suggestButton.textContent = "Suggest a reply";
    suggestButton.disabled = false;
  }

  async function toggleBot() {
    const chat = state.chats.get(id);
    if (!chat) return;
    try {
      const answer = await api("POST", `/api/chats/${id}/handoff`, { to: chat.status === "bot" ? "human" : "bot" });
      state.chats.set(id, answer);
      changed();
    } catch (error) {
      showError(error.code === "ai_disabled" ? "The AI responder is off on this channel." : error.message);
    }
  }

  /** Takes the chat from the queue for the person at the console. */
  async function take() {
    takeButton.disabled = true;
    showError("");
    try {
      const answer = await api("POST", `/api/chats/${id}/assign`, { user_id: state.me.id });
      state.chats.set(id, answer);
      announce("The chat is yours");
      changed();
    } catch (error) {
      showError(error.code === "already_assigned" ? "Someone else took this chat just now." : error.message);
      refreshChat(id);
    }
    takeButton.disabled = false;
  }

  async function assign(userId) {
    try {
      const answer = await api("POST", `/api/chats/${id}/assign`, { user_id: userId });
      state.chats.set(id, answer);
      announce(userId === null ? "Back in the queue" : `Assigned to ${userName(userId)}`);
      loadTeam();
      changed();
    } catch (error) {
      showError(error.message);
    }
  }

  function markRead(chat) {
    const newest = (state.messages.get(id) || []).at(-1)?.id;
    if (chat.unread_count === 0 || document.visibilityState !== "visible" || readFor === newest) return;
    readFor = newest;
    api("POST", `/api/chats/${id}/read`).then((answer) => {
      if (answer) state.chats.set(id, answer);
      changed();
    }).catch(() => {});
  }

  async function label(path, labelId, on, done) {
    try {
      const answer = on
        ? await api("POST", path, { label_id: labelId })
        : await api("DELETE", `${path}/${labelId}`);
      done(answer);
      changed();
    } catch (error) {
      showError(error.message);
    }
  }

  /**
   * The labels `carried` by the chat or its customer (`what`), at `path`, each removable, and a
   * picker to add one.
   */
  function labelEditor(what, carried, path, done) {
    const offered = (state.labels || []).filter((l) => !carried.some((c) => c.id === l.id));
    const picker = h("select", { id: `label-${what}` }, offered.map((l) => h("option", { value: l.id }, l.name)));
    return [
      h("h3", {}, what === "chat" ? "Chat labels" : "Customer labels"),
      carried.length
        ? h("ul", { class: "label-list" }, carried.map((l) => h("li", {}, chip(l, h("button", {
          type: "button",
          class: "chip-remove",
          "aria-label": `Remove label ${l.name}`,
          onclick: () => label(path, l.id, false, done),
        }, "×")))))
        : h("p", { class: "hint" }, "None."),
      offered.length
        ? h("div", { class: "label-add" }, field(`Add a ${what} label`, picker),
          h("button", { type: "button", onclick: () => label(path, Number(picker.value), true, done) }, `Add ${what} label`))
        : null,
    ];
  }

  /** The contact's details as a form; saved through the API, which tells everyone. */
  function contactEditor(contact) {
    const input = (type, value, max) => h("input", { type, value: value || "", maxlength: max });
    const name = input("text", contact.name, 200);
    const email = input("email", contact.email, 254);
    const phone = input("tel", contact.phone, 32);
    const notes = h("textarea", { rows: 3, maxlength: 4000 });
    notes.value = contact.notes || "";
    const close = () => {
      editingContact = false;
      changed();
    };
    return h("form", {
      class: "form contact-form",
      onsubmit: async (event) => {
        event.preventDefault();
        const value = (field) => field.value.trim() || null;
        try {
          await api("PATCH", `/api/contacts/${contact.id}`, {
            name: value(name), email: value(email), phone: value(phone), notes: value(notes),
          });
          announce("Contact saved");
          showError("");
          refreshChat(id);
          close();
        } catch (error) {
          showError(error.message);
        }
      },
    }, field("Name", name), field("Email", email), field("Phone", phone), field("Notes", notes),
    h("div", { class: "row-actions" },
      h("button", { type: "submit", class: "primary" }, "Save contact"),
      h("button", { type: "button", onclick: close }, "Cancel")));
  }

  function renderDetails(chat) {
    const contact = chat.contact || {};
    const parts = [
      h("button", {
        type: "button",
        class: "details-back",
        onclick: () => {
          wrapper.classList.remove("show-details");
          detailsToggle.setAttribute("aria-expanded", "false");
          detailsToggle.focus();
        },
      }, "← Back to the chat"),
      h("div", { class: "contact-head" }, avatar(contact), h("h3", {}, "Contact")),
      editingContact ? contactEditor(contact) : h("button", {
        type: "button",
        onclick: () => {
          editingContact = true;
          changed();
        },
      }, "Edit contact"),
      h("dl", {},
        h("dt", {}, "Name"), h("dd", {}, contact.name || "Unknown"),
        h("dt", {}, "Email"), h("dd", {}, contact.email || "—"),
        h("dt", {}, "Phone"), h("dd", {}, contact.phone || "—"),
        contact.notes ? [h("dt", {}, "Notes"), h("dd", { class: "notes" }, contact.notes)] : null,
        h("dt", {}, "Channel"), h("dd", {}, `${chat.channel.name} (${CHANNELS[chat.channel.kind] || chat.channel.kind})`),
        h("dt", {}, "First seen"), h("dd", {}, new Date(chat.created_at).toLocaleString()),
        h("dt", {}, "Assigned to"), h("dd", { class: "assignee" }, chat.assignee_id ? userName(chat.assignee_id) : "Nobody (in the queue)")),
    ];
    parts.push(
      labelEditor("chat", chat.labels || [], `/api/chats/${id}/labels`, (answer) => state.chats.set(id, answer)),
      labelEditor("customer", chat.contact_labels || [], `/api/contacts/${chat.contact.id}/labels`, () => refreshChat(id)),
    );
    if (isSupervisor()) {
      const picker = h("select", { id: "assign-to" },
        (state.team?.members || []).map((m) => h("option", { value: m.id },
          `${m.name} · ${m.online ? (m.status === "away" ? "away" : "online") : "offline"} · ${m.open_chats} open`)));
      if (chat.assignee_id) picker.value = String(chat.assignee_id);
      // Back in the queue, a chat goes at once to the next agent round robin finds available.
      const available = (state.team?.members || []).some((m) => m.online && m.status !== "away" && m.can_receive_new_chats);
      parts.push(h("h3", {}, "Assignment"),
        field("Assign to", picker),
        h("div", { class: "row-actions" },
          h("button", { type: "button", onclick: () => assign(Number(picker.value)) }, "Assign"),
          h("button", { type: "button", disabled: chat.assignee_id === null, onclick: () => assign(null), "aria-describedby": "requeue-hint" }, "Back to queue")),
        h("p", { class: "hint", id: "requeue-hint" }, available
          ? "Back to queue: round robin gives it at once to the next available agent."
          : "Back to queue: it waits there until an agent is available."));
    }
    mount(details, parts);
  }

  function update() {
    const chat = state.chats.get(id);
    if (!chat) {
      if (!missing) {
        missing = true;
        refreshChat(id);
        return;
      }
      title.textContent = "This chat is not available";
      subtitle.textContent = "It may have been reassigned, or it does not exist.";
      composer.hidden = true;
      return;
    }
    missing = false;
    composer.hidden = false;
    if (!loaded) {
      loaded = true;
      loadMessages(id).catch((e) => showError(e.message));
      if (isSupervisor() && !state.team) loadTeam();
      if (state.labels === null) loadLabels();
    }
    title.textContent = chat.contact?.name || "Customer";
    subtitle.textContent = `${CHANNELS[chat.channel.kind] || chat.channel.kind} · ${chat.status} · ${chat.assignee_id ? `assigned to ${userName(chat.assignee_id)}` : "in the queue"}`;
    if (chat.status !== "bot") statusSelect.value = chat.status;
    statusSelect.disabled = chat.status === "bot";
    // Handing back is offered where the bot has answered before (its channel has AI on).
    const botBefore = (state.messages.get(id) || []).some((m) => m.sender_kind === "bot");
    handoff.textContent = chat.status === "bot" ? "Take over from the bot" : "Hand back to the bot";
    handoff.hidden = chat.status !== "bot" && !botBefore;
    takeButton.hidden = chat.assignee_id !== null || chat.status === "bot";
    count();
    windowNote.textContent = windowLine(chat);
    windowNote.hidden = !windowNote.textContent;
    const who = state.typing.get(id);
    typingLine.textContent = who ? `${who.who} is typing…` : "";

    const messages = state.messages.get(id) || [];
    const signature = messages.map((m) => `${m.id}:${m.delivery_status}:${m.deleted}:${JSON.stringify(m.reactions || [])}:${mediaStates(m)}`).join(",");
    if (signature !== listSignature) {
      const atBottom = messagesList.scrollHeight - messagesList.scrollTop - messagesList.clientHeight < 80;
      listSignature = signature;
      const items = [];
      let lastDay = "";
      for (const message of messages) {
        const heading = day(message.sent_at);
        if (heading !== lastDay) {
          items.push(h("li", { class: "day", role: "separator" }, heading));
          lastDay = heading;
        }
        items.push(bubble(message));
      }
      if (!messages.length) items.push(h("li", { class: "empty" }, "No messages yet."));
      mount(messagesList, items);
      sweep();
      if (atBottom || !rendered) messagesList.scrollTop = messagesList.scrollHeight;
      rendered = messages.length > 0;
    }
    const members = (state.team?.members || []).map((m) => `${m.id}${m.online}${m.status}${m.open_chats}`).join();
    const labels = JSON.stringify([chat.labels, chat.contact_labels, state.labels]);
    // While the contact is being edited, the form stays as the person left it.
    const detailsNow = editingContact ? "editing"
      : `${chat.assignee_id}|${JSON.stringify(chat.contact)}|${members}|${labels}`;
    if (detailsNow !== detailsSignature) {
      detailsSignature = detailsNow;
      renderDetails(chat);
    }
    markRead(chat);
  }

  return { update };
}
