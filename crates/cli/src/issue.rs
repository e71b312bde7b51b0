//! `claimscript issue` and `claimscript keys`: signed tokens and their keys.

use std::path::{Path, PathBuf};

use claimscript::Outcome;

use crate::common::{
    EXIT_CLAIMS, Failure, StyleArg, UsageError, engine, load_grants, load_input, load_object,
    print_report, run_once,
};

/// Which token `issue` signs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Target {
    /// The access token, with the script's access-token claims.
    Access,
    /// The ID token, with the script's ID-token claims.
    Id,
}

/// The arguments of `issue`.
#[derive(clap::Args)]
pub struct IssueArgs {
    /// The script: .js source or a compiled .wasm component.
    pub script: PathBuf,
    /// The input, as for `run`.
    #[arg(long)]
    pub input: PathBuf,
    /// The private key (PEM), or the HS256 secret file.
    #[arg(long)]
    pub key: PathBuf,
    /// ES256, RS256, EdDSA or HS256.
    #[arg(long)]
    pub alg: String,
    /// The `kid` header.
    #[arg(long)]
    pub kid: Option<String>,
    /// The base payload (JSON object: iss, sub, aud, exp, ...); the
    /// script's claims are merged under it. Defaults to the input's token.
    #[arg(long)]
    pub claims: Option<PathBuf>,
    /// The grants (TOML).
    #[arg(long)]
    pub grants: Option<PathBuf>,
    /// Which token to sign: `access` (the default) or `id`, with the
    /// script's ID-token claims.
    #[arg(long, default_value = "access")]
    pub target: Target,
    /// Let the script's `addScope` calls add scopes to the access token's
    /// `scope` claim. Without it they are left out and named on stderr;
    /// `removeScope` is always applied.
    #[arg(long)]
    pub allow_scope_additions: bool,
    #[command(flatten)]
    pub style: StyleArg,
    /// Append the run's audit record (one JSON line) to this file.
    #[arg(long)]
    pub audit_log: Option<PathBuf>,
}

pub async fn issue(args: IssueArgs, cache: Option<PathBuf>) -> Result<u8, Failure> {
    let signing = load_signing_key(&args.key, &args.alg, args.kid)?;
    let grants = load_grants(args.grants.as_deref())?;
    let input = load_input(&args.input)?;
    let base = match &args.claims {
        Some(path) => load_object(path)?,
        None => input.token.clone(),
    };
    let engine = engine(cache, args.audit_log.as_deref())?;
    let options = args.style.compile_options();
    let report = run_once(&engine, &args.script, &options, &input, &grants).await?;
    let Outcome::Claims {
        claims,
        id_token_claims,
        scopes,
        ..
    } = &report.outcome
    else {
        return Ok(print_report(&report));
    };
    let issuer =
        claimscript_issuer::Issuer::new(signing).with_scope_additions(args.allow_scope_additions);
    let token = match args.target {
        Target::Access => {
            // Removals always apply; additions only when allowed.
            let (base, not_added) = issuer.apply_scopes(&base, scopes);
            if !not_added.is_empty() {
                eprintln!(
                    "claimscript: scopes not added (pass --allow-scope-additions to add them): {}",
                    not_added.join(" ")
                );
            }
            issuer.sign(&base, claims)
        }
        Target::Id => issuer.sign_id_token(&base, &id_token_claims.clone().unwrap_or_default()),
    }
    .map_err(anyhow::Error::from)?;
    if !token.collisions.is_empty() {
        eprintln!(
            "claimscript: the base payload kept its values for {:?}",
            token.collisions
        );
    }
    println!("{}", token.compact);
    Ok(EXIT_CLAIMS)
}

pub fn generate(alg: &str, out: &Path, force: bool) -> Result<u8, Failure> {
    let alg: claimscript_issuer::SigningAlgorithm = alg.parse().map_err(UsageError)?;
    let pair = claimscript_issuer::generate_key(alg).map_err(UsageError)?;
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

pub fn jwks(key: &Path, kid: Option<&str>) -> Result<u8, Failure> {
    let pem = std::fs::read(key)
        .map_err(|e| UsageError(format!("cannot read {}: {e}", key.display())))?;
    let jwks = claimscript_issuer::jwks_from_pem(&pem, kid)
        .map_err(|e| UsageError(format!("{}: {e}", key.display())))?;
    println!("{jwks}");
    Ok(EXIT_CLAIMS)
}

fn load_signing_key(
    path: &Path,
    alg: &str,
    kid: Option<String>,
) -> Result<claimscript_issuer::SigningKey, UsageError> {
    let alg: claimscript_issuer::SigningAlgorithm = alg.parse().map_err(UsageError)?;
    let bytes = std::fs::read(path)
        .map_err(|e| UsageError(format!("cannot read {}: {e}", path.display())))?;
    let key = if alg == claimscript_issuer::SigningAlgorithm::HS256 {
        claimscript_issuer::SigningKey::from_secret(bytes.trim_ascii())
    } else {
        claimscript_issuer::SigningKey::from_pem(alg, &bytes)
            .map_err(|e| UsageError(format!("{}: {e}", path.display())))?
    };
    Ok(match kid {
        Some(kid) => key.with_kid(kid),
        None => key,
    })
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
