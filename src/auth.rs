//! Authentication: passwords, access tokens, logins and sessions, password reset, ended
//! sessions announced, and the access policy.

pub mod extract;
pub mod hashing;
pub mod jwt;
pub mod login;
pub mod operator;
pub mod password;
pub mod policy;
pub mod reset;
pub mod revocation;
