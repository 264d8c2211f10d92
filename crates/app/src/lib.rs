//! Hongshu's application: the domains and the HTTP server that carries them.

pub mod accounts;
pub mod changes;
pub mod cluster;
pub mod config;
pub mod demo;
pub mod error;
pub mod feed;
pub mod jobs;
pub mod ledger;
pub mod media;
pub mod moving;
pub mod notes;
pub mod ops;
pub mod orders;
pub mod orgs;
pub mod payments;
pub mod privacy;
pub mod search;
pub mod shop;
pub mod social;
pub mod state;
pub mod web;

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use axum::extract::DefaultBodyLimit;
use axum::middleware::{from_fn, from_fn_with_state};
use axum::routing::get;
use axum::Router;
use tokio::net::TcpListener;
use tower_http::compression::CompressionLayer;
use tower_http::trace::TraceLayer;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

use crate::config::Config;
use crate::error::AppError;
use crate::state::AppState;
use crate::web::{limits, metrics, pages, security};

#[derive(OpenApi)]
#[openapi(
    info(title = "Hongshu API", description = "Notes, community and commerce. Ids are strings; \
        times are RFC 3339; errors are application/problem+json (RFC 9457)."),
    modifiers(&BearerAuth),
    components(schemas(search::types::SearchType, search::types::SearchSort)),
    security(("bearer" = [])),
    tags((name = "accounts"), (name = "notes"), (name = "social"), (name = "search"), (name = "feed"), (name = "orgs"), (name = "ledger"), (name = "admin"))
)]
struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}

