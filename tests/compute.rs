//! ECSs and EVS disks through HTTP on both backends: images from servers and servers from
//! images checked by content (bytes written into a server's disk are in the image made from
//! it and in the servers made from that image), the IMS refusal rules, roles and tenants.

mod common;

use common::compute::*;
use common::{pairs, TestServer};
use ims_console::engine::disk::read_bytes;
use ims_console::engine::inspect::ImageFormat;
use reqwest::{Client, StatusCode};
use serde_json::Value;

on_both_backends!(
    content_travels_between_servers_and_images,
    refusals_say_why,
    roles_and_tenants_are_enforced,
    jobs_that_run_again_leave_finished_work_alone,
    disk_claims_are_owned_and_reads_are_rate_limited,
);

async fn content_travels_between_servers_and_images(server: TestServer) -> TestServer {
    let carol = server.login_as("globex", "carol").await;
    let ubuntu = public_image(&server, &carol, "x86", "bios").await;
    let ubuntu_id = ubuntu["id"].as_str().unwrap();
    let web = create_server(&server, &carol, &server_form("web", ubuntu_id, "s6.medium.2", "20")).await;
    let (_, detail) = server.call(&carol, "get_server", &[("id", &web)]).await;
    assert_eq!(detail["server"]["system_disk_gb"], 40, "the image's min disk");
    assert_eq!(detail["server"]["image_name"], ubuntu["name"]);
    let (web_system, web_data) = (disk_id(&detail, "system", 0), disk_id(&detail, "data", 0));
    // The system disk holds the public image's bytes: its partition table's boot signature.
    let (_, boot) =
        server.call(&carol, "read_disk", &[("disk_id", &web_system), ("offset", "510"), ("length", "2")]).await;
    assert_eq!(boot["hex"], "55aa");

    // The public image's filesystem is on the disk; a file written into it travels with the image.
    let (status, release) = read_file(&server, &carol, &web_system, "/etc/os-release").await;
    assert_eq!(status, StatusCode::OK, "{release}");
    let os_name = ubuntu["name"].as_str().unwrap();
    assert!(release.as_str().unwrap().contains(&format!("PRETTY_NAME=\"{os_name}\"")), "{release} names {os_name}");
    let (status, body) = write_file(&server, &carol, &web_system, "/srv/app/motd", "hello from web").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = read_file(&server, &carol, &web_data, "/etc/os-release").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "a blank data disk has no filesystem");
    assert!(body.to_string().contains("no ext2/3/4 filesystem"), "{body}");
    let (status, body) = write_file(&server, &carol, &web_system, "/etc/../shadow", "x").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    write(&server, &carol, &web_system, 5 * MIB, "written into web's system disk").await;
    write(&server, &carol, &web_data, MIB, "written into web's data disk").await;
    assert_eq!(read(&server, &carol, &web_data, MIB, 28).await, "written into web's data disk");

    // System disk image: the bytes are in the image file itself.
    let system_image = captured_image(&server, &carol, &web, "system", "", "web-system").await;
    assert_eq!((system_image["kind"].as_str(), system_image["min_disk"].as_i64()), (Some("system"), Some(40)));
    let (_, public) = server.call(&carol, "get_image", &[("id", ubuntu_id)]).await;
    assert_eq!(system_image["os_version"], public["os_version"], "the OS of the server's image");
    assert_eq!(system_image["data_origin"], format!("instance,{web}"));
    assert_eq!(system_image["virtual_size"], 40i64 << 30);
    let image_id = system_image["id"].as_str().unwrap().to_string();
    let file = server.state.storage.local_path(&format!("images/cn-north-4/{image_id}/disk.qcow2")).unwrap();
    assert_eq!(read_bytes(&file, ImageFormat::Qcow2, 5 * MIB, 30).unwrap(), b"written into web's system disk");

    // A server from that private image has the bytes on its system disk.
    let copy = create_server(&server, &carol, &server_form("web-copy", &image_id, "s6.small.1", "")).await;
    let (_, copy_detail) = server.call(&carol, "get_server", &[("id", &copy)]).await;
    let copy_system = disk_id(&copy_detail, "system", 0);
    assert_eq!(read(&server, &carol, &copy_system, 5 * MIB, 30).await, "written into web's system disk");
    assert_eq!(read_file(&server, &carol, &copy_system, "/srv/app/motd").await.1, "hello from web");
    let (_, used) = server.call(&carol, "get_image", &[("id", &image_id)]).await;
    assert_eq!(used["servers_created"], 1);
    assert!(used["last_used_at"].as_i64().is_some());

    // Data disk image → EVS disk with the data disk's bytes.
    let data_image = captured_image(&server, &carol, &web, "data", &web_data, "web-data").await;
    assert_eq!(data_image["kind"], "data");
    let data_image_id = data_image["id"].as_str().unwrap();
    let form = [("request[name]", "restored"), ("request[size_gb]", ""), ("request[image_id]", data_image_id)];
    let (status, restored) = server.call(&carol, "create_disk", &form).await;
    assert_eq!(status, StatusCode::OK, "{restored}");
    let restored = wait_for_disk(&server, &carol, restored.as_str().unwrap()).await;
    assert_eq!((restored["status"].as_str(), restored["size_gb"].as_i64()), (Some("available"), Some(20)));
    assert_eq!(read(&server, &carol, restored["id"].as_str().unwrap(), MIB, 28).await, "written into web's data disk");

    // Full-ECS image → a server with both disks' bytes.
    let whole = captured_image(&server, &carol, &web, "full_ecs", "", "web-whole").await;
    assert_eq!((whole["kind"].as_str(), whole["data_disks_gb"].clone()), (Some("full_ecs"), serde_json::json!([20])));
    let whole_id = whole["id"].as_str().unwrap();
    let clone = create_server(&server, &carol, &server_form("web-clone", whole_id, "s6.small.1", "")).await;
    let (_, clone_detail) = server.call(&carol, "get_server", &[("id", &clone)]).await;
    let (clone_system, clone_data) = (disk_id(&clone_detail, "system", 0), disk_id(&clone_detail, "data", 0));
    assert_eq!(read(&server, &carol, &clone_system, 5 * MIB, 30).await, "written into web's system disk");
    assert_eq!(read(&server, &carol, &clone_data, MIB, 28).await, "written into web's data disk");

    // The list narrows by name (case-insensitive, wildcards taken literally) and status.
    let names = |body: Value| -> Vec<String> {
        body.as_array().unwrap().iter().map(|server| server["name"].as_str().unwrap().to_string()).collect()
    };
    let (_, found) = server.call(&carol, "list_servers", &[("name", "COPY"), ("status", "")]).await;
    assert_eq!(names(found), ["web-copy"]);
    let (_, found) = server.call(&carol, "list_servers", &[("name", "web"), ("status", "running")]).await;
    assert_eq!(names(found).len(), 3);
    let (_, found) = server.call(&carol, "list_servers", &[("name", "%"), ("status", "")]).await;
    assert!(names(found).is_empty());
    let (_, found) = server.call(&carol, "list_servers", &[("name", ""), ("status", "stopped")]).await;
    assert!(names(found).is_empty());
    assert_eq!(server.call(&carol, "list_servers", &[("status", "asleep")]).await.0, StatusCode::BAD_REQUEST);

    // Change OS: the system disk is new, the data disk is kept.
    let (status, body) = server.call(&carol, "change_os", &[("id", &clone), ("image_id", ubuntu_id)]).await;
    assert_eq!(status, StatusCode::CONFLICT, "a running server must be stopped first: {body}");
    assert!(body.to_string().contains("Stop it before changing its OS"), "{body}");
    assert_eq!(action(&server, &carol, &clone, "stop").await.0, StatusCode::OK);
    wait_for_server(&server, &carol, &clone, "stopped").await;
    let (status, body) = server.call(&carol, "change_os", &[("id", &clone), ("image_id", ubuntu_id)]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let changed = wait_for_server(&server, &carol, &clone, "running").await;
    assert_eq!(changed["server"]["image_id"], ubuntu_id);
    assert_eq!(read(&server, &carol, &clone_system, 5 * MIB, 30).await, "\0".repeat(30), "the old OS is gone");
    assert_eq!(read(&server, &carol, &clone_data, MIB, 28).await, "written into web's data disk");

    // Deleting an image its servers came from: they keep running but cannot be reinstalled.
    assert_eq!(server.call(&carol, "delete_image", &[("id", &image_id)]).await.0, StatusCode::OK);
    assert_eq!(action(&server, &carol, &copy, "stop").await.0, StatusCode::OK);
    wait_for_server(&server, &carol, &copy, "stopped").await;
    let (status, body) = action(&server, &carol, &copy, "reinstall").await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(body.to_string().contains("has been deleted, so the ECS cannot be reinstalled"), "{body}");
    assert_eq!(read(&server, &carol, &copy_system, 5 * MIB, 30).await, "written into web's system disk");

    // Deleting a server keeps its data disks unless asked.
    assert_eq!(server.call(&carol, "delete_server", &[("id", &web)]).await.0, StatusCode::OK);
    let (_, disks) = server.call(&carol, "list_disks", &[]).await;
    let kept = disks.as_array().unwrap().iter().find(|disk| disk["id"] == web_data).unwrap();
    assert_eq!((kept["status"].as_str(), kept["server_id"].as_str()), (Some("available"), Some("")));
    assert!(
        disks.as_array().unwrap().iter().all(|disk| disk["id"] != web_system),
        "the system disk went with the server"
    );
    assert_eq!(server.call(&carol, "get_server", &[("id", &web)]).await.0, StatusCode::NOT_FOUND);

    // The kept disk can be attached elsewhere, detached, and deleted with its file.
    assert_eq!(
        server.call(&carol, "attach_disk", &[("server_id", &copy), ("disk_id", &web_data)]).await.0,
        StatusCode::OK
    );
    let (_, copy_detail) = server.call(&carol, "get_server", &[("id", &copy)]).await;
    assert_eq!(disk_id(&copy_detail, "data", 0), web_data);
    assert_eq!(read(&server, &carol, &web_data, MIB, 28).await, "written into web's data disk");
    let (status, body) = server.call(&carol, "detach_disk", &[("disk_id", &copy_system)]).await;
    assert_eq!(status, StatusCode::CONFLICT, "a system disk stays: {body}");
    assert_eq!(server.call(&carol, "detach_disk", &[("disk_id", &web_data)]).await.0, StatusCode::OK);
    let key: String = sqlx::query_scalar("SELECT object_key FROM disks WHERE id = $1")
        .bind(&web_data)
        .fetch_one(&server.state.db)
        .await
        .unwrap();
    assert!(server.state.storage.local_path(&key).unwrap().exists());
    assert_eq!(server.call(&carol, "delete_disk", &[("id", &web_data)]).await.0, StatusCode::OK);
    assert!(!server.state.storage.local_path(&key).unwrap().exists(), "the disk's file went with it");

    // Deleting a server with its data disks removes them too.
    let (_, clone_detail) = server.call(&carol, "get_server", &[("id", &clone)]).await;
    let clone_data_key: String = sqlx::query_scalar("SELECT object_key FROM disks WHERE id = $1")
        .bind(&clone_data)
        .fetch_one(&server.state.db)
        .await
        .unwrap();
    assert_eq!(clone_detail["disks"].as_array().unwrap().len(), 2);
    let (status, body) = server.call(&carol, "delete_server", &[("id", &clone), ("delete_data_disks", "true")]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, disks) = server.call(&carol, "list_disks", &[]).await;
    assert!(disks
        .as_array()
        .unwrap()
        .iter()
        .all(|disk| disk["id"] != clone_data.as_str() && disk["id"] != clone_system.as_str()));
    assert!(!server.state.storage.local_path(&clone_data_key).unwrap().exists());
    assert!(server.work_leftovers().is_empty(), "{:?}", server.work_leftovers());
    server
}

