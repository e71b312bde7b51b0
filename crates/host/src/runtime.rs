//! The QuickJS runtime as the engine holds it, and script artifacts.
//!
//! The runtime comes in two parts (built by `claimscript-runtime-build`):
//!
//! - **the code module**: QuickJS and the guest, compiled once per engine;
//! - **the runtime component**: imports the code module by digest and carries
//!   a *state module*, the initial contents of the runtime's memory.
//!
//! A script's artifact is the runtime component with the state module
//! replaced by the snapshot of the memory after `load` evaluated the script,
//! plus a custom section describing the artifact. Compiling a script is
//! therefore: instantiate the runtime, `load`, take the memory image, write
//! it as a state module, and compile the small component that results; the
//! QuickJS code is never compiled again.
//!
//! An artifact is accepted only when everything but its state module is byte
//! for byte this engine's runtime component, the state module holds nothing
//! but a memory, its export and data, and its description names this
//! runtime: its code digest and the digest of the whole runtime component.
//! The byte comparison cannot tell runtimes apart whose only difference is
//! the initial state (the prelude's JavaScript lives there, and an artifact
//! replaces it with its own snapshot); the component digest in the
//! description does. A script built for another runtime is refused with a
//! message saying so.

use std::ops::Range;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use wasmparser::{Parser, Payload};

use crate::error::{ArtifactError, ArtifactErrorKind, EngineError, EngineErrorKind, Error};

/// The runtime component, built from `guest/` by `make guest`.
const COMPONENT: &[u8] = include_bytes!("../runtime/claimscript-runtime.wasm");
/// QuickJS's code, imported by the component.
pub(crate) const CODE: &[u8] = include_bytes!("../runtime/claimscript-quickjs.wasm");

/// The custom section the runtime component describes itself in.
const RUNTIME_SECTION: &str = "claimscript-runtime";
/// The custom section an artifact describes itself in.
const ARTIFACT_SECTION: &str = "claimscript-artifact";
/// Zero bytes between two non-zero runs that still go into one data segment
/// (a segment costs about ten bytes of encoding).
const SEGMENT_GAP: usize = 32;

/// What the runtime component says about itself.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct RuntimeInfo {
    /// The runtime's version (the workspace version that built it).
    pub(crate) version: String,
    /// SHA-256 of the code module.
    pub(crate) code_sha256: String,
    /// The name under which the component imports the code module.
    pub(crate) code_import: String,
    /// End of the stack region at the bottom of memory: below it, a snapshot
    /// holds nothing worth keeping.
    pub(crate) stack_end: u32,
}

/// What an artifact says about itself (its `claimscript-artifact` section).
/// [`Runtime::check_artifact`] holds the runtime fields to this engine's and
/// the others to their shapes; `source_sha256`, `entries` and `packages` are
/// otherwise the artifact's own claims.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ArtifactInfo {
    /// The runtime version it was built with.
    pub(crate) runtime_version: String,
    /// The runtime's code digest it was built with.
    pub(crate) code_sha256: String,
    /// SHA-256 of the whole runtime component it was built with (code
    /// import, glue and initial state, prelude included). Empty in artifacts
    /// of runtimes before it was recorded: those are refused.
    #[serde(default)]
    pub(crate) runtime_sha256: String,
    /// SHA-256 of the script source.
    pub(crate) source_sha256: String,
    /// `logto`, `auth0` or `loginradius`.
    pub(crate) style: String,
    /// The entry functions the script defines.
    pub(crate) entries: Vec<String>,
    /// The packages the script requires.
    pub(crate) packages: Vec<String>,
}

/// The runtime component taken apart around its state module.
#[derive(Debug)]
pub(crate) struct Runtime {
    pub(crate) info: RuntimeInfo,
    /// SHA-256 of the runtime component, lower-case hex: the runtime's
    /// identity (its code digest alone does not cover the prelude, which is
    /// in the component's initial state).
    pub(crate) sha256: String,
    /// Bytes before the state module's section.
    prefix: Range<usize>,
    /// Bytes after it.
    suffix: Range<usize>,
}

impl Runtime {
    /// Parse the embedded runtime component.
    pub(crate) fn embedded() -> Result<Runtime, Error> {
        Runtime::parse(COMPONENT).map_err(|m| {
            EngineError::new(
                EngineErrorKind::EmbeddedRuntime,
                format!("the embedded runtime: {m}"),
            )
            .into()
        })
    }

