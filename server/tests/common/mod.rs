//! A real server for integration tests: the whole app on 127.0.0.1:0 over a fresh SQLite
//! file, and WebSocket clients that speak protocol v1 with kefu-core's frame types.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use kefu_core::config::Config;
use kefu_core::conversation::{Event, EventBody};
use kefu_core::protocol::{self, AgentFrame, CustomerFrame, ErrorCode, ServerFrame};
use kefu_server::app::{self, AppState, ServeOptions};
use kefu_server::clock::Clock;
use kefu_server::store::{NewAgent, Store};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub struct TestServer {
    pub addr: SocketAddr,
    pub state: Arc<AppState>,
    /// The server's manual clock: tests move it forward, then call [`TestServer::tick`].
    pub clock: Clock,
    _dir: tempfile::TempDir,
}

/// The demo configuration (open around the clock, demo knowledge base).
pub fn demo_config() -> Config {
    kefu_server::demo::service_config()
}

impl TestServer {
    /// Starts the app with `config` as the service configuration.
    pub async fn start(config: Config) -> TestServer {
        TestServer::start_at(config, app::now_ms()).await
    }

    /// Starts the app with its manual clock at `start_ms` (unix milliseconds).
    pub async fn start_at(config: Config, start_ms: i64) -> TestServer {
        TestServer::start_with_settings(config, start_ms, None).await
    }

    /// Starts the app with `kefu.toml` set to `settings_toml` (it must set `identity_secret`).
    pub async fn start_with_settings(
        config: Config,
        start_ms: i64,
        settings_toml: Option<&str>,
    ) -> TestServer {
        assert_valid(&config);
        let dir = tempfile::tempdir().unwrap();
        if let Some(settings_toml) = settings_toml {
            std::fs::write(dir.path().join("kefu.toml"), settings_toml).unwrap();
        }
        let store = Store::open(&dir.path().join("kefu.db")).await.unwrap();
        store.save_service_config(&config, start_ms).await.unwrap();
        // The first run's demo agent, with the shared test hash: otherwise every server
        // start would spend an Argon2 hash on it.
        let groups = vec!["support".to_owned()];
        let demo = NewAgent {
            login: "demo",
            display_name: "demo",
            password: TEST_PASSWORD,
            max_chats: 5,
            groups: &groups,
            is_admin: true,
        };
        store
            .add_agent_with_hash(demo, test_password_hash(), start_ms)
            .await
            .unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let clock = Clock::manual(start_ms);
        let options = ServeOptions {
            data_dir: dir.path().to_owned(),
            listen: Some(addr),
            assets: None,
            clock: clock.clone(),
        };
        let (state, _) = app::open(&options).await.unwrap();
        let router = kefu_server::http::router(state.clone());
        tokio::spawn(async move {
            axum::serve(
                listener,
                router.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .await
            .unwrap()
        });
        TestServer {
            addr,
            state,
            clock,
            _dir: dir,
        }
    }

    /// Moves the server's clock forward and runs the hub's periodic checks at the new time.
    pub async fn advance(&self, ms: i64) {
        self.clock.advance(ms);
        self.state.hub.tick().await;
    }

    /// Adds an agent and returns a session token for it.
    pub async fn agent_session(&self, login: &str, groups: &[&str], max_chats: u32) -> String {
        let groups: Vec<String> = groups.iter().map(|group| group.to_string()).collect();
        let agent = self
            .state
            .store
            .add_agent_with_hash(
                NewAgent {
                    login,
                    display_name: login,
                    password: TEST_PASSWORD,
                    max_chats,
                    groups: &groups,
                    is_admin: false,
                },
                test_password_hash(),
                self.clock.now_ms(),
            )
            .await
            .unwrap();
        self.state
            .store
            .create_agent_session(&agent.id, self.clock.now_ms(), 24 * 3_600_000)
            .await
            .unwrap()
    }

    pub fn ws_url(&self, path: &str) -> String {
        format!("ws://{}{path}", self.addr)
    }

    /// A customer connected with `hello` (no token: a new visitor), past its `welcome`.
    pub async fn customer(&self) -> Client {
        let mut client = Client::connect(&self.ws_url("/ws/customer"), None).await;
        client.send_customer(&hello(None, vec![])).await;
        client
            .expect(|frame| matches!(frame, ServerFrame::Welcome { .. }))
            .await;
        client
    }

    /// An agent connected with `hello`, past its `agent_welcome`, and online.
    pub async fn online_agent(&self, session_token: &str) -> Client {
        let mut client = Client::connect(&self.ws_url("/ws/agent"), None).await;
        client
            .send_agent(&AgentFrame::Hello {
                session_token: session_token.to_owned(),
                resume: vec![],
            })
            .await;
        client
            .expect(|frame| matches!(frame, ServerFrame::AgentWelcome { .. }))
            .await;
        client
            .send_agent(&AgentFrame::SetStatus {
                status: protocol::AgentStatus::Online,
            })
            .await;
        client
            .expect(|frame| matches!(frame, ServerFrame::AgentStatus { .. }))
            .await;
        client
    }
}

/// The password of every agent added by [`TestServer::agent_session`].
pub const TEST_PASSWORD: &str = "password-1";

/// The Argon2 hash of [`TEST_PASSWORD`], computed once per test binary (Argon2 is slow on
/// purpose, and slower still in a debug build).
pub fn test_password_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| kefu_server::auth::hash_password(TEST_PASSWORD).unwrap())
}

