use std::io::Cursor;

use image::{ImageFormat, RgbImage};
use reqwest::multipart::{Form, Part};
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{problem, spawn_app, TestApp};

pub fn png(width: u32, height: u32) -> Vec<u8> {
    let image = RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, 120])
    });
    let mut out = Cursor::new(Vec::new());
    image.write_to(&mut out, ImageFormat::Png).unwrap();
    out.into_inner()
}

/// An MP4 of its three essential boxes: the file type, a movie index, and `media` as its media.
pub fn mp4(media: &[u8]) -> Vec<u8> {
    let mp4_box = |kind: &[u8], body: &[u8]| {
        let mut out = ((body.len() + 8) as u32).to_be_bytes().to_vec();
        out.extend_from_slice(kind);
        out.extend_from_slice(body);
        out
    };
    let mut file = mp4_box(b"ftyp", b"mp42\0\0\0\0mp42isom");
    file.extend(mp4_box(b"moov", &[0; 32]));
    file.extend(mp4_box(b"mdat", media));
    file
}

/// A JPEG carrying an EXIF segment with a GPS position in it.
fn jpeg_with_gps() -> Vec<u8> {
    let image = RgbImage::from_fn(64, 48, |x, _| image::Rgb([(x * 4) as u8, 10, 10]));
    let mut plain = Cursor::new(Vec::new());
    image.write_to(&mut plain, ImageFormat::Jpeg).unwrap();
    let plain = plain.into_inner();
    let payload = b"Exif\0\0MM\0*\0\0\0\x08GPSLatitude=31.2304N;GPSLongitude=121.4737E";
    let length = (payload.len() + 2) as u16;
    let mut out = plain[..2].to_vec(); // SOI
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&length.to_be_bytes());
    out.extend_from_slice(payload);
    out.extend_from_slice(&plain[2..]);
    out
}

/// Just the signature and header of a PNG that claims 20,000 × 20,000 pixels.
fn png_header_claiming(width: u32, height: u32) -> Vec<u8> {
    png_header_of(width, height, 8, 2)
}

/// A PNG that is only a header claiming these dimensions, bit depth and colour type.
fn png_header_of(width: u32, height: u32, depth: u8, color_type: u8) -> Vec<u8> {
    let mut ihdr = b"IHDR".to_vec();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[depth, color_type, 0, 0, 0]);
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    out.extend_from_slice(&13u32.to_be_bytes());
    out.extend_from_slice(&ihdr);
    out.extend_from_slice(&crc32(&ihdr).to_be_bytes());
    out.extend_from_slice(&[0, 0, 0, 0]);
    out.extend_from_slice(b"IDAT");
    out.extend_from_slice(&crc32(b"IDAT").to_be_bytes());
    out
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

impl TestApp {
    pub async fn upload(&self, token: &str, name: &str, bytes: Vec<u8>) -> reqwest::Response {
        let form = Form::new().part("file", Part::bytes(bytes).file_name(name.to_owned()));
        self.api
            .post(self.url("/api/v1/media"))
            .bearer_auth(token)
            .multipart(form)
            .send()
            .await
            .unwrap()
    }
}

#[tokio::test]
async fn an_image_becomes_a_display_and_a_card_derivative() {
    let app = spawn_app().await;
    let token = app.member("photographer").await;
    let response = app.upload(&token, "wide.png", png(3000, 1500)).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let media: Value = response.json().await.unwrap();
    assert_eq!(
        (
            media["kind"].as_str(),
            media["width"].as_i64(),
            media["height"].as_i64()
        ),
        (Some("image"), Some(1440), Some(720))
    );
    assert!(media["color"].as_str().unwrap().starts_with('#'));

    let display = app
        .api
        .get(app.url(media["url"].as_str().unwrap()))
        .send()
        .await
        .unwrap();
    assert_eq!(display.status(), StatusCode::OK);
    assert_eq!(display.headers()["content-type"], "image/jpeg");
    assert!(display.headers()["cache-control"]
        .to_str()
        .unwrap()
        .contains("immutable"));
    let card = app
        .api
        .get(app.url(media["card_url"].as_str().unwrap()))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let card = image::load_from_memory(&card).unwrap();
    assert_eq!((card.width(), card.height()), (540, 270));
}

