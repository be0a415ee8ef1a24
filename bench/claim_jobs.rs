//! Benchmark (not a test): the cost of claiming a job with 10 and with 10,000 jobs waiting
//! (100 projects of at most 100 waiting each, the cap), while the oldest project is at its
//! running limit, on SQLite and PostgreSQL. Each claimed job is put back, so the queue stays
//! the same size. Run: `scripts/bench.sh` (or `cargo bench --bench claim_jobs
//! --no-default-features --features ssr`). Figures go to stdout and bench/results/claim_jobs.md.

use ims_console::db::{connect_and_migrate, now_ms};
use ims_console::jobs::queue::{claim_next, Lane};
use sqlx::{AnyConnection, Connection, Executor};
use std::time::{Duration, Instant};

const SAMPLES: usize = 200;

async fn fill(db: &sqlx::AnyPool, waiting: usize) {
    sqlx::query("DELETE FROM jobs").execute(db).await.unwrap();
    let now = now_ms();
    let mut transaction = db.begin().await.unwrap();
    // The first project holds its running slot, so its waiting jobs are all skipped.
    sqlx::query(
        "INSERT INTO jobs (id, project_id, region, job_type, status, params, entities, lease_owner, lease_expires_at, \
         created_at, updated_at) VALUES ('running', 'p000', 'r', 'test', 'RUNNING', '{}', '{}', 'w', $1, 0, 0)",
    )
    .bind(now + 3_600_000)
    .execute(&mut *transaction)
    .await
    .unwrap();
    for index in 0..waiting {
        let project = format!("p{:03}", index * 100 / waiting.max(100));
        sqlx::query(
            "INSERT INTO jobs (id, project_id, region, job_type, status, params, entities, created_at, updated_at) \
             VALUES ($1, $2, 'r', 'test', 'INIT', '{}', '{}', $3, $3)",
        )
        .bind(format!("job-{index:05}"))
        .bind(project)
        .bind(index as i64)
        .execute(&mut *transaction)
        .await
        .unwrap();
    }
    transaction.commit().await.unwrap();
    // What autovacuum does after a bulk change; SQLite's planner needs no statistics here.
    if db.connect_options().database_url.scheme().starts_with("postgres") {
        sqlx::query("ANALYZE jobs").execute(db).await.unwrap();
    }
}

fn percentile(samples: &mut [Duration], percent: f64) -> f64 {
    samples.sort();
    let index = ((samples.len() as f64 - 1.0) * percent / 100.0).round() as usize;
    samples[index].as_secs_f64() * 1000.0
}

async fn run(backend: &str, url: &str, report: &mut String) {
    let db = connect_and_migrate(url).await.unwrap();
    let lane = Lane::General { except: vec![], per_project: 1 };
    for waiting in [10, 10_000] {
        fill(&db, waiting).await;
        let mut samples = Vec::with_capacity(SAMPLES);
        for _ in 0..SAMPLES {
            let started = Instant::now();
            let job = claim_next(&db, "bench", 60_000, &lane).await.unwrap().expect("a job to claim");
            samples.push(started.elapsed());
            assert_ne!(job.project_id, "p000", "the project at its limit is skipped");
            sqlx::query("UPDATE jobs SET status = 'INIT', lease_owner = '', lease_expires_at = 0 WHERE id = $1")
                .bind(&job.id)
                .execute(&db)
                .await
                .unwrap();
        }
        let line = format!(
            "| {backend} | {waiting} | {:.2} | {:.2} |",
            percentile(&mut samples, 50.0),
            percentile(&mut samples, 95.0)
        );
        println!("{line}");
        report.push_str(&line);
        report.push('\n');
    }
    db.close().await;
}

#[tokio::main]
async fn main() {
    let mut report = String::from("| Backend | Jobs waiting | claim p50 ms | claim p95 ms |\n|---|---|---|---|\n");
    let folder = std::env::temp_dir().join(format!("ims-bench-claim-{}", std::process::id()));
    std::fs::create_dir_all(&folder).unwrap();
    run("SQLite", &format!("sqlite:{}?mode=rwc", folder.join("ims.db").display()), &mut report).await;

    sqlx::any::install_default_drivers();
    let admin_url = "postgres://postgres@127.0.0.1:5432/postgres";
    let name = format!("ims_bench_claim_{}", std::process::id());
    let mut admin = AnyConnection::connect(admin_url).await.expect("PostgreSQL on 127.0.0.1:5432");
    admin.execute(format!("CREATE DATABASE {name}").as_str()).await.unwrap();
    run("PostgreSQL", &format!("postgres://postgres@127.0.0.1:5432/{name}"), &mut report).await;
    admin.execute(format!("DROP DATABASE {name} WITH (FORCE)").as_str()).await.unwrap();
    std::fs::remove_dir_all(&folder).ok();

    let results = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("bench/results");
    std::fs::create_dir_all(&results).unwrap();
    std::fs::write(results.join("claim_jobs.md"), &report).unwrap();
    println!("\n{report}");
}
