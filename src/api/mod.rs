//! The tenant's HTTP APIs: the IMS API as the `huaweicloudsdkims` SDK speaks it (AK/SK signed,
//! ims-api.md), the Glance v2 image API and the Keystone v3 token service the OpenStack clients
//! use (openstack-api.md). Every handler is a thin adapter: it checks the
//! signature and role, reads the request, calls the same service function the console's server
//! functions call, and writes the reference's response shape.

pub mod error;
pub mod glance_images;
pub mod image_json;
pub mod ims_images;
pub mod ims_members;
pub mod ims_misc;
pub mod ims_tags;
pub mod keystone;
pub mod signed;

use crate::auth::audit::{self, Audit, Source};
use crate::caller::Caller;
use crate::error::AppError;
use crate::state::AppState;
use axum::routing::{delete, get, patch, post, put};
use axum::Router;
use serde::Serialize;
use std::future::Future;

/// What an asynchronous operation answers.
#[derive(Serialize)]
pub struct JobId {
    pub job_id: String,
}

/// Runs a changing operation and records it in the operation log as an API call.
pub async fn audited<T, Fut>(
    state: &AppState,
    caller: &Caller,
    operation: &'static str,
    resource_id: &str,
    work: Fut,
) -> Result<T, AppError>
where
    Fut: Future<Output = Result<T, AppError>>,
{
    let result = work.await;
    let entry = Audit::new(operation, "image", resource_id);
    audit::record(&state.db, caller, Source::Api, &entry, result.as_ref().map(|_| ())).await;
    result
}

/// A query string's pairs, decoded as HTML form data (`+` is a space, as Glance clients send).
pub fn query_pairs(query: Option<&str>) -> Vec<(String, String)> {
    query
        .unwrap_or("")
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let decode = |text: &str| crate::format::url_decode(&text.replace('+', " "));
            (decode(key), decode(value))
        })
        .collect()
}

/// Every API route. Static segments win over parameters (`/v1/cloudimages/quota` before
/// `/v1/{project_id}/…`).
pub fn router() -> Router<AppState> {
    use ims_images as images;
    use ims_members as members;
    use ims_misc as misc;
    use ims_tags as tags;
    Router::new()
        // Listing, versions, quota, jobs, OS versions.
        .route("/v2/cloudimages", get(images::list_images))
        .route("/v1", get(misc::show_version))
        .route("/v2", get(misc::show_version))
        .route("/v2.1", get(misc::show_version))
        .route("/v1/cloudimages/quota", get(misc::show_quota))
        .route("/v1/cloudimages/os_version", get(misc::list_os_versions))
        .route("/v1/{project_id}/jobs/{job_id}", get(misc::show_job))
        .route("/v1/cloudimages/job/{job_id}", get(misc::show_job_progress))
        // Creating, importing, exporting, modifying.
        .route("/v2/cloudimages/action", post(images::create_image))
        .route("/v2.1/cloudimages/action", post(images::create_image))
        .route("/v1/cloudimages/wholeimages/action", post(images::create_whole_image))
        .route("/v1/cloudimages/dataimages/action", post(images::create_data_image))
        .route("/v2.1/cloudimages/dataimages/action", post(images::create_data_image))
        .route("/v2/cloudimages/quickimport/action", post(images::quick_import))
        .route("/v2.1/cloudimages/quickimport/action", post(images::quick_import))
        .route("/v1/cloudimages/{image_id}/upload", put(misc::register_image))
        .route("/v1/cloudimages/{image_id}/file", post(images::export_image))
        .route("/v2.1/cloudimages/{image_id}/file", post(images::export_image))
        .route("/v1/cloudimages/{image_id}/copy", post(images::copy_image_in_region))
        .route("/v2.1/cloudimages/{image_id}/copy", post(images::copy_image_in_region))
        .route("/v1/cloudimages/{image_id}/cross_region_copy", post(images::copy_image_cross_region))
        .route("/v2/cloudimages/{image_id}", patch(images::update_image))
        // Tags: v2, v1 and Glance.
        .route("/v2/{project_id}/images/{image_id}/tags", post(tags::add_tag).get(tags::list_image_tags))
        .route("/v2/{project_id}/images/{image_id}/tags/action", post(tags::batch_tags))
        .route("/v2/{project_id}/images/{image_id}/tags/{key}", delete(tags::delete_tag))
        .route("/v2/{project_id}/images/tags", get(tags::list_project_tags))
        .route("/v2/{project_id}/images/resource_instances/action", post(tags::images_by_tags))
        .route("/v1/{project_id}/cloudimages/{image_id}/tags/delete", delete(tags::batch_delete_tags))
        .route("/v1/cloudimages/tags", put(tags::put_v1_tag).get(tags::list_v1_tags))
        // Members.
        .route(
            "/v1/cloudimages/members",
            post(members::batch_add).delete(members::batch_delete).put(members::batch_update),
        )
        .route("/v1/{project_id}/cloudimages/{image_id}/members", get(members::list_members))
        .route("/v1/{project_id}/cloudimages/{image_id}/members/{member_id}", get(members::show_member))
        // Glance-style image calls of the SDK.
        .route("/v2/images", get(glance_images::list_images).post(glance_images::create_image))
        .route(
            "/v2/images/{image_id}",
            get(glance_images::show_image).patch(glance_images::update_image).delete(glance_images::delete_image),
        )
        .route("/v2/images/{image_id}/tags/{*tag}", put(tags::glance_add_tag).delete(tags::glance_delete_tag))
        .route("/v2/images/{image_id}/members", post(members::glance_add).get(members::glance_list))
        .route(
            "/v2/images/{image_id}/members/{member_id}",
            get(members::glance_show).put(members::glance_update).delete(members::glance_delete),
        )
        .route("/v2/images/{image_id}/file", put(glance_images::upload).get(glance_images::download))
        .route("/v2/schemas/{name}", get(misc::schema))
        .route("/v2/schemas/metadefs/{name}", get(misc::metadefs_schema))
        // Keystone v3, the part the OpenStack clients use.
        .route("/v3", get(keystone::version))
        .route("/v3/auth/tokens", post(keystone::issue_token).get(keystone::check_token).delete(keystone::revoke_token))
        .route("/v3/auth/projects", get(keystone::list_projects))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_decode_as_forms() {
        let pairs = query_pairs(Some("name=my+image&tag=a%2Fb&limit=2&flag"));
        assert_eq!(
            pairs,
            vec![
                ("name".into(), "my image".into()),
                ("tag".into(), "a/b".into()),
                ("limit".into(), "2".into()),
                ("flag".into(), String::new())
            ]
        );
    }
}
