//! The admin API over real HTTP and WebSockets: only admins pass its one guard, settings are
//! validated with their field paths, saved changes decide the next transfer without a
//! restart, and every change is in the audit log.

mod common;

use common::{TestServer, admin_token, demo_config, http};
use kefu_core::conversation::{EventBody, NoticeKind};
use kefu_server::admin_api::ADMIN_ROUTES;

fn concrete(path: &str) -> String {
    path.replace("{section}", "rules")
        .replace("{login}", "demo")
        .replace("{id}", "faq-1")
}

#[tokio::test]
async fn every_admin_route_refuses_agents_who_are_not_admins_and_anonymous_callers() {
    let server = TestServer::start(demo_config()).await;
    let agent = server.agent_session("mei", &["support"], 5).await;
    let admin = admin_token(&server).await;
    let before = server.state.store.service_config().await.unwrap();
    for (method, path) in ADMIN_ROUTES {
        let path = concrete(path);
        let (status, body) = http(server.addr, method, &path, Some(&agent), Some("{}")).await;
        assert_eq!(status, 403, "{method} {path} for a non-admin: {body}");
        let (status, _) = http(server.addr, method, &path, None, Some("{}")).await;
        assert_eq!(status, 401, "{method} {path} without a token");
        let (status, body) = http(server.addr, method, &path, Some(&admin), None).await;
        assert!(
            status != 401 && status != 403 && status != 404 && status != 405,
            "{method} {path} for an admin: {status} {body}"
        );
    }
    assert_eq!(
        server.state.store.service_config().await.unwrap(),
        before,
        "nothing changed"
    );
}

