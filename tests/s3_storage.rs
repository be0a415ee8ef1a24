//! The object store on an S3-compatible service: moto's S3 server on loopback, which
//! scripts/test.sh starts (IMS_TEST_S3_ENDPOINT). The storage layer alone, then a whole
//! import and export through a server whose object store is S3.

mod common;

use common::{disk_files, import_form, pairs, Backend, TestDatabase, TestServer};
use ims_console::storage::{Storage, StorageConfig};
use reqwest::StatusCode;

fn endpoint() -> String {
    std::env::var("IMS_TEST_S3_ENDPOINT")
        .expect("IMS_TEST_S3_ENDPOINT must name an S3-compatible server on loopback (scripts/test.sh starts moto)")
}

async fn new_bucket() -> String {
    common::new_s3_bucket(&endpoint()).await
}

/// A console server on SQLite whose object store is a new bucket of the S3 service (and
/// `extra` settings).
async fn server_on_s3_with(extra: &[(&str, &str)]) -> (TestDatabase, TestServer) {
    let bucket = new_bucket().await;
    let database = TestDatabase::create(Backend::Sqlite).await;
    let endpoint = endpoint();
    let mut settings = vec![
        ("IMS_OBJECT_STORE", "s3"),
        ("IMS_S3_ENDPOINT", endpoint.as_str()),
        ("IMS_S3_BUCKET", bucket.as_str()),
        ("IMS_S3_ACCESS_KEY_ID", "test"),
        ("IMS_S3_SECRET_ACCESS_KEY", "test"),
    ];
    settings.extend_from_slice(extra);
    let server = TestServer::start_with(database.config(&settings)).await;
    (database, server)
}

