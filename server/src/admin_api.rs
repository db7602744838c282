//! The admin API (`/api/admin/...`): the settings an operator edits in the browser — skill
//! groups, service rules, service mode, widget settings, agents, the knowledge base — and
//! the audit log of those changes.
//!
//! **Only admins, one guard:** the router is built from [`ADMIN_ROUTES`] alone and every route
//! sits behind [`only_admins`], a `route_layer` that answers `401` without a valid session
//! and `403` for an agent who is not an admin, before any handler runs. Handlers receive the
//! admin as an [`Admin`] extension that only the guard inserts, so a handler cannot be
//! reached without it.
//!
//! What makes a setting valid is `kefu_core::config::Config::validate`; problems go back
//! with their field path (`rules[0].working_hours.weekly[0].from`), so the page shows each
//! next to its field. A saved change is written to the store, recorded in the audit log, and
//! the hub is told to reload before the answer is sent: the next decision uses it.

use std::sync::Arc;

use axum::extract::{Path, Query, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, post, put};
use axum::{Extension, Json, Router};
use kefu_core::config::{
    AgentConfig, Config, KnowledgeItem, MAX_CONCURRENT_CHATS_LIMIT, ProblemKind, ServiceRule,
    ServiceSettings, SkillGroup, WidgetSettings, WorkingHours,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

pub use crate::admin_routes::ADMIN_ROUTES;
use crate::app::AppState;
use crate::http::{api_error, bearer_token, internal};
use crate::knowledge::{self, Format};
use crate::store::{AgentChange, AgentRecord, NewAgent};

/// The admin making the request, put there by [`only_admins`] and nothing else.
#[derive(Clone)]
pub struct Admin(pub AgentRecord);

/// The admin routes, each behind [`only_admins`].
pub fn router(state: Arc<AppState>) -> Router<Arc<AppState>> {
    let mut router = Router::new();
    for (method, path) in ADMIN_ROUTES {
        router = router.route(path, handler(method, path));
    }
    router.route_layer(middleware::from_fn_with_state(state, only_admins))
}

/// The handler of a listed route. A listed route without a handler stops the server at
/// start-up (and every test), rather than answering something unguarded.
fn handler(method: &str, path: &str) -> MethodRouter<Arc<AppState>> {
    match (method, path) {
        ("GET", "/api/admin/config") => get(get_config),
        ("PUT", "/api/admin/config/{section}") => put(put_config_section),
        ("POST", "/api/admin/hours/preview") => post(hours_preview),
        ("GET", "/api/admin/agents") => get(list_agents),
        ("POST", "/api/admin/agents") => post(add_agent),
        ("PUT", "/api/admin/agents/{login}") => put(update_agent),
        ("POST", "/api/admin/agents/{login}/password") => post(reset_password),
        ("GET", "/api/admin/knowledge") => get(list_knowledge),
        ("POST", "/api/admin/knowledge") => post(add_knowledge),
        ("PUT", "/api/admin/knowledge/{id}") => put(update_knowledge),
        ("POST", "/api/admin/knowledge/import") => post(import_knowledge),
        ("GET", "/api/admin/knowledge/export") => get(export_knowledge),
        ("POST", "/api/admin/robot/ask") => post(ask_robot),
        ("GET", "/api/admin/audit") => get(audit_log),
        _ => panic!("the admin route {method} {path} has no handler"),
    }
}

/// The one guard of the admin API: `401` without a live session, `403` for non-admins.
async fn only_admins(
    State(state): State<Arc<AppState>>,
    mut request: Request,
    next: Next,
) -> Response {
    let Some(token) = bearer_token(request.headers()) else {
        return api_error(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "missing bearer token",
        );
    };
    match state
        .store
        .agent_for_session(token, state.clock.now_ms())
        .await
    {
        Ok(Some(agent)) if agent.is_admin => {
            request.extensions_mut().insert(Admin(agent));
            next.run(request).await
        }
        Ok(Some(_)) => api_error(
            StatusCode::FORBIDDEN,
            "forbidden",
            "only admins may change the settings",
        ),
        Ok(None) => api_error(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "the session token is not valid; log in again",
        ),
        Err(error) => internal(error),
    }
}

// ---- problems, audit, helpers ---------------------------------------------------------------

/// A refused setting: where (`path`), what in English (`message`, for logs and scripts)
/// and what as data (`kind`, which the admin pages say in the admin's language).
#[derive(Serialize)]
struct Problem {
    path: String,
    message: String,
    kind: ProblemKind,
}

impl Problem {
    fn new(path: impl Into<String>, kind: ProblemKind) -> Problem {
        Problem {
            path: path.into(),
            message: kind.to_string(),
            kind,
        }
    }
}

/// `422` with every problem and its field path.
fn invalid(problems: Vec<Problem>) -> Response {
    let message = problems
        .iter()
        .map(|problem| format!("{}: {}", problem.path, problem.message))
        .collect::<Vec<_>>()
        .join("; ");
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        Json(json!({ "error": "invalid", "message": message, "problems": problems })),
    )
        .into_response()
}

