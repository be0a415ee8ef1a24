//! Database access: one `sqlx::AnyPool` over SQLite (embedded default) or PostgreSQL
//! (scale-out). Queries use `$n` placeholders, which both backends accept, and portable SQL.

use sqlx::any::AnyPoolOptions;
use sqlx::{AnyPool, Executor};
use std::path::Path;
use std::time::Duration;

pub type Db = AnyPool;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn from_url(url: &str) -> Backend {
        if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else {
            Backend::Postgres
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DbSetupError {
    #[error("cannot create the folder for the SQLite file {path}: {source}")]
    Folder { path: String, source: std::io::Error },
    #[error("cannot connect to the database given by DATABASE_URL: {0}")]
    Connect(sqlx::Error),
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

/// Opens the pool and brings the schema up to date.
pub async fn connect_and_migrate(url: &str) -> Result<Db, DbSetupError> {
    sqlx::any::install_default_drivers();
    let backend = Backend::from_url(url);
    if backend == Backend::Sqlite {
        create_sqlite_folder(url)?;
    }
    let options = AnyPoolOptions::new()
        .max_connections(if backend == Backend::Sqlite { 8 } else { 16 })
        .acquire_timeout(Duration::from_secs(10));
    let options = if backend == Backend::Sqlite {
        // WAL lets page reads go on while a writer works; foreign keys are off by default in SQLite.
        options.after_connect(|connection, _| {
            Box::pin(async move {
                connection.execute("PRAGMA journal_mode = WAL").await?;
                connection.execute("PRAGMA foreign_keys = ON").await?;
                connection.execute("PRAGMA busy_timeout = 10000").await?;
                connection.execute("PRAGMA synchronous = NORMAL").await?;
                Ok(())
            })
        })
    } else {
        options
    };
    let pool = options.connect(url).await.map_err(DbSetupError::Connect)?;
    sqlx::migrate!("./migrations").run(&pool).await?;
    Ok(pool)
}

fn create_sqlite_folder(url: &str) -> Result<(), DbSetupError> {
    let path = url.trim_start_matches("sqlite://").trim_start_matches("sqlite:");
    let path = path.split('?').next().unwrap_or_default();
    if path.is_empty() || path == ":memory:" {
        return Ok(());
    }
    if let Some(parent) = Path::new(path).parent().filter(|parent| !parent.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|source| DbSetupError::Folder { path: path.to_string(), source })?;
    }
    Ok(())
}

/// Current time as unix milliseconds, the unit of every timestamp column.
pub fn now_ms() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

/// A fresh 32-hex-character id, the shape IMS uses for projects and jobs.
pub fn new_hex_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// Escapes `%`, `_` and `\` for a `LIKE ... ESCAPE '\'` pattern.
pub fn like_escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        if matches!(character, '%' | '_' | '\\') {
            escaped.push('\\');
        }
        escaped.push(character);
    }
    escaped
}

/// Stores a status enum in a TEXT column as its `as_str()` and reads it back with `parse`, so
/// rows and bound values carry the enum instead of a string. The enum's CHECK constraint in
/// the schema lists the same values.
macro_rules! text_column {
    ($type:ty) => {
        impl sqlx::Type<sqlx::Any> for $type {
            fn type_info() -> sqlx::any::AnyTypeInfo {
                <String as sqlx::Type<sqlx::Any>>::type_info()
            }

            fn compatible(ty: &sqlx::any::AnyTypeInfo) -> bool {
                <String as sqlx::Type<sqlx::Any>>::compatible(ty)
            }
        }

        impl<'q> sqlx::Encode<'q, sqlx::Any> for $type {
            fn encode_by_ref(
                &self,
                buf: &mut <sqlx::Any as sqlx::Database>::ArgumentBuffer<'q>,
            ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
                let text: &'q str = self.as_str();
                <&'q str as sqlx::Encode<'q, sqlx::Any>>::encode(text, buf)
            }
        }

        impl<'r> sqlx::Decode<'r, sqlx::Any> for $type {
            fn decode(value: <sqlx::Any as sqlx::Database>::ValueRef<'r>) -> Result<Self, sqlx::error::BoxDynError> {
                let text = <String as sqlx::Decode<'r, sqlx::Any>>::decode(value)?;
                <$type>::parse(&text).ok_or_else(|| format!("'{text}' is not a valid {}", stringify!($type)).into())
            }
        }
    };
}
pub(crate) use text_column;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_like_wildcards() {
        assert_eq!(like_escape("50%_off\\"), "50\\%\\_off\\\\");
        assert_eq!(like_escape("ubuntu"), "ubuntu");
    }

    #[test]
    fn tells_backends_apart() {
        assert_eq!(Backend::from_url("sqlite:data/ims.db"), Backend::Sqlite);
        assert_eq!(Backend::from_url("postgres://127.0.0.1/test"), Backend::Postgres);
    }
}
