//! Accounts, users and demo data. The demo (accounts acme and globex, a public catalog and a
//! few dozen private images per account) is seeded only into an empty database, and only
//! when IMS_DEMO_PASSWORD is set.

use crate::auth::password::hash_password;
use crate::auth::Role;
use crate::db::{new_hex_id, now_ms, Db};
use crate::engine::demo_disk::{self, DemoDisk};
use crate::regions::REGIONS;
use crate::storage::Storage;
use sqlx::{Any, Transaction};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Size of the demo disks: small, but a real partition table and ext4 filesystem.
const DEMO_DISK_SIZE: u64 = 512 << 20;

/// What the filesystem of a demo disk holds: /etc/os-release for Linux, a version file for Windows.
fn demo_files(platform: &str, version: &str) -> Vec<(String, String)> {
    if platform == "Windows" {
        return vec![("Windows/System32/ims-version.txt".into(), format!("{version}\r\n"))];
    }
    let id = platform.to_ascii_lowercase().replace(' ', "");
    let version_id = version.split_whitespace().find(|word| word.chars().next().is_some_and(|c| c.is_ascii_digit())).unwrap_or("");
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

/// Builds one real disk per OS version and boot mode, stores a copy for every catalog image,
/// and records the file, its size and checksums on the image.
async fn store_demo_disks(storage: &Storage, work_dir: &Path, catalog: &mut [NewImage]) -> Result<(), String> {
    let dir = work_dir.join("demo-disks");
    std::fs::create_dir_all(&dir).map_err(|error| error.to_string())?;
    let mut built: HashMap<(String, bool), PathBuf> = HashMap::new();
    for image in catalog.iter_mut() {
        let uefi = image.firmware == "uefi";
        let key = (image.os_version.clone(), uefi);
        if !built.contains_key(&key) {
            let name = format!("disk-{}", built.len());
            let disk = DemoDisk { name, uefi, virtual_size: DEMO_DISK_SIZE, files: demo_files(image.platform, &image.os_version) };
            let dir = dir.clone();
            let path = tokio::task::spawn_blocking(move || demo_disk::build(&dir, &disk))
                .await
                .map_err(|error| error.to_string())?
                .map_err(|error| error.to_string())?;
            built.insert(key.clone(), path);
        }
        let object_key = Storage::image_key(&image.region, &image.id, "qcow2");
        let digests = storage.upload_file(&built[&key], &object_key).await.map_err(|error| error.to_string())?;
        image.disk_format = "qcow2";
        image.image_size = digests.size as i64;
        image.virtual_size = DEMO_DISK_SIZE as i64;
        image.file = Some((object_key, digests.md5, digests.sha256));
    }
    std::fs::remove_dir_all(&dir).map_err(|error| error.to_string())?;
    Ok(())
}

/// Owner of the public images of a region: the platform's own project there.
pub fn platform_project(region: &str) -> String {
    format!("platform-{region}")
}

/// Everything needed to insert one image row; the rest of the columns take their defaults.
#[derive(Clone, Debug)]
pub struct NewImage {
    pub id: String,
    pub region: String,
    pub owner: String,
    pub name: String,
    pub description: String,
    pub status: &'static str,
    pub status_reason: String,
    pub public: bool,
    pub kind: &'static str,
    pub os_type: &'static str,
    pub platform: &'static str,
    pub os_version: String,
    pub architecture: &'static str,
    pub firmware: &'static str,
    pub disk_format: &'static str,
    pub min_disk: i64,
    pub min_ram: i64,
    pub image_size: i64,
    pub virtual_size: i64,
    pub protected: bool,
    pub cmk_id: String,
    pub data_origin: String,
    pub root_origin: &'static str,
    pub support_flags: &'static str,
    pub created_at: i64,
    pub tags: Vec<(String, String)>,
    /// The stored image file, if the image has one: (object key, md5, sha256).
    pub file: Option<(String, String, String)>,
}

fn virtual_env_type(kind: &str) -> &'static str {
    match kind {
        "data" => "DataImage",
        "iso" => "IsoImage",
        _ => "FusionCompute",
    }
}

