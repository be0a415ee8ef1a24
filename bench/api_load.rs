//! Benchmark (not a test): loopback load on the APIs' image lists with 100,000 images in the
//! project: `GET /v2/images?limit=25` (Glance, Keystone token) and `GET /v2/cloudimages?limit=25`
//! (IMS, AK/SK signed), driven by `oha` (crates.io; `scripts/bench.sh` installs it). Requests
//! per second, p50 and p99 and errors, on SQLite and PostgreSQL, to stdout and
//! bench/results/api_load.md. Run: `cargo bench --bench api_load --no-default-features --features ssr`.

use ims_console::auth::{access_keys, signature, tokens};
use ims_console::caller::{Caller, Role};
use serde_json::Value;
use sqlx::{AnyConnection, Connection, Executor};

mod bench_data;

const IMAGES: usize = 100_000;
const PASSWORD: &str = "bench-password-1";
const SECONDS: &str = "20s";
const CONNECTIONS: &str = "16";

/// Runs oha against `url` with `headers`; returns the report's row cells.
fn oha(url: &str, headers: &[(String, String)]) -> (f64, f64, f64, u64, u64) {
    let mut command = std::process::Command::new("oha");
    command.args(["-z", SECONDS, "-c", CONNECTIONS, "--no-tui", "--output-format", "json"]);
    for (name, value) in headers {
        command.arg("-H").arg(format!("{name}: {value}"));
    }
    let output = command.arg(url).output().expect("oha runs (cargo install oha --locked)");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let report: Value = serde_json::from_slice(&output.stdout).expect("oha's JSON report");
    let ms = |key: &str| report["latencyPercentiles"][key].as_f64().unwrap_or(f64::NAN) * 1000.0;
    let statuses = report["statusCodeDistribution"].as_object().cloned().unwrap_or_default();
    let ok = statuses.get("200").and_then(Value::as_u64).unwrap_or(0);
    let not_ok: u64 = statuses.iter().filter(|(code, _)| *code != "200").filter_map(|(_, count)| count.as_u64()).sum();
    let errors: u64 =
        // Requests still in flight when the run's time is up are cut off by oha itself
        // ("aborted due to deadline"): not the server's errors.
        report["errorDistribution"]
            .as_object()
            .map(|map| map.iter().filter(|(kind, _)| !kind.contains("deadline")).filter_map(|(_, n)| n.as_u64()).sum())
            .unwrap_or(0);
    (report["summary"]["requestsPerSec"].as_f64().unwrap_or(0.0), ms("p50"), ms("p99"), ok, not_ok + errors)
}

