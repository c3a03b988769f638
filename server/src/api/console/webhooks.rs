//! Webhook screens (seeds 002 and 004): the list with status and recent success rate, the
//! deleted ones and restoring them; one webhook's Settings tab (every setting of the delivery
//! engine, the test on save, Send test, the signing secret's rotation, delete) and its
//! Example tab. The History tab is in `history.rs`, auth connectors in `connectors.rs`.

use axum::extract::{Path, Query, State};
use maud::{Markup, html};
use protocol::admin::webhooks::Endpoint;
use protocol::payload::EventType;
use serde::Deserialize;

use super::layout::{self, Page, Rendered, Section, checkbox, field, page, text_field, time};
use super::{ConsoleState, PageError, Viewer};
use crate::clock;
use crate::store::{AuthConnectorRecord, CampaignRecord, EndpointRecord, EntryFilter, Store};

/// How far back the list's success rate looks (as the admin API's).
const STATS_WINDOW_MS: i64 = 24 * 3600 * 1000;
/// Most webhooks, campaigns or connectors a page lists.
const MOST: u32 = 200;

/// What each event means, in the order the form lists them.
const EVENTS: [(EventType, &str); 6] = [
    (
        EventType::EntryCreated,
        "Every action a contestant completes, at once.",
    ),
    (
        EventType::SubscriberCreated,
        "An email subscription that passed the fraud filter's hold window.",
    ),
    (
        EventType::CaptureCreated,
        "A Capture campaign's form was sent.",
    ),
    (
        EventType::EntryDisqualified,
        "The fraud filter disqualified an entry.",
    ),
    (
        EventType::RewardUnlocked,
        "A contestant unlocked a Reward campaign's reward.",
    ),
    (
        EventType::ConversionReceived,
        "A conversion arrived on one of your streams.",
    ),
];

const METHODS: [(&str, &str); 4] = [
    ("POST", "POST"),
    ("PUT", "PUT"),
    ("PATCH", "PATCH"),
    ("GET", "GET (the data goes in the query)"),
];

const CONTENT_TYPES: [(&str, &str); 4] = [
    ("json", "JSON (application/json)"),
    ("form", "Form (application/x-www-form-urlencoded)"),
    ("xml", "XML (application/xml)"),
    ("text", "Text (text/plain)"),
];

/// An endpoint of the viewer's workspace as the admin API shows it (its campaigns by key,
/// its connector by id, the last 24 hours' success rate).
pub(super) async fn endpoint_view(
    store: &Store,
    workspace_id: i64,
    record: &EndpointRecord,
) -> Result<Endpoint, PageError> {
    let campaigns = match &record.campaign_ids {
        None => None,
        Some(ids) => {
            let keys = store.workspace_campaign_keys(workspace_id).await?;
            Some(
                ids.iter()
                    .filter_map(|id| {
                        keys.iter()
                            .find(|(candidate, _)| candidate == id)
                            .map(|(_, key)| key.clone())
                    })
                    .collect(),
            )
        }
    };
    let connector = match record.auth_connector_id {
        Some(id) => store.auth_connector(id).await?.map(|c| c.public_id),
        None => None,
    };
    let stats = store
        .endpoint_attempt_stats(record.id, clock::now_millis() - STATS_WINDOW_MS)
        .await?;
    Ok(crate::endpoints::endpoint_wire(
        record, campaigns, connector, stats,
    ))
}

/// The viewer's endpoint `id` (deleted ones too), or the not-found page.
pub(super) async fn find(
    state: &ConsoleState,
    viewer: &Viewer,
    id: &str,
) -> Result<EndpointRecord, PageError> {
    state
        .store
        .workspace_endpoint(viewer.workspace.id, id)
        .await?
        .ok_or(PageError::NotFound)
}

/// The tabs under Webhooks: the live ones, the deleted ones, auth connectors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ListTab {
    Live,
    Deleted,
    Connectors,
    History,
}

