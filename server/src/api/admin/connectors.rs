//! Auth connectors: credentials (Basic, Bearer, API key) made once and used by many
//! endpoints. Encrypted at rest; never returned after they are given. Deleting one that an
//! endpoint uses is refused (409 `connector_in_use`).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use protocol::admin::Page;
use protocol::admin::webhooks::{
    AuthConnector, AuthConnectorChanges, FieldProblem, NewAuthConnector,
};
use serde::Deserialize;

use super::{AdminState, Body, Caller, PageRequest, Params};
use crate::api::ApiError;
use crate::clock;
use crate::endpoints::{self, InvalidSettings};
use crate::outbound::Auth;
use crate::store::{AuthConnectorRecord, ConnectorWrite, DeleteConnector};

const MAX_NAME: usize = 100;

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    cursor: Option<String>,
    limit: Option<u32>,
}

/// `GET /api/v1/auth-connectors`.
pub async fn list(
    State(state): State<AdminState>,
    caller: Caller,
    Params(query): Params<ListQuery>,
) -> Result<Json<Page<AuthConnector>>, ApiError> {
    let page = PageRequest::new(query.cursor.as_deref(), query.limit)?;
    let connectors = state
        .store
        .workspace_auth_connectors(caller.workspace.id, page.before, page.limit)
        .await?;
    let mut wired = Vec::with_capacity(connectors.len());
    for connector in connectors {
        let users = state.store.auth_connector_endpoints(connector.id).await?;
        wired.push((connector.id, endpoints::connector_wire(&connector, users)));
    }
    Ok(Json(page.page(wired, |(id, _)| *id, |(_, wire)| wire)))
}

fn check_name(name: &str) -> Result<&str, ApiError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME {
        return Err(ApiError::InvalidSettings(InvalidSettings(vec![
            FieldProblem {
                field: "name".into(),
                message: format!("must be 1 to {MAX_NAME} characters"),
                line: None,
                column: None,
            },
        ])));
    }
    Ok(name)
}

/// `POST /api/v1/auth-connectors`: 201 with the connector (never its secret parts).
pub async fn create(
    State(state): State<AdminState>,
    caller: Caller,
    Body(new): Body<NewAuthConnector>,
) -> Result<Response, ApiError> {
    let name = check_name(&new.name)?;
    let fields = AuthConnectorChanges {
        name: None,
        username: new.username.clone(),
        password: new.password.clone(),
        token: new.token.clone(),
        header_name: new.header_name.clone(),
        key: new.key.clone(),
    };
    let auth = endpoints::connector_credentials(&new.kind, &fields)?;
    let public_id = endpoints::new_connector_id();
    let secret = encrypt(&state, &auth, public_id.as_str())?;
    let (username, header_name) = endpoints::shown_credentials(&auth);
    let connector = state
        .store
        .insert_auth_connector(
            caller.workspace.id,
            &public_id,
            &ConnectorWrite {
                name,
                kind: endpoints::connector_kind(&auth),
                username: &username,
                header_name: &header_name,
                secret: &secret,
            },
            clock::now_millis(),
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(endpoints::connector_wire(&connector, Vec::new())),
    )
        .into_response())
}

/// `GET /api/v1/auth-connectors/{id}`.
pub async fn get(
    State(state): State<AdminState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<AuthConnector>, ApiError> {
    let connector = find(&state, &caller, &id).await?;
    let users = state.store.auth_connector_endpoints(connector.id).await?;
    Ok(Json(endpoints::connector_wire(&connector, users)))
}

/// `PATCH /api/v1/auth-connectors/{id}`: a new name and/or new credentials (every field of
/// its type); endpoints using it send with the new ones from their next try.
pub async fn change(
    State(state): State<AdminState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(changes): Body<AuthConnectorChanges>,
) -> Result<Json<AuthConnector>, ApiError> {
    let current = find(&state, &caller, &id).await?;
    let name = match &changes.name {
        Some(name) => check_name(name)?.to_owned(),
        None => current.name.clone(),
    };
    let new_credentials = changes.username.is_some()
        || changes.password.is_some()
        || changes.token.is_some()
        || changes.header_name.is_some()
        || changes.key.is_some();
    let (secret, username, header_name) = if new_credentials {
        let auth = endpoints::connector_credentials(&current.kind, &changes)?;
        let (username, header_name) = endpoints::shown_credentials(&auth);
        (
            encrypt(&state, &auth, current.public_id.as_str())?,
            username,
            header_name,
        )
    } else {
        (
            current.secret.clone(),
            current.username.clone(),
            current.header_name.clone(),
        )
    };
    let connector = state
        .store
        .update_auth_connector(
            current.id,
            &ConnectorWrite {
                name: &name,
                kind: &current.kind,
                username: &username,
                header_name: &header_name,
                secret: &secret,
            },
            clock::now_millis(),
        )
        .await?;
    let users = state.store.auth_connector_endpoints(connector.id).await?;
    Ok(Json(endpoints::connector_wire(&connector, users)))
}

/// `DELETE /api/v1/auth-connectors/{id}`: 204; 409 `connector_in_use` while an endpoint
/// (not deleted) uses it.
pub async fn delete(
    State(state): State<AdminState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let connector = find(&state, &caller, &id).await?;
    match state
        .store
        .delete_auth_connector(caller.workspace.id, connector.id)
        .await?
    {
        DeleteConnector::Deleted => Ok(StatusCode::NO_CONTENT),
        DeleteConnector::NotFound => Err(ApiError::NotFound("auth connector")),
        DeleteConnector::InUse(users) => Err(ApiError::Conflict(
            "connector_in_use",
            format!(
                "These endpoints use this connector: {}. Change or delete them first.",
                users
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )),
    }
}

async fn find(
    state: &AdminState,
    caller: &Caller,
    id: &str,
) -> Result<AuthConnectorRecord, ApiError> {
    state
        .store
        .workspace_auth_connector(caller.workspace.id, id)
        .await?
        .ok_or(ApiError::NotFound("auth connector"))
}

/// The credentials' JSON encrypted under the master key, bound to the connector's id.
fn encrypt(state: &AdminState, auth: &Auth, public_id: &str) -> Result<String, ApiError> {
    let plain = zeroize::Zeroizing::new(serde_json::to_string(auth).map_err(|_| {
        ApiError::Conflict(
            "connector_unusable",
            "the credentials cannot be stored".into(),
        )
    })?);
    state
        .delivery
        .master_key()
        .encrypt(&plain, public_id.as_bytes())
        .map_err(|error| ApiError::Conflict("connector_unusable", error.to_string()))
}
