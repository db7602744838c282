//! The widget's components in headless Chromium: mounted, used like a person would (found by
//! role and accessible name), and checked by what is visible.

use std::rc::Rc;

use kefu_core::config::{Config, KnowledgeItem, ServiceMode};
use kefu_widget::customer::backend::{Backend, LocalBackend};
use kefu_widget::customer::panel::CustomerPanel;
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::{HtmlElement, HtmlTextAreaElement};

wasm_bindgen_test_configure!(run_in_browser);

mod support;

use support::{accessible_name, ask, by_role, eventually, log_text, mount, settle, type_into};

fn press_enter(element: &HtmlElement, shift: bool) {
    support::key_down(element, "Enter", shift, false);
}

/// Typed while offline, a message stays visible as "sending" (it goes out on reconnect);
/// Shift+Enter does not send; the text is shown literally, never as HTML.
#[wasm_bindgen_test]
async fn customer_panel_keeps_offline_messages_as_sending_and_shows_text_literally() {
    let container = mount(|| view! { <kefu_widget::customer::panel::CustomerPanel/> }.into_any());
    settle().await;
    by_role(&container, "dialog", "Customer service");
    let composer = by_role(&container, "textbox", "Type a message");

    type_into(&composer, "first line");
    press_enter(&composer, true);
    settle().await;
    let log = by_role(&container, "log", "Conversation");
    assert!(
        !log.inner_text().contains("first line"),
        "Shift+Enter must not send"
    );

    type_into(&composer, "<img src=x onerror=alert(1)>");
    press_enter(&composer, false);
    settle().await;
    let text = log.inner_text();
    assert!(text.contains("<img src=x onerror=alert(1)>"), "{text}");
    assert!(text.contains("Sending"), "{text}");
    assert!(
        log.query_selector("img").unwrap().is_none(),
        "message text must never become HTML"
    );
    assert_eq!(
        composer.unchecked_ref::<HtmlTextAreaElement>().value(),
        "",
        "the composer is cleared"
    );
}

/// The agent workspace starts at the login form, with labelled fields, and switches language.
#[wasm_bindgen_test]
async fn agent_app_starts_with_a_labelled_login_form_in_both_languages() {
    let container = mount(|| view! { <kefu_widget::agent::workspace::AgentApp/> }.into_any());
    settle().await;
    by_role(&container, "textbox", "Login");
    by_role(&container, "textbox", "Password");
    by_role(&container, "button", "Log in");
    by_role(&container, "button", "中文").click();
    settle().await;
    by_role(&container, "textbox", "账号");
    by_role(&container, "button", "登录");
}

/// Mounts the customer panel over `backend` (the in-browser one: no server needed).
fn mount_local(backend: &LocalBackend) -> HtmlElement {
    support::mount_panel(Rc::new(backend.clone()))
}

/// The demo configuration plus one answer that tries to smuggle a `javascript:` link and HTML.
fn config_with_hostile_answer() -> Config {
    let mut config = Config::demo();
    config.knowledge.push(KnowledgeItem {
        id: "kb-hostile".into(),
        category: "test".into(),
        question: "zebra hostile question".into(),
        similar: Vec::new(),
        answer: "[click me](javascript:alert(1)) <img src=x onerror=alert(1)>\n- [safe](https://example.com/safe)".into(),
        enabled: true,
    });
    config
}

