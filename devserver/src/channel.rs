//! Channel messages: join (with auth, policy and replay), leave, token refresh and expiry,
//! broadcasts pushed by clients, and the channel faults.

use crate::database::Replayed;
use crate::hub::{message, now_ms, ConnId, Hub, Origin, State};
use crate::jwt::{self, Claims};
use crate::policy;
use casino_realtime::json::{Number, Value};
use casino_realtime::protocol::{
    encode_text, encode_user_broadcast, Broadcast, BroadcastPayload, Frame, Message, Vsn,
};
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

/// Supabase's `FlexibleBoolean`: a boolean, or "true"/"false" in any case.
fn flag(value: Option<&Value>) -> Option<bool> {
    match value? {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

fn empty() -> Value {
    Value::Object(Vec::new())
}

/// What a successful join needs.
struct Joined {
    private: bool,
    receive_own: bool,
    ack: bool,
    token: String,
    claims: Claims,
    replay: Option<(i64, usize)>,
    postgres_changes: Value,
}

/// Checks a join as Supabase does, in its order; `Err` is the `Code: message` reason. `read` is
/// the database's answer for a private channel, when it decides (`--database-url`); else the
/// policy table does.
fn check_join(
    state: &State,
    hub: &Hub,
    conn_id: ConnId,
    m: &Message,
    read: Option<bool>,
) -> Result<Joined, String> {
    let subtopic = m.topic.strip_prefix("realtime:").ok_or("unmatched topic")?;
    if subtopic.is_empty() {
        return Err("TopicNameRequired: You must provide a topic name".into());
    }
    if let Some(reason) = &state.faults.refuse_joins {
        return Err(reason.clone());
    }
    let conn = state
        .conns
        .get(&conn_id)
        .ok_or("Unknown Error on Channel")?;
    let config = m.payload.get("config");
    let private = flag(config.and_then(|c| c.get("private"))).unwrap_or(false);
    let broadcast = config.and_then(|c| c.get("broadcast"));
    if hub.config.private_only && !private {
        return Err("PrivateOnly: This project only allows private channels".into());
    }
    let token = m
        .payload
        .get("access_token")
        .or_else(|| m.payload.get("user_token"))
        .and_then(Value::as_str)
        .filter(|t| !t.starts_with("sb_"))
        .unwrap_or(&conn.apikey)
        .to_owned();
    let claims =
        jwt::verify(&token, &hub.config.secret, now_ms() / 1000).map_err(|e| e.join_reason())?;
    if private && !read.unwrap_or_else(|| policy::can_read(&claims, subtopic)) {
        return Err(format!(
            "Unauthorized: You do not have permissions to read from this Channel topic: {subtopic}"
        ));
    }
    let replay = match broadcast.and_then(|b| b.get("replay")) {
        None | Some(Value::Null) => None,
        Some(_) if !private => {
            return Err("UnableToReplayMessages: Replay is not allowed for public channels".into())
        }
        Some(params) => {
            let number = |name: &str| match params.get(name) {
                Some(Value::Number(n)) => Some(n.value() as i64),
                _ => None,
            };
            let since =
                number("since").ok_or("UnableToReplayMessages: Replay params are not valid")?;
            let limit = match params.get("limit") {
                None | Some(Value::Null) => 25,
                Some(_) => {
                    number("limit").ok_or("UnableToReplayMessages: Replay params are not valid")?
                }
            };
            Some((since, limit.clamp(1, 25) as usize))
        }
    };
    if !conn.channels.contains_key(&m.topic)
        && conn.channels.len() >= hub.config.max_channels_per_client
    {
        return Err("ChannelRateLimitReached: Too many channels".into());
    }
    // Postgres changes are not produced here, but the bindings are acknowledged with ids so
    // that realtime-js's binding check passes.
    let postgres_changes = match config.and_then(|c| c.get("postgres_changes")) {
        Some(Value::Array(items)) => Value::Array(
            items
                .iter()
                .enumerate()
                .map(|(i, item)| match item.clone() {
                    Value::Object(mut members) => {
                        members.push(("id".into(), Value::Number(Number::int(i as i64 + 1))));
                        Value::Object(members)
                    }
                    other => other,
                })
                .collect(),
        ),
        _ => Value::Array(Vec::new()),
    };
    Ok(Joined {
        private,
        receive_own: flag(broadcast.and_then(|b| b.get("self"))).unwrap_or(false),
        ack: flag(broadcast.and_then(|b| b.get("ack"))).unwrap_or(false),
        token,
        claims,
        replay,
        postgres_changes,
    })
}

/// `phx_join`, after the join-delay fault if one is set. A refused join is answered after the
/// join error delay, during which the socket does nothing else: the reader is told to wait
/// (`Some(delay)`) and the writer holds what it has, as Supabase's socket process sleeps.
pub fn join(hub: &Arc<Hub>, conn_id: ConnId, m: Message) -> Option<Duration> {
    let delay = {
        let mut state = hub.lock();
        state.counters.joins += 1;
        state.faults.join_delay_ms
    };
    if hub.db.is_some() {
        let hub = hub.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(delay)).await;
            let answer = database_join(&hub, conn_id, &m).await;
            complete_join(&hub, conn_id, m, Some(answer));
        });
        return None;
    }
    if delay == 0 {
        return complete_join(hub, conn_id, m, None);
    }
    let hub = hub.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(delay)).await;
        complete_join(&hub, conn_id, m, None);
    });
    None
}

