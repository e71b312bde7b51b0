//! `claimscript issue`: run a script and sign the token it makes.

use std::path::{Path, PathBuf};

use claimscript::{ErrorKind, Outcome, ScriptError};

use crate::common::{
    EXIT_CLAIMS, Failure, Globals, StyleArg, UsageError, engine, load_input, load_object,
    load_run_grants, print_report, run_once,
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
pub struct Args {
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

/// Run the script and print the signed token (exit 0); on a denial or an
/// error, print the `run` outcome (exit 2 or 1).
pub async fn run(args: Args, globals: &Globals) -> Result<u8, Failure> {
    let signing = load_signing_key(&args.key, &args.alg, args.kid)?;
    let grants = load_run_grants(args.grants.as_deref())?;
    let input = load_input(&args.input)?;
    let base = match &args.claims {
        Some(path) => load_object(path)?,
        None => input.token.clone(),
    };
    let engine = engine(globals.cache.clone(), args.audit_log.as_deref())?;
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
    };
    let token = match token {
        Ok(token) => token,
        // A token over the issuer's size limit is the script's output being
        // too large: print the outcome as `run` would (exit 1), with the
        // run's logs and stats, so stdout always holds one JSON object.
        Err(e @ claimscript_issuer::IssueError::TooLarge { .. }) => {
            let mut report = report;
            report.outcome =
                Outcome::Error(ScriptError::new(ErrorKind::OutputTooLarge, e.to_string()));
            return Ok(print_report(&report));
        }
        Err(e) => return Err(Failure::message(e)),
    };
    if !token.collisions.is_empty() {
        eprintln!(
            "claimscript: the base payload kept its values for {:?}",
            token.collisions
        );
    }
    println!("{}", token.compact);
    Ok(EXIT_CLAIMS)
}

fn load_signing_key(
    path: &Path,
    alg: &str,
    kid: Option<String>,
) -> Result<claimscript_issuer::SigningKey, UsageError> {
    let alg: claimscript_issuer::SigningAlgorithm =
        alg.parse().map_err(|e| UsageError(format!("{e}")))?;
    let bytes = std::fs::read(path)
        .map_err(|e| UsageError(format!("cannot read {}: {e}", path.display())))?;
    let key = if alg == claimscript_issuer::SigningAlgorithm::HS256 {
        // Surrounding whitespace (a trailing newline) is not part of the
        // secret; what is left must be long enough.
        claimscript_issuer::SigningKey::from_secret(bytes.trim_ascii())
            .map_err(|e| UsageError(format!("{}: {e}", path.display())))?
    } else {
        claimscript_issuer::SigningKey::from_pem(alg, &bytes)
            .map_err(|e| UsageError(format!("{}: {e}", path.display())))?
    };
    Ok(match kid {
        Some(kid) => key.with_kid(kid),
        None => key,
    })
}
