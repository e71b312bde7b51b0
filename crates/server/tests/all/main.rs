//! Integration tests of the claims service: each test starts the real
//! server on an ephemeral loopback port and drives it with a real HTTP
//! client.

mod api;
mod auth;
mod cache;
mod hooks;
mod logto;
mod oci;
mod operations;
mod registry;
mod token;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use claimscript_server::{Server, Service, ServiceConfig};
use serde_json::Value;
use tempfile::TempDir;

pub fn repo_path(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(rel)
}

/// A compiled-code cache warmed once per test binary, copied into each
/// test's data directory: every service would otherwise compile the QuickJS
/// runtime again.
pub fn warm_cache() -> &'static Path {
    static CACHE: OnceLock<TempDir> = OnceLock::new();
    CACHE
        .get_or_init(|| {
            let dir = tempfile::tempdir().expect("tempdir");
            let mut config = claimscript::EngineConfig::default();
            config.cache_dir = Some(dir.path().join("cache"));
            config.max_concurrent_runs = 4;
            claimscript::Engine::with_config(config).expect("engine");
            dir
        })
        .path()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(to, std::fs::Permissions::from_mode(0o700)).expect("chmod");
    }
    for entry in std::fs::read_dir(from).expect("read_dir").flatten() {
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

/// A test's directory: the config, its scripts and the data directory.
#[derive(Debug)]
pub struct Dir {
    pub tmp: TempDir,
}

impl Default for Dir {
    fn default() -> Self {
        Dir::new()
    }
}

impl Dir {
    pub fn new() -> Dir {
        let tmp = tempfile::tempdir().expect("tempdir");
        copy_dir(&warm_cache().join("cache"), &tmp.path().join("data/cache"));
        Dir { tmp }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.tmp.path().join(rel)
    }

    pub fn write(&self, rel: &str, text: impl AsRef<[u8]>) -> PathBuf {
        let path = self.path(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(&path, text).expect("write");
        path
    }

    /// The config: `listen` on an ephemeral loopback port and `data_dir`
    /// are prepended to `toml`.
    pub fn config(&self, toml: &str) -> ServiceConfig {
        let text = format!("listen = \"127.0.0.1:0\"\ndata_dir = \"data\"\n{toml}");
        let path = self.write("claimscript.toml", &text);
        ServiceConfig::from_file(&path).unwrap_or_else(|e| panic!("config: {e}"))
    }

    pub async fn start(&self, toml: &str) -> Running {
        self.start_config(self.config(toml)).await
    }

    pub async fn start_config(&self, config: ServiceConfig) -> Running {
        let server = Service::new(config)
            .await
            .unwrap_or_else(|e| panic!("service: {e}"))
            .bind()
            .await
            .unwrap_or_else(|e| panic!("bind: {e}"));
        Running::new(server)
    }
}

/// A running server and a client for it.
#[derive(Debug)]
pub struct Running {
    pub server: Server,
    pub client: reqwest::Client,
    pub base: String,
}

impl Running {
    pub fn new(server: Server) -> Running {
        let base = format!("http://{}", server.local_addr());
        Running {
            server,
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .expect("client"),
            base,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn post(&self, path: &str, body: &Value) -> Answer {
        Answer::of(self.client.post(self.url(path)).json(body).send().await).await
    }

    /// POST a JSON body given as text, for what `serde_json` cannot build
    /// (a key twice in an object).
    pub async fn post_text(&self, path: &str, text: impl Into<String>) -> Answer {
        Answer::of(
            self.client
                .post(self.url(path))
                .header("content-type", "application/json")
                .body(text.into())
                .send()
                .await,
        )
        .await
    }

    pub async fn get(&self, path: &str) -> Answer {
        Answer::of(self.client.get(self.url(path)).send().await).await
    }

    pub async fn put(&self, path: &str, body: &Value) -> Answer {
        Answer::of(self.client.put(self.url(path)).json(body).send().await).await
    }

    pub async fn metrics(&self) -> String {
        self.get("/metrics").await.text
    }

    pub async fn stop(self) {
        self.server.shutdown().await;
    }
}

/// A response: status, headers, body as text and (when it is) JSON.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
    pub json: Value,
}

impl Answer {
    pub async fn of(response: reqwest::Result<reqwest::Response>) -> Answer {
        let response = response.expect("request");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.expect("body");
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        Answer {
            status,
            headers,
            text,
            json,
        }
    }

    /// Assert the status and the error code of an error answer.
    #[track_caller]
    pub fn error(&self, status: u16, code: &str) -> &str {
        assert_eq!(self.status, status, "{}", self.text);
        assert_eq!(self.json["error"]["code"], code, "{}", self.text);
        self.json["error"]["message"].as_str().unwrap_or_default()
    }
}

/// The RBAC example's input.
pub fn rbac_input() -> Value {
    let text = std::fs::read_to_string(repo_path("examples/rbac/input.json")).expect("input");
    serde_json::from_str(&text).expect("json")
}

pub const RBAC: &str = "examples/rbac/script.js";

/// A config block serving the RBAC example as `rbac`.
pub fn rbac_config() -> String {
    format!("[scripts.rbac]\npath = \"{}\"\n", repo_path(RBAC).display())
}

/// The value of a metric line `name{labels} value` whose text starts with
/// `prefix`, summed over matching lines.
pub fn metric(text: &str, prefix: &str) -> f64 {
    text.lines()
        .filter(|l| l.starts_with(prefix))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}
