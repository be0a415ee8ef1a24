//! The demo's private images, made the way a tenant makes them: real disk files uploaded to a
//! bucket and imported (one of them declared in the wrong format, so it fails with the
//! engine's own reason), images captured from the demo ECSs, a share each way between the two
//! accounts, a deprecated image and one in the recycle bin. Every image has its stored file;
//! none waits in Queued or Creating, none is encrypted. A step the server's settings refuse
//! (a tight quota, no free space for jobs) is logged and left out: the demo is what the
//! services allow, never a row written around them.

use crate::buckets::model::UPLOAD_CHUNK_SIZE;
use crate::buckets::service as buckets;
use crate::buckets::uploads;
use crate::caller::Caller;
use crate::compute::requests::CaptureRequest;
use crate::engine::demo_disk;
use crate::error::AppError;
use crate::images::requests::ImportRequest;
use crate::jobs::runner::Runner;
use crate::regions::REGIONS;
use crate::seed::{demo_admin, DemoDisks, SeedError, CATALOG};
use crate::state::AppState;
use std::path::{Path, PathBuf};

/// One demo import: the image's name, kind and OS (an index into CATALOG and one of its
/// variants), the format it is declared as, and its tags.
struct DemoImport {
    name: &'static str,
    kind: &'static str,
    os: usize,
    variant: usize,
    declared: &'static str,
    min_ram: &'static str,
    tags: &'static str,
    description: &'static str,
}

const fn system(name: &'static str, os: usize, variant: usize, tags: &'static str) -> DemoImport {
    DemoImport { name, kind: "system", os, variant, declared: "qcow2", min_ram: "", tags, description: "" }
}

const fn data(name: &'static str, tags: &'static str) -> DemoImport {
    DemoImport { name, kind: "data", os: 0, variant: 0, declared: "qcow2", min_ram: "", tags, description: "" }
}

const fn iso(name: &'static str, tags: &'static str) -> DemoImport {
    DemoImport { name, kind: "iso", os: 0, variant: 0, declared: "iso", min_ram: "", tags, description: "" }
}

const ACME_HOME: &[DemoImport] = &[
    DemoImport {
        min_ram: "2048",
        description: "Nginx front end for the shop",
        ..system("web-frontend-01", 1, 0, "env=prod,team=web,cost-center=cc-101")
    },
    system("web-frontend-02", 1, 1, "env=test,team=web"),
    system("api-gateway-01", 3, 1, "env=prod,team=web"),
    DemoImport { min_ram: "4096", ..system("postgres-primary-01", 5, 0, "env=prod,team=data,cost-center=cc-102") },
    system("redis-cache-01", 9, 0, "env=dev,team=data"),
    system("ml-training-01", 0, 2, "env=test,team=ml"),
    system("ci-runner-01", 7, 0, "env=dev,team=infra"),
    DemoImport { min_ram: "4096", ..system("windows-ad-01", 11, 0, "env=prod,team=infra") },
    data("billing-data-01", "env=prod,team=data"),
    data("logs-archive-01", "env=prod,team=infra"),
    iso("rescue-installer-01", "env=test"),
    // A qcow2 file declared as VHD: the import fails, with the engine's reason.
    DemoImport { declared: "vhd", ..system("k8s-node-01", 2, 0, "env=dev,team=infra") },
    system("legacy-app-01", 6, 0, "env=dev"),
    system("old-build-01", 4, 0, "env=test"),
];
const GLOBEX_HOME: &[DemoImport] = &[
    system("globex-portal-01", 1, 0, "env=prod,team=web"),
    system("globex-db-01", 6, 0, "env=prod,team=data"),
    system("globex-analytics-01", 3, 0, "env=test,team=data"),
    data("hr-records-01", "env=prod"),
    iso("globex-installer-01", "env=test"),
];
const ACME_AWAY: &[DemoImport] =
    &[system("web-frontend-hk-01", 1, 0, "env=prod,team=web"), data("logs-archive-hk-01", "env=prod")];
const GLOBEX_AWAY: &[DemoImport] = &[system("globex-portal-hk-01", 1, 0, "env=prod,team=web")];

