//! Benchmark (not a test): 100,000 private images in one project; p50/p95 of the list query
//! and of the rendered list page for the first page, a deep page and a filtered query, and the
//! time of Export List over all 100,000 rows, on SQLite and PostgreSQL. Run: `scripts/bench.sh` (or `cargo bench --bench list_images
//! --no-default-features --features ssr`). Figures go to stdout and bench/results/list_images.md.

use ims_console::auth::accounts::project_id;
use ims_console::caller::{Caller, Role};
use ims_console::images::list_store;
use ims_console::images::query::ImageQuery;
use sqlx::{AnyConnection, Connection, Executor};
use std::time::{Duration, Instant};

mod bench_data;

const IMAGES: usize = 100_000;
const SAMPLES: usize = 40;
const PASSWORD: &str = "bench-password-1";

struct Case {
    label: &'static str,
    params: &'static [(&'static str, &'static str)],
}

const CASES: &[Case] = &[
    Case { label: "first page (20, newest first)", params: &[("page_size", "20")] },
    Case { label: "deep page (page 4,000 of 20)", params: &[("page_size", "20"), ("page", "4000")] },
    Case {
        label: "filtered (name contains, status, tag)",
        params: &[
            ("name", "web"),
            ("status", "active"),
            ("tag_key", "env"),
            ("tag_value", "prod"),
            ("page_size", "20"),
        ],
    },
];

fn percentile(samples: &mut [Duration], percent: f64) -> f64 {
    samples.sort();
    let index = ((samples.len() as f64 - 1.0) * percent / 100.0).round() as usize;
    samples[index].as_secs_f64() * 1000.0
}

fn query(params: &[(&str, &str)]) -> ImageQuery {
    ImageQuery::from_params("private", |key| params.iter().find(|(k, _)| *k == key).map(|(_, v)| v.to_string()))
}

async fn run(backend: &str, database_url: String, data_dir: std::path::PathBuf, report: &mut String) {
    println!("== {backend}");
    let state = bench_data::demo_state(&database_url, &data_dir, PASSWORD).await;
    let db = state.db.clone();
    let project = project_id(&db, "acme", "cn-north-4").await.unwrap();
    bench_data::load_images(&db, &project, IMAGES).await;
    if backend == "SQLite" {
        db.execute("ANALYZE").await.unwrap();
    } else {
        db.execute("VACUUM ANALYZE").await.unwrap();
    }

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(ims_console::server::serve(listener, state.clone(), std::future::pending()));
    let client = reqwest::Client::builder().cookie_store(true).build().unwrap();
    client
        .post(format!("{base}/auth/login"))
        .form(&[("account", "acme"), ("user", "alice"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();

    let user = Caller {
        user_id: String::new(),
        user_name: "alice".into(),
        role: Role::Admin,
        account_id: String::new(),
        account_name: "acme".into(),
        region: "cn-north-4".into(),
        project_id: project,
    };
    for case in CASES {
        let valid = query(case.params).validate().unwrap();
        let mut query_times = Vec::new();
        let mut page_times = Vec::new();
        let url = format!("{base}{}", query(case.params).href());
        for sample in 0..SAMPLES + 3 {
            let started = Instant::now();
            let page = list_store::list_images(&db, &user, &valid).await.unwrap();
            let query_time = started.elapsed();
            let started = Instant::now();
            let response = client.get(&url).send().await.unwrap();
            assert!(response.status().is_success());
            let html = response.text().await.unwrap();
            let page_time = started.elapsed();
            assert!(html.contains(&format!("Total Records: {}", page.total)));
            if sample >= 3 {
                query_times.push(query_time);
                page_times.push(page_time);
            }
        }
        let line = format!(
            "| {backend} | {} | {:.1} | {:.1} | {:.1} | {:.1} |",
            case.label,
            percentile(&mut query_times, 50.0),
            percentile(&mut query_times, 95.0),
            percentile(&mut page_times, 50.0),
            percentile(&mut page_times, 95.0)
        );
        println!("{line}");
        report.push_str(&line);
        report.push('\n');
    }
    // Export List: every one of the 100,000 rows as CSV, streamed over HTTP.
    let started = Instant::now();
    let response = client.get(format!("{base}/export/images.csv?tab=private")).send().await.unwrap();
    assert!(response.status().is_success());
    let csv = response.bytes().await.unwrap();
    let export_time = started.elapsed();
    let rows = csv.split(|byte| *byte == b'\n').filter(|line| !line.is_empty()).count() - 1;
    let listed = list_store::list_images(&db, &user, &query(&[]).validate().unwrap()).await.unwrap().total;
    assert_eq!(rows as i64, listed, "Export List has every row of the list (the bench's and the demo's)");
    let line = format!(
        "| {backend} | Export List, all {rows} rows as CSV ({:.1} MB) | — | — | {:.0} | — |",
        csv.len() as f64 / 1e6,
        export_time.as_secs_f64() * 1000.0
    );
    println!("{line}");
    report.push_str(&line);
    report.push('\n');
    server.abort();
    db.close().await;
}

#[tokio::main]
async fn main() {
    let mut report = String::from(
        "| Backend | Case | query p50 ms | query p95 ms | page p50 ms | page p95 ms |\n|---|---|---|---|---|---|\n",
    );
    let folder = std::env::temp_dir().join(format!("ims-bench-{}", std::process::id()));
    std::fs::create_dir_all(&folder).unwrap();
    run("SQLite", format!("sqlite:{}?mode=rwc", folder.join("ims.db").display()), folder.clone(), &mut report).await;

    sqlx::any::install_default_drivers();
    let admin_url = "postgres://postgres@127.0.0.1:5432/postgres";
    let name = format!("ims_bench_{}", std::process::id());
    let mut admin = AnyConnection::connect(admin_url).await.expect("PostgreSQL on 127.0.0.1:5432");
    admin.execute(format!("CREATE DATABASE {name}").as_str()).await.unwrap();
    run("PostgreSQL", format!("postgres://postgres@127.0.0.1:5432/{name}"), folder.clone(), &mut report).await;
    admin.execute(format!("DROP DATABASE {name} WITH (FORCE)").as_str()).await.unwrap();
    std::fs::remove_dir_all(&folder).ok();

    let results = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("bench/results");
    std::fs::create_dir_all(&results).unwrap();
    std::fs::write(results.join("list_images.md"), &report).unwrap();
    println!("\n{report}");
}
