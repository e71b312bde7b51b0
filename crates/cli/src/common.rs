//! What the commands share: exit statuses, failures, reading the files a
//! command is given, and the engine.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use claimscript::trail::JsonLinesSink;
use claimscript::{
    CompileOptions, DEFAULT_MAX_INPUT_BYTES, Engine, EngineConfig, EngineErrorKind, Error, Grants,
    Outcome, RunInput, RunReport, Script, Style,
};

/// Exit status for claims.
pub const EXIT_CLAIMS: u8 = 0;
/// Exit status for a script error.
pub const EXIT_ERROR: u8 = 1;
/// Exit status for a denial.
pub const EXIT_DENIED: u8 = 2;
/// Exit status for a usage error or an unreadable/invalid file (sysexits EX_USAGE).
pub const EXIT_USAGE: u8 = 64;
/// Exit status when the run's outcome was printed but its audit record
/// could not be written to `--audit-log` (sysexits EX_IOERR).
pub const EXIT_AUDIT_LOG: u8 = 74;

/// The `--audit-log` sink of this process, to ask after the command
/// whether every record was written.
static AUDIT_LOG: OnceLock<(PathBuf, Arc<JsonLinesSink>)> = OnceLock::new();

/// Why records could not be written to `--audit-log`, if any were lost.
pub fn audit_log_failure() -> Option<String> {
    let (path, sink) = AUDIT_LOG.get()?;
    match sink.failures() {
        (0, _) => None,
        (n, error) => Some(format!(
            "{n} audit record(s) could not be written to {}: {}",
            path.display(),
            error.unwrap_or_default()
        )),
    }
}

/// What every command is given besides its own arguments: the global
/// options.
pub struct Globals {
    /// The cache directory for compiled code; `None` with `--no-cache` or
    /// when none can be found.
    pub cache: Option<PathBuf>,
}

/// A failure that is the caller's: bad usage or a file that cannot be used.
pub struct UsageError(pub String);

/// Why a command failed.
pub enum Failure {
    /// Exit 64 with the message.
    Usage(UsageError),
    /// Exit 1 with the message and its context chain (`{:#}`).
    Other(anyhow::Error),
}

impl Failure {
    /// A failure from a library error whose message already includes its
    /// causes (`claimscript` and `claimscript_issuer` errors): printed once,
    /// not again through its `source()` chain.
    pub fn message(e: impl std::fmt::Display) -> Failure {
        Failure::Other(anyhow::Error::msg(e.to_string()))
    }
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

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        match e {
            Error::Grants(e) => Failure::Usage(UsageError(e.to_string())),
            // An input over the engine's limit once the style has built the
            // script's argument from it: the caller's input, as a usage error.
            Error::Input(e) => Failure::Usage(UsageError(format!("the input: {e}"))),
            other => Failure::message(other),
        }
    }
}

/// `--style`, shared by every command that compiles a script.
#[derive(clap::Args, Clone, Copy, Debug, Default)]
pub struct StyleArg {
    /// The style of a .js script (logto, auth0, loginradius); detected from
    /// the source when absent. A compiled .wasm keeps the style it was
    /// compiled with.
    #[arg(long)]
    pub style: Option<Style>,
}

impl StyleArg {
    /// The compile options this choice implies.
    pub fn compile_options(self) -> CompileOptions {
        let mut options = CompileOptions::default();
        options.style = self.style;
        options
    }
}

