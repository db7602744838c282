//! Protocol v1: the JSON frames exchanged over the customer and agent WebSockets.
//!
//! Every frame is one JSON object with a version `v` and a `type` tag, e.g.
//! `{"v":1,"type":"send","client_msg_id":"c1","text":"你好"}`. `PROTOCOL.md` at the
//! repository root documents each frame with an example and the rules (ordering,
//! idempotency, resume); this module is its executable form.
//!
//! Decoding is defensive because both ends face untrusted peers: the size is checked before
//! parsing, the version before the type, unknown fields are ignored (so a newer peer can
//! add fields without a version bump), and every failure is a [`FrameError`] with an
//! [`ErrorCode`] — decoding never panics, whatever the input.
//!
//! The frame enums are plain data with the version kept outside them: [`encode`] and the
//! `encode_*` functions add `"v": PROTOCOL_VERSION`, the `decode_*` functions check it.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use crate::config::ServiceMode;
use crate::conversation::{Event, Phase};
use crate::feedback::Verdict;
use crate::text::char_count;

/// The protocol version this crate speaks. A peer sending another version gets
/// `unsupported_version` and should reload (the widget) or upgrade.
pub const PROTOCOL_VERSION: u32 = 1;
/// The largest frame accepted, in bytes of UTF-8 JSON (64 KiB).
pub const MAX_FRAME_BYTES: usize = 64 * 1024;
/// The longest message text, in characters (Unicode scalar values).
pub const MAX_MESSAGE_CHARS: usize = 4000;
/// The longest id, token, group name or client message id, in characters.
pub const MAX_ID_CHARS: usize = 128;
/// The most conversations one `hello` may resume.
pub const MAX_RESUME_CURSORS: usize = 64;
/// The longest page URL, title or referrer, in characters.
pub const MAX_PAGE_FIELD_CHARS: usize = 2048;
/// The most custom attributes of a user identity.
pub const MAX_USER_ATTRIBUTES: usize = 32;
/// The longest name of a user attribute, in characters.
pub const MAX_ATTRIBUTE_NAME_CHARS: usize = 64;
/// The longest value of a user attribute, in characters.
pub const MAX_ATTRIBUTE_VALUE_CHARS: usize = 512;
/// The most bytes (UTF-8 JSON) a `hello`'s `user` and `page` may take together: the visitor
/// profile agents get in every `snapshot` and `agent_welcome` is built of them, so with
/// this limit a conversation's summary stays far below [`MAX_FRAME_BYTES`] (a snapshot's
/// events are split over further frames, see the server's `snapshot_frames`).
pub const MAX_PROFILE_BYTES: usize = 8 * 1024;
/// How often a client sends `ping` while connected, in seconds: well inside the server's
/// idle close (60 seconds without any frame).
pub const PING_EVERY_SECONDS: u32 = 25;

/// Why a frame was refused. Serialized in snake_case (`bad_frame`, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// Not JSON, not an object, a missing or mistyped field, a value out of range.
    BadFrame,
    /// `v` is not [`PROTOCOL_VERSION`].
    UnsupportedVersion,
    /// Over [`MAX_FRAME_BYTES`] or a text over its limit.
    TooLarge,
    /// A `type` this peer does not know.
    UnknownType,
    /// Too many frames; slow down.
    RateLimited,
    /// No valid token or session.
    Unauthorized,
    /// Authenticated but not allowed (e.g. not the assigned agent).
    Forbidden,
    /// No such conversation, group or agent.
    NotFound,
    /// Not possible in the conversation's current phase (e.g. ended).
    InvalidState,
    /// Already accepted; the matching `ack` is sent again.
    Duplicate,
    /// The server failed; retrying later may work.
    Internal,
    /// A code from a newer peer; treat as a generic failure.
    #[serde(other)]
    Unknown,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::BadFrame => "bad_frame",
            ErrorCode::UnsupportedVersion => "unsupported_version",
            ErrorCode::TooLarge => "too_large",
            ErrorCode::UnknownType => "unknown_type",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::Unauthorized => "unauthorized",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::NotFound => "not_found",
            ErrorCode::InvalidState => "invalid_state",
            ErrorCode::Duplicate => "duplicate",
            ErrorCode::Internal => "internal",
            ErrorCode::Unknown => "unknown",
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// A frame that could not be decoded, with the code to answer it with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct FrameError {
    pub code: ErrorCode,
    pub message: String,
}

