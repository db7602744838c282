//! The hub: all live state of the service, owned by one task.
//!
//! Connection tasks ([`crate::ws`]) send it [`Request`]s; it decides with kefu-core, appends
//! the resulting events to the store, and only then applies them, acknowledges and fans
//! them out to the customer's and the assigned agent's connections. One owner means the
//! events of a conversation are ordered without locks, and an `ack` always follows a commit.
//!
//! What lives here and nowhere else: which connections belong to which visitor or agent,
//! agents' presence, the folded state of every open conversation, and the queues.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use kefu_core::config::{Config, ServiceMode};
use kefu_core::conversation::{
    self, Availability, Command, Ctx, Event, EventBody, Phase, Rejection, State,
};
use kefu_core::protocol::{
    AgentFrame, AgentProfile, AgentStatus, ConversationSummary, CustomerFrame, ErrorCode,
    FrameError, GroupChoice, MAX_FRAME_BYTES, MAX_PAST_CONVERSATIONS, PAST_PREVIEW_CHARS, PageInfo,
    PastConversation, ResumeCursor, ServerFrame, TypingParty, UserIdentity, VisitorProfile,
};
use kefu_core::routing::{self, AgentLoad, QueueEntry, Queues};
use tokio::sync::{mpsc, oneshot};

use crate::clock::Clock;
use crate::knowledge::SharedIndex;
use crate::metrics::Metrics;
use crate::settings::Settings;
use crate::store::{AgentRecord, Store};

/// Frames queued for one connection. Bounded: a client that cannot keep up is disconnected
/// and resumes from its last seq, rather than growing the server's memory.
///
/// Frames are boxed: a channel allocates its slots 32 at a time, at once, and a
/// `ServerFrame` is ~460 bytes, so an idle connection's first block alone took ~15 KiB.
#[derive(Clone)]
pub struct Outbox {
    frames: mpsc::Sender<Box<ServerFrame>>,
    closing: Arc<tokio::sync::Notify>,
    ending: Arc<std::sync::Mutex<Option<Ending>>>,
}

/// The connection task's end of an [`Outbox`].
pub struct OutboxReceiver {
    pub frames: mpsc::Receiver<Box<ServerFrame>>,
    /// Notified when the connection must close: a frame had to be dropped (the client
    /// resumes from its last seq) or the agent's session was revoked.
    pub closing: Arc<tokio::sync::Notify>,
    /// Why, once `closing` is notified (see [`OutboxReceiver::ending`]).
    ending: Arc<std::sync::Mutex<Option<Ending>>>,
}

/// How the hub ends a connection (PROTOCOL.md, "Close codes"): the last `error` frame, if
/// any, then a WebSocket close frame with this code and reason.
#[derive(Debug, Clone, PartialEq)]
pub struct Ending {
    pub error: Option<ServerFrame>,
    pub code: u16,
    pub reason: &'static str,
}

impl Ending {
    /// The agent's session ended (logout, disabled): `unauthorized`, then close 1008.
    pub fn session_ended() -> Ending {
        Ending {
            error: Some(error_frame(
                ErrorCode::Unauthorized,
                "the session has ended; log in again",
                None,
            )),
            code: 1008,
            reason: "session ended",
        }
    }

    /// The client did not read its frames fast enough: close 1013 (try again later); it
    /// reconnects and resumes from its last seq.
    pub fn too_slow() -> Ending {
        Ending {
            error: None,
            code: 1013,
            reason: "client too slow; reconnect and resume",
        }
    }
}

impl OutboxReceiver {
    /// Why the hub asked to close (after `closing` was notified).
    pub fn ending(&self) -> Ending {
        self.ending
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take()
            .unwrap_or_else(Ending::too_slow)
    }
}

/// How many frames may wait for a slow connection before it is dropped.
pub const OUTBOX_CAPACITY: usize = 512;

impl Outbox {
    pub fn new() -> (Outbox, OutboxReceiver) {
        let (sender, receiver) = mpsc::channel(OUTBOX_CAPACITY);
        let closing = Arc::new(tokio::sync::Notify::new());
        let ending = Arc::new(std::sync::Mutex::new(None));
        (
            Outbox {
                frames: sender,
                closing: closing.clone(),
                ending: ending.clone(),
            },
            OutboxReceiver {
                frames: receiver,
                closing,
                ending,
            },
        )
    }

    /// Queues a frame (see [`send`]).
    pub fn send_now(&self, frame: ServerFrame) {
        send(self, frame);
    }

    /// Asks the connection to close because it is too slow ([`Ending::too_slow`]).
    pub fn close(&self) {
        self.end(Ending::too_slow());
    }

    /// Asks the connection to close with `ending` (the first reason given wins).
    pub fn end(&self, ending: Ending) {
        self.ending
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .get_or_insert(ending);
        self.closing.notify_one();
    }
}

/// A connection's identity inside the hub.
pub type ConnId = u64;

/// What a customer's `hello` carried.
pub struct CustomerHello {
    pub visitor_token: Option<String>,
    pub resume: Vec<ResumeCursor>,
    pub locale: Option<String>,
    pub group: Option<String>,
    pub page: Option<PageInfo>,
    pub user: Option<UserIdentity>,
    /// From the upgrade's `User-Agent`, described by `kefu_core::useragent`.
    pub browser: Option<String>,
}

/// The answer to a `hello`: the welcome and the resumed log (events, snapshots), which the
/// connection task writes before anything of its outbox. They do not go through the bounded
/// outbox: a returning visitor's history can be longer than [`OUTBOX_CAPACITY`], and a
/// history that overflowed the outbox before its writer even started would close every
/// connection of that visitor before the welcome, for ever. Frames committed after the
/// hello go to the outbox, so the order of every conversation's events is kept.
pub type Hello = Vec<ServerFrame>;

/// Requests from connection tasks and HTTP handlers.
pub enum Request {
    /// Answered with the visitor id, or the error to close with.
    /// Answered with the visitor id and the frames to write first (see [`Hello`]), or the
    /// error to close with.
    CustomerHello {
        conn: ConnId,
        hello: CustomerHello,
        outbox: Outbox,
        reply: oneshot::Sender<Result<(String, Hello), FrameError>>,
    },
    CustomerFrame {
        conn: ConnId,
        frame: CustomerFrame,
    },
    CustomerGone {
        conn: ConnId,
    },
    AgentHello {
        conn: ConnId,
        session_token: String,
        resume: Vec<ResumeCursor>,
        outbox: Outbox,
        reply: oneshot::Sender<Result<Hello, FrameError>>,
    },
    AgentFrame {
        conn: ConnId,
        frame: AgentFrame,
    },
    AgentGone {
        conn: ConnId,
    },
    SessionRevoked {
        session_token: String,
    },
    /// Runs the periodic checks (idle timeouts, agents gone past the grace period) now, and
    /// answers when done; tests use it after moving a manual clock.
    Tick {
        done: oneshot::Sender<()>,
    },
    /// The settings changed in the store (service configuration, agents, knowledge): read
    /// them again, so the next decision uses them, route with them, and answer when done.
    Reload {
        done: oneshot::Sender<()>,
    },
}

/// The service configuration the hub decides with, readable by HTTP handlers and connection
/// tasks (the widget's allowed origins); only the hub replaces it.
#[derive(Clone)]
pub struct SharedConfig(Arc<std::sync::RwLock<Arc<Config>>>);

impl SharedConfig {
    fn new(config: Config) -> SharedConfig {
        SharedConfig(Arc::new(std::sync::RwLock::new(Arc::new(config))))
    }

    pub fn get(&self) -> Arc<Config> {
        self.0
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    fn set(&self, config: Config) {
        *self
            .0
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Arc::new(config);
    }
}

/// A cheap, cloneable handle on the hub task.
#[derive(Clone)]
pub struct HubHandle {
    requests: mpsc::Sender<Request>,
    /// The robot's index over the knowledge base, for the agents' knowledge search.
    pub knowledge: SharedIndex,
    /// The configuration in force (see [`SharedConfig`]).
    pub config: SharedConfig,
    next_conn: Arc<std::sync::atomic::AtomicU64>,
}

impl HubHandle {
    /// A new connection id.
    pub fn next_conn_id(&self) -> ConnId {
        self.next_conn
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    }

    /// Sends a request; false when the hub has stopped (the server is shutting down).
    pub async fn send(&self, request: Request) -> bool {
        self.requests.send(request).await.is_ok()
    }

    /// Runs the periodic checks now and waits for them (see [`Request::Tick`]).
    pub async fn tick(&self) {
        let (done, finished) = oneshot::channel();
        if self.send(Request::Tick { done }).await {
            let _ = finished.await;
        }
    }

    /// Makes the hub read the settings from the store again and waits until it has (see
    /// [`Request::Reload`]): when this returns, new decisions use the new settings.
    pub async fn reload(&self) {
        let (done, finished) = oneshot::channel();
        if self.send(Request::Reload { done }).await {
            let _ = finished.await;
        }
    }

