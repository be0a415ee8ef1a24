//! Sharing images between tenants and KooGallery, through the server functions the console
//! calls, on SQLite and PostgreSQL: the whole cycle (share, pending, accept, ECS from the shared
//! image, stop sharing, the recipient loses it), every refusal with its reason, expiry, the
//! account policy, isolation from a third account, publishing and paid subscriptions.

mod common;

use common::compute::{action, create_server, public_image, server_form, wait_for_server};
use common::TestServer;
use ims_console::caller::Role;
use reqwest::{Client, StatusCode};
use serde_json::Value;

on_both_backends!(the_whole_sharing_cycle, sharing_rules_refuse_with_reasons, koogallery_publish_and_subscribe);

const REGION: &str = "cn-north-4";

/// The caller's project id in `region`, read from My Credentials as a user would.
async fn project_id(server: &TestServer, client: &Client, region: &str) -> String {
    let (status, credentials) = server.call(client, "my_credentials", &[]).await;
    assert_eq!(status, StatusCode::OK, "{credentials}");
    let projects = credentials["projects"].as_array().unwrap();
    assert_eq!(projects.len(), 2, "one project per region: {credentials}");
    let project = projects.iter().find(|project| project["region"] == region).unwrap();
    let id = project["project_id"].as_str().unwrap().to_string();
    assert_eq!(id.len(), 32);
    id
}

/// A Normal private system disk image of the caller's, with a real file: captured from an ECS.
async fn own_image(server: &TestServer, client: &Client, name: &str) -> String {
    let ubuntu = public_image(server, client, "x86", "bios").await;
    let ecs = create_server(
        server,
        client,
        &server_form(&format!("{name}-src"), ubuntu["id"].as_str().unwrap(), "s6.small.1", ""),
    )
    .await;
    let (status, image) = common::compute::capture(server, client, &ecs, "system", "", name).await;
    assert_eq!(status, StatusCode::OK, "{image}");
    let image = server.wait_for_image(client, image.as_str().unwrap()).await;
    assert_eq!(image["status"], "active", "{image}");
    image["id"].as_str().unwrap().to_string()
}

async fn share(
    server: &TestServer,
    client: &Client,
    image: &str,
    projects: &str,
    expires_on: &str,
) -> (StatusCode, Value) {
    server.call(client, "share_images", &[("images", image), ("projects", projects), ("expires_on", expires_on)]).await
}

async fn answer(server: &TestServer, client: &Client, image: &str, status: &str) -> (StatusCode, Value) {
    server.call(client, "answer_shares", &[("images", image), ("status", status)]).await
}

async fn members(server: &TestServer, client: &Client, image: &str) -> Vec<Value> {
    let (status, members) = server.call(client, "list_image_members", &[("image_id", image)]).await;
    assert_eq!(status, StatusCode::OK, "{members}");
    members.as_array().unwrap().clone()
}

/// The ids of the images in a view of Images Shared with Me.
async fn shared_ids(server: &TestServer, client: &Client, member_status: &str) -> Vec<String> {
    let (status, page) = server.list(client, "shared", &[("member_status", member_status)]).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    page["images"].as_array().unwrap().iter().map(|image| image["id"].as_str().unwrap().to_string()).collect()
}

async fn notices(server: &TestServer, client: &Client) -> (i64, i64) {
    let (status, notices) = server.call(client, "share_notices", &[]).await;
    assert_eq!(status, StatusCode::OK, "{notices}");
    (notices["pending"].as_i64().unwrap(), notices["expiring"].as_i64().unwrap())
}

/// The field a refusal names and its message.
fn field_message(body: &Value, field: &str) -> String {
    body["Fields"]
        .as_array()
        .and_then(|fields| fields.iter().find(|pair| pair[0] == field))
        .map(|pair| pair[1].as_str().unwrap().to_string())
        .unwrap_or_else(|| panic!("a refusal of field {field}: {body}"))
}

fn text(body: &Value) -> String {
    body.to_string()
}

fn create_form(name: &str, image: &str, accept: bool) -> Vec<(String, String)> {
    let mut form = server_form(name, image, "s6.small.1", "");
    if accept {
        form.push(("request[accept_price]".into(), "accepted".into()));
    }
    form
}

