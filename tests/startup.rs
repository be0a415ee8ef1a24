//! Start-up of the real binary: a bad setting stops it with a message naming the variable.

use std::process::Command;

fn start_with(settings: &[(&str, &str)]) -> (Option<i32>, String) {
    let data_dir = std::env::temp_dir().join(format!("ims-startup-{}", std::process::id()));
    let mut command = Command::new(env!("CARGO_BIN_EXE_ims-console"));
    command.env_remove("DATABASE_URL").env_remove("LEPTOS_SITE_ADDR").env("IMS_DATA_DIR", &data_dir);
    for (name, value) in settings {
        command.env(name, value);
    }
    let output = command.output().expect("the server binary runs");
    let _ = std::fs::remove_dir_all(&data_dir);
    (output.status.code(), String::from_utf8_lossy(&output.stderr).to_string())
}

#[test]
fn bad_settings_stop_start_up_with_the_variable_named() {
    let (code, stderr) = start_with(&[("LEPTOS_SITE_ADDR", "nowhere")]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("LEPTOS_SITE_ADDR") && stderr.contains("'nowhere'"), "{stderr}");

    let (code, stderr) = start_with(&[("DATABASE_URL", "mysql://127.0.0.1/ims")]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("DATABASE_URL"), "{stderr}");

    let (code, stderr) = start_with(&[("IMS_DEMO_PASSWORD", "short")]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("IMS_DEMO_PASSWORD"), "{stderr}");

    let (code, stderr) = start_with(&[("DATABASE_URL", "postgres://postgres@127.0.0.1:1/nothing")]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("cannot connect to the database given by DATABASE_URL"), "{stderr}");
}

#[test]
fn an_unknown_command_is_refused() {
    let output = Command::new(env!("CARGO_BIN_EXE_ims-console")).arg("frobnicate").output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("unknown command 'frobnicate'"));
}