    /// Ends every connection that logged in with this (now revoked) session token.
    pub async fn session_revoked(&self, session_token: String) {
        self.send(Request::SessionRevoked { session_token }).await;
    }
}

/// Loads the live state from the store and starts the hub task.
pub async fn start(
    store: Store,
    settings: Settings,
    metrics: Arc<Metrics>,
    clock: Clock,
) -> Result<HubHandle> {
    let config = load_service_config(&store, &clock).await?;
    // The first run copies the configured (demo) knowledge and shared phrases into their
    // tables; from then on the tables are the source of truth.
    store
        .seed_knowledge_once(&config.knowledge, clock.now_ms())
        .await?;
    let shared_phrases: Vec<(String, String)> = config
        .canned_phrases
        .iter()
        .filter(|phrase| phrase.owner.is_none())
        .map(|phrase| (phrase.category.clone(), phrase.content.clone()))
        .collect();
    store
        .seed_canned_phrases_once(&shared_phrases, clock.now_ms())
        .await?;
    let knowledge_version = store.knowledge_version().await?;
    let items: Vec<_> = store
        .knowledge()
        .await?
        .into_iter()
        .map(|(item, _)| item)
        .collect();
    let knowledge = SharedIndex::new(&items);
    let shared_config = SharedConfig::new(config.clone());
    let mut hub = Hub::new(
        store,
        settings,
        config,
        metrics,
        clock,
        knowledge.clone(),
        knowledge_version,
    );
    hub.shared_config = shared_config.clone();
    hub.restore().await?;
    let (requests, receiver) = mpsc::channel(4096);
    tokio::spawn(hub.run(receiver));
    Ok(HubHandle {
        requests,
        knowledge,
        config: shared_config,
        next_conn: Arc::new(std::sync::atomic::AtomicU64::new(1)),
    })
}

/// The service configuration from the database, seeded with the demo on first run.
async fn load_service_config(store: &Store, clock: &Clock) -> Result<Config> {
    if let Some(config) = store.service_config().await? {
        return Ok(config);
    }
    let config = crate::demo::service_config();
    store.save_service_config(&config, clock.now_ms()).await?;
    Ok(config)
}

struct Conversation {
    state: State,
    visitor_id: String,
    /// How far the customer has seen the log (their last `read`), for the agent's "已读".
    /// Kept in memory: after a restart, the next `read` brings it back.
    read_seq: u64,
}

struct CustomerConn {
    visitor_id: String,
    /// The skill group the page asked for in `hello` (resolved to an existing one): where a
    /// conversation this connection starts begins.
    group: String,
    outbox: Outbox,
}

struct AgentConn {
    agent_id: String,
    session_token: String,
    outbox: Outbox,
}

/// Whose a connection is: the visitor's or the agent's id.
trait Owned {
    fn owner(&self) -> &str;
}

impl Owned for CustomerConn {
    fn owner(&self) -> &str {
        &self.visitor_id
    }
}

impl Owned for AgentConn {
    fn owner(&self) -> &str {
        &self.agent_id
    }
}

/// Live connections of one kind, found by connection id or by owner, so that a fan-out
/// touches only the recipient's sockets however many others are connected.
struct Connections<T> {
    by_conn: HashMap<ConnId, T>,
    by_owner: HashMap<String, Vec<ConnId>>,
}

impl<T: Owned> Connections<T> {
    fn new() -> Self {
        Connections {
            by_conn: HashMap::new(),
            by_owner: HashMap::new(),
        }
    }

    fn insert(&mut self, conn: ConnId, value: T) {
        self.by_owner
            .entry(value.owner().to_owned())
            .or_default()
            .push(conn);
        if let Some(old) = self.by_conn.insert(conn, value) {
            self.unlink(conn, &old);
        }
    }

    fn remove(&mut self, conn: &ConnId) -> Option<T> {
        let value = self.by_conn.remove(conn)?;
        self.unlink(*conn, &value);
        Some(value)
    }

    fn unlink(&mut self, conn: ConnId, value: &T) {
        if let Some(conns) = self.by_owner.get_mut(value.owner()) {
            conns.retain(|other| *other != conn);
            if conns.is_empty() {
                self.by_owner.remove(value.owner());
            }
        }
    }

    fn get(&self, conn: &ConnId) -> Option<&T> {
        self.by_conn.get(conn)
    }

    /// The connections of `owner`.
    fn of<'a>(&'a self, owner: &str) -> impl Iterator<Item = &'a T> + 'a {
        self.by_owner
            .get(owner)
            .into_iter()
            .flatten()
            .filter_map(|conn| self.by_conn.get(conn))
    }

    fn has_owner(&self, owner: &str) -> bool {
        self.by_owner.contains_key(owner)
    }

    fn iter(&self) -> impl Iterator<Item = (&ConnId, &T)> {
        self.by_conn.iter()
    }
}

struct AgentLive {
    record: AgentRecord,
    status: AgentStatus,
    idle_since: i64,
    /// When the agent's last connection closed; its chats are re-queued after the grace period.
    disconnected_at: Option<i64>,
}

struct Hub {
    store: Store,
    settings: Settings,
    config: Config,
    /// The copy of `config` others read.
    shared_config: SharedConfig,
    robot: SharedIndex,
    /// The store's knowledge version the robot's index was built from.
    knowledge_version: i64,
    metrics: Arc<Metrics>,
    clock: Clock,
    conversations: HashMap<String, Conversation>,
    /// Each visitor's conversations, oldest first.
    visitor_conversations: HashMap<String, Vec<String>>,
    visitor_profiles: HashMap<String, VisitorProfile>,
    customers: Connections<CustomerConn>,
    agents: HashMap<String, AgentLive>,
    agent_conns: Connections<AgentConn>,
    /// Conversations in `Human`, by agent.
    assigned: HashMap<String, BTreeSet<String>>,
    queues: Queues,
    /// Every visitor held in memory (`visitor_conversations`), least recently seen first:
    /// who is evicted when there are more than `visitors_in_memory` (see [`Hub::evict`]).
    recency: Recency,
    /// When the tick first saw a queued chat's visitor with no connection (see
    /// [`Hub::expire_abandoned_queue`]).
    queue_visitor_gone_since: HashMap<String, i64>,
}

/// Visitors in the order they were last seen, for least-recently-seen eviction: a stamp per
/// visitor and the visitors by stamp, so touching and finding the oldest are O(log n).
#[derive(Default)]
struct Recency {
    next: u64,
    stamp: HashMap<String, u64>,
    by_stamp: BTreeMap<u64, String>,
}

impl Recency {
    fn touch(&mut self, visitor_id: &str) {
        self.next += 1;
        if let Some(old) = self.stamp.insert(visitor_id.to_owned(), self.next) {
            self.by_stamp.remove(&old);
        }
        self.by_stamp.insert(self.next, visitor_id.to_owned());
    }

    fn remove(&mut self, visitor_id: &str) {
        if let Some(old) = self.stamp.remove(visitor_id) {
            self.by_stamp.remove(&old);
        }
    }

    fn oldest(&self) -> Option<String> {
        self.by_stamp.values().next().cloned()
    }

    fn len(&self) -> usize {
        self.stamp.len()
    }
}

/// How often idle timeouts and disconnected agents are checked.
const TICK: Duration = Duration::from_secs(1);

/// The most visitors one [`Hub::evict`] looks at and keeps (connected, or with a queued or
/// served chat) before it stops: with many more connected visitors than the cap, each close
/// would otherwise walk all of them. The kept ones move to the back, so the next call (the
/// next close, or the next tick) goes on from there.
const EVICTION_SCAN: usize = 256;

/// How many past conversations a returning visitor gets back.
const HISTORY_CONVERSATIONS: usize = 20;

impl Hub {
    fn new(
        store: Store,
        settings: Settings,
        config: Config,
        metrics: Arc<Metrics>,
        clock: Clock,
        robot: SharedIndex,
        knowledge_version: i64,
    ) -> Hub {
        Hub {
            store,
            settings,
            shared_config: SharedConfig::new(config.clone()),
            config,
            robot,
            knowledge_version,
            metrics,
            clock,
            conversations: HashMap::new(),
            visitor_conversations: HashMap::new(),
            visitor_profiles: HashMap::new(),
            customers: Connections::new(),
            agents: HashMap::new(),
            agent_conns: Connections::new(),
            assigned: HashMap::new(),
            queues: Queues::new(),
            recency: Recency::default(),
            queue_visitor_gone_since: HashMap::new(),
        }
    }

