//! Reusable pieces of the console: the signed-in page scaffold and its shell, status badges,
//! banners, forms, dialogs, the pager. Nothing here knows a domain.

mod page;
mod pager;
mod shell;

pub use page::{Loaded, NotFound, PageFailed, SessionEnded, SignedInPage};
pub use pager::Pager;
pub use shell::{refresh_notices_after, HeaderNotices, NoticesResource, SessionResource, Shell};

use crate::error::AppError;
use leptos::prelude::*;

/// `Some(message)` for a field that failed, shown under it.
#[component]
pub fn FieldError(message: Option<String>) -> impl IntoView {
    message.map(|message| view! { <p class="field-error">{message}</p> })
}

/// One row of a `.form-grid` form: the label, then the control with its hint and its error.
#[component]
pub fn FormRow(
    label: &'static str,
    id: &'static str,
    #[prop(optional)] hint: &'static str,
    #[prop(into)] error: Signal<Option<String>>,
    children: Children,
) -> impl IntoView {
    view! {
        <label for=id>{label}</label>
        <div>
            {children()}
            {(!hint.is_empty()).then(|| view! { <p class="hint">{hint}</p> })}
            {move || view! { <FieldError message=error.get() /> }}
        </div>
    }
}

/// A status with its coloured dot: `status` is the status's stable name (it picks the colour),
/// `label` what the console calls it, `reason` why it is so (in the tooltip).
#[component]
pub fn StatusBadge(status: &'static str, label: &'static str, #[prop(optional)] reason: String) -> impl IntoView {
    let title = if reason.is_empty() { label.to_string() } else { format!("{label}: {reason}") };
    view! {
        <span class=format!("status status-{status}") title=title>
            <span class="status-dot"></span>
            {label}
        </span>
    }
}

/// A plain table with fixed column headers; the rows are the children.
#[component]
pub fn Table(
    headers: &'static [&'static str],
    #[prop(optional)] class: &'static str,
    children: Children,
) -> impl IntoView {
    view! {
        <div class="table-wrap">
            <table class=class>
                <thead>
                    <tr>{headers.iter().map(|header| view! { <th>{*header}</th> }).collect_view()}</tr>
                </thead>
                <tbody>{children()}</tbody>
            </table>
        </div>
    }
}

/// A failed action's message, floating at the bottom of the page.
pub fn error_toast(message: Option<String>) -> impl IntoView {
    message.map(|message| view! { <div class="toast"><ErrorBanner message /></div> })
}

#[component]
pub fn ErrorBanner(message: String) -> impl IntoView {
    view! {
        <div class="banner banner-error" role="alert">
            {message}
        </div>
    }
}

/// A progress bar with its percentage and what is happening now.
#[component]
pub fn ProgressBar(percent: f64, #[prop(optional)] label: String) -> impl IntoView {
    let width = format!("width: {:.1}%", percent.clamp(0.0, 100.0));
    view! {
        <div class="progress" role="progressbar" aria-valuemin="0" aria-valuemax="100" aria-valuenow=format!("{percent:.0}")>
            <div class="progress-track">
                <div class="progress-fill" style=width></div>
            </div>
            <span class="progress-text">{format!("{percent:.0}%")} {(!label.is_empty()).then(|| format!(" · {label}"))}</span>
        </div>
    }
}

/// A counter that goes up every `seconds` in the browser (never on the server), for pages
/// that refresh live data by re-running a resource keyed on it.
pub fn use_polling(seconds: u64) -> ReadSignal<u64> {
    let (tick, set_tick) = signal(0u64);
    Effect::new(move |_| {
        if let Ok(handle) = set_interval_with_handle(
            move || set_tick.update(|tick| *tick += 1),
            std::time::Duration::from_secs(seconds),
        ) {
            on_cleanup(move || handle.clear());
        }
    });
    tick
}

/// A question waiting for the user's yes or no.
#[derive(Clone)]
pub struct Confirmation {
    pub title: String,
    pub message: String,
    pub confirm_label: &'static str,
    pub on_confirm: Callback<()>,
}

/// A modal dialog for the pending confirmation, if any. Cancel closes it; the confirm button
/// runs `on_confirm` and closes it.
#[component]
pub fn ConfirmDialog(request: RwSignal<Option<Confirmation>>) -> impl IntoView {
    move || {
        request.get().map(|confirmation| {
            let on_confirm = confirmation.on_confirm;
            view! {
                <div class="dialog-backdrop">
                    <div class="dialog" role="dialog" aria-modal="true" aria-labelledby="dialog-title">
                        <h2 id="dialog-title">{confirmation.title.clone()}</h2>
                        <p>{confirmation.message.clone()}</p>
                        <div class="dialog-actions">
                            <button type="button" class="button" on:click=move |_| request.set(None)>
                                "Cancel"
                            </button>
                            <button
                                type="button"
                                class="button button-danger"
                                on:click=move |_| {
                                    on_confirm.run(());
                                    request.set(None);
                                }
                            >
                                {confirmation.confirm_label}
                            </button>
                        </div>
                    </div>
                </div>
            }
        })
    }
}

/// The message of a failed action for `field`, when the server named that field.
pub fn field_error<T: Clone + Send + Sync + 'static>(
    result: Option<Result<T, AppError>>,
    field: &str,
) -> Option<String> {
    match result {
        Some(Err(AppError::Fields(errors))) => {
            errors.into_iter().find(|(name, _)| name == field).map(|(_, message)| message)
        }
        _ => None,
    }
}

/// The message of a failed action that belongs to no single field.
pub fn general_error<T: Clone + Send + Sync + 'static>(result: Option<Result<T, AppError>>) -> Option<String> {
    match result {
        Some(Err(AppError::Fields(_))) | Some(Ok(_)) | None => None,
        Some(Err(error)) => Some(error.to_string()),
    }
}

/// The message of a failed action, whichever field it names.
pub fn any_error<T: Clone + Send + Sync + 'static>(result: Option<Result<T, AppError>>) -> Option<String> {
    match result {
        Some(Err(error)) => Some(error.to_string()),
        _ => None,
    }
}

/// Submits the form a changed select belongs to, for selects that apply at once with JavaScript
/// on (with it off, the form's own button does). No inline handler: the page's content
/// security policy allows only the scripts it names.
pub fn submit_own_form(event: leptos::ev::Event) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        let select = event.target().and_then(|target| target.dyn_into::<web_sys::HtmlSelectElement>().ok());
        if let Some(form) = select.and_then(|select| select.form()) {
            let _ = form.submit();
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = event;
}

/// What a screen reader says of a disabled control: why it is unavailable (the `title` says it
/// to the mouse). Nothing when the control is available.
pub fn disabled_reason(reason: Option<String>) -> impl IntoView {
    reason.map(|reason| view! { <span class="sr-only">{format!(" (unavailable: {reason})")}</span> })
}
