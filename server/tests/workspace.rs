//! What the agent workspace is told beyond the conversation log: the skill groups it can
//! transfer to, the customer's history (first seen, visits, earlier conversations), and the
//! transfer itself, over real WebSockets.

mod common;

use std::time::Duration;

use common::{
    Client, TestServer, demo_config, hello, transfer_by_keyword, two_group_config, visitor_token,
};
use kefu_core::conversation::{EventBody, RequeueReason};
use kefu_core::presence::VISIT_GAP_MS;
use kefu_core::protocol::{AgentFrame, ErrorCode, ServerFrame, VisitorProfile};

/// Monday 2026-11-30 10:00 in Asia/Shanghai, inside the demo hours.
const MONDAY_TEN_SHANGHAI: i64 = 1_796_004_000_000;

async fn next_snapshot(agent: &mut Client) -> (String, VisitorProfile) {
    match agent
        .expect(|frame| matches!(frame, ServerFrame::Snapshot { .. }))
        .await
    {
        ServerFrame::Snapshot { conversation, .. } => {
            (conversation.conversation_id, conversation.visitor)
        }
        _ => unreachable!(),
    }
}

#[tokio::test]
async fn the_agent_is_told_every_skill_group_it_can_transfer_to() {
    let server = TestServer::start_at(two_group_config(), MONDAY_TEN_SHANGHAI).await;
    let token = server.agent_session("mei", &["support"], 5).await;
    let agent = server.online_agent(&token).await;
    let groups = agent
        .received
        .iter()
        .find_map(|frame| match frame {
            ServerFrame::AgentWelcome { groups, .. } => Some(groups.clone()),
            _ => None,
        })
        .unwrap();
    let names: Vec<(&str, &str)> = groups
        .iter()
        .map(|group| (group.name.as_str(), group.display_name.as_str()))
        .collect();
    assert!(names.contains(&("sales", "售前咨询")), "{names:?}");
    assert!(
        names.iter().any(|(name, _)| *name == "support"),
        "{names:?}"
    );
}

#[tokio::test]
async fn an_agent_transfers_a_chat_to_another_group_and_its_agent_gets_it_with_the_log() {
    let server = TestServer::start_at(two_group_config(), MONDAY_TEN_SHANGHAI).await;
    let mei = server.agent_session("mei", &["support"], 5).await;
    let mut support = server.online_agent(&mei).await;
    let lei = server.agent_session("lei", &["sales"], 5).await;
    let mut sales = server.online_agent(&lei).await;
    let mut customer = server.customer().await;
    customer.say("m1", "我想批量采购").await;
    let conversation_id = transfer_by_keyword(&mut customer, "m2").await;
    assert_eq!(next_snapshot(&mut support).await.0, conversation_id);

    support
        .send_agent(&AgentFrame::TransferToGroup {
            conversation_id: conversation_id.clone(),
            group: "sales".into(),
        })
        .await;
    let (_, requeued) = customer
        .expect_event(|body| {
            matches!(
                body,
                EventBody::Requeued {
                    reason: RequeueReason::TransferredToGroup { .. }
                }
            )
        })
        .await;
    assert!(
        matches!(requeued.body, EventBody::Requeued { reason: RequeueReason::TransferredToGroup { ref group, .. } } if group == "sales")
    );
    let (taken, _) = next_snapshot(&mut sales).await;
    assert_eq!(taken, conversation_id);
    // The sales agent holds the whole log, robot part included.
    let ServerFrame::Snapshot { events, .. } = sales
        .received
        .iter()
        .rev()
        .find(|frame| matches!(frame, ServerFrame::Snapshot { .. }))
        .unwrap()
        .clone()
    else {
        unreachable!()
    };
    assert!(events.iter().any(|event| matches!(&event.body, EventBody::CustomerMessage { text, .. } if text == "我想批量采购")));
    let robot = customer
        .events()
        .into_iter()
        .find(|event| {
            matches!(
                event.body,
                EventBody::RobotAnswer { .. } | EventBody::RobotMiss { .. }
            )
        })
        .expect("the robot replied to the customer's first message");
    let (EventBody::RobotAnswer { text, .. } | EventBody::RobotMiss { text, .. }) = &robot.body
    else {
        unreachable!()
    };
    assert!(!text.is_empty());
    assert!(
        events.contains(&robot),
        "the robot's reply {text:?} is not in the sales agent's log: {events:#?}"
    );

    // The support agent can no longer write into it: to an agent, a conversation that is
    // not theirs is `not_found` (ids cannot be probed), and the customer gets nothing.
    support.reply(&conversation_id, "a1", "还在吗").await;
    let refused = support.expect_error().await;
    assert!(
        matches!(
            &refused,
            ServerFrame::Error { code: ErrorCode::NotFound, client_msg_id: Some(id), .. } if id == "a1"
        ),
        "{refused:?}"
    );
}

