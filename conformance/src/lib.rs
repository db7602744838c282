//! The conformance kit of Kefu protocol v1.
//!
//! Every rule of PROTOCOL.md written with MUST has a scenario here, named after the section
//! that states it (`closing/answers-client-close` is in "Closing"). A scenario plays the rule
//! against a [`Target`] — a server over WebSocket (the `kefu-conformance` command), or an
//! in-process backend (the widget's in-browser backend, in headless Chromium) — and yields
//! an [`Outcome`]: pass, fail with the frames exchanged, or skipped because the target lacks
//! what the rule needs (an agent login, a wire to send malformed bytes over, time).
//!
//! The kit speaks JSON as the document spells it (`serde_json::Value`), not through
//! kefu-core's types, so it checks the document's promises rather than the reference
//! implementation's reading of them.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use serde_json::{Value, json};

mod scenarios;

pub use scenarios::SCENARIOS;

/// Which socket to open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// `/ws/customer`
    Customer,
    /// `/ws/agent`
    Agent,
}

/// What a connection yielded.
#[derive(Debug, Clone, PartialEq)]
pub enum Recv {
    /// A text frame.
    Text(String),
    /// The peer's close frame, with its code (`None`: a close frame without one).
    Close(Option<u16>),
    /// The connection ended without a close frame.
    Ended,
    /// Nothing within the time asked for.
    Timeout,
}

/// One open connection of a target.
#[allow(async_fn_in_trait)]
pub trait Conn {
    async fn send_text(&mut self, text: String) -> Result<(), String>;
    /// A binary frame (targets without a wire never get asked).
    async fn send_binary(&mut self, bytes: Vec<u8>) -> Result<(), String>;
    /// Starts the closing handshake with this code (targets without a wire never get asked).
    async fn send_close(&mut self, code: u16) -> Result<(), String>;
    async fn recv(&mut self, timeout_ms: u64) -> Recv;
}

/// The result of opening a connection.
pub enum Connect<C> {
    Open(C),
    /// The WebSocket handshake was refused with this HTTP status.
    Refused(u16),
}

/// Something that speaks protocol v1.
#[allow(async_fn_in_trait)]
pub trait Target {
    type Conn: Conn;
    fn capabilities(&self) -> &Capabilities;
    /// Opens a socket, sending `Origin: origin` when given (browsers always send one).
    async fn connect(
        &self,
        endpoint: Endpoint,
        origin: Option<&str>,
    ) -> Result<Connect<Self::Conn>, String>;
    /// An HTTP request to the agents' API: status and body.
    async fn http(
        &self,
        method: &str,
        path: &str,
        bearer: Option<&str>,
        body: Option<&str>,
    ) -> Result<(u16, String), String>;
    async fn sleep(&self, ms: u64);
}

/// What a target offers, which decides the scenarios that run.
#[derive(Debug, Clone)]
pub struct Capabilities {
    /// A real WebSocket: raw bytes, binary frames, close frames, the handshake's Origin.
    pub wire: bool,
    /// An agent account for the agent scenarios. It must be the only agent online in the
    /// group customers start in (the default group, or `group`), and take at least 3 chats.
    pub agent: Option<AgentLogin>,
    /// The deadlines to check (hello, idle close), in seconds; `None` skips those scenarios.
    pub timing: Option<Timing>,
    /// A transfer keyword of the service (PROTOCOL.md: `转人工` in the default configuration).
    pub transfer_keyword: String,
    /// The skill group customers ask for in `hello` (`None`: the default group).
    pub group: Option<String>,
}

#[derive(Debug, Clone)]
pub struct AgentLogin {
    pub login: String,
    pub password: String,
}

#[derive(Debug, Clone, Copy)]
pub struct Timing {
    pub hello_seconds: u64,
    pub idle_seconds: u64,
}

/// What a scenario needs from the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Needs {
    /// A customer socket: every target.
    Customer,
    /// A wire: malformed bytes, binary frames, close frames, the handshake.
    Wire,
    /// An agent account.
    Agent,
    /// An agent account and a wire.
    AgentWire,
    /// Time (the deadlines) and a wire.
    Timing,
}

/// One rule of the document and how to check it.
pub struct Scenario {
    /// `section/rule`, the section being PROTOCOL.md's.
    pub name: &'static str,
    pub needs: Needs,
    /// The rule, as the document states it.
    pub rule: &'static str,
}