/// The agent id (not the login) of a client connected with [`TestServer::online_agent`].
pub fn agent_id(agent: &Client) -> String {
    agent
        .received
        .iter()
        .find_map(|frame| match frame {
            ServerFrame::AgentWelcome { agent, .. } => Some(agent.agent_id.clone()),
            _ => None,
        })
        .expect("the client got an agent_welcome")
}

/// The visitor token a customer got in its `welcome`.
pub fn visitor_token(customer: &Client) -> String {
    customer
        .received
        .iter()
        .find_map(|frame| match frame {
            ServerFrame::Welcome { visitor_token, .. } => Some(visitor_token.clone()),
            _ => None,
        })
        .expect("the client got a welcome")
}

pub fn hello(visitor_token: Option<String>, resume: Vec<protocol::ResumeCursor>) -> CustomerFrame {
    CustomerFrame::Hello {
        visitor_token,
        resume,
        locale: Some("zh-CN".into()),
        group: None,
        page: None,
        user: None,
    }
}

pub struct Client {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    /// Every frame received so far, in order.
    pub received: Vec<ServerFrame>,
    /// The same frames as the JSON text that came over the wire.
    pub raw: Vec<String>,
}

const WAIT: Duration = Duration::from_secs(5);

impl Client {
    pub async fn connect(url: &str, origin: Option<&str>) -> Client {
        Client::try_connect(url, origin).await.unwrap()
    }

    pub async fn try_connect(
        url: &str,
        origin: Option<&str>,
    ) -> Result<Client, tokio_tungstenite::tungstenite::Error> {
        let headers: Vec<(&str, &str)> = origin
            .map(|origin| ("origin", origin))
            .into_iter()
            .collect();
        Client::try_connect_with(url, &headers).await
    }

    /// Connects with extra request headers (e.g. `x-forwarded-for`).
    pub async fn try_connect_with(
        url: &str,
        headers: &[(&str, &str)],
    ) -> Result<Client, tokio_tungstenite::tungstenite::Error> {
        let mut request = url.into_client_request().unwrap();
        for (name, value) in headers {
            let name =
                tokio_tungstenite::tungstenite::http::HeaderName::from_bytes(name.as_bytes())
                    .unwrap();
            request.headers_mut().insert(name, value.parse().unwrap());
        }
        let (ws, _) = tokio_tungstenite::connect_async(request).await?;
        Ok(Client {
            ws,
            received: Vec::new(),
            raw: Vec::new(),
        })
    }

    pub async fn send_text(&mut self, text: String) {
        self.ws.send(Message::text(text)).await.unwrap();
    }

