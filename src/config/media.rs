//! Media settings: where kept photos and files live, how large they may be, which types are
//! shown inline, and how inbound attachments are fetched.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::raw::{ConfigError, RawSettings, Secret};
use super::setting::{DefaultValue, Section, Setting};
use crate::ratelimit::Limit;

/// The media settings.
pub const SECTION: Section = Section {
    title: "Media (photos, voice notes, files)",
    settings: &[
        Setting::special(
            "MEDIA_URL",
            DefaultValue::Derived("`file://$DATA_DIR/media`"),
            "where kept media lives: `file:///path` (one machine) or \
             `s3://bucket?endpoint=https://...&region=...` (AWS, MinIO, R2, Garage; keys from \
             `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY`)",
        ),
        Setting::special(
            "MEDIA_S3_ACCESS_KEY_ID",
            DefaultValue::Unset,
            "access key of the S3 bucket (else `AWS_ACCESS_KEY_ID` or the machine's role)",
        ),
        Setting::secret(
            "MEDIA_S3_SECRET_ACCESS_KEY",
            "secret key of the S3 bucket (else `AWS_SECRET_ACCESS_KEY`)",
        ),
        Setting::number(
            "MEDIA_MAX_BYTES",
            "26214400",
            1..=2_147_483_648,
            "largest attachment kept or uploaded, in bytes (25 MiB)",
        ),
        Setting::special(
            "MEDIA_INLINE_TYPES",
            DefaultValue::Value(DEFAULT_INLINE),
            "types shown inline (comma-separated); everything else is served as a download. \
             HTML, SVG, XML and PDF are never inline",
        ),
        Setting::number(
            "MEDIA_FETCH_ATTEMPTS",
            "16",
            1..=100,
            "tries to fetch an inbound attachment before it is recorded as failed",
        ),
        Setting::number(
            "MEDIA_RETRY_BASE_MS",
            "5000",
            1..=3_600_000,
            "wait after a failed fetch, doubling each time up to an hour",
        ),
        Setting::number(
            "MEDIA_SWEEP_MS",
            "2000",
            10..=3_600_000,
            "how often attachments waiting to be fetched are looked for",
        ),
        Setting::number(
            "MEDIA_LINK_TTL_SECONDS",
            "900",
            10..=604_800,
            "lifetime of a signed media link (the widget's downloads, Meta fetching our files)",
        ),
        Setting::limit(
            "WIDGET_UPLOAD_LIMIT_PER_SESSION",
            "10/60",
            "files a widget visitor may upload per window",
        ),
    ],
};

/// Types shown inline unless configured otherwise: images, audio and video browsers play.
const DEFAULT_INLINE: &str = "image/jpeg,image/png,image/gif,image/webp,audio/mpeg,audio/ogg,\
audio/mp4,audio/m4a,audio/aac,audio/x-wav,audio/wav,audio/webm,video/mp4,video/webm,video/quicktime";

/// Types that can carry script or render documents on our origin: never inline.
const NEVER_INLINE: [&str; 5] = ["html", "svg", "xml", "pdf", "javascript"];

/// Where the media store keeps its objects.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MediaLocation {
    /// A local folder.
    Folder(PathBuf),
    /// An S3-compatible bucket.
    S3 {
        /// The bucket.
        bucket: String,
        /// The service's URL; `None`: AWS for the region.
        endpoint: Option<String>,
        /// The region (`us-east-1` when not given).
        region: String,
    },
}

/// The media settings, read.
#[derive(Clone, Debug)]
pub struct MediaConfig {
    /// Where objects are kept (`MEDIA_URL`).
    pub location: MediaLocation,
    /// The bucket's access key, when set (`MEDIA_S3_ACCESS_KEY_ID`).
    pub s3_access_key_id: Option<String>,
    /// The bucket's secret key, when set (`MEDIA_S3_SECRET_ACCESS_KEY`).
    pub s3_secret_access_key: Option<Secret>,
    /// Largest attachment in bytes (`MEDIA_MAX_BYTES`).
    pub max_bytes: u64,
    /// Types served inline (`MEDIA_INLINE_TYPES`).
    pub inline_types: Vec<String>,
    /// Fetch tries per inbound attachment (`MEDIA_FETCH_ATTEMPTS`).
    pub fetch_attempts: i32,
    /// First wait after a failed fetch (`MEDIA_RETRY_BASE_MS`).
    pub retry_base: Duration,
    /// How often due fetches are looked for (`MEDIA_SWEEP_MS`).
    pub sweep: Duration,
    /// Lifetime of a signed link (`MEDIA_LINK_TTL_SECONDS`).
    pub link_ttl: Duration,
    /// Visitor uploads per session (`WIDGET_UPLOAD_LIMIT_PER_SESSION`).
    pub widget_upload_limit: Limit,
}

