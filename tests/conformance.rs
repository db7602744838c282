//! The protocol's conformance kit (PROTOCOL.md, "Conformance") against the in-browser
//! backend (`/widget?backend=local`), in headless Chromium: every customer scenario the
//! backend can take. It has no wire, so the scenarios that send malformed bytes, binary or
//! close frames, or wait for deadlines are skipped; an agent scenario has no agent to run.
//!
//! The kit talks text, as over a socket: its frames go in through
//! [`LocalBackend::receive_text`] (decoded and checked by the backend, errors included), and
//! what the backend answers comes back encoded as a server would send it.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;

use kefu_conformance::{Capabilities, Conn, Connect, Endpoint, Outcome, Recv, SCENARIOS, Target};
use kefu_core::protocol::{self, ServerFrame};
use kefu_widget::customer::backend::{Backend, Listener, LocalBackend};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// What one connection received.
#[derive(Default)]
struct Inbox {
    frames: RefCell<VecDeque<String>>,
    ended: Cell<bool>,
}

/// One in-browser backend (one visitor, as in one browser) and the inbox of its current
/// connection.
struct Visitor {
    token: RefCell<Option<String>>,
    backend: LocalBackend,
    inbox: Rc<RefCell<Rc<Inbox>>>,
}

/// The kit's view of "a server": a new connection whose `hello` carries the token of a
/// backend already met reconnects that backend (the visitor comes back); any other hello
/// gets a new backend, as a new browser would.
struct LocalTarget {
    caps: Capabilities,
    visitors: Rc<RefCell<Vec<Rc<Visitor>>>>,
}

struct LocalConn {
    visitors: Rc<RefCell<Vec<Rc<Visitor>>>>,
    visitor: Option<Rc<Visitor>>,
    inbox: Rc<Inbox>,
}

impl Target for LocalTarget {
    type Conn = LocalConn;

    fn capabilities(&self) -> &Capabilities {
        &self.caps
    }

    async fn connect(
        &self,
        endpoint: Endpoint,
        _origin: Option<&str>,
    ) -> Result<Connect<LocalConn>, String> {
        if endpoint == Endpoint::Agent {
            return Err("the in-browser backend has no agents".into());
        }
        Ok(Connect::Open(LocalConn {
            visitors: self.visitors.clone(),
            visitor: None,
            inbox: Rc::new(Inbox::default()),
        }))
    }

    async fn http(
        &self,
        _method: &str,
        _path: &str,
        _bearer: Option<&str>,
        _body: Option<&str>,
    ) -> Result<(u16, String), String> {
        Err("the in-browser backend has no HTTP API".into())
    }

    async fn sleep(&self, ms: u64) {
        gloo_timers::future::TimeoutFuture::new(ms as u32).await;
    }
}

impl LocalConn {
    /// The backend this connection talks to, chosen by its first frame (the `hello`).
    fn visitor_for(&mut self, first: &str) -> Rc<Visitor> {
        if let Some(visitor) = &self.visitor {
            return visitor.clone();
        }
        let token = serde_json::from_str::<serde_json::Value>(first)
            .ok()
            .and_then(|hello| hello["visitor_token"].as_str().map(str::to_owned));
        let known = self
            .visitors
            .borrow()
            .iter()
            .find(|visitor| token.is_some() && *visitor.token.borrow() == token)
            .cloned();
        let visitor = match known {
            Some(visitor) => {
                // The visitor comes back: the old connection drops, this one takes over.
                visitor.backend.reconnect();
                *visitor.inbox.borrow_mut() = self.inbox.clone();
                visitor
            }
            None => {
                let visitor = Rc::new(Visitor {
                    token: RefCell::new(None),
                    backend: LocalBackend::demo(),
                    inbox: Rc::new(RefCell::new(self.inbox.clone())),
                });
                let on_frame = {
                    let visitor = Rc::downgrade(&visitor);
                    move |frame: ServerFrame| {
                        let Some(visitor) = visitor.upgrade() else {
                            return;
                        };
                        if let ServerFrame::Welcome { visitor_token, .. } = &frame {
                            *visitor.token.borrow_mut() = Some(visitor_token.clone());
                        }
                        let inbox = visitor.inbox.borrow().clone();
                        inbox
                            .frames
                            .borrow_mut()
                            .push_back(protocol::encode(&frame));
                    }
                };
                let on_close = {
                    let visitor = Rc::downgrade(&visitor);
                    move || {
                        if let Some(visitor) = visitor.upgrade() {
                            visitor.inbox.borrow().ended.set(true);
                        }
                    }
                };
                visitor.backend.start(Listener {
                    on_open: Box::new(|| {}),
                    on_frame: Box::new(on_frame),
                    on_close: Box::new(on_close),
                });
                self.visitors.borrow_mut().push(visitor.clone());
                visitor
            }
        };
        self.visitor = Some(visitor.clone());
        visitor
    }
}

impl Conn for LocalConn {
    async fn send_text(&mut self, text: String) -> Result<(), String> {
        let visitor = self.visitor_for(&text);
        if visitor.backend.receive_text(&text) {
            Ok(())
        } else {
            Err("the backend is offline".into())
        }
    }

    async fn send_binary(&mut self, _bytes: Vec<u8>) -> Result<(), String> {
        Err("no wire".into())
    }

    async fn send_close(&mut self, _code: u16) -> Result<(), String> {
        Err("no wire".into())
    }

    async fn recv(&mut self, timeout_ms: u64) -> Recv {
        let deadline = js_sys::Date::now() + timeout_ms as f64;
        loop {
            if let Some(text) = self.inbox.frames.borrow_mut().pop_front() {
                return Recv::Text(text);
            }
            if self.inbox.ended.get() {
                return Recv::Ended;
            }
            if js_sys::Date::now() >= deadline {
                return Recv::Timeout;
            }
            gloo_timers::future::TimeoutFuture::new(5).await;
        }
    }
}

/// Every customer scenario passes against the in-browser backend; those it cannot take are
/// skipped, and at least the semantic core (sending, idempotency, resume, phases) ran.
#[wasm_bindgen_test]
async fn the_in_browser_backend_passes_the_customer_scenarios() {
    let target = LocalTarget {
        caps: Capabilities {
            wire: false,
            agent: None,
            timing: None,
            transfer_keyword: "转人工".into(),
            group: None,
        },
        visitors: Rc::new(RefCell::new(Vec::new())),
    };
    let mut failures = Vec::new();
    let mut passed = Vec::new();
    for scenario in SCENARIOS {
        let outcome = kefu_conformance::run(&target, scenario.name).await;
        console_log!("{}", kefu_conformance::report_line(scenario.name, &outcome));
        match outcome {
            Outcome::Pass => passed.push(scenario.name),
            Outcome::Fail { .. } => {
                failures.push(kefu_conformance::report_line(scenario.name, &outcome))
            }
            Outcome::Skip(_) => {}
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    for must in [
        "lifecycle/welcome-fields",
        "lifecycle/second-hello-refused",
        "limits/text-length",
        "events/seq-gap-free",
        "sending/duplicate-acked-with-first-seq",
        "sending/retry-after-reconnect",
        "resume/missed-events-exactly-once",
        "conversations/end-phrase",
        "conversations/transfer-button",
    ] {
        assert!(passed.contains(&must), "{must} did not run: {passed:?}");
    }
}