fn iso_file() -> Vec<u8> {
    let mut image = vec![0u8; 0x8000 + 4 * 2048];
    let blocks = (image.len() / 2048) as u32;
    let descriptor = &mut image[0x8000..0x8800];
    descriptor[0] = 1;
    descriptor[1..6].copy_from_slice(b"CD001");
    descriptor[80..84].copy_from_slice(&blocks.to_le_bytes());
    descriptor[128..130].copy_from_slice(&2048u16.to_le_bytes());
    image
}

fn field_errors(body: &Value) -> Vec<(String, String)> {
    serde_json::from_value(body["Fields"].clone()).unwrap_or_else(|_| panic!("field errors, got {body}"))
}

async fn refused(server: &TestServer, client: &Client, form: &[(String, String)], field: &str, words: &str) {
    let (status, body) = server.call(client, "create_servers", &pairs(form)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let errors = field_errors(&body);
    assert!(
        errors.iter().any(|(name, message)| name == field && message.contains(words)),
        "{field}: {words} in {errors:?}"
    );
}

async fn refusals_say_why(server: TestServer) -> TestServer {
    let carol = server.login_as("globex", "carol").await;
    let bios = public_image(&server, &carol, "x86", "bios").await;
    let bios_id = bios["id"].as_str().unwrap();
    let arm = public_image(&server, &carol, "arm", "uefi").await;

    // Servers from images: architecture, memory, disk size.
    refused(
        &server,
        &carol,
        &server_form("a", arm["id"].as_str().unwrap(), "s6.small.1", ""),
        "flavor",
        "built for Arm",
    )
    .await;
    let mut small_disk = server_form("a", bios_id, "s6.small.1", "");
    small_disk.push(("request[system_disk_gb]".into(), "20".into()));
    refused(&server, &carol, &small_disk, "system_disk_gb", "at least 40 GB").await;
    let (_, choices) = server.call(&carol, "list_image_choices", &[("for_disks", "false")]).await;
    let windows = choices
        .as_array()
        .unwrap()
        .iter()
        .find(|image| image["min_ram"] == 2048 && image["architecture"] == "x86")
        .unwrap();
    refused(
        &server,
        &carol,
        &server_form("a", windows["id"].as_str().unwrap(), "s6.small.1", ""),
        "flavor",
        "at least 2048 MB",
    )
    .await;
    refused(&server, &carol, &server_form("a", bios_id, "no.such.flavor", ""), "flavor", "not offered").await;
    refused(&server, &carol, &server_form("bad name", bios_id, "s6.small.1", "5"), "data_disks", "10 to 32768").await;
    // Field errors and image errors come back together.
    let both = server_form("bad name", arm["id"].as_str().unwrap(), "s6.small.1", "");
    refused(&server, &carol, &both, "name", "cannot contain").await;
    refused(&server, &carol, &both, "flavor", "built for Arm").await;

    // A GPU flavor cannot boot a UEFI private image; a UEFI public image is fine.
    let uefi = public_image(&server, &carol, "x86", "uefi").await;
    let uefi_id = uefi["id"].as_str().unwrap();
    let gpu = create_server(&server, &carol, &server_form("gpu", uefi_id, "p2s.2xlarge.8", "")).await;
    let private_uefi = captured_image(&server, &carol, &gpu, "system", "", "uefi-private").await;
    let private_uefi_id = private_uefi["id"].as_str().unwrap();
    assert_eq!(private_uefi["hw_firmware_type"], "uefi");
    refused(&server, &carol, &server_form("g", private_uefi_id, "p2s.2xlarge.8", ""), "flavor", "UEFI boot mode").await;
    create_server(&server, &carol, &server_form("not-gpu", private_uefi_id, "s6.small.1", "")).await;

    // Images from servers: only Running or Stopped servers; disks over 1 TB only in a full-ECS image.
    let (_, detail) = server.call(&carol, "get_server", &[("id", &gpu)]).await;
    let form = [("request[name]", "huge"), ("request[size_gb]", "2048"), ("request[image_id]", "")];
    let (status, huge) = server.call(&carol, "create_disk", &form).await;
    assert_eq!(status, StatusCode::OK, "{huge}");
    let huge = huge.as_str().unwrap();
    assert_eq!(server.call(&carol, "attach_disk", &[("server_id", &gpu), ("disk_id", huge)]).await.0, StatusCode::OK);
    let (status, body) = capture(&server, &carol, &gpu, "data", huge, "huge-data").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(field_errors(&body)[0].1.contains("Disks over 1 TB can only be captured in a full-ECS image"), "{body}");
    let (status, body) = capture(&server, &carol, &gpu, "data", &disk_id(&detail, "system", 0), "system-as-data").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.to_string().contains("is not a data disk of ECS"), "{body}");
    let whole = captured_image(&server, &carol, &gpu, "full_ecs", "", "huge-whole").await;
    assert_eq!(whole["data_disks_gb"], serde_json::json!([2048]));
    sqlx::query("UPDATE servers SET status = 'starting' WHERE id = $1")
        .bind(&gpu)
        .execute(&server.state.db)
        .await
        .unwrap();
    let (status, body) = capture(&server, &carol, &gpu, "system", "", "while-starting").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(field_errors(&body)[0].1.contains("only from a Running or Stopped ECS"), "{body}");
    let (status, body) = server.call(&carol, "delete_server", &[("id", &gpu)]).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    sqlx::query("UPDATE servers SET status = 'running' WHERE id = $1")
        .bind(&gpu)
        .execute(&server.state.db)
        .await
        .unwrap();
    let (status, body) = action(&server, &carol, &gpu, "start").await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(body.to_string().contains("only a Stopped ECS can be started"), "{body}");
    let (status, _) = server.call(&carol, "delete_disk", &[("id", huge)]).await;
    assert_eq!(status, StatusCode::CONFLICT, "an attached disk is not deleted");

    // Data disk images make disks, not servers; system disk images make servers, not disks.
    let form = [("request[name]", "from-system"), ("request[size_gb]", "40"), ("request[image_id]", bios_id)];
    let (status, body) = server.call(&carol, "create_disk", &form).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.to_string().contains("EVS disks are created from data disk images"), "{body}");

    // An ISO image creates one temporary server, and cannot change an OS.
    assert_eq!(server.call(&carol, "create_bucket", &[("name", "installers")]).await.0, StatusCode::OK);
    server.upload(&carol, "installers", "setup.iso", &iso_file()).await;
    let mut import = common::import_form("installer", "installers", "setup.iso", "iso");
    import.retain(|(field, _)| field != "request[tags]");
    let (status, iso_id) = server.call(&carol, "create_image_from_file", &pairs(&import)).await;
    assert_eq!(status, StatusCode::OK, "{iso_id}");
    let iso_id = iso_id.as_str().unwrap();
    assert_eq!(server.wait_for_image(&carol, iso_id).await["status"], "active");
    let mut two = server_form("setup", iso_id, "s6.small.1", "");
    two.push(("request[count]".into(), "2".into()));
    refused(&server, &carol, &two, "count", "one temporary server").await;
    let temporary = create_server(&server, &carol, &server_form("setup", iso_id, "s6.small.1", "")).await;
    let (_, detail) = server.call(&carol, "get_server", &[("id", &temporary)]).await;
    assert_eq!(detail["server"]["temporary"], true);
    assert_eq!(action(&server, &carol, &temporary, "stop").await.0, StatusCode::OK);
    wait_for_server(&server, &carol, &temporary, "stopped").await;
    let (status, body) = server.call(&carol, "change_os", &[("id", &temporary), ("image_id", iso_id)]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.to_string().contains("only creates temporary servers"), "{body}");

    // A disk held by a read or write (on any instance: the claim is in the database) is not
    // written again, captured or deleted with its server until the claim ends.
    let (_, detail) = server.call(&carol, "get_server", &[("id", &temporary)]).await;
    let system = disk_id(&detail, "system", 0);
    let hold =
        |until: i64| sqlx::query("UPDATE disks SET io_until = $1 WHERE id = $2").bind(until).bind(system.clone());
    hold(ims_console::db::now_ms() + 60_000).execute(&server.state.db).await.unwrap();
    let form = [("request[disk_id]", system.as_str()), ("request[offset]", "0"), ("request[text]", "x")];
    let (status, body) = server.call(&carol, "write_disk", &form).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(body.to_string().contains("busy with another read or write"), "{body}");
    let (status, body) = capture(&server, &carol, &temporary, "system", "", "while-busy").await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(server.call(&carol, "delete_server", &[("id", &temporary)]).await.0, StatusCode::CONFLICT);
    hold(0).execute(&server.state.db).await.unwrap();
    assert_eq!(server.call(&carol, "write_disk", &form).await.0, StatusCode::OK);
    let installed = captured_image(&server, &carol, &temporary, "system", "", "installed-os").await;
    assert_eq!(installed["kind"], "system", "the temporary server's system disk becomes a system disk image");
    server
}

