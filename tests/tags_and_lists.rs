//! Organising images, on SQLite and PostgreSQL: tags by the IMS rules (one and in a batch, all
//! or none), Export List (the list's rows over all pages, as a streamed CSV file), stars
//! (frequently used, per user) and deprecation (hidden unless asked for, still usable).

mod common;

use common::{field_errors, TestServer};
use reqwest::{Client, StatusCode};
use serde_json::Value;

on_both_backends!(
    tags_follow_the_ims_rules,
    export_list_has_every_row_of_the_list,
    stars_are_per_user_and_deprecated_images_hide
);

async fn private_ids(server: &TestServer, client: &Client, params: &[(&str, &str)]) -> Vec<String> {
    let (status, page) = server.list(client, "private", params).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    page["images"].as_array().unwrap().iter().map(|image| image["id"].as_str().unwrap().to_string()).collect()
}

async fn set_tag(
    server: &TestServer,
    client: &Client,
    id: &str,
    key: &str,
    value: &str,
    original: &str,
) -> (StatusCode, Value) {
    let form = [
        ("request[image_id]", id),
        ("request[key]", key),
        ("request[value]", value),
        ("request[original_key]", original),
    ];
    server.call(client, "set_image_tag", &form).await
}

async fn tags_of(server: &TestServer, client: &Client, id: &str) -> Vec<(String, String)> {
    let (_, image) = server.call(client, "get_image", &[("id", id)]).await;
    image["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|tag| (tag["key"].as_str().unwrap().to_string(), tag["value"].as_str().unwrap().to_string()))
        .collect()
}

async fn tags_follow_the_ims_rules(server: TestServer) -> TestServer {
    let alice = server.login_as("acme", "alice").await;
    let bob = server.login_as("acme", "bob").await;
    let carol = server.login_as("globex", "carol").await;
    let ids = private_ids(&server, &alice, &[("page_size", "20")]).await;
    let (first, second) = (ids[0].clone(), ids[1].clone());

    // Add, edit (the value, then the key), delete.
    let before = tags_of(&server, &alice, &first).await;
    assert_eq!(set_tag(&server, &alice, &first, "owner", "team-α", "").await.0, StatusCode::OK);
    assert!(tags_of(&server, &alice, &first).await.contains(&("owner".into(), "team-α".into())));
    assert_eq!(set_tag(&server, &alice, &first, "owner", "web", "owner").await.0, StatusCode::OK);
    assert_eq!(set_tag(&server, &alice, &first, "maintainer", "web", "owner").await.0, StatusCode::OK);
    let tags = tags_of(&server, &alice, &first).await;
    assert!(tags.contains(&("maintainer".into(), "web".into())) && !tags.iter().any(|(key, _)| key == "owner"));
    let (status, body) = server.call(&alice, "delete_image_tag", &[("image_id", &first), ("key", "maintainer")]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(tags_of(&server, &alice, &first).await, before);

    // Each bad part is named at its field; renaming onto a taken key is refused.
    let (status, body) = set_tag(&server, &alice, &first, "bad key", &"v".repeat(44), "").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(field_errors(&body), ["key", "value"], "{body}");
    let (status, _) = set_tag(&server, &alice, &first, &"k".repeat(37), "", "").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    set_tag(&server, &alice, &first, "a", "1", "").await;
    set_tag(&server, &alice, &first, "b", "2", "").await;
    let (status, body) = set_tag(&server, &alice, &first, "a", "3", "b").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.to_string().contains("already has a tag with key 'a'"), "{body}");

    // At most 10.
    let mut count = tags_of(&server, &alice, &first).await.len();
    while count < 10 {
        assert_eq!(set_tag(&server, &alice, &first, &format!("fill{count}"), "x", "").await.0, StatusCode::OK);
        count += 1;
    }
    let (status, body) = set_tag(&server, &alice, &first, "eleventh", "x", "").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.to_string().contains("at most") || body.to_string().contains("already has 10 tags"), "{body}");
    assert_eq!(set_tag(&server, &alice, &first, "a", "changed", "").await.0, StatusCode::OK, "a value changes at 10");

    // Batch Tag: all or none.
    let both = format!("{first},{second}");
    let batch = |action: &'static str, key: &'static str, value: &'static str| {
        let images = both.clone();
        let alice = alice.clone();
        let server = &server;
        async move {
            server
                .call(
                    &alice,
                    "batch_tag_images",
                    &[("images", &images), ("action", action), ("key", key), ("value", value)],
                )
                .await
        }
    };
    let (status, body) = batch("add", "release", "r1").await;
    assert_eq!(status, StatusCode::CONFLICT, "the first image is full: {body}");
    assert!(body.to_string().contains("No image was changed"), "{body}");
    assert!(!tags_of(&server, &alice, &second).await.iter().any(|(key, _)| key == "release"));
    server.call(&alice, "delete_image_tag", &[("image_id", &first), ("key", "fill9")]).await;
    let (status, body) = batch("add", "release", "r1").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    for id in [&first, &second] {
        assert!(tags_of(&server, &alice, id).await.contains(&("release".into(), "r1".into())));
    }
    // The tag filter finds them.
    let tagged = private_ids(&server, &alice, &[("tag_key", "release"), ("tag_value", "r1")]).await;
    assert_eq!(tagged.len(), 2);
    let (status, _) = batch("remove", "release", "").await;
    assert_eq!(status, StatusCode::OK);
    assert!(private_ids(&server, &alice, &[("tag_key", "release")]).await.is_empty());
    let (status, body) = batch("rename", "release", "").await;
    assert_eq!((status, field_errors(&body)), (StatusCode::BAD_REQUEST, vec!["action".to_string()]));

    // Only the owner: a viewer (403), another account (404).
    assert_eq!(set_tag(&server, &bob, &first, "x", "y", "").await.0, StatusCode::FORBIDDEN);
    assert_eq!(set_tag(&server, &carol, &first, "x", "y", "").await.0, StatusCode::NOT_FOUND);
    let (status, _) = server
        .call(&carol, "batch_tag_images", &[("images", &first), ("action", "add"), ("key", "x"), ("value", "")])
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    server
}

