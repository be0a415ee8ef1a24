//! The access matrix. Its list of calls comes from the server itself — every registered server
//! function and every route of the router's own table — so a new one cannot be left out. Each is
//! called with the ids of another tenant's objects: anonymously, as another account's admin, and
//! (for everything that is not a read) as a viewer of the owning account. Only 401, 403 or 404
//! may come back, and no data of the owner's; the owner's objects are unchanged at the end. On
//! SQLite and PostgreSQL.

mod common;

use common::compute::{create_server, disk_id, public_image, server_form};
use common::{import_form, TestServer};
use reqwest::{Client, Method, StatusCode};

on_both_backends!(no_call_reaches_another_tenants_objects);

/// Server functions that only read; every other one must refuse a viewer with 403. A new
/// function is treated as a change until it is listed here.
const READS: &[&str] = &[
    "list_servers",
    "get_server",
    "list_disks",
    "list_image_choices",
    "read_disk",
    "read_disk_file",
    "list_jobs",
    "session_info",
    "list_images",
    "get_image",
    "list_buckets",
    "list_objects",
    "list_uploads",
    "list_quotas",
    "my_credentials",
    "share_notices",
    "list_image_members",
    "sharing_policy",
    "list_subscriptions",
    "deletion_impact",
    "list_recycled_images",
    "list_operations",
    "list_access_keys",
    "list_keys",
    "replication_targets",
    "list_image_families",
];

/// Server functions that change only the caller's own preferences, which a viewer may too.
const PERSONAL: &[&str] = &["set_favorite_image", "create_access_key", "set_access_key_enabled", "delete_access_key"];

/// Routes that answer with the caller's own data only (another account gets its own, never the
/// owner's).
const OWN_DATA_ROUTES: &[&str] = &["/export/images.csv"];

/// Routes anyone may call: they hold no tenant data.
const PUBLIC_ROUTES: &[&str] = &["/", "/versions", "/healthz", "/auth/login", "/auth/logout", "/auth/region"];

/// What the owner (acme) has, and the words of it an attacker must never see.
struct Victim {
    image: String,
    server: String,
    system_disk: String,
    data_disk: String,
    job: String,
    upload: String,
    key: String,
    secrets: Vec<String>,
}

const BUCKET: &str = "victim-bucket";
const OBJECT: &str = "victim-object.raw";

async fn victim(server: &TestServer, alice: &Client) -> Victim {
    server.call(alice, "create_bucket", &[("name", BUCKET)]).await;
    let sha256 = server.upload(alice, BUCKET, OBJECT, b"the victim's own bytes, 0123456789abcdef").await;
    let upload = server.start_upload(alice, BUCKET, "victim-pending.raw", 1 << 20).await;
    let (_, images) = server.list(alice, "private", &[("status", "active")]).await;
    let image = &images["images"][0];
    let ubuntu = public_image(server, alice, "x86", "bios").await;
    let ecs =
        create_server(server, alice, &server_form("victim-ecs-0451", ubuntu["id"].as_str().unwrap(), "s6.small.1", ""))
            .await;
    let (_, detail) = server.call(alice, "get_server", &[("id", &ecs)]).await;
    let form = [("request[name]", "victim-disk-0451"), ("request[size_gb]", "10"), ("request[image_id]", "")];
    let (_, data_disk) = server.call(alice, "create_disk", &form).await;
    let (_, jobs) = server.call(alice, "list_jobs", &[]).await;
    let (status, key) =
        server.call(alice, "create_key", &[("alias", "victim-key-0451"), ("description", "victim-key-words")]).await;
    assert_eq!(status, StatusCode::OK, "{key}");
    Victim {
        image: image["id"].as_str().unwrap().to_string(),
        server: ecs.clone(),
        system_disk: disk_id(&detail, "system", 0),
        data_disk: data_disk.as_str().unwrap().to_string(),
        job: jobs[0]["id"].as_str().unwrap().to_string(),
        upload: upload["upload_id"].as_str().unwrap().to_string(),
        key: key.as_str().unwrap().to_string(),
        secrets: vec![
            "victim-key-0451".into(),
            "victim-key-words".into(),
            image["name"].as_str().unwrap().to_string(),
            "victim-ecs-0451".into(),
            "victim-disk-0451".into(),
            "victim-pending.raw".into(),
            sha256,
        ],
    }
}

