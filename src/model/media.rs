//! Attachments in the vocabulary: how many a message carries, what a channel's word for a
//! file means, and a file name safe to show and to send back.

use super::MediaKind;

/// Files one upload or one message carries at most.
pub const MAX_ATTACHMENTS: usize = 10;

/// Whether a type from the channel's word (`image`, `video`, `audio`, `file`) names a kind of
/// media the hub keeps.
pub fn declared_kind(channel_type: &str) -> Option<MediaKind> {
    match channel_type {
        "image" | "sticker" | "animated_image" => Some(MediaKind::Image),
        "video" | "ig_reel" | "reel" => Some(MediaKind::Video),
        "audio" => Some(MediaKind::Audio),
        "file" | "document" => Some(MediaKind::File),
        _ => None,
    }
}

/// A file name safe to show and to send in a header: its last path segment, without control
/// characters, quotes or leading dots, at most 120 characters; `None` when nothing is left.
pub fn safe_name(name: &str) -> Option<String> {
    let last = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = last
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '"' | '\u{202e}' | '\u{202d}'))
        .collect();
    let cleaned = cleaned.trim().trim_start_matches('.').trim();
    let cut: String = cleaned.chars().take(120).collect();
    (!cut.is_empty()).then_some(cut)
}
