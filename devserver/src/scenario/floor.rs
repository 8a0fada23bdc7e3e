//! A casino floor living through a shift: pits and tables, players arriving and leaving, visits,
//! rating slips, rewards, buy-ins, fills, credits and drops. Every catalog event comes out of
//! it with payloads that agree with each other (a slip's visit exists, a completed fill was
//! requested, a balance is the sum of its ledger). Deterministic for a seed and a start time.

use casino_realtime::json::{self, Value};
use std::collections::VecDeque;

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

fn dec(x: f64) -> Value {
    json::parse(&format!("{x:.2}")).unwrap_or(Value::Null)
}

fn opt(value: &Option<String>) -> Value {
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

const GAMES: [&str; 4] = ["blackjack", "poker", "roulette", "baccarat"];
const DENOMINATIONS: [&str; 5] = ["1", "5", "25", "100", "500"];
const TIERS: [&str; 4] = ["bronze", "silver", "gold", "platinum"];

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

    fn publish(&mut self, event: &'static str, payload: Value, detail: Option<&str>, list: bool) {
        let mut topics = Vec::new();
        if list {
            topics.push(self.casino.clone());
        }
        if let Some(resource) = detail {
            topics.push(format!("{}:{resource}", self.casino));
        }
        self.queue.push_back(Publication {
            event,
            payload,
            topics,
        });
    }

    /// The next event, advancing the clock by one tick.
    pub fn next_publication(&mut self) -> Publication {
        while self.queue.is_empty() {
            self.act();
        }
        self.ticks += 1;
        self.clock_ms += self.tick_ms;
        self.queue.pop_front().unwrap_or_else(|| unreachable!())
    }

    fn act(&mut self) {
        // Every 500 ticks the layout is re-activated (a new version) and a shift changes at one
        // table; otherwise one weighted action among those possible now.
        if self.ticks > 0 && self.ticks % 500 == 0 && self.queue.is_empty() {
            self.activate_layout();
            let t = self.rng.below(self.tables.len());
            if self.tables[t].active {
                self.inventory(t, "table.inventory_close");
                self.inventory(t, "table.inventory_open");
            }
            return;
        }
        let idle = (0..self.players.len())
            .filter(|&p| self.players[p].visit.is_none())
            .count();
        let seatable = self
            .visits
            .iter()
            .filter(|v| v.slip.is_none() && v.kind != "reward_identified")
            .count();
        let active = self.tables.iter().filter(|t| t.active).count();
        let weights = [
            (10 * usize::from(idle > 0), Action::Arrive),
            (
                2 * usize::from(self.visits.iter().filter(|v| v.player.is_none()).count() < 4),
                Action::GhostArrive,
            ),
            (
                3 * usize::from(self.visits.iter().any(|v| v.kind == "reward_identified")),
                Action::Convert,
            ),
            (
                8 * usize::from(seatable > 0 && active > 0),
                Action::OpenSlip,
            ),
            (25 * usize::from(!self.slips.is_empty()), Action::UpdateSlip),
            (6 * usize::from(!self.slips.is_empty()), Action::CloseSlip),
            (
                3 * usize::from(self.slips.iter().any(|s| self.rated(s))),
                Action::MidSessionReward,
            ),
            (
                5 * usize::from(self.visits.iter().any(|v| v.player.is_some())),
                Action::BuyIn,
            ),
            (
                4 * usize::from(!self.outbox.is_empty()),
                Action::OutboxProcessed,
            ),
            (
                5 * usize::from(self.visits.iter().any(|v| v.slip.is_none())),
                Action::Leave,
            ),
            (
                3 * usize::from(self.tables.iter().any(|t| t.active && t.fill.is_none())),
                Action::RequestFill,
            ),
            (
                3 * usize::from(self.tables.iter().any(|t| t.fill.is_some())),
                Action::CompleteFill,
            ),
            (
                2 * usize::from(self.tables.iter().any(|t| t.active && t.credit.is_none())),
                Action::RequestCredit,
            ),
            (
                2 * usize::from(self.tables.iter().any(|t| t.credit.is_some())),
                Action::CompleteCredit,
            ),
            (
                2 * usize::from(self.tables.iter().any(|t| t.active && t.drop.is_none())),
                Action::RemoveDrop,
            ),
            (
                2 * usize::from(self.tables.iter().any(|t| t.drop.is_some())),
                Action::DeliverDrop,
            ),
            (2 * usize::from(active > 0), Action::Rundown),
            (
                usize::from(active > self.tables.len() / 2),
                Action::Deactivate,
            ),
            (
                2 * usize::from(active < self.tables.len()),
                Action::Activate,
            ),
        ];
        let total: usize = weights.iter().map(|(w, _)| w).sum();
        let mut pick = self.rng.below(total.max(1));
        for (weight, action) in weights {
            if pick < weight {
                self.perform(action);
                return;
            }
            pick -= weight;
        }
        // Nothing possible (cannot happen with at least one player): bring a table back.
        self.perform(Action::Activate);
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

    fn perform(&mut self, action: Action) {
        match action {
            Action::Arrive => self.arrive(false),
            Action::GhostArrive => self.arrive(true),
            Action::Convert => self.convert(),
            Action::OpenSlip => self.open_slip(),
            Action::UpdateSlip => self.update_slip(),
            Action::CloseSlip => self.close_slip(),
            Action::MidSessionReward => self.mid_session_reward(),
            Action::BuyIn => self.buy_in(),
            Action::OutboxProcessed => self.outbox_processed(),
            Action::Leave => self.leave(),
            Action::RequestFill => self.request_fill(),
            Action::CompleteFill => self.complete_fill(),
            Action::RequestCredit => self.request_credit(),
            Action::CompleteCredit => self.complete_credit(),
            Action::RemoveDrop => self.remove_drop(),
            Action::DeliverDrop => self.deliver_drop(),
            Action::Rundown => self.rundown(),
            Action::Deactivate => self.deactivate(),
            Action::Activate => {
                if let Some(t) = self.pick(&self.tables.clone(), |t| !t.active) {
                    self.activate_table(t);
                    self.inventory(t, "table.inventory_open");
                }
            }
        }
    }

    fn activate_layout(&mut self) {
        let pits: Vec<Value> = self
            .pits
            .iter()
            .enumerate()
            .map(|(i, (id, label))| obj! { "pit_id" => id.as_str(), "label" => label.as_str(), "sequence" => i as i64 + 1 })
            .collect();
        let slots: Vec<Value> = self
            .tables
            .iter()
            .enumerate()
            .map(|(i, t)| {
                obj! {
                    "slot_id" => format!("slot-{:02}", i + 1),
                    "slot_label" => t.label.as_str(),
                    "game_type" => t.game,
                    "pit_id" => self.pits[t.pit].0.as_str(),
                    "preferred_table_id" => t.id.as_str(),
                }
            })
            .collect();
        let (layout, version, by) = (self.rng.uuid(), self.rng.uuid(), self.staff());
        let payload = obj! {
            "event" => "floor_layout.activated", "casino_id" => self.casino.as_str(), "layout_id" => layout,
            "layout_version_id" => version, "activated_by" => by, "activated_at" => self.at(),
            "pits" => Value::Array(pits), "table_slots" => Value::Array(slots), "at" => self.at(),
        };
        self.publish("floor_layout.activated", payload, None, true);
    }

    fn activate_table(&mut self, t: usize) {
        self.tables[t].active = true;
        let table = &self.tables[t];
        let payload = obj! {
            "event" => "table.activated", "casino_id" => self.casino.as_str(), "table_id" => table.id.as_str(),
            "label" => table.label.as_str(), "type" => table.game, "pit" => self.pits[table.pit].1.as_str(), "at" => self.at(),
        };
        self.publish("table.activated", payload, None, true);
    }

    fn chipset(&self, t: usize) -> Value {
        Value::Object(
            self.tables[t]
                .chips
                .iter()
                .map(|(d, n)| (d.clone(), Value::from(*n)))
                .collect(),
        )
    }

    fn inventory(&mut self, t: usize, event: &'static str) {
        let (snapshot, counted, verified) =
            (self.rng.uuid(), self.maybe_staff(), self.maybe_staff());
        let table_id = self.tables[t].id.clone();
        let mut payload = obj! {
            "event" => event, "casino_id" => self.casino.as_str(), "table_id" => table_id.as_str(),
            "snapshot_id" => snapshot, "chipset" => self.chipset(t),
        };
        if let Value::Object(members) = &mut payload {
            if event == "table.inventory_close" {
                members.push((
                    "discrepancy_cents".into(),
                    Value::from(self.rng.below(5) as i64 * 500 - 1000),
                ));
            }
            members.push(("counted_by".into(), opt(&counted)));
            members.push(("verified_by".into(), opt(&verified)));
            members.push(("at".into(), self.at().into()));
        }
        self.publish(event, payload, Some(&table_id), true);
    }

    fn arrive(&mut self, ghost: bool) {
        let visit_id = self.rng.uuid();
        let started = self.at();
        let (player, kind) = if ghost {
            (None, "gaming_ghost_unrated")
        } else {
            let Some(p) = self.pick(&self.players.clone(), |p| p.visit.is_none()) else {
                return;
            };
            self.players[p].visit = Some(visit_id.clone());
            (
                Some(p),
                if self.rng.chance(30) {
                    "reward_identified"
                } else {
                    "gaming_identified_rated"
                },
            )
        };
        let player_id = player.map(|p| self.players[p].id.clone());
        if let Some(pid) = &player_id {
            let payload = obj! {
                "event" => "visit.checked_in", "visit_id" => visit_id.as_str(), "player_id" => pid.as_str(),
                "casino_id" => self.casino.as_str(), "started_at" => started.as_str(), "at" => self.at(),
            };
            self.publish("visit.checked_in", payload, None, true);
        }
        let payload = obj! {
            "event" => "visit.created", "visit_id" => visit_id.as_str(), "casino_id" => self.casino.as_str(),
            "player_id" => opt(&player_id), "visit_kind" => kind, "started_at" => started.as_str(), "at" => self.at(),
        };
        self.publish("visit.created", payload, None, true);
        self.visits.push(Visit {
            id: visit_id,
            player,
            kind,
            started_at: started,
            slip: None,
        });
    }

    fn convert(&mut self) {
        let Some(v) = self.pick(&self.visits.clone(), |v| v.kind == "reward_identified") else {
            return;
        };
        self.visits[v].kind = "gaming_identified_rated";
        let visit = &self.visits[v];
        let player = visit
            .player
            .map(|p| self.players[p].id.clone())
            .unwrap_or_default();
        let payload = obj! {
            "event" => "visit.converted", "visit_id" => visit.id.as_str(), "casino_id" => self.casino.as_str(),
            "player_id" => player, "from_kind" => "reward_identified", "to_kind" => "gaming_identified_rated", "at" => self.at(),
        };
        let id = visit.id.clone();
        self.publish("visit.converted", payload, Some(&id), true);
    }

    fn open_slip(&mut self) {
        let Some(v) = self.pick(&self.visits.clone(), |v| {
            v.slip.is_none() && v.kind != "reward_identified"
        }) else {
            return;
        };
        let Some(t) = self.pick(&self.tables.clone(), |t| t.active) else {
            return;
        };
        let slip = Slip {
            id: self.rng.uuid(),
            visit: self.visits[v].id.clone(),
            table: t,
            minutes: 0,
            average_bet: 10.0 + self.rng.below(40) as f64 * 5.0,
            status: "open",
        };
        self.visits[v].slip = Some(slip.id.clone());
        let payload = obj! {
            "event" => "rating_slip.created", "rating_slip_id" => slip.id.as_str(), "casino_id" => self.casino.as_str(),
            "visit_id" => slip.visit.as_str(), "table_id" => self.tables[t].id.as_str(), "status" => "open", "at" => self.at(),
        };
        self.publish("rating_slip.created", payload, None, true);
        self.slips.push(slip);
    }

    fn update_slip(&mut self) {
        let s = self.rng.below(self.slips.len());
        let step = 1 + self.rng.below(5) as i64;
        let bet_change = self.rng.below(11) as f64 - 5.0;
        let pause = self.rng.chance(10);
        let slip = &mut self.slips[s];
        slip.minutes += step;
        slip.average_bet = (slip.average_bet + bet_change).max(5.0);
        slip.status = if pause {
            if slip.status == "open" {
                "paused"
            } else {
                "open"
            }
        } else {
            slip.status
        };
        let slip = slip.clone();
        let payload = obj! {
            "event" => "rating_slip.updated", "rating_slip_id" => slip.id.as_str(), "casino_id" => self.casino.as_str(),
            "visit_id" => slip.visit.as_str(), "average_bet" => dec(slip.average_bet), "minutes_played" => slip.minutes,
            "game_type" => self.tables[slip.table].game, "status" => slip.status, "at" => self.at(),
        };
        self.publish("rating_slip.updated", payload, Some(&slip.id), true);
    }

    fn close_slip(&mut self) {
        let s = self.rng.below(self.slips.len());
        let slip = self.slips.remove(s);
        let visit = self.visits.iter_mut().find(|v| v.id == slip.visit);
        let player = visit.and_then(|v| {
            v.slip = None;
            v.player
        });
        let payload = obj! {
            "event" => "rating_slip.closed", "rating_slip_id" => slip.id.as_str(), "casino_id" => self.casino.as_str(),
            "visit_id" => slip.visit.as_str(), "end_time" => self.at(), "total_duration" => slip.minutes * 60,
            "average_bet" => dec(slip.average_bet), "status" => "closed", "at" => self.at(),
        };
        self.publish("rating_slip.closed", payload, Some(&slip.id), true);
        if let Some(p) = player {
            let points = (slip.minutes * slip.average_bet as i64 / 10).max(1);
            self.reward(p, points, "session_end", Some(&slip.id), &slip.visit);
        }
    }

    fn mid_session_reward(&mut self) {
        let rated: Vec<bool> = self.slips.iter().map(|s| self.rated(s)).collect();
        let Some(s) = self.pick(&rated, |&r| r) else {
            return;
        };
        let slip = self.slips[s].clone();
        let Some(p) = self
            .visits
            .iter()
            .find(|v| v.id == slip.visit)
            .and_then(|v| v.player)
        else {
            return;
        };
        let points = if self.rng.chance(10) {
            -(1 + self.rng.below(20) as i64)
        } else {
            5 + self.rng.below(50) as i64
        };
        let reason = if points < 0 {
            "correction"
        } else {
            "mid_session"
        };
        self.reward(p, points, reason, Some(&slip.id), &slip.visit);
    }

    /// `loyalty.ledger_appended` then `loyalty.balance_updated` with the new absolute balance.
    fn reward(&mut self, p: usize, points: i64, reason: &str, slip: Option<&str>, visit: &str) {
        self.players[p].balance += points;
        let player = self.players[p].clone();
        let payload = obj! {
            "event" => "loyalty.ledger_appended", "ledger_id" => self.rng.uuid(), "player_id" => player.id.as_str(),
            "casino_id" => self.casino.as_str(), "points_earned" => points, "reason" => reason,
            "rating_slip_id" => slip.map_or(Value::Null, Value::from), "visit_id" => visit, "at" => self.at(),
        };
        self.publish("loyalty.ledger_appended", payload, Some(&player.id), true);
        let payload = obj! {
            "event" => "loyalty.balance_updated", "player_id" => player.id.as_str(), "casino_id" => self.casino.as_str(),
            "balance" => player.balance, "balance_delta" => points, "tier" => player.tier, "at" => self.at(),
        };
        self.publish("loyalty.balance_updated", payload, Some(&player.id), false);
    }

    fn buy_in(&mut self) {
        let Some(v) = self.pick(&self.visits.clone(), |v| v.player.is_some()) else {
            return;
        };
        let visit = self.visits[v].clone();
        let player = self.players[visit.player.unwrap_or_default()].id.clone();
        let transaction = self.rng.uuid();
        let amount = 100.0 * (1 + self.rng.below(20)) as f64 + self.rng.below(100) as f64 / 4.0;
        let tender = ["cash", "chips", "marker", "card"][self.rng.below(4)];
        let payload = obj! {
            "event" => "finance.transaction_created", "transaction_id" => transaction.as_str(), "player_id" => player.as_str(),
            "casino_id" => self.casino.as_str(), "amount" => dec(amount), "tender_type" => tender,
            "gaming_day" => date(self.clock_ms), "visit_id" => visit.id.as_str(), "at" => self.at(),
        };
        self.publish("finance.transaction_created", payload, Some(&player), true);
        self.outbox.push_back(transaction);
    }

    fn outbox_processed(&mut self) {
        let Some(transaction) = self.outbox.pop_front() else {
            return;
        };
        let attempts = 1 + self.rng.below(3) as i64;
        let payload = obj! {
            "event" => "finance.outbox_processed", "outbox_id" => self.rng.uuid(), "casino_id" => self.casino.as_str(),
            "ledger_id" => transaction, "event_type" => "receipt.email", "attempt_count" => attempts,
            "processed_at" => self.at(), "at" => self.at(),
        };
        self.publish("finance.outbox_processed", payload, None, true);
    }

    fn leave(&mut self) {
        let Some(v) = self.pick(&self.visits.clone(), |v| v.slip.is_none()) else {
            return;
        };
        let visit = self.visits.remove(v);
        let player_id = visit.player.map(|p| {
            self.players[p].visit = None;
            self.players[p].id.clone()
        });
        if let Some(pid) = &player_id {
            let minutes = (self.clock_ms
                - casino_realtime::catalog::parse_timestamp(&visit.started_at).unwrap_or(0) / 1000)
                / 60_000;
            let payload = obj! {
                "event" => "visit.checked_out", "visit_id" => visit.id.as_str(), "player_id" => pid.as_str(),
                "casino_id" => self.casino.as_str(), "started_at" => visit.started_at.as_str(), "ended_at" => self.at(),
                "duration_minutes" => minutes.max(0), "at" => self.at(),
            };
            self.publish("visit.checked_out", payload, Some(&visit.id), true);
        }
        let payload = obj! {
            "event" => "visit.closed", "visit_id" => visit.id.as_str(), "casino_id" => self.casino.as_str(),
            "player_id" => opt(&player_id), "visit_kind" => visit.kind, "ended_at" => self.at(), "at" => self.at(),
        };
        self.publish("visit.closed", payload, Some(&visit.id), true);
    }

    fn request_fill(&mut self) {
        let Some(t) = self.pick(&self.tables.clone(), |t| t.active && t.fill.is_none()) else {
            return;
        };
        let request = format!("fill-{}", &self.rng.uuid()[..8]);
        let amount = 100_000 * (1 + self.rng.below(10) as i64);
        self.tables[t].fill = Some((request.clone(), amount));
        let (requested_by, slip_no) = (
            self.maybe_staff(),
            Some(format!("F-{}", 1000 + self.rng.below(9000))),
        );
        let table_id = self.tables[t].id.clone();
        let payload = obj! {
            "event" => "table.fill_requested", "casino_id" => self.casino.as_str(), "table_id" => table_id.as_str(),
            "request_id" => request, "amount_cents" => amount, "chipset" => obj! { "100" => amount / 10_000 },
            "requested_by" => opt(&requested_by), "slip_no" => opt(&slip_no), "at" => self.at(),
        };
        self.publish("table.fill_requested", payload, Some(&table_id), true);
    }

    fn complete_fill(&mut self) {
        let Some(t) = self.pick(&self.tables.clone(), |t| t.fill.is_some()) else {
            return;
        };
        let Some((request, amount)) = self.tables[t].fill.take() else {
            return;
        };
        self.tables[t].fills += 1;
        if let Some(c) = self.tables[t].chips.iter_mut().find(|(d, _)| d == "100") {
            c.1 += amount / 10_000;
        }
        let (by, to) = (self.maybe_staff(), self.maybe_staff());
        let table_id = self.tables[t].id.clone();
        let payload = obj! {
            "event" => "table.fill_completed", "casino_id" => self.casino.as_str(), "table_id" => table_id.as_str(),
            "request_id" => request, "amount_cents" => amount, "delivered_by" => opt(&by), "received_by" => opt(&to), "at" => self.at(),
        };
        self.publish("table.fill_completed", payload, Some(&table_id), true);
    }

    fn request_credit(&mut self) {
        let Some(t) = self.pick(&self.tables.clone(), |t| t.active && t.credit.is_none()) else {
            return;
        };
        let request = format!("credit-{}", &self.rng.uuid()[..8]);
        let amount = 50_000 * (1 + self.rng.below(10) as i64);
        self.tables[t].credit = Some((request.clone(), amount));
        let by = self.maybe_staff();
        let table_id = self.tables[t].id.clone();
        let payload = obj! {
            "event" => "table.credit_requested", "casino_id" => self.casino.as_str(), "table_id" => table_id.as_str(),
            "request_id" => request, "amount_cents" => amount, "chipset" => obj! { "25" => amount / 2_500 },
            "authorized_by" => opt(&by), "at" => self.at(),
        };
        self.publish("table.credit_requested", payload, Some(&table_id), true);
    }

    fn complete_credit(&mut self) {
        let Some(t) = self.pick(&self.tables.clone(), |t| t.credit.is_some()) else {
            return;
        };
        let Some((request, amount)) = self.tables[t].credit.take() else {
            return;
        };
        self.tables[t].credits += 1;
        if let Some(c) = self.tables[t].chips.iter_mut().find(|(d, _)| d == "25") {
            c.1 = (c.1 - amount / 2_500).max(0);
        }
        let (by, to) = (self.maybe_staff(), self.maybe_staff());
        let table_id = self.tables[t].id.clone();
        let payload = obj! {
            "event" => "table.credit_completed", "casino_id" => self.casino.as_str(), "table_id" => table_id.as_str(),
            "request_id" => request, "amount_cents" => amount, "sent_by" => opt(&by), "received_by" => opt(&to), "at" => self.at(),
        };
        self.publish("table.credit_completed", payload, Some(&table_id), true);
    }

    fn remove_drop(&mut self) {
        let Some(t) = self.pick(&self.tables.clone(), |t| t.active && t.drop.is_none()) else {
            return;
        };
        let drop_box = format!("DB-{}-{}", self.tables[t].label, self.tables[t].drops + 1);
        self.tables[t].drops += 1;
        self.tables[t].drop = Some(drop_box.clone());
        let (seal, by, witness) = (
            Some(format!("S-{}", self.rng.below(100_000))),
            self.maybe_staff(),
            self.maybe_staff(),
        );
        let table_id = self.tables[t].id.clone();
        let payload = obj! {
            "event" => "table.drop_removed", "casino_id" => self.casino.as_str(), "table_id" => table_id.as_str(),
            "drop_box_id" => drop_box, "seal_no" => opt(&seal), "gaming_day" => date(self.clock_ms),
            "seq_no" => self.tables[t].drops, "removed_by" => opt(&by), "witnessed_by" => opt(&witness), "at" => self.at(),
        };
        self.publish("table.drop_removed", payload, Some(&table_id), true);
    }

    fn deliver_drop(&mut self) {
        let Some(t) = self.pick(&self.tables.clone(), |t| t.drop.is_some()) else {
            return;
        };
        let Some(drop_box) = self.tables[t].drop.take() else {
            return;
        };
        let scanned = if self.rng.chance(70) {
            Value::from(self.at())
        } else {
            Value::Null
        };
        let table_id = self.tables[t].id.clone();
        let payload = obj! {
            "event" => "table.drop_delivered", "casino_id" => self.casino.as_str(), "table_id" => table_id.as_str(),
            "drop_box_id" => drop_box, "delivered_at" => self.at(), "delivered_scan_at" => scanned, "at" => self.at(),
        };
        self.publish("table.drop_delivered", payload, Some(&table_id), true);
    }

    fn rundown(&mut self) {
        let Some(t) = self.pick(&self.tables.clone(), |t| t.active) else {
            return;
        };
        let snapshot = self.rng.uuid();
        let note = if self.rng.chance(50) {
            Value::from("mid-shift count")
        } else {
            Value::Null
        };
        let table_id = self.tables[t].id.clone();
        let payload = obj! {
            "event" => "table.inventory_rundown_recorded", "casino_id" => self.casino.as_str(), "table_id" => table_id.as_str(),
            "snapshot_id" => snapshot, "chipset" => self.chipset(t), "note" => note, "at" => self.at(),
        };
        self.publish(
            "table.inventory_rundown_recorded",
            payload,
            Some(&table_id),
            false,
        );
    }

    fn deactivate(&mut self) {
        let busy: Vec<usize> = self.slips.iter().map(|s| s.table).collect();
        let Some(t) = self.pick(&self.tables.clone(), |t| t.active) else {
            return;
        };
        if busy.contains(&t) {
            return;
        }
        self.inventory(t, "table.inventory_close");
        self.tables[t].active = false;
        let payload = obj! {
            "event" => "table.deactivated", "casino_id" => self.casino.as_str(), "table_id" => self.tables[t].id.as_str(), "at" => self.at(),
        };
        self.publish("table.deactivated", payload, None, true);
    }
}

#[derive(Debug, Clone, Copy)]
enum Action {
    Arrive,
    GhostArrive,
    Convert,
    OpenSlip,
    UpdateSlip,
    CloseSlip,
    MidSessionReward,
    BuyIn,
    OutboxProcessed,
    Leave,
    RequestFill,
    CompleteFill,
    RequestCredit,
    CompleteCredit,
    RemoveDrop,
    DeliverDrop,
    Rundown,
    Deactivate,
    Activate,
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