/// The rows of a CSV file (quoted fields may hold commas; the tests' names do not need more).
fn csv_rows(text: &str) -> Vec<Vec<String>> {
    text.lines()
        .map(|line| {
            let mut fields = Vec::new();
            let (mut field, mut quoted) = (String::new(), false);
            let mut chars = line.chars().peekable();
            while let Some(c) = chars.next() {
                match (c, quoted) {
                    ('"', true) if chars.peek() == Some(&'"') => {
                        field.push('"');
                        chars.next();
                    }
                    ('"', _) => quoted = !quoted,
                    (',', false) => fields.push(std::mem::take(&mut field)),
                    _ => field.push(c),
                }
            }
            fields.push(field);
            fields
        })
        .collect()
}

async fn export(server: &TestServer, client: &Client, query: &str) -> (reqwest::header::HeaderMap, Vec<Vec<String>>) {
    let response = client.get(server.url(&format!("/export/images.csv?{query}"))).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let headers = response.headers().clone();
    (headers, csv_rows(&response.text().await.unwrap()))
}

async fn export_list_has_every_row_of_the_list(server: TestServer) -> TestServer {
    let alice = server.login_as("acme", "alice").await;
    // More rows than one batch of the export: the batches must join without a gap or a repeat.
    let (_, session) = server.call(&alice, "session_info", &[]).await;
    let project = session["project_id"].as_str().unwrap().to_string();
    let mut transaction = server.state.db.begin().await.unwrap();
    for index in 0..2_100 {
        let image = ims_console::images::store::NewImage {
            owner: project.clone(),
            status: ims_console::images::model::ImageStatus::Active,
            created_at: 1_700_000_000_000 + (index % 700) as i64 * 1000,
            tags: vec![("batch".into(), format!("b{}", index % 3))],
            ..ims_console::images::store::NewImage::queued_for("cn-north-4", &format!("bulk-{index:05}"), "system")
        };
        ims_console::images::store::insert_image(&mut transaction, &image).await.unwrap();
    }
    transaction.commit().await.unwrap();

    let (headers, rows) = export(&server, &alice, "tab=private").await;
    assert_eq!(headers["content-type"], "text/csv; charset=utf-8");
    let disposition = headers["content-disposition"].to_str().unwrap();
    assert!(
        disposition.starts_with("attachment; filename=\"images-private-cn-north-4-") && disposition.ends_with(".csv\"")
    );
    assert_eq!(
        rows[0],
        [
            "Name",
            "ID",
            "Status",
            "OS",
            "Type",
            "Format",
            "Size (bytes)",
            "Min. Disk (GB)",
            "Created",
            "Encrypted",
            "Tags"
        ]
    );
    let (_, page) = server.list(&alice, "private", &[]).await;
    let total = page["total"].as_i64().unwrap() as usize;
    assert_eq!(rows.len() - 1, total, "every row of the list, over all pages");
    let mut ids: Vec<&String> = rows[1..].iter().map(|row| &row[1]).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), total, "no row twice");
    // The list's order: its first page is the file's first rows.
    let first_page: Vec<String> =
        page["images"].as_array().unwrap().iter().map(|image| image["id"].as_str().unwrap().to_string()).collect();
    let file_first: Vec<String> = rows[1..=first_page.len()].iter().map(|row| row[1].clone()).collect();
    assert_eq!(file_first, first_page);

    // Filters and sort as the list has them.
    let (_, rows) = export(&server, &alice, "tab=private&tag_key=batch&tag_value=b1&sort=name&order=asc").await;
    assert_eq!(rows.len() - 1, 700);
    let names: Vec<&String> = rows[1..].iter().map(|row| &row[0]).collect();
    assert!(names.windows(2).all(|pair| pair[0] <= pair[1]), "sorted by name");
    assert!(rows[1..].iter().all(|row| row[10] == "batch=b1" && row[2] == "Normal"));
    // A bad filter is refused before anything is sent; nobody logged in gets nothing.
    let response = alice.get(server.url("/export/images.csv?tab=private&page_size=37")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK, "the page size does not matter to the file");
    let response = alice.get(server.url("/export/images.csv?tab=private&status=gone")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let response = server.client().get(server.url("/export/images.csv?tab=private")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    server
}

async fn stars_are_per_user_and_deprecated_images_hide(server: TestServer) -> TestServer {
    let alice = server.login_as("acme", "alice").await;
    let bob = server.login_as("acme", "bob").await;
    let (_, public) = server.list(&alice, "public", &[]).await;
    let public_id = public["images"][0]["id"].as_str().unwrap().to_string();

    // A star is the user's own: bob (a viewer) may star, and sees only his.
    let (status, body) = server.call(&alice, "set_favorite_image", &[("id", &public_id), ("favorite", "true")]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, starred) = server.list(&alice, "public", &[("frequently_used", "1")]).await;
    assert_eq!(starred["total"], 1);
    assert_eq!(starred["images"][0]["favorite"], true);
    let (_, bobs) = server.list(&bob, "public", &[("frequently_used", "1")]).await;
    assert_eq!(bobs["total"], 0);
    assert_eq!(
        server.call(&bob, "set_favorite_image", &[("id", &public_id), ("favorite", "true")]).await.0,
        StatusCode::OK
    );
    let (_, choices) = server.call(&alice, "list_image_choices", &[("for_disks", "false")]).await;
    let choice = choices.as_array().unwrap().iter().find(|choice| choice["id"] == public_id.as_str()).unwrap();
    assert_eq!(choice["favorite"], true);
    server.call(&alice, "set_favorite_image", &[("id", &public_id), ("favorite", "false")]).await;
    let (_, starred) = server.list(&alice, "public", &[("frequently_used", "1")]).await;
    assert_eq!(starred["total"], 0);
    let (status, _) = server.call(&alice, "set_favorite_image", &[("id", "no-such-image"), ("favorite", "true")]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Deprecated from a past time: out of the lists unless asked for, still usable.
    let id = server.import_real_image(&alice, "to-deprecate").await;
    let (status, body) =
        server.call(&alice, "set_image_deprecation", &[("id", &id), ("deprecate_at", "2026-01-01T00:00")]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, hidden) = server.list(&alice, "private", &[("status", "active"), ("image_type", "system")]).await;
    assert!(!hidden.to_string().contains(&id), "deprecated images leave the list");
    let (_, shown) = server
        .list(&alice, "private", &[("status", "active"), ("image_type", "system"), ("show_deprecated", "1")])
        .await;
    let row = shown["images"].as_array().unwrap().iter().find(|image| image["id"] == id.as_str()).unwrap().clone();
    assert_eq!(row["deprecated"], true);
    let (_, image) = server.call(&alice, "get_image", &[("id", &id)]).await;
    assert_eq!((image["deprecated"].as_bool(), image["deprecated_at"].is_i64()), (Some(true), true));
    let (_, choices) = server.call(&alice, "list_image_choices", &[("for_disks", "false")]).await;
    let choice = choices.as_array().unwrap().iter().find(|choice| choice["id"] == id.as_str()).cloned();
    assert_eq!(choice.map(|choice| choice["deprecated"].clone()), Some(Value::Bool(true)), "offered, marked");
    // A future time deprecates later; clearing ends it; a bad time is named at its field.
    server.call(&alice, "set_image_deprecation", &[("id", &id), ("deprecate_at", "2999-01-01T00:00")]).await;
    let (_, later) = server.call(&alice, "get_image", &[("id", &id)]).await;
    assert_eq!(later["deprecated"], false);
    server.call(&alice, "set_image_deprecation", &[("id", &id), ("deprecate_at", "")]).await;
    let (_, cleared) = server.call(&alice, "get_image", &[("id", &id)]).await;
    assert!(cleared["deprecated_at"].is_null());
    let (status, body) =
        server.call(&alice, "set_image_deprecation", &[("id", &id), ("deprecate_at", "next tuesday")]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(field_errors(&body), ["deprecate_at"]);
    let carol = server.login_as("globex", "carol").await;
    assert_eq!(
        server.call(&carol, "set_image_deprecation", &[("id", &id), ("deprecate_at", "")]).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        server.call(&bob, "set_image_deprecation", &[("id", &id), ("deprecate_at", "")]).await.0,
        StatusCode::FORBIDDEN
    );
    server
}
