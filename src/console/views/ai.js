// AI and usage, for admins: the business's own AI provider, key (only its last four shown),
// model, prompt, pause and budgets, a channel's overrides, and what the calls used this month
// with a bar per day and the budget left.

import { api } from "../api.js";
import { CHANNELS, field, h, mount } from "../dom.js";

function notice(text, kind) {
  return h("p", { class: `notice ${kind || ""}`, role: kind === "error" ? "alert" : "status" }, text);
}

function numberOrNull(input) {
  const value = input.value.trim();
  return value === "" ? null : Number(value);
}

/** Draws the page into `body`. */
export async function aiAndUsage(body, message = null) {
  const [settings, channels, usage] = await Promise.all([
    api("GET", "/api/ai/settings"),
    api("GET", "/api/channels"),
    api("GET", "/api/usage?group_by=day"),
  ]);
  mount(body, message, budgetSummary(usage.budget), settingsForm(settings, body),
    overrides(channels, body), usageByDay(usage));
}

/** The fields both levels share: provider, key, pause, budgets. */
function providerFields(settings, level) {
  const baseUrl = h("input", { type: "url", value: settings.base_url || "", placeholder: "https://api.openai.com/v1" });
  const key = h("input", { type: "password", autocomplete: "new-password" });
  const clear = h("input", { type: "checkbox", id: `clear-key-${level}` });
  const paused = h("input", { type: "checkbox", id: `paused-${level}`, checked: settings.paused === true });
  const perMinute = h("input", { type: "number", min: 1, step: 1, value: settings.calls_per_minute ?? "" });
  const perMonth = h("input", { type: "number", min: 1, step: 1, value: settings.tokens_per_month ?? "" });
  const keyHint = !settings.keys_can_be_stored
    ? "This installation has no SECRETS_KEY, so keys cannot be stored."
    : settings.api_key_set
      ? `A key ending in ${settings.api_key_last4} is stored and never shown. Leave this empty to keep it.`
      : "No key of its own: the installation's provider is used unless a base URL is set.";
  const fields = [
    field("Provider base URL", baseUrl, "Any OpenAI-compatible API. Empty: inherited."),
    field("API key", key, keyHint),
    settings.api_key_set ? h("div", { class: "field check" }, clear, h("label", { for: clear.id }, "Remove the stored key")) : null,
    h("div", { class: "field check" }, paused, h("label", { for: paused.id }, "Pause the AI (chats go to people, drafts are refused)")),
    field("Calls per minute", perMinute, "Empty: no limit."),
    field("Tokens per month", perMonth, "Prompt and completion tokens per calendar month (UTC). Empty: no limit."),
  ];
  const collect = () => {
    const payload = {
      base_url: baseUrl.value.trim() || null,
      paused: paused.checked ? true : null,
      calls_per_minute: numberOrNull(perMinute),
      tokens_per_month: numberOrNull(perMonth),
    };
    if (key.value.trim()) payload.api_key = key.value.trim();
    if (clear.checked) payload.clear_api_key = true;
    return payload;
  };
  return { fields, collect };
}

function settingsForm(settings, body) {
  const problem = h("div");
  const provider = providerFields(settings, "account");
  const model = h("input", { type: "text", value: settings.model || "", placeholder: "the installation's model" });
  const temperature = h("input", { type: "number", min: 0, max: 2, step: 0.1, value: settings.temperature ?? "" });
  const prompt = h("textarea", { rows: 4 });
  prompt.value = settings.system_prompt || "";
  return h("form", {
    class: "form",
    "aria-label": "The account's AI settings",
    onsubmit: async (event) => {
      event.preventDefault();
      const payload = { ...provider.collect(), model: model.value.trim() || null,
        temperature: numberOrNull(temperature), system_prompt: prompt.value.trim() || null };
      try {
        await api("PUT", "/api/ai/settings", payload);
        await aiAndUsage(body, notice("The AI settings are saved.", "ok"));
      } catch (error) {
        mount(problem, notice(error.message, "error"));
      }
    },
  }, h("h2", {}, "The account's AI"), provider.fields, field("Model", model, "Empty: the installation's model."),
  field("Temperature", temperature, "0 to 2. Empty: the provider's default."),
  field("System prompt", prompt, "Empty: the installation's prompt. A channel's own prompt comes first."),
  problem, h("button", { type: "submit", class: "primary" }, "Save AI settings"));
}

