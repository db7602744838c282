//! The protocol the other way round: a fake server plays recorded server behaviour at the
//! widget's protocol module (the customer session and the panel, reading server text with
//! `backend::frame_of_text` exactly as over a WebSocket), so that a third-party server's
//! quirks — repeated events and acks, a connection dropped before the ack, a gap in the
//! seqs, an oversized or unknown frame, an error code from a newer server — cannot break
//! the widget unnoticed. Checked by what the customer sees in headless Chromium.

use std::cell::RefCell;
use std::rc::Rc;

use kefu_core::protocol::{CustomerFrame, ResumeCursor};
use kefu_widget::customer::backend::{Backend, Listener, frame_of_text};
use serde_json::json;
use wasm_bindgen_test::*;
use web_sys::HtmlElement;

wasm_bindgen_test_configure!(run_in_browser);

mod support;

use support::{ask, eventually, log_text, settle};

const CONVERSATION: &str = "7d2e4b9a0c1f4e3d8b6a5c4d3e2f1a0b";
const TOKEN: &str = "9c1f0e7a5b3d48e2a6f4c0b19d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e";

/// What the recorded server does next.
enum Step {
    /// Sends this text as one WebSocket message.
    Text(String),
    /// Drops the connection (the widget reconnects by itself).
    Drop,
}

/// A script: the steps answering each frame the widget sends, given the connection's number
/// (1 for the first).
type Script = Box<dyn FnMut(&CustomerFrame, u32) -> Vec<Step>>;

struct Recorded {
    listener: Option<Rc<Listener>>,
    script: Script,
    /// Every frame the widget sent, with its connection's number.
    received: Vec<(u32, CustomerFrame)>,
    connection: u32,
    open: bool,
}

/// The fake server, as the panel's [`Backend`].
#[derive(Clone)]
struct RecordedServer(Rc<RefCell<Recorded>>);

impl RecordedServer {
    fn new(script: impl FnMut(&CustomerFrame, u32) -> Vec<Step> + 'static) -> RecordedServer {
        RecordedServer(Rc::new(RefCell::new(Recorded {
            listener: None,
            script: Box::new(script),
            received: Vec::new(),
            connection: 0,
            open: false,
        })))
    }

    fn connections(&self) -> u32 {
        self.0.borrow().connection
    }

    fn received(&self) -> Vec<(u32, CustomerFrame)> {
        self.0.borrow().received.clone()
    }

    /// Opens a new connection after the current task, as a network would.
    fn open_later(&self) {
        let this = self.clone();
        wasm_bindgen_futures::spawn_local(async move {
            let listener = {
                let mut state = this.0.borrow_mut();
                state.connection += 1;
                state.open = true;
                state.listener.clone()
            };
            if let Some(listener) = listener {
                (listener.on_open)();
            }
        });
    }

    fn close(&self) {
        let listener = {
            let mut state = self.0.borrow_mut();
            state.open = false;
            state.listener.clone()
        };
        if let Some(listener) = listener {
            (listener.on_close)();
        }
    }

    fn play(&self, steps: Vec<Step>) {
        let this = self.clone();
        let connection = self.connections();
        wasm_bindgen_futures::spawn_local(async move {
            for step in steps {
                let listener = {
                    let state = this.0.borrow();
                    if !state.open || state.connection != connection {
                        return;
                    }
                    state.listener.clone()
                };
                let Some(listener) = listener else { return };
                match step {
                    // Read as the WebSocket backend reads every server's text.
                    Step::Text(text) => {
                        if let Some(frame) = frame_of_text(&text) {
                            (listener.on_frame)(frame);
                        }
                    }
                    Step::Drop => {
                        this.close();
                        this.open_later();
                        return;
                    }
                }
            }
        });
    }
}

impl Backend for RecordedServer {
    fn start(&self, listener: Listener) {
        self.0.borrow_mut().listener = Some(Rc::new(listener));
        self.open_later();
    }

    fn send(&self, frame: &CustomerFrame) -> bool {
        let steps = {
            let mut state = self.0.borrow_mut();
            if !state.open {
                return false;
            }
            let connection = state.connection;
            state.received.push((connection, frame.clone()));
            (state.script)(frame, connection)
        };
        self.play(steps);
        true
    }

    fn reconnect(&self) {
        self.close();
        self.open_later();
    }

    fn remembers_visitor(&self) -> bool {
        false
    }
}

// ---- recorded frames, as a server's text ----------------------------------------------------

fn text(frame: serde_json::Value) -> Step {
    Step::Text(frame.to_string())
}

fn welcome() -> Step {
    text(json!({"v": 1, "type": "welcome", "visitor_token": TOKEN,
        "visitor_id": "3f9a2c7e1b4d4e8fa0c5d6b7e8f90a1b", "conversation_id": null,
        "group_display_name": "在线客服", "service_mode": "robot_first", "transfer_button": true,
        "server_time": 1_750_000_000_000_i64, "greeting": "您好"}))
}

