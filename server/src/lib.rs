//! kefu-server: the reference Kefu backend.
//!
//! It implements PROTOCOL.md over WebSocket (customers at `/ws/customer`, agents at
//! `/ws/agent`) and serves the widget, `embed.js`, the demo host page and the agent
//! workspace. Every rule of the service is decided by kefu-core; this crate only carries
//! frames, orders and stores events, and keeps who is connected.
//!
//! Layout:
//! - [`cli`]: the `kefu` command line; [`app`]: start-up and the serve loop.
//! - [`http`]: the router and plain HTTP handlers; [`agent_api`]: knowledge search and canned
//!   phrases for agents; [`admin_api`]: the settings, for admins only (one guard); [`pages`]: HTML shells and CSP;
//!   [`assets`]: the built widget in memory.
//! - [`ws`]: one task per WebSocket connection, reading and writing frames; [`limits`]:
//!   the customers' rate limits.
//! - [`hub`]: the live state (conversations, connections, agents, queues) as one actor that
//!   applies kefu-core's decisions, appends events durably, then fans them out.
//! - [`knowledge`]: knowledge files (CSV/JSON) and the robot's shared index.
//! - [`store`]: SQLite through sqlx; [`auth`]: tokens, password hashes, identity HMAC;
//!   [`settings`]: `kefu.toml`; [`metrics`]: `/metrics`; [`clock`]: the only source of time.
//!
//! The key choice: a single hub task owns all live state, so decisions for one conversation
//! are serialized without locks and an event is acknowledged only after its commit.

pub mod admin_api;
pub mod admin_routes;
pub mod agent_api;
pub mod app;
pub mod assets;
pub mod auth;
pub mod cli;
pub mod clock;
pub mod demo;
pub mod http;
pub mod hub;
pub mod knowledge;
pub mod limits;
pub mod metrics;
pub mod pages;
pub mod settings;
pub mod store;
pub mod ws;

/// Structured logs on stderr; `RUST_LOG` filters (default: info for kefu, warn elsewhere).
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,kefu_server=info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
