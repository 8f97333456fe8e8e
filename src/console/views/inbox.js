// The inbox: Mine / Queue / All, filtered by status, channel and label, newest activity first,
// updated live, or what a search found; beside it the open chat.

import { api } from "../api.js";
import { ago, CHANNELS, chip, h, mount } from "../dom.js";
import { isSupervisor, loadChats, loadLabels, loadMore, state, visibleChats } from "../state.js";

function row(chat, current) {
  const name = chat.contact?.name || "Customer";
  const preview = chat.last_message
    ? (chat.last_message.private ? "Note: " : "") + (chat.last_message.text || "[attachment]")
    : "";
  const unread = chat.unread_count > 0;
  const last = chat.last_message;
  const failed = last && last.direction === "outbound" && !last.private && last.delivery_status === "failed";
  return h("li", {},
    h("a", {
      href: `#/chats/${chat.id}`,
      class: `row${unread ? " unread" : ""}${current ? " current" : ""}`,
      "aria-current": current ? "true" : null,
      "data-chat-id": chat.id,
    },
    h("span", { class: "row-top" },
      h("span", { class: `channel channel-${chat.channel.kind}` }, CHANNELS[chat.channel.kind] || chat.channel.kind),
      h("span", { class: "row-name" }, name),
      h("time", { datetime: chat.last_message_at || "" }, ago(chat.last_message_at))),
    h("span", { class: "row-bottom" },
      failed ? h("span", { class: "row-failed" }, "⚠ Not delivered") : null,
      h("span", { class: "preview" }, preview),
      chat.status !== "open" ? h("span", { class: `status status-${chat.status}` }, chat.status) : null,
      (chat.labels || []).map((label) => chip(label)),
      unread ? h("span", { class: "badge", "aria-label": `${chat.unread_count} unread` }, String(chat.unread_count)) : null)));
}

function hit(href, name, text, at) {
  return h("li", {}, h("a", { href, class: "row" },
    h("span", { class: "row-top" },
      h("span", { class: "row-name" }, name),
      at ? h("time", { datetime: at }, ago(at)) : null),
    text ? h("span", { class: "row-bottom" }, h("span", { class: "preview" }, text)) : null));
}

/** What a search found, as inbox rows that open the chat. */
function searchResults(search) {
  const { q, found, error } = search;
  if (error) return h("p", { class: "notice error", role: "alert" }, `The search failed: ${error}`);
  const messages = found.messages.map((m) => hit(`#/chats/${m.chat_id}`, m.contact_name || "Customer",
    `${m.private ? "Note: " : ""}${m.text || ""}`, m.sent_at));
  const contacts = found.contacts.map((c) => hit(`#/chats/${c.chat_id}`, c.name || c.email || c.phone || "Customer",
    [c.email, c.phone].filter(Boolean).join(" · ")));
  if (!messages.length && !contacts.length) return h("p", { class: "empty" }, `Nothing found for “${q}”.`);
  return [
    contacts.length ? [h("h2", { class: "results-heading" }, "Customers"), h("ul", { class: "rows" }, contacts)] : null,
    messages.length ? [h("h2", { class: "results-heading" }, "Messages"), h("ul", { class: "rows" }, messages)] : null,
  ];
}