async fn roles_and_tenants_are_enforced(server: TestServer) -> TestServer {
    let carol = server.login_as("globex", "carol").await;
    let ubuntu = public_image(&server, &carol, "x86", "bios").await;
    let web =
        create_server(&server, &carol, &server_form("globex-web", ubuntu["id"].as_str().unwrap(), "s6.small.1", ""))
            .await;
    let (_, detail) = server.call(&carol, "get_server", &[("id", &web)]).await;
    let system = disk_id(&detail, "system", 0);

    // Another tenant neither sees nor touches it.
    let alice = server.login_as("acme", "alice").await;
    assert_eq!(server.call(&alice, "get_server", &[("id", &web)]).await.0, StatusCode::NOT_FOUND);
    assert_eq!(action(&server, &alice, &web, "stop").await.0, StatusCode::NOT_FOUND);
    assert_eq!(server.call(&alice, "delete_server", &[("id", &web)]).await.0, StatusCode::NOT_FOUND);
    assert_eq!(capture(&server, &alice, &web, "system", "", "stolen").await.0, StatusCode::NOT_FOUND);
    assert_eq!(
        server.call(&alice, "read_disk", &[("disk_id", &system), ("offset", "0"), ("length", "16")]).await.0,
        StatusCode::NOT_FOUND
    );
    let form = [("request[disk_id]", system.as_str()), ("request[offset]", "0"), ("request[text]", "x")];
    assert_eq!(server.call(&alice, "write_disk", &form).await.0, StatusCode::NOT_FOUND);
    let (_, servers) = server.call(&alice, "list_servers", &[]).await;
    assert!(servers.as_array().unwrap().iter().all(|listed| listed["id"] != web.as_str()));
    let (_, disks) = server.call(&alice, "list_disks", &[]).await;
    assert!(disks.as_array().unwrap().iter().all(|listed| listed["id"] != system.as_str()));

    // A viewer reads but changes nothing.
    let bob = server.login_as("acme", "bob").await;
    assert_eq!(server.call(&bob, "list_servers", &[]).await.0, StatusCode::OK);
    let form = server_form("bob-web", ubuntu["id"].as_str().unwrap(), "s6.small.1", "");
    assert_eq!(server.call(&bob, "create_servers", &pairs(&form)).await.0, StatusCode::FORBIDDEN);
    let form = [("request[name]", "bob-disk"), ("request[size_gb]", "10"), ("request[image_id]", "")];
    assert_eq!(server.call(&bob, "create_disk", &form).await.0, StatusCode::FORBIDDEN);

    // Out-of-range writes are refused with the disk's size.
    let form = [("request[disk_id]", system.as_str()), ("request[offset]", "42949672960"), ("request[text]", "x")];
    let (status, body) = server.call(&carol, "write_disk", &form).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.to_string().contains("past its end"), "{body}");
    // Anonymous callers get nothing.
    assert_eq!(server.call(&server.client(), "list_servers", &[]).await.0, StatusCode::UNAUTHORIZED);

    // An image shared with another project makes servers there only once the share is accepted.
    let image = captured_image(&server, &carol, &web, "system", "", "to-share").await;
    let image_id = image["id"].as_str().unwrap();
    let acme_project = ims_console::auth::accounts::project_id(&server.state.db, "acme", "cn-north-4").await.unwrap();
    sqlx::query("INSERT INTO image_members (image_id, member_id, status, created_at, updated_at) VALUES ($1, $2, 'pending', 0, 0)")
        .bind(image_id)
        .bind(&acme_project)
        .execute(&server.state.db)
        .await
        .unwrap();
    let form = server_form("from-share", image_id, "s6.small.1", "");
    let (status, body) = server.call(&alice, "create_servers", &pairs(&form)).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "a pending share is not usable: {body}");
    assert!(body.to_string().contains("cannot use it"), "{body}");
    sqlx::query("UPDATE image_members SET status = 'accepted' WHERE image_id = $1")
        .bind(image_id)
        .execute(&server.state.db)
        .await
        .unwrap();
    let shared = create_server(&server, &alice, &form).await;
    let (_, detail) = server.call(&alice, "get_server", &[("id", &shared)]).await;
    assert_eq!(detail["server"]["image_id"], image_id);
    server
}

