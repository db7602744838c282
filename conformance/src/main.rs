//! `kefu-conformance`: plays PROTOCOL.md's scenarios against a server and prints PASS, FAIL
//! (with the frames exchanged) or SKIP per scenario; exits with 1 when any failed.
//!
//! ```text
//! kefu-conformance --url http://127.0.0.1:8080 [--agent-login L --agent-password P]
//!                  [--hello-seconds 10] [--idle-seconds 60] [--skip-timing]
//!                  [--transfer-keyword 转人工] [--group NAME] [--only PREFIX] [--list]
//! kefu-conformance reference --kefu target/debug/kefu [--only PREFIX]
//! ```
//!
//! `reference` starts the reference server (`kefu serve`) on a fresh data directory with
//! short deadlines (hello 1 s, idle close 2 s), adds an agent, and runs every scenario
//! against it: the step of `cargo xtask test`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use kefu_conformance::{
    AgentLogin, Capabilities, Conn, Connect, Endpoint, Outcome, Recv, SCENARIOS, Target, Timing,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

const USAGE: &str = "usage:
  kefu-conformance --url http://HOST:PORT [--agent-login LOGIN --agent-password PASSWORD]
                   [--hello-seconds 10] [--idle-seconds 60] [--skip-timing]
                   [--transfer-keyword 转人工] [--group NAME] [--only PREFIX] [--list]
  kefu-conformance reference --kefu PATH/TO/kefu [--only PREFIX]";

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    match run(std::env::args().skip(1).collect()).await {
        Ok(code) => code,
        Err(error) => {
            eprintln!("kefu-conformance: {error}\n{USAGE}");
            ExitCode::from(2)
        }
    }
}

struct Args {
    url: Option<String>,
    kefu: Option<PathBuf>,
    reference: bool,
    agent_login: Option<String>,
    agent_password: Option<String>,
    hello_seconds: u64,
    idle_seconds: u64,
    skip_timing: bool,
    transfer_keyword: String,
    group: Option<String>,
    only: Option<String>,
    list: bool,
}

fn parse(args: Vec<String>) -> Result<Args, String> {
    let mut parsed = Args {
        url: None,
        kefu: None,
        reference: false,
        agent_login: None,
        agent_password: None,
        hello_seconds: 10,
        idle_seconds: 60,
        skip_timing: false,
        transfer_keyword: "转人工".into(),
        group: None,
        only: None,
        list: false,
    };
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "reference" => parsed.reference = true,
            "--url" => parsed.url = Some(value()?),
            "--kefu" => parsed.kefu = Some(value()?.into()),
            "--agent-login" => parsed.agent_login = Some(value()?),
            "--agent-password" => parsed.agent_password = Some(value()?),
            "--hello-seconds" => {
                parsed.hello_seconds = value()?
                    .parse()
                    .map_err(|_| "--hello-seconds takes a number")?
            }
            "--idle-seconds" => {
                parsed.idle_seconds = value()?
                    .parse()
                    .map_err(|_| "--idle-seconds takes a number")?
            }
            "--skip-timing" => parsed.skip_timing = true,
            "--transfer-keyword" => parsed.transfer_keyword = value()?,
            "--group" => parsed.group = Some(value()?),
            "--only" => parsed.only = Some(value()?),
            "--list" => parsed.list = true,
            "-h" | "--help" => return Err("help".into()),
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(parsed)
}

async fn run(args: Vec<String>) -> Result<ExitCode, String> {
    let args = parse(args)?;
    if args.list {
        for scenario in SCENARIOS {
            println!("{:<44} {}", scenario.name, scenario.rule);
        }
        return Ok(ExitCode::SUCCESS);
    }
    if args.reference {
        let kefu = args.kefu.clone().ok_or("reference needs --kefu")?;
        let server = ReferenceServer::start(&kefu).await?;
        let caps = Capabilities {
            wire: true,
            agent: Some(AgentLogin {
                login: ReferenceServer::LOGIN.into(),
                password: ReferenceServer::PASSWORD.into(),
            }),
            timing: Some(Timing {
                hello_seconds: ReferenceServer::HELLO_SECONDS,
                idle_seconds: ReferenceServer::IDLE_SECONDS,
            }),
            transfer_keyword: "转人工".into(),
            group: None,
        };
        let target = WsTarget::new(&format!("http://{}", server.addr), caps)?;
        let failed = run_all(&target, args.only.as_deref()).await;
        drop(server);
        return Ok(exit(failed));
    }
    let url = args.url.clone().ok_or("--url is required")?;
    let agent = match (args.agent_login, args.agent_password) {
        (Some(login), Some(password)) => Some(AgentLogin { login, password }),
        (None, None) => None,
        _ => return Err("--agent-login and --agent-password go together".into()),
    };
    let caps = Capabilities {
        wire: true,
        agent,
        timing: (!args.skip_timing).then_some(Timing {
            hello_seconds: args.hello_seconds,
            idle_seconds: args.idle_seconds,
        }),
        transfer_keyword: args.transfer_keyword,
        group: args.group,
    };
    let target = WsTarget::new(&url, caps)?;
    let failed = run_all(&target, args.only.as_deref()).await;
    Ok(exit(failed))
}

