//! The topics a catalog event is published on, from the catalog's channel table: what the SQL
//! `casino_realtime.emit` does in the database, done here for the in-memory store.

use casino_realtime::catalog::{Channel, EventKind, INTERNAL_TOPIC};
use casino_realtime::json::Value;

/// The sub-topics of `event` carrying `payload`, in the catalog's order; a channel whose field
/// the payload lacks is left out (the catalog check refuses such a payload first).
pub fn topics(event: EventKind, payload: &Value) -> Vec<String> {
    let text = |name: &str| {
        payload
            .get(name)
            .and_then(Value::as_str)
            .map(str::to_ascii_lowercase)
    };
    event
        .channels()
        .iter()
        .filter_map(|channel| match channel {
            Channel::List => text("casino_id"),
            Channel::Detail(field) => Some(format!("{}:{}", text("casino_id")?, text(field)?)),
            Channel::Internal => Some(INTERNAL_TOPIC.to_owned()),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use casino_realtime::json;

    #[test]
    fn list_and_detail_in_catalog_order() {
        let payload = json::parse(
            r#"{"casino_id":"C4A05000-CA51-4000-8000-00000000C4A0","rating_slip_id":"5a","at":"x"}"#,
        )
        .unwrap();
        assert_eq!(
            topics(EventKind::RatingSlipUpdated, &payload),
            [
                "c4a05000-ca51-4000-8000-00000000c4a0",
                "c4a05000-ca51-4000-8000-00000000c4a0:5a"
            ]
        );
        assert_eq!(
            topics(EventKind::FinanceOutboxProcessed, &payload),
            [INTERNAL_TOPIC]
        );
    }
}