async fn the_whole_sharing_cycle(server: TestServer) -> TestServer {
    let alice = server.login_as("acme", "alice").await;
    let carol = server.login_as("globex", "carol").await;
    let image = own_image(&server, &alice, "shared-base").await;
    let carol_project = project_id(&server, &carol, REGION).await;

    // Share: a finished job of IMS's type, and a pending member.
    let (status, job) = share(&server, &alice, &image, &carol_project, "").await;
    assert_eq!(status, StatusCode::OK, "{job}");
    let job = server.wait_for_job(&alice, job.as_str().unwrap()).await;
    assert_eq!((job["job_type"].as_str(), job["status"].as_str()), (Some("imsAddImageMembersJob"), Some("SUCCESS")));
    let listed = members(&server, &alice, &image).await;
    assert_eq!(listed.len(), 1);
    assert_eq!(
        (listed[0]["project_id"].as_str(), listed[0]["status"].as_str()),
        (Some(carol_project.as_str()), Some("pending"))
    );
    assert_eq!(listed[0]["account_name"], "globex");

    // Pending: the recipient sees it waiting, not among the accepted, and cannot use it yet.
    assert_eq!(notices(&server, &carol).await, (1, 0));
    assert!(shared_ids(&server, &carol, "").await.is_empty());
    assert_eq!(shared_ids(&server, &carol, "pending").await, vec![image.clone()]);
    let (_, page) = server.list(&carol, "shared", &[("member_status", "pending")]).await;
    assert_eq!(page["images"][0]["owner_account"], "acme");
    let (status, body) =
        server.call(&carol, "create_servers", &common::pairs(&create_form("too-early", &image, false))).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "a pending share cannot be used: {body}");
    let (status, detail) = server.call(&carol, "get_image", &[("id", &image)]).await;
    assert_eq!((status, detail["member_status"].as_str()), (StatusCode::OK, Some("pending")));

    // Reject, then accept it again from the rejected view.
    assert_eq!(answer(&server, &carol, &image, "rejected").await.0, StatusCode::OK);
    assert_eq!(shared_ids(&server, &carol, "rejected").await, vec![image.clone()]);
    assert_eq!(notices(&server, &carol).await, (0, 0));
    let (status, job) = answer(&server, &carol, &image, "accepted").await;
    assert_eq!(status, StatusCode::OK, "{job}");
    let job = server.wait_for_job(&carol, job.as_str().unwrap()).await;
    assert_eq!(job["job_type"], "imsUpdateImageMembersJob");
    assert_eq!(shared_ids(&server, &carol, "accepted").await, vec![image.clone()]);
    assert_eq!(members(&server, &alice, &image).await[0]["status"], "accepted");

    // Accepted: an ECS from it, like the recipient's own; the owner's operations are refused.
    let (status, choices) = server.call(&carol, "list_image_choices", &[("for_disks", "false")]).await;
    assert_eq!(status, StatusCode::OK);
    let choice = choices.as_array().unwrap().iter().find(|choice| choice["id"] == image.as_str()).cloned().unwrap();
    assert_eq!(choice["category"], "Shared");
    let ecs = create_server(&server, &carol, &create_form("from-shared", &image, false)).await;
    let (status, page) = server.page(&carol, &format!("/image/{image}?tab=sharing")).await;
    assert_eq!(status, StatusCode::OK, "a recipient asking for the Sharing tab gets the image's page");
    assert!(page.contains("Basic Information") && page.contains("Shared with you by account acme"), "{page}");
    for (function, form) in [
        ("delete_image", vec![("id", image.as_str())]),
        ("list_image_members", vec![("image_id", image.as_str())]),
        ("stop_sharing", vec![("image_id", image.as_str()), ("projects", "")]),
        ("share_images", vec![("images", image.as_str()), ("projects", carol_project.as_str()), ("expires_on", "")]),
    ] {
        let (status, body) = server.call(&carol, function, &form).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "the recipient cannot {function}: {body}");
    }
    let form = [("image_id", image.as_str()), ("bucket", "none"), ("object_key", "x.qcow2"), ("file_format", "qcow2")];
    let (status, _) = server.call(&carol, "export_image", &form).await;
    assert!(matches!(status.as_u16(), 404), "the recipient cannot export: {status}");

    // Stop sharing: the recipient loses the image; its ECS keeps running but cannot reinstall.
    assert_eq!(action(&server, &carol, &ecs, "stop").await.0, StatusCode::OK);
    wait_for_server(&server, &carol, &ecs, "stopped").await;
    let (status, job) = server.call(&alice, "stop_sharing", &[("image_id", &image), ("projects", "")]).await;
    assert_eq!(status, StatusCode::OK, "{job}");
    assert_eq!(server.wait_for_job(&alice, job.as_str().unwrap()).await["job_type"], "imsDelImageMembersJob");
    assert!(members(&server, &alice, &image).await.is_empty());
    assert!(shared_ids(&server, &carol, "accepted").await.is_empty());
    assert_eq!(server.call(&carol, "get_image", &[("id", &image)]).await.0, StatusCode::NOT_FOUND);
    let (status, body) =
        server.call(&carol, "create_servers", &common::pairs(&create_form("too-late", &image, false))).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let (status, body) = action(&server, &carol, &ecs, "reinstall").await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(text(&body).contains("no longer available to your project"), "{body}");
    let (status, detail) = server.call(&carol, "get_server", &[("id", &ecs)]).await;
    assert_eq!((status, detail["server"]["status"].as_str()), (StatusCode::OK, Some("stopped")));
    let (status, body) = answer(&server, &carol, &image, "accepted").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "a stopped share cannot be accepted again: {body}");
    server
}

