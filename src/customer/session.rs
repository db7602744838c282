//! The customer's side of protocol v1, as plain data: what the widget knows, what it must
//! send after (re)connecting, and how each server frame changes it. No browser API here, so
//! the rules (resume cursors, the outbox, dedupe) are tested without a page.

use kefu_core::config::ServiceMode;
use kefu_core::conversation::{EventBody, Phase};
use kefu_core::protocol::{
    CustomerFrame, PageInfo, ResumeCursor, ServerFrame, TypingParty, UserIdentity,
};

use crate::transcript::ConversationLog;

/// A message typed by the customer and not yet acknowledged by the server.
#[derive(Debug, Clone, PartialEq)]
pub struct Pending {
    pub client_msg_id: String,
    pub text: String,
    /// Refused by the server (e.g. too long); shown as not sent, not retried.
    pub error: Option<String>,
}

/// Everything the customer panel shows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CustomerSession {
    pub visitor_token: Option<String>,
    pub group: Option<String>,
    pub locale: String,
    pub page: Option<PageInfo>,
    pub user: Option<UserIdentity>,
    pub group_display_name: String,
    /// The operator's greeting, shown at the top of the panel.
    pub greeting: String,
    pub service_mode: Option<ServiceMode>,
    pub transfer_button: bool,
    /// The visitor's conversations, oldest first.
    pub conversations: Vec<ConversationLog>,
    /// Messages waiting for their ack, in the order typed.
    pub pending: Vec<Pending>,
    pub queue_position: Option<u32>,
    pub agent_typing: bool,
    /// How many `typing: true` came from the agent, so a timer can tell whether the one it
    /// was set for is still the latest (see `crate::typing::forget_later`).
    pub agent_typing_count: u64,
    /// A `welcome` was received on the current connection.
    pub connected: bool,
    /// The page the current connection's `hello` carried, once it was sent (`None`: no
    /// `hello` on this connection yet).
    pub page_in_hello: Option<Option<PageInfo>>,
    /// Messages from the robot or an agent not yet seen (for the launcher's badge).
    pub unread: u32,
    /// An event arrived past a gap in its conversation's seqs (PROTOCOL.md, "Events"): the
    /// events are held back until the next `welcome`, whose resume fills the gap.
    pub awaiting_resume: bool,
    /// A resume was already asked for because of a gap, and no event has been applied in
    /// order since: if the server still skips that seq, it has no such event, and the next
    /// one is applied as it is rather than reconnecting for ever.
    pub resumed_for_gap: bool,
    /// The connection should be dropped and opened again (the panel does it and clears it).
    pub reconnect_now: bool,
    /// The last `read` sent: conversation and seq.
    pub read_reported: Option<(String, u64)>,
}

impl CustomerSession {
    /// The `hello` to send when a connection opens: the token and, for each conversation
    /// already here, the last seq, so the server sends only what is missing.
    pub fn hello(&self) -> CustomerFrame {
        CustomerFrame::Hello {
            visitor_token: self.visitor_token.clone(),
            resume: self
                .conversations
                .iter()
                .map(|log| ResumeCursor {
                    conversation_id: log.id.clone(),
                    after_seq: log.state.last_seq,
                })
                .collect(),
            locale: Some(self.locale.clone()),
            group: self.group.clone(),
            page: self.page.clone(),
            user: self.user.clone(),
        }
    }

    /// The `read` to send while the visitor sees the panel: the current conversation up to
    /// its last event, once an agent's message came after what was reported last. `None`
    /// when there is nothing new to report (or no connection to report it on).
    pub fn read_frame(&mut self) -> Option<CustomerFrame> {
        if !self.connected {
            return None;
        }
        let log = self.conversations.last()?;
        let last_agent_message = log
            .events
            .iter()
            .rev()
            .find(|event| matches!(event.body, EventBody::AgentMessage { .. }))?
            .seq;
        let reported = match &self.read_reported {
            Some((id, seq)) if *id == log.id => *seq,
            _ => 0,
        };
        if last_agent_message <= reported {
            return None;
        }
        let seq = log.state.last_seq;
        self.read_reported = Some((log.id.clone(), seq));
        Some(CustomerFrame::Read {
            conversation_id: log.id.clone(),
            seq,
        })
    }

    /// Queues a message; returns the frame to send now if connected. Empty text is ignored.
    pub fn type_message(&mut self, client_msg_id: String, text: &str) -> Option<CustomerFrame> {
        if text.trim().is_empty() {
            return None;
        }
        self.pending.push(Pending {
            client_msg_id: client_msg_id.clone(),
            text: text.to_owned(),
            error: None,
        });
        self.connected.then(|| CustomerFrame::Send {
            client_msg_id,
            text: text.to_owned(),
        })
    }

