//! Tests per route, mirroring the URL tree.

mod ai;
mod assign;
mod assist;
mod audit;
mod auth;
mod canned;
mod channels;
mod chats;
mod contacts;
mod docs;
mod errors;
mod health;
mod labels;
mod lead_import;
pub(crate) mod leads;
mod metrics;
mod outbound;
mod outgoing_webhooks;
mod presence;
mod round_robin;
mod search;
mod security;
mod users;
mod webhooks;
mod widget;
pub(crate) mod ws;