#[tokio::test]
async fn closing_the_hours_gives_the_next_transfer_the_off_hours_message_and_opening_them_queues_it()
 {
    let server = TestServer::start(demo_config()).await;
    let admin = admin_token(&server).await;
    let token = server.agent_session("mei", &["support"], 5).await;
    let _mei = server.online_agent(&token).await;
    let (status, body) = http(server.addr, "GET", "/api/admin/config", Some(&admin), None).await;
    assert_eq!(status, 200, "{body}");
    let config: serde_json::Value = serde_json::from_str(&body).unwrap();
    let open_rules = config["rules"].clone();
    let mut closed_rules = open_rules.clone();
    closed_rules[0]["working_hours"]["weekly"] = serde_json::json!([]);
    closed_rules[0]["off_hours_message"] = serde_json::json!("现在休息，明天见");
    let (status, body) = http(
        server.addr,
        "PUT",
        "/api/admin/config/rules",
        Some(&admin),
        Some(&closed_rules.to_string()),
    )
    .await;
    assert_eq!(status, 200, "{body}");

    let mut customer = server.customer().await;
    customer.say("m1", "转人工").await;
    let (_, notice) = customer
        .expect_event(|body| matches!(body, EventBody::Notice { .. }))
        .await;
    let EventBody::Notice {
        notice: NoticeKind::OffHours { .. },
        text,
    } = notice.body
    else {
        panic!("{notice:?}")
    };
    assert_eq!(text, "现在休息，明天见");

    let (status, body) = http(
        server.addr,
        "PUT",
        "/api/admin/config/rules",
        Some(&admin),
        Some(&open_rules.to_string()),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    customer.say("m2", "转人工").await;
    customer
        .expect_event(|body| matches!(body, EventBody::Queued { .. }))
        .await;

    let (_, audit) = http(server.addr, "GET", "/api/admin/audit", Some(&admin), None).await;
    let audit: serde_json::Value = serde_json::from_str(&audit).unwrap();
    let entries = audit["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 2, "{audit}");
    assert_eq!(entries[1]["agent_login"], "demo");
    assert_eq!(entries[1]["action"], "config.rules");
    assert!(
        entries[1]["summary"]
            .as_str()
            .unwrap()
            .contains("working_hours.weekly"),
        "{audit}"
    );
}

#[tokio::test]
async fn an_invalid_section_is_refused_with_each_field_path_and_nothing_is_saved() {
    let server = TestServer::start(demo_config()).await;
    let admin = admin_token(&server).await;
    let before = server.state.store.service_config().await.unwrap();
    let mut rules = serde_json::to_value(&before.as_ref().unwrap().rules).unwrap();
    rules[0]["working_hours"]["weekly"][0]["from"] = serde_json::json!("9点");
    rules[0]["working_hours"]["time_zone"] = serde_json::json!("Mars/Olympus");
    let (status, body) = http(
        server.addr,
        "PUT",
        "/api/admin/config/rules",
        Some(&admin),
        Some(&rules.to_string()),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    let answer: serde_json::Value = serde_json::from_str(&body).unwrap();
    let paths: Vec<&str> = answer["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|problem| problem["path"].as_str().unwrap())
        .collect();
    assert!(
        paths.contains(&"rules[0].working_hours.weekly[0].from"),
        "{body}"
    );
    assert!(
        paths.contains(&"rules[0].working_hours.time_zone"),
        "{body}"
    );
    assert_eq!(server.state.store.service_config().await.unwrap(), before);
    let (_, audit) = http(server.addr, "GET", "/api/admin/audit", Some(&admin), None).await;
    assert!(audit.contains("\"entries\":[]"), "{audit}");
}

#[tokio::test]
async fn a_lowered_capacity_is_obeyed_by_the_next_assignment_and_a_raised_one_takes_the_queue() {
    let server = TestServer::start(demo_config()).await;
    let admin = admin_token(&server).await;
    let token = server.agent_session("mei", &["support"], 2).await;
    let _mei = server.online_agent(&token).await;
    let (status, body) = http(
        server.addr,
        "PUT",
        "/api/admin/agents/mei",
        Some(&admin),
        Some(r#"{"max_chats": 1}"#),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let mut first = server.customer().await;
    first.say("a", "转人工").await;
    first
        .expect_event(|body| matches!(body, EventBody::AgentAssigned { .. }))
        .await;
    let mut second = server.customer().await;
    second.say("b", "转人工").await;
    second
        .expect_event(|body| matches!(body, EventBody::Queued { .. }))
        .await;
    second
        .expect(|frame| {
            matches!(
                frame,
                kefu_core::protocol::ServerFrame::QueuePosition { position: 1, .. }
            )
        })
        .await;

    let (status, body) = http(
        server.addr,
        "PUT",
        "/api/admin/agents/mei",
        Some(&admin),
        Some(r#"{"max_chats": 0}"#),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert!(body.contains("\"path\":\"max_concurrent_chats\""), "{body}");
    let (status, _) = http(
        server.addr,
        "PUT",
        "/api/admin/agents/mei",
        Some(&admin),
        Some(r#"{"max_chats": 2}"#),
    )
    .await;
    assert_eq!(status, 200);
    second
        .expect_event(|body| matches!(body, EventBody::AgentAssigned { .. }))
        .await;
}

#[tokio::test]
async fn a_bad_import_names_its_line_and_changes_nothing_and_an_added_item_answers_customers() {
    let server = TestServer::start(demo_config()).await;
    let admin = admin_token(&server).await;
    let before = server.state.store.knowledge().await.unwrap();
    let csv = "id,category,question,similar,answer\nnew-1,售后,怎么开发票,,在订单页申请电子发票\nnew-2,售后,发票抬头能改吗,,\n";
    let (status, body) = http(
        server.addr,
        "POST",
        "/api/admin/knowledge/import?format=csv",
        Some(&admin),
        Some(csv),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert!(body.contains("\"line\":3"), "{body}");
    assert_eq!(server.state.store.knowledge().await.unwrap(), before);

    let item = r#"{"category":"活动","question":"周年庆有什么优惠","similar":["周年庆活动"],"answer":"周年庆全场满300减50。"}"#;
    let (status, body) = http(
        server.addr,
        "POST",
        "/api/admin/knowledge",
        Some(&admin),
        Some(item),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let (_, tried) = http(
        server.addr,
        "POST",
        "/api/admin/robot/ask",
        Some(&admin),
        Some(r#"{"question":"周年庆有什么优惠？"}"#),
    )
    .await;
    assert!(tried.contains("周年庆全场满300减50。"), "{tried}");
    let mut customer = server.customer().await;
    customer.say("q", "周年庆有什么优惠？").await;
    let (_, answer) = customer
        .expect_event(|body| {
            matches!(
                body,
                EventBody::RobotAnswer { .. } | EventBody::RobotMiss { .. }
            )
        })
        .await;
    let EventBody::RobotAnswer { text, .. } = answer.body else {
        panic!("{answer:?}")
    };
    assert_eq!(text, "周年庆全场满300减50。");
}

#[tokio::test]
async fn the_hours_preview_says_when_a_closed_rule_opens_in_its_own_zone() {
    // Sunday 2026-11-29 12:00 in Shanghai.
    let server = TestServer::start_at(demo_config(), 1_795_924_800_000).await;
    let admin = admin_token(&server).await;
    let office = r#"{"time_zone":"Asia/Shanghai","weekly":[{"days":["mon","tue","wed","thu","fri"],"from":"09:00","to":"18:00"}]}"#;
    let (status, body) = http(
        server.addr,
        "POST",
        "/api/admin/hours/preview",
        Some(&admin),
        Some(office),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let preview: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(preview["open"], false);
    assert_eq!(
        preview["next_opening_local"],
        serde_json::json!({ "weekday": "mon", "date": "2026-11-30", "time": "09:00" })
    );
}
