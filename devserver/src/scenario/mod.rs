//! Scenarios that publish catalog events on their own. `floor` runs a simulated casino floor at a
//! set rate, publishing each event as the database would (a `meta.id`, kept for replay), with a
//! share of duplicate deliveries and of events delivered out of order.

pub mod floor;

use crate::hub::{now_ms, Hub};
use floor::{Floor, Publication, Rng};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub use crate::config::{ScenarioConfig, DEFAULT_CASINO, OTHER_CASINO};

/// Counts of what the scenario published, for `/_dev/status`.
#[derive(Debug, Clone, Copy, Default)]
pub struct ScenarioStats {
    /// Events generated.
    pub events: u64,
    /// Duplicate deliveries sent.
    pub duplicates: u64,
    /// Events delivered out of order.
    pub reordered: u64,
}

/// Decides, deterministically from the seed, which events are held back or repeated.
#[derive(Debug)]
pub struct Delivery {
    rng: Rng,
    held: Option<Publication>,
    recent: Vec<(String, String)>,
    config: ScenarioConfig,
    /// What was sent.
    pub stats: ScenarioStats,
}

/// One step of the delivery plan.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// Publish this event on its topics.
    Publish(Publication),
    /// Deliver the stored message `(subtopic, id)` again.
    Repeat(String, String),
}

impl Delivery {
    /// A plan for this configuration.
    pub fn new(config: ScenarioConfig) -> Self {
        Delivery {
            rng: Rng::new(config.seed ^ 0xd11e),
            held: None,
            recent: Vec::new(),
            stats: ScenarioStats::default(),
            config,
        }
    }

    /// What to do with the next generated event.
    pub fn plan(&mut self, publication: Publication) -> Vec<Step> {
        self.stats.events += 1;
        if self.held.is_none() && self.rng.chance(self.config.out_of_order_pct) {
            self.held = Some(publication);
            return Vec::new();
        }
        let mut steps = vec![Step::Publish(publication)];
        if let Some(held) = self.held.take() {
            self.stats.reordered += 1;
            steps.push(Step::Publish(held));
        }
        if !self.recent.is_empty() && self.rng.chance(self.config.duplicate_pct) {
            self.stats.duplicates += 1;
            let (topic, id) = self.recent[self.rng.below(self.recent.len())].clone();
            steps.push(Step::Repeat(topic, id));
        }
        steps
    }

    /// Remembers a published message as a candidate for repetition.
    pub fn published(&mut self, subtopic: &str, id: String) {
        if self.recent.len() == 50 {
            self.recent.remove(0);
        }
        self.recent.push((subtopic.to_owned(), id));
    }
}

/// The running floor: its state (for the read API) and its delivery plan.
pub struct Running {
    /// The floor.
    pub floor: Mutex<Floor>,
    /// The plan.
    pub delivery: Mutex<Delivery>,
    /// Paused: no event is generated (`POST /_dev/scenario?running=false`), so a test can compare
    /// what a client shows with the floor once the last event has settled.
    pub paused: std::sync::atomic::AtomicBool,
}

/// On a database, the floor's events go through `casino_realtime.emit` one after another, in the
/// order the floor made them (each commits before the next begins); their rows' ids are kept for
/// the duplicate-delivery fault. Without one, nothing is sent here.
fn publish_in_order(
    hub: Arc<Hub>,
    running: Arc<Running>,
) -> tokio::sync::mpsc::UnboundedSender<Publication> {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Publication>();
    let Some(db) = hub.db.clone() else {
        return tx;
    };
    tokio::spawn(async move {
        while let Some(p) = rx.recv().await {
            let caller = crate::database::Caller::Server;
            let payload = p.payload.to_json();
            match db
                .publish(caller, p.event, &payload, None, hub.config.transaction)
                .await
            {
                Ok(ids) => {
                    let mut delivery = running.delivery.lock().unwrap_or_else(|p| p.into_inner());
                    for (topic, id) in p.topics.iter().zip(ids) {
                        delivery.published(topic, id);
                    }
                }
                Err(e) => eprintln!("devserver: floor event {} not published: {e}", p.event),
            }
        }
    });
    tx
}

/// Starts the floor scenario on the hub: one event every `1/rate` seconds until the process ends.
pub fn start(hub: Arc<Hub>, config: ScenarioConfig) -> Arc<Running> {
    let tick_ms = (1000.0 / config.rate.max(0.001)) as i64;
    let floor = Floor::new(
        config.seed,
        &config.casino_id,
        now_ms() + hub.config.publisher_skew_ms,
        tick_ms.max(1),
        config.tables,
        config.players,
    );
    let running = Arc::new(Running {
        floor: Mutex::new(floor),
        delivery: Mutex::new(Delivery::new(config)),
        paused: std::sync::atomic::AtomicBool::new(false),
    });
    let to_database = publish_in_order(hub.clone(), running.clone());
    let task = running.clone();
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(Duration::from_millis(tick_ms.max(1) as u64));
        loop {
            interval.tick().await;
            let steps = if task.paused.load(std::sync::atomic::Ordering::Relaxed) {
                // Paused: nothing new, but an event held back for reordering is sent, so the
                // floor and what was published agree.
                let held = task
                    .delivery
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .held
                    .take();
                held.map(Step::Publish).into_iter().collect()
            } else {
                let publication = task
                    .floor
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .next_publication();
                task.delivery
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .plan(publication)
            };
            for step in steps {
                match step {
                    Step::Publish(p) if hub.db.is_some() => {
                        let _ = to_database.send(p);
                    }
                    Step::Publish(p) => {
                        for topic in &p.topics {
                            let id = hub.publish_database(
                                topic,
                                p.event,
                                p.payload.clone(),
                                true,
                                hub.config.transaction,
                            );
                            task.delivery
                                .lock()
                                .unwrap_or_else(|p| p.into_inner())
                                .published(topic, id);
                        }
                    }
                    Step::Repeat(topic, id) => {
                        hub.redeliver(&topic, &id);
                    }
                }
            }
        }
    });
    running
}
