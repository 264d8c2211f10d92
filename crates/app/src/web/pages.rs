//! Server-rendered pages: the context every template gets, rendering, the CSRF cookie, error
//! pages, the language switch and the static assets.

use askama::Template;
use axum::extract::{FromRequestParts, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use kernel::{Id, Timestamp, Zone};
use serde::Deserialize;

use super::cookies;
use super::extract::MaybeUser;
use super::i18n::{Lang, Texts};
use super::when;
use crate::accounts::service::random_secret;
use crate::accounts::types::User;
use crate::error::{AppError, AppResult, FieldError, Problem};
use crate::orders::types::{AfterSaleStatus, Happening};
use crate::social::types::ReportReason;
use crate::state::AppState;

/// The sections of the tab bar; a page belongs to one of them or to none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    Explore,
    Post,
    Shop,
    Notifications,
    Me,
    None,
}

/// What the layout needs on every page.
pub struct PageCtx {
    pub lang: Lang,
    pub t: &'static Texts,
    pub user: Option<User>,
    pub csrf: String,
    /// This page's path and query, to come back to after signing in or switching language.
    pub here: String,
    /// Units in the signed-in member's cart (the header's badge).
    pub cart_units: i64,
    /// The zone times are shown in: the member's, else the site's.
    pub zone: Zone,
    /// When the page is rendered, for "3 min ago".
    pub now: Timestamp,
}

impl PageCtx {
    pub fn langs(&self) -> [Lang; 2] {
        Lang::ALL
    }

