//! A synthetic stream of catalog events with replays, for the volume test and the benchmark.

use super::fixtures;
use casino_realtime::json::Value;

/// One delivery: event name, payload, Realtime `meta.id`.
pub struct Delivery {
    pub event: String,
    pub payload: Value,
    pub meta_id: String,
    /// Whether this delivery repeats an earlier one.
    pub replay: bool,
}

/// The SDK's seeded generator, with `below`.
pub struct Rng(casino_realtime::session::Rng);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(casino_realtime::session::Rng::new(seed))
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.0.up_to(n.saturating_sub(1))
    }
}

fn set(payload: &mut Value, field: &str, value: Value) {
    if let Value::Object(members) = payload {
        if let Some(slot) = members.iter_mut().find(|(k, _)| k == field) {
            slot.1 = value;
        }
    }
}

/// Yields `total` deliveries of which about `replay_percent`% repeat one of the last 1,000 unique
/// events: half with the same `meta.id` (a replay after rejoin), half with another (the same
/// event on a second channel). Unique events differ in their primary id and `at`.
pub struct Workload {
    templates: Vec<(String, Value, &'static [&'static str])>,
    recent: Vec<(String, Value, String)>,
    rng: Rng,
    replay_percent: u64,
    sent: u64,
    total: u64,
    pub replays: u64,
}

impl Workload {
    pub fn new(total: u64, replay_percent: u64, seed: u64) -> Self {
        let templates = fixtures()
            .into_iter()
            .map(|(name, payload)| {
                let kind = casino_realtime::catalog::EventKind::from_name(&name).unwrap();
                (name, payload, kind.identity_fields())
            })
            .collect();
        Workload {
            templates,
            recent: Vec::new(),
            rng: Rng::new(seed),
            replay_percent,
            sent: 0,
            total,
            replays: 0,
        }
    }
}

impl Iterator for Workload {
    type Item = Delivery;

    fn next(&mut self) -> Option<Delivery> {
        if self.sent == self.total {
            return None;
        }
        self.sent += 1;
        if !self.recent.is_empty() && self.rng.below(100) < self.replay_percent {
            self.replays += 1;
            let (event, payload, meta) =
                &self.recent[self.rng.below(self.recent.len() as u64) as usize];
            let meta_id = if self.rng.below(2) == 0 {
                meta.clone()
            } else {
                format!("{meta}-copy")
            };
            return Some(Delivery {
                event: event.clone(),
                payload: payload.clone(),
                meta_id,
                replay: true,
            });
        }
        let n = self.sent;
        let (event, template, identity) =
            &self.templates[self.rng.below(self.templates.len() as u64) as usize];
        let mut payload = template.clone();
        for field in identity.iter() {
            let value = match template.get(field) {
                Some(Value::Number(_)) => Value::from((n % 1_000_000) as i64),
                Some(Value::String(s)) if s.len() == 36 => Value::String(format!(
                    "{:08x}-0000-4000-8000-{n:012x}",
                    self.rng.below(1 << 32)
                )),
                _ => Value::String(format!("id-{n}")),
            };
            set(&mut payload, field, value);
        }
        let at = 1_766_225_700 + n / 1000;
        let at = format!(
            "2025-12-20T{:02}:{:02}:{:02}.{:03}Z",
            (at / 3600) % 24,
            (at / 60) % 60,
            at % 60,
            n % 1000
        );
        set(&mut payload, "at", Value::String(at));
        let meta_id = format!("m{n}");
        if self.recent.len() < 1000 {
            self.recent
                .push((event.clone(), payload.clone(), meta_id.clone()));
        } else {
            // A ring: replays reach back at most 1,000 unique events, as a rejoin's replay does.
            let slot = (n - self.replays - 1) % 1000;
            self.recent[slot as usize] = (event.clone(), payload.clone(), meta_id.clone());
        }
        Some(Delivery {
            event: event.clone(),
            payload,
            meta_id,
            replay: false,
        })
    }
}