/// Puts a finished job back in the queue, as if its server had died after committing its work
/// but before recording success; `attempts` at the limit makes the runner fail it at once.
async fn requeue(server: &TestServer, client: &Client, job_type: &str, attempts: i64) {
    let job_id: String = sqlx::query_scalar("SELECT id FROM jobs WHERE job_type = $1 ORDER BY created_at DESC LIMIT 1")
        .bind(job_type)
        .fetch_one(&server.state.db)
        .await
        .unwrap();
    sqlx::query("UPDATE jobs SET status = 'RUNNING', lease_expires_at = 0, attempts = $1 WHERE id = $2")
        .bind(attempts)
        .bind(&job_id)
        .execute(&server.state.db)
        .await
        .unwrap();
    server.state.job_waker.notify_waiters();
    server.wait_for_job(client, &job_id).await;
}

async fn jobs_that_run_again_leave_finished_work_alone(server: TestServer) -> TestServer {
    let carol = server.login_as("globex", "carol").await;
    let ubuntu = public_image(&server, &carol, "x86", "bios").await;
    let ubuntu_id = ubuntu["id"].as_str().unwrap();
    let web = create_server(&server, &carol, &server_form("again", ubuntu_id, "s6.small.1", "10")).await;
    let (_, detail) = server.call(&carol, "get_server", &[("id", &web)]).await;
    let system = disk_id(&detail, "system", 0);
    write(&server, &carol, &system, 2 * MIB, "kept through re-runs").await;
    let image = captured_image(&server, &carol, &web, "full_ecs", "", "again-whole").await;
    let image_id = image["id"].as_str().unwrap();

    // Each finished job runs again, then fails at once: nothing it made is undone.
    for attempts in [0, 3] {
        requeue(&server, &carol, "ecsCreateServerJob", attempts).await;
        requeue(&server, &carol, "imsCreateWholeImageByInstanceJob", attempts).await;
        let (_, detail) = server.call(&carol, "get_server", &[("id", &web)]).await;
        assert_eq!(detail["server"]["status"], "running", "{detail}");
        assert_eq!(read(&server, &carol, &system, 2 * MIB, 20).await, "kept through re-runs");
        let (_, again) = server.call(&carol, "get_image", &[("id", image_id)]).await;
        assert_eq!(again["status"], "active", "{again}");
        let file = server.state.storage.local_path(&format!("images/cn-north-4/{image_id}/data-1.qcow2")).unwrap();
        assert!(file.exists(), "the image's data disk file is kept");
    }

    // The same for a change of OS whose swap had committed.
    assert_eq!(action(&server, &carol, &web, "stop").await.0, StatusCode::OK);
    wait_for_server(&server, &carol, &web, "stopped").await;
    assert_eq!(
        server.call(&carol, "change_os", &[("id", &web), ("image_id", image_id)]).await.0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(server.call(&carol, "change_os", &[("id", &web), ("image_id", ubuntu_id)]).await.0, StatusCode::OK);
    wait_for_server(&server, &carol, &web, "running").await;
    write(&server, &carol, &system, 2 * MIB, "after the change of OS").await;
    for attempts in [0, 3] {
        requeue(&server, &carol, "ecsChangeOsJob", attempts).await;
        let (_, detail) = server.call(&carol, "get_server", &[("id", &web)]).await;
        assert_eq!(detail["server"]["status"], "running", "{detail}");
        assert_eq!(read(&server, &carol, &system, 2 * MIB, 22).await, "after the change of OS");
    }
    assert!(server.work_leftovers().is_empty(), "{:?}", server.work_leftovers());
    server
}

/// Attaching a disk locks the server's row first. On PostgreSQL, a delete of the server that
/// holds that row (here: a transaction of the test's own, standing in for a concurrent
/// delete_server) makes the attach wait, then refuse; without the lock the attach would commit
/// a disk in use by a server that no longer exists.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attach_waits_for_a_concurrent_server_delete_on_postgres() {
    common::with_server(common::Backend::Postgres, |server| async move {
        let carol = server.login_as("globex", "carol").await;
        let ubuntu = public_image(&server, &carol, "x86", "bios").await;
        let form = server_form("doomed", ubuntu["id"].as_str().unwrap(), "s6.small.1", "");
        let doomed = create_server(&server, &carol, &form).await;
        let disk_form = [("request[name]", "spare"), ("request[size_gb]", "10"), ("request[image_id]", "")];
        let (status, spare) = server.call(&carol, "create_disk", &disk_form).await;
        assert_eq!(status, StatusCode::OK, "{spare}");
        let spare = spare.as_str().unwrap().to_string();

        let mut deleter = server.state.db.begin().await.unwrap();
        sqlx::query("UPDATE servers SET updated_at = updated_at WHERE id = $1")
            .bind(&doomed)
            .execute(&mut *deleter)
            .await
            .unwrap();
        let attach = {
            let (server_base, client, doomed, spare) =
                (server.base.clone(), carol.clone(), doomed.clone(), spare.clone());
            tokio::spawn(async move {
                let form = [("server_id", doomed.as_str()), ("disk_id", spare.as_str())];
                let response = client.post(format!("{server_base}/api/attach_disk")).form(&form).send().await.unwrap();
                response.status()
            })
        };
        tokio::time::sleep(std::time::Duration::from_millis(700)).await;
        sqlx::query("DELETE FROM servers WHERE id = $1").bind(&doomed).execute(&mut *deleter).await.unwrap();
        deleter.commit().await.unwrap();
        assert_eq!(attach.await.unwrap(), StatusCode::CONFLICT, "the attach finds the server gone");
        let (status, server_id): (String, String) = sqlx::query_as("SELECT status, server_id FROM disks WHERE id = $1")
            .bind(&spare)
            .fetch_one(&server.state.db)
            .await
            .unwrap();
        assert_eq!((status.as_str(), server_id.as_str()), ("available", ""), "no disk hangs on a deleted server");
        server
    })
    .await;
}

