//! What a project uses of each quota, counted from the rows themselves (never a counter that
//! could drift).

use super::model::QuotaKind;
use crate::db::Db;

const GIB: i64 = 1 << 30;

/// The project's use of `kind`. Stored data counts finished images' files (also those in the
/// recycle bin, whose files are kept), images still being made at their virtual size (reserved
/// when their import inspected the file), and bucket objects. Images in the recycle bin do not
/// count as images until they are restored.
pub async fn used(db: &Db, project_id: &str, kind: QuotaKind) -> Result<i64, sqlx::Error> {
    let sql = match kind {
        QuotaKind::Images => {
            "SELECT COUNT(*) FROM images WHERE owner = $1 AND imagetype = 'private' AND deleted_at IS NULL"
        }
        QuotaKind::StoredBytes => {
            "SELECT CAST(COALESCE((SELECT SUM(CASE WHEN status IN ('queued', 'saving') THEN virtual_size \
             ELSE image_size END) FROM images WHERE owner = $1 AND imagetype = 'private' \
             AND status NOT IN ('deleted', 'killed')), 0) \
             + COALESCE((SELECT SUM(o.size) FROM bucket_objects o JOIN buckets b ON b.id = o.bucket_id \
             WHERE b.project_id = $1), 0) AS BIGINT)"
        }
        QuotaKind::Objects => {
            "SELECT COUNT(*) FROM bucket_objects o JOIN buckets b ON b.id = o.bucket_id WHERE b.project_id = $1"
        }
        QuotaKind::Uploads => "SELECT COUNT(*) FROM uploads WHERE project_id = $1",
        QuotaKind::Servers => "SELECT COUNT(*) FROM servers WHERE project_id = $1",
        QuotaKind::Disks => "SELECT COUNT(*) FROM disks WHERE project_id = $1",
        QuotaKind::QueuedJobs => "SELECT COUNT(*) FROM jobs WHERE project_id = $1 AND status = 'INIT'",
    };
    sqlx::query_scalar(sql).bind(project_id).fetch_one(db).await
}

/// Bytes in whole GB, rounded up, for messages.
pub fn gb(bytes: i64) -> i64 {
    (bytes + GIB - 1) / GIB
}
