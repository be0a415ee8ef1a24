//! The IMS API over HTTP against a real server: access keys, the signature's edge cases, every
//! error shape, and the real `huaweicloudsdkims` SDK (tests/api_clients/ims_sdk.py) driving a
//! whole image's life.

mod common;

use common::{disk_files, Backend, TestServer};
use ims_console::auth::signature;
use reqwest::{Client, Method, StatusCode};
use serde_json::Value;

/// An access key as the server handed it out.
struct Key {
    ak: String,
    sk: String,
    project: String,
}

async fn project_of(server: &TestServer, client: &Client) -> String {
    let (_, session) = server.call(client, "session_info", &[]).await;
    session["project_id"].as_str().unwrap().to_string()
}

async fn new_key(server: &TestServer, client: &Client) -> Key {
    let (status, body) = server.call(client, "create_access_key", &[("description", "test key")]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    Key {
        ak: body["access_key"].as_str().unwrap().to_string(),
        sk: body["secret_key"].as_str().unwrap().to_string(),
        project: project_of(server, client).await,
    }
}

fn sdk_date(offset_seconds: i64) -> String {
    let now = time::OffsetDateTime::now_utc() + time::Duration::seconds(offset_seconds);
    let format = time::macros::format_description!("[year][month][day]T[hour][minute][second]Z");
    now.format(&format).unwrap()
}

/// A request signed as the SDK signs it; `tamper` may change what is sent after signing.
struct Signed<'a> {
    method: Method,
    path: &'a str,
    query: &'a str,
    body: &'a str,
    project: Option<&'a str>,
    date: String,
    signed_headers: &'a str,
}

