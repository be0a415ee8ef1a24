//! One image with every attribute of the IMS image model that applies to it, and its tags.

use super::delete_dialog::{DeleteDialog, DeleteTarget};
use super::deprecate_dialog::{deprecation_notice, DeprecateDialog};
use super::lineage_panel::lineage_panel;
use super::list_page::star_title;
use super::model::{delete_refusal, kind_label, ImageDetail, ImageStatus, VIEW_ONLY};
use super::modify_dialog::{protection_switch, ModifyDialog};
use super::replicate::{cross_region_refusal, in_region_refusal, ReplicaSource};
use super::replicate_dialog::{regions_for, replicate_done_banner, ReplicateDialog, ReplicateTarget};
use super::requests::EXPORT_FORMATS;
use super::tags_dialog::{tags_panel, TagActions, TagDialog};
use super::{
    get_image, DeleteImages, ExportImage, ModifyImage, ReplicateImages, SetFavoriteImage, SetImageDeprecation,
    SetImageProtection,
};
use crate::buckets::list_buckets;
use crate::buckets::model::BucketView;
use crate::caller::Role;
use crate::caller::SessionInfo;
use crate::error::AppError;
use crate::format::{format_bytes, format_time};
use crate::market::model::publish_refusal;
use crate::market::publish_panel::{offering_panel, unpublish_button, PublishDialog};
use crate::market::{PublishImage, UnpublishImage};
use crate::regions::region_name;
use crate::sharing::members_panel::{share_done_banner, ShareDialog, ShareTarget, SharingTab};
use crate::sharing::model::{sentence, share_refusal as share_refusal_of, MemberStatus, MemberView};
use crate::sharing::{list_image_members, AnswerShares, ShareImages, StopSharing};
use crate::ui::{
    disabled_reason, error_toast, field_error, general_error, refresh_notices_after, ErrorBanner, FieldError,
    SignedInPage, StatusBadge,
};
use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

/// The detail page's actions, made with the page (before any Suspense).
#[derive(Clone, Copy)]
struct DetailActions {
    share: ServerAction<ShareImages>,
    stop: ServerAction<StopSharing>,
    share_target: RwSignal<Option<ShareTarget>>,
    answer: ServerAction<AnswerShares>,
    publish: ServerAction<PublishImage>,
    publish_open: RwSignal<bool>,
    unpublish: ServerAction<UnpublishImage>,
    export: ServerAction<ExportImage>,
    modify: ServerAction<ModifyImage>,
    modify_open: RwSignal<bool>,
    protect: ServerAction<SetImageProtection>,
    delete: ServerAction<DeleteImages>,
    delete_target: RwSignal<Option<DeleteTarget>>,
    tags: TagActions,
    star: ServerAction<SetFavoriteImage>,
    deprecate: ServerAction<SetImageDeprecation>,
    deprecate_open: RwSignal<bool>,
    replicate: ServerAction<ReplicateImages>,
    replicate_target: RwSignal<Option<ReplicateTarget>>,
}

