//! A small read API over the floor scenario's state, for the example app's queries (what a real
//! app would read from its own database): tables, open rating slips, open visits, players and
//! their loyalty balances. JSON, no auth (loopback, development only); 404 without a scenario.

use crate::admin::Admin;
use crate::scenario::floor::Floor;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use casino_realtime::json::{self, Value};

fn respond(admin: &Admin, build: impl FnOnce(&Floor) -> Option<Value>) -> Response {
    let Some(scenario) = &admin.scenario else {
        return (
            StatusCode::NOT_FOUND,
            "no scenario is running (start with --scenario floor)",
        )
            .into_response();
    };
    let floor = scenario.floor.lock().unwrap_or_else(|p| p.into_inner());
    match build(&floor) {
        Some(value) => (
            StatusCode::OK,
            [("content-type", "application/json")],
            value.to_json(),
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

fn number(x: f64) -> Value {
    json::parse(&format!("{x:.2}")).unwrap_or(Value::Null)
}

fn table(floor: &Floor, i: usize) -> Value {
    let t = &floor.tables[i];
    let chips = Value::Object(
        t.chips
            .iter()
            .map(|(d, n)| (d.clone(), Value::from(*n)))
            .collect(),
    );
    let open_slips = floor.slips.iter().filter(|s| s.table == i).count() as i64;
    Value::object(vec![
        ("id", t.id.as_str().into()),
        ("label", t.label.as_str().into()),
        ("game", t.game.into()),
        ("pit", floor.pits[t.pit].1.as_str().into()),
        ("active", Value::Bool(t.active)),
        ("open_slips", Value::from(open_slips)),
        (
            "fill_pending",
            t.fill.as_ref().map_or(Value::Null, |(r, a)| {
                Value::object(vec![
                    ("request_id", r.as_str().into()),
                    ("amount_cents", Value::from(*a)),
                ])
            }),
        ),
        (
            "credit_pending",
            t.credit.as_ref().map_or(Value::Null, |(r, a)| {
                Value::object(vec![
                    ("request_id", r.as_str().into()),
                    ("amount_cents", Value::from(*a)),
                ])
            }),
        ),
        (
            "drop_pending",
            t.drop.as_deref().map_or(Value::Null, Value::from),
        ),
        ("fills", Value::from(t.fills)),
        ("credits", Value::from(t.credits)),
        ("drops", Value::from(t.drops)),
        ("chips", chips),
    ])
}

/// `GET /api/floor/tables`.
pub async fn tables(State(admin): State<Admin>) -> Response {
    respond(&admin, |f| {
        Some(Value::Array(
            (0..f.tables.len()).map(|i| table(f, i)).collect(),
        ))
    })
}

/// `GET /api/floor/tables/{table_id}`.
pub async fn table_detail(State(admin): State<Admin>, Path(id): Path<String>) -> Response {
    respond(&admin, |f| {
        f.tables
            .iter()
            .position(|t| t.id == id)
            .map(|i| table(f, i))
    })
}

fn slip(floor: &Floor, s: &crate::scenario::floor::Slip) -> Value {
    let table = &floor.tables[s.table];
    let player = floor
        .visits
        .iter()
        .find(|v| v.id == s.visit)
        .and_then(|v| v.player)
        .map(|p| &floor.players[p]);
    Value::object(vec![
        ("id", s.id.as_str().into()),
        ("visit_id", s.visit.as_str().into()),
        ("table_id", table.id.as_str().into()),
        ("table_label", table.label.as_str().into()),
        ("game_type", table.game.into()),
        (
            "player_id",
            player.map_or(Value::Null, |p| p.id.as_str().into()),
        ),
        ("minutes_played", Value::from(s.minutes)),
        ("average_bet", number(s.average_bet)),
        ("status", s.status.into()),
    ])
}

/// `GET /api/floor/slips`: open rating slips.
pub async fn slips(State(admin): State<Admin>) -> Response {
    respond(&admin, |f| {
        Some(Value::Array(f.slips.iter().map(|s| slip(f, s)).collect()))
    })
}

/// `GET /api/floor/slips/{rating_slip_id}`.
pub async fn slip_detail(State(admin): State<Admin>, Path(id): Path<String>) -> Response {
    respond(&admin, |f| {
        f.slips.iter().find(|s| s.id == id).map(|s| slip(f, s))
    })
}

/// `GET /api/floor/visits`: open visits.
pub async fn visits(State(admin): State<Admin>) -> Response {
    respond(&admin, |f| {
        let visits = f.visits.iter().map(|v| {
            Value::object(vec![
                ("id", v.id.as_str().into()),
                (
                    "player_id",
                    v.player
                        .map_or(Value::Null, |p| f.players[p].id.as_str().into()),
                ),
                ("visit_kind", v.kind.into()),
                ("started_at", v.started_at.as_str().into()),
                (
                    "rating_slip_id",
                    v.slip.as_deref().map_or(Value::Null, Value::from),
                ),
            ])
        });
        Some(Value::Array(visits.collect()))
    })
}

fn player(p: &crate::scenario::floor::Player) -> Value {
    Value::object(vec![
        ("id", p.id.as_str().into()),
        ("balance", Value::from(p.balance)),
        ("tier", p.tier.into()),
        (
            "visit_id",
            p.visit.as_deref().map_or(Value::Null, Value::from),
        ),
    ])
}

/// `GET /api/floor/players`: players with their loyalty balances.
pub async fn players(State(admin): State<Admin>) -> Response {
    respond(&admin, |f| {
        Some(Value::Array(f.players.iter().map(player).collect()))
    })
}

/// `GET /api/floor/players/{player_id}`.
pub async fn player_detail(State(admin): State<Admin>, Path(id): Path<String>) -> Response {
    respond(&admin, |f| {
        f.players.iter().find(|p| p.id == id).map(player)
    })
}