/// The demo file an import reads: the built disk of its OS, a data disk, or an ISO file.
fn source_file(dir: &Path, disks: &DemoDisks, import: &DemoImport) -> Result<PathBuf, SeedError> {
    let failed = |error: std::io::Error| SeedError::DemoDisks(error.to_string());
    match import.kind {
        "iso" => demo_disk::build_iso(dir, import.name, import.name).map_err(failed),
        "data" => {
            let path = dir.join("data-disk.qcow2");
            if !path.exists() {
                let disk = demo_disk::DemoDisk {
                    name: "data-disk".into(),
                    uefi: false,
                    virtual_size: 256 << 20,
                    files: vec![("README.txt".into(), "Demo data disk of the Image Management Service.\n".into())],
                };
                return demo_disk::build(dir, &disk).map_err(failed);
            }
            Ok(path)
        }
        _ => {
            let (_, _, version, variants) = CATALOG[import.os];
            let uefi = variants[import.variant].1 == "uefi";
            disks
                .get(&(version.to_string(), uefi))
                .cloned()
                .ok_or_else(|| SeedError::DemoDisks(format!("no demo disk for {version}")))
        }
    }
}

/// Puts a local file into a bucket through the chunked upload a browser uses.
async fn upload(state: &AppState, caller: &Caller, bucket: &str, key: &str, path: &Path) -> Result<(), AppError> {
    let bytes = tokio::fs::read(path).await.map_err(|error| AppError::internal("reading a demo file", error))?;
    let upload = uploads::start_upload(state, caller, bucket, key, bytes.len() as u64).await?;
    for (index, chunk) in bytes.chunks(UPLOAD_CHUNK_SIZE as usize).enumerate() {
        uploads::put_chunk(state, caller, &upload.upload_id, index as u64, bytes::Bytes::copy_from_slice(chunk))
            .await?;
    }
    uploads::complete_upload(state, caller, &upload.upload_id, None).await?;
    Ok(())
}

fn import_request(bucket: &str, key: &str, import: &DemoImport) -> ImportRequest {
    let (platform, os_type, version, variants) = CATALOG[import.os];
    let (architecture, boot_mode) = variants[import.variant];
    let os = import.kind != "data";
    ImportRequest {
        name: import.name.into(),
        description: if import.description.is_empty() {
            format!("Imported from {key}.")
        } else {
            import.description.into()
        },
        bucket: bucket.into(),
        object_key: key.into(),
        file_format: import.declared.into(),
        image_type: if import.kind == "iso" { "system".into() } else { import.kind.into() },
        os_type: if os { os_type.into() } else { "Linux".into() },
        platform: if os { platform.into() } else { "Other".into() },
        os_version: if os { version.into() } else { String::new() },
        architecture: architecture.into(),
        boot_mode: boot_mode.into(),
        min_ram: import.min_ram.into(),
        tags: import.tags.into(),
        ..Default::default()
    }
}

/// A demo step the server's settings refused.
fn left_out(what: &str, error: &AppError) {
    tracing::warn!(%error, "the demo's {what} is left out");
}

/// Uploads each demo file to its account's bucket and queues its import.
pub async fn import_images(state: &AppState, dir: &Path, disks: &DemoDisks) -> Result<(), SeedError> {
    let plan: [(&str, &str, usize, &[DemoImport]); 4] = [
        ("acme", "alice", 0, ACME_HOME),
        ("globex", "carol", 0, GLOBEX_HOME),
        ("acme", "alice", 1, ACME_AWAY),
        ("globex", "carol", 1, GLOBEX_AWAY),
    ];
    for (account, user, region, imports) in plan {
        let caller = demo_admin(state, account, user, REGIONS[region].id).await?;
        let bucket = format!("{account}-demo-files");
        buckets::create_bucket(state, &caller, &bucket).await.map_err(|error| SeedError::Demo("bucket", error))?;
        for import in imports {
            let path = source_file(dir, disks, import)?;
            let extension = if import.kind == "iso" { "iso" } else { "qcow2" };
            let key = format!("{}.{extension}", import.name);
            let request = import_request(&bucket, &key, import);
            let imported = match upload(state, &caller, &bucket, &key, &path).await {
                Ok(()) => crate::images::service::create_image_from_file(state, &caller, &request).await.map(|_| ()),
                Err(error) => Err(error),
            };
            if let Err(error) = imported {
                left_out(import.name, &error);
            }
        }
    }
    Ok(())
}

