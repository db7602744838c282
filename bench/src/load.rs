//! The load generator: idle and active customers and a few agents over loopback WebSockets,
//! against a real `kefu serve` or against the bare relay ([`crate::relay`]), with the same
//! traffic shape, so the two can be compared in one run.
//!
//! An active customer runs a whole conversation: against Kefu a robot question, the transfer
//! keyword, `messages` exchanges with its agent and `结束会话`; against the relay the same
//! `messages` exchanges (the relay has no robot, queue or end). Each exchange is timed at the
//! customer (round trip) and at the agent (one way: the send time travels in the text).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use futures_util::{SinkExt, StreamExt};
use kefu_core::conversation::EventBody;
use kefu_core::protocol::{self, AgentFrame, AgentStatus, CustomerFrame, ServerFrame};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Which server the traffic goes to.
#[derive(Clone)]
pub enum Target {
    Kefu {
        addr: String,
        agent_tokens: Vec<String>,
    },
    Relay {
        addr: String,
        agents: usize,
    },
}

/// The shape of one scenario.
#[derive(Clone, Copy, Debug)]
pub struct Scenario {
    pub idle: usize,
    pub active: usize,
    pub messages: usize,
}

/// What one scenario measured.
#[derive(Debug, Clone)]
pub struct LoadResult {
    pub messages_delivered: u64,
    pub seconds: f64,
    pub round_trip_us: Vec<u64>,
    pub one_way_us: Vec<u64>,
    pub failed_conversations: u64,
}

impl LoadResult {
    pub fn messages_per_second(&self) -> f64 {
        self.messages_delivered as f64 / self.seconds.max(1e-9)
    }
}

/// A percentile of sorted microseconds, in milliseconds.
pub fn percentile_ms(sorted_us: &[u64], fraction: f64) -> f64 {
    if sorted_us.is_empty() {
        return f64::NAN;
    }
    let index = ((sorted_us.len() as f64 - 1.0) * fraction).round() as usize;
    sorted_us[index] as f64 / 1000.0
}

struct Shared {
    start: Instant,
    delivered: AtomicU64,
    failed: AtomicU64,
    round_trip_us: Mutex<Vec<u64>>,
    one_way_us: Mutex<Vec<u64>>,
}

impl Shared {
    fn now_us(&self) -> u64 {
        self.start.elapsed().as_micros() as u64
    }
}

const STEP_TIMEOUT: Duration = Duration::from_secs(60);

/// Runs a scenario: idle connections first (their memory is measured separately, see
/// [`crate::idle`]), then the agents and the active customers all at once.
pub async fn run(target: &Target, scenario: Scenario) -> Result<LoadResult> {
    let shared = Arc::new(Shared {
        start: Instant::now(),
        delivered: AtomicU64::new(0),
        failed: AtomicU64::new(0),
        round_trip_us: Mutex::new(Vec::new()),
        one_way_us: Mutex::new(Vec::new()),
    });
    let mut idle = Vec::with_capacity(scenario.idle);
    for index in 0..scenario.idle {
        idle.push(
            connect_idle(target, 1_000_000 + index as u64)
                .await
                .with_context(|| format!("idle connection {index}"))?,
        );
    }

    let agent_count = match target {
        Target::Kefu { agent_tokens, .. } => agent_tokens.len(),
        Target::Relay { agents, .. } => *agents,
    };
    let mut agents = Vec::new();
    for index in 0..agent_count {
        let socket = connect_agent(target, index).await?;
        agents.push(tokio::spawn(agent_loop(
            socket,
            target.clone(),
            shared.clone(),
        )));
    }
    let started = Instant::now();
    let mut customers = Vec::new();
    for index in 0..scenario.active {
        let target = target.clone();
        let shared = shared.clone();
        customers.push(tokio::spawn(async move {
            if let Err(error) = customer(target, index as u64, scenario.messages, &shared).await {
                shared.failed.fetch_add(1, Ordering::Relaxed);
                eprintln!("bench: customer {index}: {error:#}");
            }
        }));
    }
    for customer in customers {
        let _ = customer.await;
    }
    let seconds = started.elapsed().as_secs_f64();
    for agent in agents {
        agent.abort();
    }
    drop(idle);
    let mut round_trip_us = std::mem::take(&mut *shared.round_trip_us.lock().unwrap());
    let mut one_way_us = std::mem::take(&mut *shared.one_way_us.lock().unwrap());
    round_trip_us.sort_unstable();
    one_way_us.sort_unstable();
    Ok(LoadResult {
        messages_delivered: shared.delivered.load(Ordering::Relaxed),
        seconds,
        round_trip_us,
        one_way_us,
        failed_conversations: shared.failed.load(Ordering::Relaxed),
    })
}

