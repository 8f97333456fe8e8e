//! `/api/channels*`: the account's Facebook pages, Instagram accounts and widgets (admins).

pub mod create;
pub mod delete;
pub mod list;
pub mod update;