impl<'a> Signed<'a> {
    fn new(method: Method, path: &'a str, project: &'a str) -> Signed<'a> {
        Signed {
            method,
            path,
            query: "",
            body: "",
            project: Some(project),
            date: sdk_date(0),
            signed_headers: "content-type;host;x-project-id;x-sdk-date",
        }
    }

    fn authorization(&self, server: &TestServer, key: &Key) -> String {
        let host = server.base.trim_start_matches("http://").to_string();
        let (date, project) = (self.date.clone(), self.project.map(str::to_string));
        let names: Vec<String> = self.signed_headers.split(';').map(str::to_string).collect();
        let canonical = signature::canonical_request(
            self.method.as_str(),
            self.path,
            self.query,
            &names,
            |name| match name {
                "content-type" => Some("application/json".into()),
                "host" => Some(host.clone()),
                "x-sdk-date" => Some(date.clone()),
                "x-project-id" => project.clone(),
                _ => None,
            },
            self.body.as_bytes(),
        )
        .unwrap();
        let to_sign = signature::string_to_sign(&self.date, &canonical);
        format!(
            "SDK-HMAC-SHA256 Access={}, SignedHeaders={}, Signature={}",
            key.ak,
            self.signed_headers,
            signature::sign(key.sk.as_bytes(), &to_sign)
        )
    }

    /// Sends it, with `sent_query`/`sent_body` in place of what was signed when given.
    async fn send_as(
        &self,
        server: &TestServer,
        key: &Key,
        sent_query: Option<&str>,
        sent_body: Option<&str>,
    ) -> (StatusCode, Value) {
        let query = sent_query.unwrap_or(self.query);
        let url = if query.is_empty() { server.url(self.path) } else { server.url(&format!("{}?{query}", self.path)) };
        let mut request = Client::new()
            .request(self.method.clone(), url)
            .header("content-type", "application/json")
            .header("x-sdk-date", &self.date)
            .header("authorization", self.authorization(server, key))
            .body(sent_body.unwrap_or(self.body).to_string());
        if let Some(project) = self.project {
            request = request.header("x-project-id", project);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    async fn send(&self, server: &TestServer, key: &Key) -> (StatusCode, Value) {
        self.send_as(server, key, None, None).await
    }
}

fn ims_error(body: &Value) -> (&str, &str) {
    (body["error_code"].as_str().unwrap_or_default(), body["error_msg"].as_str().unwrap_or_default())
}

async fn access_keys_and_signatures(server: TestServer) -> TestServer {
    let alice = server.login_as("acme", "alice").await;
    let key = new_key(&server, &alice).await;
    let list =
        Signed { query: "__imagetype=gold&limit=3", ..Signed::new(Method::GET, "/v2/cloudimages", &key.project) };
    let (status, body) = list.send(&server, &key).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["images"].as_array().unwrap().len(), 3, "{body}");
    assert_eq!(body["images"][0]["__imagetype"], "gold");
    assert!(body["page_info"]["next_marker"].is_string(), "{body}");

    // The key shows when it was last used; the secret is stored sealed, never in clear.
    let (_, keys) = server.call(&alice, "list_access_keys", &[]).await;
    assert!(keys[0]["last_used_at"].is_number(), "{keys}");
    assert!(keys.to_string().find(&key.sk).is_none());
    let stored: String = sqlx::query_scalar("SELECT secret_sealed FROM access_keys WHERE id = $1")
        .bind(&key.ak)
        .fetch_one(&server.state.db)
        .await
        .unwrap();
    assert!(!stored.contains(&key.sk) && !stored.contains(&ims_console::format::hex(key.sk.as_bytes())));

    // Each way a signature can be wrong is refused with 401 APIGW.0301, saying why.
    let wrong_secret = Key { sk: "WrongSecret".into(), ak: key.ak.clone(), project: key.project.clone() };
    let cases: Vec<(&str, (StatusCode, Value))> = vec![
        ("signature", list.send(&server, &wrong_secret).await),
        (
            "15 minutes",
            Signed {
                date: sdk_date(-16 * 60),
                ..Signed { query: list.query, ..Signed::new(Method::GET, "/v2/cloudimages", &key.project) }
            }
            .send(&server, &key)
            .await,
        ),
        ("signature", list.send_as(&server, &key, Some("__imagetype=private&limit=3"), None).await),
        (
            "x-project-id",
            Signed {
                signed_headers: "content-type;host;x-sdk-date",
                ..Signed::new(Method::GET, "/v2/cloudimages", &key.project)
            }
            .send(&server, &key)
            .await,
        ),
        (
            "x-sdk-date",
            Signed {
                signed_headers: "content-type;host;x-project-id",
                ..Signed::new(Method::GET, "/v2/cloudimages", &key.project)
            }
            .send(&server, &key)
            .await,
        ),
    ];
    for (says, (status, body)) in cases {
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
        assert_eq!(ims_error(&body).0, "APIGW.0301", "{body}");
        assert!(ims_error(&body).1.contains(says), "{says}: {body}");
    }
    // A tampered body fails the signature too.
    let patch_path = "/v2/cloudimages/00000000-0000-0000-0000-000000000000";
    let patch = Signed {
        body: r#"[{"op":"replace","path":"/name","value":"a"}]"#,
        ..Signed::new(Method::PATCH, patch_path, &key.project)
    };
    let (status, body) =
        patch.send_as(&server, &key, None, Some(r#"[{"op":"replace","path":"/name","value":"b"}]"#)).await;
    assert_eq!((status, ims_error(&body).0), (StatusCode::UNAUTHORIZED, "APIGW.0301"), "{body}");
    // ... while the untampered one gets as far as the image (there is none).
    let (status, body) = patch.send(&server, &key).await;
    assert_eq!((status, ims_error(&body).0), (StatusCode::NOT_FOUND, "IMG.0004"), "{body}");

    // Unknown key, missing project, someone else's project.
    let unknown = Key { ak: "NOSUCHKEY00000000000".into(), sk: key.sk.clone(), project: key.project.clone() };
    let (status, body) = list.send(&server, &unknown).await;
    assert_eq!((status, ims_error(&body).0), (StatusCode::UNAUTHORIZED, "APIGW.0301"), "{body}");
    assert!(ims_error(&body).1.contains("does not exist"), "{body}");
    let no_project = Signed {
        project: None,
        signed_headers: "content-type;host;x-sdk-date",
        ..Signed::new(Method::GET, "/v2/cloudimages", "")
    };
    let (status, body) = no_project.send(&server, &key).await;
    assert_eq!((status, ims_error(&body).0), (StatusCode::BAD_REQUEST, "IMG.0001"), "{body}");
    assert!(ims_error(&body).1.contains("X-Project-Id"), "{body}");
    let carol = server.login_as("globex", "carol").await;
    let carol_project = project_of(&server, &carol).await;
    let (status, body) = Signed::new(Method::GET, "/v2/cloudimages", &carol_project).send(&server, &key).await;
    assert_eq!((status, ims_error(&body).0), (StatusCode::FORBIDDEN, "APIGW.0302"), "{body}");

    // A viewer's key reads but cannot change; bad input names the problem.
    let bob = server.login_as("acme", "bob").await;
    let bob_key = new_key(&server, &bob).await;
    let (status, _) = Signed::new(Method::GET, "/v1/cloudimages/quota", &bob_key.project).send(&server, &bob_key).await;
    assert_eq!(status, StatusCode::OK);
    let create = Signed {
        body: r#"{"name":"x","image_url":"b:x.qcow2","min_disk":40}"#,
        ..Signed::new(Method::POST, "/v2/cloudimages/action", &bob_key.project)
    };
    let (status, body) = create.send(&server, &bob_key).await;
    assert_eq!((status, ims_error(&body).0), (StatusCode::FORBIDDEN, "IMG.0003"), "{body}");
    let bad = Signed { query: "__imagetype=golden", ..Signed::new(Method::GET, "/v2/cloudimages", &key.project) };
    let (status, body) = bad.send(&server, &key).await;
    assert_eq!((status, ims_error(&body).0), (StatusCode::BAD_REQUEST, "IMG.0001"), "{body}");
    let not_json = Signed { body: "{", ..Signed::new(Method::POST, "/v2/cloudimages/action", &key.project) };
    let (status, body) = not_json.send(&server, &key).await;
    assert_eq!((status, ims_error(&body).0), (StatusCode::BAD_REQUEST, "IMG.0001"), "{body}");
    // Glance paths answer Glance's nested shape.
    let missing = Signed::new(Method::GET, "/v2/images/no-such-image", &key.project);
    let (status, body) = missing.send(&server, &key).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"]["code"], "IMG.0004", "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("no-such-image"), "{body}");
    // A part of an operation whose feature is not built says so (a replica under a key).
    let copy = Signed {
        body: r#"{"name":"c","cmk_id":"k"}"#,
        ..Signed::new(Method::POST, "/v1/cloudimages/x/copy", &key.project)
    };
    let (status, body) = copy.send(&server, &key).await;
    assert_eq!((status, ims_error(&body).0), (StatusCode::BAD_REQUEST, "IMG.0050"), "{body}");

    // Two keys at most; a disabled or deleted key stops working at once.
    new_key(&server, &alice).await;
    let (status, body) = server.call(&alice, "create_access_key", &[("description", "")]).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let (status, _) = server.call(&alice, "set_access_key_enabled", &[("id", &key.ak), ("enabled", "false")]).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = Signed::new(Method::GET, "/v2/cloudimages", &key.project).send(&server, &key).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(ims_error(&body).1.contains("disabled"), "{body}");
    server.call(&alice, "set_access_key_enabled", &[("id", &key.ak), ("enabled", "true")]).await;
    let (status, _) = Signed::new(Method::GET, "/v2/cloudimages", &key.project).send(&server, &key).await;
    assert_eq!(status, StatusCode::OK);
    // Another user cannot touch alice's key.
    let (status, _) = server.call(&bob, "delete_access_key", &[("id", &key.ak)]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = server.call(&alice, "delete_access_key", &[("id", &key.ak)]).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = Signed::new(Method::GET, "/v2/cloudimages", &key.project).send(&server, &key).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    server
}

/// The JSON body of `GET path` made with Keystone token `token`.
async fn get_with_token(server: &TestServer, client: &Client, token: &str, path: &str) -> Value {
    client.get(server.url(path)).header("x-auth-token", token).send().await.unwrap().json().await.unwrap()
}

async fn keystone_tokens(server: TestServer) -> TestServer {
    let client = Client::new();
    let login = |user: &str, password: &str, scope: Value| {
        serde_json::json!({ "auth": {
            "identity": { "methods": ["password"], "password": { "user": { "name": user, "password": password, "domain": { "name": "acme" } } } },
            "scope": scope,
        } })
    };
    let by_name = serde_json::json!({ "project": { "name": "ap-southeast-1", "domain": { "name": "acme" } } });
    let response = client
        .post(server.url("/v3/auth/tokens"))
        .json(&login("alice", common::PASSWORD, by_name))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let token = response.headers()["x-subject-token"].to_str().unwrap().to_string();
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["token"]["project"]["name"], "ap-southeast-1");
    let catalog = body["token"]["catalog"].as_array().unwrap();
    let image = catalog.iter().find(|service| service["type"] == "image").unwrap();
    assert_eq!(image["endpoints"].as_array().unwrap().len(), 2, "one public image endpoint per region: {image}");
    assert_eq!(image["endpoints"][0]["url"], server.base);
    // The token is stored as a hash only.
    let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM api_tokens WHERE token_hash = $1")
        .bind(&token)
        .fetch_one(&server.state.db)
        .await
        .unwrap();
    assert_eq!(stored, 0);

    // Validate, list projects, revoke; a revoked token is refused everywhere.
    let check = client
        .get(server.url("/v3/auth/tokens"))
        .header("x-auth-token", &token)
        .header("x-subject-token", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(check.status(), StatusCode::OK);
    let projects = get_with_token(&server, &client, &token, "/v3/auth/projects").await;
    let names: Vec<&str> =
        projects["projects"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["ap-southeast-1", "cn-north-4"]);
    let images = client.get(server.url("/v2/images?limit=1")).header("x-auth-token", &token).send().await.unwrap();
    assert_eq!(images.status(), StatusCode::OK);

    // A record's tags come with it in the list (ordered by key); a zero-byte upload is refused
    // with the reason, and the record still waits for its data.
    let record: Value = client
        .post(server.url("/v2/images"))
        .header("x-auth-token", &token)
        .json(&serde_json::json!({ "name": "empty-upload", "disk_format": "raw", "container_format": "bare" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = record["id"].as_str().unwrap().to_string();
    for tag in ["zeta", "alpha"] {
        let tagged =
            client.put(server.url(&format!("/v2/images/{id}/tags/{tag}"))).header("x-auth-token", &token).send().await;
        assert_eq!(tagged.unwrap().status(), StatusCode::NO_CONTENT);
    }
    let listed = get_with_token(&server, &client, &token, "/v2/images?tag=zeta&visibility=private").await;
    assert_eq!(listed["images"][0]["id"], id.as_str(), "{listed}");
    assert_eq!(listed["images"][0]["tags"], serde_json::json!(["alpha", "zeta"]), "{listed}");
    let empty = client
        .put(server.url(&format!("/v2/images/{id}/file")))
        .header("x-auth-token", &token)
        .header("content-type", "application/octet-stream")
        .body("")
        .send()
        .await
        .unwrap();
    assert_eq!(empty.status(), StatusCode::BAD_REQUEST);
    let body: Value = empty.json().await.unwrap();
    assert!(body["error"]["message"].as_str().unwrap().contains("holds no data"), "{body}");
    let shown = get_with_token(&server, &client, &token, &format!("/v2/images/{id}")).await;
    assert_eq!(shown["status"], "queued", "{shown}");

    let revoked = client
        .delete(server.url("/v3/auth/tokens"))
        .header("x-auth-token", &token)
        .header("x-subject-token", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), StatusCode::NO_CONTENT);
    let after = client.get(server.url("/v2/images")).header("x-auth-token", &token).send().await.unwrap();
    assert_eq!(after.status(), StatusCode::UNAUTHORIZED);
    let body: Value = after.json().await.unwrap();
    assert_eq!(body["error"]["code"], "APIGW.0301", "{body}");

    // Refusals: a wrong password, another account's project, no user domain.
    let wrong = client
        .post(server.url("/v3/auth/tokens"))
        .json(&login("alice", "wrong-password-9", Value::Null))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let carol = server.login_as("globex", "carol").await;
    let foreign = serde_json::json!({ "project": { "id": project_of(&server, &carol).await } });
    let refused = client
        .post(server.url("/v3/auth/tokens"))
        .json(&login("alice", common::PASSWORD, foreign))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    let mut no_domain = login("alice", common::PASSWORD, Value::Null);
    no_domain["auth"]["identity"]["password"]["user"].as_object_mut().unwrap().remove("domain");
    let refused = client.post(server.url("/v3/auth/tokens")).json(&no_domain).send().await.unwrap();
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    let body: Value = refused.json().await.unwrap();
    assert!(body["error"]["message"].as_str().unwrap().contains("account name"), "{body}");
    server
}

on_both_backends!(access_keys_and_signatures, keystone_tokens);

/// The SDK's own client, unmodified, from the set-up script's virtual environment.
fn api_clients_python() -> std::path::PathBuf {
    match std::env::var_os("IMS_API_CLIENTS_PYTHON") {
        Some(path) => path.into(),
        None => std::path::PathBuf::from(std::env::var("HOME").unwrap()).join(".cache/ims-api-clients/bin/python"),
    }
}

async fn the_sdk_drives_an_image_life(server: TestServer) -> TestServer {
    let alice = server.login_as("acme", "alice").await;
    let carol = server.login_as("globex", "carol").await;
    let bob = server.login_as("acme", "bob").await;
    let (alice_key, carol_key, bob_key) =
        (new_key(&server, &alice).await, new_key(&server, &carol).await, new_key(&server, &bob).await);
    let folder = server.state.work_dir().join("test-sdk");
    let (_, qcow2) = disk_files(&folder, 4);
    server.call(&alice, "create_bucket", &[("name", "sdk-files")]).await;
    server.upload(&alice, "sdk-files", "ubuntu.qcow2", &qcow2).await;
    std::fs::remove_dir_all(folder).ok();
    let mut command = std::process::Command::new(api_clients_python());
    command
        .arg("tests/api_clients/ims_sdk.py")
        .env("IMS_ENDPOINT", &server.base)
        .env("IMS_BUCKET", "sdk-files")
        .env("IMS_OBJECT", "ubuntu.qcow2");
    command.env("HOME", std::env::temp_dir());
    let alice_hk: String = sqlx::query_scalar(
        "SELECT p.id FROM projects p JOIN accounts a ON a.id = p.account_id WHERE a.name = 'acme' AND p.region = 'ap-southeast-1'",
    )
    .fetch_one(&server.state.db)
    .await
    .unwrap();
    command.env("ALICE_HK_PROJECT", alice_hk);
    for (prefix, key) in [("ALICE", &alice_key), ("CAROL", &carol_key), ("BOB", &bob_key)] {
        command
            .env(format!("{prefix}_AK"), &key.ak)
            .env(format!("{prefix}_SK"), &key.sk)
            .env(format!("{prefix}_PROJECT"), &key.project);
    }
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .unwrap()
        .expect("the API clients' Python runs (scripts/setup.sh makes it)");
    let (stdout, stderr) = (String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "huaweicloudsdkims run failed\n{stdout}\n{stderr}");
    assert!(stdout.contains("every step passed"), "{stdout}");
    // The SDK's operations are in the operation log, as API calls.
    let api_rows: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM operation_log WHERE source = 'api' AND result = 'success'")
            .fetch_one(&server.state.db)
            .await
            .unwrap();
    assert!(api_rows >= 8, "{api_rows} API operations recorded");
    server
}

async fn the_openstack_clients_manage_images(server: TestServer) -> TestServer {
    let folder = server.state.work_dir().join("test-openstack");
    let (_, qcow2) = disk_files(&folder, 4);
    let file = folder.join("upload.qcow2");
    std::fs::write(&file, &qcow2).unwrap();
    let mut command = std::process::Command::new(api_clients_python());
    command
        .arg("tests/api_clients/openstack_clients.py")
        .env("IMS_ENDPOINT", &server.base)
        .env("IMS_PASSWORD", common::PASSWORD)
        .env("IMS_QCOW2", &file)
        .env("HOME", std::env::temp_dir());
    let output =
        tokio::task::spawn_blocking(move || command.output()).await.unwrap().expect("the API clients' Python runs");
    std::fs::remove_dir_all(folder).ok();
    let (stdout, stderr) = (String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "OpenStack clients' run failed\n{stdout}\n{stderr}");
    assert!(stdout.contains("every step passed"), "{stdout}");
    server
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openstack_clients_on_postgres() {
    common::with_server(Backend::Postgres, the_openstack_clients_manage_images).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn huaweicloudsdkims_on_sqlite() {
    common::with_server(Backend::Sqlite, the_sdk_drives_an_image_life).await;
}