    pub async fn send_customer(&mut self, frame: &CustomerFrame) {
        self.send_text(protocol::encode_customer_frame(frame)).await;
    }

    pub async fn send_agent(&mut self, frame: &AgentFrame) {
        self.send_text(protocol::encode_agent_frame(frame)).await;
    }

    /// An agent's message into `conversation_id` (`send`), as the workspace sends it.
    pub async fn reply(&mut self, conversation_id: &str, client_msg_id: &str, text: &str) {
        self.send_agent(&AgentFrame::Send {
            conversation_id: conversation_id.into(),
            client_msg_id: client_msg_id.into(),
            text: text.into(),
        })
        .await;
    }

    pub async fn say(&mut self, client_msg_id: &str, text: &str) {
        self.send_customer(&CustomerFrame::Send {
            client_msg_id: client_msg_id.into(),
            text: text.into(),
        })
        .await;
    }

    /// The next frame, or None when the socket closed.
    pub async fn next_frame(&mut self) -> Option<ServerFrame> {
        loop {
            let message = tokio::time::timeout(WAIT, self.ws.next())
                .await
                .expect("no frame within 5 s")?;
            match message {
                Ok(Message::Text(text)) => {
                    let frame = protocol::decode_server_frame(text.as_str())
                        .unwrap_or_else(|error| panic!("undecodable {text}: {error}"));
                    self.received.push(frame.clone());
                    self.raw.push(text.to_string());
                    return Some(frame);
                }
                Ok(Message::Close(_)) | Err(_) => return None,
                Ok(_) => continue,
            }
        }
    }

    /// Reads frames until the server's close frame and returns its code and reason; `None`
    /// when the connection ended without one (no close frame, or a close frame without a code).
    pub async fn expect_close(&mut self) -> Option<(u16, String)> {
        loop {
            let message = tokio::time::timeout(WAIT, self.ws.next())
                .await
                .expect("no close within 5 s");
            match message {
                Some(Ok(Message::Text(text))) => {
                    let frame = protocol::decode_server_frame(text.as_str())
                        .unwrap_or_else(|error| panic!("undecodable {text}: {error}"));
                    self.received.push(frame);
                    self.raw.push(text.to_string());
                }
                Some(Ok(Message::Close(frame))) => {
                    return frame.map(|frame| (u16::from(frame.code), frame.reason.to_string()));
                }
                Some(Ok(_)) => continue,
                None | Some(Err(_)) => return None,
            }
        }
    }

    /// Starts the closing handshake with `code`, as a client leaving politely does.
    pub async fn send_close(&mut self, code: u16) {
        use tokio_tungstenite::tungstenite::protocol::CloseFrame;
        self.ws
            .send(Message::Close(Some(CloseFrame {
                code: code.into(),
                reason: "bye".into(),
            })))
            .await
            .unwrap();
    }

    /// Sends a WebSocket ping control frame (what non-browser clients may use as keep-alive).
    pub async fn send_ws_ping(&mut self) {
        self.ws
            .send(Message::Ping(Default::default()))
            .await
            .unwrap();
    }

    /// Reads frames until one matches, and returns it.
    pub async fn expect(&mut self, matches: impl Fn(&ServerFrame) -> bool) -> ServerFrame {
        loop {
            match self.next_frame().await {
                Some(frame) if matches(&frame) => return frame,
                Some(_) => continue,
                None => panic!("the socket closed; received {:#?}", self.received),
            }
        }
    }

    /// Reads frames until an `error`, and returns it.
    pub async fn expect_error(&mut self) -> ServerFrame {
        self.expect(|frame| matches!(frame, ServerFrame::Error { .. }))
            .await
    }

    /// Reads frames until an error, and asserts it has `code`.
    pub async fn expect_error_code(&mut self, code: ErrorCode) -> ServerFrame {
        let error = self.expect_error().await;
        assert!(
            matches!(&error, ServerFrame::Error { code: got, .. } if *got == code),
            "expected a {code:?} error, got {error:?}"
        );
        error
    }

