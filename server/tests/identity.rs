//! Identity verification: a `hello` whose user id comes with the HMAC of the site's
//! identity secret is accepted; one whose `user_hash` does not verify is refused.

mod common;

use common::{Client, TestServer, demo_config};
use kefu_core::protocol::{CustomerFrame, ErrorCode, ServerFrame, UserIdentity};

fn hello_as(user_id: &str, user_hash: &str) -> CustomerFrame {
    let user = UserIdentity {
        id: user_id.to_owned(),
        user_hash: Some(user_hash.to_owned()),
        ..UserIdentity::default()
    };
    CustomerFrame::Hello {
        visitor_token: None,
        resume: vec![],
        locale: None,
        group: None,
        page: None,
        user: Some(user),
    }
}

/// The correct `user_hash` is welcomed; a forged one (another id's hash, another secret's,
/// or garbage) gets `unauthorized` and the socket closes.
#[tokio::test]
async fn a_user_id_is_trusted_only_with_its_hmac() {
    let server = TestServer::start(demo_config()).await;
    let secret = server.state.settings.identity_secret.clone();
    let url = server.ws_url("/ws/customer");

    let mut genuine = Client::connect(&url, None).await;
    genuine
        .send_customer(&hello_as(
            "u_1001",
            &kefu_server::auth::user_hash(&secret, "u_1001"),
        ))
        .await;
    let welcome = genuine.next_frame().await.unwrap();
    assert!(
        matches!(welcome, ServerFrame::Welcome { .. }),
        "{welcome:?}"
    );

    for forged in [
        kefu_server::auth::user_hash(&secret, "u_1002"),
        kefu_server::auth::user_hash("not-the-secret", "u_1001"),
        "5d41402abc4b2a76b9719d911017c592".to_owned(),
    ] {
        let mut client = Client::connect(&url, None).await;
        client.send_customer(&hello_as("u_1001", &forged)).await;
        let refused = client.next_frame().await.unwrap();
        assert!(
            matches!(
                refused,
                ServerFrame::Error {
                    code: ErrorCode::Unauthorized,
                    ..
                }
            ),
            "{refused:?}"
        );
        assert_eq!(
            client.next_frame().await,
            None,
            "the socket stays open after a forged identity"
        );
    }
}

/// Agents see whether a user id was verified, never the hash itself; a site that requires
/// verification refuses an id without its hash.
#[tokio::test]
async fn agents_see_the_verdict_and_a_strict_site_refuses_unverified_ids() {
    use kefu_core::conversation::EventBody;
    let server = TestServer::start(demo_config()).await;
    let secret = server.state.settings.identity_secret.clone();
    let token = server.agent_session("mei", &["support"], 5).await;
    let mut agent = server.online_agent(&token).await;
    for (user_id, user_hash, verified) in [
        (
            "u_1",
            Some(kefu_server::auth::user_hash(&secret, "u_1")),
            true,
        ),
        ("u_2", None, false),
    ] {
        let user = UserIdentity {
            id: user_id.into(),
            name: Some(user_id.into()),
            user_hash,
            ..UserIdentity::default()
        };
        let mut customer = Client::connect(&server.ws_url("/ws/customer"), None).await;
        customer
            .send_customer(&CustomerFrame::Hello {
                visitor_token: None,
                resume: vec![],
                locale: None,
                group: None,
                page: None,
                user: Some(user),
            })
            .await;
        customer
            .expect(|frame| matches!(frame, ServerFrame::Welcome { .. }))
            .await;
        customer.say("m", "转人工").await;
        customer
            .expect_event(|body| matches!(body, EventBody::AgentAssigned { .. }))
            .await;
        // The agent may first get the previous visitor's snapshot again (that visitor left:
        // `online` false), so wait for the snapshot of this visitor's chat.
        let ServerFrame::Snapshot { conversation, .. } = agent
            .expect(|frame| {
                matches!(frame, ServerFrame::Snapshot { conversation, .. }
                    if conversation.visitor.user.as_ref().is_some_and(|user| user.id == user_id))
            })
            .await
        else {
            unreachable!()
        };
        assert_eq!(conversation.visitor.verified, verified, "{user_id}");
        let shown = conversation
            .visitor
            .user
            .expect("the identity reaches the agent");
        assert_eq!(shown.id, user_id);
        assert_eq!(shown.user_hash, None, "the hash is not passed on");
    }

    let strict = TestServer::start_with_settings(
        demo_config(),
        kefu_server::app::now_ms(),
        Some("identity_secret = \"s3cret\"\nrequire_verified_identity = true\n"),
    )
    .await;
    let mut unverified = Client::connect(&strict.ws_url("/ws/customer"), None).await;
    let user = UserIdentity {
        id: "u_3".into(),
        ..UserIdentity::default()
    };
    unverified
        .send_customer(&CustomerFrame::Hello {
            visitor_token: None,
            resume: vec![],
            locale: None,
            group: None,
            page: None,
            user: Some(user),
        })
        .await;
    let refused = unverified.next_frame().await.unwrap();
    assert!(
        matches!(
            refused,
            ServerFrame::Error {
                code: ErrorCode::Unauthorized,
                ..
            }
        ),
        "{refused:?}"
    );
    let mut verified = Client::connect(&strict.ws_url("/ws/customer"), None).await;
    let user = UserIdentity {
        id: "u_3".into(),
        user_hash: Some(kefu_server::auth::user_hash("s3cret", "u_3")),
        ..UserIdentity::default()
    };
    verified
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
        verified.next_frame().await.unwrap(),
        ServerFrame::Welcome { .. }
    ));
}
