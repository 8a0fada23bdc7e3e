//! The inspector behind `debug: true`: the last events with what became of each (applied,
//! duplicate, foreign, malformed) and the last batches with each key they touched and the events
//! that caused it. Bounded (a ring of each), and off unless asked for: the hot path then pays one
//! branch. Its records are also what the `logger` option receives, one line each.
//!
//! Built only with the `inspect` feature (the package's debug host): without it [`Inspector`] is
//! a type with no values, so no session can hold one and every call on one compiles to nothing;
//! the default host carries none of this code.
#![cfg_attr(not(feature = "inspect"), allow(dead_code, unused_imports))]

use crate::batch::{BatchReason, CacheBatch};
use crate::cache::{CacheAction, QueryKey};
use crate::json::Writer;
use std::collections::VecDeque;

/// What became of one delivery.
#[derive(Debug, Clone, PartialEq)]
pub enum Fate {
    /// Its actions went into the open window; the keys they name.
    Applied(Vec<QueryKey>),
    /// Seen before (by `meta.id` or by its identity): dropped.
    Duplicate,
    /// It named another casino: dropped.
    Foreign,
    /// The catalog refused it: dropped, with why.
    Malformed(String),
}

impl Fate {
    fn as_str(&self) -> &'static str {
        match self {
            Fate::Applied(_) => "applied",
            Fate::Duplicate => "duplicate",
            Fate::Foreign => "foreign",
            Fate::Malformed(_) => "malformed",
        }
    }
}

#[derive(Debug, Clone)]
struct EventRecord {
    seq: u64,
    at: i64,
    topic: String,
    event: String,
    fate: Fate,
    batch: Option<u64>,
}

#[derive(Debug, Clone)]
struct KeyRecord {
    action: &'static str,
    key: QueryKey,
    causes: Vec<String>,
}

#[derive(Debug, Clone)]
struct BatchRecord {
    seq: u64,
    at: i64,
    reason: &'static str,
    keys: Vec<KeyRecord>,
}

/// One line for the `logger`: its kind (`event`, `batch`), a sentence, and the record as JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    /// `event` or `batch`.
    pub kind: &'static str,
    /// What happened, in words.
    pub message: String,
    /// The record, as `inspect()` shows it.
    pub json: String,
}

/// The rings of recent events and batches.
#[cfg(feature = "inspect")]
#[derive(Debug, Clone)]
pub struct Inspector {
    capacity: usize,
    next: u64,
    events: VecDeque<EventRecord>,
    batches: VecDeque<BatchRecord>,
    /// Events applied since the last batch (their sequence numbers): the batch's candidates.
    open: Vec<u64>,
    log: Option<Vec<LogLine>>,
}

fn action_name(action: &CacheAction) -> &'static str {
    match action {
        CacheAction::Invalidate { .. } => "invalidate",
        CacheAction::SetQueryData { .. } => "setQueryData",
        CacheAction::MergeQueryData { .. } => "mergeQueryData",
    }
}

/// Without the `inspect` feature: no inspector can exist.
#[cfg(not(feature = "inspect"))]
#[derive(Debug, Clone)]
pub enum Inspector {}

#[cfg(not(feature = "inspect"))]
impl Inspector {
    /// None: this build has no inspector.
    pub fn boxed(_capacity: usize, _logging: bool) -> Option<Box<Inspector>> {
        None
    }

    /// Unreachable: there is no inspector.
    pub fn event(&mut self, _topic: &str, _event: &str, _fate: Fate, _at: i64) {
        match *self {}
    }

    /// Unreachable: there is no inspector.
    pub fn batch(&mut self, _batch: &CacheBatch, _at: i64) {
        match *self {}
    }

    /// Unreachable: there is no inspector.
    pub fn take_log(&mut self) -> Vec<LogLine> {
        match *self {}
    }

    /// Unreachable: there is no inspector.
    pub fn to_json(&self) -> String {
        match *self {}
    }
}

#[cfg(feature = "inspect")]
impl Inspector {
    /// An inspector keeping `capacity` of each (see [`Inspector::new`]), boxed for a session.
    pub fn boxed(capacity: usize, logging: bool) -> Option<Box<Inspector>> {
        Some(Box::new(Inspector::new(capacity, logging)))
    }

