//! Demo data. The demo (accounts acme and globex, a public catalog and a few dozen private
//! images per account, two ECSs) is seeded only into an empty database, and only when
//! IMS_DEMO_PASSWORD is set.

use crate::auth::accounts::{ensure_account, insert_user, password_hash, project_id, AccountError};
use crate::caller::{Caller, Role};
use crate::db::now_ms;
use crate::engine::demo_disk::{self, DemoDisk};
use crate::error::AppError;
use crate::images::model::ImageStatus;
use crate::images::store::{insert_image, NewImage, StoredFile};
use crate::jobs::runner::Runner;
use crate::market::model::Offering;
use crate::market::store::insert_offering;
use crate::regions::REGIONS;
use crate::state::AppState;
use crate::storage::Storage;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error(transparent)]
    Account(#[from] AccountError),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("building the demo disk images failed: {0}")]
    DemoDisks(String),
    #[error("making the demo's {0} failed: {1}")]
    Demo(&'static str, AppError),
}

/// Size of the demo disks: small, but a real partition table and ext4 filesystem.
const DEMO_DISK_SIZE: u64 = 512 << 20;

/// What the filesystem of a demo disk holds: /etc/os-release for Linux, a version file for Windows.
fn demo_files(platform: &str, version: &str) -> Vec<(String, String)> {
    if platform == "Windows" {
        return vec![("Windows/System32/ims-version.txt".into(), format!("{version}\r\n"))];
    }
    let id = platform.to_ascii_lowercase().replace(' ', "");
    let version_id =
        version.split_whitespace().find(|word| word.chars().next().is_some_and(|c| c.is_ascii_digit())).unwrap_or("");
    let name = match platform {
        "Debian" => "Debian GNU/Linux",
        "OpenSUSE" => "openSUSE Leap",
        other => other,
    };
    vec![(
        "etc/os-release".into(),
        format!("NAME=\"{name}\"\nVERSION=\"{version_id}\"\nID={id}\nVERSION_ID=\"{version_id}\"\nPRETTY_NAME=\"{version}\"\n"),
    )]
}

/// The demo's disk files: one real disk per (OS version, UEFI), built once.
pub type DemoDisks = HashMap<(String, bool), PathBuf>;

/// Builds one real disk per OS version and boot mode in `dir`, stores a copy for every catalog
/// image, and records the file, its size and checksums on the image. Returns the disks (for
/// the demo's private images, which are imported from them).
async fn store_demo_disks(storage: &Storage, dir: &Path, catalog: &mut [NewImage]) -> Result<DemoDisks, String> {
    std::fs::create_dir_all(dir).map_err(|error| error.to_string())?;
    let mut built: DemoDisks = HashMap::new();
    for image in catalog.iter_mut() {
        let uefi = image.boot_mode == "uefi";
        let key = (image.os_version.clone(), uefi);
        if !built.contains_key(&key) {
            let name = format!("disk-{}", built.len());
            let disk = DemoDisk {
                name,
                uefi,
                virtual_size: DEMO_DISK_SIZE,
                files: demo_files(&image.platform, &image.os_version),
            };
            let dir = dir.to_path_buf();
            let path = tokio::task::spawn_blocking(move || demo_disk::build(&dir, &disk))
                .await
                .map_err(|error| error.to_string())?
                .map_err(|error| error.to_string())?;
            built.insert(key.clone(), path);
        }
        let object_key = Storage::image_key(&image.region, &image.id, "qcow2");
        let digests = storage.upload_file(&built[&key], &object_key).await.map_err(|error| error.to_string())?;
        image.disk_format = "qcow2".into();
        image.image_size = digests.size as i64;
        image.virtual_size = DEMO_DISK_SIZE as i64;
        image.file = Some(StoredFile { location: object_key, md5: digests.md5, sha256: digests.sha256 });
    }
    Ok(built)
}

/// Owner of the public images of a region: the platform's own project there.
pub fn platform_project(region: &str) -> String {
    format!("platform-{region}")
}

/// Seeds the demo into an empty database. Its private images, ECSs, shares and recycle bin are
/// made through the services a tenant uses, and their jobs run here (`runner`), before the
/// console serves: the demo starts settled, every image with its stored file.
pub async fn seed_demo_if_empty(state: &AppState, password: &str, runner: Runner) -> Result<(), SeedError> {
    let db = &state.db;
    let accounts: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM accounts").fetch_one(db).await?;
    if accounts > 0 {
        return Ok(());
    }
    let started = std::time::Instant::now();
    let password_hash = password_hash(password)?;
    let now = now_ms();
    let mut catalog: Vec<NewImage> = REGIONS.iter().flat_map(|region| public_catalog(region.id, now)).collect();
    let offerings: Vec<(Offering, String)> = REGIONS
        .iter()
        .flat_map(|region| market_catalog(region.id, now))
        .map(|(image, offering)| {
            catalog.push(image);
            offering
        })
        .collect();
    let disk_dir = state.work_dir().join("demo-disks");
    let disks = store_demo_disks(&state.storage, &disk_dir, &mut catalog).await.map_err(SeedError::DemoDisks)?;
    let mut transaction = db.begin().await?;
    for (account, users) in
        [("acme", &[("alice", Role::Admin), ("bob", Role::Viewer)][..]), ("globex", &[("carol", Role::Admin)][..])]
    {
        let account_id = ensure_account(&mut transaction, account).await?;
        for (user, role) in users {
            insert_user(&mut transaction, &account_id, user, *role, &password_hash).await?;
        }
    }
    for image in &catalog {
        insert_image(&mut transaction, image).await?;
    }
    for (offering, region) in &offerings {
        insert_offering(&mut transaction, offering, region, "").await?;
    }
    transaction.commit().await?;

    crate::demo_private::import_images(state, &disk_dir, &disks).await?;
    seed_demo_servers(state).await?;
    runner.run_until_idle().await;
    crate::demo_private::capture_images(state, &runner).await?;
    crate::demo_private::finish(state).await?;
    std::fs::remove_dir_all(&disk_dir).map_err(|error| SeedError::DemoDisks(error.to_string()))?;
    tracing::info!(
        seconds = started.elapsed().as_secs_f64(),
        "seeded demo accounts acme (alice, bob) and globex (carol)"
    );
    Ok(())
}

/// The admin of a demo account, acting in `region`.
pub async fn demo_admin(state: &AppState, account: &str, user: &str, region: &str) -> Result<Caller, SeedError> {
    let (user_id, account_id): (String, String) = sqlx::query_as(
        "SELECT u.id, a.id FROM users u JOIN accounts a ON a.id = u.account_id WHERE a.name = $1 AND u.name = $2",
    )
    .bind(account)
    .bind(user)
    .fetch_one(&state.db)
    .await?;
    Ok(Caller {
        user_id,
        user_name: user.into(),
        role: Role::Admin,
        account_id,
        account_name: account.into(),
        region: region.into(),
        project_id: project_id(&state.db, account, region).await?,
    })
}

/// Two ECSs of acme in the first region, made from a public image by the normal path.
async fn seed_demo_servers(state: &AppState) -> Result<(), SeedError> {
    use crate::compute::requests::CreateServersRequest;
    use crate::compute::service::create_servers;
    let region = REGIONS[0].id;
    let alice = demo_admin(state, "acme", "alice", region).await?;
    let image_id: String = sqlx::query_scalar(
        "SELECT id FROM images WHERE imagetype = 'gold' AND region = $1 AND platform = 'Ubuntu' AND architecture = 'x86' \
         AND hw_firmware_type = 'bios' ORDER BY name DESC LIMIT 1",
    )
    .bind(region)
    .fetch_one(&state.db)
    .await?;
    for (name, flavor, data_disks) in [("acme-web-01", "s6.large.2", ""), ("acme-db-01", "c6.xlarge.2", "100")] {
        let request = CreateServersRequest {
            name: name.into(),
            image_id: image_id.clone(),
            flavor: flavor.into(),
            data_disks: data_disks.into(),
            ..Default::default()
        };
        create_servers(state, &alice, &request).await.map_err(|error| SeedError::Demo(name, error))?;
    }
    Ok(())
}

/// A small deterministic generator, so every demo database looks the same.
pub struct Lcg(pub u64);

impl Lcg {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }

    pub fn below(&mut self, bound: u64) -> u64 {
        self.next_u64() % bound.max(1)
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

fn fnv(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| (hash ^ byte as u64).wrapping_mul(0x1000_0000_01b3))
}

/// (platform, os type, OS version, variants as (architecture, boot mode)).
pub type CatalogEntry = (&'static str, &'static str, &'static str, &'static [(&'static str, &'static str)]);

pub const CATALOG: &[CatalogEntry] = &[
    ("Ubuntu", "Linux", "Ubuntu 24.04 server 64bit", &[("x86", "bios"), ("x86", "uefi"), ("arm", "uefi")]),
    ("Ubuntu", "Linux", "Ubuntu 22.04 server 64bit", &[("x86", "bios"), ("x86", "uefi"), ("arm", "uefi")]),
    ("Ubuntu", "Linux", "Ubuntu 20.04 server 64bit", &[("x86", "bios"), ("arm", "uefi")]),
    ("Debian", "Linux", "Debian GNU/Linux 12.5.0 64bit", &[("x86", "bios"), ("x86", "uefi"), ("arm", "uefi")]),
    ("Debian", "Linux", "Debian GNU/Linux 11.9.0 64bit", &[("x86", "bios")]),
    ("CentOS", "Linux", "CentOS 7.9 64bit", &[("x86", "bios"), ("arm", "uefi")]),
    ("CentOS", "Linux", "CentOS 8.2 64bit", &[("x86", "bios")]),
    ("EulerOS", "Linux", "EulerOS 2.10 64bit", &[("x86", "bios"), ("arm", "uefi")]),
    ("EulerOS", "Linux", "EulerOS 2.9 64bit", &[("x86", "bios")]),
    ("OpenSUSE", "Linux", "openSUSE Leap 15.6 64bit", &[("x86", "bios"), ("x86", "uefi")]),
    ("OpenSUSE", "Linux", "openSUSE Leap 15.5 64bit", &[("x86", "bios")]),
    ("Windows", "Windows", "Windows Server 2022 Datacenter 64bit English", &[("x86", "bios"), ("x86", "uefi")]),
    ("Windows", "Windows", "Windows Server 2019 Datacenter 64bit English", &[("x86", "bios")]),
    ("Windows", "Windows", "Windows Server 2016 Datacenter 64bit English", &[("x86", "bios")]),
];

const GB: i64 = 1024 * 1024 * 1024;
const DAY_MS: i64 = 86_400_000;

/// A Normal system disk image of the platform's project in `region`: (platform, OS type, OS
/// version) and (architecture, boot mode) as in CATALOG.
fn platform_image(region: &str, name: &str, os: (&str, &str, &str), machine: (&str, &str)) -> NewImage {
    let ((platform, os_type, version), (architecture, boot_mode)) = (os, machine);
    NewImage {
        owner: platform_project(region),
        status: ImageStatus::Active,
        public: true,
        os_type: os_type.to_string(),
        platform: platform.to_string(),
        os_version: version.to_string(),
        architecture: architecture.to_string(),
        boot_mode: boot_mode.to_string(),
        min_disk: 40,
        virtual_size: 40 * GB,
        protected: true,
        ..NewImage::queued_for(region, name, "system")
    }
}

fn public_catalog(region: &str, now: i64) -> Vec<NewImage> {
    let mut random = Lcg(fnv(region));
    let mut images = Vec::new();
    for (entry_index, (platform, os_type, version, variants)) in CATALOG.iter().enumerate() {
        for (architecture, firmware) in variants.iter() {
            let suffix = match (*architecture, *firmware) {
                ("arm", _) => " (ARM)",
                (_, "uefi") => " (UEFI)",
                _ => "",
            };
            let windows = *os_type == "Windows";
            images.push(NewImage {
                description: format!("Standard {version} image provided by the platform."),
                disk_format: "zvhd2".into(),
                min_ram: if windows { 2048 } else { 1024 },
                image_size: if windows {
                    (9 + random.below(6) as i64) * GB
                } else {
                    GB + random.below(3 * GB as u64) as i64
                },
                support_flags: if *architecture == "arm" { "kvm,arm" } else { "kvm,xen,largememory" }.into(),
                created_at: now - (400 - entry_index as i64 * 20) * DAY_MS - random.below(DAY_MS as u64) as i64,
                ..platform_image(
                    region,
                    &format!("{version}{suffix}"),
                    (platform, os_type, version),
                    (architecture, firmware),
                )
            });
        }
    }
    images
}

/// KooGallery offerings of third-party publishers: (name, publisher, price in cents per hour,
/// index into CATALOG of the OS it is built on, description).
const MARKET: &[(&str, &str, i64, usize, &str)] = &[
    ("LAMP Stack", "Northwind Software", 0, 1, "Apache, MySQL and PHP, ready to serve."),
    ("WordPress", "BlueOcean Images", 5, 3, "WordPress with Nginx and MariaDB, tuned for small sites."),
    ("Docker CE", "Contoso Stack", 0, 5, "Docker Engine and Compose, with the daemon started at boot."),
    ("SQL Server 2019 Web", "Tailspin Data", 35, 12, "Microsoft SQL Server 2019 Web edition, licensed per hour."),
];

fn market_catalog(region: &str, now: i64) -> Vec<(NewImage, (Offering, String))> {
    MARKET
        .iter()
        .enumerate()
        .map(|(index, (name, publisher, price_cents, os, description))| {
            let (platform, os_type, version, variants) = CATALOG[*os];
            let (architecture, firmware) = variants[0];
            let image = NewImage {
                description: description.to_string(),
                market: true,
                min_ram: if os_type == "Windows" { 4096 } else { 1024 },
                support_flags: "kvm,xen".into(),
                created_at: now - (60 - index as i64 * 7) * DAY_MS,
                ..platform_image(
                    region,
                    &format!("{name} ({version})"),
                    (platform, os_type, version),
                    (architecture, firmware),
                )
            };
            let offering = Offering {
                image_id: image.id.clone(),
                name: name.to_string(),
                description: description.to_string(),
                publisher: publisher.to_string(),
                price_cents: *price_cents,
                published_at: image.created_at,
            };
            (image, (offering, region.to_string()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_generator_is_deterministic() {
        let (mut a, mut b) = (Lcg(5), Lcg(5));
        assert_eq!(
            (0..10).map(|_| a.below(100)).collect::<Vec<_>>(),
            (0..10).map(|_| b.below(100)).collect::<Vec<_>>()
        );
    }

    #[test]
    fn the_public_catalog_covers_every_required_os() {
        let catalog = public_catalog("cn-north-4", 0);
        for platform in ["Ubuntu", "Debian", "CentOS", "EulerOS", "OpenSUSE", "Windows"] {
            assert!(catalog.iter().any(|image| image.platform == platform), "{platform} missing");
        }
        assert!(catalog.iter().any(|image| image.architecture == "arm"));
        assert!(catalog.iter().any(|image| image.boot_mode == "uefi"));
        assert!(catalog.iter().all(|image| image.public && image.status == ImageStatus::Active));
    }
}
