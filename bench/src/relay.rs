//! The physical-limit baseline: a WebSocket relay with no logic and no storage.
//!
//! Customers connect to `/?role=customer&id=N`, agents to `/?role=agent&id=N`. A customer's
//! frame goes to agent `N % agents` as `N|frame`; an agent's `N|frame` goes to customer `N`
//! as `frame`. That is the least routing a chat needs, so Kefu measured against it shows
//! what its rules, its storage and its protocol cost.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

type Peers = Arc<Mutex<HashMap<(bool, u64), mpsc::UnboundedSender<Message>>>>;

/// Serves the relay on `listener` until the process ends.
pub async fn serve(listener: TcpListener, agents: u64) -> anyhow::Result<()> {
    let peers: Peers = Arc::default();
    loop {
        let (stream, _) = listener.accept().await?;
        let peers = peers.clone();
        tokio::spawn(async move {
            let mut target = String::new();
            // The error type (an HTTP response) is tungstenite's `Callback` signature.
            #[allow(clippy::result_large_err)]
            let callback = |request: &Request, response: Response| {
                target = request.uri().query().unwrap_or_default().to_owned();
                Ok(response)
            };
            let Ok(socket) =
                tokio_tungstenite::accept_hdr_async_with_config(stream, callback, Some(config()))
                    .await
            else {
                return;
            };
            let (is_agent, id) = parse_target(&target);
            let (sender, mut receiver) = mpsc::unbounded_channel();
            peers.lock().unwrap().insert((is_agent, id), sender);
            let (mut sink, mut source) = socket.split();
            let writer = tokio::spawn(async move {
                while let Some(message) = receiver.recv().await {
                    if sink.send(message).await.is_err() {
                        break;
                    }
                }
            });
            while let Some(Ok(message)) = source.next().await {
                let Message::Text(text) = message else {
                    continue;
                };
                let routed = if is_agent {
                    text.split_once('|')
                        .and_then(|(to, frame)| Some(((false, to.parse().ok()?), frame.to_owned())))
                } else {
                    Some(((true, id % agents.max(1)), format!("{id}|{text}")))
                };
                if let Some((to, frame)) = routed
                    && let Some(peer) = peers.lock().unwrap().get(&to)
                {
                    let _ = peer.send(Message::text(frame));
                }
            }
            peers.lock().unwrap().remove(&(is_agent, id));
            writer.abort();
        });
    }
}

/// The same transport buffers as Kefu's (`server/src/ws.rs`), so that the memory per idle
/// connection compares what each server keeps, not two buffer settings.
fn config() -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(4 * 1024)
        .write_buffer_size(4 * 1024)
        .max_write_buffer_size(4 * 1024 + 256 * 1024)
}

fn parse_target(query: &str) -> (bool, u64) {
    let mut is_agent = false;
    let mut id = 0;
    for pair in query.split('&') {
        match pair.split_once('=') {
            Some(("role", role)) => is_agent = role == "agent",
            Some(("id", value)) => id = value.parse().unwrap_or(0),
            _ => {}
        }
    }
    (is_agent, id)
}
