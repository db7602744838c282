//! The bad-input corpus: every way a client may try to break in or break the server, each
//! over a real WebSocket (or HTTP) connection to the whole app. Each test checks what the
//! attacker sees (an error frame with its code, an HTTP status, a closed connection) and
//! that nothing was lost or leaked: what was acknowledged before is still stored and
//! resumable, and no one else's transcript reached the attacker.
//!
//! Cases covered elsewhere, by name (not repeated here):
//! - frames over 64 KiB and texts over 4,000 characters: `limits.rs`
//!   `oversized_frames_and_messages_are_refused_with_too_large`;
//! - not JSON, an unknown type, a future version: `conversations.rs`
//!   `bad_frames_get_error_frames_and_the_connection_survives`;
//! - a mangled visitor token, and another visitor's conversation id in a resume cursor:
//!   `routing.rs` `a_customer_cannot_read_another_customers_conversation`;
//! - an agent of group B reading (resume), writing to or ending a group A chat: `routing.rs`
//!   `an_agent_of_another_group_cannot_read_write_or_end`, and another agent's chat of the
//!   same group: `conversations.rs` `an_agent_cannot_touch_another_agents_conversation`;
//! - a forged `userHash` (another id's, another secret's, garbage): `identity.rs`
//!   `a_user_id_is_trusted_only_with_its_hmac`;
//! - that the HMAC comparison is constant-time: `server/src/auth.rs`
//!   `the_user_hash_is_compared_in_constant_time` (a unit test of the function's source).

mod common;

use std::time::Duration;

use common::{Client, TEST_PASSWORD, TestServer, demo_config, hello, http, visitor_token};
use futures_util::{SinkExt, StreamExt};
use kefu_core::conversation::EventBody;
use kefu_core::protocol::{
    self, AgentFrame, CustomerFrame, ErrorCode, ResumeCursor, ServerFrame, UserIdentity,
};
use tokio_tungstenite::tungstenite::protocol::frame::Frame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{CloseCode, Data, OpCode};
use tokio_tungstenite::tungstenite::{Bytes, Message};

/// A short wait for "nothing else arrives" checks.
const QUIET: Duration = Duration::from_millis(300);

fn is_error(frame: &ServerFrame, wanted: ErrorCode) -> bool {
    matches!(frame, ServerFrame::Error { code, .. } if *code == wanted)
}

/// The next error frame a client gets.
async fn next_error(client: &mut Client) -> ServerFrame {
    client.expect_error().await
}

/// The connection still answers: a ping gets its pong.
async fn assert_alive(client: &mut Client) {
    client.send_customer(&CustomerFrame::Ping {}).await;
    client
        .expect(|frame| matches!(frame, ServerFrame::Pong {}))
        .await;
}

/// Every customer message text the server stored: conversation by conversation (in no
/// particular order of conversations), each in its order.
async fn stored_customer_texts(server: &TestServer) -> Vec<String> {
    let mut texts = Vec::new();
    for (conversation_id, _, _) in server.state.store.all_conversations().await.unwrap() {
        for event in server
            .state
            .store
            .events_after(&conversation_id, 0)
            .await
            .unwrap()
        {
            if let EventBody::CustomerMessage { text, .. } = event.body {
                texts.push(text);
            }
        }
    }
    texts
}

fn sorted(mut texts: Vec<String>) -> Vec<String> {
    texts.sort();
    texts
}

/// A customer who said `text` and got its ack; returns the client and the conversation id.
async fn customer_who_said(server: &TestServer, text: &str) -> (Client, String) {
    let mut customer = server.customer().await;
    customer.say("before", text).await;
    let ack = customer
        .expect(|frame| matches!(frame, ServerFrame::Ack { .. }))
        .await;
    let ServerFrame::Ack {
        conversation_id, ..
    } = ack
    else {
        unreachable!()
    };
    (customer, conversation_id)
}

/// Reconnects with the customer's token and returns the texts of the customer messages it
/// gets back: what survived.
async fn resumed_customer_texts(server: &TestServer, token: String) -> Vec<String> {
    let mut again = Client::connect(&server.ws_url("/ws/customer"), None).await;
    again.send_customer(&hello(Some(token), vec![])).await;
    again
        .expect(|frame| matches!(frame, ServerFrame::Welcome { .. }))
        .await;
    again.drain(QUIET).await;
    again
        .events()
        .into_iter()
        .filter_map(|event| match event.body {
            EventBody::CustomerMessage { text, .. } => Some(text),
            _ => None,
        })
        .collect()
}

type RawSocket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A bare WebSocket past `hello`/`welcome`, for frames the typed client cannot send.
async fn raw_customer(server: &TestServer) -> RawSocket {
    let (mut ws, _) = tokio_tungstenite::connect_async(server.ws_url("/ws/customer"))
        .await
        .unwrap();
    ws.send(Message::text(protocol::encode_customer_frame(&hello(
        None,
        vec![],
    ))))
    .await
    .unwrap();
    let welcome = raw_next_frame(&mut ws).await;
    assert!(
        matches!(welcome, Some(ServerFrame::Welcome { .. })),
        "{welcome:?}"
    );
    ws
}

