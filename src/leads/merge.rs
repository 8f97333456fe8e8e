//! Merging an imported row into the lead it matches: nothing the business wrote is dropped
//! (notes are appended, the first value given of any other field is kept), and what changed is
//! said in words for the import's report.

use std::collections::BTreeMap;

use crate::model::normalize_phone;
use crate::store::imported_leads::{ImportedLead, LeadMerge, Link};
use crate::store::leads::{names, LeadRow};

/// Longest notes a merge makes (a person's edit is held to `MAX_NOTES` as well).
pub const MAX_NOTES: usize = crate::model::MAX_LEAD_NOTES;

/// What merging a row does to a lead: the changes to store and, in words, what changed.
#[derive(Debug, Clone, PartialEq)]
pub struct Merged {
    /// The fields to set.
    pub set: LeadMerge,
    /// What changed (and what the row said that was not taken), for the report.
    pub changes: Vec<String>,
}

impl Merged {
    /// The row's outcome as the report says it.
    pub fn outcome(&self, lead_id: i64) -> String {
        let changes = if self.changes.is_empty() {
            "nothing new".to_string()
        } else {
            self.changes.join(", ")
        };
        format!("merged into lead {lead_id}: {changes}")
    }
}

/// Merges `row` into `lead`; `link` is the customer found for the row.
pub fn merge(lead: &LeadRow, row: &ImportedLead, link: Option<Link>) -> Merged {
    let mut set = LeadMerge::default();
    let mut changes = Vec::new();
    let texts = [
        ("name", &lead.name, &row.name, &mut set.name),
        ("email", &lead.email, &row.email, &mut set.email),
        ("phone", &lead.phone, &row.phone, &mut set.phone),
        ("company", &lead.company, &row.company, &mut set.company),
        ("channel", &lead.channel, &row.channel, &mut set.channel),
        ("intent", &lead.intent, &row.intent, &mut set.intent),
        ("summary", &lead.summary, &row.summary, &mut set.summary),
    ];
    for (label, had, given, into) in texts {
        match (had, given) {
            (None, Some(given)) => {
                *into = Some(given.clone());
                changes.push(format!("{label} added"));
            }
            (Some(had), Some(given)) if !same(label, had, given) => {
                changes.push(format!("{label} '{had}' kept (the row had '{given}')"));
            }
            _ => {}
        }
    }
    status(lead, row, &mut set, &mut changes);
    notes(lead, row, &mut set, &mut changes);
    if let Some(at) = row.last_contact_at {
        if lead.last_contact_at.is_none_or(|had| had < at) {
            set.last_contact_at = Some(at);
            changes.push(format!("last contact set to {}", at.date()));
        }
    }
    extra(lead, row, &mut set, &mut changes);
    if let (None, Some(link)) = (lead.contact_id, link) {
        set.contact_id = Some(link.contact_id);
        set.chat_id = lead.chat_id.is_none().then_some(link.chat_id);
        changes.push(format!("linked to the customer's chat {}", link.chat_id));
    }
    Merged { set, changes }
}

/// Whether two values of a field say the same (case aside; phones by their digits).
fn same(label: &str, had: &str, given: &str) -> bool {
    if label == "phone" {
        return normalize_phone(had) == normalize_phone(given);
    }
    had.eq_ignore_ascii_case(given)
}

/// A row's status is taken when the lead's is only the default (`new`) or the analysis's:
/// what the business wrote comes first.
fn status(lead: &LeadRow, row: &ImportedLead, set: &mut LeadMerge, changes: &mut Vec<String>) {
    if lead.source_status.is_none() {
        if let Some(word) = &row.source_status {
            set.source_status = Some(word.clone());
        }
    }
    let Some(given) = row.status.as_deref() else {
        return;
    };
    if given == lead.status {
        return;
    }
    let from_model = names(lead.ai_fields.as_deref()).contains(&"status");
    if lead.status == "new" || from_model {
        set.status = Some(given.to_string());
        if from_model {
            let kept: Vec<&str> = names(lead.ai_fields.as_deref())
                .into_iter()
                .filter(|f| *f != "status")
                .collect();
            set.ai_fields = Some((!kept.is_empty()).then(|| kept.join(",")));
            set.status_reason = Some(None);
        }
        changes.push(format!("status set to {given}"));
    } else {
        changes.push(format!(
            "status '{}' kept (the row had '{given}')",
            lead.status
        ));
    }
}