impl FrameError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        FrameError {
            code,
            message: message.into(),
        }
    }

    /// The `error` frame that answers this failure.
    pub fn to_server_frame(&self, client_msg_id: Option<String>) -> ServerFrame {
        ServerFrame::Error {
            code: self.code,
            message: self.message.clone(),
            client_msg_id,
        }
    }
}

/// Where a client resumes a conversation: it has seen every event up to `after_seq`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResumeCursor {
    pub conversation_id: String,
    pub after_seq: u64,
}

/// The page the customer is on, for the agent's side panel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct PageInfo {
    #[serde(default)]
    pub url: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub referrer: String,
}

/// What the site owner tells about a logged-in user (`Kefu.setUser`). `user_hash` is an
/// HMAC of `id` with the site's secret, checked by the server to stop impersonation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct UserIdentity {
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
    /// Left out of the JSON when absent: the server removes it before an agent sees the user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_hash: Option<String>,
}

/// An agent's presence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum AgentStatus {
    /// Takes new chats.
    Online,
    /// Keeps current chats, takes no new ones.
    Away,
    /// Takes nothing; current chats are re-queued.
    #[default]
    Offline,
}

/// Frames a customer's widget sends.
// `hello` is much larger than the other frames, but frames live for one message and are
// built by hand in the widget: plain fields beat boxing for the people writing them.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum CustomerFrame {
    /// First frame of a connection.
    Hello {
        /// The token from an earlier `welcome`, absent for a first visit.
        #[serde(default)]
        visitor_token: Option<String>,
        /// Conversations to resume, with the last seq the widget has.
        #[serde(default)]
        resume: Vec<ResumeCursor>,
        /// A BCP 47 tag such as `zh-CN` or `en`.
        #[serde(default)]
        locale: Option<String>,
        /// The skill group asked for by the page (`data-group`).
        #[serde(default)]
        group: Option<String>,
        #[serde(default)]
        page: Option<PageInfo>,
        #[serde(default)]
        user: Option<UserIdentity>,
    },
    Send {
        client_msg_id: String,
        text: String,
    },
    /// The transfer button. `client_msg_id` lets the server answer a retry with the same ack.
    Transfer {
        #[serde(default)]
        client_msg_id: Option<String>,
    },
    End {},
    Typing {
        typing: bool,
    },
    /// The panel has shown the visitor `conversation_id` up to `seq` (open, on a visible
    /// page): the agent's messages up to there are read.
    Read {
        conversation_id: String,
        seq: u64,
    },
    /// 有用 / 没用 on the robot's knowledge answer at `seq` of the visitor's conversation
    /// `conversation_id` (see [`crate::feedback`]); a second vote on it replaces the first.
    Vote {
        conversation_id: String,
        seq: u64,
        verdict: Verdict,
    },
    Ping {},
}

/// Frames an agent's workspace sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AgentFrame {
    Hello {
        session_token: String,
        #[serde(default)]
        resume: Vec<ResumeCursor>,
    },
    SetStatus {
        status: AgentStatus,
    },
    Send {
        conversation_id: String,
        client_msg_id: String,
        text: String,
    },
    End {
        conversation_id: String,
    },
    TransferToGroup {
        conversation_id: String,
        group: String,
    },
    Typing {
        conversation_id: String,
        typing: bool,
    },
    Ping {},
}

/// The agent as shown in its own workspace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentProfile {
    pub agent_id: String,
    pub display_name: String,
    #[serde(default)]
    pub avatar: Option<String>,
    pub groups: Vec<String>,
    pub max_concurrent_chats: u32,
    pub status: AgentStatus,
}

