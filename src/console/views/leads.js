// Leads: who wants something, filtered by status and text; where the team stands with each
// (status, notes), and a CSV export of what is listed.

import { api, session } from "../api.js";
import { ago, field, h, mount } from "../dom.js";

const STATUSES = ["new", "contacted", "qualified", "won", "lost"];

function title(status) {
  return status[0].toUpperCase() + status.slice(1);
}

/** Draws the leads page into `view`. */
export function leads(view) {
  const message = h("div", { "aria-live": "polite" });
  const status = h("select", { onchange: () => load() },
    h("option", { value: "" }, "Any status"), STATUSES.map((s) => h("option", { value: s }, title(s))));
  const text = h("input", { type: "search", maxlength: 200, placeholder: "Name, email or phone" });
  const filters = h("form", { class: "form inline-form", role: "search", onsubmit: (event) => { event.preventDefault(); load(); } },
    field("Status", status), field("Find", text), h("button", { type: "submit" }, "Filter"),
    h("button", { type: "button", onclick: () => download() }, "Export CSV"));
  const body = h("tbody");
  const more = h("button", { type: "button", hidden: true }, "Load more");
  mount(view, h("main", { class: "page" }, h("h1", {}, "Leads"), filters, message,
    h("table", { class: "table" }, h("caption", { class: "visually-hidden" }, "Leads"),
      h("thead", {}, h("tr", {}, ["Lead", "Wants", "Status", "Notes", "Captured"].map((t) => h("th", { scope: "col" }, t)))),
      body),
    more));

  function query(cursor) {
    const params = new URLSearchParams();
    if (status.value) params.set("status", status.value);
    if (text.value.trim()) params.set("q", text.value.trim());
    if (cursor) params.set("cursor", cursor);
    return params.toString();
  }

  async function save(lead, change, done) {
    try {
      await api("PATCH", `/api/leads/${lead.id}`, change);
      mount(message, h("p", { class: "notice ok", role: "status" }, `Saved ${lead.name || lead.email || "the lead"}.`));
      done?.();
    } catch (error) {
      mount(message, h("p", { class: "notice error", role: "alert" }, error.message));
    }
  }

  function row(lead) {
    const who = lead.name || lead.email || lead.phone || "Unknown";
    const picker = h("select", {
      "aria-label": `Status of ${who}`,
      onchange: (event) => save(lead, { status: event.target.value }),
    }, STATUSES.map((s) => h("option", { value: s }, title(s))));
    picker.value = lead.status;
    const notes = h("textarea", { rows: 2, maxlength: 4000, "aria-label": `Notes on ${who}` });
    notes.value = lead.notes || "";
    return h("tr", {},
      h("th", { scope: "row" }, who, h("br"), h("small", {}, [lead.email, lead.phone].filter(Boolean).join(" · ")),
        lead.chat_id ? [h("br"), h("a", { href: `#/chats/${lead.chat_id}` }, "Open the chat")] : [],
        lead.next_action_description ? [h("br"), h("small", {}, `Next: ${lead.next_action_description}`)] : []),
      h("td", {}, [lead.intent, lead.summary].filter(Boolean).join(": ")),
      h("td", {}, picker),
      h("td", {}, notes, h("button", { type: "button", "aria-label": `Save notes on ${who}`, onclick: () => save(lead, { notes: notes.value }) }, "Save notes")),
      h("td", {}, h("time", { datetime: lead.created_at }, ago(lead.created_at))));
  }

  async function load(cursor) {
    try {
      const page = await api("GET", `/api/leads?${query(cursor)}`);
      if (!cursor) mount(body);
      body.append(...page.leads.map(row));
      if (!body.children.length) mount(body, h("tr", {}, h("td", { colspan: 5 }, "No leads match.")));
      more.hidden = !page.next_cursor;
      more.onclick = () => load(page.next_cursor);
    } catch (error) {
      mount(message, h("p", { class: "notice error", role: "alert" }, `Could not load: ${error.message}`));
    }
  }

  async function download() {
    const response = await fetch(`/api/leads/export?${query()}`, { headers: { Authorization: `Bearer ${session.token}` } });
    if (!response.ok) {
      mount(message, h("p", { class: "notice error", role: "alert" }, `The export failed (${response.status}).`));
      return;
    }
    const link = h("a", { href: URL.createObjectURL(await response.blob()), download: "leads.csv" });
    link.click();
    setTimeout(() => URL.revokeObjectURL(link.href), 10000);
  }

  load();
  return { update() {} };
}
