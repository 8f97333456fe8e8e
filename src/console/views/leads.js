// Leads: who wants something, filtered by status, needed action and text; where the team stands
// with each (status, notes, the analysis's next action, an "AI" mark on what the model set, the
// file's own status word, the customer's chat), follow-up drafts, a CSV export of what is listed,
// and, for supervisors and admins, importing a file (with a mapping of the file's status words)
// with its progress, merged and turned-away rows, and its AI analysis apart.

import { api, session, upload } from "../api.js";
import { ago, field, h, mount } from "../dom.js";
import { isSupervisor } from "../state.js";

const STATUSES = ["new", "contacted", "qualified", "won", "lost"];

function title(status) {
  return status[0].toUpperCase() + status.slice(1);
}

/** "3 Dec", or "" without a date. */
function date(iso) {
  return iso ? new Date(iso).toLocaleDateString([], { day: "numeric", month: "short", year: "numeric" }) : "";
}

/** Whether the AI analysis set `name` of `lead`. */
function fromModel(lead, name) {
  return (lead.ai_fields || []).includes(name);
}

/** The small "AI" mark beside a value the model set; `why` says more to whoever asks. */
function aiMark(what, why) {
  return h("span", { class: "ai-mark", title: why || `${what} set by the AI analysis` },
    h("span", { "aria-hidden": "true" }, "AI"), h("span", { class: "visually-hidden" }, `${what} set by the AI analysis`));
}

/** What the analysis says is next for `lead`, in words. */
function nextAction(lead) {
  if (lead.analysis_state === "failed") return h("span", { class: "bad" }, `Analysis failed: ${lead.analysis_error}`);
  if (lead.analysis_state === "pending") return h("span", { class: "muted" }, "Being analysed");
  const mark = fromModel(lead, "needs_action") ? [" ", aiMark("Next action")] : [];
  if (lead.needs_action) {
    return [h("strong", { class: "needs-action" }, "Needs action"), " ",
      lead.next_action_at ? `by ${date(lead.next_action_at)}: ` : "", lead.next_action_description || "", mark];
  }
  if (lead.needs_action === false) return [h("span", { class: "muted" }, "Nothing to do"), mark];
  return "";
}

/** Reads "word = status" lines into a status map; throws with the line that is wrong. */
function statusMap(text) {
  const map = {};
  for (const [index, raw] of text.split("\n").entries()) {
    const line = raw.trim();
    if (!line) continue;
    const parts = line.split(/\s*(?:=|→|->)\s*/);
    const status = (parts[1] || "").toLowerCase();
    if (parts.length !== 2 || !parts[0] || !STATUSES.includes(status)) {
      throw new Error(`Line ${index + 1} of the status words: write it as “offen = new” (new, contacted, qualified, won or lost).`);
    }
    map[parts[0]] = status;
  }
  return map;
}

/** What the import's AI analysis is doing, in words. */
function analysisLine(at) {
  if (at.analysis === "skipped") return h("p", { class: "notice" }, `AI analysis skipped: ${at.analysis_skipped}.`);
  const failed = at.analysis_failed ? ` (${at.analysis_failed} failed)` : "";
  const counts = `${at.analysed} analysed${failed}, ${at.needing_action} need action, ${at.without_last_contact} without a last contact.`;
  if (at.analysis === "running") return h("p", { class: "notice" }, `AI analysis running: ${counts}`);
  return h("p", { class: "notice ok" }, `AI analysis done: ${counts}`);
}

/** The import panel: a file, an Import button, then the import's progress and turned-away rows;
 * `imported` is called once it is done. */