#[component]
pub fn ImageDetailPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let id = move || params.with(|params| params.get("id").unwrap_or_default());
    let sharing_tab = Memo::new(move |_| query.with(|query| query.get("tab").as_deref() == Some("sharing")));
    let actions = DetailActions {
        share: ServerAction::new(),
        stop: ServerAction::new(),
        share_target: RwSignal::new(None),
        answer: ServerAction::new(),
        publish: ServerAction::new(),
        publish_open: RwSignal::new(false),
        unpublish: ServerAction::new(),
        export: ServerAction::new(),
        modify: ServerAction::new(),
        modify_open: RwSignal::new(false),
        protect: ServerAction::new(),
        delete: ServerAction::new(),
        delete_target: RwSignal::new(None),
        tags: TagActions::new(),
        star: ServerAction::new(),
        deprecate: ServerAction::new(),
        deprecate_open: RwSignal::new(false),
        replicate: ServerAction::new(),
        replicate_target: RwSignal::new(None),
    };
    // A deleted image is in the recycle bin now: show it there.
    let navigate = leptos_router::hooks::use_navigate();
    Effect::new(move |_| {
        if matches!(actions.delete.value().get(), Some(Ok(()))) {
            navigate("/images/recycle-bin", Default::default());
        }
    });
    // The image reloads after a dialog's save, not after its refusal (which would reset the
    // dialog and lose what the user typed).
    let saved = RwSignal::new(0usize);
    for succeeded in [
        Signal::derive(move || matches!(actions.modify.value().get(), Some(Ok(())))),
        Signal::derive(move || matches!(actions.publish.value().get(), Some(Ok(())))),
        Signal::derive(move || matches!(actions.tags.set.value().get(), Some(Ok(())))),
        Signal::derive(move || matches!(actions.deprecate.value().get(), Some(Ok(())))),
    ] {
        Effect::new(move |_| {
            if succeeded.get() {
                saved.update(|count| *count += 1);
            }
        });
    }
    let image = Resource::new(
        move || {
            let versions = (
                actions.answer.version().get(),
                saved.get(),
                actions.unpublish.version().get(),
                actions.protect.version().get(),
                actions.tags.delete.version().get() + actions.star.version().get(),
            );
            (id(), versions, actions.share.version().get() + actions.stop.version().get())
        },
        |(id, _, _)| get_image(id),
    );
    // For the export panel and the Replicate dialog; made here, before any Suspense (see SignedInPage).
    let buckets = Resource::new(|| (), |_| list_buckets());
    let regions = regions_for(actions.replicate_target);
    let members = Resource::new(
        move || (id(), sharing_tab.get(), actions.share.version().get(), actions.stop.version().get()),
        |(id, sharing, _, _)| async move {
            // Only an owner's image has members to list (asking for another's would answer 404,
            // which would become the page's status).
            if !sharing {
                return None;
            }
            match get_image(id.clone()).await {
                Ok(image) if image.owned && image.imagetype == "private" => Some(list_image_members(id).await),
                _ => None,
            }
        },
    );
    // An answer changes the header's count of pending shares.
    refresh_notices_after(move || actions.answer.version().get());
    let crumb = Signal::derive(move || match image.get() {
        Some(Ok(image)) => image.name,
        _ => "Image".to_string(),
    });
    view! {
        <SignedInPage crumb let:info>
            <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || {
                    let info = info.clone();
                    let sharing = sharing_tab.get();
                    Suspend::new(async move { detail_view(info, image.await, buckets, members, sharing, actions) })
                }}
            </Transition>
        </SignedInPage>
        <ShareDialog target=actions.share_target action=actions.share />
        <DeleteDialog target=actions.delete_target action=actions.delete on_leave_out=Callback::new(|_| ()) />
        <TagDialog image_id=Signal::derive(id) actions=actions.tags />
        <ReplicateDialog target=actions.replicate_target action=actions.replicate regions />
        {move || error_toast(general_error(actions.answer.value().get()))}
    }
}

fn detail_view(
    info: SessionInfo,
    image: Result<ImageDetail, AppError>,
    buckets: Resource<Result<Vec<BucketView>, AppError>>,
    members: Resource<Option<Result<Vec<MemberView>, AppError>>>,
    sharing_tab: bool,
    actions: DetailActions,
) -> impl IntoView {
    match image {
        Ok(image) => {
            let can_modify = info.role.can_modify_images();
            let own_private = image.owned && image.imagetype == "private";
            // Only an owner has a Sharing tab; anyone else sees the basic information.
            let sharing_tab = sharing_tab && own_private;
            let export = (own_private && !sharing_tab).then(|| match export_refusal(&image, can_modify) {
                None => view! { <ExportPanel image_id=image.id.clone() image_name=image.name.clone() buckets export=actions.export /> }.into_any(),
                Some(reason) => view! {
                    <section class="panel">
                        <h2>"Export Image"</h2>
                        <p class="hint" data-testid="export-unavailable">{reason}</p>
                    </section>
                }
                .into_any(),
            });
            let sharing = (own_private && sharing_tab).then(|| {
                view! {
                    <SharingTab
                        image_id=image.id.clone()
                        image_name=image.name.clone()
                        members
                        share=actions.share
                        stop=actions.stop
                        share_target=actions.share_target
                        share_blocked=share_refusal(&image)
                        can_modify
                    />
                }
            });
            let publish_dialog = (info.role == Role::Admin && own_private).then(|| {
                view! {
                    <PublishDialog image_id=image.id.clone() image_name=image.name.clone() open=actions.publish_open action=actions.publish />
                }
            });
            let editable = can_modify && own_private && !image.status.is_in_progress();
            let modify_dialog = editable
                .then(|| view! { <ModifyDialog image=image.clone() open=actions.modify_open action=actions.modify /> });
            let deprecate_dialog = (can_modify && own_private).then(|| {
                view! { <DeprecateDialog image=image.clone() open=actions.deprecate_open action=actions.deprecate /> }
            });
            let protection = (editable && !sharing_tab)
                .then(|| protection_switch(image.id.clone(), image.protected, actions.protect));
            view! {
                <Title text=format!("{} — Image Management Service", image.name) />
                {image_header(&image, &info, actions)}
                {replicate_done_banner(actions.replicate)}
                {protection}
                {deprecation_notice(&image)}
                {recipient_notice(&image, can_modify, actions.answer)}
                {detail_tabs(&image, own_private, sharing_tab)}
                {sharing}
                {(!sharing_tab).then(|| image_view(image, own_private, (!can_modify).then(|| VIEW_ONLY.to_string()), actions.tags))}
                {export}
                {publish_dialog}
                {modify_dialog}
                {deprecate_dialog}
            }
            .into_any()
        }
        // get_image has already given the response the error's status (404 for unknown ids).
        Err(error) => view! {
            <Title text="Image not found — Image Management Service" />
            <div class="page-header">
                <h1>"Image not found"</h1>
            </div>
            <ErrorBanner message=error.to_string() />
            <p>
                <a href="/images/private">"Back to Private Images"</a>
            </p>
        }
        .into_any(),
    }
}

