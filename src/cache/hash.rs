//! A query key's 64-bit hash (FxHash, finished so both ends of it are mixed), for the batcher's
//! tables. std's `HashMap` linked hashbrown and SipHash into the wasm and ran SipHash over every
//! key of every event; the batcher keys the dedup filter's table by this hash instead. Those
//! tables are bounded, so keys from a hostile publisher can at worst make probing slow, never
//! memory grow.

use super::action::KeyPart;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::Number;

    #[test]
    fn equal_keys_hash_alike_and_a_prefix_differs() {
        let key = [KeyPart::from("visit"), KeyPart::from("list"), KeyPart::Null];
        assert_eq!(key_hash(&key), key_hash(&key.clone()));
        assert_ne!(key_hash(&key[..1]), key_hash(&key[..2]));
        assert_ne!(key_hash(&key[..2]), key_hash(&key));
        // As KeyPart's equality has it: 0 and -0 are one key.
        let zero = |text: &str| [KeyPart::Num(Number::from_lexeme(text).unwrap())];
        assert_eq!(key_hash(&zero("0")), key_hash(&zero("-0")));
    }
}
