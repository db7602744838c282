//! The agent's side of protocol v1, as plain data: the agent's profile and presence, the
//! conversations assigned to them with their logs, and the replies waiting for an ack.

use kefu_core::conversation::{EventBody, Phase};
use kefu_core::protocol::{
    AgentFrame, AgentProfile, AgentStatus, ConversationSummary, ErrorCode, GroupChoice,
    ResumeCursor, ServerFrame, TypingParty,
};

use crate::transcript::ConversationLog;

/// A conversation in the agent's list.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentConversation {
    pub summary: ConversationSummary,
    pub log: ConversationLog,
    /// Customer messages not yet seen (the conversation was not the selected one).
    pub unread: u32,
    /// When the snapshot arrived (client clock), to order the list.
    pub assigned_at: f64,
    pub customer_typing: bool,
    /// How many `typing: true` came from the customer (see `crate::typing::forget_later`).
    pub customer_typing_count: u64,
}

impl AgentConversation {
    /// Whether this agent still serves it (not ended, not handed back to the queue).
    pub fn is_active(&self, agent_id: &str) -> bool {
        self.log.state.phase == Phase::Human && self.log.state.agent_id() == Some(agent_id)
    }

    /// The customer's name as the agent sees it.
    pub fn customer_name(&self) -> String {
        let visitor = &self.summary.visitor;
        visitor
            .user
            .as_ref()
            .and_then(|user| user.name.clone())
            .unwrap_or_else(|| {
                format!(
                    "#{}",
                    visitor.visitor_id.chars().take(6).collect::<String>()
                )
            })
    }

    /// When the customer started waiting for an answer from a person: their first message
    /// after the last agent message, or the moment the chat reached the agent, if still
    /// unanswered (for the list's waiting time). What they asked the robot before does not
    /// count against the agent.
    pub fn waiting_since(&self) -> Option<i64> {
        let mut since = None;
        for event in &self.log.events {
            match &event.body {
                EventBody::CustomerMessage { .. } if since.is_none() => since = Some(event.at),
                EventBody::AgentAssigned { .. } => since = since.map(|_| event.at),
                EventBody::AgentMessage { .. } | EventBody::Ended { .. } => since = None,
                _ => {}
            }
        }
        since
    }

    /// Whether `query` (folded like every comparison in kefu-core: case, full-width) appears
    /// in the customer's name or in any message of the conversation.
    pub fn matches(&self, query: &str) -> bool {
        let query = kefu_core::text::normalize(query).to_lowercase();
        if query.is_empty() {
            return true;
        }
        let found = |text: &str| {
            kefu_core::text::normalize(text)
                .to_lowercase()
                .contains(&query)
        };
        found(&self.customer_name())
            || self.log.events.iter().any(|event| match &event.body {
                EventBody::CustomerMessage { text, .. } | EventBody::AgentMessage { text, .. } => {
                    found(text)
                }
                _ => false,
            })
    }

    /// The last message's text, for the list.
    pub fn last_message(&self) -> String {
        self.log
            .events
            .iter()
            .rev()
            .find_map(|event| match &event.body {
                EventBody::CustomerMessage { text, .. } | EventBody::AgentMessage { text, .. } => {
                    Some(text.clone())
                }
                _ => None,
            })
            .unwrap_or_default()
    }
}

/// A reply typed by the agent and not yet acknowledged.
#[derive(Debug, Clone, PartialEq)]
pub struct PendingReply {
    pub conversation_id: String,
    pub client_msg_id: String,
    pub text: String,
}

/// Everything the workspace shows once logged in.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AgentSession {
    pub session_token: String,
    pub profile: Option<AgentProfile>,
    pub conversations: Vec<AgentConversation>,
    pub selected: Option<String>,
    pub pending: Vec<PendingReply>,
    pub connected: bool,
    /// The server refused the session token: back to the login form.
    pub unauthorized: bool,
    /// Conversations assigned while the agent was looking elsewhere (title flash, sound).
    pub unseen_assignments: u32,
    /// Every skill group, for transfers.
    pub groups: Vec<GroupChoice>,
    /// A transfer sent and not yet answered: (conversation, group).
    pub transfer_pending: Option<(String, String)>,
    /// Why the last transfer was refused, until the next one.
    pub transfer_refused: Option<ErrorCode>,
}

