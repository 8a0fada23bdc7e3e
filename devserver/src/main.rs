//! `devserver`: run the server, or mint a dev token. `devserver --help` lists the options.

use devserver::config::{Config, DatabaseConfig, Faults, FramesMode, DEFAULT_SECRET};
use devserver::hub::now_ms;
use devserver::jwt::{mint, TokenSpec};
use devserver::scenario::{ScenarioConfig, DEFAULT_CASINO};
use devserver::{socket, Server};
use std::process::ExitCode;
use std::time::Duration;

const HELP: &str = "\
devserver: a local Supabase Realtime-compatible server for casino-realtime

USAGE
  devserver [OPTIONS]            serve (loopback only)
  devserver token [OPTIONS]      print a dev JWT signed with the dev secret
  devserver --write-migrations DIR   write the SQL an app applies to its Supabase project
                                 (generated from the catalog and the join policy)

SERVER OPTIONS
  --port N                   port to listen on (default 54330; 0 picks a free one)
  --secret S                 HS256 secret of the project's JWTs (default: the printed dev secret)
  --scenario floor           run the simulated casino floor
  --seed N                   seed of the floor (default 1)
  --rate N                   floor events per second (default 5)
  --duplicates PCT           percent of events delivered twice with the same meta.id (default 5)
  --out-of-order PCT         percent of events delivered after the next one (default 5)
  --casino UUID              the floor's casino (default c0ffee00-ca51-4000-8000-000000000001)
  --tables N / --players N   floor size (default 12 / 40)
  --frames auto|json|binary  broadcast framing for vsn 2.0.0 clients (default auto, as Supabase;
                             a socket may pass ?frames=json|binary)
  --idle-timeout-ms N        close sockets silent this long (default 60000)
  --join-error-delay-ms N    answer a refused join after N ms, the socket doing nothing else
                             meanwhile, as Supabase does (default 5000)
  --connect-error-delay-ms N answer a refused upgrade after N ms, as Supabase does (default 2000)
  --fast                     no deliberate delays (join and connect errors): for quick tests
  --transaction-ms N         realtime.send transactions last N ms: kept messages are stamped at
                             their start and delivered at commit (default 0; db/send takes
                             ?transaction_ms=N per message)
  --at-at-commit             producers write the payload's `at` at commit, after their writes,
                             not before the transaction (db/send takes ?at=commit|start)
  --publisher-skew-ms N      the floor's clock runs N ms ahead of the server's (negative: behind)
  --database-url URL         serve from this PostgreSQL (libpq URL or key=value; also
                             $DEVSERVER_DATABASE_URL): publish through casino_realtime.emit,
                             deliver committed rows of realtime.messages, replay from it, decide
                             private joins by its RLS policies
  --prepare-database         with --database-url: create Supabase's pieces when missing (a plain
                             PostgreSQL) and apply supabase/migrations first
  --private-only             refuse public channels
  --max-events-per-second N  close channels when messages per second, averaged over the last
                             minute, pass N, as Supabase does (default 100; 0: no limit)

FAULTS AT START (also at runtime: POST /_dev/faults/...)
  --silent-heartbeats        do not answer heartbeats
  --join-delay-ms N          delay every join reply
  --refuse-joins 'Code: msg' refuse every join with this reason
  --trip-rate-limit          close channels for the message rate at their next message
  --drop-connections-every-s N  kill every socket (no close frame) every N seconds

TOKEN OPTIONS
  --secret S  --role R (authenticated)  --staff-role R (pit_boss)  --casino UUID  --ttl-s N (3600)  --sub S
";

struct Args(Vec<String>);

impl Args {
    fn value(&mut self, flag: &str) -> Result<Option<String>, String> {
        let Some(i) = self.0.iter().position(|a| a == flag) else {
            return Ok(None);
        };
        if i + 1 >= self.0.len() {
            return Err(format!("{flag} needs a value"));
        }
        let value = self.0.remove(i + 1);
        self.0.remove(i);
        Ok(Some(value))
    }