/// The problems kefu-core finds, keeping those under `prefix` (with the prefix replaced by
/// `rename`); everything when `prefix` is empty.
fn problems_of(config: &Config, prefix: &str, rename: &str) -> Vec<Problem> {
    match config.validate() {
        Ok(()) => Vec::new(),
        Err(errors) => errors
            .problems
            .into_iter()
            .filter_map(|problem| {
                let rest = problem.path.strip_prefix(prefix)?;
                Some(Problem::new(format!("{rename}{rest}"), problem.kind))
            })
            .collect(),
    }
}

fn bad_request(message: impl Into<String>) -> Response {
    api_error(StatusCode::BAD_REQUEST, "bad_request", message)
}

/// Records a change; a failure to record is logged, the change itself stands.
async fn audit(state: &AppState, admin: &Admin, action: &str, summary: &str) {
    if let Err(error) = state
        .store
        .add_audit(&admin.0, action, summary, state.clock.now_ms())
        .await
    {
        tracing::error!(
            error = format!("{error:#}"),
            action,
            "writing the audit log failed"
        );
    }
}

/// A short description of what changed between two JSON values: up to eight
/// `path: old → new` lines.
///
/// Every line is `path: change`, which the admin page words per language; past eight
/// changes the rest are counted in a last `more: N` line; no change is an empty summary.
pub fn diff_summary(before: &Value, after: &Value) -> String {
    let mut lines = Vec::new();
    diff(before, after, String::new(), &mut lines);
    let total = lines.len();
    lines.truncate(8);
    if total > lines.len() {
        lines.push(format!("more: {}", total - lines.len()));
    }
    lines.join("\n")
}

/// The audit summary of an agent just added (by this API or the command line): one
/// `field: value` line per setting, in the same form as a change.
pub fn agent_added_summary(record: &AgentRecord) -> String {
    let view = serde_json::to_value(AgentView::from(record)).unwrap_or_default();
    let Value::Object(fields) = view else {
        return String::new();
    };
    fields
        .iter()
        .filter(|(key, _)| key.as_str() != "login")
        .map(|(key, value)| format!("{key}: {}", short(value)))
        .collect::<Vec<_>>()
        .join("\n")
}

fn diff(before: &Value, after: &Value, path: String, lines: &mut Vec<String>) {
    match (before, after) {
        (Value::Object(old), Value::Object(new)) => {
            let keys: std::collections::BTreeSet<&String> = old.keys().chain(new.keys()).collect();
            for key in keys {
                let child = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                diff(
                    old.get(key).unwrap_or(&Value::Null),
                    new.get(key).unwrap_or(&Value::Null),
                    child,
                    lines,
                );
            }
        }
        (Value::Array(old), Value::Array(new)) if old.len() == new.len() => {
            for (index, (old, new)) in old.iter().zip(new).enumerate() {
                diff(old, new, format!("{path}[{index}]"), lines);
            }
        }
        _ if before != after => lines.push(format!("{path}: {} → {}", short(before), short(after))),
        _ => {}
    }
}

fn short(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() > 80 {
        format!("{}…", text.chars().take(80).collect::<String>())
    } else {
        text
    }
}

async fn stored_config(state: &AppState) -> Result<Config, Response> {
    match state.store.service_config().await {
        Ok(Some(config)) => Ok(config),
        Ok(None) => Ok(state.hub.config.get().as_ref().clone()),
        Err(error) => Err(internal(error)),
    }
}

