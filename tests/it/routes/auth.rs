//! `/api/auth/*`.

mod login;
mod password_reset;
mod rate_limits;
mod signup;
mod tokens;
