//! Inbound streams (seed 001): where a shop, form tool or CRM posts conversions, each with
//! its URL to copy, its signing requirement, the campaigns that show its conversions, and
//! the latest conversions received.

use axum::extract::State;
use maud::{Markup, html};

use super::layout::{self, Page, Rendered, Section, page, time};
use super::{ConsoleState, PageError, Viewer};
use crate::store::{CampaignRecord, ConversionRow, StreamRecord};

/// Conversions shown per stream.
const RECENT: u32 = 10;

/// `GET /admin/streams`.
pub async fn list(
    State(state): State<ConsoleState>,
    viewer: Viewer,
) -> Result<Rendered, PageError> {
    let streams = state.store.workspace_streams(viewer.workspace.id).await?;
    let campaigns = state
        .store
        .workspace_campaigns(viewer.workspace.id, None, 200)
        .await?;
    let mut recent = Vec::with_capacity(streams.len());
    for stream in &streams {
        recent.push(
            state
                .store
                .stream_conversions(stream.id, None, RECENT)
                .await?,
        );
    }
    Ok(page(
        Page::signed_in("Streams", &viewer.workspace.name, Section::Streams),
        html! {
            h1 { "Streams" }
            p.muted { "A stream takes conversions (a purchase, a sign-up) that your shop, form tool or CRM posts to its URL, as JSON or form data. Widgets of the campaigns it feeds show them as social proof, and webhooks subscribed to conversion.received get each one." }
            @if streams.is_empty() {
                p.card { "No streams yet." }
            }
            @for (stream, conversions) in streams.iter().zip(&recent) {
                (stream_card(&state.base_url, stream, conversions, &campaigns))
            }
            section.card {
                h2 { "New stream" }
                form data-api="POST /api/v1/streams" data-then="reload" {
                    (layout::form_status())
                    (layout::text_field("Name", "name", "", Some("e.g. Shop purchases")))
                    (layout::checkbox("Require signed requests (Standard Webhooks): a secret is made for the sender", "signed", false))
                    (campaign_choices("new", "campaigns", &campaigns, &[]))
                    button.primary type="submit" { "Create stream" }
                }
            }
        },
    ))
}

fn campaign_choices(
    prefix: &str,
    name: &str,
    campaigns: &[CampaignRecord],
    chosen: &[String],
) -> Markup {
    html! {
        div.field role="group" aria-labelledby=(format!("{prefix}-campaigns-label")) {
            p.label id=(format!("{prefix}-campaigns-label")) { "Campaigns whose widgets show its conversions" }
            @for campaign in campaigns {
                @let id = format!("{prefix}-campaign-{}", campaign.key);
                div.check {
                    input type="checkbox" name=(name) data-type="list" value=(campaign.key) id=(id)
                        checked[chosen.iter().any(|key| key == campaign.key.as_str())];
                    label for=(id) { (campaign.name) }
                }
            }
            p.hint { "None ticked: every campaign that shows social proof." }
            p.field-error data-error-for=(name) role="alert" hidden {}
        }
    }
}

fn stream_card(
    base_url: &str,
    stream: &StreamRecord,
    conversions: &[ConversionRow],
    campaigns: &[CampaignRecord],
) -> Markup {
    let api = format!("/api/v1/streams/{}", stream.public_id);
    let url_id = format!("{}-url", stream.public_id);
    html! {
        section.card data-stream=(stream.public_id) data-scope {
            div.bar {
                h2 { (stream.name) " "
                    @if stream.enabled { span.badge.good { "on" } } @else { span.badge.warn { "off" } }
                }
                div.actions {
                    button.small type="button" data-api=(format!("PATCH {api}"))
                        data-body=(if stream.enabled { r#"{"enabled":false}"# } else { r#"{"enabled":true}"# })
                        data-then="reload" { @if stream.enabled { "Turn off" } @else { "Turn on" } }
                    button.small.danger type="button" data-api=(format!("DELETE {api}"))
                        data-confirm=(format!("Delete the stream {}? Its URL stops taking conversions.", stream.name))
                        data-then="reload" { "Delete" }
                }
            }
            p.form-error role="alert" data-form-error hidden {}
            p { "Post conversions to " code #(url_id) { (base_url) "/hooks/in/" (stream.stream_key) } " " (layout::copy_button(&url_id)) }
            @if let Some(secret) = &stream.signing_secret {
                details {
                    summary { "Signing secret (requests must be signed)" }
                    p { code { (secret) } }
                }
            }
            details.method {
                summary { "Settings" }
                form data-api=(format!("PATCH {api}")) data-then="reload" {
                    p.form-error role="alert" data-form-error hidden {}
                    (layout::Fields::new(stream.public_id.as_str()).text("Name", "name", &stream.name, None))
                    (campaign_choices(stream.public_id.as_str(), "campaigns", campaigns, &stream.campaign_keys))
                    button.primary type="submit" { "Save" }
                }
            }
            h3 { "Latest conversions" }
            @if conversions.is_empty() {
                p.muted { "None yet." }
            } @else {
                div.table-wrap {
                    table {
                        thead { tr { th { "Received" } th { "Who" } th { "Where" } th { "Product" } } }
                        tbody {
                            @for conversion in conversions {
                                tr {
                                    td { (time(conversion.received_at)) }
                                    td { (conversion.first_name) " " (conversion.last_name) br; span.muted { (conversion.email) } }
                                    td { (conversion.city.clone().unwrap_or_default()) " " (conversion.country_code.clone().unwrap_or_default()) }
                                    td { (conversion.product_name.clone().unwrap_or_default()) " " span.muted { (conversion.total.clone().unwrap_or_default()) " " (conversion.currency.clone().unwrap_or_default()) } }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
