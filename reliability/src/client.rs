//! The wire: one WebSocket client speaking protocol v1 with kefu-core's own frame types
//! (the same tokio-tungstenite client as `bench/src/load.rs`), plus the agent login over
//! HTTP. It knows nothing of faults or checks.

use std::time::Duration;

use anyhow::{Context, Result, bail};
use futures_util::{SinkExt, StreamExt};
use kefu_core::protocol::{self, AgentFrame, CustomerFrame, ServerFrame};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// What reading one frame gave. Lives for one read, so the large `Frame` is not boxed.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum Read {
    Frame(ServerFrame),
    /// Nothing arrived in time; the connection is still usable.
    Quiet,
    /// The connection is gone (closed or reset).
    Closed(String),
    /// A frame the protocol refuses (`decode_server_frame` failed): a server bug.
    Bad(String),
}

/// Opens `ws://addr/ws/<path>` (`customer` or `agent`), with a deadline so a stopped
/// server does not hang the caller.
pub async fn connect(addr: &str, path: &str) -> Result<Socket> {
    let url = format!("ws://{addr}/ws/{path}");
    let (socket, _) = tokio::time::timeout(
        Duration::from_secs(5),
        tokio_tungstenite::connect_async(&url),
    )
    .await
    .with_context(|| format!("connecting to {url}: no answer within 5 s"))?
    .with_context(|| format!("connecting to {url}"))?;
    Ok(socket)
}

pub async fn send_customer(socket: &mut Socket, frame: &CustomerFrame) -> Result<()> {
    socket
        .send(Message::text(protocol::encode_customer_frame(frame)))
        .await
        .context("sending a customer frame")
}

pub async fn send_agent(socket: &mut Socket, frame: &AgentFrame) -> Result<()> {
    socket
        .send(Message::text(protocol::encode_agent_frame(frame)))
        .await
        .context("sending an agent frame")
}

/// The next server frame, waiting at most `wait`.
pub async fn read(socket: &mut Socket, wait: Duration) -> Read {
    loop {
        let next = match tokio::time::timeout(wait, socket.next()).await {
            Err(_) => return Read::Quiet,
            Ok(next) => next,
        };
        match next {
            Some(Ok(Message::Text(text))) => {
                return match protocol::decode_server_frame(&text) {
                    Ok(frame) => Read::Frame(frame),
                    Err(error) => Read::Bad(format!(
                        "{error} (frame starts {:?})",
                        text.chars().take(80).collect::<String>()
                    )),
                };
            }
            Some(Ok(Message::Close(close))) => {
                return Read::Closed(format!("closed by the server: {close:?}"));
            }
            Some(Ok(_)) => continue,
            Some(Err(error)) => return Read::Closed(format!("socket error: {error}")),
            None => return Read::Closed("socket closed".to_owned()),
        }
    }
}

/// Logs an agent in (`POST /api/agent/login`) and returns the session token.
pub async fn agent_login(addr: &str, login: &str, password: &str) -> Result<String> {
    let body = serde_json::json!({ "login": login, "password": password }).to_string();
    let mut stream = TcpStream::connect(addr)
        .await
        .with_context(|| format!("connecting to {addr}"))?;
    let request = format!(
        "POST /api/agent/login HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await?;
    let mut response = String::new();
    stream.read_to_string(&mut response).await?;
    let Some(json) = response.split("\r\n\r\n").nth(1) else {
        bail!("no HTTP body in {response:?}")
    };
    let value: serde_json::Value =
        serde_json::from_str(json).with_context(|| format!("login answer {json:?}"))?;
    value["token"]
        .as_str()
        .map(str::to_owned)
        .with_context(|| format!("no token in the login answer {json}"))
}
