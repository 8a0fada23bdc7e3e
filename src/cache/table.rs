//! The rules as a Markdown table, for the README (a test keeps the two in step).

use super::template::{ActionTemplate, DataSource, KeyElem, KeyTemplate};
use super::{KeyPart, RefetchType, RuleSet};
use crate::catalog::EventKind;
use crate::json::Value;

fn key(template: &KeyTemplate) -> String {
    let parts: Vec<String> = template
        .0
        .iter()
        .map(|elem| match elem {
            KeyElem::Field(spec) => spec.name.to_owned(),
            KeyElem::Literal(KeyPart::Str(s)) => format!("'{s}'"),
            KeyElem::Literal(KeyPart::Num(n)) => Value::Number(n.clone()).to_json(),
            KeyElem::Literal(KeyPart::Bool(b)) => b.to_string(),
            KeyElem::Literal(KeyPart::Null) => "null".to_owned(),
        })
        .collect();
    format!("[{}]", parts.join(", "))
}

fn action(template: &ActionTemplate) -> String {
    let mut text = match template {
        ActionTemplate::Invalidate {
            key: k,
            refetch: RefetchType::Active,
        } => format!("invalidate `{}`", key(k)),
        ActionTemplate::Invalidate { key: k, refetch } => {
            format!(
                "invalidate `{}` (refetchType '{}')",
                key(k),
                refetch.as_str()
            )
        }
        ActionTemplate::Set {
            key: k,
            field: Some(f),
        } => format!("set `{}` = {}", key(k), f.name),
        ActionTemplate::Set {
            key: k,
            field: None,
        } => format!("set `{}` = payload", key(k)),
        ActionTemplate::Merge {
            key: k,
            data: DataSource::Fields(fields),
        } => {
            let names: Vec<&str> = fields.iter().map(|f| f.name).collect();
            format!("merge {} into `{}`", names.join(", "), key(k))
        }
        ActionTemplate::Merge {
            key: k,
            data: DataSource::Payload,
        } => format!("merge payload into `{}`", key(k)),
    };
    let nullable: Vec<&str> = template.key().nullable_fields().collect();
    if !nullable.is_empty() {
        text.push_str(&format!(" (when {} is not null)", nullable.join(", ")));
    }
    text
}

/// One row per event: `| event | action<br>action |`.
pub fn markdown_table(rules: &RuleSet) -> String {
    let mut out = String::from("| event | cache actions |\n|---|---|\n");
    for &kind in EventKind::ALL {
        let actions: Vec<String> = rules.templates(kind).iter().map(action).collect();
        out.push_str(&format!("| `{}` | {} |\n", kind, actions.join("<br>")));
    }
    out
}
