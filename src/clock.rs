//! The two clocks every input carries (docs/design.md, "Two clocks, both inputs").
//!
//! `mono` runs deadlines: batch windows, heartbeats, backoff, timeouts. It never steps, so a wall
//! clock set back by NTP or by hand cannot hold a batch. `wall` is used only where the server's
//! time matters (the replay point) and to compare events' `at`. Neither is read inside the core:
//! the host passes both with each input (`performance.now()` and `Date.now()` in a browser).

/// The time of one input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Now {
    /// Milliseconds on a monotonic clock with any origin.
    pub mono: u64,
    /// Milliseconds since the Unix epoch, as the local wall clock says.
    pub wall: i64,
}

impl Now {
    /// Both clocks.
    pub fn new(mono: u64, wall: i64) -> Self {
        Now { mono, wall }
    }

    /// The wall time of an earlier monotonic instant, as the wall clock reads now.
    pub fn wall_at(&self, mono: u64) -> i64 {
        self.wall - self.mono.saturating_sub(mono) as i64
    }
}
