//! A casino floor living through a shift: pits and tables, players arriving and leaving, visits,
//! rating slips, rewards, buy-ins, fills, credits and drops. Every catalog event comes out of
//! it with payloads that agree with each other (a slip's visit exists, a completed fill was
//! requested, a balance is the sum of its ledger). Deterministic for a seed and a start time.
//!
//! `model` holds the things on the floor, `tables` the tables and their chip custody, `players`
//! the players, their visits, slips and rewards, and `driver` which action comes next.

// `obj!` (in model) is used by the modules declared after it.
#[macro_use]
mod model;
mod driver;
mod players;
mod tables;

pub use model::{date, iso, Player, Publication, Rng, Slip, Table, Visit};

use casino_realtime::json::Value;
use model::{DENOMINATIONS, GAMES, TIERS};
use std::collections::VecDeque;

/// The floor.
#[derive(Debug, Clone)]
pub struct Floor {
    rng: Rng,
    /// The casino.
    pub casino: String,
    clock_ms: i64,
    tick_ms: i64,
    ticks: u64,
    /// Pits: (id, label).
    pub pits: Vec<(String, String)>,
    /// Tables.
    pub tables: Vec<Table>,
    /// Players.
    pub players: Vec<Player>,
    /// Open visits.
    pub visits: Vec<Visit>,
    /// Open rating slips.
    pub slips: Vec<Slip>,
    staff: Vec<String>,
    outbox: VecDeque<String>,
    queue: VecDeque<Publication>,
}

impl Floor {
    /// A floor of `tables` tables and `players` players, whose clock starts at `start_ms` and
    /// advances `tick_ms` per event. It opens with the layout, the tables and their inventories.
    pub fn new(
        seed: u64,
        casino: &str,
        start_ms: i64,
        tick_ms: i64,
        tables: usize,
        players: usize,
    ) -> Floor {
        let mut rng = Rng::new(seed);
        let pits: Vec<(String, String)> = ["Pit A", "Pit B", "Pit C"]
            .iter()
            .map(|l| (rng.uuid(), (*l).to_owned()))
            .collect();
        let tables = (0..tables.max(1))
            .map(|i| {
                let game = GAMES[i % GAMES.len()];
                let prefix = &game[..2].to_uppercase();
                Table {
                    id: rng.uuid(),
                    label: format!("{prefix}-{:02}", i + 1),
                    game,
                    pit: i % pits.len(),
                    active: false,
                    fill: None,
                    credit: None,
                    drop: None,
                    drops: 0,
                    chips: DENOMINATIONS
                        .iter()
                        .map(|d| ((*d).to_owned(), 100 + rng.below(100) as i64))
                        .collect(),
                    fills: 0,
                    credits: 0,
                }
            })
            .collect();
        let players = (0..players.max(1))
            .map(|i| Player {
                id: rng.uuid(),
                balance: 500 + rng.below(5000) as i64,
                tier: TIERS[i % TIERS.len()],
                visit: None,
            })
            .collect();
        let staff = (0..6).map(|_| rng.uuid()).collect();
        let mut floor = Floor {
            rng,
            casino: casino.to_owned(),
            clock_ms: start_ms,
            tick_ms,
            ticks: 0,
            pits,
            tables,
            players,
            visits: Vec::new(),
            slips: Vec::new(),
            staff,
            outbox: VecDeque::new(),
            queue: VecDeque::new(),
        };
        floor.activate_layout();
        for t in 0..floor.tables.len() {
            floor.activate_table(t);
            floor.inventory(t, "table.inventory_open");
        }
        floor
    }

    /// The floor's clock, ms since the epoch.
    pub fn now_ms(&self) -> i64 {
        self.clock_ms
    }

    fn at(&self) -> String {
        iso(self.clock_ms)
    }

    fn staff(&mut self) -> String {
        let i = self.rng.below(self.staff.len());
        self.staff[i].clone()
    }

    fn maybe_staff(&mut self) -> Option<String> {
        if self.rng.chance(85) {
            Some(self.staff())
        } else {
            None
        }
    }

    /// Queues an event for the channels the catalog names for it.
    fn publish(&mut self, event: &'static str, payload: Value) {
        let topics = casino_realtime::catalog::EventKind::from_name(event)
            .map(|kind| crate::topics::topics(kind, &payload))
            .unwrap_or_default();
        self.queue.push_back(Publication {
            event,
            payload,
            topics,
        });
    }

    fn rated(&self, slip: &Slip) -> bool {
        self.visits
            .iter()
            .any(|v| v.id == slip.visit && v.player.is_some())
    }

    fn pick<T>(&mut self, items: &[T], ok: impl Fn(&T) -> bool) -> Option<usize> {
        let candidates: Vec<usize> = (0..items.len()).filter(|&i| ok(&items[i])).collect();
        (!candidates.is_empty()).then(|| candidates[self.rng.below(candidates.len())])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_instants() {
        assert_eq!(iso(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso(1_766_225_700_123), "2025-12-20T10:15:00.123Z");
        assert_eq!(date(951_782_400_000), "2000-02-29");
    }

    #[test]
    fn uuids_are_version_4() {
        let mut rng = Rng::new(1);
        let id = rng.uuid();
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "4");
        assert!(matches!(&id[19..20], "8" | "9" | "a" | "b"), "{id}");
    }
}