/// Reads the media section.
pub(super) fn media(raw: &RawSettings, data_dir: &Path) -> Result<MediaConfig, ConfigError> {
    Ok(MediaConfig {
        location: location(raw.get("MEDIA_URL"), data_dir)?,
        s3_access_key_id: raw
            .get("MEDIA_S3_ACCESS_KEY_ID")
            .map(str::trim)
            .filter(|k| !k.is_empty())
            .map(str::to_string),
        s3_secret_access_key: raw.secret("MEDIA_S3_SECRET_ACCESS_KEY")?,
        max_bytes: raw.number("MEDIA_MAX_BYTES")?,
        inline_types: inline_types(raw.value("MEDIA_INLINE_TYPES")?)?,
        fetch_attempts: raw.number("MEDIA_FETCH_ATTEMPTS")?,
        retry_base: raw.millis("MEDIA_RETRY_BASE_MS")?,
        sweep: raw.millis("MEDIA_SWEEP_MS")?,
        link_ttl: raw.seconds("MEDIA_LINK_TTL_SECONDS")?,
        widget_upload_limit: raw.limit("WIDGET_UPLOAD_LIMIT_PER_SESSION")?,
    })
}

/// `MEDIA_URL`: `file://` a folder, or `s3://` a bucket with its endpoint and region.
fn location(value: Option<&str>, data_dir: &Path) -> Result<MediaLocation, ConfigError> {
    let Some(value) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(MediaLocation::Folder(data_dir.join("media")));
    };
    let problem = |why: &str| ConfigError::new("MEDIA_URL", format!("'{value}' {why}"));
    if let Some(path) = value.strip_prefix("file://") {
        if path.is_empty() {
            return Err(problem("names no folder"));
        }
        return Ok(MediaLocation::Folder(PathBuf::from(path)));
    }
    let Some(rest) = value.strip_prefix("s3://") else {
        return Err(problem("is neither file:// nor s3://"));
    };
    let (bucket, query) = rest.split_once('?').unwrap_or((rest, ""));
    let bucket = bucket.trim_end_matches('/');
    if bucket.is_empty() || bucket.contains('/') {
        return Err(problem(
            "names no bucket (s3://bucket?endpoint=...&region=...)",
        ));
    }
    let mut endpoint = None;
    let mut region = "us-east-1".to_string();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, val) = pair.split_once('=').unwrap_or((pair, ""));
        match key {
            "endpoint" if super::raw::is_http_url(val) => {
                endpoint = Some(val.trim_end_matches('/').to_string());
            }
            "endpoint" => return Err(problem("has an endpoint that is not an http(s) URL")),
            "region" if !val.is_empty() => region = val.to_string(),
            other => return Err(problem(&format!("has an unknown parameter '{other}'"))),
        }
    }
    Ok(MediaLocation::S3 {
        bucket: bucket.to_string(),
        endpoint,
        region,
    })
}

/// `MEDIA_INLINE_TYPES`: lower-case types; a type that can carry script is refused.
fn inline_types(value: &str) -> Result<Vec<String>, ConfigError> {
    let types: Vec<String> = value
        .split(',')
        .map(|t| t.trim().to_ascii_lowercase())
        .filter(|t| !t.is_empty())
        .collect();
    if let Some(bad) = types
        .iter()
        .find(|t| NEVER_INLINE.iter().any(|n| t.contains(n)) || !t.contains('/'))
    {
        return Err(ConfigError::new(
            "MEDIA_INLINE_TYPES",
            format!("'{bad}' may not be shown inline (HTML, SVG, XML and PDF never are)"),
        ));
    }
    Ok(types)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_urls_name_a_folder_or_a_bucket() {
        let data = Path::new("/data");
        assert_eq!(
            location(None, data).unwrap(),
            MediaLocation::Folder(PathBuf::from("/data/media"))
        );
        assert_eq!(
            location(Some("file:///srv/media"), data).unwrap(),
            MediaLocation::Folder(PathBuf::from("/srv/media"))
        );
        assert_eq!(
            location(
                Some("s3://kept?endpoint=http://127.0.0.1:9000/&region=eu-central-1"),
                data
            )
            .unwrap(),
            MediaLocation::S3 {
                bucket: "kept".into(),
                endpoint: Some("http://127.0.0.1:9000".into()),
                region: "eu-central-1".into()
            }
        );
        assert!(location(Some("s3://?region=x"), data).is_err());
        assert!(location(Some("s3://b?endpoint=ftp://x"), data).is_err());
        assert!(location(Some("gs://b"), data).is_err());
    }

    #[test]
    fn script_capable_types_are_never_inline() {
        assert!(inline_types("image/png,video/mp4").is_ok());
        assert!(inline_types("image/svg+xml").is_err());
        assert!(inline_types("text/html").is_err());
        assert!(inline_types("application/pdf").is_err());
    }
}