/// What the database says about a join (`--database-url`), asked in Realtime's order before the
/// join is answered: whether the caller may read the private channel (its RLS policies, probed
/// as Realtime probes them; a policy that errors reads as a refusal, as Realtime's
/// `RlsPolicyError` does), then the rows to replay (`Err` when the query failed).
#[derive(Default)]
struct DbAnswer {
    read: Option<bool>,
    replay: Option<Result<Vec<Replayed>, ()>>,
    /// Realtime's reason when asking failed in a way it names (`handle_policies_result`).
    failed: Option<String>,
}

/// How Realtime words a failed policy check (RT `authorization.ex`, `handle_policies_result`):
/// a missing partition and an unreachable database are named; any other error is an RLS error,
/// answered as Unauthorized.
fn policy_failure(e: &crate::database::DbError) -> Option<String> {
    match e.code.as_str() {
        "23514" => Some(
            "MissingPartition: Realtime was unable to find the expected messages partition".into(),
        ),
        "" => Some(
            "UnableToConnectToProject: Realtime was unable to connect to the project database"
                .into(),
        ),
        _ => None,
    }
}

/// Whether the database's RLS policies let the token's claims read `subtopic` (Realtime's probe).
async fn rls_may_read(
    db: &crate::database::Database,
    token: &str,
    role: &str,
    subtopic: &str,
) -> Result<bool, crate::database::DbError> {
    match jwt::claims_json(token) {
        Some(claims) => db.can_read(role, &claims, subtopic).await,
        None => Ok(false),
    }
}

async fn database_join(hub: &Arc<Hub>, conn_id: ConnId, m: &Message) -> DbAnswer {
    let Some(db) = hub.db.clone() else {
        return DbAnswer::default();
    };
    let joined = {
        let state = hub.lock();
        check_join(&state, hub, conn_id, m, Some(true))
    };
    let Ok(joined) = joined else {
        return DbAnswer::default();
    };
    let subtopic = m.topic.strip_prefix("realtime:").unwrap_or(&m.topic);
    let mut answer = DbAnswer::default();
    if joined.private {
        let read = rls_may_read(&db, &joined.token, &joined.claims.role, subtopic).await;
        answer.failed = read.as_ref().err().and_then(policy_failure);
        answer.read = Some(read.unwrap_or(false));
    }
    if let (Some((since, limit)), false) = (joined.replay, answer.read == Some(false)) {
        answer.replay = Some(db.replay(subtopic, since, limit).await.map_err(|_| ()));
    }
    answer
}

