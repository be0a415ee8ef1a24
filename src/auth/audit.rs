//! The operation log (like a cloud trace service): every state-changing operation, from the
//! console or an API, with who, when, where, on what, and how it ended. The gate records each
//! server function that changes something; rows are only ever inserted. The account admin reads
//! them on the Operation Log page.

use crate::error::AppError;
use crate::format::{day_range, page_number};
use serde::{Deserialize, Serialize};

/// What an operation acts on, named before it runs (`resource_id` may stay empty for what it
/// creates: the id it returns is recorded then).
#[derive(Clone, Debug)]
pub struct Audit {
    pub operation: &'static str,
    pub resource_type: &'static str,
    pub resource_id: String,
}

impl Audit {
    pub fn new(operation: &'static str, resource_type: &'static str, resource_id: impl Into<String>) -> Audit {
        Audit { operation, resource_type, resource_id: resource_id.into() }
    }
}

/// One recorded operation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct OperationRecord {
    pub id: String,
    pub created_at: i64,
    pub user_name: String,
    pub region: String,
    pub source: String,
    pub operation: String,
    pub resource_type: String,
    pub resource_id: String,
    pub result: String,
    pub reason: String,
}

pub const PAGE_SIZE: u32 = 20;

/// The Operation Log page's filters, as the URL carries them.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct OperationQuery {
    pub from: String,
    pub to: String,
    pub user: String,
    pub resource: String,
    pub operation: String,
    pub page: String,
}

/// The filters, checked.
#[derive(Clone, Debug, PartialEq)]
pub struct ValidOperationQuery {
    pub from_ms: Option<i64>,
    /// Exclusive: the start of the day after `to`.
    pub until_ms: Option<i64>,
    pub user: Option<String>,
    pub resource: Option<String>,
    pub operation: Option<String>,
    pub page: u32,
}

fn non_empty(text: &str) -> Option<String> {
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_string())
}

impl OperationQuery {
    pub fn validate(&self) -> Result<ValidOperationQuery, AppError> {
        let (from_ms, until_ms) = day_range(&self.from, &self.to).map_err(AppError::Invalid)?;
        let resource = non_empty(&self.resource);
        if resource.as_ref().is_some_and(|text| text.chars().count() > 128) {
            return Err(AppError::Invalid("The resource filter can be at most 128 characters long.".into()));
        }
        let page = page_number(&self.page).map_err(AppError::Invalid)?;
        Ok(ValidOperationQuery {
            from_ms,
            until_ms,
            user: non_empty(&self.user),
            resource,
            operation: non_empty(&self.operation),
            page,
        })
    }

    /// The link to this view at `page`.
    pub fn href(&self, page: u32) -> String {
        let pairs: Vec<String> = [
            ("from", &self.from),
            ("to", &self.to),
            ("user", &self.user),
            ("resource", &self.resource),
            ("operation", &self.operation),
        ]
        .iter()
        .filter(|(_, value)| !value.is_empty())
        .map(|(key, value)| format!("{key}={}", crate::format::url_encode(value)))
        .chain((page > 1).then(|| format!("page={page}")))
        .collect();
        if pairs.is_empty() {
            "/operation-log".to_string()
        } else {
            format!("/operation-log?{}", pairs.join("&"))
        }
    }
}

/// One page of the log, newest first, with the users and operations the filters offer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OperationPage {
    pub records: Vec<OperationRecord>,
    pub total: i64,
    pub page: u32,
    pub page_size: u32,
    pub users: Vec<String>,
    pub operations: Vec<String>,
}

#[cfg(feature = "ssr")]
pub use store::*;

#[cfg(feature = "ssr")]
mod store {
    use super::{Audit, OperationPage, OperationRecord, ValidOperationQuery, PAGE_SIZE};
    use crate::caller::Caller;
    use crate::db::{like_escape, new_hex_id, now_ms, Db};
    use crate::error::AppError;

    /// Where an operation came from.
    #[derive(Clone, Copy, Debug)]
    pub enum Source {
        Console,
        Api,
    }

