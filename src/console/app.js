// The console: who is signed in, which page the address names, and the live connection.

import { assignedToMe, onEvent } from "./alerts.js";
import { api, session } from "./api.js";
import { h, mount } from "./dom.js";
import { Live } from "./live.js";
import { sweep } from "./media.js";
import { prepare, setSound, soundOn } from "./sound.js";
import {
  applyEphemeral, applyEvent, changed, isSupervisor, loadChats, loadTeam, state, subscribe,
  unreadChats,
} from "./state.js";
import { choosePassword, forgot, signIn, signUp } from "./views/auth.js";
import { admin } from "./views/admin.js";
import { leads } from "./views/leads.js";
import { chatPane } from "./views/chat.js";
import { inbox } from "./views/inbox.js";
import { account, team } from "./views/team.js";

const root = document.getElementById("app");
let live = null;
let page = null;

function route() {
  const hash = location.hash.replace(/^#/, "") || "/";
  const [, section = "", id = ""] = hash.split("/");
  return { hash, section, id };
}

/** Where this tab keeps a mailed link's token once it has left the address. */
const LINK_TOKEN = "switchboard.linkToken";

/** The mailed links arrive at their own paths; everything else is the console. */
function start() {
  const params = new URLSearchParams(location.search);
  if (location.pathname === "/reset-password" || location.pathname === "/accept-invite") {
    const invited = location.pathname === "/accept-invite";
    // The link's token leaves the address at once (history, screenshots, shared screens); this
    // tab keeps it, so a reload still works.
    const token = params.get("token") || sessionStorage.getItem(LINK_TOKEN) || "";
    sessionStorage.setItem(LINK_TOKEN, token);
    history.replaceState(null, "", location.pathname);
    choosePassword(root, token, invited, (text) => {
      sessionStorage.removeItem(LINK_TOKEN);
      history.replaceState(null, "", "/");
      showSignIn({ text, kind: "ok" });
    });
    return;
  }
  if (location.pathname === "/confirm-signup") {
    const token = params.get("token") || "";
    history.replaceState(null, "", "/");
    api("POST", "/api/auth/signup/confirm", { token })
      .then((account) => showSignIn({ text: `${account.name} is ready: sign in with the email and password you signed up with.`, kind: "ok" }))
      .catch((error) => showSignIn({ text: error.code === "invalid_or_expired_token"
        ? "This confirmation link is invalid, used or expired: sign up again for a new one."
        : error.message, kind: "error" }));
    return;
  }
  if (session.token) {
    enter(session.read().user);
  } else {
    showSignIn();
  }
}

function showSignIn(message) {
  if (route().section === "forgot") {
    forgot(root);
    return;
  }
  if (route().section === "signup") {
    signUp(root);
    return;
  }
  signIn(root, (user) => {
    location.hash = "#/";
    enter(user);
  }, message);
}

window.addEventListener("session-ended", (event) => {
  leave();
  showSignIn({ text: event.detail, kind: "error" });
});

window.addEventListener("hashchange", () => {
  if (!state.me) {
    showSignIn();
    return;
  }
  render();
});

async function enter(user) {
  state.me = user;
  try {
    state.me = await api("GET", "/api/auth/me");
    state.mediaMaxBytes = state.me.media_max_bytes;
  } catch {
    return; // a 401 ends the session and shows sign-in
  }
  live = new Live(session.token, {
    hello: (frame) => {
      state.me = frame.user;
      loadChats();
      loadTeam();
    },
    event: (frame) => {
      applyEvent(frame, assignedToMe);
      onEvent(frame);
    },
    ephemeral: applyEphemeral,
    resync: () => {
      state.chats.clear();
      state.messages.clear();
      changed();
    },
  });
  live.start();
  // Browsers let a page make sound once the person has acted on it.
  document.addEventListener("pointerdown", () => soundOn() && prepare(), { once: true });
  subscribe(() => {
    const unread = unreadChats();
    document.title = unread > 0 ? `(${unread}) Switchboard` : "Switchboard";
    page?.update?.();
  });
  render();
}

function leave() {
  live?.stop();
  live = null;
  state.me = null;
  state.chats.clear();
  state.messages.clear();
  state.team = null;
  page = null;
}

/** Desktop notifications: a button to allow them, or what the browser decided. */
function notifications() {
  if (!("Notification" in window)) return null;
  if (Notification.permission === "granted") return h("span", { class: "notify-state" }, "Notifications on");
  if (Notification.permission === "denied") {
    return h("span", { class: "notify-state" }, "Notifications blocked in this browser's site settings");
  }
  return h("button", {
    type: "button",
    class: "link notify",
    onclick: (event) => Notification.requestPermission().then(() => {
      event.target.replaceWith(notifications() || "");
    }),
  }, "Enable notifications");
}

function navLink(href, text, current) {
  return h("a", { href, class: current ? "current" : "", "aria-current": current ? "page" : null }, text);
}

function nav(section) {
  const me = state.me;
  const status = h("select", {
    id: "my-status",
    onchange: async (event) => {
      try {
        state.me = await api("PUT", "/api/users/me/status", { status: event.target.value });
      } catch (error) {
        alert(error.message);
      }
    },
  }, h("option", { value: "online" }, "Online"), h("option", { value: "away" }, "Away"));
  status.value = me.status === "away" ? "away" : "online";
  const menu = h("button", {
    type: "button",
    class: "menu-toggle",
    "aria-expanded": "false",
    "aria-controls": "me",
    onclick: (event) => {
      const open = event.currentTarget.closest(".nav").classList.toggle("open");
      event.currentTarget.setAttribute("aria-expanded", String(open));
    },
  }, "Menu");
  const sound = h("input", {
    type: "checkbox",
    id: "sound-switch",
    checked: soundOn(),
    onchange: (event) => setSound(event.target.checked),
  });
  return h("nav", { class: "nav", "aria-label": "Main" },
    h("a", { class: "brand", href: "#/" }, h("img", { src: "/assets/icon.svg", alt: "", width: 24, height: 24 }), h("span", {}, "Switchboard")),
    h("div", { class: "nav-links" },
      navLink("#/", "Inbox", section === "" || section === "chats"),
      navLink("#/leads", "Leads", section === "leads"),
      isSupervisor() ? navLink("#/team", "Team", section === "team") : null,
      me.role === "admin" ? navLink("#/admin/users", "Admin", section === "admin") : null),
    menu,
    h("div", { class: "me", id: "me" },
      h("span", { class: "me-name" }, me.name),
      h("label", { for: "my-status", class: "visually-hidden" }, "My status"),
      status,
      notifications(),
      h("div", { class: "check sound" }, sound, h("label", { for: "sound-switch" }, "Sound on new messages")),
      h("a", { href: "#/account" }, "Password"),
      h("button", {
        type: "button",
        class: "link",
        onclick: async () => {
          try {
            await api("POST", "/api/auth/logout");
          } catch {
            /* signing out locally is enough */
          }
          session.clear();
          leave();
          history.replaceState(null, "", "/");
          showSignIn({ text: "You are signed out.", kind: "ok" });
        },
      }, "Sign out")));
}

function render() {
  if (!state.me) return;
  const { section, id } = route();
  const view = h("div", { class: "view", id: "view" });
  mount(root, h("div", { class: "shell" }, nav(section), view));
  if (section === "team" && isSupervisor()) {
    page = team(view);
  } else if (section === "admin" && state.me.role === "admin") {
    page = admin(view, id || "users");
  } else if (section === "leads") {
    page = leads(view);
  } else if (section === "account") {
    page = account(view);
  } else if (section === "admin" || section === "team") {
    mount(view, h("main", { class: "empty-page" }, h("h1", {}, "Not available"),
      h("p", {}, "This page is for supervisors and admins."), h("a", { href: "#/" }, "Back to the inbox")));
    page = null;
  } else {
    const chatId = section === "chats" ? Number(id) : null;
    state.openChatId = chatId;
    page = inbox(view, chatId, (container, openId) => chatPane(container, openId, live));
  }
  page?.update?.();
  sweep();
}

start();
