//! The error contract: the package's `errors.d.ts` and `errors.js` are what `src/errors.rs`
//! generates, and every error the core reports carries the members its kind declares, no others.
#![cfg(not(target_arch = "wasm32"))]
#![allow(clippy::unwrap_used)] // Tests fail loudly on purpose.

mod common;

use casino_realtime::cache::RuleSet;
use casino_realtime::catalog::{parse_event, Uuid};
use casino_realtime::errors::{javascript, typescript, ErrorKind, ErrorReport, Prop};
use casino_realtime::json::Value;
use casino_realtime::session::SessionError;
use common::{fixture, j, matches_shipped, with};

#[test]
fn the_shipped_declarations_and_guards_are_generated() {
    let ts = typescript();
    matches_shipped("errors.d.ts", &ts, "errors");
    matches_shipped("errors.js", &javascript(), "errors");
    for &kind in ErrorKind::ALL {
        assert!(ts.contains(&format!(
            "export interface {} extends Error {{",
            kind.name()
        )));
        assert!(
            ts.contains(&format!("  | {}\n", kind.name()) as &str)
                || ts.contains(&format!("  | {};", kind.name()) as &str)
        );
    }
    assert!(
        ts.contains("  topic: string;\n  /** The server's words"),
        "required members are not optional"
    );
}

#[test]
fn kinds_have_distinct_error_names() {
    let mut names: Vec<&str> = ErrorKind::ALL.iter().map(|k| k.name()).collect();
    assert!(names.iter().all(|n| n.ends_with("Error")));
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), ErrorKind::ALL.len());
    for &kind in ErrorKind::ALL {
        assert_eq!(ErrorKind::from_name(kind.name()), Some(kind));
    }
}

fn assert_keeps_contract(report: &ErrorReport) {
    let (missing, undeclared) = report.contract_breaches();
    assert!(
        missing.is_empty() && undeclared.is_empty(),
        "{:?}: missing {missing:?}, undeclared {undeclared:?}",
        report.kind
    );
}

#[test]
fn every_core_error_carries_what_its_kind_declares() {
    let event_errors = [
        parse_event("rating_slip.exploded", &fixture("table.deactivated")).unwrap_err(),
        parse_event("table.deactivated", &Value::Null).unwrap_err(),
        parse_event(
            "table.deactivated",
            &with(fixture("table.deactivated"), "casino_id", None),
        )
        .unwrap_err(),
        parse_event(
            "table.deactivated",
            &with(
                fixture("table.deactivated"),
                "event",
                Some(j(r#""table.activated""#)),
            ),
        )
        .unwrap_err(),
    ];
    let mut kinds = Vec::new();
    for error in &event_errors {
        let report = error.report();
        assert_keeps_contract(&report);
        kinds.push(report.kind);
        let session = SessionError::InvalidEvent {
            topic: "realtime:c".into(),
            error: error.clone(),
        };
        let report = session.report();
        assert_keeps_contract(&report);
        assert!(report.members.contains(&(Prop::Topic, "realtime:c".into())));
    }
    assert_eq!(kinds[0], ErrorKind::UnknownEvent);
    assert!(kinds[1..].iter().all(|&k| k == ErrorKind::InvalidEvent));
    let field = event_errors[2].report();
    assert!(field.members.contains(&(Prop::Field, "casino_id".into())));
    assert!(field
        .members
        .contains(&(Prop::Reason, "missing_field".into())));

    let rule = RuleSet::with_overrides(&j(
        r#"{"visit.created": {"extend": [{"type": "invalidate", "queryKey": ["v", "{nope}"]}]}}"#,
    ))
    .unwrap_err();
    assert_keeps_contract(&rule.report());
    assert_eq!(rule.report().kind, ErrorKind::InvalidRules);

    let casino = Uuid::parse("22222222-2222-4222-8222-222222222222").unwrap();
    for error in [
        SessionError::ForeignCasino {
            topic: "realtime:c".into(),
            event: "table.deactivated".into(),
            casino_id: casino,
        },
        SessionError::BadFrame {
            reason: "not JSON".into(),
        },
        SessionError::Denied {
            topic: "realtime:c".into(),
            reason: "Unauthorized".into(),
        },
        SessionError::Token {
            reason: "offline".into(),
        },
    ] {
        let report = error.report();
        assert_keeps_contract(&report);
        assert_eq!(report.kind.name(), error.name());
        assert_eq!(report.message, error.to_string());
    }
}

#[test]
fn a_report_missing_a_required_member_is_caught() {
    let report = ErrorReport::new(ErrorKind::ChannelDenied, "refused").with(Prop::Topic, "t");
    assert_eq!(report.contract_breaches(), (vec![Prop::Reason], vec![]));
    let mut report = report.with(Prop::Reason, "Unauthorized");
    report.members.push((Prop::Path, "x".into()));
    assert_eq!(report.contract_breaches(), (vec![], vec![Prop::Path]));
}
