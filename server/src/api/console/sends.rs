//! A webhook's Sends tab (Leanplum's delivery methods): besides the events it takes as they
//! happen, send a campaign's entries now (manual), at a set time (one-time), or as a digest
//! every hour, day or week (recurring); each send a job with its progress, its deliveries
//! and a cancel button.

use axum::extract::{Path, State};
use maud::{Markup, html};
use protocol::admin::webhooks::Job;

use super::layout::{self, Page, Rendered, Section, field, page};
use super::webhooks::{self, Tab, endpoint_view};
use super::{ConsoleState, PageError, Viewer};
use crate::jobs;

/// Most jobs the tab lists.
const MOST: u32 = 50;
/// A job due within this long keeps the tab refreshing, to show it start.
const SOON_MS: i64 = 60_000;

const KINDS: [(&str, &str); 3] = [
    ("manual", "Now: every entry of the campaign"),
    ("one_time", "Once, at a set time: every entry by then"),
    ("recurring", "Recurring: a digest of what is new"),
];

const EVERY: [(&str, &str); 3] = [
    ("hour", "Every hour"),
    ("day", "Every day"),
    ("week", "Every week"),
];

/// `GET /admin/webhooks/{id}/sends`.
pub async fn sends(
    State(state): State<ConsoleState>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> Result<Rendered, PageError> {
    let record = webhooks::find(&state, &viewer, &id).await?;
    let endpoint = endpoint_view(&state.store, viewer.workspace.id, &record).await?;
    let campaigns: Vec<(String, String)> = state
        .store
        .workspace_campaigns(viewer.workspace.id, None, 200)
        .await?
        .into_iter()
        .filter(|campaign| {
            record
                .campaign_ids
                .as_ref()
                .is_none_or(|ids| ids.contains(&campaign.id))
        })
        .map(|campaign| (campaign.key.as_str().to_owned(), campaign.name))
        .collect();
    let records = state
        .store
        .workspace_jobs(viewer.workspace.id, Some(record.id), None, MOST)
        .await?;
    let mut shown = Vec::with_capacity(records.len());
    for job in &records {
        shown.push(jobs::view(&state.store, job).await?);
    }
    // Refreshed while a job queues or sends, or is about to start (a manual one just made).
    let soon = crate::clock::now_millis() + SOON_MS;
    let busy = records.iter().any(|job| match job.status {
        jobs::JobStatus::Running | jobs::JobStatus::Sending => true,
        jobs::JobStatus::Scheduled => job.next_run_at <= soon,
        jobs::JobStatus::Completed | jobs::JobStatus::Cancelled => false,
    });
    let campaign_options: Vec<(&str, &str)> = campaigns
        .iter()
        .map(|(key, name)| (key.as_str(), name.as_str()))
        .collect();
    let audience = endpoint
        .audience
        .as_ref()
        .map(|audience| audience.conditions.clone())
        .unwrap_or_default();
    Ok(page(
        Page::signed_in(&endpoint.name, &viewer.workspace.name, Section::Webhooks),
        html! {
            (webhooks::header(&endpoint, Tab::Sends))
            section.card {
                h2 { "Send entries" }
                p.muted {
                    "Triggered: the events ticked in Settings go as they happen. Here, send a campaign's entries yourself: "
                    "each entry as " span.mono { "entry.exported" } " (its webhook body), or on a schedule as one "
                    span.mono { "digest.created" } " request, a JSON array of the entries made since the last one. "
                    "No entry is sent twice by one send."
                }
                @if audience.is_empty() {
                    p.muted { "Every entry is sent: this webhook has no audience conditions." }
                } @else {
                    p.muted { "Only entries matching the audience are sent: " span.mono { (audience.join(" · ")) } }
                }
                @if record.deleted_at.is_some() {
                    p { "This webhook is deleted: restore it to send." }
                } @else if campaign_options.is_empty() {
                    p { "This webhook takes no campaign yet." }
                } @else {
                    form #new-job data-api="POST /api/v1/jobs" data-then="reload" novalidate {
                        (layout::form_status())
                        input type="hidden" name="endpoint_id" value=(endpoint.id);
                        div.grid {
                            (layout::select("Campaign", "campaign", &campaign_options, campaign_options[0].0))
                            (layout::select("When", "kind", &KINDS, "manual"))
                        }
                        fieldset.plain data-show-when="kind=recurring" {
                            (layout::select("How often", "every", &EVERY, "day"))
                        }
                        fieldset.plain data-show-when="kind=one_time|recurring" {
                            (field("At", "run_at", Some("Your local time. For a recurring send, the first digest; empty: one period from now."), html! {
                                input #(layout::id("run_at")) name="run_at" type="datetime-local" data-type="datetime";
                            }))
                        }
                        div.actions { button.primary type="submit" { "Start" } }
                    }
                }
            }
            h2 { "Sends" }
            (jobs_table(&endpoint.id.to_string(), &shown, busy))
        },
    ))
}