fn notes(lead: &LeadRow, row: &ImportedLead, set: &mut LeadMerge, changes: &mut Vec<String>) {
    let Some(given) = row.notes.as_deref() else {
        return;
    };
    match lead.notes.as_deref() {
        None => {
            set.notes = Some(given.to_string());
            changes.push("notes added".into());
        }
        Some(had) if had.contains(given) => {}
        Some(had) => {
            let joined = format!("{had}\n\n{given}");
            if joined.chars().count() > MAX_NOTES {
                changes.push(format!(
                    "notes not appended: the lead's notes would pass {MAX_NOTES} characters \
                     (the row had '{given}')"
                ));
            } else {
                set.notes = Some(joined);
                changes.push("notes appended".into());
            }
        }
    }
}

fn extra(lead: &LeadRow, row: &ImportedLead, set: &mut LeadMerge, changes: &mut Vec<String>) {
    let Some(given) = row.extra.as_deref() else {
        return;
    };
    let parse = |text: Option<&str>| -> BTreeMap<String, String> {
        text.and_then(|t| serde_json::from_str(t).ok())
            .unwrap_or_default()
    };
    let mut had = parse(lead.extra.as_deref());
    let mut added = Vec::new();
    for (key, value) in parse(Some(given)) {
        if let std::collections::btree_map::Entry::Vacant(slot) = had.entry(key) {
            added.push(slot.key().clone());
            slot.insert(value);
        }
    }
    if !added.is_empty() {
        set.extra = serde_json::to_string(&had).ok();
        changes.push(format!("{} added", added.join(", ")));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lead() -> LeadRow {
        LeadRow::sample()
    }

    #[test]
    fn a_duplicate_row_adds_and_appends_and_never_replaces() {
        let row = ImportedLead {
            name: Some("ANA S.".into()),
            email: Some("ana@example.com".into()),
            phone: Some("+5511912345678".into()),
            status: Some("won".into()),
            notes: Some("Second visit".into()),
            extra: Some(r#"{"language":"en","size":"L"}"#.into()),
            ..ImportedLead::default()
        };
        let merged = merge(&lead(), &row, None);
        assert_eq!(merged.set.name, None, "the first name stays");
        assert_eq!(merged.set.phone.as_deref(), Some("+5511912345678"));
        assert_eq!(
            merged.set.notes.as_deref(),
            Some("Asked for a sofa quote\n\nSecond visit")
        );
        assert_eq!(merged.set.status, None, "contacted was the business's word");
        assert_eq!(
            merged.set.extra.as_deref(),
            Some(r#"{"language":"pt","size":"L"}"#)
        );
        assert_eq!(
            merged.outcome(7),
            "merged into lead 7: name 'Ana Souza' kept (the row had 'ANA S.'), phone added, \
             status 'contacted' kept (the row had 'won'), notes appended, size added"
        );
        let again = merge(
            &LeadRow {
                notes: merged.set.notes.clone(),
                ..lead()
            },
            &ImportedLead {
                notes: Some("Second visit".into()),
                ..ImportedLead::default()
            },
            None,
        );
        assert_eq!(again.outcome(7), "merged into lead 7: nothing new");
    }

    #[test]
    fn a_row_status_replaces_only_the_default_or_the_models() {
        let row = ImportedLead {
            status: Some("won".into()),
            ..ImportedLead::default()
        };
        let fresh = LeadRow {
            status: "new".into(),
            ..lead()
        };
        assert_eq!(merge(&fresh, &row, None).set.status.as_deref(), Some("won"));
        let by_model = LeadRow {
            status: "qualified".into(),
            ai_fields: Some("status,needs_action".into()),
            status_reason: Some("They asked for a contract".into()),
            ..lead()
        };
        let merged = merge(&by_model, &row, None);
        assert_eq!(merged.set.status.as_deref(), Some("won"));
        assert_eq!(merged.set.ai_fields, Some(Some("needs_action".into())));
        assert_eq!(merged.set.status_reason, Some(None));
    }
}