    /// The frames to send after `welcome`: every unacknowledged message, in the order typed.
    /// The server deduplicates by client message id, so a message whose ack was lost in the
    /// drop is stored once.
    pub fn resend(&self) -> Vec<CustomerFrame> {
        self.pending
            .iter()
            .filter(|pending| pending.error.is_none())
            .map(|pending| CustomerFrame::Send {
                client_msg_id: pending.client_msg_id.clone(),
                text: pending.text.clone(),
            })
            .collect()
    }

    /// The connection closed: nothing more is sent until the next `welcome`.
    pub fn disconnected(&mut self) {
        self.connected = false;
        // A restarted server forgot what was read: tell it again on the next connection.
        self.read_reported = None;
        self.agent_typing = false;
        self.page_in_hello = None;
    }

    /// The `hello` for a connection that just opened, remembering the page it tells.
    pub fn hello_sent(&mut self) -> CustomerFrame {
        self.page_in_hello = Some(self.page.clone());
        self.hello()
    }

    /// The host page told where the visitor is (on each open). Returns true when the
    /// connection's `hello` already went without this page, so the panel must reconnect for
    /// the agent to see it (the page travels only in `hello`).
    pub fn set_page(&mut self, page: Option<PageInfo>) -> bool {
        if page.is_none() || page == self.page {
            return false;
        }
        self.page = page;
        self.page_in_hello
            .as_ref()
            .is_some_and(|sent| *sent != self.page)
    }

    /// The current (last) conversation.
    pub fn current(&self) -> Option<&ConversationLog> {
        self.conversations.last()
    }

    pub fn phase(&self) -> Phase {
        self.current()
            .map_or(Phase::NotStarted, |log| log.state.phase)
    }

