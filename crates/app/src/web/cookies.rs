//! The cookies Hongshu sets, all in one place so their flags stay consistent.

use axum::http::HeaderMap;
use axum_extra::extract::cookie::{Cookie, SameSite};
use time::Duration;

use crate::accounts::service::SignedIn;

pub const SESSION: &str = "hs_session";
pub const CSRF: &str = "hs_csrf";
pub const LANG: &str = "hs_lang";

/// The value of a cookie in the request, if present.
pub fn read(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| Cookie::parse(pair.trim().to_owned()).ok())
        .find(|cookie| cookie.name() == name)
        .map(|cookie| cookie.value().to_owned())
}

/// The sign-in cookie: invisible to scripts, sent on top-level navigation only.
fn session(token: String, max_age_seconds: i64, secure: bool) -> Cookie<'static> {
    Cookie::build((SESSION, token))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure)
        .max_age(Duration::seconds(max_age_seconds))
        .build()
}

/// The cookie for a session just opened, lasting as long as the session.
pub fn session_for(signed_in: &SignedIn, secure: bool) -> Cookie<'static> {
    let now = kernel::Timestamp::now().as_millis();
    let max_age = signed_in.expires_at.as_millis().saturating_sub(now) / 1000;
    session(signed_in.token.clone(), max_age, secure)
}

pub fn clear_session(secure: bool) -> Cookie<'static> {
    session(String::new(), 0, secure)
}

/// The double-submit token for forms: forms carry the same value in a hidden field. Lax, not
/// Strict: a Strict cookie is missing when someone arrives from a link on another site, and
/// replacing it then would break the forms open in their other tabs.
pub fn csrf(token: String, secure: bool) -> Cookie<'static> {
    Cookie::build((CSRF, token))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure)
        .build()
}

pub fn lang(code: &'static str, secure: bool) -> Cookie<'static> {
    Cookie::build((LANG, code))
        .path("/")
        .same_site(SameSite::Lax)
        .secure(secure)
        .max_age(Duration::days(365))
        .build()
}
