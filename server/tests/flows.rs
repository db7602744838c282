//! Flows kefu-core decides and the server must carry end to end, over real sockets: skill
//! group membership and rules changed through the admin API, the group a page asks for in
//! `hello`, two groups under different rules, the group's display name, assignment by free
//! capacity, the robot's suggestions, and the idle timeout fired by the server's own timer.

mod common;

use std::time::Duration;

use common::{Client, TestServer, admin_token, demo_config, http, transfer_by_keyword};
use kefu_core::config::{Config, ServiceRule, WorkingHours};
use kefu_core::conversation::{EndedBy, EventBody, NoticeKind};
use kefu_core::protocol::{AgentFrame, AgentStatus, CustomerFrame, ServerFrame};

/// Sunday 2026-11-29 12:00 in Asia/Shanghai: outside the office hours of `Config::demo()`.
const SUNDAY_NOON_SHANGHAI: i64 = 1_795_924_800_000;
/// Monday 2026-11-30 09:00 in Asia/Shanghai: when those office hours open next.
const MONDAY_NINE_SHANGHAI: i64 = 1_796_000_400_000;

/// A customer connected with a `hello` asking for `group` (the host page's `data-group`),
/// past its `welcome`; returns the client and the welcome's `group_display_name`.
async fn customer_of(server: &TestServer, group: Option<&str>) -> (Client, String) {
    let mut client = Client::connect(&server.ws_url("/ws/customer"), None).await;
    client
        .send_customer(&CustomerFrame::Hello {
            visitor_token: None,
            resume: vec![],
            locale: Some("zh-CN".into()),
            group: group.map(str::to_owned),
            page: None,
            user: None,
        })
        .await;
    let welcome = client
        .expect(|frame| matches!(frame, ServerFrame::Welcome { .. }))
        .await;
    let ServerFrame::Welcome {
        group_display_name, ..
    } = welcome
    else {
        unreachable!()
    };
    (client, group_display_name)
}

/// The next chat assigned to an agent (its `snapshot`): the conversation id and its group.
async fn next_assignment(agent: &mut Client) -> (String, String) {
    match agent
        .expect(|frame| matches!(frame, ServerFrame::Snapshot { .. }))
        .await
    {
        ServerFrame::Snapshot { conversation, .. } => {
            (conversation.conversation_id, conversation.group)
        }
        _ => unreachable!(),
    }
}

/// The group a customer's conversation started in, from its `started` event.
fn started_group(customer: &Client) -> String {
    customer
        .events()
        .iter()
        .find_map(|event| match &event.body {
            EventBody::Started { group, .. } => Some(group.clone()),
            _ => None,
        })
        .expect("the conversation started")
}

/// What a customer is told after asking for a person: the notice (its kind and text), or
/// `None` when the chat was queued.
async fn transfer_outcome(
    customer: &mut Client,
    client_msg_id: &str,
) -> Option<(NoticeKind, String)> {
    customer.say(client_msg_id, "转人工").await;
    let (_, event) = customer
        .expect_event(|body| matches!(body, EventBody::Notice { .. } | EventBody::Queued { .. }))
        .await;
    match event.body {
        EventBody::Notice { notice, text } => Some((notice, text)),
        _ => None,
    }
}

/// A closed rule (no weekly hours) with its own messages.
fn closed_rule(name: &str, off_hours_message: &str) -> ServiceRule {
    ServiceRule {
        name: name.to_owned(),
        working_hours: WorkingHours {
            time_zone: "Asia/Shanghai".to_owned(),
            weekly: Vec::new(),
            exceptions: Vec::new(),
        },
        off_hours_message: off_hours_message.to_owned(),
        ..demo_config().rules[0].clone()
    }
}

