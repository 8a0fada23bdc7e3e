//! The default rules, event by event, against docs/design.md's table; user rules; the README table.
#![cfg(not(target_arch = "wasm32"))]
#![allow(clippy::unwrap_used)] // Tests fail loudly on purpose.

mod common;

use casino_realtime::cache::{
    actions_to_json, key_factory_js, key_factory_ts, markdown_table, KeyElem, RuleSet,
};
use casino_realtime::catalog::{parse_event, EventKind};
use common::{fixture, fixtures, j, matches_shipped, with};

const C: &str = "11111111-1111-4111-8111-111111111111";
const V: &str = "22222222-2222-4222-8222-222222222222";
const P: &str = "33333333-3333-4333-8333-333333333333";
const S: &str = "44444444-4444-4444-8444-444444444444";
const T: &str = "55555555-5555-4555-8555-555555555555";

fn inv(key: &[&str]) -> String {
    let parts: Vec<String> = key.iter().map(|p| format!("\"{p}\"")).collect();
    format!(
        r#"{{"type":"invalidate","queryKey":[{}],"refetchType":"active"}}"#,
        parts.join(",")
    )
}

fn expected(event: &str) -> Vec<String> {
    let table_inventory = vec![
        inv(&["table-context", "inventory", C]),
        inv(&["table-context", "table", T, "inventory"]),
    ];
    let custody = |list: &str| {
        vec![
            inv(&["table-context", list, C]),
            inv(&["table-context", "table", T, "custody"]),
        ]
    };
    let tables = vec![
        inv(&["table-context", "tables", C]),
        inv(&["table-context", "table", T]),
    ];
    match event {
        "visit.created" | "visit.checked_in" => {
            vec![inv(&["visit", "list", C]), inv(&["visit", "by-player", P])]
        }
        "visit.closed" | "visit.checked_out" => {
            vec![
                inv(&["visit", "list", C]),
                inv(&["visit", "detail", V]),
                inv(&["visit", "by-player", P]),
            ]
        }
        "visit.converted" => vec![inv(&["visit", "detail", V]), inv(&["visit", "list", C])],
        "rating_slip.created" => vec![
            inv(&["rating-slip", "list", C]),
            inv(&["rating-slip", "by-visit", V]),
        ],
        "rating_slip.updated" => vec![
            format!(
                r#"{{"type":"mergeQueryData","queryKey":["rating-slip","detail","{S}"],"data":{{"average_bet":25.5,"minutes_played":42,"game_type":"blackjack","status":"open"}}}}"#
            ),
            inv(&["rating-slip", "by-visit", V]),
        ],
        "rating_slip.closed" => vec![
            format!(
                r#"{{"type":"mergeQueryData","queryKey":["rating-slip","detail","{S}"],"data":{{"end_time":"2025-12-20T11:00:00Z","total_duration":3600,"average_bet":null,"status":"closed"}}}}"#
            ),
            inv(&["rating-slip", "list", C]),
            inv(&["rating-slip", "by-visit", V]),
        ],
        "loyalty.ledger_appended" => {
            vec![
                inv(&["loyalty", "ledger", "by-player", P]),
                inv(&["player", "loyalty", "balance", P, C]),
            ]
        }
        "loyalty.balance_updated" => vec![format!(
            r#"{{"type":"setQueryData","queryKey":["player","loyalty","balance","{P}","{C}"],"data":1200}}"#
        )],
        "table.inventory_open" | "table.inventory_close" => table_inventory,
        "table.inventory_rundown_recorded" => {
            vec![inv(&["table-context", "table", T, "inventory"])]
        }
        "table.fill_requested" | "table.fill_completed" => custody("fills"),
        "table.credit_requested" | "table.credit_completed" => custody("credits"),
        "table.drop_removed" | "table.drop_delivered" => custody("drops"),
        "table.activated" | "table.deactivated" => tables,
        "floor_layout.activated" => vec![
            inv(&["floor-layout", "active", C]),
            inv(&["table-context", "tables", C]),
        ],
        "finance.transaction_created" => {
            vec![
                inv(&["finance", "transactions", P]),
                inv(&["finance", "gaming-day", C, "2025-12-20"]),
            ]
        }
        "finance.outbox_processed" => vec![inv(&["finance", "outbox"])],
        other => panic!("no expectation for {other}"),
    }
}

#[test]
fn every_default_rule_produces_the_exact_keys() {
    let rules = RuleSet::defaults();
    for (name, payload) in fixtures() {
        let event = parse_event(&name, &payload).unwrap();
        let got = actions_to_json(&rules.actions(&event));
        let want = format!("[{}]", expected(&name).join(","));
        assert_eq!(got, want, "{name}");
    }
}

#[test]
fn a_null_placeholder_skips_only_its_action() {
    let rules = RuleSet::defaults();
    for name in ["visit.created", "visit.closed"] {
        let ghost = with(fixture(name), "player_id", Some(j("null")));
        let event = parse_event(name, &ghost).unwrap();
        let keys: Vec<String> = rules
            .actions(&event)
            .iter()
            .map(|a| format!("{:?}", a.key().0[1]))
            .collect();
        assert!(
            !keys.iter().any(|k| k.contains("by-player")),
            "{name}: {keys:?}"
        );
        assert_eq!(keys.len(), expected(name).len() - 1, "{name}");
    }
}

