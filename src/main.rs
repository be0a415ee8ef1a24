//! The server binary: `ims-console` (or `ims-console serve`) runs the console;
//! `ims-console add-user ACCOUNT USER ROLE` creates a login (password from IMS_NEW_USER_PASSWORD).

#[cfg(feature = "ssr")]
#[tokio::main]
async fn main() -> std::process::ExitCode {
    use std::process::ExitCode;
    use tracing_subscriber::EnvFilter;

    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn")))
        .init();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        None | Some("serve") => run_server().await,
        Some("add-user") => add_user(&args[1..]).await,
        Some("inspect") => return inspect(&args[1..]),
        Some("help" | "--help" | "-h") => {
            println!(
                "usage: ims-console [serve]\n       ims-console add-user ACCOUNT USER admin|member|viewer\n       ims-console inspect [--format FORMAT] [--max-size BYTES] FILE"
            );
            Ok(())
        }
        Some(other) => Err(format!("unknown command '{other}'; try 'ims-console help'")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}

#[cfg(feature = "ssr")]
async fn run_server() -> Result<(), String> {
    use ims_console::config::Config;
    use ims_console::server;

    let config = Config::from_env().map_err(|error| error.to_string())?;
    let demo = config.demo_password.is_some();
    let state = server::prepare(config).await.map_err(|error| error.to_string())?;
    let address = state.leptos_options.site_addr;
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .map_err(|error| format!("cannot listen on {address} (LEPTOS_SITE_ADDR): {error}"))?;
    tracing::info!("console listening on http://{address}{}", if demo { " with demo data" } else { "" });
    server::serve(listener, state, shutdown_signal()).await.map_err(|error| error.to_string())
}

#[cfg(feature = "ssr")]
async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("installing the SIGTERM handler");
    tokio::select! {
        _ = interrupt => {},
        _ = terminate.recv() => {},
    }
    tracing::info!("shutting down");
}

#[cfg(feature = "ssr")]
async fn add_user(args: &[String]) -> Result<(), String> {
    use ims_console::caller::Role;
    use ims_console::config::Config;

    let [account, user, role] = args else {
        return Err("usage: ims-console add-user ACCOUNT USER admin|member|viewer".into());
    };
    let role = Role::parse(role).ok_or_else(|| format!("'{role}' is not a role: use admin, member or viewer"))?;
    let password = std::env::var("IMS_NEW_USER_PASSWORD")
        .ok()
        .filter(|password| password.chars().count() >= 8)
        .ok_or("set IMS_NEW_USER_PASSWORD to the new user's password (at least 8 characters)")?;
    let config = Config::from_env().map_err(|error| error.to_string())?;
    let db = ims_console::db::connect_and_migrate(&config.database_url).await.map_err(|error| error.to_string())?;
    ims_console::auth::accounts::create_user(&db, account, user, role, &password)
        .await
        .map_err(|error| error.to_string())?;
    println!("created user {account}/{user} ({})", role.as_str());
    Ok(())
}

/// `inspect [--format FORMAT] [--max-size BYTES] FILE`: prints the report and exits 0 when the
/// file is acceptable; prints the reason and exits 1 when it is refused (2 for bad usage).
#[cfg(feature = "ssr")]
fn inspect(args: &[String]) -> std::process::ExitCode {
    use ims_console::engine::inspect::{inspect_file, ImageFormat, Limits};
    use std::process::ExitCode;

    let usage = "usage: ims-console inspect [--format FORMAT] [--max-size BYTES] FILE";
    let (mut declared, mut limits, mut path) = (None, Limits::default(), None);
    let mut words = args.iter();
    while let Some(word) = words.next() {
        match word.as_str() {
            "--format" => {
                match words.next().map(|name| (name, ImageFormat::parse(name))) {
                    Some((_, Some(format))) => declared = Some(format),
                    Some((name, None)) => {
                        eprintln!("error: unknown format '{name}'; use raw, qcow2, qcow, vmdk, vhd, vhdx, vdi, qed, iso or luks");
                        return ExitCode::from(2);
                    }
                    None => {
                        eprintln!("{usage}");
                        return ExitCode::from(2);
                    }
                }
            }
            "--max-size" => match words.next().and_then(|size| size.parse().ok()) {
                Some(max) => limits.max_virtual_size = max,
                None => {
                    eprintln!("error: --max-size needs a number of bytes");
                    return ExitCode::from(2);
                }
            },
            other if path.is_none() && !other.starts_with("--") => path = Some(other.to_string()),
            _ => {
                eprintln!("{usage}");
                return ExitCode::from(2);
            }
        }
    }
    let Some(path) = path else {
        eprintln!("{usage}");
        return ExitCode::from(2);
    };
    match inspect_file(std::path::Path::new(&path), declared, &limits) {
        Ok(report) => {
            println!("format: {}", report.format);
            println!("virtual_size: {}", report.virtual_size);
            println!("file_size: {}", report.file_size);
            for fact in &report.facts {
                println!("{}: {}", fact.name, fact.value);
            }
            ExitCode::SUCCESS
        }
        Err(refusal) => {
            eprintln!("refused: {refusal}");
            ExitCode::from(1)
        }
    }
}

#[cfg(not(feature = "ssr"))]
fn main() {}
