//! `claimscript compile`: a script to a pre-initialised Wasm component.

use std::path::PathBuf;

use claimscript::Error;

use crate::common::{
    EXIT_CLAIMS, EXIT_ERROR, Failure, Globals, StyleArg, UsageError, engine, read_source,
};

/// The arguments of `compile`.
#[derive(clap::Args)]
pub struct Args {
    /// The script (.js).
    pub script: PathBuf,
    /// Where to write the component.
    #[arg(short, long)]
    pub output: PathBuf,
    #[command(flatten)]
    pub style: StyleArg,
}

/// Compile and write the component; a script that does not compile is
/// reported on stderr (exit 1).
pub async fn run(args: Args, globals: &Globals) -> Result<u8, Failure> {
    let source = read_source(&args.script)?;
    let engine = engine(globals.cache.clone(), None)?;
    let options = args.style.compile_options();
    match engine.compile_with(&source, &options).await {
        Ok(compiled) => {
            // A compiled script keeps its artifact (only `Engine::load_stored`
            // leaves it with the caller).
            let bytes = compiled.component_bytes().ok_or_else(|| {
                UsageError("the compiled script holds no artifact to write".into())
            })?;
            std::fs::write(&args.output, bytes)
                .map_err(|e| UsageError(format!("cannot write {}: {e}", args.output.display())))?;
            eprintln!(
                "claimscript: wrote {} ({} bytes, {} style, sha256 {})",
                args.output.display(),
                compiled.artifact_len(),
                compiled.style(),
                compiled.digest_hex()
            );
            Ok(EXIT_CLAIMS)
        }
        Err(Error::Script(e)) => {
            eprintln!("{}: {e}", args.script.display());
            Ok(EXIT_ERROR)
        }
        Err(e) => Err(e.into()),
    }
}
