//! Integration tests: the hub driven over HTTP and from the command line, on the database
//! named by `TEST_DATABASE_URL` (a fresh SQLite file per test when unset).

// A test that cannot go on should stop loudly, helpers included.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod browser;
mod cli;
mod cluster;
mod config_location;
mod console;
mod console_account;
mod console_ai;
mod console_api_keys;
mod console_channels;
mod console_chats;
mod console_first_week;
mod console_leads;
mod console_media;
mod deploy;
mod durability;
mod helpers;
mod imports;
mod layout;
mod migrations;
mod process;
mod routes;
mod widget;
mod widget_media;
