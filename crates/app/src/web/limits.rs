//! Rate limits on the writes a person can repeat (signing up, posting, commenting, liking,
//! following, reporting, uploading, checking out): one token bucket per member and one per
//! client address for each kind of write, answered 429 with Retry-After when empty.
//!
//! The gate sits in front of the routes as middleware and finds a request's kind by its route
//! pattern, so the JSON API and the pages share one budget and a new route cannot forget it.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use axum::extract::{FromRequestParts, MatchedPath, Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use kernel::Id;
use serde::{Deserialize, Serialize};

use super::extract::{ClientAddr, MaybeUser};
use crate::error::AppError;
use crate::state::AppState;

/// A budget: `burst` at once, then `per_minute` more each minute.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Rate {
    pub burst: u32,
    pub per_minute: u32,
}

impl Rate {
    pub const fn new(burst: u32, per_minute: u32) -> Rate {
        Rate { burst, per_minute }
    }

    /// The same budget `factor` times over (for an address many members may share).
    fn times(self, factor: u32) -> Rate {
        Rate::new(
            self.burst.saturating_mul(factor),
            self.per_minute.saturating_mul(factor),
        )
    }

    fn quota(self) -> Quota {
        let per_minute = NonZeroU32::new(self.per_minute).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(self.burst).unwrap_or(NonZeroU32::MIN);
        Quota::per_minute(per_minute).allow_burst(burst)
    }
}

/// `[limits]`: a member's budget per kind of write (an address gets `address_factor` times
/// that), sign-ups per address, and how much a member may hold in unpaid orders.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LimitsConfig {
    /// New accounts per client address.
    pub signup: Rate,
    /// Notes posted or edited.
    pub note: Rate,
    pub comment: Rate,
    /// Likes and collects of notes and comments, given or taken back.
    pub like: Rate,
    /// Follows, blocks and mutes, given or taken back.
    pub follow: Rate,
    pub report: Rate,
    pub upload: Rate,
    pub checkout: Rate,
    /// An address's budget is this many members' worth (homes, offices and campuses share one).
    pub address_factor: u32,
    /// Orders awaiting payment one member may hold at once.
    pub unpaid_orders: i64,
    /// Units in those orders, all together.
    pub unpaid_units: i64,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        LimitsConfig {
            signup: Rate::new(5, 2),
            note: Rate::new(10, 2),
            comment: Rate::new(20, 10),
            like: Rate::new(60, 60),
            follow: Rate::new(30, 20),
            report: Rate::new(10, 2),
            upload: Rate::new(30, 20),
            checkout: Rate::new(10, 5),
            address_factor: 10,
            unpaid_orders: 20,
            unpaid_units: 200,
        }
    }
}

/// The kinds of limited writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Signup,
    Note,
    Comment,
    Like,
    Follow,
    Report,
    Upload,
    Checkout,
}

impl Action {
    const ALL: [Action; 8] = [
        Action::Signup,
        Action::Note,
        Action::Comment,
        Action::Like,
        Action::Follow,
        Action::Report,
        Action::Upload,
        Action::Checkout,
    ];

    fn rate(self, config: &LimitsConfig) -> Rate {
        match self {
            Action::Signup => config.signup,
            Action::Note => config.note,
            Action::Comment => config.comment,
            Action::Like => config.like,
            Action::Follow => config.follow,
            Action::Report => config.report,
            Action::Upload => config.upload,
            Action::Checkout => config.checkout,
        }
    }

    /// The kind of write a route is, by its pattern; `None` for everything not limited here.
    pub fn of_route(method: &Method, route: &str) -> Option<Action> {
        if method == Method::GET || method == Method::HEAD {
            return None;
        }
        let route = route.strip_prefix("/api/v1").unwrap_or(route);
        Some(match route {
            "/auth/signup" | "/signup" => Action::Signup,
            "/notes" | "/notes/new" | "/notes/{id}" | "/notes/{id}/edit" => match *method {
                Method::DELETE => return None,
                _ => Action::Note,
            },
            "/notes/{id}/comments" => Action::Comment,
            "/notes/{id}/like"
            | "/notes/{id}/collect"
            | "/notes/{id}/collect-to"
            | "/comments/{id}/like" => Action::Like,
            "/users/{handle}/follow" | "/users/{handle}/block" | "/users/{handle}/mute" => {
                Action::Follow
            }
            "/reports" | "/notes/{id}/report" => Action::Report,
            "/media" => Action::Upload,
            "/checkout" => Action::Checkout,
            _ => return None,
        })
    }
}