async fn sharing_rules_refuse_with_reasons(server: TestServer) -> TestServer {
    let alice = server.login_as("acme", "alice").await;
    let bob = server.login_as("acme", "bob").await;
    let carol = server.login_as("globex", "carol").await;
    ims_console::auth::accounts::create_user(&server.state.db, "initech", "dave", Role::Admin, common::PASSWORD)
        .await
        .unwrap();
    let dave = server.login_as("initech", "dave").await;
    let image = own_image(&server, &alice, "rules-base").await;
    let carol_project = project_id(&server, &carol, REGION).await;
    let carol_elsewhere = project_id(&server, &carol, "ap-southeast-1").await;
    let alice_project = project_id(&server, &alice, REGION).await;
    let dave_project = project_id(&server, &dave, REGION).await;

    // The Project ID field.
    let refusal = |body: Value| field_message(&body, "projects");
    assert!(refusal(share(&server, &alice, &image, "xyz", "").await.1).contains("'xyz' is not a project ID"));
    let unknown = "0123456789abcdef0123456789abcdef";
    assert!(refusal(share(&server, &alice, &image, unknown, "").await.1).contains("does not exist"));
    assert!(refusal(share(&server, &alice, &image, &alice_project, "").await.1).contains("your own project"));
    assert!(refusal(share(&server, &alice, &image, &carol_elsewhere, "").await.1).contains("only within their region"));
    assert!(refusal(share(&server, &alice, &image, "", "").await.1).contains("at least one"));
    let (status, body) = share(&server, &alice, &image, &carol_project, "2020-01-01").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(field_message(&body, "expires_on").contains("is over"), "{body}");
    assert_eq!(share(&server, &bob, &image, &carol_project, "").await.0, StatusCode::FORBIDDEN, "viewers cannot share");

    // The image: own, Normal, not full-ECS, not encrypted.
    let (_, page) = server.list(&alice, "private", &[("image_type", "full_ecs"), ("status", "active")]).await;
    let full_ecs = page["images"][0]["id"].as_str().unwrap().to_string();
    let message = field_message(&share(&server, &alice, &full_ecs, &carol_project, "").await.1, "images");
    assert!(message.contains("full-ECS images cannot be shared") && message.contains("CBR"), "{message}");
    let (_, page) = server.list(&alice, "private", &[("status", "killed")]).await;
    let failed = page["images"][0]["id"].as_str().unwrap().to_string();
    assert!(
        field_message(&share(&server, &alice, &failed, &carol_project, "").await.1, "images").contains("Normal state")
    );
    let (_, public) = server.list(&alice, "public", &[]).await;
    let public_id = public["images"][0]["id"].as_str().unwrap().to_string();
    assert_eq!(share(&server, &alice, &public_id, &carol_project, "").await.0, StatusCode::NOT_FOUND);
    let encrypted = own_image(&server, &alice, "rules-encrypted").await;
    sqlx::query("UPDATE images SET cmk_id = 'test-key' WHERE id = $1")
        .bind(&encrypted)
        .execute(&server.state.db)
        .await
        .unwrap();
    assert!(
        field_message(&share(&server, &alice, &encrypted, &carol_project, "").await.1, "images").contains("encrypted")
    );

    // At most 128 projects per image.
    let now = ims_console::db::now_ms();
    for index in 0..128 {
        sqlx::query("INSERT INTO image_members (image_id, member_id, status, created_at, updated_at) VALUES ($1, $2, 'pending', $3, $3)")
            .bind(&encrypted)
            .bind(format!("{index:032x}"))
            .bind(now)
            .execute(&server.state.db)
            .await
            .unwrap();
    }
    sqlx::query("UPDATE images SET cmk_id = '' WHERE id = $1")
        .bind(&encrypted)
        .execute(&server.state.db)
        .await
        .unwrap();
    let message = refusal(share(&server, &alice, &encrypted, &carol_project, "").await.1);
    assert!(message.contains("at most 128"), "{message}");
    assert_eq!(members(&server, &alice, &encrypted).await.len(), 128, "nothing was added by the refused share");

    // Expiry: the share lists its end, counts as expiring soon, and ends by itself.
    let tomorrow = ims_console::format::format_time(now + 86_400_000)[..10].to_string();
    let (status, body) = share(&server, &alice, &image, &carol_project, &tomorrow).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(members(&server, &alice, &image).await[0]["expires_at"].as_i64().unwrap() > now + 86_400_000);
    assert_eq!(notices(&server, &carol).await, (1, 1));
    assert_eq!(answer(&server, &carol, &image, "accepted").await.0, StatusCode::OK);
    sqlx::query("UPDATE image_members SET expires_at = $1 WHERE image_id = $2")
        .bind(now - 1)
        .bind(&image)
        .execute(&server.state.db)
        .await
        .unwrap();
    assert!(members(&server, &alice, &image).await.is_empty(), "an expired share is over");
    let (status, body) =
        server.call(&alice, "stop_sharing", &[("image_id", &image), ("projects", &carol_project)]).await;
    assert_eq!(status, StatusCode::CONFLICT, "an expired share has nothing left to stop: {body}");
    assert!(shared_ids(&server, &carol, "accepted").await.is_empty());
    assert_eq!(server.call(&carol, "get_image", &[("id", &image)]).await.0, StatusCode::NOT_FOUND);
    assert_eq!(notices(&server, &carol).await, (0, 0));
    let (status, _) = share(&server, &alice, &image, &carol_project, "").await;
    assert_eq!(status, StatusCode::OK, "shared again after it expired");
    let listed = members(&server, &alice, &image).await;
    assert_eq!((listed[0]["status"].as_str(), listed[0]["expires_at"].is_null()), (Some("pending"), true));

    // Isolation: a third account sees nothing of the share and cannot touch it.
    assert_eq!(server.call(&dave, "get_image", &[("id", &image)]).await.0, StatusCode::NOT_FOUND);
    assert!(shared_ids(&server, &dave, "pending").await.is_empty());
    assert_eq!(answer(&server, &dave, &image, "accepted").await.0, StatusCode::NOT_FOUND);
    let (status, _) = server.call(&dave, "stop_sharing", &[("image_id", &image), ("projects", &carol_project)]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(server.call(&dave, "list_image_members", &[("image_id", &image)]).await.0, StatusCode::NOT_FOUND);
    assert_eq!(members(&server, &alice, &image).await.len(), 1, "the share is unchanged");

    // The account policy: block all, listed accounts, and the shares it no longer allows.
    let set_policy = |client: Client, policy: &'static str, accounts: &'static str| {
        let server = &server;
        async move { server.call(&client, "set_sharing_policy", &[("policy", policy), ("accounts", accounts)]).await }
    };
    assert_eq!(set_policy(bob.clone(), "none", "").await.0, StatusCode::FORBIDDEN, "only admins set the policy");
    let (status, view) = set_policy(alice.clone(), "none", "").await;
    assert_eq!(status, StatusCode::OK, "{view}");
    assert_eq!(view["forbidden_shares"].as_array().unwrap().len(), 129, "{view}");
    assert!(refusal(share(&server, &alice, &image, &dave_project, "").await.1).contains("blocks all sharing"));
    let (status, body) = set_policy(alice.clone(), "listed", "nobody-here").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(field_message(&body, "accounts").contains("no account named 'nobody-here'"));
    let (status, view) = set_policy(alice.clone(), "listed", "initech").await;
    assert_eq!(status, StatusCode::OK, "{view}");
    assert_eq!(view["allowed_accounts"], serde_json::json!(["initech"]));
    let forbidden: Vec<&Value> = view["forbidden_shares"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|share| share["image_id"] == image.as_str())
        .collect();
    assert_eq!(forbidden.len(), 1, "the share with globex is listed: {view}");
    assert_eq!(forbidden[0]["account_name"], "globex");
    let message = refusal(share(&server, &alice, &image, &carol_project, "").await.1);
    assert!(message.contains("only with listed accounts") && message.contains("globex"), "{message}");
    assert_eq!(share(&server, &alice, &image, &dave_project, "").await.0, StatusCode::OK, "initech is listed");
    assert_eq!(server.call(&bob, "stop_forbidden_shares", &[]).await.0, StatusCode::FORBIDDEN);
    let (status, stopped) = server.call(&alice, "stop_forbidden_shares", &[]).await;
    assert_eq!((status, stopped.as_u64()), (StatusCode::OK, Some(129)));
    let listed = members(&server, &alice, &image).await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["account_name"], "initech");
    let (_, view) = server.call(&alice, "sharing_policy", &[]).await;
    assert!(view["forbidden_shares"].as_array().unwrap().is_empty(), "{view}");

    // Deleting an image ends its shares.
    assert_eq!(server.call(&alice, "delete_image", &[("id", &image)]).await.0, StatusCode::OK);
    assert!(shared_ids(&server, &dave, "pending").await.is_empty());
    server
}