/// How a scenario went.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Pass,
    /// Why, and every frame exchanged.
    Fail {
        why: String,
        frames: Vec<String>,
    },
    Skip(String),
}

/// Runs the scenario named `name` against `target`.
pub async fn run<T: Target>(target: &T, name: &str) -> Outcome {
    let Some(scenario) = SCENARIOS.iter().find(|scenario| scenario.name == name) else {
        return Outcome::Skip(format!("no scenario {name}"));
    };
    let caps = target.capabilities();
    let missing = match scenario.needs {
        Needs::Customer => None,
        Needs::Wire if !caps.wire => Some("needs a WebSocket wire"),
        Needs::Agent if caps.agent.is_none() => Some("needs --agent-login"),
        Needs::AgentWire if caps.agent.is_none() => Some("needs --agent-login"),
        Needs::AgentWire if !caps.wire => Some("needs a WebSocket wire"),
        Needs::Timing if caps.timing.is_none() || !caps.wire => {
            Some("timing scenarios are off (--skip-timing, or no wire)")
        }
        _ => None,
    };
    if let Some(missing) = missing {
        return Outcome::Skip(missing.to_owned());
    }
    let session = Session {
        target,
        log: Rc::new(RefCell::new(Vec::new())),
    };
    match scenarios::play(&session, name).await {
        Ok(Played::Done) => Outcome::Pass,
        Ok(Played::NotApplicable(why)) => Outcome::Skip(why),
        Err(why) => Outcome::Fail {
            why,
            frames: session.log.borrow().clone(),
        },
    }
}

/// A scenario's verdict short of failing.
pub(crate) enum Played {
    Done,
    /// The service's configuration makes the rule moot (e.g. the robot scenarios on a
    /// human-only service).
    NotApplicable(String),
}

pub(crate) type Check = Result<Played, String>;

/// How long to wait for an expected frame.
pub(crate) const WAIT_MS: u64 = 5_000;
/// At most this many frames are read while looking for one.
const MAX_SKIPPED: usize = 2_000;

/// One scenario's connections and the log of everything they exchanged.
pub(crate) struct Session<'t, T: Target> {
    pub(crate) target: &'t T,
    log: Rc<RefCell<Vec<String>>>,
}

impl<'t, T: Target> Session<'t, T> {
    pub(crate) fn caps(&self) -> &Capabilities {
        self.target.capabilities()
    }

    pub(crate) fn note(&self, line: String) {
        self.log.borrow_mut().push(line);
    }

    /// Opens a socket without saying anything.
    pub(crate) async fn open(
        &self,
        endpoint: Endpoint,
        label: &str,
    ) -> Result<Peer<T::Conn>, String> {
        match self.target.connect(endpoint, None).await? {
            Connect::Open(conn) => Ok(Peer {
                conn,
                label: label.to_owned(),
                log: self.log.clone(),
                welcome: Value::Null,
                backlog: VecDeque::new(),
            }),
            Connect::Refused(status) => {
                Err(format!("{label}: the handshake was refused: HTTP {status}"))
            }
        }
    }

    /// A customer past `hello` → `welcome`, with extra `hello` fields.
    pub(crate) async fn customer_with(
        &self,
        label: &str,
        hello: Value,
    ) -> Result<Peer<T::Conn>, String> {
        let mut peer = self.open(Endpoint::Customer, label).await?;
        let mut frame = json!({"v": 1, "type": "hello"});
        if let Some(group) = &self.caps().group {
            frame["group"] = json!(group);
        }
        if let (Some(frame), Some(extra)) = (frame.as_object_mut(), hello.as_object()) {
            frame.extend(extra.clone());
        }
        peer.send(&frame).await?;
        peer.welcome = peer
            .expect("welcome", |frame| is_type(frame, "welcome"))
            .await?;
        Ok(peer)
    }

    /// A new visitor past its `welcome`.
    pub(crate) async fn customer(&self, label: &str) -> Result<Peer<T::Conn>, String> {
        self.customer_with(label, json!({})).await
    }

