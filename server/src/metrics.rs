//! Counters for `/metrics`, in the Prometheus text format. Plain atomics: cheap enough to
//! bump on every frame, and no registry crate to compile.

use std::sync::atomic::{AtomicU64, Ordering};

/// The server's counters and gauges.
#[derive(Default)]
pub struct Metrics {
    pub customer_connections: AtomicU64,
    pub agent_connections: AtomicU64,
    pub frames_received: AtomicU64,
    pub frames_rejected: AtomicU64,
    pub frames_rate_limited: AtomicU64,
    pub events_appended: AtomicU64,
    pub conversations_started: AtomicU64,
    /// The hub's live state (see `hub::Hub::publish_sizes`), set after every request.
    pub live_visitors: AtomicU64,
    pub live_visitors_cap: AtomicU64,
    pub live_conversations: AtomicU64,
    pub live_queued: AtomicU64,
}

impl Metrics {
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    pub fn sub(counter: &AtomicU64, n: u64) {
        counter.fetch_sub(n, Ordering::Relaxed);
    }

    pub fn set(gauge: &AtomicU64, n: u64) {
        gauge.store(n, Ordering::Relaxed);
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        let rows = [
            (
                "kefu_customer_connections",
                "gauge",
                "Open customer WebSocket connections.",
                &self.customer_connections,
            ),
            (
                "kefu_agent_connections",
                "gauge",
                "Open agent WebSocket connections.",
                &self.agent_connections,
            ),
            (
                "kefu_frames_received_total",
                "counter",
                "Frames received from clients.",
                &self.frames_received,
            ),
            (
                "kefu_frames_rejected_total",
                "counter",
                "Frames answered with an error frame.",
                &self.frames_rejected,
            ),
            (
                "kefu_frames_rate_limited_total",
                "counter",
                "Frames refused by a rate limit (also counted as rejected).",
                &self.frames_rate_limited,
            ),
            (
                "kefu_events_appended_total",
                "counter",
                "Conversation events durably appended.",
                &self.events_appended,
            ),
            (
                "kefu_conversations_started_total",
                "counter",
                "Conversations started.",
                &self.conversations_started,
            ),
            (
                "kefu_live_visitors",
                "gauge",
                "Visitors whose profile and conversation list the server holds in memory.",
                &self.live_visitors,
            ),
            (
                "kefu_live_visitors_cap",
                "gauge",
                "visitors_in_memory from kefu.toml: above it, visitors who are not connected and have no queued or served chat are evicted (least recently seen first).",
                &self.live_visitors_cap,
            ),
            (
                "kefu_live_conversations",
                "gauge",
                "Conversations whose folded state the server holds in memory.",
                &self.live_conversations,
            ),
            (
                "kefu_live_queued",
                "gauge",
                "Conversations waiting in the queues.",
                &self.live_queued,
            ),
        ];
        let mut text = String::new();
        for (name, kind, help, value) in rows {
            text.push_str(&format!(
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {}\n",
                value.load(Ordering::Relaxed)
            ));
        }
        text
    }
}
