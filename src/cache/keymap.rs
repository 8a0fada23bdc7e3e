//! A map from query keys to values for the batcher: open addressing, linear probing, deletion by
//! backward shift (no tombstones), hashed with FxHash. std's `HashMap` linked hashbrown and
//! SipHash into the wasm and ran SipHash over every key of every event; this is a fraction of
//! both. Its sizes are bounded by the batcher (a window's actions, the writes it remembers), so
//! keys from a hostile publisher can at worst make probing slow, never memory grow.

use super::action::{KeyPart, QueryKey};
use std::hash::{Hash, Hasher};

/// FxHash (rustc's): a rotate, xor and multiply per word.
struct Fx(u64);

impl Fx {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

impl Hasher for Fx {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
    }

    fn write_u8(&mut self, n: u8) {
        self.add(u64::from(n));
    }

    fn write_u64(&mut self, n: u64) {
        self.add(n);
    }

    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }
}

/// The key's 64-bit hash.
pub fn key_hash(key: &[KeyPart]) -> u64 {
    let mut h = Fx(0);
    key.hash(&mut h);
    // Fx leaves its low bits weak: mix the high ones down (tables index by either end).
    let x = h.0.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    x ^ (x >> 32)
}

struct Slot<V> {
    hash: u64,
    key: QueryKey,
    value: V,
}

/// Query key to `V`.
pub struct KeyMap<V> {
    slots: Vec<Option<Slot<V>>>,
    len: usize,
}

impl<V> Default for KeyMap<V> {
    fn default() -> Self {
        KeyMap {
            slots: Vec::new(),
            len: 0,
        }
    }
}

impl<V> KeyMap<V> {
    /// Entries held.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn home(&self, hash: u64) -> usize {
        (hash >> 32) as usize & (self.slots.len() - 1)
    }

    /// The slot holding `key` (`Ok`), or the empty one where it would go (`Err`). The table
    /// is never full (at most half its slots are used).
    fn find(&self, key: &[KeyPart], hash: u64) -> Result<usize, usize> {
        let mask = self.slots.len() - 1;
        let mut i = self.home(hash);
        loop {
            match &self.slots[i] {
                None => return Err(i),
                Some(s) if s.hash == hash && s.key.0 == key => return Ok(i),
                Some(_) => i = (i + 1) & mask,
            }
        }
    }

    fn slot(&self, key: &[KeyPart]) -> Option<usize> {
        if self.len == 0 {
            return None;
        }
        self.find(key, key_hash(key)).ok()
    }

    /// The value of `key`.
    pub fn get(&self, key: &[KeyPart]) -> Option<&V> {
        let i = self.slot(key)?;
        self.slots[i].as_ref().map(|s| &s.value)
    }

    /// The value of `key`, to change.
    pub fn get_mut(&mut self, key: &[KeyPart]) -> Option<&mut V> {
        let i = self.slot(key)?;
        self.slots[i].as_mut().map(|s| &mut s.value)
    }

    /// Whether `key` is held.
    pub fn contains_key(&self, key: &[KeyPart]) -> bool {
        self.slot(key).is_some()
    }

    /// Sets `key` to `value`.
    pub fn insert(&mut self, key: QueryKey, value: V) {
        if (self.len + 1) * 2 > self.slots.len() {
            self.grow();
        }
        let hash = key_hash(&key.0);
        match self.find(&key.0, hash) {
            Ok(i) => {
                if let Some(slot) = self.slots[i].as_mut() {
                    slot.value = value;
                }
            }
            Err(i) => {
                self.slots[i] = Some(Slot { hash, key, value });
                self.len += 1;
            }
        }
    }

    fn grow(&mut self) {
        let size = (self.slots.len() * 2).max(16);
        let old = std::mem::replace(&mut self.slots, (0..size).map(|_| None).collect());
        for slot in old.into_iter().flatten() {
            if let Err(i) = self.find(&slot.key.0, slot.hash) {
                self.slots[i] = Some(slot);
            }
        }
    }

    /// Removes `key`, closing the gap by moving later entries of its probe run back.
    pub fn remove(&mut self, key: &[KeyPart]) -> Option<V> {
        let mut hole = self.slot(key)?;
        let removed = self.slots[hole].take()?;
        self.len -= 1;
        let mask = self.slots.len() - 1;
        let mut i = (hole + 1) & mask;
        while let Some(slot) = &self.slots[i] {
            // It may fill the hole when the hole lies between its home slot and it.
            let from_home = i.wrapping_sub(self.home(slot.hash)) & mask;
            let from_hole = i.wrapping_sub(hole) & mask;
            if from_home >= from_hole {
                self.slots[hole] = self.slots[i].take();
                hole = i;
            }
            i = (i + 1) & mask;
        }
        Some(removed.value)
    }

    /// Removes everything, keeping the table's size.
    pub fn clear(&mut self) {
        if self.len > 0 {
            self.slots.iter_mut().for_each(|s| *s = None);
            self.len = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn key(n: u64) -> QueryKey {
        QueryKey(vec![
            KeyPart::from("k"),
            KeyPart::Str(format!("{}", n % 97)),
            KeyPart::Str(n.to_string()),
        ])
    }

    #[test]
    fn agrees_with_std_hashmap_through_inserts_removes_and_clears() {
        let (mut ours, mut std) = (KeyMap::default(), HashMap::new());
        let mut rng = 0x2545_f491_4f6c_dd1du64;
        for step in 0..200_000u64 {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            let k = key(rng % 3_000);
            match rng % 5 {
                0 | 1 => {
                    ours.insert(k.clone(), step);
                    std.insert(k, step);
                }
                2 => assert_eq!(ours.remove(&k.0), std.remove(&k)),
                3 => {
                    if let (Some(a), Some(b)) = (ours.get_mut(&k.0), std.get_mut(&k)) {
                        *a += 1;
                        *b += 1;
                    }
                }
                _ => assert_eq!(ours.get(&k.0), std.get(&k)),
            }
            if step % 50_000 == 49_999 {
                ours.clear();
                std.clear();
            }
            assert_eq!(ours.len(), std.len());
        }
        for (k, v) in &std {
            assert_eq!(ours.get(&k.0), Some(v));
            assert!(ours.contains_key(&k.0[..]));
        }
        assert!(!ours.contains_key(&key(1_000_000).0));
    }

    #[test]
    fn a_prefix_is_its_own_key() {
        let mut map = KeyMap::default();
        map.insert(QueryKey(vec![KeyPart::from("visit")]), 1);
        let long = QueryKey(vec![KeyPart::from("visit"), KeyPart::from("list")]);
        assert_eq!(map.get(&long.0[..1]), Some(&1));
        assert_eq!(map.get(&long.0), None);
        assert!(!map.is_empty());
    }
}
