//! The SQL of accounts: users and their session and personal tokens.

use kernel::{Id, Timestamp, Zone};
use store::{query, query_as, query_scalar, Db, TextState, Tx};

use super::types::{Role, User};

const USER_COLUMNS: &str = "id, handle, display_name, bio, role, created_at, time_zone";

type UserRow = (i64, String, String, String, String, i64, Option<String>);

fn to_user(
    (id, handle, display_name, bio, role, created_at, time_zone): UserRow,
) -> Result<User, sqlx::Error> {
    Ok(User {
        id: Id::from_i64(id),
        handle,
        display_name,
        bio,
        role: Role::from_db(&role)?,
        created_at: Timestamp::from_millis(created_at),
        // A zone the built-in database no longer knows falls back to the site's.
        time_zone: time_zone.and_then(|name| Zone::parse(&name).ok()),
    })
}

pub struct NewUser<'a> {
    pub id: Id,
    pub handle: &'a str,
    pub display_name: &'a str,
    pub password_hash: &'a str,
    pub role: Role,
    pub now: Timestamp,
}

/// Inserts a user; fails with a unique violation when the handle is taken.
pub async fn insert_user(tx: &mut Tx, user: &NewUser<'_>) -> Result<(), sqlx::Error> {
    query(
        "INSERT INTO users (id, handle, display_name, bio, password_hash, role, created_at, updated_at) \
         VALUES ($1, $2, $3, '', $4, $5, $6, $6)",
    )
    .bind(user.id.as_i64())
    .bind(user.handle)
    .bind(user.display_name)
    .bind(user.password_hash)
    .bind(user.role.as_str())
    .bind(user.now.as_millis())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn user_by_handle(db: &Db, handle: &str) -> Result<Option<User>, sqlx::Error> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE handle = $1 AND deleted_at IS NULL");
    let row: Option<UserRow> = query_as(&sql)
        .bind(handle)
        .fetch_optional(db.pool())
        .await?;
    row.map(to_user).transpose()
}

pub async fn user_by_id(db: &Db, id: Id) -> Result<Option<User>, sqlx::Error> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
    let row: Option<UserRow> = query_as(&sql)
        .bind(id.as_i64())
        .fetch_optional(db.pool())
        .await?;
    row.map(to_user).transpose()
}

/// The users among `ids` that exist, in no particular order.
pub async fn users_by_ids(db: &Db, ids: &[i64]) -> Result<Vec<User>, sqlx::Error> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT {USER_COLUMNS} FROM users WHERE id IN {}",
        store::values_placeholders(db.backend(), 1, ids.len())
    );
    store::bind_all(query_as::<_, UserRow>(&sql), ids.iter().copied())
        .fetch_all(db.pool())
        .await?
        .into_iter()
        .map(to_user)
        .collect::<Result<_, _>>()
}

/// The user and their password hash, for signing in.
pub async fn credentials(db: &Db, handle: &str) -> Result<Option<(User, String)>, sqlx::Error> {
    let sql = format!(
        "SELECT {USER_COLUMNS}, password_hash FROM users WHERE handle = $1 AND deleted_at IS NULL"
    );
    type Row = (
        i64,
        String,
        String,
        String,
        String,
        i64,
        Option<String>,
        String,
    );
    let row: Option<Row> = query_as(&sql)
        .bind(handle)
        .fetch_optional(db.pool())
        .await?;
    row.map(|(id, handle, name, bio, role, at, zone, hash)| {
        Ok((to_user((id, handle, name, bio, role, at, zone))?, hash))
    })
    .transpose()
}

pub async fn update_profile(tx: &mut Tx, user: &User) -> Result<(), sqlx::Error> {
    query(
        "UPDATE users SET display_name = $1, bio = $2, time_zone = $3, updated_at = $4 \
         WHERE id = $5",
    )
    .bind(&user.display_name)
    .bind(&user.bio)
    .bind(user.time_zone.as_ref().map(Zone::name))
    .bind(Timestamp::now().as_millis())
    .bind(user.id.as_i64())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Sets a platform role; false when no such user exists.
pub async fn set_role(db: &Db, handle: &str, role: Role) -> Result<bool, sqlx::Error> {
    let done = query("UPDATE users SET role = $1, updated_at = $2 WHERE handle = $3")
        .bind(role.as_str())
        .bind(Timestamp::now().as_millis())
        .bind(handle)
        .execute(db.writer())
        .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn count_users(db: &Db) -> Result<i64, sqlx::Error> {
    store::query_scalar("SELECT COUNT(*) FROM users")
        .fetch_one(db.pool())
        .await
}

/// Users newest first, starting after the cursor id.
pub async fn list_users(
    db: &Db,
    before: Option<i64>,
    limit: u32,
) -> Result<Vec<User>, sqlx::Error> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id < $1 ORDER BY id DESC LIMIT $2");
    let rows: Vec<UserRow> = query_as(&sql)
        .bind(before.unwrap_or(i64::MAX))
        .bind(i64::from(limit))
        .fetch_all(db.pool())
        .await?;
    rows.into_iter().map(to_user).collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// A sign-in from a browser or app; expires.
    Session,
    /// A personal API token the user made and named; lasts until revoked.
    Personal,
}

impl TokenKind {
    fn as_str(self) -> &'static str {
        match self {
            TokenKind::Session => "session",
            TokenKind::Personal => "personal",
        }
    }
}