async fn agents(state: &AppState) -> Result<Vec<AgentRecord>, Response> {
    state.store.list_agents().await.map_err(internal)
}

/// The agents as kefu-core sees them for validation; membership comes from the skill groups.
fn agents_for_validation(records: &[AgentRecord]) -> Vec<AgentConfig> {
    records
        .iter()
        .map(|record| AgentConfig {
            login: record.login.clone(),
            display_name: record.display_name.clone(),
            avatar: None,
            max_concurrent_chats: record.max_chats.clamp(1, MAX_CONCURRENT_CHATS_LIMIT),
            groups: Vec::new(),
            password_hash: None,
        })
        .collect()
}

// ---- the service configuration ------------------------------------------------------------

/// The editable part of the configuration; skill group members are the agents of the group.
#[derive(Serialize)]
struct ConfigView {
    service: ServiceSettings,
    rules: Vec<ServiceRule>,
    skill_groups: Vec<SkillGroup>,
    widget: WidgetSettings,
    /// The tag to paste, for these widget settings.
    snippet: String,
}

fn config_view(state: &AppState, config: &Config, agents: &[AgentRecord]) -> ConfigView {
    let skill_groups = config
        .skill_groups
        .iter()
        .map(|group| {
            let mut members: Vec<String> = agents
                .iter()
                .filter(|agent| {
                    agent.groups.contains(&group.name) || group.members.contains(&agent.login)
                })
                .map(|agent| agent.login.clone())
                .collect();
            members.sort();
            SkillGroup {
                members,
                ..group.clone()
            }
        })
        .collect();
    ConfigView {
        service: config.service.clone(),
        rules: config.rules.clone(),
        skill_groups,
        widget: config.widget.clone(),
        snippet: config.widget.snippet(&state.settings.public_url()),
    }
}

/// `GET /api/admin/config`.
async fn get_config(State(state): State<Arc<AppState>>) -> Response {
    let config = match stored_config(&state).await {
        Ok(config) => config,
        Err(response) => return response,
    };
    let agents = match agents(&state).await {
        Ok(agents) => agents,
        Err(response) => return response,
    };
    Json(config_view(&state, &config, &agents)).into_response()
}

/// `PUT /api/admin/config/{section}` with `skill_groups`, `rules`, `service` or `widget` as
/// the body: validated with the rest of the configuration, saved, in force at once.
async fn put_config_section(
    State(state): State<Arc<AppState>>,
    Extension(admin): Extension<Admin>,
    Path(section): Path<String>,
    Json(body): Json<Value>,
) -> Response {
    let old = match stored_config(&state).await {
        Ok(config) => config,
        Err(response) => return response,
    };
    let records = match agents(&state).await {
        Ok(agents) => agents,
        Err(response) => return response,
    };
    let mut new = old.clone();
    let parsed = match section.as_str() {
        "skill_groups" => serde_json::from_value(body).map(|groups| new.skill_groups = groups),
        "rules" => serde_json::from_value(body).map(|rules| new.rules = rules),
        "service" => serde_json::from_value(body).map(|service| new.service = service),
        "widget" => serde_json::from_value(body).map(|widget| new.widget = widget),
        _ => {
            return api_error(
                StatusCode::NOT_FOUND,
                "not_found",
                format!("no section {section:?}; use skill_groups, rules, service or widget"),
            );
        }
    };
    if let Err(error) = parsed {
        return bad_request(format!("{section}: {error}"));
    }
    // Membership is kept on the agents (routing reads it there); the stored groups list none.
    let members: Vec<(String, Vec<String>)> = new
        .skill_groups
        .iter()
        .map(|group| (group.name.clone(), group.members.clone()))
        .collect();
    let candidate = Config {
        agents: agents_for_validation(&records),
        knowledge: Vec::new(),
        canned_phrases: Vec::new(),
        skill_groups: if section == "skill_groups" {
            new.skill_groups.clone()
        } else {
            new.skill_groups
                .iter()
                .map(|group| SkillGroup {
                    members: Vec::new(),
                    ..group.clone()
                })
                .collect()
        },
        ..new.clone()
    };
    let problems = problems_of(&candidate, "", "");
    if !problems.is_empty() {
        return invalid(problems);
    }
    for group in &mut new.skill_groups {
        group.members.clear();
    }
    let now = state.clock.now_ms();
    if let Err(error) = state.store.save_service_config(&new, now).await {
        return internal(error);
    }
    if section == "skill_groups" {
        let old_names: Vec<&str> = old
            .skill_groups
            .iter()
            .map(|group| group.name.as_str())
            .collect();
        for record in &records {
            // Groups this page does not know (created with `kefu agent add --groups`) stay.
            let mut groups: Vec<String> = record
                .groups
                .iter()
                .filter(|group| {
                    !old_names.contains(&group.as_str()) && new.skill_group(group).is_none()
                })
                .cloned()
                .collect();
            groups.extend(
                members
                    .iter()
                    .filter(|(_, logins)| logins.contains(&record.login))
                    .map(|(name, _)| name.clone()),
            );
            if groups != record.groups {
                let change = AgentChange {
                    groups: Some(groups),
                    ..AgentChange::default()
                };
                if let Err(error) = state.store.update_agent(&record.login, &change).await {
                    return internal(error);
                }
            }
        }
    }
    let before = serde_json::to_value(config_view(&state, &old, &records)).unwrap_or_default();
    let records = match agents(&state).await {
        Ok(agents) => agents,
        Err(response) => return response,
    };
    let view = config_view(&state, &new, &records);
    let after = serde_json::to_value(&view).unwrap_or_default();
    audit(
        &state,
        &admin,
        &format!("config.{section}"),
        &diff_summary(&before[&section], &after[&section]),
    )
    .await;
    state.hub.reload().await;
    Json(view).into_response()
}

