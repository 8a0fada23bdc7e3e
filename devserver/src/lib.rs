//! A local Supabase Realtime-compatible server for developing and testing casino-realtime:
//! the WebSocket protocol (vsn 1.0.0 and 2.0.0), JWT auth and a channel policy like a Supabase
//! project's, REST publishing, broadcast replay, a simulated casino floor, and faults on demand.
//! See `../README.md` ("The dev server") and `../docs/protocol.md`.

pub mod admin;
pub mod auth;
pub mod channel;
pub mod config;
pub mod database;
pub mod floor_api;
pub mod hub;
pub mod jwt;
pub mod migrations;
pub mod policy;
pub mod rest;
pub mod rpc;
pub mod scenario;
pub mod socket;
pub mod topics;

use axum::routing::{get, post};
use axum::Router;
use config::Config;
use hub::Hub;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;

/// A started server.
pub struct Server {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Its shared state.
    pub hub: Arc<Hub>,
    /// The floor scenario, if running.
    pub scenario: Option<Arc<scenario::Running>>,
    task: tokio::task::JoinHandle<()>,
}

impl Server {
    /// Binds and starts serving in the background.
    pub async fn start(config: Config) -> std::io::Result<Server> {
        let listener = TcpListener::bind((config.host, config.port)).await?;
        let addr = listener.local_addr()?;
        let scenario_config = config.scenario.clone();
        let hub = match &config.database {
            None => Arc::new(Hub::new(config)),
            Some(d) => {
                let db = database::Database::connect(&d.url, d.prepare)
                    .await
                    .map_err(|e| std::io::Error::other(format!("database: {e}")))?;
                let db = Arc::new(db);
                if d.prepare {
                    db.keep_partitions();
                }
                let hub = Arc::new(Hub::with_database(config, db.clone()));
                database::start_delivery(db, hub.clone())
                    .await
                    .map_err(|e| std::io::Error::other(format!("database: {e}")))?;
                hub
            }
        };
        let scenario = scenario_config.map(|s| scenario::start(hub.clone(), s));
        let app = router(hub.clone(), scenario.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Server {
            addr,
            hub,
            scenario,
            task,
        })
    }

    /// `ws://host:port/realtime/v1/websocket`.
    pub fn websocket_url(&self) -> String {
        format!("ws://{}/realtime/v1/websocket", self.addr)
    }

    /// `http://host:port`.
    pub fn http_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Serves until the process is stopped.
    pub async fn wait(self) {
        let _ = self.task.await;
    }
}

/// The routes: the socket under both paths Supabase uses, the REST API under `/realtime/v1/api`
/// and `/api`, and the dev endpoints under `/_dev`.
pub fn router(hub: Arc<Hub>, scenario: Option<Arc<scenario::Running>>) -> Router {
    let admin = admin::Admin {
        hub: hub.clone(),
        scenario,
    };
    let dev = Router::new()
        .route(
            "/_dev/faults/drop-connections",
            post(admin::drop_connections),
        )
        .route("/_dev/faults/heartbeats", post(admin::heartbeats))
        .route("/_dev/faults/joins", post(admin::joins))
        .route("/_dev/faults/crash-channel", post(admin::crash_channel))
        .route("/_dev/faults/malformed-frame", post(admin::malformed_frame))
        .route("/_dev/faults/oversized-frame", post(admin::oversized_frame))
        .route("/_dev/faults/foreign-casino", post(admin::foreign_casino))
        .route(
            "/_dev/faults/schema-violation",
            post(admin::schema_violation),
        )
        .route("/_dev/faults/expire-token", post(admin::expire_token))
        .route("/_dev/faults/rate-limit", post(admin::rate_limit))
        .route("/_dev/faults/presence", post(admin::presence))
        .route("/_dev/faults/half-open", post(admin::half_open))
        .route("/_dev/faults/outage", post(admin::outage))
        .route("/_dev/faults/reset", post(admin::reset))
        .route("/_dev/token", post(admin::token))
        .route("/_dev/anon-key", get(admin::anon_key))
        .route("/_dev/scenario", post(admin::scenario))
        .route("/_dev/status", get(admin::status))
        .route("/api/floor/tables", get(floor_api::tables))
        .route("/api/floor/tables/{id}", get(floor_api::table_detail))
        .route("/api/floor/slips", get(floor_api::slips))
        .route("/api/floor/slips/{id}", get(floor_api::slip_detail))
        .route("/api/floor/visits", get(floor_api::visits))
        .route("/api/floor/players", get(floor_api::players))
        .route("/api/floor/players/{id}", get(floor_api::player_detail))
        .with_state(admin);
    let mut api = Router::new();
    for prefix in ["/realtime/v1/api", "/api"] {
        api = api
            .route(&format!("{prefix}/broadcast"), post(rest::batch))
            .route(
                &format!("{prefix}/broadcast/{{topic}}/events/{{event}}"),
                post(rest::single),
            )
            .route(&format!("{prefix}/db/send"), post(rest::db_send));
    }
    Router::new()
        .route("/realtime/v1/websocket", get(socket::upgrade))
        .route("/socket/websocket", get(socket::upgrade))
        .route("/auth/v1/user", get(auth::user))
        .route("/rest/v1/rpc/emit", post(rpc::emit))
        .route("/auth/v1/logout", post(auth::logout))
        .merge(api)
        .with_state(hub)
        .merge(dev)
        .layer(axum::middleware::from_fn(cors))
}

/// CORS open to every origin, as Supabase's API is: browsers (the SDK's tests, the example app)
/// call the REST and dev endpoints from other origins.
async fn cors(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::http::{header, HeaderValue, Method, StatusCode};
    use axum::response::IntoResponse;
    let preflight = request.method() == Method::OPTIONS;
    let mut response = if preflight {
        StatusCode::NO_CONTENT.into_response()
    } else {
        next.run(request).await
    };
    let headers = response.headers_mut();
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static("*"),
    );
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("GET, POST, OPTIONS"),
    );
    response
}
