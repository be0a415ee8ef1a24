//! Settings from environment variables (documented in README.md and .env.example).
//! A bad value stops start-up with a message that names the variable.

use crate::storage::{RegionalBucket, StorageConfig};
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

#[derive(Clone, Debug)]
pub struct Config {
    pub site_addr: SocketAddr,
    pub database_url: String,
    pub data_dir: PathBuf,
    pub demo_password: Option<String>,
    /// Idle time after which a console session ends.
    pub session_idle_minutes: i64,
    pub storage: StorageConfig,
    pub jobs: JobSettings,
    pub engine: EngineSettings,
    pub web: WebSettings,
    pub quotas: QuotaSettings,
    pub recycle: RecycleSettings,
    /// The key that seals stored secrets (`IMS_MASTER_KEY_FILE`, default `<data dir>/master.key`;
    /// made at first start).
    pub master_key_file: PathBuf,
}

/// The recycle bin: how long a deleted private image waits there (`IMS_RECYCLE_RETENTION_SECONDS`,
/// default 7 days) and how often the sweeper looks for images whose time is up
/// (`IMS_RECYCLE_SWEEP_SECONDS`).
#[derive(Clone, Debug)]
pub struct RecycleSettings {
    pub retention_ms: i64,
    pub sweep_seconds: u64,
}

/// What one project may hold at once, the same for every project (`IMS_QUOTA_*`).
#[derive(Clone, Debug)]
pub struct QuotaSettings {
    pub images: i64,
    pub stored_bytes: i64,
    pub objects: i64,
    pub uploads: i64,
    pub servers: i64,
    pub disks: i64,
    pub queued_jobs: i64,
}

/// How the console is reached from browsers.
#[derive(Clone, Debug, Default)]
pub struct WebSettings {
    /// `scheme://host[:port]` as browsers see the console (`IMS_PUBLIC_URL`); state-changing
    /// requests must come from it. Unset: the request's own Host is the origin.
    pub public_origin: Option<String>,
    /// Addresses of reverse proxies whose `X-Forwarded-For` is believed (`IMS_TRUSTED_PROXIES`).
    pub trusted_proxies: Vec<IpAddr>,
}

impl WebSettings {
    /// Served over https: the session cookie is `Secure` and `__Host-`, and HSTS is sent.
    pub fn https(&self) -> bool {
        self.public_origin.as_deref().is_some_and(|origin| origin.starts_with("https://"))
    }
}

#[derive(Clone, Debug)]
pub struct JobSettings {
    /// Jobs one server instance runs at once.
    pub workers: usize,
    /// How long a claimed job stays owned without a heartbeat before another instance may
    /// take it over (and how soon a crashed instance's jobs resume).
    pub lease_seconds: i64,
    /// Jobs one project may have running at once, across all instances.
    pub per_project: i64,
}

impl JobSettings {
    /// The per-project limit as the workers apply it: always below this instance's worker
    /// count, so one project never holds every worker.
    pub fn fair_share(&self) -> i64 {
        self.per_project.min(self.workers as i64 - 1).max(1)
    }
}

#[derive(Clone, Debug)]
pub struct EngineSettings {
    pub max_virtual_size: u64,
    pub qemu_cpu_seconds: u64,
    pub qemu_memory_bytes: u64,
    /// Wall-clock limit of one conversion.
    pub qemu_wall_seconds: u64,
    /// The largest raw or VHD export (those files are as large as the disk).
    pub max_flat_export_bytes: u64,
    /// Jobs do not start with less free space than this in the data directory.
    pub min_free_bytes: u64,
}

#[derive(Debug, thiserror::Error)]
#[error("configuration error in {variable}: {message}")]
pub struct ConfigError {
    pub variable: &'static str,
    pub message: String,
}

