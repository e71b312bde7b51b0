//! Registry credentials: environment variables, then Docker's config file.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::error::Error;

/// The user name variable; with [`ENV_PASSWORD`] it overrides the Docker
/// config for every registry.
pub const ENV_USERNAME: &str = "CLAIMSCRIPT_REGISTRY_USERNAME";
/// The password (or token) variable.
pub const ENV_PASSWORD: &str = "CLAIMSCRIPT_REGISTRY_PASSWORD";

/// A user name and password for a registry (basic auth, or exchanged for a
/// bearer token). `Debug` does not show the password.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The user name.
    pub username: String,
    /// The password or token.
    pub password: String,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// Where credentials come from for a client.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub enum CredentialSource {
    /// [`ENV_USERNAME`]/[`ENV_PASSWORD`] if both are set, else the Docker
    /// config file (`$DOCKER_CONFIG/config.json`, else
    /// `~/.docker/config.json`), else anonymous.
    #[default]
    Default,
    /// Only this Docker config file (then anonymous).
    DockerConfig(PathBuf),
    /// These credentials for every registry.
    Fixed(Credentials),
    /// None.
    Anonymous,
}

impl CredentialSource {
    /// The credentials for `registry` (`host[:port]`). A Docker config
    /// file that exists but cannot be read or parsed is an error naming
    /// it; a missing file means anonymous.
    pub fn credentials_for(&self, registry: &str) -> Result<Option<Credentials>, Error> {
        match self {
            CredentialSource::Anonymous => Ok(None),
            CredentialSource::Fixed(c) => Ok(Some(c.clone())),
            CredentialSource::DockerConfig(path) => docker_config_file(path, registry),
            CredentialSource::Default => {
                if let (Some(u), Some(p)) = (
                    std::env::var_os(ENV_USERNAME),
                    std::env::var_os(ENV_PASSWORD),
                ) {
                    return Ok(Some(Credentials {
                        username: u.to_string_lossy().into_owned(),
                        password: p.to_string_lossy().into_owned(),
                    }));
                }
                match default_docker_config() {
                    Some(path) => docker_config_file(&path, registry),
                    None => Ok(None),
                }
            }
        }
    }
}

/// `$DOCKER_CONFIG/config.json`, else `$HOME/.docker/config.json`.
pub fn default_docker_config() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("DOCKER_CONFIG") {
        return Some(PathBuf::from(dir).join("config.json"));
    }
    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".docker/config.json"))
}

fn docker_config_file(path: &Path, registry: &str) -> Result<Option<Credentials>, Error> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(Error::Credentials {
                path: path.to_path_buf(),
                reason: e.to_string(),
            });
        }
    };
    docker_config_credentials(&text, registry).map_err(|reason| Error::Credentials {
        path: path.to_path_buf(),
        reason,
    })
}

#[derive(serde::Deserialize)]
struct DockerConfig {
    #[serde(default)]
    auths: BTreeMap<String, DockerAuth>,
}

#[derive(serde::Deserialize)]
struct DockerAuth {
    auth: Option<String>,
    username: Option<String>,
    password: Option<String>,
}

/// The credentials for `registry` in the text of a Docker config file:
/// the `auths` entry whose key is the registry (with or without a scheme
/// and path, as `docker login` writes them), as base64 `user:password` in
/// `auth` or as `username`/`password`. Credential helpers (`credsStore`,
/// `credHelpers`) are not run. Pure.
pub fn docker_config_credentials(
    text: &str,
    registry: &str,
) -> Result<Option<Credentials>, String> {
    let config: DockerConfig = serde_json::from_str(text).map_err(|e| {
        format!(
            "invalid JSON at line {} column {}: {e}",
            e.line(),
            e.column()
        )
    })?;
    let Some((key, entry)) = config
        .auths
        .iter()
        .find(|(key, _)| normalize_key(key).eq_ignore_ascii_case(registry))
    else {
        return Ok(None);
    };
    if let Some(auth) = entry.auth.as_deref().filter(|a| !a.is_empty()) {
        let decoded = STANDARD
            .decode(auth.trim())
            .map_err(|e| format!("auths.{key:?}.auth is not base64: {e}"))?;
        let decoded = String::from_utf8(decoded)
            .map_err(|_| format!("auths.{key:?}.auth is not UTF-8 user:password"))?;
        let (u, p) = decoded
            .split_once(':')
            .ok_or_else(|| format!("auths.{key:?}.auth does not decode to user:password"))?;
        return Ok(Some(Credentials {
            username: u.to_string(),
            password: p.to_string(),
        }));
    }
    match (&entry.username, &entry.password) {
        (Some(u), Some(p)) => Ok(Some(Credentials {
            username: u.clone(),
            password: p.clone(),
        })),
        _ => Ok(None),
    }
}

fn normalize_key(key: &str) -> &str {
    let key = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
        .unwrap_or(key);
    key.split_once('/').map_or(key, |(host, _)| host)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_config_forms() {
        let text = r#"{"auths":{
            "https://reg.example.com/v1/":{"auth":"dTE6cDE="},
            "127.0.0.1:5000":{"username":"u2","password":"p:2"},
            "bad.example":{"auth":"!!"}}}"#;
        let c = docker_config_credentials(text, "reg.example.com")
            .expect("ok")
            .expect("ok");
        assert_eq!((c.username.as_str(), c.password.as_str()), ("u1", "p1"));
        let c = docker_config_credentials(text, "127.0.0.1:5000")
            .expect("ok")
            .expect("ok");
        assert_eq!((c.username.as_str(), c.password.as_str()), ("u2", "p:2"));
        assert_eq!(
            docker_config_credentials(text, "other:1").expect("ok"),
            None
        );
        let e = docker_config_credentials(text, "bad.example").expect_err("must fail");
        assert!(e.contains("not base64"), "{e}");
        let e = docker_config_credentials("{", "x").expect_err("must fail");
        assert!(e.contains("line 1"), "{e}");
        assert!(!format!("{c:?}").contains("p:2"));
    }
}
