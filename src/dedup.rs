//! The replay filter: remembers the identities of recent events, in bounded memory.
//!
//! Realtime delivers at least once: replays after a rejoin overlap what was already applied, and
//! an event published to both the list and a detail channel arrives twice. A delivery whose
//! identity keys ([`Identity`]) were seen within the TTL is a duplicate. Keys are kept in arrival
//! order; past the capacity the oldest is forgotten, and keys older than the TTL expire, so memory
//! is fixed by the capacity however many events pass.
//!
//! A session serving several clients (tabs sharing one connection) remembers beside each key the
//! clients the event reached ([`Audience`]): the same event arriving later on another channel is
//! a duplicate for those, and new for the clients of that channel that it had not reached.
//!
//! Keys are mixed with a per-session seed before they pick a slot: identities are hashes of what
//! the server sends, so without it a crafted stream of ids could all land in one probe run.

use crate::audience::Audience;
use crate::catalog::Identity;
use std::collections::VecDeque;

/// How much the filter remembers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DedupConfig {
    /// Most keys kept (an event uses one, or two with a `meta.id`).
    pub capacity: usize,
    /// How long a key is kept, in milliseconds.
    pub ttl_ms: u64,
}

impl Default for DedupConfig {
    /// 10,000 keys (about 770 KB, each with the clients it reached) for 10 minutes: a busy floor's events for the length of any
    /// reconnect and replay.
    fn default() -> Self {
        DedupConfig {
            capacity: 10_000,
            ttl_ms: 10 * 60 * 1000,
        }
    }
}

/// 64-bit keys, each with a value, in one open-addressed table (linear probing, deletion by
/// backward shift, so no tombstones accumulate). It doubles while filling and stops at twice
/// `limit` slots: its memory is fixed by the limit, however many keys come and go. Callers store
/// keys already mixed ([`seeded`], or a hash), so a key is its own hash. The dedup filter's set
/// and the batcher's memory of applied writes.
pub(crate) struct KeyTable<V> {
    slots: Vec<(u64, V)>,
    len: usize,
    max_slots: usize,
}

/// The replay filter's seen keys, each with the clients the event reached (as bits).
type KeySet = KeyTable<u64>;

/// Marks an empty slot; the key 0 is stored as 1 (a false match of one in 2^64).
const EMPTY: u64 = 0;

impl<V: Copy + Default> KeyTable<V> {
    pub fn new(limit: usize) -> Self {
        KeyTable {
            slots: Vec::new(),
            len: 0,
            max_slots: (limit * 2).next_power_of_two().max(16),
        }
    }

    /// With all its memory from the start, so its footprint never grows later.
    pub fn allocated(limit: usize) -> Self {
        let mut table = KeyTable::new(limit);
        table.slots = vec![(EMPTY, V::default()); table.max_slots];
        table
    }

    fn mask(&self) -> usize {
        self.slots.len() - 1
    }

    /// The slot holding `key`, or the empty slot where it would go.
    fn probe(&self, key: u64) -> usize {
        let mask = self.mask();
        let mut i = key as usize & mask;
        while self.slots[i].0 != EMPTY && self.slots[i].0 != key {
            i = (i + 1) & mask;
        }
        i
    }

    pub fn get(&self, key: u64) -> Option<V> {
        let key = key.max(1);
        if self.slots.is_empty() {
            return None;
        }
        let slot = self.slots[self.probe(key)];
        (slot.0 == key).then_some(slot.1)
    }

    /// Keys held.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn contains(&self, key: u64) -> bool {
        self.get(key).is_some()
    }

    /// Sets `key` to `value`; false if the key was there (its value is replaced). Callers keep
    /// `len` within the limit.
    pub fn insert(&mut self, key: u64, value: V) -> bool {
        let key = key.max(1);
        if (self.len + 1) * 2 > self.slots.len() && self.slots.len() < self.max_slots {
            self.grow();
        }
        let i = self.probe(key);
        let new = self.slots[i].0 != key;
        self.slots[i] = (key, value);
        self.len += usize::from(new);
        new
    }

    fn grow(&mut self) {
        let size = (self.slots.len() * 2).clamp(16, self.max_slots);
        let old = std::mem::replace(&mut self.slots, vec![(EMPTY, V::default()); size]);
        for slot in old.into_iter().filter(|s| s.0 != EMPTY) {
            let i = self.probe(slot.0);
            self.slots[i] = slot;
        }
    }

    pub fn remove(&mut self, key: u64) {
        let key = key.max(1);
        if self.slots.is_empty() {
            return;
        }
        let mask = self.mask();
        let mut hole = self.probe(key);
        if self.slots[hole].0 != key {
            return;
        }
        self.len -= 1;
        // Pull later members of the probe run back over the hole, so lookups never stop early.
        let mut j = hole;
        loop {
            j = (j + 1) & mask;
            let next = self.slots[j];
            if next.0 == EMPTY {
                break;
            }
            let home = next.0 as usize & mask;
            let stays = if hole <= j {
                hole < home && home <= j
            } else {
                hole < home || home <= j
            };
            if !stays {
                self.slots[hole] = next;
                hole = j;
            }
        }
        self.slots[hole] = (EMPTY, V::default());
    }

    pub fn clear(&mut self) {
        self.slots.fill((EMPTY, V::default()));
        self.len = 0;
    }
}

