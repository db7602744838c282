//! The driver: starts a real `kefu` process, runs customers and agents against it over the
//! WebSocket protocol while injecting faults on a seeded schedule, lets everyone resume at
//! the end, kills and restarts the server once more, reads every conversation fresh from
//! seq 0, and returns the recorded [`History`] with the run's figures.
//!
//! Each client works like the widget or the workspace: one message at a time, waiting for
//! its `ack`; an unanswered send (timeout, connection gone) is retried with the same
//! `client_msg_id` before anything new (or, sometimes, abandoned: it may then be stored at
//! most once); an `internal` error (storage failing) is retried a moment later. Client-side
//! faults are drawn from each client's own stream of the seed: the connection dropped
//! right after a send (before the ack) or right after an ack, a reconnect whose resume
//! cursor is older than what the client holds, and a re-send of an already acknowledged
//! message with its `client_msg_id`. Server-side faults (`kill -9` and restart, disk full)
//! fire when the number of messages sent reaches points drawn from the seed.
//!
//! A send the driver gave up on is sent again (same `client_msg_id`) once the server-side
//! faults are over, until it gets an `ack` or an `error`, within [`Plan::resolve_within`]
//! of the last fault (or of giving it up, if later); what is left then is in limbo, a
//! violation.
//!
//! The schedule and every choice follow from the seed; the interleaving of the clients does
//! not (they run concurrently against a real server), so a replay with `KEFU_SEED` makes
//! the same choices, not necessarily the same history.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use kefu_core::conversation::{self, Event};
use kefu_core::protocol::{
    AgentFrame, AgentStatus, CustomerFrame, ErrorCode, ResumeCursor, ServerFrame,
};
use kefu_e2e::KefuServer;

use crate::checker::{
    Answer, Connection, History, Received, Report, SendRecord, Sender, Transcript,
};
use crate::client::{self, Read, Socket};
use crate::faults::{self, Disk};
use crate::rng::Rng;

/// The size of a run and how often each client-side fault is drawn.
#[derive(Debug, Clone)]
pub struct Plan {
    pub name: &'static str,
    pub seed: u64,
    pub customers: usize,
    pub agents: usize,
    /// New messages in all (customers' and agents'), not counting retries.
    pub messages: u64,
    /// `kill -9` and restarts during the traffic (one more comes before the final read).
    pub restarts: usize,
    pub disk_fulls: usize,
    pub p_drop_before_ack: f64,
    pub p_drop_after_ack: f64,
    pub p_old_resume: f64,
    pub p_duplicate_send: f64,
    /// Chance that an unanswered send is given up rather than retried.
    pub p_abandon: f64,
    /// The longest a disk-full window lasts; it ends earlier once a few writes were refused.
    pub disk_full_max: Duration,
    /// The whole run must end within this.
    pub deadline: Duration,
    /// Every send given up must be acknowledged or refused within this after the last
    /// server-side fault (`kill -9` or disk-full window), or after it was given up if that
    /// is later.
    pub resolve_within: Duration,
    /// A run that covers less than this fails, whatever the checker says.
    pub minimums: Minimums,
}

/// What a run must at least have done to mean something: each is a figure of the run, and
/// a run below any of them fails (it could pass with a server that, say, never acks an
/// agent, or stops acking after a restart).
#[derive(Debug, Clone)]
pub struct Minimums {
    /// Distinct messages acknowledged.
    pub acked: u64,
    /// Distinct messages sent by agents and acknowledged.
    pub agent_acked: u64,
    /// Acks received after the last server-side fault (the end of the last `kill -9`
    /// restart or disk-full window of the traffic).
    pub acks_after_last_fault: u64,
    /// Events that resumed connections received because they resumed: after their
    /// cursor, and known to exist when they said hello (`checker::Report::resumed_events`).
    pub resumed_events: u64,
}

impl Minimums {
    /// One line per minimum the run missed, naming it, the figure and the bound.
    pub fn shortfalls(&self, plan: &str, figures: &Figures, report: &Report) -> Vec<String> {
        [
            ("acked messages", report.acked as u64, self.acked),
            (
                "agent traffic (agents' messages acked)",
                report.agent_acked as u64,
                self.agent_acked,
            ),
            (
                "acks after the last fault",
                figures.acks_after_last_fault,
                self.acks_after_last_fault,
            ),
            (
                "events read by resumed readers",
                report.resumed_events as u64,
                self.resumed_events,
            ),
        ]
        .into_iter()
        .filter(|(_, figure, bound)| figure < bound)
        .map(|(name, figure, bound)| {
            format!("MINIMUM NOT MET: {name}: {figure}, the {plan} run needs at least {bound}")
        })
        .collect()
    }
}

impl Plan {
    /// Seconds to a minute: in `cargo xtask test`.
    pub fn short(seed: u64) -> Plan {
        Plan {
            name: "short",
            seed,
            customers: 4,
            agents: 2,
            messages: 400,
            restarts: 3,
            disk_fulls: 1,
            p_drop_before_ack: 0.03,
            p_drop_after_ack: 0.03,
            p_old_resume: 0.03,
            p_duplicate_send: 0.03,
            p_abandon: 0.2,
            disk_full_max: Duration::from_secs(15),
            deadline: Duration::from_secs(300),
            resolve_within: Duration::from_secs(60),
            minimums: Minimums {
                acked: 360,
                agent_acked: 5,
                acks_after_last_fault: 20,
                resumed_events: 100,
            },
        }
    }

