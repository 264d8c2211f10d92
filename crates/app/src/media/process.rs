//! Turning uploaded bytes into what Hongshu stores: pure functions, no I/O.

use std::io::Cursor;

use image::codecs::jpeg::JpegEncoder;
use image::imageops::FilterType;
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, RgbImage};

/// What the bytes are, judged by their content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detected {
    Image(ImageFormat),
    Mp4,
    Webm,
}

/// Recognises JPEG, PNG and WebP images and MP4 and WebM videos by their first bytes.
pub fn detect(bytes: &[u8]) -> Option<Detected> {
    if bytes.len() >= 12 && &bytes[4..8] == b"ftyp" {
        return Some(Detected::Mp4);
    }
    if bytes.starts_with(&[0x1A, 0x45, 0xDF, 0xA3])
        && bytes.windows(4).take(64).any(|w| w == b"webm")
    {
        return Some(Detected::Webm);
    }
    match image::guess_format(bytes) {
        Ok(format @ (ImageFormat::Jpeg | ImageFormat::Png | ImageFormat::WebP)) => {
            Some(Detected::Image(format))
        }
        _ => None,
    }
}

#[derive(Debug, Clone, Copy)]
pub struct ImageLimits {
    /// Largest number of pixels decoded; bigger images are refused before decoding.
    pub max_pixels: u64,
    /// Most memory one decode may need; bigger needs are refused before decoding.
    pub max_bytes: u64,
    /// Longest edge of the display derivative.
    pub display_edge: u32,
    /// Longest edge of the card derivative (feed waterfall).
    pub card_edge: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImageError {
    #[error("has {width} × {height} pixels; the limit is {limit} pixels")]
    TooManyPixels { width: u32, height: u32, limit: u64 },
    #[error("would need {needed_mib} MiB to decode; the limit is {limit_mib} MiB")]
    TooMuchMemory { needed_mib: u64, limit_mib: u64 },
    #[error("could not be decoded as an image")]
    Corrupt,
}

/// The derivatives of one image, as JPEG, with what cards need to lay it out.
pub struct Derived {
    pub width: u32,
    pub height: u32,
    /// Average colour, for the placeholder shown while the image loads: `#rrggbb`.
    pub color: String,
    pub display: Vec<u8>,
    pub card: Vec<u8>,
}

/// The most memory deriving this image can take, read from its header alone and refused when
/// it is over the limits: the decoded pixels at their own bit depth and channels, the 8-bit
/// copy made from them, and the scaler's working rows for the display size.
pub fn memory_needed(
    bytes: &[u8],
    format: ImageFormat,
    limits: ImageLimits,
) -> Result<u64, ImageError> {
    let decoder = ImageReader::with_format(Cursor::new(bytes), format)
        .into_decoder()
        .map_err(|_| ImageError::Corrupt)?;
    let (width, height) = decoder.dimensions();
    let pixels = u64::from(width) * u64::from(height);
    if pixels > limits.max_pixels {
        return Err(ImageError::TooManyPixels {
            width,
            height,
            limit: limits.max_pixels,
        });
    }
    let scaled_rows = u64::from(height.min(limits.display_edge));
    let needed = decoder.total_bytes() + 4 * pixels + 12 * u64::from(width) * scaled_rows;
    if needed > limits.max_bytes {
        return Err(ImageError::TooMuchMemory {
            needed_mib: needed.div_ceil(1 << 20),
            limit_mib: limits.max_bytes >> 20,
        });
    }
    Ok(needed)
}

/// Decodes under limits, turns it upright, flattens transparency onto white, and re-encodes
/// display and card sizes. Re-encoding from pixels drops EXIF, GPS and every other metadata.
pub fn derive(
    bytes: &[u8],
    format: ImageFormat,
    limits: ImageLimits,
) -> Result<Derived, ImageError> {
    memory_needed(bytes, format, limits)?;
    let mut decoder = ImageReader::with_format(Cursor::new(bytes), format)
        .into_decoder()
        .map_err(|_| ImageError::Corrupt)?;
    let mut budget = image::Limits::default();
    budget.max_alloc = Some(decoder.total_bytes() + 1024 * 1024);
    decoder
        .set_limits(budget)
        .map_err(|_| ImageError::Corrupt)?;
    let orientation = decoder.orientation().map_err(|_| ImageError::Corrupt)?;
    let mut image = DynamicImage::from_decoder(decoder).map_err(|_| ImageError::Corrupt)?;
    image.apply_orientation(orientation);
    let pixels = flatten_on_white(image);
    let display = fit(&pixels, limits.display_edge);
    drop(pixels);
    let card = fit(&display, limits.card_edge);
    Ok(Derived {
        width: display.width(),
        height: display.height(),
        color: average_color(&card),
        display: encode_jpeg(&display)?,
        card: encode_jpeg(&card)?,
    })
}

/// 8-bit RGB on white; the decoded image is consumed, so no more than one copy of it lives.
fn flatten_on_white(image: DynamicImage) -> RgbImage {
    if !image.color().has_alpha() {
        return image.into_rgb8();
    }
    let rgba = image.into_rgba8();
    RgbImage::from_fn(rgba.width(), rgba.height(), |x, y| {
        let [r, g, b, a] = rgba.get_pixel(x, y).0;
        let over_white =
            |c: u8| ((u16::from(c) * u16::from(a) + 255 * (255 - u16::from(a))) / 255) as u8;
        image::Rgb([over_white(r), over_white(g), over_white(b)])
    })
}

/// Scales down (never up) so that the longest edge is at most `edge`.
fn fit(image: &RgbImage, edge: u32) -> RgbImage {
    let (w, h) = image.dimensions();
    let longest = w.max(h);
    if longest <= edge {
        return image.clone();
    }
    let scale = f64::from(edge) / f64::from(longest);
    let (nw, nh) = (
        ((f64::from(w) * scale).round() as u32).max(1),
        ((f64::from(h) * scale).round() as u32).max(1),
    );
    image::imageops::resize(image, nw, nh, FilterType::Triangle)
}

fn average_color(image: &RgbImage) -> String {
    let count = u64::from(image.width()) * u64::from(image.height());
    let mut sums = [0u64; 3];
    for pixel in image.pixels() {
        for (sum, channel) in sums.iter_mut().zip(pixel.0) {
            *sum += u64::from(channel);
        }
    }
    let [r, g, b] = sums.map(|s| s / count.max(1));
    format!("#{r:02x}{g:02x}{b:02x}")
}

fn encode_jpeg(image: &RgbImage) -> Result<Vec<u8>, ImageError> {
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, 85)
        .encode_image(image)
        .map_err(|_| ImageError::Corrupt)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: ImageLimits = ImageLimits {
        max_pixels: 40_000_000,
        max_bytes: 512 << 20,
        display_edge: 1440,
        card_edge: 540,
    };

