//! KooGallery: publishing a private system disk image as an offering of its region, taking it
//! off again, and the price a project accepts before its first ECS from a paid image.

use super::model::{price_label, publish_refusal, Offering, PublishRequest, Subscription};
use super::store;
use crate::caller::{Access, Caller};
use crate::db::now_ms;
use crate::error::AppError;
use crate::images::model::ImageStatus;
use crate::images::service::own_private;
use crate::images::store as image_store;
use crate::state::AppState;
use sqlx::{Any, Transaction};

/// An account admin lists one of the account's Normal private system disk images in
/// KooGallery for every tenant of the region.
pub async fn publish(state: &AppState, caller: &Caller, request: &PublishRequest) -> Result<(), AppError> {
    caller.require(Access::Admin)?;
    let valid = request.validate().map_err(AppError::Fields)?;
    let id = request.image_id.trim();
    let image = own_private(state, caller, id).await?;
    let refused = |reason: &str| AppError::Conflict(format!("Image '{}' cannot be published: {reason}", image.name));
    let offering = Offering {
        image_id: id.to_string(),
        name: valid.name,
        description: valid.description,
        publisher: caller.account_name.clone(),
        price_cents: valid.price_cents,
        published_at: now_ms(),
    };
    let mut transaction = state.db.begin().await?;
    // With the image's row locked, a share of it waits for this publish (or this for it).
    if !image_store::lock_image(&mut transaction, id).await? {
        return Err(refused("it has been deleted."));
    }
    // Checked under the lock: whether it is shared can change until then.
    let shared = crate::sharing::store::live_member_count(&mut transaction, id, now_ms()).await? > 0;
    let active = image.status == ImageStatus::Active;
    if let Some(reason) = publish_refusal(active, &image.image_kind, !image.cmk_id.is_empty(), shared) {
        return Err(refused(reason));
    }
    if !store::insert_offering(&mut transaction, &offering, &caller.region, &caller.account_id).await? {
        return Err(AppError::Conflict(format!("Image '{}' is already published in KooGallery.", image.name)));
    }
    transaction.commit().await?;
    tracing::info!(image = id, account = %caller.account_name, price = offering.price_cents, "image published");
    Ok(())
}

/// Takes the account's offering off KooGallery; ECSs made from it keep running.
pub async fn unpublish(state: &AppState, caller: &Caller, image_id: &str) -> Result<(), AppError> {
    caller.require(Access::Admin)?;
    if !store::delete_offering(&state.db, image_id, &caller.account_id).await? {
        return Err(AppError::NotFound(format!("Image '{image_id}' is not published in KooGallery by your account.")));
    }
    tracing::info!(image = image_id, account = %caller.account_name, "image unpublished");
    Ok(())
}

pub async fn subscriptions(state: &AppState, caller: &Caller) -> Result<Vec<Subscription>, AppError> {
    Ok(store::subscriptions_of(&state.db, &caller.project_id).await?)
}

/// The hourly price the caller pays for making an ECS from `image_id`, inside the transaction
/// that makes it. A paid image needs the project's subscription: made now when `accept` is
/// set, otherwise refused (field `accept_price`). Publishers use their own images free.
pub async fn image_charge(
    transaction: &mut Transaction<'_, Any>,
    caller: &Caller,
    image_id: &str,
    image_name: &str,
    accept: bool,
) -> Result<i64, AppError> {
    let Some(offering) = store::offering_of(&mut **transaction, image_id).await? else { return Ok(0) };
    let own: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM market_offerings WHERE image_id = $1 AND account_id = $2")
        .bind(image_id)
        .bind(&caller.account_id)
        .fetch_one(&mut **transaction)
        .await?;
    if offering.price_cents == 0 || own > 0 {
        return Ok(0);
    }
    let accepted = store::accepted_price(transaction, &caller.project_id, image_id).await?;
    if accepted == Some(offering.price_cents) {
        return Ok(offering.price_cents);
    }
    if !accept {
        let changed = accepted.map_or(String::new(), |old| {
            format!(" Its price has changed since your project accepted {}.", price_label(old))
        });
        return Err(AppError::field(
            "accept_price",
            format!(
                "Image '{image_name}' is a paid KooGallery image ({} per ECS, from {}).{changed} Accept its price to continue.",
                price_label(offering.price_cents),
                offering.publisher
            ),
        ));
    }
    store::insert_subscription(transaction, &caller.project_id, &caller.region, &offering, &caller.user_name, now_ms())
        .await?;
    Ok(offering.price_cents)
}