fn complete_join(
    hub: &Arc<Hub>,
    conn_id: ConnId,
    m: Message,
    answer: Option<DbAnswer>,
) -> Option<Duration> {
    let mut state = hub.lock();
    let (read, replayed, failed) =
        answer.map_or((None, None, None), |a| (a.read, a.replay, a.failed));
    let mut outcome = check_join(&state, hub, conn_id, &m, read);
    if let (Err(_), Some(failed)) = (&outcome, failed) {
        outcome = Err(failed);
    }
    if outcome.is_ok() && matches!(replayed, Some(Err(()))) {
        outcome = Err("UnableToReplayMessages: Realtime was unable to replay messages".into());
    }
    // The transient fault: the policy allows it, but evaluating it "failed".
    if outcome.as_ref().is_ok_and(|j| j.private) && state.faults.unauthorized_joins > 0 {
        state.faults.unauthorized_joins -= 1;
        let subtopic = m.topic.strip_prefix("realtime:").unwrap_or(&m.topic);
        outcome = Err(format!(
            "Unauthorized: You do not have permissions to read from this Channel topic: {subtopic}"
        ));
    }
    let conn = state.conns.get_mut(&conn_id)?;
    let (jr, r) = (m.join_ref.clone(), m.msg_ref.clone());
    let joined = match outcome {
        Ok(joined) => joined,
        Err(reason) => {
            let response = Value::Object(vec![("reason".into(), reason.into())]);
            let delay = hub.config.join_error_delay;
            conn.hold(delay);
            conn.reply(jr.as_deref(), r.as_deref(), &m.topic, "error", response);
            return (!delay.is_zero()).then_some(delay);
        }
    };
    // A second join of the same topic replaces the first, which is closed.
    if let Some(old) = conn.channels.remove(&m.topic) {
        conn.close_channel(&old);
    }
    let join_ref = jr.clone().unwrap_or_default();
    let channel = crate::hub::Channel {
        topic: m.topic.clone(),
        join_ref: join_ref.clone(),
        private: joined.private,
        receive_own: joined.receive_own,
        ack: joined.ack,
        token: joined.token,
        claims: joined.claims.clone(),
        generation: 0,
        replayed: HashSet::new(),
    };
    conn.channels.insert(m.topic.clone(), channel);
    let response = Value::Object(vec![("postgres_changes".into(), joined.postgres_changes)]);
    conn.reply(jr.as_deref(), r.as_deref(), &m.topic, "ok", response);
    // Realtime queries first and subscribes after: a row committed in between reaches neither.
    let messages = match (joined.replay, replayed) {
        (Some(_), Some(Ok(rows))) => rows,
        (Some((since, limit)), None) if hub.db.is_none() => {
            let subtopic = m.topic.strip_prefix("realtime:").unwrap_or(&m.topic);
            stored_since(&state, subtopic, since, limit)
        }
        _ => Vec::new(),
    };
    if !messages.is_empty() {
        send_replay(&mut state, conn_id, &m.topic, &join_ref, messages);
    }
    drop(state);
    arm_expiry(hub.clone(), conn_id, m.topic, 0, joined.claims.exp);
    None
}

/// The presence fault: every joined channel gets a `presence_state` and a `presence_diff`, as a
/// channel others track presence on does (the SDK must ignore them).
pub fn send_presence(hub: &Hub) -> usize {
    let state = hub.lock();
    let mut sent = 0;
    for conn in state.conns.values() {
        for channel in conn.channels.values() {
            let jr = Some(channel.join_ref.as_str());
            let meta = Value::object(vec![
                ("phx_ref", "F3x7".into()),
                ("online_at", "2025-12-20T10:15:00Z".into()),
            ]);
            let user = Value::object(vec![("metas", Value::Array(vec![meta]))]);
            let state_payload = Value::object(vec![("dev-user", user.clone())]);
            conn.send(&message(
                jr,
                None,
                &channel.topic,
                "presence_state",
                state_payload,
            ));
            let diff = Value::object(vec![
                ("joins", Value::object(vec![("dev-user", user)])),
                ("leaves", empty()),
            ]);
            conn.send(&message(jr, None, &channel.topic, "presence_diff", diff));
            sent += 1;
        }
    }
    sent
}

/// The newest `limit` stored messages of `subtopic` since `since` (ms), oldest first, as
/// Supabase's query picks them: `inserted_at >= since` among committed rows.
fn stored_since(state: &State, subtopic: &str, since: i64, limit: usize) -> Vec<Replayed> {
    let stored: Vec<_> = state
        .store
        .get(subtopic)
        .map(|q| {
            q.iter()
                .filter(|s| s.committed && s.inserted_ms >= since)
                .map(|s| (s.id.clone(), s.event.clone(), s.payload.clone()))
                .collect()
        })
        .unwrap_or_default();
    let start = stored.len().saturating_sub(limit);
    stored[start..].to_vec()
}

