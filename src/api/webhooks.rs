//! `/api/webhooks/{facebook,instagram}`: Meta's handshake and signed deliveries.

pub mod receive;
pub mod verify;
