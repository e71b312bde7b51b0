//! `claimscript`: compile, run and test token-claims scripts.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

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
            let engine = Engine::new().map_err(anyhow::Error::from)?;
            let script = match load_script(&engine, &script).await? {
                Ok(script) => script,
                Err(report) => return Ok(print_report(&report)),
            };
            let report = script.run(&input, &grants).await.map_err(|e| match e {
                Error::Grants(m) => Failure::Usage(UsageError(m)),
                other => Failure::Other(other.into()),
            })?;
            Ok(print_report(&report))
        }
    }
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
