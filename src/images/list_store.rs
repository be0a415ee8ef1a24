//! The image list's queries: one page of a tab with its filters and sort (the console's list),
//! and the same rows in batches for Export List. Both build one WHERE clause from the tab and
//! the filters, so the file has exactly the rows the list shows.

use super::model::{ImagePage, ImageStatus, ImageSummary};
use super::query::{ImageTab, SortKey, ValidQuery};
use crate::caller::Caller;
use crate::db::{like_escape, now_ms, Db};
use crate::error::AppError;
use crate::sharing::model::MemberStatus;

/// A bind value for SQL built at run time.
#[derive(Clone)]
pub(super) enum Arg {
    Text(String),
    Int(i64),
}

/// A WHERE clause and its arguments, numbered `$1`, `$2`, ... in order.
#[derive(Clone, Default)]
pub(super) struct Filter {
    pub(super) clauses: Vec<String>,
    pub(super) args: Vec<Arg>,
}

impl Filter {
    /// Adds `clause`, in which `?` stands for the new argument.
    pub(super) fn push(&mut self, clause: &str, arg: Arg) {
        self.args.push(arg);
        self.clauses.push(clause.replace('?', &format!("${}", self.args.len())));
    }

    pub(super) fn push_plain(&mut self, clause: &str) {
        self.clauses.push(clause.to_string());
    }

    pub(super) fn sql(&self) -> String {
        self.clauses.join(" AND ")
    }
}

/// Binds every argument in order (works for `query_as` and `query_scalar` alike).
macro_rules! bind_all {
    ($query:expr, $args:expr) => {{
        let mut query = $query;
        for arg in $args {
            query = match arg {
                Arg::Text(text) => query.bind(text.clone()),
                Arg::Int(number) => query.bind(*number),
            };
        }
        query
    }};
}
pub(super) use bind_all;

/// Which images of the tab the caller may see.
fn tab_scope(filter: &mut Filter, tab: ImageTab, member_status: MemberStatus, user: &Caller) {
    filter.push_plain("i.deleted_at IS NULL");
    match tab {
        ImageTab::Public => {
            filter.push_plain("i.imagetype = 'gold'");
            filter.push("i.region = ?", Arg::Text(user.region.clone()));
        }
        ImageTab::Private => {
            // A project owns only private images (public ones belong to the platform).
            filter.push("i.owner = ?", Arg::Text(user.project_id.clone()));
        }
        ImageTab::Shared => {
            filter.push_plain("i.imagetype = 'private'");
            filter.push("i.region = ?", Arg::Text(user.region.clone()));
            filter.args.push(Arg::Text(user.project_id.clone()));
            filter.args.push(Arg::Text(member_status.as_str().to_string()));
            filter.args.push(Arg::Int(now_ms()));
            let n = filter.args.len();
            filter.push_plain(&format!(
                "EXISTS (SELECT 1 FROM image_members m WHERE m.image_id = i.id AND m.member_id = ${} AND m.status = ${} \
                 AND (m.expires_at IS NULL OR m.expires_at > ${n}))",
                n - 2,
                n - 1
            ));
        }
        ImageTab::Market => {
            filter.push(
                "EXISTS (SELECT 1 FROM market_offerings o WHERE o.image_id = i.id AND o.region = ?)",
                Arg::Text(user.region.clone()),
            );
        }
    }
}

fn user_filters(filter: &mut Filter, query: &ValidQuery, user: &Caller) {
    if !query.show_deprecated {
        filter.push("(i.deprecated_at IS NULL OR i.deprecated_at > ?)", Arg::Int(now_ms()));
    }
    if query.frequently_used {
        filter.push(
            "EXISTS (SELECT 1 FROM favorite_images f WHERE f.image_id = i.id AND f.user_id = ?)",
            Arg::Text(user.user_id.clone()),
        );
    }
    if let Some(name) = &query.name {
        filter.push("LOWER(i.name) LIKE ? ESCAPE '\\'", Arg::Text(format!("%{}%", like_escape(&name.to_lowercase()))));
    }
    for (column, value) in [
        ("i.os_type", &query.os_type),
        ("i.platform", &query.platform),
        ("i.image_kind", &query.kind),
        ("i.status", &query.status.map(|status| status.as_str().to_string())),
    ] {
        if let Some(value) = value {
            filter.push(&format!("{column} = ?"), Arg::Text(value.clone()));
        }
    }
    if let Some(key) = &query.tag_key {
        match &query.tag_value {
            Some(value) => {
                filter.args.push(Arg::Text(key.clone()));
                filter.args.push(Arg::Text(value.clone()));
                let (k, v) = (filter.args.len() - 1, filter.args.len());
                filter.push_plain(&format!(
                    "EXISTS (SELECT 1 FROM image_tags t WHERE t.image_id = i.id AND t.tag_key = ${k} AND t.tag_value = ${v})"
                ));
            }
            None => filter.push(
                "EXISTS (SELECT 1 FROM image_tags t WHERE t.image_id = i.id AND t.tag_key = ?)",
                Arg::Text(key.clone()),
            ),
        }
    }
    if let Some(from) = query.created_from_ms {
        filter.push("i.created_at >= ?", Arg::Int(from));
    }
    if let Some(until) = query.created_until_ms {
        filter.push("i.created_at < ?", Arg::Int(until));
    }
}

