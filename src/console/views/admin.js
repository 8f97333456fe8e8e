// Administration for admins: the business's own settings, users, channels (with the widget's
// embed snippet, an API channel's key shown once), canned responses, labels, outgoing webhooks
// (deliveries, dead letters, redelivery), AI and usage, API keys and the audit log.

import { api } from "../api.js";
import { CHANNELS, chip, field, h, mount } from "../dom.js";
import { aiAndUsage } from "./ai.js";
import { apiKeys } from "./api_keys.js";

const SECTIONS = [["business", "Business"], ["users", "Users"], ["channels", "Channels"], ["canned", "Canned responses"], ["labels", "Labels"], ["webhooks", "Webhooks"], ["ai", "AI and usage"], ["api-keys", "API keys"], ["audit", "Audit log"]];

/** Draws admin section `section` into `view`. */
export function admin(view, section) {
  const body = h("div", { class: "admin-body" });
  mount(view, h("main", { class: "page" },
    h("h1", {}, "Administration"),
    h("nav", { class: "subnav", "aria-label": "Administration" },
      SECTIONS.map(([key, label]) => h("a", {
        href: `#/admin/${key}`,
        class: key === section ? "current" : "",
        "aria-current": key === section ? "page" : null,
      }, label))),
    body));
  const draw = { business, users, channels, canned, labels, webhooks, ai: aiAndUsage, "api-keys": apiKeys, audit }[section] || users;
  draw(body).catch((error) => mount(body, h("p", { class: "notice error", role: "alert" }, `Could not load: ${error.message}`)));
  return { update() {} };
}

function status(text, kind) {
  return h("p", { class: `notice ${kind || ""}`, role: kind === "error" ? "alert" : "status" }, text);
}

function confirmed(text) {
  return window.confirm(text);
}

async function users(body, notice = null) {
  const list = await api("GET", "/api/users");
  const message = h("div", {}, notice);
  const email = h("input", { type: "email", required: true });
  const name = h("input", { type: "text", required: true, maxlength: 200 });
  const role = h("select", {}, ["agent", "supervisor", "admin"].map((r) => h("option", { value: r }, r)));
  const invite = h("form", {
    class: "form inline-form",
    onsubmit: async (event) => {
      event.preventDefault();
      try {
        const user = await api("POST", "/api/users", { email: email.value, name: name.value, role: role.value });
        await users(body, status(`Invitation sent to ${user.email}.`, "ok"));
      } catch (error) {
        mount(message, status(error.code === "email_taken" ? `There is a user with the email ${email.value} already.` : error.message, "error"));
      }
    },
  }, h("h2", {}, "Invite someone"), field("Email", email), field("Name", name), field("Role", role),
  h("button", { type: "submit", class: "primary" }, "Send invitation"));

  const change = async (user, patch, text) => {
    try {
      await api("PATCH", `/api/users/${user.id}`, patch);
      await users(body, status(text, "ok"));
    } catch (error) {
      mount(message, status(error.code === "last_admin" ? "The account must keep one active admin." : error.message, "error"));
    }
  };
  const resend = async (user) => {
    try {
      await api("POST", `/api/users/${user.id}/invitation`);
      await users(body, status(`A new invitation was sent to ${user.email}. The link sent before no longer works.`, "ok"));
    } catch (error) {
      mount(message, status(error.message, "error"));
    }
  };
  const rows = list.map((user) => {
    const roleSelect = h("select", { "aria-label": `Role of ${user.name}`, onchange: (e) => change(user, { role: e.target.value }, `${user.name} is now ${e.target.value}.`) },
      ["agent", "supervisor", "admin"].map((r) => h("option", { value: r }, r)));
    roleSelect.value = user.role;
    const takes = h("input", {
      type: "checkbox",
      "aria-label": `${user.name} receives new chats by round robin`,
      checked: user.can_receive_new_chats,
      onchange: (e) => change(user, { can_receive_new_chats: e.target.checked },
        e.target.checked ? `${user.name} now receives new chats by round robin.` : `${user.name} no longer receives new chats by round robin.`),
    });
    const capacity = h("input", {
      type: "number",
      min: 1,
      max: 1000,
      placeholder: "No limit",
      "aria-label": `Most open chats for ${user.name} (blank: no limit)`,
      value: user.max_open_chats ?? "",
      onchange: (e) => change(user, { max_open_chats: e.target.value === "" ? null : Number(e.target.value) },
        e.target.value === "" ? `${user.name} has no limit of open chats.` : `${user.name} takes at most ${e.target.value} open chats.`),
    });
    const invited = user.is_active && !user.has_password;
    return h("tr", {},
      h("th", { scope: "row" }, user.name, h("br"), h("small", {}, user.email)),
      h("td", {}, roleSelect),
      h("td", {}, takes),
      h("td", {}, capacity),
      h("td", {}, user.is_active ? (user.has_password ? "active" : "invited, no password yet") : "deactivated"),
      h("td", { class: "row-actions" },
        invited ? h("button", { type: "button", onclick: () => resend(user) }, "Resend invitation") : null,
        h("button", {
          type: "button",
          onclick: () => change(user, { is_active: !user.is_active }, user.is_active ? `${user.name} is deactivated.` : `${user.name} is active again.`),
        }, user.is_active ? "Deactivate" : "Activate"),
        h("button", {
          type: "button",
          class: "danger",
          onclick: async () => {
            if (!confirmed(`Delete ${user.name}? This cannot be undone.`)) return;
            try {
              await api("DELETE", `/api/users/${user.id}`);
              await users(body, status(`${user.name} is deleted.`, "ok"));
            } catch (error) {
              mount(message, status(error.code === "last_admin" ? "The account must keep one active admin." : error.message, "error"));
            }
          },
        }, "Delete")));
  });
  const head = (text, hint) => h("th", { scope: "col" }, text, hint ? [h("br"), h("small", { class: "th-hint" }, hint)] : null);
  mount(body, message,
    h("table", { class: "table" },
      h("caption", { class: "visually-hidden" }, "Users"),
      h("thead", {}, h("tr", {}, head("User"), head("Role"), head("New chats", "receives chats by round robin"),
        head("Capacity", "most open chats; blank: no limit"), head("State"), head(""))),
      h("tbody", {}, rows)),
    h("p", { class: "hint" }, "Agents receive new chats by round robin unless unticked; admins and supervisors start unticked, and can still take and be given chats."),
    invite);
}

