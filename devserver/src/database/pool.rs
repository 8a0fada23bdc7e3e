//! Connections kept for reuse: one per transaction in flight (publishing transactions overlap,
//! each holds its connection for its whole length).

use super::DbError;
use std::sync::Mutex;
use tokio_postgres::{Client, Config, NoTls};

/// Idle connections at most kept.
const KEEP: usize = 16;

pub(super) struct Pool {
    config: Config,
    idle: Mutex<Vec<Client>>,
}

impl Pool {
    pub(super) fn new(config: Config) -> Self {
        Pool {
            config,
            idle: Mutex::new(Vec::new()),
        }
    }

    /// A fresh connection, driven by its own task until the client is dropped.
    pub(super) async fn connect(
        &self,
    ) -> Result<
        (
            Client,
            tokio_postgres::Connection<tokio_postgres::Socket, tokio_postgres::tls::NoTlsStream>,
        ),
        DbError,
    > {
        Ok(self.config.connect(NoTls).await?)
    }

    pub(super) async fn get(&self) -> Result<Client, DbError> {
        let idle = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
        if let Some(client) = idle.filter(|c| !c.is_closed()) {
            return Ok(client);
        }
        let (client, connection) = self.connect().await?;
        tokio::spawn(async move {
            let _ = connection.await;
        });
        Ok(client)
    }

    /// Gives a connection back; one whose transaction failed midway is rolled back by
    /// tokio-postgres when its `Transaction` is dropped, so every kept client is idle.
    pub(super) fn put(&self, client: Client) {
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        if idle.len() < KEEP && !client.is_closed() {
            idle.push(client);
        }
    }
}
