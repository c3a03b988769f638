//! Entry screens: the table with search and filters (a plain GET form), CSV export, and one
//! contestant with their entries, verdict overrides and deletion.

use axum::extract::{Path, Query, State};
use maud::{Markup, html};
use serde::Deserialize;

use super::layout::{self, Page, Rendered, Section, page, time};
use super::{ConsoleState, PageError, Viewer};
use crate::answers::ReceiverAnswer;
use crate::clock;
use crate::fraud::Decision;
use crate::store::{EntryFilter, EntryRow};

/// Rows per page.
const PAGE: u32 = 50;

#[derive(Debug, Default, Deserialize)]
pub struct Filters {
    #[serde(default)]
    campaign: String,
    /// An entry method's id.
    #[serde(default)]
    entry_method_id: String,
    #[serde(default)]
    verdict: String,
    #[serde(default)]
    search: String,
    #[serde(default)]
    since: String,
    #[serde(default)]
    until: String,
    #[serde(default)]
    cursor: String,
}

/// `GET /admin/entries?campaign=&verdict=&search=&since=&until=&cursor=`.
pub async fn list(
    State(state): State<ConsoleState>,
    viewer: Viewer,
    Query(filters): Query<Filters>,
) -> Result<Rendered, PageError> {
    let campaigns = state
        .store
        .workspace_campaigns(viewer.workspace.id, None, 200)
        .await?;
    let campaign_id = campaigns
        .iter()
        .find(|campaign| campaign.key.as_str() == filters.campaign)
        .map(|campaign| campaign.id);
    let date = |text: &str, end: bool| {
        (!text.is_empty())
            .then(|| clock::parse_rfc3339(&format!("{text}T00:00:00Z")))
            .flatten()
            .map(|at| if end { at + 24 * 3600 * 1000 } else { at })
    };
    let filter = EntryFilter {
        campaign_id,
        entry_method_id: filters.entry_method_id.trim().parse().ok(),
        verdict: Decision::parse(&filters.verdict),
        since: date(&filters.since, false),
        until: date(&filters.until, true),
        search: Some(filters.search.clone()).filter(|search| !search.trim().is_empty()),
        before: filters.cursor.parse().ok(),
    };
    let rows = state
        .store
        .workspace_entries(viewer.workspace.id, &filter, PAGE)
        .await?;
    let query = |cursor: Option<i64>| {
        let mut pairs = url::form_urlencoded::Serializer::new(String::new());
        for (name, value) in [
            ("campaign", &filters.campaign),
            ("entry_method_id", &filters.entry_method_id),
            ("verdict", &filters.verdict),
            ("search", &filters.search),
        ] {
            if !value.is_empty() {
                pairs.append_pair(name, value);
            }
        }
        if let Some(since) = filter.since {
            pairs.append_pair("since", &clock::rfc3339(since));
        }
        if let Some(until) = filter.until {
            pairs.append_pair("until", &clock::rfc3339(until));
        }
        if let Some(cursor) = cursor {
            pairs.append_pair("cursor", &cursor.to_string());
        }
        pairs.finish()
    };
    let next = (rows.len() == PAGE as usize)
        .then(|| rows.last().map(|row| row.id.0))
        .flatten();
    let mut verdicts = vec![("", "Any verdict")];
    verdicts.extend([
        ("accepted", "Accepted"),
        ("flagged", "Flagged"),
        ("disqualified", "Disqualified"),
    ]);
    Ok(page(
        Page::signed_in("Entries", &viewer.workspace.name, Section::Entries),
        html! {
            div.bar {
                h1 { "Entries" }
                a.button href=(format!("/api/v1/entries/export.csv?{}", query(None))) download { "Export CSV" }
            }
            form.card.filters method="get" action="/admin/entries" role="search" {
                div.field {
                    label for="filter-campaign" { "Campaign" }
                    select #filter-campaign name="campaign" {
                        option value="" { "All campaigns" }
                        @for campaign in &campaigns {
                            option value=(campaign.key) selected[campaign.key.as_str() == filters.campaign] { (campaign.name) }
                        }
                    }
                }
                div.field {
                    label for="filter-method" { "Entry method" }
                    select #filter-method name="entry_method_id" {
                        option value="" { "Any method" }
                        @for campaign in &campaigns {
                            @if !campaign.entry_methods.is_empty() {
                                optgroup label=(campaign.name) {
                                    @for method in &campaign.entry_methods {
                                        option value=(method.id.0) selected[method.id.0.to_string() == filters.entry_method_id] { (method.action) }
                                    }
                                }
                            }
                        }
                    }
                }
                div.field {
                    label for="filter-verdict" { "Fraud verdict" }
                    select #filter-verdict name="verdict" {
                        @for (value, text) in &verdicts {
                            option value=(value) selected[*value == filters.verdict] { (text) }
                        }
                    }
                }
                div.field {
                    label for="filter-since" { "From" }
                    input #filter-since name="since" type="date" value=(filters.since);
                }
                div.field {
                    label for="filter-until" { "To" }
                    input #filter-until name="until" type="date" value=(filters.until);
                }
                div.field {
                    label for="filter-search" { "Email or name" }
                    input #filter-search name="search" type="search" value=(filters.search);
                }
                div.actions { button.primary type="submit" { "Filter" } a href="/admin/entries" { "Clear" } }
            }
            @if rows.is_empty() {
                p.card { "No entries match." }
            } @else {
                div.table-wrap {
                    table.stack #entries {
                        thead { tr { th { "When" } th { "Contestant" } th { "Campaign" } th { "Action" } th { "Entries" } th { "Fraud" } } }
                        tbody {
                            @for row in &rows { (entry_row(row)) }
                        }
                    }
                }
                @if let Some(next) = next {
                    p { a href=(format!("/admin/entries?{}", query(Some(next)))) { "Older entries →" } }
                }
            }
        },
    ))
}

