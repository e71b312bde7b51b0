//! `claimscript template`: render a JSON claims template, no script.

use std::path::{Path, PathBuf};

use claimscript::ClaimsTemplate;

use crate::common::{
    Failure, Globals, UsageError, load_input, load_run_grants, print_report, read_text,
};

/// The arguments of `template`.
#[derive(clap::Args)]
pub struct Args {
    /// The template (JSON object with `{{ path || 'fallback' }}` placeholders);
    /// `-` for stdin (then the input must be a file).
    pub template: PathBuf,
    /// The input, as for `run`.
    #[arg(long)]
    pub input: PathBuf,
    /// The grants (TOML); only `max_output_bytes` applies.
    #[arg(long)]
    pub grants: Option<PathBuf>,
}

/// Render and print the outcome as `run` does.
pub fn run(args: Args, _globals: &Globals) -> Result<u8, Failure> {
    let stdin = Path::new("-");
    if args.template == stdin && args.input == stdin {
        return Err(UsageError(
            "the template and --input cannot both be standard input (-)".into(),
        )
        .into());
    }
    let (name, text) = read_text(&args.template)?;
    let template = ClaimsTemplate::parse(&text).map_err(|e| UsageError(format!("{name}: {e}")))?;
    let grants = load_run_grants(args.grants.as_deref())?;
    let input = load_input(&args.input)?;
    Ok(print_report(&template.run(&input, &grants)))
}