#[test]
fn user_rules_extend_and_replace_with_payload_values() {
    let rules = RuleSet::with_overrides(&j(r#"{
        "table.fill_requested": { "extend": [
            { "type": "invalidate", "queryKey": ["fills", "{casino_id}", 7, true, null], "refetchType": "all" },
            { "type": "setQueryData", "queryKey": ["fill", "{request_id}"] },
            { "type": "mergeQueryData", "queryKey": ["table", "{table_id}"], "fields": ["amount_cents"] }
        ] },
        "loyalty.balance_updated": { "replace": [
            { "type": "setQueryData", "queryKey": ["tier", "{player_id}"], "field": "tier" }
        ] }
    }"#))
    .unwrap();
    let fill = parse_event("table.fill_requested", &fixture("table.fill_requested")).unwrap();
    let json = actions_to_json(&rules.actions(&fill));
    assert!(json.starts_with(&format!("[{}", expected("table.fill_requested").join(","))));
    assert!(json.contains(&format!(
        r#"{{"type":"invalidate","queryKey":["fills","{C}",7,true,null],"refetchType":"all"}}"#
    )));
    assert!(json.contains(
        r#"{"type":"setQueryData","queryKey":["fill","fill-2025-12-20-0001"],"data":{"casino_id":"#
    ));
    assert!(json.contains(&format!(
        r#"{{"type":"mergeQueryData","queryKey":["table","{T}"],"data":{{"amount_cents":500000}}}}"#
    )));

    let balance = parse_event(
        "loyalty.balance_updated",
        &fixture("loyalty.balance_updated"),
    )
    .unwrap();
    assert_eq!(
        actions_to_json(&rules.actions(&balance)),
        format!(r#"[{{"type":"setQueryData","queryKey":["tier","{P}"],"data":"gold"}}]"#)
    );
}

/// The rules table between the markers of `file` is the code's (`BLESS=1` rewrites it).
fn check_rules_table(file: &str) {
    let path = format!("{}/{file}", env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(&path).unwrap();
    let (start, end) = ("<!-- rules-table:start -->\n", "<!-- rules-table:end -->");
    let (Some(a), Some(b)) = (readme.find(start), readme.find(end)) else {
        panic!("{file} lacks the {start:?} … {end:?} markers");
    };
    let table = markdown_table(&RuleSet::defaults());
    let current = &readme[a + start.len()..b];
    if current != table && std::env::var_os("BLESS").is_some() {
        let updated = format!("{}{table}{}", &readme[..a + start.len()], &readme[b..]);
        std::fs::write(&path, updated).unwrap();
        return;
    }
    assert!(current == table, "{file}'s rules table differs from the code: run `BLESS=1 cargo test --test rules`\n{table}");
    assert_eq!(table.lines().count(), 2 + 24);
}

#[test]
fn readmes_list_the_rules_the_code_applies() {
    // The repository's README and the npm package's.
    check_rules_table("README.md");
    check_rules_table("pkg-template/README.md");
}

#[test]
fn the_key_factory_is_generated_from_the_default_rules() {
    let rules = RuleSet::defaults();
    let js = key_factory_js(&rules).unwrap();
    let ts = key_factory_ts(&rules).unwrap();
    matches_shipped("keys.js", &js, "rules");
    matches_shipped("keys.d.ts", &ts, "rules");
    // Every default key is in it, by its literal parts, with its placeholders as parameters.
    assert!(js.contains("    list: (casinoId) => ['rating-slip', 'list', casinoId],"));
    assert!(
        js.contains("    table: Object.assign((tableId) => ['table-context', 'table', tableId], {")
    );
    assert!(
        js.contains("      custody: (tableId) => ['table-context', 'table', tableId, 'custody'],")
    );
    assert!(ts.contains("`table.fill_requested` invalidates it"));
    let functions = js.matches(") => [").count();
    let mut distinct = std::collections::BTreeSet::new();
    for &kind in EventKind::ALL {
        for action in rules.templates(kind) {
            let names: Vec<String> = action
                .key()
                .0
                .iter()
                .map(|elem| match elem {
                    KeyElem::Literal(part) => format!("{part:?}"),
                    KeyElem::Field(spec) => spec.name.to_owned(),
                })
                .collect();
            distinct.insert(names);
        }
    }
    assert_eq!(
        functions,
        distinct.len(),
        "one function per distinct key template"
    );
}

#[test]
fn two_templates_under_one_name_are_refused() {
    let rules = RuleSet::with_overrides(&j(
        r#"{ "visit.created": { "extend": [{ "type": "invalidate", "queryKey": ["rating-slip", "list", "{visit_id}"] }] } }"#,
    ))
    .unwrap();
    assert!(key_factory_js(&rules).is_err());
}