/// Why the owner cannot export the image now, if it cannot (the service refuses the same).
fn export_refusal(image: &ImageDetail, can_modify: bool) -> Option<&'static str> {
    if !can_modify {
        Some(VIEW_ONLY)
    } else if image.kind == "iso" {
        Some("ISO images cannot be exported.")
    } else if image.kind == "full_ecs" {
        Some("Full-ECS images cannot be exported.")
    } else if image.status != ImageStatus::Active {
        Some("Only images in the Normal state can be exported.")
    } else {
        None
    }
}

/// Why the owner cannot share the image now, if it cannot (the service gives the same reasons).
fn share_refusal(image: &ImageDetail) -> Option<String> {
    let active = image.status == ImageStatus::Active;
    let reason = share_refusal_of(active, &image.kind, !image.cmk_id.is_empty(), image.offering.is_some());
    reason.map(sentence)
}

/// Basic Information and, for the owner's private images, Sharing.
fn detail_tabs(image: &ImageDetail, own_private: bool, sharing_tab: bool) -> Option<impl IntoView> {
    own_private.then(|| {
        let base = format!("/image/{}", image.id);
        view! {
            <nav class="tabs" aria-label="Image details">
                <a href=base.clone() class:active=!sharing_tab aria-current=(!sharing_tab).then_some("page")>"Basic Information"</a>
                <a href=format!("{base}?tab=sharing") class:active=sharing_tab aria-current=sharing_tab.then_some("page")>
                    {format!("Sharing ({})", image.shared_with)}
                </a>
            </nav>
        }
    })
}

/// For an image shared with the caller: whose it is, the caller's answer, and what it may do.
fn recipient_notice(
    image: &ImageDetail,
    can_modify: bool,
    answer: ServerAction<AnswerShares>,
) -> Option<impl IntoView> {
    let status = image.member_status?;
    let id = image.id.clone();
    let text = match status {
        MemberStatus::Pending => format!(
            "Account {} shared this image with your project. Accept it to create ECSs, EVS disks or change an OS with it.",
            image.owner_account
        ),
        MemberStatus::Accepted => format!(
            "Shared with you by account {}. You can create ECSs and EVS disks from it and change an ECS's OS to it; \
             only its owner can modify, delete, share, export or replicate it.",
            image.owner_account
        ),
        MemberStatus::Rejected => format!(
            "Account {} shared this image with you and you rejected it. Accept it to use it.",
            image.owner_account
        ),
    };
    let dispatch = move |status: MemberStatus| {
        answer.dispatch(AnswerShares { images: id.clone(), status: status.as_str().to_string() });
    };
    let dispatch_reject = dispatch.clone();
    Some(view! {
        <div class="banner banner-info recipient-notice" data-testid="recipient-notice">
            <span>{text}</span>
            {(can_modify && status != MemberStatus::Accepted).then(|| view! {
                <button type="button" class="button button-small button-primary" on:click=move |_| dispatch(MemberStatus::Accepted)>"Accept"</button>
            })}
            {(can_modify && status != MemberStatus::Rejected).then(|| view! {
                <button type="button" class="button button-small" on:click=move |_| dispatch_reject(MemberStatus::Rejected)>
                    {if status == MemberStatus::Accepted { "Remove" } else { "Reject" }}
                </button>
            })}
        </div>
    })
}

