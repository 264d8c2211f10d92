//! The rules of accounts: signing up and in, sessions and personal tokens, profiles and roles.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::LazyLock;
use std::time::Duration;

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use kernel::{Id, Page, PageRequest, Timestamp};
use rand::RngCore;
use sha2::{Digest, Sha256};

use super::store::{self, NewToken, NewUser, TokenKind};
use super::types::{
    parse_bio, parse_display_name, parse_line, parse_time_zone, required, Fields, Handle,
    NewPassword, Role, User,
};
use crate::changes::types::Change;
use crate::config::AuthConfig;
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// What a successful sign-in hands back: the user and the session's secret, shown once.
pub struct SignedIn {
    pub user: User,
    pub token: String,
    pub expires_at: Timestamp,
}

/// A personal API token as its owner sees it in the list.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct TokenInfo {
    pub id: Id,
    pub name: String,
    pub created_at: Timestamp,
}

pub async fn signup(
    state: &AppState,
    handle: &str,
    display_name: &str,
    password: &str,
) -> AppResult<User> {
    create_user(state, handle, display_name, password, Role::Member).await
}

/// Creates the first (or another) administrator, from the command line only.
pub async fn create_admin(
    state: &AppState,
    handle: &str,
    display_name: &str,
    password: &str,
) -> AppResult<User> {
    create_user(state, handle, display_name, password, Role::Admin).await
}

/// Checks every field of a new account, reporting all mistakes at once, then stores it.
async fn create_user(
    state: &AppState,
    handle: &str,
    display_name: &str,
    password: &str,
    role: Role,
) -> AppResult<User> {
    let mut fields = Fields::default();
    let handle = fields.check(Handle::parse("handle", handle));
    let display_name = fields.check(parse_display_name(display_name));
    let password = fields.check(NewPassword::parse(password, handle.as_ref()));
    let ((handle, display_name), password) =
        fields.finish(handle.zip(display_name).zip(password))?;
    insert_user(state, &handle, &display_name, &password, role).await
}

async fn insert_user(
    state: &AppState,
    handle: &Handle,
    display_name: &str,
    password: &NewPassword,
    role: Role,
) -> AppResult<User> {
    let password_hash = hash_password(password.as_str()).await?;
    let now = Timestamp::now();
    let id = state.ids.next_id();
    let new_user = NewUser {
        id,
        handle: handle.as_str(),
        display_name,
        password_hash: &password_hash,
        role,
        now,
    };
    let mut tx = state.db.begin_write().await?;
    match store::insert_user(&mut tx, &new_user).await {
        Err(e) => Err(AppError::taken("handle", "is already taken")(e)),
        Ok(()) => {
            let change = Change::MemberJoined { member: id };
            state.changes.record(&mut tx, change).await?;
            state.changes.commit(tx).await?;
            Ok(User {
                id,
                handle: handle.as_str().to_owned(),
                display_name: display_name.to_owned(),
                bio: String::new(),
                role,
                created_at: now,
                time_zone: None,
            })
        }
    }
}

/// Checks a handle and password. Unknown handles and wrong passwords fail alike, in about the
/// same time, and every attempt counts against both the account and the caller's address.
pub async fn login(
    state: &AppState,
    handle: &str,
    password: &str,
    address: IpAddr,
) -> AppResult<SignedIn> {
    let mut fields = Fields::default();
    let handle = fields.check(required("handle", handle));
    let password = fields.check(required("password", password));
    let (handle, password) = fields.finish(handle.zip(password))?;
    let handle = handle.trim().to_ascii_lowercase();
    state.login_limits.check(&handle, address)?;
    let found = store::credentials(&state.db, &handle).await?;
    let hash = found
        .as_ref()
        .map_or(DUMMY_HASH.as_str(), |(_, hash)| hash.as_str())
        .to_owned();
    let matches = verify_password(password.to_owned(), hash).await?;
    match found {
        Some((user, _)) if matches => start_session(state, user).await,
        _ => Err(AppError::BadCredentials),
    }
}

/// Whether `password` is the member's own, for confirming what cannot be undone.
pub async fn password_matches(state: &AppState, user: &User, password: &str) -> AppResult<bool> {
    let Some((_, hash)) = store::credentials(&state.db, &user.handle).await? else {
        return Ok(false);
    };
    verify_password(password.to_owned(), hash).await
}

/// Opens a session for a user who has just proved who they are.
pub async fn start_session(state: &AppState, user: User) -> AppResult<SignedIn> {
    let expires_at = Timestamp::now().plus_seconds(state.config.auth.session_days * 86_400);
    let issued = issue_token(state, user.id, TokenKind::Session, "", Some(expires_at)).await?;
    Ok(SignedIn {
        user,
        token: issued.secret,
        expires_at,
    })
}

