//! What a file really is, from its first bytes (never its name or the sender's word), whether
//! it may be shown inline, and a file name safe to show and to send back.

use crate::model::MediaKind;
pub use crate::model::{declared_kind, safe_name};

/// Bytes read from the start of a file to tell its type.
pub const HEAD_BYTES: usize = 8192;

/// Images the thumbnailer reads.
const THUMBNAILED: [&str; 4] = ["image/jpeg", "image/png", "image/gif", "image/webp"];

/// A file's type as its bytes tell it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sniffed {
    /// The MIME type, `application/octet-stream` when the bytes say nothing known.
    pub content_type: String,
    /// Image, video or audio when it is shown inline; a file otherwise.
    pub kind: MediaKind,
}

/// The type of a file from its first bytes; `inline` lists the types shown inline, and a file
/// of any other type is a download (`MediaKind::File`).
pub fn sniff(head: &[u8], inline: &[String]) -> Sniffed {
    let content_type = match infer::get(head) {
        Some(found) => found.mime_type().to_string(),
        None if head.is_empty() => "application/octet-stream".to_string(),
        None if looks_like_markup(head) => "text/html".to_string(),
        None if std::str::from_utf8(head).is_ok() => "text/plain".to_string(),
        None => "application/octet-stream".to_string(),
    };
    let kind = if !inline.contains(&content_type) {
        MediaKind::File
    } else if content_type.starts_with("image/") {
        MediaKind::Image
    } else if content_type.starts_with("video/") {
        MediaKind::Video
    } else if content_type.starts_with("audio/") {
        MediaKind::Audio
    } else {
        MediaKind::File
    };
    Sniffed { content_type, kind }
}

/// Text that opens with a tag (SVG, HTML without a doctype): never shown inline.
fn looks_like_markup(head: &[u8]) -> bool {
    let text = String::from_utf8_lossy(head.get(..512).unwrap_or(head));
    let start = text
        .trim_start_matches('\u{feff}')
        .trim_start()
        .to_ascii_lowercase();
    start.starts_with('<')
}

/// Whether the thumbnailer reads this type.
pub fn thumbnailed(content_type: &str) -> bool {
    THUMBNAILED.contains(&content_type)
}

/// Whether `content_type` is one of `allowed` (`image/*` takes every image type).
pub fn type_allowed(allowed: &[String], content_type: &str) -> bool {
    allowed
        .iter()
        .any(|pattern| match pattern.strip_suffix("/*") {
            Some(family) => content_type
                .split_once('/')
                .is_some_and(|(f, _)| f == family),
            None => pattern == content_type,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inline() -> Vec<String> {
        ["image/png", "image/jpeg", "audio/mpeg", "video/mp4"]
            .map(String::from)
            .to_vec()
    }

    #[test]
    fn the_bytes_decide_not_the_name() {
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
        assert_eq!(sniff(png, &inline()).kind, MediaKind::Image);
        let html = b"<!DOCTYPE html><html><script>alert(1)</script>";
        let sniffed = sniff(html, &inline());
        assert_eq!(
            (sniffed.content_type.as_str(), sniffed.kind),
            ("text/html", MediaKind::File)
        );
        let svg = b"<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>";
        assert_eq!(sniff(svg, &inline()).kind, MediaKind::File);
        let zip = b"PK\x03\x04\x14\0\0\0\x08\0";
        assert_eq!(sniff(zip, &inline()).content_type, "application/zip");
        assert_eq!(
            sniff(b"", &inline()).content_type,
            "application/octet-stream"
        );
        let pdf = b"%PDF-1.7\n";
        assert_eq!(
            sniff(pdf, &inline()),
            Sniffed {
                content_type: "application/pdf".into(),
                kind: MediaKind::File
            }
        );
    }

    #[test]
    fn allowed_types_take_families() {
        let allowed = ["image/*".to_string(), "application/pdf".to_string()];
        assert!(type_allowed(&allowed, "image/png"));
        assert!(type_allowed(&allowed, "application/pdf"));
        assert!(!type_allowed(&allowed, "text/html"));
        assert!(!type_allowed(&allowed, "application/zip"));
    }

    #[test]
    fn names_lose_paths_and_control_characters() {
        assert_eq!(safe_name("../../etc/passwd").as_deref(), Some("passwd"));
        assert_eq!(safe_name("..\\..\\win.ini").as_deref(), Some("win.ini"));
        assert_eq!(safe_name("a\r\nb\0\"c.png").as_deref(), Some("abc.png"));
        assert_eq!(safe_name("..."), None);
        assert_eq!(safe_name(&"x".repeat(500)).map(|n| n.len()), Some(120));
    }
}
