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

/// Reads a timestamp `utc` wrote (any RFC 3339 offset, kept as UTC).
pub fn from_utc<'de, D: serde::Deserializer<'de>>(d: D) -> Result<NaiveDateTime, D::Error> {
    let text = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(d)?;
    chrono::DateTime::parse_from_rfc3339(&text)
        .map(|t| t.naive_utc())
        .map_err(serde::de::Error::custom)
}

/// Reads an optional timestamp `utc_opt` wrote.
pub fn from_utc_opt<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<NaiveDateTime>, D::Error> {
    let text = <Option<std::borrow::Cow<'de, str>> as serde::Deserialize>::deserialize(d)?;
    text.map(|text| {
        chrono::DateTime::parse_from_rfc3339(&text)
            .map(|t| t.naive_utc())
            .map_err(serde::de::Error::custom)
    })
    .transpose()
}
