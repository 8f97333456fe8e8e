//! Labels: admins keep an account's labels; whoever may see a chat puts them on it and on its
//! customer, and the inbox filters by them.

use chrono::Utc;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel::OptionalExtension;
use serde::{Deserialize, Serialize};

use crate::app::AppState;
use crate::auth::extract::CurrentUser;
use crate::auth::policy::Action;
use crate::chats::ChatView;
use crate::error::{AppError, AppResult};
use crate::model::{
    AccountId, ChatId, Command, ContactId, EditLabel, LabelEdit, LabelId, LabelTarget, SetLabel,
    StoreError,
};
use crate::store::labels::{self, Label};

/// Longest label name, in characters.
const MAX_NAME: usize = 64;

/// The colour of a label made without one.
const DEFAULT_COLOR: &str = "#5b6b8c";

/// `POST /api/labels` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewLabel {
    /// 1 to 64 characters, unique in the account whatever the case.
    #[serde(default)]
    #[schema(
        required = true,
        max_length = 64,
        pattern = r"^[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u0000]([^\u0000]*[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u0000])?$"
    )]
    pub name: String,
    /// `#rrggbb` (default a grey blue).
    #[schema(pattern = r"^#[0-9A-Fa-f]{6}$")]
    pub color: Option<String>,
}

/// A change to a label: the fields given.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LabelInput {
    /// 1 to 64 characters, unique in the account whatever the case.
    #[schema(
        max_length = 64,
        pattern = r"^[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u0000]([^\u0000]*[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u0000])?$"
    )]
    pub name: Option<String>,
    /// `#rrggbb` (default a grey blue).
    #[schema(pattern = r"^#[0-9A-Fa-f]{6}$")]
    pub color: Option<String>,
}

/// `POST /api/chats/{id}/labels` and `POST /api/contacts/{id}/labels` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LabelRef {
    /// The account's label to put on.
    pub label_id: i64,
}

/// A contact's labels.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ContactLabels {
    /// The contact.
    pub contact_id: i64,
    /// Its labels, by name.
    pub labels: Vec<Label>,
}

/// The account's labels by name (everyone logged in).
pub async fn list(state: &AppState, me: &CurrentUser) -> AppResult<Vec<Label>> {
    let account = me.principal.account_id;
    Ok(state
        .db()
        .run(move |conn| labels::list(conn, account))
        .await?)
}

/// Adds a label (admins); a name the account has already, in any case ("vip" beside "VIP"), is
/// a 409.
pub async fn create(state: &AppState, me: &CurrentUser, input: NewLabel) -> AppResult<Label> {
    me.principal.authorize(Action::ManageLabels)?;
    let name = name(&input.name)?;
    let color = color(input.color.as_deref().unwrap_or(DEFAULT_COLOR))?;
    let account = me.principal.account_id;
    Ok(state
        .db()
        .run(move |conn| -> AppResult<Label> {
            if labels::named(conn, account, &name)?.is_some() {
                return Err(label_exists());
            }
            let now = Utc::now().naive_utc();
            let id = labels::create(conn, account, &name, &color, now).map_err(taken)?;
            Ok(labels::find(conn, account, id)?)
        })
        .await?)
}

/// Renames or recolours a label (admins); another account's is a 404, a name another label
/// has, in any case, a 409. Every chat showing it gets a `chat.updated`.
pub async fn update(
    state: &AppState,
    me: &CurrentUser,
    id: i64,
    input: LabelInput,
) -> AppResult<Label> {
    me.principal.authorize(Action::ManageLabels)?;
    let new_name = input.name.as_deref().map(name).transpose()?;
    let new_color = input.color.as_deref().map(color).transpose()?;
    let account = me.principal.account_id;
    let current = find(state, account, id).await?;
    let name = new_name.unwrap_or(current.name);
    let color = new_color.unwrap_or(current.color);
    let wanted = name.clone();
    let clash = state
        .db()
        .run(move |conn| labels::named(conn, account, &wanted))
        .await?;
    if clash.is_some_and(|other| other.id != id) {
        return Err(label_exists());
    }
    let edit = LabelEdit::Change {
        name: name.clone(),
        color,
    };
    submit(
        state,
        Command::EditLabel(EditLabel {
            account_id: AccountId(account),
            label_id: LabelId(id),
            edit,
        }),
    )
    .await?;
    let label = find(state, account, id).await?;
    if label.name != name {
        // Another label took the name between the check and the change.
        return Err(label_exists());
    }
    Ok(label)
}

