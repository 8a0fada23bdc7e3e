//! The query-key factory the package exports (`casinoKeys`), generated from the default rules so
//! an app's `useQuery` keys cannot drift from what the events invalidate or write. Each distinct
//! key template becomes a function named by its literal parts (`["rating-slip", "list",
//! "{casino_id}"]` is `casinoKeys.ratingSlip.list(casinoId)`), taking its placeholders in order,
//! with a doc comment listing the events that keep it fresh. A test keeps `pkg-template/keys.js`
//! and `keys.d.ts` equal to what this writes.

use super::action::KeyPart;
use super::template::{ActionTemplate, KeyElem, KeyTemplate};
use super::RuleSet;
use crate::catalog::EventKind;
use std::collections::BTreeMap;

/// One generated key: its template, and which events touch it, how.
struct Key {
    template: KeyTemplate,
    uses: Vec<String>,
}

/// A namespace of the factory: maybe a key of its own, and deeper names.
#[derive(Default)]
struct Node {
    key: Option<Key>,
    children: BTreeMap<String, Node>,
}

fn camel(text: &str) -> String {
    let mut out = String::new();
    let mut upper = false;
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            if upper && !out.is_empty() {
                out.push(c.to_ascii_uppercase());
            } else {
                out.push(c);
            }
            upper = false;
        } else {
            upper = true;
        }
    }
    out
}

fn literal_js(part: &KeyPart) -> String {
    match part {
        KeyPart::Str(s) => format!("'{s}'"),
        KeyPart::Num(n) => {
            let mut text = String::new();
            n.write(&mut text);
            text
        }
        KeyPart::Bool(b) => b.to_string(),
        KeyPart::Null => "null".into(),
    }
}

fn literal_ts(part: &KeyPart) -> String {
    match part {
        KeyPart::Str(s) => format!("\"{s}\""),
        other => literal_js(other),
    }
}

fn literal_name(part: &KeyPart) -> String {
    match part {
        KeyPart::Str(s) => camel(s),
        other => camel(&literal_js(other)),
    }
}

fn params(template: &KeyTemplate) -> Vec<(String, String)> {
    template
        .0
        .iter()
        .filter_map(|elem| match elem {
            // Null fields give no key, so a parameter is never null.
            KeyElem::Field(spec) => Some((
                camel(spec.name),
                spec.kind
                    .typescript()
                    .trim_end_matches(" | null")
                    .to_owned(),
            )),
            KeyElem::Literal(_) => None,
        })
        .collect()
}

/// A template as the factory sees it: literals and field names (not whether a field is nullable
/// in one event and required in another).
fn shape(template: &KeyTemplate) -> Vec<String> {
    template
        .0
        .iter()
        .map(|elem| match elem {
            KeyElem::Literal(part) => literal_js(part),
            KeyElem::Field(spec) => format!("{{{}}}", spec.name),
        })
        .collect()
}

/// The factory's tree, from the rules; an error when two different templates would get one name.
fn tree(rules: &RuleSet) -> Result<Node, String> {
    let mut root = Node::default();
    for &kind in EventKind::ALL {
        for action in rules.templates(kind) {
            let (how, template) = match action {
                ActionTemplate::Invalidate { key, .. } => ("invalidates", key),
                ActionTemplate::Set { key, .. } => ("writes", key),
                ActionTemplate::Merge { key, .. } => ("merges into", key),
            };
            let mut node = &mut root;
            for elem in &template.0 {
                if let KeyElem::Literal(part) = elem {
                    node = node.children.entry(literal_name(part)).or_default();
                }
            }
            let key = node.key.get_or_insert_with(|| Key {
                template: template.clone(),
                uses: Vec::new(),
            });
            if shape(&key.template) != shape(template) {
                return Err(format!(
                    "two key templates share the name of {}'s",
                    kind.name()
                ));
            }
            let usage = format!("`{}` {how} it", kind.name());
            if !key.uses.contains(&usage) {
                key.uses.push(usage);
            }
        }
    }
    Ok(root)
}

