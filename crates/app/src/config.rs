//! Layered configuration: defaults in code, then `hongshu.toml`, then `HONGSHU__SECTION__KEY`
//! environment variables, then command-line flags.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub server: ServerConfig,
    pub storage: StorageConfig,
    pub media: MediaConfig,
    pub search: SearchConfig,
    /// The discovery feed: recall sizes, engagement weights, traffic pools, spacing.
    pub feed: feed::FeedConfig,
    pub auth: AuthConfig,
    /// Rate limits on repeatable writes, and what one member may hold unpaid.
    pub limits: crate::web::limits::LimitsConfig,
    pub mall: MallConfig,
    pub log: LogConfig,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct MallConfig {
    /// Minutes an order waits for payment before it is cancelled and its stock released.
    pub pay_within_minutes: i64,
    /// Days after shipping after which an order the buyer has not confirmed completes.
    pub auto_complete_days: i64,
    /// Hongshu's commission on items, in basis points of their price (500 = 5 %).
    pub commission_bp: i64,
    /// Per-category commissions overriding `commission_bp`, e.g. `{ beauty = 800 }`.
    pub category_commission_bp: std::collections::BTreeMap<String, i64>,
    /// What the payment provider keeps, in basis points of each payment (60 = 0.6 %).
    pub channel_fee_bp: i64,
    /// Signs the sandbox provider's notifications; empty: a random key per start (one node).
    pub sandbox_key: String,
    /// Alipay, offered when `app_id` is set.
    pub alipay: AlipayConfig,
    /// WeChat Pay (API v3), offered when `mch_id` is set.
    pub wechatpay: WechatPayConfig,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields, default)]
pub struct AlipayConfig {
    pub app_id: String,
    /// The merchant's RSA private key (PKCS#8 PEM, or its base64 body as Alipay hands it out).
    pub private_key: String,
    /// Alipay's RSA public key (SPKI PEM or base64 body), to verify notifications.
    pub alipay_public_key: String,
    /// Empty: `https://openapi.alipay.com/gateway.do`.
    pub gateway: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields, default)]
