//! The agent workspace's parts in headless Chromium, fed with protocol frames as the server
//! would send them, used by role and name, checked by what is visible.

mod support;

use kefu_core::conversation::{EndedBy, Event, EventBody, Phase, TransferReason};
use kefu_core::protocol::{
    AgentProfile, AgentStatus, ConversationSummary, GroupChoice, PageInfo, PastConversation,
    ServerFrame, UserIdentity, VisitorProfile,
};
use kefu_widget::agent::session::AgentSession;
use kefu_widget::agent::workspace::{ConversationList, CustomerInfo};
use kefu_widget::i18n::Lang;
use leptos::prelude::*;
use support::{all_by_role, by_role, key_down, mount, settle, type_into};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

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
                reason: TransferReason::Button,
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
    let mut attributes = std::collections::BTreeMap::new();
    attributes.insert("plan".to_owned(), "gold <b>".to_owned());
    let user = UserIdentity {
        id: format!("user-{id}"),
        name: Some(name.into()),
        email: Some(format!("{id}@example.com")),
        attributes,
        ..Default::default()
    };
    let page = PageInfo {
        url: "https://shop.example/cart".into(),
        title: "购物车".into(),
        referrer: "https://search.example/".into(),
    };
    ServerFrame::Snapshot {
        conversation: ConversationSummary {
            conversation_id: id.into(),
            visitor: VisitorProfile {
                visitor_id: "v".into(),
                user: Some(user),
                page: Some(page),
                locale: Some("zh-CN".into()),
                verified: true,
                browser: Some("Chrome 131 · Windows".into()),
                first_seen: Some(1_764_000_000_000),
                visits: 3,
                previous_conversations: vec![PastConversation {
                    conversation_id: "old".into(),
                    started_at: 1_764_000_000_000,
                    ended_at: Some(1_764_000_300_000),
                    group: "support".into(),
                    first_message: "<i>上次</i>的发票".into(),
                }],
                online: true,
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

fn session_with(conversations: &[(&str, &str, &str)]) -> RwSignal<AgentSession> {
    let mut session = AgentSession::new("token".into());
    session.on_frame(welcome(), 0.0);
    for (id, name, text) in conversations {
        session.on_frame(snapshot(id, name, text), 0.0);
    }
    RwSignal::new(session)
}

/// Current chats are listed; an ended one moves to 已结束, where the search finds it by text.
#[wasm_bindgen_test]
async fn ended_chats_move_to_the_ended_list_and_are_found_by_search() {
    let session = session_with(&[("c1", "王小明", "我要退货"), ("c2", "李雷", "发票怎么开")]);
    let lang = RwSignal::new(Lang::Zh);
    let container = mount(move || view! { <ConversationList lang session/> }.into_any());
    settle().await;
    let chats: Vec<String> = all_by_role(&container, "button")
        .into_iter()
        .map(|(name, _)| name)
        .collect();
    assert!(chats.contains(&"王小明: 我要退货".to_owned()), "{chats:?}");
    assert!(chats.contains(&"李雷: 发票怎么开".to_owned()), "{chats:?}");

    session.update(|session| {
        let end = Event {
            seq: 6,
            at: 6,
            body: EventBody::Ended {
                by: EndedBy::Customer,
            },
        };
        session.on_frame(
            ServerFrame::Event {
                conversation_id: "c1".into(),
                event: end,
            },
            0.0,
        );
    });
    settle().await;
    let chats: Vec<String> = all_by_role(&container, "button")
        .into_iter()
        .map(|(name, _)| name)
        .collect();
    assert!(
        !chats.contains(&"王小明: 我要退货".to_owned()),
        "an ended chat leaves the current list: {chats:?}"
    );

    by_role(&container, "button", "已结束").click();
    settle().await;
    let search = by_role(&container, "searchbox", "按访客或内容搜索");
    type_into(&search, "退货");
    settle().await;
    by_role(&container, "button", "王小明: 我要退货");
    type_into(&search, "发票");
    settle().await;
    assert!(
        // A search without a match says so, not that there are no ended chats (#15).
        container.inner_text().contains("没有匹配的会话"),
        "{}",
        container.inner_text()
    );
}

/// Alt+↓ / Alt+↑ move between chats from the keyboard.
#[wasm_bindgen_test]
async fn alt_arrows_switch_between_chats() {
    let session = session_with(&[("c1", "甲", "一"), ("c2", "乙", "二")]);
    let lang = RwSignal::new(Lang::En);
    let container = mount(move || view! { <ConversationList lang session/> }.into_any());
    settle().await;
    let current = |name: &str| {
        by_role(&container, "button", name)
            .get_attribute("aria-current")
            .as_deref()
            == Some("true")
    };
    assert!(current("甲: 一"));
    let window = web_sys::window().unwrap();
    key_down(&window, "ArrowDown", false, false);
    settle().await;
    assert!(
        current("甲: 一"),
        "a plain arrow key (e.g. in the composer) does not switch chats"
    );
    key_down(&window, "ArrowUp", false, true);
    settle().await;
    assert!(current("乙: 二"), "Alt+↑ moves up the list (newest first)");
    key_down(&window, "ArrowDown", false, true);
    settle().await;
    assert!(current("甲: 一"), "Alt+↓ moves down");
    key_down(&window, "ArrowDown", false, true);
    settle().await;
    assert!(current("乙: 二"), "Alt+↓ on the last wraps to the first");
}

/// 会员信息 shows what setUser and the browser told, as text (never as HTML), the user id
/// isolated from its verdict.
#[wasm_bindgen_test]
async fn customer_info_shows_the_profile_and_the_page() {
    let session = session_with(&[("c1", "王小明", "我要退货")]);
    let lang = RwSignal::new(Lang::Zh);
    let container = mount(move || view! { <CustomerInfo lang session/> }.into_any());
    settle().await;
    let info = by_role(&container, "complementary", "会员信息");
    // What a visitor or a site chose sits in bidi isolates (FSI … PDI) next to our own words,
    // so an override inside it cannot turn them around; the words read the same without them.
    assert!(
        info.inner_text()
            .contains("\u{2068}user-c1\u{2069} (已验证)"),
        "{}",
        info.inner_text()
    );
    let text = info.inner_text().replace(['\u{2068}', '\u{2069}'], "");
    for expected in [
        "王小明",
        "user-c1 (已验证)",
        "c1@example.com",
        "购物车 — https://shop.example/cart",
        "https://search.example/",
        "gold <b>",
        "zh-CN",
        "Chrome 131 · Windows",
        "访问次数",
        "2025",
    ] {
        assert!(text.contains(expected), "{expected:?} missing in {text}");
    }
    assert!(
        info.query_selector("b").unwrap().is_none(),
        "attribute values are text, not HTML"
    );
    let history = by_role(&container, "region", "历史会话").inner_text();
    assert!(
        history.contains("<i>上次</i>的发票"),
        "the earlier question, as text: {history}"
    );
    assert!(info.query_selector("i").unwrap().is_none());
}

/// Switching the language redraws rows already on screen, not only new ones.
#[wasm_bindgen_test]
async fn a_language_switch_redraws_the_rows_already_shown() {
    let session = session_with(&[("c1", "王小明", "我要退货")]);
    let lang = RwSignal::new(Lang::En);
    let container = mount(move || view! { <ConversationList lang session/> }.into_any());
    settle().await;
    assert!(
        container.inner_text().contains("waiting"),
        "{}",
        container.inner_text()
    );
    lang.set(Lang::Zh);
    settle().await;
    let text = container.inner_text();
    assert!(text.contains("等待") && !text.contains("waiting"), "{text}");
}
