//! The admin API (PROTOCOL.md, "HTTP API (admins)"), each call with the session's bearer
//! token. A refused change comes back as [`AdminError::Invalid`] with every problem and its
//! field path, so the page shows each next to its field.

use gloo_net::http::{Request, RequestBuilder, Response};
use kefu_core::config::{
    KnowledgeItem, ServiceRule, ServiceSettings, SkillGroup, WidgetSettings, WorkingHours,
};
use kefu_core::hours::OpeningPreview;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// One problem of a refused change: `path` is a field path such as
/// `rules[0].working_hours.weekly[0].from`, or `line` names the bad line of an import.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Problem {
    #[serde(default)]
    pub path: String,
    #[serde(default)]
    pub line: Option<u64>,
    pub message: String,
    /// What is wrong, as data: shown in the admin's language instead of `message`.
    #[serde(default)]
    pub kind: Option<kefu_core::config::ProblemKind>,
    /// For a failed call without problems: the answer's `error` code.
    #[serde(default)]
    pub code: Option<String>,
}

/// Why a call failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdminError {
    /// The change was refused; nothing was saved.
    Invalid(Vec<Problem>),
    /// Anything else: the answer's `error` code, if any, and its message.
    Other(Option<String>, String),
}

impl AdminError {
    pub fn problems(&self) -> Vec<Problem> {
        match self {
            AdminError::Invalid(problems) => problems.clone(),
            AdminError::Other(code, message) => vec![Problem {
                path: String::new(),
                line: None,
                message: message.clone(),
                kind: None,
                code: code.clone(),
            }],
        }
    }
}

/// The editable configuration, as `GET /api/admin/config` answers it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ConfigView {
    pub service: ServiceSettings,
    pub rules: Vec<ServiceRule>,
    pub skill_groups: Vec<SkillGroup>,
    pub widget: WidgetSettings,
    pub snippet: String,
}

/// An agent as admins see it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct AgentView {
    pub login: String,
    pub display_name: String,
    pub max_chats: u32,
    pub groups: Vec<String>,
    pub is_admin: bool,
    pub disabled: bool,
}

/// A knowledge item with its hit count.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct KnowledgeView {
    #[serde(flatten)]
    pub item: KnowledgeItem,
    pub hit_count: u64,
    /// Customers' 有用 / 没用 on the item's answers.
    #[serde(default)]
    pub votes: kefu_core::feedback::Tally,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct KnowledgeList {
    pub items: Vec<KnowledgeView>,
    pub categories: Vec<String>,
}

/// What the robot would answer a customer.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct RobotReply {
    pub hit: bool,
    pub reply: String,
    pub suggestions: Vec<String>,
}

/// One line of the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct AuditEntry {
    pub at: i64,
    pub agent_login: String,
    pub action: String,
    pub summary: String,
}

fn authorized(builder: RequestBuilder, token: &str) -> RequestBuilder {
    builder.header("Authorization", &format!("Bearer {token}"))
}

async fn answer<T: DeserializeOwned>(
    response: Result<Response, gloo_net::Error>,
) -> Result<T, AdminError> {
    let response = response.map_err(|error| AdminError::Other(None, error.to_string()))?;
    if !response.ok() {
        let body = response
            .json::<serde_json::Value>()
            .await
            .unwrap_or_default();
        if let Some(problems) = body
            .get("problems")
            .and_then(|problems| serde_json::from_value::<Vec<Problem>>(problems.clone()).ok())
        {
            return Err(AdminError::Invalid(problems));
        }
        let message = body["message"]
            .as_str()
            .map(str::to_owned)
            .unwrap_or_else(|| format!("HTTP {}", response.status()));
        let code = body["error"].as_str().map(str::to_owned);
        return Err(AdminError::Other(code, message));
    }
    response
        .json::<T>()
        .await
        .map_err(|error| AdminError::Other(None, error.to_string()))
}

fn escape(text: &str) -> String {
    js_sys::encode_uri_component(text)
        .as_string()
        .unwrap_or_default()
}

async fn get<T: DeserializeOwned>(token: &str, url: &str) -> Result<T, AdminError> {
    answer(authorized(Request::get(url), token).send().await).await
}

async fn send_json<T: DeserializeOwned>(
    token: &str,
    builder: RequestBuilder,
    body: &impl Serialize,
) -> Result<T, AdminError> {
    let request = authorized(builder, token)
        .json(body)
        .map_err(|error| AdminError::Other(None, error.to_string()))?;
    answer(request.send().await).await
}

