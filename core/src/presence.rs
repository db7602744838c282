//! Small rules about people's presence that both ends share: when a keystroke tells the
//! other side "typing", when that news is stale, and when a returning visitor counts as a
//! new visit.
//!
//! Typing indicators are ephemeral (never stored, never acked), so the rules are built to
//! survive a lost frame: the sender repeats `typing: true` while the person keeps typing,
//! and the receiver forgets an indicator that was not repeated in time.

/// While a person keeps typing, `typing: true` is sent again this often (ms).
pub const TYPING_REFRESH_MS: i64 = 3_000;
/// After this long without a keystroke, the sender says `typing: false` (ms).
pub const TYPING_IDLE_MS: i64 = 4_000;
/// A receiver shows "typing…" for at most this long after the last `typing: true` (ms), so
/// a lost `typing: false` cannot leave the indicator on forever.
pub const TYPING_SHOWN_MS: i64 = 6_000;
/// A visitor coming back after this long without any connection starts a new visit (ms);
/// the usual 30 minutes of web analytics.
pub const VISIT_GAP_MS: i64 = 30 * 60 * 1000;

/// The sending side of a typing indicator. Feed it the composer's events with the time they
/// happened; each method returns the `typing` value to send, if any.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TypingSignal {
    /// When `typing: true` was last sent, while the person is typing.
    sent_at: Option<i64>,
    /// The last keystroke.
    last_input_at: i64,
}

impl TypingSignal {
    pub fn new() -> Self {
        Self::default()
    }

    /// The composer changed. An emptied composer ends typing; otherwise `true` is sent when
    /// typing starts and repeated every [`TYPING_REFRESH_MS`].
    pub fn on_input(&mut self, now: i64, composer_empty: bool) -> Option<bool> {
        if composer_empty {
            return self.stop();
        }
        self.last_input_at = now;
        match self.sent_at {
            Some(sent_at) if now - sent_at < TYPING_REFRESH_MS => None,
            _ => {
                self.sent_at = Some(now);
                Some(true)
            }
        }
    }

    /// A timer fired: after [`TYPING_IDLE_MS`] without a keystroke typing ends. Callers run it
    /// about [`TYPING_IDLE_MS`] after each input.
    pub fn on_timer(&mut self, now: i64) -> Option<bool> {
        if self.sent_at.is_some() && now - self.last_input_at >= TYPING_IDLE_MS {
            self.stop()
        } else {
            None
        }
    }

    /// The message was sent (or the conversation left): typing ends at once.
    pub fn on_send(&mut self) -> Option<bool> {
        self.stop()
    }

    /// Whether the other side was last told "typing".
    pub fn is_typing(&self) -> bool {
        self.sent_at.is_some()
    }

    fn stop(&mut self) -> Option<bool> {
        self.sent_at.take().map(|_| false)
    }
}

/// Whether a visitor last seen at `last_seen` and connecting at `now` starts a new visit.
pub fn is_new_visit(last_seen: i64, now: i64) -> bool {
    now - last_seen >= VISIT_GAP_MS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_keystroke_says_typing_and_the_next_ones_stay_quiet_until_the_refresh() {
        let mut signal = TypingSignal::new();
        assert_eq!(signal.on_input(1_000, false), Some(true));
        assert_eq!(signal.on_input(1_500, false), None);
        assert_eq!(signal.on_input(3_999, false), None);
        assert_eq!(
            signal.on_input(4_000, false),
            Some(true),
            "repeated every {TYPING_REFRESH_MS} ms"
        );
        assert!(signal.is_typing());
    }

    #[test]
    fn sending_or_emptying_the_composer_ends_typing_once() {
        let mut signal = TypingSignal::new();
        signal.on_input(0, false);
        assert_eq!(signal.on_send(), Some(false));
        assert_eq!(signal.on_send(), None, "nothing to retract twice");
        signal.on_input(10, false);
        assert_eq!(signal.on_input(20, true), Some(false));
        assert!(!signal.is_typing());
    }

    #[test]
    fn a_pause_ends_typing_but_a_recent_keystroke_keeps_it() {
        let mut signal = TypingSignal::new();
        signal.on_input(0, false);
        signal.on_input(2_000, false);
        assert_eq!(signal.on_timer(4_000), None, "2 s since the last keystroke");
        assert_eq!(signal.on_timer(6_000), Some(false));
        assert_eq!(signal.on_timer(9_000), None);
    }

    #[test]
    fn a_timer_without_typing_sends_nothing() {
        assert_eq!(TypingSignal::new().on_timer(1_000_000), None);
    }

    #[test]
    fn the_sender_repeats_well_before_the_receiver_forgets() {
        const { assert!(TYPING_REFRESH_MS < TYPING_SHOWN_MS) };
    }

    #[test]
    fn reconnecting_within_half_an_hour_is_the_same_visit() {
        assert!(!is_new_visit(0, VISIT_GAP_MS - 1));
        assert!(is_new_visit(0, VISIT_GAP_MS));
    }
}