    /// Reads frames until an event whose body matches, and returns the event.
    pub async fn expect_event(&mut self, matches: impl Fn(&EventBody) -> bool) -> (String, Event) {
        match self
            .expect(
                |frame| matches!(frame, ServerFrame::Event { event, .. } if matches(&event.body)),
            )
            .await
        {
            ServerFrame::Event {
                conversation_id,
                event,
            } => (conversation_id, event),
            _ => unreachable!(),
        }
    }

    /// Every event received so far (from `event` and `snapshot` frames).
    pub fn events(&self) -> Vec<Event> {
        let mut events = Vec::new();
        for frame in &self.received {
            match frame {
                ServerFrame::Event { event, .. } => events.push(event.clone()),
                ServerFrame::Snapshot { events: all, .. } => events.extend(all.iter().cloned()),
                _ => {}
            }
        }
        events
    }

    /// Waits a moment and returns what arrived meanwhile (for "nothing more happens" checks).
    pub async fn drain(&mut self, wait: Duration) -> Vec<ServerFrame> {
        let mut frames = Vec::new();
        while let Ok(Some(Ok(Message::Text(text)))) =
            tokio::time::timeout(wait, self.ws.next()).await
        {
            let frame = protocol::decode_server_frame(text.as_str()).unwrap();
            self.received.push(frame.clone());
            self.raw.push(text.to_string());
            frames.push(frame);
        }
        frames
    }
}

/// A session of the first-run admin (`demo`).
pub async fn admin_token(server: &TestServer) -> String {
    let admin = server
        .state
        .store
        .agent_by_login("demo")
        .await
        .unwrap()
        .unwrap();
    server
        .state
        .store
        .create_agent_session(&admin.id, server.clock.now_ms(), 3_600_000)
        .await
        .unwrap()
}

/// A plain HTTP/1.1 request over TCP (`Connection: close`); returns the status and the body.
pub async fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    bearer: Option<&str>,
    json: Option<&str>,
) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    if let Some(token) = bearer {
        request.push_str(&format!("Authorization: Bearer {token}\r\n"));
    }
    let body = json.unwrap_or("");
    if json.is_some() {
        request.push_str("Content-Type: application/json\r\n");
    }
    request.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    tokio::time::timeout(WAIT, stream.read_to_end(&mut response))
        .await
        .expect("no HTTP response within 5 s")
        .unwrap();
    let response = String::from_utf8(response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0);
    let chunked = head.lines().any(|line| {
        line.to_ascii_lowercase()
            .starts_with("transfer-encoding: chunked")
    });
    (
        status,
        if chunked {
            dechunk(body)
        } else {
            body.to_owned()
        },
    )
}

/// The body of a chunked HTTP response.
fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let size = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if size == 0 {
            break;
        }
        out.push_str(&rest[..size]);
        body = rest[size..].trim_start_matches("\r\n");
    }
    out
}

/// Panics with every problem unless `config` passes kefu-core's `Config::validate`: every
/// server a test starts goes through here, so no test runs on a configuration the product
/// would refuse.
pub fn assert_valid(config: &Config) {
    if let Err(errors) = config.validate() {
        panic!("the test fixture's configuration is invalid: {errors:#?}");
    }
}

/// The demo configuration, which has two skill groups: `support` (在线客服) and `sales`
/// (售前咨询), under the same rule.
pub fn two_group_config() -> Config {
    let config = demo_config();
    let names: Vec<&str> = config
        .skill_groups
        .iter()
        .map(|group| group.name.as_str())
        .collect();
    assert_eq!(
        names,
        ["support", "sales"],
        "the demo's skill groups changed"
    );
    config
}

/// A customer who asks for a person with the keyword; returns the conversation id once queued.
pub async fn transfer_by_keyword(customer: &mut Client, client_msg_id: &str) -> String {
    customer.say(client_msg_id, "转人工").await;
    let (conversation_id, _) = customer
        .expect_event(|body| matches!(body, kefu_core::conversation::EventBody::Queued { .. }))
        .await;
    conversation_id
}
