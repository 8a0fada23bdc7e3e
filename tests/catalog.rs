//! The catalog: every event's valid sample parses, invalid ones are refused with a message that
//! names the event and the field, and nothing panics.
#![cfg(not(target_arch = "wasm32"))]
#![allow(clippy::unwrap_used)] // Tests fail loudly on purpose.

mod common;

use casino_realtime::catalog::{parse_event, typescript_declarations, EventKind, Uuid};
use casino_realtime::json::{self, Value};
use common::{fixture, fixtures, j, matches_shipped, with};
use proptest::prelude::*;
use std::collections::{BTreeMap, BTreeSet};

#[test]
fn fixtures_cover_the_whole_catalog() {
    let names: Vec<String> = fixtures().into_iter().map(|(name, _)| name).collect();
    let catalog: Vec<String> = EventKind::ALL.iter().map(|k| k.name().to_owned()).collect();
    assert_eq!(EventKind::ALL.len(), 24);
    let mut sorted = names.clone();
    sorted.sort();
    let mut expected = catalog.clone();
    expected.sort();
    assert_eq!(sorted, expected);
}

/// The top-level fields of each event's schema block in docs/event-catalog.md, as printed.
fn printed_schemas() -> BTreeMap<String, BTreeSet<String>> {
    let doc = include_str!("../docs/event-catalog.md");
    let mut schemas = BTreeMap::new();
    for section in doc.split("\n#### `").skip(1) {
        let name = section.split('`').next().unwrap().to_owned();
        let block = section
            .split("```typescript\n")
            .nth(1)
            .and_then(|rest| rest.split("```").next())
            .unwrap_or_else(|| panic!("{name}: no schema block"));
        // Top-level members are indented by exactly two spaces; nested ones by more.
        let fields = block
            .lines()
            .filter_map(|line| line.strip_prefix("  "))
            .filter(|line| !line.starts_with(' '))
            .filter_map(|line| line.split(':').next())
            .map(|name| name.trim_end_matches('?').to_owned())
            .filter(|name| !name.is_empty() && !name.contains(['}', '{', ' ']))
            .collect();
        schemas.insert(name, fields);
    }
    schemas
}

#[test]
fn samples_are_exactly_the_payloads_the_catalog_prints() {
    let schemas = printed_schemas();
    assert_eq!(schemas.len(), 24, "{:?}", schemas.keys());
    let samples = fixtures();
    for (name, fields) in &schemas {
        let sample = samples
            .iter()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("no sample for {name}"));
        let Value::Object(members) = &sample.1 else {
            panic!("{name}")
        };
        let keys: BTreeSet<String> = members.iter().map(|(k, _)| k.clone()).collect();
        assert_eq!(
            &keys, fields,
            "{name}: the sample has the printed fields, no more"
        );
        // And the SDK accepts it as printed, with its own list of fields agreeing.
        parse_event(name, &sample.1).unwrap_or_else(|e| panic!("{name}: {e}"));
        // The SDK reads every printed field (`event` is the name, checked apart); a field it
        // knows beyond those (`casino_id` where the schema omits it) may be left out.
        let kind = EventKind::from_name(name).unwrap();
        for field in fields.iter().filter(|f| *f != "event") {
            assert!(kind.field(field).is_some(), "{name}.{field} is read");
        }
        for field in kind.fields().iter().filter(|f| !fields.contains(f.name)) {
            assert!(
                field.kind.nullable,
                "{name}.{} is not printed, so optional",
                field.name
            );
        }
    }
}

