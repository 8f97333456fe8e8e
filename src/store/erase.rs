//! Erasing an account, or one customer: every row that belongs to it, children first, counted.

use diesel::prelude::*;

use super::connection::DbConnection;
use super::schema;

/// The media garbage note that stands for every object of an account.
pub const ALL_OBJECTS: &str = "*";

/// Rows removed, per table, in the order they were removed.
pub type Removed = Vec<(&'static str, usize)>;

/// Deletes the rows of each table whose `account_id` is `$account`, recording the counts.
macro_rules! by_account {
    ($conn:expr, $removed:expr, $account:expr, $($table:ident),+ $(,)?) => {
        $(
            let n = diesel::delete(
                schema::$table::table.filter(schema::$table::account_id.eq($account)),
            )
            .execute($conn)?;
            $removed.push((stringify!($table), n));
        )+
    };
}

/// Deletes the rows of each table whose `chat_id` is one of `$chats`, recording the counts.
macro_rules! by_chat {
    ($conn:expr, $removed:expr, $chats:expr, $($table:ident),+ $(,)?) => {
        $(
            let n = diesel::delete(
                schema::$table::table.filter(schema::$table::chat_id.eq_any($chats)),
            )
            .execute($conn)?;
            $removed.push((stringify!($table), n));
        )+
    };
}

/// Deletes the rows of each table whose `contact_id` is `$contact`, recording the counts.
macro_rules! by_contact {
    ($conn:expr, $removed:expr, $contact:expr, $($table:ident),+ $(,)?) => {
        $(
            let n = diesel::delete(
                schema::$table::table.filter(schema::$table::contact_id.eq($contact)),
            )
            .execute($conn)?;
            $removed.push((stringify!($table), n));
        )+
    };
}

/// Removes account `id` and everything in it (search entries go with their messages and
/// contacts); `None` when there is no such account. Run it inside a transaction.
pub fn account(conn: &mut DbConnection, id: i64) -> QueryResult<Option<Removed>> {
    if super::accounts::status(conn, id)?.is_none() {
        return Ok(None);
    }
    let mut removed = Removed::new();
    links(conn, id, &mut removed)?;
    by_account!(
        conn,
        removed,
        id,
        chat_reads,
        ai_usage,
        ai_settings,
        api_keys,
        webhook_deliveries,
        outgoing_webhooks,
        media,
        media_garbage,
        messages,
        leads,
        lead_imports,
        events,
        chats,
        widget_sessions,
        canned_responses,
        labels,
        audit_log,
        password_tokens,
        sessions,
        contacts,
        channels,
        assignment_cursors,
        users,
    );
    let n = diesel::delete(schema::accounts::table.find(id)).execute(conn)?;
    removed.push(("accounts", n));
    // Every object of the account goes from the media store after commit.
    super::media::discard(
        conn,
        id,
        &[ALL_OBJECTS.to_string()],
        chrono::Utc::now().naive_utc(),
    )?;
    Ok(Some(removed))
}

/// The rows that belong to the account through a parent: labels on chats and contacts, and
/// the parts of lead imports.
fn links(conn: &mut DbConnection, id: i64, removed: &mut Removed) -> QueryResult<()> {
    use schema::{
        chat_labels, chats, contact_labels, contacts, lead_import_chunks, lead_import_merges,
        lead_import_rejections, lead_imports,
    };
    let account_chats = chats::table
        .filter(chats::account_id.eq(id))
        .select(chats::id);
    let n = diesel::delete(chat_labels::table.filter(chat_labels::chat_id.eq_any(account_chats)))
        .execute(conn)?;
    removed.push(("chat_labels", n));
    let account_contacts = contacts::table
        .filter(contacts::account_id.eq(id))
        .select(contacts::id);
    let n = diesel::delete(
        contact_labels::table.filter(contact_labels::contact_id.eq_any(account_contacts)),
    )
    .execute(conn)?;
    removed.push(("contact_labels", n));
    let imports = || {
        lead_imports::table
            .filter(lead_imports::account_id.eq(id))
            .select(lead_imports::id)
    };
    let n = diesel::delete(
        lead_import_chunks::table.filter(lead_import_chunks::import_id.eq_any(imports())),
    )
    .execute(conn)?;
    removed.push(("lead_import_chunks", n));
    let n = diesel::delete(
        lead_import_rejections::table.filter(lead_import_rejections::import_id.eq_any(imports())),
    )
    .execute(conn)?;
    removed.push(("lead_import_rejections", n));
    let n = diesel::delete(
        lead_import_merges::table.filter(lead_import_merges::import_id.eq_any(imports())),
    )
    .execute(conn)?;
    removed.push(("lead_import_merges", n));
    Ok(())
}

/// Removes a customer of the account and everything of theirs: their chats with messages,
/// media (noted for removal from the store), events, reads and labels; their widget sessions;
/// leads that name them are kept, unlinked. `None` when the account has no such contact. Run
/// it inside a transaction.
pub fn contact(
    conn: &mut DbConnection,
    account_id: i64,
    contact_id: i64,
) -> QueryResult<Option<Removed>> {
    use schema::{chats, contacts, leads};
    let found = contacts::table
        .filter(contacts::account_id.eq(account_id))
        .filter(contacts::id.eq(contact_id))
        .select(contacts::id)
        .first::<i64>(conn)
        .optional()?;
    if found.is_none() {
        return Ok(None);
    }
    let chat_ids: Vec<i64> = chats::table
        .filter(chats::account_id.eq(account_id))
        .filter(chats::contact_id.eq(contact_id))
        .select(chats::id)
        .load(conn)?;
    let hashes = super::media::hashes_of_chats(conn, account_id, &chat_ids)?;
    super::media::discard(conn, account_id, &hashes, chrono::Utc::now().naive_utc())?;
    let mut removed = Removed::new();
    by_chat!(
        conn,
        removed,
        &chat_ids,
        media,
        chat_labels,
        chat_reads,
        messages,
        events
    );
    let unlinked = leads::table.filter(leads::account_id.eq(account_id));
    diesel::update(unlinked.filter(leads::chat_id.eq_any(&chat_ids)))
        .set(leads::chat_id.eq(None::<i64>))
        .execute(conn)?;
    diesel::update(unlinked.filter(leads::contact_id.eq(contact_id)))
        .set(leads::contact_id.eq(None::<i64>))
        .execute(conn)?;
    let n = diesel::delete(chats::table.filter(chats::id.eq_any(&chat_ids))).execute(conn)?;
    removed.push(("chats", n));
    by_contact!(conn, removed, contact_id, widget_sessions, contact_labels);
    let n = diesel::delete(contacts::table.find(contact_id)).execute(conn)?;
    removed.push(("contacts", n));
    Ok(Some(removed))
}
