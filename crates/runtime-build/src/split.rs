//! Split the runtime component into shared code and per-script state.
//!
//! `wit-component` produces one component whose main core module holds both
//! QuickJS's code (about 1.5 MB) and its memory's initial contents. Every
//! script's pre-initialised component differs from another only in that
//! memory, so compiling the whole thing per script would compile QuickJS
//! again each time. Instead the main module is split in two:
//!
//! - the **code module**: the main module with its memory turned into an
//!   import (`claimscript:state` / `memory`) and its data segments removed.
//!   The host compiles it once per engine and provides it to every script.
//! - a **state module**: just that memory (exported as `memory`) and data
//!   segments. The runtime component carries the original data; a script's
//!   component carries the snapshot taken after `load`, which the host
//!   writes in its place.
//!
//! The runtime component imports the code module (a core module import named
//! after its digest, so a script built for one runtime never runs on another)
//! and instantiates the state module just before the code module, which gets
//! it as the `claimscript:state` argument. Everything else `wit-component`
//! generated (shims, fixups, lifts and lowers) is kept as it was; only the
//! core module and core instance indices after the inserted ones shift.

use anyhow::{Context, Result, bail, ensure};
use sha2::{Digest, Sha256};
use wasm_encoder::reencode::{Reencode, ReencodeComponent, RoundtripReencoder};
use wasmparser::{Parser, Payload};

/// The import module and name of the memory in the code module.
pub const STATE_MODULE: &str = "claimscript:state";
pub const STATE_MEMORY: &str = "memory";
/// Custom section of the runtime component describing it to the host.
pub const RUNTIME_SECTION: &str = "claimscript-runtime";

/// The two halves of the runtime.
pub struct Split {
    /// The code module (core wasm).
    pub code: Vec<u8>,
    /// The runtime component: imports `code`, carries the initial state.
    pub component: Vec<u8>,
}

pub fn split(component: &[u8], version: &str) -> Result<Split> {
    let main = find_main_module(component)?;
    let main_bytes = &component[main.range.clone()];
    let code = code_module(main_bytes).context("making the code module")?;
    let state = state_module(main_bytes).context("making the initial state module")?;
    let digest = hex(&Sha256::digest(&code));
    let import_name = format!("claimscript-quickjs-h{}", &digest[..16]);
    let module_type = module_type(&code).context("describing the code module")?;

    let mut rewriter = Rewriter {
        main_index: main.index,
        main_import: import_name,
        module_type,
        state,
        depth: 0,
        modules_seen: 0,
        instances_seen: 0,
        state_module_index: None,
        main_instance_old: None,
    };
    let mut out = wasm_encoder::Component::new();
    rewriter
        .parse_component(&mut out, Parser::new(0), component)
        .map_err(|e| anyhow::anyhow!("rewriting the component: {e:?}"))?;
    ensure!(
        rewriter.main_instance_old.is_some(),
        "the component never instantiates its main module"
    );
    let stack_end = stack_end(main_bytes)?;
    let description = format!(
        "{{\"version\":\"{version}\",\"code_sha256\":\"{digest}\",\"code_import\":\"{}\",\"stack_end\":{stack_end}}}",
        rewriter.main_import
    );
    out.section(&wasm_encoder::CustomSection {
        name: RUNTIME_SECTION.into(),
        data: description.as_bytes().into(),
    });
    let component = out.finish();
    wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::all())
        .validate_all(&component)
        .context("validating the runtime component")?;
    wasmparser::Validator::new()
        .validate_all(&code)
        .context("validating the code module")?;
    Ok(Split { code, component })
}

struct MainModule {
    /// Index in the component's core module index space.
    index: u32,
    /// Byte range of the module inside the component.
    range: std::ops::Range<usize>,
}

/// The core module that defines a memory: `wit-component`'s main module.
fn find_main_module(component: &[u8]) -> Result<MainModule> {
    let mut index = 0;
    let mut found = None;
    for payload in Parser::new(0).parse_all(component) {
        if let Payload::ModuleSection {
            unchecked_range, ..
        } = payload?
        {
            let range = unchecked_range.start as usize..unchecked_range.end as usize;
            if defines_memory(&component[range.clone()])? {
                ensure!(
                    found.is_none(),
                    "more than one core module defines a memory"
                );
                found = Some(MainModule { index, range });
            }
            index += 1;
        }
    }
    found.context("no core module defines a memory")
}

