//! Seeds for each target: the catalog's fixture payloads, real frames both ways and both
//! serializers, and cache rules as apps write them.

use casino_realtime::json::{self, Value};
use casino_realtime::protocol::{
    encode_broadcast_push, encode_text, encode_user_broadcast, Broadcast, BroadcastPayload, Frame,
    Message, Vsn,
};

pub const FIXTURES: &str = include_str!("../../tests/fixtures/events.json");
pub const DEFAULT_RULES: &str = include_str!("../../src/cache/defaults.json");
pub const TOPIC: &str = "realtime:11111111-1111-4111-8111-111111111111";

/// `(event name, payload)` of every fixture.
pub fn fixtures() -> Vec<(String, Value)> {
    match json::parse(FIXTURES).unwrap() {
        Value::Object(members) => members,
        _ => unreachable!("the fixtures are an object"),
    }
}

fn broadcast(event: &str, payload: &Value, meta: Option<&str>) -> Broadcast {
    Broadcast {
        join_ref: None,
        msg_ref: None,
        topic: TOPIC.into(),
        event: event.into(),
        payload: BroadcastPayload::Json(payload.clone()),
        meta: meta.map(|m| json::parse(m).unwrap()),
    }
}

fn message(event: &str, payload: &str) -> Frame {
    Frame::Message(Message {
        join_ref: Some("1".into()),
        msg_ref: Some("1".into()),
        topic: TOPIC.into(),
        event: event.into(),
        payload: json::parse(payload).unwrap(),
    })
}

/// Text frames of every kind the server sends.
fn text_frames(vsn: Vsn) -> Vec<Vec<u8>> {
    let mut frames = vec![
        message(
            "phx_reply",
            r#"{"status":"ok","response":{"postgres_changes":[]}}"#,
        ),
        message(
            "phx_reply",
            r#"{"status":"error","response":{"reason":"Unauthorized: You do not have permissions to read from this Channel topic: x"}}"#,
        ),
        message(
            "system",
            r#"{"extension":"system","status":"error","message":"Token has expired 0 seconds ago","channel":"c"}"#,
        ),
        message("phx_close", "{}"),
        message("phx_error", r#"{"reason":"channel_crash"}"#),
        message("presence_state", r#"{"u1":{"metas":[{"phx_ref":"F1"}]}}"#),
        message("presence_diff", r#"{"joins":{},"leaves":{}}"#),
    ];
    for (event, payload) in fixtures().into_iter().take(8) {
        let meta = r#"{"id":"4f1c1d6e-0000-4000-8000-000000000001","replayed":true}"#;
        frames.push(Frame::Broadcast(broadcast(&event, &payload, Some(meta))));
    }
    frames
        .iter()
        .filter_map(|f| encode_text(f, vsn).ok())
        .map(String::into_bytes)
        .collect()
}

pub fn for_target(name: &str) -> Vec<Vec<u8>> {
    match name {
        "json" => {
            let mut seeds: Vec<Vec<u8>> = fixtures()
                .iter()
                .map(|(_, p)| p.to_json().into_bytes())
                .collect();
            seeds.extend(text_frames(Vsn::V2));
            seeds.push(br#"[1e309,-0,0.1e-400,"\ud800","\u0000",{"a":[true,false,null]}]"#.to_vec());
            seeds
        }
        "text-v1" => text_frames(Vsn::V1),
        "text-v2" | "session" => {
            let mut seeds = text_frames(Vsn::V2);
            if name == "session" {
                seeds.extend(binary_frames());
            }
            seeds
        }
        "binary" => binary_frames(),
        "event" => fixtures()
            .into_iter()
            .map(|(name, payload)| format!("{name}\n{}", payload.to_json()).into_bytes())
            .collect(),
        "rules" => vec![
            DEFAULT_RULES.as_bytes().to_vec(),
            br#"{"table.fill_requested":{"extend":[{"type":"invalidate","queryKey":["fills","{casino_id}"]}]}}"#.to_vec(),
            br#"{"loyalty.balance_updated":{"replace":[{"type":"setQueryData","queryKey":["balance","{player_id}"],"field":"balance"}]}}"#.to_vec(),
            br#"{"rating_slip.updated":{"replace":[{"type":"mergeQueryData","queryKey":["slip","{rating_slip_id}"],"fields":["average_bet"]}]}}"#.to_vec(),
            br#"{"table.deactivated":{"replace":[]}}"#.to_vec(),
        ],
        _ => unreachable!("unknown target {name}"),
    }
}

fn binary_frames() -> Vec<Vec<u8>> {
    let mut frames = Vec::new();
    for (event, payload) in fixtures().into_iter().take(8) {
        let b = broadcast(&event, &payload, Some(r#"{"id":"m-1"}"#));
        frames.push(encode_user_broadcast(&b).unwrap());
        let mut push = b.clone();
        push.join_ref = Some("3".into());
        push.msg_ref = Some("4".into());
        frames.push(encode_broadcast_push(&push).unwrap());
    }
    frames
}
