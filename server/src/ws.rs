//! One task per WebSocket connection: check the upgrade, read frames, decode them with
//! kefu-core, pass them to the hub, and write what the hub queues for the connection.
//!
//! The first frame must be `hello`; a bad frame later gets an `error` frame and the
//! connection lives on. Decoding happens here, so the hub only ever sees valid frames.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::{SinkExt, StreamExt};
use kefu_core::protocol::{
    self, AgentFrame, CustomerFrame, ErrorCode, FrameError, MAX_FRAME_BYTES, ServerFrame,
};
use tokio::sync::{mpsc, oneshot};

use crate::app::AppState;
use crate::hub::{CustomerHello, Outbox, OutboxReceiver, Request};
use crate::metrics::Metrics;

/// The transport refuses (and closes on) messages over this size; between
/// [`MAX_FRAME_BYTES`] and this, kefu-core's decoding answers `too_large` and the connection
/// lives on, as PROTOCOL.md promises.
const MAX_TRANSPORT_BYTES: usize = 4 * MAX_FRAME_BYTES;

/// How many of the connection's own answers (to frames it refused: malformed or over the
/// rate limit) may wait to be written. They go beside the hub's outbox, not into it: when the
/// client does not read them, the reader waits, so a client flooding faster than it reads is
/// slowed down (its frames wait in TCP buffers) instead of disconnected, and the hub's acks
/// and events never find the outbox full of refusals.
const REPLIES_CAPACITY: usize = 64;

/// The transport's read buffer, allocated up front for every connection (tungstenite's
/// default is 128 KiB, which made an idle connection cost ~140 KiB). Chat frames are small;
/// a larger frame is read in several chunks into the message buffer, which grows only for
/// that message.
pub const READ_BUFFER_BYTES: usize = 4 * 1024;
/// Frames are written once this many bytes wait (or on flush, which every send does).
pub const WRITE_BUFFER_BYTES: usize = 4 * 1024;
/// The most bytes that may wait to be written: the write buffer and one largest frame.
/// Past it a send fails and the connection ends (its client resumes), instead of growing.
pub const MAX_WRITE_BUFFER_BYTES: usize = WRITE_BUFFER_BYTES + MAX_TRANSPORT_BYTES;

/// The buffer sizes and limits every WebSocket of this server uses (see the constants).
fn small(upgrade: WebSocketUpgrade) -> WebSocketUpgrade {
    upgrade
        .read_buffer_size(READ_BUFFER_BYTES)
        .write_buffer_size(WRITE_BUFFER_BYTES)
        .max_write_buffer_size(MAX_WRITE_BUFFER_BYTES)
        .max_message_size(MAX_TRANSPORT_BYTES)
        .max_frame_size(MAX_TRANSPORT_BYTES)
}

