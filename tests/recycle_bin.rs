//! Deleting private images, through the server functions the console calls, on SQLite and
//! PostgreSQL: what a deletion affects, protection refusing it by name, the recycle bin (restore,
//! delete permanently, and expiry with the sweeper under a short retention), shares ending, the
//! file kept until the end and removed after, and each step in the operation log.

mod common;

use common::TestServer;
use ims_console::storage::Storage;
use reqwest::{Client, StatusCode};
use serde_json::Value;

on_both_backends!(the_recycle_bin_keeps_deleted_images_until_restored_or_deleted);
on_both_backends_with!(
    &[("IMS_RECYCLE_RETENTION_SECONDS", "2"), ("IMS_RECYCLE_SWEEP_SECONDS", "1")],
    the_sweeper_removes_images_whose_time_is_up
);

fn stored_file(server: &TestServer, id: &str) -> std::path::PathBuf {
    server.state.storage.local_path(&Storage::image_key("cn-north-4", id, "qcow2")).unwrap()
}

async fn bin(server: &TestServer, client: &Client) -> Vec<Value> {
    let (status, body) = server.call(client, "list_recycled_images", &[]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["images"].as_array().unwrap().clone()
}

async fn in_bin(server: &TestServer, client: &Client, id: &str) -> bool {
    bin(server, client).await.iter().any(|image| image["id"] == id)
}

async fn operations(server: &TestServer, client: &Client, operation: &str) -> Vec<Value> {
    let form = [
        ("query[from]", ""),
        ("query[to]", ""),
        ("query[user]", ""),
        ("query[resource]", ""),
        ("query[operation]", operation),
        ("query[page]", ""),
    ];
    let (status, body) = server.call(client, "list_operations", &form).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["records"].as_array().unwrap().clone()
}

async fn the_recycle_bin_keeps_deleted_images_until_restored_or_deleted(server: TestServer) -> TestServer {
    let alice = server.login_as("acme", "alice").await;
    let bob = server.login_as("acme", "bob").await;
    let carol = server.login_as("globex", "carol").await;
    let id = server.import_real_image(&alice, "bin-me").await;
    let (_, credentials) = server.call(&carol, "my_credentials", &[]).await;
    let carol_project = credentials["projects"][0]["project_id"].as_str().unwrap().to_string();
    let (status, body) =
        server.call(&alice, "share_images", &[("images", &id), ("projects", &carol_project), ("expires_on", "")]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    server.call(&carol, "answer_shares", &[("images", &id), ("status", "accepted")]).await;

    // The impact names the share; protection refuses the deletion by name, and nothing moves.
    let (status, plan) = server.call(&alice, "deletion_impact", &[("images", &id)]).await;
    assert_eq!(status, StatusCode::OK, "{plan}");
    assert_eq!(plan["images"][0]["descendants"]["shares"][0]["account"], "globex", "{plan}");
    assert_eq!(plan["retention_ms"], 7 * 86_400_000);
    server.call(&alice, "set_image_protection", &[("id", &id), ("protected", "true")]).await;
    let (_, plan) = server.call(&alice, "deletion_impact", &[("images", &id)]).await;
    assert!(plan["images"][0]["refusal"].as_str().unwrap().contains("'bin-me' is protected"), "{plan}");
    let (status, body) = server.call(&alice, "delete_images", &[("images", &id)]).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(body.to_string().contains("'bin-me' is protected"), "{body}");
    assert!(!in_bin(&server, &alice, &id).await);
    // A viewer is refused, and the refusal is logged too.
    server.call(&alice, "set_image_protection", &[("id", &id), ("protected", "false")]).await;
    assert_eq!(server.call(&bob, "delete_images", &[("images", &id)]).await.0, StatusCode::FORBIDDEN);

    // Deleted: out of every list and unusable, its share ended, its file kept.
    let (status, body) = server.call(&alice, "delete_images", &[("images", &id)]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(server.call(&alice, "get_image", &[("id", &id)]).await.0, StatusCode::NOT_FOUND);
    let (_, private) = server.list(&alice, "private", &[("name", "bin-me")]).await;
    assert_eq!(private["total"], 0);
    let (_, shared) = server.list(&carol, "shared", &[]).await;
    assert!(!shared.to_string().contains(&id), "the share ended");
    let server_form = common::compute::server_form("from-bin", &id, "s6.small.1", "");
    let (status, _) = server.call(&alice, "create_servers", &common::pairs(&server_form)).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "a recycled image makes no ECS");
    let recycled = bin(&server, &alice).await.into_iter().find(|image| image["id"] == id.as_str()).unwrap();
    assert_eq!(recycled["name"], "bin-me");
    let left = recycled["purge_at"].as_i64().unwrap() - recycled["deleted_at"].as_i64().unwrap();
    assert_eq!(left, 7 * 86_400_000);
    assert!(stored_file(&server, &id).exists(), "the file waits with the image");
    assert!(!in_bin(&server, &carol, &id).await, "each project sees its own bin");
    assert_eq!(server.call(&carol, "restore_image", &[("id", &id)]).await.0, StatusCode::NOT_FOUND);

    // Restored: usable again, the share stays ended.
    let (status, body) = server.call(&alice, "restore_image", &[("id", &id)]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, image) = server.call(&alice, "get_image", &[("id", &id)]).await;
    assert_eq!((image["status"].as_str(), image["shared_with"].as_i64()), (Some("active"), Some(0)));
    assert!(!in_bin(&server, &alice, &id).await);

    // Deleted for good: gone from the bin, its file removed, the purge on the Jobs page.
    server.call(&alice, "delete_images", &[("images", &id)]).await;
    let (status, body) = server.call(&alice, "delete_image_permanently", &[("id", &id)]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(!in_bin(&server, &alice, &id).await);
    assert!(!stored_file(&server, &id).exists(), "the file is removed");
    let (status, body) = server.call(&alice, "restore_image", &[("id", &id)]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(body.to_string().contains("not in your recycle bin"), "{body}");
    let (_, jobs) = server.call(&alice, "list_jobs", &[]).await;
    assert!(
        jobs.as_array().unwrap().iter().any(|job| job["job_type"] == "imsPurgeRecycledImageJob"
            && job["status"] == "SUCCESS"
            && job["image_id"] == id.as_str()),
        "{jobs}"
    );

    // The operation log has each step, the refusals with their reasons; only the admin reads it.
    let deletes = operations(&server, &alice, "Delete images").await;
    assert!(deletes.iter().any(|record| record["result"] == "success" && record["resource_id"] == id.as_str()));
    assert!(
        deletes.iter().any(|record| record["result"] == "failure"
            && record["user_name"] == "alice"
            && record["reason"].as_str().unwrap().contains("protected")),
        "{deletes:?}"
    );
    assert!(deletes.iter().any(|record| record["result"] == "failure" && record["user_name"] == "bob"));
    let restores = operations(&server, &alice, "Restore image").await;
    assert_eq!(restores.iter().filter(|record| record["result"] == "success").count(), 1);
    assert!(restores.iter().any(|record| record["reason"].as_str().unwrap().contains("not in your recycle bin")));
    assert_eq!(operations(&server, &alice, "Delete image permanently").await.len(), 1);
    assert!(operations(&server, &carol, "Delete images").await.is_empty(), "another account's log is its own");
    let (status, _) = server
        .call(
            &bob,
            "list_operations",
            &[
                ("query[from]", ""),
                ("query[to]", ""),
                ("query[user]", ""),
                ("query[resource]", ""),
                ("query[operation]", ""),
                ("query[page]", ""),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    server
}

async fn the_sweeper_removes_images_whose_time_is_up(server: TestServer) -> TestServer {
    let alice = server.login_as("acme", "alice").await;
    let id = server.import_real_image(&alice, "expires").await;
    let (status, body) = server.call(&alice, "delete_images", &[("images", &id)]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(in_bin(&server, &alice, &id).await);
    assert!(stored_file(&server, &id).exists());
    for _ in 0..100 {
        if !in_bin(&server, &alice, &id).await {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(!in_bin(&server, &alice, &id).await, "the sweeper took it out of the bin");
    assert!(!stored_file(&server, &id).exists(), "and removed the file");
    assert_eq!(server.call(&alice, "restore_image", &[("id", &id)]).await.0, StatusCode::NOT_FOUND);
    let (_, jobs) = server.call(&alice, "list_jobs", &[]).await;
    assert!(jobs.as_array().unwrap().iter().any(|job| job["job_type"] == "imsPurgeRecycledImageJob"), "{jobs}");
    server
}
