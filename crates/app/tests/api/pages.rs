use reqwest::StatusCode;

use crate::helpers::{csrf_of, spawn_app, TestApp, PASSWORD};

#[tokio::test]
async fn a_visitor_signs_up_edits_the_profile_and_signs_out_through_the_pages() {
    let app = spawn_app().await;
    let browser = app.browser();
    let page = app.page(&browser, "/signup").await;
    let csrf = csrf_of(&page);
    let form = [
        ("_csrf", csrf.as_str()),
        ("handle", "Qing"),
        ("display_name", "<script>alert(1)</script>"),
        ("password", PASSWORD),
    ];
    let created = app.submit(&browser, "/signup", &form).await;
    assert_eq!(created.status(), StatusCode::SEE_OTHER);
    assert_eq!(created.headers()["location"], "/@qing");

    let profile = app.page(&browser, "/@qing").await;
    assert!(
        profile.contains("&#60;script&#62;alert(1)&#60;/script&#62;"),
        "names are escaped"
    );
    assert!(!profile.contains("<script>alert(1)"));
    assert!(
        profile.contains("id=\"edit-profile\""),
        "the owner sees the edit link"
    );

    let editor = app.page(&browser, "/settings/profile").await;
    let form = [
        ("_csrf", csrf.as_str()),
        ("display_name", "Qing 青"),
        ("bio", "Tea, trains and tofu"),
    ];
    let saved = app.submit(&browser, "/settings/profile", &form).await;
    assert_eq!(saved.status(), StatusCode::OK);
    assert!(saved.text().await.unwrap().contains("id=\"saved\""));
    assert!(editor.contains("value=\"&#60;script&#62;"));
    let profile = app.page(&browser, "/@qing").await;
    assert!(profile.contains("Tea, trains and tofu"));

    let signed_out = browser
        .post(app.url("/logout"))
        .form(&[("_csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(signed_out.status(), StatusCode::SEE_OTHER);
    let editor = browser
        .get(app.url("/settings/profile"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        editor.status(),
        StatusCode::SEE_OTHER,
        "signed out, the editor sends one to sign in"
    );
    assert_eq!(
        editor.headers()["location"],
        "/login?next=%2Fsettings%2Fprofile"
    );
}

#[tokio::test]
async fn forms_without_the_csrf_token_are_refused() {
    let app = spawn_app().await;
    let browser = app.browser();
    browser.get(app.url("/signup")).send().await.unwrap();
    let form = [
        ("_csrf", "forged"),
        ("handle", "mallory"),
        ("display_name", "M"),
        ("password", PASSWORD),
    ];
    let response = app.submit(&browser, "/signup", &form).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    assert_eq!(
        app.signup("mallory").await.status(),
        StatusCode::CREATED,
        "nothing was created"
    );
}

#[tokio::test]
async fn refused_forms_come_back_with_each_error_and_the_values_typed() {
    let app = spawn_app().await;
    app.signup("taken").await;
    let browser = app.browser();
    let csrf = csrf_of(&app.page(&browser, "/signup").await);
    let form = [
        ("_csrf", csrf.as_str()),
        ("handle", "TAKEN"),
        ("display_name", "Tina"),
        ("password", "short"),
    ];
    let response = app.submit(&browser, "/signup", &form).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = response.text().await.unwrap();
    assert!(html.contains("id=\"password-error\">must be at least 8 characters"));
    assert!(html.contains("value=\"Tina\""));

    let form = [
        ("_csrf", csrf.as_str()),
        ("handle", "taken"),
        ("display_name", "Tina"),
        ("password", PASSWORD),
    ];
    let html = app
        .submit(&browser, "/signup", &form)
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("id=\"handle-error\">is already taken"));
}

#[tokio::test]
async fn signing_in_returns_to_the_page_asked_for_but_never_off_site() {
    let app = spawn_app().await;
    app.signup("uma").await;
    let browser = app.browser();
    let page = app.page(&browser, "/login?next=/settings/profile").await;
    let csrf = csrf_of(&page);
    let wrong = [
        ("_csrf", csrf.as_str()),
        ("handle", "uma"),
        ("password", "wrong password!"),
        ("next", "/"),
    ];
    let refused = app.submit(&browser, "/login", &wrong).await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    assert!(refused
        .text()
        .await
        .unwrap()
        .contains("the handle or the password is wrong"));

    let form = [
        ("_csrf", csrf.as_str()),
        ("handle", "uma"),
        ("password", PASSWORD),
        ("next", "//evil.example/"),
    ];
    let response = app.submit(&browser, "/login", &form).await;
    assert_eq!(response.headers()["location"], "/");
    let form = [
        ("_csrf", csrf.as_str()),
        ("handle", "uma"),
        ("password", PASSWORD),
        ("next", "/settings/profile"),
    ];
    let response = app.submit(&browser, "/login", &form).await;
    assert_eq!(response.headers()["location"], "/settings/profile");
}

#[tokio::test]
async fn a_forged_session_cookie_just_means_signed_out() {
    let app = spawn_app().await;
    let response = app
        .api
        .get(app.url("/"))
        .header("cookie", "hs_session=hs_forged_value")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.text().await.unwrap().contains("href=\"/signup\""));
}

#[tokio::test]
async fn pages_speak_the_readers_language_and_the_switch_remembers_it() {
    let app = spawn_app().await;
    let chinese = app
        .api
        .get(app.url("/login"))
        .header("accept-language", "zh-CN,zh;q=0.9")
        .send()
        .await
        .unwrap();
    let html = chinese.text().await.unwrap();
    assert!(html.contains("<html lang=\"zh-CN\">") && html.contains("登录"));
    let english = app
        .api
        .get(app.url("/login"))
        .header("accept-language", "en-US")
        .send()
        .await
        .unwrap();
    assert!(english.text().await.unwrap().contains("Sign in"));

    let browser = app.browser();
    let switched = browser
        .get(app.url("/lang?to=zh-CN&next=/signup"))
        .send()
        .await
        .unwrap();
    assert_eq!(switched.headers()["location"], "/signup");
    let html = browser
        .get(app.url("/signup"))
        .header("accept-language", "en")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("注册"));
    let off_site = browser
        .get(app.url("/lang?to=en&next=https://evil.example"))
        .send()
        .await
        .unwrap();
    assert_eq!(off_site.headers()["location"], "/");
}

#[tokio::test]
async fn unknown_pages_are_html_with_security_headers() {
    let app = spawn_app().await;
    let response = app.api.get(app.url("/no/such/page")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let headers = response.headers().clone();
    assert!(headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    assert!(headers["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("frame-ancestors 'none'"));
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert!(response.text().await.unwrap().contains("404"));
    let missing_member = app.api.get(app.url("/@nobody")).send().await.unwrap();
    assert_eq!(missing_member.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn assets_are_addressed_by_their_contents_and_cached_for_good() {
    let app = spawn_app().await;
    let page = app.page(&app.browser(), "/").await;
    let script = page
        .split("src=\"/static/app.js?v=")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the script's address");
    let served = app
        .api
        .get(app.url(&format!("/static/app.js?v={script}")))
        .send()
        .await
        .unwrap();
    assert_eq!(
        served.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    let body = served.text().await.unwrap();
    use sha2::{Digest, Sha256};
    let css = app
        .api
        .get(app.url("/static/app.css"))
        .send()
        .await
        .unwrap();
    let css = css.text().await.unwrap();
    let digest = Sha256::new()
        .chain_update(css.as_bytes())
        .chain_update(body.as_bytes())
        .finalize();
    let expected: String = digest[..6].iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(
        script, expected,
        "a change to either asset changes the address"
    );
}

/// The body and its `Content-Encoding`, asked for under `accept` (none: no header).
async fn fetch(app: &TestApp, path: &str, accept: Option<&str>) -> (Option<String>, Vec<u8>) {
    let mut request = reqwest::Client::new().get(app.url(path));
    if let Some(accept) = accept {
        request = request.header("accept-encoding", accept);
    }
    let response = request.send().await.unwrap();
    let encoding = response
        .headers()
        .get("content-encoding")
        .map(|e| e.to_str().unwrap().to_owned());
    (encoding, response.bytes().await.unwrap().to_vec())
}

#[tokio::test]
async fn pages_styles_and_json_go_out_compressed_when_the_client_accepts_it() {
    use std::io::Read;
    let app = spawn_app().await;
    for path in [
        "/",
        "/static/app.css",
        "/static/app.js",
        "/api/openapi.json",
    ] {
        let (encoding, plain) = fetch(&app, path, None).await;
        assert_eq!(encoding, None, "{path}");

        let (encoding, gzipped) = fetch(&app, path, Some("gzip")).await;
        assert_eq!(encoding.as_deref(), Some("gzip"), "{path}");
        let mut unpacked = Vec::new();
        flate2::read::GzDecoder::new(&gzipped[..])
            .read_to_end(&mut unpacked)
            .unwrap();
        assert_eq!(unpacked, plain, "{path} unpacks to the same bytes");
        if path == "/static/app.css" {
            assert!(
                gzipped.len() * 2 < plain.len(),
                "the stylesheet at least halves"
            );
        }

        let (encoding, _) = fetch(&app, path, Some("br")).await;
        assert_eq!(encoding.as_deref(), Some("br"), "{path}");
    }
}
