//! The service's audit log: every run's record (the engine's execution
//! trail) with the request's decision id, script name and caller, as JSON
//! lines on standard output or in a file rotated by size.
//!
//! Each record is written with one `write` call as the run ends, so nothing
//! waits in a buffer to be lost at shutdown or on overload; a failed write
//! is counted (`claimscript_audit_records_total{result="dropped"}`) and
//! logged, never silent.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use claimscript::trail::{AuditSink, RunRecord};

use crate::metrics::Metrics;

/// Where records go.
#[derive(Debug)]
enum Target {
    Stdout,
    File {
        path: PathBuf,
        file: Option<File>,
        size: u64,
        max_bytes: u64,
        keep: u32,
    },
}

/// The audit sink the service installs in its engine.
#[derive(Debug)]
pub(crate) struct AuditLog {
    target: Mutex<Target>,
    metrics: Metrics,
}

impl AuditLog {
    pub(crate) fn stdout(metrics: Metrics) -> AuditLog {
        AuditLog {
            target: Mutex::new(Target::Stdout),
            metrics,
        }
    }

    pub(crate) fn file(
        path: &Path,
        max_bytes: u64,
        keep: u32,
        metrics: Metrics,
    ) -> std::io::Result<AuditLog> {
        let file = open_append(path)?;
        let size = file.metadata()?.len();
        Ok(AuditLog {
            target: Mutex::new(Target::File {
                path: path.to_path_buf(),
                file: Some(file),
                size,
                max_bytes,
                keep,
            }),
            metrics,
        })
    }

    /// Sync the file to disk (at shutdown).
    pub(crate) fn flush(&self) {
        if let Ok(mut target) = self.target.lock() {
            match &mut *target {
                Target::Stdout => {
                    let _ = std::io::stdout().flush();
                }
                Target::File { file: Some(f), .. } => {
                    let _ = f.sync_all();
                }
                Target::File { .. } => {}
            }
        }
    }

    fn write(&self, line: &[u8]) -> std::io::Result<()> {
        let mut target = self
            .target
            .lock()
            .map_err(|_| std::io::Error::other("the audit log's lock is poisoned"))?;
        match &mut *target {
            Target::Stdout => {
                let mut out = std::io::stdout().lock();
                out.write_all(line)?;
                out.flush()
            }
            Target::File {
                path,
                file,
                size,
                max_bytes,
                keep,
            } => {
                if *size > 0 && *size + line.len() as u64 > *max_bytes {
                    *file = None;
                    rotate(path, *keep)?;
                    *size = 0;
                }
                if file.is_none() {
                    *file = Some(open_append(path)?);
                }
                let Some(f) = file else {
                    return Err(std::io::Error::other("the audit file is not open"));
                };
                f.write_all(line)?;
                *size += line.len() as u64;
                Ok(())
            }
        }
    }
}

impl AuditLog {
    /// A hook's record, beside its run's: what the provider's response did
    /// to the token and the claims it left out (names, never values).
    pub(crate) fn hook(
        &self,
        decision_id: &str,
        script: &str,
        provider: &str,
        effect: &str,
        dropped: &[claimscript_hooks::DroppedClaim],
    ) {
        let record = serde_json::json!({
            "time": humantime::format_rfc3339_micros(std::time::SystemTime::now()).to_string(),
            "decision_id": decision_id,
            "name": script,
            "hook": {
                "provider": provider,
                "effect": effect,
                "dropped_claims": dropped.iter().map(|d| serde_json::json!({
                    "name": d.name,
                    "token": match d.token {
                        claimscript_hooks::TokenTarget::Access => "access_token",
                        _ => "id_token",
                    },
                    "reason": d.reason.as_str(),
                })).collect::<Vec<_>>(),
            },
        });
        let mut line = serde_json::to_vec(&record).unwrap_or_default();
        line.push(b'\n');
        match self.write(&line) {
            Ok(()) => self.metrics.audit(true),
            Err(e) => {
                self.metrics.audit(false);
                tracing::error!(target: "claimscript::audit", error = %e, decision_id, "a hook record could not be written; dropped");
            }
        }
    }
}

impl AuditSink for AuditLog {
    fn record(&self, record: &RunRecord) {
        let mut line = match serde_json::to_vec(record) {
            Ok(line) => line,
            Err(e) => {
                self.metrics.audit(false);
                tracing::error!(target: "claimscript::audit", error = %e, "an audit record could not be serialised; dropped");
                return;
            }
        };
        line.push(b'\n');
        match self.write(&line) {
            Ok(()) => self.metrics.audit(true),
            Err(e) => {
                self.metrics.audit(false);
                tracing::error!(
                    target: "claimscript::audit",
                    error = %e,
                    decision_id = record.labels.decision_id.as_deref().unwrap_or(""),
                    "an audit record could not be written; dropped"
                );
            }
        }
    }
}

fn open_append(path: &Path) -> std::io::Result<File> {
    let mut options = OpenOptions::new();
    options.append(true).create(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

/// `FILE` → `FILE.1` → … → `FILE.keep` (the oldest is removed).
fn rotate(path: &Path, keep: u32) -> std::io::Result<()> {
    let numbered = |n: u32| {
        let mut p = path.as_os_str().to_owned();
        p.push(format!(".{n}"));
        PathBuf::from(p)
    };
    if keep == 0 {
        return std::fs::remove_file(path);
    }
    let _ = std::fs::remove_file(numbered(keep));
    for n in (1..keep).rev() {
        let from = numbered(n);
        if from.exists() {
            std::fs::rename(&from, numbered(n + 1))?;
        }
    }
    std::fs::rename(path, numbered(1))
}
