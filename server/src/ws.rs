//! One task per WebSocket connection: check the upgrade, read frames, decode them with
//! kefu-core, pass them to the hub, and write what the hub queues for the connection.
//!
//! The first frame must be `hello`; a bad frame later gets an `error` frame and the
//! connection lives on. Decoding happens here, so the hub only ever sees valid frames.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::{SinkExt, StreamExt};
use kefu_core::protocol::{self, AgentFrame, CustomerFrame, ErrorCode, FrameError, ServerFrame, MAX_FRAME_BYTES};
use tokio::sync::oneshot;

use crate::app::AppState;
use crate::hub::{CustomerHello, Outbox, OutboxReceiver, Request};
use crate::metrics::Metrics;

/// How long a client has to send `hello` after connecting.
const HELLO_TIMEOUT: Duration = Duration::from_secs(10);

/// The transport refuses (and closes on) messages over this size; between
/// [`MAX_FRAME_BYTES`] and this, kefu-core's decoding answers `too_large` and the connection
/// lives on, as PROTOCOL.md promises.
const MAX_TRANSPORT_BYTES: usize = 4 * MAX_FRAME_BYTES;

pub async fn customer_upgrade(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Response {
    if !origin_allowed(&state, &headers) {
        return (StatusCode::FORBIDDEN, "origin not allowed").into_response();
    }
    upgrade
        .max_message_size(MAX_TRANSPORT_BYTES)
        .max_frame_size(MAX_TRANSPORT_BYTES)
        .on_upgrade(move |socket| customer_connection(state, socket, peer.ip()))
}

pub async fn agent_upgrade(State(state): State<Arc<AppState>>, headers: HeaderMap, upgrade: WebSocketUpgrade) -> Response {
    // The agent workspace is served by this server only, so only its own origin may connect.
    let own = state.settings.public_url();
    let origin = headers.get(header::ORIGIN).and_then(|value| value.to_str().ok());
    if origin.is_some_and(|origin| origin != own && !is_loopback_alias(origin, &own)) {
        return (StatusCode::FORBIDDEN, "origin not allowed").into_response();
    }
    upgrade
        .max_message_size(MAX_TRANSPORT_BYTES)
        .max_frame_size(MAX_TRANSPORT_BYTES)
        .on_upgrade(move |socket| agent_connection(state, socket))
}

/// Browsers always send Origin on a WebSocket upgrade; a page of a site that is not allowed
/// must not open a socket with the visitor's credentials (cross-site WebSocket hijacking).
/// Non-browser clients (no Origin) are allowed: they hold no visitor's ambient credentials.
fn origin_allowed(state: &AppState, headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|value| value.to_str().ok()) else {
        return true;
    };
    let own = state.settings.public_url();
    origin == own
        || is_loopback_alias(origin, &own)
        || state.settings.allowed_origins.iter().any(|allowed| allowed.trim_end_matches('/') == origin)
        || state.hub.config.get().widget.allowed_origins.iter().any(|allowed| allowed == origin)
}

/// `http://localhost:8080` and `http://127.0.0.1:8080` are the same server to its operator.
fn is_loopback_alias(origin: &str, own: &str) -> bool {
    let swap = |url: &str| url.replace("://localhost:", "://127.0.0.1:");
    swap(origin) == swap(own)
}

async fn customer_connection(state: Arc<AppState>, socket: WebSocket, ip: IpAddr) {
    Metrics::add(&state.metrics.customer_connections, 1);
    let conn = state.hub.next_conn_id();
    let (outbox, receiver) = Outbox::new();
    let (mut sink, mut stream) = socket.split();
    let hello = match first_frame(&mut stream, protocol::decode_customer_frame).await {
        Ok(CustomerFrame::Hello { visitor_token, resume, locale, group, page, user }) => {
            CustomerHello { visitor_token, resume, locale, group, page, user }
        }
        Ok(_) => {
            close_with(&mut sink, FrameError::new(ErrorCode::BadFrame, "the first frame must be hello")).await;
            Metrics::sub(&state.metrics.customer_connections, 1);
            return;
        }
        Err(error) => {
            close_with(&mut sink, error).await;
            Metrics::sub(&state.metrics.customer_connections, 1);
            return;
        }
    };
    let (reply, answer) = oneshot::channel();
    state.hub.send(Request::CustomerHello { conn, hello, outbox: outbox.clone(), reply }).await;
    match answer.await {
        Ok(Ok(visitor_id)) => {
            let reader = {
                let state = state.clone();
                let outbox = outbox.clone();
                let limit = RateKey { visitor_id, ip };
                async move {
                    let request = |frame| Request::CustomerFrame { conn, frame };
                    read_frames(&state, &mut stream, &outbox, protocol::decode_customer_frame, Some(&limit), request).await
                }
            };
            drop(outbox);
            run_connection(reader, write_frames(sink, receiver)).await;
            state.hub.send(Request::CustomerGone { conn }).await;
        }
        Ok(Err(error)) => close_with(&mut sink, error).await,
        Err(_) => close_with(&mut sink, FrameError::new(ErrorCode::Internal, "the server is shutting down")).await,
    }
    Metrics::sub(&state.metrics.customer_connections, 1);
}

