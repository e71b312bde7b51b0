//! `claimscript run`: run a script once and print its outcome.

use std::path::PathBuf;

use crate::common::{
    Failure, Globals, StyleArg, engine, load_input, load_run_grants, print_report, run_once,
};

/// The arguments of `run`.
#[derive(clap::Args)]
pub struct Args {
    /// The script: .js source or a compiled .wasm component.
    pub script: PathBuf,
    /// The input: {"token": {...}, "context": {...}, "environmentVariables": {...}}; `-` for stdin.
    #[arg(long)]
    pub input: PathBuf,
    /// The grants (TOML); defaults apply without it.
    #[arg(long)]
    pub grants: Option<PathBuf>,
    #[command(flatten)]
    pub style: StyleArg,
    /// Append the run's audit record (one JSON line) to this file.
    #[arg(long)]
    pub audit_log: Option<PathBuf>,
}

/// Run once; print the report as one JSON object and return the exit status
/// its outcome implies.
pub async fn run(args: Args, globals: &Globals) -> Result<u8, Failure> {
    let grants = load_run_grants(args.grants.as_deref())?;
    let input = load_input(&args.input)?;
    let engine = engine(globals.cache.clone(), args.audit_log.as_deref())?;
    let options = args.style.compile_options();
    let report = run_once(&engine, &args.script, &options, &input, &grants).await?;
    Ok(print_report(&report))
}