    fn png(width: u32, height: u32) -> Vec<u8> {
        let image = RgbImage::from_fn(width, height, |x, _| image::Rgb([(x % 256) as u8, 80, 160]));
        let mut out = Cursor::new(Vec::new());
        image.write_to(&mut out, ImageFormat::Png).unwrap();
        out.into_inner()
    }

    #[test]
    fn formats_are_recognised_by_content() {
        assert_eq!(detect(&png(2, 2)), Some(Detected::Image(ImageFormat::Png)));
        assert_eq!(detect(b"\0\0\0\x18ftypmp42\0\0\0\0"), Some(Detected::Mp4));
        assert_eq!(
            detect(b"\x1A\x45\xDF\xA3\x9f\x42\x86\x81\x01\x42\x82\x84webm"),
            Some(Detected::Webm)
        );
        assert_eq!(detect(b"<html>not an image</html>"), None);
        assert_eq!(detect(b"GIF89a......"), None);
    }

    #[test]
    fn derivatives_keep_the_aspect_ratio_and_shrink_to_their_edge() {
        let derived = derive(&png(3000, 1500), ImageFormat::Png, LIMITS).unwrap();
        assert_eq!((derived.width, derived.height), (1440, 720));
        let card = image::load_from_memory(&derived.card).unwrap();
        assert_eq!((card.width(), card.height()), (540, 270));
        assert!(derived.color.starts_with('#') && derived.color.len() == 7);
    }

    #[test]
    fn a_huge_image_is_refused_from_its_header_alone() {
        let limits = ImageLimits {
            max_pixels: 1_000,
            ..LIMITS
        };
        let refused = derive(&png(100, 100), ImageFormat::Png, limits).err();
        assert_eq!(
            refused,
            Some(ImageError::TooManyPixels {
                width: 100,
                height: 100,
                limit: 1_000
            })
        );
    }

    /// A 16-bit RGBA PNG of one colour: tiny on the wire, eight bytes a pixel decoded.
    fn deep_png(width: u32, height: u32) -> Vec<u8> {
        let image = image::ImageBuffer::<image::Rgba<u16>, _>::from_pixel(
            width,
            height,
            image::Rgba([40_000, 20_000, 10_000, 65_535]),
        );
        let mut out = Cursor::new(Vec::new());
        image.write_to(&mut out, ImageFormat::Png).unwrap();
        out.into_inner()
    }

    #[test]
    fn memory_is_counted_with_bit_depth_and_channels_before_decoding() {
        let deep = deep_png(1000, 1000);
        let shallow = png(1000, 1000);
        let deep_need = memory_needed(&deep, ImageFormat::Png, LIMITS).unwrap();
        let shallow_need = memory_needed(&shallow, ImageFormat::Png, LIMITS).unwrap();
        assert_eq!(
            deep_need - shallow_need,
            5 * 1_000_000,
            "8 bytes a pixel, not 3"
        );
        let tight = ImageLimits {
            max_bytes: 20 << 20,
            ..LIMITS
        };
        assert!(derive(&shallow, ImageFormat::Png, tight).is_ok());
        assert_eq!(
            derive(&deep, ImageFormat::Png, tight).err(),
            Some(ImageError::TooMuchMemory {
                needed_mib: 23,
                limit_mib: 20
            })
        );
    }

    #[test]
    fn truncated_images_are_corrupt_not_a_crash() {
        let mut bytes = png(64, 64);
        bytes.truncate(bytes.len() / 2);
        assert_eq!(
            derive(&bytes, ImageFormat::Png, LIMITS).err(),
            Some(ImageError::Corrupt)
        );
    }
}
