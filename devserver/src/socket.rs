//! One WebSocket connection: the upgrade checks, the read loop (with the idle timeout) and the
//! handling of each message (docs/protocol.md §2-§5).

use crate::config::FramesMode;
use crate::hub::{message, now_ms, Conn, ConnId, Hub, Outbound};
use crate::{channel, jwt};
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{CloseFrame, Message as WsMessage, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use casino_realtime::json::Value;
use casino_realtime::protocol::{decode_binary, decode_text, Frame, Vsn};
use futures_util::{SinkExt, StreamExt};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, Notify};

fn json_error(status: StatusCode, key: &str, message: &str) -> Response {
    let body = Value::Object(vec![(key.into(), message.into())]).to_json();
    (status, [("content-type", "application/json")], body).into_response()
}

/// `GET /realtime/v1/websocket` (and `/socket/websocket`): checks `vsn` and the `apikey` as
/// Supabase does before upgrading. Like Phoenix, the checks run before the upgrade's headers are
/// looked at: a plain GET gets the same refusal (the SDK's diagnosis reads it, browsers hide a
/// refused upgrade's status), or 400 when the checks pass (docs/supabase-server-behaviour.md).
pub async fn upgrade(
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
    Query(params): Query<HashMap<String, String>>,
    headers: HeaderMap,
    State(hub): State<Arc<Hub>>,
) -> Response {
    let (vsn, apikey) = match connect(&params, &headers, &hub).await {
        Ok(accepted) => accepted,
        Err(refusal) => {
            if ws.is_ok() {
                hub.lock().counters.refused_upgrades += 1;
            }
            return refusal;
        }
    };
    let ws = match ws {
        Ok(ws) => ws,
        Err(not_upgrade) => {
            let said = format!("not a WebSocket upgrade: {}", not_upgrade.body_text());
            return (StatusCode::BAD_REQUEST, said).into_response();
        }
    };
    let frames = params
        .get("frames")
        .and_then(|f| FramesMode::parse(f))
        .unwrap_or(hub.config.frames);
    ws.max_frame_size(5_000_000)
        .max_message_size(5_000_000)
        .on_upgrade(move |socket| run(socket, hub, vsn, frames, apikey))
}

