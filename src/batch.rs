//! The coalescing window: actions from many events become one batch.
//!
//! The window opens at the first action, closes `debounce_ms` after the latest one, and never
//! later than `max_wait_ms` after it opened, so a steady stream cannot hold updates back. A window
//! holding `max_actions` distinct actions is due at once, so a saturating burst is handed out in
//! pieces and memory follows that bound, not the burst. Within a window:
//! - identical keys appear once (an invalidation keeps the strongest `refetchType`);
//! - an invalidation whose key is a proper prefix of another's absorbs it (TanStack matches by
//!   prefix), unless the longer one refetches more;
//! - data writes to one key keep the newest `at` (merges overlay older fields with newer ones);
//! - a write older than the last one applied to its key, in any earlier batch, is dropped;
//! - a write whose exact key is also invalidated is dropped: the refetch brings the server's
//!   value, so no key appears twice.
//!
//! Pure: the caller passes `now` (milliseconds on any monotonic clock) and arms one timer for
//! [`Batcher::deadline`].

use crate::cache::{key_hash, CacheAction, KeyPart, QueryKey, RefetchType};
use crate::dedup::KeyTable;
use crate::json::{Value, Writer};
use std::collections::VecDeque;

/// Window timing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchConfig {
    /// Quiet time after the latest action before the batch goes out.
    pub debounce_ms: u64,
    /// Longest a window stays open.
    pub max_wait_ms: u64,
    /// Keys whose last applied write time is remembered, to drop late older writes.
    pub write_memory: usize,
    /// Distinct actions after which the window is due at once.
    pub max_actions: usize,
}

impl Default for BatchConfig {
    /// 250 ms debounce, 500 ms cap (the catalog's 250-500 ms), 4,096 remembered keys, batches of
    /// at most 2,000 actions.
    fn default() -> Self {
        BatchConfig {
            debounce_ms: 250,
            max_wait_ms: 500,
            write_memory: 4096,
            max_actions: 2000,
        }
    }
}

/// Why a batch went out: "window" (the window closed), "resync" (a gap could not be replayed;
/// the batch invalidates what the channel feeds), "flush" (`flush()`), "poll" (a channel has
/// been stale for `fallbackPollMs`: the batch refetches what it feeds, active queries only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(
    target_arch = "wasm32",
    derive(tsify::Tsify),
    serde(rename_all = "lowercase")
)]
pub enum BatchReason {
    /// The window closed.
    Window,
    /// A gap could not be replayed; the batch invalidates what the channel feeds.
    Resync,
    /// The app asked (`flush()`).
    Flush,
    /// A channel stayed stale: what it feeds is refetched (active queries) while it is.
    Poll,
}

impl BatchReason {
    /// The JS spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            BatchReason::Window => "window",
            BatchReason::Resync => "resync",
            BatchReason::Poll => "poll",
            BatchReason::Flush => "flush",
        }
    }
}

/// What `onBatch` receives: the cache actions of one coalescing window.
//  Written to JS as JSON by `CacheBatch::to_json`; tsify declares it from this type.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(
    target_arch = "wasm32",
    derive(tsify::Tsify),
    serde(rename_all = "camelCase")
)]
pub struct CacheBatch {
    /// Writes first, then invalidations, each in order of first arrival.
    pub actions: Vec<CacheAction>,
    /// Why it went out.
    pub reason: BatchReason,
    /// Events whose actions were taken since the last batch.
    pub events: u32,
    /// Duplicate deliveries dropped since the last batch.
    pub duplicates: u32,
    /// When the window opened (on the caller's clock; the session hands out wall time, ms since
    /// the epoch).
    pub opened_at: u64,
    /// When it was flushed.
    pub flushed_at: u64,
}

impl CacheBatch {
    /// The JS `CacheBatch` object, as JSON.
    pub fn to_json(&self) -> String {
        let mut out = String::new();
        let mut w = Writer::new(&mut out);
        w.open('{').key("actions").open('[');
        for action in &self.actions {
            action.write(&mut w);
        }
        w.close(']').key("reason").string(self.reason.as_str());
        w.key("events").int(i64::from(self.events));
        w.key("duplicates").int(i64::from(self.duplicates));
        w.key("openedAt").int(self.opened_at as i64);
        w.key("flushedAt").int(self.flushed_at as i64).close('}');
        out
    }
}

