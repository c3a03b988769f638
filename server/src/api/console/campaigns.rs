//! Campaign screens: the list, a new campaign, and one campaign's settings, entry methods,
//! embed snippet, hosted page and live preview.

use axum::extract::{Path, State};
use maud::{Markup, html};
use protocol::campaign::{CampaignStatus, CampaignType, EntryMethodType};
use serde_json::Value;

use super::layout::{
    self, Fields, Page, Rendered, Section, checkbox, field, page, select, text_field, time,
};
use super::{ConsoleState, PageError, Viewer};
use crate::social;
use crate::store::{CampaignRecord, CouponCounts, EntryMethodRecord};

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
    let coupons = if campaign.campaign_type == CampaignType::Reward {
        Some(state.store.coupon_counts(campaign.id).await?)
    } else {
        None
    };
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
            @if let Some(counts) = coupons {
                (coupon_pool(&api, counts))
            }
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
            // What the fields below do not edit stays as it was; the reward and the capture
            // form are the fieldsets' own (and go with a type that has none).
            input type="hidden" name="settings" data-type="json" value=(other_settings(campaign).to_string());
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
            (reward_fields(campaign))
            (capture_fields(campaign))
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

/// The campaign's settings without `reward` and `capture`, which the form sends whole.
fn other_settings(campaign: &CampaignRecord) -> Value {
    let mut settings = campaign.settings.clone();
    if let Some(map) = settings.as_object_mut() {
        map.remove("reward");
        map.remove("capture");
    }
    settings
}

/// A Reward campaign's reward: what it gives and when it unlocks.
fn reward_fields(campaign: &CampaignRecord) -> Markup {
    let reward = campaign.settings.get("reward");
    let text = |key: &str| {
        reward
            .and_then(|reward| reward.get(key))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let unlock = reward.and_then(|reward| reward.get("unlock"));
    let rule = unlock
        .and_then(|unlock| unlock.get("rule"))
        .and_then(Value::as_str)
        .unwrap_or("all_mandatory");
    let count = unlock
        .and_then(|unlock| unlock.get("count"))
        .and_then(Value::as_u64)
        .unwrap_or(3);
    let kind = Some(text("type"))
        .filter(|kind| !kind.is_empty())
        .unwrap_or_else(|| "Coupon".to_owned());
    let is_reward = campaign.campaign_type == CampaignType::Reward;
    html! {
        fieldset #reward data-show-when="type=Reward" hidden[!is_reward] disabled[!is_reward] {
            legend { "Reward" }
            div.grid {
                (select("It gives", "settings.reward.type", &[("Coupon", "A coupon code from the pool below"), ("Download", "A file to download")], &kind))
                (text_field("Title", "settings.reward.title", &text("title"), Some("e.g. 10% off your next order")))
            }
            (field("Description", "settings.reward.description", None, html! {
                textarea #(layout::id("settings.reward.description")) name="settings.reward.description" rows="2" { (text("description")) }
            }))
            fieldset.plain data-show-when="settings.reward.type=Download" hidden[kind != "Download"] disabled[kind != "Download"] {
                (text_field("File address", "settings.reward.download_url", &text("download_url"), Some("https://… given only once the reward unlocks.")))
            }
            div.grid {
                (select("Unlocks", "settings.reward.unlock.rule", &[("all_mandatory", "When every mandatory action is done"), ("actions", "After a number of actions")], rule))
                fieldset.plain data-show-when="settings.reward.unlock.rule=actions" hidden[rule != "actions"] disabled[rule != "actions"] {
                    (field("Actions needed", "settings.reward.unlock.count", None, html! {
                        input #(layout::id("settings.reward.unlock.count")) name="settings.reward.unlock.count" type="number" min="1" data-type="number" value=(count);
                    }))
                }
            }
        }
    }
}

/// A Capture campaign's form: where it appears and its texts.
fn capture_fields(campaign: &CampaignRecord) -> Markup {
    let capture = campaign.settings.get("capture");
    let text = |key: &str| {
        capture
            .and_then(|capture| capture.get(key))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let display = Some(text("display"))
        .filter(|display| !display.is_empty())
        .unwrap_or_else(|| "inline".to_owned());
    let delay = capture
        .and_then(|capture| capture.get("delay_seconds"))
        .and_then(Value::as_u64)
        .unwrap_or(0);
    let is_capture = campaign.campaign_type == CampaignType::Capture;
    html! {
        fieldset #capture data-show-when="type=Capture" hidden[!is_capture] disabled[!is_capture] {
            legend { "Capture form" }
            div.grid {
                (select("Shown", "settings.capture.display", &[("inline", "In the page"), ("modal", "Over the page, after a delay"), ("exit_intent", "Over the page, when leaving"), ("bar", "A bar at the bottom")], &display))
                (field("Delay (seconds)", "settings.capture.delay_seconds", Some("For a dialog over the page."), html! {
                    input #(layout::id("settings.capture.delay_seconds")) name="settings.capture.delay_seconds" type="number" min="0" data-type="number" value=(delay);
                }))
                (text_field("Button text", "settings.capture.button_text", &text("button_text"), Some("Empty: Subscribe.")))
                (text_field("Thank-you text", "settings.capture.success_text", &text("success_text"), Some("Empty: the widget's own.")))
            }
        }
    }
}

