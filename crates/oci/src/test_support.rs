//! A loopback `docker-registry` (the CNCF distribution registry, Debian
//! package `docker-registry`) for integration tests. Behind the
//! `test-support` feature; not part of the API.

use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

// `crate::Digest`: this file is also compiled into the crate's own test
// binary (tests/all/main.rs includes it by path), where it names the
// re-export.
use crate::Digest;

/// The registry binary: `$CLAIMSCRIPT_TEST_REGISTRY`, else `docker-registry`.
pub fn registry_binary() -> String {
    std::env::var("CLAIMSCRIPT_TEST_REGISTRY").unwrap_or_else(|_| "docker-registry".into())
}

/// A running registry on 127.0.0.1, storing into a temporary directory;
/// stopped and deleted on drop.
#[derive(Debug)]
pub struct TestRegistry {
    child: Child,
    dir: tempfile::TempDir,
    addr: SocketAddr,
}

impl TestRegistry {
    /// Start a registry without authentication.
    pub fn start() -> Result<TestRegistry, String> {
        TestRegistry::start_with(None)
    }

    /// Start a registry that requires basic auth against `htpasswd` (the
    /// file's text: `user:$2y$...` bcrypt lines).
    pub fn start_with_htpasswd(htpasswd: &str) -> Result<TestRegistry, String> {
        TestRegistry::start_with(Some(htpasswd))
    }

    fn start_with(htpasswd: Option<&str>) -> Result<TestRegistry, String> {
        let binary = registry_binary();
        let mut last = String::new();
        for _ in 0..5 {
            let dir = tempfile::tempdir().map_err(|e| format!("temp dir: {e}"))?;
            let port = free_port()?;
            let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
            let mut config = format!(
                "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: {addr}\n",
                dir.path().join("data").display()
            );
            if let Some(h) = htpasswd {
                let path = dir.path().join("htpasswd");
                std::fs::write(&path, h).map_err(|e| format!("htpasswd: {e}"))?;
                config.push_str(&format!(
                    "auth:\n  htpasswd:\n    realm: claimscript-test\n    path: {}\n",
                    path.display()
                ));
            }
            let config_path = dir.path().join("config.yml");
            std::fs::write(&config_path, config).map_err(|e| format!("config: {e}"))?;
            let log = std::fs::File::create(dir.path().join("registry.log"))
                .map_err(|e| format!("log: {e}"))?;
            let child = Command::new(&binary)
                .arg("serve")
                .arg(&config_path)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(log)
                .spawn();
            let child = match child {
                Ok(c) => c,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    return Err(format!(
                        "`{binary}` not found: these tests need the CNCF distribution registry; install Debian's docker-registry package (apt-get install docker-registry) or set CLAIMSCRIPT_TEST_REGISTRY to its path"
                    ));
                }
                Err(e) => return Err(format!("cannot start `{binary}`: {e}")),
            };
            let mut registry = TestRegistry { child, dir, addr };
            match registry.wait_ready() {
                Ok(()) => return Ok(registry),
                Err(e) => last = e,
            }
        }
        Err(format!("docker-registry did not start: {last}"))
    }

    fn wait_ready(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                let log = std::fs::read_to_string(self.dir.path().join("registry.log"))
                    .unwrap_or_default();
                return Err(format!("exited with {status}: {log}"));
            }
            if TcpStream::connect_timeout(&self.addr, Duration::from_millis(200)).is_ok() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Err("not listening after 20 s".into())
    }

    /// `127.0.0.1:PORT`.
    pub fn registry(&self) -> String {
        self.addr.to_string()
    }

    /// `oci://127.0.0.1:PORT/<repository_and_tag>`.
    pub fn reference(&self, repository_and_tag: &str) -> String {
        format!("oci://{}/{repository_and_tag}", self.addr)
    }

    /// Where the registry stores the blob `digest` on disk.
    pub fn blob_path(&self, digest: &Digest) -> PathBuf {
        let hex = digest.hex();
        self.dir
            .path()
            .join("data/docker/registry/v2/blobs/sha256")
            .join(&hex[..2])
            .join(&hex)
            .join("data")
    }

    /// The temporary directory (config, storage, log).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Stop the registry now (it also stops on drop).
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for TestRegistry {
    fn drop(&mut self) {
        self.stop();
    }
}

fn free_port() -> Result<u16, String> {
    let l = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).map_err(|e| format!("bind: {e}"))?;
    l.local_addr()
        .map(|a| a.port())
        .map_err(|e| format!("local_addr: {e}"))
}
