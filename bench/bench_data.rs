//! What the benchmarks load: `count` private images in one project, with the mix of statuses,
//! kinds, names, sizes, ages and tags a busy project has (shared by list_images and api_load).

use ims_console::images::model::ImageStatus;
use ims_console::images::store::{insert_image, NewImage};
use ims_console::seed::Lcg;
use std::time::Instant;

/// A server's state on `database_url`, migrated and seeded with the demo data (`password`).
pub async fn demo_state(
    database_url: &str,
    data_dir: &std::path::Path,
    password: &str,
) -> ims_console::state::AppState {
    let data_dir = data_dir.display().to_string();
    let config = ims_console::config::Config::from_pairs(&[
        ("DATABASE_URL", database_url),
        ("IMS_DATA_DIR", data_dir.as_str()),
        ("IMS_DEMO_PASSWORD", password),
    ])
    .unwrap();
    ims_console::server::prepare(config).await.unwrap()
}

pub async fn load_images(db: &sqlx::AnyPool, project: &str, count: usize) {
    let started = Instant::now();
    let mut random = Lcg(42);
    let now = ims_console::db::now_ms();
    let stems = ["web", "db", "cache", "ml", "ci", "erp", "gateway", "archive"];
    for chunk in 0..(count / 5_000) {
        let mut transaction = db.begin().await.unwrap();
        for index in 0..5_000 {
            let number = chunk * 5_000 + index;
            let image = NewImage {
                id: format!("{:08x}-bench-{number:07}", random.next_u64()),
                region: "cn-north-4".into(),
                owner: project.into(),
                name: format!("{}-{number:06}", stems[number % stems.len()]),
                description: String::new(),
                status: [
                    ImageStatus::Active,
                    ImageStatus::Active,
                    ImageStatus::Active,
                    ImageStatus::Killed,
                    ImageStatus::Saving,
                ][number % 5],
                status_reason: String::new(),
                public: false,
                market: false,
                kind: ["system", "data", "full_ecs", "iso"][number % 4].into(),
                os_type: "Linux".into(),
                platform: "Ubuntu".into(),
                os_version: "Ubuntu 22.04 server 64bit".into(),
                architecture: "x86".into(),
                boot_mode: "bios".into(),
                disk_format: "qcow2".into(),
                min_disk: 40,
                min_ram: 0,
                max_ram: 0,
                image_size: random.below(40 << 30) as i64,
                virtual_size: 40 << 30,
                protected: false,
                cmk_id: String::new(),
                data_origin: String::new(),
                root_origin: "file".into(),
                original_image_id: String::new(),
                support_flags: "kvm".into(),
                family: String::new(),
                created_at: now - random.below(365 * 86_400_000) as i64,
                tags: vec![("env".into(), ["prod", "dev", "test"][number % 3].into())],
                file: None,
            };
            insert_image(&mut transaction, &image).await.unwrap();
        }
        transaction.commit().await.unwrap();
    }
    println!("  loaded {count} images in {:.1} s", started.elapsed().as_secs_f64());
}
