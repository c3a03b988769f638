//! Campaign screens: the list, a new campaign, and one campaign's settings, entry methods,
//! embed snippet, hosted page and live preview.

use axum::extract::{Path, State};
use maud::{Markup, html};
use protocol::campaign::{CampaignStatus, EntryMethodType};
use serde_json::Value;

use super::layout::{
    self, Page, Rendered, Section, checkbox, field, page, select, text_field, time,
};
use super::{ConsoleState, PageError, Viewer};
use crate::social;
use crate::store::{CampaignRecord, EntryMethodRecord};

const TYPES: [(&str, &str); 3] = [
    ("Competition", "Competition: entries add up to a prize draw"),
    ("Reward", "Reward: actions unlock a reward"),
    ("Capture", "Capture: one email form"),
];

const STATUSES: [(&str, &str); 4] = [
    ("draft", "Draft"),
    ("running", "Running"),
    ("paused", "Paused"),
    ("ended", "Ended"),
];

const METHOD_TYPES: [(&str, &str); 7] = [
    ("email_subscribe", "Subscribe by email"),
    ("custom_question", "Answer a question"),
    ("visit_url", "Visit a page"),
    ("secret_code", "Enter a secret code"),
    ("referral", "Refer friends"),
    ("social_follow", "Follow on social media"),
    ("upload", "Upload a picture"),
];

/// `GET /admin/campaigns`.
pub async fn list(
    State(state): State<ConsoleState>,
    viewer: Viewer,
) -> Result<Rendered, PageError> {
    let campaigns = state
        .store
        .workspace_campaigns(viewer.workspace.id, None, 200)
        .await?;
    Ok(page(
        Page::signed_in("Campaigns", &viewer.workspace.name, Section::Campaigns),
        html! {
            div.bar {
                h1 { "Campaigns" }
                a.button.primary href="/admin/campaigns/new" { "New campaign" }
            }
            @if campaigns.is_empty() {
                p.card { "No campaigns yet. " a href="/admin/campaigns/new" { "Make the first one." } }
            } @else {
                div.table-wrap {
                    table {
                        thead { tr { th { "Name" } th { "Key" } th { "Type" } th { "Status" } th { "Actions" } th { "Created" } } }
                        tbody {
                            @for campaign in &campaigns {
                                tr {
                                    td { a href=(format!("/admin/campaigns/{}", campaign.key)) { (campaign.name) } }
                                    td.mono { (campaign.key) }
                                    td { (campaign.campaign_type.as_str()) }
                                    td { (status_badge(campaign.status)) }
                                    td { (campaign.entry_methods.len()) }
                                    td { (time(campaign.created_at)) }
                                }
                            }
                        }
                    }
                }
            }
        },
    ))
}

fn status_badge(status: CampaignStatus) -> Markup {
    let class = match status {
        CampaignStatus::Running => "badge good",
        CampaignStatus::Paused => "badge warn",
        CampaignStatus::Ended => "badge bad",
        CampaignStatus::Draft => "badge",
    };
    html! { span class=(class) { (status.as_str()) } }
}

/// `GET /admin/campaigns/new`.
pub async fn new_page(viewer: Viewer) -> Rendered {
    page(
        Page::signed_in("New campaign", &viewer.workspace.name, Section::Campaigns),
        html! {
            h1 { "New campaign" }
            form.card data-api="POST /api/v1/campaigns" data-then="/admin/campaigns/{key}" {
                (layout::form_status())
                (text_field("Name", "name", "", Some("Shown to visitors above the form.")))
                (select("Type", "type", &TYPES, "Competition"))
                (field("Key", "key", Some("The public id in the embed code; letters, digits, - and _. Leave empty for a new one like a1XyD."), html! {
                    input #(layout::id("key")) name="key" type="text" data-type="optional" pattern="[A-Za-z0-9_-]{1,32}";
                }))
                (field("Description", "description", None, html! {
                    textarea #(layout::id("description")) name="description" rows="2" {}
                }))
                (field("Consent statement", "consent_text", Some("Shown beside the unticked box on email forms, and stored with each entry. Empty: no box."), html! {
                    textarea #(layout::id("consent_text")) name="consent_text" rows="2" {}
                }))
                (select("Status", "status", &STATUSES, "draft"))
                div.actions {
                    button.primary type="submit" { "Create campaign" }
                    a href="/admin/campaigns" { "Cancel" }
                }
            }
        },
    )
}

