//! The demo community that `hongshu serve --demo` puts into an empty database, so that a new
//! operator sees a living site at once. Later domains add their own demo content here.

use crate::accounts::{service as accounts, store as account_store};
use crate::error::AppResult;
use crate::orgs::{service as orgs, types::StaffRole};
use crate::state::AppState;

/// (handle, display name, bio)
const MEMBERS: &[(&str, &str, &str)] = &[
    (
        "lin_xiaohong",
        "林小红",
        "上海 · 护肤和咖啡爱好者 ☕\nSkincare notes from Shanghai.",
    ),
    (
        "mountain.lee",
        "Lee Shan",
        "Hiking every weekend. 周末一定在爬山。",
    ),
    (
        "chef_wang",
        "王大厨",
        "家常菜三十年 · Home cooking, no shortcuts.",
    ),
    (
        "mia.styles",
        "Mia",
        "Fashion on a student budget. 学生党穿搭。",
    ),
    ("yu_travels", "于途", "走过 40 个城市，记录好住好吃的地方。"),
];

pub struct DemoAccounts {
    pub handles: Vec<&'static str>,
    /// One password for every demo account, random per installation.
    pub password: String,
}

/// Seeds the demo when no one has signed up yet; returns the accounts made, or `None` when the
/// database already has members (the demo never touches a community in use).
pub async fn seed(state: &AppState) -> AppResult<Option<DemoAccounts>> {
    if account_store::count_users(&state.db).await? > 0 {
        return Ok(None);
    }
    let password = format!("demo-{}", &accounts::random_secret()[..12]);
    let mut users = Vec::new();
    for (handle, name, bio) in MEMBERS {
        let user = accounts::signup(state, handle, name, &password).await?;
        users.push(accounts::update_profile(state, &user, None, Some(bio)).await?);
    }
    let brand = orgs::create(state, &users[0], "redbean", "红豆美妆 Red Bean Beauty").await?;
    orgs::put_member(state, &users[0], &brand, "mia.styles", StaffRole::Staff).await?;
    crate::orgs::store::set_verified(&state.db, brand.id, true).await?;
    Ok(Some(DemoAccounts {
        handles: MEMBERS.iter().map(|(handle, _, _)| *handle).collect(),
        password,
    }))
}
