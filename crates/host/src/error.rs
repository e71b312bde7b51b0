//! The crate's error type.
//!
//! [`Error`] says which step failed; its payloads say why, with a kind a
//! program can match ([`ArtifactError::kind`], [`EngineError::kind`],
//! [`GrantsError`]) and the underlying error, when there is one, reachable
//! through [`std::error::Error::source`]. As in `jsonwebtoken`, an error's
//! `Display` already includes its cause's message, so printing the error
//! alone says everything; walking `source()` gives the causes as values.

use std::error::Error as StdError;
use std::fmt;

use crate::input::InputError;
use crate::outcome::ScriptError;

/// Why a script could not be compiled, loaded or run.
///
/// A script that fails *while running* is not an `Error`: it is an
/// [`Outcome::Error`](crate::Outcome::Error) in the run's report.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The script failed to load: a syntax error, no entry function, top-level
    /// code that threw or broke a limit.
    #[error("{0}")]
    Script(ScriptError),
    /// The bytes are not a claims-script component this engine can run.
    #[error("invalid artifact: {0}")]
    Artifact(#[from] ArtifactError),
    /// The run's input is malformed.
    #[error("invalid input: {0}")]
    Input(#[from] InputError),
    /// The grants ask for more than the engine allows.
    #[error("grants exceed the engine's limits: {0}")]
    Grants(#[from] GrantsError),
    /// Wasmtime failed for a reason that is not the script's doing.
    #[error("engine error: {0}")]
    Engine(#[from] EngineError),
}

impl Error {
    /// A Wasmtime failure outside any script's doing.
    pub(crate) fn engine(e: wasmtime::Error) -> Error {
        Error::Engine(EngineError::wasmtime(e))
    }
}

/// The underlying error of an [`ArtifactError`] or an [`EngineError`].
enum Cause {
    Wasmtime(wasmtime::Error),
    Other(Box<dyn StdError + Send + Sync + 'static>),
}

impl Cause {
    fn as_error(&self) -> &(dyn StdError + 'static) {
        match self {
            Cause::Wasmtime(e) => {
                let e: &(dyn StdError + Send + Sync + 'static) = e.as_ref();
                e
            }
            Cause::Other(e) => e.as_ref(),
        }
    }
}

impl fmt::Debug for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cause::Wasmtime(e) => fmt::Debug::fmt(e, f),
            Cause::Other(e) => fmt::Debug::fmt(e, f),
        }
    }
}

/// `context: cause: its cause: ...`, or the causes alone without a context.
fn write_with_causes(
    f: &mut fmt::Formatter<'_>,
    context: Option<&str>,
    cause: Option<&Cause>,
) -> fmt::Result {
    let mut separator = "";
    if let Some(context) = context {
        f.write_str(context)?;
        separator = ": ";
    }
    let mut next = cause.map(Cause::as_error);
    while let Some(e) = next {
        write!(f, "{separator}{e}")?;
        separator = ": ";
        next = e.source();
    }
    Ok(())
}

/// What is wrong with an artifact given to [`Engine::load`](crate::Engine::load).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ArtifactErrorKind {
    /// The bytes are not WebAssembly at all (no `\0asm` header).
    NotWasm,
    /// The bytes start as WebAssembly but do not parse as a component.
    Malformed,
    /// A component, but not a Claimscript script artifact (it has no
    /// description section): compile the script with `claimscript compile`.
    NotAnArtifact,
    /// A Claimscript artifact built with another runtime (another version,
    /// code or prelude): compile the script again from its source.
    WrongRuntime,
    /// The artifact's description is not JSON of the expected shape, or a
    /// field is not in the form this crate writes (a digest, a style, an
    /// identifier, a package name).
    InvalidDescription,
    /// Around its state module, the artifact is not byte for byte this
    /// engine's runtime, or its state module holds more than a memory and
    /// its data.
    Modified,
    /// Wasmtime refused to compile the component.
    Compile,
    /// The component does not fit the claims-script world: its imports
    /// cannot be linked or its exports are not the world's.
    DoesNotFitWorld,
}

/// Why bytes are not an artifact this engine runs: a kind, a message and,
/// where there is one, the underlying error as the
/// [`source`](std::error::Error::source).
///
/// Text taken from the artifact appears in the message quoted and escaped
/// (no control characters or line breaks).
pub struct ArtifactError {
    kind: ArtifactErrorKind,
    context: Option<String>,
    cause: Option<Cause>,
}

impl ArtifactError {
    /// An error of `kind` described by `message`, with no underlying error.
    pub(crate) fn new(kind: ArtifactErrorKind, message: impl Into<String>) -> ArtifactError {
        ArtifactError {
            kind,
            context: Some(message.into()),
            cause: None,
        }
    }

    /// An error of `kind`: `context`, then the underlying error.
    pub(crate) fn caused_by(
        kind: ArtifactErrorKind,
        context: impl Into<String>,
        cause: impl Into<Box<dyn StdError + Send + Sync + 'static>>,
    ) -> ArtifactError {
        ArtifactError {
            kind,
            context: Some(context.into()),
            cause: Some(Cause::Other(cause.into())),
        }
    }

    /// An error of `kind` from Wasmtime, with `context` before its message
    /// when given.
    pub(crate) fn wasmtime(
        kind: ArtifactErrorKind,
        context: Option<&str>,
        e: wasmtime::Error,
    ) -> ArtifactError {
        ArtifactError {
            kind,
            context: context.map(str::to_string),
            cause: Some(Cause::Wasmtime(e)),
        }
    }

    /// What is wrong.
    pub fn kind(&self) -> ArtifactErrorKind {
        self.kind
    }

    /// The Wasmtime error behind a [`Compile`](ArtifactErrorKind::Compile)
    /// or [`DoesNotFitWorld`](ArtifactErrorKind::DoesNotFitWorld) error, for
    /// downcasting.
    pub fn wasmtime_error(&self) -> Option<&wasmtime::Error> {
        match &self.cause {
            Some(Cause::Wasmtime(e)) => Some(e),
            _ => None,
        }
    }
}

impl fmt::Debug for ArtifactError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ArtifactError")
            .field("kind", &self.kind)
            .field("context", &self.context)
            .field("cause", &self.cause)
            .finish()
    }
}

