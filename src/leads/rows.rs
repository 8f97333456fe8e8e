//! The rows of a lead import: a CSV cut into chunks of whole records as it streams in, and each
//! row read and checked into a lead, or turned away with its line and reason.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, NaiveDateTime};
use serde_json::Value;

use crate::model::{looks_like_email, looks_like_phone, normalize_phone};
use crate::store::imported_leads::ImportedLead;

/// Rows per chunk: what one transaction stores.
pub const CHUNK_ROWS: usize = 500;
/// Bytes per chunk at most (a chunk ends at the first record end past this).
const CHUNK_BYTES: usize = 512 * 1024;
/// Columns the hub knows, in the order an export writes them; the others are kept as extra
/// fields.
pub const COLUMNS: [&str; 11] = [
    "name",
    "email",
    "phone",
    "company",
    "channel",
    "status",
    "source_status",
    "notes",
    "last_contact",
    "intent",
    "summary",
];
/// Characters that make a spreadsheet read a cell as a formula.
pub const FORMULA_START: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];
/// Extra fields one row may carry.
const MAX_EXTRA: usize = 50;
/// Longest header row: room for every known column and the extra fields, with long names.
const MAX_HEADER_BYTES: usize = 64 * 1024;
/// Most columns a header may name.
const MAX_COLUMNS: usize = 256;
/// What a NUL in a file is kept as until its row is refused.
const UNREADABLE: &str = "\u{FFFD}";
/// Longest record: a row longer than this is a quote that never closes, not a lead.
const MAX_RECORD_BYTES: usize = 1024 * 1024;

/// A piece of the file with whole records only.
#[derive(Debug, Clone, PartialEq)]
pub struct RawChunk {
    /// The file's line its first record starts on.
    pub first_line: i64,
    /// The records.
    pub body: String,
    /// Records in it that are not blank.
    pub rows: usize,
}

/// Why a file cannot be imported at all.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FileError {
    /// Not UTF-8.
    #[error("the file is not UTF-8 text (save it as CSV UTF-8)")]
    NotUtf8,
    /// No header row, or one without a way to reach anyone.
    #[error("{0}")]
    Header(String),
    /// A record past its bound.
    #[error("{0}")]
    Record(String),
}

/// Cuts a CSV arriving in pieces into chunks of whole records (a line break inside quotes is
/// part of the record), keeping only the current chunk in memory. The first record is the
/// header.
#[derive(Debug, Default)]
pub struct Splitter {
    pending: Vec<u8>,
    scanned: usize,
    in_quotes: bool,
    /// End of the last whole record in `pending`.
    cut: usize,
    /// Non-blank records before `cut`.
    rows: usize,
    /// Line breaks before `cut`.
    breaks: i64,
    /// The file line `pending` starts on.
    line: i64,
    header: Option<Vec<String>>,
    started: bool,
}

impl Splitter {
    /// A splitter at the start of a file.
    pub fn new() -> Self {
        Self {
            line: 1,
            ..Self::default()
        }
    }

    /// The header's column names (lower case, `_` for spaces), once read.
    pub fn header(&self) -> Option<&[String]> {
        self.header.as_deref()
    }

    /// Takes the next piece of the file; returns the chunks it completes.
    pub fn feed(&mut self, bytes: &[u8]) -> Result<Vec<RawChunk>, FileError> {
        let mut bytes = bytes;
        if !self.started && !bytes.is_empty() {
            self.started = true;
            bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        }
        self.pending.extend_from_slice(bytes);
        let mut out = Vec::new();
        while self.scanned < self.pending.len() {
            let byte = self.pending[self.scanned];
            self.scanned += 1;
            self.check_record_size()?;
            match byte {
                b'"' => self.in_quotes = !self.in_quotes,
                b'\n' if !self.in_quotes => self.end_record(&mut out)?,
                // A carriage return alone ends a record too (old Mac line ends), as the CSV
                // reader takes it; one before a line feed is part of that line's end.
                b'\r' if !self.in_quotes => match self.pending.get(self.scanned) {
                    Some(b'\n') => {}
                    Some(_) => self.end_record(&mut out)?,
                    None => {
                        // The next piece tells which: look again when it comes.
                        self.scanned -= 1;
                        break;
                    }
                },
                _ => {}
            }
        }
        Ok(out)
    }

    /// The record before `scanned` is whole: the header, or one more row of the chunk.
    fn end_record(&mut self, out: &mut Vec<RawChunk>) -> Result<(), FileError> {
        if self.header.is_none() {
            return self.take_header();
        }
        let record = &self.pending[self.cut..self.scanned];
        if !is_blank(record) {
            self.rows += 1;
        }
        self.breaks += count_breaks(record);
        self.cut = self.scanned;
        if self.rows >= CHUNK_ROWS || self.cut >= CHUNK_BYTES {
            out.push(self.take_chunk()?);
        }
        Ok(())
    }

