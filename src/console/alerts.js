// Telling people about work that came to them while they look elsewhere: a desktop
// notification (when the browser allows it) and the chime, for a chat newly assigned to them
// and for a customer writing in one of their chats while this tab is in the background.

import { api } from "./api.js";
import { CHANNELS } from "./dom.js";
import { chime } from "./sound.js";
import { state } from "./state.js";

const pause = (ms) => new Promise((resolve) => { setTimeout(resolve, ms); });

/** The chat with its customer's name: read again a few times while the name is not known
 * yet (a Messenger profile is looked up just after the first message). */
async function withName(chatId) {
  let chat = state.chats.get(chatId);
  for (let attempt = 0; attempt < 4 && !chat?.contact?.name; attempt += 1) {
    if (attempt > 0) await pause(1000);
    try {
      chat = await api("GET", `/api/chats/${chatId}`);
    } catch {
      break;
    }
  }
  return chat;
}

function customer(chat) {
  return chat?.contact?.name || `A customer on ${CHANNELS[chat?.channel?.kind] || "a channel"}`;
}

function show(title, body, chatId) {
  if (!("Notification" in window) || Notification.permission !== "granted") return;
  const note = new Notification(title, { body, tag: `chat-${chatId}` });
  note.onclick = () => {
    window.focus();
    location.hash = `#/chats/${chatId}`;
    note.close();
  };
}

/** A chat was just given to the user, by a colleague or by round robin. */
export async function assignedToMe(chatId) {
  chime();
  const chat = await withName(chatId);
  const last = chat?.last_message;
  const text = last && !last.private && last.direction === "inbound" ? last.text : "";
  show("New chat assigned to you", text ? `${customer(chat)}: ${text}` : customer(chat), chatId);
}

/** Looks at each event: a customer's new message in one of the user's chats chimes unless
 * that chat is open in view, and brings a notification while the tab is in the background. */
export async function onEvent(frame) {
  if (frame.type !== "message.created" || !state.me) return;
  const message = frame.data || {};
  if (message.direction !== "inbound" || message.private) return;
  const hidden = document.visibilityState === "hidden";
  if (!hidden && state.openChatId === frame.chat_id) return;
  const chat = state.chats.get(frame.chat_id)
    || await api("GET", `/api/chats/${frame.chat_id}`).catch(() => null);
  if (!chat || chat.assignee_id !== state.me.id) return;
  chime();
  if (!hidden) return;
  const named = await withName(frame.chat_id);
  show(`New message from ${customer(named)}`, message.text || "Sent an attachment", frame.chat_id);
}
