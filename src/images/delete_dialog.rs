//! The Delete dialog, for one image or a selection: for each image, what its deletion affects
//! (ECSs and disks made from it, images made from it, its shares), or why it cannot be deleted.
//! Deleting moves the images to the recycle bin, all or none.

use super::lineage_panel::descendants_view;
use super::model::{period_label, DeletionPlan};
use super::{deletion_impact, DeleteImages};
use crate::error::AppError;
use crate::ui::{general_error, ErrorBanner};
use leptos::prelude::*;

/// The images a Delete dialog is open for: (id, name).
pub type DeleteTarget = Vec<(String, String)>;

#[component]
pub fn DeleteDialog(
    target: RwSignal<Option<DeleteTarget>>,
    action: ServerAction<DeleteImages>,
    /// Told which images were left out of the deletion (so the list can deselect them).
    #[prop(into)]
    on_leave_out: Callback<Vec<String>>,
) -> impl IntoView {
    Effect::new(move |_| {
        if matches!(action.value().get(), Some(Ok(()))) {
            target.set(None);
        }
    });
    let ids =
        move || target.with(|rows| rows.as_ref().map(|rows| rows.iter().map(|(id, _)| id.clone()).collect::<Vec<_>>()));
    let plan = Resource::new(ids, |ids| async move {
        match ids {
            Some(ids) if !ids.is_empty() => Some(deletion_impact(ids.join(",")).await),
            _ => None,
        }
    });
    move || {
        target.get().map(|rows| {
            let title = match rows.as_slice() {
                [(_, name)] => format!("Delete Image \"{name}\""),
                rows => format!("Delete {} Images", rows.len()),
            };
            view! {
                <div class="dialog-backdrop">
                    <div class="dialog dialog-wide" role="dialog" aria-modal="true" aria-labelledby="delete-title">
                        <h2 id="delete-title">{title}</h2>
                        {move || general_error(action.value().get()).map(|message| view! { <ErrorBanner message /> })}
                        <Suspense fallback=|| view! { <p class="loading">"Checking what these images are used by…"</p> }>
                            {move || Suspend::new(async move {
                                match plan.await {
                                    Some(result) => plan_view(result, target, action, on_leave_out).into_any(),
                                    None => ().into_any(),
                                }
                            })}
                        </Suspense>
                    </div>
                </div>
            }
        })
    }
}

fn plan_view(
    plan: Result<DeletionPlan, AppError>,
    target: RwSignal<Option<DeleteTarget>>,
    action: ServerAction<DeleteImages>,
    on_leave_out: Callback<Vec<String>>,
) -> impl IntoView {
    let cancel = move |_| target.set(None);
    let plan =
        match plan {
            Ok(plan) => plan,
            Err(error) => return view! {
                <ErrorBanner message=error.to_string() />
                <div class="dialog-actions"><button type="button" class="button" on:click=cancel>"Close"</button></div>
            }
            .into_any(),
        };
    let refused: Vec<String> =
        plan.images.iter().filter(|image| image.refusal.is_some()).map(|image| image.id.clone()).collect();
    let ids = plan.images.iter().map(|image| image.id.clone()).collect::<Vec<_>>().join(",");
    let blocked = !refused.is_empty();
    let rows = plan
        .images
        .into_iter()
        .map(|image| {
            let affects = match &image.refusal {
                Some(reason) => {
                    view! { <p class="field-error" data-testid="delete-refusal">{reason.clone()}</p> }.into_any()
                }
                None => descendants_view(&image.descendants).into_any(),
            };
            view! {
                <tr data-testid="impact-row">
                    <th scope="row">{image.name.clone()}</th>
                    <td>{affects}</td>
                </tr>
            }
        })
        .collect_view();
    let leave_out = blocked.then(|| {
        let refused = refused.clone();
        view! {
            <button type="button" class="button" on:click=move |_| {
                let refused = refused.clone();
                target.update(|rows| {
                    if let Some(rows) = rows {
                        rows.retain(|(id, _)| !refused.contains(id));
                    }
                });
                if target.with(|rows| rows.as_ref().is_some_and(Vec::is_empty)) {
                    target.set(None);
                }
                on_leave_out.run(refused);
            }>"Leave Them Out"</button>
        }
    });
    let reason = "Images that cannot be deleted are selected. Leave them out to delete the others.";
    view! {
        <p>
            {format!(
                "Deleted images go to the Recycle Bin for {}, where you can restore them. ECSs made from them keep \
                 running and keep their disks, but cannot be reinstalled from them; their shares end now.",
                period_label(plan.retention_ms)
            )}
        </p>
        <div class="table-wrap">
            <table class="impact-table">
                <thead><tr><th scope="col">"Image"</th><th scope="col">"What its deletion affects"</th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
        {blocked.then(|| view! { <p class="hint" id="delete-blocked">{reason}</p> })}
        <div class="dialog-actions">
            <button type="button" class="button" on:click=cancel>"Cancel"</button>
            {leave_out}
            <button
                type="button"
                class="button button-danger"
                disabled=move || blocked || action.pending().get()
                title=blocked.then_some(reason)
                aria-describedby=blocked.then_some("delete-blocked")
                on:click=move |_| {
                    action.dispatch(DeleteImages { images: ids.clone() });
                }
            >
                "Delete"
            </button>
        </div>
    }
    .into_any()
}