function importer(imported) {
  const file = h("input", { type: "file", accept: ".csv,text/csv,.json,application/json", required: true });
  const words = h("textarea", { rows: 2, placeholder: "offen = new\nin progress = contacted" });
  const progress = h("div", { class: "import-progress", role: "status", "aria-live": "polite" });
  const recent = h("div", { class: "recent-imports" });
  const form = h("form", { class: "form inline-form", onsubmit: (event) => { event.preventDefault(); send(); } },
    field("Leads file (CSV or JSON)", file, "A header row; columns name, email, phone, company, channel, status, notes, last_contact (an export has them all)."),
    field("Status words of your file (optional)", words, "One a line: your word = new, contacted, qualified, won or lost. Other words become new; the word is kept."),
    h("button", { type: "submit" }, "Import"));
  const panel = h("section", { class: "import", "aria-labelledby": "import-heading" },
    h("h2", { id: "import-heading" }, "Import leads"), form, progress, recent);
  let following = null;

  async function send() {
    const chosen = file.files[0];
    if (!chosen) return;
    const json = chosen.name.toLowerCase().endsWith(".json");
    let map;
    try {
      map = statusMap(words.value);
    } catch (error) {
      mount(progress, h("p", { class: "notice error", role: "alert" }, error.message));
      return;
    }
    const query = Object.keys(map).length ? `?status_map=${encodeURIComponent(JSON.stringify(map))}` : "";
    mount(progress, h("p", {}, `Sending ${chosen.name}…`));
    try {
      const started = await upload(`/api/leads/import${query}`, chosen, json ? "application/json" : "text/csv");
      file.value = "";
      show(started);
      follow(started.id);
      list();
    } catch (error) {
      mount(progress, h("p", { class: "notice error", role: "alert" }, `The import was refused: ${error.message}`));
    }
  }

  /** Shows one import (with its turned-away rows) and, while it runs, keeps it up to date. */
  async function open(id) {
    try {
      const at = await api("GET", `/api/leads/imports/${id}`);
      show(at);
      if (at.status === "running" || at.analysis === "running") follow(id);
    } catch (error) {
      mount(progress, h("p", { class: "notice error", role: "alert" }, error.message));
    }
  }

  async function follow(id) {
    following = id;
    let stored = false;
    for (;;) {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      if (!panel.isConnected || following !== id) return;
      let now;
      try {
        now = await api("GET", `/api/leads/imports/${id}`);
      } catch (error) {
        if (error.status === 404 || error.status === 403) return;
        continue;
      }
      if (following !== id) return;
      show(now);
      if (now.status === "done" && !stored) {
        stored = true;
        imported();
        list();
      }
      if (now.status === "done" && now.analysis !== "running") {
        if (now.analysis === "done") {
          imported();
          list();
        }
        following = null;
        return;
      }
    }
  }

  function show(at) {
    const stored = at.imported + at.updated + at.rejected;
    const done = at.status === "done";
    const words = at.status_words || [];
    mount(progress,
      h("p", { class: done ? "notice ok" : "notice" },
        done ? "Import done: " : `Importing: ${stored} of ${at.total_rows} rows read; `,
        `${at.imported} new, ${at.updated} updated, ${at.rejected} rejected.`),
      done ? null : h("progress", { max: Math.max(1, at.total_rows), value: stored, "aria-label": "Rows read" }),
      analysisLine(at),
      words.length
        ? h("details", { open: true }, h("summary", {}, `Status words of the file (${words.length})`),
          h("ul", { class: "status-words" }, words.map((w) => h("li", {},
            `“${w.word}” (${w.rows} ${w.rows === 1 ? "row" : "rows"}): ${w.status}${w.mapped ? ", as you mapped it" : ", not mapped"}`))),
          h("small", { class: "hint" }, "Each lead keeps the file's word. Map a word above and import the file again to change its leads."))
        : null,
      at.merges?.length
        ? h("details", {}, h("summary", {}, `Rows merged into a lead (${at.merges.length})`),
          h("ul", { class: "merges" }, at.merges.map((m) => h("li", {}, `Line ${m.line}: ${m.outcome}`))))
        : null,
      at.rejections.length
        ? h("details", { open: true }, h("summary", {}, `Rows turned away (${at.rejected}${at.rejected > at.rejections.length ? `, the first ${at.rejections.length} listed` : ""})`),
          h("ul", { class: "rejections" }, at.rejections.map((r) => h("li", {}, `Line ${r.line}: ${r.reason}`))))
        : null);
  }

  /** The latest imports, each to open; one still running is followed. */
  async function list() {
    let page;
    try {
      page = await api("GET", "/api/leads/imports?limit=5");
    } catch {
      return;
    }
    if (!page.imports.length) {
      mount(recent);
      return;
    }
    const when = (iso) => new Date(iso).toLocaleString([], { day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" });
    mount(recent, h("h3", {}, "Recent imports"),
      h("ul", { class: "recent" }, page.imports.map((at) => h("li", {},
        `${when(at.created_at)}: ${at.status === "done" ? "done" : "running"}, ${at.imported} new, ${at.updated} updated, ${at.rejected} rejected; AI analysis ${at.analysis} `,
        h("button", { type: "button", class: "link", "aria-label": `Show the import of ${when(at.created_at)}`, onclick: () => open(at.id) }, "Show")))));
    const newest = page.imports[0];
    if ((newest.status === "running" || newest.analysis === "running") && following === null) open(newest.id);
  }

  list();
  return panel;
}

/** Draws the leads page into `view`. */
export function leads(view) {
  const message = h("div", { "aria-live": "polite" });
  const status = h("select", { onchange: () => load() },
    h("option", { value: "" }, "Any status"), STATUSES.map((s) => h("option", { value: s }, title(s))));
  const action = h("select", { onchange: () => load() },
    h("option", { value: "" }, "Any"), h("option", { value: "true" }, "Needs action"), h("option", { value: "false" }, "Nothing to do"));
  const text = h("input", { type: "search", maxlength: 200, placeholder: "Name, email or phone" });
  const filters = h("form", { class: "form inline-form", role: "search", onsubmit: (event) => { event.preventDefault(); load(); } },
    field("Status", status), field("Next action", action), field("Find", text), h("button", { type: "submit" }, "Filter"),
    h("button", { type: "button", onclick: () => download() }, "Export CSV"));
  const body = h("tbody");
  const more = h("button", { type: "button", hidden: true }, "Load more");
  mount(view, h("main", { class: "page" }, h("h1", {}, "Leads"),
    isSupervisor() ? importer(() => load()) : null,
    filters, message,
    h("div", { class: "table-scroll" }, h("table", { class: "table" }, h("caption", { class: "visually-hidden" }, "Leads"),
      h("thead", {}, h("tr", {}, ["Lead", "Wants", "Next action", "Status", "Notes", "Captured"].map((t) => h("th", { scope: "col" }, t)))),
      body)),
    more));

  function query(cursor) {
    const params = new URLSearchParams();
    if (status.value) params.set("status", status.value);
    if (action.value) params.set("needs_action", action.value);
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
    const statusByModel = fromModel(lead, "status");
    const notes = h("textarea", { rows: 2, maxlength: 16000, "aria-label": `Notes on ${who}` });
    notes.value = lead.notes || "";
    const draft = h("div", { class: "draft", "aria-live": "polite" });
    return h("tr", {},
      h("th", { scope: "row" }, who, h("br"), h("small", {}, [lead.company, lead.email, lead.phone].filter(Boolean).join(" · ")),
        lead.chat_id ? [h("br"), h("a", { href: `#/chats/${lead.chat_id}` }, "Open the chat")] : []),
      h("td", {}, [lead.intent, lead.summary].filter(Boolean).join(": ")),
      h("td", {}, nextAction(lead), h("br"),
        h("button", { type: "button", class: "link", "aria-label": `Draft a follow-up for ${who}`, onclick: () => followUp(lead, who, draft) }, "Draft follow-up"),
        draft),
      h("td", {}, picker, statusByModel ? [" ", aiMark("Status", lead.status_reason)] : null,
        statusByModel && lead.status_reason ? h("small", { class: "hint status-reason" }, lead.status_reason) : null,
        lead.source_status ? h("small", { class: "hint source-status" }, `The file said “${lead.source_status}”`) : null),
      h("td", {}, notes, h("button", { type: "button", "aria-label": `Save notes on ${who}`, onclick: () => save(lead, { notes: notes.value }) }, "Save notes")),
      h("td", {}, h("time", { datetime: lead.created_at }, ago(lead.created_at))));
  }

  /** Asks for a follow-up draft for `lead` and shows it to edit and copy: nothing is sent. */
  async function followUp(lead, who, into) {
    mount(into, h("p", { class: "muted" }, "Drafting…"));
    try {
      const { text: drafted } = await api("POST", `/api/leads/${lead.id}/follow-up`);
      const box = h("textarea", { rows: 5, maxlength: 4000, "aria-label": `Follow-up for ${who}` });
      box.value = drafted;
      mount(into, box,
        h("button", { type: "button", onclick: async (event) => {
          await navigator.clipboard?.writeText(box.value).catch(() => {});
          event.target.textContent = "Copied";
        } }, "Copy"),
        h("small", { class: "hint" }, " Nothing is sent: copy it into a chat or your mail."));
    } catch (error) {
      mount(into, h("p", { class: "notice error", role: "alert" }, `No draft: ${error.message}`));
    }
  }

  async function load(cursor) {
    try {
      const page = await api("GET", `/api/leads?${query(cursor)}`);
      if (!cursor) mount(body);
      body.append(...page.leads.map(row));
      if (!body.children.length) mount(body, h("tr", {}, h("td", { colspan: 6 }, "No leads match.")));
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
