//! Event identity: what makes two deliveries "the same event".
//!
//! docs/design.md defines it as the Realtime `meta.id` when the message has one, else
//! `event + casino_id + primary id + at`. Supabase stores a broadcast once per topic, so the copy of
//! an event on the list feed and the copy on a detail feed carry different `meta.id`s; to apply
//! such an event once, an [`Identity`] holds both keys and a delivery is a replay when either was
//! seen. Keys are 64-bit hashes: with the dedup capacity in the tens of thousands, the chance of a
//! false match is below one in 10^10.

/// FNV-1a, 64 bits: tiny, and good enough for keys that are themselves mostly random uuids.
#[derive(Debug, Clone)]
pub struct IdentityHasher(u64);

impl IdentityHasher {
    /// A hasher seeded with a domain string, so that keys of different kinds never collide by
    /// construction (a `meta.id` equal to some natural key, say).
    pub fn new(domain: &str) -> Self {
        let mut hasher = IdentityHasher(0xcbf2_9ce4_8422_2325);
        hasher.write(domain.as_bytes());
        hasher.write(b"\0");
        hasher
    }

    /// Feeds bytes.
    pub fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }

    /// The key, with a final mix so that nearby inputs spread over all 64 bits.
    pub fn finish(&self) -> u64 {
        let mut x = self.0;
        x ^= x >> 33;
        x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
        x ^= x >> 33;
        x
    }
}

/// The keys by which a delivery is recognised as one already applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Identity {
    /// `event + casino_id + primary id + at`, from the payload.
    pub natural: u64,
    /// The Realtime `meta.id`, when the message carried one.
    pub meta: Option<u64>,
}

impl Identity {
    /// The identity of an event with this natural key, delivered with this `meta.id`.
    pub fn new(natural: u64, meta_id: Option<&str>) -> Self {
        let meta = meta_id.map(|id| {
            let mut hasher = IdentityHasher::new("meta.id");
            hasher.write(id.as_bytes());
            hasher.finish()
        });
        Identity { natural, meta }
    }

    /// The keys to look up and remember.
    pub fn keys(&self) -> impl Iterator<Item = u64> {
        std::iter::once(self.natural).chain(self.meta)
    }
}