/// `POST /api/admin/hours/preview` with working hours: open now, or when it next opens in
/// the rule's own time zone.
async fn hours_preview(
    State(state): State<Arc<AppState>>,
    Json(hours): Json<WorkingHours>,
) -> Response {
    let problems: Vec<Problem> = kefu_core::hours::check_working_hours(&hours)
        .into_iter()
        .map(|(path, kind)| Problem::new(format!("working_hours{path}"), kind))
        .collect();
    if !problems.is_empty() {
        return invalid(problems);
    }
    Json(kefu_core::hours::preview(&hours, state.clock.now_ms())).into_response()
}

// ---- agents -------------------------------------------------------------------------------

#[derive(Serialize)]
struct AgentView {
    login: String,
    display_name: String,
    max_chats: u32,
    groups: Vec<String>,
    is_admin: bool,
    disabled: bool,
}

impl From<&AgentRecord> for AgentView {
    fn from(record: &AgentRecord) -> Self {
        AgentView {
            login: record.login.clone(),
            display_name: record.display_name.clone(),
            max_chats: record.max_chats,
            groups: record.groups.clone(),
            is_admin: record.is_admin,
            disabled: record.disabled,
        }
    }
}

/// `GET /api/admin/agents`.
async fn list_agents(State(state): State<Arc<AppState>>) -> Response {
    match agents(&state).await {
        Ok(records) => {
            Json(json!({ "agents": records.iter().map(AgentView::from).collect::<Vec<_>>() }))
                .into_response()
        }
        Err(response) => response,
    }
}

/// The shortest password an admin may set.
const MIN_PASSWORD_CHARS: usize = 8;

/// kefu-core's rules for one agent, with the skill groups in force; problems by field.
fn agent_problems(config: &Config, agent: AgentConfig) -> Vec<Problem> {
    let candidate = Config {
        agents: vec![agent],
        skill_groups: config
            .skill_groups
            .iter()
            .map(|group| SkillGroup {
                members: Vec::new(),
                ..group.clone()
            })
            .collect(),
        rules: config.rules.clone(),
        ..Config::default()
    };
    problems_of(&candidate, "agents[0].", "")
}

#[derive(Deserialize)]
struct NewAgentRequest {
    login: String,
    display_name: String,
    password: Option<String>,
    #[serde(default = "default_max_chats")]
    max_chats: u32,
    #[serde(default)]
    groups: Vec<String>,
    #[serde(default)]
    is_admin: bool,
}

fn default_max_chats() -> u32 {
    5
}