    /// Folds every stored conversation, so a restarted server continues where it stopped:
    /// queued conversations wait again, and chats of agents who do not come back within the
    /// grace period are re-queued.
    async fn restore(&mut self) -> Result<()> {
        let now = self.clock.now_ms();
        for agent in self.store.list_agents().await? {
            self.agents.insert(
                agent.id.clone(),
                AgentLive {
                    record: agent,
                    status: AgentStatus::Offline,
                    idle_since: now,
                    disconnected_at: Some(now),
                },
            );
        }
        for (conversation_id, visitor_id, _group) in self.store.all_conversations().await? {
            let events = self.store.events_after(&conversation_id, 0).await?;
            if events.is_empty() {
                // Created, but its first events were never committed (e.g. the disk was
                // full): it never started, so it must not become the visitor's current
                // conversation, which would refuse every message as "not started".
                continue;
            }
            let state = conversation::fold(&events);
            self.visitor_conversations
                .entry(visitor_id.clone())
                .or_default()
                .push(conversation_id.clone());
            self.recency.touch(&visitor_id);
            if state.phase == Phase::Queued {
                let queued_at = events
                    .iter()
                    .rev()
                    .find(|event| {
                        matches!(
                            event.body,
                            EventBody::Queued { .. } | EventBody::Requeued { .. }
                        )
                    })
                    .map_or(now, |event| event.at);
                self.queues.push(QueueEntry {
                    conversation_id: conversation_id.clone(),
                    group: state.group.clone(),
                    queued_at,
                });
            }
            if let Some(agent_id) = state.agent_id() {
                self.assigned
                    .entry(agent_id.to_owned())
                    .or_default()
                    .insert(conversation_id.clone());
            }
            self.conversations.insert(
                conversation_id,
                Conversation {
                    state,
                    visitor_id,
                    read_seq: 0,
                },
            );
        }
        self.evict();
        self.publish_sizes();
        Ok(())
    }

    /// Reads a visitor's conversations back from the store when they are not in memory (a
    /// visitor seen for the first time since start-up, or one [`Hub::evict`] dropped). Only
    /// visitors with no queued or served chat are evicted, so what is read here is in the
    /// robot phase or ended: no queue or agent index needs it.
    async fn load_visitor(&mut self, visitor_id: &str) -> Result<()> {
        if self.visitor_conversations.contains_key(visitor_id) {
            return Ok(());
        }
        let mut ids = Vec::new();
        for conversation_id in self.store.conversations_of_visitor(visitor_id).await? {
            if !self.conversations.contains_key(&conversation_id) {
                let events = self.store.events_after(&conversation_id, 0).await?;
                if events.is_empty() {
                    // Never started (see `restore`).
                    continue;
                }
                self.conversations.insert(
                    conversation_id.clone(),
                    Conversation {
                        state: conversation::fold(&events),
                        visitor_id: visitor_id.to_owned(),
                        read_seq: 0,
                    },
                );
            }
            ids.push(conversation_id);
        }
        self.visitor_conversations
            .insert(visitor_id.to_owned(), ids);
        self.recency.touch(visitor_id);
        Ok(())
    }

    /// Drops visitors from memory, least recently seen first, while there are more than
    /// `visitors_in_memory`: their profile, their conversation list and their conversations'
    /// folded state (all of it is in the store). A visitor who is connected or has a queued
    /// or served chat is kept (and counted as seen now, so the next look starts past them).
    fn evict(&mut self) {
        let cap = self.settings.visitors_in_memory;
        let mut kept = 0;
        while self.recency.len() > cap && kept < EVICTION_SCAN.min(self.recency.len()) {
            let Some(visitor_id) = self.recency.oldest() else {
                break;
            };
            let ids = self
                .visitor_conversations
                .get(&visitor_id)
                .cloned()
                .unwrap_or_default();
            let busy = self.customers.has_owner(&visitor_id)
                || ids.iter().any(|id| {
                    self.conversations
                        .get(id)
                        .is_some_and(|c| matches!(c.state.phase, Phase::Queued | Phase::Human))
                });
            if busy {
                self.recency.touch(&visitor_id);
                kept += 1;
                continue;
            }
            for id in &ids {
                self.conversations.remove(id);
            }
            self.visitor_conversations.remove(&visitor_id);
            self.visitor_profiles.remove(&visitor_id);
            self.queue_visitor_gone_since.remove(&visitor_id);
            self.recency.remove(&visitor_id);
        }
    }

    /// Publishes the sizes of the live maps as gauges of `/metrics`.
    fn publish_sizes(&self) {
        Metrics::set(
            &self.metrics.live_visitors,
            self.visitor_conversations.len() as u64,
        );
        Metrics::set(
            &self.metrics.live_visitors_cap,
            self.settings.visitors_in_memory as u64,
        );
        Metrics::set(
            &self.metrics.live_conversations,
            self.conversations.len() as u64,
        );
        Metrics::set(&self.metrics.live_queued, self.queues.len() as u64);
    }

