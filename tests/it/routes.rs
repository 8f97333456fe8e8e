//! Tests per route, mirroring the URL tree.

mod docs;
mod errors;
mod health;
mod metrics;
