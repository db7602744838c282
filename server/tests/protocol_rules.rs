//! Rules of PROTOCOL.md the server once broke, over real sockets: how a connection ends
//! (the error frame and the close code of every path, the answer to a client's close frame,
//! the idle close), what an agent hears when writing into an ended chat, and what a `hello`
//! may carry (`user_hash` inside `user` only; never passed on to agents).

mod common;

use std::time::Duration;

use common::*;
use kefu_core::conversation::EventBody;
use kefu_core::protocol::{AgentFrame, CustomerFrame, ErrorCode, ServerFrame};

fn is_error(frame: &ServerFrame, wanted: ErrorCode) -> bool {
    matches!(frame, ServerFrame::Error { code, .. } if *code == wanted)
}

/// "Logout or disable: `unauthorized`, then close 1008": the workspace must tell a logged-out
/// agent from a network drop, or it reconnects with a dead token for ever.
/// The connection gets `unauthorized`, then a close frame with 1008.
async fn expect_unauthorized_then_1008(agent: &mut Client) {
    let close = agent.expect_close().await;
    assert!(
        agent
            .received
            .iter()
            .any(|frame| is_error(frame, ErrorCode::Unauthorized)),
        "no unauthorized before the close: {:?}",
        agent.received
    );
    assert_eq!(close.map(|(code, _)| code), Some(1008));
}

#[tokio::test]
async fn logout_sends_unauthorized_then_closes_with_1008() {
    let server = TestServer::start(demo_config()).await;
    let token = server.agent_session("mei", &["support"], 5).await;
    let mut agent = server.online_agent(&token).await;
    let (status, _) = http(server.addr, "POST", "/api/agent/logout", Some(&token), None).await;
    assert_eq!(status, 204);
    expect_unauthorized_then_1008(&mut agent).await;
}

