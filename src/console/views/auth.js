// Signing in and out of the console: sign-in, sign-up, forgotten password, the mailed reset
// and invitation links.

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
  h("p", { class: "aside" }, h("a", { href: "#/forgot" }, "Forgot your password?")),
  h("p", { class: "aside", id: "signup-link" }));
  mount(root, card("Sign in", form));
  email.focus();
  // Offered only where the installation lets businesses sign themselves up.
  api("GET", "/api/auth/signup")
    .then((signup) => signup.open && mount(form.querySelector("#signup-link"), "New here? ", h("a", { href: "#/signup" }, "Create an account")))
    .catch(() => {});
}

/** Self-service sign-up: a business and its first admin, opened by the mailed link. */
export function signUp(root) {
  const business = h("input", { type: "text", name: "organization", autocomplete: "organization", maxlength: 120, required: true });
  const name = h("input", { type: "text", name: "name", autocomplete: "name", maxlength: 200, required: true });
  const email = h("input", { type: "email", name: "email", autocomplete: "email", required: true });
  const password = h("input", { type: "password", name: "new-password", autocomplete: "new-password", minlength: 10, required: true });
  const status = h("div");
  const button = h("button", { type: "submit", class: "primary" }, "Create account");
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  const form = h("form", {
    onsubmit: async (event) => {
      event.preventDefault();
      button.disabled = true;
      mount(status);
      try {
        await api("POST", "/api/auth/signup", {
          account_name: business.value, name: name.value, email: email.value, password: password.value,
          time_zone: zone, language: navigator.language?.startsWith("de") ? "de" : "en",
        });
        mount(form, notice(`Check your mail: we sent a link to ${email.value}. Open it to confirm your address and start.`, "ok"),
          h("p", { class: "aside" }, h("a", { href: "#/" }, "Back to sign in")));
      } catch (error) {
        const text = error.status === 429 ? tooMany(error.retryAfter)
          : error.code === "invalid_time_zone" ? "Your browser's time zone is unknown here; set it later under Admin → Business."
            : error.message;
        mount(status, notice(text, "error"));
        button.disabled = false;
      }
    },
  }, field("Business name", business), field("Your name", name), field("Email", email),
  field("Password", password, "At least 10 characters."), status, button,
  h("p", { class: "aside" }, h("a", { href: "#/" }, "Back to sign in")));
  mount(root, card("Create an account", form));
  business.focus();
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