/// Who the customer is, as shown to an agent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct VisitorProfile {
    pub visitor_id: String,
    #[serde(default)]
    pub user: Option<UserIdentity>,
    #[serde(default)]
    pub page: Option<PageInfo>,
    #[serde(default)]
    pub locale: Option<String>,
    /// The user id came with a `user_hash` that verified against the site's secret: the
    /// agent may trust it. Unverified ids are shown as such (or refused, if the server
    /// requires verification). The hash itself is never passed on.
    #[serde(default)]
    pub verified: bool,
    /// The browser and system, e.g. `Chrome 131 · Windows` (see [`crate::useragent`]).
    #[serde(default)]
    pub browser: Option<String>,
    /// When the visitor first came (unix ms), if the server knows.
    #[serde(default)]
    pub first_seen: Option<i64>,
    /// How many visits (a gap of [`crate::presence::VISIT_GAP_MS`] starts a new one).
    #[serde(default)]
    pub visits: u32,
    /// The visitor's earlier conversations, newest first (at most [`MAX_PAST_CONVERSATIONS`]).
    #[serde(default)]
    pub previous_conversations: Vec<PastConversation>,
    /// Whether the visitor has the panel open now (a connection to the server). An agent's
    /// chat is sent again when this changes, so the list can mark visitors who left.
    #[serde(default)]
    pub online: bool,
}

/// The most earlier conversations listed in a [`VisitorProfile`].
pub const MAX_PAST_CONVERSATIONS: usize = 10;

/// One of a visitor's earlier conversations, as the agent's customer info lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PastConversation {
    pub conversation_id: String,
    pub started_at: i64,
    #[serde(default)]
    pub ended_at: Option<i64>,
    pub group: String,
    /// The customer's first message, cut to [`PAST_PREVIEW_CHARS`] characters.
    #[serde(default)]
    pub first_message: String,
}

/// How much of a past conversation's first message is shown.
pub const PAST_PREVIEW_CHARS: usize = 80;

/// A skill group an agent may transfer a chat to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupChoice {
    /// The group's name, sent back in `transfer_to_group`.
    pub name: String,
    /// The name customers see (对外展示名).
    pub display_name: String,
}

/// A conversation as listed in the agent's workspace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationSummary {
    pub conversation_id: String,
    pub visitor: VisitorProfile,
    pub group: String,
    pub phase: Phase,
    #[serde(default)]
    pub agent_id: Option<String>,
    pub started_at: i64,
    pub last_seq: u64,
    /// How far the customer has seen the log (a `read` of theirs), for the agent's "已读".
    #[serde(default)]
    pub read_seq: u64,
}

/// Who is typing, in a `typing` frame from the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TypingParty {
    Customer,
    Agent,
}

/// Frames the server sends to customers and agents.
// Same trade-off as `CustomerFrame`: `agent_welcome` and `snapshot` are large, and rare.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerFrame {
    /// Answer to a customer's `hello`.
    Welcome {
        /// Keep it (e.g. in localStorage) and send it in the next `hello`.
        visitor_token: String,
        visitor_id: String,
        /// The conversation in progress or last ended, if any.
        #[serde(default)]
        conversation_id: Option<String>,
        /// The name of the skill group customers see (对外展示名).
        group_display_name: String,
        service_mode: ServiceMode,
        /// Whether to show the transfer button.
        transfer_button: bool,
        /// The server's time (unix ms), so the widget can show times relative to it.
        server_time: i64,
        /// The first words the panel shows (the operator's widget settings); may be empty.
        #[serde(default)]
        greeting: String,
    },
    /// Answer to an agent's `hello`.
    AgentWelcome {
        agent: AgentProfile,
        /// The conversations this agent serves now; a `snapshot` follows for each.
        conversations: Vec<ConversationSummary>,
        server_time: i64,
        /// Every skill group of the service, for `transfer_to_group`.
        #[serde(default)]
        groups: Vec<GroupChoice>,
    },
    /// The message with `client_msg_id` is durably stored as `seq`.
    Ack {
        client_msg_id: String,
        conversation_id: String,
        seq: u64,
    },
    /// One event of a conversation's log, in seq order.
    Event {
        conversation_id: String,
        event: Event,
    },
    /// A whole conversation, for an agent newly assigned (or resuming with no cursor).
    Snapshot {
        conversation: ConversationSummary,
        events: Vec<Event>,
    },
    /// Ephemeral: the customer's place in the queue, 1 = next.
    QueuePosition {
        conversation_id: String,
        position: u32,
    },
    /// Ephemeral: the other side is typing.
    Typing {
        conversation_id: String,
        from: TypingParty,
        typing: bool,
    },
    /// To the agent: the customer has seen the conversation up to `seq`.
    Read {
        conversation_id: String,
        seq: u64,
    },
    /// Confirms an agent's `set_status` (or a change made by the server, e.g. on timeout).
    AgentStatus {
        status: AgentStatus,
    },
    Error {
        code: ErrorCode,
        message: String,
        #[serde(default)]
        client_msg_id: Option<String>,
    },
    Pong {},
}