pub async fn config(token: &str) -> Result<ConfigView, AdminError> {
    get(token, "/api/admin/config").await
}

/// Saves one section (`skill_groups`, `rules`, `service`, `widget`) and returns the
/// configuration in force.
pub async fn save_section(
    token: &str,
    section: &str,
    body: &impl Serialize,
) -> Result<ConfigView, AdminError> {
    send_json(
        token,
        Request::put(&format!("/api/admin/config/{section}")),
        body,
    )
    .await
}

pub async fn hours_preview(
    token: &str,
    hours: &WorkingHours,
) -> Result<OpeningPreview, AdminError> {
    send_json(token, Request::post("/api/admin/hours/preview"), hours).await
}

#[derive(Deserialize)]
struct Agents {
    agents: Vec<AgentView>,
}

pub async fn agents(token: &str) -> Result<Vec<AgentView>, AdminError> {
    get::<Agents>(token, "/api/admin/agents")
        .await
        .map(|answer| answer.agents)
}

/// A new agent; the answer carries `password` when none was given.
pub async fn add_agent(
    token: &str,
    agent: &serde_json::Value,
) -> Result<serde_json::Value, AdminError> {
    send_json(token, Request::post("/api/admin/agents"), agent).await
}

pub async fn update_agent(
    token: &str,
    login: &str,
    change: &serde_json::Value,
) -> Result<AgentView, AdminError> {
    send_json(
        token,
        Request::put(&format!("/api/admin/agents/{}", escape(login))),
        change,
    )
    .await
}

/// Sets a generated password and returns it (shown once).
pub async fn reset_password(token: &str, login: &str) -> Result<String, AdminError> {
    let answer: serde_json::Value = send_json(
        token,
        Request::post(&format!("/api/admin/agents/{}/password", escape(login))),
        &serde_json::json!({}),
    )
    .await?;
    Ok(answer["password"].as_str().unwrap_or_default().to_owned())
}

pub async fn knowledge(
    token: &str,
    query: &str,
    category: &str,
) -> Result<KnowledgeList, AdminError> {
    get(
        token,
        &format!(
            "/api/admin/knowledge?q={}&category={}",
            escape(query),
            escape(category)
        ),
    )
    .await
}

pub async fn add_knowledge(token: &str, item: &KnowledgeItem) -> Result<KnowledgeView, AdminError> {
    send_json(token, Request::post("/api/admin/knowledge"), item).await
}

pub async fn update_knowledge(
    token: &str,
    item: &KnowledgeItem,
) -> Result<KnowledgeView, AdminError> {
    send_json(
        token,
        Request::put(&format!("/api/admin/knowledge/{}", escape(&item.id))),
        item,
    )
    .await
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Imported {
    pub added: u64,
    pub replaced: u64,
}

/// Imports a whole file (`csv` or `json`): all or nothing.
pub async fn import_knowledge(
    token: &str,
    format: &str,
    text: String,
) -> Result<Imported, AdminError> {
    let request = authorized(
        Request::post(&format!("/api/admin/knowledge/import?format={format}")),
        token,
    )
    .header("Content-Type", "text/plain; charset=utf-8")
    .body(text)
    .map_err(|error| AdminError::Other(None, error.to_string()))?;
    answer(request.send().await).await
}

/// The knowledge base as a file's text.
pub async fn export_knowledge(token: &str, format: &str) -> Result<String, AdminError> {
    let response = authorized(
        Request::get(&format!("/api/admin/knowledge/export?format={format}")),
        token,
    )
    .send()
    .await
    .map_err(|error| AdminError::Other(None, error.to_string()))?;
    if !response.ok() {
        return Err(AdminError::Other(
            None,
            format!("HTTP {}", response.status()),
        ));
    }
    response
        .text()
        .await
        .map_err(|error| AdminError::Other(None, error.to_string()))
}

pub async fn ask_robot(token: &str, question: &str) -> Result<RobotReply, AdminError> {
    send_json(
        token,
        Request::post("/api/admin/robot/ask"),
        &serde_json::json!({ "question": question }),
    )
    .await
}

#[derive(Deserialize)]
struct Audit {
    entries: Vec<AuditEntry>,
}

pub async fn audit(token: &str) -> Result<Vec<AuditEntry>, AdminError> {
    get::<Audit>(token, "/api/admin/audit")
        .await
        .map(|answer| answer.entries)
}
