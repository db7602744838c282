//! The WebDriver wire protocol (W3C, as ChromeDriver speaks it): one function per command,
//! all over one blocking HTTP client. No waiting, retrying or test vocabulary here; that is
//! `browser.rs`'s job.

use std::{fmt, time::Duration};

use serde_json::{Value, json};
use ureq::Agent;

/// The key under which W3C WebDriver serialises a DOM element.
pub(crate) const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// Screenshots are a few MB of base64; no response is anywhere near this.
const MAX_RESPONSE_BYTES: u64 = 256 << 20;

/// A failed command: the HTTP exchange failed, or the driver answered with a W3C error.
#[derive(Debug)]
pub(crate) enum WebDriverError {
    Http(String),
    /// A W3C error such as `no such element` or `stale element reference`.
    Command {
        error: String,
        message: String,
    },
}

impl WebDriverError {
    /// The W3C error code, e.g. `"stale element reference"`.
    pub(crate) fn code(&self) -> &str {
        match self {
            WebDriverError::Http(_) => "",
            WebDriverError::Command { error, .. } => error,
        }
    }
}

impl fmt::Display for WebDriverError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WebDriverError::Http(message) => write!(f, "WebDriver HTTP error: {message}"),
            WebDriverError::Command { error, message } => {
                // ChromeDriver appends its own build and platform lines; the first line says it.
                let first_line = message.lines().next().unwrap_or_default();
                write!(f, "WebDriver error `{error}`: {first_line}")
            }
        }
    }
}

impl From<ureq::Error> for WebDriverError {
    fn from(error: ureq::Error) -> WebDriverError {
        WebDriverError::Http(error.to_string())
    }
}

pub(crate) type Result<T, E = WebDriverError> = std::result::Result<T, E>;

/// An element reference, valid in the browsing context (frame) it was found in.
#[derive(Debug, Clone)]
pub(crate) struct ElementId(pub(crate) String);

impl ElementId {
    /// The element as WebDriver JSON, e.g. as an argument of `execute`.
    pub(crate) fn to_json(&self) -> Value {
        json!({ ELEMENT_KEY: self.0 })
    }

    pub(crate) fn from_json(value: &Value) -> Option<ElementId> {
        value
            .get(ELEMENT_KEY)?
            .as_str()
            .map(|id| ElementId(id.to_string()))
    }
}

/// The HTTP client for one driver at `base_url` (e.g. `http://127.0.0.1:9515`).
pub(crate) struct Driver {
    http: Agent,
    base_url: String,
}

impl Driver {
    pub(crate) fn new(base_url: String) -> Driver {
        let http = Agent::config_builder()
            // Slow pages are bounded by the session's own timeouts; this only catches a hung driver.
            .timeout_global(Some(Duration::from_secs(120)))
            .http_status_as_error(false)
            // Loopback only: never send driver traffic through a proxy from the environment.
            .proxy(None)
            .build()
            .new_agent();
        Driver { http, base_url }
    }

    /// `GET /status`: whether the driver can create sessions.
    pub(crate) fn is_ready(&self) -> bool {
        self.request("GET", "/status", None)
            .is_ok_and(|value| value["ready"].as_bool() == Some(true))
    }

    /// `POST /session`.
    pub(crate) fn new_session(&self, capabilities: Value) -> Result<SessionId> {
        let value = self.request(
            "POST",
            "/session",
            Some(json!({ "capabilities": capabilities })),
        )?;
        let id = value["sessionId"].as_str().ok_or_else(|| {
            WebDriverError::Http(format!("new session answer without sessionId: {value}"))
        })?;
        Ok(SessionId(id.to_string()))
    }

    /// `DELETE /session/{id}`: closes the browser.
    pub(crate) fn delete_session(&self, session: &SessionId) -> Result<()> {
        self.request("DELETE", &format!("/session/{}", session.0), None)
            .map(drop)
    }

    /// `POST /session/{id}/timeouts`.
    pub(crate) fn set_timeouts(
        &self,
        session: &SessionId,
        page_load: Duration,
        script: Duration,
    ) -> Result<()> {
        let body = json!({
            "pageLoad": page_load.as_millis() as u64,
            "script": script.as_millis() as u64,
            "implicit": 0,
        });
        self.session_post(session, "/timeouts", body).map(drop)
    }

    /// `POST /session/{id}/url`: navigates and waits for the page load.
    pub(crate) fn navigate(&self, session: &SessionId, url: &str) -> Result<()> {
        self.session_post(session, "/url", json!({ "url": url }))
            .map(drop)
    }

    /// `GET /session/{id}/url`.
    pub(crate) fn current_url(&self, session: &SessionId) -> Result<String> {
        Ok(self
            .session_get(session, "/url")?
            .as_str()
            .unwrap_or_default()
            .to_string())
    }

    /// `POST /session/{id}/execute/sync`: runs a function body with `arguments`.
    pub(crate) fn execute(
        &self,
        session: &SessionId,
        script: &str,
        args: &[Value],
    ) -> Result<Value> {
        self.session_post(
            session,
            "/execute/sync",
            json!({ "script": script, "args": args }),
        )
    }

    /// `POST /session/{id}/goog/cdp/execute`: ChromeDriver's pass-through to one DevTools
    /// protocol command on the current page.
    pub(crate) fn cdp(&self, session: &SessionId, command: &str, params: Value) -> Result<Value> {
        self.session_post(
            session,
            "/goog/cdp/execute",
            json!({ "cmd": command, "params": params }),
        )
    }

