//! Switchboard: a realtime messaging hub for support teams.

pub mod ai;
pub mod api;
pub mod app;
pub mod assign;
pub mod auth;
pub mod bootstrap;
pub mod bus;
pub mod channels;
pub mod chats;
pub mod cli;
pub mod config;
pub mod error;
pub mod hooks;
pub mod ingress;
pub mod mail;
pub mod metrics;
pub mod net;
pub mod outbound;
pub mod presence;
pub mod ratelimit;
pub mod retry;
pub mod router;
pub mod server;
pub mod store;
pub mod telemetry;
pub mod ws;
