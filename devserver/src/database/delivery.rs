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
use tokio::sync::mpsc;
use tokio_postgres::AsyncMessage;

/// Rows read per query.
const BATCH: usize = 256;

/// Starts delivering committed rows to the hub, for as long as the process runs.
pub fn start_delivery(db: Arc<Database>, hub: Arc<Hub>) {
    tokio::spawn(async move {
        loop {
            if let Err(e) = listen(&db, &hub).await {
                eprintln!("devserver: delivery from the database stopped ({e}); reconnecting");
            }
            tokio::time::sleep(Database::RETRY).await;
        }
    });
}

async fn listen(db: &Database, hub: &Hub) -> Result<(), DbError> {
    let (client, mut connection) = db.pool.connect().await?;
    let (tx, mut rx) = mpsc::unbounded_channel();
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
    let reader = db.pool.get().await?;
    client.batch_execute("listen casino_realtime_dev").await?;
    let mut ids = Vec::new();
    loop {
        let Some(first) = rx.recv().await else {
            break;
        };
        ids.clear();
        ids.push(first);
        while ids.len() < BATCH {
            match rx.try_recv() {
                Ok(id) => ids.push(id),
                Err(_) => break,
            }
        }
        let rows = reader
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
    pump.abort();
    db.pool.put(reader);
    Ok(())
}
