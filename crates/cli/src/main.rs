//! `claimscript`: compile, run, test, benchmark and audit token-claims scripts.

mod bench;
mod common;
mod issue;

use std::path::PathBuf;
use std::process::ExitCode;

use claimscript::{ClaimsTemplate, Error, Style};
use clap::{Parser, Subcommand};

use crate::common::{
    EXIT_CLAIMS, EXIT_ERROR, EXIT_USAGE, Failure, StyleArg, UsageError, default_cache_dir, engine,
    load_grants, load_input, load_script, print_report, read_source, read_text, run_once,
};

#[derive(Parser)]
#[command(
    name = "claimscript",
    version,
    about = "Compile and run token-claims scripts in a Wasm sandbox"
)]
struct Cli {
    /// Do not read or write compiled code in the cache directory
    /// ($CLAIMSCRIPT_CACHE_DIR, else $XDG_CACHE_HOME/claimscript, else
    /// ~/.cache/claimscript).
    #[arg(long, global = true)]
    no_cache: bool,
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
        #[command(flatten)]
        style: StyleArg,
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
        #[command(flatten)]
        style: StyleArg,
        /// Append the run's audit record (one JSON line) to this file.
        #[arg(long)]
        audit_log: Option<PathBuf>,
    },
    /// Run a script and print the signed JWT (exit 0); on a denial or error,
    /// print the `run` outcome and exit 2 or 1.
    Issue(issue::IssueArgs),
    /// Run a script many times and print one JSON object of timings:
    /// n, concurrency, denied, errors, p50_us, p90_us, p99_us, runs_per_sec,
    /// fuel_per_run, instantiate_us, compile_ms, engine_ms, artifact_bytes,
    /// peak_memory_bytes. Exits 1 when any measured run ended in an error.
    Bench {
        /// The script: .js source or a compiled .wasm component.
        script: PathBuf,
        /// The input, as for `run`.
        #[arg(long)]
        input: PathBuf,
        /// The grants (TOML).
        #[arg(long)]
        grants: Option<PathBuf>,
        /// Measured runs, 1 to 10,000,000 (after a warm-up of n/10, between
        /// 10 and 1000).
        #[arg(short = 'n', long = "runs", default_value_t = 1000,
              value_parser = clap::value_parser!(u64).range(1..=bench::MAX_RUNS))]
        runs: u64,
        /// Runs in flight at once, 1 to 10,000,000 (no more than the runs).
        #[arg(long, default_value_t = 1,
              value_parser = clap::value_parser!(u64).range(1..=bench::MAX_RUNS))]
        concurrency: u64,
        #[command(flatten)]
        style: StyleArg,
        /// Append each run's audit record (JSON lines) to this file.
        #[arg(long)]
        audit_log: Option<PathBuf>,
    },
    /// Report what a script could do: the artifact's digests, its
    /// capabilities (imports by WIT interface and function), the effective
    /// grants, and warnings about risky grants.
    Audit {
        /// A compiled .wasm artifact or a .js script.
        script: PathBuf,
        /// The grants (TOML); defaults apply without it.
        #[arg(long)]
        grants: Option<PathBuf>,
        #[command(flatten)]
        style: StyleArg,
        /// Print one JSON document instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Render a JSON claims template (no script) against an input and print
    /// the outcome as `run` does.
    Template {
        /// The template (JSON object with `{{ path || 'fallback' }}` placeholders);
        /// `-` for stdin (then the input must be a file).
        template: PathBuf,
        /// The input, as for `run`.
        #[arg(long)]
        input: PathBuf,
        /// The grants (TOML); only `max_output_bytes` applies.
        #[arg(long)]
        grants: Option<PathBuf>,
    },
    /// Print the TypeScript declarations for a style's scripts, as one .d.ts
    /// file: save it beside a script (e.g. as claimscript.d.ts) for editor
    /// completion and `tsc --checkJs` (its header shows a jsconfig.json).
    Types {
        /// logto, auth0 or loginradius.
        #[arg(long, default_value = "logto")]
        style: Style,
    },
    /// Signing keys.
    #[command(subcommand)]
    Keys(KeysCommand),
}

#[derive(Subcommand)]
enum KeysCommand {
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
    let cache = if cli.no_cache {
        None
    } else {
        default_cache_dir()
    };
    match runtime.block_on(dispatch(cli.command, cache)) {
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

async fn dispatch(command: Command, cache: Option<PathBuf>) -> Result<u8, Failure> {
    match command {
        Command::Compile {
            script,
            output,
            style,
        } => {
            let source = read_source(&script)?;
            let engine = engine(cache, None)?;
            let options = style.compile_options();
            match engine.compile_with(&source, &options).await {
                Ok(compiled) => {
                    std::fs::write(&output, compiled.component_bytes()).map_err(|e| {
                        UsageError(format!("cannot write {}: {e}", output.display()))
                    })?;
                    eprintln!(
                        "claimscript: wrote {} ({} bytes, {} style, sha256 {})",
                        output.display(),
                        compiled.component_bytes().len(),
                        compiled.style(),
                        compiled.digest_hex()
                    );
                    Ok(EXIT_CLAIMS)
                }
                Err(Error::Script(e)) => {
                    eprintln!("{}: {e}", script.display());
                    Ok(EXIT_ERROR)
                }
                Err(e) => Err(e.into()),
            }
        }
        Command::Run {
            script,
            input,
            grants,
            style,
            audit_log,
        } => {
            let grants = load_grants(grants.as_deref())?;
            let input = load_input(&input)?;
            let engine = engine(cache, audit_log.as_deref())?;
            let options = style.compile_options();
            let report = run_once(&engine, &script, &options, &input, &grants).await?;
            Ok(print_report(&report))
        }
        Command::Issue(args) => issue::issue(args, cache).await,
        Command::Bench {
            script,
            input,
            grants,
            runs,
            concurrency,
            style,
            audit_log,
        } => {
            bench::bench(
                &script,
                &input,
                grants.as_deref(),
                bench::Counts { runs, concurrency },
                &style.compile_options(),
                audit_log.as_deref(),
            )
            .await
        }
        Command::Audit {
            script,
            grants,
            style,
            json,
        } => {
            let grants = load_grants(grants.as_deref())?;
            let engine = engine(cache, None)?;
            let script = match load_script(&engine, &script, &style.compile_options()).await? {
                Ok(script) => script,
                Err(report) => return Ok(print_report(&report)),
            };
            let report = script.audit(&grants);
            if json {
                println!("{}", report.to_json());
            } else {
                print!("{report}");
            }
            Ok(EXIT_CLAIMS)
        }
        Command::Template {
            template,
            input,
            grants,
        } => {
            let stdin = std::path::Path::new("-");
            if template == stdin && input == stdin {
                return Err(UsageError(
                    "the template and --input cannot both be standard input (-)".into(),
                )
                .into());
            }
            let (name, text) = read_text(&template)?;
            let template =
                ClaimsTemplate::parse(&text).map_err(|e| UsageError(format!("{name}: {e}")))?;
            let grants = load_grants(grants.as_deref())?;
            let input = load_input(&input)?;
            Ok(print_report(&template.run(&input, &grants)))
        }
        Command::Types { style } => {
            print!("{}", claimscript::declarations(style));
            Ok(EXIT_CLAIMS)
        }
        Command::Keys(KeysCommand::Generate { alg, out, force }) => {
            issue::generate(&alg, &out, force)
        }
        Command::Keys(KeysCommand::Jwks { key, kid }) => issue::jwks(&key, kid.as_deref()),
    }
}