    /// `GET /session/{id}/element/{element}/computedrole`: the role in Chrome's accessibility tree.
    pub(crate) fn computed_role(&self, session: &SessionId, element: &ElementId) -> Result<String> {
        let value = self.session_get(session, &format!("/element/{}/computedrole", element.0))?;
        Ok(value.as_str().unwrap_or_default().to_string())
    }

    /// `GET /session/{id}/element/{element}/computedlabel`: the accessible name.
    pub(crate) fn computed_label(
        &self,
        session: &SessionId,
        element: &ElementId,
    ) -> Result<String> {
        let value = self.session_get(session, &format!("/element/{}/computedlabel", element.0))?;
        Ok(value.as_str().unwrap_or_default().to_string())
    }

    /// `POST /session/{id}/element/{element}/click`.
    pub(crate) fn click(&self, session: &SessionId, element: &ElementId) -> Result<()> {
        self.session_post(session, &format!("/element/{}/click", element.0), json!({}))
            .map(drop)
    }

    /// `POST /session/{id}/element/{element}/value`: focuses the element and types `text`.
    pub(crate) fn send_keys(
        &self,
        session: &SessionId,
        element: &ElementId,
        text: &str,
    ) -> Result<()> {
        let path = format!("/element/{}/value", element.0);
        self.session_post(session, &path, json!({ "text": text }))
            .map(drop)
    }

    /// `POST /session/{id}/element/{element}/clear`.
    pub(crate) fn clear(&self, session: &SessionId, element: &ElementId) -> Result<()> {
        self.session_post(session, &format!("/element/{}/clear", element.0), json!({}))
            .map(drop)
    }

    /// `GET /session/{id}/element/{element}/text`: the rendered text.
    pub(crate) fn element_text(&self, session: &SessionId, element: &ElementId) -> Result<String> {
        let value = self.session_get(session, &format!("/element/{}/text", element.0))?;
        Ok(value.as_str().unwrap_or_default().to_string())
    }

    /// `GET /session/{id}/element/{element}/attribute/{name}`.
    pub(crate) fn attribute(
        &self,
        session: &SessionId,
        element: &ElementId,
        name: &str,
    ) -> Result<Option<String>> {
        let value =
            self.session_get(session, &format!("/element/{}/attribute/{name}", element.0))?;
        Ok(value.as_str().map(str::to_string))
    }

    /// `GET /session/{id}/element/{element}/property/{name}`.
    pub(crate) fn property(
        &self,
        session: &SessionId,
        element: &ElementId,
        name: &str,
    ) -> Result<Value> {
        self.session_get(session, &format!("/element/{}/property/{name}", element.0))
    }

    /// `POST /session/{id}/frame`: `frame` is an element reference, or `null` for the top.
    pub(crate) fn switch_to_frame(&self, session: &SessionId, frame: Value) -> Result<()> {
        self.session_post(session, "/frame", json!({ "id": frame }))
            .map(drop)
    }

    /// `POST /session/{id}/frame/parent`.
    pub(crate) fn switch_to_parent_frame(&self, session: &SessionId) -> Result<()> {
        self.session_post(session, "/frame/parent", json!({}))
            .map(drop)
    }

    /// `GET /session/{id}/screenshot`: the viewport as base64 PNG.
    pub(crate) fn screenshot(&self, session: &SessionId) -> Result<String> {
        Ok(self
            .session_get(session, "/screenshot")?
            .as_str()
            .unwrap_or_default()
            .to_string())
    }

    /// `POST /session/{id}/window/rect`.
    pub(crate) fn set_window_size(
        &self,
        session: &SessionId,
        width: u32,
        height: u32,
    ) -> Result<()> {
        self.session_post(
            session,
            "/window/rect",
            json!({ "width": width, "height": height }),
        )
        .map(drop)
    }

    /// `POST /session/{id}/se/log` (a ChromeDriver extension): the browser console entries
    /// logged since the previous call, as `{level, message, ...}` objects.
    pub(crate) fn browser_log(&self, session: &SessionId) -> Result<Vec<Value>> {
        let value = self.session_post(session, "/se/log", json!({ "type": "browser" }))?;
        Ok(value.as_array().cloned().unwrap_or_default())
    }

    fn session_get(&self, session: &SessionId, path: &str) -> Result<Value> {
        self.request("GET", &format!("/session/{}{path}", session.0), None)
    }

    fn session_post(&self, session: &SessionId, path: &str, body: Value) -> Result<Value> {
        self.request("POST", &format!("/session/{}{path}", session.0), Some(body))
    }

    /// Sends one command and unwraps the W3C `{"value": ...}` envelope.
    fn request(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value> {
        let url = format!("{}{path}", self.base_url);
        let mut response = match (method, body) {
            ("GET", _) => self.http.get(&url).call()?,
            ("DELETE", _) => self.http.delete(&url).call()?,
            (_, body) => self
                .http
                .post(&url)
                .send_json(body.unwrap_or_else(|| json!({})))?,
        };
        let status = response.status();
        let mut envelope: Value = response
            .body_mut()
            .with_config()
            .limit(MAX_RESPONSE_BYTES)
            .read_json()?;
        let value = envelope["value"].take();
        if status.is_success() {
            return Ok(value);
        }
        Err(WebDriverError::Command {
            error: value["error"]
                .as_str()
                .unwrap_or("unknown error")
                .to_string(),
            message: value["message"].as_str().unwrap_or_default().to_string(),
        })
    }
}

/// A WebDriver session id.
#[derive(Debug, Clone)]
pub(crate) struct SessionId(pub(crate) String);
