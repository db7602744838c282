//! What the customer panel talks to: the [`Backend`] trait and its two implementations.
//!
//! The panel speaks protocol v1 frames ([`CustomerFrame`] out, [`ServerFrame`] in) and never
//! knows where they go:
//! * [`WebSocketBackend`] — a Kefu server over the reconnecting [`Socket`] (the default).
//! * [`LocalBackend`] — the server's customer-side rules in the browser: kefu-core's robot
//!   over the demo knowledge base and `decide` for the state machine, with no agents online.
//!   It serves the demo without a server-side team (`/widget?backend=local`, or
//!   `data-backend="local"` on the script tag) and the component tests, which can also take
//!   it offline and back to exercise the outbox and resume.
//!
//! Both honour the protocol's rules (acks, per-conversation seqs, resume cursors, idempotent
//! client message ids), so the panel behaves the same over either.

use std::cell::RefCell;
use std::rc::Rc;

use kefu_core::config::{Config, ServiceMode};
use kefu_core::conversation::{
    self, Availability, Command, ConversationSettings, Ctx, Event, Phase, Rejection, State,
};
use kefu_core::feedback::{self, Votes};
use kefu_core::protocol::{self, CustomerFrame, ErrorCode, ServerFrame};
use kefu_core::robot::KnowledgeIndex;

use crate::socket::{Handlers, Socket};

/// What a backend tells the panel.
pub struct Listener {
    /// The connection is up: the panel sends its `hello` now.
    pub on_open: Box<dyn Fn()>,
    /// A frame from the backend.
    pub on_frame: Box<dyn Fn(ServerFrame)>,
    /// The connection dropped; the backend reconnects by itself and calls `on_open` again.
    pub on_close: Box<dyn Fn()>,
}

/// A connection to something that speaks protocol v1 with a customer.
pub trait Backend {
    /// Starts connecting; from now on the backend reports to `listener`. Called once.
    fn start(&self, listener: Listener);
    /// Sends a frame; false when not connected (the session keeps unacknowledged messages
    /// and sends them again after the next `welcome`).
    fn send(&self, frame: &CustomerFrame) -> bool;
    /// Drops the connection and connects again (to send a new `hello`, e.g. with the user
    /// identity from `Kefu.setUser`).
    fn reconnect(&self);
    /// Whether the visitor token it hands out identifies the visitor on later visits (kept
    /// in localStorage). The local backend's does not outlive the page.
    fn remembers_visitor(&self) -> bool;
}

/// Picks the backend named in the widget's URL: `backend=local` → [`LocalBackend`], anything
/// else → [`WebSocketBackend`] to this origin's `/ws/customer`.
pub fn from_name(name: Option<&str>) -> Rc<dyn Backend> {
    match name {
        Some("local") => Rc::new(LocalBackend::demo()),
        _ => Rc::new(WebSocketBackend::new(crate::socket::same_origin_url(
            "/ws/customer",
        ))),
    }
}

/// A server frame from the text of a WebSocket message, as the widget reads every server's.
/// A frame it cannot read (malformed, over 64 KiB, a type it does not know) is dropped: the
/// protocol's rules keep every later frame meaningful (events carry their seq, and the
/// session resumes when a dropped event leaves a gap).
pub fn frame_of_text(text: &str) -> Option<ServerFrame> {
    protocol::decode_server_frame(text).ok()
}

// ---- WebSocket ------------------------------------------------------------------------

/// A Kefu server over a reconnecting WebSocket (backoff with jitter, see [`crate::socket`]).
pub struct WebSocketBackend {
    url: String,
    socket: RefCell<Option<Socket>>,
}

impl WebSocketBackend {
    pub fn new(url: String) -> WebSocketBackend {
        WebSocketBackend {
            url,
            socket: RefCell::new(None),
        }
    }
}

