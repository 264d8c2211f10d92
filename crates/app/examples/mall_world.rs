//! A mall for the checkout benchmark: `mall_world <data folder> <buyers> <skus> [database url]`
//! opens one store with `skus` SKUs (ten per product, stock plenty), signs up `buyers` buyers
//! with a saved address and a personal API token each, and writes `<data folder>/mall-buyers.txt`
//! ("token address-id" per line) and `<data folder>/mall-skus.txt` (a SKU id per line) for the
//! HTTP load generator. Everything goes through Hongshu's own services.

use std::io::Cursor;
use std::path::{Path, PathBuf};

use app::config::{Config, Overrides};
use app::orders::types::AddressDraft;
use app::shop::service::{ProductDraft, StoreDraft};
use app::shop::types::{ProductState, Shipping, SkuDraft, MAX_STOCK};
use app::{accounts, media, orders, orgs, shop};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [data, buyers, skus, rest @ ..] = args.as_slice() else {
        anyhow::bail!("usage: mall_world <data folder> <buyers> <skus> [database url]");
    };
    let overrides = Overrides {
        data_dir: Some(PathBuf::from(data)),
        database_url: rest.first().cloned(),
        ..Overrides::default()
    };
    let state = app::open(Config::load(Path::new("none.toml"), &overrides)?).await?;
    let started = std::time::Instant::now();
    let owner = accounts::service::signup(
        &state,
        "bench_merchant",
        "Bench Merchant",
        "bench-password-1",
    )
    .await?;
    orgs::service::create(&state, &owner, "bench_brand", "Bench Brand").await?;
    let shipping = Shipping {
        fee: 800,
        free_over: 9_900,
        region_fees: Default::default(),
    };
    let draft = StoreDraft {
        name: "Bench store".into(),
        description: String::new(),
        shipping,
        logo_media_id: None,
    };
    let store = shop::service::open_store(&state, &owner, "bench_brand", &draft).await?;
    let image = media::service::upload(&state, &owner, png().into()).await?;
    let mut sku_ids = Vec::new();
    for product in 0..skus.parse::<usize>()?.div_ceil(10) {
        let draft = ProductDraft {
            title: format!("Bench product {product}"),
            description: String::new(),
            category: "beauty".into(),
            state: ProductState::OnSale,
            commission_percent: 0,
            media_ids: vec![image.id],
        };
        let variants: Vec<SkuDraft> = (0..10)
            .map(|v| SkuDraft {
                code: format!("B{product}-{v}"),
                name: format!("Variant {v}"),
                price: 1_000 + 100 * v,
                stock: MAX_STOCK,
                weight_g: 100,
            })
            .collect();
        let made =
            shop::service::create_product(&state, &owner, store.id, &draft, &variants).await?;
        sku_ids.extend(made.skus.iter().map(|s| s.id.as_i64().to_string()));
    }
    let mut lines = Vec::new();
    for i in 0..buyers.parse::<usize>()? {
        let buyer = accounts::service::signup(
            &state,
            &format!("bench_buyer{i}"),
            "Buyer",
            "bench-password-1",
        )
        .await?;
        let to = AddressDraft {
            name: "Bench Buyer".into(),
            phone: "13800138000".into(),
            region: "上海".into(),
            detail: "1 Bench Road".into(),
        };
        let address = orders::service::add_address(&state, &buyer, &to).await?;
        let (_, token) = accounts::service::create_personal_token(&state, &buyer, "bench").await?;
        lines.push(format!("{token} {}", address.id.as_i64()));
    }
    std::fs::write(Path::new(data).join("mall-buyers.txt"), lines.join("\n"))?;
    std::fs::write(Path::new(data).join("mall-skus.txt"), sku_ids.join("\n"))?;
    println!(
        "one store, {} SKUs, {} buyers made in {:.1} s",
        sku_ids.len(),
        lines.len(),
        started.elapsed().as_secs_f64()
    );
    state.close().await;
    Ok(())
}

/// A small product photo.
fn png() -> Vec<u8> {
    let image =
        image::RgbImage::from_fn(64, 64, |x, y| image::Rgb([x as u8 * 4, y as u8 * 4, 128]));
    let mut out = Cursor::new(Vec::new());
    image
        .write_to(&mut out, image::ImageFormat::Png)
        .expect("encoding to memory does not fail");
    out.into_inner()
}
