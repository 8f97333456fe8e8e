//! `/api/auth/*`: login, logout, who am I, password reset, sign-up.

pub mod login;
pub mod logout;
pub mod me;
pub mod password_reset;
pub mod password_reset_confirm;
pub mod signup;
