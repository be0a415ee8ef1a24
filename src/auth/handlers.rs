//! Plain HTML-form endpoints for login, logout and the region switcher (they work with
//! JavaScript off), and the middleware that guards pages and rejects cross-site requests.

use super::accounts::Verification;
use super::throttle::{self, Admission};
use super::{REGION_KEY, USER_ID_KEY};
use crate::format::url_encode;
use crate::state::AppState;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;
use std::net::{IpAddr, SocketAddr};
use tower_sessions::Session;

pub const HOME: &str = "/images/public";

/// Why a password login (the console's form, or a Keystone token request) was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum PasswordRefusal {
    /// Too many failures from this address (for this user): try again in `minutes`.
    Throttled {
        minutes: i64,
    },
    Wrong,
    /// Every password check is busy; the attempt did not count.
    Busy,
    Internal,
}

/// Checks a password the way every login does: throttled per user and address and per address,
/// counted before the check so concurrent guesses cannot outrun the count. Returns the user id.
pub async fn check_password(
    state: &AppState,
    account: &str,
    user: &str,
    password: &str,
    address: IpAddr,
) -> Result<String, PasswordRefusal> {
    let internal = |context: &str, error: sqlx::Error| {
        tracing::error!(%error, "{context}");
        PasswordRefusal::Internal
    };
    let user_key = throttle::user_address_key(account, user, &address);
    let address_key = throttle::address_key(&address);
    for (key, rule) in [(&user_key, throttle::PER_USER_ADDRESS), (&address_key, throttle::PER_ADDRESS)] {
        match throttle::admit(&state.db, key, rule).await {
            Ok(Admission::Allowed) => {}
            Ok(Admission::LockedFor(wait_ms)) => {
                tracing::info!(account, user, %address, "login refused: throttled");
                return Err(PasswordRefusal::Throttled { minutes: (wait_ms + 59_999) / 60_000 });
            }
            Err(error) => return Err(internal("login throttle check failed", error)),
        }
    }
    let user_id = match super::accounts::verify_password(&state.db, account, user, password).await {
        Ok(Verification::Verified(user_id)) => user_id,
        Ok(Verification::Wrong) => {
            tracing::info!(account, user, %address, "failed login");
            return Err(PasswordRefusal::Wrong);
        }
        Ok(Verification::Busy) => {
            // Never checked: the attempt does not count against anyone.
            for key in [&user_key, &address_key] {
                let _ = throttle::forgive(&state.db, key).await;
            }
            tracing::warn!(%address, "login refused: every password check is busy");
            return Err(PasswordRefusal::Busy);
        }
        Err(error) => return Err(internal("login lookup failed", error)),
    };
    let forgiven = async {
        throttle::clear(&state.db, &user_key).await?;
        throttle::forgive(&state.db, &address_key).await
    };
    forgiven.await.map_err(|error| internal("login throttle reset failed", error))?;
    Ok(user_id)
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    account: String,
    #[serde(default)]
    user: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
}

/// Only paths of this site may be redirect targets: one leading `/`, no backslash, no
/// whitespace or control character, and the same once percent-decoded (browsers and proxies
/// differ in what they decode or strip, so anything they might read as `//host` is refused).
pub fn safe_next(next: &str) -> &str {
    let is_plain_path = |path: &str| {
        path.starts_with('/') && !path.starts_with("//") && !path.chars().any(|c| c == '\\' || c.is_control())
    };
    let decoded = crate::format::url_decode(next);
    if is_plain_path(next) && !next.chars().any(char::is_whitespace) && is_plain_path(&decoded) {
        next
    } else {
        HOME
    }
}

