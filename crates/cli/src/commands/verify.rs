//! `claimscript verify`: check an artifact's signature.

use std::path::PathBuf;

use crate::commands::pull::{
    RegistryArgs, client, load_public_keys, oci_failure, parse_reference, show,
};
use crate::common::{EXIT_CLAIMS, Failure, Globals};

/// The arguments of `verify`.
#[derive(clap::Args)]
pub struct Args {
    /// The reference; a tag is resolved to its current digest.
    pub reference: String,
    /// A public key (SPKI PEM, as cosign.pub); repeat for several, any one
    /// of which suffices.
    #[arg(long = "key", required = true)]
    pub keys: Vec<PathBuf>,
    #[command(flatten)]
    pub registry: RegistryArgs,
}

/// Exit 0 and print `verified REF@DIGEST (key FILE)`, or exit 1 with the
/// reason (unsigned, wrong key, payload for another digest, malformed).
pub async fn run(args: Args, _globals: &Globals) -> Result<u8, Failure> {
    let reference = parse_reference(&args.reference)?;
    let keys = load_public_keys(&args.keys)?;
    let verified = client(&args.registry)?
        .verify(&reference, &keys)
        .await
        .map_err(oci_failure)?;
    let key = args
        .keys
        .get(verified.key_index)
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    println!(
        "verified {} (key {key})",
        show(&reference.pinned(verified.digest))
    );
    Ok(EXIT_CLAIMS)
}
