//! The audit log in words: each entry as a sentence naming the people involved, as an admin
//! reads it ("Ana assigned chat #12 to Ben").

use std::collections::HashMap;

use serde::Serialize;
use serde_json::Value;

use crate::store::audit::AuditEntry;
use crate::store::connection::DbConnection;

/// An audit entry with who did it by name and what happened as a sentence.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AuditView {
    /// The entry as recorded.
    #[serde(flatten)]
    pub entry: AuditEntry,
    /// The name of who did it, when known and still a user.
    pub actor_name: Option<String>,
    /// What happened, in one sentence with names, e.g. "Ana assigned chat #12 to Ben".
    pub summary: String,
}

/// The newest entries of an account in words, older than `before` when given: one query for
/// the page, one for the names.
pub fn list(
    conn: &mut DbConnection,
    account_id: i64,
    before: Option<i64>,
    limit: i64,
) -> diesel::QueryResult<Vec<AuditView>> {
    let entries = crate::store::audit::list(conn, account_id, before, limit)?;
    let names: HashMap<i64, String> = crate::store::users::list(conn, account_id)?
        .into_iter()
        .map(|u| (u.id, u.name))
        .collect();
    Ok(entries
        .into_iter()
        .map(|entry| AuditView {
            actor_name: entry.actor_user_id.and_then(|id| names.get(&id).cloned()),
            summary: describe(&entry, &names),
            entry,
        })
        .collect())
}

/// One entry as a sentence; `names` are the account's users by id.
pub fn describe(entry: &AuditEntry, names: &HashMap<i64, String>) -> String {
    let sentence = sentence(entry, names);
    let mut chars = sentence.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => sentence,
    }
}

fn sentence(entry: &AuditEntry, names: &HashMap<i64, String>) -> String {
    let details: Value = entry
        .details
        .as_deref()
        .and_then(|d| serde_json::from_str(d).ok())
        .unwrap_or(Value::Null);
    let person = |id: Option<i64>| match id {
        Some(id) => names
            .get(&id)
            .cloned()
            .unwrap_or_else(|| format!("a removed user (#{id})")),
        None => "Someone".to_string(),
    };
    let actor = person(entry.actor_user_id);
    let target_user = entry
        .target_id
        .as_deref()
        .and_then(|t| t.parse::<i64>().ok());
    let target = || {
        if target_user.is_some() && target_user == entry.actor_user_id {
            "their own".to_string()
        } else {
            format!("{}'s", person(target_user))
        }
    };
    let chat = entry.target_id.as_deref().unwrap_or("?");
    let text = |key: &str| details[key].as_str().unwrap_or_default().to_string();
    match entry.action.as_str() {
        "login.succeeded" => format!("{actor} signed in"),
        "login.failed" => format!(
            "A sign-in as {} failed: wrong password",
            target_user
                .and_then(|id| names.get(&id).cloned())
                .unwrap_or_else(|| text("email"))
        ),
        "user.created" => format!(
            "{actor} added {} as {}",
            person(target_user),
            with_article(details["role"].as_str().unwrap_or("a user"))
        ),
        "user.updated" => {
            let fields: Vec<&str> = details["fields"]
                .as_array()
                .map(|f| {
                    f.iter()
                        .filter_map(Value::as_str)
                        .map(field_words)
                        .collect()
                })
                .unwrap_or_default();
            format!("{actor} changed {} {}", target(), listed(&fields))
        }
        "user.deleted" => format!("{actor} deleted the user {}", text("email")),
        "user.invited" => format!(
            "{actor} sent {} a new invitation; the earlier link no longer works",
            person(target_user)
        ),
        "user.password_changed" => format!(
            "{actor} changed their password{}",
            signed_out(&details["sessions_revoked"])
        ),
        "password.reset" => format!(
            "{actor} chose a new password through a mailed link{}",
            signed_out(&details["sessions_revoked"])
        ),
        "chat.assigned" => {
            let from = details["from"].as_i64();
            match details["to"].as_i64() {
                None => format!("{actor} put chat #{chat} back in the queue"),
                Some(to) if Some(to) == entry.actor_user_id && from.is_none() => {
                    format!("{actor} took chat #{chat} from the queue")
                }
                Some(to) if Some(to) == entry.actor_user_id => {
                    format!("{actor} took chat #{chat} over from {}", person(from))
                }
                Some(to) => format!("{actor} assigned chat #{chat} to {}", person(Some(to))),
            }
        }
        "api_key.created" => format!(
            "{actor} created the API key \"{}\" (#{chat}) with {}",
            text("name"),
            text("scopes").replace(' ', ", ")
        ),
        "api_key.revoked" => format!("{actor} revoked the API key \"{}\" (#{chat})", text("name")),
        "api_key.used" => format!(
            "API key #{chat}, acting for {actor}, called {} {}",
            text("method"),
            text("path")
        ),
        "ai_settings.updated" => {
            let whose = match details["channel_id"].as_i64() {
                Some(channel) => format!("channel #{channel}'s"),
                None => "the account's".to_string(),
            };
            let key = if details["key_changed"] == Value::Bool(true) {
                ", with a new key"
            } else {
                ""
            };
            format!("{actor} changed {whose} AI settings{key}")
        }
        "account.updated" => format!("{actor} changed the business's settings"),
        "store.rejected" => {
            let what = if entry.target_type.as_deref() == Some("message") {
                "A customer's message".to_string()
            } else {
                format!("A change ({})", text("command").replace('_', " "))
            };
            format!("{what} could not be stored: {}", text("reason"))
        }
        other => {
            let on = match (&entry.target_type, &entry.target_id) {
                (Some(kind), Some(id)) => format!(" ({kind} #{id})"),
                (Some(kind), None) => format!(" ({kind})"),
                _ => String::new(),
            };
            format!("{actor}: {}{on}", other.replace(['.', '_'], " "))
        }
    }
}

