//! How stored timestamps are written in JSON: RFC 3339 in UTC (`Z`), to the millisecond.

use chrono::NaiveDateTime;

/// Serialises a UTC timestamp as RFC 3339 with its offset (`Z`), in milliseconds.
pub fn utc<S: serde::Serializer>(t: &NaiveDateTime, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(
        &t.and_utc()
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
    )
}

/// Serialises an optional UTC timestamp as `utc` does, or `null`.
pub fn utc_opt<S: serde::Serializer>(t: &Option<NaiveDateTime>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => utc(t, s),
        None => s.serialize_none(),
    }
}