/// Every route of Hongshu with its middleware, ready to serve.
pub fn router(state: AppState) -> Router {
    let (api, mut openapi) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .nest(
            "/api/v1",
            accounts::api::router()
                .merge(orgs::api::router())
                .merge(ledger::api::router())
                .merge(media::api::router(&state))
                .merge(notes::api::router())
                .merge(social::api::router())
                .merge(search::api::router())
                .merge(feed::api::router())
                .merge(shop::api::router())
                .merge(orders::api::router())
                .merge(payments::api::router())
                .merge(privacy::api::router()),
        )
        .split_for_parts();
    utoipa::Modify::modify(&web::openapi::ProblemResponses, &mut openapi);
    let site = Router::new()
        .route("/lang", get(pages::switch_language))
        .route("/static/app.css", get(pages::stylesheet))
        .route("/static/app.js", get(pages::script))
        .route("/favicon.svg", get(pages::favicon))
        .route("/favicon.ico", get(pages::favicon))
        .merge(accounts::pages::router())
        .merge(notes::pages::router())
        .merge(social::pages::router())
        .merge(search::pages::router())
        .merge(feed::pages::router())
        .merge(shop::pages::router())
        .merge(orders::pages::router())
        .merge(payments::pages::router())
        .merge(privacy::pages::router());
    // Pages, styles, scripts, JSON and metrics go out compressed (gzip or brotli, as the client
    // accepts; not under 32 bytes); media files are compressed already.
    let text = Router::new()
        .merge(api)
        .merge(site)
        .merge(ops::router(openapi))
        .layer(CompressionLayer::new());
    Router::new()
        .merge(text)
        .merge(media::api::files())
        .fallback(|| async { AppError::NotFound("page") })
        .method_not_allowed_fallback(|| async { AppError::MethodNotAllowed })
        .route_layer(from_fn_with_state(state.clone(), limits::gate))
        .route_layer(from_fn_with_state(state.clone(), metrics::track))
        .layer(DefaultBodyLimit::max(state.config.server.body_limit))
        .layer(from_fn_with_state(state.clone(), security::same_origin))
        .layer(from_fn_with_state(state.clone(), pages::problem_pages))
        .layer(from_fn_with_state(state.clone(), pages::csrf_token))
        .layer(from_fn(security::headers))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Opens the database (creating the data folder and applying migrations) and builds the state
/// of a server, which must be the only running process with its `server.node_id`.
pub async fn open(config: Config) -> anyhow::Result<AppState> {
    let claim = cluster::NodeIdClaim::Exactly(config.server.node_id);
    open_as(config, claim).await
}

/// As [`open`], for a command run beside the servers: it takes a free node id of its own.
pub async fn open_command(config: Config) -> anyhow::Result<AppState> {
    open_as(config, cluster::NodeIdClaim::AnyFree).await
}

/// Creates the data folder and the media folder when they are missing.
pub fn make_folders(config: &Config) -> anyhow::Result<()> {
    for dir in [config.storage.data_dir.clone(), config.media_dir()] {
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create the folder {}", dir.display()))?;
    }
    Ok(())
}

async fn open_as(mut config: Config, claim: cluster::NodeIdClaim) -> anyhow::Result<AppState> {
    make_folders(&config)?;
    let url = config.database_url();
    let db = store::Db::connect(&url, config.storage.max_connections)
        .await
        .with_context(|| {
            format!(
                "cannot open the database {}",
                config::redact_url_password(&url)
            )
        })?;
    db.migrate()
        .await
        .context("cannot apply database migrations")?;
    let node = cluster::Node::claim(&db, claim).await?;
    config.server.node_id = node.id;
    let ledger = ::ledger::DurableLedger::open(db.clone(), ::ledger::DEFAULT_MAX_BATCH)
        .await
        .context("cannot load the ledger")?;
    let media = media::service::open_objects(&config).context("cannot open the media store")?;
    let weights = ::search::Weights {
        engagement: config.search.engagement_weight,
        half_life_days: config.search.half_life_days,
    };
    let search = search::service::Search::new(weights).context("cannot start search")?;
    let payments = payments::service::Payments::new(&config.mall)
        .context("cannot set up the payment providers")?;
    Ok(AppState::new(
        db, node, ledger, media, search, payments, config,
    ))
}

/// Serves until `shutdown` completes, then finishes the requests in flight.
pub async fn run(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let mut tasks = vec![
        tokio::spawn(housekeeping(state.clone())),
        tokio::spawn(cluster::keep_node_id(state.clone())),
    ];
    if state.config.server.cluster_work {
        tasks.push(tokio::spawn(cluster::run_chores(state.clone(), chores)));
    }
    let followers = follow_changes(&state);
    if let Ok(address) = listener.local_addr() {
        state.payments.serving_at(address);
    }
    let app = router(state.clone()).into_make_service_with_connect_info::<SocketAddr>();
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await;
    for task in tasks {
        task.abort();
    }
    for follower in followers {
        follower.abort();
    }
    state.close().await;
    served.context("the server stopped with an error")
}

/// Every subscriber of the change log, each on a task of its own, and the log's own upkeep.
fn follow_changes(state: &AppState) -> Vec<tokio::task::JoinHandle<()>> {
    use changes::service::{apply_once_per_cluster, follow_on_this_node};
    let mut tasks = vec![
        tokio::spawn(search::indexer::keep_current(state.clone())),
        tokio::spawn(follow_on_this_node(
            state.clone(),
            feed::subscriber::FeedFollower,
        )),
        tokio::spawn(follow_on_this_node(
            state.clone(),
            notes::subscriber::NoteCacheFollower,
        )),
        tokio::spawn(changes::service::connect_nodes(state.clone())),
    ];
    if state.config.server.cluster_work {
        tasks.push(tokio::spawn(apply_once_per_cluster(
            state.clone(),
            social::subscriber::Notifications,
        )));
    }
    tasks
}

/// The chores of the whole cluster, run by one node at a time ([`cluster::run_chores`]).
fn chores(state: &AppState) -> Vec<cluster::Chore> {
    vec![
        ("orders", Box::pin(jobs::keep_orders_moving(state.clone()))),
        (
            "sandbox",
            Box::pin(payments::sandbox::keep_delivering(state.clone())),
        ),
        (
            "change retention",
            Box::pin(changes::service::keep_retention(state.clone())),
        ),
        (
            "sessions",
            Box::pin(jobs::keep_removing_expired_sessions(state.clone())),
        ),
    ]
}

/// This node's own upkeep: forget idle rate-limit buckets (each node keeps its own).
async fn housekeeping(state: AppState) {
    let mut tick = tokio::time::interval(Duration::from_secs(600));
    loop {
        tick.tick().await;
        state.login_limits.forget_idle();
        state.limits.forget_idle();
    }
}
