//! `claimscript keys`: generate signing keys, print a key's JWKS.

use std::path::{Path, PathBuf};

use crate::common::{EXIT_CLAIMS, Failure, Globals, UsageError};

/// The arguments of `keys`: one of its subcommands.
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: Command,
}

/// `keys generate` and `keys jwks`.
#[derive(clap::Subcommand)]
pub enum Command {
    /// Write a new private key (`<alg>-private.pem`, mode 0600) and its
    /// public key (`<alg>-public.pem`) into DIR. Existing key files are
    /// kept unless --force is given.
    Generate {
        /// ES256, RS256 or EdDSA.
        #[arg(long)]
        alg: String,
        /// The directory.
        #[arg(long)]
        out: PathBuf,
        /// Overwrite existing key files.
        #[arg(long)]
        force: bool,
    },
    /// Print a JWKS document with the public key of KEY.pem (private or public).
    Jwks {
        /// The key.
        key: PathBuf,
        /// The `kid`.
        #[arg(long)]
        kid: Option<String>,
    },
}

/// Run the subcommand.
pub fn run(args: Args, _globals: &Globals) -> Result<u8, Failure> {
    match args.command {
        Command::Generate { alg, out, force } => generate(&alg, &out, force),
        Command::Jwks { key, kid } => jwks(&key, kid.as_deref()),
    }
}

fn generate(alg: &str, out: &Path, force: bool) -> Result<u8, Failure> {
    let alg: claimscript_issuer::SigningAlgorithm =
        alg.parse().map_err(|e| UsageError(format!("{e}")))?;
    let pair = claimscript_issuer::generate_key(alg).map_err(|e| UsageError(format!("{e}")))?;
    std::fs::create_dir_all(out)
        .map_err(|e| UsageError(format!("cannot create {}: {e}", out.display())))?;
    let private = out.join(format!("{}-private.pem", alg.as_str().to_ascii_lowercase()));
    let public = out.join(format!("{}-public.pem", alg.as_str().to_ascii_lowercase()));
    if !force {
        // Both checked before either is written: never half a pair.
        for path in [&private, &public] {
            if path.symlink_metadata().is_ok() {
                return Err(already_exists(path).into());
            }
        }
    }
    write_key(&private, &pair.private_pem, 0o600, force)?;
    write_key(&public, &pair.public_pem, 0o644, force)?;
    println!("{}\n{}", private.display(), public.display());
    Ok(EXIT_CLAIMS)
}

fn jwks(key: &Path, kid: Option<&str>) -> Result<u8, Failure> {
    let pem = std::fs::read(key)
        .map_err(|e| UsageError(format!("cannot read {}: {e}", key.display())))?;
    let jwks = claimscript_issuer::jwks_from_pem(&pem, kid)
        .map_err(|e| UsageError(format!("{}: {e}", key.display())))?;
    println!("{jwks}");
    Ok(EXIT_CLAIMS)
}

fn already_exists(path: &Path) -> UsageError {
    UsageError(format!(
        "{} already exists; pass --force to overwrite it",
        path.display()
    ))
}

/// Write a key file with `mode` (on unix): a new file unless `force`. An
/// existing file's permissions are set to `mode` before anything is written
/// into it, so a private key is never readable by others.
fn write_key(path: &Path, pem: &str, mode: u32, force: bool) -> Result<(), UsageError> {
    use std::io::Write;
    let cannot = |e: std::io::Error| UsageError(format!("cannot write {}: {e}", path.display()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true);
    if force {
        options.create(true).truncate(true);
    } else {
        options.create_new(true);
    }
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, mode);
    let mut file = options.open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            already_exists(path)
        } else {
            cannot(e)
        }
    })?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(mode))
            .map_err(cannot)?;
    }
    #[cfg(not(unix))]
    let _ = mode;
    file.write_all(pem.as_bytes()).map_err(cannot)
}
