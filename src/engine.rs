//! The domain engine: what each command does to chats, messages, assignment, bot state, leads
//! and deliveries, as plain functions over one transaction. The store answers queries; the
//! engine decides; `commit` runs the groups.

mod apply;
mod assignment;
mod bot;
pub mod commit;
mod contacts;
mod deliveries;
mod inbound;
mod labels;
mod leads;
mod lock;
mod media;
mod record;
mod replies;
mod rule;

pub use apply::{apply, apply_all};
pub use assignment::{next_agent, with_room};
pub use commit::spawn;
pub use lock::GroupLock;

#[cfg(test)]
mod refusals;
#[cfg(test)]
mod tests;