function snippet(channel) {
  return `<script src="${location.origin}/widget.js" data-widget-key="${channel.widget_key}" async></script>`;
}

const ASKS = [["off", "Not asked"], ["optional", "Optional"], ["required", "Required"]];

function askSelect(value) {
  const select = h("select", {}, ASKS.map(([v, t]) => h("option", { value: v }, t)));
  select.value = value;
  return select;
}

function positionSelect(value) {
  const select = h("select", {}, h("option", { value: "right" }, "Bottom right"), h("option", { value: "left" }, "Bottom left"));
  select.value = value;
  return select;
}

function originList(text) {
  return text.split(",").map((o) => o.trim()).filter(Boolean);
}

/** What the hub said after a save: the page token's check first, as it decides what to do next. */
function saved(channel, verb) {
  const check = channel.token_check;
  if (check?.status === "valid") {
    return status(`${verb} ${channel.name}. Meta accepted the page token: it belongs to ${check.page_name || "the page"} (id ${check.page_id}).`, "ok");
  }
  if (check?.status === "unchecked") {
    return status(`${verb} ${channel.name}, but Meta could not be asked whether the page token works (${check.reason}). Replies will tell; save the token again later to check it.`, "warn");
  }
  return status(`${verb} ${channel.name}.`, "ok");
}

/** A value to paste elsewhere, shown whole, with a Copy button. */
function copyable(label, value, id, what) {
  const shown = h("output", { id, class: "copy-value" }, value);
  return h("div", { class: "field" },
    h("label", { for: id }, label),
    h("div", { class: "copy-row" }, shown,
      h("button", {
        type: "button",
        "aria-label": `Copy the ${what}`,
        onclick: async (event) => {
          const button = event.currentTarget;
          try {
            await navigator.clipboard.writeText(value);
            button.textContent = "Copied";
          } catch {
            window.getSelection()?.selectAllChildren(shown);
            button.textContent = "Selected: press Ctrl+C";
          }
        },
      }, "Copy")));
}

