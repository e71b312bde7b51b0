//! `playground-hook-samples FIXTURES_DIR OUT.json`: maps every provider hook
//! request in FIXTURES_DIR (`okta-*.json`, `zitadel-*.json`, `hydra-*.json`,
//! `supabase-*.json`) to the run input the claims service gives the script,
//! with claimscript-hooks, and writes them as one JSON object keyed by file
//! name: `{"okta-token-transform.json": {"token", "context"?, "environmentVariables"?}}`.

use std::error::Error;
use std::path::Path;

use claimscript_hooks::{Protocol, parse};
use serde_json::{Map, Value};

fn protocol(name: &str) -> Option<Protocol> {
    match name.split('-').next()? {
        "okta" => Some(Protocol::Okta),
        "zitadel" => Some(Protocol::Zitadel),
        "hydra" => Some(Protocol::Hydra),
        "supabase" => Some(Protocol::Supabase),
        _ => None,
    }
}

fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [dir, out] = args.as_slice() else {
        return Err("usage: playground-hook-samples FIXTURES_DIR OUT.json".into());
    };
    let mut names: Vec<String> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".json"))
        .collect();
    names.sort();
    let mut samples = Map::new();
    for name in names {
        let Some(protocol) = protocol(&name) else {
            continue;
        };
        let body = std::fs::read(Path::new(dir).join(&name))?;
        let request = parse(protocol, &body).map_err(|e| format!("{name}: {e}"))?;
        let input = request.to_run_input();
        let mut doc = Map::new();
        doc.insert("token".into(), Value::Object(input.token.clone()));
        if let Some(context) = &input.context {
            doc.insert("context".into(), Value::Object(context.clone()));
        }
        if !input.environment_variables.is_empty() {
            doc.insert(
                "environmentVariables".into(),
                serde_json::to_value(&input.environment_variables)?,
            );
        }
        samples.insert(name, Value::Object(doc));
    }
    std::fs::write(
        out,
        serde_json::to_string_pretty(&Value::Object(samples))? + "\n",
    )?;
    Ok(())
}