/// The next server frame on a bare socket; None once it closed.
async fn raw_next_frame(ws: &mut RawSocket) -> Option<ServerFrame> {
    raw_next(ws).await.ok()
}

/// The next server frame, or how the socket ended: `Err(Some(code))` for a close frame with
/// that code, `Err(None)` for a connection dropped without one.
async fn raw_next(ws: &mut RawSocket) -> Result<ServerFrame, Option<CloseCode>> {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(5), ws.next())
            .await
            .expect("no frame within 5 s");
        match message {
            Some(Ok(Message::Text(text))) => {
                return Ok(protocol::decode_server_frame(text.as_str()).unwrap());
            }
            Some(Ok(Message::Close(frame))) => return Err(frame.map(|frame| frame.code)),
            Some(Ok(_)) => continue,
            Some(Err(_)) | None => return Err(None),
        }
    }
}

/// Reads until the socket ends; returns the close code, if the server sent one.
async fn raw_closed(ws: &mut RawSocket) -> Option<CloseCode> {
    loop {
        match raw_next(ws).await {
            Ok(_) => continue,
            Err(code) => return code,
        }
    }
}

// ---- frames -------------------------------------------------------------------------------

/// A frame over 64 KiB gets `too_large` and the connection lives; one over the transport
/// limit (256 KiB) closes the connection with 1009. Either way the message acknowledged just
/// before is still stored and comes back on resume, and another visitor is not disturbed.
#[tokio::test]
async fn oversized_frames_get_too_large_and_only_a_huge_one_closes_the_connection() {
    let server = TestServer::start(demo_config()).await;
    let (mut customer, _) = customer_who_said(&server, "我的订单号是 123").await;
    let (mut bystander, _) = customer_who_said(&server, "忘记密码怎么办？").await;

    let padding = "x".repeat(70 * 1024);
    customer
        .send_text(format!(
            r#"{{"v":1,"type":"send","client_msg_id":"big","text":"{padding}"}}"#
        ))
        .await;
    let refused = next_error(&mut customer).await;
    assert!(is_error(&refused, ErrorCode::TooLarge), "{refused:?}");
    assert_alive(&mut customer).await;

    let mut raw = raw_customer(&server).await;
    let huge = format!(
        r#"{{"v":1,"type":"send","client_msg_id":"huge","text":"{}"}}"#,
        "x".repeat(300 * 1024)
    );
    raw.send(Message::text(huge)).await.unwrap();
    assert_eq!(
        raw_closed(&mut raw).await,
        Some(CloseCode::Size),
        "a frame over the transport limit closes with 1009"
    );

    assert_alive(&mut customer).await;
    assert_alive(&mut bystander).await;
    assert_eq!(
        sorted(stored_customer_texts(&server).await),
        vec!["忘记密码怎么办？", "我的订单号是 123"]
    );
    assert_eq!(
        resumed_customer_texts(&server, visitor_token(&customer)).await,
        vec!["我的订单号是 123"]
    );
}