/// A bijection of `key` keyed by `seed` (splitmix64's finaliser over `key ^ seed`): distinct keys
/// stay distinct, and where they land cannot be chosen without the seed.
fn seeded(key: u64, seed: u64) -> u64 {
    let mut x = key ^ seed;
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// Whether a delivery was seen before.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sighting {
    /// Never seen: apply it.
    New,
    /// Seen before. `copy` says this very message (its `meta.id`) was seen, not only the same
    /// event on another topic; `newcomers` are the clients of this delivery it had not reached.
    Seen {
        /// The `meta.id` matched.
        copy: bool,
        /// Clients this delivery is for that the event had not reached: new to them.
        newcomers: Audience,
    },
}

/// The replay filter.
pub struct Dedup {
    config: DedupConfig,
    seed: u64,
    seen: KeySet,
    /// `(key, expires_at)` in arrival order: the front is the oldest and the first to expire.
    order: VecDeque<(u64, u64)>,
}

impl Dedup {
    /// An empty filter whose slots are keyed by `seed` (pick it at random per session). A
    /// capacity of 0 is raised to 1.
    pub fn new(config: DedupConfig, seed: u64) -> Self {
        let config = DedupConfig {
            capacity: config.capacity.max(1),
            ..config
        };
        Dedup {
            config,
            seed,
            seen: KeySet::new(config.capacity),
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

    /// Bytes held by the filter's tables: at most 80 per unit of capacity (48 when it is a power
    /// of two), whatever passed through.
    pub fn memory_bytes(&self) -> usize {
        self.seen.slots.len() * 16 + self.order.capacity() * 16
    }

    fn expire(&mut self, now: u64) {
        while let Some(&(key, expires)) = self.order.front() {
            if expires > now {
                break;
            }
            self.order.pop_front();
            self.seen.remove(key);
        }
    }

    /// Records a delivery for `audience` (the clients of the channel it came on) and says
    /// whether it is new or a replay. A replay does not extend the life of the keys it matched:
    /// the TTL counts from first sight.
    pub fn sighting(&mut self, identity: &Identity, now: u64, audience: Audience) -> Sighting {
        self.expire(now);
        let seed = self.seed;
        let natural = seeded(identity.natural, seed);
        let meta = identity.meta.map(|m| seeded(m, seed));
        let copy = meta.and_then(|m| self.seen.get(m));
        let by_natural = self.seen.get(natural);
        let seen = copy.is_some() || by_natural.is_some();
        let reached = Audience::from_bits(copy.unwrap_or(0) | by_natural.unwrap_or(0));
        let now_reached = reached.with(audience);
        // A new meta.id of an event already seen by its natural key is remembered too, so a
        // replay of this copy is caught even after the natural key is forgotten.
        self.insert(natural, now, now_reached);
        if let Some(m) = meta {
            self.insert(m, now, now_reached);
        }
        if seen {
            Sighting::Seen {
                copy: copy.is_some(),
                newcomers: audience.without(reached),
            }
        } else {
            Sighting::New
        }
    }

    /// Whether the delivery is new to a session of one client (see [`Dedup::sighting`]).
    pub fn first_sighting(&mut self, identity: &Identity, now: u64) -> bool {
        self.sighting(identity, now, Audience::of(0)) == Sighting::New
    }

    fn insert(&mut self, key: u64, now: u64, audience: Audience) {
        if self.seen.contains(key) {
            // Known: only who it reached grows; its age stays.
            self.seen.insert(key, audience.bits());
            return;
        }
        if self.order.len() == self.config.capacity {
            if let Some((old, _)) = self.order.pop_front() {
                self.seen.remove(old);
            }
        }
        self.seen.insert(key, audience.bits());
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
        let mut dedup = Dedup::new(DedupConfig::default(), 7);
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
        let mut dedup = Dedup::new(
            DedupConfig {
                capacity: 10,
                ttl_ms: 100,
            },
            7,
        );
        assert!(dedup.first_sighting(&id(1, None), 0));
        assert!(!dedup.first_sighting(&id(1, None), 99));
        assert!(
            dedup.first_sighting(&id(1, None), 100),
            "forgotten at the TTL"
        );
        assert_eq!(dedup.len(), 1);
    }

    #[test]
    fn the_key_set_survives_churn_in_fixed_memory() {
        let mut set = KeySet::new(64);
        let mut live = std::collections::VecDeque::new();
        let mut x: u64 = 1;
        for _ in 0..100_000 {
            // Small keys collide in their home slots, exercising long probe runs and wrap-around.
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let key = x >> 58;
            if set.contains(key) {
                continue;
            }
            assert!(set.insert(key, 0));
            live.push_back(key);
            if live.len() == 64 {
                set.remove(live.pop_front().unwrap());
            }
            for k in &live {
                assert!(set.contains(*k));
            }
            assert_eq!(set.len, live.len());
        }
        assert_eq!(set.slots.len(), 128);
    }

    #[test]
    fn capacity_forgets_the_oldest_first() {
        let mut dedup = Dedup::new(
            DedupConfig {
                capacity: 3,
                ttl_ms: u64::MAX,
            },
            7,
        );
        for n in 10..15 {
            assert!(dedup.first_sighting(&id(n, None), n));
            assert!(dedup.len() <= 3);
        }
        assert!(
            !dedup.first_sighting(&id(14, None), 20),
            "the newest is remembered"
        );
        assert!(
            dedup.first_sighting(&id(10, None), 20),
            "the oldest fell out"
        );
    }

    #[test]
    fn a_sighting_says_whether_this_very_copy_was_seen() {
        let mut dedup = Dedup::new(DedupConfig::default(), 3);
        let one = Audience::of(0);
        assert_eq!(dedup.sighting(&id(1, Some("list")), 0, one), Sighting::New);
        assert_eq!(
            dedup.sighting(&id(1, Some("detail")), 1, one),
            Sighting::Seen {
                copy: false,
                newcomers: Audience::NONE
            },
            "the same event on another topic"
        );
        assert_eq!(
            dedup.sighting(&id(1, Some("list")), 2, one),
            Sighting::Seen {
                copy: true,
                newcomers: Audience::NONE
            },
            "a replay of the copy already seen"
        );
    }

    #[test]
    fn an_event_seen_by_one_client_is_new_to_the_clients_it_had_not_reached() {
        let mut dedup = Dedup::new(DedupConfig::default(), 3);
        let (list_tab, detail_tab, both) = (Audience::of(1), Audience::of(2), Audience::of(3));
        // On the list feed: the list tab and the tab holding both get it.
        let list = list_tab.with(both);
        assert_eq!(dedup.sighting(&id(1, Some("list")), 0, list), Sighting::New);
        // On the detail feed: new only to the detail tab.
        assert_eq!(
            dedup.sighting(&id(1, Some("detail")), 1, detail_tab.with(both)),
            Sighting::Seen {
                copy: false,
                newcomers: detail_tab
            }
        );
        // Replays of either copy reach no one again.
        for (copy, audience) in [("list", list), ("detail", detail_tab.with(both))] {
            assert_eq!(
                dedup.sighting(&id(1, Some(copy)), 2, audience),
                Sighting::Seen {
                    copy: true,
                    newcomers: Audience::NONE
                }
            );
        }
        assert_eq!(dedup.len(), 3, "one key per meta.id and the natural key");
    }

    /// The longest run of occupied slots a lookup may walk.
    fn longest_run(set: &KeySet) -> usize {
        let (mut longest, mut run) = (0, 0);
        for &(slot, _) in set.slots.iter().chain(set.slots.iter()) {
            run = if slot == EMPTY { 0 } else { run + 1 };
            longest = longest.max(run);
        }
        longest
    }

    #[test]
    fn crafted_keys_sharing_their_low_bits_do_not_make_long_probe_runs() {
        // 4,000 keys that all have the same low 20 bits: unseeded, every one would probe from
        // the same home slot. An attacker who can choose ids can make such keys; without the
        // session's seed he cannot choose where they land.
        let crafted: Vec<u64> = (0..4_000u64).map(|i| (i << 20) | 0x5_a5a5).collect();
        let mut unseeded = KeySet::new(4_000);
        for &k in &crafted {
            unseeded.insert(k, 0);
        }
        assert!(longest_run(&unseeded) >= 4_000, "the attack works unseeded");
        let mut dedup = Dedup::new(
            DedupConfig {
                capacity: 8_000,
                ttl_ms: u64::MAX,
            },
            0x1234_5678_9abc_def0,
        );
        for &k in &crafted {
            assert!(dedup.first_sighting(
                &Identity {
                    natural: k,
                    meta: None
                },
                0
            ));
        }
        let run = longest_run(&dedup.seen);
        assert!(run < 64, "longest probe run {run}");
    }
}
