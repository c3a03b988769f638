//! First-run setup, workspaces and API keys.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use protocol::admin::{
    ApiKey, ApiKeyCreated, NewApiKey, NewWorkspace, Workspace, WorkspaceChanges, WorkspaceCreated,
};

use super::{AdminState, Body, Caller, bearer, time};
use crate::api::ApiError;
use crate::campaigns::{self, Invalid};
use crate::clock;
use crate::store::{API_KEY_PREFIX, ApiKeyRecord, CreatedApiKey, WorkspaceRecord};

/// The first key's name when the request gives none.
const DEFAULT_KEY_NAME: &str = "Default";

/// `POST /api/v1/setup`: creates the first workspace and its first key, once. Needs no key
/// (there is none yet); answers 409 `already_set_up` once a workspace exists.
pub async fn setup(
    State(state): State<AdminState>,
    Body(new): Body<NewWorkspace>,
) -> Result<Response, ApiError> {
    let (name, key_name) = names(&new)?;
    let created = state
        .store
        .create_workspace(&name, &key_name, true, clock::now_millis())
        .await?
        .ok_or_else(|| {
            ApiError::Conflict(
                "already_set_up",
                "This server is set up already: sign in with an API key of its workspace."
                    .to_owned(),
            )
        })?;
    Ok(created_response(created))
}

/// `POST /api/v1/workspaces`: another workspace, for the holder of the operator key
/// (`HOOKLINE_OPERATOR_KEY`). Without that setting the route does not exist (404).
pub async fn create(
    State(state): State<AdminState>,
    headers: HeaderMap,
    Body(new): Body<NewWorkspace>,
) -> Result<Response, ApiError> {
    let Some(operator_key) = &state.operator_key else {
        return Err(ApiError::NotFound("route"));
    };
    if bearer(&headers) != Some(operator_key.as_ref()) {
        return Err(ApiError::Unauthorized);
    }
    let (name, key_name) = names(&new)?;
    let created = state
        .store
        .create_workspace(&name, &key_name, false, clock::now_millis())
        .await?
        .ok_or(ApiError::NotFound("workspace"))?;
    Ok(created_response(created))
}

fn names(new: &NewWorkspace) -> Result<(String, String), Invalid> {
    let name = checked_name("name", &new.name)?;
    let key_name = checked_name(
        "key_name",
        new.key_name.as_deref().unwrap_or(DEFAULT_KEY_NAME),
    )?;
    Ok((name, key_name))
}

fn checked_name(field: &str, name: &str) -> Result<String, Invalid> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > campaigns::MAX_NAME_LEN {
        return Err(Invalid {
            field: field.to_owned(),
            detail: format!("A name is 1 to {} characters.", campaigns::MAX_NAME_LEN),
        });
    }
    Ok(name.to_owned())
}

fn created_response((workspace, key): (WorkspaceRecord, CreatedApiKey)) -> Response {
    (
        StatusCode::CREATED,
        Json(WorkspaceCreated {
            workspace: workspace_info(&workspace),
            api_key: created_key(key),
        }),
    )
        .into_response()
}

/// `GET /api/v1/workspace`: the caller's workspace.
pub async fn current(caller: Caller) -> Json<Workspace> {
    Json(workspace_info(&caller.workspace))
}

/// `PATCH /api/v1/workspace`.
pub async fn rename(
    State(state): State<AdminState>,
    caller: Caller,
    Body(changes): Body<WorkspaceChanges>,
) -> Result<Json<Workspace>, ApiError> {
    let name = checked_name("name", &changes.name)?;
    state
        .store
        .rename_workspace(caller.workspace.id, &name)
        .await?;
    Ok(Json(workspace_info(&WorkspaceRecord {
        name,
        ..caller.workspace
    })))
}

/// `GET /api/v1/api-keys`: every key of the workspace, revoked ones too, never the keys.
pub async fn keys(
    State(state): State<AdminState>,
    caller: Caller,
) -> Result<Json<Vec<ApiKey>>, ApiError> {
    let keys = state.store.api_keys(caller.workspace.id).await?;
    Ok(Json(keys.iter().map(key_info).collect()))
}

/// `POST /api/v1/api-keys`: a new key, shown in this answer only.
pub async fn create_key(
    State(state): State<AdminState>,
    caller: Caller,
    Body(new): Body<NewApiKey>,
) -> Result<Response, ApiError> {
    let name = checked_name("name", &new.name)?;
    let created = state
        .store
        .create_api_key(caller.workspace.id, &name, clock::now_millis())
        .await?;
    Ok((StatusCode::CREATED, Json(created_key(created))).into_response())
}

/// `DELETE /api/v1/api-keys/{id}`: revokes a key at once. The workspace's last valid key
/// cannot be revoked (409 `last_key`): nobody could sign in again.
pub async fn revoke_key(
    State(state): State<AdminState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let keys = state.store.api_keys(caller.workspace.id).await?;
    let Some(key) = keys.iter().find(|key| key.public_id.as_str() == id) else {
        return Err(ApiError::NotFound("API key"));
    };
    let others_valid = keys
        .iter()
        .any(|other| other.id != key.id && other.revoked_at.is_none());
    if key.revoked_at.is_none() && !others_valid {
        return Err(ApiError::Conflict(
            "last_key",
            "This is the workspace's last valid key: create another before revoking it.".to_owned(),
        ));
    }
    state
        .store
        .revoke_api_key(caller.workspace.id, &id, clock::now_millis())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

fn workspace_info(workspace: &WorkspaceRecord) -> Workspace {
    Workspace {
        id: workspace.public_id.clone(),
        name: workspace.name.clone(),
        created_at: clock::rfc3339(workspace.created_at),
    }
}

fn key_info(key: &ApiKeyRecord) -> ApiKey {
    ApiKey {
        id: key.public_id.clone(),
        name: key.name.clone(),
        hint: format!("{API_KEY_PREFIX}…{}", key.token_hint),
        created_at: clock::rfc3339(key.created_at),
        last_used_at: time(key.last_used_at),
        revoked_at: time(key.revoked_at),
    }
}

fn created_key(created: CreatedApiKey) -> ApiKeyCreated {
    ApiKeyCreated {
        info: key_info(&created.record),
        key: created.key,
    }
}