    fn parse(component: &[u8]) -> Result<Runtime, String> {
        let mut state = None;
        let mut info = None;
        for payload in Parser::new(0).parse_all(component) {
            match payload.map_err(|e| e.to_string())? {
                Payload::ModuleSection {
                    unchecked_range, ..
                } => {
                    let range = unchecked_range.start..unchecked_range.end;
                    if is_state_module(&component[range.clone()]).is_ok() {
                        if state.is_some() {
                            return Err("more than one state module".into());
                        }
                        state = Some(section_range(component, range)?);
                    }
                }
                Payload::CustomSection(section) if section.name() == RUNTIME_SECTION => {
                    let parsed: RuntimeInfo = serde_json::from_slice(section.data())
                        .map_err(|e| format!("the {RUNTIME_SECTION} section: {e}"))?;
                    info = Some(parsed);
                }
                _ => {}
            }
        }
        let state = state.ok_or("no state module")?;
        let info = info.ok_or_else(|| format!("no {RUNTIME_SECTION} section"))?;
        let code_sha256 = hex(&Sha256::digest(CODE));
        if info.code_sha256 != code_sha256 {
            return Err(format!(
                "the component expects code {} but the embedded code is {code_sha256}",
                info.code_sha256
            ));
        }
        Ok(Runtime {
            info,
            sha256: hex(&Sha256::digest(component)),
            prefix: 0..state.start,
            suffix: state.end..component.len(),
        })
    }

    /// The runtime component as embedded (with the initial state).
    pub(crate) fn component(&self) -> &'static [u8] {
        COMPONENT
    }

    /// A script's artifact: this runtime with `memory` as its state.
    pub(crate) fn artifact(&self, memory: &[u8], info: &ArtifactInfo) -> Vec<u8> {
        let state = state_module(memory, self.info.stack_end as usize);
        let mut out = Vec::with_capacity(COMPONENT.len() + state.len() + 256);
        out.extend_from_slice(&COMPONENT[self.prefix.clone()]);
        out.push(1); // core module section
        leb128(&mut out, state.len());
        out.extend_from_slice(&state);
        out.extend_from_slice(&COMPONENT[self.suffix.clone()]);
        let description = serde_json::to_vec(info).unwrap_or_default();
        let mut section = Vec::with_capacity(description.len() + 32);
        leb128(&mut section, ARTIFACT_SECTION.len());
        section.extend_from_slice(ARTIFACT_SECTION.as_bytes());
        section.extend_from_slice(&description);
        out.push(0); // custom section
        leb128(&mut out, section.len());
        out.extend_from_slice(&section);
        out
    }

    /// Check that `artifact` is this runtime with some state, and read its
    /// description.
    pub(crate) fn check_artifact(&self, artifact: &[u8]) -> Result<ArtifactInfo, Error> {
        self.check(artifact, true)
    }

    /// [`Runtime::check_artifact`] for an artifact whose compiled component
    /// is already in the cache under its digest: that component was
    /// compiled from a checked artifact, so the state module is not
    /// validated again (about 0.3 ms); the rest is checked as there.
    pub(crate) fn check_stored_artifact(&self, artifact: &[u8]) -> Result<ArtifactInfo, Error> {
        self.check(artifact, false)
    }

    fn check(&self, artifact: &[u8], validate_state: bool) -> Result<ArtifactInfo, Error> {
        if !artifact.starts_with(b"\0asm") {
            return Err(
                ArtifactError::new(ArtifactErrorKind::NotWasm, "not a WebAssembly file").into(),
            );
        }
        let info = read_artifact_info(artifact)?;
        if info.code_sha256 != self.info.code_sha256 || info.runtime_sha256 != self.sha256 {
            return Err(ArtifactError::new(
                ArtifactErrorKind::WrongRuntime,
                format!(
                    "built with Claimscript runtime {} (code {}, runtime {}), but this engine runs \
                 runtime {} (code {}, runtime {}); compile the script again from its source",
                    printable(&info.runtime_version),
                    printable(short(&info.code_sha256)),
                    printable(short(&info.runtime_sha256)),
                    self.info.version,
                    short(&self.info.code_sha256),
                    short(&self.sha256),
                ),
            )
            .into());
        }
        check_description(&info, &self.info.version)?;
        let prefix = &COMPONENT[self.prefix.clone()];
        let suffix = &COMPONENT[self.suffix.clone()];
        let tampered = || -> Error {
            ArtifactError::new(
                ArtifactErrorKind::Modified,
                "it is not a Claimscript script component (its structure was changed)",
            )
            .into()
        };
        let rest = artifact.strip_prefix(prefix).ok_or_else(tampered)?;
        // The state module's section: id 1, size, module bytes.
        let (&id, rest) = rest.split_first().ok_or_else(tampered)?;
        if id != 1 {
            return Err(tampered());
        }
        let (size, rest) = read_leb128(rest).ok_or_else(tampered)?;
        if size > rest.len() {
            return Err(tampered());
        }
        let (state, rest) = rest.split_at(size);
        if validate_state {
            is_state_module(state).map_err(|m| {
                ArtifactError::new(ArtifactErrorKind::Modified, format!("its state module {m}"))
            })?;
        }
        let rest = rest.strip_prefix(suffix).ok_or_else(tampered)?;
        // Only custom sections may follow.
        let mut tail = rest;
        while let Some((&id, after)) = tail.split_first() {
            let (len, after) = read_leb128(after).ok_or_else(tampered)?;
            if id != 0 || len > after.len() {
                return Err(tampered());
            }
            tail = &after[len..];
        }
        Ok(info)
    }
}

