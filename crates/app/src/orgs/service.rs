//! The rules of organisations: who may create, staff and verify them.

use kernel::{Id, Timestamp};

use super::store;
use super::types::{Member, Org, StaffRole};
use crate::accounts::service::{require_admin, user_by_handle};
use crate::accounts::types::{parse_line, Fields, Handle, User};
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// Any member may create an organisation; they become its first owner.
pub async fn create(state: &AppState, founder: &User, slug: &str, name: &str) -> AppResult<Org> {
    let mut fields = Fields::default();
    let slug = fields.check(Handle::parse("slug", slug));
    let name = fields.check(parse_line("name", name, 60));
    let (slug, name) = fields.finish(slug.zip(name))?;
    let org = Org {
        id: state.ids.next_id(),
        slug: slug.as_str().to_owned(),
        name,
        verified: false,
        created_at: Timestamp::now(),
    };
    store::insert_org(&state.db, &org, founder.id)
        .await
        .map_err(AppError::taken("slug", "is already taken"))?;
    Ok(org)
}

pub async fn by_slug(state: &AppState, slug: &str) -> AppResult<Org> {
    store::org_by_slug(&state.db, &slug.to_ascii_lowercase())
        .await?
        .ok_or(AppError::NotFound("organisation"))
}

/// Staff lists are visible to the organisation's own staff and to administrators.
pub async fn members(state: &AppState, actor: &User, org: &Org) -> AppResult<Vec<Member>> {
    if !actor.is_admin() && !is_staff(state, actor, org.id).await? {
        return Err(AppError::Forbidden(
            "only the organisation's staff may see its staff",
        ));
    }
    Ok(store::members(&state.db, org.id).await?)
}

/// An owner adds a member or changes their role.
pub async fn put_member(
    state: &AppState,
    actor: &User,
    org: &Org,
    handle: &str,
    role: StaffRole,
) -> AppResult<()> {
    require_owner(state, actor, org).await?;
    let member = user_by_handle(state, handle).await?;
    if store::put_member(&state.db, org.id, member.id, role).await? {
        Ok(())
    } else {
        Err(AppError::Conflict(
            "role",
            "an organisation needs at least one owner".into(),
        ))
    }
}

/// An owner removes a member; members may also leave on their own.
pub async fn remove_member(
    state: &AppState,
    actor: &User,
    org: &Org,
    handle: &str,
) -> AppResult<()> {
    let member = user_by_handle(state, handle).await?;
    if member.id != actor.id {
        require_owner(state, actor, org).await?;
    }
    match store::remove_member(&state.db, org.id, member.id).await? {
        Some(true) => Ok(()),
        Some(false) => Err(AppError::Conflict(
            "handle",
            "an organisation needs at least one owner".into(),
        )),
        None => Err(AppError::NotFound("member")),
    }
}

/// Administrators grant or withdraw the official badge.
pub async fn set_verified(
    state: &AppState,
    actor: &User,
    org: &Org,
    verified: bool,
) -> AppResult<Org> {
    require_admin(actor)?;
    store::set_verified(&state.db, org.id, verified).await?;
    Ok(Org {
        verified,
        ..org.clone()
    })
}

/// Whether the user works for the organisation, as owner or staff.
pub async fn is_staff(state: &AppState, user: &User, org: Id) -> AppResult<bool> {
    Ok(store::role_of(&state.db, org, user.id).await?.is_some())
}

/// Everyone who works for the organisation, owners included.
pub async fn staff_ids(state: &AppState, org: Id) -> AppResult<Vec<Id>> {
    let members = store::members(&state.db, org).await?;
    Ok(members.into_iter().map(|m| m.user_id).collect())
}

pub async fn orgs_of(state: &AppState, user: &User) -> AppResult<Vec<Org>> {
    Ok(store::orgs_of(&state.db, user.id).await?)
}

async fn require_owner(state: &AppState, actor: &User, org: &Org) -> AppResult<()> {
    match store::role_of(&state.db, org.id, actor.id).await? {
        Some(StaffRole::Owner) => Ok(()),
        _ => Err(AppError::Forbidden(
            "only the organisation's owners may manage its staff",
        )),
    }
}
