//! Durability with a real process: `kefu serve` is killed with SIGKILL in the middle of a
//! burst of messages and restarted on the same data directory and port. Every acknowledged
//! message must be in the log exactly once, and a customer resuming from its last seq must
//! receive each missing event exactly once, in order.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{Client, hello, visitor_token};
use kefu_core::conversation::EventBody;
use kefu_core::protocol::{ResumeCursor, ServerFrame};

/// A running `kefu serve`, killed with SIGKILL when dropped (also when a test fails), since
/// std's `Child::kill` sends SIGKILL on Unix.
struct ServerProcess(Child);

impl ServerProcess {
    /// `kill -9`, then reap the process.
    fn kill_9(&mut self) {
        self.0.kill().expect("SIGKILL");
        self.0.wait().unwrap();
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `kefu serve` on `port` with `data_dir`, and waits until it accepts connections.
async fn start_server(data_dir: &Path, port: u16) -> ServerProcess {
    let child = Command::new(env!("CARGO_BIN_EXE_kefu"))
        .args(["serve", "--data-dir"])
        .arg(data_dir)
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("starting kefu serve");
    let child = ServerProcess(child);
    let deadline = Instant::now() + Duration::from_secs(60);
    while tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_err()
    {
        assert!(
            Instant::now() < deadline,
            "kefu serve did not listen on {port} within 60 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    child
}

/// A port that was free a moment ago.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Acks and events a customer saw, by client message id and by seq.
fn acks(client: &Client) -> BTreeMap<String, u64> {
    client
        .received
        .iter()
        .filter_map(|frame| match frame {
            ServerFrame::Ack {
                client_msg_id, seq, ..
            } => Some((client_msg_id.clone(), *seq)),
            _ => None,
        })
        .collect()
}

/// Every acknowledged message survives `kill -9`; the resumed customer gets each missing
/// event once, in seq order with no gap, and unacknowledged messages can be safely re-sent.
#[tokio::test]
async fn acked_messages_survive_kill_9_and_resume_delivers_each_missing_event_once() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut server = start_server(dir.path(), port).await;
    let url = format!("ws://127.0.0.1:{port}/ws/customer");

    let mut customer = Client::connect(&url, None).await;
    customer.send_customer(&hello(None, vec![])).await;
    customer
        .expect(|frame| matches!(frame, ServerFrame::Welcome { .. }))
        .await;
    let token = visitor_token(&customer);
    // A first message, fully answered, so the conversation exists before the burst.
    customer.say("m00", "忘记密码怎么办？").await;
    let (conversation_id, _) = customer
        .expect_event(|body| matches!(body, EventBody::RobotAnswer { .. }))
        .await;
    let texts = [
        "退款多久到账？",
        "怎么开发票？",
        "今天天气怎么样",
        "支持哪些支付方式？",
        "你好",
    ];
    let ids: Vec<String> = (1..=12).map(|index| format!("m{index:02}")).collect();
    for (index, id) in ids.iter().enumerate() {
        customer.say(id, texts[index % texts.len()]).await;
    }
    // Kill as soon as two of the burst are acknowledged. The rest are in flight, or stored
    // with their frames still unread in the socket: the client never reads those (its
    // connection broke), so it must get them on resume.
    while acks(&customer).len() < 3 {
        customer
            .next_frame()
            .await
            .expect("the server closed the socket before the kill");
    }
    server.kill_9();
    let acked_before = acks(&customer);
    let seen = customer.events();
    drop(customer);
    let mut applied = 0;
    for event in seen {
        assert_eq!(
            event.seq,
            applied + 1,
            "events arrive in order without gaps"
        );
        applied = event.seq;
    }
    println!(
        "before the kill: {} of {} messages acknowledged, {applied} events applied",
        acked_before.len(),
        ids.len() + 1
    );

    let server = start_server(dir.path(), port).await;
    let mut resumed = Client::connect(&url, None).await;
    let cursor = ResumeCursor {
        conversation_id: conversation_id.clone(),
        after_seq: applied,
    };
    resumed
        .send_customer(&hello(Some(token.clone()), vec![cursor]))
        .await;
    let welcome = resumed
        .expect(|frame| matches!(frame, ServerFrame::Welcome { .. }))
        .await;
    assert!(
        matches!(welcome, ServerFrame::Welcome { conversation_id: Some(ref id), .. } if *id == conversation_id),
        "{welcome:?}"
    );
    // Retry every send that was not acknowledged, as the widget does.
    for id in ids.iter().filter(|id| !acked_before.contains_key(*id)) {
        let index = ids.iter().position(|other| other == id).unwrap();
        resumed.say(id, texts[index % texts.len()]).await;
    }
    while acks(&resumed).len() + acked_before.len() < ids.len() + 1 {
        resumed
            .next_frame()
            .await
            .expect("the restarted server closed the socket");
    }
    resumed.drain(Duration::from_millis(500)).await;
    let resumed_events = resumed.events();
    assert!(
        !resumed_events.is_empty(),
        "the unread events were not resent"
    );
    for (expected, event) in (applied + 1..).zip(&resumed_events) {
        assert_eq!(
            event.seq, expected,
            "each missing event exactly once, in order: {resumed_events:?}"
        );
    }
    // Re-acknowledgements of the same message carry its original seq.
    for (id, seq) in acks(&resumed) {
        if let Some(before) = acked_before.get(&id) {
            assert_eq!(*before, seq);
        }
    }

    // The whole log, read by a fresh connection of the same visitor.
    let mut reader = Client::connect(&url, None).await;
    reader.send_customer(&hello(Some(token), vec![])).await;
    reader
        .expect(|frame| matches!(frame, ServerFrame::Welcome { .. }))
        .await;
    reader.drain(Duration::from_millis(500)).await;
    let log = reader.events();
    assert_eq!(
        log.iter().map(|event| event.seq).collect::<Vec<_>>(),
        (1..=log.len() as u64).collect::<Vec<_>>()
    );
    for id in std::iter::once("m00").chain(ids.iter().map(String::as_str)) {
        let stored = log
            .iter()
            .filter(|event| matches!(&event.body, EventBody::CustomerMessage { client_msg_id, .. } if client_msg_id == id))
            .count();
        assert_eq!(stored, 1, "message {id} is stored {stored} times");
    }
    for (id, seq) in &acked_before {
        let event = &log[(*seq - 1) as usize];
        assert!(
            matches!(&event.body, EventBody::CustomerMessage { client_msg_id, .. } if client_msg_id == id),
            "ack {id} → {event:?}"
        );
    }
    drop(server);
}