pub(super) fn list_tabs(current: ListTab) -> Markup {
    let tab = |tab: ListTab, href: &str, text: &str| {
        html! { a href=(href) aria-current=[(tab == current).then_some("page")] { (text) } }
    };
    html! {
        nav.tabs aria-label="Webhooks" {
            (tab(ListTab::Live, "/admin/webhooks", "Webhooks"))
            (tab(ListTab::History, "/admin/deliveries", "All deliveries"))
            (tab(ListTab::Connectors, "/admin/connectors", "Auth connectors"))
            (tab(ListTab::Deleted, "/admin/webhooks?deleted=true", "Deleted"))
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    deleted: bool,
}

/// `GET /admin/webhooks` (`?deleted=true`: the deleted ones, to restore).
pub async fn list(
    State(state): State<ConsoleState>,
    viewer: Viewer,
    Query(query): Query<ListQuery>,
) -> Result<Rendered, PageError> {
    let records = state
        .store
        .workspace_endpoints(viewer.workspace.id, query.deleted, None, MOST)
        .await?;
    let mut endpoints = Vec::with_capacity(records.len());
    for record in &records {
        endpoints.push((
            record,
            endpoint_view(&state.store, viewer.workspace.id, record).await?,
        ));
    }
    let title = if query.deleted {
        "Deleted webhooks"
    } else {
        "Webhooks"
    };
    Ok(page(
        Page::signed_in(title, &viewer.workspace.name, Section::Webhooks),
        html! {
            div.bar {
                h1 { (title) }
                a.button.primary href="/admin/webhooks/new" { "New webhook" }
            }
            (list_tabs(if query.deleted { ListTab::Deleted } else { ListTab::Live }))
            p.form-error role="alert" data-form-error hidden {}
            @if endpoints.is_empty() {
                @if query.deleted {
                    p.card { "No deleted webhooks." }
                } @else {
                    div.card {
                        p { "A webhook sends each event you choose (a new entry, a subscriber, a reward…) to your server, your CRM or a tool such as Zapier, as it happens." }
                        p { a href="/admin/webhooks/new" { "Make the first one." } }
                    }
                }
            } @else if query.deleted {
                (deleted_table(&endpoints))
            } @else {
                (live_table(&endpoints))
            }
        },
    ))
}

fn live_table(endpoints: &[(&EndpointRecord, Endpoint)]) -> Markup {
    html! {
        div.table-wrap {
            table.stack #webhooks {
                thead { tr { th { "Name" } th { "Sends" } th { "Status" } th { "Success, last 24 h" } th { span.skip { "Actions" } } } }
                tbody {
                    @for (_, endpoint) in endpoints {
                        tr data-endpoint=(endpoint.id) {
                            td {
                                a href=(format!("/admin/webhooks/{}", endpoint.id)) { (endpoint.name) }
                                @if !endpoint.description.is_empty() { br; span.muted { (endpoint.description) } }
                                br; span.mono.muted.url { (endpoint.method) " " (endpoint.url) }
                            }
                            td data-label="Sends" {
                                (endpoint.events.join(", "))
                                br; span.muted {
                                    @match &endpoint.campaigns {
                                        None => { "every campaign" }
                                        Some(keys) => { (keys.iter().map(protocol::ids::CampaignKey::as_str).collect::<Vec<_>>().join(", ")) }
                                    }
                                }
                            }
                            td data-label="Status" { (status_badge(endpoint)) @if let Some(reason) = disabled_text(endpoint) { br; span.muted data-disabled-reason { (reason) } } }
                            td data-success-rate data-label="Success, last 24 h" { (success_text(endpoint)) }
                            td {
                                div.actions {
                                    a.button.small href=(format!("/admin/webhooks/{}/history", endpoint.id)) { "History" }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn deleted_table(endpoints: &[(&EndpointRecord, Endpoint)]) -> Markup {
    html! {
        p.muted { "A deleted webhook sends nothing; its pending deliveries were cancelled. Restoring it brings back its settings; cancelled deliveries stay cancelled (retry them from its History)." }
        div.table-wrap {
            table #deleted-webhooks {
                thead { tr { th { "Name" } th { "URL" } th { "Deleted" } th { span.skip { "Actions" } } } }
                tbody {
                    @for (record, endpoint) in endpoints {
                        tr data-endpoint=(endpoint.id) data-scope {
                            td { a href=(format!("/admin/webhooks/{}", endpoint.id)) { (endpoint.name) } }
                            td.mono { (endpoint.url) }
                            td { @if let Some(at) = record.deleted_at { (time(at)) } }
                            td {
                                button.small type="button" data-api=(format!("POST /api/v1/endpoints/{}/restore", endpoint.id))
                                    data-then=(format!("/admin/webhooks/{}", endpoint.id)) { "Restore" }
                            }
                        }
                    }
                }
            }
        }
    }
}

pub(super) fn status_badge(endpoint: &Endpoint) -> Markup {
    html! {
        @if endpoint.deleted_at.is_some() {
            span.badge data-status="deleted" { "deleted" }
        } @else if endpoint.disabled.is_some() {
            span.badge.bad data-status="disabled" { "disabled" }
        } @else if endpoint.status == "active" {
            span.badge.good data-status="active" { "active" }
        } @else {
            span.badge.warn data-status="inactive" { "inactive" }
        }
    }
}

/// Why delivery turned the endpoint off, in words.
fn disabled_text(endpoint: &Endpoint) -> Option<String> {
    let disabled = endpoint.disabled.as_ref()?;
    let why = match disabled.reason.as_str() {
        "gone" => "It answered 410 Gone, which asks to stop sending.".to_owned(),
        "failing" => format!(
            "It kept failing ({} failures in a row).",
            endpoint.consecutive_failures
        ),
        other => format!("Delivery turned it off ({other})."),
    };
    Some(why)
}

fn success_text(endpoint: &Endpoint) -> Markup {
    html! {
        @match endpoint.success_rate {
            None => { span.muted { "no tries yet" } }
            Some(rate) => {
                @let percent = (rate * 100.0).round();
                span class=(if rate >= 0.95 { "badge good" } else if rate >= 0.5 { "badge warn" } else { "badge bad" }) {
                    (format!("{percent:.0}%"))
                }
                " of " (endpoint.attempts_last_24h) @if endpoint.attempts_last_24h == 1 { " try" } @else { " tries" }
                @if endpoint.consecutive_failures > 0 {
                    br; span.muted { (endpoint.consecutive_failures) " failed in a row" }
                }
            }
        }
    }
}

/// `GET /admin/webhooks/new`.
pub async fn new_page(
    State(state): State<ConsoleState>,
    viewer: Viewer,
) -> Result<Rendered, PageError> {
    let choices = Choices::load(&state.store, viewer.workspace.id).await?;
    Ok(page(
        Page::signed_in("New webhook", &viewer.workspace.name, Section::Webhooks),
        html! {
            p { a href="/admin/webhooks" { "← Webhooks" } }
            h1 { "New webhook" }
            (endpoint_form(None, &choices))
            section.card.secret #created hidden aria-live="polite" {
                h2 { "Webhook created" }
                p { "Its signing secret, to verify that requests come from Hookline (Standard Webhooks). Copy it now: it is not shown again (you can rotate it for a new one)." }
                p { code #created-secret data-value {} " " (layout::copy_button("created-secret")) }
                p { a.button.primary #created-link data-fill-href="/admin/webhooks/{endpoint.id}" href="/admin/webhooks" { "Open the webhook" } }
            }
            div #save-outcome aria-live="polite" hidden {}
            (connector_dialog())
        },
    ))
}

/// What the form offers to choose from.
struct Choices {
    campaigns: Vec<CampaignRecord>,
    connectors: Vec<AuthConnectorRecord>,
}

impl Choices {
    async fn load(store: &Store, workspace_id: i64) -> Result<Self, PageError> {
        Ok(Self {
            campaigns: store.workspace_campaigns(workspace_id, None, MOST).await?,
            connectors: store
                .workspace_auth_connectors(workspace_id, None, MOST)
                .await?,
        })
    }
}

/// The form of every setting: empty for a new webhook, else `endpoint`'s.
fn endpoint_form(endpoint: Option<&Endpoint>, choices: &Choices) -> Markup {
    let api = match endpoint {
        None => "POST /api/v1/endpoints".to_owned(),
        Some(endpoint) => format!("PATCH /api/v1/endpoints/{}", endpoint.id),
    };
    let events: Vec<&str> = endpoint.map_or_else(
        || vec!["entry.created"],
        |endpoint| endpoint.events.iter().map(String::as_str).collect(),
    );
    let campaigns: Vec<&str> = endpoint
        .and_then(|endpoint| endpoint.campaigns.as_ref())
        .map(|keys| {
            keys.iter()
                .map(protocol::ids::CampaignKey::as_str)
                .collect()
        })
        .unwrap_or_default();
    let text = |value: Option<String>| value.unwrap_or_default();
    let number = |value: Option<u32>| value.map(|n| n.to_string()).unwrap_or_default();
    let headers: String = endpoint
        .map(|endpoint| {
            endpoint
                .headers
                .iter()
                .map(|(name, value)| format!("{name}: {value}\n"))
                .collect()
        })
        .unwrap_or_default();
    let connector = endpoint
        .and_then(|endpoint| endpoint.auth_connector_id.as_ref())
        .map(|id| id.as_str().to_owned())
        .unwrap_or_default();
    let retry = endpoint.map(|endpoint| {
        endpoint
            .retry_schedule
            .iter()
            .map(u32::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    });
    let deleted = endpoint.is_some_and(|endpoint| endpoint.deleted_at.is_some());
    html! {
        form.card #webhook-form data-api=(api) data-outcome="#save-outcome"
            data-reveal=[endpoint.is_none().then_some("#created")]
            data-reveal-field=[endpoint.is_none().then_some("signing_secret")]
            data-hide-on-success[endpoint.is_none()]
            data-ok="Saved." novalidate {
            (layout::form_status())
            fieldset disabled[deleted] {
                legend { "About" }
                (text_field("Name", "name", &text(endpoint.map(|e| e.name.clone())), Some("Shown in lists, e.g. CRM contacts.")))
                (field("Description", "description", None, html! {
                    textarea #(layout::id("description")) name="description" rows="2" { (text(endpoint.map(|e| e.description.clone()))) }
                }))
            }
            fieldset disabled[deleted] {
                legend { "When it sends" }
                div.field role="group" aria-labelledby="events-label" {
                    p.label #events-label { "Events" }
                    @for (event, meaning) in EVENTS {
                        div.check {
                            input type="checkbox" name="events" data-type="list" value=(event.as_str())
                                id=(format!("event-{}", event.as_str().replace('.', "-")))
                                checked[events.contains(&event.as_str())];
                            label for=(format!("event-{}", event.as_str().replace('.', "-"))) {
                                span.mono { (event.as_str()) } " — " (meaning)
                            }
                        }
                    }
                    p.field-error data-error-for="events" role="alert" hidden {}
                }
                div.field #campaign-fields role="group" aria-labelledby="campaigns-label" {
                    p.label #campaigns-label { "Campaigns" }
                    @if choices.campaigns.is_empty() {
                        p.hint { "Every campaign (you have none yet)." }
                    }
                    @for campaign in &choices.campaigns {
                        div.check {
                            input type="checkbox" name="campaigns" data-type="list" data-empty="null" value=(campaign.key)
                                id=(format!("campaign-{}", campaign.key)) checked[campaigns.contains(&campaign.key.as_str())];
                            label for=(format!("campaign-{}", campaign.key)) { (campaign.name) " " span.mono.muted { (campaign.key) } }
                        }
                    }
                    p.hint { "None ticked: every campaign, including those you make later." }
                    p.field-error data-error-for="campaigns" role="alert" hidden {}
                }
            }
            (audience_fields(endpoint, deleted))
            fieldset disabled[deleted] {
                legend { "The request" }
                (field("URL", "url", Some("Where to send, https://… Variables such as {{user.email}} may go in the path and query."), html! {
                    input #(layout::id("url")) name="url" type="text" inputmode="url" spellcheck="false" autocomplete="off"
                        value=(text(endpoint.map(|e| e.url.clone())))
                        data-send=[endpoint.is_some_and(|e| e.url_has_credentials).then_some("changed")]
                        placeholder="https://hooks.example.com/hookline";
                }))
                @if endpoint.is_some_and(|e| e.url_has_credentials) {
                    p.hint { "This URL carries a user name and password, which are never shown. Leave it as it is to keep them." }
                }
                div.grid {
                    (layout::select("Method", "method", &METHODS, endpoint.map_or("POST", |e| e.method.as_str())))
                    (layout::select("Content type", "content_type", &CONTENT_TYPES, endpoint.map_or("json", |e| e.content_type.as_str())))
                }
                (field("Headers", "headers", Some("One per line: Name: value. Values may use variables."), html! {
                    textarea #(layout::id("headers")) name="headers" data-type="headers" rows="3" spellcheck="false"
                        placeholder="X-Api-Version: 2" { (headers) }
                }))
                (field("Authentication", "auth_connector_id", Some("Credentials kept encrypted and shared by webhooks: sent as the Authorization header (Basic, Bearer) or your API key header."), html! {
                    div.inline {
                        select #(layout::id("auth_connector_id")) name="auth_connector_id" data-type="nullable" {
                            option value="" selected[connector.is_empty()] { "None" }
                            @for candidate in &choices.connectors {
                                option value=(candidate.public_id) selected[candidate.public_id.as_str() == connector] {
                                    (candidate.name) " (" (candidate.kind) ")"
                                }
                            }
                        }
                        button.small type="button" data-open-dialog="#new-connector" { "New connector" }
                    }
                }))
                (field("Body", "body_template", Some("Empty: the content type's standard body (see the Example tab). Or write your own, in the content type's syntax, with variables; a form body is one name={{…}} pair a line."), html! {
                    textarea #(layout::id("body_template")) name="body_template" data-type="nullable" rows="8" spellcheck="false"
                        placeholder="{\"email\": \"{{user.email}}\", \"name\": \"{{user.name}}\"}" {
                        (text(endpoint.and_then(|e| e.body_template.clone())))
                    }
                }))
                (variables_help())
            }
            fieldset disabled[deleted] {
                legend { "Delivery" }
                (checkbox("Strict order: later deliveries wait until the earliest pending one succeeds (or is given up), then go one at a time", "strict_order", endpoint.is_some_and(|e| e.strict_order)))
                div.grid {
                    (field("Events per request", "batching", Some("Empty: one event per request. A number: up to that many waiting events in one request, a JSON array."), html! {
                        input #(layout::id("batching")) name="batching" type="number" min="1" data-type="number" data-empty="null" data-wrap="max_events"
                            value=(number(endpoint.and_then(|e| e.batching.map(|b| b.max_events))));
                    }))
                    (field("Retry schedule (seconds)", "retry_schedule", Some("Waits after the 1st, 2nd… failure; the last repeats. Empty: 60, 120, 240, 480, 3600."), html! {
                        input #(layout::id("retry_schedule")) name="retry_schedule" type="text" data-type="numbers" inputmode="numeric"
                            value=(text(retry));
                    }))
                    (field("Tries before giving up", "max_attempts", Some("Empty: 40."), html! {
                        input #(layout::id("max_attempts")) name="max_attempts" type="number" min="1" data-type="number" data-empty="null"
                            value=(number(endpoint.map(|e| e.max_attempts)));
                    }))
                    (field("Rate limit (requests a second)", "rate_limit_per_second", Some("Empty: no limit."), html! {
                        input #(layout::id("rate_limit_per_second")) name="rate_limit_per_second" type="number" min="1" data-type="number" data-empty="null"
                            value=(number(endpoint.and_then(|e| e.rate_limit_per_second)));
                    }))
                    (field("Requests at once", "max_concurrency", Some("Empty: the server's default (8)."), html! {
                        input #(layout::id("max_concurrency")) name="max_concurrency" type="number" min="1" data-type="number" data-empty="null"
                            value=(number(endpoint.and_then(|e| e.max_concurrency)));
                    }))
                }
            }
            (data_source_fields(endpoint, deleted))
            fieldset disabled[deleted] {
                legend { "Status" }
                (field("Status", "status", Some("Inactive: nothing is sent; waiting deliveries wait, and new events are not queued for it."), html! {
                    select #(layout::id("status")) name="status" data-send=[endpoint.is_some().then_some("changed")] {
                        option value="active" selected[endpoint.is_none_or(|e| e.status == "active")] { "Active" }
                        option value="inactive" selected[endpoint.is_some_and(|e| e.status == "inactive")] { "Inactive" }
                    }
                }))
                (checkbox("Send a test request when saving", "test_on_save", true))
            }
            div.actions {
                button.primary type="submit" disabled[deleted] { @if endpoint.is_some() { "Save" } @else { "Create webhook" } }
                a href=(endpoint.map_or_else(|| "/admin/webhooks".to_owned(), |e| format!("/admin/webhooks/{}", e.id))) { "Cancel" }
            }
        }
    }
}

/// The audience: which events the webhook sends, by conditions on the contestant and the
/// entry, with a preview against the workspace's latest entries.
fn audience_fields(endpoint: Option<&Endpoint>, deleted: bool) -> Markup {
    let audience = endpoint.and_then(|endpoint| endpoint.audience.as_ref());
    let match_mode = audience.map_or("all", |audience| audience.match_mode.as_str());
    let conditions: String = audience
        .map(|audience| audience.conditions.join("\n"))
        .unwrap_or_default();
    html! {
        fieldset #audience-fields data-scope disabled[deleted] {
            legend { "Audience" }
            p.hint { "Send only the events whose contestant and entry match; empty: every event. Jobs (the Sends tab) use the same audience." }
            (layout::select("Send an event when", "audience.match", &[("all", "every condition holds"), ("any", "any condition holds")], match_mode))
            (field("Conditions", "audience.conditions", Some("One a line: a field, an operator (== != < <= > >= contains, not contains, starts with, ends with, in, not in, exists, not exists) and a value. Text in double quotes; a name with spaces quoted too."), html! {
                textarea #(layout::id("audience.conditions")) name="audience.conditions" data-type="lines" rows="4" spellcheck="false"
                    placeholder="user.country_code == \"AU\"\nentry.type in [\"email_subscribe\", \"custom_question\"]\nuser.details.\"How are you?\" contains \"great\"\nentry.worth >= 2" {
                    (conditions)
                }
            }))
            p.form-error role="alert" data-form-error hidden {}
            p.form-ok role="status" data-form-ok data-audience-preview hidden {}
            div.actions {
                button type="button" data-api="POST /api/v1/endpoints/audience-preview"
                    data-body-from="#audience-fields, #campaign-fields"
                    data-say="Would have sent {matched} of the last {total} entries." { "Preview on recent entries" }
                span.muted { "Tries the conditions on the latest 50 entries of the campaigns ticked above." }
            }
        }
    }
}

/// Whether the endpoint's answer is shown to the contestant, and which fields of it.
fn data_source_fields(endpoint: Option<&Endpoint>, deleted: bool) -> Markup {
    let data_source = endpoint.and_then(|endpoint| endpoint.data_source.as_ref());
    let fields = data_source
        .map(|source| source.fields.join("\n"))
        .unwrap_or_default();
    let timeout = data_source
        .and_then(|source| source.timeout_ms)
        .unwrap_or(crate::endpoints::DEFAULT_ANSWER_TIMEOUT_MS)
        .to_string();
    html! {
        fieldset disabled[deleted] {
            legend { "Answer" }
            div.field.check data-skip {
                input #data-source-on name="data_source_on" type="checkbox" checked[data_source.is_some()];
                label for="data-source-on" { "Data source: show the contestant fields of this webhook's JSON answer (a personal promo code, say) after they enter" }
            }
            fieldset.plain data-show-when="data_source_on=false" {
                input type="hidden" name="data_source" data-type="nullable" value="";
            }
            fieldset.plain data-show-when="data_source_on=true" {
                div.grid {
                    (field("Fields of the answer", "data_source.fields", Some("One a line, e.g. promocode, or a path such as data.code. The widget shows them and its entry event carries them."), html! {
                        textarea #(layout::id("data_source.fields")) name="data_source.fields" data-type="lines" rows="2" spellcheck="false"
                            placeholder="promocode" { (fields) }
                    }))
                    (field("Wait at most (ms)", "data_source.timeout_ms", Some("How long an entry's answer waits for this webhook's: 100 to 10000. Past it, the contestant sees the plain confirmation."), html! {
                        input #(layout::id("data_source.timeout_ms")) name="data_source.timeout_ms" type="number" min="100" max="10000" data-type="number"
                            value=(timeout);
                    }))
                }
            }
            p.hint { "Every answer is read as Gleam reads it: 201 a new contact, 200 one the receiver had, anything else an error; the History shows it for each delivery." }
        }
    }
}

/// The variables templates may use, each a button that types it into the body.
fn variables_help() -> Markup {
    html! {
        details.variables {
            summary { "Variables" }
            p.hint { "Click one to put it in the body at the cursor. They work in the URL and headers too, escaped for where they land. A placeholder alone stands for the JSON value; inside quotes, for its text." }
            ul.variables {
                @for variable in crate::templating::known_variables() {
                    @let placeholder = if variable.ends_with("<question>") {
                        "{{user.details.\"Your question\"}}".to_owned()
                    } else {
                        format!("{{{{{variable}}}}}")
                    };
                    li {
                        button.small.var type="button" data-insert=(placeholder) data-target=(layout::id("body_template")) {
                            (placeholder)
                        }
                    }
                }
            }
        }
    }
}

/// The "New connector" dialog of the webhook form: the connector it makes is chosen at once.
fn connector_dialog() -> Markup {
    html! {
        dialog #new-connector aria-labelledby="new-connector-title" {
            h2 #new-connector-title { "New auth connector" }
            (super::connectors::connector_form("d", Some("#f-auth_connector_id")))
        }
    }
}

/// The tabs of one webhook.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Tab {
    Settings,
    Example,
    Sends,
    History,
}

/// A webhook page's heading and tabs.
pub(super) fn header(endpoint: &Endpoint, current: Tab) -> Markup {
    let tab = |tab: Tab, suffix: &str, text: &str| {
        html! {
            a href=(format!("/admin/webhooks/{}{suffix}", endpoint.id)) aria-current=[(tab == current).then_some("page")] { (text) }
        }
    };
    html! {
        p { a href="/admin/webhooks" { "← Webhooks" } }
        div.bar {
            div {
                h1 { (endpoint.name) " " (status_badge(endpoint)) }
                p.muted.mono.url { (endpoint.method) " " (endpoint.url) }
            }
        }
        nav.tabs aria-label="Webhook" {
            (tab(Tab::Settings, "", "Settings"))
            (tab(Tab::Example, "/example", "Example"))
            (tab(Tab::Sends, "/sends", "Sends"))
            (tab(Tab::History, "/history", "History"))
        }
    }
}

/// `GET /admin/webhooks/{id}`: the Settings tab.
pub async fn edit(
    State(state): State<ConsoleState>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> Result<Rendered, PageError> {
    let record = find(&state, &viewer, &id).await?;
    let endpoint = endpoint_view(&state.store, viewer.workspace.id, &record).await?;
    let choices = Choices::load(&state.store, viewer.workspace.id).await?;
    let recent = state
        .store
        .workspace_entries(viewer.workspace.id, &EntryFilter::default(), 20)
        .await?;
    let api = format!("/api/v1/endpoints/{}", endpoint.id);
    Ok(page(
        Page::signed_in(&endpoint.name, &viewer.workspace.name, Section::Webhooks),
        html! {
            (header(&endpoint, Tab::Settings))
            p.form-error role="alert" data-form-error hidden {}
            @if let Some(deleted) = record.deleted_at {
                div.card.warn-card data-scope {
                    p { "Deleted " (time(deleted)) ". It sends nothing; restore it to change or use it again." }
                    p.form-error role="alert" data-form-error hidden {}
                    button.primary type="button" data-api=(format!("POST {api}/restore")) data-then="reload" { "Restore" }
                }
            } @else if let Some(reason) = disabled_text(&endpoint) {
                div.card.warn-card data-scope #disabled {
                    p { strong { "Delivery turned this webhook off. " } (reason) " Its waiting deliveries wait; new events are not queued for it." }
                    p.form-error role="alert" data-form-error hidden {}
                    button.primary type="button" data-api=(format!("PATCH {api}"))
                        data-body=r#"{"status":"active","test_on_save":false}"# data-then="reload" { "Turn it back on" }
                }
            }
            (endpoint_form(Some(&endpoint), &choices))
            div #save-outcome aria-live="polite" hidden {}
            @if record.deleted_at.is_none() {
                section.card #send-test {
                    h2 { "Send test" }
                    p.muted { "Sends one request now, with the sample contestant or a real entry, and shows what came back. Tests are not recorded in the history." }
                    form.grid data-api=(format!("POST {api}/test")) data-outcome="#test-outcome" {
                        (layout::form_status())
                        (layout::select("Event", "event", &test_events(), "webhook.test"))
                        (field("Data from", "entry_id", None, html! {
                            select #(layout::id("entry_id")) name="entry_id" data-type="number" {
                                option value="" { "The sample contestant (Joe Bloggs)" }
                                @for entry in &recent {
                                    option value=(entry.id.0) { (entry.email) " — " (entry.action) " (" (entry.campaign_key) ")" }
                                }
                            }
                        }))
                        div.actions { button.primary type="submit" { "Send test" } }
                    }
                    div #test-outcome aria-live="polite" hidden {}
                }
                section.card #signing-secret data-scope {
                    h2 { "Signing secret" }
                    p.muted { "Every request carries webhook-id, webhook-timestamp and webhook-signature headers (Standard Webhooks): your receiver checks the signature with the secret shown when the webhook was made. Rotating makes a new one, shown once; the old one keeps signing too for the time you choose, so receivers can switch without missing anything." }
                    @if let Some(until) = record.previous_secret_expires_at.filter(|until| *until > clock::now_millis()) {
                        p { "The previous secret also signs until " (time(until)) "." }
                    }
                    form.actions data-api=(format!("POST {api}/rotate-secret")) data-reveal="#rotated" data-reveal-field="signing_secret" {
                        (layout::form_status())
                        label for="grace" { "Old secret keeps signing for" }
                        select #grace name="grace_period_seconds" data-type="number" {
                            option value="86400" { "24 hours" }
                            option value="3600" { "1 hour" }
                            option value="0" { "no time: stop at once" }
                        }
                        button type="submit" { "Rotate secret" }
                    }
                    div.secret #rotated hidden aria-live="polite" {
                        p { strong { "The new signing secret" } " — copy it now: it is not shown again." }
                        p { code #rotated-secret data-value {} " " (layout::copy_button("rotated-secret")) }
                    }
                }
                section.card data-scope {
                    h2 { "Delete" }
                    p.muted { "Stops sending at once and cancels its waiting deliveries. Deleted webhooks are listed under Deleted, where they can be restored." }
                    p.form-error role="alert" data-form-error hidden {}
                    button.danger type="button" data-api=(format!("DELETE {api}"))
                        data-confirm=(format!("Delete the webhook {}? Its waiting deliveries are cancelled.", endpoint.name))
                        data-then="/admin/webhooks?deleted=true" { "Delete webhook" }
                }
            }
            (connector_dialog())
        },
    ))
}

/// The events a test may be sent as: `webhook.test` and every real one.
fn test_events() -> Vec<(&'static str, &'static str)> {
    let mut events = vec![("webhook.test", "webhook.test")];
    events.extend(
        EVENTS
            .iter()
            .map(|(event, _)| (event.as_str(), event.as_str())),
    );
    events
}

#[derive(Debug, Default, Deserialize)]
pub struct ExampleQuery {
    #[serde(default)]
    event: String,
}

/// `GET /admin/webhooks/{id}/example?event=`: the exact request an event would produce,
/// as the admin API builds it.
pub async fn example(
    State(state): State<ConsoleState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Query(query): Query<ExampleQuery>,
) -> Result<Rendered, PageError> {
    let record = find(&state, &viewer, &id).await?;
    let endpoint = endpoint_view(&state.store, viewer.workspace.id, &record).await?;
    let event = EventType::parse(&query.event)
        .or_else(|| record.events.first().copied())
        .unwrap_or(EventType::EntryCreated);
    let source = format!(
        "/api/v1/endpoints/{}/example?event={}",
        endpoint.id,
        event.as_str()
    );
    Ok(page(
        Page::signed_in(&endpoint.name, &viewer.workspace.name, Section::Webhooks),
        html! {
            (header(&endpoint, Tab::Example))
            form.card.filters method="get" {
                (layout::select("Event", "event", &test_events()[1..], event.as_str()))
                div.actions { button type="submit" { "Show" } }
            }
            p.muted { "The exact request this webhook would send for that event now, with the sample contestant (Joe Bloggs): method, URL, every header (signed with the current secret; credentials shown as [redacted]) and the body. Your receiver gets the same shape with real data." }
            div #example data-load=(source) aria-live="polite" {
                noscript { p { "The example needs JavaScript; or read it from the admin API at " span.mono { (source) } "." } }
            }
        },
    ))
}