impl AgentSession {
    pub fn new(session_token: String) -> AgentSession {
        AgentSession {
            session_token,
            ..AgentSession::default()
        }
    }

    pub fn hello(&self) -> AgentFrame {
        AgentFrame::Hello {
            session_token: self.session_token.clone(),
            resume: self
                .conversations
                .iter()
                .map(|conversation| ResumeCursor {
                    conversation_id: conversation.summary.conversation_id.clone(),
                    after_seq: conversation.log.state.last_seq,
                })
                .collect(),
        }
    }

    pub fn agent_id(&self) -> String {
        self.profile
            .as_ref()
            .map(|profile| profile.agent_id.clone())
            .unwrap_or_default()
    }

    pub fn status(&self) -> AgentStatus {
        self.profile
            .as_ref()
            .map(|profile| profile.status)
            .unwrap_or_default()
    }

    /// Chats served now.
    pub fn active_count(&self) -> usize {
        let agent_id = self.agent_id();
        self.conversations
            .iter()
            .filter(|conversation| conversation.is_active(&agent_id))
            .count()
    }

    /// Conversations this agent serves now, newest assignment first.
    pub fn active(&self) -> Vec<&AgentConversation> {
        let agent_id = self.agent_id();
        self.conversations
            .iter()
            .filter(|conversation| conversation.is_active(&agent_id))
            .collect()
    }

    /// Conversations that ended or left this agent (已结束), matching `query`.
    pub fn ended(&self, query: &str) -> Vec<&AgentConversation> {
        let agent_id = self.agent_id();
        self.conversations
            .iter()
            .filter(|conversation| {
                !conversation.is_active(&agent_id) && conversation.matches(query)
            })
            .collect()
    }

    /// Selects the next (`step` = 1) or previous (`step` = -1) active conversation, wrapping
    /// around; the keyboard shortcut for moving between chats.
    pub fn select_step(&mut self, step: isize) {
        let ids: Vec<String> = self
            .active()
            .iter()
            .map(|c| c.summary.conversation_id.clone())
            .collect();
        if ids.is_empty() {
            return;
        }
        let current = self
            .selected
            .as_ref()
            .and_then(|selected| ids.iter().position(|id| id == selected));
        let next = match current {
            Some(index) => (index as isize + step).rem_euclid(ids.len() as isize) as usize,
            None => 0,
        };
        let id = ids[next].clone();
        self.select(&id);
    }

    pub fn selected(&self) -> Option<&AgentConversation> {
        let selected = self.selected.as_ref()?;
        self.conversations
            .iter()
            .find(|conversation| &conversation.summary.conversation_id == selected)
    }

    pub fn select(&mut self, conversation_id: &str) {
        // A refused transfer belongs to the chat it was tried on.
        if self.selected.as_deref() != Some(conversation_id) {
            self.transfer_refused = None;
        }
        self.selected = Some(conversation_id.to_owned());
        if let Some(conversation) = self
            .conversations
            .iter_mut()
            .find(|c| c.summary.conversation_id == conversation_id)
        {
            conversation.unread = 0;
        }
    }

    /// Queues a reply; returns the frame to send now if connected.
    pub fn reply(
        &mut self,
        conversation_id: &str,
        client_msg_id: String,
        text: &str,
    ) -> Option<AgentFrame> {
        if text.trim().is_empty() {
            return None;
        }
        self.pending.push(PendingReply {
            conversation_id: conversation_id.to_owned(),
            client_msg_id: client_msg_id.clone(),
            text: text.to_owned(),
        });
        self.connected.then(|| AgentFrame::Send {
            conversation_id: conversation_id.to_owned(),
            client_msg_id,
            text: text.to_owned(),
        })
    }

    /// Unacknowledged replies, to send again after `agent_welcome`.
    pub fn resend(&self) -> Vec<AgentFrame> {
        self.pending
            .iter()
            .map(|reply| AgentFrame::Send {
                conversation_id: reply.conversation_id.clone(),
                client_msg_id: reply.client_msg_id.clone(),
                text: reply.text.clone(),
            })
            .collect()
    }