/// `GET /admin/campaigns/{key}`.
pub async fn edit(
    State(state): State<ConsoleState>,
    viewer: Viewer,
    Path(key): Path<String>,
) -> Result<Rendered, PageError> {
    let campaign = state
        .store
        .workspace_campaign(viewer.workspace.id, &key)
        .await?
        .ok_or(PageError::NotFound)?;
    let base = &state.base_url;
    let api = format!("/api/v1/campaigns/{}", campaign.key);
    let snippet = format!(
        "<div class=\"hookline-campaign\" data-campaign=\"{key}\"></div>\n<script async src=\"{base}/widget/hookline.js\"></script>",
        key = campaign.key
    );
    let hosted = format!("{base}/c/{}", campaign.key);
    Ok(page(
        Page::signed_in(&campaign.name, &viewer.workspace.name, Section::Campaigns),
        html! {
            div.bar {
                div {
                    h1 { (campaign.name) " " (status_badge(campaign.status)) }
                    p.muted { "Key " span.mono { (campaign.key) } " · " (campaign.campaign_type.as_str()) }
                }
                div.actions data-scope {
                    @for (status, label) in status_actions(campaign.status) {
                        button.small type="button" data-api=(format!("PATCH {api}"))
                            data-body=(Value::from_iter([("status", Value::from(status))]).to_string())
                            data-then="reload" { (label) }
                    }
                    a.button.small href=(format!("/admin/entries?campaign={}", campaign.key)) { "Entries" }
                }
            }
            p.form-error role="alert" data-form-error hidden {}
            section.card {
                h2 { "Put it on your site" }
                p { "Paste this where the widget should appear:" }
                pre #embed-snippet { (snippet) }
                p.actions {
                    (layout::copy_button("embed-snippet"))
                    " Hosted page: " a #hosted-link href=(hosted) target="_blank" rel="noopener" { (hosted) }
                }
                details {
                    summary { "Live preview" }
                    iframe.preview src=(format!("/c/{}", campaign.key)) title="Live preview of the widget" loading="lazy" {}
                }
            }
            (settings_form(&campaign, &api))
            section {
                h2 { "Entry methods" }
                p.muted { "Each completed action is one entry worth its number of entries. Mandatory ones come first." }
                @for method in &campaign.entry_methods {
                    (method_form(&api, method))
                }
                (new_method_form(&api))
            }
        },
    ))
}

/// The status changes on offer from `status`: (new status, button text).
fn status_actions(status: CampaignStatus) -> Vec<(&'static str, &'static str)> {
    match status {
        CampaignStatus::Draft => vec![("running", "Start")],
        CampaignStatus::Running => vec![("paused", "Pause"), ("ended", "End")],
        CampaignStatus::Paused => vec![("running", "Resume"), ("ended", "End")],
        CampaignStatus::Ended => vec![("running", "Reopen")],
    }
}

