//! `claimscript issue` and `claimscript keys`: signed tokens and their keys.

use std::path::{Path, PathBuf};

use claimscript::Outcome;

use crate::common::{
    EXIT_CLAIMS, Failure, UsageError, engine, load_grants, load_input, load_object, print_report,
    run_once,
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
    let report = run_once(&engine, &args.script, &input, &grants).await?;
    let Outcome::Claims {
        claims,
        id_token_claims,
        ..
    } = &report.outcome
    else {
        return Ok(print_report(&report));
    };
    let issuer = claimscript_issuer::Issuer::new(signing);
    let token = match args.target {
        Target::Access => issuer.sign(&base, claims),
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

pub fn generate(alg: &str, out: &Path) -> Result<u8, Failure> {
    let alg: claimscript_issuer::SigningAlgorithm = alg.parse().map_err(UsageError)?;
    let pair = claimscript_issuer::generate_key(alg).map_err(UsageError)?;
    std::fs::create_dir_all(out)
        .map_err(|e| UsageError(format!("cannot create {}: {e}", out.display())))?;
    let private = out.join(format!("{}-private.pem", alg.as_str().to_ascii_lowercase()));
    let public = out.join(format!("{}-public.pem", alg.as_str().to_ascii_lowercase()));
    write_private(&private, &pair.private_pem)?;
    std::fs::write(&public, &pair.public_pem)
        .map_err(|e| UsageError(format!("cannot write {}: {e}", public.display())))?;
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

/// Write a private key readable by its owner only.
fn write_private(path: &Path, pem: &str) -> Result<(), UsageError> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .map_err(|e| UsageError(format!("cannot write {}: {e}", path.display())))?;
    file.write_all(pem.as_bytes())
        .map_err(|e| UsageError(format!("cannot write {}: {e}", path.display())))
}