    /// The kit's agent's session token and agent id, logging in once per run (a login
    /// costs the server a password hash).
    pub(crate) async fn login(&self) -> Result<(String, String), String> {
        thread_local! {
            static SESSIONS: RefCell<Vec<(String, (String, String))>> = const { RefCell::new(Vec::new()) };
        }
        let name = self
            .caps()
            .agent
            .as_ref()
            .map(|agent| agent.login.clone())
            .unwrap_or_default();
        let cached = SESSIONS.with(|sessions| {
            sessions
                .borrow()
                .iter()
                .find(|(login, _)| *login == name)
                .map(|(_, session)| session.clone())
        });
        if let Some(session) = cached {
            return Ok(session);
        }
        let session = self.fresh_login().await?;
        SESSIONS.with(|sessions| sessions.borrow_mut().push((name, session.clone())));
        Ok(session)
    }

    /// Logs the kit's agent in over HTTP: a new session token and the agent id.
    pub(crate) async fn fresh_login(&self) -> Result<(String, String), String> {
        let login = self
            .caps()
            .agent
            .clone()
            .ok_or("no agent login was given")?;
        let body = json!({"login": login.login, "password": login.password}).to_string();
        self.note(format!(
            "→ http: POST /api/agent/login {{\"login\":{:?},…}}",
            login.login
        ));
        let (status, answer) = self
            .target
            .http("POST", "/api/agent/login", None, Some(body.as_str()))
            .await?;
        self.note(format!("← http: {status} {}", shorten(&answer)));
        if status != 200 {
            return Err(format!("agent login answered {status}: {answer}"));
        }
        let answer: Value =
            serde_json::from_str(&answer).map_err(|error| format!("login answer: {error}"))?;
        let token = answer["token"]
            .as_str()
            .ok_or("login answer without token")?;
        let agent_id = answer["agent_id"]
            .as_str()
            .ok_or("login answer without agent_id")?;
        Ok((token.to_owned(), agent_id.to_owned()))
    }

    /// An agent socket past `agent_welcome` for this session token.
    pub(crate) async fn agent(&self, label: &str, token: &str) -> Result<Peer<T::Conn>, String> {
        let mut peer = self.open(Endpoint::Agent, label).await?;
        peer.send(&json!({"v": 1, "type": "hello", "session_token": token}))
            .await?;
        peer.welcome = peer
            .expect("agent_welcome", |frame| is_type(frame, "agent_welcome"))
            .await?;
        Ok(peer)
    }

    /// An agent socket, online.
    pub(crate) async fn online_agent(
        &self,
        label: &str,
        token: &str,
    ) -> Result<Peer<T::Conn>, String> {
        let mut agent = self.agent(label, token).await?;
        agent
            .send(&json!({"v": 1, "type": "set_status", "status": "online"}))
            .await?;
        agent
            .expect("agent_status online", |frame| {
                is_type(frame, "agent_status") && frame["status"] == "online"
            })
            .await?;
        Ok(agent)
    }
}

/// A frame read from a peer, or how its connection ended.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Got {
    Frame(Value),
    Close(Option<u16>),
    Ended,
    Timeout,
}

/// One connection, logging everything it sends and receives.
pub(crate) struct Peer<C: Conn> {
    conn: C,
    label: String,
    log: Rc<RefCell<Vec<String>>>,
    /// The `welcome` or `agent_welcome` it got.
    pub(crate) welcome: Value,
    /// Frames read while looking for others, handed out again by [`Peer::next`].
    backlog: VecDeque<Value>,
}

impl<C: Conn> Peer<C> {
    fn note(&self, line: String) {
        self.log.borrow_mut().push(line);
    }

    pub(crate) async fn send(&mut self, frame: &Value) -> Result<(), String> {
        self.send_raw(frame.to_string()).await
    }

    pub(crate) async fn send_raw(&mut self, text: String) -> Result<(), String> {
        self.note(format!("→ {}: {}", self.label, shorten(&text)));
        self.conn.send_text(text).await
    }

    pub(crate) async fn send_binary(&mut self, bytes: Vec<u8>) -> Result<(), String> {
        self.note(format!(
            "→ {}: <binary frame, {} bytes>",
            self.label,
            bytes.len()
        ));
        self.conn.send_binary(bytes).await
    }

    pub(crate) async fn send_close(&mut self, code: u16) -> Result<(), String> {
        self.note(format!("→ {}: <close {code}>", self.label));
        self.conn.send_close(code).await
    }

