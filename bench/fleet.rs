//! A floor's fleet recovering together: 1,000 sans-IO sessions (tests/common/fake_server.rs's
//! simulated server) lose the network for 60 s, longer than their replay covers, and get it back
//! in the same instant (the browsers' `online` event). Each then rejoins and resyncs: every key
//! family its rules write is refetched. Printed, with and without `resyncJitterMs`: the peak
//! refetches (a family refetched by one terminal) per 100 ms across the fleet, and the time from
//! the network's return until every terminal is fresh (`staleSince` null). Prints figures;
//! asserts nothing about time.
//!
//! `cargo bench --bench fleet` (or `npm run bench:fleet`); `-- --terminals N` for another size.

#![allow(clippy::unwrap_used)] // The shared test helpers fail loudly on purpose.

#[path = "../tests/common/mod.rs"]
mod common;

use casino_realtime::batch::BatchReason;
use casino_realtime::protocol::Vsn;
use common::fake_server::{config, seeded, Harness};

const OUTAGE_MS: u64 = 60_000;
const STEP_MS: u64 = 10;
const BUCKET_MS: u64 = 100;

struct Figures {
    peak: usize,
    peak_at_ms: u64,
    total: usize,
    all_fresh_ms: Option<u64>,
}

fn run(terminals: u64, jitter_ms: u64) -> Figures {
    let mut fleet: Vec<Harness> = (0..terminals)
        .map(|seed| {
            let mut config = config();
            // Replay covers 30 s here: a 60 s outage is past it, so every channel resyncs.
            config.replay_window_ms = 30_000;
            config.resync_jitter_ms = jitter_ms;
            let session = seeded(config, Some("token-1"), true, seed);
            let mut h = Harness::with_session(session, Vsn::V2);
            h.subscribe(None);
            h.advance(2_000);
            h
        })
        .collect();
    for h in &mut fleet {
        h.session.set_online(false, h.clock());
        h.server_up = false;
        h.drop_connection();
        h.advance(OUTAGE_MS);
        h.server_up = true;
        h.session.set_online(true, h.clock());
        h.pump();
    }
    // Every terminal's clock now reads the network's return; step them together from there.
    let seen: Vec<usize> = fleet.iter().map(|h| h.batches.len()).collect();
    let mut buckets: Vec<usize> = Vec::new();
    let mut all_fresh_ms = None;
    let mut delivered = seen.clone();
    let mut elapsed = 0;
    while elapsed < 120_000 {
        let bucket = (elapsed / BUCKET_MS) as usize;
        if buckets.len() <= bucket {
            buckets.resize(bucket + 1, 0);
        }
        let mut fresh = 0;
        for (i, h) in fleet.iter_mut().enumerate() {
            h.advance(STEP_MS);
            for batch in &h.batches[delivered[i]..] {
                if batch.reason == BatchReason::Resync {
                    buckets[bucket] += batch.actions.len();
                }
            }
            delivered[i] = h.batches.len();
            fresh += usize::from(h.session.stats(h.clock()).stale_since.is_none());
        }
        elapsed += STEP_MS;
        if fresh == fleet.len() && all_fresh_ms.is_none() {
            all_fresh_ms = Some(elapsed);
        }
        if all_fresh_ms.is_some() && elapsed > all_fresh_ms.unwrap_or(0) + 1_000 {
            break;
        }
    }
    let (peak_bucket, peak) = buckets
        .iter()
        .copied()
        .enumerate()
        .max_by_key(|&(_, n)| n)
        .unwrap_or((0, 0));
    Figures {
        peak,
        peak_at_ms: peak_bucket as u64 * BUCKET_MS,
        total: buckets.iter().sum(),
        all_fresh_ms,
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let terminals = args
        .iter()
        .position(|a| a == "--terminals")
        .and_then(|i| args.get(i + 1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(1_000);
    println!(
        "fleet: {terminals} terminals, one list channel each, a {} s outage past replay, the network back for all at once",
        OUTAGE_MS / 1000
    );
    println!("| resyncJitterMs | peak refetches per 100 ms | at | refetches in all | every terminal fresh after |");
    println!("| --- | --- | --- | --- | --- |");
    for jitter in [0, 2_000] {
        let f = run(terminals, jitter);
        let fresh = f
            .all_fresh_ms
            .map_or("not within 120 s".to_owned(), |ms| format!("{ms} ms"));
        println!(
            "| {jitter} | {} | +{} ms | {} | {fresh} |",
            f.peak, f.peak_at_ms, f.total
        );
    }
}
