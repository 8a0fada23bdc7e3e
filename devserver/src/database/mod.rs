//! The dev server on a real PostgreSQL (`--database-url`): events are published through the SQL
//! an app deploys (`casino_realtime.emit`, or `realtime.send`), committed rows of
//! `realtime.messages` are delivered as Broadcast from Database (`meta.id` = the row's id),
//! replay reads the table with Realtime's query, and private joins are decided by the RLS
//! policies in the database, probed the way Realtime probes them (docs/supabase-database.md).

mod delivery;
mod pool;
mod queries;

pub use delivery::start_delivery;
pub use queries::{Caller, Replayed};

use pool::Pool;
use std::fmt;
use std::str::FromStr;

/// Supabase's pieces for a plain PostgreSQL (roles, `auth`, `realtime.messages`).
const SUPABASE_STAND_IN: &str = include_str!("../migrations/supabase.sql");

/// `realtime.messages`' daily partitions from yesterday to today + 3, as Realtime keeps them.
const PARTITIONS: &str = include_str!("../migrations/partitions.sql");

/// What the dev server adds to a database it serves: a trigger that says, at commit, which rows
/// were inserted. Realtime learns that from logical replication; a NOTIFY is delivered at
/// commit, in commit order, and never for a rolled-back row (Realtime's join probes), which is
/// all the delivery relies on, without `wal_level = logical`.
const DELIVERY_TRIGGER: &str = "
create schema if not exists casino_realtime_dev;
grant usage on schema casino_realtime_dev to public;
create or replace function casino_realtime_dev.committed() returns trigger
language plpgsql as $$
begin
  perform pg_notify('casino_realtime_dev', new.id::text);
  return null;
end
$$;
create or replace trigger casino_realtime_dev_delivery after insert on realtime.messages
  for each row execute function casino_realtime_dev.committed();
";

/// A database error, with PostgreSQL's SQLSTATE when it came from the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DbError {
    /// SQLSTATE (`22023`: a payload the catalog refuses; `42501`: RLS said no), or empty.
    pub code: String,
    /// The server's message (for `emit`: the catalog's wording, as the SDK's).
    pub message: String,
    /// The server's DETAIL (for `emit`: the SDK's reason, `missing_field`, `invalid_field`...).
    pub detail: Option<String>,
}

impl fmt::Display for DbError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl From<tokio_postgres::Error> for DbError {
    fn from(e: tokio_postgres::Error) -> Self {
        match e.as_db_error() {
            Some(db) => DbError {
                code: db.code().code().to_owned(),
                message: db.message().to_owned(),
                detail: db.detail().map(str::to_owned),
            },
            None => DbError {
                code: String::new(),
                message: e.to_string(),
                detail: None,
            },
        }
    }
}

/// The database the dev server publishes to, delivers from and asks about joins.
pub struct Database {
    pool: Pool,
}

impl fmt::Debug for Database {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Database")
    }
}

impl Database {
    /// Connects (libpq `key=value` or `postgres://` URL). With `prepare`, first creates
    /// Supabase's pieces when missing (a plain PostgreSQL) and applies `supabase/migrations`;
    /// without, checks they are there and says how to get them if not.
    pub async fn connect(url: &str, prepare: bool) -> Result<Database, DbError> {
        let config = tokio_postgres::Config::from_str(url).map_err(DbError::from)?;
        let db = Database {
            pool: Pool::new(config),
        };
        let client = db.pool.get().await?;
        if prepare {
            // Two preparations of one database at once would race (roles, being the cluster's,
            // race across databases too: prepare those one at a time).
            client
                .batch_execute(
                    "set client_min_messages = warning; select pg_advisory_lock(7130422)",
                )
                .await?;
            let prepared = async {
                client.batch_execute(SUPABASE_STAND_IN).await?;
                client.batch_execute(PARTITIONS).await?;
                for (_, sql) in crate::migrations::files() {
                    client.batch_execute(&sql).await?;
                }
                Ok::<_, tokio_postgres::Error>(())
            }
            .await;
            client
                .batch_execute("select pg_advisory_unlock(7130422)")
                .await?;
            prepared?;
        }
        let row = client
            .query_one(
                "select to_regclass('realtime.messages') is not null,
                        to_regprocedure('casino_realtime.emit(text, jsonb)') is not null",
                &[],
            )
            .await?;
        if !row.get::<_, bool>(0) || !row.get::<_, bool>(1) {
            return Err(DbError {
                code: String::new(),
                message: "the database has no realtime.messages or no casino_realtime.emit: \
                          apply supabase/migrations (or pass --prepare-database on a plain \
                          PostgreSQL)"
                    .into(),
                detail: None,
            });
        }
        client.batch_execute(DELIVERY_TRIGGER).await?;
        db.pool.put(client);
        Ok(db)
    }

    /// Keeps the partitions rolling forward while the server runs (Realtime's janitor does this
    /// on Supabase), for a database this server prepared.
    pub fn keep_partitions(self: &std::sync::Arc<Self>) {
        let db = self.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(std::time::Duration::from_secs(3600)).await;
                if let Ok(client) = db.pool.get().await {
                    if let Err(e) = client.batch_execute(PARTITIONS).await {
                        eprintln!(
                            "devserver: could not create partitions: {}",
                            DbError::from(e)
                        );
                    }
                    db.pool.put(client);
                }
            }
        });
    }
}