    /// The end of the file: the last chunk, if any rows are left.
    pub fn finish(mut self) -> Result<(Option<Vec<String>>, Option<RawChunk>), FileError> {
        // A carriage return left for the next piece ends the file's last record.
        self.scanned = self.pending.len();
        if self.scanned > self.cut {
            if self.header.is_none() {
                self.scanned = self.pending.len();
                self.take_header()?;
            } else {
                let record = &self.pending[self.cut..];
                if !is_blank(record) {
                    self.rows += 1;
                }
                self.breaks += count_breaks(record);
                self.cut = self.pending.len();
            }
        }
        if self.header.is_none() {
            return Err(FileError::Header(
                "the file is empty: it needs a header row".into(),
            ));
        }
        let last = (self.rows > 0).then(|| self.take_chunk()).transpose()?;
        Ok((self.header, last))
    }

    /// Refuses a record that outgrows its bound, naming the line it starts on, so a quote
    /// that never closes cannot make the import hold the rest of the file in memory.
    fn check_record_size(&self) -> Result<(), FileError> {
        let length = self.scanned - self.cut;
        if self.header.is_none() && length > MAX_HEADER_BYTES {
            return Err(FileError::Header(format!(
                "the header row is longer than {} KiB",
                MAX_HEADER_BYTES / 1024
            )));
        }
        if length > MAX_RECORD_BYTES {
            return Err(FileError::Record(format!(
                "the record starting on line {} is longer than {} MiB: is a quote (\") left open?",
                self.line + self.breaks,
                MAX_RECORD_BYTES / (1024 * 1024)
            )));
        }
        Ok(())
    }

    fn take_header(&mut self) -> Result<(), FileError> {
        let record = self.pending[..self.scanned].to_vec();
        let breaks = count_breaks(&record);
        let names = header_names(&record)?;
        self.header = Some(names);
        self.pending.drain(..self.scanned);
        self.scanned = 0;
        self.cut = 0;
        self.line += breaks;
        Ok(())
    }

    fn take_chunk(&mut self) -> Result<RawChunk, FileError> {
        let body: Vec<u8> = self.pending.drain(..self.cut).collect();
        let mut body = String::from_utf8(body).map_err(|_| FileError::NotUtf8)?;
        // No database column keeps a NUL: it is kept as U+FFFD, and its row refused by `check`.
        if body.contains('\0') {
            body = body.replace('\0', UNREADABLE);
        }
        let chunk = RawChunk {
            first_line: self.line,
            body,
            rows: self.rows,
        };
        self.line += self.breaks;
        self.scanned -= self.cut;
        self.cut = 0;
        self.rows = 0;
        self.breaks = 0;
        Ok(chunk)
    }
}

/// Line ends in `bytes`: each line feed, and each carriage return not followed by one.
fn count_breaks(bytes: &[u8]) -> i64 {
    (0..bytes.len()).filter(|&i| is_break(bytes, i)).count() as i64
}

/// Whether the byte at `i` ends a line: a line feed, or a carriage return alone.
fn is_break(bytes: &[u8], i: usize) -> bool {
    match bytes[i] {
        b'\n' => true,
        b'\r' => bytes.get(i + 1) != Some(&b'\n'),
        _ => false,
    }
}

/// A record with nothing in it (only separators and spaces).
fn is_blank(record: &[u8]) -> bool {
    record.iter().all(|b| b.is_ascii_whitespace() || *b == b',')
}

/// The header's names: read as CSV, lower case, spaces and dashes as `_`; it must name an
/// email or a phone column, once each.
fn header_names(record: &[u8]) -> Result<Vec<String>, FileError> {
    let text = std::str::from_utf8(record).map_err(|_| FileError::NotUtf8)?;
    if text.contains('\0') {
        return Err(FileError::Header(
            "the header row holds a NUL character: is this a text file?".into(),
        ));
    }
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.as_bytes());
    let names: Vec<String> = match reader.records().next() {
        Some(Ok(record)) => record.iter().map(column_name).collect(),
        _ => Vec::new(),
    };
    if names.iter().all(String::is_empty) {
        return Err(FileError::Header(
            "the file is empty: it needs a header row".into(),
        ));
    }
    if !names.iter().any(|n| n == "email" || n == "phone") {
        return Err(FileError::Header(
            "the header row needs an email or a phone column".into(),
        ));
    }
    if names.len() > MAX_COLUMNS {
        return Err(FileError::Header(format!(
            "the header row names {} columns; at most {MAX_COLUMNS} are read",
            names.len()
        )));
    }
    let mut seen = std::collections::HashSet::with_capacity(names.len());
    for name in names.iter().filter(|n| !n.is_empty()) {
        if !seen.insert(name.as_str()) {
            return Err(FileError::Header(format!(
                "the header row names the column '{name}' twice"
            )));
        }
    }
    Ok(names)
}

