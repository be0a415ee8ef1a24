//! Reusable pieces of the console: the page shell, status badges, banners, the pager.

mod pager;
mod shell;

pub use pager::Pager;
pub use shell::{SessionResource, Shell};

use leptos::prelude::*;

/// Submits the form of a `<select>` when its value changes (JavaScript on); without
/// JavaScript the form's own button does it.
pub fn submit_on_change(event: leptos::ev::Event) {
    let select: leptos::web_sys::HtmlSelectElement = event_target(&event);
    if let Some(form) = select.form() {
        let _ = form.submit();
    }
}

#[component]
pub fn StatusBadge(status: String, #[prop(optional)] reason: String) -> impl IntoView {
    let label = crate::images::status_label(&status).to_string();
    let title = if reason.is_empty() { label.clone() } else { format!("{label}: {reason}") };
    view! {
        <span class=format!("status status-{status}") title=title>
            <span class="status-dot"></span>
            {label}
        </span>
    }
}

#[component]
pub fn ErrorBanner(message: String) -> impl IntoView {
    view! {
        <div class="banner banner-error" role="alert">
            {message}
        </div>
    }
}
