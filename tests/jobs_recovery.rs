//! Crash recovery: the server process is killed (SIGKILL) in the middle of an import, or of
//! a cross-region copy; the next server on the same database resumes the job once its lease
//! expires, finishes it, and leaves no temporary files or stray objects. On SQLite and
//! PostgreSQL.

mod common;

use common::{import_form, new_s3_bucket, pairs, Backend, TestDatabase, PASSWORD};
use reqwest::StatusCode;
use sqlx::any::AnyPoolOptions;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn start_server(database: &TestDatabase, port: u16, settings: &[(String, String)]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_ims-console"))
        .envs(settings.iter().map(|(name, value)| (name, value)))
        .env("DATABASE_URL", &database.url)
        .env("IMS_DATA_DIR", &database.folder)
        .env("IMS_DEMO_PASSWORD", PASSWORD)
        .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
        .env("IMS_JOB_LEASE_SECONDS", "2")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the server binary starts")
}

async fn wait_until_up(base: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if reqwest::get(format!("{base}/healthz")).await.is_ok_and(|response| response.status().is_success()) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the server at {base} did not start");
}

/// One server process on a test database, with a logged-in browser-like client of alice's.
struct Crashable {
    database: TestDatabase,
    settings: Vec<(String, String)>,
    port: u16,
    base: String,
    server: Child,
    db: sqlx::AnyPool,
    client: reqwest::Client,
}

impl Crashable {
    async fn start(backend: Backend, settings: Vec<(String, String)>) -> Crashable {
        let database = TestDatabase::create(backend).await;
        let port = free_port();
        let base = format!("http://127.0.0.1:{port}");
        let server = start_server(&database, port, &settings);
        wait_until_up(&base).await;
        sqlx::any::install_default_drivers();
        let db = AnyPoolOptions::new().max_connections(2).connect(&database.url).await.unwrap();
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .default_headers([(reqwest::header::ORIGIN, base.parse().unwrap())].into_iter().collect())
            .build()
            .unwrap();
        client
            .post(format!("{base}/auth/login"))
            .form(&[("account", "acme"), ("user", "alice"), ("password", PASSWORD)])
            .send()
            .await
            .unwrap();
        Crashable { database, settings, port, base, server, db, client }
    }

    async fn call(&self, function: &str, form: &[(&str, &str)]) -> (StatusCode, serde_json::Value) {
        let response = self.client.post(format!("{}/api/{function}", self.base)).form(form).send().await.unwrap();
        (response.status(), response.json::<serde_json::Value>().await.unwrap_or_default())
    }

    /// `mib` MiB of incompressible bytes as `big.raw` in bucket `crash`, placed in the store
    /// directly (the upload path has its own tests): a file of the folder store, or an object
    /// of the S3 bucket in `s3` (endpoint, bucket).
    async fn big_object(&self, mib: usize, s3: Option<(&str, &str)>) {
        let (status, _) = self.call("create_bucket", &[("name", "crash")]).await;
        assert_eq!(status, StatusCode::OK);
        let bucket_id: String =
            sqlx::query_scalar("SELECT id FROM buckets WHERE name = 'crash'").fetch_one(&self.db).await.unwrap();
        let mut data = vec![0u8; mib << 20];
        let mut state = 0x2545_f491_4f6c_dd1du64;
        for chunk in data.chunks_mut(8) {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            chunk.copy_from_slice(&state.to_le_bytes());
        }
        let key = format!("buckets/cn-north-4/{bucket_id}/big.raw");
        match s3 {
            Some((endpoint, bucket)) => {
                let response =
                    reqwest::Client::new().put(format!("{endpoint}/{bucket}/{key}")).body(data).send().await.unwrap();
                assert!(response.status().is_success(), "putting the source object: {}", response.status());
            }
            None => {
                let object = self.database.folder.join("objects").join(&key);
                std::fs::create_dir_all(object.parent().unwrap()).unwrap();
                std::fs::write(&object, &data).unwrap();
            }
        }
        sqlx::query(
            "INSERT INTO bucket_objects (bucket_id, object_key, size, sha256, created_at) VALUES ($1, 'big.raw', $2, 'x', 0)",
        )
        .bind(&bucket_id)
        .bind((mib as i64) << 20)
        .execute(&self.db)
        .await
        .unwrap();
    }