/// One member bucket and one address bucket per kind of write, indexed by `Action as usize`
/// (`Action::ALL` lists the kinds in their declared order).
pub struct Limits {
    members: Vec<DefaultKeyedRateLimiter<Id>>,
    addresses: Vec<DefaultKeyedRateLimiter<IpAddr>>,
}

impl Limits {
    pub fn new(config: &LimitsConfig) -> Limits {
        let factor = config.address_factor.max(1);
        Limits {
            members: Action::ALL
                .iter()
                .map(|a| RateLimiter::keyed(a.rate(config).quota()))
                .collect(),
            addresses: Action::ALL
                .iter()
                .map(|a| {
                    // Sign-ups have no member yet: the address's budget is the configured one.
                    let rate = match a {
                        Action::Signup => a.rate(config),
                        _ => a.rate(config).times(factor),
                    };
                    RateLimiter::keyed(rate.quota())
                })
                .collect(),
        }
    }

    /// Takes one write of `action` from the member's and the address's budgets, or says how
    /// long to wait.
    pub fn check(
        &self,
        action: Action,
        member: Option<Id>,
        address: IpAddr,
    ) -> Result<(), AppError> {
        let index = action as usize;
        let clock = DefaultClock::default();
        let wait = |not_until: governor::NotUntil<_>| {
            let wait: Duration = not_until.wait_time_from(clock.now());
            AppError::TooManyRequests(wait.as_secs_f64().ceil().max(1.0) as u64)
        };
        if let Some(member) = member {
            self.members[index].check_key(&member).map_err(wait)?;
        }
        self.addresses[index].check_key(&address).map_err(wait)
    }

    /// Forgets buckets that have refilled, so memory tracks only recent writers.
    pub fn forget_idle(&self) {
        for limiter in &self.members {
            limiter.retain_recent();
        }
        for limiter in &self.addresses {
            limiter.retain_recent();
        }
    }
}

/// Middleware: a limited write is counted against its member and address before it runs.
pub async fn gate(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned());
    let Some(action) = route.and_then(|route| Action::of_route(request.method(), &route)) else {
        return next.run(request).await;
    };
    let (mut parts, body) = request.into_parts();
    let asked = async {
        let ClientAddr(address) = ClientAddr::from_request_parts(&mut parts, &state).await?;
        // The member is looked up once and remembered for the handler.
        let MaybeUser(user) = MaybeUser::from_request_parts(&mut parts, &state).await?;
        Ok::<_, AppError>((address, user.map(|u| u.id)))
    };
    let (address, member) = match asked.await {
        Ok(asked) => asked,
        Err(e) => return e.into_response(),
    };
    if let Err(refused) = state.limits.check(action, member, address) {
        return refused.into_response();
    }
    next.run(Request::from_parts(parts, body)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_of_the_api_and_the_pages_share_their_kind() {
        let like = Action::of_route(&Method::PUT, "/api/v1/notes/{id}/like");
        assert_eq!(like, Some(Action::Like));
        assert_eq!(Action::of_route(&Method::POST, "/notes/{id}/like"), like);
        assert_eq!(
            Action::of_route(&Method::POST, "/notes/{id}/collect-to"),
            like
        );
        assert_eq!(
            Action::of_route(&Method::POST, "/checkout"),
            Action::of_route(&Method::POST, "/api/v1/checkout")
        );
        assert_eq!(Action::of_route(&Method::GET, "/api/v1/notes"), None);
        assert_eq!(
            Action::of_route(&Method::DELETE, "/api/v1/notes/{id}"),
            None
        );
    }

    #[test]
    fn a_member_runs_out_before_their_address_does() {
        let config = LimitsConfig {
            comment: Rate::new(2, 1),
            address_factor: 2,
            ..LimitsConfig::default()
        };
        let limits = Limits::new(&config);
        let address: IpAddr = "10.0.0.1".parse().unwrap();
        let (a, b, c) = (Id::from_i64(1), Id::from_i64(2), Id::from_i64(3));
        for member in [a, a] {
            assert!(limits.check(Action::Comment, Some(member), address).is_ok());
        }
        assert!(matches!(
            limits.check(Action::Comment, Some(a), address),
            Err(AppError::TooManyRequests(n)) if n >= 1
        ));
        // The address had four: a took two, b and c one each, and then it is spent.
        assert!(limits.check(Action::Comment, Some(b), address).is_ok());
        assert!(limits.check(Action::Comment, Some(c), address).is_ok());
        assert!(limits.check(Action::Comment, Some(c), address).is_err());
        assert!(limits.check(Action::Like, Some(a), address).is_ok());
    }
}
