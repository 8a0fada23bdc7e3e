//! Text frames: vsn 1 JSON objects `{topic, event, payload, ref, join_ref?}` and vsn 2 JSON arrays
//! `[join_ref, ref, topic, event, payload]`.

use super::{Broadcast, BroadcastPayload, Frame, FrameError, Message, Vsn};
use crate::json::{self, Value, Writer};

fn opt_string(value: Option<&Value>, what: &str) -> Result<Option<String>, FrameError> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(FrameError::new(format!(
            "{what} must be a string or null, got {}",
            other.preview(40)
        ))),
    }
}

fn string(value: Option<&Value>, what: &str) -> Result<String, FrameError> {
    opt_string(value, what)?.ok_or_else(|| FrameError::new(format!("{what} is required")))
}

/// Decodes a text frame.
pub fn decode_text(text: &str, vsn: Vsn) -> Result<Frame, FrameError> {
    let value = json::parse(text).map_err(|e| FrameError::new(e.to_string()))?;
    let message = match (vsn, value) {
        (Vsn::V2, Value::Array(mut items)) if items.len() >= 5 => {
            let payload = std::mem::replace(&mut items[4], Value::Null);
            Message {
                join_ref: opt_string(items.first(), "join_ref")?,
                msg_ref: opt_string(items.get(1), "ref")?,
                topic: string(items.get(2), "topic")?,
                event: string(items.get(3), "event")?,
                payload,
            }
        }
        (Vsn::V2, _) => return Err(FrameError::new("a vsn 2.0.0 text frame is an array of 5")),
        (Vsn::V1, value @ Value::Object(_)) => Message {
            join_ref: opt_string(value.get("join_ref"), "join_ref")?,
            msg_ref: opt_string(value.get("ref"), "ref")?,
            topic: string(value.get("topic"), "topic")?,
            event: string(value.get("event"), "event")?,
            payload: value
                .get("payload")
                .cloned()
                .ok_or_else(|| FrameError::new("payload is required"))?,
        },
        (Vsn::V1, _) => return Err(FrameError::new("a vsn 1.0.0 frame is a JSON object")),
    };
    Ok(normalise(message))
}

/// A JSON `broadcast` message becomes a [`Broadcast`].
fn normalise(message: Message) -> Frame {
    let is_broadcast = message.event == "broadcast"
        && message.payload.get("type").and_then(Value::as_str) == Some("broadcast")
        && message
            .payload
            .get("event")
            .and_then(Value::as_str)
            .is_some();
    if !is_broadcast {
        return Frame::Message(message);
    }
    let Message {
        join_ref,
        msg_ref,
        topic,
        payload,
        ..
    } = message;
    let event = payload
        .get("event")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let meta = payload.get("meta").cloned();
    let user = payload.get("payload").cloned().unwrap_or(Value::Null);
    Frame::Broadcast(Broadcast {
        join_ref,
        msg_ref,
        topic,
        event,
        payload: BroadcastPayload::Json(user),
        meta,
    })
}

fn write_opt(w: &mut Writer<'_>, value: Option<&str>) {
    match value {
        Some(s) => w.string(s),
        None => w.value(&Value::Null),
    };
}

