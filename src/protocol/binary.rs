//! Binary frames (vsn 2.0.0): kind 3, a client's broadcast push, and kind 4, the server's user
//! broadcast. Header strings are UTF-8 with byte lengths of at most 255.

use super::{Broadcast, BroadcastPayload, Frame, FrameError};
use crate::json::{self, Value};

const PUSH: u8 = 3;
const USER_BROADCAST: u8 = 4;
const ENCODING_BINARY: u8 = 0;
const ENCODING_JSON: u8 = 1;

/// Reads length-prefixed pieces off a frame.
struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, len: usize, what: &str) -> Result<&'a [u8], FrameError> {
        let piece = self
            .bytes
            .get(self.pos..self.pos + len)
            .ok_or_else(|| FrameError::new(format!("frame ends inside {what}")))?;
        self.pos += len;
        Ok(piece)
    }

    fn text(&mut self, len: u8, what: &str) -> Result<String, FrameError> {
        let piece = self.take(usize::from(len), what)?;
        String::from_utf8(piece.to_vec())
            .map_err(|_| FrameError::new(format!("{what} is not UTF-8")))
    }

    fn rest(&self) -> &'a [u8] {
        self.bytes.get(self.pos..).unwrap_or_default()
    }
}

fn meta(text: String) -> Result<Option<Value>, FrameError> {
    if text.is_empty() {
        return Ok(None);
    }
    match json::parse(&text) {
        Ok(value @ Value::Object(_)) => Ok(Some(value)),
        _ => Err(FrameError::new("metadata is not a JSON object")),
    }
}

fn payload(encoding: u8, bytes: &[u8]) -> Result<BroadcastPayload, FrameError> {
    match encoding {
        ENCODING_BINARY => Ok(BroadcastPayload::Binary(bytes.to_vec())),
        ENCODING_JSON => {
            let text = std::str::from_utf8(bytes)
                .map_err(|_| FrameError::new("JSON payload is not UTF-8"))?;
            json::parse(text)
                .map(BroadcastPayload::Json)
                .map_err(|e| FrameError::new(format!("payload: {e}")))
        }
        other => Err(FrameError::new(format!("unknown payload encoding {other}"))),
    }
}

/// Decodes a binary frame: kind 3 (from clients) or kind 4 (from servers).
pub fn decode_binary(bytes: &[u8]) -> Result<Frame, FrameError> {
    let mut c = Cursor { bytes, pos: 0 };
    let kind = c.take(1, "the kind")?[0];
    let broadcast = match kind {
        PUSH => {
            let h = c.take(6, "the header")?;
            let join_ref = c.text(h[0], "join_ref")?;
            let msg_ref = c.text(h[1], "ref")?;
            let topic = c.text(h[2], "topic")?;
            let event = c.text(h[3], "event")?;
            let meta = meta(c.text(h[4], "metadata")?)?;
            let payload = payload(h[5], c.rest())?;
            let some = |s: String| (!s.is_empty()).then_some(s);
            Broadcast {
                join_ref: some(join_ref),
                msg_ref: some(msg_ref),
                topic,
                event,
                payload,
                meta,
            }
        }
        USER_BROADCAST => {
            let h = c.take(4, "the header")?;
            let topic = c.text(h[0], "topic")?;
            let event = c.text(h[1], "event")?;
            let meta = meta(c.text(h[2], "metadata")?)?;
            let payload = payload(h[3], c.rest())?;
            Broadcast {
                join_ref: None,
                msg_ref: None,
                topic,
                event,
                payload,
                meta,
            }
        }
        other => {
            return Err(FrameError::new(format!(
                "binary kind {other} is not a broadcast"
            )))
        }
    };
    Ok(Frame::Broadcast(broadcast))
}

fn len(piece: &[u8], what: &str) -> Result<u8, FrameError> {
    u8::try_from(piece.len())
        .map_err(|_| FrameError::new(format!("{what} is longer than 255 bytes")))
}

fn payload_bytes(payload: &BroadcastPayload) -> (u8, Vec<u8>) {
    match payload {
        BroadcastPayload::Json(value) => (ENCODING_JSON, value.to_json().into_bytes()),
        BroadcastPayload::Binary(bytes) => (ENCODING_BINARY, bytes.clone()),
    }
}