#[derive(sqlx::FromRow)]
struct SummaryRow {
    id: String,
    name: String,
    status: ImageStatus,
    status_reason: String,
    os_type: String,
    os_version: String,
    platform: String,
    image_kind: String,
    disk_format: String,
    image_size: i64,
    min_disk: i64,
    min_ram: i64,
    architecture: String,
    hw_firmware_type: String,
    created_at: i64,
    cmk_id: String,
    protected: i64,
    owner: String,
    progress: Option<f64>,
    servers_created: i64,
    has_file: i64,
    owner_account: Option<String>,
    publisher: Option<String>,
    price_cents: Option<i64>,
    share_expires_at: Option<i64>,
    deprecated_at: Option<i64>,
    favorite: i64,
}

impl SummaryRow {
    fn into_summary(self, project_id: &str, now: i64) -> ImageSummary {
        ImageSummary {
            owned: self.owner == project_id,
            id: self.id,
            name: self.name,
            status: self.status,
            status_reason: self.status_reason,
            os_type: self.os_type,
            os_version: self.os_version,
            platform: self.platform,
            kind: self.image_kind,
            disk_format: self.disk_format,
            image_size: self.image_size,
            min_disk: self.min_disk,
            min_ram: self.min_ram,
            architecture: self.architecture,
            hw_firmware_type: self.hw_firmware_type,
            created_at: self.created_at,
            encrypted: !self.cmk_id.is_empty(),
            protected: self.protected != 0,
            progress: self.progress,
            servers_created: self.servers_created,
            has_file: self.has_file != 0,
            owner_account: self.owner_account.unwrap_or_default(),
            publisher: self.publisher,
            price_cents: self.price_cents,
            share_expires_at: self.share_expires_at,
            deprecated: self.deprecated_at.is_some_and(|at| at <= now),
            favorite: self.favorite != 0,
        }
    }
}

const SUMMARY_COLUMNS: &str = "i.id, i.name, i.status, i.status_reason, i.os_type, i.os_version, i.platform, \
    i.image_kind, i.disk_format, i.image_size, i.min_disk, i.min_ram, i.architecture, i.hw_firmware_type, \
    i.created_at, i.cmk_id, i.protected, i.owner, i.servers_created, i.deprecated_at, \
    CAST(CASE WHEN i.file_location = '' THEN 0 ELSE 1 END AS BIGINT) AS has_file, \
    (SELECT MAX(j.percent) FROM jobs j WHERE j.image_id = i.id AND j.status IN ('INIT', 'RUNNING')) AS progress, \
    (SELECT a.name FROM projects p JOIN accounts a ON a.id = p.account_id WHERE p.id = i.owner) AS owner_account, \
    (SELECT o.publisher FROM market_offerings o WHERE o.image_id = i.id) AS publisher, \
    (SELECT o.price_cents FROM market_offerings o WHERE o.image_id = i.id) AS price_cents";