#[test]
fn every_valid_sample_parses_and_round_trips() {
    let casino = Uuid::parse("11111111-1111-4111-8111-111111111111").unwrap();
    for (name, payload) in fixtures() {
        let event = parse_event(&name, &payload).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(event.kind().name(), name);
        // The one event whose schema has no `casino_id` is sampled as the catalog prints it.
        let named = (name != "finance.outbox_processed").then_some(casino);
        assert_eq!(event.casino_id(), named, "{name}");
        assert_eq!(event.at(), "2025-12-20T10:15:00.000Z", "{name}");
        assert_eq!(event.at_micros(), 1_766_225_700_000_000, "{name}");
        // The typed struct carries the same facts.
        let typed = event.typed();
        assert_eq!(
            (typed.kind(), typed.casino_id()),
            (event.kind(), named),
            "{name}"
        );
        assert_eq!(typed.at().micros, event.at_micros(), "{name}");
        // Written back and read again, the event is the same.
        let again = parse_event(&name, &event.to_json()).unwrap();
        assert_eq!(again, event, "{name}");
        // Every field the catalog lists is in the written payload.
        for field in event.kind().fields() {
            assert!(
                event.to_json().get(field.name).is_some(),
                "{name}.{}",
                field.name
            );
        }
    }
}

#[test]
fn typed_structs_hold_the_payload_values() {
    use casino_realtime::catalog::{DomainEvent, GameType, LedgerReason, SlipStatus};
    let slip = parse_event("rating_slip.updated", &fixture("rating_slip.updated")).unwrap();
    let DomainEvent::RatingSlipUpdated(slip) = slip.typed() else {
        panic!("wrong variant")
    };
    assert_eq!(
        slip.rating_slip_id,
        Uuid::parse("44444444-4444-4444-8444-444444444444").unwrap()
    );
    assert_eq!(slip.average_bet.map(|n| n.value()), Some(25.5));
    assert_eq!(slip.minutes_played.value(), 42.0);
    assert_eq!(
        (slip.game_type, slip.status),
        (GameType::Blackjack, SlipStatus::Open)
    );

    let ledger = parse_event(
        "loyalty.ledger_appended",
        &fixture("loyalty.ledger_appended"),
    )
    .unwrap();
    let DomainEvent::LoyaltyLedgerAppended(ledger) = ledger.typed() else {
        panic!("wrong variant")
    };
    assert_eq!(
        (ledger.points_earned, ledger.reason, ledger.visit_id),
        (-15, LedgerReason::Correction, None)
    );

    let layout = parse_event("floor_layout.activated", &fixture("floor_layout.activated")).unwrap();
    let DomainEvent::FloorLayoutActivated(layout) = layout.typed() else {
        panic!("wrong variant")
    };
    assert_eq!(layout.pits[0].sequence, 1);
    assert_eq!(layout.table_slots[1].game_type, GameType::Roulette);
    assert_eq!(layout.table_slots[1].pit_id, None);

    let open = parse_event("table.inventory_open", &fixture("table.inventory_open")).unwrap();
    let DomainEvent::TableInventoryOpen(open) = open.typed() else {
        panic!("wrong variant")
    };
    assert_eq!(open.chipset.0[2], ("25".to_owned(), 40));

    let table = parse_event("table.activated", &fixture("table.activated")).unwrap();
    let DomainEvent::TableActivated(table) = table.typed() else {
        panic!("wrong variant")
    };
    assert_eq!(
        table.game_type,
        GameType::Blackjack,
        "`type` in the payload"
    );
}

#[test]
fn every_event_carries_casino_id_and_at() {
    for &kind in EventKind::ALL {
        for name in ["casino_id", "at"] {
            let field = kind
                .field(name)
                .unwrap_or_else(|| panic!("{kind} lacks {name}"));
            // The worker-monitoring event's schema omits `casino_id`: optional there only.
            let optional = kind == EventKind::FinanceOutboxProcessed && name == "casino_id";
            assert_eq!(field.kind.nullable, optional, "{kind}.{name}");
        }
        for name in kind.identity_fields() {
            assert!(kind.field(name).is_some(), "{kind}: identity field {name}");
        }
    }
}

