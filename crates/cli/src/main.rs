//! `claimscript`: compile, run and test token-claims scripts.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use claimscript::{Engine, Error, Grants, Outcome, RunInput, RunReport, Script};
use clap::{Parser, Subcommand};

/// Exit status for claims.
const EXIT_CLAIMS: u8 = 0;
/// Exit status for a script error.
const EXIT_ERROR: u8 = 1;
/// Exit status for a denial.
const EXIT_DENIED: u8 = 2;
/// Exit status for a usage error or an unreadable/invalid file (sysexits EX_USAGE).
const EXIT_USAGE: u8 = 64;

#[derive(Parser)]
#[command(
    name = "claimscript",
    version,
    about = "Compile and run token-claims scripts in a Wasm sandbox"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Compile a script to a pre-initialised Wasm component.
    Compile {
        /// The script (.js).
        script: PathBuf,
        /// Where to write the component.
        #[arg(short, long)]
        output: PathBuf,
    },
    /// Run a script (.js, compiled on the fly, or a compiled .wasm) once and
    /// print the outcome as one JSON object.
    Run {
        /// The script: .js source or a compiled .wasm component.
        script: PathBuf,
        /// The input: {"token": {...}, "context": {...}, "environmentVariables": {...}}; `-` for stdin.
        #[arg(long)]
        input: PathBuf,
        /// The grants (TOML); defaults apply without it.
        #[arg(long)]
        grants: Option<PathBuf>,
    },
    /// Run a script and print the signed JWT (exit 0); on a denial or error,
    /// print the `run` outcome and exit 2 or 1.
    Issue {
        /// The script: .js source or a compiled .wasm component.
        script: PathBuf,
        /// The input, as for `run`.
        #[arg(long)]
        input: PathBuf,
        /// The private key (PEM), or the HS256 secret file.
        #[arg(long)]
        key: PathBuf,
        /// ES256, RS256, EdDSA or HS256.
        #[arg(long)]
        alg: String,
        /// The `kid` header.
        #[arg(long)]
        kid: Option<String>,
        /// The base payload (JSON object: iss, sub, aud, exp, ...); the
        /// script's claims are merged under it. Defaults to the input's token.
        #[arg(long)]
        claims: Option<PathBuf>,
        /// The grants (TOML).
        #[arg(long)]
        grants: Option<PathBuf>,
    },
    /// Run a script many times and print one JSON object of timings:
    /// n, concurrency, p50_us, p90_us, p99_us, runs_per_sec, fuel_per_run,
    /// instantiate_us, compile_ms, peak_memory_bytes.
    Bench {
        /// The script: .js source or a compiled .wasm component.
        script: PathBuf,
        /// The input, as for `run`.
        #[arg(long)]
        input: PathBuf,
        /// The grants (TOML).
        #[arg(long)]
        grants: Option<PathBuf>,
        /// Measured runs (after a warm-up of n/10, at least 10).
        #[arg(short = 'n', long = "runs", default_value_t = 1000)]
        runs: usize,
        /// Runs in flight at once.
        #[arg(long, default_value_t = 1)]
        concurrency: usize,
    },
    /// Signing keys.
    #[command(subcommand)]
    Keys(KeysCommand),
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Write a new private key (`<alg>-private.pem`) and its public key
    /// (`<alg>-public.pem`) into DIR.
    Generate {
        /// ES256, RS256 or EdDSA.
        #[arg(long)]
        alg: String,
        /// The directory.
        #[arg(long)]
        out: PathBuf,
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

/// A failure that is the caller's: bad usage or a file that cannot be used.
struct UsageError(String);

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_USAGE } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("claimscript: cannot start the async runtime: {e}");
            return ExitCode::from(EXIT_ERROR);
        }
    };
    match runtime.block_on(dispatch(cli.command)) {
        Ok(code) => ExitCode::from(code),
        Err(Failure::Usage(UsageError(message))) => {
            eprintln!("claimscript: {message}");
            ExitCode::from(EXIT_USAGE)
        }
        Err(Failure::Other(e)) => {
            eprintln!("claimscript: {e:#}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}

enum Failure {
    Usage(UsageError),
    Other(anyhow::Error),
}

impl From<UsageError> for Failure {
    fn from(e: UsageError) -> Self {
        Failure::Usage(e)
    }
}

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Self {
        Failure::Other(e)
    }
}

async fn dispatch(command: Command) -> Result<u8, Failure> {
    match command {
        Command::Compile { script, output } => {
            let source = read_source(&script)?;
            let engine = Engine::new().map_err(anyhow::Error::from)?;
            match engine.compile(&source).await {
                Ok(compiled) => {
                    std::fs::write(&output, compiled.component_bytes()).map_err(|e| {
                        UsageError(format!("cannot write {}: {e}", output.display()))
                    })?;
                    eprintln!(
                        "claimscript: wrote {} ({} bytes, sha256 {})",
                        output.display(),
                        compiled.component_bytes().len(),
                        compiled.digest_hex()
                    );
                    Ok(EXIT_CLAIMS)
                }
                Err(Error::Script(e)) => {
                    eprintln!("{}: {e}", script.display());
                    Ok(EXIT_ERROR)
                }
                Err(e) => Err(anyhow::Error::from(e).into()),
            }
        }
        Command::Run {
            script,
            input,
            grants,
        } => {
            let grants = load_grants(grants.as_deref())?;
            let input = load_input(&input)?;
            let report = run_once(&script, &input, &grants).await?;
            Ok(print_report(&report))
        }
        Command::Issue {
            script,
            input,
            key,
            alg,
            kid,
            claims,
            grants,
        } => {
            let signing = load_signing_key(&key, &alg, kid)?;
            let grants = load_grants(grants.as_deref())?;
            let input = load_input(&input)?;
            let base = match claims {
                Some(path) => load_object(&path)?,
                None => input.token.clone(),
            };
            let report = run_once(&script, &input, &grants).await?;
            let Outcome::Claims { claims, .. } = &report.outcome else {
                return Ok(print_report(&report));
            };
            let issuer = claimscript_issuer::Issuer::new(signing);
            let token = issuer.sign(&base, claims).map_err(anyhow::Error::from)?;
            if !token.collisions.is_empty() {
                eprintln!(
                    "claimscript: the base payload kept its values for {:?}",
                    token.collisions
                );
            }
            println!("{}", token.compact);
            Ok(EXIT_CLAIMS)
        }
        Command::Bench {
            script,
            input,
            grants,
            runs,
            concurrency,
        } => bench(&script, &input, grants.as_deref(), runs, concurrency).await,
        Command::Keys(KeysCommand::Generate { alg, out }) => {
            let alg: claimscript_issuer::SigningAlgorithm = alg.parse().map_err(UsageError)?;
            let pair = claimscript_issuer::generate_key(alg).map_err(UsageError)?;
            std::fs::create_dir_all(&out)
                .map_err(|e| UsageError(format!("cannot create {}: {e}", out.display())))?;
            let private = out.join(format!("{}-private.pem", alg.as_str().to_ascii_lowercase()));
            let public = out.join(format!("{}-public.pem", alg.as_str().to_ascii_lowercase()));
            write_private(&private, &pair.private_pem)?;
            std::fs::write(&public, &pair.public_pem)
                .map_err(|e| UsageError(format!("cannot write {}: {e}", public.display())))?;
            println!("{}\n{}", private.display(), public.display());
            Ok(EXIT_CLAIMS)
        }
        Command::Keys(KeysCommand::Jwks { key, kid }) => {
            let pem = std::fs::read(&key)
                .map_err(|e| UsageError(format!("cannot read {}: {e}", key.display())))?;
            let jwks = claimscript_issuer::jwks_from_pem(&pem, kid.as_deref())
                .map_err(|e| UsageError(format!("{}: {e}", key.display())))?;
            println!("{jwks}");
            Ok(EXIT_CLAIMS)
        }
    }
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

fn load_object(path: &Path) -> Result<serde_json::Map<String, serde_json::Value>, UsageError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| UsageError(format!("cannot read {}: {e}", path.display())))?;
    match serde_json::from_str(&text) {
        Ok(serde_json::Value::Object(map)) => Ok(map),
        Ok(_) => Err(UsageError(format!(
            "{}: the base claims must be a JSON object",
            path.display()
        ))),
        Err(e) => Err(UsageError(format!(
            "{}: line {}, column {}: {e}",
            path.display(),
            e.line(),
            e.column()
        ))),
    }
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

async fn bench(
    script: &Path,
    input: &Path,
    grants: Option<&Path>,
    runs: usize,
    concurrency: usize,
) -> Result<u8, Failure> {
    if runs == 0 || concurrency == 0 {
        return Err(UsageError("-n and --concurrency must be at least 1".into()).into());
    }
    let grants = load_grants(grants)?;
    let input = load_input(input)?;
    let engine = Engine::new().map_err(anyhow::Error::from)?;
    let started = std::time::Instant::now();
    let script = match load_script(&engine, script).await? {
        Ok(script) => script,
        Err(report) => return Ok(print_report(&report)),
    };
    let compile_ms = started.elapsed().as_secs_f64() * 1e3;

    // Warm-up, then the measured runs, `concurrency` at a time.
    let warm_up = (runs / 10).max(10);
    let one = |script: Script, input: Arc<RunInput>, grants: Arc<Grants>| async move {
        let t = std::time::Instant::now();
        let report = script.run(&input, &grants).await;
        (t.elapsed(), report)
    };
    let (input, grants) = (Arc::new(input), Arc::new(grants));
    for _ in 0..warm_up {
        let (_, report) = one(script.clone(), input.clone(), grants.clone()).await;
        let report = report.map_err(anyhow::Error::from)?;
        if !matches!(report.outcome, Outcome::Claims { .. } | Outcome::Denied(_)) {
            return Ok(print_report(&report));
        }
    }
    // Instantiation alone, warm: the median of 21.
    let mut instantiations = Vec::new();
    for _ in 0..21 {
        instantiations.push(
            script
                .time_instantiation()
                .await
                .map_err(anyhow::Error::from)?,
        );
    }
    instantiations.sort();
    let instantiate = instantiations[instantiations.len() / 2];

    let mut times = Vec::with_capacity(runs);
    let (mut fuel, mut peak) = (0u64, 0u64);
    let started = std::time::Instant::now();
    let mut remaining = runs;
    while remaining > 0 {
        let batch = remaining.min(concurrency);
        let tasks: Vec<_> = (0..batch)
            .map(|_| tokio::spawn(one(script.clone(), input.clone(), grants.clone())))
            .collect();
        for task in tasks {
            let (elapsed, report) = task.await.map_err(anyhow::Error::from)?;
            let report = report.map_err(anyhow::Error::from)?;
            times.push(elapsed);
            fuel = report.stats.fuel;
            peak = peak.max(report.stats.memory_bytes);
        }
        remaining -= batch;
    }
    let wall = started.elapsed();
    times.sort();
    let pct = |p: f64| times[((times.len() as f64 - 1.0) * p).round() as usize].as_secs_f64() * 1e6;
    let result = serde_json::json!({
        "n": runs,
        "concurrency": concurrency,
        "p50_us": pct(0.50),
        "p90_us": pct(0.90),
        "p99_us": pct(0.99),
        "runs_per_sec": runs as f64 / wall.as_secs_f64(),
        "fuel_per_run": fuel,
        "instantiate_us": instantiate.as_secs_f64() * 1e6,
        "compile_ms": compile_ms,
        "peak_memory_bytes": peak,
    });
    println!("{result}");
    Ok(EXIT_CLAIMS)
}

/// Compile or load `script` and run it once. A script that does not compile
/// yields its error report, as a failed run does.
async fn run_once(script: &Path, input: &RunInput, grants: &Grants) -> Result<RunReport, Failure> {
    let engine = Engine::new().map_err(anyhow::Error::from)?;
    let script = match load_script(&engine, script).await? {
        Ok(script) => script,
        Err(report) => return Ok(report),
    };
    script.run(input, grants).await.map_err(|e| match e {
        Error::Grants(m) => Failure::Usage(UsageError(m)),
        other => Failure::Other(other.into()),
    })
}

/// Print the report as one JSON line and return the exit status it implies.
fn print_report(report: &RunReport) -> u8 {
    println!("{}", report.to_json());
    match report.outcome {
        Outcome::Claims { .. } => EXIT_CLAIMS,
        Outcome::Denied(_) => EXIT_DENIED,
        _ => EXIT_ERROR,
    }
}

/// Compile a `.js` script or load a `.wasm` component. A script that fails to
/// compile becomes an error report, like a run that fails.
async fn load_script(engine: &Engine, path: &Path) -> Result<Result<Script, RunReport>, Failure> {
    let bytes = std::fs::read(path)
        .map_err(|e| UsageError(format!("cannot read {}: {e}", path.display())))?;
    if bytes.starts_with(b"\0asm") {
        return engine
            .load(&bytes)
            .map(Ok)
            .map_err(|e| UsageError(format!("{}: {e}", path.display())).into());
    }
    let source = String::from_utf8(bytes)
        .map_err(|_| UsageError(format!("{}: the script is not UTF-8 text", path.display())))?;
    match engine.compile(&source).await {
        Ok(script) => Ok(Ok(script)),
        Err(Error::Script(error)) => Ok(Err(RunReport::from_error(error))),
        Err(e) => Err(anyhow::Error::from(e).into()),
    }
}

fn read_source(path: &Path) -> Result<String, UsageError> {
    let bytes = std::fs::read(path)
        .map_err(|e| UsageError(format!("cannot read {}: {e}", path.display())))?;
    String::from_utf8(bytes)
        .map_err(|_| UsageError(format!("{}: the script is not UTF-8 text", path.display())))
}

fn load_grants(path: Option<&Path>) -> Result<Grants, UsageError> {
    match path {
        None => Ok(Grants::default()),
        Some(path) => Grants::from_file(path).map_err(|e| UsageError(e.to_string())),
    }
}

fn load_input(path: &Path) -> Result<RunInput, UsageError> {
    let (name, text) = if path == Path::new("-") {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| UsageError(format!("cannot read the input from stdin: {e}")))?;
        ("<stdin>".to_string(), text)
    } else {
        let text = std::fs::read_to_string(path)
            .map_err(|e| UsageError(format!("cannot read {}: {e}", path.display())))?;
        (path.display().to_string(), text)
    };
    RunInput::from_json(&text).map_err(|e| UsageError(format!("{name}: {e}")))
}
