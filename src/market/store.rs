//! The KooGallery tables: the only writer of `market_offerings` and `market_subscriptions`.

use super::model::{Offering, Subscription};
use crate::db::{new_hex_id, Db};
use sqlx::{Any, Executor, Transaction};

#[derive(sqlx::FromRow)]
struct OfferingRow {
    image_id: String,
    name: String,
    description: String,
    publisher: String,
    price_cents: i64,
    published_at: i64,
}

/// The offering listing the image, if it is listed.
pub async fn offering_of<'e>(
    executor: impl Executor<'e, Database = Any>,
    image_id: &str,
) -> Result<Option<Offering>, sqlx::Error> {
    let row: Option<OfferingRow> = sqlx::query_as(
        "SELECT image_id, name, description, publisher, price_cents, published_at FROM market_offerings WHERE image_id = $1",
    )
    .bind(image_id)
    .fetch_optional(executor)
    .await?;
    Ok(row.map(|row| Offering {
        image_id: row.image_id,
        name: row.name,
        description: row.description,
        publisher: row.publisher,
        price_cents: row.price_cents,
        published_at: row.published_at,
    }))
}

/// Lists the image in KooGallery. False when it was listed already.
pub async fn insert_offering(
    transaction: &mut Transaction<'_, Any>,
    offering: &Offering,
    region: &str,
    account_id: &str,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "INSERT INTO market_offerings (image_id, region, publisher, account_id, name, description, price_cents, published_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (image_id) DO NOTHING",
    )
    .bind(&offering.image_id)
    .bind(region)
    .bind(&offering.publisher)
    .bind(account_id)
    .bind(&offering.name)
    .bind(&offering.description)
    .bind(offering.price_cents)
    .bind(offering.published_at)
    .execute(&mut **transaction)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Removes the listing of an image the account published. False when there was none.
pub async fn delete_offering(db: &Db, image_id: &str, account_id: &str) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("DELETE FROM market_offerings WHERE image_id = $1 AND account_id = $2")
        .bind(image_id)
        .bind(account_id)
        .execute(db)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// The hourly price the project accepted for the image, if it has.
pub async fn accepted_price(
    transaction: &mut Transaction<'_, Any>,
    project_id: &str,
    image_id: &str,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar("SELECT price_cents FROM market_subscriptions WHERE project_id = $1 AND image_id = $2")
        .bind(project_id)
        .bind(image_id)
        .fetch_optional(&mut **transaction)
        .await
}

/// Records the project's acceptance of the offering's price: one subscription per project and
/// image, which a new acceptance (of a changed price) replaces.
pub async fn insert_subscription(
    transaction: &mut Transaction<'_, Any>,
    project_id: &str,
    region: &str,
    offering: &Offering,
    accepted_by: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO market_subscriptions (id, project_id, region, image_id, image_name, publisher, price_cents, \
         accepted_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
         ON CONFLICT (project_id, image_id) DO UPDATE SET image_name = excluded.image_name, \
         publisher = excluded.publisher, price_cents = excluded.price_cents, accepted_by = excluded.accepted_by, \
         created_at = excluded.created_at",
    )
    .bind(new_hex_id())
    .bind(project_id)
    .bind(region)
    .bind(&offering.image_id)
    .bind(&offering.name)
    .bind(&offering.publisher)
    .bind(offering.price_cents)
    .bind(accepted_by)
    .bind(now)
    .execute(&mut **transaction)
    .await?;
    Ok(())
}

pub async fn subscriptions_of(db: &Db, project_id: &str) -> Result<Vec<Subscription>, sqlx::Error> {
    sqlx::query_as(
        "SELECT s.id, s.image_id, s.image_name, s.publisher, s.price_cents, s.accepted_by, s.created_at, \
         (SELECT COUNT(*) FROM servers v WHERE v.project_id = s.project_id AND v.image_id = s.image_id) AS servers \
         FROM market_subscriptions s WHERE s.project_id = $1 ORDER BY s.created_at DESC",
    )
    .bind(project_id)
    .fetch_all(db)
    .await
}