/// A Reward campaign's coupon pool: how many codes are left and handed out, and adding more.
fn coupon_pool(api: &str, counts: CouponCounts) -> Markup {
    html! {
        section.card #coupons {
            h2 { "Coupon pool" }
            p { strong data-available=(counts.available) { (counts.available) } " codes left, " (counts.assigned) " handed out. Each contestant who unlocks the reward gets one code, once." }
            form data-api=(format!("POST {api}/coupons")) data-then="reload" {
                (layout::form_status())
                (field("Add codes", "codes", Some("One per line; codes already in the pool are skipped."), html! {
                    textarea #(layout::id("codes")) name="codes" data-type="lines" rows="4" spellcheck="false" {}
                }))
                button.primary type="submit" { "Add codes" }
            }
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
    let f = Fields::new(&prefix);
    let named = |name: &str| format!("config.{name}");
    html! {
        details.method {
            summary { (method.action) " " span.muted { "· " (method_type_label(method.method_type)) " · worth " (method.worth) } }
            form data-api=(format!("PATCH {path}")) data-ok="Saved." id=(format!("{prefix}-form")) {
                (layout::form_status())
                input type="hidden" name="config" data-type="json" value=(method.config.to_string());
                (f.text("What to do", "action", &method.action, None))
                div.grid {
                    (f.number("Worth (entries)", "worth", i64::from(method.worth), Some(0)))
                    (f.field("Position", "position", None, html! {
                        input #(f.id("position")) name="position" type="number" data-type="number" value=(method.position);
                    }))
                }
                (f.checkbox("Mandatory", "mandatory", method.mandatory))
                (f.checkbox("Can be done again every day", "daily", method.daily))
                @match method.method_type {
                    EntryMethodType::CustomQuestion => {
                        (f.text("Question", &named("question"), &config("question"), None))
                        (f.select("Answer", &named("kind"), &[("text", "Free text"), ("choice", "One of the choices"), ("checkbox", "A box to tick")], &config("kind")))
                        (f.field("Choices", &named("choices"), Some("One per line, for a choice question."), html! {
                            textarea #(f.id(&named("choices"))) name=(named("choices")) data-type="lines" rows="3" {
                                @if let Some(choices) = method.config.get("choices").and_then(Value::as_array) {
                                    @for choice in choices { (choice.as_str().unwrap_or_default()) "\n" }
                                }
                            }
                        }))
                        (f.checkbox("An answer is required", &named("required"), method.config.get("required").and_then(Value::as_bool).unwrap_or(false)))
                    }
                    EntryMethodType::VisitUrl => {
                        (f.text("Page to visit", &named("url"), &config("url"), Some("https://… opened in a new tab; the entry counts on the click.")))
                    }
                    EntryMethodType::SecretCode => {
                        (f.text("The secret code", &named("code"), &config("code"), Some("Never sent to the page: the server checks it.")))
                        (f.text("Where to find it", &named("hint"), &config("hint"), None))
                    }
                    EntryMethodType::SocialFollow => {
                        (f.select("Network", &named("provider"), &[("twitter", "X / Twitter"), ("instagram", "Instagram"), ("facebook", "Facebook"), ("tiktok", "TikTok"), ("youtube", "YouTube"), ("linkedin", "LinkedIn")], &config("provider")))
                        (f.text("Profile URL", &named("profile_url"), &config("profile_url"), None))
                        (f.text("Handle", &named("handle"), &config("handle"), None))
                    }
                    EntryMethodType::Upload => {
                        (f.select("Takes", &named("accept"), &[("image_url", "The address of a picture online"), ("file", "A picture file")], &config("accept")))
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
    let f = Fields::new("new");
    html! {
        form.card data-api=(format!("POST {api}/entry-methods")) data-then="reload" #new-method {
            h2 { "Add an entry method" }
            (layout::form_status())
            div.grid {
                (f.select("Kind", "type", &METHOD_TYPES, "email_subscribe"))
                (f.text("What to do", "action", "", Some("e.g. Subscribe to our newsletter")))
            }
            div.grid {
                (f.field("Worth (entries)", "worth", None, html! {
                    input #(f.id("worth")) name="worth" type="number" min="0" data-type="number" value="1";
                }))
            }
            (f.checkbox("Mandatory", "mandatory", false))
            (f.checkbox("Can be done again every day", "daily", false))
            p.hint { "Its own settings (the question, the page, the code…) are set once it is added." }
            button.primary type="submit" { "Add" }
        }
    }
}