    fn number<T: std::str::FromStr>(&mut self, flag: &str) -> Result<Option<T>, String> {
        match self.value(flag)? {
            None => Ok(None),
            Some(v) => v
                .parse()
                .map(Some)
                .map_err(|_| format!("{flag}: '{v}' is not a number")),
        }
    }

    fn switch(&mut self, flag: &str) -> bool {
        let found = self.0.iter().position(|a| a == flag);
        if let Some(i) = found {
            self.0.remove(i);
        }
        found.is_some()
    }

    fn finish(self) -> Result<(), String> {
        match self.0.first() {
            Some(unknown) => Err(format!("unknown argument '{unknown}' (see --help)")),
            None => Ok(()),
        }
    }
}

fn token_command(mut args: Args) -> Result<(), String> {
    let secret = args
        .value("--secret")?
        .unwrap_or_else(|| DEFAULT_SECRET.into());
    let spec = TokenSpec {
        role: args
            .value("--role")?
            .unwrap_or_else(|| "authenticated".into()),
        staff_role: Some(
            args.value("--staff-role")?
                .unwrap_or_else(|| "pit_boss".into()),
        )
        .filter(|s| !s.is_empty()),
        casino_id: Some(
            args.value("--casino")?
                .unwrap_or_else(|| DEFAULT_CASINO.into()),
        )
        .filter(|s| !s.is_empty()),
        sub: args.value("--sub")?.unwrap_or_else(|| "dev-user".into()),
        ttl_s: args.number("--ttl-s")?.unwrap_or(3600),
    };
    args.finish()?;
    println!("{}", mint(&spec, &secret, now_ms() / 1000));
    Ok(())
}

fn write_migrations(dir: &str) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{dir}: {e}"))?;
    for (name, text) in devserver::migrations::files() {
        let path = std::path::Path::new(dir).join(name);
        std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
        println!("wrote {}", path.display());
    }
    Ok(())
}

fn server_config(mut args: Args) -> Result<(Config, Option<u64>), String> {
    let mut config = Config::default();
    if let Some(port) = args.number("--port")? {
        config.port = port;
    }
    if let Some(secret) = args.value("--secret")? {
        config.secret = secret;
    }
    if let Some(frames) = args.value("--frames")? {
        config.frames = FramesMode::parse(&frames).ok_or("--frames is auto, json or binary")?;
    }
    if let Some(ms) = args.number("--idle-timeout-ms")? {
        config.idle_timeout = Duration::from_millis(ms);
    }
    if args.switch("--fast") {
        config = config.fast();
    }
    if let Some(ms) = args.number("--join-error-delay-ms")? {
        config.join_error_delay = Duration::from_millis(ms);
    }
    if let Some(ms) = args.number("--connect-error-delay-ms")? {
        config.connect_error_delay = Duration::from_millis(ms);
    }
    if let Some(ms) = args.number("--transaction-ms")? {
        config.transaction.length = Duration::from_millis(ms);
    }
    config.transaction.at_commit = args.switch("--at-at-commit");
    if let Some(ms) = args.number("--publisher-skew-ms")? {
        config.publisher_skew_ms = ms;
    }
    config.private_only = args.switch("--private-only");
    let prepare = args.switch("--prepare-database");
    let url = match args.value("--database-url")? {
        Some(url) => Some(url),
        None => std::env::var("DEVSERVER_DATABASE_URL")
            .ok()
            .filter(|u| !u.is_empty()),
    };
    config.database = match (url, prepare) {
        (Some(url), prepare) => Some(DatabaseConfig { url, prepare }),
        (None, true) => return Err("--prepare-database needs --database-url".into()),
        (None, false) => None,
    };
    if let Some(limit) = args.number::<u32>("--max-events-per-second")? {
        config.max_events_per_second = (limit > 0).then_some(limit);
    }
    config.faults = Faults {
        silent_heartbeats: args.switch("--silent-heartbeats"),
        join_delay_ms: args.number("--join-delay-ms")?.unwrap_or(0),
        refuse_joins: args.value("--refuse-joins")?,
        rate_limit_tripped: args.switch("--trip-rate-limit"),
        ..Faults::default()
    };
    let drop_every = args.number("--drop-connections-every-s")?;
    match args.value("--scenario")?.as_deref() {
        None => {}
        Some("floor") => {
            let defaults = ScenarioConfig::default();
            config.scenario = Some(ScenarioConfig {
                seed: args.number("--seed")?.unwrap_or(defaults.seed),
                rate: args.number("--rate")?.unwrap_or(defaults.rate),
                duplicate_pct: args
                    .number("--duplicates")?
                    .unwrap_or(defaults.duplicate_pct),
                out_of_order_pct: args
                    .number("--out-of-order")?
                    .unwrap_or(defaults.out_of_order_pct),
                casino_id: args.value("--casino")?.unwrap_or(defaults.casino_id),
                tables: args.number("--tables")?.unwrap_or(defaults.tables),
                players: args.number("--players")?.unwrap_or(defaults.players),
            });
        }
        Some(other) => return Err(format!("unknown scenario '{other}' (there is: floor)")),
    }
    args.finish()?;
    Ok((config, drop_every))
}

