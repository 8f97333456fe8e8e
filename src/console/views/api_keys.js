// API keys for integrations (admins): create one with a name and scopes, see its secret once
// with a copy button, list keys with their last use, revoke.

import { api } from "../api.js";
import { ago, field, h, mount } from "../dom.js";

const SCOPES = [
  ["chats:read", "Read chats and messages"],
  ["chats:write", "Reply, note, assign, change status"],
  ["contacts:read", "Read contacts"],
  ["contacts:write", "Change contacts"],
  ["leads:read", "Read leads"],
  ["leads:write", "Change and import leads"],
  ["webhooks:manage", "Manage outgoing webhooks"],
  ["ws:connect", "Open the live event stream"],
];

function notice(text, kind) {
  return h("p", { class: `notice ${kind || ""}`, role: kind === "error" ? "alert" : "status" }, text);
}

/** The new key's secret, shown once, with a Copy button. */
function shownOnce(created) {
  const value = h("output", { id: "new-api-key", class: "copy-value" }, created.secret);
  return h("div", { class: "notice ok", role: "status" },
    h("p", {}, `Key "${created.name}" created. Copy it now: it is shown only this once.`),
    h("div", { class: "copy-row" }, value,
      h("button", {
        type: "button",
        "aria-label": "Copy the API key",
        onclick: async (event) => {
          const button = event.currentTarget;
          try {
            await navigator.clipboard.writeText(created.secret);
            button.textContent = "Copied";
          } catch {
            window.getSelection()?.selectAllChildren(value);
            button.textContent = "Selected: press Ctrl+C";
          }
        },
      }, "Copy")));
}

function keyRow(key, body) {
  const state = key.revoked_at ? `Revoked ${ago(key.revoked_at)}` : "Active";
  return h("tr", {},
    h("th", { scope: "row" }, key.name, h("br"), h("small", {}, `${key.prefix}_…`)),
    h("td", {}, key.scopes.join(", ")),
    h("td", {}, key.last_used_at ? h("time", { datetime: key.last_used_at }, ago(key.last_used_at)) : "Never"),
    h("td", {}, state),
    h("td", {}, key.revoked_at ? "" : h("button", {
      type: "button",
      class: "danger",
      "aria-label": `Revoke ${key.name}`,
      onclick: async () => {
        if (!window.confirm(`Revoke the key "${key.name}"? Integrations using it stop at once.`)) return;
        try {
          await api("DELETE", `/api/api-keys/${key.id}`);
          await apiKeys(body, notice(`Revoked "${key.name}".`, "ok"));
        } catch (error) {
          await apiKeys(body, notice(error.message, "error"));
        }
      },
    }, "Revoke")));
}

/** Draws the API keys section into `body`. */
export async function apiKeys(body, message = null) {
  const keys = await api("GET", "/api/api-keys");
  const problem = h("div");
  const name = h("input", { type: "text", required: true, maxlength: 100, placeholder: "CRM sync" });
  const boxes = SCOPES.map(([scope]) => h("input", { type: "checkbox", value: scope, id: `scope-${scope.replace(":", "-")}` }));
  const form = h("form", {
    class: "form",
    onsubmit: async (event) => {
      event.preventDefault();
      const scopes = boxes.filter((b) => b.checked).map((b) => b.value);
      if (!scopes.length) {
        mount(problem, notice("Choose at least one scope.", "error"));
        return;
      }
      try {
        const created = await api("POST", "/api/api-keys", { name: name.value, scopes });
        await apiKeys(body, shownOnce(created));
      } catch (error) {
        mount(problem, notice(error.message, "error"));
      }
    },
  }, h("h2", {}, "Create an API key"), field("Name", name),
  h("fieldset", {}, h("legend", {}, "Scopes"),
    boxes.map((b, i) => h("div", { class: "check" }, b, h("label", { for: b.id }, `${SCOPES[i][0]}: ${SCOPES[i][1]}`)))),
  h("p", { class: "hint" }, "A key acts for you, never beyond your own role, and only within its scopes. Send it as Authorization: Bearer <key>."),
  problem,
  h("button", { type: "submit", class: "primary" }, "Create key"));
  const rows = keys.map((key) => keyRow(key, body));
  mount(body, message,
    h("table", { class: "table" }, h("caption", {}, "API keys"),
      h("thead", {}, h("tr", {}, ["Name", "Scopes", "Last used", "State", ""].map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, rows.length ? rows : h("tr", {}, h("td", { colspan: 5 }, "No API keys yet: create one for an integration below.")))),
    form);
  const shown = body.querySelector("#new-api-key");
  if (shown) shown.scrollIntoView({ block: "nearest" });
}
