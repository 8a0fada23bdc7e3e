//! The tables and their chip custody: the layout, activation, inventories, fills, credits,
//! drops and rundowns.

use super::model::{date, opt};
use super::Floor;
use casino_realtime::json::Value;

impl Floor {
    pub(super) fn activate_layout(&mut self) {
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
        self.publish("floor_layout.activated", payload);
    }

    pub(super) fn activate_table(&mut self, t: usize) {
        self.tables[t].active = true;
        let table = &self.tables[t];
        let payload = obj! {
            "event" => "table.activated", "casino_id" => self.casino.as_str(), "table_id" => table.id.as_str(),
            "label" => table.label.as_str(), "type" => table.game, "pit" => self.pits[table.pit].1.as_str(), "at" => self.at(),
        };
        self.publish("table.activated", payload);
    }

    pub(super) fn chipset(&self, t: usize) -> Value {
        Value::Object(
            self.tables[t]
                .chips
                .iter()
                .map(|(d, n)| (d.clone(), Value::from(*n)))
                .collect(),
        )
    }

    pub(super) fn inventory(&mut self, t: usize, event: &'static str) {
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
        self.publish(event, payload);
    }

    pub(super) fn request_fill(&mut self) {
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
        self.publish("table.fill_requested", payload);
    }

    pub(super) fn complete_fill(&mut self) {
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
        self.publish("table.fill_completed", payload);
    }

    pub(super) fn request_credit(&mut self) {
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
        self.publish("table.credit_requested", payload);
    }

    pub(super) fn complete_credit(&mut self) {
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
        self.publish("table.credit_completed", payload);
    }

    pub(super) fn remove_drop(&mut self) {
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
        self.publish("table.drop_removed", payload);
    }

    pub(super) fn deliver_drop(&mut self) {
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
        self.publish("table.drop_delivered", payload);
    }

    pub(super) fn rundown(&mut self) {
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
        self.publish("table.inventory_rundown_recorded", payload);
    }

    pub(super) fn deactivate(&mut self) {
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
        self.publish("table.deactivated", payload);
    }
}
