//! First-run setup and the workspace's API keys.

use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;

use super::layout::{self, Page, Rendered, Section, page, time};
use super::{ConsoleState, PageError, Viewer};
use crate::store::API_KEY_PREFIX;

/// `GET /admin/setup`: makes the first workspace and shows its key once. Only while the
/// server has no workspace.
pub async fn setup_page(State(state): State<ConsoleState>) -> Result<Response, PageError> {
    if state.store.any_workspace().await? {
        return Ok(Redirect::to("/admin/sign-in").into_response());
    }
    Ok(page(
        Page::bare("Set up Hookline"),
        html! {
            h1 { "Set up Hookline" }
            p { "This server has no workspace yet. Make one: it owns your campaigns, webhooks and API keys." }
            form.card #setup data-api="POST /api/v1/setup" data-reveal="#new-key" data-reveal-field="api_key.key" data-hide-on-success {
                (layout::form_status())
                (layout::text_field("Workspace name", "name", "", Some("Your company or site, e.g. Acme Coffee.")))
                (layout::text_field("Name of its first API key", "key_name", "Console", None))
                button.primary type="submit" { "Create the workspace" }
            }
            section.card.secret #new-key hidden tabindex="-1" aria-live="polite" {
                h2 { "Your API key" }
                p { "Keep it somewhere safe: it is shown only now. It signs you in here and authorises the admin API." }
                p { code #new-key-value data-value {} " " (layout::copy_button("new-key-value")) }
                form method="post" action="/admin/sign-in" {
                    input type="hidden" name="key" data-value-input;
                    button.primary type="submit" { "I have saved it: sign in" }
                }
            }
        },
    )
    .into_response())
}

/// `GET /admin/keys`.
pub async fn keys(
    State(state): State<ConsoleState>,
    viewer: Viewer,
) -> Result<Rendered, PageError> {
    let keys = state.store.api_keys(viewer.workspace.id).await?;
    Ok(page(
        Page::signed_in("API keys", &viewer.workspace.name, Section::Keys),
        html! {
            h1 { "API keys" }
            p.muted { "Keys authorise the admin API (" a href="/api/v1/openapi.json" { "OpenAPI" } ") and signing in here. Hookline keeps only a hash: a key is shown once, when it is made." }
            div.table-wrap {
                table {
                    thead { tr { th { "Name" } th { "Key" } th { "Created" } th { "Last used" } th { "Status" } th {} } }
                    tbody {
                        @for key in &keys {
                            tr {
                                td { (key.name) }
                                td.mono { (API_KEY_PREFIX) "…" (key.token_hint) }
                                td { (time(key.created_at)) }
                                td { @if let Some(used) = key.last_used_at { (time(used)) } @else { span.muted { "never" } } }
                                td {
                                    @if key.revoked_at.is_some() { span.badge.bad { "revoked" } }
                                    @else { span.badge.good { "valid" } }
                                }
                                td {
                                    @if key.revoked_at.is_none() {
                                        button.small.danger type="button"
                                            data-api=(format!("DELETE /api/v1/api-keys/{}", key.public_id))
                                            data-confirm=(format!("Revoke the key {}? Whatever uses it stops working at once.", key.name))
                                            data-then="reload" { "Revoke" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            p.form-error role="alert" data-form-error hidden {}
            h2 { "New key" }
            form.card data-api="POST /api/v1/api-keys" data-reveal="#new-key" data-reveal-field="key" {
                (layout::form_status())
                (layout::text_field("Name", "name", "", Some("What will use it, e.g. CRM sync.")))
                button.primary type="submit" { "Create key" }
            }
            section.card.secret #new-key hidden tabindex="-1" aria-live="polite" {
                h2 { "The new key" }
                p { "Copy it now: it is not shown again." }
                p { code #new-key-value data-value {} " " (layout::copy_button("new-key-value")) }
                p { a href="/admin/keys" { "Done" } }
            }
        },
    ))
}
