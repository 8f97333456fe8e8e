//! `/api/users*`: the account's users, and each user's own status.

pub mod create;
pub mod delete;
pub mod invitation;
pub mod list;
pub mod password;
pub mod show;
pub mod status;
pub mod update;
