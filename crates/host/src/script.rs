//! A compiled script, ready to run many times.

use std::sync::Arc;

use crate::bindings::ClaimsScriptPre;
use crate::engine::Engine;
use crate::error::{ArtifactError, ArtifactErrorKind, Error};
use crate::runtime::{ArtifactInfo, hex};
use crate::state::RunState;
use crate::style::Style;

/// The artifact a [`Script`] is made from: one it keeps a copy of, or one
/// its caller stores ([`Engine::load_stored`]).
pub(crate) enum Artifact<'a> {
    Kept(&'a [u8]),
    Stored(&'a [u8]),
}

impl Artifact<'_> {
    fn bytes(&self) -> &[u8] {
        match self {
            Artifact::Kept(bytes) | Artifact::Stored(bytes) => bytes,
        }
    }
}

/// A pre-initialised, compiled claims script. Cheap to clone and share;
/// each [`Script::run`] gets a fresh instance.
#[derive(Clone)]
pub struct Script {
    pub(crate) inner: Arc<ScriptInner>,
}

pub(crate) struct ScriptInner {
    pub(crate) engine: Engine,
    pub(crate) pre: ClaimsScriptPre<RunState>,
    /// The artifact, unless it was loaded with [`Engine::load_stored`],
    /// whose caller keeps it (about 0.7 MB a script).
    component: Option<Vec<u8>>,
    artifact_len: usize,
    digest: [u8; 32],
    pub(crate) info: ArtifactInfo,
    style: Style,
}

impl std::fmt::Debug for Script {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Script")
            .field("digest", &self.digest_hex())
            .field("style", &self.inner.style)
            .finish_non_exhaustive()
    }
}

impl Script {
    pub(crate) fn new(
        engine: &Engine,
        pre: ClaimsScriptPre<RunState>,
        artifact: Artifact<'_>,
        digest: [u8; 32],
        info: ArtifactInfo,
    ) -> Result<Script, Error> {
        let style = info.style.parse().map_err(|e| {
            ArtifactError::new(
                ArtifactErrorKind::InvalidDescription,
                format!("its description names {e}"),
            )
        })?;
        Ok(Script {
            inner: Arc::new(ScriptInner {
                engine: engine.clone(),
                pre,
                artifact_len: artifact.bytes().len(),
                component: match artifact {
                    Artifact::Kept(bytes) => Some(bytes.to_vec()),
                    Artifact::Stored(_) => None,
                },
                digest,
                info,
                style,
            }),
        })
    }

    /// The component's bytes: write them to a `.wasm` file and load them
    /// later with [`Engine::load`]. `None` for a script loaded with
    /// [`Engine::load_stored`]: its caller keeps the artifact, and the
    /// script does not hold a copy.
    pub fn component_bytes(&self) -> Option<&[u8]> {
        self.inner.component.as_deref()
    }

    /// The size of the artifact in bytes, whether the script holds it or not.
    pub fn artifact_len(&self) -> usize {
        self.inner.artifact_len
    }

    /// SHA-256 of the artifact ([`Script::component_bytes`]), lower-case hex.
    pub fn digest_hex(&self) -> String {
        hex(&self.inner.digest)
    }

    /// SHA-256 of the script's source, lower-case hex.
    pub fn source_digest_hex(&self) -> &str {
        &self.inner.info.source_sha256
    }

    /// The script's style.
    pub fn style(&self) -> Style {
        self.inner.style
    }

    /// The entry functions the script defines (`getCustomJwtClaims`,
    /// `onExecutePostLogin`, ...).
    pub fn entries(&self) -> &[String] {
        &self.inner.info.entries
    }

    /// The packages the script requires (LoginRadius scripts' `axios`).
    pub fn packages(&self) -> &[String] {
        &self.inner.info.packages
    }

    /// The version of the runtime the script was built with.
    pub fn runtime_version(&self) -> &str {
        &self.inner.info.runtime_version
    }
}