/// Supabase's connect checks, in its order: the serializer (`vsn`), then the key; a refused
/// key is answered after the connect delay, with Realtime's JSON.
async fn connect(
    params: &HashMap<String, String>,
    headers: &HeaderMap,
    hub: &Arc<Hub>,
) -> Result<(Vsn, String), Response> {
    let Some(vsn) = Vsn::from_param(params.get("vsn").map(String::as_str)) else {
        return Err(StatusCode::FORBIDDEN.into_response());
    };
    let apikey = headers
        .get("x-api-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or_else(|| params.get("apikey").cloned());
    // The outage fault: as if the network were down, the upgrade does not happen.
    if hub.lock().faults.outage_until_ms > now_ms() {
        return Err(StatusCode::SERVICE_UNAVAILABLE.into_response());
    }
    let refused = match apikey.filter(|k| !k.is_empty()) {
        None => "API key is missing".to_owned(),
        Some(key) => match jwt::verify(&key, &hub.config.secret, now_ms() / 1000) {
            Ok(_) => return Ok((vsn, key)),
            Err(e) => e.connect_message(),
        },
    };
    // Supabase answers a refused connect after a deliberate pause.
    tokio::time::sleep(hub.config.connect_error_delay).await;
    Err(json_error(StatusCode::UNAUTHORIZED, "error", &refused))
}

async fn run(socket: WebSocket, hub: Arc<Hub>, vsn: Vsn, frames: FramesMode, apikey: String) {
    let (mut sink, mut stream) = socket.split();
    let (tx, mut rx) = mpsc::unbounded_channel();
    let held_until = Arc::new(AtomicI64::new(0));
    let half_open = Arc::new(AtomicBool::new(false));
    let conn_id = hub.lock().add_conn(Conn {
        tx,
        vsn,
        frames,
        apikey,
        channels: HashMap::new(),
        held_until: held_until.clone(),
        half_open: half_open.clone(),
        heartbeats: Vec::new(),
    });
    let done = Arc::new(Notify::new());

    let writer_done = done.clone();
    let writer_half_open = half_open.clone();
    let writer = tokio::spawn(async move {
        while let Some(out) = rx.recv().await {
            // Held while the socket process sleeps on a failed join; silent once half-open.
            let wait = held_until.load(Ordering::Relaxed) - now_ms();
            if wait > 0 {
                tokio::time::sleep(Duration::from_millis(wait as u64)).await;
            }
            if writer_half_open.load(Ordering::Relaxed) && out != Outbound::Abort {
                continue;
            }
            let sent = match out {
                Outbound::Text(text) => sink.send(WsMessage::Text(text.into())).await,
                Outbound::Binary(bytes) => sink.send(WsMessage::Binary(bytes.into())).await,
                Outbound::Close(code, reason) => {
                    let frame = CloseFrame {
                        code,
                        reason: reason.into(),
                    };
                    let _ = sink.send(WsMessage::Close(Some(frame))).await;
                    break;
                }
                Outbound::Abort => break,
            };
            if sent.is_err() {
                break;
            }
        }
        writer_done.notify_one();
    });

    loop {
        tokio::select! {
            _ = done.notified() => break,
            next = tokio::time::timeout(hub.config.idle_timeout, stream.next()) => match next {
                // Silence for the idle timeout: Phoenix closes the transport.
                Err(_) | Ok(None) | Ok(Some(Err(_))) => break,
                Ok(Some(Ok(WsMessage::Close(_)))) => break,
                // Half-open: what the client sends never arrives.
                Ok(Some(Ok(_))) if half_open.load(Ordering::Relaxed) => {}
                Ok(Some(Ok(WsMessage::Text(text)))) => {
                    let hold = handle(&hub, conn_id, decode_text(&text, vsn), false);
                    // The socket reads nothing more while it sleeps on a failed join.
                    if let Some(hold) = hold {
                        tokio::time::sleep(hold).await;
                    }
                }
                Ok(Some(Ok(WsMessage::Binary(bytes)))) => {
                    handle(&hub, conn_id, decode_binary(&bytes), true);
                }
                Ok(Some(Ok(_))) => {}
            }
        }
    }
    // Removing the connection drops its sender, which ends the writer; then the socket closes.
    hub.lock().conns.remove(&conn_id);
    let _ = writer.await;
}

/// Handles one frame; `Some(delay)` when the socket must read nothing more for that long.
fn handle(
    hub: &Arc<Hub>,
    conn_id: ConnId,
    frame: Result<Frame, casino_realtime::protocol::FrameError>,
    binary: bool,
) -> Option<Duration> {
    // A malformed frame is dropped and the connection stays open, as on Supabase.
    let Ok(frame) = frame else { return None };
    match frame {
        Frame::Broadcast(b) => channel::client_broadcast(hub, conn_id, b, binary),
        Frame::Message(m) => match (m.topic.as_str(), m.event.as_str()) {
            ("phoenix", "heartbeat") => {
                let mut state = hub.lock();
                if let Some(conn) = state.conns.get_mut(&conn_id) {
                    if conn.heartbeats.len() == 64 {
                        conn.heartbeats.remove(0);
                    }
                    conn.heartbeats.push(crate::hub::now_ms());
                }
                if !state.faults.silent_heartbeats {
                    if let Some(conn) = state.conns.get(&conn_id) {
                        conn.reply(
                            None,
                            m.msg_ref.as_deref(),
                            "phoenix",
                            "ok",
                            Value::Object(Vec::new()),
                        );
                    }
                }
            }
            (_, "phx_join") => return channel::join(hub, conn_id, m),
            (_, "phx_leave") => channel::leave(hub, conn_id, &m),
            (_, "access_token") => channel::refresh_token(hub, conn_id, &m),
            _ => channel::other(hub, conn_id, &m),
        },
    }
    None
}

/// Every socket goes half-open: the server stops reading and writing it, without closing it.
pub fn half_open_all(hub: &Hub) -> usize {
    let state = hub.lock();
    for conn in state.conns.values() {
        conn.half_open.store(true, Ordering::Relaxed);
    }
    state.conns.len()
}

/// Drops every connection without a close frame (the "network died" fault); returns how many.
pub fn drop_all(hub: &Hub) -> usize {
    let state = hub.lock();
    for conn in state.conns.values() {
        let _ = conn.tx.send(Outbound::Abort);
    }
    state.conns.len()
}

/// Sends every connection a frame that is not a Realtime frame.
pub fn send_malformed(hub: &Hub) -> usize {
    let state = hub.lock();
    for conn in state.conns.values() {
        let _ = conn
            .tx
            .send(Outbound::Text("{\"this is\": not a frame".into()));
        let _ = conn.tx.send(Outbound::Binary(vec![9, 1, 2, 3]));
    }
    state.conns.len()
}

/// Sends every joined channel a broadcast frame of about `bytes` bytes.
pub fn send_oversized(hub: &Hub, bytes: usize) -> usize {
    let state = hub.lock();
    let mut sent = HashSet::new();
    for (id, conn) in &state.conns {
        for channel in conn.channels.values() {
            let padding = "x".repeat(bytes);
            let payload = Value::Object(vec![
                ("type".into(), "broadcast".into()),
                ("event".into(), "oversized".into()),
                (
                    "payload".into(),
                    Value::Object(vec![("padding".into(), padding.into())]),
                ),
            ]);
            conn.send(&message(None, None, &channel.topic, "broadcast", payload));
            sent.insert(*id);
        }
    }
    sent.len()
}