impl Backend for WebSocketBackend {
    fn start(&self, listener: Listener) {
        let Listener {
            on_open,
            on_frame,
            on_close,
        } = listener;
        let on_text = move |text: String| {
            if let Some(frame) = frame_of_text(&text) {
                on_frame(frame);
            }
        };
        let handlers = Handlers {
            on_open,
            on_text: Box::new(on_text),
            on_close,
        };
        let socket = Socket::connect(self.url.clone(), handlers);
        socket.keep_alive(
            protocol::encode_customer_frame(&CustomerFrame::Ping {}),
            protocol::PING_EVERY_SECONDS * 1000,
        );
        *self.socket.borrow_mut() = Some(socket);
    }

    fn send(&self, frame: &CustomerFrame) -> bool {
        self.socket
            .borrow()
            .as_ref()
            .is_some_and(|socket| socket.send(&protocol::encode_customer_frame(frame)))
    }

    fn reconnect(&self) {
        if let Some(socket) = self.socket.borrow().as_ref() {
            socket.drop_connection();
        }
    }

    fn remembers_visitor(&self) -> bool {
        true
    }
}

// ---- in the browser -----------------------------------------------------------------------

/// kefu-core's robot and state machine running in the page, for one visitor, with the demo
/// configuration ([`Config::demo`]) and no agents online: a transfer gets the configured
/// "no agent online" notice, exactly as a server without agents answers. Conversations live
/// as long as the page. Cheap to clone; clones share the same conversations.
#[derive(Clone)]
pub struct LocalBackend {
    world: Rc<RefCell<World>>,
}

struct World {
    config: Config,
    robot: Option<Rc<KnowledgeIndex>>,
    listener: Option<Rc<Listener>>,
    /// Whether "the network" is up (tests switch it off).
    online: bool,
    /// Whether a `hello` was answered on the current connection.
    connected: bool,
    conversations: Vec<(String, State, Vec<Event>)>,
    next_conversation: u32,
    /// The visitor token this backend hands out: one per backend, so that a client of
    /// several (the conformance kit) tells them apart; it does not outlive the page.
    visitor_token: String,
    /// The language of the panel's last `hello`, for the texts the visitor reads.
    locale: Option<String>,
    /// 有用 / 没用 on the robot's answers, each answer's latest (kept in memory).
    votes: Votes,
}

const LOCAL_VISITOR_ID: &str = "local-visitor";

impl LocalBackend {
    /// The demo configuration with the demo knowledge base.
    pub fn demo() -> LocalBackend {
        LocalBackend::with_config(Config::demo())
    }

    pub fn with_config(config: Config) -> LocalBackend {
        let world = World {
            config,
            robot: None,
            listener: None,
            online: true,
            connected: false,
            conversations: Vec::new(),
            next_conversation: 1,
            visitor_token: format!(
                "local-{:013x}",
                (js_sys::Math::random() * (1u64 << 52) as f64) as u64
            ),
            locale: None,
            votes: Votes::default(),
        };
        LocalBackend {
            world: Rc::new(RefCell::new(world)),
        }
    }

    /// Takes "the network" down (the panel sees a dropped connection) or brings it back (the
    /// panel reconnects and resumes).
    pub fn set_online(&self, online: bool) {
        let was_online = std::mem::replace(&mut self.world.borrow_mut().online, online);
        match (was_online, online) {
            (true, false) => self.close(),
            (false, true) => self.open_later(),
            _ => {}
        }
    }

    /// Takes a frame as the text a WebSocket would carry, decoded and checked as a server
    /// does (PROTOCOL.md, "Limits"): a frame that does not decode is answered with its
    /// `error` (carrying its `client_msg_id`). False when "the network" is down.
    pub fn receive_text(&self, text: &str) -> bool {
        match protocol::decode_customer_frame(text) {
            Ok(frame) => self.send(&frame),
            Err(refused) => {
                if !self.world.borrow().online {
                    return false;
                }
                let id = protocol::client_msg_id_of(text);
                self.deliver(vec![refused.to_server_frame(id)]);
                true
            }
        }
    }

