//! The agents' HTTP API, behind their session token (`Authorization: Bearer <token>`):
//! knowledge search and recommended items (推荐知识), and canned phrases (常用语).
//!
//! Search is kefu-core's robot over the same index the hub answers customers with; the
//! recommended list is kefu-core's ranking of the stored hit counts. A personal phrase is
//! visible to and changed by its owner only; shared phrases are read by every agent and
//! changed by admins.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use kefu_core::config::{CannedPhrase, Config};
use serde::{Deserialize, Serialize};

use crate::app::AppState;
use crate::http::{api_error, bearer_token, internal};
use crate::store::{AgentRecord, CannedPhraseRecord};

/// At most this many items in a search or recommended answer.
const MAX_RESULTS: usize = 20;

/// The agent a request's bearer token belongs to, or the `401` to answer with.
async fn agent(state: &AppState, headers: &HeaderMap) -> Result<AgentRecord, Response> {
    let Some(token) = bearer_token(headers) else {
        return Err(api_error(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "missing bearer token",
        ));
    };
    match state
        .store
        .agent_for_session(token, state.clock.now_ms())
        .await
    {
        Ok(Some(agent)) => Ok(agent),
        Ok(None) => Err(api_error(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "the session token is not valid; log in again",
        )),
        Err(error) => Err(internal(error)),
    }
}

#[derive(Deserialize)]
pub struct SearchQuery {
    q: String,
}

#[derive(Serialize)]
struct SearchResult {
    id: String,
    question: String,
    answer: String,
    score: f64,
}

/// `GET /api/agent/knowledge/search?q=…`: the robot's best item and its other likely items.
pub async fn search(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(query): Query<SearchQuery>,
) -> Response {
    if let Err(response) = agent(&state, &headers).await {
        return response;
    }
    let result = state.hub.knowledge.get().ask(&query.q);
    let results: Vec<SearchResult> = result
        .best
        .into_iter()
        .chain(result.suggestions)
        .take(MAX_RESULTS)
        .map(|hit| SearchResult {
            id: hit.id,
            question: hit.question,
            answer: hit.answer,
            score: hit.score,
        })
        .collect();
    Json(serde_json::json!({ "results": results })).into_response()
}

#[derive(Deserialize)]
pub struct RecommendedQuery {
    limit: Option<usize>,
}

#[derive(Serialize)]
struct RecommendedItem {
    id: String,
    category: String,
    question: String,
    answer: String,
    hit_count: u64,
}

/// `GET /api/agent/knowledge/recommended?limit=…`: the most asked enabled items.
pub async fn recommended(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(query): Query<RecommendedQuery>,
) -> Response {
    if let Err(response) = agent(&state, &headers).await {
        return response;
    }
    let items = match state.store.knowledge().await {
        Ok(items) => items,
        Err(error) => return internal(error),
    };
    let enabled: Vec<_> = items.into_iter().filter(|(item, _)| item.enabled).collect();
    let hit_counts: Vec<(String, u64)> = enabled
        .iter()
        .map(|(item, hits)| (item.id.clone(), *hits))
        .collect();
    let limit = query.limit.unwrap_or(10).min(MAX_RESULTS);
    let ranked: Vec<RecommendedItem> = kefu_core::robot::recommended(&hit_counts, limit)
        .into_iter()
        .filter_map(|id| enabled.iter().find(|(item, _)| item.id == id))
        .map(|(item, hits)| RecommendedItem {
            id: item.id.clone(),
            category: item.category.clone(),
            question: item.question.clone(),
            answer: item.answer.clone(),
            hit_count: *hits,
        })
        .collect();
    Json(serde_json::json!({ "items": ranked })).into_response()
}

#[derive(Serialize)]
struct PhraseView {
    id: String,
    category: String,
    content: String,
    /// Shared by every agent (else personal to the caller).
    shared: bool,
}

impl From<CannedPhraseRecord> for PhraseView {
    fn from(record: CannedPhraseRecord) -> Self {
        PhraseView {
            id: record.id,
            category: record.category,
            content: record.content,
            shared: record.owner_agent_id.is_none(),
        }
    }
}

/// `GET /api/agent/canned-phrases`: the shared phrases and the caller's own.
pub async fn list_phrases(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    let agent = match agent(&state, &headers).await {
        Ok(agent) => agent,
        Err(response) => return response,
    };
    match state.store.canned_phrases_for(&agent.id).await {
        Ok(phrases) => {
            let phrases: Vec<PhraseView> = phrases.into_iter().map(PhraseView::from).collect();
            Json(serde_json::json!({ "phrases": phrases })).into_response()
        }
        Err(error) => internal(error),
    }
}