/// Captures a system disk image of acme-web-01, and a full-ECS and a data disk image of
/// acme-db-01 (one capture of a server at a time, as the service requires).
pub async fn capture_images(state: &AppState, runner: &Runner) -> Result<(), SeedError> {
    let alice = demo_admin(state, "acme", "alice", REGIONS[0].id).await?;
    let project = alice.project_id.clone();
    let server = |name: &'static str| {
        let project = project.clone();
        async move {
            sqlx::query_scalar::<_, String>("SELECT id FROM servers WHERE name = $1 AND project_id = $2")
                .bind(name)
                .bind(project)
                .fetch_one(&state.db)
                .await
        }
    };
    let (web, db) = (server("acme-web-01").await?, server("acme-db-01").await?);
    let data_disk: String =
        sqlx::query_scalar("SELECT id FROM disks WHERE server_id = $1 AND role = 'data' ORDER BY device LIMIT 1")
            .bind(&db)
            .fetch_optional(&state.db)
            .await?
            .unwrap_or_default();
    let captures = [
        (web.clone(), "system", String::new(), "web-golden-01", "The shop's web server, captured after hardening."),
        (db.clone(), "full_ecs", String::new(), "erp-full-01", "The ERP database server with its data disk."),
        (db, "data", data_disk, "db-data-01", "The ERP database's data disk."),
    ];
    for (server_id, image_type, disk_id, name, description) in captures {
        let request = CaptureRequest {
            server_id,
            image_type: image_type.into(),
            disk_id,
            name: name.into(),
            description: description.into(),
        };
        match crate::compute::service::create_image_from_server(state, &alice, &request).await {
            Ok(_) => runner.run_until_idle().await,
            Err(error) => left_out(name, &error),
        }
    }
    Ok(())
}

/// The finishing touches, each through its service: protection on two images, a deprecated
/// one, one in the recycle bin, and an image globex shares with acme, accepted.
pub async fn finish(state: &AppState) -> Result<(), SeedError> {
    let region = REGIONS[0].id;
    let alice = demo_admin(state, "acme", "alice", region).await?;
    let carol = demo_admin(state, "globex", "carol", region).await?;
    let id_of = |name: &'static str, project: String| async move {
        sqlx::query_scalar::<_, String>(
            "SELECT id FROM images WHERE name = $1 AND owner = $2 AND deleted_at IS NULL AND status = 'active'",
        )
        .bind(name)
        .bind(project)
        .fetch_optional(&state.db)
        .await
    };
    let service = crate::images::service::set_protection;
    for name in ["postgres-primary-01", "erp-full-01"] {
        if let Some(id) = id_of(name, alice.project_id.clone()).await? {
            service(state, &alice, &id, true).await.unwrap_or_else(|error| left_out("protection", &error));
        }
    }
    if let Some(id) = id_of("legacy-app-01", alice.project_id.clone()).await? {
        crate::images::service::set_deprecation(state, &alice, &id, "2026-01-01T00:00")
            .await
            .unwrap_or_else(|error| left_out("deprecation", &error));
    }
    if let Some(id) = id_of("old-build-01", alice.project_id.clone()).await? {
        crate::images::service::delete_image(state, &alice, &id)
            .await
            .unwrap_or_else(|error| left_out("recycle bin", &error));
    }
    if let Some(portal) = id_of("globex-portal-01", carol.project_id.clone()).await? {
        let shared = match crate::sharing::service::share_images(state, &carol, &portal, &alice.project_id, "").await {
            Ok(_) => crate::sharing::service::answer_shares(state, &alice, &portal, "accepted").await.map(|_| ()),
            Err(error) => Err(error),
        };
        shared.unwrap_or_else(|error| left_out("share", &error));
    }
    Ok(())
}