fn settings_form(campaign: &CampaignRecord, api: &str) -> Markup {
    let proof = social::settings(campaign);
    let origins = campaign.allowed_origins.join("\n");
    let position = serde_json::to_value(proof.position)
        .ok()
        .and_then(|value| value.as_str().map(str::to_owned))
        .unwrap_or_default();
    html! {
        form.card #campaign-settings data-api=(format!("PATCH {api}")) data-ok="Saved." {
            h2 { "Settings" }
            (layout::form_status())
            // What the fields below do not edit stays as it was.
            input type="hidden" name="settings" data-type="json" value=(campaign.settings.to_string());
            div.grid {
                (text_field("Name", "name", &campaign.name, None))
                (select("Type", "type", &TYPES, campaign.campaign_type.as_str()))
            }
            (field("Description", "description", None, html! {
                textarea #(layout::id("description")) name="description" rows="2" { (campaign.description) }
            }))
            (field("Consent statement", "consent_text", Some("Empty: email forms show no consent box."), html! {
                textarea #(layout::id("consent_text")) name="consent_text" rows="2" { (campaign.consent_text) }
            }))
            (text_field("Image URL", "image_url", &campaign.image_url, Some("https://… shown above the form and in share previews.")))
            div.grid {
                (datetime_field("Starts", "starts_at", campaign.starts_at))
                (datetime_field("Ends", "ends_at", campaign.ends_at))
            }
            (field("Allowed origins", "allowed_origins", Some("One per line, like https://shop.example. Only pages there may post entries. Empty: any site."), html! {
                textarea #(layout::id("allowed_origins")) name="allowed_origins" data-type="lines" rows="2" { (origins) }
            }))
            div.grid {
                (select("Fraud filter", "fraud_level", &[("off", "Off"), ("lenient", "Lenient"), ("standard", "Standard"), ("strict", "Strict")], campaign.fraud_level.as_str()))
                (field("Hold window (seconds)", "hold_window_seconds", Some("How long subscriber.created waits for the fraud verdict."), html! {
                    input #(layout::id("hold_window_seconds")) name="hold_window_seconds" type="number" min="0" max="604800"
                        data-type="number" value=(campaign.hold_window_ms / 1000);
                }))
            }
            fieldset {
                legend { "Social proof" }
                (checkbox("Show recent activity as notifications on the widget", "settings.social_proof.enabled", proof.enabled))
                div.grid {
                    (select("Position", "settings.social_proof.position", &[("bottom_left", "Bottom left"), ("bottom_right", "Bottom right"), ("top_left", "Top left"), ("top_right", "Top right")], &position))
                    (number_field("Seconds between notifications", "settings.social_proof.interval_seconds", proof.interval_seconds))
                    (number_field("Most per visit", "settings.social_proof.max_per_visit", proof.max_per_visit))
                    (number_field("Seconds shown", "settings.social_proof.display_seconds", proof.display_seconds))
                }
                (checkbox("Show this campaign's entries", "settings.social_proof.show_entries", proof.show_entries))
                (checkbox("Show conversions from your streams", "settings.social_proof.show_conversions", proof.show_conversions))
                (checkbox("Show first name and last initial", "settings.social_proof.fields.name", proof.fields.name))
                (checkbox("Show the place", "settings.social_proof.fields.location", proof.fields.location))
                (checkbox("Show the product", "settings.social_proof.fields.product", proof.fields.product))
                (checkbox("Link to the product", "settings.social_proof.fields.link", proof.fields.link))
                (checkbox("Leave out this campaign's own contestants", "settings.social_proof.exclude_contestants", proof.exclude_contestants))
            }
            button.primary type="submit" { "Save settings" }
        }
    }
}

fn number_field(label: &str, name: &str, value: u32) -> Markup {
    field(
        label,
        name,
        None,
        html! {
            input #(layout::id(name)) name=(name) type="number" min="0" data-type="number" value=(value);
        },
    )
}

fn datetime_field(label: &str, name: &str, value: Option<i64>) -> Markup {
    let utc = value.map(crate::clock::rfc3339);
    field(
        label,
        name,
        Some("Your local time. Empty: no limit."),
        html! {
            input #(layout::id(name)) name=(name) type="datetime-local" data-type="datetime" data-utc=[utc];
        },
    )
}

fn method_type_label(method_type: EntryMethodType) -> &'static str {
    METHOD_TYPES
        .iter()
        .find(|(value, _)| *value == method_type.as_str())
        .map_or("", |(_, label)| label)
}

