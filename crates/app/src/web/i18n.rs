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
    pub form_has_errors: &'static str,
    pub error_home: &'static str,
    pub not_found: &'static str,
    pub something_wrong: &'static str,
    pub like: &'static str,
    pub liked: &'static str,
    pub collect: &'static str,
    pub collected: &'static str,
    pub follow: &'static str,
    pub following_btn: &'static str,
    pub comments: &'static str,
    pub add_comment: &'static str,
    pub send: &'static str,
    pub reply: &'static str,
    pub delete: &'static str,
    pub pin: &'static str,
    pub unpin: &'static str,
    pub pinned: &'static str,
    pub edited: &'static str,
    pub edit: &'static str,
    pub no_comments: &'static str,
    pub new_note: &'static str,
    pub title: &'static str,
    pub body: &'static str,
    pub place: &'static str,
    pub photos: &'static str,
    pub add_photos: &'static str,
    pub visibility: &'static str,
    pub everyone: &'static str,
    pub only_me: &'static str,
    pub save_draft: &'static str,
    pub publish: &'static str,
    pub draft: &'static str,
    pub private: &'static str,
    pub move_up: &'static str,
    pub move_down: &'static str,
    pub remove: &'static str,
    pub popular_topics: &'static str,
    pub uploading: &'static str,
    pub composer_needs_js: &'static str,
    pub notes_tab: &'static str,
    pub boards_tab: &'static str,
    pub followers: &'static str,
    pub following: &'static str,
    pub likes_and_collects: &'static str,
    pub no_notes: &'static str,
    pub no_boards: &'static str,
    pub notes_count: &'static str,
    pub topic: &'static str,
    pub notifications_title: &'static str,
    pub no_notifications: &'static str,
    pub n_liked: &'static str,
    pub n_collected: &'static str,
    pub n_commented: &'static str,
    pub n_replied: &'static str,
    pub n_mentioned: &'static str,
    pub n_followed: &'static str,
    pub and_others: &'static str,
    pub more: &'static str,
    pub tab_following: &'static str,
    pub feed_empty: &'static str,
    pub reason_following: &'static str,
    pub reason_similar: &'static str,
    pub reason_topic: &'static str,
    pub reason_new: &'static str,
    pub reason_trending: &'static str,
    pub delete_note_confirm: &'static str,
    pub block: &'static str,
    pub people_tab: &'static str,
    pub sort_relevance: &'static str,
    pub sort_latest: &'static str,
    pub sort_popular: &'static str,
    pub no_results: &'static str,
    pub report: &'static str,
    pub shop_title: &'static str,
    pub all_categories: &'static str,
    pub price_from: &'static str,
    pub sold: &'static str,
    pub choose_variant: &'static str,
    pub quantity: &'static str,
    pub add_to_cart: &'static str,
    pub buy_now: &'static str,
    pub stock_left: &'static str,
    pub sold_out: &'static str,
    pub official: &'static str,
    pub cart_title: &'static str,
    pub cart_empty: &'static str,
    pub ship_to: &'static str,
    pub add_address: &'static str,
    pub recipient: &'static str,
    pub phone: &'static str,
    pub region: &'static str,
    pub address_detail: &'static str,
    pub place_order: &'static str,
    pub orders_title: &'static str,
    pub no_orders: &'static str,
    pub order_title: &'static str,
    pub items_total: &'static str,
    pub shipping_fee: &'static str,
    pub order_total: &'static str,
    pub pay: &'static str,
    pub pay_by: &'static str,
    pub cancel_order: &'static str,
    pub confirm_receipt: &'static str,
    pub ship: &'static str,
    pub carrier: &'static str,
    pub tracking_number: &'static str,
    pub mark_delivered: &'static str,
    pub status_pending_payment: &'static str,
    pub status_paid: &'static str,
    pub status_shipped: &'static str,
    pub status_delivered: &'static str,
    pub status_completed: &'static str,
    pub status_cancelled: &'static str,
    pub sandbox_title: &'static str,
    pub sandbox_explain: &'static str,
    pub pay_succeed: &'static str,
    pub pay_fail: &'static str,
    pub store_orders: &'static str,
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
    form_has_errors: "Please correct the fields below.",
    error_home: "Back to the home page",
    not_found: "This page does not exist.",
    something_wrong: "Something went wrong.",
    like: "Like",
    liked: "Liked",
    collect: "Collect",
    collected: "Collected",
    follow: "Follow",
    following_btn: "Following",
    comments: "Comments",
    add_comment: "Say something…",
    send: "Send",
    reply: "Reply",
    delete: "Delete",
    pin: "Pin",
    unpin: "Unpin",
    pinned: "Pinned",
    edited: "Edited",
    edit: "Edit",
    no_comments: "No comments yet.",
    new_note: "New note",
    title: "Title",
    body: "Body",
    place: "Place",
    photos: "Photos or a video",
    add_photos: "Add photos or a video",
    visibility: "Who can see it",
    everyone: "Everyone",
    only_me: "Only me",
    save_draft: "Save as draft",
    publish: "Publish",
    draft: "Draft",
    private: "Only me",
    move_up: "Move up",
    move_down: "Move down",
    remove: "Remove",
    popular_topics: "Topics",
    uploading: "Uploading…",
    composer_needs_js: "Uploading photos needs JavaScript.",
    notes_tab: "Notes",
    boards_tab: "Boards",
    followers: "Followers",
    following: "Following",
    likes_and_collects: "Likes & collects",
    no_notes: "No notes yet.",
    no_boards: "No boards yet.",
    notes_count: "notes",
    topic: "Topic",
    notifications_title: "Notifications",
    no_notifications: "Nothing new.",
    n_liked: "liked your note",
    n_collected: "collected your note",
    n_commented: "commented on your note",
    n_replied: "replied to your comment",
    n_mentioned: "mentioned you",
    n_followed: "started following you",
    and_others: "and others",
    more: "Load more",
    tab_following: "Following",
    feed_empty: "Nothing new here right now.",
    reason_following: "You follow",
    reason_similar: "Liked by people with your taste",
    reason_topic: "Popular in",
    reason_new: "New from a creator you may like",
    reason_trending: "Popular on Hongshu",
    delete_note_confirm: "Delete this note?",
    block: "Block",
    people_tab: "People",
    sort_relevance: "Best match",
    sort_latest: "Latest",
    sort_popular: "Most liked",
    no_results: "Nothing found.",
    report: "Report",
    shop_title: "Shop",
    all_categories: "All",
    price_from: "From",
    sold: "sold",
    choose_variant: "Choose",
    quantity: "Quantity",
    add_to_cart: "Add to cart",
    buy_now: "Buy now",
    stock_left: "left",
    sold_out: "Sold out",
    official: "Official",
    cart_title: "Cart",
    cart_empty: "Your cart is empty.",
    ship_to: "Ship to",
    add_address: "Add an address",
    recipient: "Recipient",
    phone: "Phone",
    region: "Province or region",
    address_detail: "Address",
    place_order: "Place order",
    orders_title: "My orders",
    no_orders: "No orders yet.",
    order_title: "Order",
    items_total: "Items",
    shipping_fee: "Shipping",
    order_total: "Total",
    pay: "Pay",
    pay_by: "Pay by",
    cancel_order: "Cancel order",
    confirm_receipt: "Confirm receipt",
    ship: "Ship",
    carrier: "Carrier",
    tracking_number: "Tracking number",
    mark_delivered: "Mark delivered",
    status_pending_payment: "Awaiting payment",
    status_paid: "Paid, to be shipped",
    status_shipped: "Shipped",
    status_delivered: "Delivered",
    status_completed: "Completed",
    status_cancelled: "Cancelled",
    sandbox_title: "Sandbox payment",
    sandbox_explain: "The demo's payment provider: no real money moves.",
    pay_succeed: "Pay",
    pay_fail: "Make it fail",
    store_orders: "Store orders",
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
    form_has_errors: "请修改下面标出的内容。",
    error_home: "返回首页",
    not_found: "页面不存在。",
    something_wrong: "出了点问题。",
    like: "赞",
    liked: "已赞",
    collect: "收藏",
    collected: "已收藏",
    follow: "关注",
    following_btn: "已关注",
    comments: "评论",
    add_comment: "说点什么…",
    send: "发送",
    reply: "回复",
    delete: "删除",
    pin: "置顶",
    unpin: "取消置顶",
    pinned: "置顶",
    edited: "已编辑",
    edit: "编辑",
    no_comments: "还没有评论。",
    new_note: "发布笔记",
    title: "标题",
    body: "正文",
    place: "地点",
    photos: "图片或视频",
    add_photos: "添加图片或视频",
    visibility: "谁可以看",
    everyone: "公开",
    only_me: "仅自己可见",
    save_draft: "存为草稿",
    publish: "发布",
    draft: "草稿",
    private: "仅自己可见",
    move_up: "上移",
    move_down: "下移",
    remove: "移除",
    popular_topics: "话题",
    uploading: "上传中…",
    composer_needs_js: "上传图片需要启用 JavaScript。",
    notes_tab: "笔记",
    boards_tab: "收藏夹",
    followers: "粉丝",
    following: "关注",
    likes_and_collects: "获赞与收藏",
    no_notes: "还没有笔记。",
    no_boards: "还没有收藏夹。",
    notes_count: "篇笔记",
    topic: "话题",
    notifications_title: "消息",
    no_notifications: "暂时没有消息。",
    n_liked: "赞了你的笔记",
    n_collected: "收藏了你的笔记",
    n_commented: "评论了你的笔记",
    n_replied: "回复了你的评论",
    n_mentioned: "提到了你",
    n_followed: "开始关注你",
    and_others: "等人",
    more: "加载更多",
    tab_following: "关注",
    feed_empty: "暂时没有新内容。",
    reason_following: "你关注的",
    reason_similar: "和你口味相近的人喜欢",
    reason_topic: "热门于",
    reason_new: "你可能喜欢的新作者",
    reason_trending: "红薯热门",
    delete_note_confirm: "确定删除这篇笔记？",
    block: "拉黑",
    people_tab: "用户",
    sort_relevance: "综合",
    sort_latest: "最新",
    sort_popular: "最热",
    no_results: "没有找到相关内容。",
    report: "举报",
    shop_title: "商城",
    all_categories: "全部",
    price_from: "低至",
    sold: "已售",
    choose_variant: "选择规格",
    quantity: "数量",
    add_to_cart: "加入购物车",
    buy_now: "立即购买",
    stock_left: "件可售",
    sold_out: "已售罄",
    official: "官方",
    cart_title: "购物车",
    cart_empty: "购物车是空的。",
    ship_to: "收货地址",
    add_address: "新增地址",
    recipient: "收货人",
    phone: "手机号",
    region: "省份/地区",
    address_detail: "详细地址",
    place_order: "提交订单",
    orders_title: "我的订单",
    no_orders: "还没有订单。",
    order_title: "订单",
    items_total: "商品金额",
    shipping_fee: "运费",
    order_total: "实付款",
    pay: "去支付",
    pay_by: "请在此前付款",
    cancel_order: "取消订单",
    confirm_receipt: "确认收货",
    ship: "发货",
    carrier: "快递公司",
    tracking_number: "运单号",
    mark_delivered: "标记已送达",
    status_pending_payment: "待付款",
    status_paid: "待发货",
    status_shipped: "已发货",
    status_delivered: "已送达",
    status_completed: "已完成",
    status_cancelled: "已取消",
    sandbox_title: "沙箱支付",
    sandbox_explain: "演示用的支付通道，不会产生真实扣款。",
    pay_succeed: "支付",
    pay_fail: "模拟支付失败",
    store_orders: "店铺订单",
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
