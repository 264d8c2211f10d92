//! Languages of the pages: English and Simplified Chinese. The chosen language comes from the
//! `hs_lang` cookie (set by the switch in the header), else from `Accept-Language`.
//!
//! Every string lives in one `Texts` value per language, so a missing translation does not
//! compile.

use axum::http::{header, HeaderMap};

use super::cookies;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    ZhCn,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::ZhCn, Lang::En];

    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::ZhCn => "zh-CN",
        }
    }

    /// The language's name in itself, for the switch.
    pub fn native_name(self) -> &'static str {
        match self {
            Lang::En => "English",
            Lang::ZhCn => "简体中文",
        }
    }

    pub fn from_code(code: &str) -> Option<Lang> {
        let code = code.trim().to_ascii_lowercase();
        if code == "zh" || code.starts_with("zh-") {
            Some(Lang::ZhCn)
        } else if code == "en" || code.starts_with("en-") {
            Some(Lang::En)
        } else {
            None
        }
    }

    pub fn of_request(headers: &HeaderMap) -> Lang {
        if let Some(lang) = cookies::read(headers, cookies::LANG).and_then(|c| Lang::from_code(&c))
        {
            return lang;
        }
        headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .and_then(preferred)
            .unwrap_or(Lang::En)
    }

    pub fn texts(self) -> &'static Texts {
        match self {
            Lang::En => &EN,
            Lang::ZhCn => &ZH_CN,
        }
    }
}

/// The supported language with the highest quality in an `Accept-Language` header.
fn preferred(header: &str) -> Option<Lang> {
    let mut best: Option<(f32, Lang)> = None;
    for part in header.split(',') {
        let mut pieces = part.split(';');
        let Some(lang) = pieces.next().and_then(Lang::from_code) else {
            continue;
        };
        let quality = pieces
            .find_map(|p| p.trim().strip_prefix("q="))
            .and_then(|q| q.parse::<f32>().ok())
            .unwrap_or(1.0);
        if best.is_none_or(|(q, _)| quality > q) {
            best = Some((quality, lang));
        }
    }
    best.map(|(_, lang)| lang)
}

pub struct Texts {
    pub brand: &'static str,
    pub tagline: &'static str,
    pub nav_explore: &'static str,
    pub nav_post: &'static str,
    pub nav_shop: &'static str,
    pub nav_notifications: &'static str,
    pub nav_me: &'static str,
    pub search_placeholder: &'static str,
    pub search: &'static str,
    pub sign_up: &'static str,
    pub sign_in: &'static str,
    pub sign_out: &'static str,
    pub edit_profile: &'static str,
    pub handle: &'static str,
    pub handle_hint: &'static str,
    pub display_name: &'static str,
    pub password: &'static str,
    pub password_hint: &'static str,
    pub bio: &'static str,
    pub bio_empty: &'static str,
    pub have_account: &'static str,
    pub no_account: &'static str,
    pub save: &'static str,
    pub saved: &'static str,
    pub joined: &'static str,
    pub verified: &'static str,
    pub language: &'static str,
    pub welcome_title: &'static str,
    pub welcome_body: &'static str,
    pub welcome_back: &'static str,
    pub form_has_errors: &'static str,
    pub error_home: &'static str,
    pub not_found: &'static str,
    pub something_wrong: &'static str,
}

pub static EN: Texts = Texts {
    brand: "Hongshu",
    tagline: "Notes on the things you love — and where to get them.",
    nav_explore: "Explore",
    nav_post: "Post",
    nav_shop: "Shop",
    nav_notifications: "Notifications",
    nav_me: "Me",
    search_placeholder: "Search notes, people, topics",
    search: "Search",
    sign_up: "Sign up",
    sign_in: "Sign in",
    sign_out: "Sign out",
    edit_profile: "Edit profile",
    handle: "Handle",
    handle_hint: "3–24 characters: letters, digits, _ and .",
    display_name: "Display name",
    password: "Password",
    password_hint: "At least 8 characters, not a common password.",
    bio: "Bio",
    bio_empty: "No bio yet.",
    have_account: "Already have an account?",
    no_account: "New to Hongshu?",
    save: "Save",
    saved: "Saved.",
    joined: "Joined",
    verified: "Verified",
    language: "Language",
    welcome_title: "Welcome to Hongshu",
    welcome_body: "Share notes about products and daily life, discover what others love, and shop from people you trust.",
    welcome_back: "Welcome back",
    form_has_errors: "Please correct the fields below.",
    error_home: "Back to the home page",
    not_found: "This page does not exist.",
    something_wrong: "Something went wrong.",
};