fn exit(failed: usize) -> ExitCode {
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Runs every scenario (or those starting with `only`) in order and prints each result;
/// returns how many failed.
async fn run_all(target: &WsTarget, only: Option<&str>) -> usize {
    let (mut passed, mut failed, mut skipped) = (0, 0, 0);
    let start = Instant::now();
    for scenario in SCENARIOS {
        if only.is_some_and(|prefix| !scenario.name.starts_with(prefix)) {
            continue;
        }
        let outcome = kefu_conformance::run(target, scenario.name).await;
        match outcome {
            Outcome::Pass => passed += 1,
            Outcome::Fail { .. } => failed += 1,
            Outcome::Skip(_) => skipped += 1,
        }
        println!("{}", kefu_conformance::report_line(scenario.name, &outcome));
    }
    println!(
        "\n{passed} passed, {failed} failed, {skipped} skipped in {:.1} s",
        start.elapsed().as_secs_f64()
    );
    failed
}

// ---- a server over WebSocket ------------------------------------------------------------------

struct WsTarget {
    addr: String,
    caps: Capabilities,
}

impl WsTarget {
    fn new(url: &str, caps: Capabilities) -> Result<WsTarget, String> {
        let addr = url
            .strip_prefix("http://")
            .or_else(|| url.strip_prefix("ws://"))
            .ok_or("--url must be http://HOST:PORT (TLS is not supported: test the server behind its proxy's plain port)")?
            .trim_end_matches('/')
            .to_owned();
        Ok(WsTarget { addr, caps })
    }
}

struct WsConn {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl Target for WsTarget {
    type Conn = WsConn;

    fn capabilities(&self) -> &Capabilities {
        &self.caps
    }

    async fn connect(
        &self,
        endpoint: Endpoint,
        origin: Option<&str>,
    ) -> Result<Connect<WsConn>, String> {
        let path = match endpoint {
            Endpoint::Customer => "/ws/customer",
            Endpoint::Agent => "/ws/agent",
        };
        let mut request = format!("ws://{}{path}", self.addr)
            .into_client_request()
            .map_err(|error| error.to_string())?;
        if let Some(origin) = origin {
            let value = origin.parse().map_err(|_| "a bad Origin".to_owned())?;
            request.headers_mut().insert("origin", value);
        }
        match tokio_tungstenite::connect_async(request).await {
            Ok((ws, _)) => Ok(Connect::Open(WsConn { ws })),
            Err(tungstenite::Error::Http(response)) => {
                Ok(Connect::Refused(response.status().as_u16()))
            }
            Err(error) => Err(format!("connecting to ws://{}{path}: {error}", self.addr)),
        }
    }

    async fn http(
        &self,
        method: &str,
        path: &str,
        bearer: Option<&str>,
        body: Option<&str>,
    ) -> Result<(u16, String), String> {
        http(&self.addr, method, path, bearer, body).await
    }

    async fn sleep(&self, ms: u64) {
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
}

impl Conn for WsConn {
    async fn send_text(&mut self, text: String) -> Result<(), String> {
        self.ws
            .send(Message::text(text))
            .await
            .map_err(|error| error.to_string())
    }

    async fn send_binary(&mut self, bytes: Vec<u8>) -> Result<(), String> {
        self.ws
            .send(Message::binary(bytes))
            .await
            .map_err(|error| error.to_string())
    }

    async fn send_close(&mut self, code: u16) -> Result<(), String> {
        let frame = CloseFrame {
            code: code.into(),
            reason: "conformance".into(),
        };
        self.ws
            .send(Message::Close(Some(frame)))
            .await
            .map_err(|error| error.to_string())
    }

    async fn recv(&mut self, timeout_ms: u64) -> Recv {
        let deadline = tokio::time::Instant::now() + Duration::from_millis(timeout_ms);
        loop {
            match tokio::time::timeout_at(deadline, self.ws.next()).await {
                Err(_) => return Recv::Timeout,
                Ok(Some(Ok(Message::Text(text)))) => return Recv::Text(text.to_string()),
                Ok(Some(Ok(Message::Close(frame)))) => {
                    return Recv::Close(frame.map(|frame| u16::from(frame.code)));
                }
                Ok(Some(Ok(_))) => continue,
                Ok(None) | Ok(Some(Err(_))) => return Recv::Ended,
            }
        }
    }
}

/// A plain HTTP/1.1 request (`Connection: close`): the status and the body.
async fn http(
    addr: &str,
    method: &str,
    path: &str,
    bearer: Option<&str>,
    json: Option<&str>,
) -> Result<(u16, String), String> {
    let mut stream = TcpStream::connect(addr)
        .await
        .map_err(|error| format!("connecting to {addr}: {error}"))?;
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    if let Some(token) = bearer {
        request.push_str(&format!("Authorization: Bearer {token}\r\n"));
    }
    let body = json.unwrap_or("");
    if json.is_some() {
        request.push_str("Content-Type: application/json\r\n");
    }
    request.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(|error| error.to_string())?;
    let mut response = Vec::new();
    tokio::time::timeout(Duration::from_secs(30), stream.read_to_end(&mut response))
        .await
        .map_err(|_| format!("no HTTP answer to {method} {path} within 30 s"))?
        .map_err(|error| error.to_string())?;
    let response = String::from_utf8_lossy(&response).into_owned();
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| format!("not an HTTP answer: {head}"))?;
    let chunked = head.lines().any(|line| {
        line.to_ascii_lowercase()
            .starts_with("transfer-encoding: chunked")
    });
    Ok((
        status,
        if chunked {
            dechunk(body)
        } else {
            body.to_owned()
        },
    ))
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let size = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if size == 0 || size > rest.len() {
            break;
        }
        out.push_str(&rest[..size]);
        body = rest[size..].trim_start_matches("\r\n");
    }
    out
}

// ---- the reference server -----------------------------------------------------------------

/// `kefu serve` on a fresh data directory and a free loopback port; killed when dropped.
struct ReferenceServer {
    addr: SocketAddr,
    dir: PathBuf,
    process: Child,
}

impl ReferenceServer {
    const LOGIN: &'static str = "conformance";
    const PASSWORD: &'static str = "conformance-password-1";
    const HELLO_SECONDS: u64 = 1;
    const IDLE_SECONDS: u64 = 2;

    async fn start(kefu: &Path) -> Result<ReferenceServer, String> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .map_err(|error| error.to_string())?
            .port();
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let dir =
            std::env::temp_dir().join(format!("kefu-conformance-{}-{port}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(|error| error.to_string())?;
        // The kit sends a few hundred frames a second from one address: the per-address
        // limit is raised so that only the per-visitor one is met (rate-limits/…).
        let settings = format!(
            "listen = \"{addr}\"\nidentity_secret = \"conformance-secret\"\n\
             hello_timeout_seconds = {}\nidle_close_seconds = {}\n\
             ip_frames_per_second = 10000.0\nip_frame_burst = 10000.0\n",
            Self::HELLO_SECONDS,
            Self::IDLE_SECONDS
        );
        std::fs::write(dir.join("kefu.toml"), settings).map_err(|error| error.to_string())?;
        let log = std::fs::File::create(dir.join("kefu.log")).map_err(|error| error.to_string())?;
        let process = Command::new(kefu)
            .arg("serve")
            .arg("--data-dir")
            .arg(&dir)
            .stdout(log.try_clone().map_err(|error| error.to_string())?)
            .stderr(log)
            .spawn()
            .map_err(|error| format!("starting {}: {error}", kefu.display()))?;
        let server = ReferenceServer { addr, dir, process };
        let started = Instant::now();
        loop {
            if let Ok((200, _)) = http(&addr.to_string(), "GET", "/healthz", None, None).await {
                break;
            }
            if started.elapsed() > Duration::from_secs(30) {
                return Err(format!(
                    "{} did not become healthy within 30 s",
                    kefu.display()
                ));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let added = Command::new(kefu)
            .args(["agent", "add", "--data-dir"])
            .arg(&server.dir)
            .args([
                "--login",
                Self::LOGIN,
                "--name",
                "一致性测试",
                "--password",
                Self::PASSWORD,
            ])
            .args(["--max-chats", "5", "--groups", "support"])
            .stdout(Stdio::null())
            .status()
            .map_err(|error| error.to_string())?;
        if !added.success() {
            return Err("kefu agent add failed".into());
        }
        println!(
            "reference server {} at http://{addr} (data in {})\n",
            kefu.display(),
            server.dir.display()
        );
        Ok(server)
    }
}

impl Drop for ReferenceServer {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
