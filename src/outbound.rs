//! Talking to the channels' platforms: Meta's Graph API (the Send API, profile lookups).

pub mod meta;
