// What the console knows: the user, the chats and messages it has loaded, the team, typing.
// Events from the socket are applied here; views re-render when it says something changed.

import { api } from "./api.js";

export const state = {
  me: null,
  /** The largest file an upload may carry (`media_max_bytes` of GET /api/auth/me). */
  mediaMaxBytes: null,
  chats: new Map(),
  messages: new Map(),
  team: null,
  labels: null,
  search: null,
  queueSize: null,
  typing: new Map(),
  view: { tab: "mine", status: "", channel: "", label: "" },
  openChatId: null,
  nextCursor: null,
  loading: false,
  error: null,
};

const listeners = new Set();
let scheduled = false;

/** Calls `fn` after every change (batched per animation frame). */
export function subscribe(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/** Announces a change; the views render once per frame. */
export function changed() {
  if (scheduled) return;
  scheduled = true;
  requestAnimationFrame(() => {
    scheduled = false;
    for (const fn of listeners) fn();
  });
}

export function isSupervisor() {
  return state.me && (state.me.role === "admin" || state.me.role === "supervisor");
}

/** The query of the current inbox view. */
function listQuery(cursor) {
  const params = new URLSearchParams({ limit: "100" });
  if (state.view.tab === "mine") params.set("assignee", "me");
  // The queue: chats waiting for a person (open, nobody has them), as the queue's count.
  if (state.view.tab === "queue") params.set("assignee", "unassigned");
  if (state.view.tab === "queue") params.set("status", "open");
  else if (state.view.status) params.set("status", state.view.status);
  if (state.view.channel) params.set("channel_id", state.view.channel);
  if (state.view.label) params.set("label", state.view.label);
  if (cursor) params.set("cursor", cursor);
  return `/api/chats?${params}`;
}

/** Loads the first page of the current view (and the queue's size). */
export async function loadChats() {
  state.loading = true;
  state.error = null;
  changed();
  try {
    const page = await api("GET", listQuery());
    for (const chat of page.chats) state.chats.set(chat.id, chat);
    state.nextCursor = page.next_cursor || null;
  } catch (error) {
    state.error = error.message;
  }
  state.loading = false;
  refreshQueue();
  changed();
}

/** Loads the next page of the current view. */
export async function loadMore() {
  if (!state.nextCursor) return;
  const page = await api("GET", listQuery(state.nextCursor));
  for (const chat of page.chats) state.chats.set(chat.id, chat);
  state.nextCursor = page.next_cursor || null;
  changed();
}

let queueTimer = null;
/** Counts the queue again, soon (many events in a row count once). */
export function refreshQueue() {
  clearTimeout(queueTimer);
  queueTimer = setTimeout(async () => {
    try {
      const page = await api("GET", "/api/chats?assignee=unassigned&status=open&limit=100");
      state.queueSize = page.next_cursor ? "100+" : page.chats.length;
      for (const chat of page.chats) state.chats.set(chat.id, chat);
      changed();
    } catch {
      /* the next event counts again */
    }
  }, 150);
}

const pending = new Map();
/** Reads one chat again, soon; a chat the user may no longer see leaves the lists. */
export function refreshChat(id) {
  if (pending.has(id)) return;
  pending.set(id, setTimeout(async () => {
    pending.delete(id);
    try {
      const chat = await api("GET", `/api/chats/${id}`);
      state.chats.set(id, chat);
    } catch (error) {
      if (error.status === 404) {
        state.chats.delete(id);
        if (state.openChatId === id) state.openChatId = null;
      }
    }
    changed();
  }, 100));
}

/** Loads a chat's newest messages. */
export async function loadMessages(chatId) {
  const page = await api("GET", `/api/chats/${chatId}/messages?limit=100`);
  const list = Array.isArray(page) ? page : page.messages || [];
  mergeMessages(chatId, list);
  changed();
}

/**
 * Adds messages to a chat's list, each once, in id order. A copy replaces the one held only
 * when it is newer: an answer that arrives after the socket's update must not undo it.
 */
export function mergeMessages(chatId, list) {
  const known = state.messages.get(chatId) || [];
  const byId = new Map(known.map((m) => [m.id, m]));
  for (const message of list) {
    const held = byId.get(message.id);
    if (!held || message.updated_at >= held.updated_at) byId.set(message.id, message);
  }
  state.messages.set(chatId, [...byId.values()].sort((a, b) => a.id - b.id));
}

/** Applies one event from the socket. */
export function applyEvent(frame, notify) {
  const chatId = frame.chat_id;
  if (frame.type === "message.created" || frame.type === "message.updated") {
    if (state.messages.has(chatId)) mergeMessages(chatId, [frame.data]);
  }
  if (frame.type === "chat.assigned" && state.me) {
    const data = frame.data || {};
    if (data.assignee_id === state.me.id && data.by !== state.me.id) notify(chatId);
  }
  if (chatId) refreshChat(chatId);
  if (["chat.created", "chat.assigned", "chat.updated"].includes(frame.type)) refreshQueue();
  changed();
}

/** Applies a typing or presence frame. */
export function applyEphemeral(frame) {
  if (frame.type === "typing") {
    const chatId = frame.chat_id;
    clearTimeout(state.typing.get(chatId)?.timer);
    if (frame.data?.on) {
      const who = frame.data.user_id ? userName(frame.data.user_id) : "The customer";
      const timer = setTimeout(() => {
        state.typing.delete(chatId);
        changed();
      }, 6000);
      state.typing.set(chatId, { who, timer });
    } else {
      state.typing.delete(chatId);
    }
    changed();
  }
  if (frame.type === "presence.updated" && state.team) {
    const member = state.team.members.find((m) => m.id === frame.data.user_id);
    if (member) {
      member.online = frame.data.online;
      member.status = frame.data.status || member.status;
      changed();
    }
  }
}

/** Loads the account's labels. */
export async function loadLabels() {
  try {
    state.labels = await api("GET", "/api/labels");
    changed();
  } catch {
    /* no labels offered */
  }
}

/** Loads the team (supervisors and admins). */
export async function loadTeam() {
  if (!isSupervisor()) return;
  try {
    state.team = await api("GET", "/api/team");
    changed();
  } catch {
    /* shown as unknown */
  }
}

/** A user's name when the team is known. */
export function userName(id) {
  if (state.me && id === state.me.id) return "You";
  const member = state.team?.members.find((m) => m.id === id);
  return member ? member.name : "A colleague";
}

/** The chats the inbox shows now: the view's filter over what is loaded, newest first. */
export function visibleChats() {
  const me = state.me?.id;
  return [...state.chats.values()]
    .filter((c) => {
      if (state.view.tab === "mine" && c.assignee_id !== me) return false;
      if (state.view.tab === "queue" && (c.assignee_id !== null || c.status !== "open")) return false;
      if (state.view.tab !== "queue" && state.view.status && c.status !== state.view.status) return false;
      if (state.view.channel && String(c.channel.id) !== state.view.channel) return false;
      if (state.view.label && !(c.labels || []).some((l) => String(l.id) === state.view.label)) return false;
      return true;
    })
    .sort((a, b) => (b.last_message_at || "").localeCompare(a.last_message_at || "") || b.id - a.id);
}

/** Chats with unread customer messages (for the tab title). */
export function unreadChats() {
  return [...state.chats.values()].filter((c) => c.unread_count > 0).length;
}
