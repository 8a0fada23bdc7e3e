//! Events per second through the core (JSON text → catalog → casino guard → dedup → rules →
//! batch), natively, with 20% replays. Prints figures; asserts nothing about time.
//!
//! `cargo bench --bench throughput` (or `npm run bench`).

#![allow(clippy::unwrap_used)] // The shared test helpers fail loudly on purpose.

#[path = "../tests/common/mod.rs"]
mod common;

use casino_realtime::audience::Audience;
use casino_realtime::batch::BatchConfig;
use casino_realtime::cache::RuleSet;
use casino_realtime::catalog::Uuid;
use casino_realtime::clock::Now;
use casino_realtime::dedup::DedupConfig;
use casino_realtime::json;
use casino_realtime::pipeline::Pipeline;
use common::workload::Workload;
use std::time::Instant;

const EVENTS: u64 = 1_000_000;

fn main() {
    let casino = Uuid::parse("11111111-1111-4111-8111-111111111111").expect("casino id");
    // As frames arrive: JSON text, one per delivery.
    let deliveries: Vec<(String, String, String)> = Workload::new(EVENTS, 20, 42)
        .map(|d| (d.event, d.payload.to_json(), d.meta_id))
        .collect();
    let bytes: usize = deliveries.iter().map(|d| d.1.len()).sum();

    let dedup = DedupConfig::default();
    let mut pipeline = Pipeline::new(RuleSet::defaults(), dedup, BatchConfig::default(), 7);
    let mut actions = 0usize;
    let start = Instant::now();
    for (i, (event, text, meta)) in deliveries.iter().enumerate() {
        let now = i as u64 / 2;
        while let Some((_, batch)) = pipeline
            .deadline()
            .filter(|&d| d <= now)
            .and_then(|d| pipeline.poll(d))
        {
            actions += batch.to_json().len();
        }
        let payload = json::parse(text).expect("workload is JSON");
        pipeline.ingest(
            event,
            payload,
            Some(meta),
            casino,
            Audience::of(0),
            Now::new(now, 1_766_225_700_000 + now as i64),
        );
    }
    let elapsed = start.elapsed().as_secs_f64();
    let stats = pipeline.stats();

    println!(
        "core throughput, native, release profile (opt-level z, as shipped): {EVENTS} events, 20% replays, {:.1} MB of payload JSON",
        bytes as f64 / 1e6
    );
    println!("  events/s            {:>12.0}", EVENTS as f64 / elapsed);
    println!(
        "  ns/event            {:>12.0}",
        elapsed * 1e9 / EVENTS as f64
    );
    println!("  applied             {:>12}", stats.applied);
    println!("  duplicates dropped  {:>12}", stats.duplicates);
    println!("  batches             {:>12}", stats.batches);
    println!("  batch JSON bytes    {:>12}", actions);
    println!(
        "  dedup keys held     {:>12} of capacity {} ({} KB of tables)",
        pipeline.dedup().len(),
        dedup.capacity,
        pipeline.dedup().memory_bytes() / 1024
    );
}