#[test]
fn invalid_samples_name_the_event_and_the_field() {
    let cases: Vec<(&str, &str, Option<Value>, &str)> = vec![
        ("visit.created", "visit_kind", Some(j(r#""vip""#)), r#"visit.created: field 'visit_kind' must be one of "reward_identified", "gaming_identified_rated", "gaming_ghost_unrated", got "vip""#),
        ("visit.closed", "ended_at", None, "visit.closed: field 'ended_at' is required"),
        ("visit.converted", "player_id", Some(Value::Null), "visit.converted: field 'player_id' must be a uuid string, got null"),
        ("visit.converted", "to_kind", Some(j(r#""reward_identified""#)), r#"visit.converted: field 'to_kind' must be one of "gaming_identified_rated", got "reward_identified""#),
        ("rating_slip.created", "status", Some(j(r#""closed""#)), r#"rating_slip.created: field 'status' must be one of "open", got "closed""#),
        ("rating_slip.updated", "minutes_played", Some(j(r#""ten""#)), r#"rating_slip.updated: field 'minutes_played' must be a number, got "ten""#),
        ("rating_slip.updated", "game_type", Some(j(r#""craps""#)), r#"rating_slip.updated: field 'game_type' must be one of "blackjack", "poker", "roulette", "baccarat", got "craps""#),
        ("rating_slip.closed", "end_time", Some(j(r#""2025-12-20""#)), r#"rating_slip.closed: field 'end_time' must be an ISO 8601 timestamp with a UTC offset, got "2025-12-20""#),
        ("loyalty.ledger_appended", "points_earned", Some(j("1.5")), "loyalty.ledger_appended: field 'points_earned' must be an integer, got 1.5"),
        ("loyalty.ledger_appended", "reason", Some(j(r#""bonus""#)), r#"loyalty.ledger_appended: field 'reason' must be one of "mid_session", "session_end", "manual_adjustment", "promotion", "correction", got "bonus""#),
        ("loyalty.balance_updated", "tier", Some(j("7")), "loyalty.balance_updated: field 'tier' must be a string or null, got 7"),
        ("table.inventory_open", "chipset", Some(j(r#"{"25":"ten"}"#)), r#"table.inventory_open: field 'chipset["25"]' must be an integer, got "ten""#),
        ("table.inventory_close", "discrepancy_cents", Some(j(r#""5""#)), r#"table.inventory_close: field 'discrepancy_cents' must be an integer, got "5""#),
        ("table.inventory_rundown_recorded", "chipset", Some(j("[1]")), "table.inventory_rundown_recorded: field 'chipset' must be an object of integer counts, got [1]"),
        ("table.fill_requested", "request_id", Some(j("12")), "table.fill_requested: field 'request_id' must be a string, got 12"),
        ("table.fill_completed", "table_id", Some(j(r#""T-5""#)), r#"table.fill_completed: field 'table_id' must be a uuid string, got "T-5""#),
        ("table.credit_requested", "authorized_by", Some(j(r#""bob""#)), r#"table.credit_requested: field 'authorized_by' must be a uuid string or null, got "bob""#),
        ("table.credit_completed", "amount_cents", None, "table.credit_completed: field 'amount_cents' is required"),
        ("table.drop_removed", "gaming_day", Some(j(r#""2025-02-30""#)), r#"table.drop_removed: field 'gaming_day' must be a date (YYYY-MM-DD), got "2025-02-30""#),
        ("table.drop_delivered", "delivered_scan_at", Some(j(r#""soon""#)), r#"table.drop_delivered: field 'delivered_scan_at' must be an ISO 8601 timestamp with a UTC offset or null, got "soon""#),
        ("table.activated", "type", Some(j(r#""craps""#)), r#"table.activated: field 'type' must be one of "blackjack", "poker", "roulette", "baccarat", got "craps""#),
        ("table.deactivated", "casino_id", None, "table.deactivated: field 'casino_id' is required"),
        ("floor_layout.activated", "pits[0].sequence", Some(j(r#""1""#)), r#"floor_layout.activated: field 'pits[0].sequence' must be an integer, got "1""#),
        ("floor_layout.activated", "table_slots[1]", Some(j("5")), "floor_layout.activated: field 'table_slots[1]' must be an object, got 5"),
        ("floor_layout.activated", "table_slots[0].preferred_table_id", Some(j(r#""x""#)), r#"floor_layout.activated: field 'table_slots[0].preferred_table_id' must be a uuid string or null, got "x""#),
        ("finance.transaction_created", "amount", Some(Value::Null), "finance.transaction_created: field 'amount' must be a number, got null"),
        ("finance.outbox_processed", "casino_id", Some(j(r#""casino-1""#)), r#"finance.outbox_processed: field 'casino_id' must be a uuid string or null, got "casino-1""#),
        ("visit.checked_in", "at", Some(j(r#""2025-12-20T25:00:00Z""#)), r#"visit.checked_in: field 'at' must be an ISO 8601 timestamp with a UTC offset, got "2025-12-20T25:00:00Z""#),
        ("visit.checked_out", "duration_minutes", Some(j("true")), "visit.checked_out: field 'duration_minutes' must be a number, got true"),
    ];
    let mut covered = BTreeSet::new();
    for (event, path, value, expected) in cases {
        covered.insert(event);
        let payload = with(fixture(event), path, value);
        let err = parse_event(event, &payload).expect_err(event);
        assert_eq!(err.to_string(), expected);
        assert_eq!(err.event().map(|k| k.name()), Some(event));
        assert!(
            err.field().unwrap().starts_with(path),
            "{:?} within {path}",
            err.field()
        );
    }
    assert_eq!(covered.len(), 24, "every event has an invalid sample");
}

#[test]
fn payload_level_problems_have_their_own_kinds() {
    let err = parse_event("table.filled", &fixture("table.deactivated")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "unknown event \"table.filled\": not in the event catalog"
    );
    assert_eq!(err.reason(), "unknown_event");
    assert_eq!(err.event(), None);

    let err = parse_event("table.deactivated", &j("[1,2]")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "table.deactivated: payload must be an object, got [1,2]"
    );
    assert_eq!(err.reason(), "not_an_object");

    let err = parse_event("table.deactivated", &fixture("table.activated")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "table.deactivated: payload's 'event' member says \"table.activated\""
    );
    assert_eq!(err.reason(), "wrong_event");

    let missing = with(fixture("table.deactivated"), "table_id", None);
    assert_eq!(
        parse_event("table.deactivated", &missing)
            .unwrap_err()
            .reason(),
        "missing_field"
    );
}

#[test]
fn non_json_payloads_are_refused() {
    let err = EventKind::FinanceOutboxProcessed
        .parse_str(r#"{"attempt_count":1e400}"#)
        .unwrap_err();
    assert_eq!(err.to_string(), "finance.outbox_processed: payload is not JSON (invalid JSON at byte 17: number out of range)");
    assert_eq!(err.reason(), "not_json");
}

#[test]
fn unknown_members_are_ignored_and_nullable_ones_may_be_left_out() {
    let extra = with(fixture("visit.created"), "shift", Some(j(r#""night""#)));
    assert!(parse_event("visit.created", &extra).is_ok());
    let ghost = with(fixture("visit.created"), "player_id", None);
    let event = parse_event("visit.created", &ghost).unwrap();
    assert_eq!(event.field("player_id"), Some(&Value::Null));
}

#[test]
fn identity_ignores_formatting_but_not_substance() {
    let base = fixture("rating_slip.updated");
    let id = |payload: &Value| {
        parse_event("rating_slip.updated", payload)
            .unwrap()
            .natural_identity()
    };
    let reformatted = with(
        with(
            base.clone(),
            "at",
            Some(j(r#""2025-12-20T11:15:00+01:00""#)),
        ),
        "rating_slip_id",
        Some(j(
            r#""44444444-4444-4444-8444-444444444444""#.to_uppercase().as_str(),
        )),
    );
    assert_eq!(id(&base), id(&reformatted));
    assert_eq!(
        id(&base),
        id(&with(base.clone(), "minutes_played", Some(j("50")))),
        "telemetry is not identity"
    );
    assert_ne!(
        id(&base),
        id(&with(
            base.clone(),
            "at",
            Some(j(r#""2025-12-20T10:15:01Z""#))
        ))
    );
    assert_ne!(
        id(&base),
        id(&with(
            base.clone(),
            "casino_id",
            Some(j(r#""11111111-1111-4111-8111-111111111112""#))
        ))
    );

    let outbox = fixture("finance.outbox_processed");
    let oid = |p: &Value| {
        parse_event("finance.outbox_processed", p)
            .unwrap()
            .natural_identity()
    };
    assert_ne!(
        oid(&outbox),
        oid(&with(outbox.clone(), "attempt_count", Some(j("3")))),
        "attempts count"
    );

    // Different events about the same resource at the same instant are different identities.
    let created = parse_event("rating_slip.created", &fixture("rating_slip.created")).unwrap();
    assert_ne!(created.natural_identity(), id(&base));
    assert_eq!(
        EventKind::FinanceOutboxProcessed.identity_fields(),
        ["outbox_id", "attempt_count"]
    );
}

#[test]
fn typescript_declarations_match_the_shipped_file() {
    let generated = typescript_declarations();
    matches_shipped("catalog.d.ts", &generated, "catalog");
    assert!(generated.contains("export interface RatingSlipUpdatedPayload {"));
    assert!(generated.contains("  type: \"blackjack\" | \"poker\" | \"roulette\" | \"baccarat\";"));
}

fn arbitrary_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (-1_000_000i64..1_000_000).prop_map(Value::from),
        "-?[1-9][0-9]{0,2}\\.[0-9]{1,3}(e-?[0-9])?".prop_map(|t| json::parse(&t).unwrap()),
        "[a-z0-9:.+-]{0,40}".prop_map(Value::String),
        Just(Value::from("11111111-1111-4111-8111-111111111111")),
        Just(Value::from("2025-12-20T10:15:00Z")),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec(("[a-z_]{1,12}", inner), 0..6).prop_map(Value::Object),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Any value in any field of any event yields an event or an error, never a panic, and an
    /// error always names the event.
    #[test]
    fn never_panics_on_mutated_payloads(event in 0..24usize, field in 0..12usize, value in arbitrary_json()) {
        let kind = EventKind::ALL[event];
        let fields = kind.fields();
        let name = fields[field % fields.len()].name;
        let payload = with(fixture(kind.name()), name, Some(value));
        if let Err(err) = parse_event(kind.name(), &payload) {
            prop_assert!(err.to_string().starts_with(kind.name()));
        }
    }

    #[test]
    fn never_panics_on_arbitrary_text(text in ".{0,200}") {
        let _ = EventKind::VisitCreated.parse_str(&text);
        let _ = json::parse(&text);
    }
}

#[test]
fn every_event_names_channels_a_producer_can_route_by() {
    use casino_realtime::catalog::{Channel, FieldType};
    for &kind in EventKind::ALL {
        let channels = kind.channels();
        assert!(!channels.is_empty(), "{kind}: no channel");
        for channel in channels {
            match channel {
                // A detail channel's resource is one of the event's required uuid fields, so
                // every valid payload names it.
                Channel::Detail(field) => {
                    let spec = kind
                        .field(field)
                        .unwrap_or_else(|| panic!("{kind}: {field}"));
                    assert_eq!(spec.kind.ty, FieldType::Uuid, "{kind}.{field}");
                    assert!(!spec.kind.nullable, "{kind}.{field} may be null");
                }
                // Casino channels need the casino: required for every event routed there.
                Channel::List => assert!(!kind.field("casino_id").unwrap().kind.nullable),
                Channel::Internal => assert_eq!(kind.name(), "finance.outbox_processed"),
            }
        }
    }
}
