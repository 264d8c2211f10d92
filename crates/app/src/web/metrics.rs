//! Prometheus metrics of the HTTP layer, served at `/metrics`.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use kernel::Timestamp;
use prometheus::{
    Encoder, GaugeVec, HistogramOpts, HistogramVec, IntCounterVec, Opts, Registry, TextEncoder,
};

use crate::state::AppState;

/// One registry per server, so that several servers in one process (tests) stay apart.
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    note_cache: IntCounterVec,
    change_delay: HistogramVec,
    change_lag: GaugeVec,
}

impl Metrics {
    pub fn new() -> Self {
        let registry = Registry::new_custom(Some("hongshu".into()), None).expect("valid prefix");
        let requests = IntCounterVec::new(
            Opts::new("http_requests_total", "HTTP requests by route and status"),
            &["method", "route", "status"],
        )
        .expect("valid metric");
        let latency = HistogramVec::new(
            HistogramOpts::new("http_request_duration_seconds", "Time to answer, by route"),
            &["method", "route"],
        )
        .expect("valid metric");
        let note_cache = IntCounterVec::new(
            Opts::new(
                "note_cache_lookups_total",
                "Notes looked up in the note cache",
            ),
            &["result"],
        )
        .expect("valid metric");
        let change_delay = HistogramVec::new(
            HistogramOpts::new(
                "change_apply_delay_seconds",
                "From recording a change to a subscriber applying it on this node",
            )
            .buckets(vec![
                0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
            ]),
            &["subscriber"],
        )
        .expect("valid metric");
        let change_lag = GaugeVec::new(
            Opts::new(
                "change_lag_seconds",
                "Age of the oldest change a subscriber has not applied (0: caught up)",
            ),
            &["subscriber"],
        )
        .expect("valid metric");
        for metric in [&requests, &note_cache] {
            registry
                .register(Box::new(metric.clone()))
                .expect("registered once");
        }
        for metric in [&latency, &change_delay] {
            registry
                .register(Box::new(metric.clone()))
                .expect("registered once");
        }
        registry
            .register(Box::new(change_lag.clone()))
            .expect("registered once");
        Metrics {
            registry,
            requests,
            latency,
            note_cache,
            change_delay,
            change_lag,
        }
    }

    /// Notes found in the note cache and notes read from the database instead.
    pub fn note_cache(&self, hits: usize, misses: usize) {
        self.note_cache
            .with_label_values(&["hit"])
            .inc_by(hits as u64);
        self.note_cache
            .with_label_values(&["miss"])
            .inc_by(misses as u64);
    }

    /// A subscriber applied a change recorded at `at_ms`.
    pub fn change_applied(&self, subscriber: &str, at_ms: i64) {
        let delay_ms = (Timestamp::now().as_millis() - at_ms).max(0);
        self.change_delay
            .with_label_values(&[subscriber])
            .observe(delay_ms as f64 / 1000.0);
    }

    /// How far behind a subscriber is.
    pub fn change_lag(&self, subscriber: &str, lag_ms: i64) {
        self.change_lag
            .with_label_values(&[subscriber])
            .set(lag_ms as f64 / 1000.0);
    }

    /// Everything registered, in Prometheus' text format.
    pub fn render(&self) -> String {
        let mut out = Vec::new();
        // Encoding into a Vec cannot fail for well-formed metric families.
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut out);
        String::from_utf8(out).unwrap_or_default()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

/// Counts and times each request under its route pattern (not the raw path, which would let
/// every user id become a new time series).
pub async fn track(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().as_str().to_owned();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", MatchedPath::as_str)
        .to_owned();
    let response = next.run(request).await;
    let metrics = &state.metrics;
    metrics
        .requests
        .with_label_values(&[&method, &route, response.status().as_str()])
        .inc();
    metrics
        .latency
        .with_label_values(&[&method, &route])
        .observe(started.elapsed().as_secs_f64());
    response
}