pub async fn insert_image(transaction: &mut Transaction<'_, Any>, image: &NewImage) -> Result<(), sqlx::Error> {
    let active_at = (image.status == "active").then_some(image.created_at + 180_000);
    let (visibility, imagetype) = if image.public { ("public", "gold") } else { ("private", "private") };
    let (file_location, checksum, sha256) = image.file.clone().unwrap_or_default();
    sqlx::query(
        "INSERT INTO images (id, region, owner, name, description, status, status_reason, visibility, imagetype, \
         image_kind, virtual_env_type, os_type, platform, os_version, architecture, hw_firmware_type, disk_format, \
         min_disk, min_ram, image_size, virtual_size, protected, cmk_id, data_origin, root_origin, \
         support_flags, created_at, updated_at, active_at, file_location, checksum, sha256) VALUES \
         ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, \
         $23, $24, $25, $26, $27, $28, $29, $30, $31, $32)",
    )
    .bind(&image.id)
    .bind(&image.region)
    .bind(&image.owner)
    .bind(&image.name)
    .bind(&image.description)
    .bind(image.status)
    .bind(&image.status_reason)
    .bind(visibility)
    .bind(imagetype)
    .bind(image.kind)
    .bind(virtual_env_type(image.kind))
    .bind(image.os_type)
    .bind(image.platform)
    .bind(&image.os_version)
    .bind(image.architecture)
    .bind(image.firmware)
    .bind(image.disk_format)
    .bind(image.min_disk)
    .bind(image.min_ram)
    .bind(image.image_size)
    .bind(image.virtual_size)
    .bind(image.protected as i64)
    .bind(&image.cmk_id)
    .bind(&image.data_origin)
    .bind(image.root_origin)
    .bind(image.support_flags)
    .bind(image.created_at)
    .bind(image.created_at)
    .bind(active_at)
    .bind(file_location)
    .bind(checksum)
    .bind(sha256)
    .execute(&mut **transaction)
    .await?;
    for (key, value) in &image.tags {
        sqlx::query("INSERT INTO image_tags (image_id, tag_key, tag_value) VALUES ($1, $2, $3)")
            .bind(&image.id)
            .bind(key)
            .bind(value)
            .execute(&mut **transaction)
            .await?;
    }
    Ok(())
}

/// Creates the account if it is new, with one project in every region; returns its id.
pub async fn ensure_account(transaction: &mut Transaction<'_, Any>, name: &str) -> Result<String, sqlx::Error> {
    let existing: Option<String> = sqlx::query_scalar("SELECT id FROM accounts WHERE name = $1")
        .bind(name)
        .fetch_optional(&mut **transaction)
        .await?;
    if let Some(id) = existing {
        return Ok(id);
    }
    let id = new_hex_id();
    sqlx::query("INSERT INTO accounts (id, name, created_at) VALUES ($1, $2, $3)")
        .bind(&id)
        .bind(name)
        .bind(now_ms())
        .execute(&mut **transaction)
        .await?;
    for region in REGIONS {
        sqlx::query("INSERT INTO projects (id, account_id, region, name) VALUES ($1, $2, $3, $4)")
            .bind(new_hex_id())
            .bind(&id)
            .bind(region.id)
            .bind(region.id)
            .execute(&mut **transaction)
            .await?;
    }
    Ok(id)
}