/** The two values Meta's webhook settings ask for, to paste there. */
function metaSetup(c) {
  const hook = c.meta_webhook;
  if (!hook) return null;
  return h("div", { class: "meta-setup" },
    h("h4", {}, "For Meta's webhook settings"),
    copyable("Callback URL", hook.callback_url, `callback-${c.id}`, "callback URL"),
    hook.callback_url.startsWith("https://")
      ? null
      : h("p", { class: "hint" }, "Meta calls only https:// addresses: set FRONTEND_BASE_URL to the hub's public address."),
    hook.verify_token
      ? copyable("Verify token", hook.verify_token, `verify-${c.id}`, "verify token")
      : h("p", { class: "hint" }, "No verify token yet: set META_VERIFY_TOKEN in the hub's configuration."));
}

/** Where an API channel takes messages and sends replies, and its secrets once, at creation. */
function apiSetup(c) {
  const secrets = c.api_secrets;
  return [
    copyable("Messages URL", c.api.messages_url, `messages-url-${c.id}`, "messages URL"),
    h("p", {}, c.api.webhook_url ? `Replies go to ${c.api.webhook_url}, signed.` : "No webhook: replies are not sent anywhere."),
    secrets
      ? h("div", { class: "notice ok", role: "status" },
        h("p", {}, "Copy these now: they are shown only this once."),
        copyable("Channel key", secrets.api_key, `channel-key-${c.id}`, "channel key"),
        copyable("Webhook signing secret", secrets.webhook_secret, `webhook-secret-${c.id}`, "webhook signing secret"))
      : null,
  ];
}

function channelCard(c, body, message) {
  return h("article", { class: "card" },
    h("h3", {}, c.name, " ", h("small", {}, CHANNELS[c.kind] || c.kind)),
    c.kind === "widget"
      ? [h("p", {}, c.allowed_origins.length ? `Allowed on: ${c.allowed_origins.join(", ")}` : "Not allowed on any site yet: add its origins."),
        h("label", { for: `snippet-${c.id}` }, "Embed snippet"),
        h("textarea", { id: `snippet-${c.id}`, class: "snippet", readonly: true, rows: 3 }, snippet(c)),
        h("button", {
          type: "button",
          onclick: async (event) => {
            await navigator.clipboard?.writeText(snippet(c)).catch(() => {});
            event.target.textContent = "Copied";
          },
        }, "Copy snippet"),
        " ",
        h("a", { href: `/widget/demo?key=${encodeURIComponent(c.widget_key)}`, target: "_blank", rel: "noopener" }, "Try it on the demo page")]
      : c.kind === "api" ? apiSetup(c)
      : [h("p", {}, `Id ${c.external_id || "—"} · token ${c.access_token_set ? "set" : "missing"}`), metaSetup(c)],
    h("p", {}, c.ai_enabled ? `AI responder on${c.ai_model ? ` (${c.ai_model})` : ""}` : "AI responder off"),
    h("div", { class: "row-actions" },
      h("button", { type: "button", "aria-label": `Edit ${c.name}`, onclick: () => channels(body, c.id) }, "Edit"),
      h("button", {
        type: "button",
        onclick: async () => {
          try {
            await api("PATCH", `/api/channels/${c.id}`, { ai_enabled: !c.ai_enabled });
            await channels(body);
          } catch (error) {
            mount(message, status(error.message, "error"));
          }
        },
      }, c.ai_enabled ? "Turn AI off" : "Turn AI on"),
      h("button", {
        type: "button",
        class: "danger",
        onclick: async () => {
          if (!confirmed(`Delete the channel ${c.name}?`)) return;
          await api("DELETE", `/api/channels/${c.id}`).catch((error) => mount(message, status(error.message, "error")));
          await channels(body);
        },
      }, "Delete")));
}