    /// The customer messages stored so far, in order, over all conversations: what a
    /// server would have persisted (tests check that nothing is lost or stored twice).
    pub fn stored_customer_messages(&self) -> Vec<String> {
        let world = self.world.borrow();
        world
            .conversations
            .iter()
            .flat_map(|(_, _, events)| events)
            .filter_map(|event| match &event.body {
                conversation::EventBody::CustomerMessage { text, .. } => Some(text.clone()),
                _ => None,
            })
            .collect()
    }

    fn close(&self) {
        let listener = {
            let mut world = self.world.borrow_mut();
            world.connected = false;
            world.listener.clone()
        };
        if let Some(listener) = listener {
            (listener.on_close)();
        }
    }

    /// The panel listening, unless the simulated connection is down (then nothing arrives).
    fn listener_if_online(&self) -> Option<Rc<Listener>> {
        let world = self.world.borrow();
        if world.online {
            world.listener.clone()
        } else {
            None
        }
    }

    /// Calls `on_open` after the current task, as a network would.
    fn open_later(&self) {
        let this = self.clone();
        wasm_bindgen_futures::spawn_local(async move {
            if let Some(listener) = this.listener_if_online() {
                (listener.on_open)();
            }
        });
    }

    /// Delivers frames after the current task, in order, unless the connection dropped.
    fn deliver(&self, frames: Vec<ServerFrame>) {
        let this = self.clone();
        wasm_bindgen_futures::spawn_local(async move {
            for frame in frames {
                match this.listener_if_online() {
                    Some(listener) => (listener.on_frame)(frame),
                    None => return,
                }
            }
        });
    }
}

impl Backend for LocalBackend {
    fn start(&self, listener: Listener) {
        self.world.borrow_mut().listener = Some(Rc::new(listener));
        self.open_later();
    }

    fn send(&self, frame: &CustomerFrame) -> bool {
        let frames = {
            let mut world = self.world.borrow_mut();
            if !world.online {
                return false;
            }
            world.handle(frame.clone(), js_sys::Date::now() as i64)
        };
        self.deliver(frames);
        true
    }

    fn reconnect(&self) {
        if self.world.borrow().online {
            self.close();
            self.open_later();
        }
    }

    fn remembers_visitor(&self) -> bool {
        false
    }
}

impl World {
    fn settings(&self) -> ConversationSettings {
        let group = self
            .config
            .resolve_group(None)
            .map(|group| group.name.clone())
            .unwrap_or_default();
        self.config
            .conversation_settings_for(&group, self.locale.as_deref())
            .unwrap_or_else(|| ConversationSettings {
                group_display_name: String::new(),
                mode: ServiceMode::RobotOnly,
                no_answer_reply: String::new(),
                robot_only_reply: String::new(),
                transfer_keywords: Vec::new(),
                transfer_button: false,
                misses_before_transfer: 0,
                off_hours_message: String::new(),
                no_agent_message: String::new(),
                idle_timeout_ms: 0,
                idle_timeout_message: String::new(),
            })
    }