/// Serializes a frame with the version field. Infallible for these types: they contain only
/// strings, integers, booleans and maps with string keys.
fn encode_with_version<T: Serialize>(frame: &T) -> String {
    #[derive(Serialize)]
    struct Versioned<'a, T> {
        v: u32,
        #[serde(flatten)]
        frame: &'a T,
    }
    serde_json::to_string(&Versioned { v: PROTOCOL_VERSION, frame })
        .unwrap_or_else(|error| format!(r#"{{"v":{PROTOCOL_VERSION},"type":"error","code":"internal","message":"encode failed: {error}"}}"#))
}

/// Encodes a server frame (used by the server).
pub fn encode(frame: &ServerFrame) -> String {
    encode_with_version(frame)
}

/// Encodes a customer frame (used by the widget).
pub fn encode_customer_frame(frame: &CustomerFrame) -> String {
    encode_with_version(frame)
}

/// Encodes an agent frame (used by the agent workspace).
pub fn encode_agent_frame(frame: &AgentFrame) -> String {
    encode_with_version(frame)
}

/// Decodes a frame from a customer, checking size, version, type and limits.
pub fn decode_customer_frame(text: &str) -> Result<CustomerFrame, FrameError> {
    let value = decode_value(text, CUSTOMER_FRAME_TYPES)?;
    // Unknown fields are ignored, except this one: a `user_hash` beside `user` instead of
    // inside it would silently leave the identity unverified.
    if value.get("type").and_then(|kind| kind.as_str()) == Some("hello")
        && value.get("user_hash").is_some()
    {
        return Err(FrameError::new(
            ErrorCode::BadFrame,
            "\"user_hash\" belongs inside \"user\", not beside it",
        ));
    }
    let frame: CustomerFrame = from_value(value)?;
    check_customer_frame(&frame)?;
    Ok(frame)
}

/// The `client_msg_id` of a frame that could not be decoded, so that the `error` answering
/// it can carry it and the client can mark exactly that message as failed. Frames over
/// [`MAX_FRAME_BYTES`] are not parsed at all.
pub fn client_msg_id_of(text: &str) -> Option<String> {
    if text.len() > MAX_FRAME_BYTES {
        return None;
    }
    let value: serde_json::Value = serde_json::from_str(text).ok()?;
    value.get("client_msg_id")?.as_str().map(str::to_owned)
}

/// Decodes a frame from an agent, checking size, version, type and limits.
pub fn decode_agent_frame(text: &str) -> Result<AgentFrame, FrameError> {
    let frame: AgentFrame = decode_versioned(text, AGENT_FRAME_TYPES)?;
    check_agent_frame(&frame)?;
    Ok(frame)
}

/// Decodes a frame from the server (used by the widget and the agent workspace).
pub fn decode_server_frame(text: &str) -> Result<ServerFrame, FrameError> {
    decode_versioned(text, SERVER_FRAME_TYPES)
}

const CUSTOMER_FRAME_TYPES: &[&str] = &[
    "hello", "send", "transfer", "end", "typing", "read", "vote", "ping",
];
const AGENT_FRAME_TYPES: &[&str] = &[
    "hello",
    "set_status",
    "send",
    "end",
    "transfer_to_group",
    "typing",
    "ping",
];
const SERVER_FRAME_TYPES: &[&str] = &[
    "welcome",
    "agent_welcome",
    "ack",
    "event",
    "snapshot",
    "queue_position",
    "typing",
    "read",
    "agent_status",
    "error",
    "pong",
];

/// Shared decoding steps, in the order that gives the most useful error: size, JSON, object,
/// version, type, then the frame's fields.
fn decode_versioned<T: DeserializeOwned>(
    text: &str,
    known_types: &[&str],
) -> Result<T, FrameError> {
    from_value(decode_value(text, known_types)?)
}

/// The frame's fields, once the JSON, the version and the type are known to be right.
fn from_value<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, FrameError> {
    serde_json::from_value(value)
        .map_err(|error| FrameError::new(ErrorCode::BadFrame, format!("invalid frame: {error}")))
}

/// The steps of [`decode_versioned`] before the frame's own fields.
fn decode_value(text: &str, known_types: &[&str]) -> Result<serde_json::Value, FrameError> {
    if text.len() > MAX_FRAME_BYTES {
        return Err(FrameError::new(
            ErrorCode::TooLarge,
            format!(
                "frame is {} bytes, the limit is {MAX_FRAME_BYTES}",
                text.len()
            ),
        ));
    }
    let value: serde_json::Value = serde_json::from_str(text).map_err(|error| {
        FrameError::new(ErrorCode::BadFrame, format!("not valid JSON: {error}"))
    })?;
    let object = value
        .as_object()
        .ok_or_else(|| FrameError::new(ErrorCode::BadFrame, "a frame must be a JSON object"))?;
    match object.get("v") {
        None => {
            return Err(FrameError::new(
                ErrorCode::BadFrame,
                "missing version field \"v\"",
            ));
        }
        Some(version) if version.as_u64() == Some(u64::from(PROTOCOL_VERSION)) => {}
        Some(version) => {
            return Err(FrameError::new(
                ErrorCode::UnsupportedVersion,
                format!(
                    "protocol version {version} is not supported; this peer speaks {PROTOCOL_VERSION}"
                ),
            ));
        }
    }
    let frame_type = match object.get("type") {
        None => {
            return Err(FrameError::new(
                ErrorCode::BadFrame,
                "missing field \"type\"",
            ));
        }
        Some(serde_json::Value::String(frame_type)) => frame_type,
        Some(_) => {
            return Err(FrameError::new(
                ErrorCode::BadFrame,
                "field \"type\" must be a string",
            ));
        }
    };
    if !known_types.contains(&frame_type.as_str()) {
        let shown: String = frame_type.chars().take(MAX_ID_CHARS).collect();
        return Err(FrameError::new(
            ErrorCode::UnknownType,
            format!("unknown frame type \"{shown}\""),
        ));
    }
    Ok(value)
}

fn check_length(
    field: &str,
    value: &str,
    max_chars: usize,
    code: ErrorCode,
) -> Result<(), FrameError> {
    if char_count(value) > max_chars {
        return Err(FrameError::new(
            code,
            format!("\"{field}\" is longer than {max_chars} characters"),
        ));
    }
    Ok(())
}

fn check_id(field: &str, value: &str) -> Result<(), FrameError> {
    if value.is_empty() {
        return Err(FrameError::new(
            ErrorCode::BadFrame,
            format!("\"{field}\" must not be empty"),
        ));
    }
    check_length(field, value, MAX_ID_CHARS, ErrorCode::BadFrame)
}

fn check_message_text(text: &str) -> Result<(), FrameError> {
    if text.trim().is_empty() {
        return Err(FrameError::new(
            ErrorCode::BadFrame,
            "\"text\" must not be empty",
        ));
    }
    check_length("text", text, MAX_MESSAGE_CHARS, ErrorCode::TooLarge)
}

fn check_resume(resume: &[ResumeCursor]) -> Result<(), FrameError> {
    if resume.len() > MAX_RESUME_CURSORS {
        return Err(FrameError::new(
            ErrorCode::BadFrame,
            format!("at most {MAX_RESUME_CURSORS} resume cursors are accepted"),
        ));
    }
    resume
        .iter()
        .try_for_each(|cursor| check_id("conversation_id", &cursor.conversation_id))
}

fn check_customer_frame(frame: &CustomerFrame) -> Result<(), FrameError> {
    match frame {
        CustomerFrame::Hello {
            visitor_token,
            resume,
            locale,
            group,
            page,
            user,
        } => {
            check_resume(resume)?;
            for (field, value) in [
                ("visitor_token", visitor_token),
                ("locale", locale),
                ("group", group),
            ] {
                if let Some(value) = value {
                    check_id(field, value)?;
                }
            }
            if let Some(page) = page {
                for (field, value) in [
                    ("page.url", &page.url),
                    ("page.title", &page.title),
                    ("page.referrer", &page.referrer),
                ] {
                    check_length(field, value, MAX_PAGE_FIELD_CHARS, ErrorCode::BadFrame)?;
                }
            }
            if let Some(user) = user {
                check_id("user.id", &user.id)?;
                for (field, value) in [
                    ("user.name", &user.name),
                    ("user.email", &user.email),
                    ("user.phone", &user.phone),
                    ("user.user_hash", &user.user_hash),
                ] {
                    if let Some(value) = value {
                        check_length(field, value, MAX_PAGE_FIELD_CHARS, ErrorCode::BadFrame)?;
                    }
                }
                if user.attributes.len() > MAX_USER_ATTRIBUTES {
                    return Err(FrameError::new(
                        ErrorCode::BadFrame,
                        format!("at most {MAX_USER_ATTRIBUTES} user attributes are accepted"),
                    ));
                }
                for (name, value) in &user.attributes {
                    check_length(
                        "user.attributes name",
                        name,
                        MAX_ATTRIBUTE_NAME_CHARS,
                        ErrorCode::BadFrame,
                    )?;
                    check_length(
                        "user.attributes value",
                        value,
                        MAX_ATTRIBUTE_VALUE_CHARS,
                        ErrorCode::BadFrame,
                    )?;
                }
            }
            let profile_bytes =
                serde_json::to_string(&(user, page)).map_or(usize::MAX, |json| json.len());
            if profile_bytes > MAX_PROFILE_BYTES {
                return Err(FrameError::new(
                    ErrorCode::BadFrame,
                    format!(
                        "the user identity and page together are {profile_bytes} bytes; at most {MAX_PROFILE_BYTES} are accepted"
                    ),
                ));
            }
            Ok(())
        }
        CustomerFrame::Send {
            client_msg_id,
            text,
        } => {
            check_id("client_msg_id", client_msg_id)?;
            check_message_text(text)
        }
        CustomerFrame::Transfer { client_msg_id } => match client_msg_id {
            Some(client_msg_id) => check_id("client_msg_id", client_msg_id),
            None => Ok(()),
        },
        CustomerFrame::Read {
            conversation_id, ..
        } => check_id("conversation_id", conversation_id),
        CustomerFrame::Vote {
            conversation_id,
            seq,
            ..
        } => {
            check_id("conversation_id", conversation_id)?;
            if *seq == 0 {
                return Err(FrameError::new(
                    ErrorCode::BadFrame,
                    "\"seq\" must be 1 or more",
                ));
            }
            Ok(())
        }
        CustomerFrame::End {} | CustomerFrame::Typing { .. } | CustomerFrame::Ping {} => Ok(()),
    }
}

fn check_agent_frame(frame: &AgentFrame) -> Result<(), FrameError> {
    match frame {
        AgentFrame::Hello {
            session_token,
            resume,
        } => {
            check_id("session_token", session_token)?;
            check_resume(resume)
        }
        AgentFrame::SetStatus { .. } | AgentFrame::Ping {} => Ok(()),
        AgentFrame::Send {
            conversation_id,
            client_msg_id,
            text,
        } => {
            check_id("conversation_id", conversation_id)?;
            check_id("client_msg_id", client_msg_id)?;
            check_message_text(text)
        }
        AgentFrame::End { conversation_id }
        | AgentFrame::Typing {
            conversation_id, ..
        } => check_id("conversation_id", conversation_id),
        AgentFrame::TransferToGroup {
            conversation_id,
            group,
        } => {
            check_id("conversation_id", conversation_id)?;
            check_id("group", group)
        }
    }
}
