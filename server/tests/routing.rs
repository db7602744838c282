//! Routing and the human session over real WebSockets: transfers (misses, keyword, off
//! hours, nobody online), the queue and its positions, agent capacity, the three ways a human
//! session ends, agents going offline, the service modes, and who may see what.
//!
//! The server runs on a manual clock, so the idle timeout (minutes) and the agent disconnect
//! grace period (a minute) are crossed by moving the clock, not by waiting.

mod common;

use std::sync::atomic::Ordering;
use std::time::Duration;

use common::{
    Client, TestServer, agent_id, demo_config, hello, transfer_by_keyword, two_group_config,
    visitor_token,
};
use kefu_core::config::ServiceMode;
use kefu_core::conversation::{EndedBy, EventBody, NoticeKind, RequeueReason, TransferReason};
use kefu_core::protocol::{AgentFrame, AgentStatus, CustomerFrame, ResumeCursor, ServerFrame};

/// Sunday 2026-11-29 12:00 in Asia/Shanghai: outside kefu-core's demo hours (weekdays 09–18).
const SUNDAY_NOON_SHANGHAI: i64 = 1_795_924_800_000;
/// Monday 2026-11-30 09:00 in Asia/Shanghai, the next opening after [`SUNDAY_NOON_SHANGHAI`].
const MONDAY_OPENING_SHANGHAI: i64 = 1_796_000_400_000;
/// Monday 2026-11-30 10:00 in Asia/Shanghai, inside the demo hours.
const MONDAY_TEN_SHANGHAI: i64 = 1_796_004_000_000;

/// A short wait for "nothing else arrives" checks.
const QUIET: Duration = Duration::from_millis(200);

fn is_robot_reply(body: &EventBody) -> bool {
    matches!(
        body,
        EventBody::RobotAnswer { .. } | EventBody::RobotMiss { .. }
    )
}

/// The snapshot an agent gets on assignment: the conversation's id.
async fn next_assignment(agent: &mut Client) -> String {
    match agent
        .expect(|frame| matches!(frame, ServerFrame::Snapshot { .. }))
        .await
    {
        ServerFrame::Snapshot { conversation, .. } => conversation.conversation_id,
        _ => unreachable!(),
    }
}