/// A column name as imports compare them: lower case, `_` for spaces and dashes, common other
/// names of the known columns taken as them.
fn column_name(raw: &str) -> String {
    let name: String = raw
        .trim()
        .to_lowercase()
        .chars()
        .map(|c| if c == ' ' || c == '-' { '_' } else { c })
        .collect();
    match name.as_str() {
        "e_mail" | "email_address" => "email".into(),
        "phone_number" | "mobile" | "telephone" => "phone".into(),
        "full_name" => "name".into(),
        "last_contacted" | "last_contact_date" | "last_contact_at" => "last_contact".into(),
        _ => name,
    }
}

/// One row's outcome: the lead it gives, or why it was turned away; with its line.
pub type RowOutcome = (i64, Result<ImportedLead, String>);

/// Reads a chunk of CSV records under the file's header. Blank records are skipped.
pub fn csv_rows(header: &[String], chunk: &RawChunkRef<'_>) -> Vec<RowOutcome> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(chunk.body.as_bytes());
    let mut out = Vec::new();
    // Lines are counted from the bytes: the reader does not count the blank lines it skips.
    let body = chunk.body.as_bytes();
    let (mut counted_to, mut breaks) = (0usize, 0i64);
    let mut line_at = |byte: u64| {
        let byte = usize::try_from(byte).unwrap_or(usize::MAX).min(body.len());
        if byte > counted_to {
            // Judged in the whole body: a carriage return at the slice's end may have its line
            // feed just after it.
            breaks += (counted_to..byte).filter(|&i| is_break(body, i)).count() as i64;
            counted_to = byte;
        }
        // A record's position is where the reader began looking: before the blank lines.
        while let Some(b'\r' | b'\n') = body.get(counted_to) {
            breaks += i64::from(is_break(body, counted_to));
            counted_to += 1;
        }
        chunk.first_line + breaks
    };
    for record in reader.records() {
        let record = match record {
            Ok(record) => record,
            Err(e) => {
                let line = line_at(e.position().map_or(0, |p| p.byte()));
                out.push((line, Err("the row cannot be read as CSV".into())));
                continue;
            }
        };
        let line = line_at(record.position().map_or(0, |p| p.byte()));
        if record.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        if record.len() != header.len() {
            out.push((
                line,
                Err(format!(
                    "the row has {} fields where the header has {}",
                    record.len(),
                    header.len()
                )),
            ));
            continue;
        }
        let fields = header
            .iter()
            .zip(record.iter())
            .map(|(name, value)| (name.as_str(), Some(value.to_string())));
        out.push((line, check(fields)));
    }
    out
}

/// Reads a chunk of a JSON array of objects; `first_line` is the first object's place (from 1).
pub fn json_rows(chunk: &RawChunkRef<'_>) -> Vec<RowOutcome> {
    let items: Vec<Value> = match serde_json::from_str(chunk.body) {
        Ok(items) => items,
        Err(_) => return vec![(chunk.first_line, Err("the rows cannot be read".into()))],
    };
    let mut out = Vec::new();
    for (i, item) in items.into_iter().enumerate() {
        let line = chunk.first_line + i as i64;
        let Value::Object(object) = item else {
            out.push((line, Err("the item is not an object".into())));
            continue;
        };
        let mut fields = Vec::with_capacity(object.len());
        let mut bad = None;
        for (key, value) in object {
            let text = match value {
                Value::Null => None,
                Value::String(s) => Some(s),
                Value::Number(n) => Some(n.to_string()),
                Value::Bool(b) => Some(b.to_string()),
                Value::Array(_) | Value::Object(_) => {
                    bad = Some(format!("the field '{key}' must be text"));
                    break;
                }
            };
            fields.push((column_name(&key), text));
        }
        if let Some(reason) = bad {
            out.push((line, Err(reason)));
            continue;
        }
        out.push((
            line,
            check(fields.iter().map(|(k, v)| (k.as_str(), v.clone()))),
        ));
    }
    out
}

/// A chunk as the rows are read from it.
#[derive(Debug, Clone, Copy)]
pub struct RawChunkRef<'a> {
    /// The line (or item) its first row is on.
    pub first_line: i64,
    /// The rows.
    pub body: &'a str,
}