fn verdict_badge(verdict: Decision) -> Markup {
    let class = match verdict {
        Decision::Accepted => "badge good",
        Decision::Flagged => "badge warn",
        Decision::Disqualified => "badge bad",
    };
    html! { span class=(class) { (verdict.as_str()) } }
}

fn entry_row(row: &EntryRow) -> Markup {
    html! {
        tr {
            td data-label="When" { (time(row.created_at)) br; span.muted { "#" (row.id) } }
            td data-label="Contestant" {
                a href=(format!("/admin/contestants/{}", row.contestant_id)) { (row.email) }
                @if !row.name.is_empty() { br; span.muted { (row.name) } }
            }
            td.mono data-label="Campaign" { (row.campaign_key) }
            td data-label="Action" { (row.action) @if !row.value.is_empty() && row.value != row.email { br; span.muted { (row.value) } } }
            td data-label="Entries" { (row.worth) }
            td data-label="Fraud" {
                (verdict_badge(row.verdict))
                @if !row.fraud_reasons.is_empty() { br; span.muted { (row.fraud_reasons.join(", ")) } }
            }
        }
    }
}

/// `GET /admin/contestants/{id}`.
pub async fn contestant(
    State(state): State<ConsoleState>,
    viewer: Viewer,
    Path(id): Path<i64>,
) -> Result<Rendered, PageError> {
    let contestant = state
        .store
        .workspace_contestant(viewer.workspace.id, id)
        .await?
        .ok_or(PageError::NotFound)?;
    let entries = state.store.contestant_entries(id).await?;
    let answers = state.store.contestant_receiver_answers(id).await?;
    Ok(page(
        Page::signed_in(&contestant.email, &viewer.workspace.name, Section::Entries),
        html! {
            p { a href=(format!("/admin/entries?campaign={}", contestant.campaign_key)) { "← Entries of " (contestant.campaign_key) } }
            h1 { (contestant.email) }
            p.form-error role="alert" data-form-error hidden {}
            section.card {
                dl.grid.facts {
                    div { dt { "Name" } dd { (contestant.name) } }
                    div { dt { "Actions done" } dd { (contestant.actions_completed) } }
                    div { dt { "Entries earned" } dd { (contestant.total_entries) } }
                    div { dt { "First seen" } dd { (time(contestant.created_at)) } }
                }
                @if !contestant.details.is_empty() {
                    h2 { "Answers" }
                    dl {
                        @for (question, answer) in &contestant.details {
                            dt { (question) }
                            dd { (answer.as_str().map_or_else(|| answer.to_string(), str::to_owned)) }
                        }
                    }
                }
                div.actions data-scope {
                    button.danger type="button" data-api=(format!("DELETE /api/v1/contestants/{id}"))
                        data-confirm=(format!("Delete {} and everything about them (entries, webhook history)? This cannot be undone.", contestant.email))
                        data-then=(format!("/admin/entries?campaign={}", contestant.campaign_key)) { "Delete contestant and their data" }
                }
            }
            h2 { "Entries" }
            div.table-wrap {
                table {
                    thead { tr { th { "When" } th { "Action" } th { "Entries" } th { "Fraud" } th { "Verdict" } th { "Webhooks" } } }
                    tbody {
                        @for entry in &entries {
                            tr {
                                td { (time(entry.created_at)) }
                                td { (entry.action) }
                                td { (entry.worth) }
                                td {
                                    "score " (entry.fraud_score)
                                    @if !entry.fraud_reasons.is_empty() { br; span.muted { (entry.fraud_reasons.join(", ")) } }
                                    @if let Some(original) = entry.original_verdict { br; span.muted { "filter said " (original.as_str()) } }
                                }
                                td {
                                    form.actions data-api=(format!("PUT /api/v1/entries/{}/verdict", entry.id)) data-then="reload" {
                                        label.skip for=(format!("verdict-{}", entry.id)) { "Verdict" }
                                        select id=(format!("verdict-{}", entry.id)) name="verdict" {
                                            @for verdict in [Decision::Accepted, Decision::Flagged, Decision::Disqualified] {
                                                option value=(verdict.as_str()) selected[verdict == entry.verdict] { (verdict.as_str()) }
                                            }
                                        }
                                        button.small type="submit" { "Set" }
                                        p.field-error data-error-for="verdict" role="alert" hidden {}
                                    }
                                }
                                td data-receiver-answers {
                                    @for answer in answers.iter().filter(|answer| answer.entry_id == entry.id.0) {
                                        @let said = ReceiverAnswer::of(answer.last_status_code.and_then(|code| u16::try_from(code).ok()));
                                        (answer.endpoint_name) " " span.muted.mono { (answer.event_type) } ": "
                                        @if answer.n_attempts == 0 { span.muted { "waiting" } }
                                        @else { span class=(if said == ReceiverAnswer::Error { "badge bad" } else { "badge good" }) data-receiver-answer=(said.as_str()) { (said.as_str()) } }
                                        br;
                                    }
                                    a href=(format!("/admin/deliveries?entry={}", entry.id)) aria-label=(format!("Webhook deliveries of entry {}", entry.id)) { "Deliveries of #" (entry.id) }
                                }
                            }
                        }
                    }
                }
            }
            (layout::form_status())
        },
    ))
}