    /// The version string in asset URLs: a digest of the assets themselves, so a changed
    /// stylesheet or script gets a new address (they are served as immutable).
    pub fn asset_version(&self) -> &'static str {
        ASSET_VERSION.as_str()
    }

    /// The tab-bar section this page belongs to, from its path.
    pub fn tab(&self) -> Tab {
        let path = self.here.split(['?', '#']).next().unwrap_or("/");
        let first = path
            .trim_start_matches('/')
            .split('/')
            .next()
            .unwrap_or_default();
        match first {
            "" | "explore" | "following" | "topics" | "search" => Tab::Explore,
            "notes" if path == "/notes/new" => Tab::Post,
            "shop" | "products" | "stores" | "cart" | "checkout" | "orders" | "pay" => Tab::Shop,
            "notifications" => Tab::Notifications,
            "settings" | "earnings" | "addresses" => Tab::Me,
            _ => match (first.strip_prefix('@'), &self.user) {
                (Some(handle), Some(me)) if handle.eq_ignore_ascii_case(&me.handle) => Tab::Me,
                _ => Tab::None,
            },
        }
    }

    /// An amount in fen as people read it: `¥129.00`.
    pub fn yuan(&self, fen: impl std::borrow::Borrow<i64>) -> String {
        let fen = *fen.borrow();
        let sign = if fen < 0 { "-" } else { "" };
        let fen = fen.unsigned_abs();
        format!("{sign}¥{}.{:02}", fen / 100, fen % 100)
    }

    /// An order's status in this page's language.
    pub fn status_text(&self, status: &crate::orders::types::OrderStatus) -> &'static str {
        use crate::orders::types::OrderStatus as S;
        match status {
            S::PendingPayment => self.t.status_pending_payment,
            S::Paid => self.t.status_paid,
            S::Shipped => self.t.status_shipped,
            S::Delivered => self.t.status_delivered,
            S::Completed => self.t.status_completed,
            S::Cancelled => self.t.status_cancelled,
            S::Refunded => self.t.status_refunded,
        }
    }

    /// How long ago an instant was, or its date for older ones ("3分钟前", "12月1日 19:14").
    pub fn ago(&self, at: impl std::borrow::Borrow<Timestamp>) -> String {
        when::ago(self.t, &self.zone, *at.borrow(), self.now)
    }

    /// The date and time of an instant ("12月1日 19:14").
    pub fn moment(&self, at: impl std::borrow::Borrow<Timestamp>) -> String {
        when::moment(self.t, &self.zone, *at.borrow(), self.now)
    }

    /// The day of an instant ("2026年12月1日").
    pub fn day(&self, at: impl std::borrow::Borrow<Timestamp>) -> String {
        when::day(self.t, &self.zone, *at.borrow())
    }

    /// A step of an order's timeline in this page's language.
    pub fn happening(&self, happening: &Happening) -> String {
        let t = self.t;
        let provider = |spelling: &str| self.provider_name(spelling);
        match happening {
            Happening::Placed => t.tl_placed.into(),
            Happening::Paid { provider: p } => t.tl_paid.replace("{provider}", &provider(p)),
            Happening::CancelledByBuyer => t.tl_cancelled_by_buyer.into(),
            Happening::CancelledByStore => t.tl_cancelled_by_store.into(),
            Happening::NotPaidInTime => t.tl_not_paid_in_time.into(),
            Happening::Shipped { carrier, tracking } => t
                .tl_shipped
                .replace("{carrier}", carrier)
                .replace("{tracking}", tracking),
            Happening::Delivered => t.tl_delivered.into(),
            Happening::ReceiptConfirmed => t.tl_receipt_confirmed.into(),
            Happening::CompletedAutomatically => t.tl_completed_automatically.into(),
            Happening::Refunded { reason, paying_out } => {
                let text = if *paying_out {
                    t.tl_refunded_paying_out
                } else {
                    t.tl_refunded
                };
                text.replace("{reason}", reason)
            }
            Happening::UnneededPaymentReturned {
                provider: p,
                paying_out,
            } => {
                let text = if *paying_out {
                    t.tl_unneeded_returning
                } else {
                    t.tl_unneeded_returned
                };
                text.replace("{provider}", &provider(p))
            }
            Happening::RefundPaidOut { provider: p } => {
                t.tl_refund_paid_out.replace("{provider}", &provider(p))
            }
            Happening::RefundNotPaidOut { provider: p } => {
                t.tl_refund_not_paid_out.replace("{provider}", &provider(p))
            }
            Happening::RefundPaidByStaff { reference } => {
                t.tl_refund_paid_by_staff.replace("{reference}", reference)
            }
            Happening::Earlier { text } => text.clone(),
        }
    }

    /// A payment provider, by its spelling, as buyers know it in this page's language.
    pub fn provider_name(&self, spelling: &str) -> String {
        use crate::payments::types::Provider;
        use store::TextState;
        match Provider::from_db(spelling) {
            Ok(Provider::Sandbox) => self.t.provider_sandbox.into(),
            Ok(Provider::Alipay) => self.t.provider_alipay.into(),
            Ok(Provider::WechatPay) => self.t.provider_wechatpay.into(),
            Err(_) => spelling.into(),
        }
    }

    pub fn after_sale_text(&self, status: &AfterSaleStatus) -> &'static str {
        match status {
            AfterSaleStatus::Requested => self.t.after_sale_requested,
            AfterSaleStatus::Rejected => self.t.after_sale_rejected,
            AfterSaleStatus::Refunded => self.t.after_sale_refunded,
        }
    }

    /// A shop category in this page's language; one a store made up stays as the store wrote it.
    pub fn category_name<'a>(&self, category: &'a str) -> &'a str {
        match category {
            "beauty" => self.t.category_beauty,
            "fashion" => self.t.category_fashion,
            "outdoor" => self.t.category_outdoor,
            "home" => self.t.category_home,
            "food" => self.t.category_food,
            other => other,
        }
    }

    /// A board's name; the board every member starts with is named in this page's language.
    pub fn board_name<'a>(&self, name: &'a str) -> &'a str {
        if name == crate::social::types::DEFAULT_BOARD {
            self.t.default_board
        } else {
            name
        }
    }

    pub fn report_reason(&self, reason: &ReportReason) -> &'static str {
        match reason {
            ReportReason::Spam => self.t.report_spam,
            ReportReason::FakeReview => self.t.report_fake_review,
            ReportReason::Harassment => self.t.report_harassment,
            ReportReason::Inappropriate => self.t.report_inappropriate,
            ReportReason::Copyright => self.t.report_copyright,
            ReportReason::Other => self.t.report_other,
        }
    }

    /// A field-error detail in this page's language.
    pub fn detail(&self, detail: &str) -> String {
        super::i18n::translate_detail(self.lang, detail)
    }

    /// What an error page says of a problem's kind, by its status.
    pub fn problem_text(&self, problem: &Problem) -> &'static str {
        match problem.status {
            400 | 405 | 415 => self.t.problem_bad_request,
            403 => self.t.problem_forbidden,
            404 => self.t.not_found,
            409 => self.t.problem_conflict,
            413 => self.t.problem_too_large,
            422 => self.t.problem_invalid,
            429 => self.t.problem_too_many,
            502 => self.t.problem_upstream,
            503 => self.t.problem_busy,
            _ => self.t.something_wrong,
        }
    }

    /// A problem's detail in this page's language, when it has been put into it.
    pub fn problem_detail(&self, problem: &Problem) -> Option<String> {
        super::i18n::known_detail(self.lang, &problem.detail)
    }

    fn new(parts: &Parts, user: Option<User>, cart_units: i64, site_zone: &Zone) -> PageCtx {
        let lang = Lang::of_request(&parts.headers);
        let csrf = parts
            .extensions
            .get::<CsrfToken>()
            .map(|t| t.0.clone())
            .unwrap_or_default();
        let here = parts
            .uri
            .path_and_query()
            .map_or("/", |pq| pq.as_str())
            .to_owned();
        let zone = user
            .as_ref()
            .and_then(|u| u.time_zone.clone())
            .unwrap_or_else(|| site_zone.clone());
        PageCtx {
            lang,
            t: lang.texts(),
            user,
            csrf,
            here,
            cart_units,
            zone,
            now: Timestamp::now(),
        }
    }
}

