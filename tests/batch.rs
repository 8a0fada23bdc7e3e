//! The coalescing window: timing, merging, absorption, last-writer-wins; with property tests.
#![cfg(not(target_arch = "wasm32"))]
#![allow(clippy::unwrap_used)] // Tests fail loudly on purpose.

use casino_realtime::batch::{BatchConfig, BatchReason, Batcher, CacheBatch};
use casino_realtime::cache::{CacheAction, KeyPart, QueryKey, RefetchType};
use casino_realtime::json::Value;
use proptest::prelude::*;
use std::collections::{HashMap, HashSet};

fn key(parts: &[&str]) -> QueryKey {
    QueryKey(parts.iter().map(|&p| KeyPart::from(p)).collect())
}

fn inv(parts: &[&str], refetch: RefetchType) -> CacheAction {
    CacheAction::Invalidate {
        key: key(parts),
        refetch,
    }
}

fn set(parts: &[&str], data: i64, at: i64) -> CacheAction {
    CacheAction::SetQueryData {
        key: key(parts),
        data: Value::from(data),
        at,
    }
}

fn merge(parts: &[&str], fields: &[(&str, i64)], at: i64) -> CacheAction {
    let data = fields
        .iter()
        .map(|(k, v)| ((*k).to_owned(), Value::from(*v)))
        .collect();
    CacheAction::MergeQueryData {
        key: key(parts),
        data,
        at,
    }
}

fn batcher() -> Batcher {
    Batcher::new(BatchConfig::default())
}

#[test]
fn the_window_debounces_and_is_capped() {
    let mut b = batcher();
    assert_eq!(b.deadline(), None);
    b.push(vec![inv(&["a"], RefetchType::Active)], 1000);
    assert_eq!(b.deadline(), Some(1250));
    b.push(vec![inv(&["b"], RefetchType::Active)], 1200);
    assert_eq!(b.deadline(), Some(1450));
    b.push(vec![inv(&["c"], RefetchType::Active)], 1400);
    assert_eq!(
        b.deadline(),
        Some(1500),
        "never later than max wait after opening"
    );
    assert_eq!(b.poll(1499), None);
    let batch = b.poll(1500).unwrap();
    assert_eq!(
        (batch.opened_at, batch.flushed_at, batch.events),
        (1000, 1500, 3)
    );
    assert_eq!(batch.reason, BatchReason::Window);
    assert_eq!(batch.actions.len(), 3);
    assert_eq!(b.deadline(), None);
    assert_eq!(
        b.flush(2000, BatchReason::Flush),
        None,
        "nothing pending, nothing delivered"
    );
}

#[test]
fn events_without_actions_do_not_open_a_window() {
    let mut b = batcher();
    b.push(vec![], 0);
    b.note_duplicate();
    assert_eq!(b.deadline(), None);
    b.push(vec![inv(&["a"], RefetchType::Active)], 10);
    let batch = b.flush(20, BatchReason::Flush).unwrap();
    assert_eq!(
        (batch.events, batch.duplicates, batch.opened_at),
        (2, 1, 10)
    );
}

#[test]
fn identical_keys_merge_and_prefixes_absorb() {
    let mut b = batcher();
    b.push(vec![inv(&["visit", "list", "c1"], RefetchType::None)], 0);
    b.push(vec![inv(&["visit", "list", "c1"], RefetchType::Active)], 1);
    b.push(vec![inv(&["visit", "detail", "v1"], RefetchType::All)], 2);
    b.push(vec![inv(&["visit"], RefetchType::Active)], 3);
    b.push(
        vec![inv(&["table", "t1", "custody"], RefetchType::Active)],
        4,
    );
    let batch = b.flush(5, BatchReason::Flush).unwrap();
    let expected = vec![
        inv(&["visit", "detail", "v1"], RefetchType::All), // refetches more than its prefix: kept
        inv(&["visit"], RefetchType::Active),
        inv(&["table", "t1", "custody"], RefetchType::Active),
    ];
    assert_eq!(batch.actions, expected);
}

#[test]
fn writes_keep_the_newest_and_merges_overlay() {
    let mut b = batcher();
    b.push(vec![set(&["balance"], 10, 200)], 0);
    b.push(vec![set(&["balance"], 5, 100)], 1); // older, arrives later
    b.push(
        vec![merge(&["slip"], &[("minutes", 10), ("bet", 25)], 100)],
        2,
    );
    b.push(vec![merge(&["slip"], &[("minutes", 12)], 200)], 3);
    b.push(
        vec![merge(&["slip"], &[("minutes", 11), ("status", 1)], 150)],
        4,
    );
    let batch = b.flush(5, BatchReason::Flush).unwrap();
    assert_eq!(
        batch.actions,
        vec![
            set(&["balance"], 10, 200),
            merge(
                &["slip"],
                &[("minutes", 12), ("status", 1), ("bet", 25)],
                200
            )
        ]
    );
}

#[test]
fn a_write_older_than_one_applied_is_dropped() {
    let mut b = batcher();
    b.push(vec![set(&["balance"], 10, 200)], 0);
    b.flush(1, BatchReason::Flush).unwrap();
    b.push(vec![set(&["balance"], 5, 100)], 2);
    assert_eq!(b.deadline(), None, "nothing left to do");
    assert_eq!(b.stale_writes(), 1);
    b.push(vec![set(&["balance"], 7, 300)], 3);
    assert_eq!(
        b.flush(4, BatchReason::Flush).unwrap().actions,
        vec![set(&["balance"], 7, 300)]
    );
}

