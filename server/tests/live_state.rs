//! Bounded live state over real connections: many distinct visitors come and go and the
//! hub's maps stay under `visitors_in_memory` (read from `/metrics`, as an operator would);
//! an evicted visitor who comes back still gets their history; a queued chat whose visitor
//! left ends after `queue_visitor_grace_seconds`.
//!
//! The flood's size is `KEFU_LIVE_VISITORS` (default 2,000, so CI's debug build on two cores
//! stays quick); the full run of issue #16 is `KEFU_LIVE_VISITORS=50000 cargo test -p
//! kefu-server --test live_state -- --nocapture` (figures in ARCHITECTURE.md).

mod common;

use std::time::Instant;

use common::{Client, TestServer, demo_config, hello, http, transfer_by_keyword, visitor_token};
use kefu_core::conversation::{EndedBy, EventBody};
use kefu_core::protocol::{CustomerFrame, ServerFrame};

const CAP: u64 = 500;
const GRACE_SECONDS: i64 = 120;

fn settings() -> String {
    format!(
        "identity_secret = \"test\"\nvisitor_frames_per_second = 1000000.0\nvisitor_frame_burst = 1000000.0\n\
         ip_frames_per_second = 1000000.0\nip_frame_burst = 1000000.0\n\
         visitors_in_memory = {CAP}\nqueue_visitor_grace_seconds = {GRACE_SECONDS}\n"
    )
}

async fn start() -> TestServer {
    TestServer::start_with_settings(demo_config(), 1_700_000_000_000, Some(&settings())).await
}

/// A gauge or counter of `/metrics`.
async fn metric(server: &TestServer, name: &str) -> u64 {
    let (status, body) = http(server.addr, "GET", "/metrics", None, None).await;
    assert_eq!(status, 200);
    body.lines()
        .find_map(|line| line.strip_prefix(&format!("{name} ")))
        .unwrap_or_else(|| panic!("no {name} in /metrics"))
        .trim()
        .parse()
        .unwrap()
}

