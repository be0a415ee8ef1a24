//! Settings from environment variables (documented in README.md and .env.example).
//! A bad value stops start-up with a message that names the variable.

use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Clone, Debug)]
pub struct Config {
    pub site_addr: SocketAddr,
    pub database_url: String,
    pub data_dir: PathBuf,
    pub demo_password: Option<String>,
    /// Idle time after which a console session ends.
    pub session_idle_minutes: i64,
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
        let non_empty = |name: &str| lookup(name).filter(|value| !value.trim().is_empty());

        let site_addr_text = non_empty("LEPTOS_SITE_ADDR").unwrap_or_else(|| "127.0.0.1:3000".into());
        let site_addr = site_addr_text.trim().parse::<SocketAddr>().map_err(|_| {
            invalid("LEPTOS_SITE_ADDR", format!("'{site_addr_text}' is not an address like 127.0.0.1:3000"))
        })?;

        let data_dir = PathBuf::from(non_empty("IMS_DATA_DIR").unwrap_or_else(|| "data".into()));
        if data_dir.exists() && !data_dir.is_dir() {
            return Err(invalid("IMS_DATA_DIR", format!("'{}' exists and is not a directory", data_dir.display())));
        }

        let database_url = match non_empty("DATABASE_URL") {
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

        let session_idle_minutes = match non_empty("IMS_SESSION_IDLE_MINUTES") {
            Some(text) => text
                .trim()
                .parse::<i64>()
                .ok()
                .filter(|minutes| (1..=24 * 60).contains(minutes))
                .ok_or_else(|| invalid("IMS_SESSION_IDLE_MINUTES", format!("'{text}' is not a number of minutes from 1 to 1440")))?,
            None => 60,
        };

        Ok(Config { site_addr, database_url, data_dir, demo_password, session_idle_minutes })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config_with(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let env: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::from_lookup(|name| env.get(name).cloned())
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
    fn accepts_postgres_urls() {
        let config = config_with(&[("DATABASE_URL", "postgres://127.0.0.1/test")]).unwrap();
        assert_eq!(config.database_url, "postgres://127.0.0.1/test");
    }
}
