//! The HTTP face of the server: the router, the pages, the widget's files, agent login, health
//! and metrics. WebSocket upgrades are handed to [`crate::ws`].

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use crate::admin_api;
use crate::agent_api;
use crate::app::AppState;
use crate::pages::{self, AppPage};
use crate::ws;

/// The whole application as a router, separate from `main` so tests can serve it on port 0.
pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/", get(index))
        .route("/demo", get(demo))
        .route("/widget", get(widget_page))
        .route("/agent", get(agent_page))
        .route("/embed.js", get(embed_js))
        .route("/static/{file}", get(static_file))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/api/agent/login", post(agent_login))
        .route("/api/agent/logout", post(agent_logout))
        .route("/api/agent/knowledge/search", get(agent_api::search))
        .route(
            "/api/agent/knowledge/recommended",
            get(agent_api::recommended),
        )
        .route(
            "/api/agent/canned-phrases",
            get(agent_api::list_phrases).post(agent_api::add_phrase),
        )
        .route(
            "/api/agent/canned-phrases/{id}",
            put(agent_api::update_phrase).delete(agent_api::delete_phrase),
        )
        .merge(admin_api::router(state.clone()))
        .route("/ws/customer", get(ws::customer_upgrade))
        .route("/ws/agent", get(ws::agent_upgrade))
        .with_state(state)
}

async fn index() -> Response {
    (StatusCode::FOUND, [(header::LOCATION, "/demo")]).into_response()
}

async fn demo(State(state): State<Arc<AppState>>) -> Response {
    html(
        pages::demo_page(&state.settings.public_url()),
        pages::DEMO_CSP,
    )
}

async fn widget_page(State(state): State<Arc<AppState>>) -> Response {
    app_page(&state, AppPage::Widget)
}

async fn agent_page(State(state): State<Arc<AppState>>) -> Response {
    app_page(&state, AppPage::Agent)
}

fn app_page(state: &AppState, page: AppPage) -> Response {
    // Origins from kefu.toml and from the widget settings saved in the admin pages.
    let mut origins = state.settings.allowed_origins.clone();
    origins.extend(
        state
            .hub
            .config
            .get()
            .widget
            .allowed_origins
            .iter()
            .cloned(),
    );
    let csp = pages::app_csp(page, &origins);
    html(pages::app_page(page, &state.assets.version), &csp)
}

fn html(body: String, csp: &str) -> Response {
    let mut response = (StatusCode::OK, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("strict-origin-when-cross-origin"),
    );
    if let Ok(value) = HeaderValue::from_str(csp) {
        headers.insert(header::CONTENT_SECURITY_POLICY, value);
    }
    response
}

async fn embed_js(headers: HeaderMap) -> Response {
    // The loader is the one URL site owners hard-code, so it is revalidated on each load
    // (cheap: a 304 most of the time) instead of cached for long.
    let etag = format!(
        "\"{}\"",
        crate::auth::token_digest(pages::EMBED_JS)
            .get(..16)
            .unwrap_or_default()
    );
    if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|value| value.to_str().ok())
        == Some(etag.as_str())
    {
        return StatusCode::NOT_MODIFIED.into_response();
    }
    let builder = Response::builder()
        .header(header::CONTENT_TYPE, "text/javascript; charset=utf-8")
        .header(
            header::CACHE_CONTROL,
            "public, max-age=300, must-revalidate",
        )
        .header(header::ETAG, etag)
        .header(header::VARY, "accept-encoding")
        .header("x-content-type-options", "nosniff")
        .header(header::ACCESS_CONTROL_ALLOW_ORIGIN, "*");
    let response = if accepts_gzip(&headers) {
        // Compressed once, on first use: every host page's visitors ask for it.
        static GZIP: std::sync::LazyLock<Vec<u8>> = std::sync::LazyLock::new(|| {
            crate::assets::gzip(pages::EMBED_JS.as_bytes()).unwrap_or_default()
        });
        builder
            .header(header::CONTENT_ENCODING, "gzip")
            .body(Body::from(GZIP.as_slice()))
    } else {
        builder.body(Body::from(pages::EMBED_JS))
    };
    response.unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

async fn static_file(
    State(state): State<Arc<AppState>>,
    Path(file): Path<String>,
    headers: HeaderMap,
) -> Response {
    let Some(asset) = state.assets.get(&file) else {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    };
    let accepts_gzip = accepts_gzip(&headers);
    let mut builder = Response::builder()
        .header(header::CONTENT_TYPE, asset.content_type)
        // Pages reference assets with ?v=<content hash>, so a URL never changes content.
        .header(header::CACHE_CONTROL, "public, max-age=31536000, immutable")
        .header(header::VARY, "accept-encoding")
        .header("x-content-type-options", "nosniff");
    let body = match (&asset.gzip, accepts_gzip) {
        (Some(gzip), true) => {
            builder = builder.header(header::CONTENT_ENCODING, "gzip");
            gzip.clone()
        }
        _ => asset.raw.clone(),
    };
    builder
        .body(Body::from(body))
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

async fn healthz() -> &'static str {
    "ok\n"
}

async fn metrics(State(state): State<Arc<AppState>>) -> Response {
    let text = state.metrics.render();
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response()
}

#[derive(Deserialize)]
struct LoginRequest {
    login: String,
    password: String,
}

#[derive(Serialize)]
struct LoginResponse {
    token: String,
    agent_id: String,
    display_name: String,
    /// `admin` or `agent`: admins also see the settings.
    role: &'static str,
}

#[derive(Serialize)]
struct ApiError {
    error: &'static str,
    message: String,
}

pub(crate) fn api_error(
    status: StatusCode,
    error: &'static str,
    message: impl Into<String>,
) -> Response {
    (
        status,
        Json(ApiError {
            error,
            message: message.into(),
        }),
    )
        .into_response()
}

async fn agent_login(
    State(state): State<Arc<AppState>>,
    Json(request): Json<LoginRequest>,
) -> Response {
    let now = state.clock.now_ms();
    match state
        .store
        .check_agent_password(request.login.trim(), &request.password)
        .await
    {
        Ok(Some(agent)) => {
            let lifetime = i64::from(state.settings.agent_session_hours) * 3_600_000;
            match state
                .store
                .create_agent_session(&agent.id, now, lifetime)
                .await
            {
                Ok(token) => {
                    tracing::info!(agent = %agent.login, "agent logged in");
                    let role = if agent.is_admin { "admin" } else { "agent" };
                    Json(LoginResponse {
                        token,
                        agent_id: agent.id,
                        display_name: agent.display_name,
                        role,
                    })
                    .into_response()
                }
                Err(error) => internal(error),
            }
        }
        Ok(None) => api_error(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "wrong login or password",
        ),
        Err(error) => internal(error),
    }
}

async fn agent_logout(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    let Some(token) = bearer_token(&headers) else {
        return api_error(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "missing bearer token",
        );
    };
    match state.store.revoke_agent_session(token).await {
        Ok(()) => {
            state.hub.session_revoked(token.to_owned()).await;
            StatusCode::NO_CONTENT.into_response()
        }
        Err(error) => internal(error),
    }
}

pub(crate) fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
        .filter(|token| !token.is_empty())
}

pub(crate) fn internal(error: anyhow::Error) -> Response {
    tracing::error!(error = format!("{error:#}"), "request failed");
    api_error(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        "internal error",
    )
}

/// Whether the client takes gzip (`Accept-Encoding: gzip`, with or without a q-value).
fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT_ENCODING)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.split(',').any(|part| part.trim().starts_with("gzip")))
}
