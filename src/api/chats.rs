//! `/api/chats*`: what agents see and do in conversations.

pub mod assign;
pub mod handoff;
pub mod list;
pub mod messages;
pub mod read;
pub mod reply;
pub mod show;
pub mod status;
pub mod suggest;