async fn run(backend: &str, database_url: String, data_dir: std::path::PathBuf, report: &mut String) {
    println!("== {backend}");
    let state = bench_data::demo_state(&database_url, &data_dir, PASSWORD).await;
    let db = state.db.clone();
    let (user_id, account_id, project): (String, String, String) = sqlx::query_as(
        "SELECT u.id, a.id, p.id FROM users u JOIN accounts a ON a.id = u.account_id \
         JOIN projects p ON p.account_id = a.id AND p.region = 'cn-north-4' WHERE a.name = 'acme' AND u.name = 'alice'",
    )
    .fetch_one(&db)
    .await
    .unwrap();
    bench_data::load_images(&db, &project, IMAGES).await;
    db.execute(if backend == "SQLite" { "ANALYZE" } else { "VACUUM ANALYZE" }).await.unwrap();
    let caller = Caller {
        user_id: user_id.clone(),
        user_name: "alice".into(),
        role: Role::Admin,
        account_id,
        account_name: "acme".into(),
        region: "cn-north-4".into(),
        project_id: project.clone(),
    };
    let key = access_keys::create(&db, &state.master_key, &caller, "load test").await.unwrap();
    let (token, _, _) = tokens::issue(&db, &user_id, &project).await.unwrap();

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let host = listener.local_addr().unwrap().to_string();
    let server = tokio::spawn(ims_console::server::serve(listener, state.clone(), std::future::pending()));

    // One signature serves every request of the run: it holds for 15 minutes and the request
    // never changes (the SDK has no nonce either).
    let query = "__imagetype=private&limit=25";
    let date = time::OffsetDateTime::now_utc()
        .format(time::macros::format_description!("[year][month][day]T[hour][minute][second]Z"))
        .unwrap();
    let signed: Vec<String> = ["content-type", "host", "x-project-id", "x-sdk-date"].map(str::to_string).to_vec();
    let canonical = signature::canonical_request(
        "GET",
        "/v2/cloudimages",
        query,
        &signed,
        |name| match name {
            "content-type" => Some("application/json".into()),
            "host" => Some(host.clone()),
            "x-project-id" => Some(project.clone()),
            "x-sdk-date" => Some(date.clone()),
            _ => None,
        },
        b"",
    )
    .unwrap();
    let authorization = format!(
        "SDK-HMAC-SHA256 Access={}, SignedHeaders={}, Signature={}",
        key.access_key,
        signed.join(";"),
        signature::sign(key.secret_key.as_bytes(), &signature::string_to_sign(&date, &canonical))
    );
    let cases = [
        (
            "Glance `GET /v2/images?limit=25` (token)",
            format!("http://{host}/v2/images?limit=25"),
            vec![("X-Auth-Token".to_string(), token)],
        ),
        (
            "IMS `GET /v2/cloudimages?__imagetype=private&limit=25` (AK/SK)",
            format!("http://{host}/v2/cloudimages?{query}"),
            vec![
                ("Content-Type".to_string(), "application/json".to_string()),
                ("X-Project-Id".to_string(), project.clone()),
                ("X-Sdk-Date".to_string(), date.clone()),
                ("Authorization".to_string(), authorization),
            ],
        ),
    ];
    for (label, url, headers) in cases {
        let (rps, p50, p99, ok, errors) = tokio::task::spawn_blocking(move || oha(&url, &headers)).await.unwrap();
        let line = format!("| {backend} | {label} | {rps:.0} | {p50:.1} | {p99:.1} | {ok} | {errors} |");
        println!("{line}");
        report.push_str(&line);
        report.push('\n');
    }
    server.abort();
    db.close().await;
}

#[tokio::main]
async fn main() {
    let mut report = format!(
        "{IMAGES} images in the project, oha -z {SECONDS} -c {CONNECTIONS}, server and load tool on the same 2 cores.\n\n\
         | Backend | Request | requests/s | p50 ms | p99 ms | 200s | errors (non-200 or failed) |\n|---|---|---|---|---|---|---|\n"
    );
    let folder = std::env::temp_dir().join(format!("ims-api-bench-{}", std::process::id()));
    std::fs::create_dir_all(&folder).unwrap();
    run("SQLite", format!("sqlite:{}?mode=rwc", folder.join("ims.db").display()), folder.clone(), &mut report).await;

    sqlx::any::install_default_drivers();
    let admin_url = "postgres://postgres@127.0.0.1:5432/postgres";
    let name = format!("ims_bench_api_{}", std::process::id());
    let mut admin = AnyConnection::connect(admin_url).await.expect("PostgreSQL on 127.0.0.1:5432");
    admin.execute(format!("CREATE DATABASE {name}").as_str()).await.unwrap();
    let pg_folder = folder.join("pg");
    std::fs::create_dir_all(&pg_folder).unwrap();
    run("PostgreSQL", format!("postgres://postgres@127.0.0.1:5432/{name}"), pg_folder, &mut report).await;
    admin.execute(format!("DROP DATABASE {name} WITH (FORCE)").as_str()).await.unwrap();
    std::fs::remove_dir_all(&folder).ok();

    let results = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("bench/results");
    std::fs::create_dir_all(&results).unwrap();
    std::fs::write(results.join("api_load.md"), &report).unwrap();
    println!("\n{report}");
}
