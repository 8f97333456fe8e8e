//! Ingress: turning outside requests (Meta webhooks, the widget) into bus commands.

pub mod directory;
pub mod meta;
pub mod widget;
