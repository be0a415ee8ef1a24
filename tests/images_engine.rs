//! Buckets, resumable uploads, image import and export through HTTP, with the real job
//! workers, qemu-img and object store; on SQLite and PostgreSQL.

mod common;

use common::{disk_files, import_form, pairs, TestServer};
use reqwest::StatusCode;
use serde_json::Value;
use sha2::{Digest, Sha256};

on_both_backends!(
    buckets_follow_the_naming_and_ownership_rules,
    uploads_resume_and_verify_their_checksum,
    an_image_file_becomes_an_image_and_exports_back,
    hostile_and_mismatched_files_are_killed_with_the_reason,
    an_object_swapped_after_inspection_is_never_read,
    a_bucket_name_that_changes_hands_carries_nothing,
    upload_completion_is_all_or_nothing,
    an_image_is_not_deleted_while_an_export_reads_it,
    bad_import_requests_name_their_fields,
    a_running_import_can_be_cancelled,
    public_images_are_real_disks_of_their_os,
);

fn sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|byte| format!("{byte:02x}")).collect()
}

fn scratch(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("ims-engine-{name}-{}", uuid::Uuid::new_v4().simple()))
}

async fn buckets_follow_the_naming_and_ownership_rules(server: TestServer) -> TestServer {
    let alice = server.login_as("acme", "alice").await;
    let (status, body) = server.call(&alice, "create_bucket", &[("name", "Bad_Name")]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.to_string().contains("lowercase"), "{body}");
    let (status, _) = server.call(&alice, "create_bucket", &[("name", "acme-images")]).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = server.call(&alice, "create_bucket", &[("name", "acme-images")]).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(body.to_string().contains("already exists"));

    let bob = server.login_as("acme", "bob").await;
    let (status, _) = server.call(&bob, "create_bucket", &[("name", "bob-bucket")]).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "viewers cannot create buckets");
    let (status, buckets) = server.call(&bob, "list_buckets", &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        buckets.as_array().unwrap().iter().any(|bucket| bucket["name"] == "acme-images"),
        "the account's viewer sees it"
    );

    let carol = server.login_as("globex", "carol").await;
    let (_, buckets) = server.call(&carol, "list_buckets", &[]).await;
    assert!(
        buckets.as_array().unwrap().iter().all(|bucket| bucket["name"] == "globex-demo-files"),
        "another tenant sees no acme bucket"
    );
    let (status, _) = server.call(&carol, "list_objects", &[("bucket", "acme-images")]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let response = carol
        .post(server.url("/storage/uploads"))
        .json(&serde_json::json!({ "bucket": "acme-images", "key": "x.raw", "size": 512 }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);

    server.upload(&alice, "acme-images", "a.raw", &[1u8; 512]).await;
    let (status, body) = server.call(&alice, "delete_bucket", &[("name", "acme-images")]).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(body.to_string().contains("not empty"));
    let (status, _) = server.call(&alice, "delete_object", &[("bucket", "acme-images"), ("key", "a.raw")]).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = server.call(&alice, "delete_bucket", &[("name", "acme-images")]).await;
    assert_eq!(status, StatusCode::OK);
    server
}

async fn uploads_resume_and_verify_their_checksum(server: TestServer) -> TestServer {
    let alice = server.login_as("acme", "alice").await;
    server.call(&alice, "create_bucket", &[("name", "uploads")]).await;
    let data: Vec<u8> = (0..(20u32 << 20)).map(|index| (index % 251) as u8).collect();

    let first = server.start_upload(&alice, "uploads", "big.bin", data.len() as u64).await;
    let id = first["upload_id"].as_str().unwrap().to_string();
    let chunk = first["chunk_size"].as_u64().unwrap() as usize;
    assert_eq!(first["chunk_count"], 3);
    let response = alice
        .put(server.url(&format!("/storage/uploads/{id}/chunks/0")))
        .body(data[..chunk].to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);

    // Wrong sizes, indexes and early completion are refused with a reason.
    let response =
        alice.put(server.url(&format!("/storage/uploads/{id}/chunks/1"))).body(vec![0u8; 10]).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(response.text().await.unwrap().contains("must have"));
    let response =
        alice.put(server.url(&format!("/storage/uploads/{id}/chunks/9"))).body(vec![0u8; 10]).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let response = alice.post(server.url(&format!("/storage/uploads/{id}/complete"))).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::CONFLICT);

    // The page reloads: starting again with the same name and size resumes the same upload.
    let again = server.start_upload(&alice, "uploads", "big.bin", data.len() as u64).await;
    assert_eq!(again["upload_id"], first["upload_id"]);
    assert_eq!(again["received"], serde_json::json!([0]));
    let (_, unfinished) = server.call(&alice, "list_uploads", &[("bucket", "uploads")]).await;
    assert_eq!(unfinished[0]["received_bytes"].as_u64(), Some(chunk as u64));
    for index in 1..3 {
        let end = ((index + 1) * chunk).min(data.len());
        let response = alice
            .put(server.url(&format!("/storage/uploads/{id}/chunks/{index}")))
            .body(data[index * chunk..end].to_vec())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::NO_CONTENT);
    }
    let response = alice.post(server.url(&format!("/storage/uploads/{id}/complete"))).send().await.unwrap();
    let completed: Value = response.json().await.unwrap();
    assert_eq!(completed["sha256"].as_str().unwrap(), sha256(&data));

    let (_, objects) = server.call(&alice, "list_objects", &[("bucket", "uploads")]).await;
    assert_eq!(objects[0]["key"], "big.bin");
    assert_eq!(objects[0]["size"].as_u64(), Some(data.len() as u64));
    let downloaded = alice.get(server.url("/storage/download?bucket=uploads&key=big.bin")).send().await.unwrap();
    assert!(downloaded.headers()["content-disposition"].to_str().unwrap().contains("big.bin"));
    assert!(downloaded.bytes().await.unwrap() == data.as_slice(), "the download returns the uploaded bytes");
    let chunks_left = std::fs::read_dir(server.state.config.data_dir.join("objects").join("uploads"))
        .map(|entries| entries.count())
        .unwrap_or(0);
    assert_eq!(chunks_left, 0, "completed uploads leave no chunks behind");

    // A cancelled upload is forgotten.
    let cancelled = server.start_upload(&alice, "uploads", "other.bin", 100).await;
    let id = cancelled["upload_id"].as_str().unwrap();
    let response = alice.delete(server.url(&format!("/storage/uploads/{id}"))).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let (_, unfinished) = server.call(&alice, "list_uploads", &[("bucket", "uploads")]).await;
    assert_eq!(unfinished.as_array().unwrap().len(), 0);
    server
}

