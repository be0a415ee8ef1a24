//! Image families through HTTP: the family set on Create Image and Modify, "latest of family"
//! (skipping deprecated images) for Create ECS, and a family's policy: new members replicated
//! to the listed region (replicas are not replicated back), and members past the newest N
//! moved to the recycle bin unless protected or shared. On SQLite and PostgreSQL.

mod common;

use common::compute::{create_server, server_form};
use common::{disk_files, field_errors, import_form, pairs, TestServer};
use ims_console::images::family_service::settle_new_members;
use reqwest::{Client, StatusCode};
use serde_json::Value;

on_both_backends!(families_name_their_latest_image, family_policies_replicate_and_keep_the_newest);

/// Imports a real 4 MiB qcow2 disk as image `name` of `family`; returns its id once Normal.
async fn import_into(server: &TestServer, client: &Client, name: &str, family: &str) -> String {
    let folder = server.state.work_dir().join(format!("test-{name}"));
    let (_, qcow2) = disk_files(&folder, 4);
    std::fs::remove_dir_all(&folder).ok();
    server.call(client, "create_bucket", &[("name", "family-files")]).await;
    server.upload(client, "family-files", &format!("{name}.qcow2"), &qcow2).await;
    let mut form = import_form(name, "family-files", &format!("{name}.qcow2"), "qcow2");
    form.push(("request[family]".into(), family.into()));
    let (status, id) = server.call(client, "create_image_from_file", &pairs(&form)).await;
    assert_eq!(status, StatusCode::OK, "{id}");
    let image = server.wait_for_image(client, id.as_str().unwrap()).await;
    assert_eq!(image["status"], "active", "{image}");
    assert_eq!(image["family"], family);
    id.as_str().unwrap().to_string()
}

/// The family's images in the recycle bin (the demo has others there).
async fn recycled_members(server: &TestServer, client: &Client) -> Vec<String> {
    let (_, bin) = server.call(client, "list_recycled_images", &[]).await;
    bin["images"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|image| image["name"].as_str().unwrap().starts_with("db-v"))
        .map(|image| image["id"].as_str().unwrap().to_string())
        .collect()
}