/// The address a request comes from: the connection's peer, unless the peer is a trusted
/// proxy, in which case the nearest address in `X-Forwarded-For` that is not one.
pub fn client_address(peer: IpAddr, headers: &HeaderMap, trusted_proxies: &[IpAddr]) -> IpAddr {
    if !trusted_proxies.contains(&peer) {
        return peer;
    }
    let forwarded = headers.get_all("x-forwarded-for").iter().filter_map(|value| value.to_str().ok());
    let hops: Vec<&str> = forwarded.flat_map(|value| value.split(',')).map(str::trim).collect();
    for hop in hops.iter().rev() {
        match hop.parse::<IpAddr>() {
            Ok(address) if trusted_proxies.contains(&address) => continue,
            Ok(address) => return address,
            Err(_) => return peer,
        }
    }
    peer
}

pub async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    session: Session,
    Form(form): Form<LoginForm>,
) -> Response {
    let address = client_address(peer.ip(), &headers, &state.config.web.trusted_proxies);
    let account = form.account.trim();
    let user = form.user.trim();
    let back_to_form = |error: &str| {
        Redirect::to(&format!(
            "/login?error={error}&account={}&user={}&next={}",
            url_encode(account),
            url_encode(user),
            url_encode(&form.next)
        ))
        .into_response()
    };
    let missing = [("account", account), ("user", user), ("password", form.password.as_str())]
        .into_iter()
        .find(|(_, value)| value.is_empty());
    if let Some((field, _)) = missing {
        return back_to_form(&format!("missing&field={field}"));
    }

    let user_id = match check_password(&state, account, user, &form.password, address).await {
        Ok(user_id) => user_id,
        Err(PasswordRefusal::Throttled { minutes }) => return back_to_form(&format!("throttled&retry={minutes}")),
        Err(PasswordRefusal::Wrong) => return back_to_form("invalid"),
        Err(PasswordRefusal::Busy) => {
            let mut response =
                (StatusCode::SERVICE_UNAVAILABLE, "The console is busy checking other logins. Try again in a moment.")
                    .into_response();
            response.headers_mut().insert(header::RETRY_AFTER, header::HeaderValue::from_static("5"));
            return response;
        }
        Err(PasswordRefusal::Internal) => {
            return (StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong on our side. Try again in a moment.")
                .into_response()
        }
    };
    // A new session id at login: an id planted before login is worthless afterwards.
    let region: Option<String> = session.get(REGION_KEY).await.ok().flatten();
    let stored = async {
        session.cycle_id().await?;
        session.insert(USER_ID_KEY, &user_id).await?;
        session.insert(REGION_KEY, region.unwrap_or_else(|| crate::regions::DEFAULT_REGION.to_string())).await
    };
    if let Err(error) = stored.await {
        return internal_error("session write failed", error);
    }
    tracing::info!(account, user, "login");
    record_session_event(&state, &session, "Log in").await;
    Redirect::to(safe_next(&form.next)).into_response()
}

/// Logging in and out go to the operation log too.
async fn record_session_event(state: &AppState, session: &Session, operation: &'static str) {
    if let Ok(Some(caller)) = super::caller_from_session(&state.db, session).await {
        let audit = super::audit::Audit::new(operation, "user", caller.user_name.clone());
        super::audit::record(&state.db, &caller, super::audit::Source::Console, &audit, Ok(())).await;
    }
}

pub async fn logout(State(state): State<AppState>, session: Session) -> Response {
    record_session_event(&state, &session, "Log out").await;
    if let Err(error) = session.flush().await {
        return internal_error("session delete failed", error);
    }
    Redirect::to("/login?error=logged_out").into_response()
}

#[derive(Deserialize)]
pub struct RegionForm {
    #[serde(default)]
    region: String,
    #[serde(default)]
    next: String,
}

pub async fn switch_region(session: Session, Form(form): Form<RegionForm>) -> Response {
    if crate::regions::find_region(&form.region).is_none() {
        return (StatusCode::BAD_REQUEST, format!("Unknown region '{}'.", form.region)).into_response();
    }
    match session.get::<String>(USER_ID_KEY).await {
        Ok(Some(_)) => {}
        Ok(None) => return Redirect::to("/login").into_response(),
        Err(error) => return internal_error("session read failed", error),
    }
    if let Err(error) = session.insert(REGION_KEY, &form.region).await {
        return internal_error("session write failed", error);
    }
    Redirect::to(safe_next(&form.next)).into_response()
}

fn internal_error(context: &str, error: impl std::fmt::Display) -> Response {
    tracing::error!(%error, "{context}");
    (StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong on our side. Try again in a moment.").into_response()
}

/// Console pages that need a logged-in user.
fn is_protected_page(path: &str) -> bool {
    [
        "/images",
        "/image",
        "/buckets",
        "/jobs",
        "/ecs",
        "/disks",
        "/quotas",
        "/keys",
        "/credentials",
        "/account",
        "/subscriptions",
        "/operation-log",
    ]
    .iter()
    .any(|prefix| path == *prefix || path.strip_prefix(prefix).is_some_and(|rest| rest.starts_with('/')))
}

/// Sends anonymous visitors of console pages to the login page, remembering where they were going.
pub async fn require_login_for_pages(session: Session, request: Request, next: Next) -> Response {
    if request.method() == Method::GET && is_protected_page(request.uri().path()) {
        let logged_in = matches!(session.get::<String>(USER_ID_KEY).await, Ok(Some(_)));
        if !logged_in {
            let target = request.uri().path_and_query().map(|pq| pq.as_str()).unwrap_or(HOME);
            return Redirect::to(&format!("/login?next={}", url_encode(target))).into_response();
        }
    }
    next.run(request).await
}

/// CSRF guard: a state-changing request must come from our own origin.
pub async fn reject_cross_site(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if is_cross_site(&request, state.config.web.public_origin.as_deref()) {
        tracing::warn!(path = %request.uri().path(), "cross-site request rejected");
        return (StatusCode::FORBIDDEN, "Cross-site requests are not allowed.").into_response();
    }
    next.run(request).await
}

/// Browsers say where a request comes from in `Sec-Fetch-Site` and `Origin`. `Origin` must be
/// the configured public origin (or, with none configured, the request's own host). A request
/// that carries a cookie must say one or the other; only API clients without a browser's
/// cookie may say neither.
pub fn is_cross_site(request: &Request, public_origin: Option<&str>) -> bool {
    if matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return false;
    }
    let headers = request.headers();
    let text = |name| headers.get(name).and_then(|value: &header::HeaderValue| value.to_str().ok());
    let site = text(header::HeaderName::from_static("sec-fetch-site"));
    if site.is_some_and(|site| site != "same-origin" && site != "none") {
        return true;
    }
    match text(header::ORIGIN) {
        Some(origin) => match public_origin {
            Some(expected) => !origin.eq_ignore_ascii_case(expected),
            None => {
                let host = text(header::HOST).unwrap_or_default();
                let origin_host = origin.split_once("://").map(|(_, rest)| rest).unwrap_or("");
                origin == "null" || !origin_host.eq_ignore_ascii_case(host)
            }
        },
        None => site.is_none() && headers.contains_key(header::COOKIE),
    }
}

/// Headers every response carries: a content security policy (pages get one with their
/// script nonce, set while rendering; everything else the strictest), no MIME sniffing, no
/// referrer to other sites, and HSTS when served over https.
pub async fn security_headers(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    // Chosen here, so the header and the page's inline scripts always agree, whatever path
    // renders the page.
    let nonce = crate::db::new_hex_id();
    request.extensions_mut().insert(PageNonce(nonce.clone()));
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let html = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|kind| kind.starts_with("text/html"));
    let policy = if html {
        header::HeaderValue::from_str(&page_policy(&nonce)).ok()
    } else {
        Some(header::HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'; base-uri 'none'"))
    };
    if let Some(policy) = policy {
        headers.insert(header::CONTENT_SECURITY_POLICY, policy);
    }
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, header::HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, header::HeaderValue::from_static("same-origin"));
    headers.insert(header::X_FRAME_OPTIONS, header::HeaderValue::from_static("DENY"));
    if state.config.web.https() {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            header::HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
    response
}

/// The script nonce of one request's page.
#[derive(Clone, Debug)]
pub struct PageNonce(pub String);

/// The policy of a console page whose inline scripts carry `nonce`.
pub fn page_policy(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; form-action 'self'; \
         frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;

    fn post(headers: &[(&str, &str)]) -> Request {
        let mut builder = axum::http::Request::builder().method("POST").uri("/auth/login");
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        builder.body(Body::empty()).unwrap()
    }

    #[test]
    fn cross_site_posts_are_detected() {
        let cross = |headers: &[(&str, &str)]| is_cross_site(&post(headers), None);
        assert!(cross(&[("sec-fetch-site", "cross-site")]));
        assert!(cross(&[("sec-fetch-site", "same-site")]));
        assert!(cross(&[("host", "127.0.0.1:3000"), ("origin", "http://evil.example")]));
        assert!(cross(&[("host", "127.0.0.1:3000"), ("origin", "null")]));
        assert!(!cross(&[("host", "127.0.0.1:3000"), ("origin", "http://127.0.0.1:3000")]));
        assert!(!cross(&[("sec-fetch-site", "same-origin")]));
        assert!(!cross(&[]), "API clients send no browser headers");
        assert!(cross(&[("cookie", "ims_session=abc")]), "a cookie without Origin or Sec-Fetch-Site");
        assert!(!cross(&[("cookie", "ims_session=abc"), ("sec-fetch-site", "same-origin")]));
    }

    #[test]
    fn the_configured_public_origin_is_the_only_one() {
        let public = Some("https://console.example.com");
        let from = |origin: &str| is_cross_site(&post(&[("host", "console.example.com"), ("origin", origin)]), public);
        assert!(!from("https://console.example.com"));
        assert!(from("http://console.example.com"), "the scheme counts");
        assert!(from("https://console.example.com.evil.example"));
        assert!(from("null"));
    }

    #[test]
    fn redirect_targets_stay_on_site() {
        assert_eq!(safe_next("/images/private?page=2"), "/images/private?page=2");
        assert_eq!(safe_next("/image/abc%20def"), "/image/abc%20def", "encoded text in a path is fine");
        for hostile in [
            "//evil.example",
            "https://evil.example",
            "",
            "images",
            "/\\evil.example",
            "/\\/evil.example",
            "/\t/evil.example",
            "/\n/evil.example",
            "\t//evil.example",
            " //evil.example",
            "/%2Fevil.example",
            "/%2f%2fevil.example",
            "%2F%2Fevil.example",
            "/%5Cevil.example",
            "/%09/evil.example",
            "/%0a/evil.example",
        ] {
            assert_eq!(safe_next(hostile), HOME, "{hostile:?}");
        }
    }

    #[test]
    fn the_client_address_comes_from_trusted_proxies_only() {
        let proxy: IpAddr = "10.0.0.1".parse().unwrap();
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", "6.6.6.6, 203.0.113.9, 10.0.0.1".parse().unwrap());
        let stranger: IpAddr = "198.51.100.7".parse().unwrap();
        assert_eq!(client_address(stranger, &headers, &[proxy]), stranger, "an untrusted peer's header is ignored");
        assert_eq!(client_address(proxy, &headers, &[proxy]), "203.0.113.9".parse::<IpAddr>().unwrap());
        assert_eq!(client_address(proxy, &HeaderMap::new(), &[proxy]), proxy);
        headers.insert("x-forwarded-for", "not-an-address".parse().unwrap());
        assert_eq!(client_address(proxy, &headers, &[proxy]), proxy);
    }

    #[test]
    fn only_console_pages_are_guarded() {
        assert!(is_protected_page("/images/private"));
        assert!(is_protected_page("/image/abc"));
        assert!(is_protected_page("/buckets/images"));
        assert!(is_protected_page("/jobs"));
        assert!(!is_protected_page("/jobsearch"));
        assert!(!is_protected_page("/login"));
        assert!(!is_protected_page("/pkg/ims_console.js"));
    }
}