    /// Keeps the last `capacity` events and as many batches; `logging` also queues a line per
    /// record for the `logger`.
    pub fn new(capacity: usize, logging: bool) -> Inspector {
        Inspector {
            capacity: capacity.max(1),
            next: 1,
            events: VecDeque::new(),
            batches: VecDeque::new(),
            open: Vec::new(),
            log: logging.then(Vec::new),
        }
    }

    /// One delivery on `topic`, and its fate, at wall time `at` (ms).
    pub fn event(&mut self, topic: &str, event: &str, fate: Fate, at: i64) {
        let seq = self.next;
        self.next += 1;
        if matches!(fate, Fate::Applied(_)) {
            self.open.push(seq);
        }
        let record = EventRecord {
            seq,
            at,
            topic: topic.to_owned(),
            event: event.to_owned(),
            fate,
            batch: None,
        };
        if let Some(log) = &mut self.log {
            let why = match &record.fate {
                Fate::Malformed(why) => format!(": {why}"),
                _ => String::new(),
            };
            log.push(LogLine {
                kind: "event",
                message: format!(
                    "{} {} on {}{why}",
                    record.fate.as_str(),
                    record.event,
                    record.topic
                ),
                json: event_json(&record),
            });
        }
        if self.events.len() == self.capacity {
            self.events.pop_front();
        }
        self.events.push_back(record);
    }

    /// A batch handed to `onBatch` at wall time `at`: each key with the events of its window
    /// that caused it (an event whose key it is, or is a prefix of), or `resync`.
    pub fn batch(&mut self, batch: &CacheBatch, at: i64) {
        let seq = self.next;
        self.next += 1;
        let open = std::mem::take(&mut self.open);
        let mut keys = Vec::with_capacity(batch.actions.len());
        for action in &batch.actions {
            let key = action.key();
            let mut causes = Vec::new();
            for record in self.events.iter_mut().filter(|r| open.contains(&r.seq)) {
                let Fate::Applied(event_keys) = &record.fate else {
                    continue;
                };
                if event_keys
                    .iter()
                    .any(|k| k == key || key.is_proper_prefix_of(k))
                {
                    record.batch = Some(seq);
                    if !causes.contains(&record.event) {
                        causes.push(record.event.clone());
                    }
                }
            }
            if causes.is_empty() {
                let cause = if batch.reason == BatchReason::Poll {
                    "poll"
                } else {
                    "resync"
                };
                causes.push(cause.to_owned());
            }
            keys.push(KeyRecord {
                action: action_name(action),
                key: key.clone(),
                causes,
            });
        }
        let record = BatchRecord {
            seq,
            at,
            reason: batch.reason.as_str(),
            keys,
        };
        if let Some(log) = &mut self.log {
            log.push(LogLine {
                kind: "batch",
                message: format!(
                    "batch ({}): {} key(s) from {} event(s)",
                    record.reason,
                    record.keys.len(),
                    batch.events
                ),
                json: batch_json(&record),
            });
        }
        if self.batches.len() == self.capacity {
            self.batches.pop_front();
        }
        self.batches.push_back(record);
    }

    /// The lines queued for the `logger` since the last call.
    pub fn take_log(&mut self) -> Vec<LogLine> {
        self.log.as_mut().map(std::mem::take).unwrap_or_default()
    }

    /// `{ events: [...], batches: [...] }`, oldest first.
    pub fn to_json(&self) -> String {
        let mut out = String::from("{\"events\":[");
        for (i, record) in self.events.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(&event_json(record));
        }
        out.push_str("],\"batches\":[");
        for (i, record) in self.batches.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(&batch_json(record));
        }
        out.push_str("]}");
        out
    }
}

fn event_json(record: &EventRecord) -> String {
    let mut out = String::new();
    let mut w = Writer::new(&mut out);
    w.open('{').key("seq").int(record.seq as i64);
    w.key("at")
        .int(record.at)
        .key("topic")
        .string(&record.topic);
    w.key("event").string(&record.event);
    w.key("fate").string(record.fate.as_str());
    if let Fate::Malformed(why) = &record.fate {
        w.key("reason").string(why);
    }
    if let Fate::Applied(keys) = &record.fate {
        w.key("keys").open('[');
        for key in keys {
            key.write(&mut w);
        }
        w.close(']');
    }
    if let Some(batch) = record.batch {
        w.key("batch").int(batch as i64);
    }
    w.close('}');
    out
}

