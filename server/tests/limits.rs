//! Limits over real WebSockets: the per-visitor and per-IP rate limits answer with
//! `rate_limited` and keep the connection, oversized frames and texts are refused with
//! `too_large`, and `/metrics` counts all of it truly.

mod common;

use std::sync::atomic::Ordering;
use std::time::Duration;

use common::{Client, TestServer, demo_config, http};
use kefu_core::conversation::EventBody;
use kefu_core::protocol::{CustomerFrame, ErrorCode, ServerFrame};

fn is_error(frame: &ServerFrame, wanted: ErrorCode) -> bool {
    matches!(frame, ServerFrame::Error { code, .. } if *code == wanted)
}

/// Sends `n` pings and reads the `n` answers (pongs or errors).
async fn ping(client: &mut Client, n: usize) -> Vec<ServerFrame> {
    for _ in 0..n {
        client.send_customer(&CustomerFrame::Ping {}).await;
    }
    let mut answers = Vec::new();
    while answers.len() < n {
        let frame = client.next_frame().await.expect("the connection closed");
        if matches!(frame, ServerFrame::Pong {} | ServerFrame::Error { .. }) {
            answers.push(frame);
        }
    }
    answers
}

/// The value of one counter in `/metrics`.
async fn metric(server: &TestServer, name: &str) -> u64 {
    let (status, text) = http(server.addr, "GET", "/metrics", None, None).await;
    assert_eq!(status, 200);
    text.lines()
        .find_map(|line| line.strip_prefix(&format!("{name} ")))
        .and_then(|value| value.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {name} in {text}"))
}

/// A visitor gets a burst of 20 frames, then `rate_limited` (with the message's id) on the
/// same open connection; after a second of the server's clock, 10 more pass.
#[tokio::test]
async fn a_visitor_over_the_rate_limit_gets_rate_limited_and_stays_connected() {
    let server = TestServer::start(demo_config()).await;
    let mut customer = server.customer().await;
    let answers = ping(&mut customer, 25).await;
    let pongs = answers
        .iter()
        .filter(|frame| matches!(frame, ServerFrame::Pong {}))
        .count();
    let limited = answers
        .iter()
        .filter(|frame| is_error(frame, ErrorCode::RateLimited))
        .count();
    assert_eq!((pongs, limited), (20, 5), "{answers:?}");

    customer.say("m1", "忘记密码怎么办？").await;
    let refused = customer.expect_error().await;
    assert!(
        matches!(&refused, ServerFrame::Error { code: ErrorCode::RateLimited, client_msg_id: Some(id), .. } if id == "m1"),
        "{refused:?}"
    );
    assert!(
        server
            .state
            .store
            .all_conversations()
            .await
            .unwrap()
            .is_empty(),
        "a refused message was stored"
    );

    server.clock.advance(1_000);
    customer.say("m1", "忘记密码怎么办？").await;
    // The events of a send are queued before its ack.
    customer
        .expect_event(|body| matches!(body, EventBody::RobotAnswer { .. }))
        .await;
    customer.expect(|frame| matches!(frame, ServerFrame::Ack { client_msg_id, .. } if client_msg_id == "m1")).await;
    let answers = ping(&mut customer, 10).await;
    assert_eq!(
        answers
            .iter()
            .filter(|frame| matches!(frame, ServerFrame::Pong {}))
            .count(),
        9,
        "10 refilled, 1 spent: {answers:?}"
    );
    assert_eq!(metric(&server, "kefu_frames_rate_limited_total").await, 7);
}

/// Visitors behind one address share its bucket (100 frames by default): when five have
/// used it up, a sixth with a full bucket of its own is limited too.
#[tokio::test]
async fn visitors_behind_one_address_share_its_limit() {
    let server = TestServer::start(demo_config()).await;
    for _ in 0..5 {
        let mut customer = server.customer().await;
        let answers = ping(&mut customer, 20).await;
        assert!(
            answers
                .iter()
                .all(|frame| matches!(frame, ServerFrame::Pong {})),
            "{answers:?}"
        );
    }
    let mut sixth = server.customer().await;
    let answers = ping(&mut sixth, 1).await;
    assert!(is_error(&answers[0], ErrorCode::RateLimited), "{answers:?}");
    server.clock.advance(100);
    assert!(
        matches!(ping(&mut sixth, 1).await[0], ServerFrame::Pong {}),
        "the address refills at 50 frames/s"
    );
}

/// Behind a trusted reverse proxy every visitor arrives from the proxy's address; the limit
/// per address then applies to the address `X-Forwarded-For` names. From anyone else the
/// header is ignored: forging it does not buy a fresh bucket.
#[tokio::test]
async fn behind_a_trusted_proxy_each_forwarded_address_has_its_own_limit() {
    async fn customer_from(server: &TestServer, forwarded_for: &str) -> Client {
        let mut client = Client::try_connect_with(
            &server.ws_url("/ws/customer"),
            &[("x-forwarded-for", forwarded_for)],
        )
        .await
        .unwrap();
        client.send_customer(&common::hello(None, vec![])).await;
        client
            .expect(|frame| matches!(frame, ServerFrame::Welcome { .. }))
            .await;
        client
    }
    let trusting = TestServer::start_with_settings(
        demo_config(),
        0,
        Some("identity_secret = \"s\"\ntrusted_proxies = [\"127.0.0.1\"]\n"),
    )
    .await;
    for n in 0..6 {
        let mut customer = customer_from(&trusting, &format!("203.0.113.{n}")).await;
        let answers = ping(&mut customer, 20).await;
        assert!(
            answers
                .iter()
                .all(|frame| matches!(frame, ServerFrame::Pong {})),
            "visitor {n}: {answers:?}"
        );
    }

    let direct = TestServer::start(demo_config()).await;
    for n in 0..5 {
        let mut customer = customer_from(&direct, &format!("203.0.113.{n}")).await;
        ping(&mut customer, 20).await;
    }
    let mut sixth = customer_from(&direct, "198.51.100.1").await;
    let answers = ping(&mut sixth, 1).await;
    assert!(
        is_error(&answers[0], ErrorCode::RateLimited),
        "a forged X-Forwarded-For escaped the limit: {answers:?}"
    );
}

/// A frame over 64 KiB and a text over 4,000 characters get `too_large`; the connection
/// lives on and nothing is stored.
#[tokio::test]
async fn oversized_frames_and_messages_are_refused_with_too_large() {
    let server = TestServer::start(demo_config()).await;
    let mut customer = server.customer().await;
    let padding = "x".repeat(100 * 1024);
    customer
        .send_text(format!(
            r#"{{"v":1,"type":"send","client_msg_id":"big","text":"hi","padding":"{padding}"}}"#
        ))
        .await;
    let refused = customer.expect_error().await;
    assert!(is_error(&refused, ErrorCode::TooLarge), "{refused:?}");

    customer.say("long", &"长".repeat(4_001)).await;
    let refused = customer.expect_error().await;
    assert!(
        matches!(&refused, ServerFrame::Error { code: ErrorCode::TooLarge, client_msg_id: Some(id), .. } if id == "long"),
        "{refused:?}"
    );
    customer.say("ok", &"长".repeat(4_000)).await;
    customer.expect(|frame| matches!(frame, ServerFrame::Ack { client_msg_id, .. } if client_msg_id == "ok")).await;
    let conversations = server.state.store.all_conversations().await.unwrap();
    let stored = server
        .state
        .store
        .events_after(&conversations[0].0, 0)
        .await
        .unwrap();
    let texts: Vec<usize> = stored
        .iter()
        .filter_map(|event| match &event.body {
            EventBody::CustomerMessage { text, .. } => Some(text.chars().count()),
            _ => None,
        })
        .collect();
    assert_eq!(texts, vec![4_000]);
}

/// `/metrics` tells the truth: frames received and rejected, rate-limited frames, events
/// appended (the number stored), conversations started, and the connection gauge going back
/// down when a customer leaves.
#[tokio::test]
async fn metrics_count_what_happened() {
    let server = TestServer::start(demo_config()).await;
    let mut customer = server.customer().await;
    customer.say("m1", "忘记密码怎么办？").await;
    customer
        .expect_event(|body| matches!(body, EventBody::RobotAnswer { .. }))
        .await;
    customer.send_text("not json".to_owned()).await;
    customer
        .expect(|frame| is_error(frame, ErrorCode::BadFrame))
        .await;
    ping(&mut customer, 20).await;
    assert_eq!(metric(&server, "kefu_customer_connections").await, 1);
    // hello is not counted as received: it is read before the connection joins the hub.
    assert_eq!(metric(&server, "kefu_frames_received_total").await, 22);
    assert_eq!(metric(&server, "kefu_frames_rate_limited_total").await, 2);
    assert_eq!(metric(&server, "kefu_frames_rejected_total").await, 3);
    let conversations = server.state.store.all_conversations().await.unwrap();
    let stored = server
        .state
        .store
        .events_after(&conversations[0].0, 0)
        .await
        .unwrap()
        .len() as u64;
    assert_eq!(metric(&server, "kefu_events_appended_total").await, stored);
    assert_eq!(metric(&server, "kefu_conversations_started_total").await, 1);

    drop(customer);
    for _ in 0..200 {
        if server
            .state
            .metrics
            .customer_connections
            .load(Ordering::SeqCst)
            == 0
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(metric(&server, "kefu_customer_connections").await, 0);
}
