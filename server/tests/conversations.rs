//! The server over real WebSocket connections: the robot, transfers, routing, the human
//! conversation, idempotent sends, resume, bad frames and authorization.

mod common;

use std::time::Duration;

use common::{Client, TestServer, demo_config, hello};
use kefu_core::conversation::{EndedBy, EventBody, NoticeKind};
use kefu_core::protocol::{AgentFrame, CustomerFrame, ErrorCode, ServerFrame};

/// A question from the knowledge base is answered by the robot; an unrelated one gets the
/// no-answer reply.
#[tokio::test]
async fn the_robot_answers_a_hit_and_replies_to_a_miss() {
    let server = TestServer::start(demo_config()).await;
    let mut customer = server.customer().await;
    customer.say("m1", "忘记密码怎么办？").await;
    let (_, answer) = customer
        .expect_event(|body| {
            matches!(
                body,
                EventBody::RobotAnswer { .. } | EventBody::RobotMiss { .. }
            )
        })
        .await;
    assert!(
        matches!(&answer.body, EventBody::RobotAnswer { knowledge_id: Some(id), .. } if id == "kb-001"),
        "{answer:?}"
    );
    customer.say("m2", "今天天气怎么样").await;
    let (_, miss) = customer
        .expect_event(|body| {
            matches!(
                body,
                EventBody::RobotAnswer { .. } | EventBody::RobotMiss { .. }
            )
        })
        .await;
    assert!(matches!(miss.body, EventBody::RobotMiss { .. }), "{miss:?}");
}

/// Keyword transfer with an agent online: the customer is assigned, the agent gets the whole
/// log (robot part included), messages flow both ways, and 结束会话 ends it on both sides.
#[tokio::test]
async fn a_transfer_reaches_an_online_agent_and_messages_flow_both_ways() {
    let server = TestServer::start(demo_config()).await;
    let token = server.agent_session("mei", &["support"], 5).await;
    let mut agent = server.online_agent(&token).await;
    let mut customer = server.customer().await;
    customer.say("m1", "你好").await;
    let (_, robot) = customer
        .expect_event(|body| {
            matches!(
                body,
                EventBody::RobotMiss { .. } | EventBody::RobotAnswer { .. }
            )
        })
        .await;
    customer.say("m2", "转人工").await;
    customer
        .expect_event(|body| matches!(body, EventBody::AgentAssigned { .. }))
        .await;

    let snapshot = agent
        .expect(|frame| matches!(frame, ServerFrame::Snapshot { .. }))
        .await;
    let ServerFrame::Snapshot {
        conversation,
        events,
    } = snapshot
    else {
        unreachable!()
    };
    assert!(events.iter().any(
        |event| matches!(&event.body, EventBody::CustomerMessage { text, .. } if text == "你好")
    ));
    // The robot's reply, exactly as the customer read it, is in the agent's log too.
    let robot_text = match &robot.body {
        EventBody::RobotMiss { text, .. } | EventBody::RobotAnswer { text, .. } => text.clone(),
        _ => unreachable!(),
    };
    assert!(!robot_text.is_empty());
    assert!(
        events.contains(&robot),
        "the robot's reply {robot_text:?} is not in the agent's log: {events:#?}"
    );
    let conversation_id = conversation.conversation_id;

    agent.reply(&conversation_id, "r1", "您好").await;
    agent.expect(|frame| matches!(frame, ServerFrame::Ack { client_msg_id, .. } if client_msg_id == "r1")).await;
    customer
        .expect_event(|body| matches!(body, EventBody::AgentMessage { text, .. } if text == "您好"))
        .await;

    customer.say("m3", "我要查订单").await;
    agent
        .expect_event(
            |body| matches!(body, EventBody::CustomerMessage { text, .. } if text == "我要查订单"),
        )
        .await;

    customer.say("m4", "　结束会话 ").await;
    customer
        .expect_event(|body| {
            matches!(
                body,
                EventBody::Ended {
                    by: EndedBy::Customer
                }
            )
        })
        .await;
    agent
        .expect_event(|body| {
            matches!(
                body,
                EventBody::Ended {
                    by: EndedBy::Customer
                }
            )
        })
        .await;
}

/// Asking for a person when no agent of the group is online gives the no-agent message and
/// keeps the customer with the robot.
#[tokio::test]
async fn a_transfer_without_agents_gives_the_no_agent_message() {
    let server = TestServer::start(demo_config()).await;
    let mut customer = server.customer().await;
    customer
        .send_customer(&CustomerFrame::Transfer {
            client_msg_id: None,
        })
        .await;
    let (_, notice) = customer
        .expect_event(|body| matches!(body, EventBody::Notice { .. }))
        .await;
    assert!(
        matches!(
            notice.body,
            EventBody::Notice {
                notice: NoticeKind::NoAgentOnline,
                ..
            }
        ),
        "{notice:?}"
    );
}

