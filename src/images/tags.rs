//! Tags of the caller's private images: add, edit and delete one, and Batch Tag. Keys and values
//! follow the IMS rules (`validate::tag_key`, `validate::tag_value`), at most MAX_TAGS a image.

use super::recycle::parse_ids;
use super::requests::TagRequest;
use super::service::own_private;
use super::tag_store::{self, TagRefusal};
use super::validate::{tag_key, tag_value, MAX_TAGS};
use crate::caller::Caller;
use crate::error::AppError;
use crate::state::AppState;

/// The key and value, trimmed, or each one's error next to its field.
fn checked(key: &str, value: &str) -> Result<(String, String), AppError> {
    let (key, value) = (key.trim(), value.trim());
    let errors: Vec<(String, String)> = [("key", tag_key(key)), ("value", tag_value(value))]
        .into_iter()
        .filter_map(|(field, result)| result.err().map(|message| (field.to_string(), message)))
        .collect();
    if errors.is_empty() {
        Ok((key.to_string(), value.to_string()))
    } else {
        Err(AppError::Fields(errors))
    }
}

fn full_message(name: &str) -> String {
    format!("Image '{name}' already has {MAX_TAGS} tags, the most an image can have. Delete one first.")
}

pub async fn set_tag(state: &AppState, caller: &Caller, request: &TagRequest) -> Result<(), AppError> {
    let id = request.image_id.trim();
    let image = own_private(state, caller, id).await?;
    let (key, value) = checked(&request.key, &request.value)?;
    let original = request.original_key.trim();
    let renamed_from = (!original.is_empty()).then_some(original);
    match tag_store::set_tag(&state.db, id, &key, &value, renamed_from).await? {
        Ok(()) => Ok(()),
        Err(TagRefusal::Full) => Err(AppError::field("key", full_message(&image.name))),
        Err(TagRefusal::KeyTaken) => Err(AppError::field(
            "key",
            format!("This image already has a tag with key '{key}'. Keys are unique per image."),
        )),
        Err(TagRefusal::Missing) => Err(super::store::not_found(id, caller)),
    }
}

pub async fn delete_tag(state: &AppState, caller: &Caller, image_id: &str, key: &str) -> Result<(), AppError> {
    own_private(state, caller, image_id).await?;
    if !tag_store::delete_tag(&state.db, image_id, key.trim()).await? {
        return Err(super::store::not_found(image_id, caller));
    }
    Ok(())
}

/// Batch Tag: `add` sets tag key=value on every selected image, `remove` deletes the key from
/// them. All or none: an image that would exceed the limit is named, and nothing changes.
pub async fn batch_tag(
    state: &AppState,
    caller: &Caller,
    ids: &[String],
    action: &str,
    key: &str,
    value: &str,
) -> Result<(), AppError> {
    let ids = parse_ids(ids)?;
    let mut names = Vec::new();
    for id in &ids {
        names.push(own_private(state, caller, id).await?.name);
    }
    let adding = match action.trim() {
        "add" => true,
        "remove" => false,
        _ => return Err(AppError::field("action", "Choose whether to add or remove the tag.")),
    };
    let (key, value) = if adding {
        checked(key, value)?
    } else {
        tag_key(key.trim()).map_err(|message| AppError::field("key", message))?;
        (key.trim().to_string(), String::new())
    };
    let refused = match tag_store::tag_all(&state.db, &ids, &key, adding.then_some(value.as_str())).await? {
        Ok(()) => return Ok(()),
        Err(refused) => refused,
    };
    let name_of =
        |id: &str| ids.iter().position(|other| other == id).map(|index| names[index].clone()).unwrap_or_default();
    let messages: Vec<String> = refused
        .iter()
        .map(|(id, refusal)| match refusal {
            TagRefusal::Full => full_message(&name_of(id)),
            _ => format!("Image '{}' no longer exists.", name_of(id)),
        })
        .collect();
    Err(AppError::Conflict(format!("{} No image was changed.", messages.join(" "))))
}

