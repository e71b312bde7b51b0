//! The crate's error type.

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
    Artifact(String),
    /// The run's input is malformed.
    #[error("invalid input: {0}")]
    Input(#[from] InputError),
    /// The grants ask for more than the engine allows.
    #[error("grants exceed the engine's limits: {0}")]
    Grants(String),
    /// Wasmtime failed for a reason that is not the script's doing.
    #[error("engine error: {0}")]
    Engine(String),
}

impl Error {
    pub(crate) fn engine(e: wasmtime::Error) -> Error {
        Error::Engine(format!("{e:#}"))
    }
}
