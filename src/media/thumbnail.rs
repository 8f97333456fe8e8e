//! Thumbnails of kept images: small JPEGs for the inbox and chat view, made off the async
//! threads with bounded pixels, memory and time, so a hostile image cannot stall the hub.

use std::path::{Path, PathBuf};
use std::time::Duration;

use image::{ImageReader, Limits};

/// The longest side of a thumbnail, in pixels.
pub const SIDE: u32 = 320;
/// The widest or tallest image read.
const MAX_SIDE: u32 = 12_000;
/// The most memory one decode may take.
const MAX_ALLOC: u64 = 256 * 1024 * 1024;
/// The longest one thumbnail may take before it is given up.
const MAX_TIME: Duration = Duration::from_secs(10);

/// A JPEG thumbnail of the image at `path`, or why there is none.
pub async fn make(path: PathBuf) -> Result<Vec<u8>, String> {
    let work = tokio::task::spawn_blocking(move || make_now(&path));
    match tokio::time::timeout(MAX_TIME, work).await {
        Ok(Ok(result)) => result,
        Ok(Err(e)) => Err(format!("the thumbnailer stopped: {e}")),
        Err(_) => Err("the thumbnailer took too long".into()),
    }
}

fn make_now(path: &Path) -> Result<Vec<u8>, String> {
    let mut reader = ImageReader::open(path)
        .and_then(ImageReader::with_guessed_format)
        .map_err(|e| e.to_string())?;
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_ALLOC);
    reader.limits(limits);
    let image = reader.decode().map_err(|e| e.to_string())?;
    let small = image.thumbnail(SIDE, SIDE).to_rgb8();
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 80)
        .encode_image(&small)
        .map_err(|e| e.to_string())?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_image_shrinks_and_a_bomb_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let big = dir.path().join("big.png");
        image::RgbImage::from_pixel(1000, 500, image::Rgb([200, 10, 10]))
            .save(&big)
            .unwrap();
        let thumb = make(big).await.unwrap();
        let read = image::load_from_memory(&thumb).unwrap();
        assert_eq!((read.width(), read.height()), (SIDE, SIDE / 2));

        // A PNG header claiming 100000 x 100000 pixels.
        let bomb = dir.path().join("bomb.png");
        let mut header = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
        header.extend_from_slice(&100_000u32.to_be_bytes());
        header.extend_from_slice(&100_000u32.to_be_bytes());
        header.extend_from_slice(&[8, 2, 0, 0, 0, 0, 0, 0, 0]);
        std::fs::write(&bomb, header).unwrap();
        assert!(make(bomb).await.is_err());
    }
}
