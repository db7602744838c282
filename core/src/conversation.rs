//! A conversation as an append-only event log, its reducer and its decider.
//!
//! * [`Event`] is one entry of the log: a per-conversation sequence number `seq` (1, 2, 3, …
//!   assigned by the backend, the authority on order), the time `at` (unix milliseconds,
//!   given by the caller) and an [`EventBody`].
//! * [`State`] is the fold of the log: [`State::apply`] mutates in place, [`apply`] returns a
//!   new state, [`fold`] folds a whole log. Applying an event whose `seq` is not above
//!   `last_seq` is a no-op, so a client that receives an event twice (resume after a
//!   reconnect) cannot fold it twice.
//! * [`decide`] turns a [`Command`] into the events to append, or a [`Rejection`]. It reads
//!   nothing but its arguments: the time, the settings, the availability of the skill group
//!   and the robot's answer are all in [`Ctx`], computed by the caller beforehand.
//!
//! The state machine is `NotStarted → Robot → Queued → Human → Ended` (DESIGN.md):
//!
//! * `Robot`: in robot_first each question gets a robot answer or the no-answer reply; a
//!   transfer keyword, the transfer button or `misses_before_transfer` consecutive misses
//!   request a transfer. In robot_only transfer requests get a clear notice instead. In
//!   human_only the robot is off and every customer message requests a transfer.
//! * A transfer checks the group: closed → the off-hours notice, no agent online → the
//!   no-agent notice, both staying in `Robot`; otherwise `Queued`.
//! * `Queued`: customer messages are recorded for the agent; the router's [`Command::AssignAgent`]
//!   moves to `Human`.
//! * `Human`: messages both ways; `结束会话`, the agent's end or the idle timeout end it; the
//!   agent going offline or transferring to another group re-queues it.
//! * `Ended` accepts nothing more: the next customer question starts a new conversation,
//!   which the caller creates with [`Command::Start`].

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use crate::config::ServiceMode;
use crate::protocol::{ErrorCode, MAX_ID_CHARS, MAX_MESSAGE_CHARS};
use crate::robot::RobotResult;
use crate::text::{char_count, contains_keyword, is_acknowledgement, is_end_phrase};

/// One entry of a conversation's log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// Per-conversation sequence number, starting at 1, strictly increasing by 1.
    pub seq: u64,
    /// When the backend appended it, unix milliseconds.
    pub at: i64,
    #[serde(flatten)]
    pub body: EventBody,
}

/// What happened. Serialized with a `kind` tag next to `seq` and `at`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EventBody {
    /// The conversation was created for a visitor in a skill group.
    Started {
        conversation_id: String,
        visitor_id: String,
        group: String,
    },
    CustomerMessage {
        client_msg_id: String,
        text: String,
    },
    /// The robot found an answer.
    RobotAnswer {
        knowledge_id: Option<String>,
        text: String,
        suggestions: Vec<Suggestion>,
    },
    /// The robot had no answer: `text` is the no-answer reply.
    RobotMiss {
        text: String,
        suggestions: Vec<Suggestion>,
    },
    /// A transfer to a human was requested; a `Queued` or a `Notice` follows.
    TransferRequested {
        reason: TransferReason,
    },
    /// A message from the system to the customer.
    Notice {
        notice: NoticeKind,
        text: String,
    },
    /// The conversation waits for an agent of `group`.
    Queued {
        group: String,
    },
    AgentAssigned {
        agent_id: String,
        agent_name: String,
    },
    AgentMessage {
        agent_id: String,
        client_msg_id: String,
        text: String,
    },
    /// The assigned agent left; the conversation waits in the queue again.
    Requeued {
        reason: RequeueReason,
    },
    Ended {
        by: EndedBy,
    },
}

