//! Which action comes next: a weighted choice among those possible now, and the shift's
//! periodic changes.

use super::model::Publication;
use super::Floor;

impl Floor {
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