#[tokio::test]
async fn disabling_an_agent_sends_unauthorized_then_closes_with_1008() {
    let server = TestServer::start(demo_config()).await;
    let token = server.agent_session("mei", &["support"], 5).await;
    let mut agent = server.online_agent(&token).await;
    let login = format!(r#"{{"login":"demo","password":"{TEST_PASSWORD}"}}"#);
    let (status, body) = http(server.addr, "POST", "/api/agent/login", None, Some(&login)).await;
    assert_eq!(status, 200, "{body}");
    let admin: serde_json::Value = serde_json::from_str(&body).unwrap();
    let (status, body) = http(
        server.addr,
        "PUT",
        "/api/admin/agents/mei",
        admin["token"].as_str(),
        Some(r#"{"disabled":true}"#),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    expect_unauthorized_then_1008(&mut agent).await;
}

/// RFC 6455, 5.5.1: an endpoint that receives a close frame answers with one. Clients wait
/// for that answer (browsers report an unclean close, 1006, without it).
#[tokio::test]
async fn a_clients_close_frame_is_answered_with_its_code() {
    let server = TestServer::start(demo_config()).await;
    let mut customer = server.customer().await;
    customer.send_close(1000).await;
    assert_eq!(
        customer.expect_close().await.map(|(code, _)| code),
        Some(1000)
    );

    // Before the hello too.
    let mut early = Client::connect(&server.ws_url("/ws/customer"), None).await;
    early.send_close(1001).await;
    assert_eq!(early.expect_close().await.map(|(code, _)| code), Some(1001));

    // And an agent's.
    let token = server.agent_session("mei", &["support"], 5).await;
    let mut agent = server.online_agent(&token).await;
    agent.send_close(1000).await;
    assert_eq!(agent.expect_close().await.map(|(code, _)| code), Some(1000));
}

/// A refused `hello` is answered with its error, then close 1008.
#[tokio::test]
async fn a_refused_hello_is_an_error_then_close_1008() {
    let server = TestServer::start(demo_config()).await;
    let mut customer = Client::connect(&server.ws_url("/ws/customer"), None).await;
    customer.send_customer(&CustomerFrame::Ping {}).await;
    let close = customer.expect_close().await;
    assert!(
        matches!(customer.received.as_slice(), [frame] if is_error(frame, ErrorCode::BadFrame)),
        "{:?}",
        customer.received
    );
    assert_eq!(close.map(|(code, _)| code), Some(1008));

    let mut agent = Client::connect(&server.ws_url("/ws/agent"), None).await;
    agent
        .send_agent(&AgentFrame::Hello {
            session_token: "0123456789abcdef".into(),
            resume: vec![],
        })
        .await;
    let close = agent.expect_close().await;
    assert!(
        matches!(agent.received.as_slice(), [frame] if is_error(frame, ErrorCode::Unauthorized)),
        "{:?}",
        agent.received
    );
    assert_eq!(close.map(|(code, _)| code), Some(1008));
}

const SHORT_DEADLINES: &str =
    "identity_secret = \"s3cret\"\nidle_close_seconds = 1\nhello_timeout_seconds = 1\n";

/// A connection from which nothing arrives for `idle_close_seconds` is closed with 1000; one
/// that pings (a `ping` frame, or a WebSocket ping) is not.
#[tokio::test]
async fn a_silent_connection_is_closed_and_a_pinging_one_is_not() {
    let server = TestServer::start_with_settings(
        demo_config(),
        kefu_server::app::now_ms(),
        Some(SHORT_DEADLINES),
    )
    .await;
    let mut silent = server.customer().await;
    let mut pinging = server.customer().await;
    let mut ws_pinging = server.customer().await;
    // Each keeps pinging every 300 ms, well inside the 1 s, until the silent one is closed.
    {
        let closed = async {
            let close = silent.expect_close().await;
            assert_eq!(close.map(|(code, _)| code), Some(1000));
        };
        let keep_alive = async {
            loop {
                pinging.send_customer(&CustomerFrame::Ping {}).await;
                pinging
                    .expect(|frame| matches!(frame, ServerFrame::Pong {}))
                    .await;
                ws_pinging.send_ws_ping().await;
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
        };
        tokio::select! {
            () = closed => {}
            () = keep_alive => unreachable!(),
        }
    }
    // Past the silent one's close, and more than a second after they connected: both answer.
    for _ in 0..3 {
        pinging.send_customer(&CustomerFrame::Ping {}).await;
        pinging
            .expect(|frame| matches!(frame, ServerFrame::Pong {}))
            .await;
        ws_pinging.send_customer(&CustomerFrame::Ping {}).await;
        ws_pinging
            .expect(|frame| matches!(frame, ServerFrame::Pong {}))
            .await;
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

/// No `hello` within `hello_timeout_seconds`: `bad_frame`, then close 1008.
#[tokio::test]
async fn no_hello_in_time_is_bad_frame_then_close_1008() {
    let server = TestServer::start_with_settings(
        demo_config(),
        kefu_server::app::now_ms(),
        Some(SHORT_DEADLINES),
    )
    .await;
    let mut customer = Client::connect(&server.ws_url("/ws/customer"), None).await;
    let close = customer.expect_close().await;
    assert!(
        matches!(customer.received.as_slice(), [frame] if is_error(frame, ErrorCode::BadFrame)),
        "{:?}",
        customer.received
    );
    assert_eq!(close.map(|(code, _)| code), Some(1008));
}

/// An agent writing into a chat of theirs that has ended meanwhile is told so
/// (`invalid_state`), and a retry of a message stored before the end is still acknowledged.
#[tokio::test]
async fn an_agent_writing_after_the_end_gets_invalid_state() {
    let server = TestServer::start(demo_config()).await;
    let token = server.agent_session("mei", &["support"], 5).await;
    let mut agent = server.online_agent(&token).await;
    let mut customer = server.customer().await;
    let conversation_id = transfer_by_keyword(&mut customer, "m1").await;
    agent
        .expect(|frame| matches!(frame, ServerFrame::Snapshot { .. }))
        .await;
    let said = AgentFrame::Send {
        conversation_id: conversation_id.clone(),
        client_msg_id: "a1".into(),
        text: "您好".into(),
    };
    agent.send_agent(&said).await;
    let first_ack = agent
        .expect(|frame| matches!(frame, ServerFrame::Ack { .. }))
        .await;
    customer.send_customer(&CustomerFrame::End {}).await;
    agent
        .expect_event(|body| matches!(body, EventBody::Ended { .. }))
        .await;

    agent.reply(&conversation_id, "a2", "还在吗").await;
    let refused = agent.expect_error().await;
    assert!(
        matches!(&refused, ServerFrame::Error { code: ErrorCode::InvalidState, client_msg_id: Some(id), .. } if id == "a2"),
        "{refused:?}"
    );
    agent.send_agent(&said).await;
    let again = agent
        .expect(|frame| matches!(frame, ServerFrame::Ack { .. }))
        .await;
    assert_eq!(
        again, first_ack,
        "a retry is acknowledged with the first seq"
    );

    // Another agent, who never served it, still cannot tell it exists.
    let other = server.agent_session("lei", &["support"], 5).await;
    let mut lei = server.online_agent(&other).await;
    lei.send_agent(&AgentFrame::End { conversation_id }).await;
    let refused = lei.expect_error().await;
    assert!(is_error(&refused, ErrorCode::NotFound), "{refused:?}");
}

/// `user_hash` beside `user` would leave the identity silently unverified: `bad_frame`. And
/// the agent's copy of the user has no `user_hash` key at all (not even `null`).
#[tokio::test]
async fn user_hash_goes_inside_user_and_never_reaches_the_agent() {
    let server = TestServer::start(demo_config()).await;
    let mut misplaced = Client::connect(&server.ws_url("/ws/customer"), None).await;
    misplaced
        .send_text(r#"{"v":1,"type":"hello","user":{"id":"u_1"},"user_hash":"00ff"}"#.into())
        .await;
    let close = misplaced.expect_close().await;
    assert!(
        matches!(misplaced.received.as_slice(), [frame] if is_error(frame, ErrorCode::BadFrame)),
        "{:?}",
        misplaced.received
    );
    assert_eq!(close.map(|(code, _)| code), Some(1008));

    let token = server.agent_session("mei", &["support"], 5).await;
    let mut agent = server.online_agent(&token).await;
    let secret = server.state.settings.identity_secret.clone();
    let hash = kefu_server::auth::user_hash(&secret, "u_1");
    let mut customer = Client::connect(&server.ws_url("/ws/customer"), None).await;
    customer
        .send_text(format!(
            r#"{{"v":1,"type":"hello","user":{{"id":"u_1","name":"张三","user_hash":"{hash}"}}}}"#
        ))
        .await;
    customer
        .expect(|frame| matches!(frame, ServerFrame::Welcome { .. }))
        .await;
    transfer_by_keyword(&mut customer, "m1").await;
    agent
        .expect(|frame| matches!(frame, ServerFrame::Snapshot { .. }))
        .await;
    let snapshot = agent
        .raw
        .iter()
        .find(|text| text.contains(r#""type":"snapshot""#))
        .unwrap();
    let value: serde_json::Value = serde_json::from_str(snapshot).unwrap();
    let user = &value["conversation"]["visitor"]["user"];
    assert_eq!(user["id"], "u_1", "{snapshot}");
    assert!(
        user.as_object().unwrap().get("user_hash").is_none(),
        "the snapshot names user_hash: {snapshot}"
    );
    assert_eq!(value["conversation"]["visitor"]["verified"], true);
}

/// A second `hello` is `invalid_state` and the connection lives on.
#[tokio::test]
async fn a_second_hello_is_invalid_state_and_the_connection_stays() {
    let server = TestServer::start(demo_config()).await;
    let mut customer = server.customer().await;
    customer.send_customer(&hello(None, vec![])).await;
    let refused = customer.expect_error().await;
    assert!(is_error(&refused, ErrorCode::InvalidState), "{refused:?}");
    customer.send_customer(&CustomerFrame::Ping {}).await;
    customer
        .expect(|frame| matches!(frame, ServerFrame::Pong {}))
        .await;
}
