//! Replication through HTTP: a copy within the region and a copy into the account's project of
//! another region (Normal once copied, same bytes, lineage back to the source), the checked
//! fields, and every refusal with its reason. On SQLite and PostgreSQL.

mod common;

use common::{field_errors, TestServer};
use reqwest::{Client, StatusCode};
use serde_json::Value;

on_both_backends!(images_are_replicated_within_and_across_regions, replication_refuses_with_reasons);

const HONG_KONG: &str = "ap-southeast-1";

async fn replicate(server: &TestServer, client: &Client, fields: &[(&str, &str)]) -> (StatusCode, Value) {
    let form: Vec<(String, String)> =
        fields.iter().map(|(field, value)| (format!("request[{field}]"), value.to_string())).collect();
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    server.call(client, "replicate_images", &pairs).await
}

async fn hong_kong_project(server: &TestServer, client: &Client) -> String {
    let (status, targets) = server.call(client, "replication_targets", &[]).await;
    assert_eq!(status, StatusCode::OK, "{targets}");
    let targets = targets.as_array().unwrap();
    assert_eq!(targets.len(), 1, "every region but the current one: {targets:?}");
    assert_eq!(targets[0]["region"], HONG_KONG);
    assert_eq!(targets[0]["project_name"], HONG_KONG, "a project is named after its region");
    targets[0]["project_id"].as_str().unwrap().to_string()
}