/// An admin puts an agent into a group and binds the group to another rule through the admin
/// API; customers of that group feel both at once, customers of the other group neither.
#[tokio::test]
async fn an_admin_adds_a_member_to_a_group_and_binds_the_group_to_another_rule() {
    let server = TestServer::start(demo_config()).await;
    let admin = admin_token(&server).await;
    let lei_token = server.agent_session("lei", &[], 5).await;
    let mut lei = server.online_agent(&lei_token).await;
    let mei_token = server.agent_session("mei", &["support"], 5).await;
    let mut mei = server.online_agent(&mei_token).await;

    // lei is in no group yet: nobody of `sales` is online.
    let (mut first, _) = customer_of(&server, Some("sales")).await;
    let outcome = transfer_outcome(&mut first, "a1").await;
    assert!(
        matches!(outcome, Some((NoticeKind::NoAgentOnline, _))),
        "{outcome:?}"
    );

    // The admin makes lei a member of `sales`.
    let (status, body) = http(server.addr, "GET", "/api/admin/config", Some(&admin), None).await;
    assert_eq!(status, 200, "{body}");
    let config: serde_json::Value = serde_json::from_str(&body).unwrap();
    let mut groups = config["skill_groups"].clone();
    let sales = groups
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|group| group["name"] == "sales")
        .expect("the demo has a sales group");
    sales["members"] = serde_json::json!(["lei"]);
    let (status, body) = http(
        server.addr,
        "PUT",
        "/api/admin/config/skill_groups",
        Some(&admin),
        Some(&groups.to_string()),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let view: serde_json::Value = serde_json::from_str(&body).unwrap();
    let members = view["skill_groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|group| group["name"] == "sales")
        .map(|group| group["members"].clone());
    assert_eq!(members, Some(serde_json::json!(["lei"])), "{body}");
    let (_, agents) = http(server.addr, "GET", "/api/admin/agents", Some(&admin), None).await;
    let agents: serde_json::Value = serde_json::from_str(&agents).unwrap();
    let lei_groups = agents["agents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|agent| agent["login"] == "lei")
        .map(|agent| agent["groups"].clone());
    assert_eq!(lei_groups, Some(serde_json::json!(["sales"])), "{agents}");

    // The same customer asks again: now lei takes the chat.
    assert_eq!(transfer_outcome(&mut first, "a2").await, None);
    let (_, assigned) = first
        .expect_event(|body| matches!(body, EventBody::AgentAssigned { .. }))
        .await;
    assert!(
        matches!(&assigned.body, EventBody::AgentAssigned { agent_name, .. } if agent_name == "lei"),
        "{assigned:?}"
    );
    let (_, group) = next_assignment(&mut lei).await;
    assert_eq!(group, "sales");

    // The admin adds a closed rule and binds `sales` to it.
    let mut rules = config["rules"].clone();
    rules
        .as_array_mut()
        .unwrap()
        .push(serde_json::to_value(closed_rule("evening", "售前顾问已下班，明早九点见")).unwrap());
    let (status, body) = http(
        server.addr,
        "PUT",
        "/api/admin/config/rules",
        Some(&admin),
        Some(&rules.to_string()),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let view: serde_json::Value = serde_json::from_str(&body).unwrap();
    let mut groups = view["skill_groups"].clone();
    for group in groups.as_array_mut().unwrap() {
        if group["name"] == "sales" {
            group["rule"] = serde_json::json!("evening");
        }
    }
    let (status, body) = http(
        server.addr,
        "PUT",
        "/api/admin/config/skill_groups",
        Some(&admin),
        Some(&groups.to_string()),
    )
    .await;
    assert_eq!(status, 200, "{body}");

    // A new sales customer gets the evening rule's message, lei online or not ...
    let (mut late, _) = customer_of(&server, Some("sales")).await;
    let outcome = transfer_outcome(&mut late, "b1").await;
    assert_eq!(
        outcome,
        Some((
            NoticeKind::OffHours { next_opening: None },
            "售前顾问已下班，明早九点见".to_owned()
        ))
    );
    // ... while `support`, still under the open rule, queues and is served by mei.
    let (mut support, _) = customer_of(&server, None).await;
    assert_eq!(transfer_outcome(&mut support, "c1").await, None);
    let (_, group) = next_assignment(&mut mei).await;
    assert_eq!(group, "support");
}

/// The group a host page asks for (`data-group`, sent in `hello`) is the group the
/// conversation starts in, queues in and is served by; an unknown group falls back to the
/// default one.
#[tokio::test]
async fn a_visitor_who_chose_a_group_in_hello_lands_in_that_group() {
    let server = TestServer::start(demo_config()).await;
    let mei_token = server.agent_session("mei", &["support"], 5).await;
    let mut mei = server.online_agent(&mei_token).await;
    let lei_token = server.agent_session("lei", &["sales"], 5).await;
    let mut lei = server.online_agent(&lei_token).await;

    let (mut buyer, shown) = customer_of(&server, Some("sales")).await;
    assert_eq!(shown, "售前咨询");
    let conversation_id = transfer_by_keyword(&mut buyer, "m1").await;
    assert_eq!(started_group(&buyer), "sales");
    assert!(
        buyer
            .events()
            .iter()
            .any(|event| matches!(&event.body, EventBody::Queued { group } if group == "sales")),
        "{:?}",
        buyer.events()
    );
    assert_eq!(
        next_assignment(&mut lei).await,
        (conversation_id.clone(), "sales".to_owned())
    );

    // A visitor asking for a group that does not exist gets the default group; that chat is
    // the first (and only) one mei is given, so the sales chat never reached mei.
    let (mut lost, shown) = customer_of(&server, Some("no-such-group")).await;
    assert_eq!(shown, "在线客服");
    let other = transfer_by_keyword(&mut lost, "n1").await;
    assert_eq!(started_group(&lost), "support");
    assert_eq!(
        next_assignment(&mut mei).await,
        (other, "support".to_owned())
    );
    assert!(
        !mei.received.iter().any(|frame| matches!(
            frame,
            ServerFrame::Snapshot { conversation, .. } if conversation.conversation_id == conversation_id
        )),
        "the sales chat reached a support agent"
    );
}

/// Two groups under two rules: on a Sunday the always-open `support` queues a transfer, the
/// office-hours `sales` answers with its own off-hours message and next opening.
#[tokio::test]
async fn two_groups_under_different_rules_each_apply_their_own_rule() {
    let mut config = demo_config();
    let mut office = Config::demo().rules[0].clone();
    office.name = "office".to_owned();
    office.off_hours_message = "售前咨询工作日 9 点上班，周末请留言".to_owned();
    config.rules.push(office);
    for group in &mut config.skill_groups {
        if group.name == "sales" {
            group.rule = "office".to_owned();
        }
    }
    let server = TestServer::start_at(config, SUNDAY_NOON_SHANGHAI).await;
    let mei_token = server.agent_session("mei", &["support"], 5).await;
    let mut mei = server.online_agent(&mei_token).await;
    let lei_token = server.agent_session("lei", &["sales"], 5).await;
    let _lei = server.online_agent(&lei_token).await;

    let (mut buyer, _) = customer_of(&server, Some("sales")).await;
    let outcome = transfer_outcome(&mut buyer, "b1").await;
    assert_eq!(
        outcome,
        Some((
            NoticeKind::OffHours {
                next_opening: Some(MONDAY_NINE_SHANGHAI)
            },
            "售前咨询工作日 9 点上班，周末请留言".to_owned()
        ))
    );

    let (mut asker, _) = customer_of(&server, Some("support")).await;
    assert_eq!(transfer_outcome(&mut asker, "a1").await, None);
    asker
        .expect_event(|body| matches!(body, EventBody::AgentAssigned { .. }))
        .await;
    assert_eq!(next_assignment(&mut mei).await.1, "support");
    assert!(
        !asker
            .events()
            .iter()
            .any(|event| matches!(event.body, EventBody::Notice { .. })),
        "{:?}",
        asker.events()
    );
}

/// The welcome names the group the customer is talking to, as the operator named it.
#[tokio::test]
async fn the_groups_display_name_reaches_the_customer() {
    let mut config = demo_config();
    // Not the widget's own fallback title (在线客服), so the name must come from the server.
    config.skill_groups[0].display_name = "小店客服中心".to_owned();
    let server = TestServer::start(config).await;
    let (_, shown) = customer_of(&server, None).await;
    assert_eq!(shown, "小店客服中心");
    let (_, shown) = customer_of(&server, Some("support")).await;
    assert_eq!(shown, "小店客服中心");
    let (_, shown) = customer_of(&server, Some("sales")).await;
    assert_eq!(shown, "售前咨询");
}

/// Of two agents of a group, the one with more free chat slots gets the next chat, even
/// when the other has fewer chats and has waited longer; on a tie, the longest idle wins.
#[tokio::test]
async fn a_chat_goes_to_the_agent_with_more_free_capacity() {
    let server = TestServer::start(demo_config()).await;
    // bo (2 slots) connects first but stays offline: idle since the start.
    let bo_token = server.agent_session("bo", &["support"], 2).await;
    let mut bo = Client::connect(&server.ws_url("/ws/agent"), None).await;
    bo.send_agent(&AgentFrame::Hello {
        session_token: bo_token,
        resume: vec![],
    })
    .await;
    bo.expect(|frame| matches!(frame, ServerFrame::AgentWelcome { .. }))
        .await;
    server.advance(60_000).await;
    // al (5 slots) comes online alone a minute later and takes two chats.
    let al_token = server.agent_session("al", &["support"], 5).await;
    let mut al = server.online_agent(&al_token).await;
    let mut customers = Vec::new();
    for index in 0..2 {
        let mut customer = server.customer().await;
        let conversation_id = transfer_by_keyword(&mut customer, &format!("m{index}")).await;
        assert_eq!(next_assignment(&mut al).await.0, conversation_id);
        customers.push(customer);
    }
    server.advance(60_000).await;
    bo.send_agent(&AgentFrame::SetStatus {
        status: AgentStatus::Online,
    })
    .await;
    bo.expect(|frame| matches!(frame, ServerFrame::AgentStatus { .. }))
        .await;

    // al: 2 of 5 (3 free); bo: 0 of 2 (2 free), idle longer. The chat goes to al.
    let mut third = server.customer().await;
    let conversation_id = transfer_by_keyword(&mut third, "m3").await;
    let (_, assigned) = third
        .expect_event(|body| matches!(body, EventBody::AgentAssigned { .. }))
        .await;
    assert!(
        matches!(&assigned.body, EventBody::AgentAssigned { agent_name, .. } if agent_name == "al"),
        "{assigned:?}"
    );
    assert_eq!(next_assignment(&mut al).await.0, conversation_id);

    // al: 3 of 5 (2 free); bo: 2 free and idle longer: now bo.
    let mut fourth = server.customer().await;
    let conversation_id = transfer_by_keyword(&mut fourth, "m4").await;
    let (_, assigned) = fourth
        .expect_event(|body| matches!(body, EventBody::AgentAssigned { .. }))
        .await;
    assert!(
        matches!(&assigned.body, EventBody::AgentAssigned { agent_name, .. } if agent_name == "bo"),
        "{assigned:?}"
    );
    assert_eq!(next_assignment(&mut bo).await.0, conversation_id);
}

/// A question the robot cannot settle (密码: forgotten or changed?) gets the no-answer reply
/// with the candidate questions as suggestions.
#[tokio::test]
async fn the_robot_offers_suggestions_with_their_questions() {
    let server = TestServer::start(demo_config()).await;
    let mut customer = server.customer().await;
    customer.say("m1", "密码").await;
    let (_, reply) = customer
        .expect_event(|body| {
            matches!(
                body,
                EventBody::RobotAnswer { .. } | EventBody::RobotMiss { .. }
            )
        })
        .await;
    let EventBody::RobotMiss { suggestions, .. } = &reply.body else {
        panic!("expected a miss with suggestions: {reply:?}")
    };
    let questions: Vec<&str> = suggestions
        .iter()
        .map(|suggestion| suggestion.question.as_str())
        .collect();
    assert!(questions.contains(&"忘记密码怎么办？"), "{questions:?}");
    assert!(questions.contains(&"如何修改登录密码？"), "{questions:?}");
    assert!(
        suggestions
            .iter()
            .any(|suggestion| suggestion.id == "kb-001"),
        "{suggestions:?}"
    );
    assert!(suggestions.len() <= 3, "{suggestions:?}");
}

/// The idle timeout fires from the server's own periodic timer: the test only moves the
/// clock past the rule's timeout (it never runs the hub's checks itself) and waits, with a
/// deadline, for what the customer and the agent see.
#[tokio::test]
async fn the_servers_own_timer_ends_an_idle_chat() {
    let mut config = demo_config();
    config.rules[0].idle_timeout_minutes = 1;
    config.rules[0].idle_timeout_message = "一分钟没有回复，会话已结束".to_owned();
    let server = TestServer::start(config).await;
    let token = server.agent_session("mei", &["support"], 5).await;
    let mut agent = server.online_agent(&token).await;
    let mut customer = server.customer().await;
    let conversation_id = transfer_by_keyword(&mut customer, "m1").await;
    assert_eq!(next_assignment(&mut agent).await.0, conversation_id);

    server.clock.advance(60_000);
    let deadline = Duration::from_secs(5);
    let (_, notice) = tokio::time::timeout(
        deadline,
        customer.expect_event(|body| matches!(body, EventBody::Notice { .. })),
    )
    .await
    .expect("the idle-timeout notice within 5 s of the timeout");
    assert_eq!(
        notice.body,
        EventBody::Notice {
            notice: NoticeKind::IdleTimeout,
            text: "一分钟没有回复，会话已结束".to_owned()
        }
    );
    let (_, ended) = tokio::time::timeout(
        deadline,
        customer.expect_event(|body| matches!(body, EventBody::Ended { .. })),
    )
    .await
    .expect("the end within 5 s of the timeout");
    assert_eq!(
        ended.body,
        EventBody::Ended {
            by: EndedBy::IdleTimeout
        }
    );
    let (ended_for, _) = tokio::time::timeout(
        deadline,
        agent.expect_event(|body| {
            matches!(
                body,
                EventBody::Ended {
                    by: EndedBy::IdleTimeout
                }
            )
        }),
    )
    .await
    .expect("the agent sees the end within 5 s");
    assert_eq!(ended_for, conversation_id);
}