/// Longest entry or package name an artifact's description may hold.
const MAX_NAME_CHARS: usize = 128;

/// The description's fields in the shapes this crate writes them: the
/// runtime version this engine's, the source digest 64 lower-case hex
/// digits, a known style, entries JavaScript identifiers, packages npm
/// package names. A
/// description written by hand to smuggle text (a newline, a control
/// character) into an audit report is refused.
fn check_description(info: &ArtifactInfo, runtime_version: &str) -> Result<(), ArtifactError> {
    let invalid = |m: String| ArtifactError::new(ArtifactErrorKind::InvalidDescription, m);
    if info.runtime_version != runtime_version {
        return Err(ArtifactError::new(
            ArtifactErrorKind::WrongRuntime,
            format!(
                "its description names runtime version {} for this engine's runtime {runtime_version}",
                printable(&info.runtime_version)
            ),
        ));
    }
    let hex_digest = |s: &str| {
        s.len() == 64
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    };
    if !hex_digest(&info.source_sha256) {
        return Err(invalid(format!(
            "its description's source_sha256 {} is not a SHA-256 digest",
            printable(&info.source_sha256)
        )));
    }
    if info.style.parse::<crate::style::Style>().is_err() {
        return Err(invalid(format!(
            "its description names an unknown style {} (expected logto, auth0 or loginradius)",
            printable(&info.style)
        )));
    }
    for entry in &info.entries {
        if !is_identifier(entry) {
            return Err(invalid(format!(
                "its description names an entry function that is not an identifier: {}",
                printable(entry)
            )));
        }
    }
    for package in &info.packages {
        if !is_package_name(package) {
            return Err(invalid(format!(
                "its description names a package that is not a package name: {}",
                printable(package)
            )));
        }
    }
    Ok(())
}

/// An ASCII JavaScript identifier: `[A-Za-z_$][A-Za-z0-9_$]*`.
fn is_identifier(name: &str) -> bool {
    let mut bytes = name.bytes();
    name.len() <= MAX_NAME_CHARS
        && bytes
            .next()
            .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_' || b == b'$')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'$')
}

/// An npm package name, optionally scoped (`axios`, `@slack/webhook`):
/// lower-case letters, digits, `-._~`, one `/` after a scope, and `:` for
/// `node:` modules.
fn is_package_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_NAME_CHARS
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-._~@/:".contains(&b))
}

/// Untrusted text (from an artifact, a script), quoted, cut and escaped for
/// a message: printable ASCII only, so no control character, line break or
/// bidirectional override of it reaches a terminal or a log.
pub(crate) fn printable(text: &str) -> String {
    let cut: String = text.chars().take(MAX_NAME_CHARS).collect();
    let ellipsis = if cut.len() < text.len() { "..." } else { "" };
    format!("\"{}{ellipsis}\"", cut.escape_default())
}

