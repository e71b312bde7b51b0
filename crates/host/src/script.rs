//! A compiled script, ready to run many times.

use std::sync::Arc;

use sha2::{Digest, Sha256};
use wasmtime::component::Component;

use crate::bindings::ClaimsScriptPre;
use crate::engine::Engine;
use crate::error::Error;
use crate::state::RunState;

/// A pre-initialised, compiled claims script. Cheap to clone and share;
/// each [`Script::run`] gets a fresh instance.
#[derive(Clone)]
pub struct Script {
    pub(crate) inner: Arc<ScriptInner>,
}

pub(crate) struct ScriptInner {
    pub(crate) engine: Engine,
    pub(crate) pre: ClaimsScriptPre<RunState>,
    component: Vec<u8>,
    digest: [u8; 32],
}

impl std::fmt::Debug for Script {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Script")
            .field("digest", &self.digest_hex())
            .finish_non_exhaustive()
    }
}

impl Script {
    pub(crate) fn from_component(engine: &Engine, component: Vec<u8>) -> Result<Script, Error> {
        let compiled = Component::new(&engine.inner.wasmtime, &component)
            .map_err(|e| Error::Artifact(format!("{e:#}")))?;
        let pre = engine.instantiate_pre(&compiled)?;
        let digest = Sha256::digest(&component).into();
        Ok(Script {
            inner: Arc::new(ScriptInner {
                engine: engine.clone(),
                pre,
                component,
                digest,
            }),
        })
    }

    /// The component's bytes: write them to a `.wasm` file and load them
    /// later with [`Engine::load`].
    pub fn component_bytes(&self) -> &[u8] {
        &self.inner.component
    }

    /// SHA-256 of [`Script::component_bytes`], lower-case hex.
    pub fn digest_hex(&self) -> String {
        self.inner
            .digest
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}
