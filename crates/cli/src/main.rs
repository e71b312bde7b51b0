//! `claimscript`: compile, run, test, benchmark and audit token-claims scripts.
//!
//! This file only parses the command line and dispatches: each command is a
//! module of [`commands`] with its arguments (`Args`) and its `run`. A new
//! command is one variant of [`Command`] and one module.

mod commands;
mod common;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::commands::{
    audit, bench, compile, issue, keys, pull, push, run, serve, sign, template, types, verify,
};
use crate::common::{
    EXIT_AUDIT_LOG, EXIT_ERROR, EXIT_USAGE, Failure, Globals, UsageError, audit_log_failure,
    default_cache_dir,
};

/// mimalloc, not glibc's malloc: a request through the service allocates
/// and frees hundreds of small blocks (its JSON, headers, the audit
/// record), where glibc spent 16% of the server's CPU, consolidating free
/// chunks among them (BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Returns free memory the allocator keeps for reuse to the system (the
/// calling thread's free pages, and, program-wide, the arenas' pages that
/// wait to be purged), so that RSS read next is memory in use:
/// `bench --tenants` calls it before each RSS reading. Without it the
/// scratch memory of compiling QuickJS was in the baseline or not,
/// depending on when mimalloc purged it.
fn return_free_memory() {
    // SAFETY: `mi_collect` takes no pointer and is safe to call from any
    // thread at any time.
    unsafe { libmimalloc_sys::mi_collect(true) }
}

#[derive(Parser)]
#[command(
    name = "claimscript",
    version,
    about = "Compile and run token-claims scripts in a Wasm sandbox"
)]
struct Cli {
    /// Do not read or write compiled code in the cache directory
    /// ($CLAIMSCRIPT_CACHE_DIR, else $XDG_CACHE_HOME/claimscript, else
    /// ~/.cache/claimscript; at most $CLAIMSCRIPT_CACHE_MAX_BYTES bytes,
    /// default 1 GiB, the least recently used out).
    #[arg(long, global = true)]
    no_cache: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Compile a script to a pre-initialised Wasm component.
    Compile(compile::Args),
    /// Run a script (.js, compiled on the fly, or a compiled .wasm) once and
    /// print the outcome as one JSON object.
    Run(run::Args),
    /// Run a script and print the signed JWT (exit 0); on a denial or error,
    /// print the `run` outcome and exit 2 or 1.
    Issue(issue::Args),
    /// Run a script many times and print one JSON object of timings:
    /// n, concurrency, denied, errors, p50_us, p90_us, p99_us, runs_per_sec,
    /// fuel_per_run, instantiate_us, compile_ms, engine_ms, artifact_bytes,
    /// peak_memory_bytes. Exits 1 when any measured run ended in an error.
    Bench(bench::Args),
    /// Report what a script could do: the artifact's digests, its
    /// capabilities (imports by WIT interface and function), the effective
    /// grants, and warnings about risky grants.
    Audit(audit::Args),
    /// Render a JSON claims template (no script) against an input and print
    /// the outcome as `run` does.
    Template(template::Args),
    /// Print the TypeScript declarations for a style's scripts, as one .d.ts
    /// file: save it beside a script (e.g. as claimscript.d.ts) for editor
    /// completion and `tsc --checkJs` (its header shows a jsconfig.json).
    Types(types::Args),
    /// Signing keys.
    Keys(keys::Args),
    /// Serve scripts over HTTP: run, token, registration, JWKS, health,
    /// metrics, Logto's remote runner (see README's "Service" section).
    Serve(serve::Args),
    /// Start the service with the browser playground on loopback and print
    /// its URL.
    Playground(serve::PlaygroundArgs),
    /// Push a compiled script (and its grants) to an OCI registry as a Wasm
    /// OCI artifact; print the reference pinned to its digest.
    Push(push::Args),
    /// Pull a script (and its grants) from an OCI registry, every blob
    /// checked against its digest; print the pinned reference.
    Pull(pull::Args),
    /// Sign an artifact's manifest digest (cosign's format, stored under
    /// the sha256-<hex>.sig tag).
    Sign(sign::Args),
    /// Verify an artifact's signature: exit 0 if one of the keys signed
    /// its manifest digest, 1 with the reason otherwise.
    Verify(verify::Args),
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
    let globals = Globals {
        cache: if cli.no_cache {
            None
        } else {
            default_cache_dir()
        },
    };
    match runtime.block_on(dispatch(cli.command, &globals)) {
        // The outcome was printed; a lost audit record is still a failure.
        Ok(code) => match audit_log_failure() {
            Some(message) => {
                eprintln!("claimscript: {message}");
                ExitCode::from(EXIT_AUDIT_LOG)
            }
            None => ExitCode::from(code),
        },
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

async fn dispatch(command: Command, globals: &Globals) -> Result<u8, Failure> {
    match command {
        Command::Compile(args) => compile::run(args, globals).await,
        Command::Run(args) => run::run(args, globals).await,
        Command::Issue(args) => issue::run(args, globals).await,
        Command::Bench(args) => bench::run(args, globals).await,
        Command::Audit(args) => audit::run(args, globals).await,
        Command::Template(args) => template::run(args, globals),
        Command::Types(args) => types::run(args, globals),
        Command::Keys(args) => keys::run(args, globals),
        Command::Serve(args) => serve::run(args, globals).await,
        Command::Playground(args) => serve::playground(args, globals).await,
        Command::Push(args) => push::run(args, globals).await,
        Command::Pull(args) => pull::run(args, globals).await,
        Command::Sign(args) => sign::run(args, globals).await,
        Command::Verify(args) => verify::run(args, globals).await,
    }
}
