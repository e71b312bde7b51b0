//! `claimscript serve` and `claimscript playground`: the claims service.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;

use claimscript_server::config::ScriptConfig;
use claimscript_server::{Service, ServiceConfig};

use crate::common::{EXIT_CLAIMS, Failure, Globals, UsageError};

/// The arguments of `serve`.
#[derive(clap::Args)]
pub struct Args {
    /// The config file (TOML); see README's "Service" section.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Serve a script: NAME=PATH, PATH a .js source or a compiled .wasm
    /// (repeatable).
    #[arg(long = "script", value_name = "NAME=PATH")]
    pub scripts: Vec<String>,
    /// Grants for a script given with --script: NAME=FILE (repeatable).
    #[arg(long = "grants", value_name = "NAME=FILE")]
    pub grants: Vec<String>,
    /// The listen address (overrides the config's `listen`); default
    /// 127.0.0.1:8787. Port 0 picks a free port.
    #[arg(long)]
    pub addr: Option<SocketAddr>,
    /// The data directory (overrides the config's `data_dir`); default
    /// ./claimscript-data.
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    #[command(flatten)]
    pub log: LogArgs,
}

/// Logging options.
#[derive(clap::Args)]
pub struct LogArgs {
    /// Log format on stderr: text or json.
    #[arg(long, default_value = "text", value_parser = ["text", "json"])]
    pub log_format: String,
    /// Log level: error, warn, info, debug or trace.
    #[arg(long, default_value = "info")]
    pub log_level: tracing::Level,
}

/// The arguments of `playground`.
#[derive(clap::Args)]
pub struct PlaygroundArgs {
    /// The listen address, on loopback; default 127.0.0.1:8787. Port 0
    /// picks a free port.
    #[arg(long)]
    pub addr: Option<SocketAddr>,
    #[command(flatten)]
    pub log: LogArgs,
}

pub async fn run(args: Args, _globals: &Globals) -> Result<u8, Failure> {
    init_logs(&args.log);
    let mut config = match &args.config {
        Some(path) => ServiceConfig::from_file(path).map_err(|e| UsageError(e.to_string()))?,
        None => ServiceConfig::default(),
    };
    if args.config.is_none() && args.scripts.is_empty() {
        return Err(
            UsageError("give --config FILE or at least one --script NAME=PATH".into()).into(),
        );
    }
    if let Some(addr) = args.addr {
        config.listen = addr;
    }
    if let Some(dir) = &args.data_dir {
        config.data_dir = dir.clone();
    }
    let scripts = command_line_scripts(&args.scripts, &args.grants, &config)?;
    serve(config, scripts, "listening").await
}

pub async fn playground(args: PlaygroundArgs, globals: &Globals) -> Result<u8, Failure> {
    init_logs(&args.log);
    let mut config = ServiceConfig::default();
    config.playground = true;
    config.run_endpoint = true;
    config.watch_interval = None;
    if let Some(addr) = args.addr {
        config.listen = addr;
    }
    config.data_dir = match &globals.cache {
        Some(cache) => cache.join("playground-data"),
        None => std::env::temp_dir().join(format!("claimscript-playground-{}", std::process::id())),
    };
    serve(config, BTreeMap::new(), "playground").await
}

async fn serve(
    config: ServiceConfig,
    scripts: BTreeMap<String, ScriptConfig>,
    what: &str,
) -> Result<u8, Failure> {
    config
        .check_exposure()
        .map_err(|e| UsageError(e.to_string()))?;
    let tls = config.tls.is_some();
    let playground = config.playground;
    let service = Service::new(config)
        .await
        .map_err(|e| anyhow::anyhow!(e))?
        .with_scripts(scripts)
        .await
        .map_err(|e| anyhow::anyhow!(e))?;
    let server = service.bind().await.map_err(|e| anyhow::anyhow!(e))?;
    let scheme = if tls { "https" } else { "http" };
    let url = format!("{scheme}://{}", server.local_addr());
    if playground {
        println!("claimscript: {what} at {url}/playground/");
    } else {
        println!("claimscript: {what} on {url}");
    }
    if let Some(diag) = server.diagnostic_addr() {
        println!("claimscript: health and metrics on http://{diag}");
    }
    server
        .run_until_signal()
        .await
        .map_err(|e| anyhow::anyhow!(e))?;
    Ok(EXIT_CLAIMS)
}

fn command_line_scripts(
    scripts: &[String],
    grants: &[String],
    config: &ServiceConfig,
) -> Result<BTreeMap<String, ScriptConfig>, UsageError> {
    let split = |flag: &str, text: &str| -> Result<(String, PathBuf), UsageError> {
        let (name, path) = text
            .split_once('=')
            .ok_or_else(|| UsageError(format!("--{flag} {text:?}: expected NAME=PATH")))?;
        claimscript_server::config::check_name(name)
            .map_err(|m| UsageError(format!("--{flag} {text:?}: {m}")))?;
        Ok((name.to_string(), PathBuf::from(path)))
    };
    let mut out = BTreeMap::new();
    for text in scripts {
        let (name, path) = split("script", text)?;
        if config.scripts.contains_key(&name) || out.contains_key(&name) {
            return Err(UsageError(format!(
                "--script {text:?}: a script named {name:?} is already configured"
            )));
        }
        if !path.is_file() {
            return Err(UsageError(format!(
                "--script {text:?}: {} is not a file",
                path.display()
            )));
        }
        out.insert(name, ScriptConfig::new(path));
    }
    for text in grants {
        let (name, path) = split("grants", text)?;
        let script = out.get_mut(&name).ok_or_else(|| {
            UsageError(format!(
                "--grants {text:?}: no --script named {name:?} (grants of configured scripts go in the config)"
            ))
        })?;
        claimscript::Grants::from_file(&path).map_err(|e| UsageError(e.to_string()))?;
        script.grants = Some(path);
    }
    Ok(out)
}

fn init_logs(args: &LogArgs) {
    let builder = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(args.log_level)
        .with_target(false);
    let _ = if args.log_format == "json" {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}