fn method_form(api: &str, method: &EntryMethodRecord) -> Markup {
    let path = format!("{api}/entry-methods/{}", method.id);
    let config = |key: &str| {
        method
            .config
            .get(key)
            .map(|value| {
                value
                    .as_str()
                    .map_or_else(|| value.to_string(), str::to_owned)
            })
            .unwrap_or_default()
    };
    let prefix = format!("m{}", method.id);
    let named = |name: &str| format!("config.{name}");
    html! {
        details.method {
            summary { (method.action) " " span.muted { "· " (method_type_label(method.method_type)) " · worth " (method.worth) } }
            form data-api=(format!("PATCH {path}")) data-ok="Saved." id=(format!("{prefix}-form")) {
                (layout::form_status())
                input type="hidden" name="config" data-type="json" value=(method.config.to_string());
                (text_field("What to do", "action", &method.action, None))
                div.grid {
                    (number_field("Worth (entries)", "worth", method.worth))
                    (field("Position", "position", None, html! {
                        input #(layout::id("position")) name="position" type="number" data-type="number" value=(method.position);
                    }))
                }
                (checkbox("Mandatory", "mandatory", method.mandatory))
                (checkbox("Can be done again every day", "daily", method.daily))
                @match method.method_type {
                    EntryMethodType::CustomQuestion => {
                        (text_field("Question", &named("question"), &config("question"), None))
                        (select("Answer", &named("kind"), &[("text", "Free text"), ("choice", "One of the choices"), ("checkbox", "A box to tick")], &config("kind")))
                        (field("Choices", &named("choices"), Some("One per line, for a choice question."), html! {
                            textarea #(layout::id(&named("choices"))) name=(named("choices")) data-type="lines" rows="3" {
                                @if let Some(choices) = method.config.get("choices").and_then(Value::as_array) {
                                    @for choice in choices { (choice.as_str().unwrap_or_default()) "\n" }
                                }
                            }
                        }))
                        (checkbox("An answer is required", &named("required"), method.config.get("required").and_then(Value::as_bool).unwrap_or(false)))
                    }
                    EntryMethodType::VisitUrl => {
                        (text_field("Page to visit", &named("url"), &config("url"), Some("https://… opened in a new tab; the entry counts on the click.")))
                    }
                    EntryMethodType::SecretCode => {
                        (text_field("The secret code", &named("code"), &config("code"), Some("Never sent to the page: the server checks it.")))
                        (text_field("Where to find it", &named("hint"), &config("hint"), None))
                    }
                    EntryMethodType::SocialFollow => {
                        (select("Network", &named("provider"), &[("twitter", "X / Twitter"), ("instagram", "Instagram"), ("facebook", "Facebook"), ("tiktok", "TikTok"), ("youtube", "YouTube"), ("linkedin", "LinkedIn")], &config("provider")))
                        (text_field("Profile URL", &named("profile_url"), &config("profile_url"), None))
                        (text_field("Handle", &named("handle"), &config("handle"), None))
                    }
                    EntryMethodType::Upload => {
                        (select("Takes", &named("accept"), &[("image_url", "The address of a picture online"), ("file", "A picture file")], &config("accept")))
                    }
                    EntryMethodType::EmailSubscribe | EntryMethodType::Referral => {}
                }
                div.actions {
                    button.primary type="submit" { "Save" }
                    button.danger type="button" data-api=(format!("DELETE {path}"))
                        data-confirm=(format!("Remove “{}”? Its entries stay.", method.action))
                        data-then="reload" { "Remove" }
                }
            }
        }
    }
}

fn new_method_form(api: &str) -> Markup {
    html! {
        form.card data-api=(format!("POST {api}/entry-methods")) data-then="reload" #new-method {
            h2 { "Add an entry method" }
            (layout::form_status())
            div.grid {
                (select("Kind", "type", &METHOD_TYPES, "email_subscribe"))
                (text_field("What to do", "action", "", Some("e.g. Subscribe to our newsletter")))
            }
            div.grid {
                (field("Worth (entries)", "worth", None, html! {
                    input #(layout::id("worth")) name="worth" type="number" min="0" data-type="number" value="1";
                }))
            }
            (checkbox("Mandatory", "mandatory", false))
            (checkbox("Can be done again every day", "daily", false))
            p.hint { "Its own settings (the question, the page, the code…) are set once it is added." }
            button.primary type="submit" { "Add" }
        }
    }
}
