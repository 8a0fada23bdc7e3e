//! Delivery of committed rows: a connection LISTENs for the delivery trigger's notifications
//! (sent at commit, in commit order), reads the rows they name and hands them to the hub as
//! Broadcast from Database, in that order. A lost connection is reopened; rows committed
//! meanwhile are not delivered, as Realtime's replication restarting loses them (replay covers
//! both).

use super::{Database, DbError};
use crate::hub::Hub;
use casino_realtime::json;
use futures_util::StreamExt;
use std::sync::Arc;
use tokio::sync::mpsc::{self, UnboundedReceiver};
use tokio::task::JoinHandle;
use tokio_postgres::{AsyncMessage, Client};

/// Rows read per query.
const BATCH: usize = 256;

/// The pause before listening again after the database went away.
const RETRY: std::time::Duration = std::time::Duration::from_secs(1);

/// A connection listening, and what it heard.
struct Listening {
    /// Holds the LISTEN (dropping it ends the session).
    _listener: Client,
    ids: UnboundedReceiver<String>,
    pump: JoinHandle<()>,
    reader: Client,
}

/// Starts delivering committed rows to the hub, for as long as the process runs; returns once
/// the first LISTEN is in place, so nothing committed after the server started is missed.
pub async fn start_delivery(db: Arc<Database>, hub: Arc<Hub>) -> Result<(), DbError> {
    let mut listening = listen(&db).await?;
    tokio::spawn(async move {
        loop {
            if let Err(e) = deliver(&hub, &mut listening).await {
                eprintln!("devserver: delivery from the database stopped ({e}); reconnecting");
            }
            listening.pump.abort();
            loop {
                tokio::time::sleep(RETRY).await;
                match listen(&db).await {
                    Ok(l) => {
                        listening = l;
                        break;
                    }
                    Err(e) => eprintln!("devserver: cannot listen to the database ({e})"),
                }
            }
        }
    });
    Ok(())
}

async fn listen(db: &Database) -> Result<Listening, DbError> {
    let (listener, mut connection) = db.pool.connect().await?;
    let (tx, ids) = mpsc::unbounded_channel();
    let mut messages = futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
    let pump = tokio::spawn(async move {
        while let Some(message) = messages.next().await {
            match message {
                Ok(AsyncMessage::Notification(n)) => {
                    if tx.send(n.payload().to_owned()).is_err() {
                        break;
                    }
                }
                Ok(_) => {}
                Err(_) => break,
            }
        }
    });
    listener.batch_execute("listen casino_realtime_dev").await?;
    let reader = db.pool.get().await?;
    Ok(Listening {
        _listener: listener,
        ids,
        pump,
        reader,
    })
}

/// Delivers what is heard until the connection is lost.
async fn deliver(hub: &Hub, listening: &mut Listening) -> Result<(), DbError> {
    let mut ids = Vec::new();
    while let Some(first) = listening.ids.recv().await {
        ids.clear();
        ids.push(first);
        while ids.len() < BATCH {
            match listening.ids.try_recv() {
                Ok(id) => ids.push(id),
                Err(_) => break,
            }
        }
        let rows = listening
            .reader
            .query(
                "select id::text, topic, event, private, payload::text from realtime.messages
                 where id = any($1::text[]::uuid[])",
                &[&ids],
            )
            .await?;
        // In commit order, as the notifications came.
        for id in &ids {
            let Some(row) = rows.iter().find(|r| r.get::<_, String>(0) == *id) else {
                continue;
            };
            let (topic, event, private, payload): (
                String,
                Option<String>,
                Option<bool>,
                Option<String>,
            ) = (row.get(1), row.get(2), row.get(3), row.get(4));
            // Realtime drops a row without event, private or payload (`:<col>_missing`).
            let (Some(event), Some(private), Some(payload)) = (event, private, payload) else {
                continue;
            };
            let Ok(payload) = json::parse(&payload) else {
                continue;
            };
            hub.deliver_committed(&topic, &event, payload, private, id);
        }
    }
    Err(DbError {
        code: String::new(),
        message: "the listening connection closed".into(),
        detail: None,
    })
}