/** The form that changes every setting of a channel in place; its widget key stays. */
function channelEditor(c, body) {
  const problem = h("div");
  const name = h("input", { type: "text", required: true, maxlength: 200, value: c.name });
  const ai = h("input", { type: "checkbox", id: `edit-ai-${c.id}`, checked: c.ai_enabled });
  const prompt = h("textarea", { rows: 4 });
  prompt.value = c.ai_system_prompt || "";
  const model = h("input", { type: "text", placeholder: "default model", value: c.ai_model || "" });
  let kindFields;
  let collect;
  if (c.kind === "widget") {
    const w = c.widget || {};
    const origins = h("input", { type: "text", value: c.allowed_origins.join(", "), placeholder: "https://shop.example.com, https://www.example.com" });
    const title = h("input", { type: "text", required: true, maxlength: 80, value: w.title || "" });
    const greeting = h("input", { type: "text", maxlength: 500, value: w.greeting || "" });
    const color = h("input", { type: "color", value: w.color || "#2453c7" });
    const position = positionSelect(w.position || "right");
    const askName = askSelect(w.ask_name || "optional");
    const askEmail = askSelect(w.ask_email || "off");
    kindFields = [
      field("Allowed origins", origins, "The sites the widget may run on, comma-separated (* for any). The embed snippet stays the same."),
      field("Widget title", title), field("Greeting", greeting), field("Accent colour", color),
      field("Launcher position", position), field("Ask for the name", askName), field("Ask for the email", askEmail)];
    collect = (payload) => {
      payload.allowed_origins = originList(origins.value);
      // Settings this form does not show are sent back as they are.
      payload.widget = {
        ...w, title: title.value, greeting: greeting.value, color: color.value,
        position: position.value, ask_name: askName.value, ask_email: askEmail.value,
      };
    };
  } else if (c.kind === "api") {
    const hook = h("input", { type: "url", value: c.api?.webhook_url || "", placeholder: "https://app.example.com/hooks/switchboard" });
    kindFields = [field("Webhook URL", hook, "Where replies are POSTed, signed with the secret shown when the channel was added. Empty: nowhere.")];
    collect = (payload) => {
      payload.webhook_url = hook.value.trim();
    };
  } else {
    const token = h("input", { type: "password", autocomplete: "new-password" });
    kindFields = [field("New page access token", token, c.access_token_set
      ? "A token is stored and never shown. Fill this in only to replace it; Meta checks it when you save."
      : "No token yet: replies cannot be sent without one. Meta checks it when you save.")];
    collect = (payload) => {
      if (token.value.trim()) payload.access_token = token.value.trim();
    };
  }
  const form = h("form", {
    class: "form channel-edit",
    "aria-label": `Change ${c.name}`,
    onsubmit: async (event) => {
      event.preventDefault();
      const payload = { name: name.value, ai_enabled: ai.checked, ai_system_prompt: prompt.value, ai_model: model.value.trim() };
      collect(payload);
      try {
        const channel = await api("PATCH", `/api/channels/${c.id}`, payload);
        await channels(body, null, saved(channel, "Saved"));
      } catch (error) {
        mount(problem, status(error.code === "invalid_page_token" ? `Not saved: ${error.message}` : error.message, "error"));
      }
    },
  }, h("h3", {}, "Change ", c.name, " ", h("small", {}, CHANNELS[c.kind] || c.kind)),
  field("Name", name), kindFields,
  h("div", { class: "field check" }, ai, h("label", { for: ai.id }, "AI responder answers first")),
  field("AI system prompt", prompt, "Empty: the account's prompt."), field("AI model", model, "Empty: the account's model."),
  problem,
  h("div", { class: "row-actions" },
    h("button", { type: "submit", class: "primary" }, "Save changes"),
    h("button", { type: "button", onclick: () => channels(body) }, "Cancel")));
  return h("article", { class: "card editing" }, form);
}