/// A question offered as "您是不是想问".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suggestion {
    pub id: String,
    pub question: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransferReason {
    /// The customer's message contained a transfer keyword.
    Keyword,
    /// The customer pressed the transfer button.
    Button,
    /// The robot missed `misses_before_transfer` times in a row.
    Misses,
    /// The service mode is human_only.
    HumanOnly,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum NoticeKind {
    /// Outside working hours; `next_opening` is when the group opens again, if known.
    OffHours {
        next_opening: Option<i64>,
    },
    NoAgentOnline,
    /// A transfer was requested in robot_only mode.
    RobotOnly,
    /// The customer was silent for the rule's idle timeout; an `Ended` follows.
    IdleTimeout,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum RequeueReason {
    AgentOffline {
        agent_id: String,
    },
    /// The agent handed the conversation to another skill group.
    TransferredToGroup {
        agent_id: String,
        group: String,
        /// The group's name as customers see it (`售前咨询`), for the line both sides read;
        /// empty in events stored before it was recorded.
        #[serde(default)]
        group_display_name: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EndedBy {
    Customer,
    Agent { agent_id: String },
    IdleTimeout,
}

/// Where a conversation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// No `Started` event yet (an empty log).
    #[default]
    NotStarted,
    Robot,
    Queued,
    Human,
    Ended,
}

/// The agent serving a conversation in `Human`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssignedAgent {
    pub agent_id: String,
    pub agent_name: String,
}

/// The fold of a conversation's log.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct State {
    pub phase: Phase,
    pub conversation_id: String,
    pub visitor_id: String,
    /// The skill group the conversation belongs to (changes on a transfer to another group).
    pub group: String,
    /// Some exactly when `phase` is `Human`.
    pub agent: Option<AssignedAgent>,
    /// Robot misses since the last hit or transfer request.
    pub consecutive_misses: u32,
    /// The `seq` of the last applied event; 0 for an empty log.
    pub last_seq: u64,
    pub started_at: Option<i64>,
    pub ended_at: Option<i64>,
    /// The customer's last message, or the moment a human took over (so time spent waiting
    /// in the queue does not count towards the idle timeout).
    pub last_customer_activity_at: Option<i64>,
    /// Customer client message id → seq of its `CustomerMessage`.
    pub customer_client_msg_ids: BTreeMap<String, u64>,
    /// (agent id, client message id) → seq of its `AgentMessage`.
    pub agent_client_msg_ids: BTreeMap<(String, String), u64>,
    /// Every agent ever assigned, so that one who acts on the conversation after its end is
    /// told it ended (`invalid_state`) rather than that it does not exist.
    pub served_by: std::collections::BTreeSet<String>,
}

/// A state that no log should produce, found by [`State::check_invariants`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvariantViolation {
    #[error("phase Human without an assigned agent")]
    HumanWithoutAgent,
    #[error("an agent is assigned outside phase Human")]
    AgentOutsideHuman,
    #[error("event seq {seq} does not follow {last_seq}")]
    SeqNotIncreasing { last_seq: u64, seq: u64 },
    #[error("event seq {seq} appended after the conversation ended")]
    EventAfterEnded { seq: u64 },
    #[error("event seq {seq} appended before the conversation started")]
    EventBeforeStarted { seq: u64 },
}