fn event(seq: u64, body: serde_json::Value) -> Step {
    let mut event = json!({"seq": seq, "at": 1_750_000_000_000_i64 + seq as i64});
    event
        .as_object_mut()
        .unwrap()
        .extend(body.as_object().unwrap().clone());
    text(json!({"v": 1, "type": "event", "conversation_id": CONVERSATION, "event": event}))
}

fn started() -> Step {
    event(
        1,
        json!({"kind": "started", "conversation_id": CONVERSATION,
        "visitor_id": "3f9a2c7e1b4d4e8fa0c5d6b7e8f90a1b", "group": "support"}),
    )
}

fn said(seq: u64, id: &str, words: &str) -> Step {
    event(
        seq,
        json!({"kind": "customer_message", "client_msg_id": id, "text": words}),
    )
}

fn answer(seq: u64, words: &str) -> Step {
    event(
        seq,
        json!({"kind": "robot_answer", "knowledge_id": "kb-001", "text": words, "suggestions": []}),
    )
}

fn ack(id: &str, seq: u64) -> Step {
    text(
        json!({"v": 1, "type": "ack", "client_msg_id": id, "conversation_id": CONVERSATION, "seq": seq}),
    )
}

fn sent_id(frame: &CustomerFrame) -> Option<(String, String)> {
    match frame {
        CustomerFrame::Send {
            client_msg_id,
            text,
        } => Some((client_msg_id.clone(), text.clone())),
        _ => None,
    }
}

// ---- the panel, used as a customer would -----------------------------------------------------

fn mount_panel(server: &RecordedServer) -> HtmlElement {
    support::mount_panel(Rc::new(server.clone()))
}

/// Repeated events (a resume that overlaps) and repeated acks: every message shows once.
#[wasm_bindgen_test]
async fn repeated_events_and_acks_show_each_message_once() {
    let server = RecordedServer::new(|frame, _| match frame {
        CustomerFrame::Hello { .. } => vec![welcome()],
        CustomerFrame::Send {
            client_msg_id: id,
            text: words,
        } => vec![
            started(),
            said(2, id, words),
            ack(id, 2),
            said(2, id, words),
            ack(id, 2),
            answer(3, "退款一般 1-3 个工作日到账"),
            started(),
            answer(3, "退款一般 1-3 个工作日到账"),
        ],
        _ => Vec::new(),
    });
    let container = mount_panel(&server);
    eventually("connected", || server.connections() == 1).await;
    settle().await;
    ask(&container, "退款多久到账").await;
    eventually("the answer is shown", || {
        log_text(&container).contains("工作日到账")
    })
    .await;
    let shown = log_text(&container);
    assert_eq!(shown.matches("退款多久到账").count(), 1, "{shown}");
    assert_eq!(shown.matches("工作日到账").count(), 1, "{shown}");
    assert!(!shown.contains("Sending"), "{shown}");
}

/// The connection drops after the server stored the message but before the ack or the
/// event reached the widget: the widget comes back with the token of the welcome, sends the
/// message again with the same id (before the pushed log shows it stored), and the server's
/// original ack settles it — shown once, not "sending".
#[wasm_bindgen_test]
async fn a_drop_before_the_ack_is_retried_with_the_same_id() {
    let stored: Rc<RefCell<Option<(String, String)>>> = Rc::default();
    let server = RecordedServer::new({
        let stored = stored.clone();
        move |frame, connection| match (frame, connection) {
            (CustomerFrame::Hello { .. }, 1) => vec![welcome()],
            (
                CustomerFrame::Send {
                    client_msg_id: id,
                    text: words,
                },
                1,
            ) => {
                *stored.borrow_mut() = Some((id.clone(), words.clone()));
                vec![Step::Drop]
            }
            // The widget saw nothing of the conversation: the whole log is pushed.
            (CustomerFrame::Hello { .. }, _) => {
                let (id, words) = stored.borrow().clone().unwrap_or_default();
                vec![welcome(), started(), said(2, &id, &words)]
            }
            (
                CustomerFrame::Send {
                    client_msg_id: id, ..
                },
                _,
            ) => {
                vec![ack(id, 2), answer(3, "发票可以在订单页申请")]
            }
            _ => Vec::new(),
        }
    });
    let container = mount_panel(&server);
    eventually("connected", || server.connections() == 1).await;
    settle().await;
    ask(&container, "怎么开发票").await;
    eventually("the answer after the reconnect", || {
        log_text(&container).contains("订单页申请")
    })
    .await;
    let received = server.received();
    let sends: Vec<(u32, (String, String))> = received
        .iter()
        .filter_map(|(connection, frame)| sent_id(frame).map(|send| (*connection, send)))
        .collect();
    assert_eq!(sends.len(), 2, "{received:?}");
    assert_eq!(sends[0].1, sends[1].1, "the retry has the same id and text");
    assert_eq!((sends[0].0, sends[1].0), (1, 2));
    let hello = received
        .iter()
        .find(|(connection, frame)| {
            *connection == 2 && matches!(frame, CustomerFrame::Hello { .. })
        })
        .map(|(_, frame)| frame.clone());
    match hello {
        Some(CustomerFrame::Hello { visitor_token, .. }) => {
            assert_eq!(
                visitor_token.as_deref(),
                Some(TOKEN),
                "the welcome's token is sent back"
            );
        }
        other => panic!("no hello on the second connection: {other:?}"),
    }
    let shown = log_text(&container);
    assert_eq!(shown.matches("怎么开发票").count(), 1, "{shown}");
    assert!(!shown.contains("Sending"), "{shown}");
}

