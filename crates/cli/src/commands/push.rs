//! `claimscript push`: store a compiled script and its grants in an OCI
//! registry as a Wasm OCI artifact.

use std::path::PathBuf;

use crate::commands::pull::{RegistryArgs, client, oci_failure, parse_reference, show};
use crate::common::{EXIT_CLAIMS, Failure, Globals, UsageError, load_grants};

/// The arguments of `push`.
#[derive(clap::Args)]
pub struct Args {
    /// The compiled script (.wasm, from `claimscript compile`).
    pub artifact: PathBuf,
    /// The reference to push to: oci://host[:port]/repo:tag (the oci://
    /// prefix is optional).
    pub reference: String,
    /// The grants (TOML) that travel with the script, in the manifest:
    /// `audit REF` and the service use them.
    #[arg(long)]
    pub grants: Option<PathBuf>,
    #[command(flatten)]
    pub registry: RegistryArgs,
}

/// Push and print the reference pinned to the manifest digest.
pub async fn run(args: Args, _globals: &Globals) -> Result<u8, Failure> {
    let reference = parse_reference(&args.reference)?;
    let wasm = std::fs::read(&args.artifact)
        .map_err(|e| UsageError(format!("cannot read {}: {e}", args.artifact.display())))?;
    if !wasm.starts_with(b"\0asm") {
        return Err(UsageError(format!(
            "{}: not a compiled script (.wasm); compile it first with `claimscript compile`",
            args.artifact.display()
        ))
        .into());
    }
    let grants = match &args.grants {
        Some(path) => {
            // Parsed first, so that a bad file is reported at its line and
            // key before anything is pushed.
            load_grants(Some(path))?;
            Some(
                std::fs::read_to_string(path)
                    .map_err(|e| UsageError(format!("cannot read {}: {e}", path.display())))?,
            )
        }
        None => None,
    };
    let pushed = client(&args.registry)?
        .push(&reference, &wasm, grants.as_deref())
        .await
        .map_err(oci_failure)?;
    println!("{}", show(&pushed.reference));
    Ok(EXIT_CLAIMS)
}
