//! Quotas through HTTP: the quota table in IMS's shape, refusals with the numbers, an import's
//! virtual size counted before its conversion, and exports that would write a disk's full size.

mod common;

use common::compute::{public_image, server_form};
use common::{import_form, pairs, TestServer};
use reqwest::StatusCode;

const TIGHT: &[(&str, &str)] =
    &[("IMS_QUOTA_STORED_GB", "600"), ("IMS_QUOTA_IMAGES", "17"), ("IMS_QUOTA_SERVERS", "2")];

on_both_backends_with!(super::TIGHT, quotas_are_shown_and_enforced);
on_both_backends_with!(&[], a_huge_sparse_disk_is_not_exported_at_full_size);
on_both_backends_with!(&[("IMS_MIN_FREE_GB", "1000000000")], jobs_do_not_start_without_free_space);

/// A qcow2 file of `virtual_gb` GB that holds no data (a few hundred KB).
fn sparse_qcow2(name: &str, virtual_gb: u64) -> Vec<u8> {
    let path = std::env::temp_dir().join(format!("ims-quota-{name}-{}.qcow2", uuid::Uuid::new_v4().simple()));
    let made = std::process::Command::new("qemu-img")
        .args(["create", "-q", "-f", "qcow2"])
        .arg(&path)
        .arg(format!("{virtual_gb}G"))
        .status()
        .unwrap();
    assert!(made.success());
    let bytes = std::fs::read(&path).unwrap();
    std::fs::remove_file(path).unwrap();
    bytes
}

async fn quotas_are_shown_and_enforced(server: TestServer) -> TestServer {
    let alice = server.login_as("acme", "alice").await;
    let (status, quotas) = server.call(&alice, "list_quotas", &[]).await;
    assert_eq!(status, StatusCode::OK, "{quotas}");
    let line = |kind: &str| quotas.as_array().unwrap().iter().find(|line| line["type"] == kind).cloned().unwrap();
    assert_eq!((line("image")["used"].as_i64(), line("image")["quota"].as_i64()), (Some(16), Some(17)));
    assert_eq!(line("stored_bytes")["quota"].as_i64(), Some(600 << 30));
    let stored = line("stored_bytes")["used"].as_i64().unwrap();
    assert!(stored > 0 && stored < 400 << 30, "the demo images' recorded sizes count: {stored}");
    let (status, page) = server.page(&alice, "/quotas").await;
    assert_eq!(status, StatusCode::OK);
    for words in ["Quotas", "Private images", "Stored data", "Jobs waiting to run", "16"] {
        assert!(page.contains(words), "the Quotas page shows {words}");
    }

    // A 900 GB-virtual image in a file of a few hundred KB: the upload fits, the import is
    // refused for its virtual size before anything is converted, and nothing is kept.
    server.call(&alice, "create_bucket", &[("name", "quota-files")]).await;
    server.upload(&alice, "quota-files", "big.qcow2", &sparse_qcow2("big", 900)).await;
    let image = server.import(&alice, "too-big", "quota-files", "big.qcow2", "qcow2").await;
    assert_eq!(image["status"], "killed");
    let reason = image["status_reason"].as_str().unwrap();
    assert!(reason.contains("does not fit the quota") && reason.contains("600 GB quota"), "{reason}");

    // The image quota (17, with 16 in use and one killed import counted) is now full.
    let form = import_form("one-more", "quota-files", "big.qcow2", "qcow2");
    let (status, body) = server.call(&alice, "create_image_from_file", &pairs(&form)).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert!(body.to_string().contains("quota of 17 private images"), "{body}");

    // An upload larger than the stored-data quota is refused before a byte is sent.
    let response = alice
        .post(server.url("/storage/uploads"))
        .json(&serde_json::json!({ "bucket": "quota-files", "key": "huge.raw", "size": 700u64 << 30 }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(response.text().await.unwrap().contains("GB of stored data"));

    // acme's two demo ECSs fill its ECS quota of 2.
    let ubuntu = public_image(&server, &alice, "x86", "bios").await;
    let form = server_form("no-room", ubuntu["id"].as_str().unwrap(), "s6.small.1", "");
    let (status, body) = server.call(&alice, "create_servers", &pairs(&form)).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert!(body.to_string().contains("quota of 2 ecss is reached (2 in use)"), "{body}");
    server
}

async fn a_huge_sparse_disk_is_not_exported_at_full_size(server: TestServer) -> TestServer {
    let alice = server.login_as("acme", "alice").await;
    server.call(&alice, "create_bucket", &[("name", "sparse")]).await;
    server.upload(&alice, "sparse", "terabyte.qcow2", &sparse_qcow2("tb", 1024)).await;
    let image = server.import(&alice, "terabyte", "sparse", "terabyte.qcow2", "qcow2").await;
    assert_eq!(image["status"], "active", "{}", image["status_reason"]);
    let image_id = image["id"].as_str().unwrap().to_string();
    let (_, jobs) = server.call(&alice, "list_jobs", &[]).await;
    server.wait_for_job(&alice, jobs[0]["id"].as_str().unwrap()).await;

    for format in ["raw", "vhd"] {
        let form =
            [("image_id", image_id.as_str()), ("bucket", "sparse"), ("object_key", "out"), ("file_format", format)];
        let (status, body) = server.call(&alice, "export_image", &form).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{format}: {body}");
        assert!(body.to_string().contains("1024 GB") && body.to_string().contains("qcow2 or vmdk"), "{body}");
    }
    let form =
        [("image_id", image_id.as_str()), ("bucket", "sparse"), ("object_key", "out.qcow2"), ("file_format", "qcow2")];
    let (status, job_id) = server.call(&alice, "export_image", &form).await;
    assert_eq!(status, StatusCode::OK, "{job_id}");
    let job = server.wait_for_job(&alice, job_id.as_str().unwrap()).await;
    assert_eq!(job["status"], "SUCCESS", "{}", job["fail_reason"]);
    let (_, objects) = server.call(&alice, "list_objects", &[("bucket", "sparse")]).await;
    let exported = objects.as_array().unwrap().iter().find(|object| object["key"] == "out.qcow2").unwrap();
    assert!(exported["size"].as_u64().unwrap() < 16 << 20, "only the data is written: {exported}");
    server
}

/// With less free space than a job needs to start (here: a billion GB), the job fails with the
/// reason, and the service carries on.
async fn jobs_do_not_start_without_free_space(server: TestServer) -> TestServer {
    let alice = server.login_as("acme", "alice").await;
    server.call(&alice, "create_bucket", &[("name", "no-space")]).await;
    server.upload(&alice, "no-space", "small.qcow2", &sparse_qcow2("small", 1)).await;
    let image = server.import(&alice, "no-space", "no-space", "small.qcow2", "qcow2").await;
    assert_eq!(image["status"], "killed");
    let reason = image["status_reason"].as_str().unwrap();
    assert!(reason.contains("short of disk space") && reason.contains("not started"), "{reason}");
    let (status, _) = server.call(&alice, "list_buckets", &[]).await;
    assert_eq!(status, StatusCode::OK, "the service is still up");
    server
}