fn invalid(variable: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError { variable, message: message.into() }
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads settings through `lookup` so tests can supply their own environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let env = Env(&lookup);
        let site_addr_text = env.non_empty("LEPTOS_SITE_ADDR").unwrap_or_else(|| "127.0.0.1:3000".into());
        let site_addr = site_addr_text.trim().parse::<SocketAddr>().map_err(|_| {
            invalid("LEPTOS_SITE_ADDR", format!("'{site_addr_text}' is not an address like 127.0.0.1:3000"))
        })?;

        let data_dir = PathBuf::from(env.non_empty("IMS_DATA_DIR").unwrap_or_else(|| "data".into()));
        if data_dir.exists() && !data_dir.is_dir() {
            return Err(invalid("IMS_DATA_DIR", format!("'{}' exists and is not a directory", data_dir.display())));
        }

        let database_url = match env.non_empty("DATABASE_URL") {
            Some(url) => {
                let url = url.trim().to_string();
                if !(url.starts_with("sqlite:") || url.starts_with("postgres://") || url.starts_with("postgresql://")) {
                    return Err(invalid(
                        "DATABASE_URL",
                        format!("'{url}' must start with sqlite:, postgres:// or postgresql://"),
                    ));
                }
                url
            }
            None => format!("sqlite:{}?mode=rwc", data_dir.join("ims.db").display()),
        };

        let demo_password = lookup("IMS_DEMO_PASSWORD").filter(|value| !value.is_empty());
        if let Some(password) = &demo_password {
            if password.chars().count() < 8 {
                return Err(invalid("IMS_DEMO_PASSWORD", "must be at least 8 characters long"));
            }
        }

        let session_idle_minutes = match env.non_empty("IMS_SESSION_IDLE_MINUTES") {
            Some(text) => {
                text.trim().parse::<i64>().ok().filter(|minutes| (1..=24 * 60).contains(minutes)).ok_or_else(|| {
                    invalid("IMS_SESSION_IDLE_MINUTES", format!("'{text}' is not a number of minutes from 1 to 1440"))
                })?
            }
            None => 60,
        };

        let storage = storage_config(&env, &data_dir)?;
        let jobs = JobSettings {
            workers: env.number("IMS_JOB_WORKERS", 3, 1..=64)? as usize,
            lease_seconds: env.number("IMS_JOB_LEASE_SECONDS", 60, 2..=3600)?,
            per_project: env.number("IMS_JOBS_PER_PROJECT", 2, 1..=100)?,
        };
        let engine = EngineSettings {
            max_virtual_size: env.number("IMS_MAX_VIRTUAL_SIZE_GB", 1024, 1..=65536)? as u64 * (1 << 30),
            qemu_cpu_seconds: env.number("IMS_QEMU_CPU_SECONDS", 3600, 10..=86_400)? as u64,
            qemu_memory_bytes: env.number("IMS_QEMU_MEMORY_MB", 2048, 256..=65536)? as u64 * (1 << 20),
            qemu_wall_seconds: env.number("IMS_QEMU_WALL_SECONDS", 4 * 3600, 10..=7 * 86_400)? as u64,
            max_flat_export_bytes: env.number("IMS_MAX_FLAT_EXPORT_GB", 64, 1..=65536)? as u64 * (1 << 30),
            min_free_bytes: env.number("IMS_MIN_FREE_GB", 1, 0..=1 << 30)? as u64 * (1 << 30),
        };

        let quotas = QuotaSettings {
            images: env.number("IMS_QUOTA_IMAGES", 100, 0..=1_000_000)?,
            stored_bytes: env.number("IMS_QUOTA_STORED_GB", 2048, 0..=1 << 30)? << 30,
            objects: env.number("IMS_QUOTA_OBJECTS", 10_000, 0..=100_000_000)?,
            uploads: env.number("IMS_QUOTA_UPLOADS", 20, 0..=10_000)?,
            servers: env.number("IMS_QUOTA_SERVERS", 50, 0..=100_000)?,
            disks: env.number("IMS_QUOTA_DISKS", 200, 0..=1_000_000)?,
            queued_jobs: env.number("IMS_QUOTA_QUEUED_JOBS", 100, 1..=100_000)?,
        };
        let recycle = RecycleSettings {
            retention_ms: env.number("IMS_RECYCLE_RETENTION_SECONDS", 7 * 86_400, 1..=365 * 86_400)? * 1000,
            sweep_seconds: env.number("IMS_RECYCLE_SWEEP_SECONDS", 60, 1..=86_400)? as u64,
        };
        let master_key_file = env
            .non_empty("IMS_MASTER_KEY_FILE")
            .map(|path| PathBuf::from(path.trim()))
            .unwrap_or_else(|| data_dir.join("master.key"));
        let web = WebSettings { public_origin: public_origin(&env)?, trusted_proxies: trusted_proxies(&env)? };

        Ok(Config {
            site_addr,
            database_url,
            data_dir,
            demo_password,
            session_idle_minutes,
            storage,
            jobs,
            engine,
            web,
            quotas,
            recycle,
            master_key_file,
        })
    }

    /// Settings from `pairs` alone (tests and benchmarks).
    pub fn from_pairs(pairs: &[(&str, &str)]) -> Result<Self, ConfigError> {
        let map: std::collections::HashMap<String, String> =
            pairs.iter().map(|(key, value)| (key.to_string(), value.to_string())).collect();
        Self::from_lookup(|name| map.get(name).cloned())
    }
}