fn meta_bytes(b: &Broadcast) -> Vec<u8> {
    b.meta
        .as_ref()
        .map(|m| m.to_json().into_bytes())
        .unwrap_or_default()
}

/// Encodes a client's broadcast push (kind 3).
pub fn encode_broadcast_push(b: &Broadcast) -> Result<Vec<u8>, FrameError> {
    let join_ref = b.join_ref.as_deref().unwrap_or_default().as_bytes();
    let msg_ref = b.msg_ref.as_deref().unwrap_or_default().as_bytes();
    let meta = meta_bytes(b);
    let (encoding, payload) = payload_bytes(&b.payload);
    let mut out = vec![
        PUSH,
        len(join_ref, "join_ref")?,
        len(msg_ref, "ref")?,
        len(b.topic.as_bytes(), "topic")?,
        len(b.event.as_bytes(), "event")?,
        len(&meta, "metadata")?,
        encoding,
    ];
    for piece in [
        join_ref,
        msg_ref,
        b.topic.as_bytes(),
        b.event.as_bytes(),
        &meta,
        &payload,
    ] {
        out.extend_from_slice(piece);
    }
    Ok(out)
}

/// Encodes a server's user broadcast (kind 4).
pub fn encode_user_broadcast(b: &Broadcast) -> Result<Vec<u8>, FrameError> {
    let meta = meta_bytes(b);
    let (encoding, payload) = payload_bytes(&b.payload);
    let mut out = vec![
        USER_BROADCAST,
        len(b.topic.as_bytes(), "topic")?,
        len(b.event.as_bytes(), "event")?,
        len(&meta, "metadata")?,
        encoding,
    ];
    for piece in [b.topic.as_bytes(), b.event.as_bytes(), &meta, &payload] {
        out.extend_from_slice(piece);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_push_realtime_js_sends() {
        // Observed from realtime-js 2.119.1 (docs/protocol.md §1.2).
        let mut bytes = vec![3, 1, 2, 14, 6, 0, 1];
        bytes.extend_from_slice(b"613realtime:room1cursor{\"x\":1,\"y\":2}");
        let Frame::Broadcast(b) = decode_binary(&bytes).unwrap() else {
            panic!()
        };
        assert_eq!(
            (b.join_ref.as_deref(), b.msg_ref.as_deref()),
            (Some("6"), Some("13"))
        );
        assert_eq!(
            (b.topic.as_str(), b.event.as_str(), b.meta.as_ref()),
            ("realtime:room1", "cursor", None)
        );
        assert_eq!(
            b.payload,
            BroadcastPayload::Json(json::parse(r#"{"x":1,"y":2}"#).unwrap())
        );
        assert_eq!(encode_broadcast_push(&b).unwrap(), bytes);
    }

    #[test]
    fn user_broadcasts_round_trip_with_meta_and_binary_payloads() {
        let b = Broadcast {
            join_ref: None,
            msg_ref: None,
            topic: "realtime:c1".into(),
            event: "évent".into(),
            payload: BroadcastPayload::Binary(vec![0, 159, 255]),
            meta: Some(json::parse(r#"{"id":"m-1"}"#).unwrap()),
        };
        let bytes = encode_user_broadcast(&b).unwrap();
        assert_eq!(&bytes[..5], &[4, 11, 6, 12, 0], "UTF-8 byte lengths");
        assert_eq!(decode_binary(&bytes).unwrap(), Frame::Broadcast(b));
    }

    #[test]
    fn bad_frames_are_errors_not_panics() {
        let long = Broadcast {
            join_ref: None,
            msg_ref: None,
            topic: "t".repeat(256),
            event: "e".into(),
            payload: BroadcastPayload::Json(Value::Null),
            meta: None,
        };
        assert!(encode_user_broadcast(&long).is_err());
        for bytes in [
            &[][..],
            &[1, 0, 0, 0, 0][..],
            &[4, 5, 0, 0, 1][..],
            &[4, 1, 1, 0, 7, b't', b'e'][..],
            &[4, 1, 1, 2, 1, b't', b'e', b'[', b']'][..],
            &[4, 1, 1, 0, 1, b't', b'e', b'{'][..],
            &[3, 0, 0, 0][..],
        ] {
            assert!(decode_binary(bytes).is_err(), "{bytes:?}");
        }
    }
}