    /// The job making image `image_id`: (status, attempts, fail reason).
    async fn job_of(&self, image_id: &str) -> (String, i64, String) {
        sqlx::query_as("SELECT status, attempts, fail_reason FROM jobs WHERE image_id = $1")
            .bind(image_id)
            .fetch_one(&self.db)
            .await
            .unwrap()
    }

    /// Kills the server (SIGKILL) as soon as the job making `image_id` runs and its recorded
    /// progress has passed `percent`.
    async fn kill_when_running(&mut self, image_id: &str, percent: f64) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let (status, _, _) = self.job_of(image_id).await;
            let done: f64 = sqlx::query_scalar("SELECT percent FROM jobs WHERE image_id = $1")
                .bind(image_id)
                .fetch_one(&self.db)
                .await
                .unwrap();
            if status == "RUNNING" && done > percent {
                break;
            }
            assert!(status != "SUCCESS" && status != "FAIL", "the job ended before the kill");
            assert!(Instant::now() < deadline, "the job never started");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        self.server.kill().unwrap();
        self.server.wait().unwrap();
        let (status, attempts, _) = self.job_of(image_id).await;
        assert_eq!((status.as_str(), attempts), ("RUNNING", 1), "the job died with its server");
    }

    /// Starts a new server, which takes the job over when the dead one's lease runs out, and
    /// waits for the job to finish; it must succeed on its second run.
    async fn restart_and_finish(&mut self, image_id: &str) {
        self.server = start_server(&self.database, self.port, &self.settings);
        wait_until_up(&self.base).await;
        let deadline = Instant::now() + Duration::from_secs(120);
        let (status, attempts, reason) = loop {
            let row = self.job_of(image_id).await;
            if row.0 == "SUCCESS" || row.0 == "FAIL" {
                break row;
            }
            assert!(Instant::now() < deadline, "the job was not resumed");
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        assert_eq!(status, "SUCCESS", "{reason}");
        assert_eq!(attempts, 2, "it ran again from the start");
    }

    /// The image is Normal, its folder holds exactly `file` (listed by `stored`), and no work
    /// files remain.
    async fn assert_clean(&self, image_id: &str, file: &str, stored: Vec<String>) {
        let (image_status, location): (String, String) =
            sqlx::query_as("SELECT status, file_location FROM images WHERE id = $1")
                .bind(image_id)
                .fetch_one(&self.db)
                .await
                .unwrap();
        assert_eq!(image_status, "active");
        assert!(location.ends_with(file), "{location}");
        assert_eq!(stored, vec![file.to_string()], "one image file, no leftovers of the killed run");
        let work: Vec<_> = std::fs::read_dir(self.database.folder.join("work")).unwrap().collect();
        assert!(work.is_empty(), "no temporary files remain");
    }

    async fn finish(mut self) {
        self.server.kill().unwrap();
        self.server.wait().unwrap();
        self.db.close().await;
        self.database.drop_database().await;
    }
}

async fn import_big_file(crash: &Crashable, name: &str, quick: bool) -> String {
    let mut form = import_form(name, "crash", "big.raw", "raw");
    if quick {
        form.push(("request[quick_import]".into(), "true".into()));
    }
    let (status, image_id) = crash.call("create_image_from_file", &pairs(&form)).await;
    assert_eq!(status, StatusCode::OK, "{image_id}");
    image_id.as_str().unwrap().to_string()
}

async fn recovers_an_import_killed_midway(backend: Backend) {
    let mut crash = Crashable::start(backend, Vec::new()).await;
    crash.big_object(512, None).await;
    let image_id = import_big_file(&crash, "survives-a-crash", false).await;
    crash.kill_when_running(&image_id, -1.0).await;
    crash.restart_and_finish(&image_id).await;
    let folder = crash.database.folder.join(format!("objects/images/cn-north-4/{image_id}"));
    let stored = std::fs::read_dir(&folder)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    crash.assert_clean(&image_id, "disk.qcow2", stored).await;
    crash.finish().await;
}