async function channels(body, editing = null, notice = null, created = null) {
  const list = await api("GET", "/api/channels");
  const message = h("div");
  const kind = h("select", {}, Object.entries(CHANNELS).map(([k, label]) => h("option", { value: k }, label)));
  const name = h("input", { type: "text", required: true, maxlength: 200 });
  const externalId = h("input", { type: "text" });
  const token = h("input", { type: "password", autocomplete: "off" });
  const origins = h("input", { type: "text", placeholder: "https://shop.example.com, https://www.example.com" });
  const ai = h("input", { type: "checkbox" });
  const prompt = h("textarea", { rows: 3 });
  const model = h("input", { type: "text", placeholder: "default model" });
  const metaFields = h("div", {}, field("Page or Instagram account id", externalId), field("Access token", token, "Meta checks it when you add the channel."));
  const title = h("input", { type: "text", value: "Chat with us", maxlength: 80 });
  const greeting = h("input", { type: "text", value: "Hi! How can we help you today?", maxlength: 500 });
  const color = h("input", { type: "color", value: "#2453c7" });
  const position = positionSelect("right");
  const askName = askSelect("optional");
  const askEmail = askSelect("off");
  const widgetFields = h("div", { hidden: true },
    field("Allowed origins", origins, "The sites the widget may run on, comma-separated (* for any). None: no site yet."),
    field("Widget title", title), field("Greeting", greeting), field("Accent colour", color),
    field("Launcher position", position), field("Ask for the name", askName), field("Ask for the email", askEmail));
  const webhookUrl = h("input", { type: "url", placeholder: "https://app.example.com/hooks/switchboard" });
  const apiFields = h("div", { hidden: true },
    field("Webhook URL", webhookUrl, "Where replies to your customers are POSTed, signed. The channel key is shown once when you add it."));
  kind.addEventListener("change", () => {
    metaFields.hidden = kind.value === "widget" || kind.value === "api";
    widgetFields.hidden = kind.value !== "widget";
    apiFields.hidden = kind.value !== "api";
  });
  const form = h("form", {
    class: "form",
    onsubmit: async (event) => {
      event.preventDefault();
      const payload = { kind: kind.value, name: name.value, ai_enabled: ai.checked };
      if (kind.value === "widget") {
        payload.allowed_origins = originList(origins.value);
        payload.widget = {
          title: title.value, greeting: greeting.value, color: color.value,
          position: position.value, ask_name: askName.value, ask_email: askEmail.value,
        };
      } else if (kind.value === "api") {
        if (webhookUrl.value.trim()) payload.webhook_url = webhookUrl.value.trim();
      } else {
        payload.external_id = externalId.value;
        payload.access_token = token.value;
      }
      if (prompt.value.trim()) payload.ai_system_prompt = prompt.value;
      if (model.value.trim()) payload.ai_model = model.value.trim();
      try {
        const channel = await api("POST", "/api/channels", payload);
        await channels(body, null, saved(channel, "Added"), channel);
      } catch (error) {
        mount(message, status(error.code === "invalid_page_token" ? `Not added: ${error.message}` : error.message, "error"));
      }
    },
  }, h("h2", {}, "Add a channel"), field("Kind", kind), field("Name", name), metaFields, widgetFields, apiFields,
  h("div", { class: "field check" }, ai, h("label", { for: ai.id = "channel-ai" }, "AI responder answers first")),
  field("AI system prompt", prompt), field("AI model", model),
  h("button", { type: "submit", class: "primary" }, "Add channel"));

  // A channel just added carries its secrets (an API channel's key): shown on its card, once.
  const shown = (c) => (created && created.id === c.id ? created : c);
  const cards = list.map((c) => (c.id === editing ? channelEditor(c, body) : channelCard(shown(c), body, message)));
  mount(body, message, list.length ? h("div", { class: "cards" }, cards) : h("p", {}, "No channels yet."), editing ? null : form);
  if (notice) {
    mount(message, notice);
    message.scrollIntoView({ block: "nearest" });
  }
  const open = body.querySelector(".channel-edit input");
  if (open) open.focus();
}

