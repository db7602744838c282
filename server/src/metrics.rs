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
}

impl Metrics {
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    pub fn sub(counter: &AtomicU64, n: u64) {
        counter.fetch_sub(n, Ordering::Relaxed);
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