/// The environment, as `from_lookup` reads it.
struct Env<'a>(&'a dyn Fn(&str) -> Option<String>);

impl Env<'_> {
    /// The variable's value, when it is set to something other than blanks.
    fn non_empty(&self, name: &str) -> Option<String> {
        (self.0)(name).filter(|value| !value.trim().is_empty())
    }

    /// A whole number in `range`, or `default` when the variable is not set.
    fn number(
        &self,
        name: &'static str,
        default: i64,
        range: std::ops::RangeInclusive<i64>,
    ) -> Result<i64, ConfigError> {
        match self.non_empty(name) {
            None => Ok(default),
            Some(text) => text.trim().parse::<i64>().ok().filter(|value| range.contains(value)).ok_or_else(|| {
                invalid(name, format!("'{text}' is not a whole number from {} to {}", range.start(), range.end()))
            }),
        }
    }
}

fn public_origin(env: &Env) -> Result<Option<String>, ConfigError> {
    let Some(url) = env.non_empty("IMS_PUBLIC_URL") else { return Ok(None) };
    let url = url.trim().trim_end_matches('/').to_ascii_lowercase();
    let host = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://")).unwrap_or_default();
    let plain = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']');
    if host.is_empty() || !host.chars().all(plain) {
        return Err(invalid("IMS_PUBLIC_URL", format!("'{url}' is not a URL like https://console.example.com")));
    }
    Ok(Some(url))
}

fn trusted_proxies(env: &Env) -> Result<Vec<IpAddr>, ConfigError> {
    let Some(list) = env.non_empty("IMS_TRUSTED_PROXIES") else { return Ok(Vec::new()) };
    list.split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(|item| item.parse().map_err(|_| invalid("IMS_TRUSTED_PROXIES", format!("'{item}' is not an IP address"))))
        .collect()
}

/// The object store: a folder under the data directory, or an S3-compatible service.
fn storage_config(env: &Env, data_dir: &std::path::Path) -> Result<StorageConfig, ConfigError> {
    match env.non_empty("IMS_OBJECT_STORE").as_deref().map(str::trim) {
        None | Some("local") => Ok(StorageConfig::Local { root: data_dir.join("objects") }),
        Some("s3") => {
            let required = |name: &'static str| {
                env.non_empty(name).ok_or_else(|| invalid(name, "must be set when IMS_OBJECT_STORE=s3"))
            };
            let endpoint = required("IMS_S3_ENDPOINT")?;
            if !(endpoint.starts_with("http://") || endpoint.starts_with("https://")) {
                return Err(invalid("IMS_S3_ENDPOINT", format!("'{endpoint}' must start with http:// or https://")));
            }
            let regional = regional_buckets(env, &endpoint)?;
            Ok(StorageConfig::S3 {
                endpoint,
                regional,
                region: env.non_empty("IMS_S3_REGION").unwrap_or_else(|| "us-east-1".into()),
                bucket: required("IMS_S3_BUCKET")?,
                access_key_id: required("IMS_S3_ACCESS_KEY_ID")?,
                secret_access_key: required("IMS_S3_SECRET_ACCESS_KEY")?,
            })
        }
        Some(other) => Err(invalid("IMS_OBJECT_STORE", format!("'{other}' is not local or s3"))),
    }
}