#[tokio::test]
async fn a_transfer_to_the_same_or_an_unknown_group_is_refused_and_changes_nothing() {
    let server = TestServer::start_at(two_group_config(), MONDAY_TEN_SHANGHAI).await;
    let mei = server.agent_session("mei", &["support"], 5).await;
    let mut support = server.online_agent(&mei).await;
    let mut customer = server.customer().await;
    let conversation_id = transfer_by_keyword(&mut customer, "m1").await;
    next_snapshot(&mut support).await;
    // The group it is already in is a state the transfer cannot apply to; a group that does
    // not exist is not found.
    for (group, wanted) in [
        ("support", ErrorCode::InvalidState),
        ("no-such-group", ErrorCode::NotFound),
    ] {
        support
            .send_agent(&AgentFrame::TransferToGroup {
                conversation_id: conversation_id.clone(),
                group: group.into(),
            })
            .await;
        let refused = support.expect_error().await;
        assert!(
            matches!(&refused, ServerFrame::Error { code, .. } if *code == wanted),
            "{group}: expected {wanted:?}, got {refused:?}"
        );
    }
    customer.drain(Duration::from_millis(200)).await;
    assert!(
        !customer
            .events()
            .iter()
            .any(|event| matches!(event.body, EventBody::Requeued { .. }))
    );
}

#[tokio::test]
async fn the_agent_sees_when_the_customer_first_came_their_visits_and_earlier_conversations() {
    let server = TestServer::start_at(demo_config(), MONDAY_TEN_SHANGHAI).await;
    let token = server.agent_session("mei", &["support"], 5).await;
    let mut agent = server.online_agent(&token).await;

    // First visit: a chat with the agent, ended by the agent.
    let mut customer = server.customer().await;
    let token_of_visitor = visitor_token(&customer);
    customer.say("m1", "发票怎么开").await;
    let first = transfer_by_keyword(&mut customer, "m2").await;
    let (_, profile) = next_snapshot(&mut agent).await;
    assert_eq!(profile.visits, 1);
    assert_eq!(profile.first_seen, Some(MONDAY_TEN_SHANGHAI));
    assert!(profile.previous_conversations.is_empty(), "{profile:?}");
    agent
        .send_agent(&AgentFrame::End {
            conversation_id: first.clone(),
        })
        .await;
    customer
        .expect_event(|body| matches!(body, EventBody::Ended { .. }))
        .await;
    drop(customer);

    // A reconnect a minute later is the same visit; an hour later it is a new one.
    server.advance(60_000).await;
    let mut again = Client::connect(&server.ws_url("/ws/customer"), None).await;
    again
        .send_customer(&hello(Some(token_of_visitor.clone()), vec![]))
        .await;
    again
        .expect(|frame| matches!(frame, ServerFrame::Welcome { .. }))
        .await;
    drop(again);
    server.advance(VISIT_GAP_MS).await;
    let mut back = Client::connect(&server.ws_url("/ws/customer"), None).await;
    back.send_customer(&hello(Some(token_of_visitor), vec![]))
        .await;
    back.expect(|frame| matches!(frame, ServerFrame::Welcome { .. }))
        .await;
    back.drain(Duration::from_millis(200)).await; // the first conversation's history
    let second = transfer_by_keyword(&mut back, "m3").await;
    assert_ne!(second, first);
    let (taken, profile) = next_snapshot(&mut agent).await;
    assert_eq!(taken, second);
    assert_eq!(profile.visits, 2, "{profile:?}");
    assert_eq!(profile.first_seen, Some(MONDAY_TEN_SHANGHAI));
    assert_eq!(profile.previous_conversations.len(), 1, "{profile:?}");
    let past = &profile.previous_conversations[0];
    assert_eq!(past.conversation_id, first);
    assert_eq!(past.first_message, "发票怎么开");
    assert!(past.ended_at.is_some());
}