fn or_dash(text: &str) -> String {
    if text.is_empty() {
        "—".to_string()
    } else {
        text.to_string()
    }
}

fn yes_no(flag: bool) -> String {
    if flag {
        "Yes".to_string()
    } else {
        "No".to_string()
    }
}

fn megabytes(value: i64) -> String {
    if value == 0 {
        "Unrestricted".to_string()
    } else {
        format!("{value} MB")
    }
}

/// The Basic Information rows: (label, value) in the order the page shows them.
fn attributes(image: &ImageDetail) -> Vec<(&'static str, String)> {
    let mut fields = vec![
        ("Name", image.name.clone()),
        ("ID", image.id.clone()),
        ("Description", or_dash(&image.description)),
        ("Image Type", kind_label(&image.kind).to_string()),
        ("Visibility", image.visibility.clone()),
        ("Image Category (__imagetype)", image.imagetype.clone()),
        ("Region", region_name(&image.region).to_string()),
        ("Owner Project", image.owner.clone()),
        ("Owner Account", or_dash(&image.owner_account)),
        ("Enterprise Project", image.enterprise_project_id.clone()),
        ("OS Type", image.os_type.clone()),
        ("OS", or_dash(&image.os_version)),
        ("Platform", image.platform.clone()),
        ("OS Bit", format!("{}-bit", image.os_bit)),
        ("Architecture", image.architecture.clone()),
        ("Boot Mode", image.hw_firmware_type.to_uppercase()),
        ("Virtualization", image.virtual_env_type.clone()),
        ("Disk Format", image.disk_format.clone()),
        ("Container Format", image.container_format.clone()),
        ("Size", format!("{} ({} bytes)", format_bytes(image.image_size), image.image_size)),
        ("Virtual Size", format!("{} ({} bytes)", format_bytes(image.virtual_size), image.virtual_size)),
        ("Min. Disk", format!("{} GB", image.min_disk)),
        ("Min. Memory", megabytes(image.min_ram)),
        ("Max. Memory", megabytes(image.max_ram)),
        (
            "Encrypted",
            if image.cmk_id.is_empty() { "No".to_string() } else { format!("Yes (KMS key {})", image.cmk_id) },
        ),
        ("Protected", yes_no(image.protected)),
        ("Registered", yes_no(image.is_registered)),
        ("Source", or_dash(&image.root_origin)),
        ("Data Origin", or_dash(&image.data_origin)),
        ("Family", or_dash(&image.family)),
        ("Parent Image", or_dash(&image.original_image_id)),
        ("Backup", or_dash(&image.backup_id)),
        ("Storage Backend", image.image_source_type.clone()),
        ("Features", if image.support_flags.is_empty() { "—".to_string() } else { image.support_flags.join(", ") }),
        ("MD5 Checksum", or_dash(&image.checksum)),
        ("SHA-256 Checksum", or_dash(&image.sha256)),
        ("Created", format_time(image.created_at)),
        ("Updated", format_time(image.updated_at)),
        ("Active Since", image.active_at.map(format_time).unwrap_or_else(|| "—".to_string())),
        ("ECSs Created from It", image.servers_created.to_string()),
        ("Last Used", image.last_used_at.map(format_time).unwrap_or_else(|| "Never".to_string())),
    ];
    if image.kind == "full_ecs" {
        let disks = image.data_disks_gb.iter().map(|gb| format!("{gb} GB")).collect::<Vec<_>>().join(", ");
        fields.push(("Data Disks", if disks.is_empty() { "None".to_string() } else { disks }));
    }
    fields
}