/// `POST /api/admin/agents`: `201` with the agent, and the generated password when none was given.
async fn add_agent(
    State(state): State<Arc<AppState>>,
    Extension(admin): Extension<Admin>,
    Json(request): Json<NewAgentRequest>,
) -> Response {
    let config = state.hub.config.get();
    let login = request.login.trim().to_owned();
    let agent = AgentConfig {
        login: login.clone(),
        display_name: request.display_name.clone(),
        avatar: None,
        max_concurrent_chats: request.max_chats,
        groups: request.groups.clone(),
        password_hash: None,
    };
    let mut problems = agent_problems(&config, agent);
    if request
        .password
        .as_ref()
        .is_some_and(|password| password.chars().count() < MIN_PASSWORD_CHARS)
    {
        problems.push(Problem::new(
            "password",
            ProblemKind::PasswordTooShort {
                min_chars: MIN_PASSWORD_CHARS,
            },
        ));
    }
    match state.store.agent_by_login(&login).await {
        Ok(Some(_)) => problems.push(Problem::new(
            "login",
            ProblemKind::Taken {
                value: login.clone(),
            },
        )),
        Ok(None) => {}
        Err(error) => return internal(error),
    }
    if !problems.is_empty() {
        return invalid(problems);
    }
    let generated = request.password.is_none();
    let password = request
        .password
        .unwrap_or_else(|| crate::auth::random_token()[..12].to_owned());
    let new = NewAgent {
        login: &login,
        display_name: request.display_name.trim(),
        password: &password,
        max_chats: request.max_chats,
        groups: &request.groups,
        is_admin: request.is_admin,
    };
    let record = match state.store.add_agent(new, state.clock.now_ms()).await {
        Ok(record) => record,
        Err(error) => return internal(error),
    };
    audit(
        &state,
        &admin,
        &format!("agent.add {}", record.login),
        &agent_added_summary(&record),
    )
    .await;
    state.hub.reload().await;
    let mut body = serde_json::to_value(AgentView::from(&record)).unwrap_or_default();
    if generated {
        body["password"] = Value::String(password);
    }
    (StatusCode::CREATED, Json(body)).into_response()
}

/// `PUT /api/admin/agents/{login}`: display name, max chats, groups, disabled, admin.
async fn update_agent(
    State(state): State<Arc<AppState>>,
    Extension(admin): Extension<Admin>,
    Path(login): Path<String>,
    Json(change): Json<AgentChange>,
) -> Response {
    let record = match state.store.agent_by_login(&login).await {
        Ok(Some(record)) => record,
        Ok(None) => return api_error(StatusCode::NOT_FOUND, "not_found", "no such agent"),
        Err(error) => return internal(error),
    };
    if record.id == admin.0.id && (change.disabled == Some(true) || change.is_admin == Some(false))
    {
        return bad_request("an admin cannot disable themselves or give up their own admin role");
    }
    let config = state.hub.config.get();
    let agent = AgentConfig {
        login: record.login.clone(),
        display_name: change
            .display_name
            .clone()
            .unwrap_or_else(|| record.display_name.clone()),
        avatar: None,
        max_concurrent_chats: change.max_chats.unwrap_or(record.max_chats),
        // Only the groups being set are checked: older ones may name groups of the CLI.
        groups: change.groups.clone().unwrap_or_default(),
        password_hash: None,
    };
    let problems = agent_problems(&config, agent);
    if !problems.is_empty() {
        return invalid(problems);
    }
    if let Err(error) = state.store.update_agent(&login, &change).await {
        return internal(error);
    }
    if change.disabled == Some(true)
        && let Err(error) = state.store.revoke_sessions_of(&record.id).await
    {
        return internal(error);
    }
    let updated = match state.store.agent_by_login(&login).await {
        Ok(Some(updated)) => updated,
        Ok(None) => return api_error(StatusCode::NOT_FOUND, "not_found", "no such agent"),
        Err(error) => return internal(error),
    };
    let before = serde_json::to_value(AgentView::from(&record)).unwrap_or_default();
    let after = serde_json::to_value(AgentView::from(&updated)).unwrap_or_default();
    audit(
        &state,
        &admin,
        &format!("agent.update {login}"),
        &diff_summary(&before, &after),
    )
    .await;
    state.hub.reload().await;
    Json(AgentView::from(&updated)).into_response()
}