/// Robot answers use the safe subset: a list from `- ` lines and http(s) links opened
/// without an opener; everything else (a `javascript:` link, HTML) stays literal text.
#[wasm_bindgen_test]
async fn robot_answers_render_lists_and_safe_links_and_nothing_else() {
    let backend = LocalBackend::demo();
    let container = mount_local(&backend);
    eventually("the panel is connected", || {
        container.inner_text().contains("Assistant")
    })
    .await;

    ask(&container, "退款多久到账？").await;
    eventually("the robot answers with a list", || {
        log_text(&container).contains("银行卡")
    })
    .await;
    let log = by_role(&container, "log", "Conversation");
    let items = log.query_selector_all("ul li").unwrap();
    assert_eq!(items.length(), 2, "{}", log.inner_html());

    ask(&container, "退货政策是什么？").await;
    eventually("the robot answers with a link", || {
        log_text(&container).contains("退货政策")
    })
    .await;
    let link = by_role(&container, "link", "退货政策");
    assert_eq!(
        link.get_attribute("href").as_deref(),
        Some("https://example.com/returns")
    );
    assert_eq!(
        link.get_attribute("rel").as_deref(),
        Some("noopener noreferrer")
    );
    assert_eq!(link.get_attribute("target").as_deref(), Some("_blank"));

    let hostile = LocalBackend::with_config(config_with_hostile_answer());
    let container = mount_local(&hostile);
    eventually("the second panel is connected", || {
        container.inner_text().contains("Assistant")
    })
    .await;
    ask(&container, "zebra hostile question").await;
    eventually("the hostile answer arrives", || {
        log_text(&container).contains("[click me](javascript:alert(1))")
    })
    .await;
    let log = by_role(&container, "log", "Conversation");
    assert!(
        log.query_selector("img").unwrap().is_none(),
        "HTML in an answer must stay text"
    );
    let links = log.query_selector_all("a").unwrap();
    assert_eq!(
        links.length(),
        1,
        "only the https link is a link: {}",
        log.inner_html()
    );
    by_role(&container, "link", "safe");
}

/// The header follows the conversation; a miss offers suggestion chips and clicking one asks
/// that question; the transfer button (robot_first) meets the no-agent notice when nobody
/// is online, and the conversation stays with the robot.
#[wasm_bindgen_test]
async fn panel_shows_states_suggestions_and_the_transfer_button() {
    let backend = LocalBackend::demo();
    let container = mount_local(&backend);
    eventually("the robot state is shown", || {
        container.inner_text().contains("Assistant")
    })
    .await;
    // The test browser speaks English: the panel's title is the English one.
    by_role(&container, "dialog", "Customer service");

    ask(&container, "密码").await;
    eventually("a suggestion chip appears", || {
        log_text(&container).contains("忘记密码怎么办？")
    })
    .await;
    by_role(&container, "button", "忘记密码怎么办？").click();
    eventually("the suggestion is asked and answered", || {
        log_text(&container).contains("别担心")
    })
    .await;
    assert_eq!(
        backend.stored_customer_messages(),
        ["密码", "忘记密码怎么办？"]
    );

    by_role(&container, "button", "Talk to a person").click();
    eventually("the no-agent notice is shown", || {
        log_text(&container).contains("No agent is online right now")
    })
    .await;
    assert!(
        container.inner_text().contains("Assistant"),
        "still with the robot: {}",
        container.inner_text()
    );

    // robot_only: no transfer button at all.
    let mut robot_only = Config::demo();
    robot_only.service.mode = ServiceMode::RobotOnly;
    let container = mount_local(&LocalBackend::with_config(robot_only));
    eventually("the robot-only panel is connected", || {
        container.inner_text().contains("Assistant")
    })
    .await;
    let has_transfer = container
        .query_selector(".kefu-transfer")
        .unwrap()
        .is_some();
    assert!(!has_transfer, "robot_only has no transfer button");
}

