//! The console through HTTP: login, sessions, CSRF, throttling, tenant isolation, lists.
//! Every scenario runs on SQLite and on PostgreSQL.

mod common;

use common::{location, TestServer, PASSWORD};
use ims_console::auth::accounts::project_id;
use ims_console::caller::{Caller, Role};
use ims_console::error::AppError;
use reqwest::StatusCode;
use serde_json::Value;

on_both_backends!(
    login_renews_the_session_and_shows_the_accounts_images,
    wrong_passwords_are_refused_and_throttled,
    anonymous_visitors_are_sent_to_login,
    logout_destroys_the_session,
    sessions_survive_a_server_restart,
    cross_site_requests_are_rejected,
    another_tenant_cannot_read_private_images,
    viewers_cannot_delete_and_members_can,
    region_switch_changes_every_list,
    filters_sort_and_pages_are_consistent,
    bad_list_parameters_get_specific_errors,
    unknown_pages_are_404,
    services_keep_tenant_walls_without_a_session,
    pages_number_their_resources_alike_on_every_render,
);

fn names(body: &Value) -> Vec<String> {
    body["images"].as_array().unwrap().iter().map(|image| image["name"].as_str().unwrap().to_string()).collect()
}

fn total(body: &Value) -> i64 {
    body["total"].as_i64().unwrap()
}

fn cookie_value(client_response: &reqwest::Response) -> Option<String> {
    client_response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find(|value| value.starts_with("ims_session="))
        .map(|value| value.split(';').next().unwrap().to_string())
}