impl State {
    /// Folds one event into the state. Events at or below `last_seq` were already applied
    /// and are ignored, which makes re-delivery harmless. The reducer never fails: it records
    /// what the log says; [`decide`] is where transitions are checked.
    pub fn apply(&mut self, event: &Event) {
        if event.seq <= self.last_seq {
            return;
        }
        self.last_seq = event.seq;
        match &event.body {
            EventBody::Started {
                conversation_id,
                visitor_id,
                group,
            } => {
                self.phase = Phase::Robot;
                self.conversation_id = conversation_id.clone();
                self.visitor_id = visitor_id.clone();
                self.group = group.clone();
                self.started_at = Some(event.at);
                self.last_customer_activity_at = Some(event.at);
            }
            EventBody::CustomerMessage { client_msg_id, .. } => {
                self.customer_client_msg_ids
                    .insert(client_msg_id.clone(), event.seq);
                self.last_customer_activity_at = Some(event.at);
            }
            EventBody::RobotAnswer { .. } => self.consecutive_misses = 0,
            EventBody::RobotMiss { .. } => {
                self.consecutive_misses = self.consecutive_misses.saturating_add(1)
            }
            EventBody::TransferRequested { .. } => self.consecutive_misses = 0,
            EventBody::Notice { .. } => {}
            EventBody::Queued { group } => {
                self.phase = Phase::Queued;
                self.group = group.clone();
                self.agent = None;
            }
            EventBody::AgentAssigned {
                agent_id,
                agent_name,
            } => {
                self.phase = Phase::Human;
                self.served_by.insert(agent_id.clone());
                self.agent = Some(AssignedAgent {
                    agent_id: agent_id.clone(),
                    agent_name: agent_name.clone(),
                });
                self.last_customer_activity_at = Some(event.at);
            }
            EventBody::AgentMessage {
                agent_id,
                client_msg_id,
                ..
            } => {
                self.agent_client_msg_ids
                    .insert((agent_id.clone(), client_msg_id.clone()), event.seq);
            }
            EventBody::Requeued { reason } => {
                self.phase = Phase::Queued;
                self.agent = None;
                match reason {
                    RequeueReason::AgentOffline { .. } => {}
                    RequeueReason::TransferredToGroup { group, .. } => self.group = group.clone(),
                }
            }
            EventBody::Ended { .. } => {
                self.phase = Phase::Ended;
                self.agent = None;
                self.ended_at = Some(event.at);
            }
        }
    }

    /// Checks that the state is one the state machine allows.
    pub fn check_invariants(&self) -> Result<(), InvariantViolation> {
        match (self.phase, &self.agent) {
            (Phase::Human, None) => Err(InvariantViolation::HumanWithoutAgent),
            (Phase::Human, Some(_)) => Ok(()),
            (_, Some(_)) => Err(InvariantViolation::AgentOutsideHuman),
            (_, None) => Ok(()),
        }
    }

    /// Checks that `event` may be appended to a log whose fold is `self`: the next seq, a
    /// start only first, nothing after the end. The server checks this before appending
    /// events that came from elsewhere (an import, another node).
    pub fn check_next(&self, event: &Event) -> Result<(), InvariantViolation> {
        if event.seq != self.last_seq + 1 {
            return Err(InvariantViolation::SeqNotIncreasing {
                last_seq: self.last_seq,
                seq: event.seq,
            });
        }
        match (self.phase, &event.body) {
            (Phase::Ended, _) => Err(InvariantViolation::EventAfterEnded { seq: event.seq }),
            (Phase::NotStarted, EventBody::Started { .. }) => Ok(()),
            (Phase::NotStarted, _) => {
                Err(InvariantViolation::EventBeforeStarted { seq: event.seq })
            }
            _ => Ok(()),
        }
    }

    /// Whether the conversation is over and accepts no more events.
    pub fn is_ended(&self) -> bool {
        self.phase == Phase::Ended
    }

    /// The assigned agent's id, if any.
    pub fn agent_id(&self) -> Option<&str> {
        self.agent.as_ref().map(|agent| agent.agent_id.as_str())
    }
}

/// Returns the state after `event` (see [`State::apply`]).
pub fn apply(state: &State, event: &Event) -> State {
    let mut next = state.clone();
    next.apply(event);
    next
}

/// Folds a whole log from the empty state.
pub fn fold<'a>(events: impl IntoIterator<Item = &'a Event>) -> State {
    let mut state = State::default();
    for event in events {
        state.apply(event);
    }
    state
}

/// The settings of one conversation's skill group, resolved from the configuration by
/// [`crate::config::Config::conversation_settings`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationSettings {
    /// The skill group's name as customers see it.
    pub group_display_name: String,
    pub mode: ServiceMode,
    pub no_answer_reply: String,
    pub robot_only_reply: String,
    pub transfer_keywords: Vec<String>,
    pub transfer_button: bool,
    /// 0 means misses never transfer.
    pub misses_before_transfer: u32,
    pub off_hours_message: String,
    pub no_agent_message: String,
    /// 0 disables the idle timeout.
    pub idle_timeout_ms: i64,
    pub idle_timeout_message: String,
}

