//! The things on the floor: tables, players, visits and slips, what one event to publish looks
//! like, and the seeded generator and formats the floor uses.

use casino_realtime::json::{self, Value};

/// The SDK's seeded generator (the one its backoff jitter uses), with what the scenario needs.
#[derive(Debug, Clone)]
pub struct Rng(casino_realtime::session::Rng);

impl Rng {
    /// A generator for `seed`.
    pub fn new(seed: u64) -> Self {
        Rng(casino_realtime::session::Rng::new(seed))
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
    }

    /// A number in `0..n` (0 when n is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next_u64() % n as u64) as usize
        }
    }

    /// True with probability `pct` percent.
    pub fn chance(&mut self, pct: u32) -> bool {
        self.below(100) < pct as usize
    }

    /// A random version-4 uuid.
    pub fn uuid(&mut self) -> String {
        let (a, b) = (self.next_u64(), self.next_u64());
        format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xfff,
            0x8000 | (b >> 48) & 0x3fff,
            b & 0xffff_ffff_ffff
        )
    }
}

/// RFC 3339 UTC with milliseconds, from ms since the epoch.
pub use casino_realtime::catalog::format_timestamp as iso;

/// The calendar date `YYYY-MM-DD` of ms since the epoch.
pub fn date(ms: i64) -> String {
    iso(ms)[..10].to_owned()
}

/// Builds a JSON object from `name => value` pairs.
macro_rules! obj {
    ($($name:literal => $value:expr),* $(,)?) => {
        Value::Object(vec![$(($name.to_owned(), Value::from($value))),*])
    };
}

pub(super) fn dec(x: f64) -> Value {
    json::parse(&format!("{x:.2}")).unwrap_or(Value::Null)
}

pub(super) fn opt(value: &Option<String>) -> Value {
    value.as_deref().map_or(Value::Null, Value::from)
}

/// One event to publish, on the channels the catalog names for it.
#[derive(Debug, Clone, PartialEq)]
pub struct Publication {
    /// The catalog event.
    pub event: &'static str,
    /// Its payload.
    pub payload: Value,
    /// Sub-topics: `{casino_id}` and/or `{casino_id}:{resource_id}`.
    pub topics: Vec<String>,
}

pub(super) const GAMES: [&str; 4] = ["blackjack", "poker", "roulette", "baccarat"];
pub(super) const DENOMINATIONS: [&str; 5] = ["1", "5", "25", "100", "500"];
pub(super) const TIERS: [&str; 4] = ["bronze", "silver", "gold", "platinum"];

/// A gaming table.
#[derive(Debug, Clone)]
pub struct Table {
    /// Its id.
    pub id: String,
    /// Its label, e.g. `BJ-03`.
    pub label: String,
    /// Its game.
    pub game: &'static str,
    /// Its pit (index into the layout's pits).
    pub pit: usize,
    /// In service.
    pub active: bool,
    /// The open fill request, if any.
    pub fill: Option<(String, i64)>,
    /// The open credit request, if any.
    pub credit: Option<(String, i64)>,
    /// The drop box removed and not yet delivered, if any.
    pub drop: Option<String>,
    /// Drops so far.
    pub drops: i64,
    /// Chips by denomination.
    pub chips: Vec<(String, i64)>,
    /// Fills completed.
    pub fills: i64,
    /// Credits completed.
    pub credits: i64,
}

/// A player.
#[derive(Debug, Clone)]
pub struct Player {
    /// Its id.
    pub id: String,
    /// Loyalty points.
    pub balance: i64,
    /// Loyalty tier.
    pub tier: &'static str,
    /// The current visit, if any.
    pub visit: Option<String>,
}

/// A visit.
#[derive(Debug, Clone)]
pub struct Visit {
    /// Its id.
    pub id: String,
    /// The player (index), none for a ghost visit.
    pub player: Option<usize>,
    /// `reward_identified`, `gaming_identified_rated` or `gaming_ghost_unrated`.
    pub kind: &'static str,
    /// When it started.
    pub started_at: String,
    /// Its open rating slip, if any.
    pub slip: Option<String>,
}

/// A rating slip.
#[derive(Debug, Clone)]
pub struct Slip {
    /// Its id.
    pub id: String,
    /// Its visit.
    pub visit: String,
    /// Its table (index).
    pub table: usize,
    /// Minutes played.
    pub minutes: i64,
    /// Average bet.
    pub average_bet: f64,
    /// `open` or `paused`.
    pub status: &'static str,
}