/// The same client message id sent twice is stored once and acknowledged twice with one seq.
#[tokio::test]
async fn a_repeated_send_is_stored_once() {
    let server = TestServer::start(demo_config()).await;
    let mut customer = server.customer().await;
    customer.say("same", "忘记密码怎么办？").await;
    let first = customer
        .expect(|frame| matches!(frame, ServerFrame::Ack { .. }))
        .await;
    customer.say("same", "忘记密码怎么办？").await;
    let second = customer
        .expect(|frame| matches!(frame, ServerFrame::Ack { .. }))
        .await;
    assert_eq!(first, second);
    customer.drain(Duration::from_millis(300)).await;
    let stored = customer
        .events()
        .iter()
        .filter(|event| matches!(&event.body, EventBody::CustomerMessage { client_msg_id, .. } if client_msg_id == "same"))
        .count();
    assert_eq!(stored, 1);
}

/// A customer reconnecting with its token and last seq gets exactly the events it missed.
#[tokio::test]
async fn a_resuming_customer_gets_each_missing_event_once() {
    let server = TestServer::start(demo_config()).await;
    let mut customer = server.customer().await;
    let ServerFrame::Welcome { visitor_token, .. } = customer.received[0].clone() else {
        panic!()
    };
    customer.say("m1", "忘记密码怎么办？").await;
    let (conversation_id, answer) = customer
        .expect_event(|body| matches!(body, EventBody::RobotAnswer { .. }))
        .await;
    let seen = answer.seq - 1;
    drop(customer);

    let mut again = Client::connect(&server.ws_url("/ws/customer"), None).await;
    let cursor = kefu_core::protocol::ResumeCursor {
        conversation_id: conversation_id.clone(),
        after_seq: seen,
    };
    again
        .send_customer(&hello(Some(visitor_token), vec![cursor]))
        .await;
    again
        .expect(|frame| matches!(frame, ServerFrame::Welcome { .. }))
        .await;
    again.drain(Duration::from_millis(300)).await;
    let seqs: Vec<u64> = again.events().iter().map(|event| event.seq).collect();
    assert_eq!(seqs, vec![answer.seq]);
}