/// A form naming `id` in every id field, the victim's bucket and object, and valid values
/// elsewhere, so a call fails on ownership and not on a missing or malformed field.
fn form_with(id: &str) -> Vec<(String, String)> {
    let mut form: Vec<(String, String)> = [
        ("id", id),
        ("image_id", id),
        ("server_id", id),
        ("disk_id", id),
        ("bucket", BUCKET),
        ("key", OBJECT),
        ("object_key", OBJECT),
        ("name", "probe-0451"),
        ("action", "stop"),
        ("offset", "0"),
        ("length", "16"),
        ("path", "/etc/hostname"),
        ("for_disks", "false"),
        ("delete_data_disks", "false"),
        ("file_format", "qcow2"),
        ("images", id),
        ("projects", "0123456789abcdef0123456789abcdef"),
        ("expires_on", ""),
        ("status", ""),
        ("policy", "any"),
        ("accounts", ""),
        ("protected", "true"),
        ("value", ""),
        ("deprecate_at", ""),
        ("favorite", "true"),
        ("enabled", "false"),
        ("description", ""),
        ("pending_days", "7"),
    ]
    .iter()
    .map(|(field, value)| (field.to_string(), value.to_string()))
    .collect();
    // Unique per id: a key the other tenant creates with it is its own, and succeeds once.
    form.push(("alias".into(), format!("probe-{id}").chars().take(64).collect()));
    form.extend(import_form("probe-0451", BUCKET, OBJECT, "qcow2"));
    form.push(("request[images]".into(), id.into()));
    form.push(("request[replication_type]".into(), "region".into()));
    for (field, value) in [
        ("image_id", id),
        ("server_id", id),
        ("disk_id", id),
        ("flavor", "s6.small.1"),
        ("count", "1"),
        ("size_gb", "10"),
        ("offset", "0"),
        ("text", "probe"),
        ("path", "/etc/probe"),
        ("description", ""),
        ("price", "0"),
        ("key", "probe"),
        ("value", ""),
        ("original_key", ""),
    ] {
        form.push((format!("request[{field}]"), value.to_string()));
    }
    for key in ims_console::images::query::QUERY_KEYS {
        form.push((format!("query[{key}]"), String::new()));
    }
    form.push(("query[tab]".into(), "private".into()));
    for key in ["from", "to", "user", "resource", "operation"] {
        form.push((format!("query[{key}]"), String::new()));
    }
    form
}

/// Every server function the server registered: (name, path, method).
fn server_functions() -> Vec<(String, String, Method)> {
    let mut functions: Vec<(String, String, Method)> = leptos::server_fn::axum::server_fn_paths()
        .map(|(path, method)| {
            let name = path.rsplit('/').next().unwrap_or_default().to_string();
            (name, path.to_string(), Method::from_bytes(method.as_str().as_bytes()).unwrap())
        })
        .collect();
    functions.sort();
    functions
}

async fn call(
    client: &Client,
    base: &str,
    method: &Method,
    path: &str,
    form: &[(String, String)],
) -> (StatusCode, String) {
    let url = format!("{base}{path}");
    let request = if *method == Method::GET {
        client.get(url).query(form)
    } else {
        client.request(method.clone(), url).form(form)
    };
    let response = request.send().await.unwrap();
    (response.status(), response.text().await.unwrap_or_default())
}

fn shows_secrets(victim: &Victim, body: &str) -> Option<String> {
    victim.secrets.iter().find(|secret| body.contains(secret.as_str())).cloned()
}

