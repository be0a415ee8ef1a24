//! Lineage: where an image came from and what was made from it, as the detail page shows it
//! and as the delete dialog weighs it. Everything named is linked only when the caller may open
//! it; other projects' ECSs are only counted.

use super::model::{Descendants, ImageSource, LinkedResource, ShareLink};
use super::store;
use crate::caller::Caller;
use crate::db::{now_ms, Db};
use crate::sharing::model::MemberStatus;

/// What the image's row records of its origin.
pub struct Origin<'a> {
    pub imagetype: &'a str,
    pub data_origin: &'a str,
    pub original_image_id: &'a str,
}

pub async fn source(db: &Db, caller: &Caller, origin: &Origin<'_>) -> Result<ImageSource, sqlx::Error> {
    if matches!(origin.imagetype, "gold" | "market") {
        return Ok(ImageSource::Platform);
    }
    let (kind, rest) = origin.data_origin.split_once(',').unwrap_or(("", ""));
    Ok(match kind {
        "file" => {
            let (bucket, object_key) = rest.split_once(':').unwrap_or((rest, ""));
            let exists: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM buckets WHERE project_id = $1 AND name = $2")
                .bind(&caller.project_id)
                .bind(bucket)
                .fetch_one(db)
                .await?;
            ImageSource::File {
                bucket: bucket.to_string(),
                object_key: object_key.to_string(),
                href: (exists > 0).then(|| format!("/buckets/{}", crate::format::url_encode(bucket))),
            }
        }
        "instance" => ImageSource::Server(own_resource(db, caller, "servers", rest, "/ecs/").await?),
        "volume" => ImageSource::Disk(own_resource(db, caller, "disks", rest, "").await?),
        "image" => {
            let (region, id) = rest.split_once(':').unwrap_or(("", rest));
            let image = if region == caller.region {
                image_link(db, caller, id).await?
            } else {
                account_image(db, caller, id).await?
            };
            ImageSource::Replica { image, region: crate::regions::region_name(region).to_string() }
        }
        _ if !origin.original_image_id.is_empty() => {
            ImageSource::Image(image_link(db, caller, origin.original_image_id).await?)
        }
        _ => ImageSource::Unknown,
    })
}

/// The parent image of a captured image (the image its ECS was made from), when it is known.
pub async fn parent(db: &Db, caller: &Caller, origin: &Origin<'_>) -> Result<Option<LinkedResource>, sqlx::Error> {
    if origin.original_image_id.is_empty() || !origin.data_origin.starts_with("instance,") {
        return Ok(None);
    }
    Ok(Some(image_link(db, caller, origin.original_image_id).await?))
}

/// An image of the caller's account in another region: named, not linked (its page is in
/// that region).
async fn account_image(db: &Db, caller: &Caller, id: &str) -> Result<LinkedResource, sqlx::Error> {
    let name: Option<String> = sqlx::query_scalar(
        "SELECT i.name FROM images i JOIN projects p ON p.id = i.owner \
         WHERE i.id = $1 AND p.account_id = $2 AND i.deleted_at IS NULL",
    )
    .bind(id)
    .bind(&caller.account_id)
    .fetch_optional(db)
    .await?;
    Ok(LinkedResource { id: id.to_string(), name: name.unwrap_or_default(), href: None })
}

/// A server or disk of the caller's project, linked; when it is gone, its id alone.
async fn own_resource(
    db: &Db,
    caller: &Caller,
    table: &str,
    id: &str,
    page_prefix: &str,
) -> Result<LinkedResource, sqlx::Error> {
    let name: Option<String> =
        sqlx::query_scalar(&format!("SELECT name FROM {table} WHERE id = $1 AND project_id = $2"))
            .bind(id)
            .bind(&caller.project_id)
            .fetch_optional(db)
            .await?;
    let href =
        name.as_ref().map(|_| if page_prefix.is_empty() { "/disks".to_string() } else { format!("{page_prefix}{id}") });
    Ok(LinkedResource { id: id.to_string(), name: name.unwrap_or_default(), href })
}

/// Another image, linked when the caller may see it.
async fn image_link(db: &Db, caller: &Caller, id: &str) -> Result<LinkedResource, sqlx::Error> {
    let name = store::visible_name(db, caller, id).await?;
    let href = name.as_ref().map(|_| format!("/image/{id}"));
    Ok(LinkedResource { id: id.to_string(), name: name.unwrap_or_default(), href })
}

/// What was made from image `id`. Shares are listed only for `owner` (the caller owns it).
pub async fn descendants(db: &Db, caller: &Caller, id: &str, owner: bool) -> Result<Descendants, sqlx::Error> {
    let named = |rows: Vec<(String, String)>, page: fn(&str) -> String| {
        rows.into_iter().map(|(id, name)| LinkedResource { href: Some(page(&id)), id, name }).collect::<Vec<_>>()
    };
    let servers: Vec<(String, String)> =
        sqlx::query_as("SELECT id, name FROM servers WHERE image_id = $1 AND project_id = $2 ORDER BY created_at, id")
            .bind(id)
            .bind(&caller.project_id)
            .fetch_all(db)
            .await?;
    let other_servers: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM servers WHERE image_id = $1 AND project_id <> $2")
            .bind(id)
            .bind(&caller.project_id)
            .fetch_one(db)
            .await?;
    let disks: Vec<(String, String)> = sqlx::query_as(
        "SELECT id, name FROM disks WHERE image_id = $1 AND project_id = $2 AND role = 'data' ORDER BY created_at, id",
    )
    .bind(id)
    .bind(&caller.project_id)
    .fetch_all(db)
    .await?;
    let images: Vec<(String, String)> = sqlx::query_as(
        "SELECT id, name FROM images WHERE original_image_id = $1 AND owner = $2 AND deleted_at IS NULL \
         ORDER BY created_at, id",
    )
    .bind(id)
    .bind(&caller.project_id)
    .fetch_all(db)
    .await?;
    let shares: Vec<(String, String, MemberStatus)> = if owner {
        sqlx::query_as(
            "SELECT m.member_id, COALESCE(a.name, ''), m.status FROM image_members m \
             LEFT JOIN projects p ON p.id = m.member_id LEFT JOIN accounts a ON a.id = p.account_id \
             WHERE m.image_id = $1 AND (m.expires_at IS NULL OR m.expires_at > $2) ORDER BY m.created_at, m.member_id",
        )
        .bind(id)
        .bind(now_ms())
        .fetch_all(db)
        .await?
    } else {
        Vec::new()
    };
    Ok(Descendants {
        servers: named(servers, |id| format!("/ecs/{id}")),
        other_servers,
        disks: named(disks, |_| "/disks".to_string()),
        images: named(images, |id| format!("/image/{id}")),
        shares: shares
            .into_iter()
            .map(|(project_id, account, status)| ShareLink { project_id, account, status })
            .collect(),
    })
}
