//! The agent's side of protocol v1, as plain data: the agent's profile and presence, the
//! conversations assigned to them with their logs, and the replies waiting for an ack.

use kefu_core::conversation::{EventBody, Phase};
use kefu_core::protocol::{AgentFrame, AgentProfile, AgentStatus, ConversationSummary, ResumeCursor, ServerFrame, TypingParty};

use crate::transcript::ConversationLog;

/// A conversation in the agent's list.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentConversation {
    pub summary: ConversationSummary,
    pub log: ConversationLog,
    /// Customer messages not yet seen (the conversation was not the selected one).
    pub unread: u32,
    pub customer_typing: bool,
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
            .unwrap_or_else(|| format!("#{}", visitor.visitor_id.chars().take(6).collect::<String>()))
    }

    /// The last message's text, for the list.
    pub fn last_message(&self) -> String {
        self.log
            .events
            .iter()
            .rev()
            .find_map(|event| match &event.body {
                EventBody::CustomerMessage { text, .. } | EventBody::AgentMessage { text, .. } => Some(text.clone()),
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
}

impl AgentSession {
    pub fn new(session_token: String) -> AgentSession {
        AgentSession { session_token, ..AgentSession::default() }
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
        self.profile.as_ref().map(|profile| profile.agent_id.clone()).unwrap_or_default()
    }

    pub fn status(&self) -> AgentStatus {
        self.profile.as_ref().map(|profile| profile.status).unwrap_or_default()
    }

    /// Chats served now.
    pub fn active_count(&self) -> usize {
        let agent_id = self.agent_id();
        self.conversations.iter().filter(|conversation| conversation.is_active(&agent_id)).count()
    }

    pub fn selected(&self) -> Option<&AgentConversation> {
        let selected = self.selected.as_ref()?;
        self.conversations.iter().find(|conversation| &conversation.summary.conversation_id == selected)
    }

    pub fn select(&mut self, conversation_id: &str) {
        self.selected = Some(conversation_id.to_owned());
        if let Some(conversation) = self.conversations.iter_mut().find(|c| c.summary.conversation_id == conversation_id) {
            conversation.unread = 0;
        }
    }

    /// Queues a reply; returns the frame to send now if connected.
    pub fn reply(&mut self, conversation_id: &str, client_msg_id: String, text: &str) -> Option<AgentFrame> {
        if text.trim().is_empty() {
            return None;
        }
        self.pending.push(PendingReply { conversation_id: conversation_id.to_owned(), client_msg_id: client_msg_id.clone(), text: text.to_owned() });
        self.connected.then(|| AgentFrame::Send { conversation_id: conversation_id.to_owned(), client_msg_id, text: text.to_owned() })
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

    pub fn disconnected(&mut self) {
        self.connected = false;
    }

    /// Applies a server frame. Returns true when a conversation was newly assigned.
    pub fn on_frame(&mut self, frame: ServerFrame) -> bool {
        match frame {
            ServerFrame::AgentWelcome { agent, .. } => {
                self.profile = Some(agent);
                self.connected = true;
                false
            }
            ServerFrame::AgentStatus { status } => {
                if let Some(profile) = &mut self.profile {
                    profile.status = status;
                }
                false
            }
            ServerFrame::Snapshot { conversation, events } => {
                let id = conversation.conversation_id.clone();
                let mut log = ConversationLog::new(&id);
                for event in events {
                    log.push(event);
                }
                let entry = AgentConversation { summary: conversation, log, unread: 0, customer_typing: false };
                let is_new = match self.conversations.iter_mut().find(|c| c.summary.conversation_id == id) {
                    Some(existing) => {
                        *existing = entry;
                        false
                    }
                    None => {
                        self.conversations.insert(0, entry);
                        true
                    }
                };
                if self.selected.is_none() {
                    self.select(&id);
                }
                is_new
            }
            ServerFrame::Event { conversation_id, event } => {
                if let EventBody::AgentMessage { client_msg_id, .. } = &event.body {
                    self.pending.retain(|reply| &reply.client_msg_id != client_msg_id);
                }
                let from_customer = matches!(event.body, EventBody::CustomerMessage { .. });
                let selected = self.selected.as_deref() == Some(conversation_id.as_str());
                if let Some(conversation) = self.conversations.iter_mut().find(|c| c.summary.conversation_id == conversation_id)
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
                self.pending.retain(|reply| reply.client_msg_id != client_msg_id);
                false
            }
            ServerFrame::Typing { conversation_id, from: TypingParty::Customer, typing } => {
                if let Some(conversation) = self.conversations.iter_mut().find(|c| c.summary.conversation_id == conversation_id) {
                    conversation.customer_typing = typing;
                }
                false
            }
            ServerFrame::Error { code: kefu_core::protocol::ErrorCode::Unauthorized, .. } => {
                self.unauthorized = true;
                false
            }
            _ => false,
        }
    }
}