pub async fn customer_upgrade(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Response {
    if !origin_allowed(&state, &headers) {
        return (StatusCode::FORBIDDEN, "origin not allowed").into_response();
    }
    // For the agent's customer info only, as a "browser · system" label made of known words.
    let browser = headers
        .get(header::USER_AGENT)
        .and_then(|value| value.to_str().ok())
        .and_then(kefu_core::useragent::describe);
    small(upgrade).on_upgrade(move |socket| {
        let forwarded_for = headers
            .get("x-forwarded-for")
            .and_then(|value| value.to_str().ok());
        let ip = state.settings.client_ip(peer.ip(), forwarded_for);
        customer_connection(state, socket, ip, browser)
    })
}

pub async fn agent_upgrade(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Response {
    // The agent workspace is served by this server only, so only its own origin may connect.
    let own = state.settings.public_url();
    let origin = headers
        .get(header::ORIGIN)
        .and_then(|value| value.to_str().ok());
    if origin.is_some_and(|origin| origin != own && !is_loopback_alias(origin, &own)) {
        return (StatusCode::FORBIDDEN, "origin not allowed").into_response();
    }
    small(upgrade).on_upgrade(move |socket| agent_connection(state, socket))
}

/// Browsers always send Origin on a WebSocket upgrade; a page of a site that is not allowed
/// must not open a socket with the visitor's credentials (cross-site WebSocket hijacking).
/// Non-browser clients (no Origin) are allowed: they hold no visitor's ambient credentials.
fn origin_allowed(state: &AppState, headers: &HeaderMap) -> bool {
    let Some(origin) = headers
        .get(header::ORIGIN)
        .and_then(|value| value.to_str().ok())
    else {
        return true;
    };
    let own = state.settings.public_url();
    origin == own
        || is_loopback_alias(origin, &own)
        || state
            .settings
            .allowed_origins
            .iter()
            .any(|allowed| allowed.trim_end_matches('/') == origin)
        || state
            .hub
            .config
            .get()
            .widget
            .allowed_origins
            .iter()
            .any(|allowed| allowed == origin)
}

/// `http://localhost:8080` and `http://127.0.0.1:8080` are the same server to its operator.
fn is_loopback_alias(origin: &str, own: &str) -> bool {
    let swap = |url: &str| url.replace("://localhost:", "://127.0.0.1:");
    swap(origin) == swap(own)
}

/// Every phase's future is boxed: a task's future is as large as its largest state, and
/// an idle connection would otherwise carry the hello phase's (a decoded `hello`, the
/// request to the hub) for its whole life, several KiB each (see ARCHITECTURE.md, small
/// idle connections).
async fn customer_connection(
    state: Arc<AppState>,
    socket: WebSocket,
    ip: IpAddr,
    browser: Option<String>,
) {
    Metrics::add(&state.metrics.customer_connections, 1);
    let conn = state.hub.next_conn_id();
    let (outbox, receiver) = Outbox::new();
    let (mut sink, mut stream) = socket.split();
    let hello = match Box::pin(first_frame(
        &state,
        &mut stream,
        protocol::decode_customer_frame,
    ))
    .await
    {
        Ok(CustomerFrame::Hello {
            visitor_token,
            resume,
            locale,
            group,
            page,
            user,
        }) => CustomerHello {
            visitor_token,
            resume,
            locale,
            group,
            page,
            user,
            browser,
        },
        Ok(_) => {
            Box::pin(close_with(
                &mut sink,
                FrameError::new(ErrorCode::BadFrame, "the first frame must be hello"),
            ))
            .await;
            Metrics::sub(&state.metrics.customer_connections, 1);
            return;
        }
        Err(refusal) => {
            Box::pin(refuse(&mut sink, refusal)).await;
            Metrics::sub(&state.metrics.customer_connections, 1);
            return;
        }
    };
    let (reply, answer) = oneshot::channel();
    Box::pin(state.hub.send(Request::CustomerHello {
        conn,
        hello,
        outbox: outbox.clone(),
        reply,
    }))
    .await;
    match answer.await {
        Ok(Ok((visitor_id, first))) => {
            if !Box::pin(write_first(&mut sink, first)).await {
                drop(receiver);
                Box::pin(state.hub.send(Request::CustomerGone { conn })).await;
                Metrics::sub(&state.metrics.customer_connections, 1);
                return;
            }
            let (replies, replies_receiver) = mpsc::channel(REPLIES_CAPACITY);
            let (close, close_reason) = oneshot::channel();
            let reader = {
                let state = state.clone();
                let limit = RateKey { visitor_id, ip };
                async move {
                    let request = |frame| Request::CustomerFrame { conn, frame };
                    read_frames(
                        &state,
                        &mut stream,
                        &replies,
                        protocol::decode_customer_frame,
                        Some(&limit),
                        request,
                    )
                    .await
                }
            };
            drop(outbox);
            Box::pin(run_connection(
                reader,
                write_frames(sink, receiver, replies_receiver, close_reason),
                close,
            ))
            .await;
            Box::pin(state.hub.send(Request::CustomerGone { conn })).await;
        }
        Ok(Err(error)) => Box::pin(close_with(&mut sink, error)).await,
        Err(_) => {
            let error = FrameError::new(ErrorCode::Internal, "the server is shutting down");
            Box::pin(close_with_code(&mut sink, error, 1001)).await
        }
    }
    Metrics::sub(&state.metrics.customer_connections, 1);
}

async fn agent_connection(state: Arc<AppState>, socket: WebSocket) {
    Metrics::add(&state.metrics.agent_connections, 1);
    let conn = state.hub.next_conn_id();
    let (outbox, receiver) = Outbox::new();
    let (mut sink, mut stream) = socket.split();
    let (session_token, resume) =
        match first_frame(&state, &mut stream, protocol::decode_agent_frame).await {
            Ok(AgentFrame::Hello {
                session_token,
                resume,
            }) => (session_token, resume),
            Ok(_) => {
                close_with(
                    &mut sink,
                    FrameError::new(ErrorCode::BadFrame, "the first frame must be hello"),
                )
                .await;
                Metrics::sub(&state.metrics.agent_connections, 1);
                return;
            }
            Err(refusal) => {
                refuse(&mut sink, refusal).await;
                Metrics::sub(&state.metrics.agent_connections, 1);
                return;
            }
        };
    let (reply, answer) = oneshot::channel();
    let token = session_token.clone();
    state
        .hub
        .send(Request::AgentHello {
            conn,
            session_token,
            resume,
            outbox: outbox.clone(),
            reply,
        })
        .await;
    match answer.await {
        Ok(Ok(first)) => {
            if !write_first(&mut sink, first).await {
                drop(receiver);
                state.hub.send(Request::AgentGone { conn }).await;
                Metrics::sub(&state.metrics.agent_connections, 1);
                return;
            }
            let (replies, replies_receiver) = mpsc::channel(REPLIES_CAPACITY);
            let (close, close_reason) = oneshot::channel();
            let reader = {
                let state = state.clone();
                async move {
                    let request = |frame| Request::AgentFrame { conn, frame };
                    tokio::select! {
                        reason = read_frames(&state, &mut stream, &replies, protocol::decode_agent_frame, None, request) => reason,
                        reason = session_ended(&state, &token, &replies) => Some(reason),
                    }
                }
            };
            drop(outbox);
            run_connection(
                reader,
                write_frames(sink, receiver, replies_receiver, close_reason),
                close,
            )
            .await;
            state.hub.send(Request::AgentGone { conn }).await;
        }
        Ok(Err(error)) => close_with(&mut sink, error).await,
        Err(_) => {
            let error = FrameError::new(ErrorCode::Internal, "the server is shutting down");
            close_with_code(&mut sink, error, 1001).await
        }
    }
    Metrics::sub(&state.metrics.agent_connections, 1);
}

type Stream = futures_util::stream::SplitStream<WebSocket>;
type Sink = futures_util::stream::SplitSink<WebSocket, Message>;

/// Runs the reader and the writer until either ends: one cleanup path for every way a
/// connection can close. When the reader ends on a broken frame, the writer first tells the
/// client why with a close frame (1009 too big, 1007 not UTF-8, 1002 protocol error).
async fn run_connection(
    reader: impl std::future::Future<Output = Option<CloseFrame>>,
    writer: impl std::future::Future<Output = ()>,
    close: oneshot::Sender<CloseFrame>,
) {
    tokio::pin!(writer);
    tokio::select! {
        reason = reader => {
            if let Some(reason) = reason {
                let _ = close.send(reason);
                let _ = tokio::time::timeout(Duration::from_secs(1), &mut writer).await;
            }
        }
        () = &mut writer => {}
    }
}

/// The close frame for a read error that ended a connection, if the client should get one.
/// axum hands the transport's error over as text only, so it is told apart by its message.
fn close_frame_for(error: &axum::Error) -> Option<CloseFrame> {
    let text = error.to_string();
    let (code, reason) = if text.contains("Space limit exceeded") {
        (1009, "frame over 262144 bytes")
    } else if text.contains("UTF-8") {
        (1007, "text frame is not UTF-8")
    } else if text.contains("protocol error") {
        (1002, "WebSocket protocol error")
    } else {
        return None;
    };
    Some(CloseFrame {
        code,
        reason: reason.into(),
    })
}

/// Why no connection was made of a socket's first frame.
enum Refusal {
    /// A frame that is not a valid `hello`, or none in time: answered with this error, then
    /// closed (see [`close_with`]).
    Frame(FrameError),
    /// The client closed first: its close frame is answered, nothing else is sent.
    ClientClosed,
    /// The transport refused the frame (over 262,144 bytes, not UTF-8): this close frame.
    Transport(Option<CloseFrame>),
}

impl From<FrameError> for Refusal {
    fn from(error: FrameError) -> Refusal {
        Refusal::Frame(error)
    }
}

async fn refuse(sink: &mut Sink, refusal: Refusal) {
    match refusal {
        Refusal::Frame(error) => close_with(sink, error).await,
        Refusal::ClientClosed => answer_close(sink).await,
        Refusal::Transport(reason) => send_close(sink, reason).await,
    }
}

/// Waits for the first frame (at most `hello_timeout_seconds`) and decodes it.
async fn first_frame<T>(
    state: &AppState,
    stream: &mut Stream,
    decode: fn(&str) -> Result<T, FrameError>,
) -> Result<T, Refusal> {
    let seconds = state.settings.hello_timeout_seconds;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(u64::from(seconds));
    loop {
        match tokio::time::timeout_at(deadline, stream.next()).await {
            Err(_) => {
                return Err(FrameError::new(
                    ErrorCode::BadFrame,
                    format!("no hello within {seconds} seconds"),
                )
                .into());
            }
            Ok(None) | Ok(Some(Ok(Message::Close(_)))) => return Err(Refusal::ClientClosed),
            Ok(Some(Err(error))) => return Err(Refusal::Transport(close_frame_for(&error))),
            Ok(Some(Ok(Message::Text(text)))) => return Ok(decode(text.as_str())?),
            Ok(Some(Ok(Message::Binary(_)))) => {
                return Err(FrameError::new(
                    ErrorCode::BadFrame,
                    "frames are JSON text, not binary",
                )
                .into());
            }
            Ok(Some(Ok(_))) => continue,
        }
    }
}

/// How often an agent connection checks that its session is still valid.
const SESSION_CHECK: Duration = Duration::from_secs(2);

/// Returns once the agent's session has expired, or the agent was disabled (from the command
/// line, another process) or logged out, after telling the client with `unauthorized`: an
/// open connection must not outlive the session that opened it.
async fn session_ended(
    state: &AppState,
    token: &str,
    replies: &mpsc::Sender<Box<ServerFrame>>,
) -> CloseFrame {
    loop {
        tokio::time::sleep(SESSION_CHECK).await;
        if let Ok(None) = state
            .store
            .agent_for_session(token, state.clock.now_ms())
            .await
        {
            let error = FrameError::new(
                ErrorCode::Unauthorized,
                "the session has ended; log in again",
            );
            let _ = replies.send(Box::new(error.to_server_frame(None))).await;
            return CloseFrame {
                code: 1008,
                reason: "session ended".into(),
            };
        }
    }
}

/// Whose rate-limit buckets a connection's frames take from.
struct RateKey {
    visitor_id: String,
    ip: IpAddr,
}

/// Reads frames until the socket closes, answering undecodable and rate-limited ones with an
/// error frame in `replies` (see [`REPLIES_CAPACITY`]). Returns the close frame to send when
/// a broken frame ended the connection.
async fn read_frames<T>(
    state: &AppState,
    stream: &mut Stream,
    replies: &mpsc::Sender<Box<ServerFrame>>,
    decode: fn(&str) -> Result<T, FrameError>,
    limit: Option<&RateKey>,
    request: impl Fn(T) -> Request,
) -> Option<CloseFrame> {
    let idle = Duration::from_secs(u64::from(state.settings.idle_close_seconds));
    loop {
        // Any frame counts as activity: text, binary, and WebSocket pings and pongs.
        let message = match tokio::time::timeout(idle, stream.next()).await {
            Ok(Some(message)) => message,
            Ok(None) => return None,
            Err(_) => {
                return Some(CloseFrame {
                    code: 1000,
                    reason: "idle: nothing received for a while; reconnect to continue".into(),
                });
            }
        };
        let text = match message {
            Ok(Message::Text(text)) => text,
            Ok(Message::Binary(_)) => {
                reject(
                    state,
                    replies,
                    FrameError::new(ErrorCode::BadFrame, "frames are JSON text, not binary"),
                    None,
                )
                .await;
                continue;
            }
            // The closing handshake (RFC 6455, 5.5.1): the transport has queued the echo of
            // the client's close frame; the writer's close sends it.
            Ok(Message::Close(frame)) => {
                return Some(frame.unwrap_or(CloseFrame {
                    code: 1000,
                    reason: "".into(),
                }));
            }
            Err(error) => return close_frame_for(&error),
            Ok(_) => continue,
        };
        Metrics::add(&state.metrics.frames_received, 1);
        if let Some(key) = limit
            && !state
                .rate_limits
                .allow(&key.visitor_id, Some(key.ip), state.clock.now_ms())
        {
            Metrics::add(&state.metrics.frames_rate_limited, 1);
            Metrics::add(&state.metrics.frames_rejected, 1);
            let error = FrameError::new(
                ErrorCode::RateLimited,
                "too many frames; slow down and retry in a moment",
            );
            let _ = replies
                .send(Box::new(
                    error.to_server_frame(protocol::client_msg_id_of(text.as_str())),
                ))
                .await;
            continue;
        }
        match decode(text.as_str()) {
            Ok(frame) => {
                // Boxed: the request is only alive while it is sent (see customer_connection).
                if !Box::pin(state.hub.send(request(frame))).await {
                    return None;
                }
            }
            Err(error) => {
                reject(
                    state,
                    replies,
                    error,
                    protocol::client_msg_id_of(text.as_str()),
                )
                .await
            }
        }
    }
}

async fn reject(
    state: &AppState,
    replies: &mpsc::Sender<Box<ServerFrame>>,
    error: FrameError,
    client_msg_id: Option<String>,
) {
    Metrics::add(&state.metrics.frames_rejected, 1);
    let _ = replies
        .send(Box::new(error.to_server_frame(client_msg_id)))
        .await;
}

/// Writes the answer to `hello` (welcome and resumed log, see [`crate::hub::Hello`]) with
/// the socket's own backpressure; false when the client is gone.
async fn write_first(sink: &mut Sink, frames: Vec<ServerFrame>) -> bool {
    for frame in frames {
        if sink
            .send(Message::text(protocol::encode(&frame)))
            .await
            .is_err()
        {
            return false;
        }
    }
    true
}

/// Writes the hub's frames and the reader's replies; closes the socket when the hub asks (a
/// revoked session, or a client too slow to keep up, which will resume), or with the reader's
/// close frame.
///
/// The hub's close request is checked first (`biased`): when the hub had to drop a frame of a
/// full outbox, a frame queued after it must never be written, or the client would see a gap
/// in a conversation's seqs (…, n-1, n+1) and resume after n+1, never getting n. Without
/// the bias, `select!` picks a ready branch at random and may write frames past the drop.
/// The reader's last error frame goes out before its close frame.
async fn write_frames(
    mut sink: Sink,
    mut receiver: OutboxReceiver,
    mut replies: mpsc::Receiver<Box<ServerFrame>>,
    mut close: oneshot::Receiver<CloseFrame>,
) {
    loop {
        tokio::select! {
            biased;
            () = receiver.closing.notified() => {
                let ending = receiver.ending();
                if let Some(error) = ending.error {
                    let _ = sink.send(Message::text(protocol::encode(&error))).await;
                }
                let reason = CloseFrame { code: ending.code, reason: ending.reason.into() };
                send_close(&mut sink, Some(reason)).await;
                return;
            }
            Some(frame) = replies.recv() => {
                if sink.send(Message::text(protocol::encode(&frame))).await.is_err() {
                    break;
                }
            }
            reason = &mut close => {
                send_close(&mut sink, reason.ok()).await;
                return;
            }
            frame = receiver.frames.recv() => match frame {
                Some(frame) => {
                    if sink.send(Message::text(protocol::encode(&frame))).await.is_err() {
                        break;
                    }
                }
                None => break,
            },
        }
    }
    let _ = sink.close().await;
}

/// Sends a last error frame and closes: code 1011 when the error is `internal`, 1008 (policy
/// violation) for every other refused `hello` (PROTOCOL.md, "Close codes").
async fn close_with(sink: &mut Sink, error: FrameError) {
    let code = if error.code == ErrorCode::Internal {
        1011
    } else {
        1008
    };
    close_with_code(sink, error, code).await
}

async fn close_with_code(sink: &mut Sink, error: FrameError, code: u16) {
    let frame: ServerFrame = error.to_server_frame(None);
    let _ = sink.send(Message::text(protocol::encode(&frame))).await;
    let reason = CloseFrame {
        code,
        reason: error.code.as_str().into(),
    };
    send_close(sink, Some(reason)).await;
}

/// Answers a close frame the client sent first: the transport queued the echo of its code
/// when it read it, and this sends it.
async fn answer_close(sink: &mut Sink) {
    send_close(sink, None).await;
}

/// Sends a close frame with `reason` and flushes. After the client's close frame, the
/// transport refuses to send another (`SendAfterClosing`) but has queued the echo of the
/// client's code, which the closing flush writes: either way the client gets its answer.
async fn send_close(sink: &mut Sink, reason: Option<CloseFrame>) {
    if let Some(reason) = reason {
        let _ = sink.send(Message::Close(Some(reason))).await;
    }
    let _ = sink.close().await;
}