async fn no_call_reaches_another_tenants_objects(server: TestServer) -> TestServer {
    let alice = server.login_as("acme", "alice").await;
    let victim = victim(&server, &alice).await;
    let carol = server.login_as("globex", "carol").await;
    let bob = server.login_as("acme", "bob").await;
    let anonymous = server.client();
    let functions = server_functions();
    assert!(functions.len() >= 30, "the registry lists the server functions: {functions:?}");
    let ids = [
        &victim.image,
        &victim.server,
        &victim.system_disk,
        &victim.data_disk,
        &victim.job,
        &victim.upload,
        &victim.key,
    ];
    let mut problems = Vec::new();

    for id in ids {
        let form = form_with(id);
        for (name, path, method) in &functions {
            let (status, body) = call(&anonymous, &server.base, method, path, &form).await;
            let anonymous_ok = status == StatusCode::UNAUTHORIZED || (name == "session_info" && body == "null");
            if !anonymous_ok {
                problems.push(format!("anonymous {name}({id}): {status} {body}"));
            }

            let (status, body) = call(&carol, &server.base, method, path, &form).await;
            // A personal function works on the caller's own data; its own limits may refuse it.
            let own_limit = PERSONAL.contains(&name.as_str()) && status == StatusCode::CONFLICT;
            let refused = matches!(status.as_u16(), 401 | 403 | 404) || own_limit;
            if !(refused || status.is_success()) {
                problems.push(format!("other admin {name}({id}): {status} {body}"));
            }
            if let Some(secret) = shows_secrets(&victim, &body) {
                problems.push(format!("other admin {name}({id}) shows '{secret}': {body}"));
            }

            if !READS.contains(&name.as_str()) && !PERSONAL.contains(&name.as_str()) {
                let (status, body) = call(&bob, &server.base, method, path, &form).await;
                if status != StatusCode::FORBIDDEN {
                    problems.push(format!("viewer {name}({id}): {status} {body}"));
                }
            }
        }
    }

    // The plain routes, from the router's own table.
    for route in ims_console::server::plain_routes() {
        if PUBLIC_ROUTES.contains(&route.path) {
            continue;
        }
        let path = route.path.replace("{id}", &victim.upload).replace("{index}", "0");
        for method in route.methods {
            let method = Method::from_bytes(method.as_bytes()).unwrap();
            let query = [("bucket".to_string(), BUCKET.to_string()), ("key".to_string(), OBJECT.to_string())];
            let send = |client: &Client| {
                let url = format!("{}{path}", server.base);
                let request = client.request(method.clone(), url).query(&query);
                let request = if route.path == "/storage/uploads" {
                    request.json(&serde_json::json!({ "bucket": BUCKET, "key": "probe.raw", "size": 512 }))
                } else {
                    request.body(vec![0u8; 16])
                };
                async move {
                    let response = request.send().await.unwrap();
                    (response.status(), response.text().await.unwrap_or_default())
                }
            };
            let (status, body) = send(&anonymous).await;
            if status != StatusCode::UNAUTHORIZED {
                problems.push(format!("anonymous {method} {path}: {status} {body}"));
            }
            let (status, body) = send(&carol).await;
            let own_data = OWN_DATA_ROUTES.contains(&route.path) && status.is_success();
            if !(own_data || matches!(status.as_u16(), 401 | 403 | 404)) || shows_secrets(&victim, &body).is_some() {
                problems.push(format!("other admin {method} {path}: {status} {body}"));
            }
            if method != Method::GET {
                let (status, body) = send(&bob).await;
                if status != StatusCode::FORBIDDEN {
                    problems.push(format!("viewer {method} {path}: {status} {body}"));
                }
            }
        }
    }
    // The pages, from the app's own route list: anonymous visitors are sent to log in, and no
    // page shows another tenant anything of the owner's.
    for listing in leptos_axum::generate_route_list(ims_console::app::App) {
        let mut paths: Vec<String> = Vec::new();
        for id in ids {
            let path = listing.path().replace(":tab", "private").replace(":name", BUCKET).replace(":id", id);
            if !paths.contains(&path) {
                paths.push(path);
            }
        }
        for path in paths {
            if path == "/login" {
                continue;
            }
            let response = anonymous.get(server.url(&path)).send().await.unwrap();
            let to_login = response.headers().get("location").and_then(|value| value.to_str().ok()).unwrap_or("");
            if response.status() != StatusCode::SEE_OTHER || !to_login.starts_with("/login?next=") {
                problems.push(format!("anonymous page {path}: {}", response.status()));
            }
            let (status, body) = server.page(&carol, &path).await;
            if let Some(secret) = shows_secrets(&victim, &body) {
                problems.push(format!("other admin page {path} ({status}) shows '{secret}'"));
            }
        }
    }
    assert!(problems.is_empty(), "{} calls got through:\n{}", problems.len(), problems.join("\n"));

    // Nothing of the owner's changed.
    assert_eq!(server.download(&alice, BUCKET, OBJECT).await, b"the victim's own bytes, 0123456789abcdef");
    let (status, detail) = server.call(&alice, "get_server", &[("id", &victim.server)]).await;
    assert_eq!((status, detail["server"]["status"].as_str()), (StatusCode::OK, Some("running")));
    let (status, image) = server.call(&alice, "get_image", &[("id", &victim.image)]).await;
    assert_eq!((status, image["status"].as_str()), (StatusCode::OK, Some("active")), "{image}");
    let (_, disks) = server.call(&alice, "list_disks", &[]).await;
    assert!(disks.to_string().contains(&victim.data_disk));
    let (_, uploads) = server.call(&alice, "list_uploads", &[("bucket", BUCKET)]).await;
    assert!(uploads.to_string().contains("victim-pending.raw"));
    let (_, keys) = server.call(&alice, "list_keys", &[]).await;
    assert_eq!(keys[0]["id"].as_str(), Some(victim.key.as_str()), "{keys}");
    assert_eq!((keys[0]["state"].as_str(), &keys[0]["deletion_at"]), (Some("Enabled"), &serde_json::Value::Null));
    server
}