/// The last write time applied per key, forgetting the oldest keys past a capacity. Keys are
/// held by their 64-bit hash (a false match, one in 2^64 per write, would drop one write as
/// stale), in a table allocated whole at the start: the memory is fixed by the capacity.
struct AppliedWrites {
    at: KeyTable<i64>,
    order: VecDeque<u64>,
    capacity: usize,
}

impl AppliedWrites {
    fn new(capacity: usize) -> Self {
        AppliedWrites {
            at: KeyTable::allocated(capacity),
            order: VecDeque::with_capacity(capacity),
            capacity,
        }
    }

    /// Whether a write newer than `at` was applied to the key of this hash.
    fn newer_than(&self, hash: u64, at: i64) -> bool {
        self.at.get(hash).is_some_and(|applied| applied > at)
    }

    /// Notes a write at `at` applied to the key of this hash.
    fn record(&mut self, hash: u64, at: i64) {
        if let Some(applied) = self.at.get(hash) {
            self.at.insert(hash, applied.max(at));
            return;
        }
        if self.order.len() >= self.capacity {
            if let Some(old) = self.order.pop_front() {
                self.at.remove(old);
            }
        }
        self.at.insert(hash, at);
        self.order.push_back(hash);
    }
}

/// Where each key of the open window sits in its vector, by the key's hash in the dedup filter's
/// table. A hit is checked against the key stored there, so a hash collision costs at worst one
/// key handed out twice, never a wrong merge. Past `limit` keys (a window is due once it holds
/// `max_actions`; one input may add a few more) a key is only appended, never indexed.
struct KeyIndex {
    table: KeyTable<usize>,
    limit: usize,
}

impl KeyIndex {
    fn new(limit: usize) -> Self {
        KeyIndex {
            table: KeyTable::new(limit),
            limit,
        }
    }

    /// The position in `items` of `key`, whose hash is `hash`.
    fn find<T>(
        &self,
        key: &[KeyPart],
        hash: u64,
        items: &[T],
        key_of: fn(&T) -> &[KeyPart],
    ) -> Option<usize> {
        let i = self.table.get(hash)?;
        items.get(i).filter(|item| key_of(item) == key).map(|_| i)
    }

    fn insert(&mut self, hash: u64, i: usize) {
        if self.table.len() < self.limit {
            self.table.insert(hash, i);
        }
    }

    fn clear(&mut self) {
        if self.table.len() > 0 {
            self.table.clear();
        }
    }
}

fn write_key(write: &CacheAction) -> &[KeyPart] {
    &write.key().0
}

fn invalidation_key(invalidation: &(QueryKey, RefetchType)) -> &[KeyPart] {
    &invalidation.0 .0
}

/// The event time of a data write.
fn write_at(action: &CacheAction) -> i64 {
    match action {
        CacheAction::SetQueryData { at, .. } | CacheAction::MergeQueryData { at, .. } => *at,
        CacheAction::Invalidate { .. } => i64::MIN,
    }
}

/// Two writes to one key as one: the newer wins, and a merge keeps the older's other fields.
fn combine(a: CacheAction, b: CacheAction) -> CacheAction {
    let (older, newer) = if write_at(&b) >= write_at(&a) {
        (a, b)
    } else {
        (b, a)
    };
    match (older, newer) {
        (
            CacheAction::SetQueryData {
                data: Value::Object(mut base),
                ..
            }
            | CacheAction::MergeQueryData { data: mut base, .. },
            CacheAction::MergeQueryData { key, data, at },
        ) => {
            for (name, value) in data {
                match base.iter_mut().find(|(n, _)| *n == name) {
                    Some(slot) => slot.1 = value,
                    None => base.push((name, value)),
                }
            }
            CacheAction::MergeQueryData {
                key,
                data: base,
                at,
            }
        }
        (_, newer) => newer,
    }
}

struct Window {
    opened_at: u64,
    last_push: u64,
    /// It carries a resync's (or a poll's) invalidations: the batch says so; a resync wins.
    mark: Option<BatchReason>,
}

/// The coalescing window.
pub struct Batcher {
    config: BatchConfig,
    window: Option<Window>,
    writes: Vec<CacheAction>,
    write_index: KeyIndex,
    invalidations: Vec<(QueryKey, RefetchType)>,
    invalidation_index: KeyIndex,
    events: u32,
    duplicates: u32,
    stale_writes: u64,
    applied: AppliedWrites,
}