#[tokio::test]
async fn location_and_camera_metadata_are_stripped() {
    let app = spawn_app().await;
    let token = app.member("traveller").await;
    let original = jpeg_with_gps();
    assert!(original.windows(11).any(|w| w == b"GPSLatitude"));
    let media: Value = app
        .upload(&token, "trip.jpg", original)
        .await
        .json()
        .await
        .unwrap();
    let stored = app
        .api
        .get(app.url(media["url"].as_str().unwrap()))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert!(!stored.windows(4).any(|w| w == b"Exif"));
    assert!(!stored.windows(11).any(|w| w == b"GPSLatitude"));
}

#[tokio::test]
async fn uploads_are_judged_by_content_and_bombs_are_refused() {
    let app = spawn_app().await;
    let token = app.member("uploader").await;
    let fake = app
        .upload(&token, "cat.jpg", b"<script>alert(1)</script>".to_vec())
        .await;
    assert_eq!(fake.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem(fake).await["errors"][0]["field"], "file");

    let bomb = app
        .upload(&token, "bomb.png", png_header_claiming(20_000, 20_000))
        .await;
    assert_eq!(bomb.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let detail = problem(bomb).await["errors"][0]["detail"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(detail.contains("20000 × 20000"), "{detail}");

    // Under the pixel limit, but 16-bit RGBA: eight bytes a pixel, refused from its header.
    let deep = app
        .upload(&token, "deep.png", png_header_of(7_000, 7_000, 16, 6))
        .await;
    assert_eq!(deep.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let detail = problem(deep).await["errors"][0]["detail"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(detail.contains("MiB to decode"), "{detail}");

    let mut truncated = png(200, 200);
    truncated.truncate(truncated.len() / 2);
    assert_eq!(
        app.upload(&token, "half.png", truncated).await.status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );

    // A page behind the first bytes of a video is not a video.
    let mut disguised = mp4(b"")[..24].to_vec();
    disguised.extend_from_slice(b"<html><script>alert(1)</script></html>");
    let fake_video = app.upload(&token, "clip.mp4", disguised).await;
    assert_eq!(fake_video.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let detail = problem(fake_video).await["errors"][0]["detail"].clone();
    assert!(
        detail.as_str().unwrap().contains("not a whole mp4"),
        "{detail}"
    );

    let anonymous = Form::new().part("file", Part::bytes(png(10, 10)).file_name("x.png"));
    let response = app
        .api
        .post(app.url("/api/v1/media"))
        .multipart(anonymous)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let missing = Form::new().text("other", "value");
    let response = app
        .api
        .post(app.url("/api/v1/media"))
        .bearer_auth(&token)
        .multipart(missing)
        .send()
        .await
        .unwrap();
    assert_eq!(problem(response).await["errors"][0]["field"], "file");
}

#[tokio::test]
async fn videos_are_served_in_byte_ranges_for_seeking() {
    let app = spawn_app().await;
    let token = app.member("videographer").await;
    let frames: Vec<u8> = (0..10_000u32).map(|i| (i % 251) as u8).collect();
    let mp4 = mp4(&frames);
    let response = app.upload(&token, "clip.mp4", mp4.clone()).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let media: Value = response.json().await.unwrap();
    assert_eq!(media["kind"], "video");
    let url = app.url(media["url"].as_str().unwrap());

    let part = app
        .api
        .get(&url)
        .header("range", "bytes=100-199")
        .send()
        .await
        .unwrap();
    assert_eq!(part.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        part.headers()["content-range"],
        format!("bytes 100-199/{}", mp4.len())
    );
    assert_eq!(part.bytes().await.unwrap().as_ref(), &mp4[100..200]);
    let tail = app
        .api
        .get(&url)
        .header("range", "bytes=-10")
        .send()
        .await
        .unwrap();
    assert_eq!(tail.bytes().await.unwrap().as_ref(), &mp4[mp4.len() - 10..]);
    let whole = app.api.get(&url).send().await.unwrap();
    assert_eq!(whole.headers()["accept-ranges"], "bytes");
    assert_eq!(whole.bytes().await.unwrap().len(), mp4.len());
    let missing = app
        .api
        .get(app.url("/media/v/00/nothing.mp4"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}