/// Offline, messages show "Sending"; back online, the panel resumes and each goes out once,
/// in the order typed, and is shown once.
#[wasm_bindgen_test]
async fn messages_typed_offline_go_out_once_in_order_after_reconnecting() {
    let backend = LocalBackend::demo();
    let container = mount_local(&backend);
    eventually("the panel is connected", || {
        container.inner_text().contains("Assistant")
    })
    .await;
    ask(&container, "发票").await;
    eventually("the first answer arrives", || {
        log_text(&container).contains("发票抬头")
    })
    .await;

    backend.set_online(false);
    settle().await;
    assert!(
        container.inner_text().contains("Connecting"),
        "{}",
        container.inner_text()
    );
    ask(&container, "第一条").await;
    ask(&container, "第二条").await;
    assert_eq!(
        log_text(&container).matches("Sending").count(),
        2,
        "{}",
        log_text(&container)
    );

    backend.set_online(true);
    eventually("both messages are acknowledged", || {
        !log_text(&container).contains("Sending")
    })
    .await;
    assert_eq!(
        backend.stored_customer_messages(),
        ["发票", "第一条", "第二条"]
    );
    let text = log_text(&container);
    assert_eq!(text.matches("第一条").count(), 1, "{text}");
    assert!(text.find("第一条") < text.find("第二条"), "{text}");
    // A reconnect that resumes repeats nothing either.
    backend.reconnect();
    settle().await;
    eventually("reconnected", || {
        container.inner_text().contains("Assistant")
    })
    .await;
    assert_eq!(log_text(&container).matches("第二条").count(), 1);
}

/// Opened on its own, the panel puts the focus in the composer, and every control has a name.
#[wasm_bindgen_test]
async fn panel_focuses_the_composer_and_names_every_control() {
    let container = mount_local(&LocalBackend::demo());
    let composer = by_role(&container, "textbox", "Type a message");
    eventually("the composer has the focus", || {
        document()
            .active_element()
            .is_some_and(|active| &active == composer.unchecked_ref::<web_sys::Element>())
    })
    .await;
    let controls = container
        .query_selector_all("button, textarea, input, a")
        .unwrap();
    for index in 0..controls.length() {
        let element: web_sys::Element = controls.item(index).unwrap().unchecked_into();
        assert!(
            !accessible_name(&element).is_empty(),
            "unnamed control: {}",
            element.outer_html()
        );
    }
}

/// A backend driven by the test: it records what the panel sends and delivers the frames the
/// test gives it, as a server would.
#[derive(Clone, Default)]
struct ScriptedBackend {
    listener: Rc<std::cell::RefCell<Option<Rc<kefu_widget::customer::backend::Listener>>>>,
    sent: Rc<std::cell::RefCell<Vec<kefu_core::protocol::CustomerFrame>>>,
}

impl Backend for ScriptedBackend {
    fn start(&self, listener: kefu_widget::customer::backend::Listener) {
        *self.listener.borrow_mut() = Some(Rc::new(listener));
    }
    fn send(&self, frame: &kefu_core::protocol::CustomerFrame) -> bool {
        self.sent.borrow_mut().push(frame.clone());
        true
    }
    fn reconnect(&self) {}
    fn remembers_visitor(&self) -> bool {
        false
    }
}

impl ScriptedBackend {
    fn open(&self) {
        let listener = self.listener.borrow().clone().expect("started");
        (listener.on_open)();
    }
    fn deliver(&self, frame: kefu_core::protocol::ServerFrame) {
        let listener = self.listener.borrow().clone().expect("started");
        (listener.on_frame)(frame);
    }
    fn event(&self, seq: u64, body: kefu_core::conversation::EventBody) {
        let event = kefu_core::conversation::Event {
            seq,
            at: seq as i64,
            body,
        };
        self.deliver(kefu_core::protocol::ServerFrame::Event {
            conversation_id: "c1".into(),
            event,
        });
    }
}

