//! `claimscript audit`: what a script could do under its grants.

use std::path::PathBuf;

use crate::common::{
    EXIT_CLAIMS, Failure, Globals, StyleArg, engine, load_grants, load_script, print_report,
};

/// The arguments of `audit`.
#[derive(clap::Args)]
pub struct Args {
    /// A compiled .wasm artifact or a .js script.
    pub script: PathBuf,
    /// The grants (TOML); defaults apply without it.
    #[arg(long)]
    pub grants: Option<PathBuf>,
    #[command(flatten)]
    pub style: StyleArg,
    /// Print one JSON document instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Print the audit report (text or JSON). A script that does not compile
/// gets its error report, as `run` prints it.
pub async fn run(args: Args, globals: &Globals) -> Result<u8, Failure> {
    let grants = load_grants(args.grants.as_deref())?;
    let engine = engine(globals.cache.clone(), None)?;
    let script = match load_script(&engine, &args.script, &args.style.compile_options()).await? {
        Ok(script) => script,
        Err(report) => return Ok(print_report(&report)),
    };
    let report = script.audit(&grants);
    if args.json {
        println!("{}", report.to_json());
    } else {
        print!("{report}");
    }
    Ok(EXIT_CLAIMS)
}