async fn insert_user(
    transaction: &mut Transaction<'_, Any>,
    account_id: &str,
    name: &str,
    role: Role,
    password_hash: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO users (id, account_id, name, password_hash, role, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(new_hex_id())
        .bind(account_id)
        .bind(name)
        .bind(password_hash)
        .bind(role.as_str())
        .bind(now_ms())
        .execute(&mut **transaction)
        .await?;
    Ok(())
}

fn hash(password: &str) -> Result<String, sqlx::Error> {
    hash_password(password).map_err(|error| sqlx::Error::Protocol(format!("password hashing failed: {error}")))
}

/// Creates a user (and its account, if new). Fails if the user already exists.
pub async fn create_user(db: &Db, account: &str, user: &str, role: Role, password: &str) -> Result<(), sqlx::Error> {
    let password_hash = hash(password)?;
    let mut transaction = db.begin().await?;
    let account_id = ensure_account(&mut transaction, account).await?;
    insert_user(&mut transaction, &account_id, user, role, &password_hash).await?;
    transaction.commit().await
}

pub async fn project_id(db: &Db, account: &str, region: &str) -> Result<String, sqlx::Error> {
    sqlx::query_scalar("SELECT p.id FROM projects p JOIN accounts a ON a.id = p.account_id WHERE a.name = $1 AND p.region = $2")
        .bind(account)
        .bind(region)
        .fetch_one(db)
        .await
}

pub async fn seed_demo_if_empty(db: &Db, storage: &Storage, work_dir: &Path, password: &str) -> Result<(), sqlx::Error> {
    let accounts: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM accounts").fetch_one(db).await?;
    if accounts > 0 {
        return Ok(());
    }
    let password_hash = hash(password)?;
    let now = now_ms();
    let mut catalog: Vec<NewImage> = REGIONS.iter().flat_map(|region| public_catalog(region.id, now)).collect();
    store_demo_disks(storage, work_dir, &mut catalog)
        .await
        .map_err(|error| sqlx::Error::Protocol(format!("building the demo disk images failed: {error}")))?;
    let mut transaction = db.begin().await?;
    for (account, users) in [("acme", &[("alice", Role::Admin), ("bob", Role::Viewer)][..]), ("globex", &[("carol", Role::Admin)][..])] {
        let account_id = ensure_account(&mut transaction, account).await?;
        for (user, role) in users {
            insert_user(&mut transaction, &account_id, user, *role, &password_hash).await?;
        }
    }
    for image in &catalog {
        insert_image(&mut transaction, image).await?;
    }
    transaction.commit().await?;

    for (account, prefixes, seed) in [("acme", ACME_NAMES, 7_u64), ("globex", GLOBEX_NAMES, 1_234_567)] {
        let mut transaction = db.begin().await?;
        for (region_index, region) in REGIONS.iter().enumerate() {
            let project: String = sqlx::query_scalar(
                "SELECT p.id FROM projects p JOIN accounts a ON a.id = p.account_id WHERE a.name = $1 AND p.region = $2",
            )
            .bind(account)
            .bind(region.id)
            .fetch_one(&mut *transaction)
            .await?;
            let count = if region_index == 0 { 32 } else { 8 };
            let mut random = Lcg(seed + region_index as u64 * 97);
            for index in 0..count {
                let image = private_image(&mut random, index, region.id, &project, prefixes, now);
                insert_image(&mut transaction, &image).await?;
            }
        }
        transaction.commit().await?;
    }
    seed_demo_servers(db).await?;
    tracing::info!("seeded demo accounts acme (alice, bob) and globex (carol)");
    Ok(())
}

/// Two ECSs of acme in the first region, made from a public image by the normal path (their
/// creation jobs run once the server starts).
async fn seed_demo_servers(db: &Db) -> Result<(), sqlx::Error> {
    use crate::compute::{actions::create_servers, CreateServersRequest};
    let region = REGIONS[0].id;
    let (user_id, account_id): (String, String) =
        sqlx::query_as("SELECT u.id, a.id FROM users u JOIN accounts a ON a.id = u.account_id WHERE a.name = 'acme' AND u.name = 'alice'")
            .fetch_one(db)
            .await?;
    let user = crate::auth::CurrentUser {
        user_id,
        user_name: "alice".into(),
        role: Role::Admin,
        account_id,
        account_name: "acme".into(),
        region: region.into(),
        project_id: project_id(db, "acme", region).await?,
    };
    let image_id: String = sqlx::query_scalar(
        "SELECT id FROM images WHERE imagetype = 'gold' AND region = $1 AND platform = 'Ubuntu' AND architecture = 'x86' \
         AND hw_firmware_type = 'bios' ORDER BY name DESC LIMIT 1",
    )
    .bind(region)
    .fetch_one(db)
    .await?;
    for (name, flavor, data_disks) in [("acme-web-01", "s6.large.2", ""), ("acme-db-01", "c6.xlarge.2", "100")] {
        let request = CreateServersRequest {
            name: name.into(),
            image_id: image_id.clone(),
            flavor: flavor.into(),
            data_disks: data_disks.into(),
            ..Default::default()
        };
        let valid = request.validate().map_err(|errors| sqlx::Error::Protocol(format!("demo server: {errors:?}")))?;
        create_servers(db, &user, &request, &valid).await.map_err(|error| sqlx::Error::Protocol(format!("demo server: {error}")))?;
    }
    Ok(())
}

/// A small deterministic generator, so every demo database looks the same.
pub struct Lcg(pub u64);

impl Lcg {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }

    pub fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound.max(1)
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

fn fnv(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| (hash ^ byte as u64).wrapping_mul(0x1000_0000_01b3))
}

