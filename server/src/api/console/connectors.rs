//! Auth connectors (seed 002's "Create connector"): credentials webhooks share, made here
//! (Basic, Bearer token, API key), listed with the webhooks that use them, given new
//! credentials, deleted (refused while a webhook uses one, and the page says which).
//! Secrets are write-only: the API never returns them, so no page can show them.

use axum::extract::State;
use maud::{Markup, html};

use super::layout::{Page, Rendered, Section, page, time};
use super::webhooks::{ListTab, list_tabs};
use super::{ConsoleState, PageError, Viewer};
use crate::store::AuthConnectorRecord;

const KINDS: [(&str, &str); 3] = [
    ("basic", "Basic (user name and password)"),
    ("bearer", "Bearer token"),
    ("api_key", "API key in a header"),
];

fn kind_label(kind: &str) -> &'static str {
    KINDS
        .iter()
        .find(|(value, _)| *value == kind)
        .map_or("", |(_, label)| label)
}

/// `GET /admin/connectors`.
pub async fn list(
    State(state): State<ConsoleState>,
    viewer: Viewer,
) -> Result<Rendered, PageError> {
    let connectors = state
        .store
        .workspace_auth_connectors(viewer.workspace.id, None, 200)
        .await?;
    let endpoints = state
        .store
        .workspace_endpoints(viewer.workspace.id, false, None, 200)
        .await?;
    let users = |connector: &AuthConnectorRecord| {
        endpoints
            .iter()
            .filter(|endpoint| endpoint.auth_connector_id == Some(connector.id))
            .collect::<Vec<_>>()
    };
    Ok(page(
        Page::signed_in("Auth connectors", &viewer.workspace.name, Section::Webhooks),
        html! {
            div.bar { h1 { "Auth connectors" } }
            (list_tabs(ListTab::Connectors))
            p.muted { "Credentials your webhooks send to receivers that need them. Hookline keeps them encrypted and never shows a password, token or key again: to change one, give new credentials." }
            @if connectors.is_empty() {
                p.card { "No connectors yet." }
            } @else {
                div.table-wrap {
                    table.stack #connectors {
                        thead { tr { th { "Name" } th { "Type" } th { "Used by" } th { "Created" } th { span.skip { "Actions" } } } }
                        tbody {
                            @for connector in &connectors {
                                @let used = users(connector);
                                tr data-connector=(connector.public_id) data-scope {
                                    td {
                                        (connector.name)
                                        @if !connector.username.is_empty() { br; span.muted { "user " (connector.username) } }
                                        @if !connector.header_name.is_empty() { br; span.muted { "header " span.mono { (connector.header_name) } } }
                                    }
                                    td data-label="Type" { (kind_label(&connector.kind)) }
                                    td data-label="Used by" {
                                        @if used.is_empty() { span.muted { "no webhook" } }
                                        @for (index, endpoint) in used.iter().enumerate() {
                                            @if index > 0 { ", " }
                                            a href=(format!("/admin/webhooks/{}", endpoint.public_id)) { (endpoint.name) }
                                        }
                                    }
                                    td data-label="Created" { (time(connector.created_at)) }
                                    td {
                                        div.actions {
                                            button.small.danger type="button" data-api=(format!("DELETE /api/v1/auth-connectors/{}", connector.public_id))
                                                data-confirm=(format!("Delete the connector {}?", connector.name))
                                                data-then="reload" { "Delete" }
                                        }
                                        p.form-error role="alert" data-form-error hidden {}
                                    }
                                }
                            }
                        }
                    }
                }
                @for connector in &connectors {
                    details.method {
                        summary { "New credentials for " (connector.name) }
                        (change_form(connector))
                    }
                }
            }
            section.card {
                h2 { "New connector" }
                (connector_form("n", None))
            }
        },
    ))
}

/// The form making a connector. `prefix` keeps its element ids apart from the page's other
/// forms; with `add_to` (a select), the new connector is added there and chosen, else the
/// page reloads.
pub(super) fn connector_form(prefix: &str, add_to: Option<&str>) -> Markup {
    let id = |name: &str| format!("{prefix}-{name}");
    let input = |label: &str, name: &str, kind: &str, hint: Option<&str>| {
        html! {
            div.field {
                label for=(id(name)) { (label) }
                input id=(id(name)) name=(name) type=(kind) autocomplete=(if kind == "password" { "new-password" } else { "off" }) spellcheck="false";
                @if let Some(hint) = hint { p.hint { (hint) } }
                p.field-error data-error-for=(name) role="alert" hidden {}
            }
        }
    };
    html! {
        form #(id("connector-form")) data-api="POST /api/v1/auth-connectors"
            data-then=[add_to.is_none().then_some("reload")] data-add-option=[add_to] {
            p.form-error role="alert" data-form-error hidden {}
            (input("Name", "name", "text", Some("e.g. CRM production key")))
            div.field {
                label for=(id("type")) { "Type" }
                select id=(id("type")) name="type" {
                    @for (value, text) in KINDS { option value=(value) { (text) } }
                }
                p.field-error data-error-for="type" role="alert" hidden {}
            }
            fieldset data-show-when="type=basic" {
                legend { "Basic" }
                (input("User name", "username", "text", None))
                (input("Password", "password", "password", None))
            }
            fieldset data-show-when="type=bearer" hidden disabled {
                legend { "Bearer token" }
                (input("Token", "token", "password", Some("Sent as Authorization: Bearer <token>.")))
            }
            fieldset data-show-when="type=api_key" hidden disabled {
                legend { "API key" }
                (input("Header name", "header_name", "text", Some("e.g. X-Api-Key")))
                (input("Key", "key", "password", None))
            }
            div.actions {
                button.primary type="submit" { @if add_to.is_some() { "Done" } @else { "Create connector" } }
                @if add_to.is_some() { button type="button" data-close-dialog { "Cancel" } }
            }
        }
    }
}

/// A new name, or new credentials (every field of its type), for `connector`; its type
/// stays.
fn change_form(connector: &AuthConnectorRecord) -> Markup {
    let prefix = connector.public_id.as_str();
    let id = |name: &str| format!("{prefix}-{name}");
    let input = |label: &str, name: &str, kind: &str, value: &str| {
        html! {
            div.field {
                label for=(id(name)) { (label) }
                input id=(id(name)) name=(name) type=(kind) value=(value) autocomplete=(if kind == "password" { "new-password" } else { "off" }) spellcheck="false";
                p.field-error data-error-for=(name) role="alert" hidden {}
            }
        }
    };
    let api = format!("PATCH /api/v1/auth-connectors/{}", connector.public_id);
    html! {
        form data-api=(api) data-then="reload" {
            p.form-error role="alert" data-form-error hidden {}
            (input("Name", "name", "text", &connector.name))
            button type="submit" { "Rename" }
        }
        form data-api=(api) data-then="reload" {
            p.form-error role="alert" data-form-error hidden {}
            p.hint { "Give every field: the new credentials replace the stored ones, and webhooks using it send them from their next try." }
            @match connector.kind.as_str() {
                "basic" => {
                    (input("User name", "username", "text", &connector.username))
                    (input("Password", "password", "password", ""))
                }
                "bearer" => { (input("Token", "token", "password", "")) }
                _ => {
                    (input("Header name", "header_name", "text", &connector.header_name))
                    (input("Key", "key", "password", ""))
                }
            }
            button.primary type="submit" { "Replace credentials" }
        }
    }
}
