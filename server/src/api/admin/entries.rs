//! Contestants and entries: lists with filters, CSV export, deleting a contestant and their
//! data, and overriding an entry's fraud verdict.

use axum::Json;
use axum::body::Body as ResponseBody;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use futures_util::stream;
use protocol::admin::{Contestant, ContestantDetail, Entry, FraudVerdict, Page, VerdictOverride};
use serde::Deserialize;
use tracing::error;

use super::{AdminState, Body, Caller, PageRequest, Params, campaigns::find, time};
use crate::api::ApiError;
use crate::campaigns::Invalid;
use crate::clock;
use crate::fraud::Decision;
use crate::store::{ContestantRow, EntryFilter, EntryRow, Store};

/// Entries fetched per query while exporting.
const EXPORT_BATCH: u32 = 1_000;

#[derive(Debug, Deserialize)]
pub struct ContestantQuery {
    search: Option<String>,
    cursor: Option<String>,
    limit: Option<u32>,
}

/// `GET /api/v1/campaigns/{key}/contestants?search=&cursor=&limit=`.
pub async fn contestants(
    State(state): State<AdminState>,
    caller: Caller,
    Path(key): Path<String>,
    Params(query): Params<ContestantQuery>,
) -> Result<Json<Page<Contestant>>, ApiError> {
    let campaign = find(&state, &caller, &key).await?;
    let page = PageRequest::new(query.cursor.as_deref(), query.limit)?;
    let rows = state
        .store
        .campaign_contestants(
            campaign.id,
            query.search.as_deref(),
            page.before,
            page.limit,
        )
        .await?;
    Ok(Json(page.page(rows, |row| row.id, contestant_wire)))
}

/// `GET /api/v1/contestants/{id}`: the contestant with every entry they made.
pub async fn contestant(
    State(state): State<AdminState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<ContestantDetail>, ApiError> {
    let contestant = state
        .store
        .workspace_contestant(caller.workspace.id, id)
        .await?
        .ok_or(ApiError::NotFound("contestant"))?;
    let entries = state.store.contestant_entries(id).await?;
    Ok(Json(ContestantDetail {
        contestant: contestant_wire(contestant),
        entries: entries.into_iter().map(entry_wire).collect(),
    }))
}

/// `DELETE /api/v1/contestants/{id}`: the contestant, their entries and those entries'
/// webhook deliveries and attempts are deleted (sent webhooks cannot be called back).
pub async fn delete_contestant(
    State(state): State<AdminState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    if state
        .store
        .delete_contestant(caller.workspace.id, id)
        .await?
    {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound("contestant"))
    }
}

#[derive(Debug, Deserialize)]
pub struct EntryQuery {
    /// A campaign key.
    campaign: Option<String>,
    entry_method_id: Option<i64>,
    verdict: Option<String>,
    since: Option<String>,
    until: Option<String>,
    search: Option<String>,
    cursor: Option<String>,
    limit: Option<u32>,
}

/// `GET /api/v1/entries?campaign=&entry_method_id=&verdict=&since=&until=&search=`.
pub async fn list(
    State(state): State<AdminState>,
    caller: Caller,
    Params(query): Params<EntryQuery>,
) -> Result<Json<Page<Entry>>, ApiError> {
    let page = PageRequest::new(query.cursor.as_deref(), query.limit)?;
    let mut filter = filter(&state, &caller, &query).await?;
    filter.before = page.before;
    let rows = state
        .store
        .workspace_entries(caller.workspace.id, &filter, page.limit)
        .await?;
    Ok(Json(page.page(rows, |row| row.id.0, entry_wire)))
}

/// `GET /api/v1/entries/export.csv?…`: every entry the same filters match, newest first, as
/// CSV (one row per entry, the contestant's details as JSON), streamed in batches.
pub async fn export_csv(
    State(state): State<AdminState>,
    caller: Caller,
    Params(query): Params<EntryQuery>,
) -> Result<Response, ApiError> {
    let filter = filter(&state, &caller, &query).await?;
    let store = state.store.clone();
    let workspace_id = caller.workspace.id;
    let header = Some(csv_chunk(&[], true));
    let batches = stream::unfold(
        (store, filter, header, false),
        move |(store, mut filter, header, done)| async move {
            if let Some(header) = header {
                return Some((Ok(header), (store, filter, None, false)));
            }
            if done {
                return None;
            }
            match export_batch(&store, workspace_id, &filter).await {
                Ok(rows) if rows.is_empty() => None,
                Ok(rows) => {
                    let last = rows.len() < EXPORT_BATCH as usize;
                    filter.before = rows.last().map(|row| row.id.0);
                    let chunk = csv_chunk(&rows, false);
                    Some((Ok(chunk), (store, filter, None, last)))
                }
                Err(cause) => {
                    // The status line is sent already: the cut-off body is all there is to say.
                    error!(error = %cause, "CSV export failed part way");
                    Some((Err(cause), (store, filter, None, true)))
                }
            }
        },
    );
    Ok((
        [
            (CONTENT_TYPE, "text/csv; charset=utf-8"),
            (CONTENT_DISPOSITION, "attachment; filename=\"entries.csv\""),
        ],
        ResponseBody::from_stream(batches),
    )
        .into_response())
}

async fn export_batch(
    store: &Store,
    workspace_id: i64,
    filter: &EntryFilter,
) -> Result<Vec<EntryRow>, std::io::Error> {
    store
        .workspace_entries(workspace_id, filter, EXPORT_BATCH)
        .await
        .map_err(std::io::Error::other)
}

