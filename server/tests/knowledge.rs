//! The knowledge base in the running server: the robot answers from the knowledge table,
//! picks up an import made while it runs, and counts hits; agents search it, see the most
//! asked items, and keep canned phrases over HTTP with their session token.

mod common;

use common::{TestServer, demo_config, http};
use kefu_core::config::KnowledgeItem;
use kefu_core::conversation::EventBody;
use kefu_core::protocol::ServerFrame;

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
    server
        .state
        .store
        .knowledge()
        .await
        .unwrap()
        .into_iter()
        .find(|(item, _)| item.id == id)
        .map(|(_, hits)| hits)
        .unwrap()
}

/// The demo knowledge is seeded on the first run and answers; an item imported while the
/// server runs answers after the hub's next tick; every robot answer counts one hit.
#[tokio::test]
async fn the_robot_answers_from_the_stored_knowledge_and_counts_hits() {
    let server = TestServer::start(demo_config()).await;
    assert_eq!(
        server.state.store.knowledge().await.unwrap().len(),
        demo_config().knowledge.len()
    );
    let mut customer = server.customer().await;
    customer.say("m1", "忘记密码怎么办？").await;
    customer.expect_event(|body| matches!(body, EventBody::RobotAnswer { knowledge_id: Some(id), .. } if id == "kb-001")).await;
    // The hit is counted before the ack is sent.
    customer.expect(|frame| matches!(frame, ServerFrame::Ack { client_msg_id, .. } if client_msg_id == "m1")).await;
    assert_eq!(hit_count(&server, "kb-001").await, 1);

    // A made-up word nothing in the demo knowledge resembles.
    customer.say("m3", "zorblax quibble").await;
    customer
        .expect_event(|body| matches!(body, EventBody::RobotMiss { .. }))
        .await;
    let mars = item("MARS-1", "zorblax quibble?", "不在火星，我们的仓库在上海。");
    server
        .state
        .store
        .import_knowledge(&[mars], server.clock.now_ms())
        .await
        .unwrap();
    server.state.hub.tick().await;
    customer.say("m4", "zorblax quibble").await;
    let (_, answer) = customer
        .expect_event(|body| {
            matches!(
                body,
                EventBody::RobotAnswer { .. } | EventBody::RobotMiss { .. }
            )
        })
        .await;
    assert!(
        matches!(&answer.body, EventBody::RobotAnswer { knowledge_id: Some(id), .. } if id == "MARS-1"),
        "{answer:?}"
    );
    customer.expect(|frame| matches!(frame, ServerFrame::Ack { client_msg_id, .. } if client_msg_id == "m4")).await;
    assert_eq!(hit_count(&server, "MARS-1").await, 1);
}

/// A disabled item is not answered with.
#[tokio::test]
async fn a_disabled_item_is_not_answered() {
    let server = TestServer::start(demo_config()).await;
    let mut disabled = item("MARS-1", "zorblax quibble?", "不在火星。");
    disabled.enabled = false;
    server
        .state
        .store
        .import_knowledge(&[disabled], server.clock.now_ms())
        .await
        .unwrap();
    server.state.hub.tick().await;
    let mut customer = server.customer().await;
    customer.say("m1", "zorblax quibble").await;
    let (_, answer) = customer
        .expect_event(|body| {
            matches!(
                body,
                EventBody::RobotAnswer { .. } | EventBody::RobotMiss { .. }
            )
        })
        .await;
    assert!(
        matches!(answer.body, EventBody::RobotMiss { .. }),
        "{answer:?}"
    );
}

fn json(body: &str) -> serde_json::Value {
    serde_json::from_str(body).unwrap_or_else(|error| panic!("{error}: {body}"))
}

