//! Broadcasts into the pipeline: a broadcast on a joined channel's current join is decoded,
//! validated, de-duplicated and mapped once (`pipeline.rs`) for the clients that hold the
//! channel; what it says of the producers' clocks and of a replay under way goes to recovery.

use super::channel::Phase;
use super::channels::Channels;
use super::recovery::Recovery;
use super::retry::Rng;
use super::types::SessionError;
use crate::audience::Audience;
use crate::catalog::Uuid;
use crate::clock::Now;
use crate::inspect::{Fate, Inspector};
use crate::json::Value;
use crate::pipeline::{Outcome, Pipeline};
use crate::protocol::{Broadcast, BroadcastPayload};

/// What the session must do beside the pipeline after a broadcast.
#[derive(Debug)]
pub(super) enum Ingested {
    /// Not for a current join: ignored.
    Ignored,
    /// A payload the session cannot read (binary): counted and reported.
    Unreadable(String),
    /// Through the pipeline; tell these clients of this error, if any.
    Taken(Option<(Audience, SessionError)>),
}

/// The parts a broadcast goes through.
pub(super) struct Sink<'a> {
    pub channels: &'a mut Channels,
    pub pipeline: &'a mut Pipeline,
    pub recovery: &'a mut Recovery,
    pub inspector: Option<&'a mut Inspector>,
    pub rng: &'a mut Rng,
    pub casino: Uuid,
}

/// Takes a broadcast into the pipeline.
pub(super) fn broadcast(b: Broadcast, sink: Sink<'_>, now: Now) -> Ingested {
    let Some(channel) = sink.channels.get(&b.topic) else {
        return Ingested::Ignored;
    };
    // Kind-4 frames carry no join_ref; a JSON one from an old join is stale.
    let Phase::Joined(joined) = &channel.phase else {
        return Ingested::Ignored;
    };
    if b.join_ref.is_some() && b.join_ref.as_deref() != Some(joined.join_ref.as_str()) {
        return Ingested::Ignored;
    }
    let BroadcastPayload::Json(payload) = b.payload else {
        return Ingested::Unreadable(format!("binary payload for {} on {}", b.event, b.topic));
    };
    let replayed = b.meta.as_ref().and_then(|m| m.get("replayed")) == Some(&Value::Bool(true));
    let meta_id = b
        .meta
        .as_ref()
        .and_then(|m| m.get("id"))
        .and_then(Value::as_str);
    let audience = channel.audience;
    let outcome = sink
        .pipeline
        .ingest(&b.event, payload, meta_id, sink.casino, audience, now);
    let topic = b.topic;
    if let Some(inspector) = sink.inspector {
        let fate = match &outcome {
            Outcome::Applied { .. } => Fate::Applied(sink.pipeline.take_keys()),
            Outcome::Duplicate { .. } => Fate::Duplicate,
            Outcome::ForeignCasino { .. } => Fate::Foreign,
            Outcome::Invalid(error) => Fate::Malformed(error.to_string()),
        };
        inspector.event(&topic, &b.event, fate, now.wall);
    }
    let report = match &outcome {
        Outcome::Applied { at_micros } if !replayed => {
            sink.recovery.observe(*at_micros, now);
            None
        }
        Outcome::Applied { .. } | Outcome::Duplicate { .. } => None,
        Outcome::Invalid(error) => Some(SessionError::InvalidEvent {
            topic: topic.clone(),
            error: error.clone(),
        }),
        Outcome::ForeignCasino { casino_id } => Some(SessionError::ForeignCasino {
            topic: topic.clone(),
            event: b.event.clone(),
            casino_id: *casino_id,
        }),
    };
    if let Some(channel) = sink.channels.get_mut(&topic) {
        channel.last_event = Some(now.mono);
        let known = outcome == Outcome::Duplicate { copy: true };
        if replayed && sink.recovery.replayed(channel, known) {
            let Sink {
                channels,
                pipeline,
                recovery,
                rng,
                ..
            } = sink;
            recovery.settle_replay(&topic, channels, pipeline, now, rng);
        }
    }
    Ingested::Taken(report.map(|error| (audience, error)))
}