/// Whether a skill group can take a conversation now, computed by the caller from the
/// working hours ([`crate::hours`]) and the live agents ([`crate::routing`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Availability {
    /// Inside working hours.
    pub open: bool,
    /// When the group opens next, for the off-hours notice.
    pub next_opening: Option<i64>,
    /// Online agents of the group, busy or not.
    pub agents_online: usize,
    /// Free chat slots over those agents (how many could be assigned right now).
    pub free_capacity: usize,
}

/// Everything [`decide`] needs besides the state and the command.
#[derive(Debug, Clone, Copy)]
pub struct Ctx<'a> {
    /// Now, unix milliseconds; stamps the events.
    pub now: i64,
    pub settings: &'a ConversationSettings,
    /// The availability of the conversation's group, or for [`Command::TransferToGroup`] of
    /// the target group.
    pub availability: Availability,
    /// The robot's answer to the command's customer text, computed by the caller with
    /// [`crate::robot::KnowledgeIndex::ask`]. `None` (robot not consulted) counts as a miss.
    pub robot: Option<&'a RobotResult>,
}

/// What someone asks the conversation to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Command {
    /// Creates the conversation; only valid on an empty log.
    Start {
        conversation_id: String,
        visitor_id: String,
        group: String,
    },
    CustomerMessage {
        client_msg_id: String,
        text: String,
    },
    /// The customer pressed the transfer button.
    RequestTransfer,
    /// The router picked an agent for a queued conversation.
    AssignAgent {
        agent_id: String,
        agent_name: String,
    },
    AgentMessage {
        agent_id: String,
        client_msg_id: String,
        text: String,
    },
    /// The customer closed the conversation from the widget.
    EndByCustomer,
    EndByAgent {
        agent_id: String,
    },
    /// A periodic check of the idle timeout; produces events only when it is due.
    IdleTick,
    /// The visitor of a queued conversation has had no connection for the server's grace
    /// period (`queue_visitor_grace_seconds`): the chat leaves the queue and ends, so no
    /// agent is given a chat nobody is in. Refused in any other phase.
    VisitorLeftQueue,
    AgentOffline {
        agent_id: String,
    },
    /// The assigned agent hands the conversation to another skill group.
    TransferToGroup {
        agent_id: String,
        group: String,
    },
}

/// Why a command was refused. Each maps to a protocol [`ErrorCode`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    #[error("the conversation has not started")]
    NotStarted,
    #[error("the conversation has already started")]
    AlreadyStarted,
    #[error("the conversation has ended; a new question starts a new conversation")]
    ConversationEnded,
    #[error("not possible while the conversation is {phase:?}")]
    WrongPhase { phase: Phase },
    #[error("this agent is not assigned to the conversation")]
    NotAssignedAgent,
    #[error("the message is empty")]
    EmptyMessage,
    #[error("the message is longer than {max_chars} characters")]
    TooLong { max_chars: usize },
    #[error("the client message id must be 1 to {max_chars} characters")]
    InvalidClientMessageId { max_chars: usize },
    #[error("an id or group name must be 1 to {max_chars} characters")]
    InvalidId { max_chars: usize },
    /// Already accepted: the caller re-acknowledges with the original seq.
    #[error("duplicate message, already stored as seq {seq}")]
    Duplicate { seq: u64 },
    #[error("the transfer button is disabled")]
    TransferButtonDisabled,
    #[error("the conversation is already in group {group}")]
    SameGroup { group: String },
    #[error("skill group {group} is outside its working hours")]
    GroupClosed { group: String },
    #[error("no agent of skill group {group} is online")]
    NoAgentOnline { group: String },
}

impl Rejection {
    /// The protocol error code the server sends for this rejection.
    pub fn error_code(&self) -> ErrorCode {
        match self {
            Rejection::NotStarted => ErrorCode::NotFound,
            Rejection::AlreadyStarted
            | Rejection::ConversationEnded
            | Rejection::WrongPhase { .. }
            | Rejection::TransferButtonDisabled
            | Rejection::SameGroup { .. }
            | Rejection::GroupClosed { .. }
            | Rejection::NoAgentOnline { .. } => ErrorCode::InvalidState,
            Rejection::NotAssignedAgent => ErrorCode::Forbidden,
            Rejection::EmptyMessage
            | Rejection::InvalidClientMessageId { .. }
            | Rejection::InvalidId { .. } => ErrorCode::BadFrame,
            Rejection::TooLong { .. } => ErrorCode::TooLarge,
            Rejection::Duplicate { .. } => ErrorCode::Duplicate,
        }
    }
}

