//! `/api/channels*`: the account's Facebook pages, Instagram accounts, widgets and API channels
//! (admins); an API channel's messages, posted with its key.

pub mod create;
pub mod delete;
pub mod list;
pub mod messages;
pub mod update;
