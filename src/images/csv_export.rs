//! Export List: the image list of a tab with its filters and sort, over all pages, as CSV with
//! the IMS columns. The file is streamed in batches, so its size never sits in memory.

use super::list_store::{export_batch, ExportRow};
use super::model::kind_label;
use super::query::{ImageQuery, ValidQuery};
use crate::caller::Caller;
use crate::error::AppError;
use crate::format::format_time;
use crate::state::AppState;
use bytes::Bytes;
use futures::Stream;

pub const CSV_HEADER: &str = "Name,ID,Status,OS,Type,Format,Size (bytes),Min. Disk (GB),Created,Encrypted,Tags\r\n";
/// Rows read from the database at a time.
const BATCH: i64 = 1000;

/// One CSV field: quoted when it holds a separator, quote or line break; a leading `=`, `+`,
/// `-`, `@` or tab gets a `'` so spreadsheets show text instead of running a formula.
pub fn cell(text: &str) -> String {
    let guarded =
        if text.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{text}") } else { text.to_string() };
    if guarded.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", guarded.replace('"', "\"\""))
    } else {
        guarded
    }
}

pub fn csv_line(row: &ExportRow) -> String {
    let tags = row.tags.iter().map(|(key, value)| format!("{key}={value}")).collect::<Vec<_>>().join(";");
    let fields = [
        cell(&row.name),
        cell(&row.id),
        cell(row.status.label()),
        cell(&row.os_version),
        cell(kind_label(&row.image_kind)),
        cell(&row.disk_format.to_uppercase()),
        row.image_size.to_string(),
        row.min_disk.to_string(),
        cell(&format_time(row.created_at)),
        if row.cmk_id.is_empty() { "No" } else { "Yes" }.to_string(),
        cell(&tags),
    ];
    format!("{}\r\n", fields.join(","))
}

/// `images-private-cn-north-4-2026-12-01.csv`.
pub fn file_name(tab: &str, region: &str, now_ms: i64) -> String {
    let day = format_time(now_ms).chars().take(10).collect::<String>();
    format!("images-{tab}-{region}-{day}.csv")
}

/// Checks the query (a bad one is refused before anything is sent).
pub fn validate(query: &ImageQuery) -> Result<ValidQuery, AppError> {
    query.validate()
}

/// The CSV, header first, then every row in the list's order, batch by batch.
pub fn stream(state: AppState, caller: Caller, query: ValidQuery) -> impl Stream<Item = Result<Bytes, std::io::Error>> {
    struct Cursor {
        last: Option<ExportRow>,
        header_sent: bool,
        done: bool,
    }
    let start = Cursor { last: None, header_sent: false, done: false };
    futures::stream::unfold(start, move |mut cursor| {
        let (state, caller, query) = (state.clone(), caller.clone(), query.clone());
        async move {
            if !cursor.header_sent {
                cursor.header_sent = true;
                return Some((Ok(Bytes::from_static(CSV_HEADER.as_bytes())), cursor));
            }
            if cursor.done {
                return None;
            }
            match export_batch(&state.db, &caller, &query, cursor.last.as_ref(), BATCH).await {
                Ok(rows) if rows.is_empty() => None,
                Ok(rows) => {
                    cursor.done = (rows.len() as i64) < BATCH;
                    let text: String = rows.iter().map(csv_line).collect();
                    cursor.last = rows.last().cloned();
                    Some((Ok(Bytes::from(text)), cursor))
                }
                Err(error) => {
                    tracing::error!(%error, "Export List stopped: reading a batch failed");
                    cursor.done = true;
                    Some((Err(std::io::Error::other("reading the image list failed")), cursor))
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::images::model::ImageStatus;

    #[test]
    fn cells_are_quoted_and_formulas_defused() {
        assert_eq!(cell("plain"), "plain");
        assert_eq!(cell("a,b"), "\"a,b\"");
        assert_eq!(cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(cell("=SUM(A1)"), "'=SUM(A1)");
        assert_eq!(cell("-x,y"), "\"'-x,y\"");
    }

    #[test]
    fn a_row_has_the_ims_columns_in_order() {
        let row = ExportRow {
            id: "id-1".into(),
            name: "web".into(),
            status: ImageStatus::Active,
            os_version: "Ubuntu 22.04 server 64bit".into(),
            image_kind: "system".into(),
            disk_format: "qcow2".into(),
            image_size: 1024,
            min_disk: 40,
            created_at: 0,
            cmk_id: String::new(),
            tags: vec![("env".into(), "prod".into()), ("team".into(), "web".into())],
        };
        assert_eq!(
            csv_line(&row),
            "web,id-1,Normal,Ubuntu 22.04 server 64bit,System disk image,QCOW2,1024,40,1970-01-01 00:00:00 UTC,No,env=prod;team=web\r\n"
        );
        assert_eq!(CSV_HEADER.split(',').count(), 11);
        assert_eq!(file_name("private", "cn-north-4", 0), "images-private-cn-north-4-1970-01-01.csv");
    }
}