/// (platform, os type, OS version, variants as (architecture, boot mode)).
type CatalogEntry = (&'static str, &'static str, &'static str, &'static [(&'static str, &'static str)]);

const CATALOG: &[CatalogEntry] = &[
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
                id: uuid::Uuid::new_v4().to_string(),
                region: region.to_string(),
                owner: platform_project(region),
                name: format!("{version}{suffix}"),
                description: format!("Standard {version} image provided by the platform."),
                status: "active",
                status_reason: String::new(),
                public: true,
                kind: "system",
                os_type,
                platform,
                os_version: version.to_string(),
                architecture,
                firmware,
                disk_format: "zvhd2",
                min_disk: 40,
                min_ram: if windows { 2048 } else { 1024 },
                image_size: if windows { (9 + random.below(6) as i64) * GB } else { GB + random.below(3 * GB as u64) as i64 },
                virtual_size: 40 * GB,
                protected: true,
                cmk_id: String::new(),
                data_origin: String::new(),
                root_origin: "",
                support_flags: if *architecture == "arm" { "kvm,arm" } else { "kvm,xen,largememory" },
                created_at: now - (400 - entry_index as i64 * 20) * DAY_MS - random.below(DAY_MS as u64) as i64,
                tags: Vec::new(),
                file: None,
            });
        }
    }
    images
}

/// Name stems of the demo accounts' private images, with the kind each one is.
const ACME_NAMES: &[(&str, &str)] = &[
    ("web-frontend", "system"), ("api-gateway", "system"), ("postgres-primary", "system"),
    ("redis-cache", "system"), ("ml-training", "system"), ("ci-runner", "system"),
    ("billing-data", "data"), ("logs-archive", "data"), ("erp-full", "full_ecs"),
    ("rescue-installer", "iso"), ("windows-ad", "system"), ("k8s-node", "system"),
];
const GLOBEX_NAMES: &[(&str, &str)] = &[
    ("globex-portal", "system"), ("globex-db", "system"), ("hr-records", "data"),
    ("globex-analytics", "system"), ("globex-full-backup", "full_ecs"), ("globex-installer", "iso"),
];

const FAILURE_REASONS: &[&str] = &[
    "The image file is qcow2 but was declared as vhd.",
    "The image file refers to a backing file, which is not allowed.",
    "The virtual size 2.00 TB exceeds the maximum of 1 TB.",
];