    /// The frames a server would answer `frame` with.
    fn handle(&mut self, frame: CustomerFrame, now: i64) -> Vec<ServerFrame> {
        match frame {
            CustomerFrame::Hello { .. } if self.connected => {
                vec![error(
                    ErrorCode::InvalidState,
                    "hello was already received",
                    None,
                )]
            }
            CustomerFrame::Hello { resume, locale, .. } => {
                self.connected = true;
                self.locale = locale;
                let group = self
                    .config
                    .resolve_group(None)
                    .map(|group| group.name.clone())
                    .unwrap_or_default();
                let texts = self.config.texts_for(&group, self.locale.as_deref());
                let mode = self.config.service.mode;
                let mut frames = vec![ServerFrame::Welcome {
                    visitor_token: self.visitor_token.clone(),
                    visitor_id: LOCAL_VISITOR_ID.to_owned(),
                    conversation_id: self.conversations.last().map(|(id, _, _)| id.clone()),
                    group_display_name: texts.chat_title,
                    service_mode: mode,
                    transfer_button: self.config.service.robot.transfer_button
                        && mode == ServiceMode::RobotFirst,
                    server_time: now,
                    greeting: texts.greeting,
                }];
                for (id, _, events) in &self.conversations {
                    let after_seq = resume
                        .iter()
                        .find(|cursor| &cursor.conversation_id == id)
                        .map_or(0, |cursor| cursor.after_seq);
                    frames.extend(events.iter().filter(|event| event.seq > after_seq).map(
                        |event| ServerFrame::Event {
                            conversation_id: id.clone(),
                            event: event.clone(),
                        },
                    ));
                }
                frames
            }
            _ if !self.connected => vec![error(
                ErrorCode::BadFrame,
                "the first frame must be hello",
                None,
            )],
            CustomerFrame::Send {
                client_msg_id,
                text,
            } => {
                let command = Command::CustomerMessage {
                    client_msg_id: client_msg_id.clone(),
                    text,
                };
                self.command(command, Some(client_msg_id), true, now)
            }
            CustomerFrame::Transfer { client_msg_id } => {
                self.command(Command::RequestTransfer, client_msg_id, true, now)
            }
            CustomerFrame::End {} => self.command(Command::EndByCustomer, None, false, now),
            CustomerFrame::Ping {} => vec![ServerFrame::Pong {}],
            // No agent reads receipts here.
            CustomerFrame::Read { .. } => Vec::new(),
            CustomerFrame::Typing { .. } => Vec::new(),
            CustomerFrame::Vote {
                conversation_id,
                seq,
                verdict,
            } => {
                let log = self
                    .conversations
                    .iter()
                    .find(|(id, _, _)| *id == conversation_id);
                let event = log.and_then(|(_, _, events)| events.iter().find(|e| e.seq == seq));
                match feedback::decide_vote(&conversation_id, log.is_some(), seq, event, verdict) {
                    Ok(vote) => {
                        self.votes.record(vote);
                        Vec::new()
                    }
                    Err(refusal) => {
                        vec![error(refusal.error_code(), &refusal.to_string(), None)]
                    }
                }
            }
        }
    }

