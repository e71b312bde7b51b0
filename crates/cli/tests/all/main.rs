//! Integration tests of the `claimscript` command: one binary.

mod audit;
mod bench;
mod issue;
mod oci;
mod run;
mod serve;
mod styles;
mod types;

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

pub fn repo_path(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(rel)
}

pub fn fixture(name: &str) -> PathBuf {
    repo_path(&format!("tests/fixtures/scripts/{name}.js"))
}

pub fn claimscript(args: &[&str]) -> Output {
    claimscript_stdin(args, "")
}

pub fn claimscript_stdin(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_claimscript"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn claimscript");
    // A command that refuses its arguments may exit before reading stdin:
    // the write then fails with a broken pipe, which is not the test's
    // business (its exit code and output are).
    match child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
    {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => panic!("write stdin: {e}"),
        _ => {}
    }
    child.wait_with_output().expect("claimscript runs")
}

/// Exit code and the single JSON object printed on stdout.
pub fn run_json(args: &[&str]) -> (i32, serde_json::Value) {
    let out = claimscript(args);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        stdout.lines().count(),
        1,
        "exactly one line on stdout; stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    (out.status.code().unwrap_or(-1), json)
}
