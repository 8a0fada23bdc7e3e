//! Test helpers: a server on a free port, a raw WebSocket client speaking the SDK's frame codec,
//! and a tiny HTTP/1.1 client.
#![allow(dead_code, clippy::unwrap_used)]

use casino_realtime::json::{self, Value};
use casino_realtime::protocol::{decode_binary, decode_text, encode_text, Frame, Message, Vsn};
use devserver::config::Config;
use devserver::hub::now_ms;
use devserver::jwt::{mint, TokenSpec};
use devserver::Server;
use futures_util::{SinkExt, StreamExt};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message as Ws;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub const CASINO: &str = "11111111-1111-4111-8111-111111111111";
pub const OTHER: &str = "22222222-2222-4222-8222-222222222222";

/// A server on a free port, without Supabase's deliberate delays unless the test asks for them
/// (`server_as_supabase`).
pub async fn server(config: Config) -> Server {
    server_as_supabase(config.fast()).await
}

/// A server on a free port, with the configuration as given.
pub async fn server_as_supabase(config: Config) -> Server {
    Server::start(Config { port: 0, ..config }).await.unwrap()
}

pub fn token(server: &Server, staff: &str, casino: &str, ttl_s: i64) -> String {
    let spec = TokenSpec {
        role: "authenticated".into(),
        staff_role: Some(staff.into()).filter(|s: &String| !s.is_empty()),
        casino_id: Some(casino.into()),
        sub: "tester".into(),
        ttl_s,
    };
    mint(&spec, &server.hub.config.secret, now_ms() / 1000)
}

pub fn service_token(server: &Server) -> String {
    let spec = TokenSpec {
        role: "service_role".into(),
        staff_role: None,
        casino_id: None,
        sub: "server".into(),
        ttl_s: 3600,
    };
    mint(&spec, &server.hub.config.secret, now_ms() / 1000)
}

pub fn j(text: &str) -> Value {
    json::parse(text).unwrap()
}

/// A WebSocket client that encodes and decodes with the SDK's codec.
pub struct Client {
    pub ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    pub vsn: Vsn,
    next_ref: u64,
}

/// What arrived, with the wire form it came in.
#[derive(Debug)]
pub enum Got {
    Text(Frame),
    Binary(Frame),
    Closed,
}

impl Got {
    pub fn frame(self) -> Frame {
        match self {
            Got::Text(f) | Got::Binary(f) => f,
            Got::Closed => panic!("connection closed"),
        }
    }

    pub fn message(self) -> Message {
        match self.frame() {
            Frame::Message(m) => m,
            other => panic!("expected a message, got {other:?}"),
        }
    }
}

impl Client {
    pub async fn connect(server: &Server, query: &str, vsn: Vsn) -> Client {
        let url = format!("{}?{query}", server.websocket_url());
        let (ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
        Client {
            ws,
            vsn,
            next_ref: 0,
        }
    }

    /// Connects with a pit boss token of CASINO as apikey, vsn 2.
    pub async fn pit_boss(server: &Server) -> Client {
        let key = token(server, "pit_boss", CASINO, 3600);
        Client::connect(server, &format!("apikey={key}&vsn=2.0.0"), Vsn::V2).await
    }

    pub fn make_ref(&mut self) -> String {
        self.next_ref += 1;
        self.next_ref.to_string()
    }

    pub async fn send(
        &mut self,
        join_ref: Option<&str>,
        topic: &str,
        event: &str,
        payload: Value,
    ) -> String {
        let msg_ref = self.make_ref();
        let frame = Frame::Message(Message {
            join_ref: join_ref.map(Into::into),
            msg_ref: Some(msg_ref.clone()),
            topic: topic.into(),
            event: event.into(),
            payload,
        });
        self.ws
            .send(Ws::Text(encode_text(&frame, self.vsn).unwrap().into()))
            .await
            .unwrap();
        msg_ref
    }

    pub async fn send_raw(&mut self, message: Ws) {
        self.ws.send(message).await.unwrap();
    }

    /// Sends phx_join and returns (join_ref, reply payload).
    pub async fn join(&mut self, topic: &str, payload: Value) -> (String, Value) {
        let join_ref = self.make_ref();
        let frame = Frame::Message(Message {
            join_ref: Some(join_ref.clone()),
            msg_ref: Some(join_ref.clone()),
            topic: topic.into(),
            event: "phx_join".into(),
            payload,
        });
        self.ws
            .send(Ws::Text(encode_text(&frame, self.vsn).unwrap().into()))
            .await
            .unwrap();
        let reply = self.expect_event("phx_reply").await;
        assert_eq!(reply.msg_ref.as_deref(), Some(join_ref.as_str()));
        (join_ref, reply.payload)
    }

    pub async fn next(&mut self, wait: Duration) -> Option<Got> {
        loop {
            let item = tokio::time::timeout(wait, self.ws.next()).await.ok()?;
            return Some(match item {
                None | Some(Err(_)) | Some(Ok(Ws::Close(_))) => Got::Closed,
                Some(Ok(Ws::Text(t))) => Got::Text(decode_text(&t, self.vsn).unwrap()),
                Some(Ok(Ws::Binary(b))) => Got::Binary(decode_binary(&b).unwrap()),
                Some(Ok(_)) => continue,
            });
        }
    }

    pub async fn recv(&mut self) -> Got {
        self.next(Duration::from_secs(5))
            .await
            .expect("a frame within 5 s")
    }

    /// The next message with this event, skipping others.
    pub async fn expect_event(&mut self, event: &str) -> Message {
        loop {
            if let Frame::Message(m) = self.recv().await.frame() {
                if m.event == event {
                    return m;
                }
            }
        }
    }

    /// Asserts nothing arrives for `ms`.
    pub async fn quiet(&mut self, ms: u64) {
        if let Some(got) = self.next(Duration::from_millis(ms)).await {
            panic!("expected silence, got {got:?}");
        }
    }
}

pub fn join_payload(private: bool, access_token: Option<&str>, broadcast: &str) -> Value {
    let token = access_token.map_or(String::new(), |t| format!(r#","access_token":"{t}""#));
    j(&format!(
        r#"{{"config":{{"broadcast":{broadcast},"presence":{{"key":"","enabled":false}},"postgres_changes":[],"private":{private}}}{token}}}"#
    ))
}

pub fn reply_status(reply: &Value) -> (String, Value) {
    let status = reply
        .get("status")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    (
        status,
        reply.get("response").cloned().unwrap_or(Value::Null),
    )
}

pub fn reason(reply: &Value) -> String {
    reply_status(reply)
        .1
        .get("reason")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

/// A minimal HTTP/1.1 request; returns (status, body).
pub async fn http(
    server: &Server,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, String) {
    let text = http_raw(server, method, path, headers, body).await;
    let status = text.split(' ').nth(1).unwrap_or("0").parse().unwrap();
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

/// The whole response, head and body, as text.
pub async fn http_raw(
    server: &Server,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> String {
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Length: {}\r\n",
        server.addr,
        body.len()
    );
    for (k, v) in headers {
        request.push_str(&format!("{k}: {v}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    stream.write_all(body).await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    String::from_utf8_lossy(&response).to_string()
}

pub async fn post_json(server: &Server, path: &str, bearer: &str, body: &str) -> (u16, String) {
    let auth = format!("Bearer {bearer}");
    http(
        server,
        "POST",
        path,
        &[
            ("authorization", &auth),
            ("content-type", "application/json"),
        ],
        body.as_bytes(),
    )
    .await
}
