//! The History tab (seed 004): every delivery of a webhook (or of every webhook), filtered
//! by outcome, event and entry, each with every attempt, the request it sent and the
//! answer; retry one, retry all failed. The table refreshes itself while the page is open
//! (`data-live`), so a person watches a retry go through.

use axum::extract::{Path, Query, State};
use maud::{Markup, html};
use protocol::admin::webhooks::RequestRecord;
use protocol::ids::DeliveryId;
use serde::Deserialize;

use super::layout::{Page, Rendered, Section, page, time};
use super::webhooks::{self, ListTab, Tab, endpoint_view, list_tabs};
use super::{ConsoleState, PageError, Viewer};
use crate::answers::{self, ReceiverAnswer};
use crate::delivery::SAME_BODY;
use crate::endpoints::DataSourceSettings;
use crate::store::{AttemptRecord, DeliveryFilter, DeliveryRecord, EndpointRecord};

/// Rows per page.
const PAGE: u32 = 50;

const OUTCOMES: [(&str, &str); 4] = [
    ("", "Any outcome"),
    ("delivered", "Delivered"),
    ("failed", "Failed (given up or cancelled)"),
    ("pending", "Waiting (to be tried, or held)"),
];

#[derive(Debug, Default, Deserialize)]
pub struct Filters {
    #[serde(default)]
    outcome: String,
    #[serde(default)]
    event: String,
    #[serde(default)]
    entry: String,
    /// A webhook's id (the all-deliveries page only).
    #[serde(default)]
    webhook: String,
    /// A job's id: the deliveries it made.
    #[serde(default)]
    job: String,
    #[serde(default)]
    cursor: String,
}

impl Filters {
    fn query(&self, cursor: Option<i64>) -> String {
        let mut pairs = url::form_urlencoded::Serializer::new(String::new());
        for (name, value) in [
            ("outcome", &self.outcome),
            ("event", &self.event),
            ("entry", &self.entry),
            ("webhook", &self.webhook),
            ("job", &self.job),
        ] {
            if !value.is_empty() {
                pairs.append_pair(name, value);
            }
        }
        if let Some(cursor) = cursor {
            pairs.append_pair("cursor", &cursor.to_string());
        }
        pairs.finish()
    }

    fn store_filter(&self, endpoint_id: Option<i64>, job_id: Option<i64>) -> DeliveryFilter {
        DeliveryFilter {
            endpoint_id,
            event_type: Some(self.event.clone()).filter(|event| !event.is_empty()),
            entry_id: self.entry.trim().parse().ok(),
            outcome: Some(self.outcome.clone()).filter(|outcome| {
                OUTCOMES
                    .iter()
                    .any(|(value, _)| !value.is_empty() && value == outcome)
            }),
            since: None,
            until: None,
            job_id,
            before: self.cursor.parse().ok(),
        }
    }
}

/// `GET /admin/webhooks/{id}/history?outcome=&event=&entry=&cursor=`.
pub async fn endpoint_history(
    State(state): State<ConsoleState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Query(filters): Query<Filters>,
) -> Result<Rendered, PageError> {
    let record = webhooks::find(&state, &viewer, &id).await?;
    let endpoint = endpoint_view(&state.store, viewer.workspace.id, &record).await?;
    let job_id = job_row(&state, &viewer, &filters).await?;
    let deliveries = state
        .store
        .workspace_deliveries(
            viewer.workspace.id,
            &filters.store_filter(Some(record.id), job_id),
            PAGE,
        )
        .await?;
    let path = format!("/admin/webhooks/{}/history", endpoint.id);
    Ok(page(
        Page::signed_in(&endpoint.name, &viewer.workspace.name, Section::Webhooks),
        html! {
            (webhooks::header(&endpoint, Tab::History))
            (filter_form(&path, &filters, None))
            p.form-error role="alert" data-form-error hidden {}
            @if record.deleted_at.is_none() {
                div.actions.spaced data-scope {
                    button type="button" data-api=(format!("POST /api/v1/endpoints/{}/retry-failed", endpoint.id))
                        data-body=r#"{"since":"1970-01-01T00:00:00Z"}"#
                        data-confirm="Send every failed delivery of this webhook again now?"
                        data-then="reload" { "Retry all failed" }
                    span.muted { "Deliveries given up after their last try go again now, in order." }
                }
            }
            (table(&path, &filters, &deliveries, false))
        },
    ))
}