pub static ZH_CN: Texts = Texts {
    brand: "红薯",
    tagline: "记录你热爱的好物，也告诉你去哪儿买。",
    nav_explore: "发现",
    nav_post: "发布",
    nav_shop: "商城",
    nav_notifications: "消息",
    nav_me: "我",
    search_placeholder: "搜索笔记、用户、话题",
    search: "搜索",
    sign_up: "注册",
    sign_in: "登录",
    sign_out: "退出登录",
    edit_profile: "编辑资料",
    handle: "用户名",
    handle_hint: "3–24 个字符：字母、数字、_ 和 .",
    display_name: "昵称",
    password: "密码",
    password_hint: "至少 8 个字符，不要用常见密码。",
    bio: "简介",
    bio_empty: "还没有简介。",
    have_account: "已有账号？",
    no_account: "第一次来红薯？",
    save: "保存",
    saved: "已保存。",
    joined: "加入于",
    verified: "官方认证",
    language: "语言",
    welcome_title: "欢迎来到红薯",
    welcome_body: "分享好物与日常，发现大家的心头好，从你信任的人那里购物。",
    welcome_back: "欢迎回来",
    form_has_errors: "请修改下面标出的内容。",
    error_home: "返回首页",
    not_found: "页面不存在。",
    something_wrong: "出了点问题。",
};

/// Field-error details in the page's language; the API always speaks English.
pub fn translate_detail(lang: Lang, detail: &str) -> String {
    if lang == Lang::En {
        return detail.to_owned();
    }
    let known = [
        ("is required", "不能为空"),
        ("is reserved", "是保留名称"),
        ("is already taken", "已被占用"),
        ("must be 3 to 24 characters", "长度须为 3 到 24 个字符"),
        (
            "may contain only letters a-z, digits, '_' and '.'",
            "只能包含字母 a-z、数字、_ 和 .",
        ),
        ("must start with a letter or a digit", "须以字母或数字开头"),
        ("must be at least 8 characters", "至少需要 8 个字符"),
        ("must be at most 128 characters", "最多 128 个字符"),
        ("is too easy to guess", "太容易被猜到"),
        ("must not contain your handle", "不能包含用户名"),
        ("must be at most 40 characters", "最多 40 个字符"),
        ("must be at most 300 characters", "最多 300 个字符"),
        ("must not contain control characters", "不能包含控制字符"),
        ("the handle or the password is wrong", "用户名或密码错误"),
    ];
    known
        .iter()
        .find(|(en, _)| *en == detail)
        .map_or_else(|| detail.to_owned(), |(_, zh)| (*zh).to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_picks_the_best_supported_language() {
        assert_eq!(preferred("zh-CN,zh;q=0.9,en;q=0.8"), Some(Lang::ZhCn));
        assert_eq!(preferred("fr-FR, en;q=0.5, zh;q=0.3"), Some(Lang::En));
        assert_eq!(preferred("en;q=0.2, zh-TW;q=0.7"), Some(Lang::ZhCn));
        assert_eq!(preferred("fr, de"), None);
    }

    #[test]
    fn the_cookie_wins_over_the_header() {
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT_LANGUAGE, "en".parse().unwrap());
        headers.insert(header::COOKIE, "hs_lang=zh-CN".parse().unwrap());
        assert_eq!(Lang::of_request(&headers), Lang::ZhCn);
    }
}