async function webhooks(body, deliveryStatus = "dead") {
  const list = await api("GET", "/api/outgoing-webhooks");
  const deliveries = await api("GET", `/api/outgoing-webhooks/deliveries?status=${deliveryStatus}`);
  const message = h("div");
  const url = h("input", { type: "url", required: true, placeholder: "https://crm.example.com/hooks/switchboard" });
  const types = ["message.created", "message.updated", "chat.created", "chat.updated", "chat.assigned", "chat.read", "lead.captured"];
  const boxes = types.map((t) => h("input", { type: "checkbox", value: t, id: `type-${t}`, checked: t === "message.created" }));
  const form = h("form", {
    class: "form",
    onsubmit: async (event) => {
      event.preventDefault();
      try {
        const hook = await api("POST", "/api/outgoing-webhooks", {
          url: url.value,
          event_types: boxes.filter((b) => b.checked).map((b) => b.value),
        });
        await webhooks(body, deliveryStatus);
        body.prepend(status(`Webhook created. Its signing secret, shown only now: ${hook.secret}`, "ok"));
      } catch (error) {
        mount(message, status(error.message, "error"));
      }
    },
  }, h("h2", {}, "Add a webhook"), field("Receiver URL", url),
  h("fieldset", {}, h("legend", {}, "Events"), boxes.map((b) => h("div", { class: "check" }, b, h("label", { for: b.id }, b.value)))),
  h("button", { type: "submit", class: "primary" }, "Add webhook"));
  const hooks = list.map((hook) => h("tr", {},
    h("th", { scope: "row" }, hook.url),
    h("td", {}, hook.channel_id ? `Replies of API channel #${hook.channel_id}` : hook.event_types.join(", ")),
    h("td", {}, h("button", {
      type: "button",
      class: "danger",
      onclick: async () => {
        if (!confirmed(`Delete the webhook to ${hook.url}?`)) return;
        await api("DELETE", `/api/outgoing-webhooks/${hook.id}`);
        await webhooks(body, deliveryStatus);
      },
    }, "Delete"))));
  const tabs = [["dead", "Dead letters"], ["pending", "Pending"], ["delivered", "Delivered"]].map(([key, label]) => h("button", {
    type: "button",
    "aria-pressed": String(key === deliveryStatus),
    onclick: () => webhooks(body, key),
  }, label));
  const rows = deliveries.map((d) => h("tr", {},
    h("td", {}, String(d.id)), h("td", {}, d.event_type), h("td", {}, String(d.attempts)),
    h("td", {}, d.last_status_code ? String(d.last_status_code) : "—"), h("td", {}, d.last_error || ""),
    h("td", {}, d.status === "dead" ? h("button", {
      type: "button",
      onclick: async () => {
        await api("POST", `/api/outgoing-webhooks/deliveries/${d.id}/redeliver`);
        await webhooks(body, deliveryStatus);
      },
    }, "Redeliver") : "")));
  mount(body, message,
    h("table", { class: "table" }, h("caption", {}, "Webhooks"),
      h("thead", {}, h("tr", {}, ["URL", "Events", ""].map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, hooks.length ? hooks : h("tr", {}, h("td", { colspan: 3 }, "No webhooks yet.")))),
    form,
    h("h2", {}, "Deliveries"), h("div", { class: "modes", role: "group", "aria-label": "Delivery state" }, tabs),
    h("table", { class: "table" }, h("caption", { class: "visually-hidden" }, "Deliveries"),
      h("thead", {}, h("tr", {}, ["Id", "Event", "Tries", "Last status", "Last error", ""].map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, rows.length ? rows : h("tr", {}, h("td", { colspan: 6 }, "None.")))));
}

async function audit(body, before) {
  const entries = await api("GET", `/api/audit?limit=50${before ? `&before=${before}` : ""}`);
  const rows = entries.map((e) => h("tr", {},
    h("td", { class: "when" }, h("time", { datetime: e.created_at }, new Date(e.created_at).toLocaleString())),
    h("td", {}, e.summary || e.action),
    h("td", {}, e.ip ? h("small", {}, e.ip) : "")));
  const last = entries.at(-1);
  mount(body,
    h("table", { class: "table" }, h("caption", { class: "visually-hidden" }, "Audit log"),
      h("thead", {}, h("tr", {}, ["When", "What happened", "From"].map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, rows.length ? rows : h("tr", {}, h("td", { colspan: 3 }, "Nothing recorded.")))),
    last && entries.length === 50 ? h("button", { type: "button", onclick: () => audit(body, last.id) }, "Older") : null);
}

/** What is wrong with a shortcut as the hub would take it (a leading / is dropped, case is
 * ignored), or "". */
function shortcutProblem(value) {
  const shortcut = value.trim().replace(/^\/+/, "").toLowerCase();
  if (!shortcut) return "Type a shortcut, for example bye.";
  if ([...shortcut].length > 32) return "A shortcut has at most 32 characters.";
  const wrong = [...new Set([...shortcut].filter((c) => !/[a-z0-9_-]/.test(c)))];
  if (wrong.length) {
    return `A shortcut holds letters a-z, digits, - and _ only, not ${wrong.map((c) => (c === " " ? "spaces" : `“${c}”`)).join(", ")}.`;
  }
  return "";
}

async function canned(body, editing = null) {
  const list = await api("GET", "/api/canned-responses");
  const message = h("div");
  const problem = h("p", { class: "field-error", id: "shortcut-problem", role: "alert", hidden: true });
  const shortcut = h("input", { type: "text", maxlength: 40, placeholder: "hours", "aria-describedby": "shortcut-problem", value: editing?.shortcut || "" });
  const text = h("textarea", { rows: 3, maxlength: 4000, placeholder: "Hi {{contact.first_name}}, we are open 9 to 5 on weekdays." });
  text.value = editing?.text || "";
  const explain = (what) => {
    problem.textContent = what;
    problem.hidden = !what;
    shortcut.setAttribute("aria-invalid", String(Boolean(what)));
  };
  shortcut.addEventListener("input", () => { if (!problem.hidden) explain(shortcutProblem(shortcut.value)); });
  const form = h("form", {
    class: "form",
    novalidate: true,
    onsubmit: async (event) => {
      event.preventDefault();
      explain(shortcutProblem(shortcut.value));
      if (!problem.hidden) return shortcut.focus();
      if (!text.value.trim()) {
        mount(message, status("Write the text of the canned response.", "error"));
        return text.focus();
      }
      try {
        const payload = { shortcut: shortcut.value, text: text.value };
        const saved = editing
          ? await api("PATCH", `/api/canned-responses/${editing.id}`, payload)
          : await api("POST", "/api/canned-responses", payload);
        await canned(body);
        body.prepend(status(`Saved /${saved.shortcut}.`, "ok"));
      } catch (error) {
        if (error.code === "invalid_shortcut") return explain(`The hub refused this shortcut: ${error.message}.`);
        const taken = shortcut.value.trim().replace(/^\/+/, "").toLowerCase();
        mount(message, status(error.code === "shortcut_taken" ? `There is a canned response with the shortcut /${taken} already.` : error.message, "error"));
      }
    },
  }, h("h2", {}, editing ? `Change /${editing.shortcut}` : "Add a canned response"),
  field("Shortcut", shortcut, "Typed after / in the composer: letters a-z, digits, - and _; a leading / is fine."), problem,
  field("Text", text, "{{contact.name}} and {{contact.first_name}} become the customer's name."),
  h("div", { class: "row-actions" },
    h("button", { type: "submit", class: "primary" }, editing ? "Save changes" : "Add canned response"),
    editing ? h("button", { type: "button", onclick: () => canned(body) }, "Cancel") : null));
  const rows = list.map((c) => h("tr", {},
    h("th", { scope: "row" }, `/${c.shortcut}`), h("td", { class: "canned-text" }, c.text),
    h("td", { class: "row-actions" },
      h("button", { type: "button", "aria-label": `Edit /${c.shortcut}`, onclick: () => canned(body, c) }, "Edit"),
      h("button", {
        type: "button",
        class: "danger",
        "aria-label": `Delete /${c.shortcut}`,
        onclick: async () => {
          if (!confirmed(`Delete the canned response /${c.shortcut}?`)) return;
          await api("DELETE", `/api/canned-responses/${c.id}`).catch((error) => mount(message, status(error.message, "error")));
          await canned(body);
        },
      }, "Delete"))));
  mount(body, message,
    h("table", { class: "table" }, h("caption", {}, "Canned responses"),
      h("thead", {}, h("tr", {}, ["Shortcut", "Text", ""].map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, rows.length ? rows : h("tr", {}, h("td", { colspan: 3 }, "No canned responses yet.")))),
    form);
  if (editing) text.focus();
}

async function labels(body, editing = null, notice = null) {
  const list = await api("GET", "/api/labels");
  const message = h("div", {}, notice);
  const name = h("input", { type: "text", required: true, maxlength: 64, placeholder: "VIP" });
  const color = h("input", { type: "color", value: "#2453c7" });
  // Names are one label whatever their case: say which one is meant.
  const clash = (wanted, except) => list.find((l) => l.id !== except && l.name.toLowerCase() === wanted.trim().toLowerCase());
  const refused = (error, wanted, except) => (error.code === "label_exists"
    ? `There is a label named ${clash(wanted, except)?.name || wanted.trim()} already (names count as the same whatever their case).`
    : error.message);
  const form = h("form", {
    class: "form inline-form",
    onsubmit: async (event) => {
      event.preventDefault();
      try {
        const label = await api("POST", "/api/labels", { name: name.value, color: color.value });
        await labels(body, null, status(`Label ${label.name} added.`, "ok"));
      } catch (error) {
        mount(message, status(refused(error, name.value), "error"));
      }
    },
  }, h("h2", {}, "Add a label"), field("Label name", name), field("Colour", color),
  h("button", { type: "submit", class: "primary" }, "Add label"));
  const shown = (label) => [
    h("th", { scope: "row" }, chip(label)), h("td", {}, label.color),
    h("td", { class: "row-actions" },
      h("button", { type: "button", "aria-label": `Edit label ${label.name}`, onclick: () => labels(body, label.id) }, "Edit"),
      h("button", {
        type: "button",
        class: "danger",
        "aria-label": `Delete label ${label.name}`,
        onclick: async () => {
          if (!confirmed(`Delete the label ${label.name}? It comes off every chat and customer.`)) return;
          await api("DELETE", `/api/labels/${label.id}`).catch((error) => mount(message, status(error.message, "error")));
          await labels(body);
        },
      }, "Delete"))];
  const edited = (label) => {
    const newName = h("input", { type: "text", maxlength: 64, value: label.name, "aria-label": `New name of ${label.name}` });
    const newColor = h("input", { type: "color", value: label.color, "aria-label": `Colour of ${label.name}` });
    const save = async () => {
      try {
        const saved = await api("PATCH", `/api/labels/${label.id}`, { name: newName.value, color: newColor.value });
        await labels(body, null, status(`Label ${saved.name} saved.`, "ok"));
      } catch (error) {
        mount(message, status(refused(error, newName.value, label.id), "error"));
      }
    };
    newName.addEventListener("keydown", (event) => {
      if (event.key === "Enter") save();
      if (event.key === "Escape") labels(body);
    });
    return [
      h("th", { scope: "row" }, newName), h("td", {}, newColor),
      h("td", { class: "row-actions" },
        h("button", { type: "button", class: "primary", onclick: save }, "Save label"),
        h("button", { type: "button", onclick: () => labels(body) }, "Cancel"))];
  };
  const rows = list.map((label) => h("tr", {}, label.id === editing ? edited(label) : shown(label)));
  mount(body, message,
    h("table", { class: "table" }, h("caption", {}, "Labels"),
      h("thead", {}, h("tr", {}, ["Label", "Colour", ""].map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, rows.length ? rows : h("tr", {}, h("td", { colspan: 3 }, "No labels yet.")))),
    form);
  body.querySelector("input[aria-label^='New name of']")?.focus();
}

/** Time zones the browser knows, for the picker; the hub checks the name again. */
function timeZones(current) {
  const known = typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : [];
  return [...new Set(["UTC", current, ...known])];
}

async function business(body, notice = null) {
  const account = await api("GET", "/api/account");
  const message = h("div", {}, notice);
  const name = h("input", { type: "text", required: true, maxlength: 120, value: account.name });
  const zone = h("select", {}, timeZones(account.time_zone).map((z) => h("option", { value: z, selected: z === account.time_zone }, z)));
  const language = h("select", {}, [["en", "English"], ["de", "Deutsch"]].map(([code, label]) =>
    h("option", { value: code, selected: code === account.language }, label)));
  const form = h("form", {
    class: "form",
    onsubmit: async (event) => {
      event.preventDefault();
      try {
        const saved = await api("PATCH", "/api/account", { name: name.value, time_zone: zone.value, language: language.value });
        await business(body, status(`Settings of ${saved.name} saved.`, "ok"));
      } catch (error) {
        mount(message, status(error.message, "error"));
      }
    },
  }, h("h2", {}, "Business settings"), field("Business name", name), field("Time zone", zone), field("Language", language),
  h("button", { type: "submit", class: "primary" }, "Save settings"));
  mount(body, message, form);
}