async fn an_image_file_becomes_an_image_and_exports_back(server: TestServer) -> TestServer {
    let folder = scratch("import");
    let (raw, qcow2) = disk_files(&folder, 20);
    let alice = server.login_as("acme", "alice").await;
    server.call(&alice, "create_bucket", &[("name", "files")]).await;
    server.upload(&alice, "files", "ubuntu.qcow2", &qcow2).await;

    let form = import_form("ubuntu-from-file", "files", "ubuntu.qcow2", "qcow2");
    let (status, image_id) = server.call(&alice, "create_image_from_file", &pairs(&form)).await;
    assert_eq!(status, StatusCode::OK, "{image_id}");
    let image_id = image_id.as_str().unwrap().to_string();
    let image = server.wait_for_image(&alice, &image_id).await;
    assert_eq!(image["status"], "active", "{}", image["status_reason"]);
    assert_eq!(image["disk_format"], "qcow2");
    assert_eq!(image["virtual_size"].as_u64(), Some(20 << 20));
    assert_eq!(image["min_disk"].as_u64(), Some(1), "min disk defaults to the virtual size, rounded up to GB");
    assert_eq!(image["root_origin"], "file");
    assert_eq!(image["sha256"].as_str().unwrap().len(), 64);
    assert!(image["tags"].as_array().unwrap().iter().any(|tag| tag["key"] == "env" && tag["value"] == "test"));
    // The image turns active just before its job records success: wait for the job too.
    let (_, jobs) = server.call(&alice, "list_jobs", &[]).await;
    let job_id = jobs.as_array().unwrap().iter().find(|job| job["image_id"] == image_id.as_str()).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let job = server.wait_for_job(&alice, &job_id).await;
    assert_eq!((job["status"].as_str(), job["percent"].as_f64()), (Some("SUCCESS"), Some(100.0)));
    assert_eq!(job["image_id"].as_str(), Some(image_id.as_str()));

    // Export as a fixed VHD, download it, and read the disk back.
    let (status, job_id) = server
        .call(
            &alice,
            "export_image",
            &[
                ("image_id", &image_id),
                ("bucket", "files"),
                ("object_key", "exports/ubuntu.vhd"),
                ("file_format", "vhd"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{job_id}");
    let job = server.wait_for_job(&alice, job_id.as_str().unwrap()).await;
    assert_eq!(job["status"], "SUCCESS", "{}", job["fail_reason"]);
    let vhd = server.download(&alice, "files", "exports/ubuntu.vhd").await;
    assert_eq!(vhd.len(), raw.len() + 512, "a fixed VHD keeps the exact size");
    std::fs::write(folder.join("exported.vhd"), &vhd).unwrap();
    let status = std::process::Command::new("qemu-img")
        .args(["convert", "-f", "vpc", "-O", "raw"])
        .arg(folder.join("exported.vhd"))
        .arg(folder.join("back.raw"))
        .status()
        .unwrap();
    assert!(status.success());
    assert!(std::fs::read(folder.join("back.raw")).unwrap() == raw, "the exported disk holds the imported bytes");

    // IMS rules: public and ISO images cannot be exported; viewers cannot export.
    let (_, public) = server.list(&alice, "public", &[]).await;
    let public_id = public["images"][0]["id"].as_str().unwrap().to_string();
    let (status, _) = server
        .call(
            &alice,
            "export_image",
            &[("image_id", &public_id), ("bucket", "files"), ("object_key", "p.qcow2"), ("file_format", "qcow2")],
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, isos) = server.list(&alice, "private", &[("image_type", "iso"), ("status", "active")]).await;
    let iso_id = isos["images"][0]["id"].as_str().unwrap().to_string();
    let (status, body) = server
        .call(
            &alice,
            "export_image",
            &[("image_id", &iso_id), ("bucket", "files"), ("object_key", "i.qcow2"), ("file_format", "qcow2")],
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(body.to_string().contains("ISO images cannot be exported"));
    let bob = server.login_as("acme", "bob").await;
    let (status, _) = server
        .call(
            &bob,
            "export_image",
            &[("image_id", &image_id), ("bucket", "files"), ("object_key", "b.qcow2"), ("file_format", "qcow2")],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Deleting the image removes its stored file.
    let location: String = sqlx::query_scalar("SELECT file_location FROM images WHERE id = $1")
        .bind(&image_id)
        .fetch_one(&server.state.db)
        .await
        .unwrap();
    let stored = server.state.storage.local_path(&location).unwrap();
    assert!(stored.exists());
    // Deleted, the image waits in the recycle bin with its file; deleted for good, the file goes.
    let (status, _) = server.call(&alice, "delete_image", &[("id", &image_id)]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(stored.exists());
    let (status, _) = server.call(&alice, "delete_image_permanently", &[("id", &image_id)]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!stored.exists());
    assert!(server.work_leftovers().is_empty(), "no temporary files remain: {:?}", server.work_leftovers());
    std::fs::remove_dir_all(folder).unwrap();
    server
}

async fn hostile_and_mismatched_files_are_killed_with_the_reason(server: TestServer) -> TestServer {
    let folder = scratch("hostile");
    let (_, qcow2) = disk_files(&folder, 4);
    let status = std::process::Command::new("qemu-img")
        .args(["create", "-f", "qcow2", "-F", "raw", "-b"])
        .arg(folder.join("disk.raw"))
        .arg(folder.join("child.qcow2"))
        .status()
        .unwrap();
    assert!(status.success());
    let alice = server.login_as("acme", "alice").await;
    server.call(&alice, "create_bucket", &[("name", "suspicious")]).await;
    server.upload(&alice, "suspicious", "child.qcow2", &std::fs::read(folder.join("child.qcow2")).unwrap()).await;
    server.upload(&alice, "suspicious", "disk.qcow2", &qcow2).await;

    for (key, declared, expected) in [
        ("child.qcow2", "qcow2", "backing file"),
        ("disk.qcow2", "vhd", "declared as vhd but it is qcow2"),
        ("disk.qcow2", "raw", "declared as raw but it is qcow2"),
    ] {
        let form = import_form(&format!("bad-{declared}"), "suspicious", key, declared);
        let (status, image_id) = server.call(&alice, "create_image_from_file", &pairs(&form)).await;
        assert_eq!(status, StatusCode::OK);
        let image = server.wait_for_image(&alice, image_id.as_str().unwrap()).await;
        assert_eq!(image["status"], "killed");
        let reason = image["status_reason"].as_str().unwrap();
        assert!(reason.contains(expected), "{key} as {declared}: {reason}");
        let (_, jobs) = server.call(&alice, "list_jobs", &[]).await;
        let job = jobs.as_array().unwrap().iter().find(|job| job["image_id"] == image["id"]).unwrap();
        let job = server.wait_for_job(&alice, job["id"].as_str().unwrap()).await;
        assert_eq!(job["status"], "FAIL");
        assert_eq!(job["fail_reason"].as_str(), Some(reason));
        let file = server
            .state
            .storage
            .local_path(&format!("images/cn-north-4/{}/disk.qcow2", image["id"].as_str().unwrap()))
            .unwrap();
        assert!(!file.exists(), "a failed import stores nothing");
    }
    assert!(server.work_leftovers().is_empty());
    std::fs::remove_dir_all(folder).unwrap();
    server
}

fn qemu(args: &[&str], files: &[&std::path::Path]) {
    let status = std::process::Command::new("qemu-img").args(args).args(files).status().unwrap();
    assert!(status.success(), "qemu-img {args:?}");
}

/// A project member replaces the bucket object between the import's inspection and its
/// conversion, with a file that names a host file (a qcow2 backing file, a VMDK FLAT extent).
/// The import goes on with the file it inspected, and the host file's bytes never appear.
async fn an_object_swapped_after_inspection_is_never_read(server: TestServer) -> TestServer {
    const HOST_MARKER: &[u8] = b"HOST-FILE-MARKER-51c9";
    let folder = scratch("swap");
    let (raw, qcow2) = disk_files(&folder, 4);
    let secret = folder.join("host-secret.raw");
    std::fs::write(&secret, HOST_MARKER.repeat(4 << 20 >> 5)).unwrap();
    let vmdk = folder.join("disk.vmdk");
    qemu(&["convert", "-f", "raw", "-O", "vmdk"], &[&folder.join("disk.raw"), &vmdk]);
    let evil_qcow2 = folder.join("evil.qcow2");
    qemu(&["create", "-q", "-f", "qcow2", "-F", "raw", "-b"], &[&secret, &evil_qcow2]);
    let evil_vmdk = format!(
        "# Disk DescriptorFile\nversion=1\nCID=fffffffe\nparentCID=ffffffff\ncreateType=\"monolithicFlat\"\n\
         RW 8192 FLAT \"{}\" 0\nddb.adapterType = \"ide\"\n",
        secret.display()
    );

    let alice = server.login_as("acme", "alice").await;
    server.call(&alice, "create_bucket", &[("name", "swapped")]).await;
    for (format, benign, evil) in [
        ("qcow2", qcow2.clone(), std::fs::read(&evil_qcow2).unwrap()),
        ("vmdk", std::fs::read(&vmdk).unwrap(), evil_vmdk.into_bytes()),
    ] {
        let key = format!("disk.{format}");
        server.upload(&alice, "swapped", &key, &benign).await;
        let storage = server.state.storage.clone();
        // Like another upload completing to the same key: a new file renamed over the object.
        server.state.hooks.set_after_inspection(move |object_key| {
            let path = storage.local_path(object_key).unwrap();
            let staged = path.with_extension("swap");
            std::fs::write(&staged, &evil).unwrap();
            std::fs::rename(&staged, &path).unwrap();
        });
        let image = server.import(&alice, &format!("swapped-{format}"), "swapped", &key, format).await;
        assert_eq!(image["status"], "active", "{format}: {}", image["status_reason"]);
        let location: String = sqlx::query_scalar("SELECT file_location FROM images WHERE id = $1")
            .bind(image["id"].as_str().unwrap())
            .fetch_one(&server.state.db)
            .await
            .unwrap();
        let back = folder.join(format!("back-{format}.raw"));
        qemu(&["convert", "-f", "qcow2", "-O", "raw"], &[&server.state.storage.local_path(&location).unwrap(), &back]);
        let stored = std::fs::read(&back).unwrap();
        assert!(!stored.windows(HOST_MARKER.len()).any(|window| window == HOST_MARKER), "{format}: host bytes");
        assert!(stored == raw, "{format}: the image holds the file that was inspected");
    }
    server.state.hooks.set_after_inspection(|_| {});
    std::fs::remove_dir_all(folder).unwrap();
    server
}

async fn bucket_id(server: &TestServer, name: &str) -> String {
    sqlx::query_scalar("SELECT id FROM buckets WHERE name = $1").bind(name).fetch_one(&server.state.db).await.unwrap()
}

/// Deleting a bucket holds only while it is empty (one statement), and a tenant who takes the
/// name afterwards gets a new bucket: none of the old objects, uploads or exports reach it.
async fn a_bucket_name_that_changes_hands_carries_nothing(server: TestServer) -> TestServer {
    let alice = server.login_as("acme", "alice").await;
    server.call(&alice, "create_bucket", &[("name", "passed-on")]).await;
    let old_id = bucket_id(&server, "passed-on").await;
    server.upload(&alice, "passed-on", "secret.raw", &[7u8; 4096]).await;
    let refused = |body: &Value, what: &str| assert!(body.to_string().contains(what), "{body}");

    let (status, body) = server.call(&alice, "delete_bucket", &[("name", "passed-on")]).await;
    assert_eq!(status, StatusCode::CONFLICT);
    refused(&body, "1 objects");
    server.call(&alice, "delete_object", &[("bucket", "passed-on"), ("key", "secret.raw")]).await;
    let pending = server.start_upload(&alice, "passed-on", "half.raw", 1 << 20).await;
    let (status, body) = server.call(&alice, "delete_bucket", &[("name", "passed-on")]).await;
    assert_eq!(status, StatusCode::CONFLICT);
    refused(&body, "1 unfinished uploads");
    let upload_id = pending["upload_id"].as_str().unwrap().to_string();
    let response = alice.delete(server.url(&format!("/storage/uploads/{upload_id}"))).send().await.unwrap();
    assert!(response.status().is_success());
    // An export on its way (leased by another instance) holds the bucket too.
    sqlx::query(
        "INSERT INTO jobs (id, project_id, region, job_type, resource_id, status, params, entities, lease_owner, \
         lease_expires_at, created_at, updated_at) SELECT 'held-export', project_id, region, 'imsNativeExportImageJob', \
         id, 'RUNNING', '{}', '{}', 'another-instance', 9000000000000, 0, 0 FROM buckets WHERE id = $1",
    )
    .bind(&old_id)
    .execute(&server.state.db)
    .await
    .unwrap();
    let (status, body) = server.call(&alice, "delete_bucket", &[("name", "passed-on")]).await;
    assert_eq!(status, StatusCode::CONFLICT);
    refused(&body, "1 exports on the way");
    sqlx::query("UPDATE jobs SET status = 'FAIL' WHERE id = 'held-export'").execute(&server.state.db).await.unwrap();
    let (status, body) = server.call(&alice, "delete_bucket", &[("name", "passed-on")]).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // Another tenant takes the name: a new bucket, with nothing of the old one's.
    let carol = server.login_as("globex", "carol").await;
    let (status, _) = server.call(&carol, "create_bucket", &[("name", "passed-on")]).await;
    assert_eq!(status, StatusCode::OK);
    let new_id = bucket_id(&server, "passed-on").await;
    assert_ne!(new_id, old_id);
    let (_, objects) = server.call(&carol, "list_objects", &[("bucket", "passed-on")]).await;
    assert_eq!(objects, serde_json::json!([]));
    let (_, uploads) = server.call(&carol, "list_uploads", &[("bucket", "passed-on")]).await;
    assert_eq!(uploads, serde_json::json!([]));
    // Rows of the old bucket cannot be made any more (a late export or upload): the id is gone.
    let late = sqlx::query(
        "INSERT INTO bucket_objects (bucket_id, object_key, size, sha256, created_at) VALUES ($1, 'late.raw', 1, 'x', 0)",
    )
    .bind(&old_id)
    .execute(&server.state.db)
    .await;
    assert!(late.is_err(), "an object row of a deleted bucket is refused");
    let (_, objects) = server.call(&carol, "list_objects", &[("bucket", "passed-on")]).await;
    assert_eq!(objects, serde_json::json!([]));
    server
}

/// Upload completion joins into a temporary object, checks it, and renames it into place: a
/// failure at any step leaves the old object whole, and the next try completes the new one.
async fn upload_completion_is_all_or_nothing(server: TestServer) -> TestServer {
    let alice = server.login_as("acme", "alice").await;
    server.call(&alice, "create_bucket", &[("name", "atomic")]).await;
    let old = vec![1u8; 3 << 20];
    let new = vec![2u8; 5 << 20];
    server.upload(&alice, "atomic", "disk.raw", &old).await;
    let complete = |upload_id: String, query: &'static str| {
        alice.post(server.url(&format!("/storage/uploads/{upload_id}/complete{query}"))).send()
    };
    let send_new = || async {
        let state = server.start_upload(&alice, "atomic", "disk.raw", new.len() as u64).await;
        let upload_id = state["upload_id"].as_str().unwrap().to_string();
        let chunk = state["chunk_size"].as_u64().unwrap() as usize;
        for (index, part) in new.chunks(chunk).enumerate() {
            let url = server.url(&format!("/storage/uploads/{upload_id}/chunks/{index}"));
            assert!(alice.put(url).body(part.to_vec()).send().await.unwrap().status().is_success());
        }
        upload_id
    };
    for step in ["compose", "verify", "record", "rename"] {
        server.state.hooks.fail_upload_at(Some(step));
        let response = complete(send_new().await, "").await.unwrap();
        assert!(!response.status().is_success(), "{step}");
        assert!(
            server.download(&alice, "atomic", "disk.raw").await == old,
            "after a failure at {step}, the old object"
        );
        let (_, objects) = server.call(&alice, "list_objects", &[("bucket", "atomic")]).await;
        assert_eq!(objects[0]["size"].as_u64(), Some(old.len() as u64), "{step}");
    }
    server.state.hooks.fail_upload_at(None);
    let response = complete(send_new().await, "?sha256=0000").await.unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(response.text().await.unwrap().contains("SHA-256"));
    assert!(server.download(&alice, "atomic", "disk.raw").await == old);
    let response = complete(send_new().await, "").await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(server.download(&alice, "atomic", "disk.raw").await == new, "the new object, whole");
    server
}

async fn an_image_is_not_deleted_while_an_export_reads_it(server: TestServer) -> TestServer {
    let folder = scratch("export-delete");
    let (_, qcow2) = disk_files(&folder, 4);
    let alice = server.login_as("acme", "alice").await;
    server.call(&alice, "create_bucket", &[("name", "held")]).await;
    server.upload(&alice, "held", "disk.qcow2", &qcow2).await;
    let image = server.import(&alice, "held-image", "held", "disk.qcow2", "qcow2").await;
    assert_eq!(image["status"], "active");
    let image_id = image["id"].as_str().unwrap().to_string();
    let (_, jobs) = server.call(&alice, "list_jobs", &[]).await;
    server.wait_for_job(&alice, jobs[0]["id"].as_str().unwrap()).await;

    let gate = std::sync::Arc::new(tokio::sync::Semaphore::new(0));
    server.state.hooks.set_export_gate(Some(gate.clone()));
    let form =
        [("image_id", image_id.as_str()), ("bucket", "held"), ("object_key", "out.qcow2"), ("file_format", "qcow2")];
    let (status, job_id) = server.call(&alice, "export_image", &form).await;
    assert_eq!(status, StatusCode::OK, "{job_id}");
    let (status, body) = server.call(&alice, "delete_image", &[("id", &image_id)]).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(body.to_string().contains("in use by work in progress"), "{body}");
    gate.add_permits(1);
    let job = server.wait_for_job(&alice, job_id.as_str().unwrap()).await;
    assert_eq!(job["status"], "SUCCESS", "{}", job["fail_reason"]);
    server.state.hooks.set_export_gate(None);
    let (status, body) = server.call(&alice, "delete_image", &[("id", &image_id)]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    std::fs::remove_dir_all(folder).unwrap();
    server
}

async fn bad_import_requests_name_their_fields(server: TestServer) -> TestServer {
    let alice = server.login_as("acme", "alice").await;
    let (_, before) = server.list(&alice, "private", &[]).await;
    server.call(&alice, "create_bucket", &[("name", "forms")]).await;
    let mut form = import_form(" bad<name ", "forms", "missing.qcow2", "zip");
    form.push(("request[min_disk]".into(), "5000".into()));
    form.retain(|(key, _)| key != "request[architecture]");
    form.push(("request[architecture]".into(), "arm".into()));
    let (status, body) = server.call(&alice, "create_image_from_file", &pairs(&form)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let fields: Vec<String> =
        body["Fields"].as_array().unwrap().iter().map(|pair| pair[0].as_str().unwrap().to_string()).collect();
    for field in ["name", "file_format", "min_disk", "boot_mode"] {
        assert!(fields.contains(&field.to_string()), "{field} is named in {body}");
    }

    let form = import_form("good-name", "forms", "missing.qcow2", "qcow2");
    let (status, body) = server.call(&alice, "create_image_from_file", &pairs(&form)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.to_string().contains("does not exist in bucket"), "{body}");
    let (_, private) = server.list(&alice, "private", &[]).await;
    assert_eq!(private["total"], before["total"], "a refused request registers nothing");

    let bob = server.login_as("acme", "bob").await;
    let (status, _) = server.call(&bob, "create_image_from_file", &pairs(&form)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    server
}

async fn a_running_import_can_be_cancelled(server: TestServer) -> TestServer {
    // 256 MiB of incompressible data keeps qemu-img busy long enough to cancel it.
    let alice = server.login_as("acme", "alice").await;
    server.call(&alice, "create_bucket", &[("name", "slow")]).await;
    let mut data = vec![0u8; 256 << 20];
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    for chunk in data.chunks_mut(8) {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        chunk.copy_from_slice(&state.to_le_bytes()[..chunk.len()]);
    }
    server.upload(&alice, "slow", "big.raw", &data).await;
    drop(data);
    let form = import_form("to-cancel", "slow", "big.raw", "raw");
    let (_, image_id) = server.call(&alice, "create_image_from_file", &pairs(&form)).await;
    let image_id = image_id.as_str().unwrap().to_string();
    let job_id = loop {
        let (_, jobs) = server.call(&alice, "list_jobs", &[]).await;
        let job = jobs.as_array().unwrap().iter().find(|job| job["image_id"] == image_id.as_str()).cloned().unwrap();
        if job["status"] == "RUNNING" {
            break job["id"].as_str().unwrap().to_string();
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    };
    let (status, _) = server.call(&alice, "cancel_job", &[("id", &job_id)]).await;
    assert_eq!(status, StatusCode::OK);
    let job = server.wait_for_job(&alice, &job_id).await;
    assert_eq!(job["status"], "FAIL");
    assert_eq!(job["fail_reason"], "The job was cancelled by the user.");
    let image = server.wait_for_image(&alice, &image_id).await;
    assert_eq!(image["status"], "killed");
    assert!(server.work_leftovers().is_empty());
    let (status, body) = server.call(&alice, "cancel_job", &[("id", &job_id)]).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(body.to_string().contains("already finished"));
    server
}

async fn public_images_are_real_disks_of_their_os(server: TestServer) -> TestServer {
    let alice = server.login_as("acme", "alice").await;
    let folder = scratch("public");
    std::fs::create_dir_all(&folder).unwrap();
    for (name, table) in [("Debian GNU/Linux 12.5.0 64bit", "mbr"), ("Debian GNU/Linux 12.5.0 64bit (UEFI)", "gpt")] {
        let (_, page) = server.list(&alice, "public", &[("name", name), ("platform", "Debian")]).await;
        let image = page["images"].as_array().unwrap().iter().find(|image| image["name"] == name).unwrap().clone();
        let (_, detail) = server.call(&alice, "get_image", &[("id", image["id"].as_str().unwrap())]).await;
        assert_eq!(detail["disk_format"], "qcow2");
        assert_eq!(detail["virtual_size"].as_u64(), Some(512 << 20));
        assert_eq!(detail["sha256"].as_str().unwrap().len(), 64);
        let location: String = sqlx::query_scalar("SELECT file_location FROM images WHERE id = $1")
            .bind(image["id"].as_str().unwrap())
            .fetch_one(&server.state.db)
            .await
            .unwrap();
        let stored = server.state.storage.local_path(&location).unwrap();
        assert_eq!(std::fs::metadata(&stored).unwrap().len() as i64, detail["image_size"].as_i64().unwrap());
        let raw = folder.join("public.raw");
        let status = std::process::Command::new("qemu-img")
            .args(["convert", "-f", "qcow2", "-O", "raw"])
            .arg(&stored)
            .arg(&raw)
            .status()
            .unwrap();
        assert!(status.success());
        let report = ims_console::engine::inspect::inspect_file(&raw, None, &Default::default()).unwrap();
        assert_eq!(report.fact("partition_table"), Some(table), "{name}");
        let output = std::process::Command::new("/usr/sbin/debugfs")
            .args(["-R", "cat /etc/os-release"])
            .arg(format!("{}?offset=1048576", raw.display()))
            .output()
            .unwrap();
        let os_release = String::from_utf8_lossy(&output.stdout);
        assert!(
            os_release.contains("NAME=\"Debian GNU/Linux\"") && os_release.contains("VERSION_ID=\"12.5.0\""),
            "{os_release}"
        );
        std::fs::remove_file(&raw).unwrap();
    }
    std::fs::remove_dir_all(folder).unwrap();
    server
}