pub async fn connect(url: &str) -> Result<Socket> {
    let (socket, _) = tokio_tungstenite::connect_async(url)
        .await
        .with_context(|| format!("connecting to {url}"))?;
    Ok(socket)
}

async fn send(socket: &mut Socket, text: String) -> Result<()> {
    socket.send(Message::text(text)).await.context("sending")
}

/// The next text frame.
pub async fn next_text(socket: &mut Socket) -> Result<String> {
    loop {
        match tokio::time::timeout(STEP_TIMEOUT, socket.next())
            .await
            .context("no frame within 60 s")?
        {
            Some(Ok(Message::Text(text))) => return Ok(text.to_string()),
            Some(Ok(_)) => continue,
            Some(Err(error)) => bail!("socket error: {error}"),
            None => bail!("socket closed"),
        }
    }
}

/// Reads server frames until one matches.
async fn expect(
    socket: &mut Socket,
    matches: impl Fn(&ServerFrame) -> bool,
) -> Result<ServerFrame> {
    loop {
        let text = next_text(socket).await?;
        let frame =
            protocol::decode_server_frame(&text).map_err(|error| anyhow::anyhow!("{error}"))?;
        if let ServerFrame::Error { code, message, .. } = &frame {
            bail!("error frame {code}: {message}");
        }
        if matches(&frame) {
            return Ok(frame);
        }
    }
}

fn customer_send(client_msg_id: String, text: String) -> String {
    protocol::encode_customer_frame(&CustomerFrame::Send {
        client_msg_id,
        text,
    })
}

pub async fn connect_idle(target: &Target, id: u64) -> Result<Socket> {
    match target {
        Target::Kefu { addr, .. } => {
            let mut socket = connect(&format!("ws://{addr}/ws/customer")).await?;
            send(&mut socket, hello()).await?;
            expect(&mut socket, |frame| {
                matches!(frame, ServerFrame::Welcome { .. })
            })
            .await?;
            Ok(socket)
        }
        Target::Relay { addr, .. } => connect(&format!("ws://{addr}/?role=customer&id={id}")).await,
    }
}

fn hello() -> String {
    protocol::encode_customer_frame(&CustomerFrame::Hello {
        visitor_token: None,
        resume: vec![],
        locale: Some("zh-CN".into()),
        group: None,
        page: None,
        user: None,
    })
}

async fn connect_agent(target: &Target, index: usize) -> Result<Socket> {
    match target {
        Target::Kefu { addr, agent_tokens } => {
            let mut socket = connect(&format!("ws://{addr}/ws/agent")).await?;
            let hello = AgentFrame::Hello {
                session_token: agent_tokens[index].clone(),
                resume: vec![],
            };
            send(&mut socket, protocol::encode_agent_frame(&hello)).await?;
            expect(&mut socket, |frame| {
                matches!(frame, ServerFrame::AgentWelcome { .. })
            })
            .await?;
            send(
                &mut socket,
                protocol::encode_agent_frame(&AgentFrame::SetStatus {
                    status: AgentStatus::Online,
                }),
            )
            .await?;
            expect(&mut socket, |frame| {
                matches!(frame, ServerFrame::AgentStatus { .. })
            })
            .await?;
            Ok(socket)
        }
        Target::Relay { addr, .. } => connect(&format!("ws://{addr}/?role=agent&id={index}")).await,
    }
}

/// An agent answers every customer message `m <t>` with `r <t>` at once, and records the one
/// way latency from the send time `t` carried in the text.
async fn agent_loop(mut socket: Socket, target: Target, shared: Arc<Shared>) -> Result<()> {
    let mut replies = 0u64;
    loop {
        let text = next_text(&mut socket).await?;
        let (route, payload) = match target {
            Target::Relay { .. } => match text.split_once('|') {
                Some((route, payload)) => (Some(route.to_owned()), payload.to_owned()),
                None => continue,
            },
            Target::Kefu { .. } => (None, text),
        };
        let Ok(frame) = decode_any(&payload) else {
            continue;
        };
        let Some((conversation_id, message)) = frame else {
            continue;
        };
        let Some(sent_at) = message
            .strip_prefix("m ")
            .and_then(|t| t.parse::<u64>().ok())
        else {
            continue;
        };
        shared
            .one_way_us
            .lock()
            .unwrap()
            .push(shared.now_us().saturating_sub(sent_at));
        shared.delivered.fetch_add(1, Ordering::Relaxed);
        replies += 1;
        let reply = AgentFrame::Send {
            conversation_id,
            client_msg_id: format!("r{replies}"),
            text: format!("r {sent_at}"),
        };
        let encoded = protocol::encode_agent_frame(&reply);
        let out = match &route {
            Some(route) => format!("{route}|{encoded}"),
            None => encoded,
        };
        send(&mut socket, out).await?;
    }
}