    /// `cargo xtask reliability`: at least 10,000 messages and 20 restarts.
    pub fn long(seed: u64) -> Plan {
        Plan {
            name: "long",
            customers: 8,
            agents: 3,
            messages: 10_000,
            restarts: 20,
            disk_fulls: 3,
            p_drop_before_ack: 0.01,
            p_drop_after_ack: 0.01,
            p_old_resume: 0.01,
            p_duplicate_send: 0.01,
            deadline: Duration::from_secs(1500),
            minimums: Minimums {
                acked: 9000,
                agent_acked: 200,
                acks_after_last_fault: 500,
                resumed_events: 2000,
            },
            ..Plan::short(seed)
        }
    }
}

/// Counts kept while the clients run.
#[derive(Default)]
struct Counters {
    sent: AtomicU64,
    attempts: AtomicU64,
    acks: AtomicU64,
    refused_internal: AtomicU64,
    refused_other: AtomicU64,
    unanswered: AtomicU64,
    retries: AtomicU64,
    abandoned: AtomicU64,
    drop_before_ack: AtomicU64,
    drop_after_ack: AtomicU64,
    old_resume: AtomicU64,
    duplicate_send: AtomicU64,
    reconnects: AtomicU64,
    newcomers: AtomicU64,
    /// Attempts of sends given up, sent again after the faults.
    resent_given_up: AtomicU64,
}

fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

fn get(counter: &AtomicU64) -> u64 {
    counter.load(Ordering::Relaxed)
}

struct Shared {
    addr: String,
    plan: Plan,
    /// New messages still to send, shared by every client.
    quota: AtomicU64,
    counters: Counters,
    /// When the last server-side fault of the traffic ended.
    faults_over: OnceLock<Instant>,
}

/// One disk-full window as it happened.
#[derive(Debug, Clone)]
pub struct DiskWindow {
    pub seconds: f64,
    pub refused_writes: u64,
    pub filler_bytes: u64,
}

/// The figures of a run (printed by [`Figures::print`]).
#[derive(Debug, Clone, Default)]
pub struct Figures {
    pub plan: String,
    pub seed: u64,
    pub messages_sent: u64,
    pub send_attempts: u64,
    pub acked: u64,
    pub refused_internal: u64,
    pub refused_other: u64,
    pub unanswered: u64,
    pub retries: u64,
    pub abandoned: u64,
    pub resent_given_up: u64,
    /// `kill -9` restarts of the plan, and those that hit running traffic (the traffic was
    /// flowing at the kill and acks came after the restart); the last kill, before the
    /// final read, is in neither.
    pub kills_planned: u64,
    pub kills_mid_run: u64,
    pub final_kill: bool,
    /// Acks received after the last server-side fault, and its distance to the end of the
    /// traffic.
    pub acks_after_last_fault: u64,
    pub traffic_after_last_fault: f64,
    pub disk_windows: Vec<DiskWindow>,
    pub disk_unavailable: Option<String>,
    pub drop_before_ack: u64,
    pub drop_after_ack: u64,
    pub old_resume: u64,
    pub duplicate_send: u64,
    pub reconnects: u64,
    /// Customers whose first message (a new conversation) met a full disk.
    pub newcomers_on_full_disk: u64,
    pub conversations: usize,
    pub events_in_logs: usize,
    pub seconds: f64,
}

/// What a run gives: the history to check and the figures.
pub struct Outcome {
    pub history: History,
    pub figures: Figures,
    /// What the server logged (stderr) over the whole run, for a failure's report.
    pub server_log: String,
}

enum Role {
    Customer { token: Option<String> },
    Agent { session: String },
}

struct Client {
    name: String,
    short: String,
    role: Role,
    sender: Option<Sender>,
    rng: Rng,
    /// The events the client applied, per conversation (seq 1..n, no gaps).
    held: BTreeMap<String, Vec<Event>>,
    socket: Option<Socket>,
    connection: Option<Connection>,
    connections: Vec<Connection>,
    sends: Vec<SendRecord>,
    /// Frames from the server that the protocol refuses.
    bad_frames: Vec<String>,
    /// Messages of its own to send instead of drawing from the shared quota (newcomers).
    own_quota: Option<u64>,
    /// The send to retry before anything new.
    pending: Option<usize>,
    /// Sends given up, and when, to send again once the faults are over.
    given_up: Vec<(usize, Instant)>,
    /// The traffic is over: whatever a resume brings was written before the hello.
    traffic_over: bool,
    next_number: u64,
}

const ACK_TIMEOUT: Duration = Duration::from_secs(15);
const CONNECT_DEADLINE: Duration = Duration::from_secs(120);

impl Client {
    fn new(name: String, short: String, role: Role, rng: Rng) -> Client {
        Client {
            name,
            short,
            role,
            sender: None,
            rng,
            held: BTreeMap::new(),
            socket: None,
            connection: None,
            connections: Vec::new(),
            sends: Vec::new(),
            own_quota: None,
            bad_frames: Vec::new(),
            pending: None,
            given_up: Vec::new(),
            traffic_over: false,
            next_number: 0,
        }
    }

    fn is_customer(&self) -> bool {
        matches!(self.role, Role::Customer { .. })
    }