/// Decides which events a command appends, stamped with `ctx.now` and the next seqs.
///
/// Checks run in this order: duplicates first (a retried send is re-acknowledged even after
/// the end), then the start, then the end, then the command's own rules.
pub fn decide(state: &State, command: &Command, ctx: &Ctx<'_>) -> Result<Vec<Event>, Rejection> {
    let bodies = decide_bodies(state, command, ctx)?;
    Ok(bodies
        .into_iter()
        .zip(state.last_seq + 1..)
        .map(|(body, seq)| Event {
            seq,
            at: ctx.now,
            body,
        })
        .collect())
}

fn decide_bodies(
    state: &State,
    command: &Command,
    ctx: &Ctx<'_>,
) -> Result<Vec<EventBody>, Rejection> {
    check_duplicate(state, command)?;
    if let Command::Start {
        conversation_id,
        visitor_id,
        group,
    } = command
    {
        if state.phase != Phase::NotStarted {
            return Err(Rejection::AlreadyStarted);
        }
        for id in [conversation_id, visitor_id, group] {
            check_id(id)?;
        }
        return Ok(vec![EventBody::Started {
            conversation_id: conversation_id.clone(),
            visitor_id: visitor_id.clone(),
            group: group.clone(),
        }]);
    }
    match state.phase {
        Phase::NotStarted => return Err(Rejection::NotStarted),
        // An idle tick on an ended conversation is a routine sweep, not a mistake.
        Phase::Ended if *command == Command::IdleTick => return Ok(Vec::new()),
        Phase::Ended => return Err(Rejection::ConversationEnded),
        Phase::Robot | Phase::Queued | Phase::Human => {}
    }
    match command {
        Command::Start { .. } => Err(Rejection::AlreadyStarted),
        Command::CustomerMessage {
            client_msg_id,
            text,
        } => customer_message(state, client_msg_id, text, ctx),
        Command::RequestTransfer => request_transfer(state, ctx),
        Command::AssignAgent {
            agent_id,
            agent_name,
        } => {
            if state.phase != Phase::Queued {
                return Err(Rejection::WrongPhase { phase: state.phase });
            }
            check_id(agent_id)?;
            Ok(vec![EventBody::AgentAssigned {
                agent_id: agent_id.clone(),
                agent_name: agent_name.clone(),
            }])
        }
        Command::AgentMessage {
            agent_id,
            client_msg_id,
            text,
        } => {
            check_assigned(state, agent_id)?;
            check_client_msg_id(client_msg_id)?;
            check_text(text)?;
            Ok(vec![EventBody::AgentMessage {
                agent_id: agent_id.clone(),
                client_msg_id: client_msg_id.clone(),
                text: text.clone(),
            }])
        }
        Command::EndByCustomer => Ok(vec![EventBody::Ended {
            by: EndedBy::Customer,
        }]),
        Command::EndByAgent { agent_id } => {
            check_assigned(state, agent_id)?;
            Ok(vec![EventBody::Ended {
                by: EndedBy::Agent {
                    agent_id: agent_id.clone(),
                },
            }])
        }
        Command::IdleTick => Ok(idle_tick(state, ctx)),
        Command::VisitorLeftQueue => {
            if state.phase != Phase::Queued {
                return Err(Rejection::WrongPhase { phase: state.phase });
            }
            Ok(vec![EventBody::Ended {
                by: EndedBy::IdleTimeout,
            }])
        }
        Command::AgentOffline { agent_id } => {
            check_assigned(state, agent_id)?;
            Ok(vec![EventBody::Requeued {
                reason: RequeueReason::AgentOffline {
                    agent_id: agent_id.clone(),
                },
            }])
        }
        Command::TransferToGroup { agent_id, group } => {
            check_assigned(state, agent_id)?;
            check_id(group)?;
            if *group == state.group {
                return Err(Rejection::SameGroup {
                    group: group.clone(),
                });
            }
            if !ctx.availability.open {
                return Err(Rejection::GroupClosed {
                    group: group.clone(),
                });
            }
            if ctx.availability.agents_online == 0 {
                return Err(Rejection::NoAgentOnline {
                    group: group.clone(),
                });
            }
            Ok(vec![EventBody::Requeued {
                reason: RequeueReason::TransferredToGroup {
                    agent_id: agent_id.clone(),
                    group: group.clone(),
                    group_display_name: ctx.settings.group_display_name.clone(),
                },
            }])
        }
    }
}