fn batch_json(record: &BatchRecord) -> String {
    let mut out = String::new();
    let mut w = Writer::new(&mut out);
    w.open('{')
        .key("seq")
        .int(record.seq as i64)
        .key("at")
        .int(record.at);
    w.key("reason").string(record.reason).key("keys").open('[');
    for key in &record.keys {
        w.open('{').key("type").string(key.action).key("queryKey");
        key.key.write(&mut w);
        w.key("causes").open('[');
        for cause in &key.causes {
            w.string(cause);
        }
        w.close(']').close('}');
    }
    w.close(']').close('}');
    out
}

#[cfg(all(test, feature = "inspect"))]
mod tests {
    use super::*;
    use crate::cache::{KeyPart, RefetchType};

    fn key(parts: &[&str]) -> QueryKey {
        QueryKey(parts.iter().map(|p| KeyPart::Str((*p).into())).collect())
    }

    fn invalidate(parts: &[&str]) -> CacheAction {
        CacheAction::Invalidate {
            key: key(parts),
            refetch: RefetchType::Active,
        }
    }

    fn batch(actions: Vec<CacheAction>, reason: BatchReason) -> CacheBatch {
        CacheBatch {
            actions,
            reason,
            events: 2,
            duplicates: 1,
            opened_at: 0,
            flushed_at: 0,
        }
    }

    #[test]
    fn a_batch_names_the_events_behind_each_key() {
        let mut inspector = Inspector::new(10, true);
        let fills = key(&["table-context", "fills", "c"]);
        let custody = key(&["table-context", "table", "t", "custody"]);
        inspector.event(
            "realtime:c",
            "table.fill_requested",
            Fate::Applied(vec![fills.clone(), custody]),
            1,
        );
        inspector.event("realtime:c", "table.fill_requested", Fate::Duplicate, 2);
        inspector.event(
            "realtime:c",
            "table.deactivated",
            Fate::Applied(vec![key(&["table-context", "table", "t"])]),
            3,
        );
        inspector.event(
            "realtime:c",
            "nope",
            Fate::Malformed("unknown event".into()),
            4,
        );
        // The batcher folded custody under its prefix, the table key.
        inspector.batch(
            &batch(
                vec![
                    invalidate(&["table-context", "fills", "c"]),
                    invalidate(&["table-context", "table", "t"]),
                    invalidate(&["visit", "list", "c"]),
                ],
                BatchReason::Window,
            ),
            5,
        );
        let json = inspector.to_json();
        assert!(json.contains(r#"{"type":"invalidate","queryKey":["table-context","fills","c"],"causes":["table.fill_requested"]}"#), "{json}");
        assert!(json.contains(r#"{"type":"invalidate","queryKey":["table-context","table","t"],"causes":["table.fill_requested","table.deactivated"]}"#), "{json}");
        assert!(
            json.contains(
                r#"{"type":"invalidate","queryKey":["visit","list","c"],"causes":["resync"]}"#
            ),
            "{json}"
        );
        assert!(json.contains(r#""event":"table.fill_requested","fate":"duplicate""#));
        assert!(json.contains(r#""event":"nope","fate":"malformed","reason":"unknown event""#));
        assert!(
            json.contains(r#""fate":"applied","keys":[["table-context","table","t"]],"batch":5"#),
            "{json}"
        );
        let log = inspector.take_log();
        assert_eq!(log.len(), 5);
        assert_eq!(
            log[3].message,
            "malformed nope on realtime:c: unknown event"
        );
        assert_eq!(log[4].message, "batch (window): 3 key(s) from 2 event(s)");
        assert!(inspector.take_log().is_empty(), "taken once");
        // The next batch's candidates are only the events after this one.
        inspector.batch(
            &batch(
                vec![invalidate(&["table-context", "fills", "c"])],
                BatchReason::Resync,
            ),
            6,
        );
        assert!(inspector.to_json().ends_with(r#""causes":["resync"]}]}]}"#));
    }

    #[test]
    fn the_rings_are_bounded() {
        let mut inspector = Inspector::new(3, false);
        for i in 0..10 {
            inspector.event("t", &format!("e{i}"), Fate::Duplicate, i);
            inspector.batch(&batch(Vec::new(), BatchReason::Flush), i);
        }
        let json = inspector.to_json();
        assert_eq!(json.matches(r#""fate""#).count(), 3);
        assert_eq!(json.matches(r#""reason":"flush""#).count(), 3);
        assert!(json.contains(r#""event":"e9""#) && !json.contains(r#""event":"e6""#));
        assert!(inspector.take_log().is_empty(), "no logger, no lines");
    }
}
