//! Conversations longer than one frame and than a connection's outbox (found by the history
//! checker, RELIABILITY.md): an agent logging in afresh and a returning visitor both get the
//! whole log, in order, in frames every client can decode. Before, the agent's snapshot was
//! one frame over the 64 KiB limit (clients drop it) and the visitor's resumed history
//! overflowed the outbox, closing the connection before the welcome, on every reconnect.

mod common;

use std::time::Duration;

use common::{Client, TestServer, demo_config, hello, visitor_token};
use kefu_core::conversation::EventBody;
use kefu_core::protocol::{AgentFrame, ServerFrame};

const SETTINGS: &str = "identity_secret = \"s\"\nvisitor_frames_per_second = 100000.0\nvisitor_frame_burst = 100000.0\n\
                        ip_frames_per_second = 100000.0\nip_frame_burst = 100000.0\n";

/// Reads until nothing arrives for a while; the socket must stay open.
async fn read_all(client: &mut Client) {
    loop {
        let before = client.received.len();
        client.drain(Duration::from_millis(500)).await;
        if client.received.len() == before {
            return;
        }
    }
}

fn assert_whole(events: &[kefu_core::conversation::Event], messages: usize, who: &str) {
    let seqs: Vec<u64> = events.iter().map(|event| event.seq).collect();
    assert_eq!(
        seqs,
        (1..=events.len() as u64).collect::<Vec<_>>(),
        "{who}: seqs 1..n, each once"
    );
    let texts = events.iter().filter(|event| matches!(&event.body, EventBody::CustomerMessage { text, .. } if text.starts_with("long "))).count();
    assert_eq!(texts, messages, "{who}: every message");
}

#[tokio::test]
async fn a_fresh_agent_and_a_returning_visitor_get_a_long_log_whole() {
    let server =
        TestServer::start_with_settings(demo_config(), kefu_server::app::now_ms(), Some(SETTINGS))
            .await;
    let token = server.agent_session("mei", &["support"], 5).await;
    let mut agent = server.online_agent(&token).await;
    let mut customer = server.customer().await;
    customer.say("t", "转人工").await;
    customer
        .expect_event(|body| matches!(body, EventBody::AgentAssigned { .. }))
        .await;
    agent
        .expect(|frame| matches!(frame, ServerFrame::Snapshot { .. }))
        .await;
    // The agent steps away (within its grace period) while the chat grows past 64 KiB and
    // past the outbox's 512 frames.
    drop(agent);
    let messages = 700;
    for number in 0..messages {
        customer
            .say(
                &format!("m{number}"),
                &format!("long {number} {}", "说".repeat(60)),
            )
            .await;
    }
    let mut acks = 0;
    while acks < messages {
        if let ServerFrame::Ack { .. } = customer
            .expect(|frame| matches!(frame, ServerFrame::Ack { .. }))
            .await
        {
            acks += 1;
        }
    }
    let visitor = visitor_token(&customer);
    drop(customer);

    // Every frame is decoded by kefu-core in `Client::next_frame`/`drain`: one over the limit
    // fails the test there.
    let mut fresh_agent = Client::connect(&server.ws_url("/ws/agent"), None).await;
    fresh_agent
        .send_agent(&AgentFrame::Hello {
            session_token: token,
            resume: vec![],
        })
        .await;
    fresh_agent
        .expect(|frame| matches!(frame, ServerFrame::AgentWelcome { .. }))
        .await;
    read_all(&mut fresh_agent).await;
    assert!(
        fresh_agent
            .received
            .iter()
            .any(|frame| matches!(frame, ServerFrame::Snapshot { .. })),
        "a snapshot first"
    );
    assert_whole(&fresh_agent.events(), messages, "the agent");

    let mut returning = Client::connect(&server.ws_url("/ws/customer"), None).await;
    returning.send_customer(&hello(Some(visitor), vec![])).await;
    returning
        .expect(|frame| matches!(frame, ServerFrame::Welcome { .. }))
        .await;
    read_all(&mut returning).await;
    assert_whole(&returning.events(), messages, "the returning visitor");
}