/// A server that skips a seq: the widget does not show what comes after it out of order,
/// and does not move its cursor past it: it reconnects and resumes from the last seq it has.
#[wasm_bindgen_test]
async fn a_gap_in_the_seqs_is_resumed_not_skipped() {
    let server = RecordedServer::new(|frame, connection| match (frame, connection) {
        (CustomerFrame::Hello { .. }, 1) => vec![welcome()],
        (CustomerFrame::Hello { .. }, _) => {
            vec![welcome(), answer(3, "第三条回答"), answer(4, "第四条回答")]
        }
        (
            CustomerFrame::Send {
                client_msg_id: id,
                text: words,
            },
            _,
        ) => vec![
            started(),
            said(2, id, words),
            ack(id, 2),
            answer(4, "第四条回答"),
        ],
        _ => Vec::new(),
    });
    let container = mount_panel(&server);
    eventually("connected", || server.connections() == 1).await;
    settle().await;
    ask(&container, "你好").await;
    eventually("both answers", || {
        log_text(&container).contains("第三条回答")
    })
    .await;
    eventually("the fourth", || log_text(&container).contains("第四条回答")).await;
    let shown = log_text(&container);
    assert_eq!(shown.matches("第四条回答").count(), 1, "{shown}");
    assert!(
        shown.find("第三条回答") < shown.find("第四条回答"),
        "{shown}"
    );
    assert_eq!(server.connections(), 2, "one reconnect to resume");
    let cursor = server
        .received()
        .iter()
        .find_map(|(connection, frame)| match frame {
            CustomerFrame::Hello { resume, .. } if *connection == 2 => Some(resume.clone()),
            _ => None,
        });
    assert_eq!(
        cursor,
        Some(vec![ResumeCursor {
            conversation_id: CONVERSATION.into(),
            after_seq: 2
        }])
    );
}

/// Frames the widget cannot read — one over 64 KiB, a frame type from a newer server — are
/// dropped; fields it does not know are ignored; an error code it does not know marks the
/// message as not sent. When the unreadable frame was an event, one resume later the
/// conversation goes on (no reconnect loop: a sentinel event after it arrives first).
#[wasm_bindgen_test]
async fn unreadable_and_unknown_frames_are_survived() {
    let server = RecordedServer::new(|frame, connection| match (frame, connection) {
        (CustomerFrame::Hello { .. }, 1) => vec![
            text(
                json!({"v": 1, "type": "read_receipt", "conversation_id": CONVERSATION, "seq": 1}),
            ),
            welcome(),
        ],
        (CustomerFrame::Hello { .. }, _) => vec![
            welcome(),
            answer(3, &"长".repeat(30_000)),
            answer(4, "第四条回答"),
            answer(5, "哨兵回答"),
        ],
        (
            CustomerFrame::Send {
                client_msg_id: id,
                text: words,
            },
            _,
        ) if words == "第一问" => vec![
            event(
                1,
                json!({"kind": "started", "conversation_id": CONVERSATION,
                "visitor_id": "3f9a2c7e1b4d4e8fa0c5d6b7e8f90a1b", "group": "support",
                "priority": "high"}),
            ),
            said(2, id, words),
            text(
                json!({"v": 1, "type": "ack", "client_msg_id": id, "conversation_id": CONVERSATION,
                "seq": 2, "stored_in": "shard-7"}),
            ),
            answer(3, &"长".repeat(30_000)),
            answer(4, "第四条回答"),
        ],
        (
            CustomerFrame::Send {
                client_msg_id: id, ..
            },
            _,
        ) => vec![text(json!({"v": 1,
            "type": "error", "code": "quota_exceeded", "message": "a newer server's code",
            "client_msg_id": id}))],
        _ => Vec::new(),
    });
    let container = mount_panel(&server);
    eventually("connected", || server.connections() == 1).await;
    settle().await;
    ask(&container, "第一问").await;
    eventually("the sentinel after the resume", || {
        log_text(&container).contains("哨兵回答")
    })
    .await;
    let shown = log_text(&container);
    assert!(
        !shown.contains("长长长"),
        "the oversized frame is not shown"
    );
    assert_eq!(shown.matches("第四条回答").count(), 1, "{shown}");
    assert_eq!(server.connections(), 2, "one resume, no loop");

    ask(&container, "第二问").await;
    eventually("the refused message is marked", || {
        log_text(&container).contains("Not sent")
    })
    .await;
    assert!(!log_text(&container).contains("Sending"));
}