/// Console disk reads and writes: a claim is released only by its own token, and each user
/// has a rate limit (429 with the wait).
async fn disk_claims_are_owned_and_reads_are_rate_limited(server: TestServer) -> TestServer {
    use ims_console::compute::store::{claim_disk_io, release_disk_io};
    let carol = server.login_as("globex", "carol").await;
    let form = [("request[name]", "scratch"), ("request[size_gb]", "10"), ("request[image_id]", "")];
    let (_, disk) = server.call(&carol, "create_disk", &form).await;
    let disk = disk.as_str().unwrap().to_string();
    let db = &server.state.db;
    let now = ims_console::db::now_ms();
    assert!(claim_disk_io(db, &disk, now - 1, "first-reader").await.unwrap(), "a claim that has run out at once");
    assert!(claim_disk_io(db, &disk, now + 60_000, "second-reader").await.unwrap());
    release_disk_io(db, &disk, "first-reader").await.unwrap();
    assert!(!claim_disk_io(db, &disk, now + 60_000, "third-reader").await.unwrap(), "the second claim holds");
    release_disk_io(db, &disk, "second-reader").await.unwrap();

    let read = [("disk_id", disk.as_str()), ("offset", "0"), ("length", "16")];
    assert_eq!(server.call(&carol, "read_disk", &read).await.0, StatusCode::OK);
    let user_id: String = sqlx::query_scalar("SELECT id FROM users WHERE name = 'carol'").fetch_one(db).await.unwrap();
    sqlx::query("UPDATE login_throttle SET failures = 120 WHERE throttle_key = $1")
        .bind(format!("diskio:{user_id}"))
        .execute(db)
        .await
        .unwrap();
    let (status, body) = server.call(&carol, "read_disk", &read).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert!(body.to_string().contains("Too many disk reads and writes"), "{body}");
    server
}