/// `GET /admin/deliveries?webhook=&outcome=&event=&entry=&cursor=`: every webhook's.
pub async fn all(
    State(state): State<ConsoleState>,
    viewer: Viewer,
    Query(filters): Query<Filters>,
) -> Result<Rendered, PageError> {
    let endpoints = state
        .store
        .workspace_endpoints(viewer.workspace.id, false, None, 200)
        .await?;
    let endpoint_id = match filters.webhook.as_str() {
        "" => None,
        id => Some(webhooks::find(&state, &viewer, id).await?.id),
    };
    let job_id = job_row(&state, &viewer, &filters).await?;
    let deliveries = state
        .store
        .workspace_deliveries(
            viewer.workspace.id,
            &filters.store_filter(endpoint_id, job_id),
            PAGE,
        )
        .await?;
    Ok(page(
        Page::signed_in("All deliveries", &viewer.workspace.name, Section::Webhooks),
        html! {
            div.bar { h1 { "All deliveries" } }
            (list_tabs(ListTab::History))
            (filter_form("/admin/deliveries", &filters, Some(&endpoints)))
            p.form-error role="alert" data-form-error hidden {}
            (table("/admin/deliveries", &filters, &deliveries, true))
        },
    ))
}

/// The row id of the job the filters name, if they name one (another workspace's, or none,
/// is the not-found page).
async fn job_row(
    state: &ConsoleState,
    viewer: &Viewer,
    filters: &Filters,
) -> Result<Option<i64>, PageError> {
    if filters.job.is_empty() {
        return Ok(None);
    }
    let job = state
        .store
        .workspace_job(viewer.workspace.id, &filters.job)
        .await?
        .ok_or(PageError::NotFound)?;
    Ok(Some(job.id))
}

fn filter_form(path: &str, filters: &Filters, endpoints: Option<&[EndpointRecord]>) -> Markup {
    let mut events = vec![("", "Any event")];
    events.extend(
        protocol::payload::EventType::ALL
            .iter()
            .map(|event| (event.as_str(), event.as_str())),
    );
    html! {
        form.card.filters method="get" action=(path) role="search" aria-label="Filter deliveries" {
            @if let Some(endpoints) = endpoints {
                div.field {
                    label for="filter-webhook" { "Webhook" }
                    select #filter-webhook name="webhook" {
                        option value="" { "Every webhook" }
                        @for endpoint in endpoints {
                            option value=(endpoint.public_id) selected[endpoint.public_id.as_str() == filters.webhook] { (endpoint.name) }
                        }
                    }
                }
            }
            div.field {
                label for="filter-outcome" { "Outcome" }
                select #filter-outcome name="outcome" {
                    @for (value, text) in OUTCOMES { option value=(value) selected[value == filters.outcome] { (text) } }
                }
            }
            div.field {
                label for="filter-event" { "Event" }
                select #filter-event name="event" {
                    @for (value, text) in &events { option value=(value) selected[*value == filters.event] { (text) } }
                }
            }
            div.field {
                label for="filter-entry" { "Entry number" }
                input #filter-entry name="entry" type="text" inputmode="numeric" value=(filters.entry) placeholder="e.g. 1042";
            }
            @if !filters.job.is_empty() {
                div.field {
                    label for="filter-job" { "Send" }
                    input #filter-job name="job" type="text" value=(filters.job) readonly;
                }
            }
            div.actions { button.primary type="submit" { "Filter" } a href=(path) { "Clear" } }
        }
    }
}

