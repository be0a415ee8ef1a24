//! The image lists of the HTTP APIs (IMS `GET /v2/cloudimages`, Glance `GET /v2/images`):
//! their filters, sort and `marker`/`limit` paging. A page seeks past the marker with a
//! row-value comparison through the same indexes as the console's list, and reads that page's
//! rows whole with their tags in the same query (`store::page_details`).

use super::list_store::{bind_all, Arg, Filter};
use super::model::{ImageDetail, ImageStatus};
use super::store;
use crate::caller::Caller;
use crate::compute::flavors::{find_flavor, Flavor};
use crate::db::{like_escape, now_ms, Db};
use crate::error::AppError;

/// Which images a list covers: IMS's `__imagetype` (or Glance's `visibility`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ApiScope {
    /// Everything the caller may see: public, own, accepted shares, KooGallery.
    All,
    Gold,
    Private,
    Shared,
    Market,
}

#[derive(Clone, Debug, PartialEq)]
pub enum TimeOp {
    Gt,
    Gte,
    Lt,
    Lte,
    Eq,
    Neq,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ApiListQuery {
    pub scope: ApiScope,
    /// Exact-match filters on image columns: (column, value).
    pub equals: Vec<(&'static str, String)>,
    /// Substring of the name (Glance `name` is exact; IMS `name` too: both exact here).
    pub name: Option<String>,
    pub min_disk: Option<i64>,
    pub min_ram: Option<i64>,
    pub protected: Option<bool>,
    /// IMS `__support_*` flags that must be on.
    pub support_flags: Vec<String>,
    /// Every tag must match: `key` (any value) or `key.value`/`key=value`.
    pub tags: Vec<(String, Option<String>)>,
    pub created_at: Option<(TimeOp, i64)>,
    pub updated_at: Option<(TimeOp, i64)>,
    /// Shared images: this answer (default accepted).
    pub member_status: Option<String>,
    /// Public images an ECS of this flavor can boot (IMS `flavor_id`).
    pub flavor_id: Option<String>,
    pub sort_column: &'static str,
    pub descending: bool,
    pub limit: i64,
    pub marker: Option<String>,
}

pub const MAX_LIMIT: i64 = 1000;

fn bad(message: String) -> AppError {
    AppError::Invalid(message)
}

fn parse_bool(key: &str, value: &str) -> Result<bool, AppError> {
    match value.to_ascii_lowercase().as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(bad(format!("'{value}' is not a valid {key}: use true or false."))),
    }
}

fn parse_number(key: &str, value: &str, range: std::ops::RangeInclusive<i64>) -> Result<i64, AppError> {
    value.trim().parse::<i64>().ok().filter(|number| range.contains(number)).ok_or_else(|| {
        bad(format!("'{value}' is not a valid {key}: use a whole number from {} to {}.", range.start(), range.end()))
    })
}

/// `op:time`, with op gt/gte/lt/lte/eq/neq and time `yyyy-MM-ddThh:mm:ssZ` or `yyyy-MM-dd hh:mm:ss`.
pub fn parse_time_filter(key: &str, value: &str) -> Result<(TimeOp, i64), AppError> {
    let wrong = || {
        bad(format!(
            "'{value}' is not a valid {key}: use op:time, op one of gt, gte, lt, lte, eq, neq, and time like 2024-01-01T00:00:00Z."
        ))
    };
    let (op, time) = value.split_once(':').ok_or_else(wrong)?;
    let op = match op {
        "gt" => TimeOp::Gt,
        "gte" => TimeOp::Gte,
        "lt" => TimeOp::Lt,
        "lte" => TimeOp::Lte,
        "eq" => TimeOp::Eq,
        "neq" => TimeOp::Neq,
        _ => return Err(wrong()),
    };
    let iso = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    let spaced = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    let at = time::PrimitiveDateTime::parse(time.trim(), &iso)
        .or_else(|_| time::PrimitiveDateTime::parse(time.trim(), &spaced))
        .map_err(|_| wrong())?;
    Ok((op, at.assume_utc().unix_timestamp() * 1000))
}

impl ApiListQuery {
    /// Reads the query parameters (decoded pairs). `default_limit` is the API's page size;
    /// `strict` refuses parameters this list does not know (IMS), Glance ignores them (it treats
    /// unknown keys as custom-property filters, which this console does not store).
    pub fn from_pairs(pairs: &[(String, String)], default_limit: i64) -> Result<ApiListQuery, AppError> {
        let mut query = ApiListQuery {
            scope: ApiScope::All,
            equals: Vec::new(),
            name: None,
            min_disk: None,
            min_ram: None,
            protected: None,
            support_flags: Vec::new(),
            tags: Vec::new(),
            created_at: None,
            updated_at: None,
            member_status: None,
            flavor_id: None,
            sort_column: "i.created_at",
            descending: true,
            limit: default_limit,
            marker: None,
        };
        for (key, value) in pairs {
            let value = value.trim();
            if value.is_empty() {
                continue;
            }
            match key.as_str() {
                "__imagetype" | "visibility" => {
                    query.scope = match value {
                        "gold" | "public" => ApiScope::Gold,
                        "private" => ApiScope::Private,
                        "shared" => ApiScope::Shared,
                        "market" => ApiScope::Market,
                        "all" => ApiScope::All,
                        _ => {
                            return Err(bad(format!(
                                "'{value}' is not a valid {key}: use gold, private, shared or market (public, private or shared for visibility)."
                            )))
                        }
                    }
                }
                "name" => query.name = Some(value.to_string()),
                "id" => query.equals.push(("i.id", value.to_string())),
                "status" => {
                    let status = ImageStatus::parse(value).ok_or_else(|| {
                        bad(format!("'{value}' is not a valid status: use queued, saving, active, killed or deleted."))
                    })?;
                    query.equals.push(("i.status", status.as_str().to_string()));
                }
                "__os_type" => query.equals.push(("i.os_type", value.to_string())),
                "__platform" => query.equals.push(("i.platform", value.to_string())),
                "__os_bit" => query.equals.push(("i.os_bit", value.to_string())),
                "disk_format" => query.equals.push(("i.disk_format", value.to_string())),
                "container_format" => query.equals.push(("i.container_format", value.to_string())),
                "owner" => query.equals.push(("i.owner", value.to_string())),
                "virtual_env_type" => query.equals.push(("i.virtual_env_type", value.to_string())),
                "architecture" => query.equals.push(("i.architecture", value.to_string())),
                "enterprise_project_id" if value != "all_granted_eps" => {
                    query.equals.push(("i.enterprise_project_id", value.to_string()))
                }
                "enterprise_project_id" => {}
                "__isregistered" => {
                    query.equals.push(("i.is_registered", if parse_bool(key, value)? { "1" } else { "0" }.into()))
                }
                "min_disk" => query.min_disk = Some(parse_number(key, value, 0..=65_536)?),
                "min_ram" => query.min_ram = Some(parse_number(key, value, 0..=16_777_216)?),
                "protected" => query.protected = Some(parse_bool(key, value)?),
                "member_status" => match value {
                    "accepted" | "rejected" | "pending" => query.member_status = Some(value.to_string()),
                    _ => return Err(bad(format!("'{value}' is not a valid member_status: use accepted, rejected or pending."))),
                },
                "tag" => {
                    let (tag_key, tag_value) = match value.split_once(['.', '=']) {
                        Some((tag_key, tag_value)) => (tag_key.to_string(), Some(tag_value.to_string())),
                        None => (value.to_string(), None),
                    };
                    query.tags.push((tag_key, tag_value));
                }
                "created_at" => query.created_at = Some(parse_time_filter(key, value)?),
                "updated_at" => query.updated_at = Some(parse_time_filter(key, value)?),
                "sort_key" => {
                    query.sort_column = match value {
                        "name" => "i.name",
                        "container_format" => "i.container_format",
                        "disk_format" => "i.disk_format",
                        "status" => "i.status",
                        "id" => "i.id",
                        "size" => "i.image_size",
                        "created_at" => "i.created_at",
                        "updated_at" => "i.updated_at",
                        _ => {
                            return Err(bad(format!(
                                "'{value}' is not a valid sort_key: use name, container_format, disk_format, status, id, size, created_at or updated_at."
                            )))
                        }
                    }
                }
                "sort_dir" => {
                    query.descending = match value {
                        "desc" => true,
                        "asc" => false,
                        _ => return Err(bad(format!("'{value}' is not a valid sort_dir: use asc or desc."))),
                    }
                }
                "limit" => query.limit = parse_number(key, value, 1..=MAX_LIMIT)?,
                "marker" => query.marker = Some(value.to_string()),
                flag if flag.starts_with("__support_") => {
                    if parse_bool(key, value)? {
                        query.support_flags.push(flag.trim_start_matches("__support_").to_string());
                    }
                }
                "flavor_id" => query.flavor_id = Some(value.to_string()),
                // Glance: os_hidden is always false here (nothing is hidden); IMS: the rest of
                // the reference's keys are covered above.
                "os_hidden" => {
                    if parse_bool(key, value)? {
                        query.equals.push(("i.id", String::new()));
                    }
                }
                "sort" | "page" | "checksum" | "os_hash_value" | "size_min" | "size_max" => {
                    return Err(bad(format!("The query parameter {key} is not supported by this list.")))
                }
                other => return Err(bad(format!("'{other}' is not a query parameter of this list."))),
            }
        }
        Ok(query)
    }
}

/// Which images of the scope the caller may see.
fn scope(filter: &mut Filter, scope: ApiScope, query: &ApiListQuery, user: &Caller) {
    filter.push_plain("i.deleted_at IS NULL");
    let answer = query.member_status.clone().unwrap_or_else(|| "accepted".into());
    let shared = |filter: &mut Filter| {
        filter.args.push(Arg::Text(user.project_id.clone()));
        filter.args.push(Arg::Text(answer.clone()));
        filter.args.push(Arg::Int(now_ms()));
        let n = filter.args.len();
        // Driven from the project's few shares (an index on member_id), not from every image.
        format!(
            "(i.imagetype = 'private' AND i.id IN (SELECT m.image_id FROM image_members m \
             WHERE m.member_id = ${} AND m.status = ${} AND (m.expires_at IS NULL OR m.expires_at > ${n})))",
            n - 2,
            n - 1
        )
    };
    let region = |filter: &mut Filter| {
        filter.args.push(Arg::Text(user.region.clone()));
        filter.args.len()
    };
    match scope {
        ApiScope::Gold => {
            let r = region(filter);
            filter.push_plain(&format!("i.imagetype = 'gold' AND i.region = ${r}"));
        }
        ApiScope::Private => filter.push("i.owner = ?", Arg::Text(user.project_id.clone())),
        ApiScope::Shared => {
            let clause = shared(filter);
            filter.push_plain(&clause);
        }
        ApiScope::Market => filter.push(
            "i.id IN (SELECT o.image_id FROM market_offerings o WHERE o.region = ?)",
            Arg::Text(user.region.clone()),
        ),
        ApiScope::All => {
            let r = region(filter);
            filter.args.push(Arg::Text(user.project_id.clone()));
            let p = filter.args.len();
            let shared = shared(filter);
            filter.push_plain(&format!(
                "((i.imagetype = 'gold' AND i.region = ${r}) OR i.owner = ${p} OR {shared} \
                 OR EXISTS (SELECT 1 FROM market_offerings o WHERE o.image_id = i.id AND o.region = ${r}))"
            ));
        }
    }
}

fn filters(filter: &mut Filter, query: &ApiListQuery, flavor: Option<&Flavor>) {
    if let Some(flavor) = flavor {
        // A public image this flavor boots: its architecture, and memory within the image's range.
        filter.push_plain("i.imagetype = 'gold'");
        filter.push("i.architecture = ?", Arg::Text(flavor.architecture.to_string()));
        filter.push("i.min_ram <= ?", Arg::Int(flavor.memory_mb));
        filter.push("(i.max_ram = 0 OR i.max_ram >= ?)", Arg::Int(flavor.memory_mb));
    }
    for (column, value) in &query.equals {
        filter.push(&format!("{column} = ?"), Arg::Text(value.clone()));
    }
    if let Some(name) = &query.name {
        filter.push("i.name = ?", Arg::Text(name.clone()));
    }
    if let Some(min_disk) = query.min_disk {
        filter.push("i.min_disk = ?", Arg::Int(min_disk));
    }
    if let Some(min_ram) = query.min_ram {
        filter.push("i.min_ram = ?", Arg::Int(min_ram));
    }
    if let Some(protected) = query.protected {
        filter.push("i.protected = ?", Arg::Int(protected as i64));
    }
    for flag in &query.support_flags {
        filter.push(
            "(',' || i.support_flags || ',') LIKE ? ESCAPE '\\'",
            Arg::Text(format!("%,{},%", like_escape(flag))),
        );
    }
    for (key, value) in &query.tags {
        match value {
            Some(value) => {
                filter.args.push(Arg::Text(key.clone()));
                filter.args.push(Arg::Text(value.clone()));
                let n = filter.args.len();
                filter.push_plain(&format!(
                    "EXISTS (SELECT 1 FROM image_tags t WHERE t.image_id = i.id AND t.tag_key = ${} AND t.tag_value = ${n})",
                    n - 1
                ));
            }
            None => filter.push(
                "EXISTS (SELECT 1 FROM image_tags t WHERE t.image_id = i.id AND t.tag_key = ?)",
                Arg::Text(key.clone()),
            ),
        }
    }
    for (column, bound) in [("i.created_at", &query.created_at), ("i.updated_at", &query.updated_at)] {
        if let Some((op, ms)) = bound {
            // Times are whole seconds in the filter; stored times are milliseconds.
            let (sql, value) = match op {
                TimeOp::Gt => (format!("{column} >= ?"), ms + 1000),
                TimeOp::Gte => (format!("{column} >= ?"), *ms),
                TimeOp::Lt => (format!("{column} < ?"), *ms),
                TimeOp::Lte => (format!("{column} < ?"), ms + 1000),
                TimeOp::Eq => (format!("({column} >= ? AND {column} < {})", ms + 1000), *ms),
                TimeOp::Neq => (format!("({column} < ? OR {column} >= {})", ms + 1000), *ms),
            };
            filter.push(&sql, Arg::Int(value));
        }
    }
}

/// One page of images and whether more follow.
pub struct ApiPage {
    pub images: Vec<ImageDetail>,
    pub more: bool,
}

pub async fn list(db: &Db, user: &Caller, query: &ApiListQuery) -> Result<ApiPage, AppError> {
    let flavor = match &query.flavor_id {
        Some(id) => Some(find_flavor(&user.region, id).ok_or_else(|| {
            bad(format!("'{id}' is not a flavor of region {}.", crate::regions::region_name(&user.region)))
        })?),
        None => None,
    };
    let (direction, beyond) = if query.descending { ("DESC", "<") } else { ("ASC", ">") };
    let column = query.sort_column;
    if let Some(marker) = &query.marker {
        // The marker must be an image of this very list; its sort value is where the page starts.
        let mut seen = Filter::default();
        scope(&mut seen, query.scope, query, user);
        filters(&mut seen, query, flavor);
        seen.push("i.id = ?", Arg::Text(marker.clone()));
        let sql = format!("SELECT COUNT(*) FROM images i WHERE {}", seen.sql());
        let found: i64 = bind_all!(sqlx::query_scalar(&sql), &seen.args).fetch_one(db).await?;
        if found == 0 {
            return Err(bad(format!("The marker '{marker}' is not an image of this list.")));
        }
    }
    // One scope is one indexed range scan. "All" is the union of the four, each cut to the page
    // before they are merged, so no branch reads more than a page of its own index.
    let seek = |filter: &mut Filter| {
        if let Some(marker) = &query.marker {
            filter.args.push(Arg::Text(marker.clone()));
            let m = filter.args.len();
            filter.push_plain(&format!(
                "({column}, i.id) {beyond} (SELECT {}, m.id FROM images m WHERE m.id = ${m})",
                column.replacen("i.", "m.", 1)
            ));
        }
    };
    let (clauses, args) = scope_clauses(query, user, flavor, seek);
    let rows = store::ROW_WITH_TAGS;
    let order = format!("ORDER BY {column} {direction}, i.id {direction}");
    // One scope needs no merge: it reads its page straight from its index. UNION (not ALL): an
    // own image that is also published is in two branches.
    let sql = match clauses.as_slice() {
        [only] => format!("SELECT {rows} FROM images i WHERE {only} {order} LIMIT {}", query.limit + 1),
        _ => {
            let branches: Vec<String> = clauses
                .iter()
                .enumerate()
                .map(|(index, clause)| {
                    format!(
                        "SELECT * FROM (SELECT i.id, {column} AS sort_value FROM images i WHERE {clause} \
                         {order} LIMIT {}) AS branch_{index}",
                        query.limit + 1
                    )
                })
                .collect();
            format!(
                "SELECT {rows} FROM (SELECT id, sort_value FROM ({}) AS merged \
             ORDER BY sort_value {direction}, id {direction} LIMIT {}) AS page \
             JOIN images i ON i.id = page.id ORDER BY page.sort_value {direction}, page.id {direction}",
                branches.join(" UNION "),
                query.limit + 1
            )
        }
    };
    let mut images = store::page_details(db, user, &sql, &args).await?;
    let more = images.len() as i64 > query.limit;
    images.truncate(query.limit as usize);
    Ok(ApiPage { images, more })
}

/// The distinct tags (key, value) of the images the query covers (IMS `list_tags`).
pub async fn tags_of(db: &Db, user: &Caller, query: &ApiListQuery) -> Result<Vec<(String, String)>, AppError> {
    let (clauses, args) = scope_clauses(query, user, None, |_| {});
    let branches: Vec<String> =
        clauses.iter().map(|clause| format!("SELECT i.id FROM images i WHERE {clause}")).collect();
    let sql = format!(
        "SELECT DISTINCT t.tag_key, t.tag_value FROM image_tags t WHERE t.image_id IN ({}) ORDER BY t.tag_key, t.tag_value",
        branches.join(" UNION ")
    );
    Ok(bind_all!(sqlx::query_as(&sql), &args).fetch_all(db).await?)
}

/// The WHERE clause of each scope the query covers (one, or the four of "All"), with the
/// filters and `extra` in each; the arguments are numbered across all of them.
fn scope_clauses(
    query: &ApiListQuery,
    user: &Caller,
    flavor: Option<&Flavor>,
    extra: impl Fn(&mut Filter),
) -> (Vec<String>, Vec<Arg>) {
    let scopes: &[ApiScope] = match query.scope {
        ApiScope::All => &[ApiScope::Gold, ApiScope::Private, ApiScope::Shared, ApiScope::Market],
        ref one => std::slice::from_ref(one),
    };
    let mut args = Vec::new();
    let mut clauses = Vec::new();
    for branch_scope in scopes {
        let mut filter = Filter { clauses: Vec::new(), args };
        scope(&mut filter, *branch_scope, query, user);
        filters(&mut filter, query, flavor);
        extra(&mut filter);
        clauses.push(filter.sql());
        args = filter.args;
    }
    (clauses, args)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(key, value)| (key.to_string(), value.to_string())).collect()
    }

    #[test]
    fn the_reference_filters_are_read() {
        let query = ApiListQuery::from_pairs(
            &pairs(&[
                ("__imagetype", "private"),
                ("limit", "10"),
                ("name", "my image"),
                ("protected", "false"),
                ("created_at", "gt:2024-01-01T00:00:00Z"),
                ("__support_kvm", "true"),
                ("tag", "env.prod"),
                ("sort_key", "name"),
                ("sort_dir", "asc"),
            ]),
            500,
        )
        .unwrap();
        assert_eq!(query.scope, ApiScope::Private);
        assert_eq!((query.limit, query.name.as_deref(), query.protected), (10, Some("my image"), Some(false)));
        assert_eq!(query.created_at, Some((TimeOp::Gt, 1_704_067_200_000)));
        assert_eq!(query.support_flags, vec!["kvm".to_string()]);
        assert_eq!(query.tags, vec![("env".to_string(), Some("prod".to_string()))]);
        assert_eq!((query.sort_column, query.descending), ("i.name", false));
        assert_eq!(parse_time_filter("updated_at", "lte:2024-01-01 10:00:00").unwrap().1, 1_704_103_200_000);
    }

    #[test]
    fn bad_parameters_say_what_is_wrong() {
        for (key, value, says) in [
            ("__imagetype", "golden", "not a valid __imagetype"),
            ("limit", "0", "from 1 to 1000"),
            ("limit", "ten", "not a valid limit"),
            ("created_at", "after:2024-01-01T00:00:00Z", "op:time"),
            ("protected", "maybe", "true or false"),
            ("sort_key", "price", "not a valid sort_key"),
            ("flavour", "x", "not a query parameter"),
        ] {
            let error = ApiListQuery::from_pairs(&pairs(&[(key, value)]), 25).unwrap_err();
            assert!(error.to_string().contains(says), "{key}={value}: {error}");
        }
    }
}
