//! Scripts pulled from OCI registries (`oci = "oci://host/repo:tag"`),
//! verified before they load.
//!
//! A script's artifact is pulled with `claimscript-oci`: the manifest
//! digest's signature is checked against the configured public keys before
//! any blob is used, and every blob against its digest. The artifact's
//! grants travel with it (a `grants` file in the config overrides them).
//! What loaded is kept in the data directory (`oci/NAME.json` beside the
//! artifact), so the service starts with the last good version when the
//! registry is down: a kept version is used only while the key that
//! verified it is still configured. A tag is resolved again every
//! `poll_interval_ms`; a new digest replaces the script only once it is
//! verified and compiled. A pull or a verification that fails leaves the
//! last good version serving and shows the error in `/v1/scripts`, the log
//! and the metrics.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use claimscript::Grants;
use claimscript_oci::{Client, ClientConfig, PublicKey, Reference};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::config::{OciSource, ScriptConfig};
use crate::registry::{Code, LoadError, Origin, Version, fingerprint, now_rfc3339};
use crate::service::App;
use crate::store::{hex, write_atomic};

/// The time a pull may take, each request.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// What the data directory keeps of the last good version of an OCI script.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Kept {
    /// The reference as configured.
    reference: String,
    /// The manifest digest that loaded (`sha256:...`).
    manifest_digest: String,
    /// SHA-256 of the Wasm layer (the artifact in `artifacts/`).
    artifact: String,
    /// The grants the artifact carried.
    grants: Option<String>,
    /// SHA-256 of the PEM of the key that verified it; `None` for an
    /// unsigned artifact allowed by `allow_unsigned`.
    verified_with: Option<String>,
    /// When it was pulled, RFC 3339.
    pulled_at: String,
}

/// Poll bookkeeping: when each OCI script is due.
#[derive(Debug, Default)]
pub(crate) struct Polls {
    due: Mutex<HashMap<String, Instant>>,
}

fn key_hash(key: &PublicKey) -> String {
    hex(&Sha256::digest(key.to_pem().as_bytes()))
}

fn keys(oci: &OciSource) -> Result<Vec<PublicKey>, LoadError> {
    oci.verify_keys
        .iter()
        .map(|p| PublicKey::from_file(p).map_err(|e| LoadError::new(e.to_string())))
        .collect()
}

fn kept_path(app: &App, name: &str) -> std::path::PathBuf {
    app.registry
        .data()
        .root()
        .join("oci")
        .join(format!("{name}.json"))
}

impl App {
    /// Load an OCI script: with `pull`, resolve and pull what the registry
    /// has; without, the last good version kept in the data directory (if
    /// nothing of this script is loaded yet).
    pub(crate) async fn load_oci_script(
        &self,
        name: &str,
        sc: &ScriptConfig,
        oci: &OciSource,
        settings: [u8; 32],
        pull: bool,
    ) -> Result<(), LoadError> {
        let keys = keys(oci)?;
        let current = self.registry.slot(name).and_then(|s| s.current());
        let current_digest = current.as_ref().and_then(|v| match &v.origin {
            Origin::Oci {
                reference,
                manifest_digest,
            } if *reference == oci.reference && v.fingerprint == Some(settings) => {
                Some(manifest_digest.clone())
            }
            _ => None,
        });
        if !pull {
            if current_digest.is_some() {
                return Ok(());
            }
            return self.load_kept(name, sc, oci, &keys, settings).await;
        }
        let reference =
            Reference::parse(&oci.reference).map_err(|e| LoadError::new(e.to_string()))?;
        let client = Client::new(
            ClientConfig::default()
                .with_plain_http(oci.plain_http)
                .with_timeout(REQUEST_TIMEOUT),
        )
        .map_err(|e| LoadError::new(e.to_string()))?;
        let digest = client
            .resolve(&reference)
            .await
            .map_err(|e| LoadError::new(format!("{}: {e}", oci.reference)))?;
        if current_digest.as_deref() == Some(digest.to_string().as_str()) {
            self.metrics.oci_pull(name, "unchanged");
            return Ok(());
        }
        let pinned = reference.pinned(digest);
        let artifact = if oci.allow_unsigned {
            client.pull(&pinned).await
        } else {
            client.pull_verified(&pinned, &keys).await
        }
        .map_err(|e| LoadError::new(format!("{}: {e}", oci.reference)))?;
        let verified_with = artifact
            .verified
            .as_ref()
            .and_then(|v| keys.get(v.key_index))
            .map(key_hash);
        let manifest_digest = artifact.digest.to_string();
        let version = self
            .install_oci(
                name,
                sc,
                oci,
                &artifact.wasm,
                artifact.grants.clone(),
                &manifest_digest,
                settings,
            )
            .await?;
        let kept = Kept {
            reference: oci.reference.clone(),
            manifest_digest: manifest_digest.clone(),
            artifact: version,
            grants: artifact.grants,
            verified_with,
            pulled_at: now_rfc3339(),
        };
        if let Err(e) = self.keep(name, &kept) {
            tracing::error!(script = name, error = %e, "the pulled artifact could not be kept in the data directory");
        }
        self.metrics.oci_pull(name, "updated");
        tracing::info!(script = name, reference = %oci.reference, digest = %manifest_digest, "pulled, verified and loaded");
        Ok(())
    }