/// The header follows the conversation through the queue (with its position), a human agent
/// (by name) and the end; the transfer button is offered only while the robot serves, and
/// notices read as system lines.
#[wasm_bindgen_test]
async fn panel_header_follows_queue_agent_and_end() {
    use kefu_core::conversation::{EndedBy, EventBody, NoticeKind, TransferReason};
    use kefu_core::protocol::ServerFrame;

    let backend = ScriptedBackend::default();
    let panel_backend: Rc<dyn Backend> = Rc::new(backend.clone());
    let container = mount(move || view! { <CustomerPanel backend=panel_backend/> }.into_any());
    settle().await;
    backend.open();
    assert!(
        matches!(
            backend.sent.borrow().first(),
            Some(kefu_core::protocol::CustomerFrame::Hello { .. })
        ),
        "hello first"
    );
    backend.deliver(ServerFrame::Welcome {
        visitor_token: "t".into(),
        visitor_id: "v".into(),
        conversation_id: None,
        group_display_name: "售后服务".into(),
        service_mode: ServiceMode::RobotFirst,
        transfer_button: true,
        server_time: 0,
        greeting: String::new(),
    });
    settle().await;
    by_role(&container, "dialog", "售后服务");
    let status = || {
        container
            .query_selector("[role=status]")
            .unwrap()
            .unwrap()
            .text_content()
            .unwrap_or_default()
    };
    assert_eq!(status(), "Assistant");
    by_role(&container, "button", "Talk to a person");

    backend.event(
        1,
        EventBody::Started {
            conversation_id: "c1".into(),
            visitor_id: "v".into(),
            group: "support".into(),
        },
    );
    backend.event(
        2,
        EventBody::TransferRequested {
            reason: TransferReason::Button,
        },
    );
    backend.event(
        3,
        EventBody::Queued {
            group: "support".into(),
        },
    );
    backend.deliver(ServerFrame::QueuePosition {
        conversation_id: "c1".into(),
        position: 2,
    });
    settle().await;
    assert_eq!(status(), "In line, position 2");
    assert!(
        container
            .query_selector(".kefu-transfer")
            .unwrap()
            .is_none(),
        "no transfer button while queued"
    );
    assert!(log_text(&container).contains("You are in line, please wait."));

    backend.event(
        4,
        EventBody::AgentAssigned {
            agent_id: "a1".into(),
            agent_name: "小美".into(),
        },
    );
    backend.event(
        5,
        EventBody::AgentMessage {
            agent_id: "a1".into(),
            client_msg_id: "r1".into(),
            text: "您好 [不是链接](https://example.com)".into(),
        },
    );
    settle().await;
    assert_eq!(status(), "Chatting with 小美");
    let log = by_role(&container, "log", "Conversation");
    assert!(
        log.inner_text()
            .contains("您好 [不是链接](https://example.com)"),
        "agent text stays plain: {}",
        log.inner_text()
    );
    assert!(
        log.query_selector("a").unwrap().is_none(),
        "no link in an agent message"
    );

    backend.event(
        6,
        EventBody::Ended {
            by: EndedBy::Customer,
        },
    );
    backend.event(
        7,
        EventBody::Notice {
            notice: NoticeKind::IdleTimeout,
            text: String::new(),
        },
    );
    settle().await;
    assert_eq!(status(), "Conversation ended");
    let text = log_text(&container);
    assert!(
        text.contains("You ended the conversation with the agent."),
        "{text}"
    );
    assert!(
        text.contains("The conversation ended after a long silence."),
        "{text}"
    );
    by_role(&container, "button", "Talk to a person");
}

/// The operator's greeting (widget settings) opens the conversation, as text.
#[wasm_bindgen_test]
async fn the_panel_opens_with_the_operators_greeting_as_text() {
    let mut config = Config::demo();
    // The test browser speaks English, so the panel shows the operator's English greeting.
    config.widget.english.greeting = "<b>Welcome</b> to the Kefu shop".into();
    let container = mount_local(&LocalBackend::with_config(config));
    eventually("the greeting is shown", || {
        log_text(&container).contains("<b>Welcome</b> to the Kefu shop")
    })
    .await;
    let log = by_role(&container, "log", "Conversation");
    assert!(
        log.query_selector("b").unwrap().is_none(),
        "the greeting is text, not HTML"
    );

    let mut silent = Config::demo();
    silent.widget.greeting = "  ".into();
    let container = mount_local(&LocalBackend::with_config(silent));
    eventually("the panel is connected", || {
        container.inner_text().contains("Assistant")
    })
    .await;
    assert!(
        log_text(&container).trim().is_empty(),
        "no greeting, no empty bubble: {:?}",
        log_text(&container)
    );
}
