//! Crash recovery: the server process is killed (SIGKILL) in the middle of an import; the
//! next server on the same database resumes the job once its lease expires, finishes it,
//! and leaves no temporary files or stray objects. On SQLite and PostgreSQL.

mod common;

use common::{import_form, pairs, Backend, TestDatabase, PASSWORD};
use reqwest::StatusCode;
use sqlx::any::AnyPoolOptions;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn start_server(database: &TestDatabase, port: u16) -> Child {
    Command::new(env!("CARGO_BIN_EXE_ims-console"))
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

async fn recovers_an_import_killed_midway(backend: Backend) {
    let database = TestDatabase::create(backend).await;
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut server = start_server(&database, port);
    wait_until_up(&base).await;
    sqlx::any::install_default_drivers();
    let db = AnyPoolOptions::new().max_connections(2).connect(&database.url).await.unwrap();

    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .default_headers([(reqwest::header::ORIGIN, base.parse().unwrap())].into_iter().collect())
        .build()
        .unwrap();
    let call = |function: &'static str, form: Vec<(String, String)>| {
        let client = client.clone();
        let url = format!("{base}/api/{function}");
        async move {
            let response = client.post(url).form(&form).send().await.unwrap();
            (response.status(), response.json::<serde_json::Value>().await.unwrap_or_default())
        }
    };
    client
        .post(format!("{base}/auth/login"))
        .form(&[("account", "acme"), ("user", "alice"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    let (status, _) = call("create_bucket", vec![("name".into(), "crash".into())]).await;
    assert_eq!(status, StatusCode::OK);

    // 512 MiB of incompressible bytes, placed in the bucket directly (the upload path has its own tests).
    let bucket_id: String =
        sqlx::query_scalar("SELECT id FROM buckets WHERE name = 'crash'").fetch_one(&db).await.unwrap();
    let object = database.folder.join(format!("objects/buckets/cn-north-4/{bucket_id}/big.raw"));
    std::fs::create_dir_all(object.parent().unwrap()).unwrap();
    let mut data = vec![0u8; 512 << 20];
    let mut state = 0x2545_f491_4f6c_dd1du64;
    for chunk in data.chunks_mut(8) {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        chunk.copy_from_slice(&state.to_le_bytes());
    }
    std::fs::write(&object, &data).unwrap();
    drop(data);
    sqlx::query("INSERT INTO bucket_objects (bucket_id, object_key, size, sha256, created_at) VALUES ($1, 'big.raw', $2, 'x', 0)")
        .bind(&bucket_id)
        .bind(512i64 << 20)
        .execute(&db)
        .await
        .unwrap();

    let form = import_form("survives-a-crash", "crash", "big.raw", "raw");
    let form: Vec<(String, String)> = pairs(&form).iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    let (status, image_id) = call("create_image_from_file", form).await;
    assert_eq!(status, StatusCode::OK, "{image_id}");
    let image_id = image_id.as_str().unwrap().to_string();

    // Kill the server as soon as the job runs.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let status: String = sqlx::query_scalar("SELECT status FROM jobs WHERE image_id = $1")
            .bind(&image_id)
            .fetch_one(&db)
            .await
            .unwrap();
        if status == "RUNNING" {
            break;
        }
        assert!(Instant::now() < deadline, "the job never started");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    server.kill().unwrap();
    server.wait().unwrap();
    let (status, attempts): (String, i64) = sqlx::query_as("SELECT status, attempts FROM jobs WHERE image_id = $1")
        .bind(&image_id)
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!((status.as_str(), attempts), ("RUNNING", 1), "the job died with its server");

    // A new server takes the job over when the dead one's lease runs out.
    let mut server = start_server(&database, port);
    wait_until_up(&base).await;
    let deadline = Instant::now() + Duration::from_secs(120);
    let (status, attempts, reason) = loop {
        let row: (String, i64, String) =
            sqlx::query_as("SELECT status, attempts, fail_reason FROM jobs WHERE image_id = $1")
                .bind(&image_id)
                .fetch_one(&db)
                .await
                .unwrap();
        if row.0 == "SUCCESS" || row.0 == "FAIL" {
            break row;
        }
        assert!(Instant::now() < deadline, "the job was not resumed");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(status, "SUCCESS", "{reason}");
    assert_eq!(attempts, 2, "it ran again from the start");
    let (image_status, location): (String, String) =
        sqlx::query_as("SELECT status, file_location FROM images WHERE id = $1")
            .bind(&image_id)
            .fetch_one(&db)
            .await
            .unwrap();
    assert_eq!(image_status, "active");
    let image_folder = database.folder.join(format!("objects/images/cn-north-4/{image_id}"));
    let stored: Vec<String> = std::fs::read_dir(&image_folder)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    assert_eq!(stored, vec!["disk.qcow2".to_string()], "one image file, no leftovers of the killed run");
    assert!(location.ends_with("disk.qcow2"));
    let work: Vec<_> = std::fs::read_dir(database.folder.join("work")).unwrap().collect();
    assert!(work.is_empty(), "no temporary files remain");

    server.kill().unwrap();
    server.wait().unwrap();
    db.close().await;
    database.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_recovers_an_import_killed_midway() {
    recovers_an_import_killed_midway(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_recovers_an_import_killed_midway() {
    recovers_an_import_killed_midway(Backend::Postgres).await;
}