fn status_badge(status: &str) -> Markup {
    let class = match status {
        "delivered" => "badge good",
        "failed" => "badge bad",
        "pending" | "held" => "badge warn",
        _ => "badge",
    };
    let text = match status {
        "pending" => "waiting",
        "held" => "held for the fraud check",
        "failed" => "failed",
        other => other,
    };
    html! { span class=(class) data-status=(status) { (text) } }
}

/// What the receiver's latest answer says (Gleam's reading): new, existing, or an error.
fn receiver_answer(delivery: &DeliveryRecord) -> Markup {
    let status = delivery
        .last_status_code
        .and_then(|code| u16::try_from(code).ok());
    let answer = ReceiverAnswer::of(status);
    let class = match answer {
        ReceiverAnswer::New => "badge good",
        ReceiverAnswer::Existing => "badge",
        ReceiverAnswer::Error => "badge bad",
    };
    html! {
        @if delivery.n_attempts == 0 {
            span.muted { "—" }
        } @else {
            span class=(class) data-receiver-answer=(answer.as_str()) { (answer.as_str()) }
        }
    }
}

/// The last try's answer in words: `500`, or the error kind.
fn last_answer(delivery: &DeliveryRecord) -> Markup {
    html! {
        @match (delivery.last_status_code, &delivery.last_error_kind) {
            (Some(code), _) => { span.mono data-last-status=(code) { (code) } }
            (None, Some(kind)) => { span.mono { (kind) } }
            (None, None) => { span.muted { "not tried yet" } }
        }
    }
}

fn delivery_id(delivery: &DeliveryRecord) -> String {
    DeliveryId::from_suffix(&delivery.id.to_string()).to_string()
}