    /// Records one operation; `outcome` is its result, with the reason the user was told when it
    /// failed. A failure to record is logged, never the operation's failure.
    pub async fn record(db: &Db, caller: &Caller, source: Source, audit: &Audit, outcome: Result<(), &AppError>) {
        let (result, reason) = match outcome {
            Ok(()) => ("success", String::new()),
            Err(error) => ("failure", error.to_string()),
        };
        let inserted = sqlx::query(
            "INSERT INTO operation_log (id, account_id, project_id, region, user_name, source, operation, \
             resource_type, resource_id, result, reason, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(new_hex_id())
        .bind(&caller.account_id)
        .bind(&caller.project_id)
        .bind(&caller.region)
        .bind(&caller.user_name)
        .bind(match source {
            Source::Console => "console",
            Source::Api => "api",
        })
        .bind(audit.operation)
        .bind(audit.resource_type)
        .bind(audit.resource_id.chars().take(2000).collect::<String>())
        .bind(result)
        .bind(reason)
        .bind(now_ms())
        .execute(db)
        .await;
        if let Err(error) = inserted {
            tracing::error!(%error, operation = audit.operation, "recording an operation in the log failed");
        }
    }

    /// One page of the caller's account's log, newest first.
    pub async fn list(db: &Db, caller: &Caller, query: &ValidOperationQuery) -> Result<OperationPage, AppError> {
        let mut clauses = vec!["account_id = $1".to_string()];
        let mut texts: Vec<String> = vec![caller.account_id.clone()];
        let mut numbers: Vec<(usize, i64)> = Vec::new();
        let mut position = 1;
        let mut text_clause = |clauses: &mut Vec<String>, texts: &mut Vec<String>, sql: &str, value: String| {
            position += 1;
            clauses.push(sql.replace('?', &format!("${position}")));
            texts.push(value);
        };
        if let Some(user) = &query.user {
            text_clause(&mut clauses, &mut texts, "user_name = ?", user.clone());
        }
        if let Some(operation) = &query.operation {
            text_clause(&mut clauses, &mut texts, "operation = ?", operation.clone());
        }
        if let Some(resource) = &query.resource {
            let pattern = format!("%{}%", like_escape(resource));
            text_clause(&mut clauses, &mut texts, "resource_id LIKE ? ESCAPE '\\'", pattern);
        }
        for (bound, sql) in [(query.from_ms, "created_at >= ?"), (query.until_ms, "created_at < ?")] {
            if let Some(ms) = bound {
                position += 1;
                clauses.push(sql.replace('?', &format!("${position}")));
                numbers.push((position, ms));
            }
        }
        let where_sql = clauses.join(" AND ");
        // Text arguments come first ($1..), then the times, in the order they were numbered.
        macro_rules! bind_filters {
            ($query:expr) => {{
                let mut query = $query;
                for text in &texts {
                    query = query.bind(text.clone());
                }
                for (_, ms) in &numbers {
                    query = query.bind(*ms);
                }
                query
            }};
        }
        let count_sql = format!("SELECT COUNT(*) FROM operation_log WHERE {where_sql}");
        let total: i64 = bind_filters!(sqlx::query_scalar(&count_sql)).fetch_one(db).await?;
        let offset = (query.page as i64 - 1) * PAGE_SIZE as i64;
        let page_sql = format!(
            "SELECT id, created_at, user_name, region, source, operation, resource_type, resource_id, result, reason \
             FROM operation_log WHERE {where_sql} ORDER BY created_at DESC, id DESC LIMIT {PAGE_SIZE} OFFSET {offset}"
        );
        let records: Vec<OperationRecord> = bind_filters!(sqlx::query_as(&page_sql)).fetch_all(db).await?;
        let users: Vec<String> = sqlx::query_scalar("SELECT name FROM users WHERE account_id = $1 ORDER BY name")
            .bind(&caller.account_id)
            .fetch_all(db)
            .await?;
        let operations: Vec<String> =
            sqlx::query_scalar("SELECT DISTINCT operation FROM operation_log WHERE account_id = $1 ORDER BY operation")
                .bind(&caller.account_id)
                .fetch_all(db)
                .await?;
        Ok(OperationPage { records, total, page: query.page, page_size: PAGE_SIZE, users, operations })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_are_checked_and_kept_in_links() {
        let query = OperationQuery { user: "alice".into(), from: "2026-12-01".into(), ..Default::default() };
        let valid = query.validate().unwrap();
        assert_eq!(valid.user.as_deref(), Some("alice"));
        assert_eq!(valid.page, 1);
        assert_eq!(query.href(2), "/operation-log?from=2026-12-01&user=alice&page=2");
        let bad = OperationQuery { to: "soon".into(), ..Default::default() };
        assert!(bad.validate().unwrap_err().to_string().contains("not a date"));
        let reversed = OperationQuery { from: "2026-12-02".into(), to: "2026-12-01".into(), ..Default::default() };
        assert!(reversed.validate().is_err());
    }
}
