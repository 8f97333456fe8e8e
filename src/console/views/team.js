// The team as supervisors see it (presence, open chats, capacity, the queue), and one's own
// account (password).

import { api } from "../api.js";
import { field, h, mount } from "../dom.js";
import { loadTeam, state } from "../state.js";

/** Supervisors' and admins' view of who is working. */
export function team(view) {
  const body = h("tbody");
  const queue = h("p", { class: "queue-line" });
  mount(view, h("main", { class: "page" },
    h("h1", {}, "Team"), queue,
    h("table", { class: "table" },
      h("caption", { class: "visually-hidden" }, "Team members"),
      h("thead", {}, h("tr", {}, ["Name", "Role", "Presence", "Open chats", "Takes new chats"].map((t) => h("th", { scope: "col" }, t)))),
      body)));
  loadTeam();
  function update() {
    const t = state.team;
    if (!t) {
      mount(body, h("tr", {}, h("td", { colspan: 5 }, "Loading…")));
      return;
    }
    queue.textContent = t.queue_size
      ? `${t.queue_size} waiting in the queue, the oldest for ${waited(t.oldest_waiting_since)}.`
      : "Nobody is waiting in the queue.";
    mount(body, t.members.map((m) => {
      const presence = m.online ? (m.status === "away" ? "away" : "online") : "offline";
      return h("tr", {},
        h("th", { scope: "row" }, m.name),
        h("td", {}, m.role),
        h("td", {}, h("span", { class: `presence presence-${presence}` }, presence)),
        h("td", {}, m.max_open_chats ? `${m.open_chats} of ${m.max_open_chats}` : String(m.open_chats)),
        h("td", {}, m.can_receive_new_chats ? "yes" : "no"));
    }));
  }
  return { update };
}

/** Changing one's own password, typed twice. */
export function account(view) {
  const current = h("input", { type: "password", autocomplete: "current-password", required: true });
  const next = h("input", { type: "password", autocomplete: "new-password", minlength: 10, required: true });
  const repeat = h("input", { type: "password", autocomplete: "new-password", minlength: 10, required: true });
  const status = h("div", { "aria-live": "polite" });
  const say = (text, kind) => mount(status, h("p", { class: `notice ${kind}`, role: kind === "error" ? "alert" : "status" }, text));
  const form = h("form", {
    class: "form",
    onsubmit: async (event) => {
      event.preventDefault();
      if (next.value !== repeat.value) {
        say("The new password and its repetition are not the same. Type them again.", "error");
        repeat.value = "";
        repeat.focus();
        return;
      }
      try {
        await api("POST", "/api/users/me/password", { current_password: current.value, new_password: next.value });
        say("Your password is changed. Your other sessions have been signed out.", "ok");
        current.value = "";
        next.value = "";
        repeat.value = "";
      } catch (error) {
        say(error.code === "invalid_current_password" ? "The current password is not right." : error.message, "error");
      }
    },
  }, field("Current password", current), field("New password", next, "At least 10 characters."),
  field("Repeat new password", repeat), status,
  h("button", { type: "submit", class: "primary" }, "Change password"));
  mount(view, h("main", { class: "page narrow" }, h("h1", {}, "Your password"), form));
  return { update() {} };
}

/** How long since `iso`, in words: "less than a minute", "5 minutes", "3 hours", "2 days". */
function waited(iso) {
  const minutes = Math.floor(Math.max(0, Date.now() - new Date(iso).getTime()) / 60000);
  const unit = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;
  if (minutes < 1) return "less than a minute";
  if (minutes < 60) return unit(minutes, "minute");
  if (minutes < 1440) return unit(Math.floor(minutes / 60), "hour");
  return unit(Math.floor(minutes / 1440), "day");
}