/// Sends replayed messages `(id, event, payload)`, marked `replayed`; their ids are remembered
/// so live copies are not delivered twice.
fn send_replay(
    state: &mut State,
    conn_id: ConnId,
    topic: &str,
    join_ref: &str,
    messages: Vec<Replayed>,
) {
    let Some(conn) = state.conns.get_mut(&conn_id) else {
        return;
    };
    // vsn 1.0.0 sockets get no replays (docs/protocol.md §1.2).
    if conn.vsn == Vsn::V1 {
        return;
    }
    for (id, event, payload) in messages {
        let meta = Value::Object(vec![
            ("replayed".into(), Value::Bool(true)),
            ("id".into(), id.as_str().into()),
        ]);
        let broadcast = Broadcast {
            join_ref: Some(join_ref.to_owned()),
            msg_ref: None,
            topic: topic.to_owned(),
            event,
            payload: BroadcastPayload::Json(payload),
            meta: Some(meta),
        };
        let out = if conn.frames == crate::config::FramesMode::Json {
            encode_text(&Frame::Broadcast(broadcast), conn.vsn)
                .ok()
                .map(crate::hub::Outbound::Text)
        } else {
            encode_user_broadcast(&broadcast)
                .ok()
                .map(crate::hub::Outbound::Binary)
        };
        if let Some(out) = out {
            let _ = conn.tx.send(out);
        }
        if let Some(channel) = conn.channels.get_mut(topic) {
            channel.replayed.insert(id);
        }
    }
}

/// Closes the channel at the token's expiry, unless the token changed since (`generation`).
fn arm_expiry(hub: Arc<Hub>, conn_id: ConnId, topic: String, generation: u64, exp_s: i64) {
    tokio::spawn(async move {
        let wait_ms = (exp_s * 1000 - now_ms()).max(0) as u64;
        tokio::time::sleep(Duration::from_millis(wait_ms)).await;
        let mut state = hub.lock();
        let Some(conn) = state.conns.get_mut(&conn_id) else {
            return;
        };
        if conn
            .channels
            .get(&topic)
            .is_some_and(|c| c.generation == generation)
        {
            let ago = (now_ms() / 1000 - exp_s).max(0);
            conn.shutdown(&topic, &format!("Token has expired {ago} seconds ago"));
        }
    });
}

/// The channel a message is for, if joined and its `join_ref` is current (or absent).
fn current<'a>(
    state: &'a mut State,
    conn_id: ConnId,
    topic: &str,
    join_ref: Option<&str>,
) -> Option<&'a mut crate::hub::Channel> {
    let channel = state.conns.get_mut(&conn_id)?.channels.get_mut(topic)?;
    (join_ref.is_none() || join_ref == Some(channel.join_ref.as_str())).then_some(channel)
}

/// `phx_leave`: ok, then `phx_close`. Leaving a topic that is not joined is ok too.
pub fn leave(hub: &Hub, conn_id: ConnId, m: &Message) {
    let mut state = hub.lock();
    let Some(conn) = state.conns.get_mut(&conn_id) else {
        return;
    };
    let stale = conn
        .channels
        .get(&m.topic)
        .is_some_and(|c| m.join_ref.as_deref().is_some_and(|jr| jr != c.join_ref));
    if stale {
        return;
    }
    conn.reply(
        m.join_ref.as_deref(),
        m.msg_ref.as_deref(),
        &m.topic,
        "ok",
        empty(),
    );
    if let Some(channel) = conn.channels.remove(&m.topic) {
        conn.close_channel(&channel);
    }
}

/// `access_token`: no reply; a new valid token re-arms the expiry, anything else closes. On a
/// database, whether the new token may still read a private channel is the RLS policies' call.
pub fn refresh_token(hub: &Arc<Hub>, conn_id: ConnId, m: &Message) {
    let Some(db) = hub.db.clone() else {
        return apply_token(hub, conn_id, m, None);
    };
    let private = {
        let mut state = hub.lock();
        match current(&mut state, conn_id, &m.topic, m.join_ref.as_deref()) {
            Some(channel) => channel.private,
            None => return,
        }
    };
    let token = m.payload.get("access_token").and_then(Value::as_str);
    let verified = token.and_then(|t| jwt::verify(t, &hub.config.secret, now_ms() / 1000).ok());
    let (Some(token), Some(claims), true) = (token, verified, private) else {
        return apply_token(hub, conn_id, m, None);
    };
    let (hub, m, token) = (hub.clone(), m.clone(), token.to_owned());
    tokio::spawn(async move {
        let subtopic = m.topic.strip_prefix("realtime:").unwrap_or(&m.topic);
        let read = rls_may_read(&db, &token, &claims.role, subtopic).await;
        apply_token(&hub, conn_id, &m, Some(read.unwrap_or(false)));
    });
}

