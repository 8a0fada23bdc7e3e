//! The players: arrivals, visits and their conversion, rating slips, rewards and balances,
//! buy-ins, the finance outbox, departures.

use super::model::{date, dec, opt, Slip, Visit};
use super::Floor;
use casino_realtime::json::Value;

impl Floor {
    pub(super) fn arrive(&mut self, ghost: bool) {
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
            self.publish("visit.checked_in", payload);
        }
        let payload = obj! {
            "event" => "visit.created", "visit_id" => visit_id.as_str(), "casino_id" => self.casino.as_str(),
            "player_id" => opt(&player_id), "visit_kind" => kind, "started_at" => started.as_str(), "at" => self.at(),
        };
        self.publish("visit.created", payload);
        self.visits.push(Visit {
            id: visit_id,
            player,
            kind,
            started_at: started,
            slip: None,
        });
    }

    pub(super) fn convert(&mut self) {
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
        self.publish("visit.converted", payload);
    }

    pub(super) fn open_slip(&mut self) {
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
        self.publish("rating_slip.created", payload);
        self.slips.push(slip);
    }

    pub(super) fn update_slip(&mut self) {
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
        self.publish("rating_slip.updated", payload);
    }

    pub(super) fn close_slip(&mut self) {
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
        self.publish("rating_slip.closed", payload);
        if let Some(p) = player {
            let points = (slip.minutes * slip.average_bet as i64 / 10).max(1);
            self.reward(p, points, "session_end", Some(&slip.id), &slip.visit);
        }
    }

    pub(super) fn mid_session_reward(&mut self) {
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
    pub(super) fn reward(
        &mut self,
        p: usize,
        points: i64,
        reason: &str,
        slip: Option<&str>,
        visit: &str,
    ) {
        self.players[p].balance += points;
        let player = self.players[p].clone();
        let payload = obj! {
            "event" => "loyalty.ledger_appended", "ledger_id" => self.rng.uuid(), "player_id" => player.id.as_str(),
            "casino_id" => self.casino.as_str(), "points_earned" => points, "reason" => reason,
            "rating_slip_id" => slip.map_or(Value::Null, Value::from), "visit_id" => visit, "at" => self.at(),
        };
        self.publish("loyalty.ledger_appended", payload);
        let payload = obj! {
            "event" => "loyalty.balance_updated", "player_id" => player.id.as_str(), "casino_id" => self.casino.as_str(),
            "balance" => player.balance, "balance_delta" => points, "tier" => player.tier, "at" => self.at(),
        };
        self.publish("loyalty.balance_updated", payload);
    }

    pub(super) fn buy_in(&mut self) {
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
        self.publish("finance.transaction_created", payload);
        self.outbox.push_back(transaction);
    }

    pub(super) fn outbox_processed(&mut self) {
        let Some(transaction) = self.outbox.pop_front() else {
            return;
        };
        let attempts = 1 + self.rng.below(3) as i64;
        let payload = obj! {
            "event" => "finance.outbox_processed", "outbox_id" => self.rng.uuid(), "casino_id" => self.casino.as_str(),
            "ledger_id" => transaction, "event_type" => "receipt.email", "attempt_count" => attempts,
            "processed_at" => self.at(), "at" => self.at(),
        };
        self.publish("finance.outbox_processed", payload);
    }

    pub(super) fn leave(&mut self) {
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
            self.publish("visit.checked_out", payload);
        }
        let payload = obj! {
            "event" => "visit.closed", "visit_id" => visit.id.as_str(), "casino_id" => self.casino.as_str(),
            "player_id" => opt(&player_id), "visit_kind" => visit.kind, "ended_at" => self.at(), "at" => self.at(),
        };
        self.publish("visit.closed", payload);
    }
}
