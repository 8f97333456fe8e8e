//! Identity: password hashing, tokens and (later) sessions and the access policy.

pub mod password;
pub mod token;