fn defines_memory(module: &[u8]) -> Result<bool> {
    for payload in Parser::new(0).parse_all(module) {
        if let Payload::MemorySection(reader) = payload? {
            return Ok(reader.count() > 0);
        }
    }
    Ok(false)
}

/// The initial stack pointer: the stack is `[0, stack_end)` and everything
/// the runtime keeps lives above it, so snapshots can leave the stack out.
fn stack_end(main: &[u8]) -> Result<u32> {
    let mut stack_end = None;
    let mut lowest_data = u64::MAX;
    for payload in Parser::new(0).parse_all(main) {
        match payload? {
            Payload::GlobalSection(reader) => {
                for global in reader {
                    let global = global?;
                    if !global.ty.mutable {
                        continue;
                    }
                    ensure!(
                        stack_end.is_none(),
                        "the runtime has more than one mutable global; only the stack pointer is expected"
                    );
                    let mut ops = global.init_expr.get_operators_reader();
                    match ops.read()? {
                        wasmparser::Operator::I32Const { value } => {
                            stack_end = Some(value as u32);
                        }
                        other => bail!("unexpected stack pointer initialiser {other:?}"),
                    }
                }
            }
            Payload::DataSection(reader) => {
                for data in reader {
                    if let wasmparser::DataKind::Active { offset_expr, .. } = data?.kind
                        && let wasmparser::Operator::I32Const { value } =
                            offset_expr.get_operators_reader().read()?
                    {
                        lowest_data = lowest_data.min(value as u32 as u64);
                    }
                }
            }
            Payload::DataCountSection { .. } => {
                bail!("the runtime uses passive data segments, which the split does not support")
            }
            _ => {}
        }
    }
    let stack_end = stack_end.context("the runtime has no stack pointer")?;
    ensure!(
        u64::from(stack_end) <= lowest_data,
        "the stack ({stack_end}) is not below the data ({lowest_data}); link with the stack first"
    );
    Ok(stack_end)
}

/// The main module with its memory imported and its data removed.
fn code_module(main: &[u8]) -> Result<Vec<u8>> {
    /// Re-encodes the module as it is, except that the memory section's
    /// memory becomes an import and the data section is dropped.
    struct Code {
        memory: wasm_encoder::MemoryType,
    }
    impl Reencode for Code {
        type Error = anyhow::Error;
        fn parse_import_section(
            &mut self,
            imports: &mut wasm_encoder::ImportSection,
            section: wasmparser::ImportSectionReader<'_>,
        ) -> Result<(), wasm_encoder::reencode::Error<Self::Error>> {
            wasm_encoder::reencode::utils::parse_import_section(self, imports, section)?;
            imports.import(STATE_MODULE, STATE_MEMORY, self.memory);
            Ok(())
        }
        fn parse_memory_section(
            &mut self,
            _memories: &mut wasm_encoder::MemorySection,
            _section: wasmparser::MemorySectionReader<'_>,
        ) -> Result<(), wasm_encoder::reencode::Error<Self::Error>> {
            Ok(())
        }
        fn parse_data_section(
            &mut self,
            _data: &mut wasm_encoder::DataSection,
            _section: wasmparser::DataSectionReader<'_>,
        ) -> Result<(), wasm_encoder::reencode::Error<Self::Error>> {
            Ok(())
        }
    }
    // The import section comes before the memory section, so read the
    // memory's type first.
    let mut memory = None;
    for payload in Parser::new(0).parse_all(main) {
        if let Payload::MemorySection(reader) = payload? {
            for m in reader {
                memory = Some(RoundtripReencoder.memory_type(m?)?);
            }
        }
    }
    let memory = memory.context("the main module has no memory")?;
    let mut out = wasm_encoder::Module::new();
    Code { memory }
        .parse_core_module(&mut out, Parser::new(0), main)
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    Ok(out.finish())
}

