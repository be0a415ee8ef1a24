//! The owner's side of sharing in the image pages: the Share dialog (one image or a
//! selection) and the detail page's Sharing tab with Stop Sharing.

use super::model::{expiry_label, MemberView};
use super::{ShareImages, StopSharing};
use crate::error::AppError;
use crate::format::{format_time, format_time_short};
use crate::ui::{field_error, general_error, ConfirmDialog, Confirmation, ErrorBanner, FieldError, Table};
use leptos::form::ActionForm;
use leptos::prelude::*;

/// The images a Share dialog is open for.
#[derive(Clone, Debug, PartialEq)]
pub struct ShareTarget {
    pub ids: Vec<String>,
    pub names: Vec<String>,
}

/// The Share dialog: project ids (commas or new lines) and an optional expiry date. Each
/// refusal shows next to its field; the dialog closes when the share is made.
#[component]
pub fn ShareDialog(target: RwSignal<Option<ShareTarget>>, action: ServerAction<ShareImages>) -> impl IntoView {
    // Close once the share is made (the page shows the outcome).
    Effect::new(move |_| {
        if matches!(action.value().get(), Some(Ok(_))) {
            target.set(None);
        }
    });
    let error =
        move |field: &'static str| move || view! { <FieldError message=field_error(action.value().get(), field) /> };
    move || {
        target.get().map(|target_now| {
            let title = if target_now.ids.len() == 1 {
                format!("Share Image \"{}\"", target_now.names[0])
            } else {
                format!("Share {} Images", target_now.ids.len())
            };
            view! {
                <div class="dialog-backdrop">
                    <div class="dialog dialog-wide" role="dialog" aria-modal="true" aria-labelledby="share-title">
                        <h2 id="share-title">{title}</h2>
                        {(target_now.ids.len() > 1).then(|| view! { <p class="hint">{target_now.names.join(", ")}</p> })}
                        {error("images")}
                        {move || general_error(action.value().get()).map(|message| view! { <ErrorBanner message /> })}
                        <ActionForm action attr:class="stack-form" attr:novalidate=true>
                            <input type="hidden" name="images" value=target_now.ids.join(",") />
                            <label for="share-projects">"Project ID"</label>
                            <textarea id="share-projects" name="projects" rows="3" autocomplete="off"
                                aria-describedby="share-projects-hint"></textarea>
                            <p class="hint" id="share-projects-hint">
                                "One or more project IDs of the image's region, separated by commas or new lines. The recipient finds theirs on My Credentials."
                            </p>
                            {error("projects")}
                            <label for="share-expiry">"Expiry date (optional)"</label>
                            <input id="share-expiry" type="date" name="expires_on" aria-describedby="share-expiry-hint" />
                            <p class="hint" id="share-expiry-hint">"The share ends by itself at the end of this day (UTC)."</p>
                            {error("expires_on")}
                            <div class="dialog-actions">
                                <button type="button" class="button" on:click=move |_| target.set(None)>"Cancel"</button>
                                <button type="submit" class="button button-primary" disabled=move || action.pending().get()>
                                    "Share"
                                </button>
                            </div>
                        </ActionForm>
                    </div>
                </div>
            }
        })
    }
}

/// "Shared" / "Shared until …" for a job id answer, shown after a share is made.
pub fn share_done_banner(action: ServerAction<ShareImages>) -> impl IntoView {
    move || match action.value().get() {
        Some(Ok(job_id)) => Some(view! {
            <p class="banner banner-info" role="status">
                {format!("Shared (job {job_id}). Recipients see the image as pending until they accept it.")}
            </p>
        }),
        _ => None,
    }
}

