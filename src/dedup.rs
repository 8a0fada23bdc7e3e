//! The replay filter: remembers the identities of recent events, in bounded memory.
//!
//! Realtime delivers at least once: replays after a rejoin overlap what was already applied, and
//! an event published to both the list and a detail channel arrives twice. A delivery whose
//! identity keys ([`Identity`]) were seen within the TTL is a duplicate. Keys are kept in arrival
//! order; past the capacity the oldest is forgotten, and keys older than the TTL expire, so memory
//! is fixed by the capacity however many events pass.

use crate::catalog::Identity;
use std::collections::{HashSet, VecDeque};
use std::hash::{BuildHasherDefault, Hasher};

/// How much the filter remembers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DedupConfig {
    /// Most keys kept (an event uses one, or two with a `meta.id`).
    pub capacity: usize,
    /// How long a key is kept, in milliseconds.
    pub ttl_ms: u64,
}

impl Default for DedupConfig {
    /// 10,000 keys (about 300 KB) for 10 minutes: a busy floor's events for the length of any
    /// reconnect and replay.
    fn default() -> Self {
        DedupConfig {
            capacity: 10_000,
            ttl_ms: 10 * 60 * 1000,
        }
    }
}

/// Keys are already well-mixed 64-bit hashes; hashing them again would only cost time and size.
#[derive(Default)]
pub struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// The replay filter.
pub struct Dedup {
    config: DedupConfig,
    seen: HashSet<u64, BuildHasherDefault<KeyHasher>>,
    /// `(key, expires_at)` in arrival order: the front is the oldest and the first to expire.
    order: VecDeque<(u64, u64)>,
}

impl Dedup {
    /// An empty filter. A capacity of 0 is raised to 1.
    pub fn new(config: DedupConfig) -> Self {
        let config = DedupConfig {
            capacity: config.capacity.max(1),
            ..config
        };
        Dedup {
            config,
            seen: HashSet::default(),
            order: VecDeque::new(),
        }
    }

    /// The configuration in force.
    pub fn config(&self) -> DedupConfig {
        self.config
    }

    /// Keys remembered now.
    pub fn len(&self) -> usize {
        self.order.len()
    }

    /// Whether nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// Slots allocated by the two containers: bounded by the capacity, whatever passed through.
    pub fn allocated(&self) -> usize {
        self.seen.capacity().max(self.order.capacity())
    }

    fn expire(&mut self, now: u64) {
        while let Some(&(key, expires)) = self.order.front() {
            if expires > now {
                break;
            }
            self.order.pop_front();
            self.seen.remove(&key);
        }
    }

    /// Records the delivery and says whether it is new (`true`) or a replay (`false`). A replay
    /// does not extend the life of the keys it matched: the TTL counts from first sight.
    pub fn first_sighting(&mut self, identity: &Identity, now: u64) -> bool {
        self.expire(now);
        if identity.keys().any(|key| self.seen.contains(&key)) {
            // Remember a new meta.id of an event already seen by its natural key, so a replay of
            // this copy is caught even after the natural key is forgotten.
            for key in identity.keys() {
                self.insert(key, now);
            }
            return false;
        }
        for key in identity.keys() {
            self.insert(key, now);
        }
        true
    }

    fn insert(&mut self, key: u64, now: u64) {
        if !self.seen.insert(key) {
            return;
        }
        if self.order.len() == self.config.capacity {
            if let Some((old, _)) = self.order.pop_front() {
                self.seen.remove(&old);
            }
        }
        self.order
            .push_back((key, now.saturating_add(self.config.ttl_ms)));
    }

    /// Forgets everything (a different casino, a signed-out user).
    pub fn clear(&mut self) {
        self.seen.clear();
        self.order.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(natural: u64, meta: Option<&str>) -> Identity {
        Identity::new(natural, meta)
    }

    #[test]
    fn a_replay_is_caught_by_either_key() {
        let mut dedup = Dedup::new(DedupConfig::default());
        assert!(dedup.first_sighting(&id(1, Some("m1")), 0));
        assert!(
            !dedup.first_sighting(&id(1, Some("m1")), 1),
            "same message again"
        );
        assert!(
            !dedup.first_sighting(&id(1, Some("m2")), 2),
            "same event on another topic"
        );
        assert!(
            !dedup.first_sighting(&id(1, None), 3),
            "same event without meta.id"
        );
        assert!(
            !dedup.first_sighting(&id(9, Some("m1")), 4),
            "same message id"
        );
        assert!(dedup.first_sighting(&id(2, None), 5));
        assert!(!dedup.first_sighting(&id(2, None), 6));
    }

    #[test]
    fn keys_expire_after_the_ttl() {
        let mut dedup = Dedup::new(DedupConfig {
            capacity: 10,
            ttl_ms: 100,
        });
        assert!(dedup.first_sighting(&id(1, None), 0));
        assert!(!dedup.first_sighting(&id(1, None), 99));
        assert!(
            dedup.first_sighting(&id(1, None), 100),
            "forgotten at the TTL"
        );
        assert_eq!(dedup.len(), 1);
    }

    #[test]
    fn capacity_forgets_the_oldest_first() {
        let mut dedup = Dedup::new(DedupConfig {
            capacity: 3,
            ttl_ms: u64::MAX,
        });
        for n in 0..5 {
            assert!(dedup.first_sighting(&id(n, None), n));
            assert!(dedup.len() <= 3);
        }
        assert!(dedup.first_sighting(&id(0, None), 10), "0 fell out");
        assert!(
            !dedup.first_sighting(&id(4, None), 10),
            "4 is still remembered"
        );
    }
}