/// Bad frames get error frames with the right code, and the connection keeps working.
#[tokio::test]
async fn bad_frames_get_error_frames_and_the_connection_survives() {
    let server = TestServer::start(demo_config()).await;
    let mut customer = server.customer().await;
    for (text, code) in [
        ("not json".to_owned(), ErrorCode::BadFrame),
        (r#"{"v":1,"type":"fly"}"#.to_owned(), ErrorCode::UnknownType),
        (
            r#"{"v":9,"type":"ping"}"#.to_owned(),
            ErrorCode::UnsupportedVersion,
        ),
        (
            format!(
                r#"{{"v":1,"type":"send","client_msg_id":"x","text":"{}"}}"#,
                "长".repeat(5000)
            ),
            ErrorCode::TooLarge,
        ),
    ] {
        customer.send_text(text).await;
        let frame = customer.expect_error().await;
        assert!(
            matches!(frame, ServerFrame::Error { code: got, .. } if got == code),
            "{frame:?}"
        );
    }
    customer.send_customer(&CustomerFrame::Ping {}).await;
    customer
        .expect(|frame| matches!(frame, ServerFrame::Pong {}))
        .await;
}

/// An agent cannot send to or end a conversation that is not theirs, and learns nothing
/// about whether it exists.
#[tokio::test]
async fn an_agent_cannot_touch_another_agents_conversation() {
    let server = TestServer::start(demo_config()).await;
    let mei = server.agent_session("mei", &["support"], 5).await;
    let mut mei = server.online_agent(&mei).await;
    let mut customer = server.customer().await;
    customer.say("m1", "转人工").await;
    let ServerFrame::Snapshot { conversation, .. } = mei
        .expect(|frame| matches!(frame, ServerFrame::Snapshot { .. }))
        .await
    else {
        unreachable!()
    };
    let other = server.agent_session("lei", &["sales"], 5).await;
    let mut lei = server.online_agent(&other).await;
    lei.reply(&conversation.conversation_id, "x", "hi").await;
    let denied = lei.expect_error().await;
    assert!(
        matches!(
            denied,
            ServerFrame::Error {
                code: ErrorCode::NotFound,
                ..
            }
        ),
        "{denied:?}"
    );
    lei.send_agent(&AgentFrame::End {
        conversation_id: conversation.conversation_id.clone(),
    })
    .await;
    let denied = lei.expect_error().await;
    assert!(
        matches!(
            denied,
            ServerFrame::Error {
                code: ErrorCode::NotFound,
                ..
            }
        ),
        "{denied:?}"
    );
    assert!(
        lei.events().is_empty(),
        "lei saw events of a conversation not theirs"
    );
}

/// A WebSocket upgrade from a page of an origin that is not allowed is refused.
#[tokio::test]
async fn an_upgrade_from_a_foreign_origin_is_refused() {
    let server = TestServer::start(demo_config()).await;
    let refused =
        Client::try_connect(&server.ws_url("/ws/customer"), Some("https://evil.example")).await;
    assert!(refused.is_err());
    let own = format!("http://{}", server.addr);
    assert!(
        Client::try_connect(&server.ws_url("/ws/customer"), Some(&own))
            .await
            .is_ok()
    );
}

/// A bad session token is refused with `unauthorized`.
#[tokio::test]
async fn an_agent_with_a_bad_token_is_refused() {
    let server = TestServer::start(demo_config()).await;
    let mut agent = Client::connect(&server.ws_url("/ws/agent"), None).await;
    agent
        .send_agent(&AgentFrame::Hello {
            session_token: "forged".into(),
            resume: vec![],
        })
        .await;
    let refused = agent.expect_error().await;
    assert!(
        matches!(
            refused,
            ServerFrame::Error {
                code: ErrorCode::Unauthorized,
                ..
            }
        ),
        "{refused:?}"
    );
}

/// The welcome carries the operator's greeting from the widget settings.
#[tokio::test]
async fn the_welcome_carries_the_operators_greeting() {
    let mut config = demo_config();
    config.widget.greeting = "欢迎光临 Kefu 小店".into();
    let server = TestServer::start(config).await;
    let customer = server.customer().await;
    let greeting = customer.received.iter().find_map(|frame| match frame {
        ServerFrame::Welcome { greeting, .. } => Some(greeting.clone()),
        _ => None,
    });
    assert_eq!(greeting.as_deref(), Some("欢迎光临 Kefu 小店"));
}

/// A visitor whose panel speaks English gets the welcome and the operator's notices in
/// English: the built-in ones, or the operator's own English texts.
#[tokio::test]
async fn an_english_visitor_reads_the_operators_english_texts() {
    let mut config = demo_config();
    config.widget.english.greeting = "Welcome to the Kefu shop".into();
    let server = TestServer::start(config).await;
    let mut customer = Client::connect(&server.ws_url("/ws/customer"), None).await;
    let mut english = hello(None, vec![]);
    if let CustomerFrame::Hello { locale, .. } = &mut english {
        *locale = Some("en-US".into());
    }
    customer.send_customer(&english).await;
    let welcome = customer
        .expect(|frame| matches!(frame, ServerFrame::Welcome { .. }))
        .await;
    let ServerFrame::Welcome {
        greeting,
        group_display_name,
        ..
    } = welcome
    else {
        unreachable!()
    };
    assert_eq!(greeting, "Welcome to the Kefu shop");
    assert_eq!(group_display_name, "Customer service");
    // Nobody is online: the no-agent notice, built in, in English.
    customer.say("m1", "human").await;
    let (_, notice) = customer
        .expect_event(|body| matches!(body, EventBody::Notice { .. }))
        .await;
    let EventBody::Notice { text, .. } = notice.body else {
        unreachable!()
    };
    assert_eq!(
        text,
        "No agent is online right now; please try again a little later."
    );
}

/// The agent serving a visitor gets the chat again when the visitor's page tells who they
/// are (`setUser` sends a new `hello`) and when their last connection closes.
#[tokio::test]
async fn the_agent_sees_a_new_identity_and_a_visitor_who_left_at_once() {
    let server = TestServer::start(demo_config()).await;
    let token = server.agent_session("mei", &["support"], 2).await;
    let mut agent = server.online_agent(&token).await;
    let mut customer = server.customer().await;
    common::transfer_by_keyword(&mut customer, "t1").await;
    let first = agent
        .expect(|frame| matches!(frame, ServerFrame::Snapshot { .. }))
        .await;
    let ServerFrame::Snapshot { conversation, .. } = first else {
        unreachable!()
    };
    assert!(conversation.visitor.online);
    assert!(conversation.visitor.user.is_none());

    // The page calls Kefu.setUser: the panel reconnects with the user in its hello.
    let visitor = common::visitor_token(&customer);
    let mut again = Client::connect(&server.ws_url("/ws/customer"), None).await;
    let mut with_user = hello(Some(visitor), vec![]);
    if let CustomerFrame::Hello { user, .. } = &mut with_user {
        *user = Some(kefu_core::protocol::UserIdentity {
            id: "42".into(),
            name: Some("王小明".into()),
            ..Default::default()
        });
    }
    again.send_customer(&with_user).await;
    let updated = agent
        .expect(|frame| matches!(frame, ServerFrame::Snapshot { .. }))
        .await;
    let ServerFrame::Snapshot { conversation, .. } = updated else {
        unreachable!()
    };
    assert_eq!(
        conversation
            .visitor
            .user
            .and_then(|user| user.name)
            .as_deref(),
        Some("王小明")
    );

    // Both of the visitor's connections close: the agent sees them offline.
    drop(customer);
    drop(again);
    let gone = agent
        .expect(|frame| {
            matches!(frame, ServerFrame::Snapshot { conversation, .. } if !conversation.visitor.online)
        })
        .await;
    assert!(matches!(gone, ServerFrame::Snapshot { .. }));
}