fn doc(out: &mut String, indent: &str, key: &Key) {
    out.push_str(&format!("{indent}/** {}. */\n", key.uses.join("; ")));
}

fn write_js(out: &mut String, node: &Node, depth: usize) {
    let indent = "  ".repeat(depth);
    for (name, child) in &node.children {
        out.push_str(&format!("{indent}{name}: "));
        let function = child.key.as_ref().map(|key| {
            let names: Vec<String> = params(&key.template).into_iter().map(|p| p.0).collect();
            let elems: Vec<String> = key
                .template
                .0
                .iter()
                .map(|elem| match elem {
                    KeyElem::Literal(part) => literal_js(part),
                    KeyElem::Field(spec) => camel(spec.name),
                })
                .collect();
            format!("({}) => [{}]", names.join(", "), elems.join(", "))
        });
        match (function, child.children.is_empty()) {
            (Some(function), true) => out.push_str(&format!("{function},\n")),
            (Some(function), false) => {
                out.push_str(&format!("Object.assign({function}, {{\n"));
                write_js(out, child, depth + 1);
                out.push_str(&format!("{indent}}}),\n"));
            }
            (None, _) => {
                out.push_str("{\n");
                write_js(out, child, depth + 1);
                out.push_str(&format!("{indent}}},\n"));
            }
        }
    }
}

fn write_ts(out: &mut String, node: &Node, depth: usize) {
    let indent = "  ".repeat(depth);
    for (name, child) in &node.children {
        if let Some(key) = &child.key {
            doc(out, &indent, key);
        }
        out.push_str(&format!("{indent}readonly {name}: "));
        let function = child.key.as_ref().map(|key| {
            let args: Vec<String> = params(&key.template)
                .into_iter()
                .map(|(name, ty)| format!("{name}: {ty}"))
                .collect();
            let elems: Vec<String> = key
                .template
                .0
                .iter()
                .map(|elem| match elem {
                    KeyElem::Literal(part) => literal_ts(part),
                    KeyElem::Field(spec) => spec
                        .kind
                        .typescript()
                        .trim_end_matches(" | null")
                        .to_owned(),
                })
                .collect();
            format!("({}) => readonly [{}]", args.join(", "), elems.join(", "))
        });
        match (function, child.children.is_empty()) {
            (Some(function), true) => out.push_str(&format!("{function};\n")),
            (Some(function), false) => {
                out.push_str(&format!("({function}) & {{\n"));
                write_ts(out, child, depth + 1);
                out.push_str(&format!("{indent}}};\n"));
            }
            (None, _) => {
                out.push_str("{\n");
                write_ts(out, child, depth + 1);
                out.push_str(&format!("{indent}}};\n"));
            }
        }
    }
}

const HEADER: &str = "// Generated from the default rules (src/cache/defaults.json) by src/cache/keys.rs\n// (`BLESS=1 cargo test --test rules` writes it); do not edit.\n";

/// `keys.js`: `casinoKeys`, the default rules' query keys as functions.
pub fn key_factory_js(rules: &RuleSet) -> Result<String, String> {
    let mut out = format!("{HEADER}export const casinoKeys = {{\n");
    write_js(&mut out, &tree(rules)?, 1);
    out.push_str("};\n");
    Ok(out)
}

/// `keys.d.ts`: its declarations, each key with the events that keep it fresh.
pub fn key_factory_ts(rules: &RuleSet) -> Result<String, String> {
    let mut out = format!(
        "{HEADER}/**\n * The query keys the default rules invalidate or write, as functions: use them in `useQuery` so\n * a key cannot drift from what the events keep fresh. Custom rules are not in it.\n */\nexport declare const casinoKeys: {{\n"
    );
    write_ts(&mut out, &tree(rules)?, 1);
    out.push_str("};\n");
    Ok(out)
}