pub async fn list_images(db: &Db, user: &Caller, query: &ValidQuery) -> Result<ImagePage, AppError> {
    let mut filter = Filter::default();
    tab_scope(&mut filter, query.tab, query.member_status, user);
    user_filters(&mut filter, query, user);
    let where_sql = filter.sql();

    let count_sql = format!("SELECT COUNT(*) FROM images i WHERE {where_sql}");
    let total: i64 = bind_all!(sqlx::query_scalar(&count_sql), &filter.args).fetch_one(db).await?;

    let sort_column = match query.sort {
        SortKey::Created => "i.created_at",
        SortKey::Name => "i.name",
        SortKey::Size => "i.image_size",
    };
    let direction = if query.descending { "DESC" } else { "ASC" };
    let offset = (query.page as i64 - 1) * query.page_size as i64;
    // Page through ids alone first (the sort indexes cover them), then fetch just that page's
    // rows: deep pages skip index entries instead of whole rows.
    let order = format!("{sort_column} {direction}, i.id {direction}");
    // The caller's own share of each image (its expiry), as one more argument after those of
    // the filter (the count above has run with exactly the filter's).
    filter.args.push(Arg::Text(user.project_id.clone()));
    let member = filter.args.len();
    filter.args.push(Arg::Text(user.user_id.clone()));
    let starrer = filter.args.len();
    let list_sql = format!(
        "SELECT {SUMMARY_COLUMNS}, \
         (SELECT m.expires_at FROM image_members m WHERE m.image_id = i.id AND m.member_id = ${member}) AS share_expires_at, \
         (SELECT COUNT(*) FROM favorite_images f WHERE f.image_id = i.id AND f.user_id = ${starrer}) AS favorite \
         FROM images i JOIN \
         (SELECT i.id FROM images i WHERE {where_sql} ORDER BY {order} LIMIT {} OFFSET {offset}) page ON page.id = i.id \
         ORDER BY {order}",
        query.page_size
    );
    let rows: Vec<SummaryRow> = bind_all!(sqlx::query_as(&list_sql), &filter.args).fetch_all(db).await?;
    Ok(ImagePage {
        images: rows.into_iter().map(|row| row.into_summary(&user.project_id, now_ms())).collect(),
        total,
        page: query.page,
        page_size: query.page_size,
    })
}

/// One image of Export List, with what the file shows of it.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ExportRow {
    pub id: String,
    pub name: String,
    pub status: ImageStatus,
    pub os_version: String,
    pub image_kind: String,
    pub disk_format: String,
    pub image_size: i64,
    pub min_disk: i64,
    pub created_at: i64,
    pub cmk_id: String,
    #[sqlx(skip)]
    pub tags: Vec<(String, String)>,
}

/// The next `limit` rows of the list after `after` (the last row of the previous batch), in
/// the list's order. Each batch seeks past the previous one through the sort index, so a large
/// export never re-reads what it has sent, and rows added meanwhile never repeat one.
pub async fn export_batch(
    db: &Db,
    user: &Caller,
    query: &ValidQuery,
    after: Option<&ExportRow>,
    limit: i64,
) -> Result<Vec<ExportRow>, sqlx::Error> {
    let mut filter = Filter::default();
    tab_scope(&mut filter, query.tab, query.member_status, user);
    user_filters(&mut filter, query, user);
    let sort_column = match query.sort {
        SortKey::Created => "i.created_at",
        SortKey::Name => "i.name",
        SortKey::Size => "i.image_size",
    };
    let (direction, beyond) = if query.descending { ("DESC", "<") } else { ("ASC", ">") };
    if let Some(last) = after {
        filter.args.push(match query.sort {
            SortKey::Created => Arg::Int(last.created_at),
            SortKey::Name => Arg::Text(last.name.clone()),
            SortKey::Size => Arg::Int(last.image_size),
        });
        filter.args.push(Arg::Text(last.id.clone()));
        let (value, id) = (filter.args.len() - 1, filter.args.len());
        // A row-value comparison: both databases seek it through the sort index.
        filter.push_plain(&format!("({sort_column}, i.id) {beyond} (${value}, ${id})"));
    }
    let sql = format!(
        "SELECT i.id, i.name, i.status, i.os_version, i.image_kind, i.disk_format, i.image_size, i.min_disk, \
         i.created_at, i.cmk_id FROM images i WHERE {} ORDER BY {sort_column} {direction}, i.id {direction} LIMIT {limit}",
        filter.sql()
    );
    let mut rows: Vec<ExportRow> = bind_all!(sqlx::query_as(&sql), &filter.args).fetch_all(db).await?;
    if rows.is_empty() {
        return Ok(rows);
    }
    let placeholders: Vec<String> = (1..=rows.len()).map(|n| format!("${n}")).collect();
    let tags_sql = format!(
        "SELECT image_id, tag_key, tag_value FROM image_tags WHERE image_id IN ({}) ORDER BY image_id, tag_key",
        placeholders.join(", ")
    );
    let mut tags_query = sqlx::query_as::<_, (String, String, String)>(&tags_sql);
    for row in &rows {
        tags_query = tags_query.bind(row.id.clone());
    }
    let position: std::collections::HashMap<String, usize> =
        rows.iter().enumerate().map(|(index, row)| (row.id.clone(), index)).collect();
    for (image_id, key, value) in tags_query.fetch_all(db).await? {
        if let Some(index) = position.get(&image_id) {
            rows[*index].tags.push((key, value));
        }
    }
    Ok(rows)
}