async fn agent_connection(state: Arc<AppState>, socket: WebSocket) {
    Metrics::add(&state.metrics.agent_connections, 1);
    let conn = state.hub.next_conn_id();
    let (outbox, receiver) = Outbox::new();
    let (mut sink, mut stream) = socket.split();
    let (session_token, resume) = match first_frame(&mut stream, protocol::decode_agent_frame).await {
        Ok(AgentFrame::Hello { session_token, resume }) => (session_token, resume),
        Ok(_) => {
            close_with(&mut sink, FrameError::new(ErrorCode::BadFrame, "the first frame must be hello")).await;
            Metrics::sub(&state.metrics.agent_connections, 1);
            return;
        }
        Err(error) => {
            close_with(&mut sink, error).await;
            Metrics::sub(&state.metrics.agent_connections, 1);
            return;
        }
    };
    let (reply, answer) = oneshot::channel();
    state.hub.send(Request::AgentHello { conn, session_token, resume, outbox: outbox.clone(), reply }).await;
    match answer.await {
        Ok(Ok(())) => {
            let reader = {
                let state = state.clone();
                let outbox = outbox.clone();
                async move {
                    let request = |frame| Request::AgentFrame { conn, frame };
                    read_frames(&state, &mut stream, &outbox, protocol::decode_agent_frame, None, request).await
                }
            };
            drop(outbox);
            run_connection(reader, write_frames(sink, receiver)).await;
            state.hub.send(Request::AgentGone { conn }).await;
        }
        Ok(Err(error)) => close_with(&mut sink, error).await,
        Err(_) => close_with(&mut sink, FrameError::new(ErrorCode::Internal, "the server is shutting down")).await,
    }
    Metrics::sub(&state.metrics.agent_connections, 1);
}

type Stream = futures_util::stream::SplitStream<WebSocket>;
type Sink = futures_util::stream::SplitSink<WebSocket, Message>;

/// Runs the reader and the writer until either ends: one cleanup path for every way a
/// connection can close.
async fn run_connection(reader: impl std::future::Future<Output = ()>, writer: impl std::future::Future<Output = ()>) {
    tokio::select! {
        () = reader => {}
        () = writer => {}
    }
}

/// Waits for the first frame and decodes it.
async fn first_frame<T>(stream: &mut Stream, decode: fn(&str) -> Result<T, FrameError>) -> Result<T, FrameError> {
    let timeout = FrameError::new(ErrorCode::BadFrame, "no hello within 10 seconds");
    loop {
        match tokio::time::timeout(HELLO_TIMEOUT, stream.next()).await {
            Err(_) | Ok(None) => return Err(timeout),
            Ok(Some(Err(_))) => return Err(FrameError::new(ErrorCode::TooLarge, "unreadable or oversized frame")),
            Ok(Some(Ok(Message::Text(text)))) => return decode(text.as_str()),
            Ok(Some(Ok(Message::Binary(_)))) => return Err(FrameError::new(ErrorCode::BadFrame, "frames are JSON text, not binary")),
            Ok(Some(Ok(_))) => continue,
        }
    }
}

/// Whose rate-limit buckets a connection's frames take from.
struct RateKey {
    visitor_id: String,
    ip: IpAddr,
}

/// Reads frames until the socket closes, answering undecodable and rate-limited ones with an
/// error frame.
async fn read_frames<T>(
    state: &AppState,
    stream: &mut Stream,
    outbox: &Outbox,
    decode: fn(&str) -> Result<T, FrameError>,
    limit: Option<&RateKey>,
    request: impl Fn(T) -> Request,
) {
    while let Some(message) = stream.next().await {
        let text = match message {
            Ok(Message::Text(text)) => text,
            Ok(Message::Binary(_)) => {
                reject(state, outbox, FrameError::new(ErrorCode::BadFrame, "frames are JSON text, not binary"), None);
                continue;
            }
            Ok(Message::Close(_)) | Err(_) => break,
            Ok(_) => continue,
        };
        Metrics::add(&state.metrics.frames_received, 1);
        if let Some(key) = limit
            && !state.rate_limits.allow(&key.visitor_id, Some(key.ip), state.clock.now_ms())
        {
            Metrics::add(&state.metrics.frames_rate_limited, 1);
            Metrics::add(&state.metrics.frames_rejected, 1);
            let error = FrameError::new(ErrorCode::RateLimited, "too many frames; slow down and retry in a moment");
            outbox.send_now(error.to_server_frame(client_msg_id_of(text.as_str())));
            continue;
        }
        match decode(text.as_str()) {
            Ok(frame) => {
                if !state.hub.send(request(frame)).await {
                    break;
                }
            }
            Err(error) => reject(state, outbox, error, client_msg_id_of(text.as_str())),
        }
    }
}

/// The `client_msg_id` of a frame that was not decoded, so the client can mark exactly that
/// message as failed. Frames over the size limit are not parsed at all.
fn client_msg_id_of(text: &str) -> Option<String> {
    if text.len() > MAX_FRAME_BYTES {
        return None;
    }
    let value: serde_json::Value = serde_json::from_str(text).ok()?;
    value.get("client_msg_id")?.as_str().map(str::to_owned)
}

fn reject(state: &AppState, outbox: &Outbox, error: FrameError, client_msg_id: Option<String>) {
    Metrics::add(&state.metrics.frames_rejected, 1);
    outbox.send_now(error.to_server_frame(client_msg_id));
}

/// Writes queued frames; closes the socket when the hub asks (a revoked session, or a client
/// too slow to keep up, which will resume).
async fn write_frames(mut sink: Sink, mut receiver: OutboxReceiver) {
    loop {
        tokio::select! {
            frame = receiver.frames.recv() => match frame {
                Some(frame) => {
                    if sink.send(Message::text(protocol::encode(&frame))).await.is_err() {
                        return;
                    }
                }
                None => break,
            },
            () = receiver.closing.notified() => break,
        }
    }
    let _ = sink.close().await;
}

/// Sends a last error frame and closes.
async fn close_with(sink: &mut Sink, error: FrameError) {
    let frame: ServerFrame = error.to_server_frame(None);
    let _ = sink.send(Message::text(protocol::encode(&frame))).await;
    let _ = sink.close().await;
}