/// The detail page's Sharing tab: who the image is shared with, and Stop Sharing.
#[component]
pub fn SharingTab(
    image_id: String,
    image_name: String,
    members: Resource<Option<Result<Vec<MemberView>, AppError>>>,
    share: ServerAction<ShareImages>,
    stop: ServerAction<StopSharing>,
    share_target: RwSignal<Option<ShareTarget>>,
    share_blocked: Option<String>,
    can_modify: bool,
) -> impl IntoView {
    let confirm = RwSignal::new(None::<Confirmation>);
    let ask_stop = {
        let (image_id, image_name) = (image_id.clone(), image_name.clone());
        move |project: Option<String>| {
            let (image_id, project_for_call) = (image_id.clone(), project.clone());
            let message = match &project {
                Some(project) => format!(
                    "Stop sharing \"{image_name}\" with project {project}? The recipient is not told; the image leaves \
                     their lists and can no longer be used for new ECSs, disks or reinstalls. Their running ECSs keep running."
                ),
                None => format!(
                    "Stop sharing \"{image_name}\" with every project? Recipients are not told; the image leaves their lists \
                     and can no longer be used for new ECSs, disks or reinstalls. Their running ECSs keep running."
                ),
            };
            confirm.set(Some(Confirmation {
                title: "Stop Sharing".into(),
                message,
                confirm_label: "Stop Sharing",
                on_confirm: Callback::new(move |_| {
                    stop.dispatch(StopSharing {
                        image_id: image_id.clone(),
                        projects: project_for_call.clone().unwrap_or_default(),
                    });
                }),
            }))
        }
    };
    let open_share = {
        let target = ShareTarget { ids: vec![image_id.clone()], names: vec![image_name.clone()] };
        move |_| share_target.set(Some(target.clone()))
    };
    let blocked_title = share_blocked.clone().unwrap_or_else(|| "Share this image with other projects".into());
    view! {
        <section class="panel">
            <div class="panel-header">
                <h2>"Sharing"</h2>
                {can_modify.then(|| view! {
                    <button type="button" class="button button-primary" disabled=share_blocked.is_some()
                        title=blocked_title on:click=open_share>"Share"</button>
                })}
            </div>
            {share_blocked.map(|reason| view! { <p class="hint">{reason}</p> })}
            {share_done_banner(share)}
            {move || general_error(stop.value().get()).map(|message| view! { <ErrorBanner message /> })}
            <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || {
                    let ask_stop = ask_stop.clone();
                    Suspend::new(async move {
                        match members.await {
                            None => ().into_any(),
                            Some(Err(error)) => view! { <ErrorBanner message=error.to_string() /> }.into_any(),
                            Some(Ok(members)) if members.is_empty() => {
                                view! { <p class="empty" data-testid="no-members">"This image is not shared with any project."</p> }.into_any()
                            }
                            Some(Ok(members)) => members_table(members, can_modify, ask_stop).into_any(),
                        }
                    })
                }}
            </Transition>
        </section>
        <ConfirmDialog request=confirm />
    }
}

fn members_table(
    members: Vec<MemberView>,
    can_modify: bool,
    ask_stop: impl Fn(Option<String>) + Clone + Send + Sync + 'static,
) -> impl IntoView {
    let stop_all = ask_stop.clone();
    view! {
        <Table headers=&["Project ID", "Account", "Status", "Shared", "Expires", "Operation"] class="members-table">
            {members
                .into_iter()
                .map(|member| {
                    let ask_stop = ask_stop.clone();
                    let project = member.project_id.clone();
                    view! {
                        <tr data-testid="member-row">
                            <td class="mono">{member.project_id.clone()}</td>
                            <td>{member.account_name.clone()}</td>
                            <td>
                                <span class=format!("status status-member-{}", member.status.as_str())>
                                    <span class="status-dot"></span>
                                    {member.status.label()}
                                </span>
                            </td>
                            <td class="time" title=format_time(member.created_at)>{format_time_short(member.created_at)}</td>
                            <td>{expiry_label(member.expires_at)}</td>
                            <td>
                                {can_modify.then(|| view! {
                                    <button type="button" class="link-button danger"
                                        on:click=move |_| ask_stop(Some(project.clone()))>"Stop Sharing"</button>
                                })}
                            </td>
                        </tr>
                    }
                })
                .collect_view()}
        </Table>
        {can_modify.then(|| view! {
            <div class="actions">
                <button type="button" class="button button-danger" on:click=move |_| stop_all(None)>
                    "Stop Sharing with All"
                </button>
            </div>
        })}
    }
}