/// The deliveries, refreshed while the page is open (the first page only: later pages hold
/// older, settled deliveries).
fn table(
    path: &str,
    filters: &Filters,
    deliveries: &[DeliveryRecord],
    with_endpoint: bool,
) -> Markup {
    let next = (deliveries.len() == PAGE as usize)
        .then(|| deliveries.last().map(|delivery| delivery.id))
        .flatten();
    html! {
        div #history data-live[filters.cursor.is_empty()] aria-live="polite" {
            @if deliveries.is_empty() {
                p.card { "No deliveries match yet. Each event this webhook takes (a new entry, a subscriber…) shows here with every try." }
            } @else {
                div.table-wrap {
                    table.stack #deliveries {
                        thead { tr {
                            th { "When" } th { "Event" } th { "Entry" }
                            @if with_endpoint { th { "Webhook" } }
                            th { "Status" } th { "Tries" } th { "Last answer" } th { "Receiver says" } th { "Next try" } th { span.skip { "Actions" } }
                        } }
                        tbody {
                            @for delivery in deliveries {
                                @let id = delivery_id(delivery);
                                tr data-delivery=(id) data-scope {
                                    td data-label="When" { a href=(format!("/admin/deliveries/{id}")) { (time(delivery.created_at)) } }
                                    td.mono data-label="Event" { (delivery.event_type) }
                                    td data-label="Entry" { @if let Some(entry) = delivery.entry_id { "#" (entry) } @else { span.muted { "—" } } }
                                    @if with_endpoint {
                                        td data-label="Webhook" { a href=(format!("/admin/webhooks/{}", delivery.endpoint_public_id)) { (delivery.endpoint_public_id) } }
                                    }
                                    td data-label="Status" { (status_badge(&delivery.status)) }
                                    td data-label="Tries" { (delivery.n_attempts) }
                                    td data-label="Last answer" { (last_answer(delivery)) }
                                    td data-label="Receiver says" { (receiver_answer(delivery)) }
                                    td data-label="Next try" {
                                        @if matches!(delivery.status.as_str(), "pending" | "held") { (time(delivery.next_attempt_at)) }
                                        @else { span.muted { "—" } }
                                    }
                                    td {
                                        div.actions {
                                            a.button.small href=(format!("/admin/deliveries/{id}")) aria-label=(format!("Details of delivery {id}")) { "Details" }
                                            button.small type="button" data-api=(format!("POST /api/v1/deliveries/{id}/retry"))
                                                data-then="reload" aria-label=(format!("Retry delivery {id}")) { "Retry" }
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
        @if let Some(next) = next {
            p { a href=(format!("{path}?{}", filters.query(Some(next)))) { "Older deliveries →" } }
        }
    }
}

/// `GET /admin/deliveries/{dlv_id}`: one delivery, its body and every try.
pub async fn detail(
    State(state): State<ConsoleState>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> Result<Rendered, PageError> {
    let row = id
        .strip_prefix(DeliveryId::PREFIX)
        .and_then(|n| n.parse::<i64>().ok())
        .ok_or(PageError::NotFound)?;
    let (delivery, body) = state
        .store
        .workspace_delivery(viewer.workspace.id, row)
        .await?
        .ok_or(PageError::NotFound)?;
    let record = webhooks::find(&state, &viewer, &delivery.endpoint_public_id).await?;
    let endpoint = endpoint_view(&state.store, viewer.workspace.id, &record).await?;
    let attempts = state.store.delivery_attempts(row).await?;
    let waiting = matches!(delivery.status.as_str(), "pending" | "held");
    // A data source's answer: the fields the contestant was shown, from its first 2xx answer.
    let answer_fields = DataSourceSettings::of(&record).and_then(|settings| {
        attempts
            .iter()
            .find(|attempt| {
                attempt
                    .status_code
                    .is_some_and(|code| (200..300).contains(&code))
            })
            .map(|attempt| {
                answers::chosen_fields(&attempt.response_snippet, &settings.fields)
                    .unwrap_or_default()
            })
    });
    Ok(page(
        Page::signed_in(&endpoint.name, &viewer.workspace.name, Section::Webhooks),
        html! {
            (webhooks::header(&endpoint, Tab::History))
            p { a href=(format!("/admin/webhooks/{}/history", endpoint.id)) { "← All deliveries of " (endpoint.name) } }
            div #delivery data-live[waiting] aria-live="polite" {
                section.card data-scope {
                    h2 { "Delivery " span.mono { (id) } " " (status_badge(&delivery.status)) }
                    dl.grid.facts {
                        div { dt { "Event" } dd.mono { (delivery.event_type) } }
                        div { dt { "Entry" } dd { @if let Some(entry) = delivery.entry_id { "#" (entry) } @else { "—" } } }
                        div { dt { "webhook-id" } dd.mono { (delivery.webhook_id) } }
                        div { dt { "Made" } dd { (time(delivery.created_at)) } }
                        div { dt { "Tries" } dd { (delivery.n_attempts) } }
                        div { dt { "Receiver says" } dd { (receiver_answer(&delivery)) } }
                        @if let Some(job) = &delivery.job_public_id {
                            div { dt { "Made by the send" } dd.mono { (job) } }
                        }
                        @if let Some(fields) = &answer_fields {
                            div { dt { "Answer for the contestant" } dd data-answer-fields {
                                @if fields.is_empty() { span.muted { "none of the fields" } }
                                @for (name, value) in fields { span.mono { (name) } " = " strong { (value) } br; }
                            } }
                        }
                        @if let Some(at) = delivery.delivered_at { div { dt { "Delivered" } dd { (time(at)) } } }
                        @if waiting { div { dt { "Next try" } dd { (time(delivery.next_attempt_at)) } } }
                    }
                    p.form-error role="alert" data-form-error hidden {}
                    div.actions {
                        button.primary type="button" data-api=(format!("POST /api/v1/deliveries/{id}/retry")) data-then="reload" { "Retry now" }
                        span.muted { "Sends it again now with the same webhook-id, even if it was delivered or given up." }
                    }
                }
                h2 { "Tries" }
                @if attempts.is_empty() {
                    p.card { "Not tried yet." }
                }
                ol.attempts {
                    @for (index, attempt) in attempts.iter().enumerate().rev() {
                        li.card data-attempt=(index + 1) {
                            (attempt_view(index + 1, attempt, &body))
                        }
                    }
                }
                details.card {
                    summary { "The body, as made when the event happened" }
                    pre.request { (pretty(&body)) }
                }
            }
        },
    ))
}

fn attempt_view(number: usize, attempt: &AttemptRecord, body: &str) -> Markup {
    let succeeded = attempt
        .status_code
        .is_some_and(|code| (200..300).contains(&code));
    html! {
        h3 {
            "Try " (number) " — "
            @match (attempt.status_code, &attempt.error_kind) {
                (Some(code), _) => { span class=(if succeeded { "badge good" } else { "badge bad" }) data-outcome=(if succeeded { "success" } else { "failure" }) { (code) } }
                (None, Some(kind)) => { span.badge.bad data-outcome="failure" { (kind) } }
                (None, None) => { span.badge { "no answer" } }
            }
            " in " (attempt.latency_ms) " ms"
        }
        p.muted {
            (time(attempt.started_at))
            @if attempt.batch_size > 1 { " · a batch of " (attempt.batch_size) " deliveries" }
        }
        div.grid.exchange {
            div {
                h4 { "Request" }
                @match attempt.request.as_deref().and_then(|stored| request_record(stored, body)) {
                    Some(request) => { pre.request { (request_text(&request)) } }
                    None => { p.muted { "Not recorded." } }
                }
            }
            div {
                h4 { "Response" }
                @if attempt.response_snippet.is_empty() {
                    p.muted { @if attempt.error_kind.is_some() { "No answer came." } @else { "(empty)" } }
                } @else {
                    pre.response { (attempt.response_snippet) }
                }
            }
        }
    }
}

/// A recorded request, with the delivery's `body` put back where it was left out (as the
/// admin API's history does).
fn request_record(stored: &str, body: &str) -> Option<RequestRecord> {
    let value: serde_json::Value = serde_json::from_str(stored).ok()?;
    let same_body = value.get(SAME_BODY).and_then(serde_json::Value::as_bool) == Some(true);
    let mut request: RequestRecord = serde_json::from_value(value).ok()?;
    if same_body {
        body.clone_into(&mut request.body);
    }
    Some(request)
}

/// The request as text: the request line, the headers, a blank line, the body (the same
/// layout the script uses for tests and examples).
pub(super) fn request_text(request: &RequestRecord) -> String {
    let mut text = format!("{} {}\n", request.method, request.url);
    for header in &request.headers {
        text.push_str(&format!("{}: {}\n", header.name, header.value));
    }
    text.push('\n');
    text.push_str(&request.body);
    if request.body_truncated {
        text.push_str("\n[cut at 64 KiB]");
    }
    text
}

/// JSON indented for reading; anything else as it is.
fn pretty(body: &str) -> String {
    serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|value| serde_json::to_string_pretty(&value).ok())
        .unwrap_or_else(|| body.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_left_without_its_body_gets_the_deliverys() {
        let stored = serde_json::json!({
            "method": "POST", "url": "https://example.com/h",
            "headers": [{"name": "webhook-id", "value": "msg_1"}],
            "body": "", SAME_BODY: true,
        })
        .to_string();
        let request = request_record(&stored, "{\"a\":1}").expect("a request");
        assert_eq!(
            request_text(&request),
            "POST https://example.com/h\nwebhook-id: msg_1\n\n{\"a\":1}"
        );
        let own = serde_json::json!({
            "method": "POST", "url": "https://example.com/h", "headers": [], "body": "[1]",
        })
        .to_string();
        assert_eq!(
            request_record(&own, "{}").map(|request| request.body),
            Some("[1]".to_owned())
        );
    }
}