#[derive(Deserialize, Default)]
struct PasswordRequest {
    password: Option<String>,
}

/// `POST /api/admin/agents/{login}/password`: sets the given password, or generates one and
/// answers it once.
async fn reset_password(
    State(state): State<Arc<AppState>>,
    Extension(admin): Extension<Admin>,
    Path(login): Path<String>,
    body: Option<Json<PasswordRequest>>,
) -> Response {
    let request = body.map(|Json(request)| request).unwrap_or_default();
    if request
        .password
        .as_ref()
        .is_some_and(|password| password.chars().count() < MIN_PASSWORD_CHARS)
    {
        return invalid(vec![Problem::new(
            "password",
            ProblemKind::PasswordTooShort {
                min_chars: MIN_PASSWORD_CHARS,
            },
        )]);
    }
    let generated = request.password.is_none();
    let password = request
        .password
        .unwrap_or_else(|| crate::auth::random_token()[..12].to_owned());
    match state.store.set_agent_password(&login, &password).await {
        Ok(true) => {}
        Ok(false) => return api_error(StatusCode::NOT_FOUND, "not_found", "no such agent"),
        Err(error) => return internal(error),
    }
    audit(&state, &admin, &format!("agent.password {login}"), "").await;
    if generated {
        Json(json!({ "password": password })).into_response()
    } else {
        StatusCode::NO_CONTENT.into_response()
    }
}

// ---- knowledge ----------------------------------------------------------------------------

#[derive(Deserialize)]
struct KnowledgeQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    category: String,
}

#[derive(Serialize)]
struct KnowledgeView {
    #[serde(flatten)]
    item: KnowledgeItem,
    hit_count: u64,
    /// Customers' 有用 / 没用 on this item's answers (`vote` frames); absent from the
    /// created and updated item's answer, where it is read as none.
    #[serde(skip_serializing_if = "Option::is_none")]
    votes: Option<kefu_core::feedback::Tally>,
}

fn folded(text: &str) -> String {
    kefu_core::text::normalize(text).to_lowercase()
}

/// `GET /api/admin/knowledge?q=…&category=…`: the items (with hit counts) whose id, question,
/// similar questions or answer contain `q`, and every category.
async fn list_knowledge(
    State(state): State<Arc<AppState>>,
    Query(query): Query<KnowledgeQuery>,
) -> Response {
    let items = match state.store.knowledge().await {
        Ok(items) => items,
        Err(error) => return internal(error),
    };
    let tallies = match state.store.vote_tallies().await {
        Ok(tallies) => tallies,
        Err(error) => return internal(error),
    };
    let mut categories: Vec<String> = items
        .iter()
        .map(|(item, _)| item.category.clone())
        .filter(|category| !category.is_empty())
        .collect();
    categories.sort();
    categories.dedup();
    let wanted = folded(&query.q);
    let matching: Vec<KnowledgeView> = items
        .into_iter()
        .filter(|(item, _)| query.category.is_empty() || item.category == query.category)
        .filter(|(item, _)| {
            wanted.is_empty()
                || std::iter::once(&item.id)
                    .chain([&item.question, &item.answer])
                    .chain(&item.similar)
                    .any(|text| folded(text).contains(&wanted))
        })
        .map(|(item, hit_count)| KnowledgeView {
            votes: Some(tallies.get(&item.id).copied().unwrap_or_default()),
            item,
            hit_count,
        })
        .collect();
    Json(json!({ "items": matching, "categories": categories })).into_response()
}

fn knowledge_problems(item: &KnowledgeItem) -> Vec<Problem> {
    problems_of(
        &Config {
            knowledge: vec![item.clone()],
            ..Config::default()
        },
        "knowledge[0].",
        "",
    )
}

#[derive(Deserialize)]
struct KnowledgeInput {
    #[serde(default)]
    id: String,
    #[serde(default)]
    category: String,
    question: String,
    #[serde(default)]
    similar: Vec<String>,
    answer: String,
    #[serde(default = "enabled_by_default")]
    enabled: bool,
}

fn enabled_by_default() -> bool {
    true
}