    /// The next frame (or the end), waiting at most `timeout_ms`.
    pub(crate) async fn next(&mut self, timeout_ms: u64) -> Result<Got, String> {
        if let Some(frame) = self.backlog.pop_front() {
            return Ok(Got::Frame(frame));
        }
        Ok(match self.conn.recv(timeout_ms).await {
            Recv::Text(text) => {
                self.note(format!("← {}: {}", self.label, shorten(&text)));
                let frame: Value = serde_json::from_str(&text).map_err(|error| {
                    format!("{}: a frame that is not JSON ({error}): {text}", self.label)
                })?;
                check_frame_shape(&frame)
                    .map_err(|why| format!("{}: {why}: {text}", self.label))?;
                Got::Frame(frame)
            }
            Recv::Close(code) => {
                let shown = code.map_or("without a code".to_owned(), |code| code.to_string());
                self.note(format!("← {}: <close {shown}>", self.label));
                Got::Close(code)
            }
            Recv::Ended => {
                self.note(format!(
                    "← {}: <connection ended without a close frame>",
                    self.label
                ));
                Got::Ended
            }
            Recv::Timeout => Got::Timeout,
        })
    }

    /// Reads until a frame matches `wanted` and returns it; the frames skipped are lost.
    pub(crate) async fn expect(
        &mut self,
        what: &str,
        wanted: impl Fn(&Value) -> bool,
    ) -> Result<Value, String> {
        for _ in 0..MAX_SKIPPED {
            match self.next(WAIT_MS).await? {
                Got::Frame(frame) if wanted(&frame) => return Ok(frame),
                Got::Frame(_) => continue,
                Got::Timeout => {
                    return Err(format!("{}: no {what} within {WAIT_MS} ms", self.label));
                }
                ended => {
                    return Err(format!(
                        "{}: the connection ended ({ended:?}) before {what}",
                        self.label
                    ));
                }
            }
        }
        Err(format!("{}: no {what} in {MAX_SKIPPED} frames", self.label))
    }

    /// Expects an `error` frame with `code` (and `client_msg_id`, when given).
    pub(crate) async fn expect_error(
        &mut self,
        code: &str,
        client_msg_id: Option<&str>,
    ) -> Result<Value, String> {
        let frame = self
            .expect(&format!("error {code}"), |frame| is_type(frame, "error"))
            .await?;
        if frame["code"] != code {
            return Err(format!(
                "{}: expected error {code}, got {frame}",
                self.label
            ));
        }
        if !frame["message"].is_string() {
            return Err(format!(
                "{}: an error without a message: {frame}",
                self.label
            ));
        }
        if let Some(id) = client_msg_id
            && frame["client_msg_id"] != id
        {
            return Err(format!(
                "{}: the error does not carry client_msg_id {id:?}: {frame}",
                self.label
            ));
        }
        Ok(frame)
    }

    /// Reads until the close frame and requires its code to be `code`.
    pub(crate) async fn expect_close_code(
        &mut self,
        code: u16,
        within_ms: u64,
    ) -> Result<(), String> {
        let got = self.expect_close(within_ms).await?;
        if got == Some(code) {
            Ok(())
        } else {
            Err(format!("{}: closed with {got:?}, not {code}", self.label))
        }
    }

    /// Reads until the close frame; fails on a timeout or an end without one.
    pub(crate) async fn expect_close(&mut self, within_ms: u64) -> Result<Option<u16>, String> {
        for _ in 0..MAX_SKIPPED {
            match self.next(within_ms).await? {
                Got::Frame(_) => continue,
                Got::Close(code) => return Ok(code),
                Got::Ended => {
                    return Err(format!(
                        "{}: the connection ended without a close frame",
                        self.label
                    ));
                }
                Got::Timeout => {
                    return Err(format!("{}: not closed within {within_ms} ms", self.label));
                }
            }
        }
        Err(format!("{}: no close in {MAX_SKIPPED} frames", self.label))
    }

    /// Sends `ping` and returns every frame that came before its `pong`: what the server
    /// sent in answer to the frames before the ping (PROTOCOL.md, "Ordering").
    pub(crate) async fn until_pong(&mut self) -> Result<Vec<Value>, String> {
        self.send(&json!({"v": 1, "type": "ping"})).await?;
        let mut before = Vec::new();
        for _ in 0..MAX_SKIPPED {
            match self.next(WAIT_MS).await? {
                Got::Frame(frame) if is_type(&frame, "pong") => return Ok(before),
                Got::Frame(frame) => before.push(frame),
                Got::Timeout => return Err(format!("{}: no pong within {WAIT_MS} ms", self.label)),
                ended => {
                    return Err(format!(
                        "{}: the connection ended ({ended:?}) before the pong",
                        self.label
                    ));
                }
            }
        }
        Err(format!("{}: no pong in {MAX_SKIPPED} frames", self.label))
    }

