//! Identity: passwords, access tokens, sessions, password reset, and the access policy.

pub mod extract;
pub mod hashing;
pub mod jwt;
pub mod login;
pub mod password;
pub mod policy;
pub mod reset;
pub mod revocation;
pub mod team;
pub mod token;
pub mod users;