impl fmt::Display for ArtifactError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_with_causes(f, self.context.as_deref(), self.cause.as_ref())
    }
}

impl StdError for ArtifactError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.cause.as_ref().map(Cause::as_error)
    }
}

/// What part of the engine failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EngineErrorKind {
    /// Wasmtime failed: configuring the engine, compiling the QuickJS code,
    /// linking, setting up a store or instantiating.
    Wasmtime,
    /// The runtime embedded in this build is unusable (a build fault).
    EmbeddedRuntime,
    /// The cache directory ([`EngineConfig::cache_dir`](crate::EngineConfig::cache_dir))
    /// cannot be created or read.
    CacheDir,
    /// The HTTP clients behind `fetch` could not be built.
    HttpClient,
}

/// A failure of the engine, not of a script or its input: a kind, what was
/// being done, and the underlying error as the
/// [`source`](std::error::Error::source) (a [`wasmtime::Error`] for
/// [`EngineErrorKind::Wasmtime`], see [`EngineError::wasmtime_error`]).
pub struct EngineError {
    kind: EngineErrorKind,
    context: Option<String>,
    cause: Option<Cause>,
}

impl EngineError {
    /// A Wasmtime failure.
    pub(crate) fn wasmtime(e: wasmtime::Error) -> EngineError {
        EngineError {
            kind: EngineErrorKind::Wasmtime,
            context: None,
            cause: Some(Cause::Wasmtime(e)),
        }
    }

    /// An error of `kind` described by `message`, with no underlying error.
    pub(crate) fn new(kind: EngineErrorKind, message: impl Into<String>) -> EngineError {
        EngineError {
            kind,
            context: Some(message.into()),
            cause: None,
        }
    }

    /// An error of `kind`: `context`, then the underlying error.
    pub(crate) fn caused_by(
        kind: EngineErrorKind,
        context: impl Into<String>,
        cause: impl Into<Box<dyn StdError + Send + Sync + 'static>>,
    ) -> EngineError {
        EngineError {
            kind,
            context: Some(context.into()),
            cause: Some(Cause::Other(cause.into())),
        }
    }