    /// Puts frames back, to be read again by [`Peer::next`].
    pub(crate) fn unread(&mut self, frames: Vec<Value>) {
        for frame in frames.into_iter().rev() {
            self.backlog.push_front(frame);
        }
    }

    /// Sends a customer message and returns its `ack` (failing on an `error` for it).
    pub(crate) async fn say(&mut self, client_msg_id: &str, text: &str) -> Result<Value, String> {
        self.send(&json!({"v": 1, "type": "send", "client_msg_id": client_msg_id, "text": text}))
            .await?;
        self.ack_of(client_msg_id).await
    }

    /// The `ack` for `client_msg_id`, failing on an `error` that names it.
    pub(crate) async fn ack_of(&mut self, client_msg_id: &str) -> Result<Value, String> {
        let frame = self
            .expect(&format!("ack of {client_msg_id}"), |frame| {
                (is_type(frame, "ack") || is_type(frame, "error"))
                    && frame["client_msg_id"] == client_msg_id
            })
            .await?;
        if is_type(&frame, "error") {
            return Err(format!(
                "{}: {client_msg_id} was refused: {frame}",
                self.label
            ));
        }
        if !frame["seq"].is_u64() || !frame["conversation_id"].is_string() {
            return Err(format!(
                "{}: an ack without seq or conversation_id: {frame}",
                self.label
            ));
        }
        Ok(frame)
    }

    /// Reads until an event of `kind` (in `conversation_id`, when given) and returns the
    /// whole `event` frame.
    pub(crate) async fn expect_event(
        &mut self,
        kind: &str,
        conversation_id: Option<&str>,
    ) -> Result<Value, String> {
        self.expect(&format!("event {kind}"), |frame| {
            event_kind(frame) == Some(kind)
                && conversation_id.is_none_or(|id| frame["conversation_id"] == id)
        })
        .await
    }
}

/// Every server frame is an object with `"v": 1` and a string `type`; an `event` frame's
/// event has an integer `seq` ≥ 1, an integer `at` and a string `kind`.
fn check_frame_shape(frame: &Value) -> Result<(), String> {
    if !frame.is_object() {
        return Err("a frame that is not a JSON object".into());
    }
    if frame["v"] != 1 {
        return Err("a frame without \"v\": 1".into());
    }
    if !frame["type"].is_string() {
        return Err("a frame without a string \"type\"".into());
    }
    if is_type(frame, "event") {
        let event = &frame["event"];
        if !frame["conversation_id"].is_string() {
            return Err("an event frame without conversation_id".into());
        }
        if event["seq"].as_u64().is_none_or(|seq| seq == 0)
            || !event["at"].is_i64()
            || !event["kind"].is_string()
        {
            return Err("an event without seq ≥ 1, at and kind".into());
        }
    }
    Ok(())
}

pub(crate) fn is_type(frame: &Value, kind: &str) -> bool {
    frame["type"] == kind
}

/// The `kind` of an `event` frame's event.
pub(crate) fn event_kind(frame: &Value) -> Option<&str> {
    if is_type(frame, "event") {
        frame["event"]["kind"].as_str()
    } else {
        None
    }
}

/// Long frames are shown by their start and length.
fn shorten(text: &str) -> String {
    const MAX: usize = 400;
    if text.len() <= MAX {
        return text.to_owned();
    }
    let mut end = MAX;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} bytes)", &text[..end], text.len())
}

/// A scenario's result line, as the command prints it.
pub fn report_line(name: &str, outcome: &Outcome) -> String {
    match outcome {
        Outcome::Pass => format!("PASS  {name}"),
        Outcome::Skip(why) => format!("SKIP  {name}  ({why})"),
        Outcome::Fail { why, frames } => {
            let mut text = format!("FAIL  {name}\n      {why}\n      frames exchanged:");
            for frame in frames {
                text.push_str("\n        ");
                text.push_str(frame);
            }
            text
        }
    }
}
