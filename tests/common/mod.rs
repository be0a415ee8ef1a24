//! Starts real console servers on loopback for the integration tests, on SQLite (a temporary
//! file) or PostgreSQL (a fresh database on 127.0.0.1:5432, dropped afterwards).

#![allow(dead_code)]

use ims_console::config::Config;
use ims_console::server;
use ims_console::state::AppState;
use reqwest::redirect::Policy;
use reqwest::{Client, StatusCode};
use sqlx::{AnyConnection, Connection, Executor};
use std::path::PathBuf;
use tokio::sync::oneshot;

pub mod compute;

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
    pub folder: PathBuf,
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
                let mut admin = AnyConnection::connect(&postgres_admin_url())
                    .await
                    .expect("PostgreSQL must run on 127.0.0.1:5432 with trust auth for the tests (.ci/run starts it)");
                admin.execute(format!("CREATE DATABASE {name}").as_str()).await.unwrap();
                admin.close().await.unwrap();
                let admin_url = postgres_admin_url();
                let (server, _) = admin_url.rsplit_once('/').expect("a database URL ends in /DATABASE");
                format!("{server}/{name}")
            }
        };
        TestDatabase { url, backend, name, folder }
    }

    /// Server settings for this database (and its folder as the data directory).
    pub fn config(&self, extra: &[(&str, &str)]) -> Config {
        let folder = self.folder.display().to_string();
        let mut pairs = vec![
            ("LEPTOS_SITE_ADDR", "127.0.0.1:0"),
            ("DATABASE_URL", self.url.as_str()),
            ("IMS_DATA_DIR", folder.as_str()),
            ("IMS_DEMO_PASSWORD", PASSWORD),
        ];
        pairs.extend_from_slice(extra);
        Config::from_pairs(&pairs).expect("test settings are valid")
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
        TestServer::start_with(database.config(&[])).await
    }

    /// Stops this server and starts a new one (new port) on the same database.
    pub async fn restart(self) -> TestServer {
        let config = (*self.state.config).clone();
        self.stop().await;
        TestServer::start_with(config).await
    }

    pub async fn start_with(config: Config) -> TestServer {
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

    /// A browser-like client: keeps cookies, does not follow redirects, and names its origin
    /// as browsers do on every state-changing request.
    pub fn client(&self) -> Client {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(reqwest::header::ORIGIN, self.base.parse().unwrap());
        // A bound on every call, so a stuck request fails its test instead of hanging the run.
        Client::builder()
            .cookie_store(true)
            .redirect(Policy::none())
            .default_headers(headers)
            .timeout(std::time::Duration::from_secs(180))
            .build()
            .unwrap()
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
    pub async fn call(
        &self,
        client: &Client,
        function: &str,
        form: &[(&str, &str)],
    ) -> (StatusCode, serde_json::Value) {
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

    /// Switches the client's session to `region`, as the header's region switcher does.
    pub async fn switch_region(&self, client: &Client, region: &str) {
        let response =
            client.post(self.url("/auth/region")).form(&[("region", region), ("next", "/")]).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
    }

    /// One page of images through the list_images server function.
    pub async fn list(&self, client: &Client, tab: &str, params: &[(&str, &str)]) -> (StatusCode, serde_json::Value) {
        let mut form: Vec<(String, String)> = vec![("query[tab]".into(), tab.into())];
        for key in ims_console::images::query::QUERY_KEYS {
            let value = params.iter().find(|(k, _)| k == key).map(|(_, v)| v.to_string()).unwrap_or_default();
            form.push((format!("query[{key}]"), value));
        }
        let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        self.call(client, "list_images", &pairs).await
    }
}

/// A new bucket of the S3-compatible server at `endpoint` (moto in the tests).
pub async fn new_s3_bucket(endpoint: &str) -> String {
    let name = format!("ims-test-{}", uuid::Uuid::new_v4().simple());
    let response = Client::new().put(format!("{endpoint}/{name}")).send().await.unwrap();
    assert!(response.status().is_success(), "creating the S3 bucket: {}", response.status());
    name
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
    with_configured_server(backend, &[], scenario).await;
}

/// Like `with_server`, with extra settings (`IMS_PUBLIC_URL`, ...).
pub async fn with_configured_server<F, Fut>(backend: Backend, settings: &[(&str, &str)], scenario: F)
where
    F: FnOnce(TestServer) -> Fut,
    Fut: std::future::Future<Output = TestServer>,
{
    let database = TestDatabase::create(backend).await;
    let server = TestServer::start_with(database.config(settings)).await;
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

/// Like `on_both_backends!`, for scenarios that need extra settings; one module per scenario.
#[macro_export]
macro_rules! on_both_backends_with {
    ($settings:expr, $($scenario:ident),* $(,)?) => {
        $(
            mod $scenario {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    $crate::common::with_configured_server($crate::common::Backend::Sqlite, $settings, super::$scenario).await;
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    $crate::common::with_configured_server($crate::common::Backend::Postgres, $settings, super::$scenario).await;
                }
            }
        )*
    };
}

impl TestServer {
    /// Uploads `bytes` as `bucket`/`key` through the chunked upload endpoints; returns the
    /// SHA-256 the server computed.
    pub async fn upload(&self, client: &Client, bucket: &str, key: &str, bytes: &[u8]) -> String {
        let state = self.start_upload(client, bucket, key, bytes.len() as u64).await;
        let (id, chunk_size) =
            (state["upload_id"].as_str().unwrap().to_string(), state["chunk_size"].as_u64().unwrap());
        for (index, chunk) in bytes.chunks(chunk_size as usize).enumerate() {
            let response = client
                .put(self.url(&format!("/storage/uploads/{id}/chunks/{index}")))
                .body(chunk.to_vec())
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), StatusCode::NO_CONTENT, "chunk {index}");
        }
        let response = client.post(self.url(&format!("/storage/uploads/{id}/complete"))).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let body: serde_json::Value = response.json().await.unwrap();
        body["sha256"].as_str().unwrap().to_string()
    }

    pub async fn start_upload(&self, client: &Client, bucket: &str, key: &str, size: u64) -> serde_json::Value {
        let response = client
            .post(self.url("/storage/uploads"))
            .json(&serde_json::json!({ "bucket": bucket, "key": key, "size": size }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "upload of {key} starts");
        response.json().await.unwrap()
    }

    /// The bytes of `bucket`/`key`, through the download endpoint.
    pub async fn download(&self, client: &Client, bucket: &str, key: &str) -> Vec<u8> {
        let response =
            client.get(self.url(&format!("/storage/download?bucket={bucket}&key={key}"))).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "download of {bucket}/{key}");
        response.bytes().await.unwrap().to_vec()
    }

    /// Polls the image until its job has finished (active or killed).
    /// Imports object `bucket`/`key` as image `name`, declared as `format`; waits until the
    /// image is made or killed and returns it.
    pub async fn import(
        &self,
        client: &Client,
        name: &str,
        bucket: &str,
        key: &str,
        format: &str,
    ) -> serde_json::Value {
        let form = import_form(name, bucket, key, format);
        let (status, image_id) = self.call(client, "create_image_from_file", &pairs(&form)).await;
        assert_eq!(status, StatusCode::OK, "import of {bucket}/{key}: {image_id}");
        self.wait_for_image(client, image_id.as_str().unwrap()).await
    }

    pub async fn wait_for_image(&self, client: &Client, image_id: &str) -> serde_json::Value {
        for _ in 0..600 {
            let (status, image) = self.call(client, "get_image", &[("id", image_id)]).await;
            assert_eq!(status, StatusCode::OK);
            if matches!(image["status"].as_str(), Some("active" | "killed")) {
                return image;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("image {image_id} did not finish within a minute");
    }

    /// Polls the caller's job list until job `job_id` has finished.
    pub async fn wait_for_job(&self, client: &Client, job_id: &str) -> serde_json::Value {
        for _ in 0..600 {
            let (_, jobs) = self.call(client, "list_jobs", &[]).await;
            if let Some(job) = jobs.as_array().unwrap().iter().find(|job| job["id"] == job_id) {
                if matches!(job["status"].as_str(), Some("SUCCESS" | "FAIL")) {
                    return job.clone();
                }
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("job {job_id} did not finish within a minute");
    }

    /// A private image of `client`'s project imported from a real 4 MiB qcow2 file (through a
    /// bucket, as a user would); returns its id.
    pub async fn import_real_image(&self, client: &Client, name: &str) -> String {
        let folder = self.state.work_dir().join(format!("test-{name}"));
        let (_, qcow2) = disk_files(&folder, 4);
        self.call(client, "create_bucket", &[("name", "test-sources")]).await;
        self.upload(client, "test-sources", &format!("{name}.qcow2"), &qcow2).await;
        let image = self.import(client, name, "test-sources", &format!("{name}.qcow2"), "qcow2").await;
        assert_eq!(image["status"], "active", "{image}");
        std::fs::remove_dir_all(folder).ok();
        image["id"].as_str().unwrap().to_string()
    }

    /// An image of `client`'s project registered as an import that has not run yet (Queued, no
    /// job): what the rules for images still being created are tested with.
    pub async fn queued_image(&self, client: &Client, name: &str) -> String {
        let (_, session) = self.call(client, "session_info", &[]).await;
        let project = session["project_id"].as_str().unwrap().to_string();
        let region = session["region"].as_str().unwrap().to_string();
        let image = ims_console::images::store::NewImage {
            owner: project,
            ..ims_console::images::store::NewImage::queued_for(&region, name, "system")
        };
        let mut transaction = self.state.db.begin().await.unwrap();
        ims_console::images::store::insert_image(&mut transaction, &image).await.unwrap();
        transaction.commit().await.unwrap();
        image.id
    }

    /// Files left in the job work folder (there should be none once jobs are done).
    pub fn work_leftovers(&self) -> Vec<String> {
        std::fs::read_dir(self.state.work_dir())
            .map(|entries| {
                entries
                    .filter_map(|entry| entry.ok())
                    .map(|entry| entry.file_name().to_string_lossy().to_string())
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// An import request as form fields of the create_image_from_file server function.
pub fn import_form(name: &str, bucket: &str, key: &str, format: &str) -> Vec<(String, String)> {
    [
        ("name", name),
        ("bucket", bucket),
        ("object_key", key),
        ("file_format", format),
        ("image_type", "system"),
        ("os_type", "Linux"),
        ("platform", "Ubuntu"),
        ("os_version", "Ubuntu 22.04 server 64bit"),
        ("architecture", "x86"),
        ("boot_mode", "bios"),
        ("tags", "env=test"),
    ]
    .iter()
    .map(|(field, value)| (format!("request[{field}]"), value.to_string()))
    .collect()
}

/// The fields a refusal names (an `AppError::Fields` body), in order.
pub fn field_errors(body: &serde_json::Value) -> Vec<String> {
    body["Fields"]
        .as_array()
        .map(|fields| fields.iter().map(|pair| pair[0].as_str().unwrap().to_string()).collect())
        .unwrap_or_default()
}

pub fn pairs(form: &[(String, String)]) -> Vec<(&str, &str)> {
    form.iter().map(|(key, value)| (key.as_str(), value.as_str())).collect()
}

/// A raw disk of `mib` MiB with a recognisable pattern, and the same disk as qcow2.
pub fn disk_files(folder: &std::path::Path, mib: usize) -> (Vec<u8>, Vec<u8>) {
    let mut raw = vec![0u8; mib << 20];
    raw[..12].copy_from_slice(b"IMS-TEST-MBR");
    for (index, byte) in raw.iter_mut().enumerate().skip(1 << 20).step_by(4099) {
        *byte = (index % 253) as u8 + 1;
    }
    std::fs::create_dir_all(folder).unwrap();
    let raw_path = folder.join("disk.raw");
    let qcow2_path = folder.join("disk.qcow2");
    std::fs::write(&raw_path, &raw).unwrap();
    let status = std::process::Command::new("qemu-img")
        .args(["convert", "-f", "raw", "-O", "qcow2"])
        .arg(&raw_path)
        .arg(&qcow2_path)
        .status()
        .unwrap();
    assert!(status.success());
    (raw, std::fs::read(&qcow2_path).unwrap())
}
