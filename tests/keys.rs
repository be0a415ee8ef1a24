//! The Keys page's calls through HTTP: create with checked fields, enable and disable,
//! scheduled deletion (7–30 days) and its cancel, the per-project limit, a viewer's refusal,
//! keys gone once their time comes, and material that is stored only sealed. On SQLite and
//! PostgreSQL.

mod common;

use common::{field_errors, TestServer};
use ims_console::keys::service::sweep_deleted_keys;
use reqwest::StatusCode;
use serde_json::Value;

on_both_backends!(keys_are_created_changed_and_deleted, a_project_holds_at_most_twenty_keys);

const DAY_MS: i64 = 86_400_000;

fn now_ms() -> i64 {
    ims_console::db::now_ms()
}

async fn keys(server: &TestServer, client: &reqwest::Client) -> Vec<Value> {
    let (status, keys) = server.call(client, "list_keys", &[]).await;
    assert_eq!(status, StatusCode::OK, "{keys}");
    keys.as_array().unwrap().clone()
}

async fn create(server: &TestServer, client: &reqwest::Client, alias: &str) -> (StatusCode, Value) {
    server.call(client, "create_key", &[("alias", alias), ("description", "for the tests")]).await
}

async fn keys_are_created_changed_and_deleted(server: TestServer) -> TestServer {
    let alice = server.login_as("acme", "alice").await;
    assert!(keys(&server, &alice).await.is_empty());

    // Bad fields are named, and nothing is stored.
    let (status, body) = server.call(&alice, "create_key", &[("alias", "my key"), ("description", "a\nb")]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(field_errors(&body), ["alias", "description"]);
    assert!(body.to_string().contains("not ' '"), "{body}");
    let (status, body) = create(&server, &alice, "").await;
    assert_eq!((status, field_errors(&body)), (StatusCode::BAD_REQUEST, vec!["alias".to_string()]));
    assert!(keys(&server, &alice).await.is_empty());

    let (status, id) = create(&server, &alice, "images/prod").await;
    assert_eq!(status, StatusCode::OK, "{id}");
    let id = id.as_str().unwrap().to_string();
    assert!(uuid::Uuid::parse_str(&id).is_ok(), "{id}");
    let listed = keys(&server, &alice).await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["alias"], "images/prod");
    assert_eq!(listed[0]["description"], "for the tests");
    assert_eq!(listed[0]["state"], "Enabled");
    assert_eq!(listed[0]["images"], serde_json::json!([]));

    // The same alias twice in a project is refused on the field; another project (region) may use it.
    let (status, body) = create(&server, &alice, "images/prod").await;
    assert_eq!((status, field_errors(&body)), (StatusCode::BAD_REQUEST, vec!["alias".to_string()]), "{body}");
    assert!(body.to_string().contains("already exists"), "{body}");
    let carol = server.login_as("globex", "carol").await;
    assert_eq!(create(&server, &carol, "images/prod").await.0, StatusCode::OK);
    assert!(keys(&server, &carol).await.iter().all(|key| key["id"] != id.as_str()));

    // The material is 32 random bytes, stored only sealed, and opens only as this key's.
    let sealed: String = sqlx::query_scalar("SELECT material_sealed FROM kms_keys WHERE id = $1")
        .bind(&id)
        .fetch_one(&server.state.db)
        .await
        .unwrap();
    let material = server.state.master_key.open(&sealed, &format!("kms-key:{id}")).unwrap();
    assert_eq!(material.len(), 32);
    assert!(!sealed.contains(&ims_console::engine::sealed::hex(&material)));
    assert!(server.state.master_key.open(&sealed, "kms-key:another").is_err());

    // A viewer reads, and changes nothing.
    let bob = server.login_as("acme", "bob").await;
    assert_eq!(keys(&server, &bob).await.len(), 1);
    assert_eq!(create(&server, &bob, "viewer-key").await.0, StatusCode::FORBIDDEN);
    let (status, _) = server.call(&bob, "set_key_enabled", &[("id", &id), ("enabled", "false")]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Disable, then enable (asking twice changes nothing).
    for (enabled, state) in [("false", "Disabled"), ("false", "Disabled"), ("true", "Enabled")] {
        let (status, body) = server.call(&alice, "set_key_enabled", &[("id", &id), ("enabled", enabled)]).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(keys(&server, &alice).await[0]["state"], state);
    }
    // Another tenant cannot touch it.
    let (status, _) = server.call(&carol, "set_key_enabled", &[("id", &id), ("enabled", "false")]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = server.call(&carol, "schedule_key_deletion", &[("id", &id), ("pending_days", "7")]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Deletion waits 7–30 days.
    for days in ["6", "31", "seven", ""] {
        let (status, body) = server.call(&alice, "schedule_key_deletion", &[("id", &id), ("pending_days", days)]).await;
        assert_eq!(
            (status, field_errors(&body)),
            (StatusCode::BAD_REQUEST, vec!["pending_days".to_string()]),
            "{days}"
        );
    }
    let before = now_ms();
    let (status, at) = server.call(&alice, "schedule_key_deletion", &[("id", &id), ("pending_days", "10")]).await;
    assert_eq!(status, StatusCode::OK, "{at}");
    let at = at.as_i64().unwrap();
    assert!((before + 10 * DAY_MS..=now_ms() + 10 * DAY_MS).contains(&at), "{at}");
    let listed = keys(&server, &alice).await;
    assert_eq!((listed[0]["state"].as_str(), listed[0]["deletion_at"].as_i64()), (Some("PendingDeletion"), Some(at)));
    let (status, body) = server.call(&alice, "schedule_key_deletion", &[("id", &id), ("pending_days", "7")]).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    // While it waits it cannot be enabled; cancelling brings it back disabled.
    let (status, body) = server.call(&alice, "set_key_enabled", &[("id", &id), ("enabled", "true")]).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(body.to_string().contains("Cancel the deletion first"), "{body}");
    let (status, body) = server.call(&alice, "cancel_key_deletion", &[("id", &id)]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let listed = keys(&server, &alice).await;
    assert_eq!((listed[0]["state"].as_str(), &listed[0]["deletion_at"]), (Some("Disabled"), &Value::Null));
    let (status, _) = server.call(&alice, "cancel_key_deletion", &[("id", &id)]).await;
    assert_eq!(status, StatusCode::CONFLICT);

    // When the waiting period is over the key is gone at once, its alias free, and the sweeper
    // removes the row with its material.
    assert_eq!(
        server.call(&alice, "schedule_key_deletion", &[("id", &id), ("pending_days", "7")]).await.0,
        StatusCode::OK
    );
    sqlx::query("UPDATE kms_keys SET deletion_at = $1 WHERE id = $2")
        .bind(now_ms() - 1)
        .bind(&id)
        .execute(&server.state.db)
        .await
        .unwrap();
    assert!(keys(&server, &alice).await.is_empty());
    let (status, _) = server.call(&alice, "cancel_key_deletion", &[("id", &id)]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    sweep_deleted_keys(&server.state).await;
    let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM kms_keys WHERE id = $1")
        .bind(&id)
        .fetch_one(&server.state.db)
        .await
        .unwrap();
    assert_eq!(rows, 0);
    assert_eq!(create(&server, &alice, "images/prod").await.0, StatusCode::OK);

    // The page lists the key, under Data Encryption in the navigation.
    let (status, page) = server.page(&alice, "/keys").await;
    assert_eq!(status, StatusCode::OK);
    for words in ["Data Encryption", "images/prod", "Create Key", "Schedule Deletion", "Enabled"] {
        assert!(page.contains(words), "{words}");
    }
    server
}

async fn a_project_holds_at_most_twenty_keys(server: TestServer) -> TestServer {
    let alice = server.login_as("acme", "alice").await;
    for index in 0..20 {
        let (status, body) = create(&server, &alice, &format!("key-{index:02}")).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let (status, body) = create(&server, &alice, "key-20").await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(body.to_string().contains("already holds 20 keys"), "{body}");
    assert_eq!(keys(&server, &alice).await.len(), 20);
    server
}