    /// Applies a server frame. Returns true when it brought a new message from the other side.
    pub fn on_frame(&mut self, frame: ServerFrame) -> bool {
        match frame {
            ServerFrame::Welcome {
                visitor_token,
                group_display_name,
                service_mode,
                transfer_button,
                greeting,
                ..
            } => {
                self.visitor_token = Some(visitor_token);
                self.greeting = greeting;
                self.group_display_name = group_display_name;
                self.service_mode = Some(service_mode);
                self.transfer_button = transfer_button;
                self.connected = true;
                self.awaiting_resume = false;
                false
            }
            ServerFrame::Ack { client_msg_id, .. } => {
                self.pending
                    .retain(|pending| pending.client_msg_id != client_msg_id);
                false
            }
            ServerFrame::Event {
                conversation_id,
                event,
            } => {
                if self.awaiting_resume {
                    return false;
                }
                let last_seq = self
                    .conversations
                    .iter()
                    .find(|log| log.id == conversation_id)
                    .map_or(0, |log| log.state.last_seq);
                if event.seq > last_seq + 1 {
                    if !self.resumed_for_gap {
                        // Applying it would move the resume cursor past the missing events
                        // for good; resume from `last_seq` instead.
                        self.resumed_for_gap = true;
                        self.awaiting_resume = true;
                        self.reconnect_now = true;
                        return false;
                    }
                } else if event.seq == last_seq + 1 {
                    self.resumed_for_gap = false;
                }
                if let EventBody::CustomerMessage { client_msg_id, .. } = &event.body {
                    self.pending
                        .retain(|pending| &pending.client_msg_id != client_msg_id);
                }
                let from_other_side = matches!(
                    event.body,
                    EventBody::RobotAnswer { .. }
                        | EventBody::RobotMiss { .. }
                        | EventBody::AgentMessage { .. }
                );
                if matches!(event.body, EventBody::AgentMessage { .. }) {
                    self.agent_typing = false;
                }
                let index = match self
                    .conversations
                    .iter()
                    .position(|log| log.id == conversation_id)
                {
                    Some(index) => index,
                    None => {
                        self.conversations
                            .push(ConversationLog::new(&conversation_id));
                        self.conversations.len() - 1
                    }
                };
                let is_new = self.conversations[index].push(event);
                if self.phase() != Phase::Queued {
                    self.queue_position = None;
                }
                is_new && from_other_side
            }
            ServerFrame::QueuePosition { position, .. } => {
                self.queue_position = Some(position);
                false
            }
            ServerFrame::Typing {
                from: TypingParty::Agent,
                typing,
                ..
            } => {
                self.agent_typing = typing;
                self.agent_typing_count += u64::from(typing);
                false
            }
            ServerFrame::Error {
                client_msg_id: Some(id),
                message,
                code,
            } => {
                // A refused message is marked, not retried; a temporary failure is retried
                // on the next connection.
                if code != kefu_core::protocol::ErrorCode::Internal
                    && let Some(pending) = self
                        .pending
                        .iter_mut()
                        .find(|pending| pending.client_msg_id == id)
                {
                    pending.error = Some(message);
                }
                false
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kefu_core::conversation::Event;
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn welcome() -> ServerFrame {
        ServerFrame::Welcome {
            visitor_token: "t".into(),
            visitor_id: "v".into(),
            conversation_id: None,
            group_display_name: "在线客服".into(),
            service_mode: ServiceMode::RobotFirst,
            transfer_button: true,
            server_time: 0,
            greeting: "您好，有什么可以帮您？".into(),
        }
    }

    fn message_event(seq: u64, id: &str) -> ServerFrame {
        ServerFrame::Event {
            conversation_id: "c1".into(),
            event: Event {
                seq,
                at: 0,
                body: EventBody::CustomerMessage {
                    client_msg_id: id.into(),
                    text: id.into(),
                },
            },
        }
    }

    #[test]
    fn messages_typed_offline_are_sent_in_order_after_welcome() {
        let mut session = CustomerSession::default();
        assert_eq!(session.type_message("m1".into(), "one"), None);
        assert_eq!(session.type_message("m2".into(), "two"), None);
        session.on_frame(welcome());
        let ids: Vec<_> = session
            .resend()
            .into_iter()
            .map(|frame| match frame {
                CustomerFrame::Send { client_msg_id, .. } => client_msg_id,
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(ids, ["m1", "m2"]);
    }

    #[test]
    fn an_event_shown_twice_by_a_resume_is_kept_once_and_clears_pending() {
        let mut session = CustomerSession::default();
        session.on_frame(welcome());
        session.type_message("m1".into(), "one");
        session.on_frame(message_event(1, "m1"));
        session.on_frame(message_event(1, "m1"));
        assert!(session.pending.is_empty());
        assert_eq!(session.conversations[0].events.len(), 1);
        match session.hello() {
            CustomerFrame::Hello { resume, .. } => assert_eq!(resume[0].after_seq, 1),
            other => panic!("{other:?}"),
        }
    }

    /// A server that skips a seq (a dropped or unreadable frame) must not move the resume
    /// cursor past it: the session holds the later events back and asks for a reconnect,
    /// once; if the resume still lacks it, the next event is taken as it is.
    #[test]
    fn a_gap_in_the_seqs_asks_for_a_resume_once() {
        let mut session = CustomerSession::default();
        session.on_frame(welcome());
        session.on_frame(message_event(1, "m1"));
        session.on_frame(message_event(3, "m3"));
        assert!(session.reconnect_now && session.awaiting_resume);
        assert_eq!(session.conversations[0].events.len(), 1, "3 is held back");
        session.on_frame(message_event(4, "m4"));
        assert_eq!(
            session.conversations[0].events.len(),
            1,
            "so is what follows"
        );
        match session.hello() {
            CustomerFrame::Hello { resume, .. } => assert_eq!(resume[0].after_seq, 1),
            other => panic!("{other:?}"),
        }
        // The resume fills the gap.
        session.on_frame(welcome());
        for seq in 2..=4 {
            session.on_frame(message_event(seq, &format!("m{seq}")));
        }
        let seqs: Vec<u64> = session.conversations[0]
            .events
            .iter()
            .map(|e| e.seq)
            .collect();
        assert_eq!(seqs, [1, 2, 3, 4]);
        // A server that has no seq 6 at all: one resume, then 7 is taken.
        session.reconnect_now = false;
        session.on_frame(message_event(7, "m7"));
        assert!(session.reconnect_now);
        session.on_frame(welcome());
        session.on_frame(message_event(7, "m7"));
        assert_eq!(session.conversations[0].state.last_seq, 7);
    }

    #[test]
    fn a_page_told_after_the_hello_asks_for_a_reconnect_once() {
        let page = Some(PageInfo {
            url: "https://shop.example/cart".into(),
            title: "购物车".into(),
            referrer: String::new(),
        });
        let mut early = CustomerSession::default();
        assert!(
            !early.set_page(page.clone()),
            "before any hello, the hello will carry it"
        );
        assert!(matches!(
            early.hello_sent(),
            CustomerFrame::Hello { page: Some(_), .. }
        ));

        let mut late = CustomerSession::default();
        late.hello_sent();
        assert!(
            late.set_page(page.clone()),
            "the hello went without the page"
        );
        late.disconnected();
        assert!(
            matches!(late.hello_sent(), CustomerFrame::Hello { ref page, .. } if page.is_some())
        );
        assert!(!late.set_page(page), "the same page again changes nothing");
    }
}
