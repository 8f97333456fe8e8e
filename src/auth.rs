//! Authentication: passwords, access tokens, logins and sessions, password reset, ended
//! sessions announced, integration keys, and the access policy.

pub mod extract;
pub mod hashing;
pub mod jwt;
pub mod keys;
pub mod login;
pub mod operator;
pub mod password;
pub mod policy;
pub mod reset;
pub mod revocation;