impl Batcher {
    /// An empty batcher. `max_wait_ms` below `debounce_ms` is raised to it.
    pub fn new(config: BatchConfig) -> Self {
        let config = BatchConfig {
            max_wait_ms: config.max_wait_ms.max(config.debounce_ms),
            max_actions: config.max_actions.max(1),
            ..config
        };
        Batcher {
            config,
            window: None,
            writes: Vec::new(),
            write_index: KeyIndex::new(2 * config.max_actions),
            invalidations: Vec::new(),
            invalidation_index: KeyIndex::new(2 * config.max_actions),
            events: 0,
            duplicates: 0,
            stale_writes: 0,
            applied: AppliedWrites::new(config.write_memory.max(1)),
        }
    }

    /// The configuration in force.
    pub fn config(&self) -> BatchConfig {
        self.config
    }

    /// Adds one event's actions at `now`.
    pub fn push(&mut self, actions: Vec<CacheAction>, now: u64) {
        self.events += 1;
        self.take(actions, now);
    }

    /// Adds a resync's invalidations (they come from no event): the batch that carries them is
    /// marked `resync`.
    pub fn push_resync(&mut self, actions: Vec<CacheAction>, now: u64) {
        self.push_marked(actions, now, BatchReason::Resync);
    }

    /// Adds a poll's invalidations: the batch is marked `poll` (unless a resync is in it too).
    pub fn push_poll(&mut self, actions: Vec<CacheAction>, now: u64) {
        self.push_marked(actions, now, BatchReason::Poll);
    }

    fn push_marked(&mut self, actions: Vec<CacheAction>, now: u64, mark: BatchReason) {
        if self.take(actions, now) {
            if let Some(window) = self.window.as_mut() {
                if window.mark != Some(BatchReason::Resync) {
                    window.mark = Some(mark);
                }
            }
        }
    }

    fn take(&mut self, actions: Vec<CacheAction>, now: u64) -> bool {
        let mut added = false;
        for action in actions {
            added |= self.add(action);
        }
        if added {
            let window = self.window.get_or_insert(Window {
                opened_at: now,
                last_push: now,
                mark: None,
            });
            window.last_push = window.last_push.max(now);
        }
        added
    }

    fn add(&mut self, action: CacheAction) -> bool {
        // Hashed once for the window's index and the applied writes.
        let hash = key_hash(&action.key().0);
        match action {
            CacheAction::Invalidate { key, refetch } => {
                let index = &mut self.invalidation_index;
                match index.find(&key.0, hash, &self.invalidations, invalidation_key) {
                    Some(i) => self.invalidations[i].1 = self.invalidations[i].1.max(refetch),
                    None => {
                        index.insert(hash, self.invalidations.len());
                        self.invalidations.push((key, refetch));
                    }
                }
                true
            }
            write => {
                if self.applied.newer_than(hash, write_at(&write)) {
                    self.stale_writes += 1;
                    return false;
                }
                match self
                    .write_index
                    .find(&write.key().0, hash, &self.writes, write_key)
                {
                    Some(i) => {
                        // A placeholder that allocates nothing while the two are combined.
                        let empty = CacheAction::Invalidate {
                            key: QueryKey(Vec::new()),
                            refetch: RefetchType::None,
                        };
                        let old = std::mem::replace(&mut self.writes[i], empty);
                        self.writes[i] = combine(old, write);
                    }
                    None => {
                        self.write_index.insert(hash, self.writes.len());
                        self.writes.push(write);
                    }
                }
                true
            }
        }
    }

    /// Counts a duplicate dropped before it reached the rules.
    pub fn note_duplicate(&mut self) {
        self.duplicates += 1;
    }

    /// Writes dropped because a newer write to their key was already applied.
    pub fn stale_writes(&self) -> u64 {
        self.stale_writes
    }

    /// When the open window must be flushed; `None` when nothing is pending. A full window was
    /// due when it opened.
    pub fn deadline(&self) -> Option<u64> {
        self.window.as_ref().map(|w| {
            if self.writes.len() + self.invalidations.len() >= self.config.max_actions {
                return w.opened_at;
            }
            (w.last_push + self.config.debounce_ms).min(w.opened_at + self.config.max_wait_ms)
        })
    }

