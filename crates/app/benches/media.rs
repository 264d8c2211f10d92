//! Image upload processing: `cargo bench -p app --bench media`.
//!
//! A 12-megapixel (4000 × 3000) JPEG photo goes through what an upload does — check the header
//! against the pixel limit, decode, turn upright, strip metadata by re-encoding, and make the
//! display and card derivatives. Beside it, in the same run, the floor: only decoding the same
//! JPEG, which no upload can avoid.

use std::io::Cursor;
use std::time::{Duration, Instant};

use app::media::process::{derive, ImageLimits};
use image::codecs::jpeg::JpegEncoder;
use image::{ImageFormat, Rgb, RgbImage};

const RUNS: usize = 7;

fn photo() -> Vec<u8> {
    // Smooth gradients with noise, so the JPEG is photo-sized (several MB), not a flat colour.
    let mut seed = 0x2545_F491u32;
    let image = RgbImage::from_fn(4000, 3000, |x, y| {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        let noise = (seed % 24) as u8;
        Rgb([
            (x / 16) as u8 ^ noise,
            (y / 12) as u8,
            ((x + y) / 28) as u8 ^ noise,
        ])
    });
    let mut out = Cursor::new(Vec::new());
    JpegEncoder::new_with_quality(&mut out, 92)
        .encode_image(&image)
        .unwrap();
    out.into_inner()
}

fn time(runs: usize, mut work: impl FnMut()) -> Vec<Duration> {
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let started = Instant::now();
            work();
            started.elapsed()
        })
        .collect();
    times.sort();
    times
}

fn main() {
    let bytes = photo();
    let limits = ImageLimits {
        max_pixels: 50_000_000,
        max_bytes: 512 << 20,
        display_edge: 1440,
        card_edge: 540,
    };
    let decode = time(RUNS, || {
        image::load_from_memory_with_format(&bytes, ImageFormat::Jpeg).unwrap();
    });
    let upload = time(RUNS, || {
        derive(&bytes, ImageFormat::Jpeg, limits).unwrap();
    });
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "12-megapixel JPEG, {:.1} MB, {RUNS} runs each",
        bytes.len() as f64 / 1e6
    );
    println!("| work | median | slowest |");
    println!("|---|---:|---:|");
    println!(
        "| decode only (floor) | {:.0} ms | {:.0} ms |",
        ms(decode[RUNS / 2]),
        ms(decode[RUNS - 1])
    );
    println!(
        "| upload: check, decode, strip, display + card derivatives | {:.0} ms | {:.0} ms |",
        ms(upload[RUNS / 2]),
        ms(upload[RUNS - 1])
    );
    println!(
        "ratio (median): {:.2}× the decode floor",
        ms(upload[RUNS / 2]) / ms(decode[RUNS / 2])
    );
}
