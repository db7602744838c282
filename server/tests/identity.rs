//! Identity verification: a `hello` whose user id comes with the HMAC of the site's
//! identity secret is accepted; one whose `user_hash` does not verify is refused.

mod common;

use common::{demo_config, Client, TestServer};
use kefu_core::protocol::{CustomerFrame, ErrorCode, ServerFrame, UserIdentity};

fn hello_as(user_id: &str, user_hash: &str) -> CustomerFrame {
    let user = UserIdentity { id: user_id.to_owned(), user_hash: Some(user_hash.to_owned()), ..UserIdentity::default() };
    CustomerFrame::Hello { visitor_token: None, resume: vec![], locale: None, group: None, page: None, user: Some(user) }
}

/// The correct `user_hash` is welcomed; a forged one (another id's hash, another secret's,
/// or garbage) gets `unauthorized` and the socket closes.
#[tokio::test]
async fn a_user_id_is_trusted_only_with_its_hmac() {
    let server = TestServer::start(demo_config()).await;
    let secret = server.state.settings.identity_secret.clone();
    let url = server.ws_url("/ws/customer");

    let mut genuine = Client::connect(&url, None).await;
    genuine.send_customer(&hello_as("u_1001", &kefu_server::auth::user_hash(&secret, "u_1001"))).await;
    let welcome = genuine.next_frame().await.unwrap();
    assert!(matches!(welcome, ServerFrame::Welcome { .. }), "{welcome:?}");

    for forged in [
        kefu_server::auth::user_hash(&secret, "u_1002"),
        kefu_server::auth::user_hash("not-the-secret", "u_1001"),
        "5d41402abc4b2a76b9719d911017c592".to_owned(),
    ] {
        let mut client = Client::connect(&url, None).await;
        client.send_customer(&hello_as("u_1001", &forged)).await;
        let refused = client.next_frame().await.unwrap();
        assert!(matches!(refused, ServerFrame::Error { code: ErrorCode::Unauthorized, .. }), "{refused:?}");
        assert_eq!(client.next_frame().await, None, "the socket stays open after a forged identity");
    }
}
