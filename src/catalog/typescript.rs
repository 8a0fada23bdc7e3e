//! TypeScript declarations of the catalog's payloads, generated from the same field tables the
//! reader uses. The npm package ships them (`pkg-template/catalog.d.ts`); a test fails when the
//! committed file and this output differ.

use super::{EventKind, FieldType};

/// `visit.created` → `VisitCreatedPayload`.
fn interface_name(kind: EventKind) -> String {
    let mut name = String::new();
    for word in kind.name().split(['.', '_']) {
        let mut chars = word.chars();
        if let Some(first) = chars.next() {
            name.extend(first.to_uppercase());
            name.push_str(chars.as_str());
        }
    }
    name.push_str("Payload");
    name
}

/// A short comment for fields whose TypeScript type says less than the catalog.
fn note(ty: FieldType) -> &'static str {
    match ty {
        FieldType::Uuid => "/** uuid */ ",
        FieldType::Timestamp => "/** ISO 8601 timestamp with offset */ ",
        FieldType::Date => "/** YYYY-MM-DD */ ",
        FieldType::Integer => "/** integer */ ",
        _ => "",
    }
}

/// The declarations: one interface per event, `EventName`, and `EventPayloads` mapping one to
/// the other.
pub fn typescript_declarations() -> String {
    let mut out = String::from(
        "// Generated from src/catalog by `cargo test` (BLESS=1 rewrites it). Do not edit.\n\n",
    );
    for &kind in EventKind::ALL {
        out.push_str(&format!(
            "/** The payload of `{}`. */\nexport interface {} {{\n",
            kind,
            interface_name(kind)
        ));
        out.push_str(&format!("  event?: \"{kind}\";\n"));
        for field in kind.fields() {
            let optional = if field.kind.nullable { "?" } else { "" };
            let ts = field.kind.typescript();
            out.push_str(&format!(
                "  {}{}{optional}: {ts};\n",
                note(field.kind.ty),
                field.name
            ));
        }
        out.push_str("}\n\n");
    }
    out.push_str("/** Every event name in the catalog. */\nexport type EventName =\n");
    for &kind in EventKind::ALL {
        out.push_str(&format!("  | \"{kind}\"\n"));
    }
    out.push_str(
        ";\n\n/** Each event's payload type, by name. */\nexport interface EventPayloads {\n",
    );
    for &kind in EventKind::ALL {
        out.push_str(&format!("  \"{}\": {};\n", kind, interface_name(kind)));
    }
    out.push_str("}\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_interfaces_after_events() {
        assert_eq!(
            interface_name(EventKind::VisitCreated),
            "VisitCreatedPayload"
        );
        assert_eq!(
            interface_name(EventKind::TableInventoryRundownRecorded),
            "TableInventoryRundownRecordedPayload"
        );
    }
}
