//! Plain HTML-form endpoints for login, logout and the region switcher (they work with
//! JavaScript off), and the middleware that guards pages and rejects cross-site requests.

use super::{throttle, REGION_KEY, USER_ID_KEY};
use crate::format::url_encode;
use crate::state::AppState;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;
use std::net::SocketAddr;
use tower_sessions::Session;

pub const HOME: &str = "/images/public";

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

/// Only same-site paths may be redirect targets.
pub fn safe_next(next: &str) -> &str {
    if next.starts_with('/') && !next.starts_with("//") && !next.starts_with("/\\") {
        next
    } else {
        HOME
    }
}

pub async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    session: Session,
    Form(form): Form<LoginForm>,
) -> Response {
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

    let user_key = throttle::user_key(account, user);
    let address_key = throttle::address_key(&peer.ip());
    for key in [&user_key, &address_key] {
        match throttle::locked_for(&state.db, key).await {
            Ok(Some(wait_ms)) => {
                let minutes = (wait_ms + 59_999) / 60_000;
                return back_to_form(&format!("throttled&retry={minutes}"));
            }
            Ok(None) => {}
            Err(error) => return internal_error("login throttle check failed", error),
        }
    }

    let verified = match super::accounts::verify_password(&state.db, account, user, &form.password).await {
        Ok(verified) => verified,
        Err(error) => return internal_error("login lookup failed", error),
    };
    let Some(user_id) = verified else {
        for (key, rule) in [(&user_key, throttle::PER_USER), (&address_key, throttle::PER_ADDRESS)] {
            if let Err(error) = throttle::record_failure(&state.db, key, rule).await {
                return internal_error("login throttle update failed", error);
            }
        }
        tracing::info!(account, user, address = %peer.ip(), "failed login");
        return back_to_form("invalid");
    };

    if let Err(error) = throttle::clear(&state.db, &user_key).await {
        return internal_error("login throttle reset failed", error);
    }
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
    Redirect::to(safe_next(&form.next)).into_response()
}

pub async fn logout(session: Session) -> Response {
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
    ["/images", "/image", "/buckets", "/jobs", "/ecs", "/disks"]
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

/// CSRF guard: a state-changing request must come from our own origin. Browsers say where a
/// request comes from in `Sec-Fetch-Site` and `Origin`; API clients (no browser) send neither.
pub async fn reject_cross_site(request: Request, next: Next) -> Response {
    if is_cross_site(&request) {
        tracing::warn!(path = %request.uri().path(), "cross-site request rejected");
        return (StatusCode::FORBIDDEN, "Cross-site requests are not allowed.").into_response();
    }
    next.run(request).await
}

pub fn is_cross_site(request: &Request) -> bool {
    if matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return false;
    }
    let headers = request.headers();
    if let Some(site) = headers.get("sec-fetch-site").and_then(|value| value.to_str().ok()) {
        if site != "same-origin" && site != "none" {
            return true;
        }
    }
    if let Some(origin) = headers.get(header::ORIGIN).and_then(|value| value.to_str().ok()) {
        let host = headers.get(header::HOST).and_then(|value| value.to_str().ok()).unwrap_or_default();
        let origin_host = origin.split_once("://").map(|(_, rest)| rest).unwrap_or("");
        return origin == "null" || origin_host != host;
    }
    false
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
        assert!(is_cross_site(&post(&[("sec-fetch-site", "cross-site")])));
        assert!(is_cross_site(&post(&[("sec-fetch-site", "same-site")])));
        assert!(is_cross_site(&post(&[("host", "127.0.0.1:3000"), ("origin", "http://evil.example")])));
        assert!(is_cross_site(&post(&[("host", "127.0.0.1:3000"), ("origin", "null")])));
        assert!(!is_cross_site(&post(&[("host", "127.0.0.1:3000"), ("origin", "http://127.0.0.1:3000")])));
        assert!(!is_cross_site(&post(&[("sec-fetch-site", "same-origin")])));
        assert!(!is_cross_site(&post(&[])), "API clients send no browser headers");
    }

    #[test]
    fn redirect_targets_stay_on_site() {
        assert_eq!(safe_next("/images/private?page=2"), "/images/private?page=2");
        assert_eq!(safe_next("//evil.example"), HOME);
        assert_eq!(safe_next("https://evil.example"), HOME);
        assert_eq!(safe_next(""), HOME);
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