/// What an agent reads from one frame: a customer message and its conversation. Kefu sends
/// `event` frames; over the relay the customer's own `send` frame arrives.
fn decode_any(text: &str) -> Result<Option<(String, String)>> {
    if let Ok(ServerFrame::Event {
        conversation_id,
        event,
    }) = protocol::decode_server_frame(text)
    {
        if let EventBody::CustomerMessage { text, .. } = event.body {
            return Ok(Some((conversation_id, text)));
        }
        return Ok(None);
    }
    if let Ok(CustomerFrame::Send { text, .. }) = protocol::decode_customer_frame(text) {
        return Ok(Some(("relay".to_owned(), text)));
    }
    Ok(None)
}

async fn customer(target: Target, index: u64, messages: usize, shared: &Shared) -> Result<()> {
    let mut socket = match &target {
        Target::Kefu { addr, .. } => {
            let mut socket = connect(&format!("ws://{addr}/ws/customer")).await?;
            send(&mut socket, hello()).await?;
            expect(&mut socket, |frame| {
                matches!(frame, ServerFrame::Welcome { .. })
            })
            .await?;
            send(
                &mut socket,
                customer_send("q".into(), "忘记密码怎么办？".into()),
            )
            .await?;
            expect(&mut socket, |frame| {
                is_event(frame, |body| {
                    matches!(
                        body,
                        EventBody::RobotAnswer { .. } | EventBody::RobotMiss { .. }
                    )
                })
            })
            .await?;
            send(&mut socket, customer_send("t".into(), "转人工".into())).await?;
            expect(&mut socket, |frame| {
                is_event(frame, |body| {
                    matches!(body, EventBody::AgentAssigned { .. })
                })
            })
            .await?;
            socket
        }
        Target::Relay { addr, .. } => {
            connect(&format!("ws://{addr}/?role=customer&id={index}")).await?
        }
    };
    for number in 0..messages {
        let sent_at = shared.now_us();
        send(
            &mut socket,
            customer_send(format!("m{number}"), format!("m {sent_at}")),
        )
        .await?;
        let reply = format!("r {sent_at}");
        loop {
            let text = next_text(&mut socket).await?;
            let arrived = match protocol::decode_server_frame(&text) {
                Ok(ServerFrame::Event { event, .. }) => {
                    matches!(&event.body, EventBody::AgentMessage { text, .. } if *text == reply)
                }
                Ok(ServerFrame::Error { code, message, .. }) => {
                    bail!("error frame {code}: {message}")
                }
                Ok(_) => false,
                // Over the relay the agent's own `send` frame arrives.
                Err(_) => {
                    matches!(protocol::decode_agent_frame(&text), Ok(AgentFrame::Send { text, .. }) if text == reply)
                }
            };
            if arrived {
                break;
            }
        }
        shared
            .round_trip_us
            .lock()
            .unwrap()
            .push(shared.now_us().saturating_sub(sent_at));
        shared.delivered.fetch_add(1, Ordering::Relaxed);
    }
    if let Target::Kefu { .. } = target {
        send(&mut socket, customer_send("end".into(), "结束会话".into())).await?;
        expect(&mut socket, |frame| {
            is_event(frame, |body| matches!(body, EventBody::Ended { .. }))
        })
        .await?;
    }
    Ok(())
}

fn is_event(frame: &ServerFrame, matches: impl Fn(&EventBody) -> bool) -> bool {
    matches!(frame, ServerFrame::Event { event, .. } if matches(&event.body))
}

/// The resident memory of a process, from /proc.
pub fn rss_bytes(pid: u32) -> Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .with_context(|| format!("reading /proc/{pid}/status"))?;
    let line = status
        .lines()
        .find(|line| line.starts_with("VmRSS:"))
        .context("no VmRSS line")?;
    let kilobytes: u64 = line
        .split_whitespace()
        .nth(1)
        .context("no VmRSS value")?
        .parse()?;
    Ok(kilobytes * 1024)
}

/// Logs an agent in over HTTP (`POST /api/agent/login`) and returns the session token.
pub async fn agent_login(addr: &str, login: &str, password: &str) -> Result<String> {
    let body = serde_json::json!({ "login": login, "password": password }).to_string();
    let mut stream = TcpStream::connect(addr).await?;
    let request = format!(
        "POST /api/agent/login HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await?;
    let mut response = String::new();
    stream.read_to_string(&mut response).await?;
    let json = response.split("\r\n\r\n").nth(1).context("no HTTP body")?;
    let value: serde_json::Value =
        serde_json::from_str(json).with_context(|| format!("login answer {json:?}"))?;
    value["token"]
        .as_str()
        .map(str::to_owned)
        .context("no token in the login answer")
}