/// The memory and data of the main module, as a module of their own.
fn state_module(main: &[u8]) -> Result<Vec<u8>> {
    let mut memories = wasm_encoder::MemorySection::new();
    let mut data = wasm_encoder::DataSection::new();
    for payload in Parser::new(0).parse_all(main) {
        match payload? {
            Payload::MemorySection(reader) => {
                for m in reader {
                    memories.memory(RoundtripReencoder.memory_type(m?)?);
                }
            }
            Payload::DataSection(reader) => {
                for d in reader {
                    RoundtripReencoder
                        .parse_data(&mut data, d?)
                        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
                }
            }
            _ => {}
        }
    }
    let mut exports = wasm_encoder::ExportSection::new();
    exports.export(STATE_MEMORY, wasm_encoder::ExportKind::Memory, 0);
    let mut module = wasm_encoder::Module::new();
    module.section(&memories).section(&exports).section(&data);
    Ok(module.finish())
}

/// The type of the code module, for the component's import of it.
fn module_type(code: &[u8]) -> Result<wasm_encoder::ModuleType> {
    let mut types: Vec<wasmparser::FuncType> = Vec::new();
    let mut functions: Vec<u32> = Vec::new();
    let mut imports = Vec::new();
    let mut exports = Vec::new();
    let mut memories = Vec::new();
    for payload in Parser::new(0).parse_all(code) {
        match payload? {
            Payload::TypeSection(reader) => {
                for ty in reader.into_iter_err_on_gc_types() {
                    types.push(ty?);
                }
            }
            Payload::ImportSection(reader) => {
                for import in reader.into_imports() {
                    let import = import?;
                    match import.ty {
                        wasmparser::TypeRef::Func(t) => functions.push(t),
                        wasmparser::TypeRef::Memory(m) => memories.push(m),
                        _ => {}
                    }
                    imports.push((
                        import.module.to_string(),
                        import.name.to_string(),
                        import.ty,
                    ));
                }
            }
            Payload::FunctionSection(reader) => {
                for f in reader {
                    functions.push(f?);
                }
            }
            Payload::ExportSection(reader) => {
                for export in reader {
                    let export = export?;
                    exports.push((export.name.to_string(), export.kind, export.index));
                }
            }
            _ => {}
        }
    }
    let mut ty = wasm_encoder::ModuleType::new();
    for func in &types {
        ty.ty().function(
            func.params()
                .iter()
                .map(|t| RoundtripReencoder.val_type(*t))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| anyhow::anyhow!("{e:?}"))?,
            func.results()
                .iter()
                .map(|t| RoundtripReencoder.val_type(*t))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| anyhow::anyhow!("{e:?}"))?,
        );
    }
    for (module, name, import) in &imports {
        let entity = match import {
            wasmparser::TypeRef::Func(t) => wasm_encoder::EntityType::Function(*t),
            wasmparser::TypeRef::Memory(m) => {
                wasm_encoder::EntityType::Memory(RoundtripReencoder.memory_type(*m)?)
            }
            other => bail!("unexpected import {module}/{name}: {other:?}"),
        };
        ty.import(module, name, entity);
    }
    for (name, kind, index) in &exports {
        let entity = match kind {
            wasmparser::ExternalKind::Func => wasm_encoder::EntityType::Function(
                *functions
                    .get(*index as usize)
                    .with_context(|| format!("export {name}: no function {index}"))?,
            ),
            wasmparser::ExternalKind::Memory => wasm_encoder::EntityType::Memory(
                RoundtripReencoder.memory_type(
                    *memories
                        .get(*index as usize)
                        .with_context(|| format!("export {name}: no memory {index}"))?,
                )?,
            ),
            other => bail!("unexpected export {name}: {other:?}"),
        };
        ty.export(name, entity);
    }
    Ok(ty)
}

/// Re-encodes the component: the main module becomes an import, the state
/// module is defined and instantiated right before the main module's
/// instance, and later core module and core instance indices shift by one.
struct Rewriter {
    main_index: u32,
    main_import: String,
    module_type: wasm_encoder::ModuleType,
    state: Vec<u8>,
    depth: u32,
    /// Core modules of the outer component seen so far (old numbering).
    modules_seen: u32,
    /// Core instances of the outer component seen so far (old numbering).
    instances_seen: u32,
    /// New index of the state module, once defined.
    state_module_index: Option<u32>,
    /// Old index of the main module's instance, once seen.
    main_instance_old: Option<u32>,
}