fn check_duplicate(state: &State, command: &Command) -> Result<(), Rejection> {
    let seen = match command {
        Command::CustomerMessage { client_msg_id, .. } => {
            state.customer_client_msg_ids.get(client_msg_id)
        }
        Command::AgentMessage {
            agent_id,
            client_msg_id,
            ..
        } => state
            .agent_client_msg_ids
            .get(&(agent_id.clone(), client_msg_id.clone())),
        _ => None,
    };
    match seen {
        Some(&seq) => Err(Rejection::Duplicate { seq }),
        None => Ok(()),
    }
}

fn check_id(id: &str) -> Result<(), Rejection> {
    if id.is_empty() || char_count(id) > MAX_ID_CHARS {
        return Err(Rejection::InvalidId {
            max_chars: MAX_ID_CHARS,
        });
    }
    Ok(())
}

fn check_client_msg_id(client_msg_id: &str) -> Result<(), Rejection> {
    if client_msg_id.is_empty() || char_count(client_msg_id) > MAX_ID_CHARS {
        return Err(Rejection::InvalidClientMessageId {
            max_chars: MAX_ID_CHARS,
        });
    }
    Ok(())
}

fn check_text(text: &str) -> Result<(), Rejection> {
    if text.trim().is_empty() {
        return Err(Rejection::EmptyMessage);
    }
    if char_count(text) > MAX_MESSAGE_CHARS {
        return Err(Rejection::TooLong {
            max_chars: MAX_MESSAGE_CHARS,
        });
    }
    Ok(())
}

fn check_assigned(state: &State, agent_id: &str) -> Result<(), Rejection> {
    match state.agent_id() {
        Some(assigned) if assigned == agent_id => Ok(()),
        _ => Err(Rejection::NotAssignedAgent),
    }
}

fn customer_message(
    state: &State,
    client_msg_id: &str,
    text: &str,
    ctx: &Ctx<'_>,
) -> Result<Vec<EventBody>, Rejection> {
    check_client_msg_id(client_msg_id)?;
    check_text(text)?;
    let mut bodies = vec![EventBody::CustomerMessage {
        client_msg_id: client_msg_id.to_owned(),
        text: text.to_owned(),
    }];
    // The end phrase is recorded as a message first, so that a retried send of it is
    // recognised as a duplicate rather than refused as "ended".
    if is_end_phrase(text) {
        bodies.push(EventBody::Ended {
            by: EndedBy::Customer,
        });
        return Ok(bodies);
    }
    match state.phase {
        // Waiting for or talking with a human: the message is for the agent.
        Phase::Queued | Phase::Human => {}
        Phase::Robot => robot_turn(state, text, ctx, &mut bodies),
        Phase::NotStarted | Phase::Ended => {
            return Err(Rejection::WrongPhase { phase: state.phase });
        }
    }
    Ok(bodies)
}