/// Removes a label from the account and from whatever carried it (admins); every chat that
/// showed it gets a `chat.updated`.
pub async fn remove(state: &AppState, me: &CurrentUser, id: i64) -> AppResult<()> {
    me.principal.authorize(Action::ManageLabels)?;
    let account = me.principal.account_id;
    find(state, account, id).await?;
    let command = Command::EditLabel(EditLabel {
        account_id: AccountId(account),
        label_id: LabelId(id),
        edit: LabelEdit::Delete,
    });
    submit(state, command).await
}

async fn find(state: &AppState, account_id: i64, id: i64) -> AppResult<Label> {
    state
        .db()
        .run(move |conn| labels::find(conn, account_id, id).optional())
        .await?
        .ok_or_else(|| AppError::not_found("no such label"))
}

/// Puts a label on a chat the caller may see (`on`), or takes it off; a `chat.updated` event
/// tells everyone who sees the chat.
pub async fn label_chat(
    state: &AppState,
    me: &CurrentUser,
    chat_id: i64,
    label_id: i64,
    on: bool,
) -> AppResult<ChatView> {
    let chat = crate::chats::find_visible(state, me, chat_id).await?;
    let command = Command::Label(SetLabel {
        account_id: AccountId(chat.account_id),
        target: LabelTarget::Chat(ChatId(chat.id)),
        label_id: LabelId(label_id),
        on,
    });
    submit(state, command).await?;
    crate::chats::show(state, me, chat_id).await
}

/// Puts a label on a contact (`on`), or takes it off: supervisors and admins on any of the
/// account's contacts, agents on the customers of chats they may see.
pub async fn label_contact(
    state: &AppState,
    me: &CurrentUser,
    contact_id: i64,
    label_id: i64,
    on: bool,
) -> AppResult<ContactLabels> {
    crate::contacts::find_visible(state, me, contact_id).await?;
    let account = me.principal.account_id;
    let command = Command::Label(SetLabel {
        account_id: AccountId(account),
        target: LabelTarget::Contact(ContactId(contact_id)),
        label_id: LabelId(label_id),
        on,
    });
    submit(state, command).await?;
    let labels = state
        .db()
        .run(move |conn| labels::of_contacts(conn, &[contact_id]))
        .await?
        .into_iter()
        .map(|(_, label)| label)
        .collect();
    Ok(ContactLabels { contact_id, labels })
}

/// Runs a label command through the engine. The chat, contact or label was found just before:
/// what is not found now is the label.
async fn submit(state: &AppState, command: Command) -> AppResult<()> {
    let answer = state.bus.submit_all(vec![command]).await.pop();
    match answer.unwrap_or_else(|| Err(StoreError::Unavailable("no answer".into()))) {
        Ok(_) => Ok(()),
        Err(StoreError::NotFound(_)) => Err(AppError::not_found("no such label")),
        Err(other) => Err(other.into()),
    }
}

fn name(given: &str) -> AppResult<String> {
    let name = given.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME {
        return Err(AppError::unprocessable(
            "invalid_name",
            "name must be 1 to 64 characters",
        ));
    }
    Ok(name.to_string())
}

fn color(given: &str) -> AppResult<String> {
    let color = given.trim().to_ascii_lowercase();
    let valid = color.len() == 7
        && color.starts_with('#')
        && color[1..].bytes().all(|b| b.is_ascii_hexdigit());
    if valid {
        Ok(color)
    } else {
        Err(AppError::unprocessable(
            "invalid_color",
            "color must be #rrggbb",
        ))
    }
}

fn taken(e: DieselError) -> AppError {
    match e {
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => label_exists(),
        other => other.into(),
    }
}

fn label_exists() -> AppError {
    AppError::conflict(
        "label_exists",
        "the account has a label with this name already",
    )
}