async fn images_are_replicated_within_and_across_regions(server: TestServer) -> TestServer {
    let alice = server.login_as("acme", "alice").await;
    let source_id = server.import_real_image(&alice, "web").await;
    let (_, source) = server.call(&alice, "get_image", &[("id", &source_id)]).await;

    // Within the region: a Normal copy with the same bytes, its lineage pointing back.
    let (status, ids) =
        replicate(&server, &alice, &[("images", &source_id), ("replication_type", "region"), ("name", "web-copy")])
            .await;
    assert_eq!(status, StatusCode::OK, "{ids}");
    let copy_id = ids[0].as_str().unwrap().to_string();
    let copy = server.wait_for_image(&alice, &copy_id).await;
    assert_eq!(copy["status"], "active", "{copy}");
    assert_eq!(copy["name"], "web-copy");
    assert_eq!(copy["region"], "cn-north-4");
    for field in ["sha256", "checksum", "image_size", "virtual_size", "disk_format", "os_version", "min_disk"] {
        assert_eq!(copy[field], source[field], "{field}");
    }
    assert_eq!(copy["lineage"]["source"]["Replica"]["image"]["id"], source_id.as_str(), "{copy}");
    assert_eq!(copy["lineage"]["source"]["Replica"]["image"]["href"], format!("/image/{source_id}"));
    let (_, jobs) = server.call(&alice, "list_jobs", &[]).await;
    let job = jobs.as_array().unwrap().iter().find(|job| job["image_id"] == copy_id.as_str()).unwrap().clone();
    assert_eq!((job["job_type"].as_str(), job["status"].as_str()), (Some("imsCopyImageInRegionJob"), Some("SUCCESS")));

    // Across regions: the replica belongs to the account's Hong Kong project.
    let project = hong_kong_project(&server, &alice).await;
    let (status, body) = replicate(
        &server,
        &alice,
        &[
            ("images", &source_id),
            ("replication_type", "cross"),
            ("name", "web-hk"),
            ("region", "cn-north-4"),
            ("project_id", &project),
        ],
    )
    .await;
    assert_eq!((status, field_errors(&body)), (StatusCode::BAD_REQUEST, vec!["region".to_string()]), "{body}");
    let carol = server.login_as("globex", "carol").await;
    server.switch_region(&carol, HONG_KONG).await;
    let (_, carol_session) = server.call(&carol, "session_info", &[]).await;
    let foreign = carol_session["project_id"].as_str().unwrap();
    let (server_ref, alice_ref) = (&server, &alice);
    let cross = |project: String, name: &'static str| {
        let source_id = source_id.clone();
        async move {
            let fields = [
                ("images", source_id.as_str()),
                ("replication_type", "cross"),
                ("name", name),
                ("description", "for Hong Kong"),
                ("region", HONG_KONG),
                ("project_id", project.as_str()),
            ];
            replicate(server_ref, alice_ref, &fields).await
        }
    };
    let (status, body) = cross(foreign.to_string(), "web-hk").await;
    assert_eq!((status, field_errors(&body)), (StatusCode::BAD_REQUEST, vec!["project_id".to_string()]), "{body}");
    let (status, ids) = cross(project.clone(), "web-hk").await;
    assert_eq!(status, StatusCode::OK, "{ids}");
    let replica_id = ids[0].as_str().unwrap().to_string();
    let (_, jobs) = server.call(&alice, "list_jobs", &[]).await;
    let job = jobs.as_array().unwrap().iter().find(|job| job["image_id"] == replica_id.as_str()).unwrap().clone();
    let job = server.wait_for_job(&alice, job["id"].as_str().unwrap()).await;
    assert_eq!(
        (job["job_type"].as_str(), job["status"].as_str()),
        (Some("imsCrossRegionCopyImageJob"), Some("SUCCESS"))
    );
    // Not in the source region's lists; Normal in Hong Kong's private list.
    let (status, _) = server.call(&alice, "get_image", &[("id", &replica_id)]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    server.switch_region(&alice, HONG_KONG).await;
    let (_, private) = server.list(&alice, "private", &[("name", "web-hk")]).await;
    let listed: Vec<&Value> = private["images"].as_array().unwrap().iter().collect();
    assert_eq!(listed.len(), 1, "{private}");
    assert_eq!((listed[0]["id"].as_str(), listed[0]["status"].as_str()), (Some(replica_id.as_str()), Some("active")));
    let (_, replica) = server.call(&alice, "get_image", &[("id", &replica_id)]).await;
    assert_eq!(replica["region"], HONG_KONG);
    assert_eq!(replica["owner"], project.as_str());
    assert_eq!(replica["description"], "for Hong Kong");
    assert_eq!(replica["sha256"], source["sha256"]);
    let lineage = &replica["lineage"]["source"]["Replica"];
    assert_eq!(
        (lineage["image"]["name"].as_str(), lineage["region"].as_str()),
        (Some("web"), Some("CN North-Beijing4"))
    );
    assert!(lineage["image"]["href"].is_null(), "the source's page is in the other region");
    // Its file is in the Hong Kong region's part of the store.
    let location: String = sqlx::query_scalar("SELECT file_location FROM images WHERE id = $1")
        .bind(&replica_id)
        .fetch_one(&server.state.db)
        .await
        .unwrap();
    assert!(location.starts_with("images/ap-southeast-1/"), "{location}");
    assert!(server.work_leftovers().is_empty());
    server
}