/// The title line: back, name, status, and the operations the caller may use.
fn image_header(image: &ImageDetail, info: &SessionInfo, actions: DetailActions) -> impl IntoView {
    let back = match image.imagetype.as_str() {
        "gold" => "/images/public",
        _ if image.owned => "/images/private",
        _ if image.offering.is_some() => "/images/market",
        _ => "/images/shared",
    };
    let usable = image.owned
        || image.imagetype == "gold"
        || image.offering.is_some()
        || image.member_status == Some(MemberStatus::Accepted);
    let use_link = (usable && image.status == ImageStatus::Active && image.has_file).then(|| match image.kind.as_str() {
        "data" => view! { <a class="button" href=format!("/disks?image={}", image.id)>"Create Disk"</a> }.into_any(),
        _ => view! { <a class="button button-primary" href=format!("/ecs/create?image={}", image.id)>"Apply for ECS"</a> }.into_any(),
    });
    let own_private = image.owned && image.imagetype == "private";
    // The owner's operations show for a viewer too, disabled, each saying why.
    let role = (!info.role.can_modify_images()).then(|| VIEW_ONLY.to_string());
    let share_button = own_private.then(|| {
        let target = ShareTarget { ids: vec![image.id.clone()], names: vec![image.name.clone()] };
        let blocked = role.clone().or_else(|| share_refusal(image));
        operation_button("Share", "button", blocked, "Share this image with other projects", move || {
            actions.share_target.set(Some(target.clone()))
        })
    });
    let modify_button = own_private.then(|| {
        let blocked =
            role.clone().or_else(|| image.status.is_in_progress().then(|| "The image is still being created.".into()));
        operation_button(
            "Modify",
            "button",
            blocked,
            "Change the name, description, memory limits, boot mode, OS version or protection",
            move || actions.modify_open.set(true),
        )
    });
    let delete_button = own_private.then(|| {
        let row = (image.id.clone(), image.name.clone());
        let refusal = delete_refusal(image.protected, image.status, image.offering.is_some()).map(str::to_string);
        operation_button(
            "Delete",
            "button button-danger-outline",
            role.clone().or(refusal),
            "Move this image to the recycle bin",
            move || actions.delete_target.set(Some(vec![row.clone()])),
        )
    });
    let deprecate_button = own_private.then(|| {
        let label = if image.deprecated_at.is_some() { "Deprecation" } else { "Deprecate" };
        operation_button(label, "button", role.clone(), "Set the time from which this image is deprecated", move || {
            actions.deprecate_open.set(true)
        })
    });
    let replicate_button = own_private.then(|| {
        let source = ReplicaSource::of(image);
        let target = ReplicateTarget {
            images: vec![(image.id.clone(), image.name.clone())],
            in_region_refusal: in_region_refusal(&source),
            cross_region_refusal: cross_region_refusal(&source),
        };
        let blocked =
            role.clone().or_else(|| target.in_region_refusal.as_ref().and(target.cross_region_refusal.clone()));
        operation_button(
            "Replicate",
            "button",
            blocked,
            "Copy this image within the region or to another region",
            move || actions.replicate_target.set(Some(target.clone())),
        )
    });
    let star = {
        let (id, on) = (image.id.clone(), image.favorite);
        view! {
            <button type="button" class="star star-large" class:star-on=on aria-pressed=if on { "true" } else { "false" }
                aria-label="Star" title=star_title(on) data-testid="star"
                on:click=move |_| { actions.star.dispatch(SetFavoriteImage { id: id.clone(), favorite: !on }); }>
                {if on { "★" } else { "☆" }}
            </button>
        }
    };
    let deprecated = image.deprecated.then(|| view! { <span class="tag-badge">"Deprecated"</span> });
    let admin = info.role == Role::Admin && own_private;
    let published = image.offering.is_some();
    let active = image.status == ImageStatus::Active;
    let publish_button = (own_private && !published).then(|| {
        let blocked = if info.role == Role::Admin {
            publish_refusal(active, &image.kind, !image.cmk_id.is_empty(), image.shared_with > 0)
                .map(|reason| format!("This image cannot be published: {reason}"))
        } else {
            Some("Only the account admin can publish images in KooGallery.".to_string())
        };
        operation_button("Publish in KooGallery", "button", blocked, "List this image in KooGallery", move || {
            actions.publish_open.set(true)
        })
    });
    let unpublish = (admin && published).then(|| unpublish_button(image.id.clone(), actions.unpublish));
    view! {
        <div class="page-header">
            <a class="back-link" href=back>"‹ Back"</a>
            {star}
            <h1>{image.name.clone()}</h1>
            <StatusBadge status=image.status.as_str() label=image.status.label() reason=image.status_reason.clone() />
            {deprecated}
            <div class="header-actions">
                {use_link}{modify_button}{share_button}{replicate_button}{deprecate_button}{publish_button}{unpublish}{delete_button}
            </div>
        </div>
        {share_done_banner(actions.share)}
        {move || matches!(actions.publish.value().get(), Some(Ok(()))).then(|| view! {
            <p class="banner banner-info" role="status">"Published in KooGallery: every tenant of this region sees it under KooGallery Images."</p>
        })}
    }
}

