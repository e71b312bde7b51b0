//! Evaluating a parsed template against a root value. Nothing here fails.

use serde_json::{Map, Value};

use crate::expr::{Expr, Part, Segment, Term};
use crate::json::Node;

pub(crate) fn render_entries(entries: &[(String, Node)], root: &Value) -> Map<String, Value> {
    entries
        .iter()
        .map(|(key, node)| (key.clone(), render_node(node, root)))
        .collect()
}

fn render_node(node: &Node, root: &Value) -> Value {
    match node {
        Node::Static(value) => value.clone(),
        Node::Object(entries) => Value::Object(render_entries(entries, root)),
        Node::Array(elements) => {
            Value::Array(elements.iter().map(|n| render_node(n, root)).collect())
        }
        Node::Whole(expr) => eval(expr, root).cloned().unwrap_or(Value::Null),
        Node::Concat(parts) => {
            let mut out = String::new();
            for part in parts {
                match part {
                    Part::Text(text) => out.push_str(text),
                    Part::Expr(expr) => append(&mut out, eval(expr, root)),
                }
            }
            Value::String(out)
        }
    }
}

/// Follows a path; `None` when any step is missing.
fn lookup<'v>(root: &'v Value, path: &[Segment]) -> Option<&'v Value> {
    path.iter().try_fold(root, |value, segment| match value {
        Value::Object(map) => map.get(&segment.key),
        Value::Array(items) => segment.index.and_then(|i| items.get(i)),
        _ => None,
    })
}

/// A term is skipped when it is missing, null or the empty string.
fn skipped(value: Option<&Value>) -> bool {
    match value {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => s.is_empty(),
        Some(_) => false,
    }
}

/// The first term that is not skipped; when all are, the last term's value
/// (`None` when it is missing).
fn eval<'v>(expr: &'v Expr, root: &'v Value) -> Option<&'v Value> {
    let mut last = None;
    for term in &expr.terms {
        let value = match term {
            Term::Path(path) => lookup(root, path),
            Term::Literal(value) => Some(value),
        };
        if !skipped(value) {
            return value;
        }
        last = value;
    }
    last
}

/// Renders one placeholder's value into a concatenated string.
fn append(out: &mut String, value: Option<&Value>) {
    match value {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) => out.push_str(s),
        Some(Value::Number(n)) => out.push_str(&n.to_string()),
        Some(Value::Bool(b)) => out.push_str(if *b { "true" } else { "false" }),
        Some(value @ (Value::Object(_) | Value::Array(_))) => {
            // Serialising a Value to a String cannot fail (its keys are
            // strings); an empty string is the harmless answer if it did.
            out.push_str(&serde_json::to_string(value).unwrap_or_default());
        }
    }
}
