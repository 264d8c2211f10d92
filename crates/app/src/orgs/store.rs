//! The SQL of organisations and their staff.

use kernel::{Id, Timestamp};
use store::{query, query_as, query_scalar, Db, TextState, Tx};

use super::types::{Member, Org, StaffRole};

type OrgRow = (i64, String, String, i64, i64);

fn to_org((id, slug, name, verified, created_at): OrgRow) -> Org {
    Org {
        id: Id::from_i64(id),
        slug,
        name,
        verified: store::flag(verified),
        created_at: Timestamp::from_millis(created_at),
    }
}

/// Inserts the organisation and its first owner in one transaction.
pub async fn insert_org(db: &Db, org: &Org, owner: Id) -> Result<(), sqlx::Error> {
    let mut tx: Tx = db.begin_write().await?;
    query("INSERT INTO orgs (id, slug, name, verified, created_at) VALUES ($1, $2, $3, 0, $4)")
        .bind(org.id.as_i64())
        .bind(&org.slug)
        .bind(&org.name)
        .bind(org.created_at.as_millis())
        .execute(&mut *tx)
        .await?;
    upsert_member_in(&mut tx, org.id, owner, StaffRole::Owner, org.created_at).await?;
    tx.commit().await
}

pub async fn org_by_slug(db: &Db, slug: &str) -> Result<Option<Org>, sqlx::Error> {
    let row: Option<OrgRow> =
        query_as("SELECT id, slug, name, verified, created_at FROM orgs WHERE slug = $1")
            .bind(slug)
            .fetch_optional(db.pool())
            .await?;
    Ok(row.map(to_org))
}

pub async fn set_verified(db: &Db, org: Id, verified: bool) -> Result<(), sqlx::Error> {
    query("UPDATE orgs SET verified = $1 WHERE id = $2")
        .bind(i64::from(verified))
        .bind(org.as_i64())
        .execute(db.writer())
        .await?;
    Ok(())
}

/// The user's role in the organisation, if they belong to it.
pub async fn role_of(db: &Db, org: Id, user: Id) -> Result<Option<StaffRole>, sqlx::Error> {
    let role: Option<String> =
        query_scalar("SELECT role FROM org_members WHERE org_id = $1 AND user_id = $2")
            .bind(org.as_i64())
            .bind(user.as_i64())
            .fetch_optional(db.pool())
            .await?;
    role.as_deref().map(StaffRole::from_db).transpose()
}

pub async fn members(db: &Db, org: Id) -> Result<Vec<Member>, sqlx::Error> {
    let rows: Vec<(i64, String, String, String, i64)> = query_as(
        "SELECT u.id, u.handle, u.display_name, m.role, m.created_at \
         FROM org_members m JOIN users u ON u.id = m.user_id \
         WHERE m.org_id = $1 ORDER BY m.created_at, u.id",
    )
    .bind(org.as_i64())
    .fetch_all(db.pool())
    .await?;
    rows.into_iter()
        .map(|(id, handle, display_name, role, since)| {
            Ok(Member {
                user_id: Id::from_i64(id),
                handle,
                display_name,
                role: StaffRole::from_db(&role)?,
                since: Timestamp::from_millis(since),
            })
        })
        .collect()
}

/// Adds a member or changes their role, unless that would leave the organisation without an
/// owner. Returns false (and changes nothing) in that case.
pub async fn put_member(db: &Db, org: Id, user: Id, role: StaffRole) -> Result<bool, sqlx::Error> {
    let mut tx = db.begin_write().await?;
    upsert_member_in(&mut tx, org, user, role, Timestamp::now()).await?;
    finish_if_owned(tx, org).await
}

/// Removes a member, unless they are the last owner. Returns false when refused; `None` when
/// they were not a member.
pub async fn remove_member(db: &Db, org: Id, user: Id) -> Result<Option<bool>, sqlx::Error> {
    let mut tx = db.begin_write().await?;
    let done = query("DELETE FROM org_members WHERE org_id = $1 AND user_id = $2")
        .bind(org.as_i64())
        .bind(user.as_i64())
        .execute(&mut *tx)
        .await?;
    if done.rows_affected() == 0 {
        return Ok(None);
    }
    finish_if_owned(tx, org).await.map(Some)
}

/// Commits when the organisation still has an owner; otherwise rolls back and returns false.
/// Checked inside the write transaction, so two owners demoting each other at once cannot
/// both succeed.
async fn finish_if_owned(mut tx: Tx, org: Id) -> Result<bool, sqlx::Error> {
    let owners: i64 =
        query_scalar("SELECT COUNT(*) FROM org_members WHERE org_id = $1 AND role = 'owner'")
            .bind(org.as_i64())
            .fetch_one(&mut *tx)
            .await?;
    if owners == 0 {
        tx.rollback().await?;
        return Ok(false);
    }
    tx.commit().await?;
    Ok(true)
}

async fn upsert_member_in(
    tx: &mut Tx,
    org: Id,
    user: Id,
    role: StaffRole,
    now: Timestamp,
) -> Result<(), sqlx::Error> {
    query(
        "INSERT INTO org_members (org_id, user_id, role, created_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (org_id, user_id) DO UPDATE SET role = excluded.role",
    )
    .bind(org.as_i64())
    .bind(user.as_i64())
    .bind(role.as_str())
    .bind(now.as_millis())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The organisations a user works for.
pub async fn orgs_of(db: &Db, user: Id) -> Result<Vec<Org>, sqlx::Error> {
    let rows: Vec<OrgRow> = query_as(
        "SELECT o.id, o.slug, o.name, o.verified, o.created_at \
         FROM orgs o JOIN org_members m ON m.org_id = o.id WHERE m.user_id = $1 ORDER BY o.id",
    )
    .bind(user.as_i64())
    .fetch_all(db.pool())
    .await?;
    Ok(rows.into_iter().map(to_org).collect())
}
