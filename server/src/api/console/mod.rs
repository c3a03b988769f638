//! The admin console at `/admin`: pages for site owners who will never call an API.
//!
//! Server-rendered HTML (maud), one page per screen, readable without a script. Changes go
//! through the JSON admin API itself: `www/console/console.js` (a small, generic form
//! binder) sends each form as the JSON its `data-api-*` attributes name, with the session
//! cookie and the `X-Hookline-Console` header, and shows the API's `{code, detail, field}`
//! errors beside the field they name, keeping what was typed. So every rule lives once, in
//! the API, and the console cannot drift from it.
//!
//! Signing in turns an API key into a session cookie (`HttpOnly`, `SameSite=Strict`, path
//! `/`); first-run setup makes the workspace and shows its key once. Must not hold business
//! rules: pages read through the store and render.

mod campaigns;
mod connectors;
mod entries;
mod history;
mod layout;
mod sends;
mod streams;
mod webhooks;
mod workspace;

use std::sync::Arc;

use axum::Router;
use axum::extract::{Form, FromRequestParts, State};
use axum::http::header::{LOCATION, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use maud::html;
use serde::Deserialize;

use super::admin::{SESSION_COOKIE, session_cookie};
use crate::clock;
use crate::store::{Store, StoreError, WorkspaceRecord};
use layout::{Page, Rendered, page};

/// How long a console session lasts.
const SESSION_MS: i64 = 12 * 3600 * 1000;

/// What the console's pages share.
#[derive(Debug, Clone)]
pub struct ConsoleState {
    pub store: Store,
    /// This server's URL as people reach it.
    pub base_url: Arc<str>,
}

pub fn routes(state: ConsoleState) -> Router {
    Router::new()
        .route("/admin", get(home))
        .route("/admin/", get(home))
        .route("/admin/sign-in", get(sign_in_page).post(sign_in))
        .route("/admin/sign-out", post(sign_out))
        .route("/admin/setup", get(workspace::setup_page))
        .route("/admin/campaigns", get(campaigns::list))
        .route("/admin/campaigns/new", get(campaigns::new_page))
        .route("/admin/campaigns/{key}", get(campaigns::edit))
        .route("/admin/entries", get(entries::list))
        .route("/admin/contestants/{id}", get(entries::contestant))
        .route("/admin/keys", get(workspace::keys))
        .route("/admin/webhooks", get(webhooks::list))
        .route("/admin/webhooks/new", get(webhooks::new_page))
        .route("/admin/webhooks/{id}", get(webhooks::edit))
        .route("/admin/webhooks/{id}/example", get(webhooks::example))
        .route("/admin/webhooks/{id}/sends", get(sends::sends))
        .route(
            "/admin/webhooks/{id}/history",
            get(history::endpoint_history),
        )
        .route("/admin/deliveries", get(history::all))
        .route("/admin/deliveries/{id}", get(history::detail))
        .route("/admin/connectors", get(connectors::list))
        .route("/admin/streams", get(streams::list))
        .with_state(state)
}

/// The signed-in workspace, from the session cookie; pages without one send the visitor to
/// the sign-in page (or to setup, on a server not set up yet).
#[derive(Debug, Clone)]
pub struct Viewer {
    pub workspace: WorkspaceRecord,
}

/// Why a page was not shown.
#[derive(Debug)]
pub enum PageError {
    SignIn,
    Setup,
    NotFound,
    Store(StoreError),
}

impl From<StoreError> for PageError {
    fn from(error: StoreError) -> Self {
        Self::Store(error)
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        match self {
            Self::SignIn => Redirect::to("/admin/sign-in").into_response(),
            Self::Setup => Redirect::to("/admin/setup").into_response(),
            Self::NotFound => (
                StatusCode::NOT_FOUND,
                page(
                    Page::bare("Not found"),
                    html! {
                        h1 { "Not found" }
                        p { "There is nothing here, or it belongs to another workspace." }
                        p { a href="/admin/campaigns" { "Back to campaigns" } }
                    },
                ),
            )
                .into_response(),
            Self::Store(error) => {
                tracing::error!(%error, "a console page failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    page(
                        Page::bare("Something went wrong"),
                        html! {
                            h1 { "Something went wrong" }
                            p { "Please try again. If it keeps happening, the server's log says why." }
                        },
                    ),
                )
                    .into_response()
            }
        }
    }
}