/// The engine the commands use. With a cache directory, QuickJS and the
/// scripts compiled before are not compiled again (the directory holds at
/// most `$CLAIMSCRIPT_CACHE_MAX_BYTES`, default 1 GiB, the least recently
/// used files out); with an audit log, every run appends its record to it.
///
/// A cache directory that cannot be used (a file, unreadable) is not an
/// error: a warning on stderr, and the engine compiles in memory, so that
/// `run` still prints its one JSON object.
pub fn engine(cache: Option<PathBuf>, audit_log: Option<&Path>) -> Result<Engine, Failure> {
    let mut config = EngineConfig::default();
    config.cache_dir = cache;
    if let Some(value) = std::env::var_os("CLAIMSCRIPT_CACHE_MAX_BYTES") {
        config.cache_max_bytes = value
            .to_str()
            .and_then(|v| v.trim().parse().ok())
            .ok_or_else(|| {
                UsageError(format!(
                    "$CLAIMSCRIPT_CACHE_MAX_BYTES must be a number of bytes, not {value:?}"
                ))
            })?;
    }
    if let Some(path) = audit_log {
        let sink = Arc::new(JsonLinesSink::open(path).map_err(|e| {
            UsageError(format!("cannot open the audit log {}: {e}", path.display()))
        })?);
        let _ = AUDIT_LOG.set((path.to_path_buf(), sink.clone()));
        config.audit_sink = Some(sink);
    }
    match Engine::with_config(config.clone()) {
        Err(Error::Engine(e)) if e.kind() == EngineErrorKind::CacheDir => {
            eprintln!("claimscript: warning: {e}; compiling in memory");
            config.cache_dir = None;
            Ok(Engine::with_config(config)?)
        }
        other => Ok(other?),
    }
}

/// `$CLAIMSCRIPT_CACHE_DIR`, else `$XDG_CACHE_HOME/claimscript`, else
/// `~/.cache/claimscript`; `None` when none can be found.
pub fn default_cache_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("CLAIMSCRIPT_CACHE_DIR") {
        return Some(PathBuf::from(dir));
    }
    if let Some(dir) = std::env::var_os("XDG_CACHE_HOME") {
        return Some(PathBuf::from(dir).join("claimscript"));
    }
    std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache/claimscript"))
}

/// A script file: a compiled component or JavaScript source.
enum ScriptFile {
    Component(Vec<u8>),
    Source(String),
}

fn read_script(path: &Path) -> Result<ScriptFile, UsageError> {
    let bytes = std::fs::read(path)
        .map_err(|e| UsageError(format!("cannot read {}: {e}", path.display())))?;
    if bytes.starts_with(b"\0asm") {
        return Ok(ScriptFile::Component(bytes));
    }
    String::from_utf8(bytes)
        .map(ScriptFile::Source)
        .map_err(|_| UsageError(format!("{}: the script is not UTF-8 text", path.display())))
}

fn load_component(engine: &Engine, path: &Path, bytes: &[u8]) -> Result<Script, Failure> {
    engine
        .load(bytes)
        .map_err(|e| UsageError(format!("{}: {e}", path.display())).into())
}

/// Compile a `.js` script or load a `.wasm` component. A script that fails to
/// compile becomes an error report, like a run that fails.
pub async fn load_script(
    engine: &Engine,
    path: &Path,
    options: &CompileOptions,
) -> Result<Result<Script, RunReport>, Failure> {
    match read_script(path)? {
        ScriptFile::Component(bytes) => load_component(engine, path, &bytes).map(Ok),
        ScriptFile::Source(source) => match engine.compile_with(&source, options).await {
            Ok(script) => Ok(Ok(script)),
            Err(Error::Script(error)) => Ok(Err(RunReport::from_error(error))),
            Err(e) => Err(e.into()),
        },
    }
}

/// Compile or load `script` and run it once. A script that does not compile
/// yields its error report, as a failed run does, and (with an audit log)
/// its record.
pub async fn run_once(
    engine: &Engine,
    script: &Path,
    options: &CompileOptions,
    input: &RunInput,
    grants: &Grants,
) -> Result<RunReport, Failure> {
    match read_script(script)? {
        ScriptFile::Component(bytes) => {
            let script = load_component(engine, script, &bytes)?;
            Ok(script.run(input, grants).await?)
        }
        ScriptFile::Source(source) => {
            Ok(engine.run_source(&source, options, input, grants).await?)
        }
    }
}

/// Print the report as one JSON line and return the exit status it implies.
pub fn print_report(report: &RunReport) -> u8 {
    println!("{}", report.to_json());
    match report.outcome {
        Outcome::Claims { .. } => EXIT_CLAIMS,
        Outcome::Denied(_) => EXIT_DENIED,
        _ => EXIT_ERROR,
    }
}