async fn login_renews_the_session_and_shows_the_accounts_images(server: TestServer) -> TestServer {
    let (status, page) = server.page(&server.client(), "/login").await;
    assert_eq!(status, StatusCode::OK);
    for label in ["Account name", "User name", "Password"] {
        assert!(page.contains(label), "login page has {label}");
    }

    let client = server.client();
    let first = server.login(&client, "acme", "alice", PASSWORD).await;
    let first_cookie = cookie_value(&first).expect("login sets a session cookie");
    let second = server.login(&client, "acme", "alice", PASSWORD).await;
    let second_cookie = cookie_value(&second).expect("a second login sets a cookie again");
    assert_ne!(first_cookie, second_cookie, "the session id is renewed at login");

    let (status, page) = server.page(&client, "/images/private").await;
    assert_eq!(status, StatusCode::OK);
    // 14 imported and 3 captured, less one in the recycle bin and one deprecated (hidden).
    assert!(page.contains("Total Records: 15"), "acme lists 15 private images in cn-north-4");
    assert!(page.contains("acme / alice"));
    let (status, body) = server.list(&client, "private", &[("page_size", "100")]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(total(&body), 15);
    assert!(names(&body).iter().any(|name| name.starts_with("web-frontend")));
    server
}

async fn wrong_passwords_are_refused_and_throttled(server: TestServer) -> TestServer {
    let client = server.client();
    let response = server.login(&client, "acme", "alice", "not-the-password").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(location(&response).starts_with("/login?error=invalid"), "{}", location(&response));
    let (_, page) = server.page(&client, &location(&response)).await;
    assert!(page.contains("The account name, user name or password is incorrect."));

    let response = server.login(&client, "acme", "", "x").await;
    assert!(location(&response).contains("error=missing&field=user"));

    // Four more failures lock the user: even the right password is refused for now.
    for _ in 0..4 {
        server.login(&client, "acme", "alice", "still-wrong").await;
    }
    let response = server.login(&client, "acme", "alice", PASSWORD).await;
    assert!(location(&response).starts_with("/login?error=throttled&retry=15"), "{}", location(&response));
    let (_, page) = server.page(&client, &location(&response)).await;
    assert!(page.contains("Too many failed login attempts. Try again in 15 minutes."));

    // Other users are not affected by alice's lock.
    server.login_as("acme", "bob").await;
    server
}

async fn anonymous_visitors_are_sent_to_login(server: TestServer) -> TestServer {
    let client = server.client();
    let response = client.get(server.url("/images/private?page=2")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/login?next=%2Fimages%2Fprivate%3Fpage%3D2");
    let (status, body) = server.list(&client, "public", &[]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body, Value::String("Unauthorized".into()));

    // After login the user lands where they were going.
    let response = client
        .post(server.url("/auth/login"))
        .form(&[("account", "acme"), ("user", "bob"), ("password", PASSWORD), ("next", "/images/private?page=2")])
        .send()
        .await
        .unwrap();
    assert_eq!(location(&response), "/images/private?page=2");
    // And an off-site "next" is ignored.
    let response = client
        .post(server.url("/auth/login"))
        .form(&[("account", "acme"), ("user", "bob"), ("password", PASSWORD), ("next", "//evil.example/")])
        .send()
        .await
        .unwrap();
    assert_eq!(location(&response), "/images/public");
    server
}

async fn logout_destroys_the_session(server: TestServer) -> TestServer {
    let client = server.login_as("acme", "alice").await;
    let response = client.post(server.url("/auth/logout")).send().await.unwrap();
    assert_eq!(location(&response), "/login?error=logged_out");
    let response = client.get(server.url("/images/private")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "the session is gone");
    let sessions: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sessions").fetch_one(&server.state.db).await.unwrap();
    assert_eq!(sessions, 0, "logout deletes the stored session");
    server
}

async fn sessions_survive_a_server_restart(server: TestServer) -> TestServer {
    let client = server.login_as("acme", "alice").await;
    let restarted = server.restart().await;
    // Cookies belong to the host, not the port: the jar sends the old session to the new server.
    let (status, page) = restarted.page(&client, "/images/private").await;
    assert_eq!(status, StatusCode::OK, "still logged in after the restart");
    assert!(page.contains("acme / alice"));
    restarted
}

async fn cross_site_requests_are_rejected(server: TestServer) -> TestServer {
    let client = server.client();
    let response = client
        .post(server.url("/auth/login"))
        .header("Origin", "http://evil.example")
        .form(&[("account", "acme"), ("user", "alice"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let alice = server.login_as("acme", "alice").await;
    let response = alice
        .post(server.url("/api/delete_image"))
        .header("Sec-Fetch-Site", "cross-site")
        .form(&[("id", "whatever")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    server
}

async fn acme_private_image(server: &TestServer) -> (String, String) {
    let alice = server.login_as("acme", "alice").await;
    let (_, body) = server.list(&alice, "private", &[("status", "active"), ("sort", "name"), ("order", "asc")]).await;
    let image = &body["images"][0];
    (image["id"].as_str().unwrap().to_string(), image["name"].as_str().unwrap().to_string())
}

async fn another_tenant_cannot_read_private_images(server: TestServer) -> TestServer {
    let (acme_id, acme_name) = acme_private_image(&server).await;
    let carol = server.login_as("globex", "carol").await;

    let (status, page) = server.page(&carol, &format!("/image/{acme_id}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(!page.contains(&acme_name), "the page does not leak the name");
    assert!(page.contains("does not exist"));

    let (status, body) = server.call(&carol, "get_image", &[("id", &acme_id)]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(!body.to_string().contains(&acme_name));

    for tab in ["private", "shared", "public"] {
        let (status, body) = server.list(&carol, tab, &[("name", &acme_name)]).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(total(&body), 0, "{tab} list of globex holds no acme image");
    }
    let (_, body) = server.list(&carol, "private", &[("page_size", "100")]).await;
    assert!(names(&body).iter().all(|name| name.starts_with("globex") || name.starts_with("hr-records")));

    let (status, _) = server.call(&carol, "delete_image", &[("id", &acme_id)]).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "another tenant cannot delete it either");

    // Positive control: acme's viewer sees it.
    let bob = server.login_as("acme", "bob").await;
    let (status, body) = server.call(&bob, "get_image", &[("id", &acme_id)]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["name"], Value::String(acme_name));
    server
}

async fn viewers_cannot_delete_and_members_can(server: TestServer) -> TestServer {
    let alice = server.login_as("acme", "alice").await;
    let (_, body) = server.list(&alice, "private", &[("status", "active"), ("page_size", "100")]).await;
    let images = body["images"].as_array().unwrap();
    let deletable = images.iter().find(|image| image["protected"] == Value::Bool(false)).unwrap();
    let protected =
        images.iter().find(|image| image["protected"] == Value::Bool(true)).expect("a protected demo image");
    let deletable_id = deletable["id"].as_str().unwrap();

    let bob = server.login_as("acme", "bob").await;
    let (status, body) = server.call(&bob, "delete_image", &[("id", deletable_id)]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body, Value::String("Forbidden".into()));
    let (_, page) = server.page(&bob, "/images/private").await;
    assert!(page.contains("(unavailable: Your role (viewer) can only view images.)"), "viewers' Delete says why");
    let (_, page) = server.page(&alice, "/images/private").await;
    assert!(page.contains(">Delete<"), "admins do");

    let (status, body) = server.call(&alice, "delete_image", &[("id", protected["id"].as_str().unwrap())]).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(body.to_string().contains("is protected and cannot be deleted"));

    let (status, _) = server.call(&alice, "delete_image", &[("id", deletable_id)]).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = server.call(&alice, "get_image", &[("id", deletable_id)]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, body) = server.list(&alice, "private", &[]).await;
    assert_eq!(total(&body), 14);
    server
}

async fn region_switch_changes_every_list(server: TestServer) -> TestServer {
    let alice = server.login_as("acme", "alice").await;
    let (_, beijing_public) = server.list(&alice, "public", &[("page_size", "100")]).await;
    let response = alice
        .post(server.url("/auth/region"))
        .form(&[("region", "ap-southeast-1"), ("next", "/images/private")])
        .send()
        .await
        .unwrap();
    assert_eq!(location(&response), "/images/private");
    let (_, body) = server.list(&alice, "private", &[]).await;
    assert_eq!(total(&body), 2, "acme has 2 private images in Hong Kong");
    let (_, hong_kong_public) = server.list(&alice, "public", &[("page_size", "100")]).await;
    assert_eq!(total(&beijing_public), total(&hong_kong_public), "the catalog exists in both regions");
    let ids = |body: &Value| body["images"].as_array().unwrap().iter().map(|i| i["id"].clone()).collect::<Vec<_>>();
    assert!(
        ids(&beijing_public).iter().all(|id| !ids(&hong_kong_public).contains(id)),
        "each image lives in one region"
    );
    let (_, page) = server.page(&alice, "/images/private").await;
    assert!(page.contains("AP-Hong Kong"));

    let response = alice.post(server.url("/auth/region")).form(&[("region", "moon-1")]).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(response.text().await.unwrap().contains("Unknown region 'moon-1'"));
    server
}

async fn filters_sort_and_pages_are_consistent(server: TestServer) -> TestServer {
    let alice = server.login_as("acme", "alice").await;
    let (_, all) = server.list(&alice, "private", &[("page_size", "100")]).await;
    let all_total = total(&all);

    let mut by_status = 0;
    for status in ["active", "saving", "queued", "killed"] {
        let (_, body) = server.list(&alice, "private", &[("status", status)]).await;
        // The demo's jobs have all finished: nothing waits in Queued or Creating.
        let settled = matches!(status, "active" | "killed");
        assert_eq!(total(&body) > 0, settled, "demo data has {status} images: {settled}");
        assert!(body["images"].as_array().unwrap().iter().all(|image| image["status"] == status));
        by_status += total(&body);
    }
    assert_eq!(by_status, all_total);

    let mut by_kind = 0;
    for kind in ["system", "data", "full_ecs", "iso"] {
        let (_, body) = server.list(&alice, "private", &[("image_type", kind)]).await;
        assert!(total(&body) > 0, "demo data has {kind} images");
        by_kind += total(&body);
    }
    assert_eq!(by_kind, all_total);

    let (_, body) = server.list(&alice, "private", &[("name", "WEB-FRONT")]).await;
    assert!(total(&body) > 0);
    assert!(names(&body).iter().all(|name| name.contains("web-front")), "name filter ignores case");
    let (_, body) = server.list(&alice, "private", &[("name", "%")]).await;
    assert_eq!(total(&body), 0, "% is matched literally");

    let (_, body) =
        server.list(&alice, "private", &[("tag_key", "env"), ("tag_value", "prod"), ("page_size", "100")]).await;
    let prod = total(&body);
    assert!(prod > 0 && prod < all_total);
    let detail_id = body["images"][0]["id"].as_str().unwrap().to_string();
    let (_, detail) = server.call(&alice, "get_image", &[("id", &detail_id)]).await;
    assert!(detail["tags"].as_array().unwrap().iter().any(|tag| tag["key"] == "env" && tag["value"] == "prod"));

    let (_, body) = server.list(&alice, "public", &[("os_type", "Windows"), ("page_size", "100")]).await;
    assert!(total(&body) >= 3 && body["images"].as_array().unwrap().iter().all(|image| image["os_type"] == "Windows"));
    let (_, body) = server.list(&alice, "public", &[("platform", "EulerOS")]).await;
    assert!(total(&body) >= 2);

    let (_, body) = server.list(&alice, "private", &[("sort", "size"), ("order", "asc"), ("page_size", "100")]).await;
    let sizes: Vec<i64> =
        body["images"].as_array().unwrap().iter().map(|image| image["image_size"].as_i64().unwrap()).collect();
    assert!(sizes.windows(2).all(|pair| pair[0] <= pair[1]), "sorted by size ascending");
    let (_, body) = server.list(&alice, "private", &[("sort", "name"), ("order", "desc"), ("page_size", "100")]).await;
    let listed = names(&body);
    let mut sorted = listed.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(listed, sorted, "sorted by name descending");

    let (_, first) = server.list(&alice, "private", &[("page_size", "10")]).await;
    let (_, second) = server.list(&alice, "private", &[("page_size", "10"), ("page", "2")]).await;
    assert_eq!(names(&first).len(), 10);
    assert!(names(&first).iter().all(|name| !names(&second).contains(name)), "pages do not overlap");
    assert_eq!(names(&second).len() as i64, all_total - 10, "the last page holds the rest");
    let (_, past) = server.list(&alice, "private", &[("page", "99")]).await;
    assert_eq!(names(&past).len(), 0);
    assert_eq!(total(&past), all_total);

    let newest_first = server.list(&alice, "private", &[("page_size", "100")]).await.1;
    let times: Vec<i64> =
        newest_first["images"].as_array().unwrap().iter().map(|i| i["created_at"].as_i64().unwrap()).collect();
    let oldest = *times.last().unwrap();
    let day = ims_console::format::format_time(oldest)[..10].to_string();
    let (_, body) = server.list(&alice, "private", &[("created_from", &day), ("created_to", &day)]).await;
    assert!(total(&body) >= 1, "the day of the oldest image holds it");
    let (_, body) = server.list(&alice, "private", &[("created_to", "2000-01-01")]).await;
    assert_eq!(total(&body), 0);

    let (status, page) = server.page(&alice, "/images/private?status=killed&sort=size&order=asc&page_size=20").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Failed"), "killed images show as Failed");
    assert!(page.contains(r#"<option value="killed" selected"#), "the filter form shows the URL state");
    server
}

async fn bad_list_parameters_get_specific_errors(server: TestServer) -> TestServer {
    let alice = server.login_as("acme", "alice").await;
    let (status, body) = server.list(&alice, "private", &[("page_size", "37")]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.to_string().contains("Page size '37' is not offered"));
    let (status, body) = server.list(&alice, "private", &[("created_from", "2026-02-30")]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.to_string().contains("is not a date"));
    let (status, page) = server.page(&alice, "/images/private?sort=owner").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(page.contains("Cannot sort by &#x27;owner&#x27;") || page.contains("Cannot sort by 'owner'"));
    server
}

async fn unknown_pages_are_404(server: TestServer) -> TestServer {
    let alice = server.login_as("acme", "alice").await;
    let (status, page) = server.page(&alice, "/no/such/page").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(page.contains("Page not found"));
    let (status, page) = server.page(&alice, "/images/secret").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(page.contains("Page not found"));
    let (status, _) = server.page(&alice, "/image/00000000-0000-0000-0000-000000000000").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    server
}

/// A caller of `account` in cn-north-4, as an API credential would make one (no session).
async fn caller(server: &TestServer, account: &str, user: &str) -> Caller {
    let project_id = project_id(&server.state.db, account, "cn-north-4").await.unwrap();
    let role = if user == "bob" { Role::Viewer } else { Role::Admin };
    Caller {
        user_id: format!("{account}-{user}"),
        user_name: user.into(),
        role,
        account_id: account.into(),
        account_name: account.into(),
        region: "cn-north-4".into(),
        project_id,
    }
}

/// The services below the server functions apply the same tenant walls: another tenant's
/// images, servers and buckets do not exist for a caller, whatever adapter built it.
async fn services_keep_tenant_walls_without_a_session(server: TestServer) -> TestServer {
    use ims_console::images::query::ImageQuery;
    use ims_console::{buckets, compute, images};
    let state = &server.state;
    let (alice, carol) = (caller(&server, "acme", "alice").await, caller(&server, "globex", "carol").await);
    let private = ImageQuery::from_params("private", |_| None);
    let acme_images = images::service::list_images(state, &alice, &private).await.unwrap();
    let image = &acme_images.images[0];
    assert!(acme_images.total > 0 && image.owned);
    assert_eq!(images::service::get_image(state, &alice, &image.id).await.unwrap().id, image.id);
    let carols = images::service::list_images(state, &carol, &private).await.unwrap();
    assert!(carols.images.iter().all(|theirs| theirs.id != image.id));
    assert!(matches!(images::service::get_image(state, &carol, &image.id).await, Err(AppError::NotFound(_))));
    assert!(matches!(images::service::delete_image(state, &carol, &image.id).await, Err(AppError::NotFound(_))));

    let acme_servers = compute::service::list_servers(state, &alice, "", "").await.unwrap();
    let acme_server = &acme_servers[0].id;
    assert!(matches!(compute::service::get_server(state, &carol, acme_server).await, Err(AppError::NotFound(_))));
    assert!(compute::service::list_servers(state, &carol, "", "").await.unwrap().is_empty());

    buckets::service::create_bucket(state, &alice, "acme-only").await.unwrap();
    assert!(matches!(buckets::service::list_objects(state, &carol, "acme-only").await, Err(AppError::NotFound(_))));
    assert!(matches!(buckets::service::delete_bucket(state, &carol, "acme-only").await, Err(AppError::NotFound(_))));
    let names = |list: Vec<buckets::model::BucketView>| list.into_iter().map(|b| b.name).collect::<Vec<_>>();
    assert!(names(buckets::service::list_buckets(state, &alice).await.unwrap()).contains(&"acme-only".to_string()));
    assert!(!names(buckets::service::list_buckets(state, &carol).await.unwrap()).contains(&"acme-only".to_string()));
    server
}

/// The ids under which a rendered page hands its resources to the browser.
fn resource_ids(html: &str) -> String {
    let start = html.find("__PENDING_RESOURCES=").expect("a page with resources");
    html[start..].split(';').next().unwrap().to_string()
}

/// Hydration finds each resource by the number the server gave it, so every render of a page
/// must number its resources alike, however fast its data loads (a resource made inside a
/// Suspense that the server builds twice would not be).
async fn pages_number_their_resources_alike_on_every_render(server: TestServer) -> TestServer {
    let alice = server.login_as("acme", "alice").await;
    let (_, body) = server.list(&alice, "private", &[("status", "active"), ("image_type", "system")]).await;
    let image = body["images"][0]["id"].as_str().unwrap().to_string();
    let (_, servers) = server.call(&alice, "list_servers", &[]).await;
    let ecs = servers[0]["id"].as_str().unwrap().to_string();
    let pages = [
        format!("/image/{image}"),
        "/images/private".to_string(),
        "/images/create".to_string(),
        format!("/ecs/{ecs}"),
        "/ecs/create".to_string(),
        "/disks".to_string(),
        "/buckets".to_string(),
        "/jobs".to_string(),
    ];
    for page in pages {
        let mut seen = Vec::new();
        for _ in 0..6 {
            let (status, html) = server.page(&alice, &page).await;
            assert_eq!(status, StatusCode::OK, "{page}");
            seen.push(resource_ids(&html));
        }
        seen.dedup();
        assert_eq!(seen.len(), 1, "{page} numbered its resources differently: {seen:?}");
    }
    server
}
