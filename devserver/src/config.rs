//! Server options, from the command line (`devserver --help`). The other modules read this one;
//! it reads none of them.

use crate::hub::Transaction;
use std::net::IpAddr;
use std::time::Duration;

/// The dev secret used when none is given. It signs dev tokens only; never use it anywhere else.
pub const DEFAULT_SECRET: &str = "casino-realtime-dev-secret-do-not-use-in-production";

/// How broadcasts are framed for vsn 2.0.0 clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FramesMode {
    /// As Supabase does: REST batch and JSON client pushes as JSON text, everything else
    /// (database, REST single, binary client pushes) as binary kind 4.
    Auto,
    /// Always JSON text (binary payloads still need kind 4).
    Json,
    /// Always binary kind 4.
    Binary,
}

impl FramesMode {
    /// Reads `auto`, `json` or `binary`.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "auto" => Some(FramesMode::Auto),
            "json" => Some(FramesMode::Json),
            "binary" => Some(FramesMode::Binary),
            _ => None,
        }
    }
}

/// Faults switched on at start or through the admin endpoints.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Faults {
    /// Heartbeats go unanswered.
    pub silent_heartbeats: bool,
    /// Join replies wait this long.
    pub join_delay_ms: u64,
    /// Joins fail with this `Code: message` reason.
    pub refuse_joins: Option<String>,
    /// Every channel that next receives a message is closed for the message rate.
    pub rate_limit_tripped: bool,
    /// This many private joins that the policy allows are refused with `Unauthorized`, as
    /// Supabase refuses them when evaluating the policy hits a database error.
    pub unauthorized_joins: u32,
    /// Until this time (ms since the epoch) sockets cannot connect: a network outage.
    pub outage_until_ms: i64,
}

/// Everything the server needs to run.
#[derive(Debug, Clone)]
pub struct Config {
    /// Address to bind (loopback by default).
    pub host: IpAddr,
    /// Port (0 picks a free one).
    pub port: u16,
    /// HS256 secret of the project's JWTs.
    pub secret: String,
    /// Broadcast framing for vsn 2.0.0 clients; `?frames=` on the socket URL overrides it.
    pub frames: FramesMode,
    /// Close sockets that send nothing for this long (Phoenix: 60 s).
    pub idle_timeout: Duration,
    /// Delay before a join error reply, during which the socket answers nothing else, as
    /// Supabase's socket process sleeps (`CHANNEL_ERROR_BACKOFF_MS`, 5 s).
    pub join_error_delay: Duration,
    /// Delay before a refused upgrade is answered (Supabase's `CONNECT_ERROR_BACKOFF_MS`, 2 s).
    pub connect_error_delay: Duration,
    /// How long a `realtime.send` transaction lasts: kept messages are stamped at its start
    /// (Postgres `now()`), delivered when it commits; and whether its producer writes `at` at
    /// commit.
    pub transaction: Transaction,
    /// How far ahead (or behind, negative) of the server's clock the floor scenario's clock runs:
    /// the events' `at` it publishes.
    pub publisher_skew_ms: i64,
    /// Refuse public channels (`PrivateOnly`).
    pub private_only: bool,
    /// Channels one connection may join.
    pub max_channels_per_client: usize,
    /// Messages per second (inbound broadcasts plus deliveries), as an average over the last
    /// 60 s like Supabase's, above which channels are closed (Supabase's default: 100).
    pub max_events_per_second: Option<u32>,
    /// Largest broadcast payload accepted, in bytes.
    pub max_payload_bytes: usize,
    /// Messages kept per private topic for replay.
    pub replay_store_per_topic: usize,
    /// The simulated floor, if any.
    pub scenario: Option<ScenarioConfig>,
    /// Faults in force at start.
    pub faults: Faults,
    /// Serve from this PostgreSQL (`--database-url`), not the in-memory store.
    pub database: Option<DatabaseConfig>,
}

/// Where the database is and whether to prepare it.
#[derive(Debug, Clone)]
pub struct DatabaseConfig {
    /// libpq `key=value` string or `postgres://` URL.
    pub url: String,
    /// Create Supabase's pieces when missing and apply `supabase/migrations` first.
    pub prepare: bool,
}

impl Config {
    /// Without Supabase's deliberate delays (failed joins, refused upgrades): for quick unit
    /// tests (`--fast`). Everything else, the rate limit included, is as by default.
    pub fn fast(self) -> Self {
        Config {
            join_error_delay: Duration::ZERO,
            connect_error_delay: Duration::ZERO,
            ..self
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            host: IpAddr::from([127, 0, 0, 1]),
            port: 54330,
            secret: DEFAULT_SECRET.into(),
            frames: FramesMode::Auto,
            idle_timeout: Duration::from_secs(60),
            join_error_delay: Duration::from_secs(5),
            connect_error_delay: Duration::from_secs(2),
            transaction: Transaction::default(),
            publisher_skew_ms: 0,
            private_only: false,
            max_channels_per_client: 100,
            max_events_per_second: Some(100),
            max_payload_bytes: 3_000_000,
            replay_store_per_topic: 1000,
            scenario: None,
            faults: Faults::default(),
            database: None,
        }
    }
}

/// The casino of the floor scenario, unless `--casino` says otherwise.
pub const DEFAULT_CASINO: &str = "c0ffee00-ca51-4000-8000-000000000001";

/// Another casino, whose events the foreign-casino fault sends.
pub const OTHER_CASINO: &str = "0dd0dd00-ca51-4000-8000-000000000002";

/// Options of the floor scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct ScenarioConfig {
    /// Seed of every random choice.
    pub seed: u64,
    /// Events per second.
    pub rate: f64,
    /// Percent of events also delivered a second time, with the same `meta.id`.
    pub duplicate_pct: u32,
    /// Percent of events held back and delivered after the next one.
    pub out_of_order_pct: u32,
    /// The casino.
    pub casino_id: String,
    /// Tables on the floor.
    pub tables: usize,
    /// Players.
    pub players: usize,
}

impl Default for ScenarioConfig {
    fn default() -> Self {
        ScenarioConfig {
            seed: 1,
            rate: 5.0,
            duplicate_pct: 5,
            out_of_order_pct: 5,
            casino_id: DEFAULT_CASINO.into(),
            tables: 12,
            players: 40,
        }
    }
}