    async fn run(mut self, mut requests: mpsc::Receiver<Request>) {
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                request = requests.recv() => match request {
                    Some(request) => self.handle(request).await,
                    None => break,
                },
                _ = tick.tick() => self.tick().await,
            }
            self.publish_sizes();
        }
    }

    async fn handle(&mut self, request: Request) {
        match request {
            Request::CustomerHello {
                conn,
                hello,
                outbox,
                reply,
            } => {
                let result = self.customer_hello(conn, hello, outbox).await;
                let _ = reply.send(result);
            }
            Request::CustomerFrame { conn, frame } => self.customer_frame(conn, frame).await,
            Request::CustomerGone { conn } => {
                let visitor_id = self.customers.get(&conn).map(|c| c.visitor_id.clone());
                self.customers.remove(&conn);
                // The visitor's last tab closed: their agent sees them offline (the rule's
                // idle timeout then ends the chat and frees the slot, as for any silence).
                if let Some(visitor_id) = visitor_id
                    && !self.customers.has_owner(&visitor_id)
                    && let Some(conversation_id) = self.current_conversation(&visitor_id).cloned()
                    && let Err(error) = self.resend_to_agent(&conversation_id).await
                {
                    tracing::warn!(error = format!("{error:#}"), "could not tell the agent");
                }
                self.evict();
            }
            Request::AgentHello {
                conn,
                session_token,
                resume,
                outbox,
                reply,
            } => {
                let result = self.agent_hello(conn, session_token, resume, outbox).await;
                let _ = reply.send(result);
            }
            Request::AgentFrame { conn, frame } => self.agent_frame(conn, frame).await,
            Request::AgentGone { conn } => self.agent_gone(conn),
            Request::Tick { done } => {
                self.tick().await;
                let _ = done.send(());
            }
            Request::Reload { done } => {
                self.reload().await;
                let _ = done.send(());
            }
            Request::SessionRevoked { session_token } => {
                let conns: Vec<ConnId> = self
                    .agent_conns
                    .iter()
                    .filter(|(_, agent_conn)| agent_conn.session_token == session_token)
                    .map(|(conn, _)| *conn)
                    .collect();
                for conn in conns {
                    if let Some(agent_conn) = self.agent_conns.remove(&conn) {
                        agent_conn.outbox.end(Ending::session_ended());
                        // Gone as far as routing is concerned, as after a disconnect: no
                        // new chats, and its chats go back to the queue after the grace period.
                        if !self.agent_conns.has_owner(&agent_conn.agent_id)
                            && let Some(live) = self.agents.get_mut(&agent_conn.agent_id)
                        {
                            live.disconnected_at.get_or_insert(self.clock.now_ms());
                        }
                    }
                }
            }
        }
    }

    // ---- customers ----------------------------------------------------------------------

    async fn customer_hello(
        &mut self,
        conn: ConnId,
        hello: CustomerHello,
        outbox: Outbox,
    ) -> Result<(String, Hello), FrameError> {
        let now = self.clock.now_ms();
        let hello_locale = hello.locale.clone();
        let (user, verified) = match hello.user {
            Some(mut user) => {
                let verified = match &user.user_hash {
                    Some(hash)
                        if crate::auth::verify_user_hash(
                            &self.settings.identity_secret,
                            &user.id,
                            hash,
                        ) =>
                    {
                        true
                    }
                    Some(_) => {
                        return Err(FrameError::new(
                            ErrorCode::Unauthorized,
                            "the user identity's userHash does not match its id",
                        ));
                    }
                    None if self.settings.require_verified_identity => {
                        return Err(FrameError::new(
                            ErrorCode::Unauthorized,
                            "this site accepts only verified user ids: pass userHash",
                        ));
                    }
                    None => false,
                };
                // The hash has done its work; agents get the verdict, not the hash.
                user.user_hash = None;
                (Some(user), verified)
            }
            None => (None, false),
        };
        let visitor = match &hello.visitor_token {
            Some(token) => self
                .store
                .visit(token, &serde_json::Value::Null, now)
                .await
                .map_err(internal)?,
            None => None,
        };
        let (record, visitor_token) = match (visitor, hello.visitor_token) {
            (Some(visitor), Some(token)) => (visitor, token),
            // No token, or one this server never issued: a new visitor (never someone else's).
            _ => self
                .store
                .create_visitor(&serde_json::Value::Null, now)
                .await
                .map_err(internal)?,
        };
        let visitor_id = record.id.clone();
        // Back in memory if they were evicted, and seen now.
        self.load_visitor(&visitor_id).await.map_err(internal)?;
        self.recency.touch(&visitor_id);
        self.queue_visitor_gone_since.remove(&visitor_id);
        let conversation_ids = self
            .visitor_conversations
            .get(&visitor_id)
            .cloned()
            .unwrap_or_default();
        let current = conversation_ids.last().cloned();
        let previous_conversations = self
            .past_conversations(&conversation_ids, current.as_deref())
            .await
            .map_err(internal)?;
        let profile = VisitorProfile {
            visitor_id: visitor_id.clone(),
            user,
            page: hello.page,
            locale: hello_locale.clone(),
            verified,
            browser: hello.browser,
            first_seen: Some(record.first_seen),
            visits: u32::try_from(record.visits).unwrap_or(u32::MAX),
            previous_conversations,
            // Set per summary from the connections (see `summary`).
            online: false,
        };
        // `Kefu.setUser` and a language switch reach the server as a new `hello`: the agent
        // serving the visitor gets the chat again with the new profile, at once.
        let changed = self
            .visitor_profiles
            .get(&visitor_id)
            .is_some_and(|before| {
                (&before.user, before.verified, &before.locale)
                    != (&profile.user, profile.verified, &profile.locale)
            });
        self.visitor_profiles.insert(visitor_id.clone(), profile);
        // Coming back (no other tab was connected) shows the visitor online again.
        let returned = !self.customers.has_owner(&visitor_id);
        let group = self
            .config
            .resolve_group(hello.group.as_deref())
            .map(|group| (group.name.clone(), group.display_name.clone()));
        let (group, _) = group.unwrap_or_default();
        let texts = self.config.texts_for(&group, hello_locale.as_deref());
        let welcome = ServerFrame::Welcome {
            visitor_token,
            visitor_id: visitor_id.clone(),
            conversation_id: current.clone(),
            group_display_name: texts.chat_title,
            service_mode: self.config.service.mode,
            transfer_button: self.config.service.robot.transfer_button
                && self.config.service.mode == ServiceMode::RobotFirst,
            server_time: now,
            greeting: texts.greeting,
        };
        let mut first = vec![welcome];
        // History: the events of the visitor's recent conversations the client has not seen.
        let start = conversation_ids.len().saturating_sub(HISTORY_CONVERSATIONS);
        for conversation_id in &conversation_ids[start..] {
            let after_seq = hello
                .resume
                .iter()
                .find(|cursor| &cursor.conversation_id == conversation_id)
                .map_or(0, |cursor| cursor.after_seq);
            let events = self
                .store
                .events_after(conversation_id, after_seq)
                .await
                .map_err(internal)?;
            for event in events {
                first.push(ServerFrame::Event {
                    conversation_id: conversation_id.clone(),
                    event,
                });
            }
        }
        if let Some(conversation_id) = &current
            && let Some(position) = self.queues.position(conversation_id)
        {
            first.push(ServerFrame::QueuePosition {
                conversation_id: conversation_id.clone(),
                position,
            });
        }
        self.customers.insert(
            conn,
            CustomerConn {
                visitor_id: visitor_id.clone(),
                group,
                outbox,
            },
        );
        if (changed || returned)
            && let Some(conversation_id) = &current
        {
            self.resend_to_agent(conversation_id)
                .await
                .map_err(internal)?;
        }
        Ok((visitor_id, first))
    }

    /// The visitor's earlier conversations for the agent's customer info, newest first: all
    /// but the one in progress (`current`, unless it has ended).
    async fn past_conversations(
        &self,
        conversation_ids: &[String],
        current: Option<&str>,
    ) -> Result<Vec<PastConversation>> {
        let mut past = Vec::new();
        for conversation_id in conversation_ids.iter().rev() {
            if past.len() == MAX_PAST_CONVERSATIONS {
                break;
            }
            let Some(conversation) = self.conversations.get(conversation_id) else {
                continue;
            };
            let state = &conversation.state;
            if Some(conversation_id.as_str()) == current && state.phase != Phase::Ended {
                continue;
            }
            let events = self.store.events_after(conversation_id, 0).await?;
            let first_message = events
                .iter()
                .find_map(|event| match &event.body {
                    EventBody::CustomerMessage { text, .. } => {
                        Some(text.chars().take(PAST_PREVIEW_CHARS).collect())
                    }
                    _ => None,
                })
                .unwrap_or_default();
            past.push(PastConversation {
                conversation_id: conversation_id.clone(),
                started_at: state.started_at.unwrap_or_default(),
                ended_at: state.ended_at,
                group: state.group.clone(),
                first_message,
            });
        }
        Ok(past)
    }

    async fn customer_frame(&mut self, conn: ConnId, frame: CustomerFrame) {
        let Some(customer) = self.customers.get(&conn) else {
            return;
        };
        let visitor_id = customer.visitor_id.clone();
        let group = customer.group.clone();
        let outbox = customer.outbox.clone();
        match frame {
            CustomerFrame::Hello { .. } => {
                send(
                    &outbox,
                    error_frame(ErrorCode::InvalidState, "hello was already received", None),
                );
            }
            CustomerFrame::Send {
                client_msg_id,
                text,
            } => {
                let command = Command::CustomerMessage {
                    client_msg_id: client_msg_id.clone(),
                    text,
                };
                self.customer_command(
                    &visitor_id,
                    &outbox,
                    command,
                    Some(client_msg_id),
                    Some(&group),
                )
                .await;
            }
            CustomerFrame::Transfer { client_msg_id } => {
                self.customer_command(
                    &visitor_id,
                    &outbox,
                    Command::RequestTransfer,
                    client_msg_id,
                    Some(&group),
                )
                .await;
            }
            CustomerFrame::End {} => {
                self.customer_command(&visitor_id, &outbox, Command::EndByCustomer, None, None)
                    .await;
            }
            CustomerFrame::Typing { typing } => {
                let current = self.current_conversation(&visitor_id);
                if let Some(conversation) = current.and_then(|id| self.conversations.get(id))
                    && let Some(agent_id) = conversation.state.agent_id()
                {
                    let frame = ServerFrame::Typing {
                        conversation_id: conversation.state.conversation_id.clone(),
                        from: TypingParty::Customer,
                        typing,
                    };
                    self.send_to_agent(agent_id, &frame);
                }
            }
            CustomerFrame::Read {
                conversation_id,
                seq,
            } => {
                // Only the visitor's own conversations, only forward, never past the log.
                let owned = self
                    .visitor_conversations
                    .get(&visitor_id)
                    .is_some_and(|ids| ids.contains(&conversation_id));
                let Some(conversation) = self
                    .conversations
                    .get_mut(&conversation_id)
                    .filter(|_| owned)
                else {
                    send(
                        &outbox,
                        error_frame(ErrorCode::NotFound, "no such conversation", None),
                    );
                    return;
                };
                let seq = seq.min(conversation.state.last_seq);
                if seq <= conversation.read_seq {
                    return;
                }
                conversation.read_seq = seq;
                if let Some(agent_id) = conversation.state.agent_id().map(str::to_owned) {
                    let frame = ServerFrame::Read {
                        conversation_id,
                        seq,
                    };
                    self.send_to_agent(&agent_id, &frame);
                }
            }
            CustomerFrame::Vote {
                conversation_id,
                seq,
                verdict,
            } => {
                let owned = self
                    .visitor_conversations
                    .get(&visitor_id)
                    .is_some_and(|ids| ids.contains(&conversation_id));
                let event = if owned {
                    match self.store.event_at(&conversation_id, seq).await {
                        Ok(event) => event,
                        Err(error) => return send(&outbox, internal_frame(error, None)),
                    }
                } else {
                    None
                };
                let vote = kefu_core::feedback::decide_vote(
                    &conversation_id,
                    owned,
                    seq,
                    event.as_ref(),
                    verdict,
                );
                match vote {
                    Ok(vote) => {
                        if let Err(error) = self.store.record_vote(&vote, self.clock.now_ms()).await
                        {
                            send(&outbox, internal_frame(error, None));
                        }
                    }
                    Err(refusal) => send(
                        &outbox,
                        error_frame(refusal.error_code(), &refusal.to_string(), None),
                    ),
                }
            }
            CustomerFrame::Ping {} => send(&outbox, ServerFrame::Pong {}),
        }
    }

    fn current_conversation(&self, visitor_id: &str) -> Option<&String> {
        self.visitor_conversations
            .get(visitor_id)
            .and_then(|ids| ids.last())
    }

    /// Runs a customer's command against their current conversation, starting a new one in
    /// the group `start_in` when there is none or the last has ended (a question or the
    /// transfer button starts one; pressing "end" on nothing does not: `None`).
    async fn customer_command(
        &mut self,
        visitor_id: &str,
        outbox: &Outbox,
        command: Command,
        client_msg_id: Option<String>,
        start_in: Option<&str>,
    ) {
        let now = self.clock.now_ms();
        // A retried send whose first copy was stored in the previous conversation is
        // acknowledged again, not stored twice.
        if let (Some(id), Command::CustomerMessage { .. }) = (&client_msg_id, &command) {
            for conversation_id in self
                .visitor_conversations
                .get(visitor_id)
                .into_iter()
                .flatten()
                .rev()
                .take(2)
            {
                if let Some(seq) = self
                    .conversations
                    .get(conversation_id)
                    .and_then(|c| c.state.customer_client_msg_ids.get(id))
                {
                    send(
                        outbox,
                        ServerFrame::Ack {
                            client_msg_id: id.clone(),
                            conversation_id: conversation_id.clone(),
                            seq: *seq,
                        },
                    );
                    return;
                }
            }
        }
        let current = self.current_conversation(visitor_id).cloned();
        let open = current.filter(|id| {
            self.conversations
                .get(id)
                .is_some_and(|c| !c.state.is_ended())
        });
        let (conversation_id, mut state, mut events) = match open {
            Some(id) => {
                let state = self.conversations[&id].state.clone();
                (id, state, Vec::new())
            }
            None if start_in.is_some() => {
                // The group asked for in `hello`, unless a saved configuration removed it since.
                let Some(group) = self
                    .config
                    .resolve_group(start_in)
                    .map(|group| group.name.clone())
                else {
                    send(
                        outbox,
                        error_frame(
                            ErrorCode::Internal,
                            "the service has no skill group configured",
                            client_msg_id,
                        ),
                    );
                    return;
                };
                let conversation_id = crate::auth::random_id();
                let start = Command::Start {
                    conversation_id: conversation_id.clone(),
                    visitor_id: visitor_id.to_owned(),
                    group: group.clone(),
                };
                let settings = self.conversation_settings(&group, Some(visitor_id));
                let ctx = Ctx {
                    now,
                    settings: &settings,
                    availability: Availability::default(),
                    robot: None,
                };
                let started = match conversation::decide(&State::default(), &start, &ctx) {
                    Ok(events) => events,
                    Err(rejection) => {
                        send(outbox, rejection_frame(&rejection, client_msg_id));
                        return;
                    }
                };
                (conversation_id, conversation::fold(&started), started)
            }
            None => {
                send(
                    outbox,
                    error_frame(
                        ErrorCode::InvalidState,
                        "there is no conversation in progress",
                        client_msg_id,
                    ),
                );
                return;
            }
        };
        let group = state.group.clone();
        let settings = self.conversation_settings(&group, Some(visitor_id));
        let availability = self.availability(&group, now);
        let robot_result = match (&command, state.phase) {
            (Command::CustomerMessage { text, .. }, Phase::Robot)
                if settings.mode != ServiceMode::HumanOnly =>
            {
                Some(self.robot.get().ask(text))
            }
            _ => None,
        };
        let ctx = Ctx {
            now,
            settings: &settings,
            availability,
            robot: robot_result.as_ref(),
        };
        match conversation::decide(&state, &command, &ctx) {
            Ok(decided) => {
                for event in &decided {
                    state.apply(event);
                }
                events.extend(decided);
            }
            Err(Rejection::Duplicate { seq }) => {
                if let Some(id) = client_msg_id {
                    send(
                        outbox,
                        ServerFrame::Ack {
                            client_msg_id: id,
                            conversation_id,
                            seq,
                        },
                    );
                }
                return;
            }
            Err(rejection) => {
                send(outbox, rejection_frame(&rejection, client_msg_id));
                return;
            }
        }
        let is_new = !self.conversations.contains_key(&conversation_id);
        if is_new {
            if let Err(error) = self
                .store
                .create_conversation(&conversation_id, visitor_id, &group, now)
                .await
            {
                send(outbox, internal_frame(error, client_msg_id));
                return;
            }
            Metrics::add(&self.metrics.conversations_started, 1);
            self.visitor_conversations
                .entry(visitor_id.to_owned())
                .or_default()
                .push(conversation_id.clone());
            self.conversations.insert(
                conversation_id.clone(),
                Conversation {
                    state: State::default(),
                    visitor_id: visitor_id.to_owned(),
                    read_seq: 0,
                },
            );
        }
        let ack_seq = client_msg_id
            .as_ref()
            .and_then(|id| state.customer_client_msg_ids.get(id).copied());
        if let Err(error) = self.commit(&conversation_id, events).await {
            if is_new {
                // Its `started` was not stored: forget it, so the retry starts a conversation
                // instead of meeting one that can never start.
                self.conversations.remove(&conversation_id);
                if let Some(ids) = self.visitor_conversations.get_mut(visitor_id) {
                    ids.retain(|id| *id != conversation_id);
                }
            }
            send(outbox, internal_frame(error, client_msg_id));
            return;
        }
        if is_new {
            // The conversation that just ended (if any) is now history for the agent who
            // takes this one.
            let conversation_ids = self
                .visitor_conversations
                .get(visitor_id)
                .cloned()
                .unwrap_or_default();
            match self
                .past_conversations(&conversation_ids, Some(&conversation_id))
                .await
            {
                Ok(past) => {
                    if let Some(profile) = self.visitor_profiles.get_mut(visitor_id) {
                        profile.previous_conversations = past;
                    }
                }
                Err(error) => tracing::warn!(
                    error = format!("{error:#}"),
                    "reading a visitor's past conversations failed"
                ),
            }
        }
        if let (Some(id), Some(seq)) = (client_msg_id, ack_seq) {
            send(
                outbox,
                ServerFrame::Ack {
                    client_msg_id: id,
                    conversation_id,
                    seq,
                },
            );
        }
        self.route().await;
    }

    // ---- agents -------------------------------------------------------------------------

    async fn agent_hello(
        &mut self,
        conn: ConnId,
        session_token: String,
        resume: Vec<ResumeCursor>,
        outbox: Outbox,
    ) -> Result<Hello, FrameError> {
        let now = self.clock.now_ms();
        let record = self
            .store
            .agent_for_session(&session_token, now)
            .await
            .map_err(internal)?
            .ok_or_else(|| {
                FrameError::new(
                    ErrorCode::Unauthorized,
                    "the session token is not valid; log in again",
                )
            })?;
        let agent_id = record.id.clone();
        let live = self
            .agents
            .entry(agent_id.clone())
            .or_insert_with(|| AgentLive {
                record: record.clone(),
                status: AgentStatus::Offline,
                idle_since: now,
                disconnected_at: None,
            });
        live.record = record;
        live.disconnected_at = None;
        let profile = agent_profile(live);
        let conversation_ids: Vec<String> = self
            .assigned
            .get(&agent_id)
            .map(|ids| ids.iter().cloned().collect())
            .unwrap_or_default();
        let summaries: Vec<ConversationSummary> = conversation_ids
            .iter()
            .filter_map(|id| self.summary(id))
            .collect();
        let groups = self
            .config
            .skill_groups
            .iter()
            .map(|group| GroupChoice {
                name: group.name.clone(),
                display_name: group.display_name.clone(),
            })
            .collect();
        let mut first = vec![ServerFrame::AgentWelcome {
            agent: profile,
            conversations: summaries.clone(),
            server_time: now,
            groups,
        }];
        for summary in summaries {
            let after_seq = resume
                .iter()
                .find(|cursor| cursor.conversation_id == summary.conversation_id)
                .map_or(0, |cursor| cursor.after_seq);
            let events = self
                .store
                .events_after(&summary.conversation_id, after_seq)
                .await
                .map_err(internal)?;
            if after_seq == 0 {
                first.extend(snapshot_frames(summary, events));
            } else {
                for event in events {
                    first.push(ServerFrame::Event {
                        conversation_id: summary.conversation_id.clone(),
                        event,
                    });
                }
            }
        }
        self.agent_conns.insert(
            conn,
            AgentConn {
                agent_id,
                session_token,
                outbox,
            },
        );
        Ok(first)
    }

    async fn agent_frame(&mut self, conn: ConnId, frame: AgentFrame) {
        let Some(agent_conn) = self.agent_conns.get(&conn) else {
            return;
        };
        let agent_id = agent_conn.agent_id.clone();
        let outbox = agent_conn.outbox.clone();
        match frame {
            AgentFrame::Hello { .. } => send(
                &outbox,
                error_frame(ErrorCode::InvalidState, "hello was already received", None),
            ),
            AgentFrame::SetStatus { status } => {
                if let Some(live) = self.agents.get_mut(&agent_id) {
                    live.status = status;
                }
                self.send_to_agent(&agent_id, &ServerFrame::AgentStatus { status });
                if status == AgentStatus::Offline {
                    self.requeue_chats_of(&agent_id).await;
                }
                self.route().await;
            }
            AgentFrame::Send {
                conversation_id,
                client_msg_id,
                text,
            } => {
                let command = Command::AgentMessage {
                    agent_id: agent_id.clone(),
                    client_msg_id: client_msg_id.clone(),
                    text,
                };
                self.agent_command(
                    &agent_id,
                    &outbox,
                    &conversation_id,
                    command,
                    Some(client_msg_id),
                )
                .await;
            }
            AgentFrame::End { conversation_id } => {
                let command = Command::EndByAgent {
                    agent_id: agent_id.clone(),
                };
                self.agent_command(&agent_id, &outbox, &conversation_id, command, None)
                    .await;
            }
            AgentFrame::TransferToGroup {
                conversation_id,
                group,
            } => {
                let command = Command::TransferToGroup {
                    agent_id: agent_id.clone(),
                    group,
                };
                self.agent_command(&agent_id, &outbox, &conversation_id, command, None)
                    .await;
            }
            AgentFrame::Typing {
                conversation_id,
                typing,
            } => {
                let serves = self
                    .conversations
                    .get(&conversation_id)
                    .is_some_and(|c| c.state.agent_id() == Some(agent_id.as_str()));
                if serves {
                    let frame = ServerFrame::Typing {
                        conversation_id: conversation_id.clone(),
                        from: TypingParty::Agent,
                        typing,
                    };
                    let visitor_id = self.conversations[&conversation_id].visitor_id.clone();
                    self.send_to_visitor(&visitor_id, &frame);
                }
            }
            AgentFrame::Ping {} => send(&outbox, ServerFrame::Pong {}),
        }
    }

    /// Runs an agent's command on a conversation. An agent may act only on conversations
    /// assigned to them; any other id gets `not_found`, so ids cannot be probed.
    async fn agent_command(
        &mut self,
        agent_id: &str,
        outbox: &Outbox,
        conversation_id: &str,
        command: Command,
        client_msg_id: Option<String>,
    ) {
        let now = self.clock.now_ms();
        // An ended chat of an evicted visitor is read back, so the agent gets the same answer
        // as before the eviction.
        if !self.conversations.contains_key(conversation_id)
            && let Ok(Some(visitor_id)) = self.store.visitor_of_conversation(conversation_id).await
            && let Err(error) = self.load_visitor(&visitor_id).await
        {
            send(outbox, internal_frame(error, client_msg_id));
            return;
        }
        let Some(conversation) = self.conversations.get(conversation_id) else {
            send(
                outbox,
                error_frame(ErrorCode::NotFound, "no such conversation", client_msg_id),
            );
            return;
        };
        let mut state = conversation.state.clone();
        // An ended conversation this agent served is answered by the state machine
        // (`invalid_state`: it has ended); any other conversation not assigned to the agent
        // is `not_found`.
        let served_and_ended = state.is_ended() && state.served_by.contains(agent_id);
        if state.agent_id() != Some(agent_id) && !served_and_ended {
            // Duplicates of an already stored message are still acknowledged, even after the end.
            if let Some(id) = &client_msg_id
                && let Some(seq) = state
                    .agent_client_msg_ids
                    .get(&(agent_id.to_owned(), id.clone()))
            {
                send(
                    outbox,
                    ServerFrame::Ack {
                        client_msg_id: id.clone(),
                        conversation_id: conversation_id.to_owned(),
                        seq: *seq,
                    },
                );
                return;
            }
            send(
                outbox,
                error_frame(ErrorCode::NotFound, "no such conversation", client_msg_id),
            );
            return;
        }
        let target_group = match &command {
            Command::TransferToGroup { group, .. } => group.clone(),
            _ => state.group.clone(),
        };
        if self.config.skill_group(&target_group).is_none() {
            send(
                outbox,
                error_frame(ErrorCode::NotFound, "no such skill group", client_msg_id),
            );
            return;
        }
        let visitor_id = conversation.visitor_id.clone();
        let settings = self.conversation_settings(&target_group, Some(&visitor_id));
        let availability = self.availability(&target_group, now);
        let ctx = Ctx {
            now,
            settings: &settings,
            availability,
            robot: None,
        };
        let events = match conversation::decide(&state, &command, &ctx) {
            Ok(events) => events,
            Err(Rejection::Duplicate { seq }) => {
                if let Some(id) = client_msg_id {
                    send(
                        outbox,
                        ServerFrame::Ack {
                            client_msg_id: id,
                            conversation_id: conversation_id.to_owned(),
                            seq,
                        },
                    );
                }
                return;
            }
            Err(rejection) => {
                send(outbox, rejection_frame(&rejection, client_msg_id));
                return;
            }
        };
        for event in &events {
            state.apply(event);
        }
        let ack_seq = client_msg_id.as_ref().and_then(|id| {
            state
                .agent_client_msg_ids
                .get(&(agent_id.to_owned(), id.clone()))
                .copied()
        });
        if let Err(error) = self.commit(conversation_id, events).await {
            send(outbox, internal_frame(error, client_msg_id));
            return;
        }
        if let (Some(id), Some(seq)) = (client_msg_id, ack_seq) {
            send(
                outbox,
                ServerFrame::Ack {
                    client_msg_id: id,
                    conversation_id: conversation_id.to_owned(),
                    seq,
                },
            );
        }
        self.route().await;
    }

    fn agent_gone(&mut self, conn: ConnId) {
        let Some(agent_conn) = self.agent_conns.remove(&conn) else {
            return;
        };
        let still_connected = self.agent_conns.has_owner(&agent_conn.agent_id);
        if !still_connected && let Some(live) = self.agents.get_mut(&agent_conn.agent_id) {
            live.disconnected_at = Some(self.clock.now_ms());
        }
    }

    /// Moves an agent's chats back to the queue (the agent went offline or stayed away).
    async fn requeue_chats_of(&mut self, agent_id: &str) {
        let now = self.clock.now_ms();
        let ids: Vec<String> = self
            .assigned
            .get(agent_id)
            .map(|ids| ids.iter().cloned().collect())
            .unwrap_or_default();
        for conversation_id in ids {
            let Some(conversation) = self.conversations.get(&conversation_id) else {
                continue;
            };
            let group = conversation.state.group.clone();
            let settings = self.conversation_settings(&group, Some(&conversation.visitor_id));
            let ctx = Ctx {
                now,
                settings: &settings,
                availability: self.availability(&group, now),
                robot: None,
            };
            let command = Command::AgentOffline {
                agent_id: agent_id.to_owned(),
            };
            match conversation::decide(&conversation.state, &command, &ctx) {
                Ok(events) => {
                    if let Err(error) = self.commit(&conversation_id, events).await {
                        tracing::error!(
                            error = format!("{error:#}"),
                            conversation_id,
                            "re-queue failed"
                        );
                    }
                }
                Err(rejection) => tracing::warn!(%rejection, conversation_id, "re-queue refused"),
            }
        }
    }

    // ---- shared machinery ---------------------------------------------------------------

    /// Appends events durably, then applies them and tells everyone concerned. Nothing is
    /// applied or sent when the append fails: the client gets an error and may retry.
    async fn commit(&mut self, conversation_id: &str, events: Vec<Event>) -> Result<()> {
        if events.is_empty() {
            return Ok(());
        }
        self.store
            .append_events(conversation_id, &events)
            .await
            .context("appending events")?;
        Metrics::add(&self.metrics.events_appended, events.len() as u64);
        let conversation = self
            .conversations
            .get_mut(conversation_id)
            .context("committing to an unknown conversation")?;
        let visitor_id = conversation.visitor_id.clone();
        for event in &events {
            let previous_agent = conversation.state.agent_id().map(str::to_owned);
            conversation.state.apply(event);
            let state = &conversation.state;
            // Keep the indexes in step with the state.
            match &event.body {
                EventBody::Queued { group } => self.queues.push(QueueEntry {
                    conversation_id: conversation_id.to_owned(),
                    group: group.clone(),
                    queued_at: event.at,
                }),
                EventBody::Requeued { .. } => self.queues.push(QueueEntry {
                    conversation_id: conversation_id.to_owned(),
                    group: state.group.clone(),
                    queued_at: event.at,
                }),
                EventBody::AgentAssigned { agent_id, .. } => {
                    self.queues.remove(conversation_id);
                    self.assigned
                        .entry(agent_id.clone())
                        .or_default()
                        .insert(conversation_id.to_owned());
                }
                EventBody::Ended { .. } => {
                    self.queues.remove(conversation_id);
                }
                _ => {}
            }
            if let Some(previous) = &previous_agent
                && state.agent_id() != Some(previous.as_str())
                && let Some(ids) = self.assigned.get_mut(previous)
            {
                ids.remove(conversation_id);
            }
            let frame = ServerFrame::Event {
                conversation_id: conversation_id.to_owned(),
                event: event.clone(),
            };
            for conn in self.customers.of(&visitor_id) {
                send(&conn.outbox, frame.clone());
            }
            // The agent serving the conversation sees every event; one who just lost it sees
            // the event that took it away. A newly assigned agent gets the whole log instead.
            let recipient = match (&event.body, &previous_agent) {
                (EventBody::AgentAssigned { .. }, _) => None,
                (_, Some(previous)) => Some(previous.clone()),
                (_, None) => state.agent_id().map(str::to_owned),
            };
            if let Some(agent_id) = recipient {
                for conn in self.agent_conns.of(&agent_id) {
                    send(&conn.outbox, frame.clone());
                }
            }
        }
        let assigned_now = events.iter().rev().find_map(|event| match &event.body {
            EventBody::AgentAssigned { agent_id, .. } => Some(agent_id.clone()),
            _ => None,
        });
        if let Some(agent_id) = assigned_now
            && self.conversations[conversation_id].state.agent_id() == Some(agent_id.as_str())
        {
            let all = self
                .store
                .events_after(conversation_id, 0)
                .await
                .context("loading the log for a snapshot")?;
            if let Some(summary) = self.summary(conversation_id) {
                for frame in snapshot_frames(summary, all) {
                    self.send_to_agent(&agent_id, &frame);
                }
            }
        }
        Ok(())
    }

    /// Assigns waiting conversations to agents with free capacity, then tells every waiting
    /// customer their place in line.
    async fn route(&mut self) {
        let now = self.clock.now_ms();
        let loads = self.agent_loads();
        for assignment in routing::plan_assignments(&loads, &self.queues, now) {
            let Some(conversation) = self.conversations.get(&assignment.conversation_id) else {
                continue;
            };
            let settings =
                self.conversation_settings(&assignment.group, Some(&conversation.visitor_id));
            let ctx = Ctx {
                now,
                settings: &settings,
                availability: self.availability(&assignment.group, now),
                robot: None,
            };
            let command = Command::AssignAgent {
                agent_id: assignment.agent_id.clone(),
                agent_name: assignment.agent_name.clone(),
            };
            match conversation::decide(&conversation.state, &command, &ctx) {
                Ok(events) => match self.commit(&assignment.conversation_id, events).await {
                    Ok(()) => {
                        if let Some(live) = self.agents.get_mut(&assignment.agent_id) {
                            live.idle_since = now;
                        }
                    }
                    Err(error) => {
                        tracing::error!(error = format!("{error:#}"), "assignment failed")
                    }
                },
                Err(rejection) => {
                    tracing::warn!(%rejection, conversation_id = assignment.conversation_id, "assignment refused");
                    self.queues.remove(&assignment.conversation_id);
                }
            }
        }
        for (conversation_id, position) in self.queues.positions() {
            if let Some(conversation) = self.conversations.get(&conversation_id) {
                let frame = ServerFrame::QueuePosition {
                    conversation_id: conversation_id.clone(),
                    position,
                };
                let visitor_id = conversation.visitor_id.clone();
                self.send_to_visitor(&visitor_id, &frame);
            }
        }
    }

    /// Idle timeouts, agents who stayed disconnected past the grace period, and knowledge
    /// changed by another process (`kefu kb import`).
    async fn tick(&mut self) {
        self.reload_knowledge_if_changed().await;
        let now = self.clock.now_ms();
        let grace = i64::from(self.settings.agent_disconnect_grace_seconds) * 1000;
        let gone: Vec<String> = self
            .agents
            .iter()
            .filter(|(agent_id, live)| {
                live.disconnected_at.is_some_and(|at| now - at >= grace)
                    && self
                        .assigned
                        .get(*agent_id)
                        .is_some_and(|ids| !ids.is_empty())
            })
            .map(|(agent_id, _)| agent_id.clone())
            .collect();
        for agent_id in gone {
            if let Some(live) = self.agents.get_mut(&agent_id) {
                live.status = AgentStatus::Offline;
            }
            self.requeue_chats_of(&agent_id).await;
        }
        let human: Vec<String> = self.assigned.values().flatten().cloned().collect();
        for conversation_id in human {
            let Some(conversation) = self.conversations.get(&conversation_id) else {
                continue;
            };
            let group = conversation.state.group.clone();
            let settings = self.conversation_settings(&group, Some(&conversation.visitor_id));
            let ctx = Ctx {
                now,
                settings: &settings,
                availability: Availability::default(),
                robot: None,
            };
            if let Ok(events) = conversation::decide(&conversation.state, &Command::IdleTick, &ctx)
                && !events.is_empty()
                && let Err(error) = self.commit(&conversation_id, events).await
            {
                tracing::error!(
                    error = format!("{error:#}"),
                    conversation_id,
                    "idle timeout failed"
                );
            }
        }
        self.expire_abandoned_queue(now).await;
        if !self.queues.is_empty() {
            self.route().await;
        }
        self.evict();
    }

    /// Ends the queued chats whose visitor has had no connection for
    /// `queue_visitor_grace_seconds` (counted from the first tick that saw them gone), with
    /// kefu-core's [`Command::VisitorLeftQueue`]: the chat leaves the queue (the positions
    /// of those behind it move up) and its visitor sees it ended when they come back.
    async fn expire_abandoned_queue(&mut self, now: i64) {
        let grace = i64::from(self.settings.queue_visitor_grace_seconds) * 1000;
        let mut waiting = HashMap::new();
        for entry in self.queues.entries() {
            if let Some(conversation) = self.conversations.get(&entry.conversation_id)
                && !self.customers.has_owner(&conversation.visitor_id)
            {
                waiting.insert(
                    conversation.visitor_id.clone(),
                    entry.conversation_id.clone(),
                );
            }
        }
        // Visitors who came back or whose chat left the queue are forgotten.
        self.queue_visitor_gone_since
            .retain(|visitor_id, _| waiting.contains_key(visitor_id));
        let mut expired = Vec::new();
        for (visitor_id, conversation_id) in waiting {
            let since = *self
                .queue_visitor_gone_since
                .entry(visitor_id)
                .or_insert(now);
            if now - since >= grace {
                expired.push(conversation_id);
            }
        }
        for conversation_id in expired {
            let Some(conversation) = self.conversations.get(&conversation_id) else {
                continue;
            };
            let visitor_id = conversation.visitor_id.clone();
            let settings = self.conversation_settings(&conversation.state.group, Some(&visitor_id));
            let ctx = Ctx {
                now,
                settings: &settings,
                availability: Availability::default(),
                robot: None,
            };
            match conversation::decide(&conversation.state, &Command::VisitorLeftQueue, &ctx) {
                Ok(events) => {
                    if let Err(error) = self.commit(&conversation_id, events).await {
                        tracing::error!(
                            error = format!("{error:#}"),
                            conversation_id,
                            "ending an abandoned queued chat failed"
                        );
                    } else {
                        self.queue_visitor_gone_since.remove(&visitor_id);
                    }
                }
                Err(rejection) => {
                    tracing::warn!(%rejection, conversation_id, "abandoned queued chat not ended")
                }
            }
        }
    }

    /// Reads the service configuration, the agents and the knowledge from the store again
    /// (an admin saved them), then routes: a raised capacity takes waiting chats at once.
    /// Disabled agents lose their connections and their chats go back to the queue.
    async fn reload(&mut self) {
        match self.store.service_config().await {
            Ok(Some(config)) => {
                self.shared_config.set(config.clone());
                self.config = config;
            }
            Ok(None) => {}
            Err(error) => tracing::error!(
                error = format!("{error:#}"),
                "reloading the service configuration failed"
            ),
        }
        let now = self.clock.now_ms();
        match self.store.list_agents().await {
            Ok(records) => {
                let mut disabled = Vec::new();
                for record in records {
                    if record.disabled {
                        disabled.push(record.id.clone());
                    }
                    match self.agents.get_mut(&record.id) {
                        Some(live) => live.record = record,
                        None => {
                            let id = record.id.clone();
                            self.agents.insert(
                                id,
                                AgentLive {
                                    record,
                                    status: AgentStatus::Offline,
                                    idle_since: now,
                                    disconnected_at: Some(now),
                                },
                            );
                        }
                    }
                }
                for agent_id in disabled {
                    let conns: Vec<ConnId> = self
                        .agent_conns
                        .iter()
                        .filter(|(_, conn)| conn.agent_id == agent_id)
                        .map(|(conn, _)| *conn)
                        .collect();
                    for conn in conns {
                        if let Some(agent_conn) = self.agent_conns.remove(&conn) {
                            agent_conn.outbox.end(Ending::session_ended());
                        }
                    }
                    if let Some(live) = self.agents.get_mut(&agent_id) {
                        live.status = AgentStatus::Offline;
                        live.disconnected_at.get_or_insert(now);
                    }
                    self.requeue_chats_of(&agent_id).await;
                }
            }
            Err(error) => {
                tracing::error!(error = format!("{error:#}"), "reloading the agents failed")
            }
        }
        self.reload_knowledge_if_changed().await;
        self.route().await;
    }

    /// Rebuilds the robot's index when the stored knowledge changed since it was built.
    async fn reload_knowledge_if_changed(&mut self) {
        let version = match self.store.knowledge_version().await {
            Ok(version) if version != self.knowledge_version => version,
            Ok(_) => return,
            Err(error) => {
                tracing::warn!(
                    error = format!("{error:#}"),
                    "reading the knowledge version failed"
                );
                return;
            }
        };
        match self.store.knowledge().await {
            Ok(items) => {
                let items: Vec<_> = items.into_iter().map(|(item, _)| item).collect();
                self.robot.rebuild(&items);
                self.knowledge_version = version;
                tracing::info!(items = items.len(), "knowledge base reloaded");
            }
            Err(error) => tracing::warn!(
                error = format!("{error:#}"),
                "reloading the knowledge base failed"
            ),
        }
    }

    fn agent_loads(&self) -> Vec<AgentLoad> {
        self.agents
            .values()
            .filter(|live| live.disconnected_at.is_none() && !live.record.disabled)
            .map(|live| AgentLoad {
                agent_id: live.record.id.clone(),
                agent_name: live.record.display_name.clone(),
                groups: live.record.groups.clone(),
                status: live.status,
                active_chats: self
                    .assigned
                    .get(&live.record.id)
                    .map_or(0, |ids| ids.len() as u32),
                max_concurrent_chats: live.record.max_chats,
                idle_since: live.idle_since,
            })
            .collect()
    }

    fn availability(&self, group: &str, now: i64) -> Availability {
        let loads = self.agent_loads();
        let rule = self
            .config
            .skill_group(group)
            .and_then(|group| self.config.rule(&group.rule));
        let (open, next_opening) = match rule {
            Some(rule) => (
                kefu_core::hours::is_open_at(&rule.working_hours, now),
                kefu_core::hours::next_opening(&rule.working_hours, now),
            ),
            None => (false, None),
        };
        Availability {
            open,
            next_opening,
            agents_online: routing::agents_online(&loads, group),
            free_capacity: routing::free_capacity(&loads, group),
        }
    }

    /// The settings of a conversation of `group`, with the texts in the language of the
    /// visitor's panel (their last `hello`'s locale).
    fn conversation_settings(
        &self,
        group: &str,
        visitor_id: Option<&str>,
    ) -> kefu_core::conversation::ConversationSettings {
        let locale = visitor_id
            .and_then(|visitor_id| self.visitor_profiles.get(visitor_id))
            .and_then(|profile| profile.locale.as_deref());
        self.config
            .conversation_settings_for(group, locale)
            .or_else(|| {
                self.config
                    .skill_groups
                    .first()
                    .and_then(|first| self.config.conversation_settings_for(&first.name, locale))
            })
            .unwrap_or_else(|| {
                crate::demo::service_config()
                    .conversation_settings("support")
                    .expect("the demo config is valid")
            })
    }

    /// Sends the agent serving `conversation_id` the whole chat again, with the visitor's
    /// profile and presence as they are now.
    async fn resend_to_agent(&self, conversation_id: &str) -> Result<()> {
        let Some(agent_id) = self
            .conversations
            .get(conversation_id)
            .filter(|conversation| conversation.state.phase == Phase::Human)
            .and_then(|conversation| conversation.state.agent_id())
            .map(str::to_owned)
        else {
            return Ok(());
        };
        let Some(summary) = self.summary(conversation_id) else {
            return Ok(());
        };
        let all = self
            .store
            .events_after(conversation_id, 0)
            .await
            .context("loading the log for a snapshot")?;
        for frame in snapshot_frames(summary, all) {
            self.send_to_agent(&agent_id, &frame);
        }
        Ok(())
    }

    fn summary(&self, conversation_id: &str) -> Option<ConversationSummary> {
        let conversation = self.conversations.get(conversation_id)?;
        let state = &conversation.state;
        let mut visitor = self
            .visitor_profiles
            .get(&conversation.visitor_id)
            .cloned()
            .unwrap_or_else(|| VisitorProfile {
                visitor_id: conversation.visitor_id.clone(),
                ..VisitorProfile::default()
            });
        visitor.online = self.customers.has_owner(&conversation.visitor_id);
        Some(ConversationSummary {
            conversation_id: conversation_id.to_owned(),
            visitor,
            group: state.group.clone(),
            phase: state.phase,
            agent_id: state.agent_id().map(str::to_owned),
            started_at: state.started_at.unwrap_or_default(),
            last_seq: state.last_seq,
            read_seq: conversation.read_seq,
        })
    }

    fn send_to_agent(&self, agent_id: &str, frame: &ServerFrame) {
        for conn in self.agent_conns.of(agent_id) {
            send(&conn.outbox, frame.clone());
        }
    }

    fn send_to_visitor(&self, visitor_id: &str, frame: &ServerFrame) {
        for conn in self.customers.of(visitor_id) {
            send(&conn.outbox, frame.clone());
        }
    }
}