/// The range of a module section (id and size included) whose module bytes
/// are at `module`.
fn section_range(component: &[u8], module: Range<usize>) -> Result<Range<usize>, String> {
    let mut header = vec![1];
    leb128(&mut header, module.len());
    let start = module
        .start
        .checked_sub(header.len())
        .ok_or("bad module section")?;
    if component[start..module.start] != header[..] {
        return Err("unexpected module section encoding".into());
    }
    Ok(start..module.end)
}

/// Ok when `module` is a state module: one memory, its export, data; nothing
/// that could run code or import anything.
fn is_state_module(module: &[u8]) -> Result<(), String> {
    let mut memories = 0;
    for payload in Parser::new(0).parse_all(module) {
        match payload.map_err(|e| format!("does not parse: {e}"))? {
            Payload::Version { .. } | Payload::DataSection(_) | Payload::End(_) => {}
            Payload::MemorySection(reader) => memories += reader.count(),
            Payload::ExportSection(reader) => {
                for export in reader {
                    let export = export.map_err(|e| e.to_string())?;
                    if export.name != "memory" || export.kind != wasmparser::ExternalKind::Memory {
                        return Err(format!("exports `{}`", export.name));
                    }
                }
            }
            other => {
                return Err(format!(
                    "has a section it must not have ({:?})",
                    other.as_section().map(|(id, _)| id)
                ));
            }
        }
    }
    if memories != 1 {
        return Err(format!("has {memories} memories"));
    }
    wasmparser::Validator::new()
        .validate_all(module)
        .map(|_| ())
        .map_err(|e| format!("is invalid: {e}"))
}

/// A state module for `memory`: its size in pages and a data segment for
/// each run of non-zero bytes above the stack.
pub(crate) fn state_module(memory: &[u8], stack_end: usize) -> Vec<u8> {
    use wasm_encoder::{
        ConstExpr, DataSection, ExportKind, ExportSection, MemorySection, MemoryType, Module,
    };
    let pages = memory.len().div_ceil(65536) as u64;
    let mut memories = MemorySection::new();
    memories.memory(MemoryType {
        minimum: pages,
        maximum: None,
        memory64: false,
        shared: false,
        page_size_log2: None,
    });
    let mut exports = ExportSection::new();
    exports.export("memory", ExportKind::Memory, 0);
    let mut data = DataSection::new();
    for run in non_zero_runs(memory, stack_end.min(memory.len())) {
        data.active(
            0,
            &ConstExpr::i32_const(run.start as i32),
            memory[run].iter().copied(),
        );
    }
    let mut module = Module::new();
    module.section(&memories).section(&exports).section(&data);
    module.finish()
}

/// Runs of non-zero bytes in `memory[from..]`, merged across short gaps.
fn non_zero_runs(memory: &[u8], from: usize) -> Vec<Range<usize>> {
    let mut runs: Vec<Range<usize>> = Vec::new();
    let mut at = from;
    while at < memory.len() {
        // Skip zeros a word at a time where aligned.
        while at.is_multiple_of(8) && at + 8 <= memory.len() && memory[at..at + 8] == [0; 8] {
            at += 8;
        }
        if at >= memory.len() {
            break;
        }
        if memory[at] == 0 {
            at += 1;
            continue;
        }
        let start = at;
        while at < memory.len() && memory[at] != 0 {
            at += 1;
        }
        match runs.last_mut() {
            Some(last) if start - last.end <= SEGMENT_GAP => last.end = at,
            _ => runs.push(start..at),
        }
    }
    runs
}

fn read_artifact_info(artifact: &[u8]) -> Result<ArtifactInfo, ArtifactError> {
    for payload in Parser::new(0).parse_all(artifact) {
        let payload = payload.map_err(|e| {
            ArtifactError::caused_by(
                ArtifactErrorKind::Malformed,
                "it does not parse as a component",
                e,
            )
        })?;
        if let Payload::CustomSection(section) = payload
            && section.name() == ARTIFACT_SECTION
        {
            return serde_json::from_slice(section.data()).map_err(|e| {
                ArtifactError::caused_by(
                    ArtifactErrorKind::InvalidDescription,
                    format!("its {ARTIFACT_SECTION} section is invalid"),
                    e,
                )
            });
        }
    }
    Err(ArtifactError::new(
        ArtifactErrorKind::NotAnArtifact,
        format!(
            "it is not a Claimscript script artifact (no {ARTIFACT_SECTION} section); \
             compile the script with `claimscript compile`"
        ),
    ))
}