/// Waits until the server has seen every customer connection close (the hub evicts as it
/// handles each close).
async fn until_no_customers(server: &TestServer) {
    let deadline = Instant::now() + std::time::Duration::from_secs(60);
    while metric(server, "kefu_customer_connections").await > 0 {
        assert!(
            Instant::now() < deadline,
            "connections still open after 60 s"
        );
        tokio::task::yield_now().await;
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// One visitor's whole visit: hello, welcome, (every `ask_every`th one asks the robot, which
/// starts a conversation), close.
async fn visit(server: &TestServer, index: usize, ask_every: usize) {
    let mut customer = server.customer().await;
    if index.is_multiple_of(ask_every) {
        customer.say("q", "忘记密码怎么办？").await;
        customer
            .expect_event(|body| {
                matches!(
                    body,
                    EventBody::RobotAnswer { .. } | EventBody::RobotMiss { .. }
                )
            })
            .await;
    }
    customer.send_close(1000).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_visitors_come_and_go_and_the_live_maps_stay_under_their_cap() {
    let total: usize = std::env::var("KEFU_LIVE_VISITORS")
        .ok()
        .and_then(|count| count.parse().ok())
        .unwrap_or(2_000);
    const BATCH: usize = 100;
    const ASK_EVERY: usize = 20;
    let server = start().await;
    assert_eq!(metric(&server, "kefu_live_visitors_cap").await, CAP);
    let started = Instant::now();
    let mut most_visitors = 0;
    let mut done = 0;
    while done < total {
        let count = BATCH.min(total - done);
        let visits = (done..done + count).map(|index| visit(&server, index, ASK_EVERY));
        futures_util::future::join_all(visits).await;
        done += count;
        // Visitors of this batch whose close the hub has not handled yet are still held.
        let visitors = metric(&server, "kefu_live_visitors").await;
        most_visitors = most_visitors.max(visitors);
        assert!(
            visitors <= CAP + 2 * BATCH as u64,
            "{visitors} visitors in memory after {done} visits (cap {CAP})"
        );
    }
    until_no_customers(&server).await;
    let visitors = metric(&server, "kefu_live_visitors").await;
    let conversations = metric(&server, "kefu_live_conversations").await;
    let started_total = metric(&server, "kefu_conversations_started_total").await;
    assert_eq!(started_total, total.div_ceil(ASK_EVERY) as u64);
    assert!(visitors <= CAP, "{visitors} visitors in memory (cap {CAP})");
    assert!(
        conversations <= CAP,
        "{conversations} conversations in memory of {started_total} started"
    );
    let rss_kib = std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find_map(|line| {
            line.strip_prefix("VmRSS:")
                .map(str::trim)
                .map(str::to_owned)
        })
        .unwrap_or_default();
    eprintln!(
        "{total} visitors in {:.1} s; at most {most_visitors} in memory; after: {visitors} \
         visitors, {conversations} conversations (of {started_total}); test process RSS {rss_kib}",
        started.elapsed().as_secs_f64()
    );
}

/// The first visitor's conversation is evicted when 2 × the cap of other visitors come and go;
/// back with their token, they get their history from the store, and a new question
/// continues in the conversation they had (the robot phase), as if never evicted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_evicted_visitor_who_returns_gets_their_history() {
    let server = start().await;
    let mut first = server.customer().await;
    first.say("q1", "忘记密码怎么办？").await;
    let (conversation_id, _) = first
        .expect_event(|body| matches!(body, EventBody::RobotAnswer { .. }))
        .await;
    let token = visitor_token(&first);
    first.send_close(1000).await;
    for batch in 0..(2 * CAP as usize / 100) {
        let visits = (0..100).map(|index| visit(&server, batch * 100 + index + 1, usize::MAX));
        futures_util::future::join_all(visits).await;
    }
    until_no_customers(&server).await;
    assert!(metric(&server, "kefu_live_visitors").await <= CAP);

    let mut back = Client::connect(&server.ws_url("/ws/customer"), None).await;
    back.send_customer(&hello(Some(token), vec![])).await;
    let welcome = back
        .expect(|frame| matches!(frame, ServerFrame::Welcome { .. }))
        .await;
    let ServerFrame::Welcome {
        conversation_id: current,
        ..
    } = welcome
    else {
        unreachable!()
    };
    assert_eq!(current.as_deref(), Some(conversation_id.as_str()));
    let (_, question) = back
        .expect_event(|body| matches!(body, EventBody::CustomerMessage { .. }))
        .await;
    assert!(
        matches!(&question.body, EventBody::CustomerMessage { text, .. } if text == "忘记密码怎么办？")
    );
    back.expect_event(|body| matches!(body, EventBody::RobotAnswer { .. }))
        .await;
    // The same conversation goes on: a retry of the first question is acknowledged with its
    // first seq, not stored again.
    back.say("q1", "忘记密码怎么办？").await;
    let ack = back
        .expect(|frame| matches!(frame, ServerFrame::Ack { .. }))
        .await;
    assert!(
        matches!(&ack, ServerFrame::Ack { conversation_id: acked, seq, .. } if *acked == conversation_id && *seq == question.seq),
        "{ack:?}"
    );
}

/// A queued chat whose visitor closed the page ends after the grace period, not before: the
/// customer behind it moves up to position 1, and the visitor, back, sees the chat ended.
#[tokio::test]
async fn a_queued_chat_whose_visitor_left_expires_after_the_grace_period() {
    let server = start().await;
    let token = server.agent_session("mei", &["support"], 1).await;
    let _agent = server.online_agent(&token).await;
    let mut served = server.customer().await;
    transfer_by_keyword(&mut served, "a1").await;
    served
        .expect_event(|body| matches!(body, EventBody::AgentAssigned { .. }))
        .await;

    let mut leaving = server.customer().await;
    let leaving_chat = transfer_by_keyword(&mut leaving, "b1").await;
    let leaving_token = visitor_token(&leaving);
    let mut waiting = server.customer().await;
    transfer_by_keyword(&mut waiting, "c1").await;
    waiting
        .expect(|frame| matches!(frame, ServerFrame::QueuePosition { position: 2, .. }))
        .await;
    leaving.send_close(1000).await;
    // Three customers were connected; wait for the server to see this one go.
    while metric(&server, "kefu_customer_connections").await > 2 {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(metric(&server, "kefu_live_queued").await, 2);

    // The grace period starts at the first tick that sees the visitor gone (ticks come every
    // second, so that is within a second of the close): 1 ms short of the grace period after
    // the close, the chat still waits...
    server.advance(1000).await;
    server.advance(GRACE_SECONDS * 1000 - 1001).await;
    // Not yet: the waiting customer's ping is answered before any move up (each tick repeats
    // the positions, so position 2 may come again).
    waiting.send_customer(&CustomerFrame::Ping {}).await;
    let before = waiting
        .expect(|frame| {
            matches!(
                frame,
                ServerFrame::Pong {} | ServerFrame::QueuePosition { position: 1, .. }
            )
        })
        .await;
    assert_eq!(
        before,
        ServerFrame::Pong {},
        "the chat left the queue too early"
    );
    assert_eq!(metric(&server, "kefu_live_queued").await, 2);

    // ...and a second later it has ended.
    server.advance(1001).await;
    waiting
        .expect(|frame| matches!(frame, ServerFrame::QueuePosition { position: 1, .. }))
        .await;
    assert_eq!(metric(&server, "kefu_live_queued").await, 1);

    let mut back = Client::connect(&server.ws_url("/ws/customer"), None).await;
    back.send_customer(&hello(Some(leaving_token), vec![]))
        .await;
    let (ended_chat, ended) = back
        .expect_event(|body| matches!(body, EventBody::Ended { .. }))
        .await;
    assert_eq!(ended_chat, leaving_chat);
    assert_eq!(
        ended.body,
        EventBody::Ended {
            by: EndedBy::IdleTimeout
        }
    );
}