#[test]
fn an_invalidated_key_is_not_also_written() {
    let mut b = batcher();
    b.push(
        vec![
            set(&["k"], 1, 1),
            inv(&["k"], RefetchType::Active),
            set(&["k", "x"], 2, 1),
        ],
        0,
    );
    let batch = b.flush(1, BatchReason::Flush).unwrap();
    assert_eq!(
        batch.actions,
        vec![set(&["k", "x"], 2, 1), inv(&["k"], RefetchType::Active)]
    );
}

#[test]
fn the_batch_serialises_to_the_js_shape() {
    let batch = CacheBatch {
        actions: vec![inv(&["a"], RefetchType::Active)],
        reason: BatchReason::Resync,
        events: 2,
        duplicates: 1,
        opened_at: 10,
        flushed_at: 260,
    };
    assert_eq!(
        batch.to_json(),
        r#"{"actions":[{"type":"invalidate","queryKey":["a"],"refetchType":"active"}],"reason":"resync","events":2,"duplicates":1,"openedAt":10,"flushedAt":260}"#
    );
}

/// A generated action over a small universe of keys, so that collisions and prefixes happen.
fn arb_action() -> impl Strategy<Value = CacheAction> {
    let path = prop::collection::vec(prop::sample::select(vec!["a", "b", "c"]), 1..4);
    let refetch = prop::sample::select(vec![
        RefetchType::None,
        RefetchType::Active,
        RefetchType::All,
    ]);
    prop_oneof![
        (path.clone(), refetch).prop_map(|(p, r)| inv(&p, r)),
        (path.clone(), 0..50i64).prop_map(|(p, at)| set(&p, at, at)),
        (path, 0..50i64, prop::sample::select(vec!["x", "y"])).prop_map(|(p, at, f)| merge(
            &p,
            &[(f, at)],
            at
        )),
    ]
}

fn covered(batch: &CacheBatch, pushed: &CacheAction) -> bool {
    let invalidated = |k: &QueryKey, r: RefetchType| {
        batch.actions.iter().any(|a| match a {
            CacheAction::Invalidate { key, refetch } => {
                (key == k || key.is_proper_prefix_of(k)) && *refetch >= r
            }
            _ => false,
        })
    };
    match pushed {
        CacheAction::Invalidate { key, refetch } => invalidated(key, *refetch),
        write => {
            invalidated(write.key(), RefetchType::None)
                || batch
                    .actions
                    .iter()
                    .any(|a| a.key() == write.key() && !matches!(a, CacheAction::Invalidate { .. }))
        }
    }
}

fn at_of(action: &CacheAction) -> Option<i64> {
    match action {
        CacheAction::SetQueryData { at, .. } | CacheAction::MergeQueryData { at, .. } => Some(*at),
        CacheAction::Invalidate { .. } => None,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn windows_deliver_everything_on_time_once_and_in_order(
        steps in prop::collection::vec((0u64..400, prop::collection::vec(arb_action(), 0..4)), 1..80),
        debounce in 1u64..300,
        extra in 0u64..400,
    ) {
        let config = BatchConfig { debounce_ms: debounce, max_wait_ms: debounce + extra, ..BatchConfig::default() };
        let mut b = Batcher::new(config);
        let mut now = 0;
        let mut pending: Vec<(u64, CacheAction)> = Vec::new();
        let mut applied_at: HashMap<QueryKey, i64> = HashMap::new();

        let check = |batch: CacheBatch, pending: &mut Vec<(u64, CacheAction)>, applied_at: &mut HashMap<QueryKey, i64>| -> Result<(), TestCaseError> {
            prop_assert!(batch.flushed_at <= batch.opened_at + config.max_wait_ms, "late: {batch:?}");
            let mut keys = HashSet::new();
            for action in &batch.actions {
                prop_assert!(keys.insert(action.key().clone()), "key twice in a batch: {:?}", action.key());
                if let Some(at) = at_of(action) {
                    let previous = applied_at.insert(action.key().clone(), at);
                    prop_assert!(previous.is_none_or(|p| p <= at), "older write replaced a newer one");
                }
            }
            for (pushed_at, action) in pending.drain(..) {
                prop_assert!(pushed_at >= batch.opened_at && pushed_at <= batch.flushed_at);
                prop_assert!(covered(&batch, &action), "lost {action:?} in {batch:?}");
            }
            Ok(())
        };

        for (gap, actions) in steps {
            let next = now + gap;
            while let Some(deadline) = b.deadline().filter(|&d| d <= next) {
                let batch = b.poll(deadline).expect("due");
                check(batch, &mut pending, &mut applied_at)?;
            }
            now = next;
            // A write older than one already applied is dropped at once and opens no window.
            let live = actions.iter().filter(|a| {
                !at_of(a).is_some_and(|at| applied_at.get(a.key()).is_some_and(|&applied| applied > at))
            });
            pending.extend(live.cloned().map(|a| (now, a)));
            b.push(actions, now);
        }
        if let Some(deadline) = b.deadline() {
            let batch = b.poll(deadline).expect("due");
            check(batch, &mut pending, &mut applied_at)?;
        }
        prop_assert!(pending.is_empty(), "never delivered: {pending:?}");
        prop_assert!(b.deadline().is_none());
    }
}
