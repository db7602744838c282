//! The service's only source of time.
//!
//! kefu-core reads no clock: the hub passes "now" into every decision. Production uses the
//! system clock; tests use a manual clock they move forward, so idle timeouts and the agent
//! disconnect grace period are exercised in milliseconds instead of minutes.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

/// Where "now" comes from; cheap to clone (a manual clock's clones share one time).
#[derive(Clone, Debug, Default)]
pub enum Clock {
    /// The operating system's wall clock.
    #[default]
    System,
    /// A clock that only moves when told to, in unix milliseconds.
    Manual(Arc<AtomicI64>),
}

impl Clock {
    /// A manual clock standing at `start_ms`.
    pub fn manual(start_ms: i64) -> Clock {
        Clock::Manual(Arc::new(AtomicI64::new(start_ms)))
    }

    /// Now, in unix milliseconds.
    pub fn now_ms(&self) -> i64 {
        match self {
            Clock::System => system_now_ms(),
            Clock::Manual(now) => now.load(Ordering::SeqCst),
        }
    }

    /// Moves a manual clock forward. The system clock cannot be moved: a call on it is a
    /// mistake in a test, so it panics rather than silently doing nothing.
    pub fn advance(&self, ms: i64) {
        match self {
            Clock::System => panic!("the system clock cannot be advanced"),
            Clock::Manual(now) => {
                now.fetch_add(ms, Ordering::SeqCst);
            }
        }
    }
}

/// The system clock in unix milliseconds.
pub fn system_now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| elapsed.as_millis() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_when_advanced_and_its_clones_follow() {
        let clock = Clock::manual(1_000);
        let clone = clock.clone();
        assert_eq!(clock.now_ms(), 1_000);
        clock.advance(250);
        assert_eq!(clone.now_ms(), 1_250);
    }

    #[test]
    fn the_system_clock_is_near_the_real_time() {
        let before = system_now_ms();
        let now = Clock::System.now_ms();
        assert!(now >= before && now - before < 60_000);
    }
}