/// Waits until the server has seen `expected` agent connections (a dropped socket is noticed
/// by its connection task, which tells the hub before the gauge goes down).
async fn wait_for_agent_connections(server: &TestServer, expected: u64) {
    for _ in 0..500 {
        if server
            .state
            .metrics
            .agent_connections
            .load(Ordering::SeqCst)
            == expected
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the server still counts a different number of agent connections than {expected}");
}

/// N consecutive robot misses (3 in the demo) transfer to a person; a hit in between resets
/// the count. The misses are made-up words, so a growing demo knowledge base cannot hit them.
#[tokio::test]
async fn consecutive_misses_transfer_to_a_person() {
    let server = TestServer::start(demo_config()).await;
    let token = server.agent_session("mei", &["support"], 5).await;
    let mut agent = server.online_agent(&token).await;
    let mut customer = server.customer().await;
    for (id, text) in [
        ("m1", "zqxj wvut"),
        ("m2", "blorf snark"),
        ("m3", "忘记密码怎么办？"),
        ("m4", "glimp frazz"),
    ] {
        customer.say(id, text).await;
        customer.expect_event(is_robot_reply).await;
    }
    assert!(
        !customer
            .events()
            .iter()
            .any(|event| matches!(event.body, EventBody::TransferRequested { .. })),
        "a hit resets the misses"
    );
    customer.say("m5", "vorpal tumtum").await;
    customer.expect_event(is_robot_reply).await;
    customer.say("m6", "frumious bandersnatch").await;
    let (_, transfer) = customer
        .expect_event(|body| matches!(body, EventBody::TransferRequested { .. }))
        .await;
    assert_eq!(
        transfer.body,
        EventBody::TransferRequested {
            reason: TransferReason::Misses
        }
    );
    customer
        .expect_event(|body| matches!(body, EventBody::Queued { .. }))
        .await;
    customer
        .expect_event(|body| matches!(body, EventBody::AgentAssigned { .. }))
        .await;
    next_assignment(&mut agent).await;
}

/// A transfer keyword inside a message transfers at once, without asking the robot.
#[tokio::test]
async fn a_transfer_keyword_transfers_at_once() {
    let server = TestServer::start(demo_config()).await;
    let token = server.agent_session("mei", &["support"], 5).await;
    let _agent = server.online_agent(&token).await;
    let mut customer = server.customer().await;
    customer.say("m1", "帮我转人工客服吧").await;
    let (_, transfer) = customer
        .expect_event(|body| matches!(body, EventBody::TransferRequested { .. }))
        .await;
    assert_eq!(
        transfer.body,
        EventBody::TransferRequested {
            reason: TransferReason::Keyword
        }
    );
    customer
        .expect_event(|body| matches!(body, EventBody::AgentAssigned { .. }))
        .await;
    assert!(
        !customer
            .events()
            .iter()
            .any(|event| is_robot_reply(&event.body)),
        "the robot was asked: {:?}",
        customer.events()
    );
}

/// Outside the group's working hours a transfer gets the off-hours message with the next
/// opening, the customer stays with the robot, and inside the hours the same request queues.
#[tokio::test]
async fn outside_working_hours_a_transfer_gets_the_off_hours_message() {
    let mut config = demo_config();
    config.rules = kefu_core::config::Config::demo().rules;
    let server = TestServer::start_at(config, SUNDAY_NOON_SHANGHAI).await;
    let token = server.agent_session("mei", &["support"], 5).await;
    let _agent = server.online_agent(&token).await;
    let mut customer = server.customer().await;
    customer.say("m1", "转人工").await;
    let (_, notice) = customer
        .expect_event(|body| matches!(body, EventBody::Notice { .. }))
        .await;
    let EventBody::Notice {
        notice: NoticeKind::OffHours { next_opening },
        text,
    } = notice.body
    else {
        panic!("{notice:?}")
    };
    assert_eq!(next_opening, Some(MONDAY_OPENING_SHANGHAI));
    assert!(text.contains("非工作时间"), "{text}");
    customer.say("m2", "忘记密码怎么办？").await;
    let (_, answer) = customer.expect_event(is_robot_reply).await;
    assert!(
        matches!(answer.body, EventBody::RobotAnswer { .. }),
        "still with the robot: {answer:?}"
    );

    server
        .advance(MONDAY_TEN_SHANGHAI - SUNDAY_NOON_SHANGHAI)
        .await;
    customer.say("m3", "转人工").await;
    customer
        .expect_event(|body| matches!(body, EventBody::AgentAssigned { .. }))
        .await;
}

/// With nobody of the group online, asking for a person gives the no-agent message and the
/// robot keeps answering.
#[tokio::test]
async fn with_nobody_online_a_transfer_gets_the_no_agent_message() {
    let server = TestServer::start(demo_config()).await;
    // An agent of another group is online: it does not count for `support`.
    let token = server.agent_session("lei", &["sales"], 5).await;
    let _other = server.online_agent(&token).await;
    let mut customer = server.customer().await;
    customer.say("m1", "人工客服").await;
    let (_, notice) = customer
        .expect_event(|body| matches!(body, EventBody::Notice { .. }))
        .await;
    let EventBody::Notice {
        notice: NoticeKind::NoAgentOnline,
        text,
    } = notice.body
    else {
        panic!("{notice:?}")
    };
    assert_eq!(text, demo_config().rules[0].no_agent_message);
    assert!(
        !customer
            .events()
            .iter()
            .any(|event| matches!(event.body, EventBody::Queued { .. }))
    );
    customer.say("m2", "忘记密码怎么办？").await;
    let (_, answer) = customer.expect_event(is_robot_reply).await;
    assert!(
        matches!(answer.body, EventBody::RobotAnswer { .. }),
        "{answer:?}"
    );
}

/// Two customers waiting for a busy agent are told positions 1 and 2; when the first is
/// served, the second is told 1.
#[tokio::test]
async fn waiting_customers_are_told_their_queue_positions() {
    let server = TestServer::start(demo_config()).await;
    let token = server.agent_session("mei", &["support"], 1).await;
    let mut agent = server.online_agent(&token).await;
    let mut first = server.customer().await;
    let served = transfer_by_keyword(&mut first, "a1").await;
    assert_eq!(next_assignment(&mut agent).await, served);

    let mut second = server.customer().await;
    let second_id = transfer_by_keyword(&mut second, "b1").await;
    second
        .expect(|frame| matches!(frame, ServerFrame::QueuePosition { position: 1, .. }))
        .await;
    let mut third = server.customer().await;
    let third_id = transfer_by_keyword(&mut third, "c1").await;
    let position = third
        .expect(|frame| matches!(frame, ServerFrame::QueuePosition { .. }))
        .await;
    assert_eq!(
        position,
        ServerFrame::QueuePosition {
            conversation_id: third_id.clone(),
            position: 2
        }
    );

    agent
        .send_agent(&AgentFrame::End {
            conversation_id: served,
        })
        .await;
    second
        .expect_event(|body| matches!(body, EventBody::AgentAssigned { .. }))
        .await;
    assert_eq!(next_assignment(&mut agent).await, second_id);
    third
        .expect(|frame| matches!(frame, ServerFrame::QueuePosition { position: 1, .. }))
        .await;
}

/// An agent with at most 2 chats gets exactly 2; the third customer waits until one of the
/// two ends, then goes to that agent.
#[tokio::test]
async fn assignment_respects_the_agents_capacity() {
    let server = TestServer::start(demo_config()).await;
    let token = server.agent_session("mei", &["support"], 2).await;
    let mut agent = server.online_agent(&token).await;
    let mut customers = Vec::new();
    let mut conversation_ids = Vec::new();
    for index in 0..3 {
        let mut customer = server.customer().await;
        conversation_ids.push(transfer_by_keyword(&mut customer, &format!("m{index}")).await);
        customers.push(customer);
    }
    customers[0]
        .expect_event(|body| matches!(body, EventBody::AgentAssigned { .. }))
        .await;
    customers[1]
        .expect_event(|body| matches!(body, EventBody::AgentAssigned { .. }))
        .await;
    customers[2]
        .expect(|frame| matches!(frame, ServerFrame::QueuePosition { position: 1, .. }))
        .await;
    let assigned = vec![
        next_assignment(&mut agent).await,
        next_assignment(&mut agent).await,
    ];
    assert_eq!(assigned, conversation_ids[..2].to_vec());
    let more = agent.drain(QUIET).await;
    assert!(
        !more
            .iter()
            .any(|frame| matches!(frame, ServerFrame::Snapshot { .. })),
        "a third chat was assigned: {more:?}"
    );
    assert!(
        !customers[2]
            .events()
            .iter()
            .any(|event| matches!(event.body, EventBody::AgentAssigned { .. }))
    );

    customers[0].say("end", "结束会话").await;
    customers[2]
        .expect_event(|body| matches!(body, EventBody::AgentAssigned { .. }))
        .await;
    assert_eq!(next_assignment(&mut agent).await, conversation_ids[2]);
}

/// `结束会话` (with full-width spaces) ends the human session; the customer's next question
/// starts a new conversation with the robot, and the ended one stays readable.
#[tokio::test]
async fn the_end_phrase_ends_the_human_session() {
    let server = TestServer::start(demo_config()).await;
    let token = server.agent_session("mei", &["support"], 5).await;
    let mut agent = server.online_agent(&token).await;
    let mut customer = server.customer().await;
    let first = transfer_by_keyword(&mut customer, "m1").await;
    customer
        .expect_event(|body| matches!(body, EventBody::AgentAssigned { .. }))
        .await;
    next_assignment(&mut agent).await;
    customer.say("m2", "　结束会话　").await;
    let (ended_in, _) = customer
        .expect_event(|body| {
            matches!(
                body,
                EventBody::Ended {
                    by: EndedBy::Customer
                }
            )
        })
        .await;
    assert_eq!(ended_in, first);
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

    customer.say("m3", "忘记密码怎么办？").await;
    let (second, _) = customer
        .expect_event(|body| matches!(body, EventBody::Started { .. }))
        .await;
    assert_ne!(second, first);
    customer
        .expect_event(|body| matches!(body, EventBody::RobotAnswer { .. }))
        .await;

    let mut again = Client::connect(&server.ws_url("/ws/customer"), None).await;
    again
        .send_customer(&hello(Some(visitor_token(&customer)), vec![]))
        .await;
    again.drain(QUIET).await;
    let old = again.received.iter().filter(|frame| matches!(frame, ServerFrame::Event { conversation_id, .. } if *conversation_id == first));
    assert!(
        old.count() >= 5,
        "the ended conversation is readable: {:?}",
        again.received
    );
}

/// The agent ends the chat: both sides get `ended` by that agent, and the agent's capacity
/// is free again.
#[tokio::test]
async fn the_agent_ends_the_conversation() {
    let server = TestServer::start(demo_config()).await;
    let token = server.agent_session("mei", &["support"], 1).await;
    let mut agent = server.online_agent(&token).await;
    let mei = agent_id(&agent);
    let mut customer = server.customer().await;
    transfer_by_keyword(&mut customer, "m1").await;
    let conversation_id = next_assignment(&mut agent).await;
    agent
        .send_agent(&AgentFrame::End {
            conversation_id: conversation_id.clone(),
        })
        .await;
    let (_, ended) = customer
        .expect_event(|body| matches!(body, EventBody::Ended { .. }))
        .await;
    assert_eq!(
        ended.body,
        EventBody::Ended {
            by: EndedBy::Agent {
                agent_id: mei.clone()
            }
        }
    );
    agent
        .expect_event(|body| matches!(body, EventBody::Ended { .. }))
        .await;
    // Ended means ended: the agent can no longer write there, and is told it ended.
    agent.reply(&conversation_id, "late", "还在吗").await;
    let refused = agent.expect_error().await;
    assert!(
        matches!(
            &refused,
            ServerFrame::Error { code: kefu_core::protocol::ErrorCode::InvalidState, client_msg_id: Some(id), .. } if id == "late"
        ),
        "{refused:?}"
    );

    let mut next = server.customer().await;
    transfer_by_keyword(&mut next, "n1").await;
    next.expect_event(
        |body| matches!(body, EventBody::AgentAssigned { agent_id, .. } if *agent_id == mei),
    )
    .await;
}

/// A customer silent in a human session for the rule's idle timeout (10 minutes in the demo)
/// is ended with the idle-timeout notice; a minute earlier nothing happens.
#[tokio::test]
async fn an_idle_customer_is_ended_with_a_notice() {
    let server = TestServer::start(demo_config()).await;
    let token = server.agent_session("mei", &["support"], 5).await;
    let mut agent = server.online_agent(&token).await;
    let mut customer = server.customer().await;
    transfer_by_keyword(&mut customer, "m1").await;
    next_assignment(&mut agent).await;
    customer
        .expect_event(|body| matches!(body, EventBody::AgentAssigned { .. }))
        .await;

    server.advance(9 * 60_000).await;
    let early = customer.drain(QUIET).await;
    assert!(
        !early
            .iter()
            .any(|frame| matches!(frame, ServerFrame::Event { .. })),
        "ended too early: {early:?}"
    );
    server.advance(60_000).await;
    let (_, notice) = customer
        .expect_event(|body| matches!(body, EventBody::Notice { .. }))
        .await;
    let EventBody::Notice {
        notice: NoticeKind::IdleTimeout,
        text,
    } = notice.body
    else {
        panic!("{notice:?}")
    };
    assert_eq!(text, demo_config().rules[0].idle_timeout_message);
    customer
        .expect_event(|body| {
            matches!(
                body,
                EventBody::Ended {
                    by: EndedBy::IdleTimeout
                }
            )
        })
        .await;
    agent
        .expect_event(|body| {
            matches!(
                body,
                EventBody::Ended {
                    by: EndedBy::IdleTimeout
                }
            )
        })
        .await;
}

/// An agent who sets their status to offline has their chats re-queued, and another online
/// agent of the group takes them.
#[tokio::test]
async fn an_agent_going_offline_requeues_their_chats() {
    let server = TestServer::start(demo_config()).await;
    let mei_token = server.agent_session("mei", &["support"], 5).await;
    let mut mei = server.online_agent(&mei_token).await;
    let mei_id = agent_id(&mei);
    let mut customer = server.customer().await;
    transfer_by_keyword(&mut customer, "m1").await;
    let conversation_id = next_assignment(&mut mei).await;
    let lei_token = server.agent_session("lei", &["support"], 5).await;
    let mut lei = server.online_agent(&lei_token).await;
    let lei_id = agent_id(&lei);

    mei.send_agent(&AgentFrame::SetStatus {
        status: AgentStatus::Offline,
    })
    .await;
    let (_, requeued) = customer
        .expect_event(|body| matches!(body, EventBody::Requeued { .. }))
        .await;
    assert_eq!(
        requeued.body,
        EventBody::Requeued {
            reason: RequeueReason::AgentOffline { agent_id: mei_id }
        }
    );
    customer
        .expect_event(
            |body| matches!(body, EventBody::AgentAssigned { agent_id, .. } if *agent_id == lei_id),
        )
        .await;
    assert_eq!(next_assignment(&mut lei).await, conversation_id);
}

/// An agent whose connection drops keeps their chats during the grace period (60 s by
/// default) and loses them to the queue after it.
#[tokio::test]
async fn an_agent_disconnected_past_the_grace_period_loses_their_chats() {
    let server = TestServer::start(demo_config()).await;
    let grace_ms = i64::from(server.state.settings.agent_disconnect_grace_seconds) * 1000;
    let mei_token = server.agent_session("mei", &["support"], 5).await;
    let mut mei = server.online_agent(&mei_token).await;
    let mei_id = agent_id(&mei);
    let mut customer = server.customer().await;
    transfer_by_keyword(&mut customer, "m1").await;
    customer
        .expect_event(|body| matches!(body, EventBody::AgentAssigned { .. }))
        .await;
    let conversation_id = next_assignment(&mut mei).await;
    let lei_token = server.agent_session("lei", &["support"], 5).await;
    let mut lei = server.online_agent(&lei_token).await;
    wait_for_agent_connections(&server, 2).await;

    drop(mei);
    wait_for_agent_connections(&server, 1).await;
    server.advance(grace_ms - 1_000).await;
    let early = customer.drain(QUIET).await;
    assert!(
        !early
            .iter()
            .any(|frame| matches!(frame, ServerFrame::Event { .. })),
        "re-queued within the grace period: {early:?}"
    );
    server.advance(1_000).await;
    let (_, requeued) = customer
        .expect_event(|body| matches!(body, EventBody::Requeued { .. }))
        .await;
    assert_eq!(
        requeued.body,
        EventBody::Requeued {
            reason: RequeueReason::AgentOffline { agent_id: mei_id }
        }
    );
    assert_eq!(next_assignment(&mut lei).await, conversation_id);
}

/// robot_only: no transfer button, and both the keyword and the button get the clear
/// robot-only answer instead of a transfer.
#[tokio::test]
async fn robot_only_answers_transfer_requests_clearly() {
    let mut config = demo_config();
    config.service.mode = ServiceMode::RobotOnly;
    let reply = config.service.robot.robot_only_reply.clone();
    let server = TestServer::start(config).await;
    let token = server.agent_session("mei", &["support"], 5).await;
    let mut agent = server.online_agent(&token).await;
    let mut customer = server.customer().await;
    assert!(matches!(
        customer.received[0],
        ServerFrame::Welcome {
            transfer_button: false,
            service_mode: ServiceMode::RobotOnly,
            ..
        }
    ));
    customer.say("m1", "转人工").await;
    let (_, notice) = customer
        .expect_event(|body| matches!(body, EventBody::Notice { .. }))
        .await;
    assert_eq!(
        notice.body,
        EventBody::Notice {
            notice: NoticeKind::RobotOnly,
            text: reply.clone()
        }
    );
    customer
        .send_customer(&CustomerFrame::Transfer {
            client_msg_id: Some("t1".into()),
        })
        .await;
    let (_, again) = customer
        .expect_event(|body| matches!(body, EventBody::Notice { .. }))
        .await;
    assert_eq!(
        again.body,
        EventBody::Notice {
            notice: NoticeKind::RobotOnly,
            text: reply
        }
    );
    for id in ["m2", "m3", "m4", "m5"] {
        customer.say(id, "zqxj wvut").await;
        customer
            .expect_event(|body| matches!(body, EventBody::RobotMiss { .. }))
            .await;
    }
    customer.drain(QUIET).await;
    assert!(!customer.events().iter().any(|event| matches!(
        event.body,
        EventBody::Queued { .. } | EventBody::TransferRequested { .. }
    )));
    assert!(
        agent
            .drain(QUIET)
            .await
            .iter()
            .all(|frame| !matches!(frame, ServerFrame::Snapshot { .. }))
    );
}

/// human_only: the robot is off; the first message goes straight to the group and an agent.
#[tokio::test]
async fn human_only_goes_straight_to_the_group() {
    let mut config = demo_config();
    config.service.mode = ServiceMode::HumanOnly;
    let server = TestServer::start(config).await;
    let token = server.agent_session("mei", &["support"], 5).await;
    let mut agent = server.online_agent(&token).await;
    let mut customer = server.customer().await;
    customer.say("m1", "忘记密码怎么办？").await;
    let (_, transfer) = customer
        .expect_event(|body| matches!(body, EventBody::TransferRequested { .. }))
        .await;
    assert_eq!(
        transfer.body,
        EventBody::TransferRequested {
            reason: TransferReason::HumanOnly
        }
    );
    customer
        .expect_event(|body| matches!(body, EventBody::AgentAssigned { .. }))
        .await;
    next_assignment(&mut agent).await;
    assert!(
        !customer
            .events()
            .iter()
            .any(|event| is_robot_reply(&event.body)),
        "the robot answered: {:?}",
        customer.events()
    );
}

/// An agent of group B is not given, cannot resume, write to or end a conversation of
/// group A; the error does not even say whether it exists.
#[tokio::test]
async fn an_agent_of_another_group_cannot_read_write_or_end() {
    let server = TestServer::start(two_group_config()).await;
    let sales_token = server.agent_session("lei", &["sales"], 5).await;
    let mut sales = server.online_agent(&sales_token).await;
    let support_token = server.agent_session("mei", &["support"], 5).await;
    let mut support = server.online_agent(&support_token).await;
    let mut customer = server.customer().await;
    customer.say("m1", "我的密码忘了").await;
    let conversation_id = transfer_by_keyword(&mut customer, "m2").await;
    assert_eq!(next_assignment(&mut support).await, conversation_id);

    sales.reply(&conversation_id, "x1", "hi").await;
    let denied = sales.expect_error().await;
    assert!(
        matches!(
            denied,
            ServerFrame::Error {
                code: kefu_core::protocol::ErrorCode::NotFound,
                ..
            }
        ),
        "{denied:?}"
    );
    sales
        .send_agent(&AgentFrame::End {
            conversation_id: conversation_id.clone(),
        })
        .await;
    sales
        .expect(|frame| {
            matches!(
                frame,
                ServerFrame::Error {
                    code: kefu_core::protocol::ErrorCode::NotFound,
                    ..
                }
            )
        })
        .await;

    // Reading: a second connection of the B agent asks to resume the A conversation.
    let mut reader = Client::connect(&server.ws_url("/ws/agent"), None).await;
    let cursor = ResumeCursor {
        conversation_id: conversation_id.clone(),
        after_seq: 0,
    };
    reader
        .send_agent(&AgentFrame::Hello {
            session_token: sales_token,
            resume: vec![cursor],
        })
        .await;
    let welcome = reader
        .expect(|frame| matches!(frame, ServerFrame::AgentWelcome { .. }))
        .await;
    assert!(
        matches!(welcome, ServerFrame::AgentWelcome { ref conversations, .. } if conversations.is_empty()),
        "{welcome:?}"
    );
    reader.drain(QUIET).await;
    sales.drain(QUIET).await;
    assert!(
        reader.events().is_empty() && sales.events().is_empty(),
        "group B saw group A's log"
    );
    let stored = server
        .state
        .store
        .events_after(&conversation_id, 0)
        .await
        .unwrap();
    assert!(
        !stored.iter().any(
            |event| matches!(&event.body, EventBody::AgentMessage { text, .. } if text == "hi")
        )
    );
    assert!(
        !stored
            .iter()
            .any(|event| matches!(event.body, EventBody::Ended { .. }))
    );
}

/// A customer only ever sees their own conversations: a forged visitor token gets a fresh
/// visitor with no history, and a resume cursor naming someone else's conversation is ignored.
#[tokio::test]
async fn a_customer_cannot_read_another_customers_conversation() {
    let server = TestServer::start(demo_config()).await;
    let mut alice = server.customer().await;
    alice.say("m1", "我的地址是北京市朝阳区").await;
    let (alices, _) = alice.expect_event(is_robot_reply).await;
    let ServerFrame::Welcome {
        visitor_id: alice_id,
        ..
    } = alice.received[0].clone()
    else {
        panic!()
    };

    let cursor = ResumeCursor {
        conversation_id: alices.clone(),
        after_seq: 0,
    };
    let mut forger = Client::connect(&server.ws_url("/ws/customer"), None).await;
    // Alice's token with its last hex digit changed.
    let genuine = visitor_token(&alice);
    let last = if genuine.ends_with('0') { '1' } else { '0' };
    let forged = format!("{}{last}", &genuine[..genuine.len() - 1]);
    forger
        .send_customer(&hello(Some(forged.clone()), vec![cursor.clone()]))
        .await;
    let welcome = forger
        .expect(|frame| matches!(frame, ServerFrame::Welcome { .. }))
        .await;
    let ServerFrame::Welcome {
        visitor_id,
        visitor_token,
        conversation_id,
        ..
    } = welcome
    else {
        unreachable!()
    };
    assert_ne!(visitor_id, alice_id);
    assert_ne!(visitor_token, forged);
    assert_eq!(conversation_id, None);
    forger.drain(QUIET).await;
    assert!(
        forger.events().is_empty(),
        "the forger read: {:?}",
        forger.events()
    );

    // The forger's own (genuine) token, with alice's conversation in the resume cursor.
    let mut again = Client::connect(&server.ws_url("/ws/customer"), None).await;
    again
        .send_customer(&hello(Some(visitor_token), vec![cursor]))
        .await;
    again
        .expect(|frame| matches!(frame, ServerFrame::Welcome { .. }))
        .await;
    again.drain(QUIET).await;
    assert!(
        again.events().is_empty(),
        "another visitor read alice's log: {:?}",
        again.events()
    );
}
