//! The test harness (a hub per test with its own database and users) and, each in a module of
//! its own, the fake outside services a test starts beside it.

mod ai;
mod db;
mod graph;
mod hub;
mod meta;
mod receiver;
mod redis_server;
mod s3;
mod silent;
mod smtp;

pub use ai::{AiAnswer, AiServer};
pub use db::{Proxy, TestDb};
pub use graph::{GraphServer, PAGE_NAME};
pub use hub::{
    assert_error, base_settings, split, TestApp, TestUser, ADMIN_EMAIL, ADMIN_PASSWORD, JWT_SECRET,
};
pub use meta::{messenger_text, meta_sign, META_APP_SECRET, PAGE_ID};
pub use receiver::{hmac_hex, Receiver};
pub use redis_server::RedisServer;
pub use s3::S3Server;
pub use silent::Silent;
pub use smtp::{decode_quoted_printable, outbox_tokens, token_from_mail, SmtpServer};