/// Encodes a frame as text. A broadcast is written in its JSON form; one with a binary payload
/// has no text form and yields an error.
pub fn encode_text(frame: &Frame, vsn: Vsn) -> Result<String, FrameError> {
    let (join_ref, msg_ref, topic, event, payload);
    let broadcast_payload;
    match frame {
        Frame::Message(m) => {
            (join_ref, msg_ref, topic, event) = (
                m.join_ref.as_deref(),
                m.msg_ref.as_deref(),
                &m.topic,
                m.event.as_str(),
            );
            payload = &m.payload;
        }
        Frame::Broadcast(b) => {
            let BroadcastPayload::Json(user) = &b.payload else {
                return Err(FrameError::new("a binary broadcast has no text form"));
            };
            let mut members = vec![
                ("type".to_owned(), Value::from("broadcast")),
                ("event".to_owned(), Value::from(b.event.as_str())),
                ("payload".to_owned(), user.clone()),
            ];
            if let Some(meta) = &b.meta {
                members.push(("meta".to_owned(), meta.clone()));
            }
            broadcast_payload = Value::Object(members);
            (join_ref, msg_ref, topic, event) = (
                b.join_ref.as_deref(),
                b.msg_ref.as_deref(),
                &b.topic,
                "broadcast",
            );
            payload = &broadcast_payload;
        }
    }
    let mut out = String::new();
    let mut w = Writer::new(&mut out);
    match vsn {
        Vsn::V2 => {
            w.open('[');
            write_opt(&mut w, join_ref);
            write_opt(&mut w, msg_ref);
            w.string(topic).string(event).value(payload).close(']');
        }
        Vsn::V1 => {
            w.open('{')
                .key("topic")
                .string(topic)
                .key("event")
                .string(event);
            w.key("payload").value(payload).key("ref");
            write_opt(&mut w, msg_ref);
            if let Some(join_ref) = join_ref {
                w.key("join_ref").string(join_ref);
            }
            w.close('}');
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(text: &str, vsn: Vsn) -> Message {
        match decode_text(text, vsn).unwrap() {
            Frame::Message(m) => m,
            other => panic!("not a message: {other:?}"),
        }
    }

    #[test]
    fn reads_v2_arrays_and_writes_them_back() {
        let text = r#"["6","6","realtime:room1","phx_join",{"config":{"private":true}}]"#;
        let m = message(text, Vsn::V2);
        assert_eq!(
            (m.join_ref.as_deref(), m.msg_ref.as_deref()),
            (Some("6"), Some("6"))
        );
        assert_eq!(
            (m.topic.as_str(), m.event.as_str()),
            ("realtime:room1", "phx_join")
        );
        assert_eq!(encode_text(&Frame::Message(m), Vsn::V2).unwrap(), text);

        let heartbeat = message(r#"[null,"7","phoenix","heartbeat",{}]"#, Vsn::V2);
        assert_eq!(heartbeat.join_ref, None);
    }

    #[test]
    fn reads_v1_objects_and_writes_them_back() {
        let text = r#"{"topic":"realtime:room1","event":"phx_join","payload":{},"ref":"6","join_ref":"6"}"#;
        let m = message(text, Vsn::V1);
        assert_eq!(m.join_ref.as_deref(), Some("6"));
        assert_eq!(
            encode_text(&Frame::Message(m.clone()), Vsn::V1).unwrap(),
            text
        );
        let reply = Message {
            join_ref: None,
            ..m
        };
        assert_eq!(
            encode_text(&Frame::Message(reply), Vsn::V1).unwrap(),
            r#"{"topic":"realtime:room1","event":"phx_join","payload":{},"ref":"6"}"#
        );
    }

    #[test]
    fn json_broadcasts_decode_as_broadcasts() {
        let text = r#"[null,null,"realtime:c1","broadcast",{"type":"broadcast","event":"table.deactivated","payload":{"a":1},"meta":{"id":"m-1"}}]"#;
        let Frame::Broadcast(b) = decode_text(text, Vsn::V2).unwrap() else {
            panic!("not a broadcast")
        };
        assert_eq!(
            (b.topic.as_str(), b.event.as_str(), b.meta_id()),
            ("realtime:c1", "table.deactivated", Some("m-1"))
        );
        assert_eq!(
            b.payload,
            BroadcastPayload::Json(json::parse(r#"{"a":1}"#).unwrap())
        );
        assert_eq!(encode_text(&Frame::Broadcast(b), Vsn::V2).unwrap(), text);
    }

    #[test]
    fn bad_frames_are_errors() {
        for (text, vsn) in [
            ("[1,2,3]", Vsn::V2),
            (r#"{"topic":"t"}"#, Vsn::V2),
            ("nope", Vsn::V2),
            (r#"[null,null,5,"e",{}]"#, Vsn::V2),
            (r#"[1,null,"t","e",{}]"#, Vsn::V2),
            ("[]", Vsn::V1),
            (r#"{"topic":"t","event":"e"}"#, Vsn::V1),
        ] {
            assert!(decode_text(text, vsn).is_err(), "{text}");
        }
    }
}
