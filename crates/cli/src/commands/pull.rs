//! `claimscript pull`: fetch a script (and its grants) from an OCI
//! registry, every blob checked against its digest. Also the registry
//! options and helpers `push`, `sign`, `verify` and `audit` share.

use std::path::{Path, PathBuf};

use claimscript_oci::{Artifact, Client, ClientConfig, Error, PublicKey, Reference};

use crate::common::{EXIT_CLAIMS, Failure, Globals, UsageError};

/// Registry options every registry command takes.
#[derive(clap::Args, Clone, Debug)]
pub struct RegistryArgs {
    /// Talk plain HTTP to the registry. Only allowed for a registry on
    /// loopback (localhost, 127.0.0.0/8, ::1); HTTPS otherwise. Credentials
    /// come from $CLAIMSCRIPT_REGISTRY_USERNAME and
    /// $CLAIMSCRIPT_REGISTRY_PASSWORD, else Docker's config file
    /// ($DOCKER_CONFIG/config.json or ~/.docker/config.json).
    #[arg(long)]
    pub insecure_http: bool,
}

/// The arguments of `pull`.
#[derive(clap::Args)]
pub struct Args {
    /// The reference: oci://host[:port]/repo[:tag][@sha256:...] (the oci://
    /// prefix is optional).
    pub reference: String,
    /// Where to write the Wasm artifact.
    #[arg(short = 'o', long = "output")]
    pub output: PathBuf,
    /// Where to write the grants that travel with the script.
    #[arg(long)]
    pub grants_out: Option<PathBuf>,
    /// Refuse the artifact unless its manifest digest is signed by this
    /// public key (SPKI PEM, as cosign.pub); repeat for several keys, any
    /// one of which suffices.
    #[arg(long = "key")]
    pub keys: Vec<PathBuf>,
    #[command(flatten)]
    pub registry: RegistryArgs,
}

/// Pull, write the files and print the reference pinned to the digest.
pub async fn run(args: Args, _globals: &Globals) -> Result<u8, Failure> {
    let reference = parse_reference(&args.reference)?;
    let keys = load_public_keys(&args.keys)?;
    let artifact = fetch(&reference, &args.registry, &keys).await?;
    write_file(&args.output, &artifact.wasm)?;
    match (&args.grants_out, &artifact.grants) {
        (Some(path), Some(grants)) => write_file(path, grants.as_bytes())?,
        (Some(path), None) => eprintln!(
            "claimscript: {} carries no grants; {} not written",
            show(&artifact.reference),
            path.display()
        ),
        (None, Some(_)) => {
            eprintln!("claimscript: the artifact carries grants; write them with --grants-out FILE")
        }
        (None, None) => {}
    }
    println!("{}", show(&artifact.reference));
    Ok(EXIT_CLAIMS)
}

/// `oci://registry/repository[:tag][@digest]`.
pub fn show(reference: &Reference) -> String {
    format!("oci://{reference}")
}

/// Parse a reference given on the command line (a usage error if bad).
pub fn parse_reference(text: &str) -> Result<Reference, UsageError> {
    Reference::parse(text).map_err(|e| UsageError(e.to_string()))
}

/// The registry client for `args`.
pub fn client(args: &RegistryArgs) -> Result<Client, Failure> {
    Client::new(ClientConfig::default().with_plain_http(args.insecure_http)).map_err(oci_failure)
}

/// Read public keys (a usage error naming the file if one is unusable).
pub fn load_public_keys(paths: &[PathBuf]) -> Result<Vec<PublicKey>, UsageError> {
    paths
        .iter()
        .map(|p| PublicKey::from_file(p).map_err(|e| UsageError(e.to_string())))
        .collect()
}

/// Pull `reference`; with keys, only once its digest is verified.
pub async fn fetch(
    reference: &Reference,
    registry: &RegistryArgs,
    keys: &[PublicKey],
) -> Result<Artifact, Failure> {
    let client = client(registry)?;
    let pulled = if keys.is_empty() {
        client.pull(reference).await
    } else {
        client.pull_verified(reference, keys).await
    };
    pulled.map_err(oci_failure)
}

/// Bad references, keys and plain HTTP to a remote registry are the
/// caller's (exit 64); everything else, refusals included, exits 1.
pub fn oci_failure(e: Error) -> Failure {
    match e {
        Error::Reference(_) | Error::Key(_) | Error::PlainHttpNotLoopback { .. } => {
            Failure::Usage(UsageError(e.to_string()))
        }
        other => Failure::message(other),
    }
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<(), Failure> {
    std::fs::write(path, bytes)
        .map_err(|e| Failure::message(format!("cannot write {}: {e}", path.display())))
}
