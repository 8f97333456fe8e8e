//! `/api/auth/*`: login, logout, who am I, password reset.

pub mod login;
pub mod logout;
pub mod me;
pub mod password_reset;
pub mod password_reset_confirm;