    /// Asks to move the conversation to another skill group; returns the frame to send.
    pub fn transfer(&mut self, conversation_id: &str, group: &str) -> Option<AgentFrame> {
        if !self.connected || group.is_empty() {
            return None;
        }
        self.transfer_pending = Some((conversation_id.to_owned(), group.to_owned()));
        self.transfer_refused = None;
        Some(AgentFrame::TransferToGroup {
            conversation_id: conversation_id.to_owned(),
            group: group.to_owned(),
        })
    }

    /// The groups the selected conversation can go to: all but its own.
    pub fn transfer_targets(&self) -> Vec<GroupChoice> {
        let current = self
            .selected()
            .map(|conversation| conversation.log.state.group.clone())
            .unwrap_or_default();
        self.groups
            .iter()
            .filter(|group| group.name != current)
            .cloned()
            .collect()
    }

    pub fn disconnected(&mut self) {
        self.connected = false;
        // The answer to a transfer in flight is lost with the connection.
        self.transfer_pending = None;
    }

    /// Applies a server frame at client time `now` (ms). Returns true when a conversation was
    /// newly assigned.
    pub fn on_frame(&mut self, frame: ServerFrame, now: f64) -> bool {
        match frame {
            ServerFrame::AgentWelcome { agent, groups, .. } => {
                self.profile = Some(agent);
                self.groups = groups;
                self.connected = true;
                false
            }
            ServerFrame::AgentStatus { status } => {
                if let Some(profile) = &mut self.profile {
                    profile.status = status;
                }
                false
            }
            ServerFrame::Snapshot {
                conversation,
                events,
            } => {
                let id = conversation.conversation_id.clone();
                let mut log = ConversationLog::new(&id);
                for event in events {
                    log.push(event);
                }
                let entry = AgentConversation {
                    summary: conversation,
                    log,
                    unread: 0,
                    customer_typing: false,
                    customer_typing_count: 0,
                    assigned_at: now,
                };
                let is_new = match self
                    .conversations
                    .iter_mut()
                    .find(|c| c.summary.conversation_id == id)
                {
                    Some(existing) => {
                        *existing = entry;
                        false
                    }
                    None => {
                        self.conversations.insert(0, entry);
                        true
                    }
                };
                let selected_is_active = self
                    .selected()
                    .is_some_and(|selected| selected.is_active(&self.agent_id()));
                if !selected_is_active {
                    self.select(&id);
                }
                if is_new {
                    self.unseen_assignments += 1;
                }
                is_new
            }
            ServerFrame::Event {
                conversation_id,
                event,
            } => {
                if let EventBody::AgentMessage { client_msg_id, .. } = &event.body {
                    self.pending
                        .retain(|reply| &reply.client_msg_id != client_msg_id);
                }
                let from_customer = matches!(event.body, EventBody::CustomerMessage { .. });
                if matches!(event.body, EventBody::Requeued { .. })
                    && self
                        .transfer_pending
                        .as_ref()
                        .is_some_and(|(id, _)| *id == conversation_id)
                {
                    self.transfer_pending = None;
                }
                let selected = self.selected.as_deref() == Some(conversation_id.as_str());
                if let Some(conversation) = self
                    .conversations
                    .iter_mut()
                    .find(|c| c.summary.conversation_id == conversation_id)
                    && conversation.log.push(event)
                {
                    conversation.summary.phase = conversation.log.state.phase;
                    conversation.summary.last_seq = conversation.log.state.last_seq;
                    if from_customer {
                        conversation.customer_typing = false;
                        if !selected {
                            conversation.unread += 1;
                        }
                    }
                }
                false
            }
            ServerFrame::Ack { client_msg_id, .. } => {
                self.pending
                    .retain(|reply| reply.client_msg_id != client_msg_id);
                false
            }
            ServerFrame::Typing {
                conversation_id,
                from: TypingParty::Customer,
                typing,
            } => {
                if let Some(conversation) = self
                    .conversations
                    .iter_mut()
                    .find(|c| c.summary.conversation_id == conversation_id)
                {
                    conversation.customer_typing = typing;
                    conversation.customer_typing_count += u64::from(typing);
                }
                false
            }
            ServerFrame::Read {
                conversation_id,
                seq,
            } => {
                if let Some(conversation) = self
                    .conversations
                    .iter_mut()
                    .find(|c| c.summary.conversation_id == conversation_id)
                {
                    conversation.summary.read_seq = conversation.summary.read_seq.max(seq);
                }
                false
            }
            ServerFrame::Error {
                code: ErrorCode::Unauthorized,
                ..
            } => {
                self.unauthorized = true;
                false
            }
            // Errors without a client message id answer the one frame that has none and
            // waits for an answer: the transfer.
            ServerFrame::Error {
                code,
                client_msg_id: None,
                ..
            } if self.transfer_pending.is_some() => {
                self.transfer_pending = None;
                self.transfer_refused = Some(code);
                false
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kefu_core::conversation::{Event, Phase};
    use kefu_core::protocol::{AgentProfile, GroupChoice, VisitorProfile};
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn welcome() -> ServerFrame {
        ServerFrame::AgentWelcome {
            agent: AgentProfile {
                agent_id: "a1".into(),
                display_name: "小美".into(),
                avatar: None,
                groups: vec!["support".into()],
                max_concurrent_chats: 5,
                status: AgentStatus::Online,
            },
            conversations: vec![],
            server_time: 0,
            groups: vec![
                GroupChoice {
                    name: "support".into(),
                    display_name: "在线客服".into(),
                },
                GroupChoice {
                    name: "billing".into(),
                    display_name: "账单与退款".into(),
                },
            ],
        }
    }

    fn snapshot(id: &str, name: &str, text: &str) -> ServerFrame {
        let events = vec![
            Event {
                seq: 1,
                at: 1,
                body: EventBody::Started {
                    conversation_id: id.into(),
                    visitor_id: "v".into(),
                    group: "support".into(),
                },
            },
            Event {
                seq: 2,
                at: 2,
                body: EventBody::CustomerMessage {
                    client_msg_id: "m".into(),
                    text: text.into(),
                },
            },
            Event {
                seq: 3,
                at: 3,
                body: EventBody::TransferRequested {
                    reason: kefu_core::conversation::TransferReason::Keyword,
                },
            },
            Event {
                seq: 4,
                at: 4,
                body: EventBody::Queued {
                    group: "support".into(),
                },
            },
            Event {
                seq: 5,
                at: 5,
                body: EventBody::AgentAssigned {
                    agent_id: "a1".into(),
                    agent_name: "小美".into(),
                },
            },
        ];
        let user = kefu_core::protocol::UserIdentity {
            id: name.into(),
            name: Some(name.into()),
            ..Default::default()
        };
        ServerFrame::Snapshot {
            conversation: ConversationSummary {
                conversation_id: id.into(),
                visitor: VisitorProfile {
                    visitor_id: "v".into(),
                    user: Some(user),
                    ..VisitorProfile::default()
                },
                group: "support".into(),
                phase: Phase::Human,
                agent_id: Some("a1".into()),
                started_at: 1,
                last_seq: 5,
                read_seq: 0,
            },
            events,
        }
    }

    fn ended(id: &str) -> ServerFrame {
        ServerFrame::Event {
            conversation_id: id.into(),
            event: Event {
                seq: 6,
                at: 6,
                body: EventBody::Ended {
                    by: kefu_core::conversation::EndedBy::Customer,
                },
            },
        }
    }

    #[test]
    fn a_transfer_offers_the_other_groups_and_a_refusal_is_kept_until_the_next_try() {
        let mut session = AgentSession::new("t".into());
        session.on_frame(welcome(), 0.0);
        session.on_frame(snapshot("c1", "王小明", "发票"), 0.0);
        let targets: Vec<String> = session
            .transfer_targets()
            .into_iter()
            .map(|group| group.name)
            .collect();
        assert_eq!(targets, vec!["billing".to_owned()]);
        let frame = session.transfer("c1", "billing");
        assert_eq!(
            frame,
            Some(AgentFrame::TransferToGroup {
                conversation_id: "c1".into(),
                group: "billing".into()
            })
        );
        session.on_frame(
            ServerFrame::Error {
                code: ErrorCode::InvalidState,
                message: "closed".into(),
                client_msg_id: None,
            },
            0.0,
        );
        assert_eq!(session.transfer_refused, Some(ErrorCode::InvalidState));
        assert!(session.transfer_pending.is_none());
        session.transfer("c1", "billing");
        assert_eq!(
            session.transfer_refused, None,
            "a new try clears the old refusal"
        );
        let requeued = Event {
            seq: 6,
            at: 6,
            body: EventBody::Requeued {
                reason: kefu_core::conversation::RequeueReason::TransferredToGroup {
                    agent_id: "a1".into(),
                    group: "billing".into(),
                    group_display_name: "账单".into(),
                },
            },
        };
        session.on_frame(
            ServerFrame::Event {
                conversation_id: "c1".into(),
                event: requeued,
            },
            0.0,
        );
        assert!(session.transfer_pending.is_none());
        assert!(session.active().is_empty(), "the chat left this agent");
        assert_eq!(session.ended("").len(), 1);
    }

    #[test]
    fn a_refusal_does_not_follow_the_agent_to_another_chat() {
        let mut session = AgentSession::new("t".into());
        session.on_frame(welcome(), 0.0);
        session.on_frame(snapshot("c1", "王小明", "发票"), 0.0);
        session.on_frame(snapshot("c2", "Alice", "refund"), 0.0);
        session.select("c1");
        session.transfer("c1", "billing");
        session.on_frame(
            ServerFrame::Error {
                code: ErrorCode::InvalidState,
                message: "closed".into(),
                client_msg_id: None,
            },
            0.0,
        );
        session.select("c1");
        assert_eq!(session.transfer_refused, Some(ErrorCode::InvalidState));
        session.select("c2");
        assert_eq!(session.transfer_refused, None);
    }

    #[test]
    fn ended_conversations_move_to_the_ended_list_and_are_searchable() {
        let mut session = AgentSession::new("t".into());
        session.on_frame(welcome(), 0.0);
        assert!(session.on_frame(snapshot("c1", "王小明", "我要退货"), 0.0));
        assert!(session.on_frame(snapshot("c2", "Alice", "Where is my ORDER?"), 0.0));
        assert_eq!(session.active().len(), 2);
        session.on_frame(ended("c1"), 0.0);
        assert_eq!(session.active().len(), 1);
        assert_eq!(session.ended("").len(), 1);
        assert_eq!(session.ended("退货").len(), 1, "search by text");
        assert_eq!(session.ended("王小明").len(), 1, "search by customer");
        assert_eq!(session.ended("ｏｒｄｅｒ").len(), 0, "c2 is not ended");
        session.on_frame(ended("c2"), 0.0);
        assert_eq!(
            session.ended("ｏｒｄｅｒ").len(),
            1,
            "full-width and case are folded"
        );
        assert_eq!(session.active_count(), 0);
    }

    #[test]
    fn the_keyboard_moves_between_active_chats_and_wraps() {
        let mut session = AgentSession::new("t".into());
        session.on_frame(welcome(), 0.0);
        for id in ["c1", "c2", "c3"] {
            session.on_frame(snapshot(id, id, "hi"), 0.0);
        }
        // The first assignment was selected; newer ones do not steal the focus.
        assert_eq!(session.selected.as_deref(), Some("c1"));
        assert_eq!(session.unseen_assignments, 3);
        let order: Vec<String> = session
            .active()
            .iter()
            .map(|c| c.summary.conversation_id.clone())
            .collect();
        assert_eq!(order, ["c3", "c2", "c1"]);
        session.select_step(1);
        assert_eq!(
            session.selected.as_deref(),
            Some("c3"),
            "wraps from the last to the first"
        );
        session.select_step(-1);
        assert_eq!(session.selected.as_deref(), Some("c1"));
    }

    #[test]
    fn waiting_time_counts_from_when_the_chat_reached_the_agent() {
        let mut session = AgentSession::new("t".into());
        session.on_frame(welcome(), 0.0);
        // The customer wrote at 2 (to the robot) and the chat was assigned at 5: what they
        // asked the robot before does not count against the agent.
        session.on_frame(snapshot("c1", "x", "hi"), 0.0);
        assert_eq!(session.selected().unwrap().waiting_since(), Some(5));
        let reply = Event {
            seq: 6,
            at: 10,
            body: EventBody::AgentMessage {
                agent_id: "a1".into(),
                client_msg_id: "r".into(),
                text: "hello".into(),
            },
        };
        session.on_frame(
            ServerFrame::Event {
                conversation_id: "c1".into(),
                event: reply,
            },
            0.0,
        );
        assert_eq!(session.selected().unwrap().waiting_since(), None);
    }
}