async fn serve(config: Config, drop_every: Option<u64>) -> Result<(), String> {
    let casino = config
        .scenario
        .as_ref()
        .map_or(DEFAULT_CASINO.to_owned(), |s| s.casino_id.clone());
    let secret = config.secret.clone();
    let server = Server::start(config)
        .await
        .map_err(|e| format!("cannot listen: {e}"))?;
    let spec = |staff: &str| TokenSpec {
        role: "authenticated".into(),
        staff_role: Some(staff.into()),
        casino_id: Some(casino.clone()),
        sub: "dev-user".into(),
        ttl_s: 12 * 3600,
    };
    let token = mint(&spec("pit_boss"), &secret, now_ms() / 1000);
    println!("devserver listening on {}", server.http_url());
    println!(
        "  websocket   {}?apikey=<jwt>&vsn=2.0.0",
        server.websocket_url()
    );
    println!(
        "  rest        {}/realtime/v1/api/broadcast",
        server.http_url()
    );
    println!("  dev secret  {secret}");
    println!("  casino      {casino}");
    println!("  token       {token}");
    println!("              (a pit boss of that casino for 12 h; mint others with");
    println!("               `cargo run -p devserver -- token --staff-role cage --casino <uuid>`");
    println!(
        "               or POST {}/_dev/token?staff_role=cage)",
        server.http_url()
    );
    if server.hub.db.is_some() {
        println!("  database    publishing through casino_realtime.emit, joins decided by RLS");
    }
    if server.scenario.is_some() {
        println!(
            "  scenario    floor, publishing to realtime:{casino} and realtime:{casino}:<resource>"
        );
    }
    if let Some(every) = drop_every.filter(|&s| s > 0) {
        let hub = server.hub.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_secs(every)).await;
                socket::drop_all(&hub);
            }
        });
    }
    tokio::select! {
        _ = server.wait() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
    Ok(())
}

fn main() -> ExitCode {
    let mut args = Args(std::env::args().skip(1).collect());
    if args.switch("--help") || args.switch("-h") {
        print!("{HELP}");
        return ExitCode::SUCCESS;
    }
    let result = if let Ok(Some(dir)) = args.value("--write-migrations") {
        write_migrations(&dir)
    } else if args.0.first().map(String::as_str) == Some("token") {
        args.0.remove(0);
        token_command(args)
    } else {
        server_config(args).and_then(|(config, drop_every)| {
            let runtime = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
            runtime.block_on(serve(config, drop_every))
        })
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("devserver: {message}");
            ExitCode::FAILURE
        }
    }
}