function overrides(channels, body) {
  const holder = h("div");
  const choose = h("select", {}, h("option", { value: "" }, "Choose a channel"),
    channels.map((c) => h("option", { value: c.id }, `${c.name} (${CHANNELS[c.kind] || c.kind})`)));
  choose.addEventListener("change", async () => {
    if (!choose.value) return mount(holder);
    const id = choose.value;
    const settings = await api("GET", `/api/channels/${id}/ai-settings`);
    const provider = providerFields(settings, `channel-${id}`);
    const problem = h("div");
    mount(holder, h("form", {
      class: "form",
      "aria-label": "The channel's AI overrides",
      onsubmit: async (event) => {
        event.preventDefault();
        try {
          await api("PUT", `/api/channels/${id}/ai-settings`, provider.collect());
          await aiAndUsage(body, notice("The channel's AI overrides are saved.", "ok"));
        } catch (error) {
          mount(problem, notice(error.message, "error"));
        }
      },
    }, provider.fields, h("small", { class: "hint" }, "The channel's model and prompt are set in Channels."),
    problem, h("button", { type: "submit", class: "primary" }, "Save overrides")));
  });
  return h("section", { class: "form" }, h("h2", {}, "A channel's own AI"),
    field("Channel", choose, "Empty fields inherit the account's settings."), holder);
}

function budgetSummary(budget) {
  const used = budget.tokens_used;
  const resets = new Date(budget.resets_at).toLocaleDateString();
  if (budget.tokens_per_month === null) {
    return h("section", { class: "budget" }, h("h2", {}, "Budget"),
      h("p", {}, `${used.toLocaleString()} tokens used this month; no monthly limit.`),
      budget.paused ? notice("The AI is paused.", "warn") : null);
  }
  const meter = h("meter", { id: "budget-meter", min: 0, max: budget.tokens_per_month, value: Math.min(used, budget.tokens_per_month),
    high: budget.tokens_per_month * 0.8, optimum: 0 });
  return h("section", { class: "budget" }, h("h2", {}, "Budget"),
    h("label", { for: meter.id }, `${budget.tokens_left.toLocaleString()} of ${budget.tokens_per_month.toLocaleString()} tokens left this month (resets ${resets})`),
    meter, budget.tokens_left === 0 ? notice("The budget is used up: chats go to people until it resets.", "warn") : null,
    budget.paused ? notice("The AI is paused.", "warn") : null);
}

function usageByDay(usage) {
  const rows = usage.rows;
  const tokens = (r) => r.prompt_tokens + r.completion_tokens;
  const most = Math.max(1, ...rows.map(tokens));
  const t = usage.totals;
  return h("section", {}, h("h2", {}, "Usage this month"),
    h("p", {}, `${t.calls} calls, ${t.failures} failed, ${(t.prompt_tokens + t.completion_tokens).toLocaleString()} tokens, ${t.avg_latency_ms} ms on average.`),
    rows.length === 0 ? h("p", { class: "muted" }, "No AI calls this month yet.") : h("table", { class: "table usage" },
      h("caption", {}, "Tokens per day (UTC)"),
      h("thead", {}, h("tr", {}, ["Day", "Calls", "Tokens", "Chart"].map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, rows.map((r) => h("tr", {},
        h("td", {}, r.key), h("td", {}, String(r.calls)), h("td", {}, tokens(r).toLocaleString()),
        h("td", {}, h("meter", { min: 0, max: most, value: tokens(r), "aria-label": `${tokens(r)} tokens on ${r.key}` })))))));
}
