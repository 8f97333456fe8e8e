// Signing in and out of the console: sign-in, forgotten password, the mailed reset and
// invitation links.

import { api, session } from "../api.js";
import { field, h, mount } from "../dom.js";

function card(title, ...children) {
  return h("main", { class: "auth" },
    h("div", { class: "auth-card" },
      h("div", { class: "brand" }, h("img", { src: "/assets/icon.svg", alt: "", width: 32, height: 32 }), "Switchboard"),
      h("h1", {}, title),
      ...children));
}

function notice(text, kind) {
  return text ? h("p", { class: `notice ${kind || ""}`, role: kind === "error" ? "alert" : "status" }, text) : null;
}

/** What a sign-in refused for too many attempts says: when to try again. */
function tooMany(seconds) {
  if (!seconds) return "Too many attempts. Wait a minute, then try again.";
  if (seconds < 120) return `Too many attempts. Try again in ${seconds} second${seconds === 1 ? "" : "s"}.`;
  return `Too many attempts. Try again in ${Math.ceil(seconds / 60)} minutes.`;
}

/** The sign-in page; `message` explains why the user is here (session ended, password set). */
export function signIn(root, onSignedIn, message) {
  const email = h("input", { type: "email", name: "email", autocomplete: "username", required: true });
  const password = h("input", { type: "password", name: "password", autocomplete: "current-password", required: true });
  const status = h("div", {}, notice(message?.text, message?.kind));
  const button = h("button", { type: "submit", class: "primary" }, "Sign in");
  const form = h("form", {
    onsubmit: async (event) => {
      event.preventDefault();
      button.disabled = true;
      mount(status);
      try {
        const answer = await api("POST", "/api/auth/login", { email: email.value, password: password.value });
        session.save(answer.access_token, answer.user);
        onSignedIn(answer.user);
      } catch (error) {
        const text = error.status === 401 ? "That email and password do not match."
          : error.status === 429 ? tooMany(error.retryAfter)
            : error.message;
        mount(status, notice(text, "error"));
        button.disabled = false;
        password.focus();
      }
    },
  }, field("Email", email), field("Password", password), status, button,
  h("p", { class: "aside" }, h("a", { href: "#/forgot" }, "Forgot your password?")));
  mount(root, card("Sign in", form));
  email.focus();
}

/** Asks for a reset link. */
export function forgot(root) {
  const email = h("input", { type: "email", name: "email", autocomplete: "username", required: true });
  const status = h("div");
  const button = h("button", { type: "submit", class: "primary" }, "Send reset link");
  const form = h("form", {
    onsubmit: async (event) => {
      event.preventDefault();
      button.disabled = true;
      try {
        await api("POST", "/api/auth/password-reset", { email: email.value });
        mount(status, notice("If that address has an account, a link to choose a new password is on its way. Check your mail.", "ok"));
      } catch (error) {
        mount(status, notice(error.message, "error"));
        button.disabled = false;
      }
    },
  }, h("p", {}, "Enter your email and we will send you a link to choose a new password."),
  field("Email", email), status, button,
  h("p", { class: "aside" }, h("a", { href: "#/" }, "Back to sign in")));
  mount(root, card("Forgot your password?", form));
  email.focus();
}

/** The page a mailed link opens: choose a password (reset) or the first one (invitation). */
export function choosePassword(root, token, invited, onDone) {
  const password = h("input", { type: "password", name: "new-password", autocomplete: "new-password", minlength: 10, required: true });
  const repeat = h("input", { type: "password", name: "repeat-password", autocomplete: "new-password", minlength: 10, required: true });
  const status = h("div");
  const button = h("button", { type: "submit", class: "primary" }, invited ? "Set password" : "Change password");
  const form = h("form", {
    onsubmit: async (event) => {
      event.preventDefault();
      if (password.value !== repeat.value) {
        mount(status, notice("The two passwords are not the same.", "error"));
        return;
      }
      button.disabled = true;
      try {
        await api("POST", "/api/auth/password-reset/confirm", { token, password: password.value });
        onDone(invited ? "Your password is set. Sign in to start." : "Your password is changed. Sign in with the new one.");
      } catch (error) {
        const text = error.code === "invalid_or_expired_token"
          ? "This link has expired or was already used. Ask for a new one."
          : error.message;
        mount(status, notice(text, "error"));
        button.disabled = false;
      }
    },
  }, h("p", {}, invited ? "Welcome! Choose a password for your new account." : "Choose a new password."),
  field("New password", password, "At least 10 characters."), field("Repeat password", repeat), status, button,
  h("p", { class: "aside" }, h("a", { href: "/" }, "Back to sign in")));
  mount(root, card(invited ? "Accept your invitation" : "Choose a new password", form));
  password.focus();
}