impl KnowledgeInput {
    fn into_item(self, id: String) -> KnowledgeItem {
        KnowledgeItem {
            id,
            category: self.category.trim().to_owned(),
            question: self.question.trim().to_owned(),
            similar: self
                .similar
                .into_iter()
                .map(|similar| similar.trim().to_owned())
                .filter(|similar| !similar.is_empty())
                .collect(),
            answer: self.answer,
            enabled: self.enabled,
        }
    }
}

/// `POST /api/admin/knowledge`: a new item (an id is made when none is given); `409` when
/// the id exists.
async fn add_knowledge(
    State(state): State<Arc<AppState>>,
    Extension(admin): Extension<Admin>,
    Json(input): Json<KnowledgeInput>,
) -> Response {
    let id = if input.id.trim().is_empty() {
        format!("kb-{}", &crate::auth::random_id()[..8])
    } else {
        input.id.trim().to_owned()
    };
    let item = input.into_item(id);
    let problems = knowledge_problems(&item);
    if !problems.is_empty() {
        return invalid(problems);
    }
    match state.store.knowledge().await {
        Ok(items) if items.iter().any(|(existing, _)| existing.id == item.id) => {
            let problem = Problem::new(
                "id",
                ProblemKind::Taken {
                    value: item.id.clone(),
                },
            );
            return (
                StatusCode::CONFLICT,
                Json(json!({
                    "error": "conflict",
                    "message": format!("id: {}", problem.message),
                    "problems": [problem],
                })),
            )
                .into_response();
        }
        Ok(_) => {}
        Err(error) => return internal(error),
    }
    if let Err(error) = state
        .store
        .import_knowledge(std::slice::from_ref(&item), state.clock.now_ms())
        .await
    {
        return internal(error);
    }
    audit(
        &state,
        &admin,
        &format!("knowledge.add {}", item.id),
        &format!("question: {}", short(&Value::String(item.question.clone()))),
    )
    .await;
    state.hub.reload().await;
    (
        StatusCode::CREATED,
        Json(KnowledgeView {
            item,
            hit_count: 0,
            votes: None,
        }),
    )
        .into_response()
}

/// `PUT /api/admin/knowledge/{id}`: edits (or disables, with `enabled: false`) an item.
async fn update_knowledge(
    State(state): State<Arc<AppState>>,
    Extension(admin): Extension<Admin>,
    Path(id): Path<String>,
    Json(input): Json<KnowledgeInput>,
) -> Response {
    let items = match state.store.knowledge().await {
        Ok(items) => items,
        Err(error) => return internal(error),
    };
    let Some((old, hit_count)) = items.into_iter().find(|(item, _)| item.id == id) else {
        return api_error(StatusCode::NOT_FOUND, "not_found", "no such knowledge item");
    };
    let item = input.into_item(id.clone());
    let problems = knowledge_problems(&item);
    if !problems.is_empty() {
        return invalid(problems);
    }
    if let Err(error) = state
        .store
        .import_knowledge(std::slice::from_ref(&item), state.clock.now_ms())
        .await
    {
        return internal(error);
    }
    let summary = diff_summary(
        &serde_json::to_value(&old).unwrap_or_default(),
        &serde_json::to_value(&item).unwrap_or_default(),
    );
    audit(&state, &admin, &format!("knowledge.update {id}"), &summary).await;
    state.hub.reload().await;
    Json(KnowledgeView {
        item,
        hit_count,
        votes: None,
    })
    .into_response()
}

#[derive(Deserialize)]
struct FormatQuery {
    #[serde(default)]
    format: String,
}

fn format_of(query: &FormatQuery) -> Result<Format, String> {
    match query.format.to_ascii_lowercase().as_str() {
        "csv" => Ok(Format::Csv),
        "json" | "" => Ok(Format::Json),
        other => Err(format!("unknown format {other:?}; use csv or json")),
    }
}