fn kind_text(job: &Job) -> String {
    match (job.kind.as_str(), job.every.as_deref()) {
        ("recurring", Some(every)) => format!("a digest every {every}"),
        ("one_time", _) => "once".to_owned(),
        _ => "now".to_owned(),
    }
}

fn status_badge(status: &str) -> Markup {
    let class = match status {
        "completed" => "badge good",
        "cancelled" => "badge bad",
        "running" | "sending" => "badge warn",
        _ => "badge",
    };
    let text = match status {
        "running" => "queuing entries",
        "sending" => "sending",
        other => other,
    };
    html! { span class=(class) data-job-status=(status) { (text) } }
}

/// The endpoint's jobs, refreshed while `busy`.
fn jobs_table(endpoint_id: &str, jobs: &[Job], busy: bool) -> Markup {
    html! {
        div #jobs data-live[busy] aria-live="polite" {
            @if jobs.is_empty() {
                p.card { "No sends yet." }
            } @else {
                div.table-wrap {
                    table.stack {
                        thead { tr {
                            th { "Made" } th { "Campaign" } th { "When" } th { "Status" } th { "Progress" } th { "Next" } th { span.skip { "Actions" } }
                        } }
                        tbody {
                            @for job in jobs {
                                @let progress = job.progress;
                                @let done = progress.sent + progress.failed + progress.cancelled;
                                tr data-job=(job.id) data-scope {
                                    td data-label="Made" { (layout_time(&job.created_at)) }
                                    td.mono data-label="Campaign" { (job.campaign) }
                                    td data-label="When" { (kind_text(job)) @if job.runs > 0 && job.kind == "recurring" { br; span.muted { (job.runs) " runs" } } }
                                    td data-label="Status" { (status_badge(&job.status)) }
                                    td data-label="Progress" data-progress {
                                        @if progress.queued > 0 {
                                            progress value=(done) max=(progress.queued) aria-label="Sent or settled" {}
                                            br;
                                        }
                                        span data-sent { (progress.sent) " sent" } " · "
                                        span data-failed { (progress.failed) " failed" } " · "
                                        span data-waiting { (progress.pending) " waiting" }
                                        @if progress.cancelled > 0 { " · " span data-cancelled { (progress.cancelled) " cancelled" } }
                                        br; span.muted {
                                            (progress.queued) " queued of " (progress.scanned) " looked at"
                                            @if progress.to_scan > 0 { " (of " (progress.to_scan) ")" }
                                        }
                                    }
                                    td data-label="Next" {
                                        @if let Some(at) = &job.next_run_at { (layout_time(at)) } @else { span.muted { "—" } }
                                    }
                                    td {
                                        div.actions {
                                            a.button.small href=(format!("/admin/webhooks/{endpoint_id}/history?job={}", job.id)) { "Deliveries" }
                                            @if !matches!(job.status.as_str(), "completed" | "cancelled") {
                                                button.small.danger type="button" data-api=(format!("POST /api/v1/jobs/{}/cancel", job.id))
                                                    data-confirm="Cancel this send? What has not gone yet will not go."
                                                    data-then="reload" { "Cancel" }
                                            }
                                        }
                                        p.form-error role="alert" data-form-error hidden {}
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// An RFC 3339 time of the admin wire as the console shows times.
fn layout_time(rfc3339: &str) -> Markup {
    match crate::clock::parse_rfc3339(rfc3339) {
        Some(at) => layout::time(at),
        None => html! { (rfc3339) },
    }
}