fn private_image(random: &mut Lcg, index: usize, region: &str, project: &str, stems: &[(&'static str, &'static str)], now: i64) -> NewImage {
    let (stem, kind) = stems[index % stems.len()];
    let (platform, os_type, version, variants) = if stem.starts_with("windows") {
        CATALOG[11]
    } else {
        *random.pick(&CATALOG[..11])
    };
    let (architecture, firmware) = *random.pick(variants);
    let status = match index % 16 {
        3 => "saving",
        7 => "killed",
        11 => "queued",
        _ => "active",
    };
    let disk_format = match kind {
        "iso" => "iso",
        "full_ecs" => "zvhd2",
        "data" => *random.pick(&["qcow2", "raw"]),
        _ => *random.pick(&["qcow2", "vhd", "vmdk", "raw", "zvhd2"]),
    };
    let (os_type, platform, version) = match kind {
        "data" => ("Linux", "Other", String::new()),
        _ => (os_type, platform, version.to_string()),
    };
    let image_size = match kind {
        "iso" => GB / 2 + random.below(GB as u64) as i64,
        "full_ecs" => (20 + random.below(60) as i64) * GB,
        _ => GB / 4 + random.below(30 * GB as u64) as i64,
    };
    let min_disk = ((image_size / GB) + 1).max(40).min(1024);
    let env = *random.pick(&["prod", "dev", "test"]);
    let team = *random.pick(&["web", "data", "ml", "infra"]);
    let mut tags = vec![("env".to_string(), env.to_string())];
    if index % 3 != 2 {
        tags.push(("team".to_string(), team.to_string()));
    }
    if index % 5 == 0 {
        tags.push(("cost-center".to_string(), format!("cc-{}", 100 + random.below(5))));
    }
    let from_file = kind == "iso" || index % 4 == 1;
    NewImage {
        id: uuid::Uuid::new_v4().to_string(),
        region: region.to_string(),
        owner: project.to_string(),
        name: format!("{stem}-{:02}", index / stems.len() + 1),
        description: format!("{stem} image for {env}"),
        status,
        status_reason: if status == "killed" { random.pick(FAILURE_REASONS).to_string() } else { String::new() },
        public: false,
        kind,
        os_type,
        platform,
        os_version: version,
        architecture,
        firmware,
        disk_format,
        min_disk,
        min_ram: *random.pick(&[0, 1024, 2048, 4096]),
        image_size,
        virtual_size: min_disk * GB,
        protected: index % 13 == 5,
        cmk_id: if index % 7 == 2 { uuid::Uuid::new_v4().to_string() } else { String::new() },
        data_origin: if from_file {
            format!("file,{region}-images:{stem}.{disk_format}")
        } else {
            format!("instance,{}", uuid::Uuid::new_v4())
        },
        root_origin: if from_file { "file" } else { "" },
        support_flags: "kvm",
        created_at: now - random.below(180 * DAY_MS as u64) as i64,
        tags,
        file: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_generator_is_deterministic() {
        let (mut a, mut b) = (Lcg(5), Lcg(5));
        assert_eq!((0..10).map(|_| a.below(100)).collect::<Vec<_>>(), (0..10).map(|_| b.below(100)).collect::<Vec<_>>());
    }

    #[test]
    fn the_public_catalog_covers_every_required_os() {
        let catalog = public_catalog("cn-north-4", 0);
        for platform in ["Ubuntu", "Debian", "CentOS", "EulerOS", "OpenSUSE", "Windows"] {
            assert!(catalog.iter().any(|image| image.platform == platform), "{platform} missing");
        }
        assert!(catalog.iter().any(|image| image.architecture == "arm"));
        assert!(catalog.iter().any(|image| image.firmware == "uefi"));
        assert!(catalog.iter().all(|image| image.public && image.status == "active"));
    }

    #[test]
    fn private_images_vary_in_status_kind_and_format() {
        let mut random = Lcg(7);
        let images: Vec<NewImage> = (0..32).map(|index| private_image(&mut random, index, "cn-north-4", "p", ACME_NAMES, 0)).collect();
        for status in ["active", "saving", "queued", "killed"] {
            assert!(images.iter().any(|image| image.status == status), "{status} missing");
        }
        for kind in ["system", "data", "full_ecs", "iso"] {
            assert!(images.iter().any(|image| image.kind == kind), "{kind} missing");
        }
        assert!(images.iter().any(|image| !image.cmk_id.is_empty()));
        assert!(images.iter().filter(|image| image.status == "killed").all(|image| !image.status_reason.is_empty()));
    }
}
