//! The AI side of the hub: the OpenAI-compatible provider's client, the responder's tools,
//! suggestions for agents, and the conversation a model is given.

pub mod assist;
pub mod budget;
pub mod client;
pub mod settings;
pub mod tools;
pub mod usage;

use crate::model::Direction;
use crate::store::messages::Message;
use client::ChatMessage;

/// Rough token count of a text (about four characters a token).
fn tokens(text: &str) -> usize {
    text.chars().count() / 4 + 1
}

/// The conversation for the model: the system prompt, then as much recent history as fits
/// the budget (oldest dropped first).
pub fn conversation(prompt: &str, history: &[Message], budget: usize) -> Vec<ChatMessage> {
    let mut kept = Vec::new();
    let mut used = tokens(prompt);
    for message in history.iter().rev() {
        let Some(text) = message.text.as_deref().filter(|t| !t.is_empty()) else {
            continue;
        };
        let cost = tokens(text);
        if used + cost > budget && !kept.is_empty() {
            break;
        }
        used += cost;
        let role = if message.direction == Direction::Inbound {
            "user"
        } else {
            "assistant"
        };
        kept.push(ChatMessage::text(role, text));
    }
    kept.push(ChatMessage::text("system", prompt));
    kept.reverse();
    kept
}