/// The robot's reply to a customer message in phase `Robot`, per service mode.
fn robot_turn(state: &State, text: &str, ctx: &Ctx<'_>, bodies: &mut Vec<EventBody>) {
    let settings = ctx.settings;
    let asks_for_human = settings
        .transfer_keywords
        .iter()
        .any(|keyword| contains_keyword(text, keyword));
    match settings.mode {
        ServiceMode::HumanOnly => bodies.extend(transfer(state, TransferReason::HumanOnly, ctx)),
        ServiceMode::RobotOnly if asks_for_human => bodies.push(robot_only_notice(settings)),
        ServiceMode::RobotFirst if asks_for_human => {
            bodies.extend(transfer(state, TransferReason::Keyword, ctx))
        }
        ServiceMode::RobotOnly | ServiceMode::RobotFirst => {
            let hit = ctx.robot.and_then(|result| result.best.as_ref());
            let suggestions = ctx
                .robot
                .map(|result| {
                    result
                        .suggestions
                        .iter()
                        .map(|hit| Suggestion {
                            id: hit.id.clone(),
                            question: hit.question.clone(),
                        })
                        .collect()
                })
                .unwrap_or_default();
            match hit {
                Some(hit) => bodies.push(EventBody::RobotAnswer {
                    knowledge_id: Some(hit.id.clone()),
                    text: hit.answer.clone(),
                    suggestions,
                }),
                // "好的", "谢谢": nothing to answer, and not a sign the robot is failing them.
                None if is_acknowledgement(text) => {}
                None => {
                    bodies.push(EventBody::RobotMiss {
                        text: settings.no_answer_reply.clone(),
                        suggestions,
                    });
                    let misses = state.consecutive_misses.saturating_add(1);
                    let threshold = settings.misses_before_transfer;
                    if settings.mode == ServiceMode::RobotFirst
                        && threshold > 0
                        && misses >= threshold
                    {
                        bodies.extend(transfer(state, TransferReason::Misses, ctx));
                    }
                }
            }
        }
    }
}

fn robot_only_notice(settings: &ConversationSettings) -> EventBody {
    EventBody::Notice {
        notice: NoticeKind::RobotOnly,
        text: settings.robot_only_reply.clone(),
    }
}

/// A transfer attempt: the group's hours and agents decide between the queue and a notice
/// that keeps the customer with the robot.
fn transfer(state: &State, reason: TransferReason, ctx: &Ctx<'_>) -> Vec<EventBody> {
    let settings = ctx.settings;
    let availability = ctx.availability;
    let outcome = if !availability.open {
        EventBody::Notice {
            notice: NoticeKind::OffHours {
                next_opening: availability.next_opening,
            },
            text: settings.off_hours_message.clone(),
        }
    } else if availability.agents_online == 0 {
        EventBody::Notice {
            notice: NoticeKind::NoAgentOnline,
            text: settings.no_agent_message.clone(),
        }
    } else {
        EventBody::Queued {
            group: state.group.clone(),
        }
    };
    vec![EventBody::TransferRequested { reason }, outcome]
}

fn request_transfer(state: &State, ctx: &Ctx<'_>) -> Result<Vec<EventBody>, Rejection> {
    if state.phase != Phase::Robot {
        return Err(Rejection::WrongPhase { phase: state.phase });
    }
    let settings = ctx.settings;
    match settings.mode {
        ServiceMode::RobotOnly => Ok(vec![robot_only_notice(settings)]),
        // In human_only a customer still in `Robot` was refused earlier (closed, nobody
        // online); the button simply tries again.
        ServiceMode::HumanOnly => Ok(transfer(state, TransferReason::HumanOnly, ctx)),
        ServiceMode::RobotFirst if !settings.transfer_button => {
            Err(Rejection::TransferButtonDisabled)
        }
        ServiceMode::RobotFirst => Ok(transfer(state, TransferReason::Button, ctx)),
    }
}

fn idle_tick(state: &State, ctx: &Ctx<'_>) -> Vec<EventBody> {
    let timeout = ctx.settings.idle_timeout_ms;
    let last_activity = state.last_customer_activity_at.unwrap_or(ctx.now);
    let due = state.phase == Phase::Human
        && timeout > 0
        && ctx.now.saturating_sub(last_activity) >= timeout;
    if !due {
        return Vec::new();
    }
    vec![
        EventBody::Notice {
            notice: NoticeKind::IdleTimeout,
            text: ctx.settings.idle_timeout_message.clone(),
        },
        EventBody::Ended {
            by: EndedBy::IdleTimeout,
        },
    ]
}