/// The keys under `prefix` in an S3 bucket (ListObjectsV2), relative to the prefix.
async fn s3_keys(endpoint: &str, bucket: &str, prefix: &str) -> Vec<String> {
    let url = format!("{endpoint}/{bucket}?list-type=2&prefix={prefix}");
    let listing = reqwest::get(url).await.unwrap().text().await.unwrap();
    listing
        .split("<Key>")
        .skip(1)
        .filter_map(|rest| rest.split_once("</Key>"))
        .map(|(key, _)| key.trim_start_matches(prefix).to_string())
        .collect()
}

/// On S3, with AP-Hong Kong in a bucket of its own, a cross-region copy streams the file from
/// one bucket to the other. Killed halfway, it resumes on the next server and leaves exactly
/// one object, with the source's bytes, and no work files.
async fn recovers_a_cross_region_copy_killed_midway(backend: Backend) {
    let endpoint = std::env::var("IMS_TEST_S3_ENDPOINT")
        .expect("IMS_TEST_S3_ENDPOINT must name an S3-compatible server on loopback (scripts/test.sh starts moto)");
    let (main, hong_kong) = (new_s3_bucket(&endpoint).await, new_s3_bucket(&endpoint).await);
    let settings = [
        ("IMS_OBJECT_STORE", "s3"),
        ("IMS_S3_ENDPOINT", endpoint.as_str()),
        ("IMS_S3_BUCKET", main.as_str()),
        ("IMS_S3_ACCESS_KEY_ID", "test"),
        ("IMS_S3_SECRET_ACCESS_KEY", "test"),
        ("IMS_S3_BUCKET_AP_SOUTHEAST_1", hong_kong.as_str()),
    ];
    let settings = settings.iter().map(|(name, value)| (name.to_string(), value.to_string())).collect();
    let mut crash = Crashable::start(backend, settings).await;
    crash.big_object(256, Some((&endpoint, &main))).await;
    let source_id = import_big_file(&crash, "to-copy", true).await;
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        let (status, _, reason) = crash.job_of(&source_id).await;
        assert_ne!(status, "FAIL", "{reason}");
        if status == "SUCCESS" {
            break;
        }
        assert!(Instant::now() < deadline, "the import did not finish");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let project: String = sqlx::query_scalar(
        "SELECT p.id FROM projects p JOIN accounts a ON a.id = p.account_id WHERE a.name = 'acme' AND p.region = 'ap-southeast-1'",
    )
    .fetch_one(&crash.db)
    .await
    .unwrap();
    let form = [
        ("request[images]", source_id.as_str()),
        ("request[replication_type]", "cross"),
        ("request[name]", "copied-through-a-crash"),
        ("request[region]", "ap-southeast-1"),
        ("request[project_id]", project.as_str()),
    ];
    let (status, ids) = crash.call("replicate_images", &form).await;
    assert_eq!(status, StatusCode::OK, "{ids}");
    let replica_id = ids[0].as_str().unwrap().to_string();
    crash.kill_when_running(&replica_id, 1.5).await;
    crash.restart_and_finish(&replica_id).await;
    let stored = s3_keys(&endpoint, &hong_kong, &format!("images/ap-southeast-1/{replica_id}/")).await;
    crash.assert_clean(&replica_id, "disk.raw", stored).await;
    assert!(s3_keys(&endpoint, &main, "images/ap-southeast-1/").await.is_empty(), "nothing in the main bucket");
    let (source_sha, replica_sha): (String, String) =
        sqlx::query_as("SELECT (SELECT sha256 FROM images WHERE id = $1), (SELECT sha256 FROM images WHERE id = $2)")
            .bind(&source_id)
            .bind(&replica_id)
            .fetch_one(&crash.db)
            .await
            .unwrap();
    assert_eq!(source_sha, replica_sha);
    crash.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_recovers_a_cross_region_copy_killed_midway() {
    recovers_a_cross_region_copy_killed_midway(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_recovers_a_cross_region_copy_killed_midway() {
    recovers_a_cross_region_copy_killed_midway(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_recovers_an_import_killed_midway() {
    recovers_an_import_killed_midway(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_recovers_an_import_killed_midway() {
    recovers_an_import_killed_midway(Backend::Postgres).await;
}
