//! The server's own settings: `kefu.toml` in the data directory.
//!
//! Only what belongs to the machine lives here (listen address, database, secrets, allowed
//! origins, where the built widget is). The service itself (skill groups, rules, robot,
//! knowledge) is kefu-core's `Config`, kept in the database. On first run the file is written
//! with every setting commented, so an operator can read what can be changed.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::Deserialize;

/// The parsed `kefu.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Address the HTTP and WebSocket server binds to.
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    /// The URL visitors' browsers reach the server at; printed in the embed snippet.
    /// Defaults to `http://<listen>`.
    #[serde(default)]
    pub public_url: Option<String>,
    /// SQLite file, relative to the data directory.
    #[serde(default = "default_database")]
    pub database: String,
    /// Directory with the built widget (`cargo xtask build-widget`). Relative to the data directory.
    #[serde(default)]
    pub assets: Option<PathBuf>,
    /// Origins (scheme://host:port) of the pages allowed to embed the widget and open its
    /// WebSocket. The server's own origin is always allowed.
    #[serde(default)]
    pub allowed_origins: Vec<String>,
    /// HMAC-SHA256 key with which a site owner signs the user ids passed to `Kefu.setUser`.
    pub identity_secret: String,
    /// Refuse `setUser` ids that come without a valid `userHash` (by default they are
    /// accepted and shown to agents as unverified; a wrong hash is always refused).
    #[serde(default)]
    pub require_verified_identity: bool,
    /// How long an agent's login lasts, in hours.
    #[serde(default = "default_session_hours")]
    pub agent_session_hours: u32,
    /// How long an agent may stay disconnected (a reload, a network drop) before their chats
    /// are re-queued, in seconds.
    #[serde(default = "default_grace_seconds")]
    pub agent_disconnect_grace_seconds: u32,
    /// Frames a visitor may send per second, on average, and in a burst.
    #[serde(default = "default_visitor_rate")]
    pub visitor_frames_per_second: f64,
    #[serde(default = "default_visitor_burst")]
    pub visitor_frame_burst: f64,
    /// Frames all visitors behind one IP address may send per second, and in a burst.
    #[serde(default = "default_ip_rate")]
    pub ip_frames_per_second: f64,
    #[serde(default = "default_ip_burst")]
    pub ip_frame_burst: f64,
    /// Reverse proxies in front of the server (their addresses). A connection from one of
    /// them is counted under the client address its `X-Forwarded-For` names; from anyone
    /// else that header is ignored, so it cannot be forged to dodge the per-address limit.
    #[serde(default)]
    pub trusted_proxies: Vec<IpAddr>,
    /// How long a WebSocket client has to send its `hello` after connecting, in seconds
    /// (PROTOCOL.md, "Connection lifecycle"; 10 by default).
    #[serde(default = "default_hello_timeout_seconds")]
    pub hello_timeout_seconds: u32,
    /// A WebSocket connection from which nothing (no frame at all, a `ping` included)
    /// arrived for this many seconds is closed with code 1000 (PROTOCOL.md; 60 by default).
    #[serde(default = "default_idle_close_seconds")]
    pub idle_close_seconds: u32,
    /// How many visitors the server keeps in memory (profile, conversation list, folded
    /// conversations). Above it, visitors who have no connection and no queued or served
    /// chat are evicted, least recently seen first; a returning visitor is read back from
    /// the database. Connected visitors and those with a queued or served chat are never
    /// evicted, so the count can pass the cap while they last (10,000 by default).
    #[serde(default = "default_visitors_in_memory")]
    pub visitors_in_memory: usize,
    /// A queued chat whose visitor has had no connection for this many seconds ends (its
    /// visitor sees it ended when they come back): no agent is given a chat nobody is in
    /// (120 by default).
    #[serde(default = "default_queue_visitor_grace_seconds")]
    pub queue_visitor_grace_seconds: u32,
}

impl Settings {
    /// The address a connection from `peer` is counted under (see `trusted_proxies`): the
    /// right-most `X-Forwarded-For` entry that is not itself a trusted proxy.
    pub fn client_ip(&self, peer: IpAddr, forwarded_for: Option<&str>) -> IpAddr {
        if !self.trusted_proxies.contains(&peer) {
            return peer;
        }
        forwarded_for
            .into_iter()
            .flat_map(|header| header.rsplit(','))
            .filter_map(|entry| entry.trim().parse::<IpAddr>().ok())
            .find(|address| !self.trusted_proxies.contains(address))
            .unwrap_or(peer)
    }
}

fn default_visitor_rate() -> f64 {
    10.0
}

fn default_visitor_burst() -> f64 {
    20.0
}

fn default_ip_rate() -> f64 {
    50.0
}

fn default_ip_burst() -> f64 {
    100.0
}

fn default_grace_seconds() -> u32 {
    60
}

fn default_hello_timeout_seconds() -> u32 {
    10
}

fn default_idle_close_seconds() -> u32 {
    60
}

fn default_visitors_in_memory() -> usize {
    10_000
}

fn default_queue_visitor_grace_seconds() -> u32 {
    120
}

fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 8080))
}

fn default_database() -> String {
    "kefu.db".to_owned()
}

fn default_session_hours() -> u32 {
    12
}

