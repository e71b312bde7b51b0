//! `claimscript audit`: what a script could do under its grants.

use std::path::PathBuf;

use claimscript::{Engine, Grants, Script};
use claimscript_oci::Reference;

use crate::commands::pull;
use crate::common::{
    EXIT_CLAIMS, Failure, Globals, StyleArg, UsageError, engine, load_grants, load_script,
    print_report,
};

/// The arguments of `audit`.
#[derive(clap::Args)]
pub struct Args {
    /// A compiled .wasm artifact or a .js script, or a registry reference
    /// (oci://host[:port]/repo[:tag][@sha256:...]), pulled first when no
    /// such file exists.
    pub script: PathBuf,
    /// The grants (TOML); defaults apply without it. For a registry
    /// reference, the grants that travel with the script apply unless
    /// this is given.
    #[arg(long)]
    pub grants: Option<PathBuf>,
    /// For a registry reference: refuse it unless this public key signed it
    /// (repeatable; any one suffices).
    #[arg(long = "key")]
    pub keys: Vec<PathBuf>,
    #[command(flatten)]
    pub registry: pull::RegistryArgs,
    #[command(flatten)]
    pub style: StyleArg,
    /// Print one JSON document instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Print the audit report (text or JSON). A script that does not compile
/// gets its error report, as `run` prints it.
pub async fn run(args: Args, globals: &Globals) -> Result<u8, Failure> {
    if let Some(reference) = registry_reference(&args.script)? {
        return audit_reference(args, globals, &reference).await;
    }
    let grants = load_grants(args.grants.as_deref())?;
    let engine = engine(globals.cache.clone(), None)?;
    let script = match load_script(&engine, &args.script, &args.style.compile_options()).await? {
        Ok(script) => script,
        Err(report) => return Ok(print_report(&report)),
    };
    print_audit(&script, &grants, args.json)
}

fn print_audit(script: &Script, grants: &Grants, json: bool) -> Result<u8, Failure> {
    let report = script.audit(grants);
    if json {
        println!("{}", report.to_json());
    } else {
        print!("{report}");
    }
    Ok(EXIT_CLAIMS)
}

/// A SCRIPT that is no existing file but reads as a registry reference
/// (`oci://...`, whose errors are reported, or `host:port/repo...`).
fn registry_reference(script: &std::path::Path) -> Result<Option<Reference>, UsageError> {
    if script.exists() {
        return Ok(None);
    }
    let Some(text) = script.to_str() else {
        return Ok(None);
    };
    if text.starts_with("oci://") {
        return pull::parse_reference(text).map(Some);
    }
    if !Reference::looks_like_reference(text) {
        return Ok(None);
    }
    Ok(Reference::parse(text).ok())
}

/// Pull (and with --key, verify) the artifact, then audit it under the
/// grants that travel with it (or --grants).
async fn audit_reference(
    args: Args,
    globals: &Globals,
    reference: &Reference,
) -> Result<u8, Failure> {
    let keys = pull::load_public_keys(&args.keys)?;
    let override_grants = match &args.grants {
        Some(path) => Some(load_grants(Some(path))?),
        None => None,
    };
    let artifact = pull::fetch(reference, &args.registry, &keys).await?;
    let shown = pull::show(&artifact.reference);
    let grants = match (override_grants, &artifact.grants) {
        (Some(grants), _) => grants,
        (None, Some(text)) => Grants::from_toml(text)
            .map_err(|e| UsageError(format!("{shown}: the grants it carries: {e}")))?,
        (None, None) => Grants::default(),
    };
    let engine: Engine = engine(globals.cache.clone(), None)?;
    let script = engine
        .load(&artifact.wasm)
        .map_err(|e| UsageError(format!("{shown}: {e}")))?;
    eprintln!(
        "claimscript: audit of {shown}{}",
        match (&args.grants, &artifact.grants) {
            (Some(path), _) => format!(" under {}", path.display()),
            (None, Some(_)) => " under the grants it carries".to_string(),
            (None, None) => " (it carries no grants: defaults apply)".to_string(),
        }
    );
    print_audit(&script, &grants, args.json)
}