    /// What failed.
    pub fn kind(&self) -> EngineErrorKind {
        self.kind
    }

    /// The Wasmtime error behind a [`Wasmtime`](EngineErrorKind::Wasmtime)
    /// error, for downcasting.
    pub fn wasmtime_error(&self) -> Option<&wasmtime::Error> {
        match &self.cause {
            Some(Cause::Wasmtime(e)) => Some(e),
            _ => None,
        }
    }
}

impl fmt::Debug for EngineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EngineError")
            .field("kind", &self.kind)
            .field("context", &self.context)
            .field("cause", &self.cause)
            .finish()
    }
}

impl fmt::Display for EngineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_with_causes(f, self.context.as_deref(), self.cause.as_ref())
    }
}

impl StdError for EngineError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.cause.as_ref().map(Cause::as_error)
    }
}

/// How grants ask for more than the engine allows. The run did not start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GrantsError {
    /// `memory_mb` is above the engine's
    /// [`max_memory_mb`](crate::EngineConfig::max_memory_mb).
    #[error("memory_mb = {asked} is above the engine's max_memory_mb = {max}")]
    #[non_exhaustive]
    MemoryAboveEngineMax {
        /// The grants' `memory_mb`.
        asked: u32,
        /// The engine's `max_memory_mb`.
        max: u32,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync + 'static>() {}

    #[test]
    fn errors_are_send_sync() {
        assert_send_sync::<Error>();
        assert_send_sync::<ArtifactError>();
        assert_send_sync::<EngineError>();
    }

    #[test]
    fn wasmtime_chain_is_in_the_message_and_the_source() {
        let inner = std::io::Error::other("disk on fire");
        let e = wasmtime::Error::new(inner).context("compiling the code");
        let error = Error::engine(e);
        assert_eq!(
            error.to_string(),
            "engine error: compiling the code: disk on fire"
        );
        let Error::Engine(engine) = &error else {
            panic!("{error:?}")
        };
        assert_eq!(engine.kind(), EngineErrorKind::Wasmtime);
        assert!(engine.wasmtime_error().is_some());
        // Error -> EngineError -> the wasmtime error -> the io error.
        let mut chain = Vec::new();
        let mut next = StdError::source(&error);
        while let Some(e) = next {
            chain.push(e.to_string());
            next = e.source();
        }
        assert_eq!(chain.len(), 3, "{chain:?}");
        assert_eq!(chain[1], "compiling the code");
        assert_eq!(chain[2], "disk on fire");
        let io = StdError::source(&error)
            .and_then(StdError::source)
            .and_then(StdError::source)
            .and_then(|e| e.downcast_ref::<std::io::Error>());
        assert!(io.is_some());
    }

    #[test]
    fn context_and_cause() {
        let e = EngineError::caused_by(
            EngineErrorKind::CacheDir,
            "cannot use the cache directory /x",
            std::io::Error::from(std::io::ErrorKind::PermissionDenied),
        );
        assert_eq!(e.kind(), EngineErrorKind::CacheDir);
        assert!(e.wasmtime_error().is_none());
        assert!(
            e.to_string()
                .starts_with("cannot use the cache directory /x: ")
        );
        let io = e
            .source()
            .and_then(|s| s.downcast_ref::<std::io::Error>())
            .map(std::io::Error::kind);
        assert_eq!(io, Some(std::io::ErrorKind::PermissionDenied));
        let a = ArtifactError::new(ArtifactErrorKind::NotWasm, "not a WebAssembly file");
        assert!(a.source().is_none());
        assert_eq!(
            Error::from(a).to_string(),
            "invalid artifact: not a WebAssembly file"
        );
        let g = Error::from(GrantsError::MemoryAboveEngineMax { asked: 9, max: 8 });
        assert_eq!(
            g.to_string(),
            "grants exceed the engine's limits: memory_mb = 9 is above the engine's max_memory_mb = 8"
        );
    }
}