fn agent_profile(live: &AgentLive) -> AgentProfile {
    AgentProfile {
        agent_id: live.record.id.clone(),
        display_name: live.record.display_name.clone(),
        avatar: None,
        groups: live.record.groups.clone(),
        max_concurrent_chats: live.record.max_chats,
        status: live.status,
    }
}

/// Queues a frame for a connection. A full outbox means the client is not reading: the frame
/// is dropped and the connection task is told to close the socket, so the client reconnects
/// and resumes from its last seq without missing anything.
fn send(outbox: &Outbox, frame: ServerFrame) {
    if let Err(mpsc::error::TrySendError::Full(_)) = outbox.frames.try_send(Box::new(frame)) {
        tracing::warn!("a connection's outbox is full; closing it so the client resumes");
        outbox.close();
    }
}

/// A conversation's whole log for an agent: a `snapshot` with as many of the first events
/// as fit in [`MAX_FRAME_BYTES`], then the rest as `event` frames. Clients refuse frames
/// over that limit (`kefu_core::protocol::decode_server_frame`), so a snapshot of a long
/// chat in one frame reached no agent. Found by the history checker's long run.
fn snapshot_frames(conversation: ConversationSummary, events: Vec<Event>) -> Vec<ServerFrame> {
    // Room for the summary and the frame's own fields, and a margin.
    let budget = MAX_FRAME_BYTES.saturating_sub(
        kefu_core::protocol::encode(&ServerFrame::Snapshot {
            conversation: conversation.clone(),
            events: Vec::new(),
        })
        .len()
            + 1024,
    );
    let mut size = 0;
    let mut head = events.len();
    for (index, event) in events.iter().enumerate() {
        size += serde_json::to_string(event).map_or(usize::MAX / 2, |json| json.len() + 1);
        if size > budget {
            head = index;
            break;
        }
    }
    let mut events = events;
    let rest = events.split_off(head);
    let conversation_id = conversation.conversation_id.clone();
    let mut frames = vec![ServerFrame::Snapshot {
        conversation,
        events,
    }];
    frames.extend(rest.into_iter().map(|event| ServerFrame::Event {
        conversation_id: conversation_id.clone(),
        event,
    }));
    frames
}