impl Rewriter {
    fn new_module_index(&self, old: u32) -> u32 {
        match self.state_module_index {
            Some(state) if old >= state => old + 1,
            _ => old,
        }
    }

    fn new_instance_index(&self, old: u32) -> u32 {
        match self.main_instance_old {
            Some(main) if old >= main => old + 1,
            _ => old,
        }
    }
}

impl Reencode for Rewriter {
    type Error = anyhow::Error;
}

impl ReencodeComponent for Rewriter {
    fn module_index(&mut self, module: u32) -> u32 {
        if self.depth == 0 {
            self.new_module_index(module)
        } else {
            module
        }
    }

    fn instance_index(&mut self, instance: u32) -> u32 {
        if self.depth == 0 {
            self.new_instance_index(instance)
        } else {
            instance
        }
    }

    fn outer_module_index(&mut self, count: u32, module: u32) -> u32 {
        if self.depth == count {
            self.new_module_index(module)
        } else {
            module
        }
    }

    fn push_depth(&mut self) {
        self.depth += 1;
    }

    fn pop_depth(&mut self) {
        self.depth -= 1;
    }

    fn parse_component_payload(
        &mut self,
        component: &mut wasm_encoder::Component,
        payload: Payload<'_>,
        whole: &[u8],
    ) -> Result<(), wasm_encoder::reencode::Error<Self::Error>> {
        match payload {
            Payload::ModuleSection { .. } if self.depth == 0 => {
                let index = self.modules_seen;
                self.modules_seen += 1;
                if index == self.main_index {
                    let mut types = wasm_encoder::CoreTypeSection::new();
                    types.ty().module(&self.module_type);
                    component.section(&types);
                    let core_type = 0;
                    let mut imports = wasm_encoder::ComponentImportSection::new();
                    imports.import(
                        &self.main_import,
                        wasm_encoder::ComponentTypeRef::Module(core_type),
                    );
                    component.section(&imports);
                    return Ok(());
                }
                wasm_encoder::reencode::component_utils::parse_component_payload(
                    self, component, payload, whole,
                )
            }
            Payload::CoreTypeSection(_) if self.depth == 0 => {
                Err(wasm_encoder::reencode::Error::UserError(anyhow::anyhow!(
                    "the component defines core types; the split does not renumber them"
                )))
            }
            Payload::InstanceSection(reader) if self.depth == 0 => {
                let mut pending = wasm_encoder::InstanceSection::new();
                for instance in reader {
                    let instance = instance?;
                    let old = self.instances_seen;
                    self.instances_seen += 1;
                    match instance {
                        wasmparser::Instance::Instantiate { module_index, args }
                            if module_index == self.main_index =>
                        {
                            if !pending.is_empty() {
                                component.section(&pending);
                                pending = wasm_encoder::InstanceSection::new();
                            }
                            // The state module and its instance come first.
                            let state_index = self.modules_seen;
                            component.section(&wasm_encoder::RawSection {
                                id: wasm_encoder::ComponentSectionId::CoreModule as u8,
                                data: &self.state,
                            });
                            self.state_module_index = Some(state_index);
                            let mut state = wasm_encoder::InstanceSection::new();
                            state.instantiate(
                                state_index,
                                Vec::<(&str, wasm_encoder::ModuleArg)>::new(),
                            );
                            component.section(&state);
                            self.main_instance_old = Some(old);
                            let state_instance = old;
                            let mut main_args: Vec<(&str, wasm_encoder::ModuleArg)> = args
                                .iter()
                                .map(|a| {
                                    (
                                        a.name,
                                        wasm_encoder::ModuleArg::Instance(
                                            self.new_instance_index(a.index),
                                        ),
                                    )
                                })
                                .collect();
                            main_args.push((
                                STATE_MODULE,
                                wasm_encoder::ModuleArg::Instance(state_instance),
                            ));
                            pending.instantiate(module_index, main_args);
                        }
                        other => self.parse_instance(&mut pending, other)?,
                    }
                }
                if !pending.is_empty() {
                    component.section(&pending);
                }
                Ok(())
            }
            _ => wasm_encoder::reencode::component_utils::parse_component_payload(
                self, component, payload, whole,
            ),
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