/// Checks one row's fields into a lead: an email or a phone, each valid when given; a date for
/// `last_contact`; sizes within bounds; other columns kept as extra fields. A status that is not
/// one of the hub's is kept as the row's `source_status` (the import maps it, else the lead is
/// `new`). A cell an export guarded against formulas (`'=`, `'+`, ...) is read without the `'`.
pub fn check<'a>(
    fields: impl Iterator<Item = (&'a str, Option<String>)>,
) -> Result<ImportedLead, String> {
    let mut lead = ImportedLead::default();
    let mut extra = BTreeMap::new();
    for (name, value) in fields {
        let Some(value) = value.as_deref().map(unguarded).filter(|v| !v.is_empty()) else {
            continue;
        };
        if [value.as_str(), name]
            .iter()
            .any(|t| t.contains(['\0', '\u{FFFD}']))
        {
            return Err(format!(
                "the field '{}' holds a NUL character (or one that could not be read)",
                shown(&name.replace(['\0', '\u{FFFD}'], ""))
            ));
        }
        match name {
            "name" => lead.name = Some(bounded(value, "name", 200)?),
            "email" => {
                let email = bounded(value, "email", 254)?.to_lowercase();
                if !looks_like_email(&email) {
                    return Err(format!("email '{}' is not a valid address", shown(&email)));
                }
                lead.email = Some(email);
            }
            "phone" => {
                if !looks_like_phone(&value) {
                    return Err(format!("phone '{}' is not a valid number", shown(&value)));
                }
                lead.phone = Some(normalize_phone(&value));
            }
            "company" => lead.company = Some(bounded(value, "company", 200)?),
            "channel" => lead.channel = Some(bounded(value, "channel", 64)?.to_lowercase()),
            "status" => {
                let status = value.to_lowercase();
                if crate::model::LEAD_STATUSES.contains(&status.as_str()) {
                    lead.status = Some(status);
                } else {
                    let word = bounded(value, "status", 100)?;
                    lead.source_status = Some(word.clone());
                    lead.status_word = Some(word);
                }
            }
            "source_status" => {
                if lead.status_word.is_none() {
                    lead.source_status = Some(bounded(value, "source_status", 100)?);
                }
            }
            "intent" => lead.intent = Some(bounded(value, "intent", 200)?),
            "summary" => lead.summary = Some(bounded(value, "summary", 1000)?),
            "notes" => lead.notes = Some(bounded(value, "notes", 4000)?),
            "last_contact" => {
                lead.last_contact_at = Some(parse_date(&value).ok_or_else(|| {
                    format!(
                        "last_contact '{}' is not a date (YYYY-MM-DD or RFC 3339)",
                        shown(&value)
                    )
                })?)
            }
            "" => {}
            other => {
                if extra.len() == MAX_EXTRA {
                    return Err(format!("the row has more than {MAX_EXTRA} extra fields"));
                }
                extra.insert(other.to_string(), bounded(value, other, 1000)?);
            }
        }
    }
    if lead.email.is_none() && lead.phone.is_none() {
        return Err("the row needs an email or a phone".into());
    }
    if !extra.is_empty() {
        lead.extra = serde_json::to_string(&extra).ok();
    }
    Ok(lead)
}

/// A cell's value, trimmed, without the `'` an export puts before a formula's first character.
fn unguarded(value: &str) -> String {
    let value = value.trim();
    match value.strip_prefix('\'') {
        Some(rest) if rest.starts_with(FORMULA_START) => rest.to_string(),
        _ => value.to_string(),
    }
}

/// A status word as a status map names it: trimmed, lower case.
pub fn status_key(word: &str) -> String {
    word.trim().to_lowercase()
}

/// The status a row's own word stands for: the import's mapping, else `new`; whether the
/// mapping gave it.
pub fn mapped_status(word: &str, map: &BTreeMap<String, String>) -> (String, bool) {
    match map.get(&status_key(word)) {
        Some(status) => (status.clone(), true),
        None => ("new".to_string(), false),
    }
}

fn bounded(value: String, name: &str, max: usize) -> Result<String, String> {
    if value.chars().count() > max {
        return Err(format!("{name} is longer than {max} characters"));
    }
    Ok(value)
}

/// A value as a reason quotes it: at most 60 characters.
fn shown(value: &str) -> String {
    let mut shown: String = value.chars().take(60).collect();
    if shown.len() < value.len() {
        shown.push('…');
    }
    shown
}

/// A date as imports give them: RFC 3339, `YYYY-MM-DD HH:MM[:SS]` (UTC) or `YYYY-MM-DD`.
pub fn parse_date(value: &str) -> Option<NaiveDateTime> {
    if let Ok(at) = DateTime::parse_from_rfc3339(value) {
        return Some(at.naive_utc());
    }
    for format in ["%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"] {
        if let Ok(at) = NaiveDateTime::parse_from_str(value, format) {
            return Some(at);
        }
    }
    NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
}

#[cfg(test)]
mod tests;