    /// Drops the socket (no close handshake: like a lost network) and files its record.
    fn drop_connection(&mut self) {
        self.socket = None;
        if let Some(connection) = self.connection.take() {
            self.connections.push(connection);
        }
    }

    /// Connects and says hello, retrying while the server is down or refuses (e.g. its disk
    /// is full), with resume cursors of what it holds, or older ones when `old`.
    async fn connect(&mut self, shared: &Shared, old: bool) -> Result<()> {
        self.drop_connection();
        let start = Instant::now();
        loop {
            match self.try_connect(shared, old).await {
                Ok(()) => return Ok(()),
                Err(error) if start.elapsed() > CONNECT_DEADLINE => {
                    return Err(error.context(format!(
                        "{} could not connect for {} s",
                        self.name,
                        CONNECT_DEADLINE.as_secs()
                    )));
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    }

    async fn try_connect(&mut self, shared: &Shared, old: bool) -> Result<()> {
        let mut cursors: BTreeMap<String, u64> = self
            .held
            .iter()
            .map(|(id, log)| (id.clone(), log.len() as u64))
            .collect();
        let mut went_back = false;
        if old && !cursors.is_empty() {
            let index = self.rng.below(cursors.len() as u64) as usize;
            let (_, cursor) = cursors.iter_mut().nth(index).expect("in range");
            if *cursor > 0 {
                *cursor = self.rng.below(*cursor);
                went_back = true;
            }
        }
        let resume: Vec<ResumeCursor> = cursors
            .iter()
            .map(|(id, after_seq)| ResumeCursor {
                conversation_id: id.clone(),
                after_seq: *after_seq,
            })
            .collect();
        let path = if self.is_customer() {
            "customer"
        } else {
            "agent"
        };
        let mut socket = client::connect(&shared.addr, path).await?;
        match &self.role {
            Role::Customer { token } => {
                let hello = CustomerFrame::Hello {
                    visitor_token: token.clone(),
                    resume,
                    locale: Some("zh-CN".into()),
                    group: None,
                    page: None,
                    user: None,
                };
                client::send_customer(&mut socket, &hello).await?;
            }
            Role::Agent { session } => {
                client::send_agent(
                    &mut socket,
                    &AgentFrame::Hello {
                        session_token: session.clone(),
                        resume,
                    },
                )
                .await?;
            }
        }
        match client::read(&mut socket, Duration::from_secs(10)).await {
            Read::Frame(ServerFrame::Welcome {
                visitor_token,
                visitor_id,
                ..
            }) => {
                self.role = Role::Customer {
                    token: Some(visitor_token),
                };
                let sender = Sender::Customer { visitor_id };
                if self.sender.as_ref().is_some_and(|known| *known != sender) {
                    bail!(
                        "{}: the server gave another visitor id ({sender}) for the same token",
                        self.name
                    );
                }
                self.sender = Some(sender);
            }
            Read::Frame(ServerFrame::AgentWelcome { agent, .. }) => {
                self.sender = Some(Sender::Agent {
                    agent_id: agent.agent_id,
                });
                client::send_agent(
                    &mut socket,
                    &AgentFrame::SetStatus {
                        status: AgentStatus::Online,
                    },
                )
                .await?;
            }
            Read::Frame(other) => bail!("{}: expected a welcome, got {other:?}", self.name),
            Read::Quiet => bail!("{}: no welcome within 10 s", self.name),
            Read::Closed(why) => bail!("{}: {why}", self.name),
            Read::Bad(why) => {
                self.bad_frames.push(why.clone());
                bail!("{}: {why}", self.name)
            }
        }
        if went_back {
            bump(&shared.counters.old_resume);
        }
        bump(&shared.counters.reconnects);
        let number = self.connections.len() + 1;
        let known = cursors
            .keys()
            .map(|id| {
                if self.traffic_over {
                    return (id.clone(), u64::MAX);
                }
                let acked = self
                    .sends
                    .iter()
                    .flat_map(|send| &send.attempts)
                    .filter_map(|answer| match answer {
                        Answer::Ack {
                            conversation_id,
                            seq,
                        } if conversation_id == id => Some(*seq),
                        _ => None,
                    })
                    .max()
                    .unwrap_or(0);
                let held = self.held.get(id).map_or(0, |log| log.len() as u64);
                (id.clone(), held.max(acked))
            })
            .collect();
        self.connection = Some(Connection {
            client: self.name.clone(),
            number,
            cursors,
            known,
            received: Vec::new(),
        });
        self.socket = Some(socket);
        Ok(())
    }

    /// Applies a frame; returns the answer it carries for a send, if it is one.
    fn handle(&mut self, frame: ServerFrame) -> Option<(String, Answer)> {
        match frame {
            ServerFrame::Event {
                conversation_id,
                event,
            } => {
                let log = self.held.entry(conversation_id.clone()).or_default();
                if event.seq == log.len() as u64 + 1 {
                    log.push(event.clone());
                }
                if let Some(connection) = &mut self.connection {
                    connection.received.push(Received::Event {
                        conversation_id,
                        event,
                    });
                }
                None
            }
            ServerFrame::Snapshot {
                conversation,
                events,
            } => {
                let conversation_id = conversation.conversation_id;
                let held = self.held.entry(conversation_id.clone()).or_default();
                if events.len() >= held.len() {
                    *held = events.clone();
                }
                if let Some(connection) = &mut self.connection {
                    connection.received.push(Received::Snapshot {
                        conversation_id,
                        events,
                    });
                }
                None
            }
            ServerFrame::Ack {
                client_msg_id,
                conversation_id,
                seq,
            } => Some((
                client_msg_id,
                Answer::Ack {
                    conversation_id,
                    seq,
                },
            )),
            ServerFrame::Error {
                code,
                client_msg_id: Some(id),
                ..
            } => Some((
                id,
                Answer::Error {
                    code: code.as_str().to_owned(),
                },
            )),
            _ => None,
        }
    }

    /// Reads until the answer to `client_msg_id`, a timeout (`ACK_TIMEOUT`, or `until` if
    /// sooner), or the end of the connection.
    async fn await_answer(&mut self, client_msg_id: &str, until: Option<Instant>) -> Answer {
        let started = Instant::now();
        let deadline = until.map_or(started + ACK_TIMEOUT, |until| {
            until.min(started + ACK_TIMEOUT)
        });
        loop {
            let Some(socket) = &mut self.socket else {
                return Answer::None {
                    why: "not connected".into(),
                };
            };
            match client::read(socket, deadline.saturating_duration_since(Instant::now())).await {
                Read::Frame(frame) => {
                    if let Some((id, answer)) = self.handle(frame)
                        && id == client_msg_id
                    {
                        return answer;
                    }
                }
                Read::Quiet => {
                    // As the widget does: a silent connection is replaced.
                    self.drop_connection();
                    return Answer::None {
                        why: format!("no answer within {:.1} s", started.elapsed().as_secs_f64()),
                    };
                }
                Read::Closed(why) => {
                    self.drop_connection();
                    return Answer::None { why };
                }
                Read::Bad(why) => {
                    self.bad_frames.push(why.clone());
                    self.drop_connection();
                    return Answer::None { why };
                }
            }
        }
    }

    /// Reads until nothing arrives for `quiet`.
    async fn drain(&mut self, quiet: Duration) {
        while let Some(socket) = &mut self.socket {
            match client::read(socket, quiet).await {
                Read::Frame(frame) => {
                    self.handle(frame);
                }
                Read::Quiet => return,
                Read::Closed(_) => self.drop_connection(),
                Read::Bad(why) => {
                    self.bad_frames.push(why);
                    self.drop_connection();
                }
            }
        }
    }

    /// Connects (unless connected) and reads until a connection goes quiet, reconnecting
    /// from what it holds whenever the server closes it: a log longer than the server's
    /// outbox (512 frames) arrives over several connections, as with the widget.
    async fn catch_up(&mut self, shared: &Shared) -> Result<()> {
        for _ in 0..1000 {
            if self.socket.is_none() {
                self.connect(shared, false).await?;
            }
            self.drain(Duration::from_millis(1500)).await;
            if let Some(why) = self.bad_frames.last() {
                bail!(
                    "{}: the server sent a frame the protocol refuses: {why}",
                    self.name
                );
            }
            if self.socket.is_some() {
                return Ok(());
            }
        }
        bail!("{}: still cut off after 1000 connections", self.name)
    }

    /// The conversations this agent serves now, by what it holds.
    fn serving(&self) -> Vec<String> {
        let Some(Sender::Agent { agent_id }) = &self.sender else {
            return Vec::new();
        };
        self.held
            .iter()
            .filter(|(_, log)| {
                let state = conversation::fold(log.iter());
                state.agent_id() == Some(agent_id.as_str()) && !state.is_ended()
            })
            .map(|(id, _)| id.clone())
            .collect()
    }

    /// One send (new, retried or duplicated). False when there is nothing left to do.
    async fn step(&mut self, shared: &Shared) -> Result<bool> {
        let plan = &shared.plan;
        if self.socket.is_some() && self.rng.chance(plan.p_old_resume) {
            // Reconnect on purpose, resuming from an older seq than the client holds.
            self.connect(shared, true).await?;
        }
        if self.socket.is_none() {
            let old = self.rng.chance(plan.p_old_resume * 10.0);
            self.connect(shared, old).await?;
        }
        if self.pending.is_none() && shared.faults_over.get().is_some() {
            self.resolve_given_up(shared).await?;
            if self.socket.is_none() {
                return Ok(true);
            }
        }
        let mut duplicate = false;
        let acked = if self.pending.is_none() && self.rng.chance(plan.p_duplicate_send) {
            self.acked_indexes()
        } else {
            Vec::new()
        };
        let index = if let Some(index) = self.pending.take() {
            bump(&shared.counters.retries);
            index
        } else if !acked.is_empty() {
            duplicate = true;
            bump(&shared.counters.duplicate_send);
            acked[self.rng.below(acked.len() as u64) as usize]
        } else {
            let conversation_id = if self.is_customer() {
                None
            } else {
                let serving = self.serving();
                if serving.is_empty() {
                    if get(&shared.quota) == 0 {
                        return Ok(false);
                    }
                    self.drain(Duration::from_millis(100)).await;
                    return Ok(true);
                }
                Some(serving[self.rng.below(serving.len() as u64) as usize].clone())
            };
            match &mut self.own_quota {
                Some(0) => return Ok(false),
                Some(left) => *left -= 1,
                None => {
                    if shared
                        .quota
                        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |left| {
                            left.checked_sub(1)
                        })
                        .is_err()
                    {
                        return Ok(false);
                    }
                }
            }
            bump(&shared.counters.sent);
            let number = self.next_number;
            self.next_number += 1;
            let text = if self.is_customer() && number == 0 {
                // The transfer keyword: the conversation goes to an agent.
                "转人工".to_owned()
            } else {
                format!("{} message {number} (seed {})", self.name, plan.seed)
            };
            self.sends.push(SendRecord {
                sender: self
                    .sender
                    .clone()
                    .context("connected clients know who they are")?,
                client: self.name.clone(),
                client_msg_id: format!("{}-{number}", self.short),
                text,
                conversation_id,
                order: number,
                attempts: Vec::new(),
                given_up: false,
            });
            self.sends.len() - 1
        };
        let client_msg_id = self.sends[index].client_msg_id.clone();
        let frame_sent = self.transmit(index).await;
        bump(&shared.counters.attempts);
        let answer = if let Err(error) = frame_sent {
            self.drop_connection();
            Answer::None {
                why: format!("{error:#}"),
            }
        } else if !duplicate && self.rng.chance(plan.p_drop_before_ack) {
            bump(&shared.counters.drop_before_ack);
            self.drop_connection();
            Answer::None {
                why: "connection dropped by the driver before the ack".into(),
            }
        } else {
            self.await_answer(&client_msg_id, None).await
        };
        self.sends[index].attempts.push(answer.clone());
        match answer {
            Answer::Ack { .. } => {
                bump(&shared.counters.acks);
                if self.rng.chance(plan.p_drop_after_ack) {
                    bump(&shared.counters.drop_after_ack);
                    self.drop_connection();
                }
            }
            Answer::Error { code } => {
                if count_refusal(shared, &code)
                    && !duplicate
                    && self.sends[index].attempts.len() < 2000
                {
                    self.pending = Some(index);
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
            Answer::None { .. } => {
                bump(&shared.counters.unanswered);
                if !duplicate {
                    let first_of_customer = self.is_customer() && self.sends[index].order == 0;
                    if first_of_customer || !self.rng.chance(plan.p_abandon) {
                        self.pending = Some(index);
                    } else {
                        bump(&shared.counters.abandoned);
                        self.sends[index].given_up = true;
                        self.given_up.push((index, Instant::now()));
                    }
                }
            }
        }
        Ok(true)
    }

    /// Writes one attempt of the send `index`.
    async fn transmit(&mut self, index: usize) -> Result<()> {
        let record = &self.sends[index];
        let client_msg_id = record.client_msg_id.clone();
        match (&self.role, self.socket.as_mut()) {
            (_, None) => Err(anyhow::anyhow!("not connected")),
            (Role::Customer { .. }, Some(socket)) => {
                client::send_customer(
                    socket,
                    &CustomerFrame::Send {
                        client_msg_id: client_msg_id.clone(),
                        text: record.text.clone(),
                    },
                )
                .await
            }
            (Role::Agent { .. }, Some(socket)) => {
                let frame = AgentFrame::Send {
                    conversation_id: record.conversation_id.clone().unwrap_or_default(),
                    client_msg_id: client_msg_id.clone(),
                    text: record.text.clone(),
                };
                client::send_agent(socket, &frame).await
            }
        }
    }

    /// Sends the given-up sends again (same `client_msg_id`, no faults of the driver's
    /// own) once the server-side faults are over, each until it gets an `ack` or an error
    /// other than a transient one, and only until [`Plan::resolve_within`] after the last
    /// fault (or after it was given up, when that is later): what is left then stays in
    /// limbo, for the checker to report.
    async fn resolve_given_up(&mut self, shared: &Shared) -> Result<()> {
        if self.given_up.is_empty() {
            return Ok(());
        }
        let over = loop {
            if let Some(over) = shared.faults_over.get() {
                break *over;
            }
            if self.socket.is_some() {
                self.drain(Duration::from_millis(100)).await;
            } else {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        };
        let mut limbo = Vec::new();
        while let Some(&(index, given_up_at)) = self.given_up.first() {
            let deadline = over.max(given_up_at) + shared.plan.resolve_within;
            if Instant::now() >= deadline {
                limbo.push(self.given_up.remove(0));
                continue;
            }
            if self.socket.is_none() {
                self.connect(shared, false).await?;
            }
            let client_msg_id = self.sends[index].client_msg_id.clone();
            bump(&shared.counters.attempts);
            bump(&shared.counters.resent_given_up);
            let answer = match self.transmit(index).await {
                Ok(()) => self.await_answer(&client_msg_id, Some(deadline)).await,
                Err(error) => {
                    self.drop_connection();
                    Answer::None {
                        why: format!("{error:#}"),
                    }
                }
            };
            self.sends[index].attempts.push(answer.clone());
            match answer {
                Answer::Ack { .. } => {
                    bump(&shared.counters.acks);
                    self.given_up.remove(0);
                }
                Answer::Error { code } => {
                    if count_refusal(shared, &code) {
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    } else {
                        self.given_up.remove(0);
                    }
                }
                Answer::None { .. } => {
                    bump(&shared.counters.unanswered);
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
        self.given_up = limbo;
        Ok(())
    }

    fn acked_indexes(&self) -> Vec<usize> {
        (0..self.sends.len())
            .filter(|&i| {
                self.sends[i]
                    .attempts
                    .iter()
                    .any(|a| matches!(a, Answer::Ack { .. }))
            })
            .collect()
    }

    /// Everything this client recorded, its socket closed.
    fn finish(mut self, history: &mut History, kept: bool) {
        self.drop_connection();
        history.sends.append(&mut self.sends);
        history.bad_frames.extend(
            self.bad_frames
                .iter()
                .map(|why| format!("{}: {why}", self.name)),
        );
        history.connections.append(&mut self.connections);
        if let Some(sender) = &self.sender {
            for (conversation_id, events) in self.held {
                history.transcripts.push(Transcript {
                    holder: format!(
                        "{} ({})",
                        self.name,
                        if kept {
                            "kept across reconnects"
                        } else {
                            "fresh from seq 0"
                        }
                    ),
                    sender: sender.clone(),
                    conversation_id,
                    events,
                });
            }
        }
    }
}

/// Runs a plan against the `kefu` binary at `kefu`, with the widget from `assets`. Fails
/// at once when the plan has disk-full windows and no tmpfs can be mounted for them, unless
/// `allow_no_disk_full` (then the run goes on without them, and says so).
pub async fn run(
    plan: Plan,
    kefu: &Path,
    assets: &Path,
    allow_no_disk_full: bool,
) -> Result<Outcome> {
    let started = Instant::now();
    let mut rng = Rng::new(plan.seed);
    let mut disk = Disk::mount(32);
    if let Some(why) = &disk.unavailable
        && plan.disk_fulls > 0
    {
        if !allow_no_disk_full {
            bail!(
                "the disk-full fault cannot be set up ({why}): it needs a tmpfs of its own for the database, so run as root, \
                 or pass --allow-no-disk-full to run without it"
            );
        }
        eprintln!(
            "\n!!!!!!!! DISK-FULL FAULT NOT AVAILABLE: {why}\n!!!!!!!! --allow-no-disk-full: the database is on an ordinary directory; no disk-full window will be injected.\n"
        );
    }
    let database = disk.database();
    let (kefu_path, assets_path): (PathBuf, PathBuf) = (kefu.to_owned(), assets.to_owned());
    let agents = plan.agents;
    let mut server = tokio::task::spawn_blocking(move || {
        faults::start_server(&kefu_path, &assets_path, &database, agents)
    })
    .await?;
    let addr = format!("127.0.0.1:{}", server.port());
    println!(
        "reliability: kefu on {addr}, data {}, database on {}",
        server.data_dir().display(),
        disk.dir.display()
    );

    let shared = Arc::new(Shared {
        addr: addr.clone(),
        quota: AtomicU64::new(plan.messages),
        counters: Counters::default(),
        faults_over: OnceLock::new(),
        plan: plan.clone(),
    });
    let mut tasks = Vec::new();
    for index in 0..plan.customers {
        let client = Client::new(
            format!("customer {index}"),
            format!("c{index}"),
            Role::Customer { token: None },
            Rng::fork(plan.seed, index as u64 + 1),
        );
        tasks.push(spawn_client(client, shared.clone()));
    }
    for index in 0..plan.agents {
        let session = client::agent_login(&addr, &format!("agent{index}"), "reliability").await?;
        let client = Client::new(
            format!("agent {index}"),
            format!("a{index}"),
            Role::Agent { session },
            Rng::fork(plan.seed, 1000 + index as u64),
        );
        tasks.push(spawn_client(client, shared.clone()));
    }

    let progress = {
        let shared = shared.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_secs(20)).await;
                let counters = &shared.counters;
                println!(
                    "reliability: {:.0} s: {} messages sent, {} acks, {} reconnects",
                    started.elapsed().as_secs_f64(),
                    get(&counters.sent),
                    get(&counters.acks),
                    get(&counters.reconnects)
                );
            }
        })
    };

    // The server-side schedule: each fault at a point of the traffic drawn from the seed.
    let mut schedule: Vec<(u64, bool)> = std::iter::repeat_n(false, plan.restarts)
        .chain(std::iter::repeat_n(true, plan.disk_fulls))
        .map(|disk_full| {
            (
                plan.messages / 20 + rng.below(plan.messages * 17 / 20),
                disk_full,
            )
        })
        .collect();
    schedule.sort();
    println!(
        "reliability: schedule (at messages sent): {}",
        schedule
            .iter()
            .map(|(at, disk)| format!("{at}:{}", if *disk { "disk-full" } else { "kill-9" }))
            .collect::<Vec<_>>()
            .join(" ")
    );
    let mut figures = Figures {
        plan: plan.name.to_owned(),
        seed: plan.seed,
        disk_unavailable: disk.unavailable.clone(),
        kills_planned: plan.restarts as u64,
        ..Figures::default()
    };
    // Per `kill -9` of the traffic: whether clients still ran, and the acks seen by the
    // time the server was back.
    let mut kills: Vec<(bool, u64)> = Vec::new();
    for (at, disk_full) in schedule {
        while get(&shared.counters.sent) < at && !tasks.iter().all(|task| task.is_finished()) {
            if started.elapsed() > plan.deadline {
                bail!(
                    "the run passed its deadline of {} s",
                    plan.deadline.as_secs()
                );
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        if disk_full {
            if disk.unavailable.is_some() {
                continue;
            }
            // A newcomer says hello before the disk fills, and starts its conversation
            // (its first message, new rows) while it is full.
            let mut newcomer = Client::new(
                format!("newcomer {}", figures.disk_windows.len()),
                format!("n{}", figures.disk_windows.len()),
                Role::Customer { token: None },
                Rng::fork(plan.seed, 2000 + figures.disk_windows.len() as u64),
            );
            newcomer.own_quota = Some(5);
            newcomer.connect(&shared, false).await?;
            let before = get(&shared.counters.refused_internal);
            let window = Instant::now();
            let filler_bytes = disk.fill()?;
            bump(&shared.counters.newcomers);
            tasks.push(spawn_client(newcomer, shared.clone()));
            while window.elapsed() < plan.disk_full_max
                && (get(&shared.counters.refused_internal) < before + 3
                    || window.elapsed() < Duration::from_secs(1))
            {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            disk.recover(8)?;
            let refused_writes = get(&shared.counters.refused_internal) - before;
            let seconds = window.elapsed().as_secs_f64();
            println!(
                "reliability: disk full for {seconds:.1} s: {refused_writes} sends refused with `internal`"
            );
            figures.disk_windows.push(DiskWindow {
                seconds,
                refused_writes,
                filler_bytes,
            });
        } else {
            let pause = Duration::from_millis(rng.below(300));
            let traffic_flowing = !tasks.iter().all(|task| task.is_finished());
            server = tokio::task::spawn_blocking(move || {
                faults::kill_and_restart(&mut server, pause);
                server
            })
            .await?;
            kills.push((traffic_flowing, get(&shared.counters.acks)));
        }
    }
    let faults_over = Instant::now();
    let acks_at_last_fault = get(&shared.counters.acks);
    shared
        .faults_over
        .set(faults_over)
        .expect("the faults end once");
    let mut clients = Vec::new();
    for task in tasks {
        clients.push(
            task.await?
                .map_err(|(name, error)| error.context(format!("{name} failed")))?,
        );
    }
    progress.abort();
    let acks_at_end = get(&shared.counters.acks);
    figures.acks_after_last_fault = acks_at_end - acks_at_last_fault;
    figures.traffic_after_last_fault = faults_over.elapsed().as_secs_f64();
    figures.kills_mid_run = kills
        .iter()
        .filter(|(flowing, acks)| *flowing && acks_at_end > *acks)
        .count() as u64;

    // Everyone resumes from what it holds and reads what it missed.
    let mut settling = Vec::new();
    for mut client in clients {
        let shared = shared.clone();
        client.traffic_over = true;
        settling.push(tokio::spawn(async move {
            client.connect(&shared, false).await?;
            client.catch_up(&shared).await?;
            Ok::<Client, anyhow::Error>(client)
        }));
    }
    let mut history = History::default();
    let mut sessions = Vec::new();
    let mut tokens = Vec::new();
    for task in settling {
        let client = task.await??;
        match &client.role {
            Role::Customer { token } => tokens.push((client.name.clone(), token.clone())),
            Role::Agent { session } => sessions.push((client.name.clone(), session.clone())),
        }
        client.finish(&mut history, true);
    }

    // A last kill -9: the truth is what a fresh connection reads from the restarted server.
    server = tokio::task::spawn_blocking(move || {
        faults::kill_and_restart(&mut server, Duration::ZERO);
        server
    })
    .await?;
    figures.final_kill = true;
    for (name, token) in tokens {
        let mut reader = Client::new(
            format!("{name} (fresh read)"),
            String::new(),
            Role::Customer { token },
            Rng::new(0),
        );
        reader.traffic_over = true;
        reader.catch_up(&shared).await?;
        let Some(Sender::Customer { visitor_id }) = reader.sender.clone() else {
            bail!("no visitor id")
        };
        for (conversation_id, events) in &reader.held {
            history.truth.insert(
                conversation_id.clone(),
                (visitor_id.clone(), events.clone()),
            );
        }
        reader.finish(&mut history, false);
    }
    for (name, session) in sessions {
        let mut reader = Client::new(name, String::new(), Role::Agent { session }, Rng::new(0));
        reader.traffic_over = true;
        reader.catch_up(&shared).await?;
        reader.finish(&mut history, false);
    }
    let server_log = server.stderr();
    drop_server(server).await;

    let counters = &shared.counters;
    figures.messages_sent = get(&counters.sent);
    figures.send_attempts = get(&counters.attempts);
    figures.acked = get(&counters.acks);
    figures.refused_internal = get(&counters.refused_internal);
    figures.refused_other = get(&counters.refused_other);
    figures.unanswered = get(&counters.unanswered);
    figures.retries = get(&counters.retries);
    figures.abandoned = get(&counters.abandoned);
    figures.resent_given_up = get(&counters.resent_given_up);
    figures.drop_before_ack = get(&counters.drop_before_ack);
    figures.drop_after_ack = get(&counters.drop_after_ack);
    figures.old_resume = get(&counters.old_resume);
    figures.duplicate_send = get(&counters.duplicate_send);
    figures.reconnects = get(&counters.reconnects);
    figures.newcomers_on_full_disk = get(&counters.newcomers);
    figures.conversations = history.truth.len();
    figures.events_in_logs = history.truth.values().map(|(_, log)| log.len()).sum();
    figures.seconds = started.elapsed().as_secs_f64();
    drop(disk);
    Ok(Outcome {
        history,
        figures,
        server_log,
    })
}

/// Counts an `error` answer; true when it is transient (`internal`, `rate_limited`), so the
/// send is tried again.
fn count_refusal(shared: &Shared, code: &str) -> bool {
    if code == ErrorCode::Internal.as_str() {
        bump(&shared.counters.refused_internal);
    } else {
        bump(&shared.counters.refused_other);
    }
    code == ErrorCode::Internal.as_str() || code == ErrorCode::RateLimited.as_str()
}

type ClientTask = tokio::task::JoinHandle<Result<Client, (String, anyhow::Error)>>;

fn spawn_client(mut client: Client, shared: Arc<Shared>) -> ClientTask {
    tokio::spawn(async move {
        loop {
            match client.step(&shared).await {
                Ok(true) => {}
                Ok(false) => {
                    // Nothing new to send: what was given up is sent again once the faults
                    // are over.
                    return match client.resolve_given_up(&shared).await {
                        Ok(()) => Ok(client),
                        Err(error) => Err((client.name.clone(), error)),
                    };
                }
                Err(error) => return Err((client.name.clone(), error)),
            }
        }
    })
}

/// Stops the server (its data directory is removed unless the thread panics).
async fn drop_server(server: KefuServer) {
    let _ = tokio::task::spawn_blocking(move || drop(server)).await;
}

impl Figures {
    /// The figures as printed at the end of a run (and copied into RELIABILITY.md).
    pub fn print(&self, report: &Report) {
        let disk = match &self.disk_unavailable {
            Some(why) => format!("NOT INJECTED ({why})"),
            None => {
                let refused: u64 = self.disk_windows.iter().map(|w| w.refused_writes).sum();
                let seconds: f64 = self.disk_windows.iter().map(|w| w.seconds).sum();
                format!(
                    "{} windows, {seconds:.1} s in all, {refused} sends refused with `internal` during them",
                    self.disk_windows.len()
                )
            }
        };
        println!(
            "\n== kefu-reliability {} run, seed {} (replay: KEFU_SEED={}) ==",
            self.plan, self.seed, self.seed
        );
        println!("messages sent (distinct)      {}", self.messages_sent);
        println!(
            "send attempts                 {}  (retries {}, duplicate re-sends {})",
            self.send_attempts, self.retries, self.duplicate_send
        );
        println!(
            "acked                         {}  (distinct messages acked: {})",
            self.acked, report.acked
        );
        println!(
            "refused (error frame)         {} internal, {} other",
            self.refused_internal, self.refused_other
        );
        println!(
            "unanswered attempts           {}  (given up: {})",
            self.unanswered, self.abandoned
        );
        println!(
            "given up, sent again         {} acked, {} refused, {} in limbo  ({} attempts after the faults)",
            report.given_up_acked, report.given_up_refused, report.in_limbo, self.resent_given_up
        );
        println!("faults injected:");
        println!(
            "  kill -9 + restart           {} mid-run (of {} planned){}",
            self.kills_mid_run,
            self.kills_planned,
            if self.final_kill {
                ", and 1 before the final read"
            } else {
                ""
            }
        );
        println!("  disk full                   {disk}");
        println!("  dropped before the ack      {}", self.drop_before_ack);
        println!("  dropped after the ack       {}", self.drop_after_ack);
        println!("  resumed from an old seq     {}", self.old_resume);
        println!("  duplicate client_msg_id     {}", self.duplicate_send);
        println!(
            "  new conversation, disk full {}",
            self.newcomers_on_full_disk
        );
        println!("reconnects                    {}", self.reconnects);
        println!(
            "acks after the last fault     {}  (traffic for {:.1} s after it)",
            self.acks_after_last_fault, self.traffic_after_last_fault
        );
        println!("agents' messages acked        {}", report.agent_acked);
        println!("events read by resumed readers {}", report.resumed_events);
        println!(
            "conversations / events        {} / {}",
            self.conversations, self.events_in_logs
        );
        println!("lost                          {}", report.lost);
        println!("duplicated                    {}", report.duplicated);
        println!(
            "delivery gaps / repeats       {} / {}",
            report.delivery_gaps, report.delivery_duplicates
        );
        println!("refused, not transient        {}", report.refused);
        println!("violations                    {}", report.violations.len());
        println!("wall time                     {:.1} s", self.seconds);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_below_a_minimum_names_it_the_figure_and_the_bound() {
        let plan = Plan::short(1);
        let figures = Figures {
            acks_after_last_fault: 0,
            ..Figures::default()
        };
        let report = Report {
            acked: 400,
            agent_acked: 4,
            resumed_events: 100,
            ..Report::default()
        };
        assert_eq!(
            plan.minimums.shortfalls(plan.name, &figures, &report),
            vec![
                "MINIMUM NOT MET: agent traffic (agents' messages acked): 4, the short run needs at least 5",
                "MINIMUM NOT MET: acks after the last fault: 0, the short run needs at least 20",
            ]
        );
        let enough = Figures {
            acks_after_last_fault: 20,
            ..Figures::default()
        };
        let report = Report {
            agent_acked: 5,
            ..report
        };
        assert!(
            plan.minimums
                .shortfalls(plan.name, &enough, &report)
                .is_empty()
        );
    }
}