/// The user behind a session or personal token; `None` for unknown, revoked or expired tokens.
pub async fn authenticate(state: &AppState, token: &str) -> AppResult<Option<User>> {
    if !token.starts_with(TOKEN_PREFIX) {
        return Ok(None);
    }
    Ok(store::user_by_token(&state.db, &hash_token(token), Timestamp::now()).await?)
}

pub async fn logout(state: &AppState, token: &str) -> AppResult<()> {
    store::delete_token_by_hash(&state.db, &hash_token(token)).await?;
    Ok(())
}

/// Whether a block stands between two members, in either direction. Blocks are made in the
/// social graph; every domain that shows one member's things to another asks here.
pub async fn blocked(state: &AppState, a: Id, b: Id) -> AppResult<bool> {
    Ok(store::blocked_between(&state.db, a, b).await?)
}

/// Whether a block stands between the viewer (if signed in) and someone else.
pub async fn blocked_between(
    state: &AppState,
    viewer: Option<&User>,
    other: Id,
) -> AppResult<bool> {
    match viewer {
        Some(viewer) if viewer.id != other => blocked(state, viewer.id, other).await,
        _ => Ok(false),
    }
}

/// The members with these ids (those that exist), in no particular order.
pub async fn users_by_ids(state: &AppState, ids: &[i64]) -> AppResult<Vec<User>> {
    Ok(store::users_by_ids(&state.db, ids).await?)
}

pub async fn user_by_handle(state: &AppState, handle: &str) -> AppResult<User> {
    store::user_by_handle(&state.db, &handle.to_ascii_lowercase())
        .await?
        .ok_or(AppError::NotFound("user"))
}

/// What a member may change about themselves; absent fields stay as they are.
#[derive(Default)]
pub struct ProfileEdit<'a> {
    pub display_name: Option<&'a str>,
    pub bio: Option<&'a str>,
    /// An IANA zone name; empty: the site's zone.
    pub time_zone: Option<&'a str>,
}

/// Changes what the user said about themselves and how they read times.
pub async fn update_profile(
    state: &AppState,
    user: &User,
    edit: &ProfileEdit<'_>,
) -> AppResult<User> {
    let mut fields = Fields::default();
    let display_name = fields.check(
        edit.display_name
            .map_or(Ok(user.display_name.clone()), parse_display_name),
    );
    let bio = fields.check(edit.bio.map_or(Ok(user.bio.clone()), parse_bio));
    let time_zone = fields.check(
        edit.time_zone
            .map_or(Ok(user.time_zone.clone()), parse_time_zone),
    );
    let ((display_name, bio), time_zone) = fields.finish(display_name.zip(bio).zip(time_zone))?;
    let updated = User {
        display_name,
        bio,
        time_zone,
        ..user.clone()
    };
    let mut tx = state.db.begin_write().await?;
    store::update_profile(&mut tx, &updated).await?;
    let change = Change::ProfileChanged { member: user.id };
    state.changes.record(&mut tx, change).await?;
    state.changes.commit(tx).await?;
    Ok(updated)
}

/// Makes a named personal API token; the secret is returned once and only its hash is kept.
pub async fn create_personal_token(
    state: &AppState,
    user: &User,
    name: &str,
) -> AppResult<(TokenInfo, String)> {
    let name = parse_line("name", name, 60)?;
    let issued = issue_token(state, user.id, TokenKind::Personal, &name, None).await?;
    let info = TokenInfo {
        id: issued.id,
        name,
        created_at: issued.created_at,
    };
    Ok((info, issued.secret))
}

pub async fn personal_tokens(state: &AppState, user: &User) -> AppResult<Vec<TokenInfo>> {
    let tokens = store::personal_tokens(&state.db, user.id).await?;
    Ok(tokens
        .into_iter()
        .map(|(id, name, created_at)| TokenInfo {
            id,
            name,
            created_at,
        })
        .collect())
}

pub async fn revoke_personal_token(state: &AppState, user: &User, token_id: Id) -> AppResult<()> {
    if store::delete_personal_token(&state.db, user.id, token_id).await? {
        Ok(())
    } else {
        Err(AppError::NotFound("token"))
    }
}

/// An administrator sets someone's platform role.
pub async fn set_role(state: &AppState, actor: &User, handle: &str, role: Role) -> AppResult<()> {
    require_admin(actor)?;
    if store::set_role(&state.db, &handle.to_ascii_lowercase(), role).await? {
        Ok(())
    } else {
        Err(AppError::NotFound("user"))
    }
}