pub struct WechatPayConfig {
    pub mch_id: String,
    pub app_id: String,
    /// Serial number of the merchant's API certificate.
    pub serial_no: String,
    /// The merchant's API private key (PKCS#8 PEM).
    pub private_key: String,
    /// WeChat Pay's platform public key (SPKI PEM), to verify notifications.
    pub platform_public_key: String,
    /// The 32-byte API v3 key that encrypts notification resources.
    pub apiv3_key: String,
    /// Empty: `https://api.mch.weixin.qq.com`.
    pub api_base: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    /// Address and port to listen on.
    pub bind: SocketAddr,
    /// The address people use to reach this server; `https://…` makes cookies `Secure`.
    pub public_url: String,
    /// This node's number (0–1023) in the id generator; distinct per node of one deployment.
    pub node_id: u16,
    /// Largest request body accepted, in bytes.
    pub body_limit: usize,
    /// Set when a reverse proxy stands in front: client addresses then come from the last
    /// `X-Forwarded-For` entry.
    pub behind_proxy: bool,
    /// `/metrics` answers only requests with `Authorization: Bearer <this>`; empty: it is not
    /// served at all (its counts per route are for operators, not visitors).
    pub metrics_token: String,
    /// Whether this node takes its turn at once-per-cluster work (the change log's cluster
    /// subscribers, such as notifications, and the chores: overdue orders, retention, the
    /// sandbox's deliveries). At least one node of a deployment must.
    pub cluster_work: bool,
    /// Seconds between rounds over overdue and long-shipped orders.
    pub chores_every_seconds: u64,
    /// The zone pages show times in for visitors and members who chose none (an IANA name).
    pub time_zone: kernel::Zone,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct StorageConfig {
    /// Folder for the SQLite database and media.
    pub data_dir: PathBuf,
    /// `sqlite://…` or `postgres://…`; empty means SQLite inside `data_dir`.
    pub database_url: String,
    pub max_connections: u32,
    /// Public notes kept ready in memory for feeds, search and boards (a few KB each).
    pub note_cache: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct MediaConfig {
    /// Largest image upload, in bytes.
    pub max_image_bytes: usize,
    /// Largest video upload, in bytes.
    pub max_video_bytes: usize,
    /// Images with more pixels are refused before they are decoded.
    pub max_image_pixels: u64,
    /// Images whose decoding would need more memory than this (bit depth and channels
    /// counted, from the header) are refused before they are decoded.
    pub max_decode_bytes: u64,
    /// Memory all decodes in progress may use together; an upload that would go over waits,
    /// and after 10 seconds is answered 503 with Retry-After.
    pub decode_memory_bytes: u64,
    /// Longest edge of the display-size derivative.
    pub display_edge: u32,
    /// Longest edge of the card-size derivative.
    pub card_edge: u32,
    /// Where media objects are kept: `local` (the media folder) or `s3` (any S3-compatible store).
    pub store: String,
    /// For `s3`: the endpoint of an S3-compatible service (MinIO, …); empty means AWS itself.
    pub s3_endpoint: String,
    pub s3_bucket: String,
    pub s3_region: String,
    pub s3_access_key_id: String,
    pub s3_secret_access_key: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SearchConfig {
    /// How much engagement (likes and collects) lifts a note in "best match": × (1 + w·ln(1+n)).
    pub engagement_weight: f32,
    /// After this many days a note's "best match" score is halved; 0 ignores age.
    pub half_life_days: f32,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AuthConfig {
    /// How long a sign-in lasts.
    pub session_days: i64,
    /// Sign-in attempts allowed at once for one account from one address, then one more per
    /// refill period.
    pub login_pair_burst: u32,
    pub login_pair_refill_seconds: u64,
    /// Sign-in attempts allowed at once for one account from all addresses together, then one
    /// more per refill period: much more than one address gets, so strangers cannot lock a
    /// member out, while guessing from many addresses stays slow.
    pub login_account_burst: u32,
    pub login_account_refill_seconds: u64,
    /// Sign-in attempts allowed at once from one address, then one more per refill period.
    pub login_address_burst: u32,
    pub login_address_refill_seconds: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LogConfig {
    /// A `tracing` filter, e.g. `info` or `hongshu=debug,sqlx=warn`.
    pub level: String,
    /// `text` for people, `json` for log collectors.
    pub format: String,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            server: ServerConfig {
                bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
                public_url: "http://127.0.0.1:8080".into(),
                node_id: 0,
                body_limit: 1024 * 1024,
                behind_proxy: false,
                metrics_token: String::new(),
                cluster_work: true,
                chores_every_seconds: 30,
                time_zone: kernel::Zone::shanghai(),
            },
            storage: StorageConfig {
                data_dir: PathBuf::from("data"),
                database_url: String::new(),
                max_connections: 16,
                note_cache: 20_000,
            },
            media: MediaConfig {
                max_image_bytes: 25 * 1024 * 1024,
                max_video_bytes: 200 * 1024 * 1024,
                max_image_pixels: 50_000_000,
                max_decode_bytes: 512 * 1024 * 1024,
                decode_memory_bytes: 640 * 1024 * 1024,
                display_edge: 1440,
                card_edge: 540,
                store: "local".into(),
                s3_endpoint: String::new(),
                s3_bucket: String::new(),
                s3_region: "us-east-1".into(),
                s3_access_key_id: String::new(),
                s3_secret_access_key: String::new(),
            },
            search: SearchConfig {
                engagement_weight: 0.3,
                half_life_days: 60.0,
            },
            feed: feed::FeedConfig::default(),
            auth: AuthConfig {
                session_days: 30,
                login_pair_burst: 5,
                login_pair_refill_seconds: 60,
                login_account_burst: 100,
                login_account_refill_seconds: 36,
                login_address_burst: 30,
                login_address_refill_seconds: 5,
            },
            limits: Default::default(),
            mall: MallConfig {
                pay_within_minutes: 15,
                auto_complete_days: 7,
                commission_bp: 500,
                category_commission_bp: Default::default(),
                channel_fee_bp: 60,
                sandbox_key: String::new(),
                alipay: AlipayConfig::default(),
                wechatpay: WechatPayConfig::default(),
            },
            log: LogConfig {
                level: "info,sqlx=warn".into(),
                format: "text".into(),
            },
        }
    }
}

/// Values given on the command line; they win over every other layer.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Overrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bind: Option<SocketAddr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
}

impl Config {
    /// Reads the layers in order. A missing config file is fine; a malformed one is an error.
    pub fn load(file: &Path, overrides: &Overrides) -> Result<Config, Box<figment::Error>> {
        Self::figment(file, overrides).extract().map_err(Box::new)
    }

    fn figment(file: &Path, overrides: &Overrides) -> Figment {
        let mut figment = Figment::from(Serialized::defaults(Config::default()))
            .merge(Toml::file(file))
            .merge(Env::prefixed("HONGSHU__").split("__"));
        if let Some(bind) = overrides.bind {
            figment = figment.merge(Serialized::default("server.bind", bind));
        }
        if let Some(dir) = &overrides.data_dir {
            figment = figment.merge(Serialized::default("storage.data_dir", dir));
        }
        if let Some(url) = &overrides.database_url {
            figment = figment.merge(Serialized::default("storage.database_url", url));
        }
        figment
    }

    /// The database to use: the configured URL, or a SQLite file inside the data folder.
    pub fn database_url(&self) -> String {
        if self.storage.database_url.is_empty() {
            store::sqlite_url(&self.storage.data_dir.join("hongshu.db"))
        } else {
            self.storage.database_url.clone()
        }
    }

    /// Where uploaded media is kept when no object store is configured.
    pub fn media_dir(&self) -> PathBuf {
        self.storage.data_dir.join("media")
    }

    /// Whether cookies must only travel over https.
    pub fn secure_cookies(&self) -> bool {
        self.server.public_url.starts_with("https://")
    }

    /// The configuration as a `hongshu.toml` that reproduces it, secrets redacted.
    pub fn to_toml(&self) -> anyhow::Result<String> {
        Ok(toml::to_string(&self.redacted())?)
    }

    /// A copy fit to print: passwords in URLs replaced by `***`.
    pub fn redacted(&self) -> Config {
        let mut copy = self.clone();
        copy.storage.database_url = redact_url_password(&copy.storage.database_url);
        for secret in [
            &mut copy.server.metrics_token,
            &mut copy.mall.sandbox_key,
            &mut copy.mall.alipay.private_key,
            &mut copy.mall.wechatpay.private_key,
            &mut copy.mall.wechatpay.apiv3_key,
        ] {
            if !secret.is_empty() {
                *secret = "***".into();
            }
        }
        if !copy.media.s3_secret_access_key.is_empty() {
            copy.media.s3_secret_access_key = "***".into();
        }
        copy
    }
}

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`; also `?password=…`.
pub fn redact_url_password(url: &str) -> String {
    let mut out = url.to_owned();
    if let Some(scheme_end) = out.find("://") {
        let rest_start = scheme_end + 3;
        let authority_end = out[rest_start..]
            .find(['/', '?'])
            .map_or(out.len(), |i| rest_start + i);
        if let Some(at) = out[rest_start..authority_end].rfind('@') {
            let userinfo = &out[rest_start..rest_start + at];
            if let Some(colon) = userinfo.find(':') {
                out.replace_range(rest_start + colon + 1..rest_start + at, "***");
            }
        }
    }
    if let Some(start) = out.find("password=") {
        let value_start = start + "password=".len();
        let value_end = out[value_start..]
            .find('&')
            .map_or(out.len(), |i| value_start + i);
        out.replace_range(value_start..value_end, "***");
    }
    out
}

#[cfg(test)]
// figment's `Jail` fixes the closures' error type; it is large but only tests return it.
#[allow(clippy::result_large_err)]
mod tests {
    use super::*;

    #[test]
    fn passwords_in_database_urls_are_redacted() {
        assert_eq!(
            redact_url_password("postgres://hs:s3cr3t@db.example:5432/hongshu"),
            "postgres://hs:***@db.example:5432/hongshu"
        );
        assert_eq!(
            redact_url_password("postgres://db/hongshu?user=hs&password=s3cr3t&sslmode=require"),
            "postgres://db/hongshu?user=hs&password=***&sslmode=require"
        );
        assert_eq!(
            redact_url_password("sqlite://data/h.db"),
            "sqlite://data/h.db"
        );
    }

    #[test]
    fn layers_apply_in_order_file_then_environment_then_flags() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "hongshu.toml",
                "[server]\nbind = \"0.0.0.0:9000\"\n[storage]\ndata_dir = \"from-file\"\n",
            )?;
            jail.set_env("HONGSHU__STORAGE__DATA_DIR", "from-env");
            jail.set_env("HONGSHU__AUTH__SESSION_DAYS", "7");
            let file = Path::new("hongshu.toml");
            let config = Config::load(file, &Overrides::default()).unwrap();
            assert_eq!(config.server.bind.port(), 9000);
            assert_eq!(config.storage.data_dir, PathBuf::from("from-env"));
            assert_eq!(config.auth.session_days, 7);
            let flags = Overrides {
                data_dir: Some("from-flag".into()),
                ..Overrides::default()
            };
            let config = Config::load(file, &flags).unwrap();
            assert_eq!(config.storage.data_dir, PathBuf::from("from-flag"));
            Ok(())
        });
    }

    #[test]
    fn the_printed_configuration_reads_back_as_the_same_configuration() {
        figment::Jail::expect_with(|jail| {
            let mut config = Config::default();
            config.mall.alipay.app_id = "2021000123456789".into();
            config
                .mall
                .category_commission_bp
                .insert("beauty".into(), 800);
            jail.create_file("hongshu.toml", &config.to_toml().unwrap())?;
            let read = Config::load(Path::new("hongshu.toml"), &Overrides::default()).unwrap();
            assert_eq!(read, config);
            Ok(())
        });
    }

    #[test]
    fn unknown_keys_are_reported_not_ignored() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("hongshu.toml", "[server]\nbnd = \"0.0.0.0:9000\"\n")?;
            assert!(Config::load(Path::new("hongshu.toml"), &Overrides::default()).is_err());
            Ok(())
        });
    }
}