/// `POST /api/admin/knowledge/import?format=csv|json` with the file as the body: all or
/// nothing; a bad file gets `422` with each problem's line.
async fn import_knowledge(
    State(state): State<Arc<AppState>>,
    Extension(admin): Extension<Admin>,
    Query(query): Query<FormatQuery>,
    body: String,
) -> Response {
    let format = match format_of(&query) {
        Ok(format) => format,
        Err(message) => return bad_request(message),
    };
    let items = match knowledge::parse(&body, format, "upload") {
        Ok(items) => items,
        Err(errors) => {
            let problems: Vec<Value> = errors
                .problems
                .iter()
                .map(|problem| json!({ "line": problem.line, "message": problem.message }))
                .collect();
            let message = errors
                .problems
                .iter()
                .map(|problem| format!("line {}: {}", problem.line, problem.message))
                .collect::<Vec<_>>()
                .join("; ");
            return (
                StatusCode::UNPROCESSABLE_ENTITY,
                Json(json!({ "error": "invalid", "message": message, "problems": problems })),
            )
                .into_response();
        }
    };
    let (added, replaced) = match state
        .store
        .import_knowledge(&items, state.clock.now_ms())
        .await
    {
        Ok(counts) => counts,
        Err(error) => return internal(error),
    };
    audit(
        &state,
        &admin,
        "knowledge.import",
        &format!(
            "items: {}\nadded: {added}\nreplaced: {replaced}",
            items.len()
        ),
    )
    .await;
    state.hub.reload().await;
    Json(json!({ "added": added, "replaced": replaced })).into_response()
}

/// `GET /api/admin/knowledge/export?format=csv|json`: the whole knowledge base as a file.
async fn export_knowledge(
    State(state): State<Arc<AppState>>,
    Query(query): Query<FormatQuery>,
) -> Response {
    let format = match format_of(&query) {
        Ok(format) => format,
        Err(message) => return bad_request(message),
    };
    let items: Vec<KnowledgeItem> = match state.store.knowledge().await {
        Ok(items) => items.into_iter().map(|(item, _)| item).collect(),
        Err(error) => return internal(error),
    };
    let (text, content_type, file) = match knowledge::write(&items, format) {
        Ok(text) if format == Format::Csv => (text, "text/csv; charset=utf-8", "knowledge.csv"),
        Ok(text) => (text, "application/json; charset=utf-8", "knowledge.json"),
        Err(error) => return internal(error),
    };
    (
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file}\""),
            ),
        ],
        text,
    )
        .into_response()
}

#[derive(Deserialize)]
struct AskRequest {
    question: String,
}

/// `POST /api/admin/robot/ask`: what the robot would answer a customer, from the index in force.
async fn ask_robot(
    State(state): State<Arc<AppState>>,
    Json(request): Json<AskRequest>,
) -> Response {
    let result = state.hub.knowledge.get().ask(&request.question);
    let config = state.hub.config.get();
    let reply = match &result.best {
        Some(hit) => hit.answer.clone(),
        None => config.service.robot.no_answer_reply.clone(),
    };
    let suggestions: Vec<&str> = result
        .suggestions
        .iter()
        .map(|hit| hit.question.as_str())
        .collect();
    Json(json!({
        "hit": result.best.is_some(),
        "knowledge_id": result.best.as_ref().map(|hit| hit.id.clone()),
        "reply": reply,
        "suggestions": suggestions,
    }))
    .into_response()
}

// ---- the audit log ------------------------------------------------------------------------

/// `GET /api/admin/audit`: the latest 200 changes, newest first.
async fn audit_log(State(state): State<Arc<AppState>>) -> Response {
    match state.store.audit_log(200).await {
        Ok(entries) => Json(json!({ "entries": entries })).into_response(),
        Err(error) => internal(error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_route_has_a_handler() {
        for (method, path) in ADMIN_ROUTES {
            let _ = handler(method, path);
        }
    }

    #[test]
    fn the_summary_names_each_changed_field() {
        let before = json!({ "rules": [{ "name": "default", "weekly": [{ "from": "09:00", "to": "18:00" }] }] });
        let after = json!({ "rules": [{ "name": "default", "weekly": [{ "from": "00:00", "to": "18:00" }] }] });
        assert_eq!(
            diff_summary(&before, &after),
            r#"rules[0].weekly[0].from: "09:00" → "00:00""#
        );
        assert_eq!(diff_summary(&before, &before), "");
        let many = json!({ "a": 1, "b": 1, "c": 1, "d": 1, "e": 1, "f": 1, "g": 1, "h": 1, "i": 1, "j": 1 });
        let summary = diff_summary(&json!({}), &many);
        assert_eq!(summary.lines().count(), 9, "{summary}");
        assert_eq!(summary.lines().last(), Some("more: 2"));
    }
}