async fn server_on_s3() -> (TestDatabase, TestServer) {
    server_on_s3_with(&[]).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn storage_streams_composes_and_deletes_on_s3() {
    let bucket = new_bucket().await;
    let storage = Storage::open(&StorageConfig::S3 {
        endpoint: endpoint(),
        region: "us-east-1".into(),
        bucket,
        access_key_id: "test".into(),
        secret_access_key: "test".into(),
        regional: Vec::new(),
    })
    .unwrap();
    assert_eq!(storage.local_path("images/x"), None, "S3 objects have no local path");
    let first: Vec<u8> = (0..(6u32 << 20)).map(|index| (index % 241) as u8).collect();
    storage.put_bytes("uploads/u/00000000", first.clone().into()).await.unwrap();
    storage.put_bytes("uploads/u/00000001", bytes::Bytes::from_static(b"tail")).await.unwrap();
    let parts = vec!["uploads/u/00000000".to_string(), "uploads/u/00000001".to_string()];
    let digests = storage.compose(&parts, "buckets/r/b/joined.bin").await.unwrap();
    assert_eq!(digests.size, first.len() as u64 + 4);
    assert_eq!(storage.size("buckets/r/b/joined.bin").await.unwrap(), Some(digests.size));

    let dir = std::env::temp_dir().join(format!("ims-s3-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let downloaded = storage.download_to("buckets/r/b/joined.bin", &dir.join("joined.bin")).await.unwrap();
    assert_eq!(downloaded, digests, "same bytes, same checksums");
    let mut expected = first;
    expected.extend_from_slice(b"tail");
    assert!(std::fs::read(dir.join("joined.bin")).unwrap() == expected);
    let uploaded = storage.upload_file(&dir.join("joined.bin"), "images/r/i/disk.qcow2").await.unwrap();
    assert_eq!(uploaded.sha256, digests.sha256);

    storage.delete_prefix("uploads/u").await.unwrap();
    assert_eq!(storage.size("uploads/u/00000000").await.unwrap(), None);
    storage.delete("buckets/r/b/joined.bin").await.unwrap();
    storage.delete("buckets/r/b/joined.bin").await.unwrap();
    assert_eq!(storage.size("buckets/r/b/joined.bin").await.unwrap(), None);
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_and_export_work_with_an_s3_object_store() {
    let (database, server) = server_on_s3().await;
    let folder = database.folder.join("files");
    let (raw, qcow2) = disk_files(&folder, 12);
    let alice = server.login_as("acme", "alice").await;
    server.call(&alice, "create_bucket", &[("name", "s3-files")]).await;
    server.upload(&alice, "s3-files", "disk.qcow2", &qcow2).await;

    let form = import_form("from-s3", "s3-files", "disk.qcow2", "qcow2");
    let (status, image_id) = server.call(&alice, "create_image_from_file", &pairs(&form)).await;
    assert_eq!(status, StatusCode::OK);
    let image = server.wait_for_image(&alice, image_id.as_str().unwrap()).await;
    assert_eq!(image["status"], "active", "{}", image["status_reason"]);
    assert_eq!(image["virtual_size"].as_u64(), Some(12 << 20));

    let (_, job_id) = server
        .call(
            &alice,
            "export_image",
            &[
                ("image_id", image_id.as_str().unwrap()),
                ("bucket", "s3-files"),
                ("object_key", "out.raw"),
                ("file_format", "raw"),
            ],
        )
        .await;
    let job = server.wait_for_job(&alice, job_id.as_str().unwrap()).await;
    assert_eq!(job["status"], "SUCCESS", "{}", job["fail_reason"]);
    let exported = server.download(&alice, "s3-files", "out.raw").await;
    assert!(exported == raw.as_slice(), "the raw export from S3 holds the imported disk");
    assert!(server.work_leftovers().is_empty());
    server.stop().await;
    database.drop_database().await;
}

/// Server disks live in S3 too: bytes written into a server's disk reach the image made from
/// it and the server made from that image.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_disks_and_images_from_them_work_on_s3() {
    use common::compute::*;
    let (database, server) = server_on_s3().await;
    let carol = server.login_as("globex", "carol").await;
    let ubuntu = public_image(&server, &carol, "x86", "bios").await;
    let web =
        create_server(&server, &carol, &server_form("s3-web", ubuntu["id"].as_str().unwrap(), "s6.small.1", "10"))
            .await;
    let (_, detail) = server.call(&carol, "get_server", &[("id", &web)]).await;
    let (system, data) = (disk_id(&detail, "system", 0), disk_id(&detail, "data", 0));
    write(&server, &carol, &system, 3 * MIB, "on S3").await;
    write(&server, &carol, &data, MIB, "data on S3").await;
    assert_eq!(write_file(&server, &carol, &system, "/etc/motd", "file on S3").await.0, StatusCode::OK);
    let whole = captured_image(&server, &carol, &web, "full_ecs", "", "s3-whole").await;
    let copy =
        create_server(&server, &carol, &server_form("s3-copy", whole["id"].as_str().unwrap(), "s6.small.1", "")).await;
    let (_, detail) = server.call(&carol, "get_server", &[("id", &copy)]).await;
    assert_eq!(read(&server, &carol, &disk_id(&detail, "system", 0), 3 * MIB, 5).await, "on S3");
    assert_eq!(read(&server, &carol, &disk_id(&detail, "data", 0), MIB, 10).await, "data on S3");
    assert_eq!(read_file(&server, &carol, &disk_id(&detail, "system", 0), "/etc/motd").await.1, "file on S3");
    assert!(server.work_leftovers().is_empty(), "{:?}", server.work_leftovers());
    server.stop().await;
    database.drop_database().await;
}

/// With a bucket of its own for AP-Hong Kong, a cross-region replica's file is written there
/// (and only there), and an ECS in Hong Kong is made from it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_lands_in_the_destination_regions_own_bucket() {
    use common::compute::*;
    let hong_kong_bucket = new_bucket().await;
    let (database, server) = server_on_s3_with(&[("IMS_S3_BUCKET_AP_SOUTHEAST_1", hong_kong_bucket.as_str())]).await;
    let alice = server.login_as("acme", "alice").await;
    let source = server.import_real_image(&alice, "s3-source").await;
    let (_, targets) = server.call(&alice, "replication_targets", &[]).await;
    let project = targets[0]["project_id"].as_str().unwrap().to_string();
    let form = [
        ("request[images]", source.as_str()),
        ("request[replication_type]", "cross"),
        ("request[name]", "s3-replica"),
        ("request[region]", "ap-southeast-1"),
        ("request[project_id]", project.as_str()),
    ];
    let (status, ids) = server.call(&alice, "replicate_images", &form).await;
    assert_eq!(status, StatusCode::OK, "{ids}");
    let replica = ids[0].as_str().unwrap().to_string();
    server.switch_region(&alice, "ap-southeast-1").await;
    let image = server.wait_for_image(&alice, &replica).await;
    assert_eq!(image["status"], "active", "{}", image["status_reason"]);

    let key = format!("images/ap-southeast-1/{replica}/disk.qcow2");
    let fetch = |bucket: String| {
        let url = format!("{}/{bucket}/{key}", endpoint());
        async move { reqwest::get(url).await.unwrap().status() }
    };
    assert_eq!(fetch(hong_kong_bucket.clone()).await, StatusCode::OK, "the replica is in Hong Kong's bucket");
    let main_bucket = match &server.state.config.storage {
        StorageConfig::S3 { bucket, .. } => bucket.clone(),
        StorageConfig::Local { .. } => unreachable!(),
    };
    assert_eq!(fetch(main_bucket).await, StatusCode::NOT_FOUND, "and not in the main bucket");

    create_server(&server, &alice, &server_form("s3-hk-web", &replica, "s6.small.1", "")).await;
    assert!(server.work_leftovers().is_empty(), "{:?}", server.work_leftovers());
    server.stop().await;
    database.drop_database().await;
}
