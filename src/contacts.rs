//! Contacts as people see them: details the team edits, their labels; agents reach the
//! customers of chats they may see.

use serde::{Deserialize, Serialize};

use crate::app::AppState;
use crate::auth::extract::CurrentUser;
use crate::auth::policy::Action;
use crate::error::{AppError, AppResult};
use crate::model::{
    looks_like_email, looks_like_phone, AccountId, Command, ContactId, ContactUpdate, Role,
    UpdateContact,
};
use crate::store::contacts::Contact;
use crate::store::labels::Label;

/// A contact with its labels.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ContactView {
    /// The contact.
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub contact: Contact,
    /// Its labels, by name.
    pub labels: Vec<Label>,
}

/// `PATCH /api/contacts/{id}`: the fields given are set, `null` clears one.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactEdit {
    /// Name, up to 200 characters (a Meta profile lookup never replaces it).
    #[serde(default, deserialize_with = "crate::model::double_option")]
    #[schema(value_type = Option<String>, max_length = 200)]
    pub name: Option<Option<String>>,
    /// Email address, up to 254 characters; blank clears it.
    #[serde(default, deserialize_with = "crate::model::double_option")]
    #[schema(
        value_type = Option<String>,
        max_length = 254,
        pattern = r"^([^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000@\u0000]+@[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000.@\u0000][^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000@\u0000]*\.[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000@\u0000]*[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000.@\u0000])?$"
    )]
    pub email: Option<Option<String>>,
    /// Phone number: 6 to 20 digits, with spaces and `+ - ( ) .`; blank clears it.
    #[serde(default, deserialize_with = "crate::model::double_option")]
    #[schema(
        value_type = Option<String>,
        max_length = 32,
        pattern = r"^([+(.-]*[0-9](?:[ +().-]*[0-9]){5,19}[+().-]*)?$"
    )]
    pub phone: Option<Option<String>>,
    /// Notes for the team, up to 4000 characters.
    #[serde(default, deserialize_with = "crate::model::double_option")]
    #[schema(value_type = Option<String>, max_length = 4000)]
    pub notes: Option<Option<String>>,
}

/// Checks the caller may reach the account's contact: supervisors and admins any, agents the
/// customers of chats they may see; anything else is a 404.
pub async fn find_visible(state: &AppState, me: &CurrentUser, contact_id: i64) -> AppResult<()> {
    let account = me.principal.account_id;
    let chats = state
        .db()
        .run(move |conn| -> AppResult<_> {
            crate::store::contacts::find(conn, account, contact_id)
                .map_err(|_| AppError::not_found("no such contact"))?;
            Ok(crate::store::chats::of_contact(conn, account, contact_id)?)
        })
        .await?;
    let sees = me.principal.role != Role::Agent
        || chats
            .iter()
            .any(|chat| me.principal.may(Action::SeeChat(chat)));
    if sees {
        Ok(())
    } else {
        Err(AppError::not_found("no such contact"))
    }
}

/// One contact the caller may reach, with its labels.
pub async fn show(state: &AppState, me: &CurrentUser, contact_id: i64) -> AppResult<ContactView> {
    find_visible(state, me, contact_id).await?;
    let account = me.principal.account_id;
    Ok(state
        .db()
        .run(move |conn| -> diesel::QueryResult<ContactView> {
            Ok(ContactView {
                contact: crate::store::contacts::find(conn, account, contact_id)?,
                labels: crate::store::labels::of_contacts(conn, &[contact_id])?
                    .into_iter()
                    .map(|(_, label)| label)
                    .collect(),
            })
        })
        .await?)
}

/// Edits a contact the caller may reach; `chat.updated` tells everyone who sees its chats.
pub async fn edit(
    state: &AppState,
    me: &CurrentUser,
    contact_id: i64,
    edit: ContactEdit,
) -> AppResult<ContactView> {
    find_visible(state, me, contact_id).await?;
    let update = ContactUpdate {
        name: checked(
            edit.name,
            200,
            "invalid_name",
            "name must be 1 to 200 characters",
            |_| true,
        )?,
        email: checked(
            edit.email,
            254,
            "invalid_email",
            "email must look like name@example.com",
            looks_like_email,
        )?,
        phone: checked(
            edit.phone,
            32,
            "invalid_phone",
            "phone must be 6 to 20 digits, with spaces and + - ( ) .",
            looks_like_phone,
        )?,
        notes: checked(
            edit.notes,
            4000,
            "invalid_notes",
            "notes must be at most 4000 characters",
            |_| true,
        )?,
        picture_url: None,
        from_profile: false,
    };
    state
        .bus
        .submit(Command::UpdateContact(UpdateContact {
            account_id: AccountId(me.principal.account_id),
            contact_id: ContactId(contact_id),
            update,
        }))
        .await?
        .accepted()?;
    show(state, me, contact_id).await
}

/// A field's new value, trimmed: `None` leaves it, `Some(None)` (or blank) clears it.
fn checked(
    given: Option<Option<String>>,
    max: usize,
    code: &'static str,
    message: &'static str,
    valid: impl Fn(&str) -> bool,
) -> AppResult<Option<Option<String>>> {
    let Some(value) = given else {
        return Ok(None);
    };
    let value = value
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty());
    match &value {
        Some(v) if v.chars().count() > max || !valid(v) => {
            Err(AppError::unprocessable(code, message))
        }
        _ => Ok(Some(value)),
    }
}

/// What erasing a customer removed, per table.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ContactErased {
    /// The erased contact.
    pub contact_id: i64,
    /// Rows removed per table (`media` counts kept files; their bytes leave the store once no
    /// other message holds them).
    pub removed: std::collections::BTreeMap<String, usize>,
}

/// Erases a customer of the caller's account with every chat, message, file and event of
/// theirs (admins); their leads stay, unlinked. The store's bytes go right after commit (or,
/// when the store is down, as soon as the media worker reaches it).
pub async fn erase(
    state: &AppState,
    me: &CurrentUser,
    contact_id: i64,
) -> AppResult<ContactErased> {
    if !me.principal.may(Action::ManageAccount) {
        return Err(AppError::forbidden("only admins erase customers"));
    }
    let account = me.principal.account_id;
    let removed = state
        .db()
        .run(move |conn| {
            diesel::Connection::transaction(conn, |conn| {
                crate::store::erase::contact(conn, account, contact_id)
            })
        })
        .await?
        .ok_or_else(|| AppError::not_found("no such contact"))?;
    tracing::warn!(
        account_id = account,
        contact_id,
        by = me.principal.user_id,
        ?removed,
        "erased a customer"
    );
    if let Err(e) = crate::media::collect::collect(state.db(), &state.media.store).await {
        tracing::warn!(error = %e, "the customer's files leave the store when it answers");
    }
    Ok(ContactErased {
        contact_id,
        removed: removed
            .into_iter()
            .map(|(t, n)| (t.to_string(), n))
            .collect(),
    })
}
