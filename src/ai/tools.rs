//! The tools the model may call, their JSON schemas, and checking the arguments it sends.

use serde::Deserialize;
use serde_json::{json, Value};

use crate::model::Lead;

/// A tool call the responder can carry out.
#[derive(Debug, Clone, PartialEq)]
pub enum Tool {
    /// Hand the chat to a person.
    Handoff {
        /// Why, in the model's words.
        reason: String,
    },
    /// Store a lead for the chat's contact.
    CaptureLead(Lead),
}

/// The tool definitions sent with every request.
pub fn definitions() -> Vec<Value> {
    vec![
        json!({"type": "function", "function": {
            "name": "handoff_to_human",
            "description": "Hand the conversation to a human agent. Use when you cannot help, when the customer asks for a person, or when a human decision is needed.",
            "parameters": {"type": "object", "properties": {
                "reason": {"type": "string", "description": "Why a human is needed, in one sentence."}
            }, "required": ["reason"]}
        }}),
        json!({"type": "function", "function": {
            "name": "capture_lead",
            "description": "Record the customer as a sales lead once they have shared an email address or a phone number.",
            "parameters": {"type": "object", "properties": {
                "name": {"type": "string"},
                "email": {"type": "string", "description": "Email address."},
                "phone": {"type": "string", "description": "Phone number, international format preferred."},
                "intent": {"type": "string", "description": "What the customer wants."},
                "summary": {"type": "string", "description": "One or two sentences about the request."}
            }, "required": []}
        }}),
    ]
}

fn trimmed(value: Option<String>, field: &str, max: usize) -> Result<Option<String>, String> {
    match value
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
    {
        Some(v) if v.chars().count() > max => {
            Err(format!("{field} is longer than {max} characters"))
        }
        other => Ok(other),
    }
}

/// Reads a tool call; an unknown tool or bad arguments are an error text for the model.
pub fn parse(name: &str, arguments: &str) -> Result<Tool, String> {
    let arguments = if arguments.trim().is_empty() {
        "{}"
    } else {
        arguments
    };
    match name {
        "handoff_to_human" => {
            #[derive(Deserialize)]
            struct Args {
                #[serde(default)]
                reason: Option<String>,
            }
            let args: Args = serde_json::from_str(arguments)
                .map_err(|e| format!("arguments are not valid JSON for handoff_to_human: {e}"))?;
            let reason = trimmed(args.reason, "reason", 500)?
                .unwrap_or_else(|| "The assistant asked for a human.".to_string());
            Ok(Tool::Handoff { reason })
        }
        "capture_lead" => {
            let lead: Lead = serde_json::from_str(arguments)
                .map_err(|e| format!("arguments are not valid JSON for capture_lead: {e}"))?;
            let lead = Lead {
                name: trimmed(lead.name, "name", 200)?,
                email: trimmed(lead.email, "email", 254)?.map(|e| e.to_lowercase()),
                phone: trimmed(lead.phone, "phone", 40)?,
                intent: trimmed(lead.intent, "intent", 200)?,
                summary: trimmed(lead.summary, "summary", 2_000)?,
            };
            if lead.email.is_none() && lead.phone.is_none() {
                return Err("a lead needs an email address or a phone number".into());
            }
            if lead
                .email
                .as_deref()
                .is_some_and(|e| !crate::model::looks_like_email(e))
            {
                return Err("email is not a valid email address".into());
            }
            if lead
                .phone
                .as_deref()
                .is_some_and(|p| !crate::model::looks_like_phone(p))
            {
                return Err("phone is not a valid phone number".into());
            }
            Ok(Tool::CaptureLead(lead))
        }
        other => Err(format!(
            "unknown tool '{other}'; the tools are handoff_to_human and capture_lead"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leads_are_checked() {
        let ok = parse(
            "capture_lead",
            r#"{"name":" Ana ","email":"Ana@Example.com","intent":"buy"}"#,
        )
        .unwrap();
        let Tool::CaptureLead(lead) = ok else {
            panic!("not a lead")
        };
        assert_eq!(lead.name.as_deref(), Some("Ana"));
        assert_eq!(lead.email.as_deref(), Some("ana@example.com"));
        assert!(parse("capture_lead", r#"{"name":"Ana"}"#)
            .unwrap_err()
            .contains("email"));
        assert!(parse("capture_lead", r#"{"email":"not-an-email"}"#).is_err());
        assert!(parse("capture_lead", r#"{"phone":"12"}"#).is_err());
        assert!(parse("capture_lead", r#"{"phone":"+44 20 7946 0958"}"#).is_ok());
        assert!(parse("capture_lead", "not json").is_err());
    }

    #[test]
    fn unknown_tools_and_handoffs() {
        assert!(parse("delete_everything", "{}")
            .unwrap_err()
            .contains("unknown tool"));
        assert_eq!(
            parse("handoff_to_human", r#"{"reason":"refund"}"#).unwrap(),
            Tool::Handoff {
                reason: "refund".into()
            }
        );
        assert!(matches!(
            parse("handoff_to_human", ""),
            Ok(Tool::Handoff { .. })
        ));
    }
}