#[derive(Deserialize)]
pub struct NewPhrase {
    #[serde(default)]
    category: String,
    content: String,
    /// A shared phrase (admins only); personal by default.
    #[serde(default)]
    shared: bool,
}

#[derive(Deserialize)]
pub struct PhraseChange {
    #[serde(default)]
    category: String,
    content: String,
}

/// kefu-core's rules for a canned phrase: `None`, or the `400` listing the problems.
fn phrase_problems(category: &str, content: &str) -> Option<Response> {
    let config = Config {
        canned_phrases: vec![CannedPhrase {
            category: category.to_owned(),
            content: content.to_owned(),
            owner: None,
        }],
        ..Config::default()
    };
    let problems: Vec<String> = match config.validate() {
        Ok(()) => Vec::new(),
        Err(errors) => errors
            .problems
            .iter()
            .filter_map(|problem| {
                problem
                    .path
                    .strip_prefix("canned_phrases[0].")
                    .map(|field| format!("{field} {}", problem.message))
            })
            .collect(),
    };
    (!problems.is_empty())
        .then(|| api_error(StatusCode::BAD_REQUEST, "bad_request", problems.join("; ")))
}

/// `POST /api/agent/canned-phrases`.
pub async fn add_phrase(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Json(phrase): Json<NewPhrase>,
) -> Response {
    let agent = match agent(&state, &headers).await {
        Ok(agent) => agent,
        Err(response) => return response,
    };
    if let Some(response) = phrase_problems(&phrase.category, &phrase.content) {
        return response;
    }
    if phrase.shared && !agent.is_admin {
        return api_error(
            StatusCode::FORBIDDEN,
            "forbidden",
            "only admins add shared phrases",
        );
    }
    let owner = (!phrase.shared).then_some(agent.id.as_str());
    match state
        .store
        .add_canned_phrase(
            owner,
            phrase.category.trim(),
            &phrase.content,
            state.clock.now_ms(),
        )
        .await
    {
        Ok(record) => (StatusCode::CREATED, Json(PhraseView::from(record))).into_response(),
        Err(error) => internal(error),
    }
}

/// The phrase `id` if the agent may change it; else the `404` (someone else's personal
/// phrase: its existence is not revealed) or `403` (a shared phrase, for a non-admin).
async fn changeable_phrase(
    state: &AppState,
    agent: &AgentRecord,
    id: &str,
) -> Result<CannedPhraseRecord, Response> {
    let not_found = || api_error(StatusCode::NOT_FOUND, "not_found", "no such canned phrase");
    let record = match state.store.canned_phrase(id).await {
        Ok(Some(record)) => record,
        Ok(None) => return Err(not_found()),
        Err(error) => return Err(internal(error)),
    };
    match &record.owner_agent_id {
        Some(owner) if *owner == agent.id => Ok(record),
        Some(_) => Err(not_found()),
        None if agent.is_admin => Ok(record),
        None => Err(api_error(
            StatusCode::FORBIDDEN,
            "forbidden",
            "only admins change shared phrases",
        )),
    }
}

/// `PUT /api/agent/canned-phrases/{id}`.
pub async fn update_phrase(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Json(change): Json<PhraseChange>,
) -> Response {
    let agent = match agent(&state, &headers).await {
        Ok(agent) => agent,
        Err(response) => return response,
    };
    let record = match changeable_phrase(&state, &agent, &id).await {
        Ok(record) => record,
        Err(response) => return response,
    };
    if let Some(response) = phrase_problems(&change.category, &change.content) {
        return response;
    }
    match state
        .store
        .update_canned_phrase(
            &id,
            change.category.trim(),
            &change.content,
            state.clock.now_ms(),
        )
        .await
    {
        Ok(_) => Json(PhraseView::from(CannedPhraseRecord {
            category: change.category.trim().to_owned(),
            content: change.content,
            ..record
        }))
        .into_response(),
        Err(error) => internal(error),
    }
}

/// `DELETE /api/agent/canned-phrases/{id}`.
pub async fn delete_phrase(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let agent = match agent(&state, &headers).await {
        Ok(agent) => agent,
        Err(response) => return response,
    };
    if let Err(response) = changeable_phrase(&state, &agent, &id).await {
        return response;
    }
    match state.store.delete_canned_phrase(&id).await {
        Ok(_) => StatusCode::NO_CONTENT.into_response(),
        Err(error) => internal(error),
    }
}
