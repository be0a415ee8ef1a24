//! Starts real console servers on loopback for the integration tests, on SQLite (a temporary
//! file) or PostgreSQL (a fresh database on 127.0.0.1:5432, dropped afterwards).

#![allow(dead_code)]

use ims_console::config::Config;
use ims_console::server::{self, AppState};
use reqwest::redirect::Policy;
use reqwest::{Client, StatusCode};
use sqlx::{AnyConnection, Connection, Executor};
use std::path::PathBuf;
use tokio::sync::oneshot;

pub const PASSWORD: &str = "test-password-1";
const POSTGRES_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A database that lives as long as the test.
pub struct TestDatabase {
    pub url: String,
    backend: Backend,
    name: String,
    folder: PathBuf,
}

impl TestDatabase {
    pub async fn create(backend: Backend) -> TestDatabase {
        let name = format!("ims_test_{}", uuid::Uuid::new_v4().simple());
        let folder = std::env::temp_dir().join(&name);
        std::fs::create_dir_all(&folder).unwrap();
        let url = match backend {
            Backend::Sqlite => format!("sqlite:{}?mode=rwc", folder.join("ims.db").display()),
            Backend::Postgres => {
                sqlx::any::install_default_drivers();
                let mut admin = AnyConnection::connect(&postgres_admin_url()).await.expect(
                    "PostgreSQL must run on 127.0.0.1:5432 with trust auth for the tests (.ci/run starts it)",
                );
                admin.execute(format!("CREATE DATABASE {name}").as_str()).await.unwrap();
                admin.close().await.unwrap();
                let admin_url = postgres_admin_url();
                let (server, _) = admin_url.rsplit_once('/').expect("a database URL ends in /DATABASE");
                format!("{server}/{name}")
            }
        };
        TestDatabase { url, backend, name, folder }
    }

    pub async fn drop_database(self) {
        if self.backend == Backend::Postgres {
            let mut admin = AnyConnection::connect(&postgres_admin_url()).await.unwrap();
            admin.execute(format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name).as_str()).await.unwrap();
            admin.close().await.unwrap();
        }
        let _ = std::fs::remove_dir_all(&self.folder);
    }
}

fn postgres_admin_url() -> String {
    std::env::var("IMS_TEST_POSTGRES_ADMIN_URL").unwrap_or_else(|_| POSTGRES_ADMIN_URL.to_string())
}

/// A running server and what the tests need to talk to it.
pub struct TestServer {
    pub base: String,
    pub state: AppState,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl TestServer {
    pub async fn start(database: &TestDatabase) -> TestServer {
        TestServer::start_with(Config {
            site_addr: "127.0.0.1:0".parse().unwrap(),
            database_url: database.url.clone(),
            data_dir: database.folder.clone(),
            demo_password: Some(PASSWORD.to_string()),
            session_idle_minutes: 60,
        })
        .await
    }

    /// Stops this server and starts a new one (new port) on the same database.
    pub async fn restart(self) -> TestServer {
        let config = (*self.state.config).clone();
        self.stop().await;
        TestServer::start_with(config).await
    }

    async fn start_with(config: Config) -> TestServer {
        let state = server::prepare(config).await.expect("server prepares");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (shutdown, signal) = oneshot::channel::<()>();
        let serve_state = state.clone();
        let task = tokio::spawn(async move {
            server::serve(listener, serve_state, async {
                let _ = signal.await;
            })
            .await
            .unwrap();
        });
        TestServer { base, state, shutdown: Some(shutdown), task: Some(task) }
    }

    pub async fn stop(mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
        self.state.db.close().await;
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A browser-like client: keeps cookies, does not follow redirects.
    pub fn client(&self) -> Client {
        Client::builder().cookie_store(true).redirect(Policy::none()).build().unwrap()
    }

    pub async fn login_as(&self, account: &str, user: &str) -> Client {
        let client = self.client();
        let response = self.login(&client, account, user, PASSWORD).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&response), "/images/public", "{account}/{user} logs in");
        client
    }

    pub async fn login(&self, client: &Client, account: &str, user: &str, password: &str) -> reqwest::Response {
        client
            .post(self.url("/auth/login"))
            .form(&[("account", account), ("user", user), ("password", password), ("next", "")])
            .send()
            .await
            .unwrap()
    }

    /// Calls a server function the way the browser does (form-encoded arguments).
    pub async fn call(&self, client: &Client, function: &str, form: &[(&str, &str)]) -> (StatusCode, serde_json::Value) {
        let response = client.post(self.url(&format!("/api/{function}"))).form(form).send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text));
        (status, body)
    }

    pub async fn page(&self, client: &Client, path: &str) -> (StatusCode, String) {
        let response = client.get(self.url(path)).send().await.unwrap();
        (response.status(), response.text().await.unwrap())
    }

    /// One page of images through the list_images server function.
    pub async fn list(&self, client: &Client, tab: &str, params: &[(&str, &str)]) -> (StatusCode, serde_json::Value) {
        let mut form: Vec<(String, String)> = vec![("query[tab]".into(), tab.into())];
        for key in ims_console::images::QUERY_KEYS {
            let value = params.iter().find(|(k, _)| k == key).map(|(_, v)| v.to_string()).unwrap_or_default();
            form.push((format!("query[{key}]"), value));
        }
        let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        self.call(client, "list_images", &pairs).await
    }
}

pub fn location(response: &reqwest::Response) -> String {
    response.headers().get("location").and_then(|value| value.to_str().ok()).unwrap_or_default().to_string()
}

/// Runs `scenario` against a fresh server on the given backend, then cleans up.
pub async fn with_server<F, Fut>(backend: Backend, scenario: F)
where
    F: FnOnce(TestServer) -> Fut,
    Fut: std::future::Future<Output = TestServer>,
{
    let database = TestDatabase::create(backend).await;
    let server = TestServer::start(&database).await;
    let server = scenario(server).await;
    server.stop().await;
    database.drop_database().await;
}

/// Declares one test per backend for each scenario function.
#[macro_export]
macro_rules! on_both_backends {
    ($($scenario:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $scenario() {
                    $crate::common::with_server($crate::common::Backend::Sqlite, super::$scenario).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $scenario() {
                    $crate::common::with_server($crate::common::Backend::Postgres, super::$scenario).await;
                }
            )*
        }
    };
}
