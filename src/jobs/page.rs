//! The Jobs page: the project's recent jobs with live progress, failure reasons and Cancel.

use super::model::{job_type_label, JobView};
use super::{list_jobs, CancelJob};
use crate::format::format_time;
use crate::ui::{error_toast, general_error, use_polling, Loaded, ProgressBar, SignedInPage, Table};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn JobsPage() -> impl IntoView {
    let tick = use_polling(2);
    let cancel = ServerAction::<CancelJob>::new();
    let jobs = Resource::new(move || (tick.get(), cancel.version().get()), |_| list_jobs());
    view! {
        <Title text="Jobs — Image Management Service" />
        <SignedInPage crumb="Jobs" let:info>
            <div class="page-header">
                <h1>"Jobs"</h1>
            </div>
            <Loaded resource=jobs let:jobs>
                {job_table(jobs, info.role.can_modify_images(), cancel)}
            </Loaded>
        </SignedInPage>
        {move || error_toast(general_error(cancel.value().get()))}
    }
}

fn job_table(jobs: Vec<JobView>, can_cancel: bool, cancel: ServerAction<CancelJob>) -> impl IntoView {
    let rows = if jobs.is_empty() {
        view! {
            <tr>
                <td colspan="6" class="empty">"No jobs in this region yet."</td>
            </tr>
        }
        .into_any()
    } else {
        jobs.into_iter().map(|job| job_row(job, can_cancel, cancel)).collect_view().into_any()
    };
    view! {
        <Table headers=&["Job", "Target", "Status", "Progress", "Created", "Operation"] class="job-table">
            {rows}
        </Table>
    }
}

fn job_row(job: JobView, can_cancel: bool, cancel: ServerAction<CancelJob>) -> impl IntoView {
    let target = if job.image_id.is_empty() { job.target.clone() } else { job.image_name.clone() };
    let image_href = if !job.image_id.is_empty() {
        Some(format!("/image/{}", job.image_id))
    } else {
        (!job.server_id.is_empty()).then(|| format!("/ecs/{}", job.server_id))
    };
    let cancel_button = (can_cancel && !job.status.is_finished()).then(|| {
        let id = job.id.clone();
        view! {
            <button type="button" class="link-button danger" on:click=move |_| {
                cancel.dispatch(CancelJob { id: id.clone() });
            }>"Cancel"</button>
        }
    });
    let status_class = format!("job-status job-{}", job.status.as_str().to_lowercase());
    view! {
        <tr data-testid="job-row">
            <td>
                <span class="image-name">{job_type_label(&job.job_type).to_string()}</span>
                <span class="image-id">{job.id.clone()}</span>
            </td>
            <td>
                {match image_href {
                    Some(href) => view! { <a href=href>{target.clone()}</a> }.into_any(),
                    None => view! { <span>{target.clone()}</span> }.into_any(),
                }}
                {(!job.target.is_empty() && !job.image_id.is_empty())
                    .then(|| view! { <span class="image-id">{format!("→ {}", job.target)}</span> })}
            </td>
            <td>
                <span class=status_class>{job.status.label()}</span>
                {(!job.fail_reason.is_empty()).then(|| view! { <p class="fail-reason">{job.fail_reason.clone()}</p> })}
            </td>
            <td>
                <ProgressBar percent=job.percent label=job.current_task.clone() />
            </td>
            <td class="time">{format_time(job.created_at)}</td>
            <td>{cancel_button}</td>
        </tr>
    }
}