/// Installs or refuses a pushed token; `read` is the database's answer, when it decides.
fn apply_token(hub: &Arc<Hub>, conn_id: ConnId, m: &Message, read: Option<bool>) {
    let Some(token) = m.payload.get("access_token").and_then(Value::as_str) else {
        return;
    };
    if token.starts_with("sb_") {
        return;
    }
    let mut state = hub.lock();
    let Some(channel) = current(&mut state, conn_id, &m.topic, m.join_ref.as_deref()) else {
        return;
    };
    if channel.token == token {
        return;
    }
    let subtopic = channel.subtopic().to_owned();
    let verdict = match jwt::verify(token, &hub.config.secret, now_ms() / 1000) {
        Err(e) => Err(e.message()),
        Ok(claims)
            if channel.private && !read.unwrap_or_else(|| policy::can_read(&claims, &subtopic)) =>
        {
            Err(format!(
                "You no longer have permission to read from this Channel topic: {subtopic}"
            ))
        }
        Ok(claims) => Ok(claims),
    };
    match verdict {
        Ok(claims) => {
            channel.token = token.to_owned();
            channel.generation += 1;
            let generation = channel.generation;
            channel.claims = claims.clone();
            drop(state);
            arm_expiry(
                hub.clone(),
                conn_id,
                m.topic.clone(),
                generation,
                claims.exp,
            );
        }
        Err(text) => {
            if let Some(conn) = state.conns.get_mut(&conn_id) {
                conn.shutdown(&m.topic, &text);
            }
        }
    }
}

/// A broadcast pushed by a client on a joined channel: policy, size, `self`, `ack`.
pub fn client_broadcast(hub: &Hub, conn_id: ConnId, b: Broadcast, binary: bool) {
    let mut state = hub.lock();
    let Some(channel) = current(&mut state, conn_id, &b.topic, b.join_ref.as_deref()) else {
        return;
    };
    let (private, receive_own, ack, join_ref) = (
        channel.private,
        channel.receive_own,
        channel.ack,
        channel.join_ref.clone(),
    );
    let subtopic = channel.subtopic().to_owned();
    // Without the write policy Supabase drops the message and does not answer, even with ack.
    if private && !policy::can_write(&channel.claims, &subtopic) {
        return;
    }
    let size = match &b.payload {
        BroadcastPayload::Json(v) => v.to_json().len(),
        BroadcastPayload::Binary(bytes) => bytes.len(),
    };
    let reply = |state: &State, status: &str, response: Value| {
        if let Some(conn) = state.conns.get(&conn_id) {
            conn.reply(
                Some(&join_ref),
                b.msg_ref.as_deref(),
                &b.topic,
                status,
                response,
            );
        }
    };
    if size > hub.config.max_payload_bytes {
        if ack {
            reply(&state, "error", "payload_size_exceeded".into());
        }
        return;
    }
    let origin = Origin::Client {
        conn: conn_id,
        receive_own,
        binary,
    };
    state.deliver(&subtopic, private, &b, &origin, &hub.config);
    if ack {
        reply(&state, "ok", empty());
    }
}

/// Any other message: ignored on a joined channel (presence and the like); a push to a topic
/// that is not joined gets Phoenix's "unmatched topic".
pub fn other(hub: &Hub, conn_id: ConnId, m: &Message) {
    let state = hub.lock();
    let Some(conn) = state.conns.get(&conn_id) else {
        return;
    };
    if !conn.channels.contains_key(&m.topic) && m.msg_ref.is_some() {
        let response = Value::Object(vec![("reason".into(), "unmatched topic".into())]);
        conn.reply(
            m.join_ref.as_deref(),
            m.msg_ref.as_deref(),
            &m.topic,
            "error",
            response,
        );
    }
}

/// The crash fault: `phx_error` on every channel joined to `topic`; clients must rejoin.
pub fn crash(hub: &Hub, topic: &str) -> usize {
    let mut state = hub.lock();
    let mut crashed = 0;
    for conn in state.conns.values_mut() {
        if let Some(channel) = conn.channels.remove(topic) {
            let jr = Some(channel.join_ref.as_str());
            let payload = Value::Object(vec![("reason".into(), "channel_crash".into())]);
            conn.send(&message(jr, jr, topic, "phx_error", payload));
            crashed += 1;
        }
    }
    crashed
}

/// The expiry fault: every channel (or those on `topic`) closes as if its token had expired.
pub fn expire_tokens(hub: &Hub, topic: Option<&str>) -> usize {
    let mut state = hub.lock();
    let mut closed = 0;
    for conn in state.conns.values_mut() {
        let topics: Vec<String> = conn
            .channels
            .keys()
            .filter(|t| topic.is_none_or(|only| only == *t))
            .cloned()
            .collect();
        for t in topics {
            conn.shutdown(&t, "Token has expired 0 seconds ago");
            closed += 1;
        }
    }
    closed
}
