//! An image as the APIs write it: the IMS image object (ims-api.md §3), which also carries what
//! Glance clients read (`checksum`, `os_hash_*`, `os_hidden`, `size`). Booleans are JSON
//! booleans where the SDK types them `bool`; the `__support_*`-style flags are strings.

use crate::format::iso_time;
use crate::images::model::{ImageDetail, ImageStatus};
use serde_json::{json, Map, Value};

/// IMS `__imagetype` as the caller sees the image.
pub fn imagetype(image: &ImageDetail) -> &str {
    match image.imagetype.as_str() {
        "private" if !image.owned => "shared",
        other => other,
    }
}

/// Glance `visibility`: public, private, or shared (the owner's image once shared, or an image
/// shared with the caller).
fn visibility(image: &ImageDetail) -> &'static str {
    match imagetype(image) {
        "gold" | "market" => "public",
        "shared" => "shared",
        _ if image.shared_with > 0 => "shared",
        _ => "private",
    }
}

/// IMS tags of the image object: `key.value`, or just `key` when the value is empty.
pub fn tag_strings(image: &ImageDetail) -> Vec<String> {
    image
        .tags
        .iter()
        .map(|tag| if tag.value.is_empty() { tag.key.clone() } else { format!("{}.{}", tag.key, tag.value) })
        .collect()
}

pub fn image_object(image: &ImageDetail) -> Value {
    let has_data = image.has_file && image.status == ImageStatus::Active;
    let mut object = Map::new();
    let mut put = |key: &str, value: Value| {
        object.insert(key.to_string(), value);
    };
    put("id", json!(image.id));
    put("name", json!(image.name));
    put("status", json!(image.status.as_str()));
    put("visibility", json!(visibility(image)));
    put("owner", json!(image.owner));
    put("protected", json!(image.protected));
    put("os_hidden", json!(false));
    put("min_disk", json!(image.min_disk));
    put("min_ram", json!(image.min_ram));
    put("max_ram", json!(image.max_ram.to_string()));
    put("disk_format", json!(image.disk_format));
    put("container_format", json!(image.container_format));
    put("size", if has_data { json!(image.image_size) } else { Value::Null });
    put("virtual_size", if has_data && image.virtual_size > 0 { json!(image.virtual_size) } else { Value::Null });
    put("checksum", if has_data && !image.checksum.is_empty() { json!(image.checksum) } else { Value::Null });
    let sha256 = has_data && !image.sha256.is_empty();
    put("os_hash_algo", if sha256 { json!("sha256") } else { Value::Null });
    put("os_hash_value", if sha256 { json!(image.sha256) } else { Value::Null });
    put("tags", json!(tag_strings(image)));
    put("created_at", json!(iso_time(image.created_at)));
    put("updated_at", json!(iso_time(image.updated_at)));
    put("active_at", json!(image.active_at.map(iso_time).unwrap_or_default()));
    put("self", json!(format!("/v2/images/{}", image.id)));
    put("file", json!(format!("/v2/images/{}/file", image.id)));
    put("schema", json!("/v2/schemas/image"));
    put("virtual_env_type", json!(image.virtual_env_type));
    put("hw_firmware_type", json!(image.hw_firmware_type));
    put(
        "enterprise_project_id",
        json!(if image.enterprise_project_id.is_empty() { "0" } else { &image.enterprise_project_id }),
    );
    put("__imagetype", json!(imagetype(image)));
    put("__isregistered", json!(if image.is_registered { "true" } else { "false" }));
    put("__description", json!(image.description));
    put("__image_size", json!(image.image_size.to_string()));
    put(
        "__image_source_type",
        json!(if image.image_source_type.is_empty() { "uds" } else { &image.image_source_type }),
    );
    put("__os_type", json!(image.os_type));
    put("__os_version", json!(image.os_version));
    put("__os_bit", json!(image.os_bit));
    put("__platform", json!(image.platform));
    put("__data_origin", json!(image.data_origin));
    put("__originalimagename", json!(image.original_image_id));
    put("__root_origin", json!(image.root_origin));
    put("__backup_id", json!(image.backup_id));
    put("__system__cmkid", json!(image.cmk_id));
    put("__support_arm", json!(if image.architecture == "arm" { "true" } else { "false" }));
    put("__system_support_market", json!(false));
    put("__lazyloading", json!("False"));
    if image.kind == "full_ecs" {
        put("__whole_image", json!("true"));
    }
    for flag in &image.support_flags {
        if flag != "arm" {
            put(&format!("__support_{flag}"), json!("true"));
        }
    }
    if let Some(status) = image.member_status {
        put("member_status", json!(status.as_str()));
    }
    Value::Object(object)
}