async fn koogallery_publish_and_subscribe(server: TestServer) -> TestServer {
    let alice = server.login_as("acme", "alice").await;
    let bob = server.login_as("acme", "bob").await;
    let carol = server.login_as("globex", "carol").await;

    // The region's offerings, free and paid.
    let (status, page) = server.list(&carol, "market", &[]).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let offerings = page["images"].as_array().unwrap().clone();
    assert_eq!(offerings.len(), 4, "{page}");
    let paid = offerings.iter().find(|image| image["price_cents"] == 5).unwrap()["id"].as_str().unwrap().to_string();
    let free = offerings.iter().find(|image| image["price_cents"] == 0).unwrap()["id"].as_str().unwrap().to_string();
    assert!(offerings.iter().all(|image| image["publisher"].is_string()));
    let (_, public) = server.list(&carol, "public", &[("page_size", "100")]).await;
    assert!(
        public["images"].as_array().unwrap().iter().all(|image| image["id"] != paid.as_str()),
        "not a public image"
    );

    // A paid image asks for its price first; the acceptance is a subscription.
    let (status, body) =
        server.call(&carol, "create_servers", &common::pairs(&create_form("paid-1", &paid, false))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let message = field_message(&body, "accept_price");
    assert!(message.contains("USD 0.05/hour") && message.contains("Accept its price"), "{message}");
    let (_, subscriptions) = server.call(&carol, "list_subscriptions", &[]).await;
    assert!(subscriptions.as_array().unwrap().is_empty(), "a refused request subscribes to nothing");
    let ecs = create_server(&server, &carol, &create_form("paid-1", &paid, true)).await;
    let (_, detail) = server.call(&carol, "get_server", &[("id", &ecs)]).await;
    assert_eq!(detail["server"]["image_price_cents"], 5);
    let (_, subscriptions) = server.call(&carol, "list_subscriptions", &[]).await;
    let subscriptions = subscriptions.as_array().unwrap().clone();
    assert_eq!(subscriptions.len(), 1);
    assert_eq!(
        (subscriptions[0]["image_id"].as_str(), subscriptions[0]["price_cents"].as_i64()),
        (Some(paid.as_str()), Some(5))
    );
    assert_eq!(subscriptions[0]["accepted_by"], "carol");
    create_server(&server, &carol, &create_form("paid-2", &paid, false)).await;
    let free_ecs = create_server(&server, &carol, &create_form("free-1", &free, false)).await;
    let (_, detail) = server.call(&carol, "get_server", &[("id", &free_ecs)]).await;
    assert_eq!(detail["server"]["image_price_cents"], 0);
    let (_, subscriptions) = server.call(&carol, "list_subscriptions", &[]).await;
    assert_eq!(subscriptions.as_array().unwrap().len(), 1, "free images need no subscription");
    assert_eq!(subscriptions[0]["servers"], 2);

    // Publishing: admins only, Normal system disk images only.
    let image = own_image(&server, &alice, "acme-appliance").await;
    let publish = |client: Client, image: String, price: &'static str| {
        let server = &server;
        async move {
            let form = [
                ("request[image_id]", image.as_str()),
                ("request[name]", "Acme Appliance"),
                ("request[description]", "Our stack"),
                ("request[price]", price),
            ];
            server.call(&client, "publish_image", &form).await
        }
    };
    assert_eq!(publish(bob.clone(), image.clone(), "0.10").await.0, StatusCode::FORBIDDEN);
    let (status, body) = publish(alice.clone(), image.clone(), "ten").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(field_message(&body, "price").contains("not a price"));
    let (_, page) = server.list(&alice, "private", &[("image_type", "data"), ("status", "active")]).await;
    let data_image = page["images"][0]["id"].as_str().unwrap().to_string();
    let (status, body) = publish(alice.clone(), data_image, "0").await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(text(&body).contains("only system disk images"), "{body}");
    let (status, body) = publish(alice.clone(), image.clone(), "0.10").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = publish(alice.clone(), image.clone(), "0.10").await;
    assert_eq!(status, StatusCode::CONFLICT, "published once: {body}");

    // Listed for every tenant of the region; published images cannot be shared or deleted.
    let (_, page) = server.list(&carol, "market", &[]).await;
    let listed =
        page["images"].as_array().unwrap().iter().find(|entry| entry["id"] == image.as_str()).cloned().unwrap();
    assert_eq!((listed["publisher"].as_str(), listed["price_cents"].as_i64()), (Some("acme"), Some(10)));
    let carol_project = project_id(&server, &carol, REGION).await;
    let message = field_message(&share(&server, &alice, &image, &carol_project, "").await.1, "images");
    assert!(message.contains("published in KooGallery"), "{message}");
    let (status, body) = server.call(&alice, "delete_image", &[("id", &image)]).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(text(&body).contains("Unpublish it"), "{body}");
    let (_, detail) = server.call(&carol, "get_image", &[("id", &image)]).await;
    assert_eq!(detail["offering"]["publisher"], "acme");
    let from_published = create_server(&server, &carol, &create_form("appliance-1", &image, true)).await;

    // Unpublish: gone from the listing; running ECSs stay; no new ones.
    assert_eq!(server.call(&bob, "unpublish_image", &[("image_id", &image)]).await.0, StatusCode::FORBIDDEN);
    assert_eq!(server.call(&carol, "unpublish_image", &[("image_id", &image)]).await.0, StatusCode::NOT_FOUND);
    let (status, body) = server.call(&alice, "unpublish_image", &[("image_id", &image)]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, page) = server.list(&carol, "market", &[]).await;
    assert_eq!(page["images"].as_array().unwrap().len(), 4);
    let (status, detail) = server.call(&carol, "get_server", &[("id", &from_published)]).await;
    assert_eq!((status, detail["server"]["image_price_cents"].as_i64()), (StatusCode::OK, Some(10)));
    let (status, _) =
        server.call(&carol, "create_servers", &common::pairs(&create_form("appliance-2", &image, true))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Published again at another price: the subscriber accepts the new price before its next ECS.
    assert_eq!(publish(alice.clone(), image.clone(), "0.20").await.0, StatusCode::OK);
    let (status, body) =
        server.call(&carol, "create_servers", &common::pairs(&create_form("appliance-3", &image, false))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let message = field_message(&body, "accept_price");
    assert!(
        message.contains("USD 0.20/hour") && message.contains("changed since your project accepted USD 0.10/hour"),
        "{message}"
    );
    let repriced = create_server(&server, &carol, &create_form("appliance-3", &image, true)).await;
    let (_, detail) = server.call(&carol, "get_server", &[("id", &repriced)]).await;
    assert_eq!(detail["server"]["image_price_cents"], 20);
    let (_, subscriptions) = server.call(&carol, "list_subscriptions", &[]).await;
    let subscription =
        subscriptions.as_array().unwrap().iter().find(|entry| entry["image_id"] == image.as_str()).cloned().unwrap();
    assert_eq!(subscription["price_cents"], 20);
    let (_, detail) = server.call(&carol, "get_server", &[("id", &from_published)]).await;
    assert_eq!(detail["server"]["image_price_cents"], 10, "an ECS keeps the charge it was made with");
    server
}