/// Every member, newest first, for administrators.
pub async fn list_users(
    state: &AppState,
    actor: &User,
    page: &PageRequest,
) -> AppResult<Page<User>> {
    require_admin(actor)?;
    let (size, after) = crate::web::page_bounds(page)?;
    let rows = store::list_users(&state.db, after, size + 1).await?;
    Ok(Page::from_rows(rows, size, |u| u.id.as_i64()))
}

pub fn require_admin(actor: &User) -> AppResult<()> {
    if actor.is_admin() {
        Ok(())
    } else {
        Err(AppError::Forbidden("only administrators may do this"))
    }
}

const TOKEN_PREFIX: &str = "hs_";

struct IssuedToken {
    id: Id,
    created_at: Timestamp,
    secret: String,
}

async fn issue_token(
    state: &AppState,
    user_id: Id,
    kind: TokenKind,
    name: &str,
    expires_at: Option<Timestamp>,
) -> AppResult<IssuedToken> {
    let secret = format!("{TOKEN_PREFIX}{}", random_secret());
    let token = NewToken {
        id: state.ids.next_id(),
        user_id,
        kind,
        name,
        token_hash: &hash_token(&secret),
        now: Timestamp::now(),
        expires_at,
    };
    store::insert_token(&state.db, &token).await?;
    Ok(IssuedToken {
        id: token.id,
        created_at: token.now,
        secret,
    })
}

/// 256 random bits from the operating system, URL-safe.
pub fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Tokens are long random secrets, so a fast hash is enough: a leaked table reveals nothing usable.
pub fn hash_token(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Argon2id with the crate's defaults (19 MiB, 2 passes), off the async threads.
async fn hash_password(password: &str) -> AppResult<String> {
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|hash| hash.to_string())
    })
    .await
    .map_err(|e| anyhow::anyhow!(e))?
    .map_err(|e| AppError::Internal(anyhow::anyhow!("hashing failed: {e}")))
}

async fn verify_password(password: String, hash: String) -> AppResult<bool> {
    let verified = tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash)
            .map(|parsed| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            })
            .unwrap_or(false)
    })
    .await
    .map_err(|e| anyhow::anyhow!(e))?;
    Ok(verified)
}

/// Verified against when the handle does not exist, so that the answer takes as long as a real one.
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(b"no such account", &salt)
        .map(|h| h.to_string())
        .unwrap_or_default()
});

/// Token buckets for sign-in attempts: one per account and address together, so a stranger's
/// failures spend only their own attempts at an account; one per account from everywhere, much
/// larger, against guessing from many addresses; and one per client address.
pub struct LoginLimits {
    per_pair: DefaultKeyedRateLimiter<(String, IpAddr)>,
    per_account: DefaultKeyedRateLimiter<String>,
    per_address: DefaultKeyedRateLimiter<IpAddr>,
}

impl LoginLimits {
    pub fn new(config: &AuthConfig) -> Self {
        fn quota(burst: u32, refill_seconds: u64) -> Quota {
            let burst = NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN);
            Quota::with_period(Duration::from_secs(refill_seconds.max(1)))
                .expect("period is at least one second")
                .allow_burst(burst)
        }
        LoginLimits {
            per_pair: RateLimiter::keyed(quota(
                config.login_pair_burst,
                config.login_pair_refill_seconds,
            )),
            per_account: RateLimiter::keyed(quota(
                config.login_account_burst,
                config.login_account_refill_seconds,
            )),
            per_address: RateLimiter::keyed(quota(
                config.login_address_burst,
                config.login_address_refill_seconds,
            )),
        }
    }

    fn check(&self, handle: &str, address: IpAddr) -> AppResult<()> {
        let clock = DefaultClock::default();
        let retry = |wait: Duration| AppError::TooManyRequests(wait.as_secs_f64().ceil() as u64);
        self.per_address
            .check_key(&address)
            .map_err(|not_until| retry(not_until.wait_time_from(clock.now())))?;
        self.per_pair
            .check_key(&(handle.to_owned(), address))
            .map_err(|not_until| retry(not_until.wait_time_from(clock.now())))?;
        self.per_account
            .check_key(&handle.to_owned())
            .map_err(|not_until| retry(not_until.wait_time_from(clock.now())))
    }

    /// Forgets buckets that have refilled, so memory tracks only recent attackers.
    pub fn forget_idle(&self) {
        self.per_pair.retain_recent();
        self.per_account.retain_recent();
        self.per_address.retain_recent();
    }
}