pub fn read_source(path: &Path) -> Result<String, UsageError> {
    let bytes = std::fs::read(path)
        .map_err(|e| UsageError(format!("cannot read {}: {e}", path.display())))?;
    String::from_utf8(bytes)
        .map_err(|_| UsageError(format!("{}: the script is not UTF-8 text", path.display())))
}

pub fn load_grants(path: Option<&Path>) -> Result<Grants, UsageError> {
    match path {
        None => Ok(Grants::default()),
        Some(path) => Grants::from_file(path).map_err(|e| UsageError(e.to_string())),
    }
}

/// Grants to run with on the CLI's engine: [`load_grants`], and refused
/// (naming the file) when they ask for more memory than the engine gives.
pub fn load_run_grants(path: Option<&Path>) -> Result<Grants, UsageError> {
    let grants = load_grants(path)?;
    let max = EngineConfig::default().max_memory_mb;
    if grants.memory_mb > max
        && let Some(path) = path
    {
        return Err(UsageError(format!(
            "{}: memory_mb = {} is above the engine's max_memory_mb = {max}",
            path.display(),
            grants.memory_mb
        )));
    }
    Ok(grants)
}

/// Read a file, or standard input for `-`; return a name for messages too.
pub fn read_text(path: &Path) -> Result<(String, String), UsageError> {
    if path == Path::new("-") {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| UsageError(format!("cannot read standard input: {e}")))?;
        return Ok(("<stdin>".to_string(), text));
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| UsageError(format!("cannot read {}: {e}", path.display())))?;
    Ok((path.display().to_string(), text))
}

/// Read and parse the input, refusing one over
/// [`DEFAULT_MAX_INPUT_BYTES`] before reading it whole.
pub fn load_input(path: &Path) -> Result<RunInput, UsageError> {
    let max = DEFAULT_MAX_INPUT_BYTES;
    let too_large = |name: &str, len: String| {
        UsageError(format!(
            "{name}: the input is {len} bytes; the limit is {max} bytes (max_input_bytes)"
        ))
    };
    let (name, text) = if path == Path::new("-") {
        let mut bytes = Vec::new();
        std::io::stdin()
            .take(max as u64 + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| UsageError(format!("cannot read standard input: {e}")))?;
        if bytes.len() > max {
            return Err(too_large(
                "<stdin>",
                "more than".to_string() + &format!(" {max}"),
            ));
        }
        let text = String::from_utf8(bytes)
            .map_err(|_| UsageError("<stdin>: the input is not UTF-8 text".into()))?;
        ("<stdin>".to_string(), text)
    } else {
        let name = path.display().to_string();
        if let Ok(meta) = std::fs::metadata(path)
            && meta.is_file()
            && meta.len() > max as u64
        {
            return Err(too_large(&name, meta.len().to_string()));
        }
        read_text(path)?
    };
    RunInput::from_json(&text).map_err(|e| UsageError(format!("{name}: {e}")))
}

/// `line L, column C: MESSAGE` for a JSON syntax error, without the
/// ` at line L column C` serde_json appends to its message.
pub fn json_error(e: &serde_json::Error) -> String {
    let message = e.to_string();
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    let message = message.strip_suffix(&suffix).unwrap_or(&message);
    format!("line {}, column {}: {message}", e.line(), e.column())
}

pub fn load_object(path: &Path) -> Result<serde_json::Map<String, serde_json::Value>, UsageError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| UsageError(format!("cannot read {}: {e}", path.display())))?;
    match serde_json::from_str(&text) {
        Ok(serde_json::Value::Object(map)) => Ok(map),
        Ok(_) => Err(UsageError(format!(
            "{}: the base claims must be a JSON object",
            path.display()
        ))),
        Err(e) => Err(UsageError(format!(
            "{}: {}",
            path.display(),
            json_error(&e)
        ))),
    }
}