/// Waits until no cross-region copy is queued or running.
async fn copies_done(server: &TestServer) {
    for _ in 0..600 {
        let pending: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM jobs WHERE job_type = 'imsCrossRegionCopyImageJob' AND status IN ('INIT', 'RUNNING')",
        )
        .fetch_one(&server.state.db)
        .await
        .unwrap();
        if pending == 0 {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the copies did not finish within a minute");
}

async fn families(server: &TestServer, client: &Client) -> Vec<Value> {
    let (status, families) = server.call(client, "list_image_families", &[]).await;
    assert_eq!(status, StatusCode::OK, "{families}");
    families.as_array().unwrap().clone()
}

async fn set_policy(server: &TestServer, client: &Client, fields: &[(&str, &str)]) -> (StatusCode, Value) {
    server.call(client, "set_family_policy", fields).await
}

async fn families_name_their_latest_image(server: TestServer) -> TestServer {
    let alice = server.login_as("acme", "alice").await;
    let mut form = import_form("badly-named", "nowhere", "x.qcow2", "qcow2");
    form.push(("request[family]".into(), "Web Frontend".into()));
    let (status, body) = server.call(&alice, "create_image_from_file", &pairs(&form)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(field_errors(&body).contains(&"family".to_string()), "{body}");

    let first = import_into(&server, &alice, "web-v1", "web").await;
    let second = import_into(&server, &alice, "web-v2", "web").await;
    let listed = families(&server, &alice).await;
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!((listed[0]["name"].as_str(), listed[0]["members"].as_i64()), (Some("web"), Some(2)));
    assert_eq!(listed[0]["latest"][0], second.as_str());

    // A deprecated image is not the latest; the one before it is.
    let (status, _) =
        server.call(&alice, "set_image_deprecation", &[("id", &second), ("deprecate_at", "2020-01-01T00:00")]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(families(&server, &alice).await[0]["latest"][0], first.as_str());
    server.call(&alice, "set_image_deprecation", &[("id", &second), ("deprecate_at", "")]).await;

    // Create ECS offers the family, and gets its latest image.
    let (_, choices) = server.call(&alice, "list_image_choices", &[("for_disks", "false")]).await;
    let choice = choices.as_array().unwrap().iter().find(|choice| choice["id"] == "family:web").unwrap().clone();
    assert_eq!(choice["category"], "Family");
    assert_eq!(choice["name"], "Latest of family web (web-v2)");
    let ecs = create_server(&server, &alice, &server_form("from-family", "family:web", "s6.small.1", "")).await;
    let (_, detail) = server.call(&alice, "get_server", &[("id", &ecs)]).await;
    assert_eq!(detail["server"]["image_id"], second.as_str(), "{detail}");
    let (status, body) =
        server.call(&alice, "create_servers", &pairs(&server_form("nope", "family:nope", "s6.small.1", ""))).await;
    assert_eq!((status, field_errors(&body)), (StatusCode::BAD_REQUEST, vec!["image_id".to_string()]), "{body}");

    // Modify moves an image into another family, or out of any.
    let (_, image) = server.call(&alice, "get_image", &[("id", &first)]).await;
    let modify = |family: &'static str| {
        let image = image.clone();
        let (server, alice) = (&server, &alice);
        async move {
            let fields = [
                ("request[image_id]", image["id"].as_str().unwrap()),
                ("request[name]", image["name"].as_str().unwrap()),
                ("request[boot_mode]", "bios"),
                ("request[os_version]", image["os_version"].as_str().unwrap()),
                ("request[family]", family),
            ];
            server.call(alice, "modify_image", &fields).await
        }
    };
    let (status, body) = modify("-bad").await;
    assert_eq!((status, field_errors(&body)), (StatusCode::BAD_REQUEST, vec!["family".to_string()]), "{body}");
    assert_eq!(modify("api").await.0, StatusCode::OK);
    let names: Vec<String> =
        families(&server, &alice).await.iter().map(|family| family["name"].as_str().unwrap().to_string()).collect();
    assert_eq!(names, ["api", "web"]);
    assert_eq!(modify("").await.0, StatusCode::OK);
    assert_eq!(families(&server, &alice).await.len(), 1);
    server
}

async fn family_policies_replicate_and_keep_the_newest(server: TestServer) -> TestServer {
    let alice = server.login_as("acme", "alice").await;
    let policy =
        [("request[name]", "db"), ("request[keep_newest]", "1"), ("request[replicate_to][ap-southeast-1]", "on")];
    let (status, body) = set_policy(
        &server,
        &alice,
        &[("request[name]", "db"), ("request[keep_newest]", "0"), ("request[replicate_to][cn-north-4]", "on")],
    )
    .await;
    assert_eq!(
        (status, field_errors(&body)),
        (StatusCode::BAD_REQUEST, vec!["keep_newest".into(), "replicate_to".into()])
    );
    assert_eq!(set_policy(&server, &alice, &policy).await.0, StatusCode::OK);
    let listed = families(&server, &alice).await;
    assert_eq!((listed[0]["name"].as_str(), listed[0]["members"].as_i64()), (Some("db"), Some(0)));
    assert_eq!(listed[0]["keep_newest"], 1);
    assert_eq!(listed[0]["replicate_to"], serde_json::json!(["ap-southeast-1"]));
    let bob = server.login_as("acme", "bob").await;
    assert_eq!(set_policy(&server, &bob, &policy).await.0, StatusCode::FORBIDDEN);

    // v1 is protected, v2 is shared: the newest-1 rule removes neither. v3 then removes nothing
    // protected or shared, and the later v4 removes v3.
    let v1 = import_into(&server, &alice, "db-v1", "db").await;
    settle_new_members(&server.state).await;
    server.call(&alice, "set_image_protection", &[("id", &v1), ("protected", "true")]).await;
    let v2 = import_into(&server, &alice, "db-v2", "db").await;
    let (_, carol_session) = {
        let carol = server.login_as("globex", "carol").await;
        server.call(&carol, "session_info", &[]).await
    };
    sqlx::query(
        "INSERT INTO image_members (image_id, member_id, status, created_at, updated_at) VALUES ($1, $2, 'accepted', 0, 0)",
    )
    .bind(&v2)
    .bind(carol_session["project_id"].as_str().unwrap())
    .execute(&server.state.db)
    .await
    .unwrap();
    settle_new_members(&server.state).await;
    let v3 = import_into(&server, &alice, "db-v3", "db").await;
    settle_new_members(&server.state).await;
    assert!(recycled_members(&server, &alice).await.is_empty(), "protected and shared members stay");
    // v3's replication reads v3, which cannot go to the recycle bin until it has finished.
    copies_done(&server).await;
    let v4 = import_into(&server, &alice, "db-v4", "db").await;
    settle_new_members(&server.state).await;
    assert_eq!(recycled_members(&server, &alice).await, vec![v3]);
    assert_eq!(families(&server, &alice).await[0]["latest"][0], v4.as_str());

    // Each new member was replicated to Hong Kong, by the policy, and the replicas stay there.
    copies_done(&server).await;
    settle_new_members(&server.state).await;
    server.switch_region(&alice, "ap-southeast-1").await;
    let (_, hong_kong) = server.list(&alice, "private", &[("name", "db-v"), ("page_size", "50")]).await;
    let mut replicas: Vec<(String, String)> = hong_kong["images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|image| (image["name"].as_str().unwrap().to_string(), image["status"].as_str().unwrap().to_string()))
        .collect();
    replicas.sort();
    let expected: Vec<(String, String)> =
        ["db-v1", "db-v2", "db-v3", "db-v4"].iter().map(|name| (name.to_string(), "active".to_string())).collect();
    assert_eq!(replicas, expected, "{hong_kong}");
    let back: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM jobs WHERE job_type = 'imsCrossRegionCopyImageJob' AND region = 'ap-southeast-1'",
    )
    .fetch_one(&server.state.db)
    .await
    .unwrap();
    assert_eq!(back, 0, "replicas are not replicated back");
    let hk_families = families(&server, &alice).await;
    assert_eq!((hk_families[0]["name"].as_str(), hk_families[0]["members"].as_i64()), (Some("db"), Some(4)));
    // The policy's steps are in the operation log, by "Family policy".
    let by_policy: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM operation_log WHERE user_name = 'Family policy'")
        .fetch_one(&server.state.db)
        .await
        .unwrap();
    assert_eq!(by_policy, 5, "four replications and one removal");
    server
}