    /// The customer side of the server's hub, over kefu-core: dedupe by client message id,
    /// start a conversation when needed, ask the robot, `decide`, append, ack.
    fn command(
        &mut self,
        command: Command,
        client_msg_id: Option<String>,
        may_start: bool,
        now: i64,
    ) -> Vec<ServerFrame> {
        if let (Some(id), Command::CustomerMessage { .. }) = (&client_msg_id, &command) {
            for (conversation_id, state, _) in self.conversations.iter().rev().take(2) {
                if let Some(seq) = state.customer_client_msg_ids.get(id) {
                    return vec![ServerFrame::Ack {
                        client_msg_id: id.clone(),
                        conversation_id: conversation_id.clone(),
                        seq: *seq,
                    }];
                }
            }
        }
        let settings = self.settings();
        let mut frames = Vec::new();
        let open = self
            .conversations
            .last()
            .is_some_and(|(_, state, _)| !state.is_ended());
        if !open {
            if !may_start {
                return vec![error(
                    ErrorCode::InvalidState,
                    "there is no conversation in progress",
                    client_msg_id,
                )];
            }
            let conversation_id = format!("local-{}", self.next_conversation);
            self.next_conversation += 1;
            let group = self
                .config
                .resolve_group(None)
                .map(|group| group.name.clone())
                .unwrap_or_else(|| "local".to_owned());
            let start = Command::Start {
                conversation_id: conversation_id.clone(),
                visitor_id: LOCAL_VISITOR_ID.to_owned(),
                group,
            };
            let ctx = Ctx {
                now,
                settings: &settings,
                availability: Availability::default(),
                robot: None,
            };
            match conversation::decide(&State::default(), &start, &ctx) {
                Ok(events) => {
                    self.conversations.push((
                        conversation_id.clone(),
                        State::default(),
                        Vec::new(),
                    ));
                    frames.extend(self.append(events));
                }
                Err(rejection) => return vec![rejection_frame(&rejection, client_msg_id)],
            }
        }
        let robot_result = match (
            &command,
            self.conversations.last().map(|(_, state, _)| state.phase),
        ) {
            (Command::CustomerMessage { text, .. }, Some(Phase::Robot))
                if settings.mode != ServiceMode::HumanOnly =>
            {
                Some(self.robot().ask(text))
            }
            _ => None,
        };
        // Nobody staffs the in-browser backend: a transfer meets "no agent online".
        let availability = Availability {
            open: true,
            next_opening: None,
            agents_online: 0,
            free_capacity: 0,
        };
        let ctx = Ctx {
            now,
            settings: &settings,
            availability,
            robot: robot_result.as_ref(),
        };
        let Some((conversation_id, state, _)) = self.conversations.last() else {
            return frames;
        };
        let conversation_id = conversation_id.clone();
        match conversation::decide(state, &command, &ctx) {
            Ok(events) => frames.extend(self.append(events)),
            Err(Rejection::Duplicate { seq }) => {
                if let Some(id) = client_msg_id {
                    frames.push(ServerFrame::Ack {
                        client_msg_id: id,
                        conversation_id,
                        seq,
                    });
                }
                return frames;
            }
            Err(rejection) => {
                frames.push(rejection_frame(&rejection, client_msg_id));
                return frames;
            }
        }
        let acked = client_msg_id.and_then(|id| {
            let seq = self
                .conversations
                .last()?
                .1
                .customer_client_msg_ids
                .get(&id)
                .copied()?;
            Some(ServerFrame::Ack {
                client_msg_id: id,
                conversation_id,
                seq,
            })
        });
        frames.extend(acked);
        frames
    }

    /// Appends events to the current conversation and returns their `event` frames.
    fn append(&mut self, events: Vec<Event>) -> Vec<ServerFrame> {
        let Some((conversation_id, state, log)) = self.conversations.last_mut() else {
            return Vec::new();
        };
        events
            .into_iter()
            .map(|event| {
                state.apply(&event);
                log.push(event.clone());
                ServerFrame::Event {
                    conversation_id: conversation_id.clone(),
                    event,
                }
            })
            .collect()
    }

    /// The robot's index, built on first use (a few milliseconds for the demo knowledge).
    fn robot(&mut self) -> Rc<KnowledgeIndex> {
        self.robot
            .get_or_insert_with(|| Rc::new(KnowledgeIndex::new(&self.config.knowledge)))
            .clone()
    }
}

fn error(code: ErrorCode, message: &str, client_msg_id: Option<String>) -> ServerFrame {
    ServerFrame::Error {
        code,
        message: message.to_owned(),
        client_msg_id,
    }
}