impl FromRequestParts<AppState> for PageCtx {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let MaybeUser(user) = MaybeUser::from_request_parts(parts, state).await?;
        let cart_units = match &user {
            Some(user) => crate::orders::service::cart_units(state, user).await?,
            None => 0,
        };
        Ok(PageCtx::new(
            parts,
            user,
            cart_units,
            &state.config.server.time_zone,
        ))
    }
}

/// What a form shows again after a refused submission: the values typed and what was wrong.
#[derive(Default)]
pub struct FormState {
    pub values: Vec<(&'static str, String)>,
    pub errors: Vec<FieldError>,
    /// An error about the whole form, such as wrong credentials.
    pub message: Option<String>,
}

impl FormState {
    pub fn value(&self, field: &str) -> &str {
        self.values
            .iter()
            .find(|(f, _)| *f == field)
            .map_or("", |(_, v)| v.as_str())
    }

    pub fn error(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.detail.as_str())
    }

    /// The refused form again, or the error itself when it is not the caller's to correct.
    pub fn refused(
        values: Vec<(&'static str, String)>,
        err: AppError,
    ) -> Result<(StatusCode, FormState), AppError> {
        let status = err.status();
        let (errors, message) = match err {
            AppError::Validation(errors) => (errors, None),
            AppError::Conflict(field, detail) => (vec![FieldError::new(field, detail)], None),
            AppError::BadCredentials | AppError::TooManyRequests(_) => {
                (Vec::new(), Some(err.to_string()))
            }
            other => return Err(other),
        };
        Ok((
            status,
            FormState {
                values,
                errors,
                message,
            },
        ))
    }
}

/// Renders a template into an HTML response with the given status.
/// Ids as a form field holds them: `12,34`.
pub fn id_list(ids: &[Id]) -> String {
    ids.iter().map(Id::to_string).collect::<Vec<_>>().join(",")
}

/// The ids of a form field such as a photo picker's, in order; what is not an id is skipped.
pub fn parse_ids(list: &str) -> Vec<Id> {
    list.split(',')
        .filter_map(|id| id.trim().parse().ok())
        .collect()
}

pub fn render(status: StatusCode, template: &impl Template) -> AppResult<Response> {
    let html = template
        .render()
        .map_err(|e| AppError::Internal(anyhow::anyhow!("template failed: {e}")))?;
    Ok((status, Html(html)).into_response())
}

/// The form token of this browser, for templates.
#[derive(Clone)]
pub struct CsrfToken(pub String);

/// Gives each browser a CSRF token cookie on its first visit, and templates its value.
pub async fn csrf_token(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let existing = cookies::read(request.headers(), cookies::CSRF).filter(|t| !t.is_empty());
    let token = existing.clone().unwrap_or_else(random_secret);
    let is_api = request.uri().path().starts_with("/api/");
    request.extensions_mut().insert(CsrfToken(token.clone()));
    let response = next.run(request).await;
    if existing.is_some() || is_api {
        return response;
    }
    let jar = CookieJar::new().add(cookies::csrf(token, state.config.secure_cookies()));
    (jar, response).into_response()
}

/// Under `/api`, a refusal that did not come from our handlers (an extractor's plain-text
/// rejection, such as a multipart body without its boundary) becomes the problem it is, so the
/// API speaks problem+json whatever refused the request.
async fn as_problem(response: Response) -> Response {
    let status = response.status();
    if !status.is_client_error() || response.extensions().get::<Problem>().is_some() {
        return response;
    }
    let body = axum::body::to_bytes(response.into_body(), 4096)
        .await
        .unwrap_or_default();
    let detail = String::from_utf8_lossy(&body).trim().to_owned();
    match status {
        StatusCode::PAYLOAD_TOO_LARGE => AppError::PayloadTooLarge,
        StatusCode::UNSUPPORTED_MEDIA_TYPE => AppError::UnsupportedMediaType,
        StatusCode::METHOD_NOT_ALLOWED => AppError::MethodNotAllowed,
        StatusCode::NOT_FOUND => AppError::NotFound("page"),
        StatusCode::UNPROCESSABLE_ENTITY => AppError::invalid("body", detail),
        _ => AppError::BadRequest(detail),
    }
    .into_response()
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    ctx: PageCtx,
    problem: Problem,
}

/// Outside `/api`, turns an error response into an HTML page in the reader's language, and a
/// 401 into a trip to the sign-in page.
pub async fn problem_pages(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    if request.uri().path().starts_with("/api/") {
        return as_problem(next.run(request).await).await;
    }
    let (parts, body) = request.into_parts();
    let mut ctx_parts = parts.clone();
    let response = next.run(Request::from_parts(parts, body)).await;
    let Some(problem) = response.extensions().get::<Problem>().cloned() else {
        return response;
    };
    let here = ctx_parts.uri.path_and_query().map_or("/", |pq| pq.as_str());
    if problem.status == StatusCode::UNAUTHORIZED.as_u16() {
        return Redirect::to(&format!("/login?next={}", encode(here))).into_response();
    }
    let user = MaybeUser::from_request_parts(&mut ctx_parts, &state)
        .await
        .ok()
        .and_then(|u| u.0);
    let page = ErrorPage {
        // An error page does not count the cart: it shows no badge.
        ctx: PageCtx::new(&ctx_parts, user, 0, &state.config.server.time_zone),
        problem,
    };
    let status = response.status();
    let mut html = render(status, &page).unwrap_or_else(|_| status.into_response());
    if let Some(retry) = response.headers().get(header::RETRY_AFTER) {
        html.headers_mut()
            .insert(header::RETRY_AFTER, retry.clone());
    }
    html
}

/// Percent-encodes a value for a query string.
pub fn encode(value: &str) -> String {
    serde_urlencoded::to_string([("", value)])
        .map(|s| s.trim_start_matches('=').to_owned())
        .unwrap_or_default()
}

/// A path on this site to go to next, parsed as a browser would resolve it against this site:
/// anything that lands elsewhere (other hosts, `//evil`, `/\t/evil` once the browser drops the
/// tab, `javascript:`) is replaced by the home page, so redirects cannot be turned against
/// users; characters a header cannot carry come back percent-encoded.
pub fn local_path(next: Option<&str>) -> String {
    let base = url::Url::parse("http://hongshu.invalid/").expect("a valid base");
    let resolved = next
        .filter(|path| path.starts_with('/'))
        .and_then(|path| base.join(path).ok())
        .filter(|url| url.origin() == base.origin());
    match resolved {
        Some(url) => url[url::Position::BeforePath..].to_owned(),
        None => "/".to_owned(),
    }
}

#[derive(Deserialize)]
pub struct LangQuery {
    to: String,
    next: Option<String>,
}

/// `GET /lang?to=zh-CN&next=/…`: remembers the language and goes back.
pub async fn switch_language(
    State(state): State<AppState>,
    Query(query): Query<LangQuery>,
) -> Response {
    let next = local_path(query.next.as_deref());
    match Lang::from_code(&query.to) {
        Some(lang) => {
            let jar =
                CookieJar::new().add(cookies::lang(lang.code(), state.config.secure_cookies()));
            (jar, Redirect::to(&next)).into_response()
        }
        None => Redirect::to(&next).into_response(),
    }
}

const STYLESHEET: &str = include_str!("../../static/app.css");
const SCRIPT: &str = include_str!("../../static/app.js");
const FAVICON: &str = include_str!("../../static/favicon.svg");

/// Static assets are compiled into the binary; their URLs carry a version, so they may be cached
/// for a year.
/// Styles and scripts are linked with their version in the URL: cached for good.
const VERSIONED: &str = "public, max-age=31536000, immutable";

pub async fn stylesheet() -> Response {
    asset("text/css; charset=utf-8", STYLESHEET, VERSIONED)
}

pub async fn script() -> Response {
    asset("text/javascript; charset=utf-8", SCRIPT, VERSIONED)
}

/// The site's icon, also at `/favicon.ico` where browsers look unasked: its URL has no version,
/// so it is cached for a day.
pub async fn favicon() -> Response {
    asset("image/svg+xml", FAVICON, "public, max-age=86400")
}

fn asset(content_type: &'static str, body: &'static str, cache: &'static str) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    response
}

static ASSET_VERSION: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    use sha2::{Digest, Sha256};
    let digest = Sha256::new()
        .chain_update(STYLESHEET)
        .chain_update(SCRIPT)
        .finalize();
    digest[..6].iter().map(|b| format!("{b:02x}")).collect()
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_followed_after_sign_in() {
        assert_eq!(local_path(Some("/@alice?tab=notes")), "/@alice?tab=notes");
        for hostile in [
            "//evil.example",
            "https://evil.example",
            "javascript:alert(1)",
            "/\\evil.example",
            "/\t/evil.example",
            "/\n/evil.example",
            "/\r\n/evil.example",
            " //evil.example",
        ] {
            assert_eq!(local_path(Some(hostile)), "/", "{hostile:?}");
        }
        // What a header cannot carry is percent-encoded, never a failed redirect.
        assert_eq!(local_path(Some("/notes/1\u{1}x")), "/notes/1%01x");
        assert_eq!(local_path(Some("/a\u{7f}")), "/a%7F");
        assert_eq!(
            local_path(Some("/search?q=红薯")),
            "/search?q=%E7%BA%A2%E8%96%AF"
        );
        assert_eq!(local_path(None), "/");
    }

    #[test]
    fn query_values_are_percent_encoded() {
        assert_eq!(encode("/@alice?tab=a b"), "%2F%40alice%3Ftab%3Da+b");
    }
}
