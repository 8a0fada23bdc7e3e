//! Fuzzes everything in casino-realtime that reads untrusted bytes: the JSON reader, both text
//! serializers, binary frames, catalog validation (and the cache rules' planning), rule
//! parsing, and a joined session fed whole frames. A panic in wasm kills the module for the
//! whole page, so none may be reachable from input.
//!
//! Each case is generated from (seed, target, case number) alone: random bytes, inputs built
//! from a small grammar, or seeds from the catalog's fixtures and real frames with up to eight
//! mutations (bit flips, byte and chunk edits, splices, interesting tokens, deep nesting). A
//! panic is caught and reported with its input and the command that replays it; a case that
//! runs for more than 10 s is reported as a hang. Exit status 1 for a panic, 2 for a hang.
//!
//! ```sh
//! npm run fuzz                               # 1,000,000 cases per target
//! cargo run --profile fuzz -p fuzz -- --cases 100000
//! cargo run --profile fuzz -p fuzz -- --target json --case 4711   # replay one case
//! ```
#![allow(clippy::unwrap_used)] // The fuzzer's own set-up may fail loudly.

mod corpus;
mod mutate;
mod targets;

use std::panic::{self, AssertUnwindSafe};
use std::process::exit;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn usage() -> ! {
    eprintln!(
        "usage: fuzz [--cases N] [--seed S] [--target NAME] [--case K]\n  targets: {}",
        targets::NAMES.join(", ")
    );
    exit(64)
}

fn main() {
    let mut cases = 1_000_000u64;
    let mut seed = 1u64;
    let mut only: Option<String> = None;
    let mut replay: Option<u64> = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().unwrap_or_else(|| usage());
        match arg.as_str() {
            "--cases" => cases = value().parse().unwrap_or_else(|_| usage()),
            "--seed" => seed = value().parse().unwrap_or_else(|_| usage()),
            "--target" => only = Some(value()),
            "--case" => replay = Some(value().parse().unwrap_or_else(|_| usage())),
            _ => usage(),
        }
    }
    if only
        .as_deref()
        .is_some_and(|t| !targets::NAMES.contains(&t))
    {
        usage();
    }

    // The watchdog: a case that does not finish within 10 s is a hang.
    let progress = Arc::new(AtomicU64::new(0));
    let current = Arc::new(AtomicU64::new(0));
    let target_index = Arc::new(AtomicU64::new(0));
    {
        let (progress, current, target_index) =
            (progress.clone(), current.clone(), target_index.clone());
        std::thread::spawn(move || {
            let mut last = u64::MAX;
            let mut still = 0;
            loop {
                std::thread::sleep(Duration::from_secs(1));
                let now = progress.load(Ordering::Relaxed);
                still = if now == last { still + 1 } else { 0 };
                last = now;
                if still >= 10 {
                    let target = targets::NAMES[target_index.load(Ordering::Relaxed) as usize];
                    let case = current.load(Ordering::Relaxed);
                    eprintln!(
                        "fuzz: HANG in {target}, case {case} (seed {seed}): no progress for 10 s\n  \
                         replay: cargo run --profile fuzz -p fuzz -- --seed {seed} --target {target} --case {case}"
                    );
                    exit(2);
                }
            }
        });
    }

    println!("fuzz: {cases} cases per target, seed {seed}");
    let mut total = 0;
    for (index, &name) in targets::NAMES.iter().enumerate() {
        if only.as_deref().is_some_and(|t| t != name) {
            continue;
        }
        target_index.store(index as u64, Ordering::Relaxed);
        let corpus = corpus::for_target(name);
        let range = match replay {
            Some(case) => case..case + 1,
            None => 0..cases,
        };
        let started = Instant::now();
        let mut target = targets::Target::new(name);
        for case in range.clone() {
            current.store(case, Ordering::Relaxed);
            let input = mutate::generate(seed, index as u64, case, &corpus, name);
            if replay.is_some() {
                println!("{name} case {case}: {}", mutate::show(&input));
            }
            let result = panic::catch_unwind(AssertUnwindSafe(|| target.run(&input)));
            if result.is_err() {
                eprintln!(
                    "fuzz: PANIC in {name}, case {case} (seed {seed})\n  input ({} bytes): {}\n  \
                     replay: cargo run --profile fuzz -p fuzz -- --seed {seed} --target {name} --case {case}",
                    input.len(),
                    mutate::show(&input)
                );
                exit(1);
            }
            progress.fetch_add(1, Ordering::Relaxed);
        }
        let n = range.end - range.start;
        total += n;
        let secs = started.elapsed().as_secs_f64();
        println!(
            "  {name:<10} {n:>9} cases in {secs:>6.1} s ({:>8.0}/s), no panic, no hang",
            n as f64 / secs.max(1e-9)
        );
    }
    println!("fuzz: {total} cases, all passed");
}
