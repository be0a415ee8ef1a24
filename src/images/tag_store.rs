//! Writes of `image_tags` after an image is created. Each change runs in one transaction that
//! first takes the image's row lock, so two changes of one image's tags take turns and the
//! limit of MAX_TAGS holds.

use super::store::lock_image;
use super::validate::MAX_TAGS;
use crate::db::Db;
use sqlx::{Any, Transaction};

/// Why a tag change was refused (nothing changed).
#[derive(Debug, PartialEq)]
pub enum TagRefusal {
    /// The image is gone.
    Missing,
    /// The image would have more than MAX_TAGS tags.
    Full,
    /// Another tag already has the key (renaming a tag onto it).
    KeyTaken,
}

async fn count(transaction: &mut Transaction<'_, Any>, image_id: &str) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COUNT(*) FROM image_tags WHERE image_id = $1")
        .bind(image_id)
        .fetch_one(&mut **transaction)
        .await
}

async fn has_key(transaction: &mut Transaction<'_, Any>, image_id: &str, key: &str) -> Result<bool, sqlx::Error> {
    let found: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM image_tags WHERE image_id = $1 AND tag_key = $2")
        .bind(image_id)
        .bind(key)
        .fetch_one(&mut **transaction)
        .await?;
    Ok(found > 0)
}

async fn upsert(
    transaction: &mut Transaction<'_, Any>,
    image_id: &str,
    key: &str,
    value: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO image_tags (image_id, tag_key, tag_value) VALUES ($1, $2, $3) \
         ON CONFLICT (image_id, tag_key) DO UPDATE SET tag_value = excluded.tag_value",
    )
    .bind(image_id)
    .bind(key)
    .bind(value)
    .execute(&mut **transaction)
    .await?;
    Ok(())
}

async fn remove(transaction: &mut Transaction<'_, Any>, image_id: &str, key: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM image_tags WHERE image_id = $1 AND tag_key = $2")
        .bind(image_id)
        .bind(key)
        .execute(&mut **transaction)
        .await?;
    Ok(())
}

/// Sets tag `key` to `value`; with `renamed_from`, the tag of that key is replaced (an edit
/// that changes the key).
pub async fn set_tag(
    db: &Db,
    image_id: &str,
    key: &str,
    value: &str,
    renamed_from: Option<&str>,
) -> Result<Result<(), TagRefusal>, sqlx::Error> {
    let mut transaction = db.begin().await?;
    if !lock_image(&mut transaction, image_id).await? {
        return Ok(Err(TagRefusal::Missing));
    }
    let renamed_from = renamed_from.filter(|old| *old != key);
    if renamed_from.is_some() && has_key(&mut transaction, image_id, key).await? {
        return Ok(Err(TagRefusal::KeyTaken));
    }
    if let Some(old) = renamed_from {
        remove(&mut transaction, image_id, old).await?;
    }
    if !has_key(&mut transaction, image_id, key).await? && count(&mut transaction, image_id).await? >= MAX_TAGS as i64 {
        return Ok(Err(TagRefusal::Full));
    }
    upsert(&mut transaction, image_id, key, value).await?;
    transaction.commit().await?;
    Ok(Ok(()))
}

/// Deletes tag `key` of the image (nothing when it has no such tag). False when the image is gone.
pub async fn delete_tag(db: &Db, image_id: &str, key: &str) -> Result<bool, sqlx::Error> {
    let mut transaction = db.begin().await?;
    if !lock_image(&mut transaction, image_id).await? {
        return Ok(false);
    }
    remove(&mut transaction, image_id, key).await?;
    transaction.commit().await?;
    Ok(true)
}

/// Batch Tag: sets (`Some(value)`) or deletes (`None`) tag `key` on every image, all or none.
/// Returns the ids of the images that were gone or would have had too many tags.
pub async fn tag_all(
    db: &Db,
    image_ids: &[String],
    key: &str,
    value: Option<&str>,
) -> Result<Result<(), Vec<(String, TagRefusal)>>, sqlx::Error> {
    let mut transaction = db.begin().await?;
    let mut refused = Vec::new();
    for id in image_ids {
        if !lock_image(&mut transaction, id).await? {
            refused.push((id.clone(), TagRefusal::Missing));
            continue;
        }
        match value {
            Some(value) => {
                if !has_key(&mut transaction, id, key).await? && count(&mut transaction, id).await? >= MAX_TAGS as i64 {
                    refused.push((id.clone(), TagRefusal::Full));
                    continue;
                }
                upsert(&mut transaction, id, key, value).await?;
            }
            None => remove(&mut transaction, id, key).await?,
        }
    }
    if !refused.is_empty() {
        transaction.rollback().await?;
        return Ok(Err(refused));
    }
    transaction.commit().await?;
    Ok(Ok(()))
}