/// A header operation: enabled with `hint` as its tooltip, or disabled saying why (to the
/// mouse and to screen readers).
fn operation_button(
    label: &'static str,
    class: &'static str,
    blocked: Option<String>,
    hint: &'static str,
    on_click: impl Fn() + Send + Sync + 'static,
) -> impl IntoView {
    let (disabled, title) = (blocked.is_some(), blocked.clone().unwrap_or_else(|| hint.to_string()));
    view! {
        <button type="button" class=class disabled=disabled title=title on:click=move |_| on_click()>
            {label}
            {disabled_reason(blocked)}
        </button>
    }
}

fn image_view(image: ImageDetail, owner: bool, role_reason: Option<String>, tag_actions: TagActions) -> impl IntoView {
    let offering = image.offering.clone().map(offering_panel);
    view! {
        {(!image.status_reason.is_empty())
            .then(|| view! { <ErrorBanner message=format!("Failure reason: {}", image.status_reason) /> })}
        {offering}
        <section class="panel">
            <h2>"Basic Information"</h2>
            <dl class="attributes">
                {attributes(&image)
                    .into_iter()
                    .map(|(label, value)| {
                        view! {
                            <div class="attribute">
                                <dt>{label}</dt>
                                <dd>{value}</dd>
                            </div>
                        }
                    })
                    .collect_view()}
            </dl>
        </section>
        {image.lineage.map(lineage_panel)}
        {tags_panel(image.id, image.tags, owner, role_reason, tag_actions)}
    }
}

/// Export the image to a bucket: choose the bucket, the object name and the format.
#[component]
fn ExportPanel(
    image_id: String,
    image_name: String,
    buckets: Resource<Result<Vec<BucketView>, AppError>>,
    export: ServerAction<ExportImage>,
) -> impl IntoView {
    let format = RwSignal::new("qcow2".to_string());
    let default_name = move || format!("{image_name}.{}", format.get());
    let error =
        move |field: &'static str| move || view! { <FieldError message=field_error(export.value().get(), field) /> };
    view! {
        <section class="panel">
            <h2>"Export Image"</h2>
            {move || match export.value().get() {
                Some(Ok(job_id)) => Some(view! {
                    <p class="banner banner-info" role="status">
                        {format!("Export started (job {job_id}). ")}
                        <a href="/jobs">"Follow it on the Jobs page"</a>
                    </p>
                }),
                _ => None,
            }}
            {move || general_error(export.value().get()).map(|message| view! { <ErrorBanner message /> })}
            <ActionForm action=export attr:class="inline-form">
                <input type="hidden" name="image_id" value=image_id.clone() />
                <label for="export-bucket">"Bucket"</label>
                <div>
                    <select id="export-bucket" name="bucket">
                        <Suspense fallback=|| view! { <option value="">"Loading…"</option> }>
                            {move || Suspend::new(async move {
                                let names: Vec<String> = buckets.await.unwrap_or_default().into_iter().map(|bucket| bucket.name).collect();
                                view! {
                                    <option value="">{if names.is_empty() { "No buckets: create one first" } else { "Choose a bucket" }}</option>
                                    {names.into_iter().map(|name| view! { <option value=name.clone()>{name.clone()}</option> }).collect_view()}
                                }
                            })}
                        </Suspense>
                    </select>
                    {error("bucket")}
                </div>
                <label for="export-format">"Format"</label>
                <select id="export-format" name="file_format" on:change=move |event| format.set(event_target_value(&event))>
                    {EXPORT_FORMATS.iter().map(|name| view! { <option value=*name>{name.to_uppercase()}</option> }).collect_view()}
                </select>
                <label for="export-key">"Object name"</label>
                <div>
                    <input id="export-key" name="object_key" prop:value=default_name />
                    {error("object_key")}
                </div>
                <button type="submit" class="button button-primary" disabled=move || export.pending().get()>"Export"</button>
            </ActionForm>
        </section>
    }
}
