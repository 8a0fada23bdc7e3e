//! The statements the dev server runs: publishing transactions (as the caller's role, claims set
//! as PostgREST sets them), Realtime's read probe, and Realtime's replay query.

use super::{Database, DbError};
use crate::hub::Transaction;
use casino_realtime::json::{self, Value};

/// Who runs a statement: the connection's own user (the server, like `service_role` code
/// connecting directly), or a JWT's role and claims.
pub enum Caller<'a> {
    /// The connection user; RLS does not apply to it.
    Server,
    /// `role` with `request.jwt.claims` = `claims` (the token's payload as JSON).
    Jwt {
        /// The Postgres role (`authenticated`, `service_role`, ...).
        role: &'a str,
        /// The token's claims, JSON.
        claims: &'a str,
    },
}

/// A row replay sends: `(id, event, payload)`.
pub type Replayed = (String, String, Value);

/// The roles a token may name: what Supabase's API lets a JWT switch to. Any other (`postgres`,
/// a role that does not exist) is refused here rather than assumed.
const API_ROLES: [&str; 3] = ["anon", "authenticated", "service_role"];

fn api_role(role: &str) -> Result<(), DbError> {
    if API_ROLES.contains(&role) {
        return Ok(());
    }
    Err(DbError {
        code: "42501".into(),
        message: format!("role \"{role}\" is not one a token may act as"),
        detail: None,
    })
}

/// `at` written by the producer just before it commits (its clock, in the catalog's format).
const AT_NOW: &str =
    "jsonb_build_object('at', to_char(clock_timestamp() at time zone 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'))";

impl Database {
    /// One publishing transaction, returning the `realtime.messages` ids, one per channel (none
    /// for `realtime.send`, which returns nothing): `pg_sleep` for its length, then `emit(event, payload)` (or
    /// `realtime.send(payload, event, topic, private)` when `topic` is given), with `at` written
    /// just before commit when the producer does so; then commit. Rows carry `inserted_at` =
    /// the transaction's start and are delivered at commit.
    pub async fn publish(
        &self,
        caller: Caller<'_>,
        event: &str,
        payload: &str,
        topic: Option<(&str, bool)>,
        transaction: Transaction,
    ) -> Result<Vec<String>, DbError> {
        if let Caller::Jwt { role, .. } = caller {
            api_role(role)?;
        }
        let mut client = self.pool.get().await?;
        let result = async {
            let tx = client.transaction().await?;
            if let Caller::Jwt { role, claims } = caller {
                tx.execute(
                    "select set_config('role', $1, true), set_config('request.jwt.claims', $2, true),
                            set_config('request.jwt.claim.role', $1, true)",
                    &[&role, &claims],
                )
                .await?;
            }
            if !transaction.length.is_zero() {
                let seconds = transaction.length.as_secs_f64();
                tx.execute("select pg_sleep($1)", &[&seconds]).await?;
            }
            let at = if transaction.at_commit {
                format!(" || {AT_NOW}")
            } else {
                String::new()
            };
            let ids = match topic {
                None => {
                    let sql = format!(
                        "select array(select unnest(casino_realtime.emit($1, $2::text::jsonb{at}))::text)"
                    );
                    tx.query_one(&sql, &[&event, &payload]).await?.get(0)
                }
                Some((topic, private)) => {
                    let sql =
                        format!("select realtime.send($1::text::jsonb{at}, $2, $3, $4)");
                    tx.execute(&sql, &[&payload, &event, &topic, &private])
                        .await?;
                    Vec::new()
                }
            };
            tx.commit().await?;
            Ok::<_, DbError>(ids)
        }
        .await;
        self.pool.put(client);
        result
    }

    /// Realtime's read check for a private join (RT `lib/realtime/tenants/authorization.ex`):
    /// a probe row inserted as the connection user, then, as the caller's role with its claims
    /// and the topic set, whether the row is visible through the SELECT policies; rolled back.
    pub async fn can_read(&self, role: &str, claims: &str, topic: &str) -> Result<bool, DbError> {
        api_role(role)?;
        let mut client = self.pool.get().await?;
        let result = async {
            let tx = client.transaction().await?;
            let probe: String = tx
                .query_one(
                    "insert into realtime.messages (id, topic, extension, inserted_at, updated_at)
                     values (gen_random_uuid(), $1, 'broadcast', now() at time zone 'UTC',
                             now() at time zone 'UTC')
                     returning id::text",
                    &[&topic],
                )
                .await?
                .get(0);
            tx.execute(
                "select set_config('role', $1, true), set_config('realtime.topic', $2, true),
                        set_config('request.jwt.claims', $3, true),
                        set_config('request.jwt.claim.sub', coalesce($3::jsonb ->> 'sub', ''), true),
                        set_config('request.jwt.claim.role', $1, true),
                        set_config('request.headers', '{}', true)",
                &[&role, &topic, &claims],
            )
            .await?;
            let visible = tx
                .query_opt(
                    "select id from realtime.messages where id = $1::text::uuid",
                    &[&probe],
                )
                .await?
                .is_some();
            tx.rollback().await?;
            Ok::<_, DbError>(visible)
        }
        .await;
        self.pool.put(client);
        result
    }

    /// Realtime's replay (RT `lib/realtime/messages.ex`): the newest `limit` private broadcasts
    /// of `topic` with `inserted_at` in `[since, now + 1 min)`, oldest first.
    pub async fn replay(
        &self,
        topic: &str,
        since_ms: i64,
        limit: usize,
    ) -> Result<Vec<Replayed>, DbError> {
        let client = self.pool.get().await?;
        let rows = client
            .query(
                "select id::text, event, payload::text from realtime.messages
                 where topic = $1 and private is true and extension = 'broadcast'
                   and inserted_at >= to_timestamp($2::bigint / 1000.0) at time zone 'UTC'
                   and inserted_at < (now() at time zone 'UTC') + interval '1 minute'
                   and payload is not null and event is not null
                 order by inserted_at desc limit $3::bigint",
                &[&topic, &since_ms, &(limit as i64)],
            )
            .await;
        self.pool.put(client);
        let mut replayed: Vec<Replayed> = rows?
            .iter()
            .filter_map(|row| {
                let payload = json::parse(row.get::<_, &str>(2)).ok()?;
                Some((row.get(0), row.get(1), payload))
            })
            .collect();
        replayed.reverse();
        Ok(replayed)
    }
}
