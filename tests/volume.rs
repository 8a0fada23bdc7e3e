//! A million events with 20% replays through dedup, rules and batching: every unique event is
//! applied once, every replay is dropped, and dedup's memory stays within its capacity.
#![cfg(not(target_arch = "wasm32"))]
#![allow(clippy::unwrap_used)] // Tests fail loudly on purpose.

mod common;

use casino_realtime::audience::Audience;
use casino_realtime::batch::BatchConfig;
use casino_realtime::cache::RuleSet;
use casino_realtime::catalog::Uuid;
use casino_realtime::clock::Now;
use casino_realtime::dedup::DedupConfig;
use casino_realtime::pipeline::{Outcome, Pipeline};
use common::workload::Workload;

#[test]
fn a_million_events_keep_dedup_within_its_capacity() {
    let casino = Uuid::parse("11111111-1111-4111-8111-111111111111").unwrap();
    let dedup = DedupConfig {
        capacity: 8_192,
        ttl_ms: 10 * 60 * 1000,
    };
    let mut pipeline = Pipeline::new(RuleSet::defaults(), dedup, BatchConfig::default(), 7);
    let mut workload = Workload::new(1_000_000, 20, 7);
    let (mut unique, mut actions, mut memory_after_warmup) = (0u64, 0usize, None);
    for (i, delivery) in (&mut workload).enumerate() {
        // 2,000 events a second: windows close on their 500 ms cap.
        let now = i as u64 / 2;
        while let Some((_, batch)) = pipeline
            .deadline()
            .filter(|&d| d <= now)
            .and_then(|d| pipeline.poll(d))
        {
            actions += batch.actions.len();
        }
        let outcome = pipeline.ingest(
            &delivery.event,
            delivery.payload.clone(),
            Some(&delivery.meta_id),
            casino,
            Audience::of(0),
            Now::new(now, 1_766_225_700_000 + now as i64),
        );
        let duplicate = matches!(outcome, Outcome::Duplicate { .. });
        assert!(
            duplicate == delivery.replay
                && (duplicate || matches!(outcome, Outcome::Applied { .. })),
            "delivery {i}: {outcome:?}"
        );
        unique += u64::from(!delivery.replay);
        assert!(
            pipeline.dedup().len() <= dedup.capacity,
            "dedup grew past its capacity at {i}"
        );
        if i == 100_000 {
            memory_after_warmup = Some(pipeline.dedup().memory_bytes());
        }
    }
    let stats = pipeline.stats();
    assert_eq!(stats.received, 1_000_000);
    assert_eq!(stats.applied, unique);
    assert_eq!(stats.duplicates, workload.replays);
    assert!(
        (180_000..220_000).contains(&workload.replays),
        "about 20% replays: {}",
        workload.replays
    );
    assert_eq!(
        pipeline.dedup().memory_bytes(),
        memory_after_warmup.unwrap(),
        "no growth after warm-up"
    );
    assert!(
        pipeline.dedup().memory_bytes() <= 48 * dedup.capacity,
        "{} bytes",
        pipeline.dedup().memory_bytes()
    );
    assert!(
        actions > 0 && stats.batches >= 999,
        "{} batches",
        stats.batches
    );
}
