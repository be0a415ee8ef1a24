//! The IAM-user login page. A plain form posting to `/auth/login`, so it works without
//! JavaScript; the server sends errors back as query parameters.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

fn login_message(error: &str, retry_minutes: &str) -> Option<(&'static str, String)> {
    match error {
        "invalid" => Some(("error", "The account name, user name or password is incorrect.".to_string())),
        "throttled" => {
            Some(("error", format!("Too many failed login attempts. Try again in {retry_minutes} minutes.")))
        }
        "logged_out" => Some(("info", "You have logged out.".to_string())),
        _ => None,
    }
}

#[component]
pub fn LoginPage() -> impl IntoView {
    let query = use_query_map();
    let param = move |name: &'static str| query.with(|params| params.get(name).unwrap_or_default());
    let missing_field = move || (param("error") == "missing").then(|| param("field"));
    let field_error = move |field: &'static str, message: &'static str| {
        move || (missing_field().as_deref() == Some(field)).then(|| view! { <p class="field-error">{message}</p> })
    };

    view! {
        <Title text="Log in — Image Management Service" />
        <main class="login-page">
            <form class="login-card" method="post" action="/auth/login">
                <h1>"Image Management Service"</h1>
                <p class="login-subtitle">"IAM user login"</p>
                {move || {
                    login_message(&param("error"), &param("retry"))
                        .map(|(kind, text)| {
                            view! {
                                <p class=format!("banner banner-{kind}") role="alert">
                                    {text}
                                </p>
                            }
                        })
                }}
                <label for="login-account">"Account name"</label>
                <input id="login-account" name="account" autocomplete="organization" value=move || param("account") />
                {field_error("account", "Enter the account name.")}
                <label for="login-user">"User name"</label>
                <input id="login-user" name="user" autocomplete="username" value=move || param("user") />
                {field_error("user", "Enter the user name.")}
                <label for="login-password">"Password"</label>
                <input id="login-password" name="password" type="password" autocomplete="current-password" />
                {field_error("password", "Enter the password.")}
                <input type="hidden" name="next" value=move || param("next") />
                <button type="submit" class="button button-primary">"Log In"</button>
            </form>
        </main>
    }
}

#[cfg(test)]
mod tests {
    use super::login_message;

    #[test]
    fn explains_each_login_error() {
        assert!(login_message("invalid", "").unwrap().1.contains("incorrect"));
        assert_eq!(
            login_message("throttled", "15").unwrap().1,
            "Too many failed login attempts. Try again in 15 minutes."
        );
        assert!(login_message("whatever", "").is_none());
    }
}
