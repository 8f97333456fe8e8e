//! Where every command starts: which rule applies it, inside the group's transaction.

use diesel::QueryResult;

use super::lock::GroupLock;
use super::{assignment, bot, contacts, deliveries, inbound, labels, leads, replies};
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

/// Applies one command inside the group's transaction: every rule of the hub starts here.
pub fn apply(conn: &mut DbConnection, command: &Command) -> QueryResult<Outcome> {
    match command {
        Command::Inbound(message) => {
            inbound::channel_message(conn, message, inbound::Author::Customer)
        }
        Command::Echo(echo) => inbound::channel_message(conn, echo, inbound::Author::Page),
        Command::Delivered {
            account_id,
            channel_id,
            contact_external_id,
            mids,
            watermark,
        } => inbound::delivered(
            conn,
            *account_id,
            *channel_id,
            contact_external_id,
            mids,
            *watermark,
        ),
        Command::Read {
            account_id,
            channel_id,
            contact_external_id,
            watermark,
        } => inbound::read(
            conn,
            *account_id,
            *channel_id,
            contact_external_id,
            *watermark,
        ),
        Command::Deleted {
            account_id,
            channel_id,
            external_id,
        } => inbound::deleted(conn, *account_id, *channel_id, external_id),
        Command::Reaction {
            account_id,
            channel_id,
            target_external_id,
            emoji,
        } => inbound::reaction(
            conn,
            *account_id,
            *channel_id,
            target_external_id,
            emoji.as_deref(),
        ),
        Command::AgentReply {
            account_id,
            chat_id,
            user_id,
            text,
            private,
            take,
        } => replies::agent_reply(
            conn,
            &replies::AgentReply {
                account_id: *account_id,
                chat_id: *chat_id,
                user_id: *user_id,
                text,
                private: *private,
                take: *take,
            },
        ),
        Command::SetStatus {
            account_id,
            chat_id,
            user_id,
            status,
        } => replies::set_status(conn, *account_id, *chat_id, *user_id, *status),
        Command::DeliveryResult {
            account_id,
            message_id,
            result,
        } => deliveries::delivery_result(conn, *account_id, *message_id, result),
        Command::Assign {
            account_id,
            chat_id,
            assignee_id,
            by,
        } => assignment::assign(conn, *account_id, *chat_id, *assignee_id, *by),
        Command::BotReply(reply) => bot::bot_reply(conn, reply),
        Command::Handoff {
            account_id,
            chat_id,
            reason,
            by,
            take,
        } => bot::handoff(conn, *account_id, *chat_id, reason, *by, *take),
        Command::ReturnToBot {
            account_id,
            chat_id,
            by,
        } => bot::return_to_bot(conn, *account_id, *chat_id, *by),
        Command::CaptureLead {
            account_id,
            chat_id,
            lead,
        } => leads::capture_lead(conn, *account_id, *chat_id, lead),
        Command::Take {
            account_id,
            chat_id,
            user_id,
        } => assignment::take(conn, *account_id, *chat_id, *user_id),
        Command::Requeue {
            account_id,
            chat_id,
            user_id,
        } => assignment::requeue(conn, *account_id, *chat_id, *user_id),
        Command::AutoAssign {
            account_id,
            chat_id,
            online,
        } => assignment::auto_assign(conn, *account_id, *chat_id, online),
        Command::Label {
            account_id,
            target,
            label_id,
            on,
        } => labels::set_label(conn, *account_id, *target, *label_id, *on),
        Command::EditLabel {
            account_id,
            label_id,
            edit,
        } => labels::edit_label(conn, *account_id, *label_id, edit),
        Command::UpdateContact {
            account_id,
            contact_id,
            update,
        } => contacts::update_contact(conn, *account_id, *contact_id, update),
        Command::MarkRead {
            account_id,
            chat_id,
            user_id,
            message_id,
        } => replies::mark_read(conn, *account_id, *chat_id, *user_id, *message_id),
    }
}