impl FromRequestParts<ConsoleState> for Viewer {
    type Rejection = PageError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &ConsoleState,
    ) -> Result<Self, Self::Rejection> {
        let now = clock::now_millis();
        if let Some(token) = session_cookie(&parts.headers)
            && let Some(caller) = state.store.console_session(token, now).await?
        {
            return Ok(Self {
                workspace: caller.workspace,
            });
        }
        if state.store.any_workspace().await? {
            Err(PageError::SignIn)
        } else {
            Err(PageError::Setup)
        }
    }
}

async fn home(viewer: Result<Viewer, PageError>) -> Response {
    match viewer {
        Ok(_) => Redirect::to("/admin/campaigns").into_response(),
        Err(error) => error.into_response(),
    }
}

#[derive(Debug, Deserialize)]
pub struct SignIn {
    key: String,
}

async fn sign_in_page(State(state): State<ConsoleState>) -> Result<Rendered, PageError> {
    if !state.store.any_workspace().await? {
        return Err(PageError::Setup);
    }
    Ok(sign_in_form(None))
}

fn sign_in_form(problem: Option<&str>) -> Rendered {
    page(
        Page::bare("Sign in"),
        html! {
            h1 { "Sign in to Hookline" }
            form.card method="post" action="/admin/sign-in" {
                @if let Some(problem) = problem {
                    p.form-error role="alert" id="key-error" { (problem) }
                }
                div.field {
                    label for="key" { "API key" }
                    input #key name="key" type="password" autocomplete="current-password"
                        required placeholder="hlk_…" autofocus
                        aria-invalid=[problem.map(|_| "true")]
                        aria-describedby=[problem.map(|_| "key-error")];
                    p.hint { "Your workspace's key (from setup, or from another signed-in person's API keys page)." }
                }
                button.primary type="submit" { "Sign in" }
            }
        },
    )
}

/// `POST /admin/sign-in` (a plain form): a session cookie for a valid key.
async fn sign_in(State(state): State<ConsoleState>, Form(form): Form<SignIn>) -> Response {
    let now = clock::now_millis();
    match state
        .store
        .create_console_session(form.key.trim(), now, now + SESSION_MS)
        .await
    {
        Ok(Some(token)) => {
            let secure = if state.base_url.starts_with("https://") {
                "; Secure"
            } else {
                ""
            };
            let cookie = format!(
                "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{secure}",
                SESSION_MS / 1000
            );
            let mut response = Redirect::to("/admin/campaigns").into_response();
            if let Ok(cookie) = HeaderValue::from_str(&cookie) {
                response.headers_mut().insert(SET_COOKIE, cookie);
            }
            response
        }
        Ok(None) => (
            StatusCode::UNAUTHORIZED,
            sign_in_form(Some(
                "That is not a valid API key. Check it, or ask for a new one.",
            )),
        )
            .into_response(),
        Err(error) => PageError::Store(error).into_response(),
    }
}

/// `POST /admin/sign-out`: ends the session and clears the cookie.
async fn sign_out(State(state): State<ConsoleState>, headers: HeaderMap) -> Response {
    if let Some(token) = session_cookie(&headers)
        && let Err(error) = state
            .store
            .end_console_session(token, clock::now_millis())
            .await
    {
        return PageError::Store(error).into_response();
    }
    let mut response = StatusCode::SEE_OTHER.into_response();
    response
        .headers_mut()
        .insert(LOCATION, HeaderValue::from_static("/admin/sign-in"));
    response.headers_mut().insert(
        SET_COOKIE,
        HeaderValue::from_static("hl_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"),
    );
    response
}