fn leb128(out: &mut Vec<u8>, mut value: usize) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

fn read_leb128(bytes: &[u8]) -> Option<(usize, &[u8])> {
    let mut value: usize = 0;
    for (i, &byte) in bytes.iter().enumerate().take(5) {
        value |= ((byte & 0x7f) as usize) << (7 * i);
        if byte & 0x80 == 0 {
            return Some((value, &bytes[i + 1..]));
        }
    }
    None
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn short(digest: &str) -> &str {
    digest.get(..12).unwrap_or(digest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_merge_short_gaps_and_skip_the_stack() {
        let mut memory = vec![0u8; 4096];
        memory[10] = 1; // in the stack: dropped
        memory[200..210].fill(7);
        memory[230..240].fill(8); // 20-byte gap: merged
        memory[1000] = 9; // far: its own run
        assert_eq!(non_zero_runs(&memory, 100), vec![200..240, 1000..1001]);
    }

    #[test]
    fn leb128_round_trips() {
        for value in [0, 1, 127, 128, 300, 1 << 20, (1 << 28) + 5] {
            let mut out = Vec::new();
            leb128(&mut out, value);
            assert_eq!(read_leb128(&out), Some((value, &[][..])));
        }
    }

    #[test]
    fn the_embedded_runtime_splits() {
        let runtime = Runtime::embedded().expect("runtime");
        assert!(runtime.info.stack_end > 0);
        let memory = vec![0u8; 65536 * 20];
        let info = ArtifactInfo {
            runtime_version: runtime.info.version.clone(),
            code_sha256: runtime.info.code_sha256.clone(),
            runtime_sha256: runtime.sha256.clone(),
            source_sha256: "0".repeat(64),
            style: "logto".into(),
            entries: vec![],
            packages: vec![],
        };
        let artifact = runtime.artifact(&memory, &info);
        assert_eq!(runtime.check_artifact(&artifact).expect("valid"), info);
        // Anything else in place of the state is refused.
        let mut tampered = artifact.clone();
        let at = runtime.prefix.end + 10;
        tampered[at] ^= 0xff;
        assert!(runtime.check_artifact(&tampered).is_err());
        // A description that is not in the shapes this crate writes.
        for (field, value) in [
            ("entries", "getCustomJwtClaims\nWarnings: none"),
            ("packages", "Axios\u{85}"),
            ("style", "logto\nWarnings: none"),
        ] {
            let mut crafted = info.clone();
            match field {
                "entries" => crafted.entries = vec![value.to_string()],
                "style" => crafted.style = value.to_string(),
                _ => crafted.packages = vec![value.to_string()],
            }
            let message = match runtime.check_artifact(&runtime.artifact(&memory, &crafted)) {
                Err(Error::Artifact(e)) => {
                    assert_eq!(e.kind(), ArtifactErrorKind::InvalidDescription);
                    e.to_string()
                }
                other => panic!("expected an artifact error, got {other:?}"),
            };
            assert!(
                !message.contains('\n') && !message.contains('\u{85}'),
                "{message}"
            );
            assert!(
                message.contains("\\n") || message.contains("\\u{85}"),
                "{message}"
            );
        }
        let mut crafted = info.clone();
        crafted.runtime_sha256 = String::new();
        assert!(
            runtime
                .check_artifact(&runtime.artifact(&memory, &crafted))
                .is_err()
        );
    }

    #[test]
    fn names_in_descriptions() {
        assert!(is_identifier("onExecutePostLogin") && is_identifier("$_a1"));
        assert!(!is_identifier("1a") && !is_identifier("a b") && !is_identifier(""));
        assert!(is_package_name("axios") && is_package_name("@slack/webhook"));
        assert!(!is_package_name("Axios") && !is_package_name("a\nb") && !is_package_name(""));
        assert_eq!(printable("a\nb"), "\"a\\nb\"");
    }
}
