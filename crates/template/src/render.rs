//! Evaluating a parsed template against a root value. Nothing here fails;
//! a budget stops rendering once the output would pass it.

use serde_json::{Map, Value};

use crate::expr::{Expr, Part, Segment, Term};
use crate::json::Node;

/// Bytes of JSON the output may still take (an estimate that never counts
/// more than the serialised size: escapes are not counted). Once spent,
/// rendering stops and `exceeded` is set.
pub(crate) struct Budget {
    pub(crate) left: usize,
    pub(crate) exceeded: bool,
}

impl Budget {
    /// Charge `bytes`; false (and `exceeded`) when they do not fit.
    fn charge(&mut self, bytes: usize) -> bool {
        if self.exceeded || bytes > self.left {
            self.exceeded = true;
            return false;
        }
        self.left -= bytes;
        true
    }
}

/// The JSON size of `value` (without escapes), or `None` once it passes
/// `cap`: walks no further than the cap.
fn json_size(value: &Value, cap: usize) -> Option<usize> {
    fn walk(value: &Value, total: &mut usize, cap: usize) -> bool {
        let add = |total: &mut usize, n: usize| {
            *total = total.saturating_add(n);
            *total <= cap
        };
        match value {
            Value::Null => add(total, 4),
            Value::Bool(_) => add(total, 5),
            Value::Number(n) => add(total, n.to_string().len()),
            Value::String(s) => add(total, s.len() + 2),
            Value::Array(items) => {
                add(total, 2 + items.len()) && items.iter().all(|v| walk(v, total, cap))
            }
            Value::Object(map) => {
                add(total, 2 + map.len() * 2)
                    && map
                        .iter()
                        .all(|(k, v)| add(total, k.len() + 2) && walk(v, total, cap))
            }
        }
    }
    let mut total = 0;
    walk(value, &mut total, cap).then_some(total)
}

pub(crate) fn render_entries(
    entries: &[(String, Node)],
    root: &Value,
    budget: &mut Budget,
) -> Map<String, Value> {
    let mut out = Map::new();
    for (key, node) in entries {
        if !budget.charge(key.len() + 4) {
            break;
        }
        let value = render_node(node, root, budget);
        if budget.exceeded {
            break;
        }
        out.insert(key.clone(), value);
    }
    out
}

fn render_node(node: &Node, root: &Value, budget: &mut Budget) -> Value {
    let whole = |value: &Value, budget: &mut Budget| match json_size(value, budget.left) {
        Some(size) if budget.charge(size) => value.clone(),
        _ => {
            budget.exceeded = true;
            Value::Null
        }
    };
    match node {
        Node::Static(value) => whole(value, budget),
        Node::Object(entries) => Value::Object(render_entries(entries, root, budget)),
        Node::Array(elements) => {
            let mut items = Vec::with_capacity(elements.len());
            for element in elements {
                if !budget.charge(1) {
                    break;
                }
                items.push(render_node(element, root, budget));
                if budget.exceeded {
                    break;
                }
            }
            Value::Array(items)
        }
        Node::Whole(expr) => match eval(expr, root) {
            Some(value) => whole(value, budget),
            None => whole(&Value::Null, budget),
        },
        Node::Concat(parts) => {
            let mut out = String::new();
            for part in parts {
                let before = out.len();
                match part {
                    Part::Text(text) => {
                        if budget.charge(text.len()) {
                            out.push_str(text);
                        }
                    }
                    Part::Expr(expr) => {
                        let value = eval(expr, root);
                        // Objects and arrays are serialised: check their
                        // size before writing them.
                        let fits = match value {
                            Some(v @ (Value::Object(_) | Value::Array(_))) => {
                                json_size(v, budget.left).is_some()
                            }
                            _ => true,
                        };
                        if fits {
                            append(&mut out, value);
                            let _ = budget.charge(out.len() - before);
                        } else {
                            budget.exceeded = true;
                        }
                    }
                }
                if budget.exceeded {
                    break;
                }
            }
            let _ = budget.charge(2);
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
