//! The walls around the console as an attacker meets them over HTTP: login throttling under
//! concurrency, redirects after login, cookies and headers, and cross-site requests; on
//! SQLite and PostgreSQL.

mod common;

use common::{location, TestServer, PASSWORD};
use reqwest::{Client, StatusCode};

const PROXY_SETTINGS: &[(&str, &str)] = &[("IMS_TRUSTED_PROXIES", "127.0.0.1")];
const HTTPS_SETTINGS: &[(&str, &str)] = &[("IMS_PUBLIC_URL", "https://console.example.com")];

on_both_backends_with!(
    super::PROXY_SETTINGS,
    concurrent_guesses_get_no_more_verifications_than_the_limit,
    redirects_after_login_stay_on_the_site,
    pages_and_responses_carry_the_security_headers,
);
on_both_backends_with!(super::HTTPS_SETTINGS, over_https_the_cookie_is_host_only_and_origins_are_checked);

/// A login POST from `address` (through the trusted proxy on loopback).
async fn login_from(server: &TestServer, client: &Client, address: &str, password: &str) -> reqwest::Response {
    client
        .post(server.url("/auth/login"))
        .header("x-forwarded-for", address)
        .form(&[("account", "acme"), ("user", "alice"), ("password", password), ("next", "")])
        .send()
        .await
        .unwrap()
}

async fn concurrent_guesses_get_no_more_verifications_than_the_limit(server: TestServer) -> TestServer {
    let attacker = "203.0.113.66";
    let guesses = (0..50).map(|guess| {
        let (server, client) = (&server, server.client());
        async move { location(&login_from(server, &client, attacker, &format!("guess-{guess}")).await) }
    });
    let answers = futures::future::join_all(guesses).await;
    let checked = answers.iter().filter(|answer| answer.starts_with("/login?error=invalid")).count();
    let throttled = answers.iter().filter(|answer| answer.starts_with("/login?error=throttled")).count();
    assert!(checked <= 5, "{checked} of 50 concurrent guesses had their password checked");
    assert_eq!(checked + throttled, 50, "{answers:?}");

    // The right password from the attacker's address is refused for now...
    let response = login_from(&server, &server.client(), attacker, PASSWORD).await;
    assert!(location(&response).starts_with("/login?error=throttled&retry=15"), "{}", location(&response));
    // ...but alice, elsewhere, is not locked out.
    let response = login_from(&server, &server.client(), "198.51.100.20", PASSWORD).await;
    assert_eq!(location(&response), "/images/public");

    // Once the lock runs out, the next lock after five more failures lasts twice as long.
    sqlx::query("UPDATE login_throttle SET locked_until = 1 WHERE throttle_key LIKE 'user:acme/alice@203.0.113.66'")
        .execute(&server.state.db)
        .await
        .unwrap();
    for guess in 0..5 {
        let response = login_from(&server, &server.client(), attacker, &format!("again-{guess}")).await;
        assert!(location(&response).starts_with("/login?error=invalid"), "{}", location(&response));
    }
    let response = login_from(&server, &server.client(), attacker, "once-more").await;
    assert!(location(&response).starts_with("/login?error=throttled&retry=30"), "{}", location(&response));
    server
}

async fn redirects_after_login_stay_on_the_site(server: TestServer) -> TestServer {
    for (next, expected) in [
        ("/images/private?page=2", "/images/private?page=2"),
        ("//evil.example/", "/images/public"),
        ("/\\evil.example", "/images/public"),
        ("\\\\evil.example", "/images/public"),
        ("/\t/evil.example", "/images/public"),
        ("/\n/evil.example", "/images/public"),
        ("https://evil.example", "/images/public"),
        ("/%2F%2Fevil.example", "/images/public"),
        ("/%5Cevil.example", "/images/public"),
        ("/%09/evil.example", "/images/public"),
    ] {
        let response = server
            .client()
            .post(server.url("/auth/login"))
            .header("x-forwarded-for", "192.0.2.10")
            .form(&[("account", "acme"), ("user", "bob"), ("password", PASSWORD), ("next", next)])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&response), expected, "next = {next:?}");
    }
    server
}

async fn pages_and_responses_carry_the_security_headers(server: TestServer) -> TestServer {
    let client = server.login_as("acme", "alice").await;
    let response = client.get(server.url("/images/private")).send().await.unwrap();
    let header = |response: &reqwest::Response, name: &str| {
        response.headers().get(name).and_then(|value| value.to_str().ok()).unwrap_or_default().to_string()
    };
    let policy = header(&response, "content-security-policy");
    assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
    assert_eq!(header(&response, "x-content-type-options"), "nosniff");
    assert_eq!(header(&response, "referrer-policy"), "same-origin");
    assert_eq!(header(&response, "strict-transport-security"), "", "no HSTS over plain http");
    let nonce = policy.split("'nonce-").nth(1).and_then(|rest| rest.split('\'').next()).unwrap().to_string();
    let page = response.text().await.unwrap();
    assert!(page.contains(&format!("nonce=\"{nonce}\"")), "the page's inline scripts carry the policy's nonce");
    assert!(!policy.contains("'unsafe-inline' 'wasm") && !policy.contains("script-src 'self' 'unsafe-inline'"));

    let response = client.get(server.url("/healthz")).send().await.unwrap();
    assert!(header(&response, "content-security-policy").starts_with("default-src 'none'"));
    assert_eq!(header(&response, "x-content-type-options"), "nosniff");

    // A cookie-carrying POST that says nothing of where it comes from is refused.
    let bare = Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let cookie = "ims_session=whatever";
    let response = bare.post(server.url("/api/list_buckets")).header("cookie", cookie).body("").send().await.unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let response = bare
        .post(server.url("/api/list_buckets"))
        .header("cookie", cookie)
        .header("origin", "http://evil.example")
        .body("")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    server
}

async fn over_https_the_cookie_is_host_only_and_origins_are_checked(server: TestServer) -> TestServer {
    let client = Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let login = |origin: &'static str| {
        client
            .post(server.url("/auth/login"))
            .header("origin", origin)
            .form(&[("account", "acme"), ("user", "alice"), ("password", PASSWORD), ("next", "")])
            .send()
    };
    let response = login("https://console.example.com").await.unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let cookie = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find(|value| value.starts_with("__Host-ims_session="))
        .expect("the session cookie is __Host-")
        .to_string();
    assert!(cookie.contains("Secure") && cookie.contains("Path=/") && !cookie.contains("Domain"), "{cookie}");
    let hsts = response.headers().get("strict-transport-security").unwrap().to_str().unwrap();
    assert!(hsts.starts_with("max-age="), "{hsts}");
    // The server's own host name is not enough: the configured public origin is.
    let own_origin = server.base.clone();
    let response = client
        .post(server.url("/auth/login"))
        .header("origin", own_origin)
        .form(&[("account", "acme"), ("user", "alice"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(login("http://console.example.com").await.unwrap().status(), StatusCode::FORBIDDEN);
    server
}