fn rejection_frame(rejection: &Rejection, client_msg_id: Option<String>) -> ServerFrame {
    error(
        rejection.error_code(),
        &rejection.to_string(),
        client_msg_id,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use kefu_core::conversation::EventBody;
    use wasm_bindgen_test::wasm_bindgen_test as test;

    /// A first `hello`: no token, nothing to resume, nothing told.
    fn plain_hello() -> CustomerFrame {
        CustomerFrame::Hello {
            visitor_token: None,
            resume: Vec::new(),
            locale: None,
            group: None,
            page: None,
            user: None,
        }
    }

    fn connected_world() -> World {
        let LocalBackend { world } = LocalBackend::demo();
        let mut world = Rc::try_unwrap(world).ok().expect("one owner").into_inner();
        world.handle(plain_hello(), 0);
        world
    }

    fn send(world: &mut World, id: &str, text: &str) -> Vec<ServerFrame> {
        world.handle(
            CustomerFrame::Send {
                client_msg_id: id.into(),
                text: text.into(),
            },
            1,
        )
    }

    fn bodies(frames: &[ServerFrame]) -> Vec<&EventBody> {
        frames
            .iter()
            .filter_map(|frame| match frame {
                ServerFrame::Event { event, .. } => Some(&event.body),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_question_starts_a_conversation_and_the_robot_answers_it() {
        let mut world = connected_world();
        let frames = send(&mut world, "m1", "退款多久到账？");
        let bodies = bodies(&frames);
        assert!(matches!(bodies[0], EventBody::Started { .. }), "{bodies:?}");
        assert!(
            matches!(bodies[1], EventBody::CustomerMessage { .. }),
            "{bodies:?}"
        );
        assert!(
            matches!(bodies[2], EventBody::RobotAnswer { text, .. } if text.contains("银行卡")),
            "{bodies:?}"
        );
        assert!(
            matches!(frames.last(), Some(ServerFrame::Ack { client_msg_id, seq: 2, .. }) if client_msg_id == "m1"),
            "{frames:?}"
        );
    }

    #[test]
    fn a_retried_send_is_acknowledged_again_and_stored_once() {
        let mut world = connected_world();
        send(&mut world, "m1", "退款多久到账？");
        let again = send(&mut world, "m1", "退款多久到账？");
        assert!(
            matches!(again.as_slice(), [ServerFrame::Ack { seq: 2, .. }]),
            "{again:?}"
        );
    }

    #[test]
    fn a_transfer_without_agents_gets_the_no_agent_notice_and_stays_with_the_robot() {
        let mut world = connected_world();
        send(&mut world, "m1", "你好");
        let frames = world.handle(
            CustomerFrame::Transfer {
                client_msg_id: Some("t1".into()),
            },
            2,
        );
        assert!(
            bodies(&frames)
                .iter()
                .any(|body| matches!(body, EventBody::Notice { .. })),
            "{frames:?}"
        );
        assert_eq!(world.conversations[0].1.phase, Phase::Robot);
    }

    #[test]
    fn a_second_hello_is_refused_and_frames_before_hello_are_bad() {
        let LocalBackend { world } = LocalBackend::demo();
        let mut world = Rc::try_unwrap(world).ok().expect("one owner").into_inner();
        let early = world.handle(CustomerFrame::Ping {}, 0);
        assert!(
            matches!(
                early.as_slice(),
                [ServerFrame::Error {
                    code: ErrorCode::BadFrame,
                    ..
                }]
            ),
            "{early:?}"
        );
        let hello = plain_hello();
        assert!(matches!(
            world.handle(hello.clone(), 1).as_slice(),
            [ServerFrame::Welcome { .. }]
        ));
        let again = world.handle(hello, 2);
        assert!(
            matches!(
                again.as_slice(),
                [ServerFrame::Error {
                    code: ErrorCode::InvalidState,
                    ..
                }]
            ),
            "{again:?}"
        );
    }

    #[test]
    fn a_hello_resumes_after_the_cursor() {
        let mut world = connected_world();
        send(&mut world, "m1", "退款多久到账？");
        let resume = vec![kefu_core::protocol::ResumeCursor {
            conversation_id: "local-1".into(),
            after_seq: 2,
        }];
        let hello = CustomerFrame::Hello {
            visitor_token: None,
            resume,
            locale: None,
            group: None,
            page: None,
            user: None,
        };
        // A new connection (the old one dropped) says hello again.
        world.connected = false;
        let frames = world.handle(hello, 3);
        let seqs: Vec<u64> = frames
            .iter()
            .filter_map(|frame| match frame {
                ServerFrame::Event { event, .. } => Some(event.seq),
                _ => None,
            })
            .collect();
        assert_eq!(seqs, [3]);
    }
}