/// Console regions with a bucket of their own: `IMS_S3_BUCKET_AP_SOUTHEAST_1`, and optionally
/// `IMS_S3_ENDPOINT_AP_SOUTHEAST_1` (else the main endpoint).
fn regional_buckets(env: &Env, main_endpoint: &str) -> Result<Vec<RegionalBucket>, ConfigError> {
    let mut regional = Vec::new();
    for region in crate::regions::REGIONS {
        let suffix = region.id.to_ascii_uppercase().replace('-', "_");
        let Some(bucket) = env.non_empty(&format!("IMS_S3_BUCKET_{suffix}")) else { continue };
        let endpoint_variable = format!("IMS_S3_ENDPOINT_{suffix}");
        let endpoint = env.non_empty(&endpoint_variable).unwrap_or_else(|| main_endpoint.to_string());
        if !(endpoint.starts_with("http://") || endpoint.starts_with("https://")) {
            return Err(invalid(
                "IMS_S3_ENDPOINT_<REGION>",
                format!("{endpoint_variable}: '{endpoint}' must start with http:// or https://"),
            ));
        }
        regional.push(RegionalBucket { region: region.id.to_string(), endpoint, bucket });
    }
    Ok(regional)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config_with(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        Config::from_pairs(pairs)
    }

    #[test]
    fn defaults_to_embedded_sqlite_under_the_data_dir() {
        let config = config_with(&[]).unwrap();
        assert_eq!(config.site_addr.to_string(), "127.0.0.1:3000");
        assert_eq!(config.database_url, "sqlite:data/ims.db?mode=rwc");
        assert!(config.demo_password.is_none());
    }

    #[test]
    fn bad_values_name_their_variable() {
        let error = config_with(&[("LEPTOS_SITE_ADDR", "localhost")]).unwrap_err();
        assert_eq!(error.variable, "LEPTOS_SITE_ADDR");
        let error = config_with(&[("DATABASE_URL", "mysql://x")]).unwrap_err();
        assert_eq!(error.variable, "DATABASE_URL");
        let error = config_with(&[("IMS_DEMO_PASSWORD", "short")]).unwrap_err();
        assert_eq!(error.variable, "IMS_DEMO_PASSWORD");
        let error = config_with(&[("IMS_SESSION_IDLE_MINUTES", "0")]).unwrap_err();
        assert_eq!(error.variable, "IMS_SESSION_IDLE_MINUTES");
        assert!(error.to_string().contains("IMS_SESSION_IDLE_MINUTES"));
    }

    #[test]
    fn web_settings() {
        let config = config_with(&[
            ("IMS_PUBLIC_URL", "HTTPS://Console.Example.com/"),
            ("IMS_TRUSTED_PROXIES", "10.0.0.1, ::1"),
        ])
        .unwrap();
        assert_eq!(config.web.public_origin.as_deref(), Some("https://console.example.com"));
        assert!(config.web.https());
        assert_eq!(config.web.trusted_proxies.len(), 2);
        assert!(!config_with(&[]).unwrap().web.https());
        for (variable, value) in [
            ("IMS_PUBLIC_URL", "console.example.com"),
            ("IMS_PUBLIC_URL", "https://a/b?c"),
            ("IMS_TRUSTED_PROXIES", "10.0.0.x"),
        ] {
            assert_eq!(config_with(&[(variable, value)]).unwrap_err().variable, variable, "{value}");
        }
    }

    #[test]
    fn object_store_and_job_settings() {
        let config = config_with(&[("IMS_DATA_DIR", "/srv/ims")]).unwrap();
        assert!(
            matches!(config.storage, StorageConfig::Local { ref root } if root == &PathBuf::from("/srv/ims/objects"))
        );
        assert_eq!((config.jobs.workers, config.jobs.lease_seconds, config.jobs.per_project), (3, 60, 2));
        assert_eq!(config.jobs.fair_share(), 2);
        let one_worker = JobSettings { workers: 1, lease_seconds: 60, per_project: 2 };
        assert_eq!(one_worker.fair_share(), 1);
        let two_workers = JobSettings { workers: 2, ..one_worker };
        assert_eq!(two_workers.fair_share(), 1, "a project never holds every worker");
        assert_eq!(config.engine.max_virtual_size, 1 << 40);
        let error = config_with(&[("IMS_OBJECT_STORE", "s3")]).unwrap_err();
        assert_eq!(error.variable, "IMS_S3_ENDPOINT");
        let error = config_with(&[("IMS_OBJECT_STORE", "ftp")]).unwrap_err();
        assert_eq!(error.variable, "IMS_OBJECT_STORE");
        let error = config_with(&[("IMS_JOB_WORKERS", "0")]).unwrap_err();
        assert_eq!(error.variable, "IMS_JOB_WORKERS");
        let config = config_with(&[
            ("IMS_OBJECT_STORE", "s3"),
            ("IMS_S3_ENDPOINT", "http://127.0.0.1:9000"),
            ("IMS_S3_BUCKET", "ims"),
            ("IMS_S3_ACCESS_KEY_ID", "key"),
            ("IMS_S3_SECRET_ACCESS_KEY", "secret"),
        ])
        .unwrap();
        assert!(
            matches!(config.storage, StorageConfig::S3 { ref region, ref regional, .. } if region == "us-east-1" && regional.is_empty())
        );
    }

    #[test]
    fn a_region_may_have_its_own_bucket_and_endpoint() {
        let s3 = [
            ("IMS_OBJECT_STORE", "s3"),
            ("IMS_S3_ENDPOINT", "http://127.0.0.1:9000"),
            ("IMS_S3_BUCKET", "ims"),
            ("IMS_S3_ACCESS_KEY_ID", "key"),
            ("IMS_S3_SECRET_ACCESS_KEY", "secret"),
            ("IMS_S3_BUCKET_AP_SOUTHEAST_1", "ims-hk"),
            ("IMS_S3_ENDPOINT_AP_SOUTHEAST_1", "https://s3.hk.example"),
            ("IMS_S3_BUCKET_CN_NORTH_4", "ims-bj"),
        ];
        let StorageConfig::S3 { regional, .. } = config_with(&s3).unwrap().storage else { panic!("S3 mode") };
        let expected = |region: &str, endpoint: &str, bucket: &str| RegionalBucket {
            region: region.into(),
            endpoint: endpoint.into(),
            bucket: bucket.into(),
        };
        assert_eq!(
            regional,
            [
                expected("cn-north-4", "http://127.0.0.1:9000", "ims-bj"),
                expected("ap-southeast-1", "https://s3.hk.example", "ims-hk")
            ]
        );
        let mut bad = s3.to_vec();
        bad[6] = ("IMS_S3_ENDPOINT_AP_SOUTHEAST_1", "s3.hk.example");
        let error = config_with(&bad).unwrap_err();
        assert!(error.message.starts_with("IMS_S3_ENDPOINT_AP_SOUTHEAST_1: 's3.hk.example'"), "{}", error.message);
    }

    #[test]
    fn recycle_bin_settings() {
        let config = config_with(&[]).unwrap();
        assert_eq!((config.recycle.retention_ms, config.recycle.sweep_seconds), (7 * 86_400_000, 60));
        let config =
            config_with(&[("IMS_RECYCLE_RETENTION_SECONDS", "3"), ("IMS_RECYCLE_SWEEP_SECONDS", "1")]).unwrap();
        assert_eq!((config.recycle.retention_ms, config.recycle.sweep_seconds), (3000, 1));
        let error = config_with(&[("IMS_RECYCLE_RETENTION_SECONDS", "0")]).unwrap_err();
        assert_eq!(error.variable, "IMS_RECYCLE_RETENTION_SECONDS");
    }

    #[test]
    fn accepts_postgres_urls() {
        let config = config_with(&[("DATABASE_URL", "postgres://127.0.0.1/test")]).unwrap();
        assert_eq!(config.database_url, "postgres://127.0.0.1/test");
    }
}