pub struct NewToken<'a> {
    pub id: Id,
    pub user_id: Id,
    pub kind: TokenKind,
    pub name: &'a str,
    pub token_hash: &'a str,
    pub now: Timestamp,
    pub expires_at: Option<Timestamp>,
}

pub async fn insert_token(db: &Db, token: &NewToken<'_>) -> Result<(), sqlx::Error> {
    query(
        "INSERT INTO auth_tokens (id, user_id, kind, name, token_hash, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(token.id.as_i64())
    .bind(token.user_id.as_i64())
    .bind(token.kind.as_str())
    .bind(token.name)
    .bind(token.token_hash)
    .bind(token.now.as_millis())
    .bind(token.expires_at.map(Timestamp::as_millis))
    .execute(db.writer())
    .await?;
    Ok(())
}

/// The user a token belongs to, if the token exists and has not expired.
pub async fn user_by_token(
    db: &Db,
    token_hash: &str,
    now: Timestamp,
) -> Result<Option<User>, sqlx::Error> {
    let sql = "SELECT u.id, u.handle, u.display_name, u.bio, u.role, u.created_at, u.time_zone \
               FROM auth_tokens t JOIN users u ON u.id = t.user_id \
               WHERE t.token_hash = $1 AND (t.expires_at IS NULL OR t.expires_at > $2)";
    let row: Option<UserRow> = query_as(sql)
        .bind(token_hash)
        .bind(now.as_millis())
        .fetch_optional(db.pool())
        .await?;
    row.map(to_user).transpose()
}

pub async fn delete_token_by_hash(db: &Db, token_hash: &str) -> Result<(), sqlx::Error> {
    query("DELETE FROM auth_tokens WHERE token_hash = $1")
        .bind(token_hash)
        .execute(db.writer())
        .await?;
    Ok(())
}

/// Deletes one of the user's personal tokens; false when they have no such token.
pub async fn delete_personal_token(
    db: &Db,
    user_id: Id,
    token_id: Id,
) -> Result<bool, sqlx::Error> {
    let done =
        query("DELETE FROM auth_tokens WHERE id = $1 AND user_id = $2 AND kind = 'personal'")
            .bind(token_id.as_i64())
            .bind(user_id.as_i64())
            .execute(db.writer())
            .await?;
    Ok(done.rows_affected() == 1)
}

/// The user's personal tokens, newest first: (id, name, created_at).
pub async fn personal_tokens(
    db: &Db,
    user_id: Id,
) -> Result<Vec<(Id, String, Timestamp)>, sqlx::Error> {
    let rows: Vec<(i64, String, i64)> = query_as(
        "SELECT id, name, created_at FROM auth_tokens \
         WHERE user_id = $1 AND kind = 'personal' ORDER BY id DESC",
    )
    .bind(user_id.as_i64())
    .fetch_all(db.pool())
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, name, at)| (Id::from_i64(id), name, Timestamp::from_millis(at)))
        .collect())
}

/// Removes sessions that have expired; returns how many.
pub async fn delete_expired_tokens(db: &Db, now: Timestamp) -> Result<u64, sqlx::Error> {
    let done = query("DELETE FROM auth_tokens WHERE expires_at IS NOT NULL AND expires_at <= $1")
        .bind(now.as_millis())
        .execute(db.writer())
        .await?;
    Ok(done.rows_affected())
}

/// Blocked in either direction.
pub async fn blocked_between(db: &Db, a: Id, b: Id) -> Result<bool, sqlx::Error> {
    let n: i64 = query_scalar(
        "SELECT COUNT(*) FROM blocks WHERE (blocker_id = $1 AND blocked_id = $2) \
         OR (blocker_id = $2 AND blocked_id = $1)",
    )
    .bind(a.as_i64())
    .bind(b.as_i64())
    .fetch_one(db.pool())
    .await?;
    Ok(n > 0)
}
