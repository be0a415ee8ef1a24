//! Steps of the ECS and EVS scenarios: create servers and wait for them, write and read disk
//! bytes, create images from servers.

use super::{pairs, TestServer};
use reqwest::{Client, StatusCode};
use serde_json::Value;

pub const MIB: u64 = 1 << 20;

/// A public image of the region by architecture and boot mode (Linux, so 1 GB of memory will do).
pub async fn public_image(server: &TestServer, client: &Client, architecture: &str, boot_mode: &str) -> Value {
    let (status, choices) = server.call(client, "list_image_choices", &[("for_disks", "false")]).await;
    assert_eq!(status, StatusCode::OK, "{choices}");
    choices
        .as_array()
        .unwrap()
        .iter()
        .find(|image| {
            image["category"] == "Public"
                && image["architecture"] == architecture
                && image["boot_mode"] == boot_mode
                && image["min_ram"] == 1024
        })
        .cloned()
        .unwrap_or_else(|| panic!("a public {architecture} {boot_mode} image"))
}

pub fn server_form<'a>(
    name: &'a str,
    image_id: &'a str,
    flavor: &'a str,
    data_disks: &'a str,
) -> Vec<(String, String)> {
    [("name", name), ("image_id", image_id), ("flavor", flavor), ("data_disks", data_disks)]
        .iter()
        .map(|(field, value)| (format!("request[{field}]"), value.to_string()))
        .collect()
}

pub async fn create_server(server: &TestServer, client: &Client, form: &[(String, String)]) -> String {
    let (status, ids) = server.call(client, "create_servers", &pairs(form)).await;
    assert_eq!(status, StatusCode::OK, "{ids}");
    let id = ids[0].as_str().unwrap().to_string();
    let detail = wait_for_server(server, client, &id, "running").await;
    assert_eq!(detail["server"]["status"], "running", "{detail}");
    id
}

/// Polls the server until it leaves its transitional states; returns its detail.
pub async fn wait_for_server(server: &TestServer, client: &Client, id: &str, expected: &str) -> Value {
    for _ in 0..600 {
        let (status, detail) = server.call(client, "get_server", &[("id", id)]).await;
        assert_eq!(status, StatusCode::OK, "{detail}");
        let current = detail["server"]["status"].as_str().unwrap().to_string();
        if current == expected || current == "error" {
            return detail;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("server {id} did not become {expected} within a minute");
}

pub fn disk_id(detail: &Value, role: &str, index: usize) -> String {
    let disks: Vec<&Value> = detail["disks"].as_array().unwrap().iter().filter(|disk| disk["role"] == role).collect();
    disks[index]["id"].as_str().unwrap().to_string()
}

pub async fn write(server: &TestServer, client: &Client, disk: &str, offset: u64, text: &str) {
    let offset = offset.to_string();
    let form = [("request[disk_id]", disk), ("request[offset]", offset.as_str()), ("request[text]", text)];
    let (status, body) = server.call(client, "write_disk", &form).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

pub async fn read(server: &TestServer, client: &Client, disk: &str, offset: u64, length: usize) -> String {
    let (offset, length) = (offset.to_string(), length.to_string());
    let (status, body) =
        server.call(client, "read_disk", &[("disk_id", disk), ("offset", &offset), ("length", &length)]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["text"].as_str().unwrap().to_string()
}

pub async fn capture(
    server: &TestServer,
    client: &Client,
    server_id: &str,
    kind: &str,
    disk: &str,
    name: &str,
) -> (StatusCode, Value) {
    let form = [
        ("request[server_id]", server_id),
        ("request[image_type]", kind),
        ("request[disk_id]", disk),
        ("request[name]", name),
    ];
    server.call(client, "create_image_from_server", &form).await
}

pub async fn captured_image(
    server: &TestServer,
    client: &Client,
    server_id: &str,
    kind: &str,
    disk: &str,
    name: &str,
) -> Value {
    let (status, image_id) = capture(server, client, server_id, kind, disk, name).await;
    assert_eq!(status, StatusCode::OK, "{image_id}");
    let image = server.wait_for_image(client, image_id.as_str().unwrap()).await;
    assert_eq!(image["status"], "active", "{image}");
    image
}

pub async fn wait_for_disk(server: &TestServer, client: &Client, id: &str) -> Value {
    for _ in 0..600 {
        let (_, disks) = server.call(client, "list_disks", &[]).await;
        let disk = disks.as_array().unwrap().iter().find(|disk| disk["id"] == id).cloned().unwrap();
        if disk["status"] != "creating" {
            return disk;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("disk {id} was not created within a minute");
}

pub async fn action(server: &TestServer, client: &Client, id: &str, action: &str) -> (StatusCode, Value) {
    server.call(client, "server_action", &[("id", id), ("action", action)]).await
}

pub async fn write_file(
    server: &TestServer,
    client: &Client,
    disk: &str,
    path: &str,
    text: &str,
) -> (StatusCode, Value) {
    let form = [("request[disk_id]", disk), ("request[path]", path), ("request[text]", text)];
    server.call(client, "write_disk_file", &form).await
}

pub async fn read_file(server: &TestServer, client: &Client, disk: &str, path: &str) -> (StatusCode, Value) {
    server.call(client, "read_disk_file", &[("disk_id", disk), ("path", path)]).await
}
