//! 有用 / 没用 on the robot's knowledge answers: a customer's `vote` is stored, counted per
//! knowledge item for the admin, replaced by a second vote on the same answer, and a vote
//! on anything else (another seq, another visitor's conversation, a bad frame) gets an
//! `error` frame and is not counted.

mod common;

use common::{TestServer, admin_token, demo_config, http};
use kefu_core::conversation::EventBody;
use kefu_core::feedback::Verdict;
use kefu_core::protocol::{CustomerFrame, ErrorCode, ServerFrame};

/// (helpful, not helpful) of a knowledge item, as the admin's knowledge list says.
async fn counts(server: &TestServer, admin: &str, id: &str) -> (u64, u64) {
    let (status, body) = http(
        server.addr,
        "GET",
        "/api/admin/knowledge",
        Some(admin),
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let list: serde_json::Value = serde_json::from_str(&body).unwrap();
    let item = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|item| item["id"] == id)
        .unwrap_or_else(|| panic!("no item {id} in {body}"));
    (
        item["votes"]["helpful"].as_u64().unwrap(),
        item["votes"]["not_helpful"].as_u64().unwrap(),
    )
}

/// Waits for the `pong` answering a `ping`: every frame sent before it was handled.
async fn settled(customer: &mut common::Client) {
    customer.send_customer(&CustomerFrame::Ping {}).await;
    customer
        .expect(|frame| matches!(frame, ServerFrame::Pong {}))
        .await;
}

fn vote(conversation_id: &str, seq: u64, verdict: Verdict) -> CustomerFrame {
    CustomerFrame::Vote {
        conversation_id: conversation_id.to_owned(),
        seq,
        verdict,
    }
}

#[tokio::test]
async fn a_vote_is_stored_counted_and_replaced_and_a_bad_vote_gets_an_error() {
    let server = TestServer::start(demo_config()).await;
    let admin = admin_token(&server).await;
    assert_eq!(counts(&server, &admin, "kb-001").await, (0, 0));

    let mut customer = server.customer().await;
    customer.say("m1", "忘记密码怎么办？").await;
    let (conversation_id, answer) = customer
        .expect_event(|body| matches!(body, EventBody::RobotAnswer { knowledge_id: Some(id), .. } if id == "kb-001"))
        .await;

    customer
        .send_customer(&vote(&conversation_id, answer.seq, Verdict::NotHelpful))
        .await;
    settled(&mut customer).await;
    assert_eq!(counts(&server, &admin, "kb-001").await, (0, 1));

    // A second vote on the same answer replaces the first: still one vote.
    customer
        .send_customer(&vote(&conversation_id, answer.seq, Verdict::Helpful))
        .await;
    settled(&mut customer).await;
    assert_eq!(counts(&server, &admin, "kb-001").await, (1, 0));

    // The customer's own message is not a robot answer.
    let question_seq = answer.seq - 1;
    customer
        .send_customer(&vote(&conversation_id, question_seq, Verdict::NotHelpful))
        .await;
    customer.expect_error_code(ErrorCode::NotFound).await;
    // A seq past the log.
    customer
        .send_customer(&vote(&conversation_id, 999, Verdict::NotHelpful))
        .await;
    customer.expect_error_code(ErrorCode::NotFound).await;
    // A bad frame: seq 0.
    customer
        .send_text(format!(
            r#"{{"v":1,"type":"vote","conversation_id":"{conversation_id}","seq":0,"verdict":"not_helpful"}}"#
        ))
        .await;
    customer.expect_error_code(ErrorCode::BadFrame).await;

    // Another visitor cannot vote on this visitor's answer.
    let mut stranger = server.customer().await;
    stranger
        .send_customer(&vote(&conversation_id, answer.seq, Verdict::NotHelpful))
        .await;
    stranger.expect_error_code(ErrorCode::NotFound).await;
    settled(&mut customer).await;
    assert_eq!(counts(&server, &admin, "kb-001").await, (1, 0));
}
