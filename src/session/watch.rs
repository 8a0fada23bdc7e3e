//! The session's watch on its host: the time of the last input and the deadline the session
//! then asked for. A later input tells from them whether the machine slept (a wall clock that
//! ran further than the monotonic one: monotonic clocks stop in suspend) or the page was frozen
//! or throttled (a deadline served far too late): either way the connection may be dead without
//! the socket knowing.

use crate::clock::Now;

#[derive(Debug, Default)]
pub(super) struct Watch {
    last: Option<Now>,
    due: Option<u64>,
}

impl Watch {
    /// The machine slept or the page was frozen for more than `wake_after_ms` since the last
    /// input.
    pub fn woke(&self, now: Now, wake_after_ms: u64) -> bool {
        let Some(last) = self.last else {
            return false;
        };
        let wall_ran = now.wall.saturating_sub(last.wall);
        let mono_ran = now.mono.saturating_sub(last.mono) as i64;
        let slept = wall_ran.saturating_sub(mono_ran) > wake_after_ms as i64;
        let late = self
            .due
            .is_some_and(|due| now.mono > due.saturating_add(wake_after_ms));
        slept || late
    }

    /// An input ended at `now`, asking to be woken at `due`.
    pub fn settled(&mut self, now: Now, due: Option<u64>) {
        self.last = Some(now);
        self.due = due;
    }
}
