//! The private image lifecycle between creation and deletion, through the server functions the
//! console calls, on SQLite and PostgreSQL: Modify (checked by the rules of creation, for the
//! owner only) and the deletion protection switch.

mod common;

use common::{field_errors, TestServer};
use reqwest::{Client, StatusCode};
use serde_json::Value;

on_both_backends!(modify_follows_the_rules_of_creation_and_only_the_owner_may);

/// The first of the caller's private images matching `params`.
async fn first_private(server: &TestServer, client: &Client, params: &[(&str, &str)]) -> Value {
    let (status, page) = server.list(client, "private", params).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    page["images"][0].clone()
}

async fn modify(server: &TestServer, client: &Client, fields: &[(&str, &str)]) -> (StatusCode, Value) {
    let form: Vec<(String, String)> =
        fields.iter().map(|(key, value)| (format!("request[{key}]"), value.to_string())).collect();
    server.call(client, "modify_image", &common::pairs(&form)).await
}

async fn modify_follows_the_rules_of_creation_and_only_the_owner_may(server: TestServer) -> TestServer {
    let alice = server.login_as("acme", "alice").await;
    let bob = server.login_as("acme", "bob").await;
    let carol = server.login_as("globex", "carol").await;
    // Not one of the demo's encrypted ones: it is shared below.
    let (_, page) = server.list(&alice, "private", &[("status", "active"), ("image_type", "system")]).await;
    let image = page["images"].as_array().unwrap().iter().find(|image| image["encrypted"] == false).cloned().unwrap();
    let id = image["id"].as_str().unwrap().to_string();
    let (_, before) = server.call(&alice, "get_image", &[("id", &id)]).await;
    let boot_mode = if before["architecture"] == "arm" { "uefi" } else { "bios" };

    // Every field changes, and protection with it.
    let (status, body) = modify(
        &server,
        &alice,
        &[
            ("image_id", &id),
            ("name", "renamed-base 2"),
            ("description", "Hardened base image"),
            ("min_ram", "2048"),
            ("max_ram", "65536"),
            ("boot_mode", boot_mode),
            ("os_version", "Ubuntu 24.04 server 64bit"),
            ("protected", "on"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, after) = server.call(&alice, "get_image", &[("id", &id)]).await;
    assert_eq!(after["name"], "renamed-base 2");
    assert_eq!(after["description"], "Hardened base image");
    assert_eq!((after["min_ram"].as_i64(), after["max_ram"].as_i64()), (Some(2048), Some(65536)));
    assert_eq!(
        (after["hw_firmware_type"].as_str(), after["os_version"].as_str()),
        (Some(boot_mode), Some("Ubuntu 24.04 server 64bit"))
    );
    assert_eq!(after["protected"], true);
    let (status, body) = server.call(&alice, "delete_image", &[("id", &id)]).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(body.to_string().contains("protected"), "{body}");

    // The switch turns protection off again; nothing else changes.
    let (status, body) = server.call(&alice, "set_image_protection", &[("id", &id), ("protected", "false")]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, switched) = server.call(&alice, "get_image", &[("id", &id)]).await;
    assert_eq!((switched["protected"].as_bool(), switched["name"].as_str()), (Some(false), Some("renamed-base 2")));

    // Refusals name their fields, and nothing is written.
    let (status, body) = modify(
        &server,
        &alice,
        &[
            ("image_id", &id),
            ("name", "semi;colon"),
            ("description", "<b>"),
            ("min_ram", "4096"),
            ("max_ram", "1024"),
            ("boot_mode", "legacy"),
            ("os_version", " "),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(field_errors(&body), vec!["name", "description", "max_ram", "boot_mode", "os_version"], "{body}");
    let (_, unchanged) = server.call(&alice, "get_image", &[("id", &id)]).await;
    assert_eq!(unchanged["name"], "renamed-base 2");

    // A data disk image keeps no OS: boot mode and OS version are not asked for.
    let data = first_private(&server, &alice, &[("status", "active"), ("image_type", "data")]).await;
    let data_id = data["id"].as_str().unwrap();
    let (status, body) =
        modify(&server, &alice, &[("image_id", data_id), ("name", "data-renamed"), ("boot_mode", "whatever")]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, data_after) = server.call(&alice, "get_image", &[("id", data_id)]).await;
    assert_eq!((data_after["name"].as_str(), data_after["os_version"].as_str()), (Some("data-renamed"), Some("")));

    // An image still being created waits.
    let creating_id = server.queued_image(&alice, "being-made").await;
    let (status, body) =
        modify(&server, &alice, &[("image_id", &creating_id), ("name", "too-early"), ("os_version", "x")]).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(body.to_string().contains("still being created"), "{body}");

    // Only the owner: a viewer (403), a recipient of the share and a public image (404).
    let good = [("image_id", id.as_str()), ("name", "taken-over"), ("boot_mode", boot_mode), ("os_version", "x")];
    assert_eq!(modify(&server, &bob, &good).await.0, StatusCode::FORBIDDEN);
    assert_eq!(
        server.call(&bob, "set_image_protection", &[("id", &id), ("protected", "true")]).await.0,
        StatusCode::FORBIDDEN
    );
    let (_, credentials) = server.call(&carol, "my_credentials", &[]).await;
    let carol_project = credentials["projects"][0]["project_id"].as_str().unwrap().to_string();
    let (status, body) =
        server.call(&alice, "share_images", &[("images", &id), ("projects", &carol_project), ("expires_on", "")]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        server.call(&carol, "answer_shares", &[("images", &id), ("status", "accepted")]).await.0,
        StatusCode::OK
    );
    assert_eq!(modify(&server, &carol, &good).await.0, StatusCode::NOT_FOUND);
    assert_eq!(
        server.call(&carol, "set_image_protection", &[("id", &id), ("protected", "true")]).await.0,
        StatusCode::NOT_FOUND
    );
    let (_, public) = server.list(&alice, "public", &[]).await;
    let public_id = public["images"][0]["id"].as_str().unwrap();
    let public_form = [("image_id", public_id), ("name", "mine-now"), ("boot_mode", "bios"), ("os_version", "x")];
    assert_eq!(modify(&server, &alice, &public_form).await.0, StatusCode::NOT_FOUND);
    let (_, still) = server.call(&alice, "get_image", &[("id", &id)]).await;
    assert_eq!(still["name"], "renamed-base 2");
    server
}