/// The CSV text of `rows`, or of the header line.
fn csv_chunk(rows: &[EntryRow], header: bool) -> Vec<u8> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let written: Result<(), csv::Error> = (|| {
        if header {
            writer.write_record([
                "entry_id",
                "created_at",
                "campaign",
                "entry_method_id",
                "type",
                "action",
                "value",
                "worth",
                "contestant_id",
                "email",
                "name",
                "first_name",
                "last_name",
                "details",
                "verdict",
                "fraud_score",
                "fraud_reasons",
                "landing_url",
                "referring_url",
                "client_ip",
                "consent_text",
            ])?;
        }
        for row in rows {
            writer.write_record([
                row.id.to_string(),
                clock::rfc3339(row.created_at),
                row.campaign_key.to_string(),
                row.entry_method_id.to_string(),
                row.method_type.clone(),
                row.action.clone(),
                row.value.clone(),
                row.worth.to_string(),
                row.contestant_id.to_string(),
                row.email.clone(),
                row.name.clone(),
                row.first_name.clone(),
                row.last_name.clone(),
                serde_json::Value::from(serde_json::Map::from_iter(row.details.clone()))
                    .to_string(),
                row.verdict.as_str().to_owned(),
                row.fraud_score.to_string(),
                row.fraud_reasons.join(" "),
                row.landing_url.clone(),
                row.referring_url.clone(),
                row.client_ip.clone().unwrap_or_default(),
                row.consent_text.clone().unwrap_or_default(),
            ])?;
        }
        Ok(())
    })();
    // Writing to a Vec cannot fail.
    written.expect("CSV into memory");
    writer.into_inner().unwrap_or_default()
}

/// `GET /api/v1/entries/{id}`.
pub async fn get(
    State(state): State<AdminState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<Entry>, ApiError> {
    let entry = state
        .store
        .workspace_entry(caller.workspace.id, id)
        .await?
        .ok_or(ApiError::NotFound("entry"))?;
    Ok(Json(entry_wire(entry)))
}

/// `PUT /api/v1/entries/{id}/verdict`: a person's verdict replaces the filter's (which is
/// kept as `original_verdict`). Disqualifying cancels the entry's unsent `subscriber.created`;
/// clearing a disqualification sends the ones it had cancelled.
pub async fn set_verdict(
    State(state): State<AdminState>,
    caller: Caller,
    Path(id): Path<i64>,
    Body(change): Body<VerdictOverride>,
) -> Result<Json<Entry>, ApiError> {
    let verdict = Decision::parse(change.verdict.trim()).ok_or_else(|| Invalid {
        field: "verdict".to_owned(),
        detail: "The verdict is one of accepted, flagged and disqualified.".to_owned(),
    })?;
    state
        .store
        .override_verdict(caller.workspace.id, id, verdict, clock::now_millis())
        .await?
        .ok_or(ApiError::NotFound("entry"))?;
    get(State(state), caller, Path(id)).await
}

async fn filter(
    state: &AdminState,
    caller: &Caller,
    query: &EntryQuery,
) -> Result<EntryFilter, ApiError> {
    let campaign_id = match query.campaign.as_deref().filter(|key| !key.is_empty()) {
        Some(key) => Some(find(state, caller, key).await?.id),
        None => None,
    };
    let verdict = query
        .verdict
        .as_deref()
        .filter(|verdict| !verdict.is_empty())
        .map(|verdict| {
            Decision::parse(verdict).ok_or_else(|| {
                ApiError::InvalidQuery(format!(
                    "verdict {verdict:?} is not one of accepted, flagged and disqualified"
                ))
            })
        })
        .transpose()?;
    let time = |name: &str, value: &Option<String>| {
        value
            .as_deref()
            .filter(|value| !value.is_empty())
            .map(|value| {
                clock::parse_rfc3339(value).ok_or_else(|| {
                    ApiError::InvalidQuery(format!("{name} {value:?} is not an RFC 3339 time"))
                })
            })
            .transpose()
    };
    Ok(EntryFilter {
        campaign_id,
        entry_method_id: query.entry_method_id,
        verdict,
        since: time("since", &query.since)?,
        until: time("until", &query.until)?,
        search: query.search.clone(),
        before: None,
    })
}

fn contestant_wire(row: ContestantRow) -> Contestant {
    Contestant {
        id: row.id,
        campaign: row.campaign_key,
        email: row.email,
        name: row.name,
        first_name: row.first_name,
        last_name: row.last_name,
        details: row.details,
        actions_completed: row.actions_completed,
        total_entries: row.total_entries,
        created_at: clock::rfc3339(row.created_at),
        updated_at: clock::rfc3339(row.updated_at),
    }
}

fn entry_wire(row: EntryRow) -> Entry {
    Entry {
        id: row.id,
        campaign: row.campaign_key,
        contestant_id: row.contestant_id,
        email: row.email,
        name: row.name,
        entry_method_id: row.entry_method_id,
        entry_type: row.method_type,
        action: row.action,
        value: row.value,
        worth: row.worth,
        landing_url: row.landing_url,
        referring_url: row.referring_url,
        client_ip: row.client_ip,
        consent_text: row.consent_text,
        fraud: FraudVerdict {
            verdict: row.verdict.as_str().to_owned(),
            score: row.fraud_score,
            reasons: row.fraud_reasons,
            original_verdict: row
                .original_verdict
                .map(|verdict| verdict.as_str().to_owned()),
            overridden_at: time(row.verdict_overridden_at),
        },
        created_at: clock::rfc3339(row.created_at),
    }
}