/** Draws the inbox into `view`; `makeChat(container, id)` draws the open chat beside it. */
export function inbox(view, chatId, makeChat) {
  const tabs = [
    ["mine", "Mine"],
    ["queue", "Queue"],
    ...(isSupervisor() ? [["all", "All"]] : []),
  ];
  if (!tabs.some(([key]) => key === state.view.tab)) state.view.tab = "mine";
  const tabButtons = tabs.map(([key, label]) => h("button", {
    type: "button",
    role: "tab",
    class: "tab",
    "data-tab": key,
    "aria-selected": String(state.view.tab === key),
    onclick: () => {
      state.view.tab = key;
      loadChats();
      update();
    },
  }, label, h("span", { class: "count" })));
  const status = h("select", {
    id: "filter-status",
    onchange: (event) => {
      state.view.status = event.target.value;
      loadChats();
    },
  }, h("option", { value: "" }, "Any status"),
  ["open", "pending", "bot", "resolved"].map((s) => h("option", { value: s }, s[0].toUpperCase() + s.slice(1))));
  status.value = state.view.status;
  const channel = h("select", {
    id: "filter-channel",
    onchange: (event) => {
      state.view.channel = event.target.value;
      loadChats();
    },
  }, h("option", { value: "" }, "Any channel"));
  const label = h("select", {
    id: "filter-label",
    onchange: (event) => {
      state.view.label = event.target.value;
      loadChats();
    },
  }, h("option", { value: "" }, "Any label"));
  if (state.labels === null) loadLabels();
  const list = h("ul", { class: "rows", "aria-label": "Chats" });
  const rows = new Map();
  const more = h("button", { type: "button", class: "more", hidden: true, onclick: () => loadMore() }, "Load more");
  const queueLine = h("p", { class: "queue-line" });
  const searchInput = h("input", { type: "search", id: "inbox-search", maxlength: 200, placeholder: "Words, names, emails", value: state.search?.q || "" });
  const results = h("div", { class: "search-results", "aria-live": "polite" });
  const clear = h("button", { type: "button", onclick: () => clearSearch() }, "Clear search");
  const searchForm = h("form", { role: "search", class: "search", onsubmit: (event) => { event.preventDefault(); runSearch(); } },
    h("label", { for: "inbox-search", class: "visually-hidden" }, "Search messages and customers"), searchInput,
    h("button", { type: "submit" }, "Search"));
  const pane = h("section", { class: "inbox", "aria-label": "Inbox" },
    searchForm,
    h("div", { class: "tabs", role: "tablist", "aria-label": "Views" }, tabButtons),
    h("div", { class: "filters" },
      h("label", { for: "filter-status", class: "visually-hidden" }, "Status"), status,
      h("label", { for: "filter-channel", class: "visually-hidden" }, "Channel"), channel,
      h("label", { for: "filter-label", class: "visually-hidden" }, "Label"), label),
    queueLine, results, list, more);
  const chatArea = h("div", { class: "chat-area" });
  mount(view, h("div", { class: `workspace${chatId ? " has-chat" : ""}` }, pane, chatArea));
  const chat = chatId ? makeChat(chatArea, chatId) : null;
  if (!chatId) {
    mount(chatArea, h("div", { class: "placeholder" }, h("p", {}, "Select a chat from the inbox."),
      h("p", { class: "hint" }, "Keys: j and k move through the list, Enter opens.")));
  }

  // An admin of an account without channels is shown where chats come from.
  let channelCount = null;
  if (state.me.role === "admin") {
    api("GET", "/api/channels").then((list) => {
      channelCount = list.length;
      update();
    }).catch(() => {});
  }

  async function runSearch() {
    const q = searchInput.value.trim();
    if (!q) return clearSearch();
    try {
      state.search = { q, found: await api("GET", `/api/search?q=${encodeURIComponent(q)}`) };
    } catch (error) {
      state.search = { q, error: error.message };
    }
    update();
  }

  function clearSearch() {
    state.search = null;
    searchInput.value = "";
    update();
  }

  list.addEventListener("keydown", (event) => {
    if (event.key !== "j" && event.key !== "k") return;
    const links = [...list.querySelectorAll("a.row")];
    const at = links.indexOf(document.activeElement);
    const next = links[Math.max(0, Math.min(links.length - 1, at + (event.key === "j" ? 1 : -1)))];
    next?.focus();
    event.preventDefault();
  });

  function update() {
    for (const button of tabButtons) {
      const key = button.dataset.tab;
      button.setAttribute("aria-selected", String(state.view.tab === key));
      const count = button.querySelector(".count");
      if (key === "queue") count.textContent = state.queueSize === null ? "" : ` ${state.queueSize}`;
      if (key === "mine") {
        const mine = [...state.chats.values()].filter((c) => c.assignee_id === state.me.id && c.status !== "resolved").length;
        count.textContent = ` ${mine}`;
      }
    }
    queueLine.textContent = state.queueSize === null ? "Counting the queue…" : `${state.queueSize} waiting in the queue`;
    // The queue is the chats waiting for a person (open, nobody has them): one status.
    status.hidden = state.view.tab === "queue";
    const known = new Map();
    for (const c of state.chats.values()) known.set(String(c.channel.id), c.channel);
    const options = [...channel.options].map((o) => o.value);
    for (const [id, ref] of known) {
      if (!options.includes(id)) channel.append(h("option", { value: id }, `${ref.name} (${CHANNELS[ref.kind] || ref.kind})`));
    }
    const labelOptions = [...label.options].map((o) => o.value);
    for (const known of state.labels || []) {
      if (!labelOptions.includes(String(known.id))) label.append(h("option", { value: known.id }, known.name));
    }
    label.value = state.view.label;
    const chats = visibleChats();
    const focused = document.activeElement?.dataset?.chatId;
    if (state.loading && chats.length === 0) {
      mount(list, [1, 2, 3, 4].map(() => h("li", { class: "skeleton", "aria-hidden": "true" })));
    } else if (state.error) {
      mount(list, h("li", { class: "empty" }, h("p", {}, `The chats could not be loaded: ${state.error}`),
        h("button", { type: "button", onclick: () => loadChats() }, "Retry")));
    } else if (chats.length === 0 && channelCount === 0) {
      mount(list, h("li", { class: "empty" },
        h("p", {}, "Connect a channel to start receiving chats."),
        h("p", {}, "Add your website's chat widget or a Facebook page in ", h("a", { href: "#/admin/channels" }, "Admin → Channels"), ".")));
    } else if (chats.length === 0) {
      const text = state.view.tab === "queue" ? "No chats waiting. New ones appear here as they arrive."
        : state.view.tab === "mine" ? "No chats assigned to you. Take one from the queue, or wait for the next."
          : "No chats match these filters.";
      mount(list, h("li", { class: "empty" }, text));
    } else {
      // Rows are kept while they show the same thing, so focus and clicks are not lost.
      const nodes = chats.map((c) => {
        const current = c.id === state.openChatId;
        const signature = JSON.stringify([c.last_message_at, c.unread_count, c.status, c.assignee_id,
          c.contact?.name, c.last_message?.id, c.last_message?.text, c.last_message?.delivery_status, current, c.labels]);
        const kept = rows.get(c.id);
        if (kept && kept.signature === signature) return kept.node;
        const node = row(c, current);
        rows.set(c.id, { signature, node });
        return node;
      });
      list.replaceChildren(...nodes);
      if (focused) list.querySelector(`[data-chat-id="${focused}"]`)?.focus();
    }
    more.hidden = !state.nextCursor || Boolean(state.search);
    list.hidden = Boolean(state.search);
    results.hidden = !state.search;
    if (state.search && results.dataset.for !== JSON.stringify(state.search)) {
      results.dataset.for = JSON.stringify(state.search);
      mount(results, h("div", { class: "results-head" }, h("p", {}, `Results for “${state.search.q}”`), clear),
        searchResults(state.search));
    }
    chat?.update();
  }
  return { update };
}