    /// The batch, if the window's deadline has come.
    pub fn poll(&mut self, now: u64) -> Option<CacheBatch> {
        match self.deadline() {
            Some(deadline) if deadline <= now => self.flush(now, BatchReason::Window),
            _ => None,
        }
    }

    /// Everything pending, now; `None` when there is nothing to do.
    pub fn flush(&mut self, now: u64, reason: BatchReason) -> Option<CacheBatch> {
        let window = self.window.take()?;
        self.write_index.clear();
        let invalidations = std::mem::take(&mut self.invalidations);
        let mut actions: Vec<CacheAction> =
            Vec::with_capacity(self.writes.len() + invalidations.len());
        for write in self.writes.drain(..) {
            let key = &write.key().0;
            let hash = key_hash(key);
            if (self
                .invalidation_index
                .find(key, hash, &invalidations, invalidation_key))
            .is_some()
            {
                continue;
            }
            self.applied.record(hash, write_at(&write));
            actions.push(write);
        }
        let absorbed: Vec<bool> = invalidations
            .iter()
            .map(|(key, refetch)| {
                (1..key.0.len()).any(|len| {
                    let prefix = &key.0[..len];
                    let at = self.invalidation_index.find(
                        prefix,
                        key_hash(prefix),
                        &invalidations,
                        invalidation_key,
                    );
                    at.is_some_and(|i| invalidations[i].1 >= *refetch)
                })
            })
            .collect();
        for ((key, refetch), absorbed) in invalidations.into_iter().zip(absorbed) {
            if !absorbed {
                actions.push(CacheAction::Invalidate { key, refetch });
            }
        }
        self.invalidation_index.clear();
        let batch = CacheBatch {
            actions,
            reason: window.mark.unwrap_or(reason),
            events: std::mem::take(&mut self.events),
            duplicates: std::mem::take(&mut self.duplicates),
            opened_at: window.opened_at,
            flushed_at: now,
        };
        Some(batch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn key(n: u64) -> QueryKey {
        QueryKey(vec![
            KeyPart::from("k"),
            KeyPart::Str((n % 97).to_string()),
            KeyPart::Str(n.to_string()),
        ])
    }

    fn own_key(k: &QueryKey) -> &[KeyPart] {
        &k.0
    }

    #[test]
    fn the_key_index_agrees_with_std_hashmap_through_windows() {
        let mut index = KeyIndex::new(4_000);
        let (mut items, mut std): (Vec<QueryKey>, HashMap<QueryKey, usize>) = Default::default();
        let mut rng = 0x2545_f491_4f6c_dd1du64;
        for step in 0..200_000u64 {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            let k = key(rng % 3_000);
            let found = index.find(&k.0, key_hash(&k.0), &items, own_key);
            assert_eq!(found, std.get(&k).copied(), "step {step}");
            if found.is_none() {
                index.insert(key_hash(&k.0), items.len());
                std.insert(k.clone(), items.len());
                items.push(k);
            }
            // A window flushed.
            if step % 2_000 == 1_999 {
                index.clear();
                items.clear();
                std.clear();
            }
        }
    }

    #[test]
    fn an_index_entry_is_checked_against_the_key_it_points_at() {
        let mut index = KeyIndex::new(16);
        index.insert(key_hash(&key(1).0), 0);
        assert_eq!(
            index.find(&key(1).0, key_hash(&key(1).0), &[key(1)], own_key),
            Some(0)
        );
        // The slot says 0, but what sits at 0 is another key: no match, no wrong merge.
        assert_eq!(
            index.find(&key(1).0, key_hash(&key(1).0), &[key(2)], own_key),
            None
        );
        assert_eq!(
            index.find(&key(1).0, key_hash(&key(1).0), &[] as &[QueryKey], own_key),
            None
        );
    }

    #[test]
    fn past_its_limit_the_index_only_stops_growing() {
        let mut index = KeyIndex::new(8);
        let items: Vec<QueryKey> = (0..20).map(key).collect();
        for (i, k) in items.iter().enumerate() {
            index.insert(key_hash(&k.0), i);
        }
        assert_eq!(index.table.len(), 8);
        let indexed = items
            .iter()
            .filter(|k| index.find(&k.0, key_hash(&k.0), &items, own_key).is_some())
            .count();
        assert_eq!(indexed, 8);
    }
}