/// Knowledge search over HTTP: the robot's best item first; no token, no answer.
#[tokio::test]
async fn agents_search_the_knowledge_base_with_their_token() {
    let server = TestServer::start(demo_config()).await;
    let token = server.agent_session("mei", &["support"], 5).await;
    let (status, body) = http(
        server.addr,
        "GET",
        "/api/agent/knowledge/search?q=%E5%BF%98%E8%AE%B0%E5%AF%86%E7%A0%81",
        Some(&token),
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let results = json(&body)["results"].as_array().unwrap().clone();
    assert_eq!(results[0]["id"], "kb-001", "{body}");
    assert!(!results[0]["answer"].as_str().unwrap().is_empty());
    assert!(results.len() <= 4);

    let (status, _) = http(
        server.addr,
        "GET",
        "/api/agent/knowledge/search?q=x",
        None,
        None,
    )
    .await;
    assert_eq!(status, 401);
    let (status, _) = http(
        server.addr,
        "GET",
        "/api/agent/knowledge/search?q=x",
        Some("forged"),
        None,
    )
    .await;
    assert_eq!(status, 401);
}

/// Recommended items are the most answered ones, most hits first; unasked items are not listed.
#[tokio::test]
async fn recommended_items_follow_the_hit_counts() {
    let server = TestServer::start(demo_config()).await;
    let token = server.agent_session("mei", &["support"], 5).await;
    let (_, body) = http(
        server.addr,
        "GET",
        "/api/agent/knowledge/recommended",
        Some(&token),
        None,
    )
    .await;
    assert_eq!(
        json(&body)["items"].as_array().unwrap().len(),
        0,
        "nothing asked yet: {body}"
    );
    for _ in 0..2 {
        server
            .state
            .store
            .record_knowledge_hit("kb-002")
            .await
            .unwrap();
    }
    server
        .state
        .store
        .record_knowledge_hit("kb-001")
        .await
        .unwrap();
    let (status, body) = http(
        server.addr,
        "GET",
        "/api/agent/knowledge/recommended?limit=5",
        Some(&token),
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let items = json(&body)["items"].as_array().unwrap().clone();
    let ids: Vec<&str> = items
        .iter()
        .map(|item| item["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec!["kb-002", "kb-001"]);
    assert_eq!(items[0]["hit_count"], 2);
}

/// Canned phrases: every agent sees the shared ones and only their own personal ones; an
/// agent edits and deletes their own, cannot touch another's (404) nor a shared one (403),
/// and an admin manages shared ones. Empty content is refused with kefu-core's rule.
#[tokio::test]
async fn canned_phrases_are_personal_or_shared() {
    let server = TestServer::start(demo_config()).await;
    let mei = server.agent_session("mei", &["support"], 5).await;
    let lei = server.agent_session("lei", &["support"], 5).await;
    let shared_count = demo_config().canned_phrases.len();

    let (status, body) = http(
        server.addr,
        "POST",
        "/api/agent/canned-phrases",
        Some(&mei),
        Some(r#"{"category":"售后","content":"我帮您查一下物流。"}"#),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let created = json(&body);
    assert_eq!(created["shared"], false);
    let id = created["id"].as_str().unwrap().to_owned();

    let list = |token: String| {
        let addr = server.addr;
        async move {
            json(
                &http(addr, "GET", "/api/agent/canned-phrases", Some(&token), None)
                    .await
                    .1,
            )["phrases"]
                .as_array()
                .unwrap()
                .clone()
        }
    };
    let meis = list(mei.clone()).await;
    assert_eq!(meis.len(), shared_count + 1);
    assert!(
        meis[..shared_count]
            .iter()
            .all(|phrase| phrase["shared"] == true),
        "shared first: {meis:?}"
    );
    assert_eq!(
        list(lei.clone()).await.len(),
        shared_count,
        "lei sees mei's personal phrase"
    );

    let path = format!("/api/agent/canned-phrases/{id}");
    let change = r#"{"category":"售后","content":"我帮您查一下快递。"}"#;
    assert_eq!(
        http(server.addr, "PUT", &path, Some(&lei), Some(change))
            .await
            .0,
        404
    );
    assert_eq!(
        http(server.addr, "DELETE", &path, Some(&lei), None).await.0,
        404
    );
    let (status, body) = http(server.addr, "PUT", &path, Some(&mei), Some(change)).await;
    assert_eq!(
        (status, json(&body)["content"].as_str().unwrap()),
        (200, "我帮您查一下快递。")
    );
    let (status, body) = http(
        server.addr,
        "PUT",
        &path,
        Some(&mei),
        Some(r#"{"content":"   "}"#),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("content must not be empty"), "{body}");

    let shared_id = list(mei.clone()).await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let shared_path = format!("/api/agent/canned-phrases/{shared_id}");
    assert_eq!(
        http(server.addr, "DELETE", &shared_path, Some(&mei), None)
            .await
            .0,
        403
    );
    let new_shared = r#"{"category":"问候","content":"欢迎光临！","shared":true}"#;
    assert_eq!(
        http(
            server.addr,
            "POST",
            "/api/agent/canned-phrases",
            Some(&mei),
            Some(new_shared)
        )
        .await
        .0,
        403
    );

    let demo = server
        .state
        .store
        .list_agents()
        .await
        .unwrap()
        .into_iter()
        .find(|agent| agent.login == "demo")
        .unwrap();
    let admin = server
        .state
        .store
        .create_agent_session(&demo.id, server.clock.now_ms(), 3_600_000)
        .await
        .unwrap();
    let (status, body) = http(
        server.addr,
        "POST",
        "/api/agent/canned-phrases",
        Some(&admin),
        Some(new_shared),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(
        http(server.addr, "DELETE", &shared_path, Some(&admin), None)
            .await
            .0,
        204
    );
    assert_eq!(
        list(lei.clone()).await.len(),
        shared_count,
        "one shared added, one removed"
    );

    assert_eq!(
        http(server.addr, "DELETE", &path, Some(&mei), None).await.0,
        204
    );
    assert_eq!(list(mei).await.len(), shared_count);
}
