//! Where every command starts: the rule that applies it, inside the group's transaction.

use diesel::QueryResult;

use super::inbound;
use super::lock::GroupLock;
use super::record::Recorder;
use super::rule::{Rule, Stop};
use crate::model::{Command, InboundMessage, Outcome};
use crate::store::connection::DbConnection;

/// Applies a group's commands in order inside its transaction, with the outcome `apply` gives
/// each; a run of consecutive channel messages is stored together, with a few statements for
/// the whole run.
pub fn apply_all<'a>(
    conn: &mut DbConnection,
    commands: impl IntoIterator<Item = &'a Command>,
    lock: &mut GroupLock<'_>,
) -> QueryResult<Vec<Outcome>> {
    let mut outcomes = Vec::new();
    let mut run = Vec::new();
    for command in commands {
        if let Some(message) = channel_message(command) {
            run.push(message);
            continue;
        }
        if !run.is_empty() {
            outcomes.extend(inbound::channel_messages(conn, &run, lock)?);
            run.clear();
        }
        lock.hold(conn)?;
        outcomes.push(apply(conn, command)?);
    }
    if !run.is_empty() {
        outcomes.extend(inbound::channel_messages(conn, &run, lock)?);
    }
    Ok(outcomes)
}

/// A message that arrived through a channel, and who wrote it.
fn channel_message(command: &Command) -> Option<(&InboundMessage, inbound::Author)> {
    match command {
        Command::Inbound(message) => Some((message, inbound::Author::Customer)),
        Command::Echo(echo) => Some((echo, inbound::Author::Page)),
        _ => None,
    }
}

/// Applies one command inside the group's transaction: every rule of the hub starts here. A
/// refusal is an outcome, with nothing written; only the database's failures are errors.
pub fn apply(conn: &mut DbConnection, command: &Command) -> QueryResult<Outcome> {
    let rule: &dyn Rule = match command {
        Command::Inbound(message) => {
            return inbound::channel_message(conn, message, inbound::Author::Customer)
        }
        Command::Echo(echo) => return inbound::channel_message(conn, echo, inbound::Author::Page),
        Command::Delivered(c) => c,
        Command::Read(c) => c,
        Command::Deleted(c) => c,
        Command::Reaction(c) => c,
        Command::AgentReply(c) => c,
        Command::SetStatus(c) => c,
        Command::DeliveryResult(c) => c,
        Command::Assign(c) => c,
        Command::BotReply(c) => c,
        Command::Handoff(c) => c,
        Command::ReturnToBot(c) => c,
        Command::CaptureLead(c) => c,
        Command::Take(c) => c,
        Command::Requeue(c) => c,
        Command::AutoAssign(c) => c,
        Command::Label(c) => c,
        Command::EditLabel(c) => c,
        Command::UpdateContact(c) => c,
        Command::MarkRead(c) => c,
        Command::RecordMedia(c) => c,
        Command::OpenChat(c) => c,
    };
    let mut rec = Recorder::new();
    match rule.apply(conn, &mut rec) {
        Ok(()) => Ok(rec.done()),
        Err(Stop::Refused(refusal)) => {
            debug_assert!(rec.is_empty(), "a rule refused after writing: {refusal:?}");
            Ok(Outcome::Refused(refusal))
        }
        Err(Stop::Database(e)) => Err(e),
    }
}