fn error_frame(code: ErrorCode, message: &str, client_msg_id: Option<String>) -> ServerFrame {
    ServerFrame::Error {
        code,
        message: message.to_owned(),
        client_msg_id,
    }
}

fn rejection_frame(rejection: &Rejection, client_msg_id: Option<String>) -> ServerFrame {
    ServerFrame::Error {
        code: rejection.error_code(),
        message: rejection.to_string(),
        client_msg_id,
    }
}

fn internal_frame(error: anyhow::Error, client_msg_id: Option<String>) -> ServerFrame {
    tracing::error!(error = format!("{error:#}"), "storage failed");
    error_frame(
        ErrorCode::Internal,
        "the server could not store this; retry later",
        client_msg_id,
    )
}

fn internal(error: anyhow::Error) -> FrameError {
    tracing::error!(error = format!("{error:#}"), "storage failed");
    FrameError::new(ErrorCode::Internal, "the server failed; retry later")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn customer(visitor_id: &str) -> CustomerConn {
        CustomerConn {
            visitor_id: visitor_id.to_owned(),
            group: "support".to_owned(),
            outbox: Outbox::new().0,
        }
    }

    #[test]
    fn connections_are_found_by_owner_until_removed() {
        let mut conns = Connections::new();
        conns.insert(1, customer("alice"));
        conns.insert(2, customer("alice"));
        conns.insert(3, customer("bob"));
        assert_eq!(conns.of("alice").count(), 2);
        assert_eq!(conns.of("bob").count(), 1);
        assert!(conns.remove(&1).is_some());
        assert_eq!(conns.of("alice").count(), 1);
        conns.remove(&2);
        assert!(
            !conns.has_owner("alice"),
            "no empty owner entries are left behind"
        );
        assert_eq!(conns.of("alice").count(), 0);
        // A connection id reused for another owner moves.
        conns.insert(3, customer("carol"));
        assert_eq!(conns.of("bob").count(), 0);
        assert_eq!(conns.of("carol").count(), 1);
        assert!(conns.get(&3).is_some());
    }
}