impl Settings {
    /// The URL a browser reaches this server at.
    pub fn public_url(&self) -> String {
        match &self.public_url {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None => format!("http://{}", self.listen),
        }
    }

    /// Reads `kefu.toml` from `data_dir`, writing the commented default first if there is none.
    /// Returns the settings and whether the file was created now (the first run).
    pub fn load_or_create(data_dir: &Path) -> Result<(Settings, bool)> {
        let path = data_dir.join("kefu.toml");
        let created = if path.exists() {
            false
        } else {
            std::fs::create_dir_all(data_dir)
                .with_context(|| format!("creating the data directory {}", data_dir.display()))?;
            std::fs::write(&path, default_file(&crate::auth::random_token()))
                .with_context(|| format!("writing {}", path.display()))?;
            true
        };
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        let settings: Settings =
            toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
        Ok((settings, created))
    }
}

/// The text of a new `kefu.toml`, with a fresh identity secret.
fn default_file(identity_secret: &str) -> String {
    format!(
        r#"# Kefu server settings. Skill groups, service rules, the robot and the knowledge base
# are edited in the running service (they live in the database), not here.

# Address to listen on (HTTP and WebSocket).
# listen = "127.0.0.1:8080"

# The URL visitors' browsers use to reach this server; used in the embed snippet.
# public_url = "https://kefu.example.com"

# SQLite database file, relative to this directory.
# database = "kefu.db"

# Directory of the built widget (cargo xtask build-widget), relative to this directory.
# assets = "../dist"

# Pages allowed to embed the widget and to open its WebSocket (scheme://host[:port]).
# The server's own origin is always allowed.
# allowed_origins = ["https://www.example.com"]

# Secret for identity verification: the site owner's backend computes
# hex(HMAC-SHA256(identity_secret, user_id)) and passes it as `userHash` to Kefu.setUser.
identity_secret = "{identity_secret}"

# Refuse user ids without a valid userHash (otherwise agents see them marked unverified).
# require_verified_identity = false

# How long an agent's login lasts, in hours.
# agent_session_hours = 12

# How long an agent may stay disconnected before their chats go back to the queue, in seconds.
# agent_disconnect_grace_seconds = 60

# Rate limits on customers' frames: per visitor, and per IP address (all visitors behind it).
# Over the limit, a frame is answered with a `rate_limited` error and the connection stays.
# visitor_frames_per_second = 10.0
# visitor_frame_burst = 20.0
# ip_frames_per_second = 50.0
# ip_frame_burst = 100.0

# Reverse proxies in front of Kefu (nginx, a load balancer): connections from these addresses
# are counted under the client address in their X-Forwarded-For header. Leave empty when
# browsers connect directly; the header is then ignored.
# trusted_proxies = ["127.0.0.1"]

# WebSocket deadlines (PROTOCOL.md): the time a client has to send its hello, and how long
# a connection may stay silent (clients ping every 25 seconds) before it is closed.
# hello_timeout_seconds = 10
# idle_close_seconds = 60

# Live state: how many visitors are kept in memory (above it, visitors with no connection
# and no queued or served chat are dropped, least recently seen first, and read back from the
# database when they return), and how long a queued chat waits for a visitor who left.
# visitors_in_memory = 10000
# queue_visitor_grace_seconds = 120
"#
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The file written on first run parses, and every commented setting is a real one.
    #[test]
    fn default_file_parses_with_every_setting_uncommented() {
        let text = default_file("secret");
        let settings: Settings = toml::from_str(&text).unwrap();
        assert_eq!(settings.listen, default_listen());
        let uncommented: String = text
            .lines()
            .map(|line| {
                line.strip_prefix("# ")
                    .filter(|rest| rest.contains(" = "))
                    .unwrap_or(line)
            })
            .collect::<Vec<_>>()
            .join("\n");
        let all: Settings = toml::from_str(&uncommented).unwrap();
        assert_eq!(all.public_url(), "https://kefu.example.com");
        assert_eq!(
            all.allowed_origins,
            vec!["https://www.example.com".to_owned()]
        );
        assert_eq!(
            all.trusted_proxies,
            vec!["127.0.0.1".parse::<IpAddr>().unwrap()]
        );
    }

    #[test]
    fn forwarded_for_counts_only_behind_a_trusted_proxy() {
        let mut settings: Settings = toml::from_str(&default_file("secret")).unwrap();
        let proxy: IpAddr = "10.0.0.2".parse().unwrap();
        let visitor: IpAddr = "203.0.113.7".parse().unwrap();
        assert_eq!(
            settings.client_ip(proxy, Some("203.0.113.7")),
            proxy,
            "no proxy trusted: the header is ignored"
        );
        settings.trusted_proxies = vec![proxy, "10.0.0.1".parse().unwrap()];
        assert_eq!(settings.client_ip(proxy, Some("203.0.113.7")), visitor);
        // A client-supplied first entry is skipped: the right-most untrusted one is the client.
        assert_eq!(
            settings.client_ip(proxy, Some("1.2.3.4, 203.0.113.7, 10.0.0.1")),
            visitor
        );
        assert_eq!(settings.client_ip(proxy, Some("garbage")), proxy);
        assert_eq!(settings.client_ip(proxy, None), proxy);
        assert_eq!(
            settings.client_ip(visitor, Some("1.2.3.4")),
            visitor,
            "only proxies may speak for others"
        );
    }
}