    /// The last good version from the data directory, if its key is still
    /// configured.
    async fn load_kept(
        &self,
        name: &str,
        sc: &ScriptConfig,
        oci: &OciSource,
        keys: &[PublicKey],
        settings: [u8; 32],
    ) -> Result<(), LoadError> {
        let Ok(bytes) = std::fs::read(kept_path(self, name)) else {
            // Nothing kept: the first pull loads it.
            return Ok(());
        };
        let kept: Kept = serde_json::from_slice(&bytes).map_err(|e| {
            LoadError::new(format!("the kept version of {name} is unreadable: {e}"))
        })?;
        if kept.reference != oci.reference {
            return Ok(());
        }
        let trusted = match &kept.verified_with {
            Some(hash) => keys.iter().any(|k| key_hash(k) == *hash),
            None => oci.allow_unsigned,
        };
        if !trusted {
            return Err(LoadError::new(format!(
                "the kept version of {name} ({}) was verified with a key no longer configured; waiting for a pull",
                kept.manifest_digest
            )));
        }
        let wasm = self
            .registry
            .data()
            .artifact(&kept.artifact)
            .map_err(|e| LoadError::new(format!("the kept artifact of {name}: {e}")))?;
        self.install_oci(
            name,
            sc,
            oci,
            &wasm,
            kept.grants,
            &kept.manifest_digest,
            settings,
        )
        .await?;
        tracing::info!(script = name, digest = %kept.manifest_digest, "loaded the kept version (pulled {})", kept.pulled_at);
        Ok(())
    }

    /// Compile a pulled component and make it the current version; returns
    /// the artifact's SHA-256.
    #[allow(clippy::too_many_arguments)]
    async fn install_oci(
        &self,
        name: &str,
        sc: &ScriptConfig,
        oci: &OciSource,
        wasm: &[u8],
        artifact_grants: Option<String>,
        manifest_digest: &str,
        settings: [u8; 32],
    ) -> Result<String, LoadError> {
        let grants_text = match &sc.grants {
            Some(path) => Some(std::fs::read_to_string(path).map_err(|e| {
                LoadError::new(format!("cannot read grants file {}: {e}", path.display()))
            })?),
            None => artifact_grants,
        };
        let grants = match &grants_text {
            None => Grants::default(),
            Some(text) => Grants::from_toml(text).map_err(|e| {
                LoadError::new(format!(
                    "{}: grants: {e}",
                    sc.grants
                        .as_ref()
                        .map_or_else(|| oci.reference.clone(), |p| p.display().to_string())
                ))
            })?,
        };
        self.check_grants_fit(&grants, &oci.reference)
            .map_err(LoadError::new)?;
        let env = crate::service::resolve_env(sc)?;
        let script = {
            let Some(_permit) = self.gate.enter_unbounded().await else {
                return Err(LoadError::new("the service is shutting down"));
            };
            self.registry.compile(Code::Component(wasm)).await?
        };
        let digest = script.digest_hex();
        self.registry.install(
            Version::of_config(
                name,
                &script,
                sc,
                (grants, grants_text, env),
                Origin::Oci {
                    reference: oci.reference.clone(),
                    manifest_digest: manifest_digest.to_string(),
                },
                settings,
            ),
            Some(&script),
        );
        Ok(digest)
    }

    fn keep(&self, name: &str, kept: &Kept) -> std::io::Result<()> {
        let path = kept_path(self, name);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let json = serde_json::to_vec_pretty(kept).map_err(std::io::Error::other)?;
        write_atomic(&path, &json)
    }

    /// Pull every OCI script whose poll is due (all of them the first
    /// time); a failure leaves the last good version serving.
    pub(crate) async fn poll_registries(&self) {
        let config = self.config();
        for (name, sc) in &config.scripts {
            let Some(oci) = &sc.oci else {
                continue;
            };
            let now = Instant::now();
            let due = {
                let mut due = self
                    .polls
                    .due
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                let loaded = self.registry.slot(name).and_then(|s| s.current()).is_some();
                let next = due.get(name).copied();
                let is_due = match next {
                    None => true,
                    Some(at) => now >= at,
                };
                // A pinned digest is pulled until it loads, then never again.
                if is_due {
                    let wait = match oci.poll_interval {
                        Some(interval) => interval,
                        None if loaded => Duration::from_secs(u64::MAX / 4),
                        None => Duration::from_secs(10),
                    };
                    due.insert(name.clone(), now + wait);
                }
                is_due
            };
            if !due {
                continue;
            }
            let settings = crate::service::oci_settings(sc, oci);
            if let Err(e) = self.load_oci_script(name, sc, oci, settings, true).await {
                self.metrics.oci_pull(name, "failed");
                self.registry.failed(name, e);
            }
        }
    }
}

/// The settings fingerprint of an OCI script (everything but the artifact).
pub(crate) fn settings_fingerprint(parts: &[&[u8]]) -> [u8; 32] {
    fingerprint(parts)
}