/// A 1 MB message: the connection that sent it is closed with 1009 (message too big) before
/// the server reads it whole; nothing of it is stored, the visitor's earlier acknowledged
/// message is intact, and the visitor reconnects with the same token and carries on.
#[tokio::test]
async fn a_one_megabyte_message_closes_the_connection_and_loses_nothing() {
    let server = TestServer::start(demo_config()).await;
    let (mut customer, conversation_id) = customer_who_said(&server, "第一条消息").await;
    let token = visitor_token(&customer);

    let (mut raw, _) = tokio_tungstenite::connect_async(server.ws_url("/ws/customer"))
        .await
        .unwrap();
    raw.send(Message::text(protocol::encode_customer_frame(&hello(
        Some(token.clone()),
        vec![],
    ))))
    .await
    .unwrap();
    assert!(matches!(
        raw_next_frame(&mut raw).await,
        Some(ServerFrame::Welcome { .. })
    ));
    let megabyte = "长".repeat(1024 * 1024 / 3);
    let frame = format!(r#"{{"v":1,"type":"send","client_msg_id":"mb","text":"{megabyte}"}}"#);
    assert!(frame.len() >= 1024 * 1024);
    // The server may close while the client is still writing: then the send itself fails.
    let _ = raw.send(Message::text(frame)).await;
    assert_eq!(raw_closed(&mut raw).await, Some(CloseCode::Size));

    assert_alive(&mut customer).await;
    assert_eq!(stored_customer_texts(&server).await, vec!["第一条消息"]);
    let mut again = Client::connect(&server.ws_url("/ws/customer"), None).await;
    let cursor = ResumeCursor {
        conversation_id: conversation_id.clone(),
        after_seq: 0,
    };
    again.send_customer(&hello(Some(token), vec![cursor])).await;
    again
        .expect(|frame| matches!(frame, ServerFrame::Welcome { .. }))
        .await;
    again.say("after", "第二条消息").await;
    let ack = again
        .expect(|frame| matches!(frame, ServerFrame::Ack { .. }))
        .await;
    assert!(
        matches!(&ack, ServerFrame::Ack { conversation_id: id, .. } if *id == conversation_id),
        "{ack:?}"
    );
    assert_eq!(
        stored_customer_texts(&server).await,
        vec!["第一条消息", "第二条消息"]
    );
}

/// Malformed frames of every kind get `bad_frame` (a send's error carries its
/// `client_msg_id` when it can be read), the connection keeps working, and nothing is stored.
/// A malformed first frame gets `bad_frame` and the connection is closed.
#[tokio::test]
async fn malformed_frames_get_bad_frame_and_store_nothing() {
    let server = TestServer::start(demo_config()).await;
    let mut customer = server.customer().await;
    let nested = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let cases: Vec<(String, ErrorCode, Option<&str>)> = vec![
        (String::new(), ErrorCode::BadFrame, None),
        (
            r#"{"v":1,"type":"typing","typing":"yes"}"#.into(),
            ErrorCode::BadFrame,
            None,
        ),
        ("null".into(), ErrorCode::BadFrame, None),
        ("[]".into(), ErrorCode::BadFrame, None),
        ("42".into(), ErrorCode::BadFrame, None),
        (r#""send""#.into(), ErrorCode::BadFrame, None),
        (
            r#"{"v":1,"type":"ping"} trailing"#.into(),
            ErrorCode::BadFrame,
            None,
        ),
        (r#"{"type":"ping"}"#.into(), ErrorCode::BadFrame, None),
        (r#"{"v":1}"#.into(), ErrorCode::BadFrame, None),
        (r#"{"v":1,"type":7}"#.into(), ErrorCode::BadFrame, None),
        (
            r#"{"v":"1","type":"ping"}"#.into(),
            ErrorCode::UnsupportedVersion,
            None,
        ),
        (
            r#"{"v":1,"type":"send","client_msg_id":"no-text"}"#.into(),
            ErrorCode::BadFrame,
            Some("no-text"),
        ),
        (
            r#"{"v":1,"type":"send","text":"no id"}"#.into(),
            ErrorCode::BadFrame,
            None,
        ),
        (
            r#"{"v":1,"type":"send","client_msg_id":"","text":"empty id"}"#.into(),
            ErrorCode::BadFrame,
            Some(""),
        ),
        (
            format!(
                r#"{{"v":1,"type":"send","client_msg_id":"{}","text":"long id"}}"#,
                "i".repeat(129)
            ),
            ErrorCode::BadFrame,
            None,
        ),
        (
            r#"{"v":1,"type":"send","client_msg_id":"blank","text":" \n\t "}"#.into(),
            ErrorCode::BadFrame,
            Some("blank"),
        ),
        (
            r#"{"v":1,"type":"send","client_msg_id":"number","text":42}"#.into(),
            ErrorCode::BadFrame,
            Some("number"),
        ),
        (
            r#"{"v":1,"type":"send","client_msg_id":"surrogate","text":"\ud800"}"#.into(),
            ErrorCode::BadFrame,
            None,
        ),
        (
            format!(r#"{{"v":1,"type":"send","client_msg_id":"nested","text":{nested}}}"#),
            ErrorCode::BadFrame,
            None,
        ),
        (nested.clone(), ErrorCode::BadFrame, None),
    ];
    for (text, code, client_msg_id) in cases {
        let shown: String = text.chars().take(80).collect();
        customer.send_text(text).await;
        let error = next_error(&mut customer).await;
        let ServerFrame::Error {
            code: got,
            client_msg_id: got_id,
            message,
        } = &error
        else {
            unreachable!()
        };
        assert_eq!(*got, code, "{shown}: {error:?}");
        assert!(!message.is_empty(), "{shown}: the error says what is wrong");
        if let Some(id) = client_msg_id.filter(|id| !id.is_empty()) {
            assert_eq!(got_id.as_deref(), Some(id), "{shown}: {error:?}");
        }
    }
    // Twenty frames took the visitor's whole burst; a second refills ten.
    server.clock.advance(1_000);
    assert_alive(&mut customer).await;
    assert!(
        server
            .state
            .store
            .all_conversations()
            .await
            .unwrap()
            .is_empty(),
        "a malformed frame started a conversation"
    );

    for first in [
        "not json",
        r#"{"v":1,"type":"send","client_msg_id":"m","text":"hello first?"}"#,
    ] {
        let mut raw = Client::connect(&server.ws_url("/ws/customer"), None).await;
        raw.send_text(first.to_owned()).await;
        let refused = raw
            .next_frame()
            .await
            .expect("an error frame before the close");
        assert!(
            is_error(&refused, ErrorCode::BadFrame),
            "{first}: {refused:?}"
        );
        assert_eq!(
            raw.next_frame().await,
            None,
            "{first}: the connection is closed"
        );
    }
    assert!(stored_customer_texts(&server).await.is_empty());
}

/// Frame types a role does not know (made up, the other role's, the server's own, a type
/// name of 10,000 characters) get `unknown_type` and change nothing; as a first frame the
/// connection is closed.
#[tokio::test]
async fn unknown_frame_types_get_unknown_type_and_change_nothing() {
    let server = TestServer::start(demo_config()).await;
    let (mut customer, _) = customer_who_said(&server, "你好").await;
    let long_type = "t".repeat(10_000);
    for text in [
        r#"{"v":1,"type":"fly"}"#.to_owned(),
        r#"{"v":1,"type":"set_status","status":"online"}"#.to_owned(),
        r#"{"v":1,"type":"transfer_to_group","conversation_id":"c","group":"sales"}"#.to_owned(),
        r#"{"v":1,"type":"ack","client_msg_id":"m","conversation_id":"c","seq":1}"#.to_owned(),
        r#"{"v":1,"type":"event","conversation_id":"c","event":{"seq":99,"at":0,"kind":"ended","by":{"type":"customer"}}}"#.to_owned(),
        format!(r#"{{"v":1,"type":"{long_type}"}}"#),
    ] {
        customer.send_text(text.clone()).await;
        let error = next_error(&mut customer).await;
        let ServerFrame::Error { code, message, .. } = &error else { unreachable!() };
        assert_eq!(*code, ErrorCode::UnknownType, "{}: {error:?}", &text[..text.len().min(80)]);
        assert!(message.len() < 400, "the error does not echo an unbounded type name: {} bytes", message.len());
    }
    assert_alive(&mut customer).await;

    let token = server.agent_session("mei", &["support"], 5).await;
    let mut agent = server.online_agent(&token).await;
    for text in [
        r#"{"v":1,"type":"fly"}"#,
        r#"{"v":1,"type":"transfer"}"#,
        r#"{"v":1,"type":"welcome"}"#,
    ] {
        agent.send_text(text.to_owned()).await;
        let error = next_error(&mut agent).await;
        assert!(
            is_error(&error, ErrorCode::UnknownType),
            "{text}: {error:?}"
        );
    }
    agent.send_agent(&AgentFrame::Ping {}).await;
    agent
        .expect(|frame| matches!(frame, ServerFrame::Pong {}))
        .await;

    let mut first = Client::connect(&server.ws_url("/ws/customer"), None).await;
    first.send_text(r#"{"v":1,"type":"fly"}"#.to_owned()).await;
    let refused = first.next_frame().await.expect("an error before the close");
    assert!(is_error(&refused, ErrorCode::UnknownType), "{refused:?}");
    assert_eq!(first.next_frame().await, None);

    // The conversation is as it was: one message, not ended by the forged event.
    assert_eq!(stored_customer_texts(&server).await, vec!["你好"]);
    let conversations = server.state.store.all_conversations().await.unwrap();
    let events = server
        .state
        .store
        .events_after(&conversations[0].0, 0)
        .await
        .unwrap();
    assert!(
        !events
            .iter()
            .any(|event| matches!(event.body, EventBody::Ended { .. })),
        "{events:?}"
    );
}

/// A binary frame gets `bad_frame` (as the first frame, and the connection closes); a text
/// frame that is not UTF-8 breaks the WebSocket protocol and that connection is closed
/// (1007). The visitor's acknowledged message survives and another visitor is not disturbed.
#[tokio::test]
async fn binary_frames_and_invalid_utf8_are_refused_and_lose_nothing() {
    let server = TestServer::start(demo_config()).await;
    let (customer, _) = customer_who_said(&server, "订单 42 还没到").await;
    let (mut bystander, _) = customer_who_said(&server, "忘记密码怎么办？").await;

    let mut raw = raw_customer(&server).await;
    raw.send(Message::binary(br#"{"v":1,"type":"ping"}"#.to_vec()))
        .await
        .unwrap();
    let refused = raw_next_frame(&mut raw).await;
    assert!(
        matches!(&refused, Some(frame) if is_error(frame, ErrorCode::BadFrame)),
        "{refused:?}"
    );
    raw.send(Message::text(protocol::encode_customer_frame(
        &CustomerFrame::Ping {},
    )))
    .await
    .unwrap();
    assert_eq!(
        raw_next_frame(&mut raw).await,
        Some(ServerFrame::Pong {}),
        "a binary frame does not end the connection"
    );

    // Text frames with bytes that are not UTF-8 (a lone continuation byte, an overlong
    // encoding, a truncated sequence).
    for bytes in [
        &b"{\"v\":1,\"type\":\"send\",\"client_msg_id\":\"x\",\"text\":\"\x80\"}"[..],
        b"\xc0\xaf",
        b"\xe4\xbd",
    ] {
        let mut raw = raw_customer(&server).await;
        let frame = Frame::message(
            Bytes::copy_from_slice(bytes),
            OpCode::Data(Data::Text),
            true,
        );
        raw.send(Message::Frame(frame)).await.unwrap();
        assert_eq!(
            raw_closed(&mut raw).await,
            Some(CloseCode::Invalid),
            "closed with 1007"
        );
    }

    let (mut first, _) = tokio_tungstenite::connect_async(server.ws_url("/ws/customer"))
        .await
        .unwrap();
    first
        .send(Message::binary(b"\xff\xfe".to_vec()))
        .await
        .unwrap();
    let refused = raw_next_frame(&mut first).await;
    assert!(
        matches!(&refused, Some(frame) if is_error(frame, ErrorCode::BadFrame)),
        "{refused:?}"
    );
    assert_eq!(
        raw_next_frame(&mut first).await,
        None,
        "a binary first frame closes the connection"
    );

    assert_alive(&mut bystander).await;
    assert_eq!(
        sorted(stored_customer_texts(&server).await),
        vec!["忘记密码怎么办？", "订单 42 还没到"]
    );
    assert_eq!(
        resumed_customer_texts(&server, visitor_token(&customer)).await,
        vec!["订单 42 还没到"]
    );
}

/// 10,000 messages within one second (of the server's clock) from one visitor: each one is
/// answered, with an ack or with `rate_limited` carrying its id; at most the burst plus one
/// second's refill (20 + 10) get through; every acked message is stored exactly once, in the
/// order sent, and none that was refused; the connection stays open, and after a pause a
/// refused message retried with its id goes through.
#[tokio::test]
async fn ten_thousand_messages_a_second_are_rate_limited_and_every_acked_one_is_stored_once() {
    const SENT: usize = 10_000;
    let server = TestServer::start(demo_config()).await;
    let (ws, _) = tokio_tungstenite::connect_async(server.ws_url("/ws/customer"))
        .await
        .unwrap();
    let (mut sink, mut stream) = ws.split();
    sink.send(Message::text(protocol::encode_customer_frame(&hello(
        None,
        vec![],
    ))))
    .await
    .unwrap();

    let clock = server.clock.clone();
    let sender = tokio::spawn(async move {
        for i in 0..SENT {
            // 10,000 a second on the server's clock: 1 ms passes every 10 messages.
            if i % 10 == 9 {
                clock.advance(1);
            }
            let send = CustomerFrame::Send {
                client_msg_id: format!("f{i}"),
                text: format!("flood {i}"),
            };
            sink.send(Message::text(protocol::encode_customer_frame(&send)))
                .await
                .unwrap();
        }
        sink
    });

    let (mut acked, mut limited) = (Vec::new(), Vec::new());
    while acked.len() + limited.len() < SENT {
        let message = tokio::time::timeout(Duration::from_secs(30), stream.next())
            .await
            .expect("the server went quiet");
        let Some(Ok(Message::Text(text))) = message else {
            panic!("the connection ended: {message:?}")
        };
        match protocol::decode_server_frame(text.as_str()).unwrap() {
            ServerFrame::Ack {
                client_msg_id, seq, ..
            } => acked.push((client_msg_id, seq)),
            ServerFrame::Error {
                code: ErrorCode::RateLimited,
                client_msg_id: Some(id),
                ..
            } => limited.push(id),
            ServerFrame::Error { code, message, .. } => {
                panic!("unexpected error {code:?}: {message}")
            }
            _ => {}
        }
    }
    let mut sink = sender.await.unwrap();
    assert!(
        (20..=30).contains(&acked.len()),
        "{} acked: burst 20 + 10 refilled in one second at most",
        acked.len()
    );
    let mut answered: Vec<&str> = acked
        .iter()
        .map(|(id, _)| id.as_str())
        .chain(limited.iter().map(String::as_str))
        .collect();
    answered.sort_unstable();
    answered.dedup();
    assert_eq!(answered.len(), SENT, "every message got exactly one answer");

    let texts_of = |ids: &[(String, u64)]| {
        ids.iter()
            .map(|(id, _)| format!("flood {}", &id[1..]))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        stored_customer_texts(&server).await,
        texts_of(&acked),
        "stored = acked, once each, in order"
    );
    let seqs: Vec<u64> = acked.iter().map(|(_, seq)| *seq).collect();
    assert!(
        seqs.windows(2).all(|pair| pair[0] < pair[1]),
        "acks in send order: {seqs:?}"
    );

    // Still a working connection: after a second, a refused message is retried with its id.
    server.clock.advance(1_000);
    let retried = limited[limited.len() / 2].clone();
    let text = format!("flood {}", &retried[1..]);
    let send = CustomerFrame::Send {
        client_msg_id: retried.clone(),
        text: text.clone(),
    };
    sink.send(Message::text(protocol::encode_customer_frame(&send)))
        .await
        .unwrap();
    loop {
        let message = tokio::time::timeout(Duration::from_secs(5), stream.next())
            .await
            .expect("no ack for the retry");
        let Some(Ok(Message::Text(frame))) = message else {
            panic!("the connection ended: {message:?}")
        };
        if let ServerFrame::Ack { client_msg_id, .. } =
            protocol::decode_server_frame(frame.as_str()).unwrap()
            && client_msg_id == retried
        {
            break;
        }
    }
    let stored = stored_customer_texts(&server).await;
    assert_eq!(stored.len(), acked.len() + 1);
    assert_eq!(stored.last(), Some(&text));
}

// ---- who may see what -----------------------------------------------------------------------

/// Whatever a visitor knows of another visitor — their visitor id (which agents see), the
/// digest the database keeps of their token, their token in capitals, a made-up token of the
/// right shape — used as a visitor token opens a fresh, empty visitor, never the other's
/// history; the real owner's token keeps working. (A token mangled in one digit: `routing.rs`
/// `a_customer_cannot_read_another_customers_conversation`.)
#[tokio::test]
async fn a_visitor_token_that_is_not_yours_opens_nobodys_history() {
    let server = TestServer::start(demo_config()).await;
    let (alice, conversation_id) = customer_who_said(&server, "我的手机号是 13800000000").await;
    let alice_token = visitor_token(&alice);
    let ServerFrame::Welcome {
        visitor_id: alice_id,
        ..
    } = alice.received[0].clone()
    else {
        panic!()
    };

    for token in [
        alice_id.clone(),
        kefu_server::auth::token_digest(&alice_token),
        alice_token.to_uppercase(),
        "0".repeat(64),
        kefu_server::auth::random_token(),
        "x".repeat(128),
    ] {
        let mut mallory = Client::connect(&server.ws_url("/ws/customer"), None).await;
        let cursor = ResumeCursor {
            conversation_id: conversation_id.clone(),
            after_seq: 0,
        };
        mallory
            .send_customer(&hello(Some(token.clone()), vec![cursor]))
            .await;
        let welcome = mallory
            .expect(|frame| matches!(frame, ServerFrame::Welcome { .. }))
            .await;
        let ServerFrame::Welcome {
            visitor_id,
            visitor_token,
            conversation_id: open,
            ..
        } = welcome
        else {
            unreachable!()
        };
        assert_ne!(visitor_id, alice_id, "{token}");
        assert_ne!(
            visitor_token, token,
            "a token the server never issued is not adopted"
        );
        assert_eq!(open, None, "{token}");
        mallory.drain(QUIET).await;
        assert!(
            mallory.events().is_empty(),
            "{token} read: {:?}",
            mallory.events()
        );
        // Mallory's messages go to a conversation of Mallory's own.
        mallory.say("m", "hello").await;
        let ack = mallory
            .expect(|frame| matches!(frame, ServerFrame::Ack { .. }))
            .await;
        assert!(
            matches!(&ack, ServerFrame::Ack { conversation_id: id, .. } if *id != conversation_id),
            "{ack:?}"
        );
    }
    assert_eq!(
        resumed_customer_texts(&server, alice_token).await,
        vec!["我的手机号是 13800000000"]
    );
}

/// Guessed conversation ids give nothing away. A customer resuming made-up ids or another
/// visitor's real id gets no events. An agent sending to, ending, transferring or typing in
/// a made-up id and in a real conversation that is not theirs gets the very same answer
/// (`not_found`, same message), so ids cannot be probed; the real conversation is untouched
/// and its customer sees nothing.
#[tokio::test]
async fn guessed_conversation_ids_reveal_nothing() {
    let server = TestServer::start(demo_config()).await;
    let (mut alice, real) = customer_who_said(&server, "我的地址是北京市朝阳区").await;
    alice.drain(QUIET).await;
    let before = alice.received.len();

    let guesses = [
        "1".to_owned(),
        "c_1".to_owned(),
        kefu_server::auth::random_id(),
        "../../etc/passwd".to_owned(),
        "%".to_owned(),
    ];
    let mut cursors: Vec<ResumeCursor> = guesses
        .iter()
        .map(|id| ResumeCursor {
            conversation_id: id.clone(),
            after_seq: 0,
        })
        .collect();
    cursors.push(ResumeCursor {
        conversation_id: real.clone(),
        after_seq: 0,
    });
    let mut mallory = Client::connect(&server.ws_url("/ws/customer"), None).await;
    mallory.send_customer(&hello(None, cursors)).await;
    mallory
        .expect(|frame| matches!(frame, ServerFrame::Welcome { .. }))
        .await;
    mallory.drain(QUIET).await;
    assert!(mallory.events().is_empty(), "{:?}", mallory.events());

    let token = server.agent_session("lei", &["support"], 5).await;
    let mut agent = server.online_agent(&token).await;
    let for_real = agent_answers(&mut agent, real.clone()).await;
    assert!(
        for_real
            .iter()
            .all(|(code, _)| *code == ErrorCode::NotFound),
        "{for_real:?}"
    );
    for guess in &guesses {
        assert_eq!(
            agent_answers(&mut agent, guess.clone()).await,
            for_real,
            "{guess} is told apart from a real id"
        );
    }
    let mut resumer = Client::connect(&server.ws_url("/ws/agent"), None).await;
    resumer
        .send_agent(&AgentFrame::Hello {
            session_token: token,
            resume: vec![ResumeCursor {
                conversation_id: real.clone(),
                after_seq: 0,
            }],
        })
        .await;
    resumer
        .expect(|frame| matches!(frame, ServerFrame::AgentWelcome { .. }))
        .await;
    resumer.drain(QUIET).await;
    agent.drain(QUIET).await;
    assert!(
        agent.events().is_empty() && resumer.events().is_empty(),
        "the agent read a conversation not theirs"
    );

    alice.drain(QUIET).await;
    assert_eq!(
        alice.received.len(),
        before,
        "alice was sent {:?}",
        &alice.received[before..]
    );
    let stored = server.state.store.events_after(&real, 0).await.unwrap();
    assert!(
        !stored.iter().any(|event| matches!(
            event.body,
            EventBody::AgentMessage { .. } | EventBody::Ended { .. } | EventBody::Queued { .. }
        )),
        "{stored:?}"
    );
}

/// What an agent is told when it sends to, ends and transfers conversation `id` (and it
/// also types in it): the code and message of each error.
async fn agent_answers(agent: &mut Client, id: String) -> Vec<(ErrorCode, String)> {
    let frames = vec![
        AgentFrame::Send {
            conversation_id: id.clone(),
            client_msg_id: "probe".into(),
            text: "在吗".into(),
        },
        AgentFrame::End {
            conversation_id: id.clone(),
        },
        AgentFrame::TransferToGroup {
            conversation_id: id.clone(),
            group: "support".into(),
        },
    ];
    let mut errors = Vec::new();
    for frame in frames {
        agent.send_agent(&frame).await;
        let ServerFrame::Error { code, message, .. } = next_error(agent).await else {
            unreachable!()
        };
        errors.push((code, message));
    }
    agent
        .send_agent(&AgentFrame::Typing {
            conversation_id: id,
            typing: true,
        })
        .await;
    errors
}

/// An agent disabled by the operator: the connection open at that moment is ended with
/// `unauthorized` within seconds, the old session token opens no WebSocket (an
/// `unauthorized` error, then the close) and no API (401), the password no longer logs in,
/// and enabling the agent again does not bring the old token back.
#[tokio::test]
async fn a_disabled_agents_old_session_token_is_refused() {
    let server = TestServer::start(demo_config()).await;
    let token = server.agent_session("mei", &["support"], 5).await;
    assert_eq!(
        http(
            server.addr,
            "GET",
            "/api/agent/canned-phrases",
            Some(&token),
            None
        )
        .await
        .0,
        200
    );
    let mut open = server.online_agent(&token).await;

    assert!(
        server
            .state
            .store
            .set_agent_disabled("mei", true)
            .await
            .unwrap()
    );
    assert_session_ended(&mut open).await;
    assert_agent_token_refused(&server, &token).await;
    // The password check behind POST /api/agent/login (called directly: Argon2 in a debug
    // build can take longer than the HTTP helper's 5 s on a busy machine).
    let store = &server.state.store;
    assert!(
        store
            .check_agent_password("mei", TEST_PASSWORD)
            .await
            .unwrap()
            .is_none(),
        "a disabled agent logs in"
    );

    assert!(store.set_agent_disabled("mei", false).await.unwrap());
    assert_agent_token_refused(&server, &token).await;
    assert!(
        store
            .check_agent_password("mei", TEST_PASSWORD)
            .await
            .unwrap()
            .is_some(),
        "enabled again, the password works"
    );
}

/// A session token past its lifetime opens no WebSocket and no API, with the clear
/// `unauthorized`, and the connection it opened before is ended; a minute before, it worked.
#[tokio::test]
async fn an_expired_session_token_is_refused() {
    let server = TestServer::start(demo_config()).await;
    server.agent_session("mei", &["support"], 5).await;
    let agent = server
        .state
        .store
        .list_agents()
        .await
        .unwrap()
        .into_iter()
        .find(|agent| agent.login == "mei")
        .unwrap();
    let hour = 3_600_000;
    let token = server
        .state
        .store
        .create_agent_session(&agent.id, server.clock.now_ms(), hour)
        .await
        .unwrap();
    server.clock.advance(hour - 60_000);
    assert_eq!(
        http(
            server.addr,
            "GET",
            "/api/agent/canned-phrases",
            Some(&token),
            None
        )
        .await
        .0,
        200
    );
    let mut open = server.online_agent(&token).await;

    server.clock.advance(60_000);
    assert_session_ended(&mut open).await;
    assert_agent_token_refused(&server, &token).await;
}

/// An open agent connection whose session ended gets `unauthorized`, then the close.
async fn assert_session_ended(open: &mut Client) {
    let ended = open.expect_error().await;
    assert!(is_error(&ended, ErrorCode::Unauthorized), "{ended:?}");
    assert_eq!(open.next_frame().await, None, "the connection is closed");
}

async fn assert_agent_token_refused(server: &TestServer, token: &str) {
    let mut agent = Client::connect(&server.ws_url("/ws/agent"), None).await;
    agent
        .send_agent(&AgentFrame::Hello {
            session_token: token.to_owned(),
            resume: vec![],
        })
        .await;
    let refused = agent
        .next_frame()
        .await
        .expect("an error frame before the close");
    assert!(is_error(&refused, ErrorCode::Unauthorized), "{refused:?}");
    assert_eq!(agent.next_frame().await, None, "the connection is closed");
    for path in [
        "/api/agent/canned-phrases",
        "/api/agent/knowledge/search?q=x",
        "/api/agent/knowledge/recommended",
    ] {
        let (status, body) = http(server.addr, "GET", path, Some(token), None).await;
        assert_eq!(status, 401, "{path}: {body}");
        assert!(body.contains("unauthorized"), "{path}: {body}");
    }
}

/// More forged `userHash`es than `identity.rs` tries — empty, all zeros, the right hash cut
/// short or extended, the hash of the id in other case or with a space — each gets
/// `unauthorized` and the close, before any welcome; the right one is welcomed.
#[tokio::test]
async fn forged_user_hashes_are_refused_before_any_welcome() {
    let server = TestServer::start(demo_config()).await;
    let secret = server.state.settings.identity_secret.clone();
    let genuine = kefu_server::auth::user_hash(&secret, "u_1001");
    for forged in [
        String::new(),
        "0".repeat(64),
        genuine[..62].to_owned(),
        format!("{genuine}00"),
        kefu_server::auth::user_hash(&secret, "U_1001"),
        kefu_server::auth::user_hash(&secret, "u_1001 "),
        "g".repeat(64),
    ] {
        let user = UserIdentity {
            id: "u_1001".into(),
            name: Some("王小明".into()),
            user_hash: Some(forged.clone()),
            ..UserIdentity::default()
        };
        let mut client = Client::connect(&server.ws_url("/ws/customer"), None).await;
        client
            .send_customer(&CustomerFrame::Hello {
                visitor_token: None,
                resume: vec![],
                locale: None,
                group: None,
                page: None,
                user: Some(user),
            })
            .await;
        let refused = client.next_frame().await.expect("an error frame");
        assert!(
            is_error(&refused, ErrorCode::Unauthorized),
            "{forged:?}: {refused:?}"
        );
        assert_eq!(
            client.next_frame().await,
            None,
            "{forged:?}: the connection is closed"
        );
    }
    let user = UserIdentity {
        id: "u_1001".into(),
        user_hash: Some(genuine),
        ..UserIdentity::default()
    };
    let mut client = Client::connect(&server.ws_url("/ws/customer"), None).await;
    client
        .send_customer(&CustomerFrame::Hello {
            visitor_token: None,
            resume: vec![],
            locale: None,
            group: None,
            page: None,
            user: Some(user),
        })
        .await;
    assert!(matches!(
        client.next_frame().await,
        Some(ServerFrame::Welcome { .. })
    ));
}

/// Cross-site WebSocket hijacking: an upgrade whose Origin is not exactly an allowed origin
/// or the server's own is refused with 403 — including look-alikes that merely start with an
/// allowed origin (the prefix check Chatwoot was caught with), another scheme or port, and
/// `null`. The agent socket takes only the server's own origin, not the embedding sites'.
#[tokio::test]
async fn websocket_upgrades_from_origins_not_allowed_are_refused() {
    let settings = "identity_secret = \"s3cret\"\nallowed_origins = [\"https://shop.example\"]\n";
    let server =
        TestServer::start_with_settings(demo_config(), kefu_server::app::now_ms(), Some(settings))
            .await;
    let own = format!("http://{}", server.addr);
    let status = |path: &'static str, origin: String| {
        let url = server.ws_url(path);
        async move {
            match Client::try_connect(&url, Some(&origin)).await {
                Ok(_) => 101,
                Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
                    response.status().as_u16()
                }
                Err(error) => panic!("{origin}: {error}"),
            }
        }
    };
    for origin in [
        "https://evil.example".to_owned(),
        "https://shop.example.evil.example".to_owned(),
        "https://shop.examplex".to_owned(),
        "https://xshop.example".to_owned(),
        "http://shop.example".to_owned(),
        "https://shop.example:8443".to_owned(),
        "null".to_owned(),
        format!("{own}.evil.example"),
        format!("{own}0"),
        format!("https://{}", server.addr),
    ] {
        assert_eq!(
            status("/ws/customer", origin.clone()).await,
            403,
            "customer socket from {origin}"
        );
        assert_eq!(
            status("/ws/agent", origin.clone()).await,
            403,
            "agent socket from {origin}"
        );
    }
    assert_eq!(
        status("/ws/customer", "https://shop.example".into()).await,
        101
    );
    assert_eq!(
        status("/ws/agent", "https://shop.example".into()).await,
        403,
        "embedding sites do not get the agent socket"
    );
    assert_eq!(status("/ws/customer", own.clone()).await, 101);
    assert_eq!(status("/ws/agent", own).await, 101);
}