/// Sets several tags on one of the caller's images (the APIs' batch create): every pair is
/// checked, and the image's tag limit counted, before any is written.
pub async fn set_tags(
    state: &AppState,
    caller: &Caller,
    image_id: &str,
    tags: &[(String, String)],
) -> Result<(), AppError> {
    let image = own_private(state, caller, image_id).await?;
    let mut checked_tags = Vec::new();
    for (key, value) in tags {
        checked_tags.push(checked(key, value)?);
    }
    let current = super::store::get_image(&state.db, caller, image_id).await?.tags;
    let mut keys: Vec<&str> = current.iter().map(|tag| tag.key.as_str()).collect();
    for (key, _) in &checked_tags {
        if !keys.contains(&key.as_str()) {
            keys.push(key);
        }
    }
    if keys.len() > MAX_TAGS {
        return Err(AppError::field("key", full_message(&image.name)));
    }
    for (key, value) in &checked_tags {
        let request = TagRequest {
            image_id: image_id.to_string(),
            key: key.clone(),
            value: value.clone(),
            original_key: String::new(),
        };
        set_tag(state, caller, &request).await?;
    }
    Ok(())
}

/// Every tag key of the caller's private images with the values it has (IMS `list_images_tags`).
pub async fn project_tags(state: &AppState, caller: &Caller) -> Result<Vec<(String, Vec<String>)>, AppError> {
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT DISTINCT t.tag_key, t.tag_value FROM image_tags t JOIN images i ON i.id = t.image_id \
         WHERE i.owner = $1 AND i.deleted_at IS NULL ORDER BY t.tag_key, t.tag_value",
    )
    .bind(&caller.project_id)
    .fetch_all(&state.db)
    .await?;
    let mut grouped: Vec<(String, Vec<String>)> = Vec::new();
    for (key, value) in rows {
        match grouped.last_mut() {
            Some((last, values)) if *last == key => values.push(value),
            _ => grouped.push((key, vec![value])),
        }
    }
    Ok(grouped)
}

/// One of the caller's private images with its tags (IMS `list_image_by_tags`).
pub struct TaggedImage {
    pub id: String,
    pub name: String,
    pub status: String,
    pub tags: Vec<(String, String)>,
}

/// The caller's private images with their tags, oldest first.
pub async fn tagged_images(state: &AppState, caller: &Caller) -> Result<Vec<TaggedImage>, AppError> {
    let images: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT id, name, status FROM images WHERE owner = $1 AND deleted_at IS NULL ORDER BY created_at, id",
    )
    .bind(&caller.project_id)
    .fetch_all(&state.db)
    .await?;
    let tags: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT t.image_id, t.tag_key, t.tag_value FROM image_tags t JOIN images i ON i.id = t.image_id \
         WHERE i.owner = $1 AND i.deleted_at IS NULL ORDER BY t.tag_key",
    )
    .bind(&caller.project_id)
    .fetch_all(&state.db)
    .await?;
    let mut result: Vec<TaggedImage> =
        images.into_iter().map(|(id, name, status)| TaggedImage { id, name, status, tags: Vec::new() }).collect();
    let position: std::collections::HashMap<String, usize> =
        result.iter().enumerate().map(|(index, image)| (image.id.clone(), index)).collect();
    for (image_id, key, value) in tags {
        if let Some(index) = position.get(&image_id) {
            result[*index].tags.push((key, value));
        }
    }
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_bad_part_is_named_at_its_field() {
        match checked("bad key", &"v".repeat(44)) {
            Err(AppError::Fields(errors)) => {
                assert_eq!(errors.iter().map(|(field, _)| field.as_str()).collect::<Vec<_>>(), ["key", "value"]);
            }
            other => panic!("expected field errors, got {other:?}"),
        }
        assert_eq!(checked(" env ", " prod ").unwrap(), ("env".to_string(), "prod".to_string()));
    }
}
