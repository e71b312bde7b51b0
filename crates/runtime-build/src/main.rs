//! `claimscript-runtime-build IN.wasm OUT_DIR`: turn the guest's
//! wasm32-wasip1 core module into the runtime the host embeds:
//! `OUT_DIR/claimscript-runtime.wasm` (the component) and
//! `OUT_DIR/claimscript-quickjs.wasm` (QuickJS's code, which the component
//! imports; see `split.rs`).
//!
//! Rust's standard library and wasi-libc import WASI preview 1 functions for
//! files, environment, arguments and exit. A claims script has none of these
//! capabilities, so instead of letting the preview 1 adapter map them to
//! `wasi:filesystem` and friends, each is replaced by a local stub that
//! reports "no such thing" (no environment, no arguments, bad descriptor).
//! `clock_time_get` and `random_get` become calls to the guest's
//! `claimscript_clock_time_get` and `claimscript_random_get`, which ask the
//! `host` interface. No preview 1 adapter is needed, and the component is
//! checked to import nothing outside the script world.

mod split;

use std::path::Path;

use anyhow::{Context, Result, bail};
use walrus::ir::{MemArg, StoreKind};
use walrus::{FunctionId, Module};

const WASI_P1: &str = "wasi_snapshot_preview1";
/// WASI preview 1 functions forwarded to a guest export of the same shape.
const FORWARDED: &[(&str, &str)] = &[
    ("clock_time_get", "claimscript_clock_time_get"),
    ("random_get", "claimscript_random_get"),
];
/// WASI errno `badf`: what file-descriptor calls answer.
const ERRNO_BADF: i32 = 8;

/// Interfaces a runtime component may import.
const ALLOWED_IMPORT_PREFIXES: &[&str] = &["claimscript:script/"];

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(input), Some(out_dir), None) = (args.next(), args.next(), args.next()) else {
        bail!("usage: claimscript-runtime-build IN.wasm OUT_DIR");
    };
    let module = std::fs::read(&input).with_context(|| format!("reading {input}"))?;
    let core = stub_wasi(&module).with_context(|| format!("rewriting the imports of {input}"))?;
    let component = wit_component::ComponentEncoder::default()
        .module(&core)?
        .validate(true)
        .encode()
        .context("encoding the component")?;
    check_imports(&component)?;
    let split = split::split(&component, env!("CARGO_PKG_VERSION"))?;
    let out_dir = Path::new(&out_dir);
    for (name, bytes) in [
        ("claimscript-runtime.wasm", &split.component),
        ("claimscript-quickjs.wasm", &split.code),
    ] {
        let path = out_dir.join(name);
        std::fs::write(&path, bytes).with_context(|| format!("writing {}", path.display()))?;
        eprintln!("wrote {} ({} bytes)", path.display(), bytes.len());
    }
    Ok(())
}

/// Replace every WASI preview 1 import with a local stub or a forward.
fn stub_wasi(wasm: &[u8]) -> Result<Vec<u8>> {
    let mut module = Module::from_buffer(wasm)?;
    let memory = module
        .memories
        .iter()
        .next()
        .map(|m| m.id())
        .context("the module has no memory")?;
    let stubs: Vec<(String, FunctionId)> = module
        .imports
        .iter()
        .filter(|i| i.module == WASI_P1)
        .map(|i| match i.kind {
            walrus::ImportKind::Function(f) => Ok((i.name.clone(), f)),
            _ => bail!("unexpected non-function WASI import {}", i.name),
        })
        .collect::<Result<_>>()?;
    let mut forwards = Vec::new();
    for (import, export) in FORWARDED {
        let target = module
            .exports
            .iter()
            .find(|e| e.name == *export)
            .with_context(|| format!("the guest does not export `{export}`"))?;
        let walrus::ExportItem::Function(f) = target.item else {
            bail!("`{export}` is not a function");
        };
        forwards.push((*import, f, target.id()));
    }
    for (name, func) in stubs {
        if let Some((_, target, _)) = forwards.iter().find(|(n, ..)| *n == name) {
            let target = *target;
            module.replace_imported_func(func, |(body, params)| {
                for p in params {
                    body.local_get(*p);
                }
                body.call(target);
            })?;
            eprintln!("forwarded {WASI_P1}::{name}");
            continue;
        }
        let zero_store = MemArg {
            align: 4,
            offset: 0,
        };
        module.replace_imported_func(func, |(body, params)| match name.as_str() {
            // (count_ptr, size_ptr): there are no variables or arguments.
            "environ_sizes_get" | "args_sizes_get" => {
                for p in params.iter().take(2) {
                    body.local_get(*p).i32_const(0).store(
                        memory,
                        StoreKind::I32 { atomic: false },
                        zero_store,
                    );
                }
                body.i32_const(0);
            }
            "environ_get" | "args_get" | "sched_yield" => {
                body.i32_const(0);
            }
            "proc_exit" => {
                body.unreachable();
            }
            _ => {
                body.i32_const(ERRNO_BADF);
            }
        })?;
        eprintln!("stubbed {WASI_P1}::{name}");
    }
    // The forwarding targets are an internal detail, not exports of the world.
    for (_, _, export) in forwards {
        module.exports.delete(export);
    }
    Ok(module.emit_wasm())
}

/// Fail unless every import of the component is in [`ALLOWED_IMPORT_PREFIXES`].
fn check_imports(component: &[u8]) -> Result<()> {
    let decoded = wit_component::decode(component).context("decoding the component's world")?;
    let wit_component::DecodedWasm::Component(resolve, world) = decoded else {
        bail!("the encoder did not produce a component");
    };
    let world = &resolve.worlds[world];
    let mut outside = Vec::new();
    for key in world.imports.keys() {
        let name = resolve.name_world_key(key);
        eprintln!("import {name}");
        if !ALLOWED_IMPORT_PREFIXES.iter().any(|p| name.starts_with(p)) {
            outside.push(name);
        }
    }
    if !outside.is_empty() {
        bail!("the runtime component imports {outside:?}, outside the script world");
    }
    Ok(())
}
