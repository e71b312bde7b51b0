//! `claimscript sign`: sign an artifact's manifest digest, cosign's way.

use std::path::PathBuf;

use claimscript_oci::SigningKey;

use crate::commands::pull::{RegistryArgs, client, oci_failure, parse_reference, show};
use crate::common::{EXIT_CLAIMS, Failure, Globals, UsageError};

/// The arguments of `sign`.
#[derive(clap::Args)]
pub struct Args {
    /// The reference; a tag is resolved to its current digest, and that
    /// digest is what is signed.
    pub reference: String,
    /// The ECDSA P-256 private key, unencrypted PKCS#8 PEM (`claimscript
    /// keys generate --alg ES256` writes one).
    #[arg(long)]
    pub key: PathBuf,
    #[command(flatten)]
    pub registry: RegistryArgs,
}

/// Sign and print the signed reference (pinned to the digest).
pub async fn run(args: Args, _globals: &Globals) -> Result<u8, Failure> {
    let reference = parse_reference(&args.reference)?;
    let key = SigningKey::from_file(&args.key).map_err(|e| UsageError(e.to_string()))?;
    let digest = client(&args.registry)?
        .sign(&reference, &key)
        .await
        .map_err(oci_failure)?;
    println!("signed {}", show(&reference.pinned(digest)));
    Ok(EXIT_CLAIMS)
}
