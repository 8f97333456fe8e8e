//! HTTP handlers, one file per action, grouped by what they act on.

pub mod account;
pub mod ai;
pub mod api_keys;
pub mod audit;
pub mod auth;
pub mod canned;
pub mod channels;
pub mod chats;
pub mod contacts;
pub mod docs;
pub mod extract;
pub mod health;
pub mod hooks;
pub mod labels;
pub mod leads;
pub mod media;
pub mod metrics;
pub mod openapi;
pub mod platform;
pub mod search;
pub mod stream;
pub mod team;
pub mod users;
pub mod webhooks;
pub mod widget;