fn with_article(role: &str) -> String {
    match role {
        "admin" => "an admin".to_string(),
        "agent" => "an agent".to_string(),
        other => format!("a {other}"),
    }
}

fn field_words(field: &str) -> &str {
    match field {
        "is_active" => "active state",
        "can_receive_new_chats" => "new-chat setting",
        "max_open_chats" => "capacity",
        other => other,
    }
}

/// "a", "a and b", "a, b and c".
fn listed(items: &[&str]) -> String {
    match items {
        [] => "details".to_string(),
        [one] => (*one).to_string(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

fn signed_out(count: &Value) -> String {
    match count.as_i64() {
        Some(1) => "; 1 other session was signed out".to_string(),
        Some(n) if n > 1 => format!("; {n} other sessions were signed out"),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(actor: Option<i64>, action: &str, target: Option<&str>, details: &str) -> AuditEntry {
        AuditEntry {
            id: 1,
            account_id: 1,
            actor_user_id: actor,
            action: action.to_string(),
            target_type: target.map(|_| "user".to_string()),
            target_id: target.map(str::to_string),
            ip: Some("127.0.0.1".into()),
            details: (!details.is_empty()).then(|| details.to_string()),
            created_at: chrono::Utc::now().naive_utc(),
        }
    }

    #[test]
    fn entries_read_as_sentences_with_names() {
        let names = HashMap::from([(1, "Ana".to_string()), (2, "Ben".to_string())]);
        let cases = [
            (
                entry(Some(1), "login.succeeded", Some("9f3a"), ""),
                "Ana signed in",
            ),
            (
                entry(
                    Some(1),
                    "chat.assigned",
                    Some("12"),
                    r#"{"from":null,"to":2}"#,
                ),
                "Ana assigned chat #12 to Ben",
            ),
            (
                entry(
                    Some(1),
                    "chat.assigned",
                    Some("12"),
                    r#"{"from":2,"to":null}"#,
                ),
                "Ana put chat #12 back in the queue",
            ),
            (
                entry(
                    Some(2),
                    "chat.assigned",
                    Some("12"),
                    r#"{"from":null,"to":2}"#,
                ),
                "Ben took chat #12 from the queue",
            ),
            (
                entry(
                    Some(1),
                    "user.updated",
                    Some("2"),
                    r#"{"fields":["role","max_open_chats"]}"#,
                ),
                "Ana changed Ben's role and capacity",
            ),
            (
                entry(Some(1), "user.created", Some("2"), r#"{"role":"agent"}"#),
                "Ana added Ben as an agent",
            ),
            (
                entry(
                    Some(2),
                    "user.password_changed",
                    Some("2"),
                    r#"{"sessions_revoked":2}"#,
                ),
                "Ben changed their password; 2 other sessions were signed out",
            ),
            (
                entry(None, "login.failed", Some("2"), r#"{"email":"ben@x.test"}"#),
                "A sign-in as Ben failed: wrong password",
            ),
            (
                entry(
                    Some(7),
                    "user.deleted",
                    Some("7"),
                    r#"{"email":"old@x.test"}"#,
                ),
                "A removed user (#7) deleted the user old@x.test",
            ),
        ];
        for (entry, sentence) in cases {
            assert_eq!(describe(&entry, &names), sentence);
        }
    }

    #[test]
    fn api_keys_read_as_what_the_key_did_for_whom() {
        let names = HashMap::from([(1, "Ana".to_string())]);
        let created = entry(
            Some(1),
            "api_key.created",
            Some("4"),
            r#"{"name":"CRM","scopes":"chats:read chats:write"}"#,
        );
        assert_eq!(
            describe(&created, &names),
            "Ana created the API key \"CRM\" (#4) with chats:read, chats:write"
        );
        let used = entry(
            Some(1),
            "api_key.used",
            Some("4"),
            r#"{"method":"POST","path":"/api/chats/7/messages"}"#,
        );
        assert_eq!(
            describe(&used, &names),
            "API key #4, acting for Ana, called POST /api/chats/7/messages"
        );
    }

    #[test]
    fn an_action_without_its_own_sentence_still_reads_as_words() {
        let names = HashMap::from([(1, "Ana".to_string())]);
        let e = entry(Some(1), "channel.page_token_checked", Some("3"), "");
        assert_eq!(
            describe(&e, &names),
            "Ana: channel page token checked (user #3)"
        );
    }
}
