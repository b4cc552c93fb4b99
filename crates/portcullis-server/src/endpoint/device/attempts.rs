//! The limit on wrong user codes at the verification page (RFC 8628 §5.1, security checklist D2 and U1).
//!
//! RFC 8628 §5.1: "Since the user code is typed by the user, shorter codes are more desirable for usability
//! reasons. This means the entropy is typically less than would be used for the device code [...] It is
//! therefore recommended that the server rate-limit user code attempts."
//!
//! The limit is the sign-in lockout's (`security.lockout_max_failures` wrong codes, default 5, then a wait of
//! `security.lockout_seconds`, default 15 minutes), counted per signed-in user: the page needs a session, so
//! whoever guesses needs an account per five guesses, and signing in again does not reset the count. A right
//! code does not reset it either: anyone can start a device flow and get a right code at will, which would
//! otherwise buy four more guesses every time. With codes of 20^8 ≈ 2^34.6 values that live 10 minutes, five
//! guesses per account per quarter hour leave a brute force no chance.
//!
//! The counts live in this process's memory, bounded to [`CAPACITY`] users: losing them at a restart only
//! gives back a handful of guesses, and several instances behind a load balancer multiply the limit by their
//! number, which the margin above absorbs. When the table is full of users still being counted, a user it has
//! no room for is refused like one who reached the limit: the table never grows, and failing closed costs a
//! legitimate user a wait, never the attacker a guess.

use std::collections::HashMap;
use std::sync::Mutex;

use time::{Duration, OffsetDateTime};

/// Users counted at once. Each entry is a user id and three numbers; ten thousand of them are well under a
/// megabyte, and reaching that many users each mistyping a code within one window is an attack.
pub const CAPACITY: usize = 10_000;

#[derive(Debug, Clone, Copy)]
struct Entry {
    /// The first wrong code of the current window.
    since: OffsetDateTime,
    failures: u32,
    blocked_until: Option<OffsetDateTime>,
}

impl Entry {
    /// Whether the entry still matters at `now`: blocked, or inside its counting window.
    fn is_live(&self, now: OffsetDateTime, window: Duration) -> bool {
        self.blocked_until.is_some_and(|until| until > now) || now < self.since + window
    }
}

/// Wrong user codes per user; see the module documentation.
#[derive(Debug)]
pub struct UserCodeAttempts {
    capacity: usize,
    entries: Mutex<HashMap<String, Entry>>,
}

/// The limit in force: how many wrong codes, and how long both the counting window and the wait last.
#[derive(Debug, Clone, Copy)]
pub struct Limit {
    pub max_failures: u32,
    pub window: Duration,
}

impl Default for UserCodeAttempts {
    fn default() -> Self {
        Self::with_capacity(CAPACITY)
    }
}

impl UserCodeAttempts {
    pub fn with_capacity(capacity: usize) -> Self {
        Self { capacity: capacity.max(1), entries: Mutex::new(HashMap::new()) }
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        // A panic while holding the lock leaves at worst one count stale; refusing every user would be worse.
        self.entries.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Whether `user` must wait before trying another code.
    pub fn is_blocked(&self, user: &str, now: OffsetDateTime, limit: Limit) -> bool {
        let mut entries = self.entries();
        match entries.get(user) {
            Some(entry) => entry.blocked_until.is_some_and(|until| until > now),
            None => entries.len() >= self.capacity && !make_room(&mut entries, self.capacity, now, limit.window),
        }
    }

    /// Counts a wrong code. Returns whether `user` must now wait.
    pub fn record_failure(&self, user: &str, now: OffsetDateTime, limit: Limit) -> bool {
        let mut entries = self.entries();
        let full = entries.len() >= self.capacity;
        if full && !entries.contains_key(user) && !make_room(&mut entries, self.capacity, now, limit.window) {
            return true;
        }
        let entry = entries.entry(user.to_owned()).or_insert(Entry { since: now, failures: 0, blocked_until: None });
        if !entry.is_live(now, limit.window) {
            *entry = Entry { since: now, failures: 0, blocked_until: None };
        }
        entry.failures = entry.failures.saturating_add(1);
        if entry.failures >= limit.max_failures {
            // The wait starts now, and the count starts again after it.
            *entry = Entry { since: now + limit.window, failures: 0, blocked_until: Some(now + limit.window) };
            return true;
        }
        false
    }
}

/// Drops the entries that no longer matter. Returns whether there is room for one more.
fn make_room(entries: &mut HashMap<String, Entry>, capacity: usize, now: OffsetDateTime, window: Duration) -> bool {
    entries.retain(|_, entry| entry.is_live(now, window));
    entries.len() < capacity
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const T0: OffsetDateTime = datetime!(2026-11-01 12:00 UTC);
    const LIMIT: Limit = Limit { max_failures: 3, window: Duration::minutes(15) };

    #[test]
    fn rfc8628_5_1_the_limit_blocks_for_the_window_then_counts_again() {
        let attempts = UserCodeAttempts::default();
        assert!(!attempts.record_failure("alice", T0, LIMIT));
        assert!(!attempts.record_failure("alice", T0 + Duration::minutes(1), LIMIT));
        assert!(!attempts.is_blocked("alice", T0 + Duration::minutes(1), LIMIT));
        assert!(attempts.record_failure("alice", T0 + Duration::minutes(2), LIMIT));
        assert!(attempts.is_blocked("alice", T0 + Duration::minutes(16), LIMIT));
        assert!(!attempts.is_blocked("bob", T0 + Duration::minutes(2), LIMIT), "one user's failures are theirs");
        let after = T0 + Duration::minutes(17);
        assert!(!attempts.is_blocked("alice", after, LIMIT));
        assert!(!attempts.record_failure("alice", after, LIMIT), "a fresh count after the wait");
    }

    #[test]
    fn failures_outside_the_window_are_forgotten() {
        let attempts = UserCodeAttempts::default();
        assert!(!attempts.record_failure("alice", T0, LIMIT));
        assert!(!attempts.record_failure("alice", T0 + Duration::minutes(1), LIMIT));
        // The window of the first failure is over: this is the first failure of a new one.
        assert!(!attempts.record_failure("alice", T0 + Duration::minutes(15), LIMIT));
        assert!(!attempts.record_failure("alice", T0 + Duration::minutes(16), LIMIT));
        assert!(attempts.record_failure("alice", T0 + Duration::minutes(17), LIMIT));
    }

    #[test]
    fn a_full_table_refuses_newcomers_until_entries_expire() {
        let attempts = UserCodeAttempts::with_capacity(2);
        attempts.record_failure("a", T0, LIMIT);
        attempts.record_failure("b", T0, LIMIT);
        assert!(attempts.is_blocked("c", T0, LIMIT), "no room: fail closed");
        assert!(attempts.record_failure("c", T0, LIMIT));
        assert!(!attempts.is_blocked("a", T0, LIMIT), "users already counted go on as before");
        // Once the window is over, their entries make way.
        let later = T0 + Duration::minutes(15);
        assert!(!attempts.is_blocked("c", later, LIMIT));
        assert!(!attempts.record_failure("c", later, LIMIT));
        assert!(attempts.entries().len() <= 2);
    }
}
