//! The test harness: a real server on a free port, a fresh database, typed helpers.

use std::net::SocketAddr;

use app::config::Config;
use app::state::AppState;
use app::web::limits::Rate;
use reqwest::{Client, Response, StatusCode};
use serde_json::{json, Value};
use tempfile::TempDir;
use tokio::sync::oneshot;

pub const PASSWORD: &str = "red potato 42";

pub struct TestApp {
    pub address: String,
    pub state: AppState,
    /// A client without cookies, for the JSON API.
    pub api: Client,
    _data_dir: TempDir,
    stop: Option<oneshot::Sender<()>>,
    served: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Starts a server with the configuration adjusted for one test.
pub async fn spawn_app_with(adjust: impl FnOnce(&mut Config)) -> TestApp {
    let data_dir = tempfile::tempdir().expect("temporary folder");
    let mut config = Config::default();
    config.storage.data_dir = data_dir.path().to_owned();
    config.storage.max_connections = 8;
    config.storage.database_url = store::testing::fresh_database_url(data_dir.path()).await;
    config.server.bind = SocketAddr::from(([127, 0, 0, 1], 0));
    // Every test's members sign up from this one address, as if from many homes; the tests of
    // the limits set them back.
    config.limits.signup = Rate::new(100_000, 100_000);
    // Media in an S3-compatible store when the suite is given one (scripts/test starts one).
    if let Ok(endpoint) = std::env::var("HONGSHU_TEST_S3_ENDPOINT") {
        config.media.store = "s3".into();
        config.media.s3_endpoint = endpoint;
        config.media.s3_bucket = "hongshu-test".into();
        config.media.s3_access_key_id = "test".into();
        config.media.s3_secret_access_key = "test".into();
    }
    adjust(&mut config);
    let state = app::open(config).await.expect("database opens");
    let expected = match std::env::var("HONGSHU_TEST_DATABASE_URL") {
        Ok(_) => store::Backend::Postgres,
        Err(_) => store::Backend::Sqlite,
    };
    assert_eq!(
        state.db.backend(),
        expected,
        "the suite runs on the database it was given"
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("free port");
    let address = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = oneshot::channel::<()>();
    let served = tokio::spawn(app::run(listener, state.clone(), async {
        let _ = stopped.await;
    }));
    TestApp {
        address,
        state,
        api: Client::new(),
        _data_dir: data_dir,
        stop: Some(stop),
        served: Some(served),
    }
}

impl TestApp {
    /// Stops the server and waits until it has stopped: its tasks ended, its database closed.
    /// Its data folder stays until the `TestApp` is dropped.
    pub async fn shut_down(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(served) = self.served.take() {
            let _ = served.await;
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// A browser-like client that keeps cookies and does not follow redirects.
    pub fn browser(&self) -> Client {
        Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
    }

    /// GET as an anonymous API client, read as JSON, once the change log is applied.
    pub async fn get_json(&self, path: &str) -> Value {
        self.caught_up().await;
        let response = self.api.get(self.url(path)).send().await.unwrap();
        response.json().await.unwrap()
    }

    /// A page's HTML as the given browser sees it, once the change log is applied.
    pub async fn page(&self, browser: &Client, path: &str) -> String {
        self.caught_up().await;
        let response = browser.get(self.url(path)).send().await.unwrap();
        response.text().await.unwrap()
    }

    /// A browser signed in through the login page as a member made before; with the page's
    /// CSRF token for its forms.
    pub async fn signed_in_browser(&self, handle: &str) -> (Client, String) {
        let browser = self.browser();
        let csrf = csrf_of(&self.page(&browser, "/login").await);
        let login = [
            ("_csrf", csrf.as_str()),
            ("handle", handle),
            ("password", PASSWORD),
        ];
        let answer = self.submit(&browser, "/login", &login).await;
        assert_eq!(answer.status(), StatusCode::SEE_OTHER, "signed in");
        (browser, csrf)
    }

    /// Submits a form as the given browser.
    pub async fn submit<F: serde::Serialize + ?Sized>(
        &self,
        browser: &Client,
        path: &str,
        form: &F,
    ) -> Response {
        browser
            .post(self.url(path))
            .form(form)
            .send()
            .await
            .unwrap()
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> Response {
        self.api
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn signup(&self, handle: &str) -> Response {
        let body = json!({"handle": handle, "display_name": handle, "password": PASSWORD});
        self.post_json("/api/v1/auth/signup", &body).await
    }

    pub async fn login(&self, handle: &str, password: &str) -> Response {
        self.post_json(
            "/api/v1/auth/login",
            &json!({"handle": handle, "password": password}),
        )
        .await
    }

    /// Signs a new member up and in; returns their bearer token.
    pub async fn member(&self, handle: &str) -> String {
        assert_eq!(self.signup(handle).await.status(), StatusCode::CREATED);
        let body: Value = self.login(handle, PASSWORD).await.json().await.unwrap();
        body["token"].as_str().expect("token").to_owned()
    }

    /// An administrator, made the way operators make one, signed in.
    pub async fn admin(&self, handle: &str) -> String {
        app::accounts::service::create_admin(&self.state, handle, "Admin", PASSWORD)
            .await
            .unwrap();
        let body: Value = self.login(handle, PASSWORD).await.json().await.unwrap();
        body["token"].as_str().expect("token").to_owned()
    }

    /// Waits until every subscriber of the change log (search, the feed, the note cache,
    /// notifications) has applied everything recorded so far; at most ten seconds.
    pub async fn caught_up(&self) {
        for _ in 0..1_000 {
            if self.state.changes.caught_up(&self.state.db).await.unwrap() {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        panic!("the change log's subscribers did not catch up within ten seconds");
    }

    /// GET with a bearer token, read as JSON, once the change log's subscribers have caught up
    /// with everything done before (so derived views such as the feed and notifications are
    /// read after the writes that feed them).
    pub async fn get_json_as(&self, token: &str, path: &str) -> Value {
        self.caught_up().await;
        self.get_as(token, path).await.json().await.unwrap()
    }

    pub async fn get_as(&self, token: &str, path: &str) -> Response {
        self.api
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    pub async fn send_as(
        &self,
        method: reqwest::Method,
        token: &str,
        path: &str,
        body: Option<Value>,
    ) -> Response {
        let request = self.api.request(method, self.url(path)).bearer_auth(token);
        let request = match body {
            Some(body) => request.json(&body),
            None => request,
        };
        request.send().await.unwrap()
    }
}

/// One string field of every item of a page, e.g. the ids.
pub fn item_strings<'a>(page: &'a Value, field: &str) -> Vec<&'a str> {
    let items = page["items"].as_array().expect("a page has items");
    items
        .iter()
        .map(|item| item[field].as_str().expect("a string field"))
        .collect()
}

/// Reads a problem+json response, checking its media type.
pub async fn problem(response: Response) -> Value {
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(content_type, "application/problem+json");
    response.json().await.unwrap()
}

/// The value of the hidden `_csrf` field in a page.
pub fn csrf_of(html: &str) -> String {
    let marker = "name=\"_csrf\" value=\"";
    let start = html
        .find(marker)
        .expect("page has a form with a CSRF field")
        + marker.len();
    let end = start + html[start..].find('"').unwrap();
    html[start..end].to_owned()
}
