//! The knowledge base in the running server: the robot answers from the knowledge table,
//! picks up an import made while it runs, and counts hits; agents search it, see the most
//! asked items, and keep canned phrases over HTTP with their session token.

mod common;

use common::{demo_config, TestServer};
use kefu_core::config::KnowledgeItem;
use kefu_core::conversation::EventBody;

fn item(id: &str, question: &str, answer: &str) -> KnowledgeItem {
    KnowledgeItem {
        id: id.to_owned(),
        category: "测试".to_owned(),
        question: question.to_owned(),
        similar: vec![],
        answer: answer.to_owned(),
        enabled: true,
    }
}

async fn hit_count(server: &TestServer, id: &str) -> u64 {
    server.state.store.knowledge().await.unwrap().into_iter().find(|(item, _)| item.id == id).map(|(_, hits)| hits).unwrap()
}

/// The demo knowledge is seeded on the first run and answers; an item imported while the
/// server runs answers after the hub's next tick; every robot answer counts one hit.
#[tokio::test]
async fn the_robot_answers_from_the_stored_knowledge_and_counts_hits() {
    let server = TestServer::start(demo_config()).await;
    assert_eq!(server.state.store.knowledge().await.unwrap().len(), demo_config().knowledge.len());
    let mut customer = server.customer().await;
    customer.say("m1", "忘记密码怎么办？").await;
    customer.expect_event(|body| matches!(body, EventBody::RobotAnswer { knowledge_id: Some(id), .. } if id == "kb-001")).await;
    customer.say("m2", "密码忘了怎么找回").await;
    customer.expect_event(|body| matches!(body, EventBody::RobotAnswer { .. } | EventBody::RobotMiss { .. })).await;
    assert!(hit_count(&server, "kb-001").await >= 1);

    customer.say("m3", "你们的仓库在火星吗").await;
    customer.expect_event(|body| matches!(body, EventBody::RobotMiss { .. })).await;
    let mars = item("MARS-1", "你们的仓库在火星吗？", "不在火星，我们的仓库在上海。");
    server.state.store.import_knowledge(&[mars], server.clock.now_ms()).await.unwrap();
    server.state.hub.tick().await;
    customer.say("m4", "你们的仓库在火星吗").await;
    let (_, answer) =
        customer.expect_event(|body| matches!(body, EventBody::RobotAnswer { .. } | EventBody::RobotMiss { .. })).await;
    assert!(matches!(&answer.body, EventBody::RobotAnswer { knowledge_id: Some(id), .. } if id == "MARS-1"), "{answer:?}");
    assert_eq!(hit_count(&server, "MARS-1").await, 1);
}

/// A disabled item is not answered with.
#[tokio::test]
async fn a_disabled_item_is_not_answered() {
    let server = TestServer::start(demo_config()).await;
    let mut disabled = item("MARS-1", "你们的仓库在火星吗？", "不在火星。");
    disabled.enabled = false;
    server.state.store.import_knowledge(&[disabled], server.clock.now_ms()).await.unwrap();
    server.state.hub.tick().await;
    let mut customer = server.customer().await;
    customer.say("m1", "你们的仓库在火星吗？").await;
    let (_, answer) =
        customer.expect_event(|body| matches!(body, EventBody::RobotAnswer { .. } | EventBody::RobotMiss { .. })).await;
    assert!(matches!(answer.body, EventBody::RobotMiss { .. }), "{answer:?}");
}