async fn replication_refuses_with_reasons(server: TestServer) -> TestServer {
    let alice = server.login_as("acme", "alice").await;
    let id = server.import_real_image(&alice, "base").await;
    let project = hong_kong_project(&server, &alice).await;
    let (server_ref, alice_ref) = (&server, &alice);
    let within = |id: String| async move { within_as(server_ref, alice_ref, &id).await };
    let across = |images: String| {
        let project = project.clone();
        async move {
            replicate(
                server_ref,
                alice_ref,
                &[
                    ("images", &images),
                    ("replication_type", "cross"),
                    ("name", "away"),
                    ("region", HONG_KONG),
                    ("project_id", &project),
                ],
            )
            .await
        }
    };
    let set = |sql: &'static str| {
        let (db, id) = (server.state.db.clone(), id.clone());
        async move { sqlx::query(sql).bind(&id).execute(&db).await.unwrap() }
    };
    let refused = |(status, body): (StatusCode, Value), reason: &str| {
        assert_eq!(status, StatusCode::CONFLICT, "{body}");
        assert!(body.to_string().contains(reason), "expected '{reason}': {body}");
    };

    // Fields: a bad name, six images across regions, several within one, no type.
    let (status, body) =
        replicate(&server, &alice, &[("images", &id), ("replication_type", "region"), ("name", "a<b")]).await;
    assert_eq!((status, field_errors(&body)), (StatusCode::BAD_REQUEST, vec!["name".to_string()]), "{body}");
    let six = vec![id.clone(); 6].join(",");
    let (status, body) = across(six).await;
    assert_eq!((status, field_errors(&body)), (StatusCode::BAD_REQUEST, vec!["images".to_string()]), "{body}");
    assert!(body.to_string().contains("At most 5 images"), "{body}");
    let (status, body) = replicate(&server, &alice, &[("images", &id), ("name", "x")]).await;
    assert_eq!((status, field_errors(&body)), (StatusCode::BAD_REQUEST, vec!["replication_type".to_string()]));

    // Each rule, with its reason; nothing is registered by a refusal.
    let images_before: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM images").fetch_one(&server.state.db).await.unwrap();
    set("UPDATE images SET virtual_size = 137438953473 WHERE id = $1").await;
    refused(within(id.clone()).await, "larger than 128 GB cannot be replicated; this one's disk is 129 GB");
    refused(across(id.clone()).await, "larger than 128 GB");
    set("UPDATE images SET virtual_size = 4194304, cmk_id = 'a-key' WHERE id = $1").await;
    refused(across(id.clone()).await, "Encrypted images cannot be replicated across regions");
    set("UPDATE images SET cmk_id = '', image_kind = 'iso' WHERE id = $1").await;
    refused(within(id.clone()).await, "ISO images cannot be replicated");
    refused(across(id.clone()).await, "ISO images cannot be replicated");
    set("UPDATE images SET image_kind = 'full_ecs' WHERE id = $1").await;
    refused(within(id.clone()).await, "Full-ECS images cannot be replicated within a region");
    refused(across(id.clone()).await, "Full-ECS images cannot be replicated across regions");
    set("UPDATE images SET image_kind = 'system' WHERE id = $1").await;
    // Two images across regions where one is refused: neither is replicated.
    let queued = server.queued_image(&alice, "still-saving").await;
    refused(across(format!("{id},{queued}")).await, "Only images in the Normal state");
    let images_after: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM images").fetch_one(&server.state.db).await.unwrap();
    assert_eq!(images_after, images_before + 1, "only the queued image of the test was added");

    // Public images, and images shared with the caller, are not the caller's to replicate.
    let (_, public) = server.list(&alice, "public", &[]).await;
    let public_id = public["images"][0]["id"].as_str().unwrap().to_string();
    refused(within(public_id).await, "Public images cannot be replicated");
    let carol = server.login_as("globex", "carol").await;
    let (_, carol_session) = server.call(&carol, "session_info", &[]).await;
    sqlx::query(
        "INSERT INTO image_members (image_id, member_id, status, created_at, updated_at) VALUES ($1, $2, 'accepted', 0, 0)",
    )
    .bind(&id)
    .bind(carol_session["project_id"].as_str().unwrap())
    .execute(&server.state.db)
    .await
    .unwrap();
    let (status, body) =
        replicate(&server, &carol, &[("images", &id), ("replication_type", "region"), ("name", "mine")]).await;
    refused((status, body), "Images shared with you cannot be replicated");
    // Someone the image is not shared with does not learn it exists.
    sqlx::query("DELETE FROM image_members WHERE image_id = $1").bind(&id).execute(&server.state.db).await.unwrap();
    let (status, _) =
        replicate(&server, &carol, &[("images", &id), ("replication_type", "region"), ("name", "mine")]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // A viewer may look, not replicate.
    let bob = server.login_as("acme", "bob").await;
    let (status, _) = within_as(&server, &bob, &id).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    server
}

async fn within_as(server: &TestServer, client: &Client, id: &str) -> (StatusCode, Value) {
    replicate(server, client, &[("images", id), ("replication_type", "region"), ("name", "again")]).await
}
