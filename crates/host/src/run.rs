//! One run of a script: a fresh instance, the call, limits, and the outcome.

use std::collections::BTreeMap;
use std::time::{Duration, Instant, SystemTime};

use claimscript_grants::Grants;
use serde_json::Value;
use wasmtime::Trap;

use crate::bindings::claimscript::script::types;
use crate::claims::{is_protected, is_protected_in_id_token, strip_protected};
use crate::error::Error;
use crate::fetch::FetchState;
use crate::input::{RunInput, TokenKind};
use crate::outcome::{ErrorKind, Outcome, RunReport, RunStats, ScopeChanges, ScriptError};
use crate::providers;
use crate::script::Script;
use crate::state::RunState;
use crate::trail::{self, RunFacts};

impl Script {
    /// Run the script once on `input` under `grants`.
    ///
    /// A script's failure is not an `Err`: it is [`Outcome::Error`] in the
    /// report, with its kind, message, console records and statistics. `Err`
    /// means the run could not start (grants beyond the engine's limits, or
    /// the instance pool is exhausted).
    pub async fn run(&self, input: &RunInput, grants: &Grants) -> Result<RunReport, Error> {
        let engine = &self.inner.engine.inner;
        if grants.memory_mb > engine.config.max_memory_mb {
            return Err(Error::Grants(format!(
                "memory_mb = {} is above the engine's max_memory_mb = {}",
                grants.memory_mb, engine.config.max_memory_mb
            )));
        }
        let started = Instant::now();
        let started_at = SystemTime::now();
        let env: BTreeMap<String, String> = input
            .environment_variables
            .iter()
            .filter(|(name, _)| grants.env.allows(name))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let mut fetch = FetchState::new(grants.fetch.clone(), Some(engine.http.clone()));
        if engine.config.audit_sink.is_some() {
            fetch.keep_for_scrubbing();
        }
        let state = RunState::new(grants.memory_mb as usize * 1024 * 1024, env, fetch);
        let timeout = Duration::from_millis(grants.timeout_ms);
        let mut store = engine.limited_store(state, grants.fuel)?;

        let wit_input = types::RunInput {
            kind: match input.kind {
                TokenKind::AccessToken => types::TokenKind::AccessToken,
                TokenKind::ClientCredentials => types::TokenKind::ClientCredentials,
            },
            argument: providers::argument(self.style(), input),
        };
        let pre = &self.inner.pre;
        let call = async {
            let bindings = pre.instantiate_async(&mut store).await?;
            bindings
                .claimscript_script_script()
                .call_run(&mut store, &wit_input)
                .await
        };
        let result = tokio::time::timeout(timeout, call).await;

        let fuel = grants.fuel.saturating_sub(store.get_fuel().unwrap_or(0));
        let state = store.data_mut();
        state.fetch.finish();
        let mut outcome = match result {
            Err(_elapsed) => Outcome::Error(limit_error(ErrorKind::Timeout, grants)),
            Ok(Err(trap)) => {
                Outcome::Error(classify_trap(&trap, state.limiter.exceeded).with_limits(grants))
            }
            Ok(Ok(Err(script_error))) => Outcome::Error(script_error.into()),
            Ok(Ok(Ok(claims))) => claims_outcome(claims, grants.max_output_bytes),
        };
        // A denial is final, whatever the script did after it.
        if let Some(denial) = state.denial.take() {
            outcome = Outcome::Denied(denial);
        }
        let stats = RunStats {
            fuel,
            duration_us: u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
            memory_bytes: state.limiter.peak as u64,
            fetches: std::mem::take(&mut state.fetch.records),
        };
        let report = RunReport {
            outcome,
            logs: state.take_logs(),
            stats,
        };
        if let Some(sink) = &engine.config.audit_sink {
            let facts = RunFacts {
                started: started_at,
                script: self.digest_hex(),
                source: self.source_digest_hex(),
                style: self.style().as_str(),
                input,
                env_read: &state.env_read,
                exposed: &|name| grants.env.allows(name),
                seen: state.fetch.seen.as_ref(),
            };
            sink.record(&trail::record(&report, &facts));
        }
        Ok(report)
    }
}

impl Script {
    /// Time one instantiation of the script (a fresh store and instance from
    /// the pre-instantiated component, no call): what each run pays before
    /// the script starts. For benchmarks.
    pub async fn time_instantiation(&self) -> Result<Duration, Error> {
        let engine = &self.inner.engine.inner;
        let state = RunState::new(
            engine.max_memory_bytes(),
            BTreeMap::new(),
            FetchState::new(None, None),
        );
        let mut store = engine.limited_store(state, u64::MAX)?;
        let started = Instant::now();
        self.inner
            .pre
            .instantiate_async(&mut store)
            .await
            .map_err(Error::engine)?;
        Ok(started.elapsed())
    }
}

pub(crate) fn claims_outcome(claims: types::Claims, max_output_bytes: usize) -> Outcome {
    let size = claims.access_token.len() + claims.id_token.as_ref().map_or(0, String::len);
    if size > max_output_bytes {
        return Outcome::Error(ScriptError::new(
            ErrorKind::OutputTooLarge,
            format!(
                "the returned claims are {size} bytes of JSON; max_output_bytes is {max_output_bytes}"
            ),
        ));
    }
    let invalid = || {
        Outcome::Error(ScriptError::new(
            ErrorKind::InvalidOutput,
            "the runtime returned claims that are not a JSON object",
        ))
    };
    let parse = |json: &str| match serde_json::from_str::<Value>(json) {
        Ok(Value::Object(map)) => Some(map),
        _ => None,
    };
    let Some(mut access) = parse(&claims.access_token) else {
        return invalid();
    };
    let dropped = strip_protected(&mut access, is_protected);
    let (id_token_claims, id_token_dropped) = match claims.id_token.as_deref().map(parse) {
        None => (None, Vec::new()),
        Some(Some(mut id)) => {
            let dropped = strip_protected(&mut id, is_protected_in_id_token);
            (Some(id), dropped)
        }
        Some(None) => return invalid(),
    };
    Outcome::Claims {
        claims: access,
        id_token_claims,
        dropped,
        id_token_dropped,
        scopes: ScopeChanges {
            added: claims.scopes_added,
            removed: claims.scopes_removed,
        },
    }
}

/// Map a trap to an error kind. `memory_exceeded` is the limiter's flag: a
/// failed `memory.grow` is reported as `memory` whatever trap followed it.
pub(crate) fn classify_trap(error: &wasmtime::Error, memory_exceeded: bool) -> ScriptError {
    if memory_exceeded {
        return ScriptError::new(
            ErrorKind::Memory,
            "the script's memory would exceed memory_mb",
        );
    }
    match error.downcast_ref::<Trap>() {
        Some(Trap::OutOfFuel) => {
            ScriptError::new(ErrorKind::FuelExhausted, "the script used up its fuel")
        }
        Some(Trap::StackOverflow) => ScriptError::new(
            ErrorKind::StackOverflow,
            "the Wasm stack overflowed (runaway recursion)",
        ),
        Some(trap) => ScriptError::new(ErrorKind::Internal, format!("the runtime trapped: {trap}")),
        None => ScriptError::new(ErrorKind::Internal, format!("{error:#}")),
    }
}

fn limit_error(kind: ErrorKind, grants: &Grants) -> ScriptError {
    ScriptError::new(kind, String::new()).with_limits(grants)
}

impl ScriptError {
    /// Name the exceeded limit and its value in the message.
    fn with_limits(mut self, grants: &Grants) -> ScriptError {
        self.message = match self.kind {
            ErrorKind::FuelExhausted => {
                format!("the script used up its fuel (fuel = {})", grants.fuel)
            }
            ErrorKind::Timeout => format!("the run exceeded timeout_ms = {}", grants.timeout_ms),
            ErrorKind::Memory => format!(
                "the script's memory would exceed memory_mb = {}",
                grants.memory_mb
            ),
            _ => return self,
        };
        self
    }
}

impl From<types::ScriptError> for ScriptError {
    fn from(e: types::ScriptError) -> ScriptError {
        let kind = match e.kind {
            types::ErrorKind::Syntax => ErrorKind::Syntax,
            types::ErrorKind::MissingFunction => ErrorKind::MissingFunction,
            types::ErrorKind::Script => ErrorKind::Script,
            types::ErrorKind::Pending => ErrorKind::Pending,
            types::ErrorKind::InvalidOutput => ErrorKind::InvalidOutput,
            types::ErrorKind::Unsupported => ErrorKind::Unsupported,
        };
        ScriptError {
            kind,
            message: e.message,
            stack: e.stack,
            line: e.line,
            column: e.column,
        }
    }
}

/// The pieces of a run, one at a time, for the micro-benchmarks in
/// `benches/`. Not part of the API.
#[doc(hidden)]
pub mod bench_support {
    use super::*;

    /// The first argument's JSON for `script`'s style: what a run sends the
    /// guest.
    pub fn marshal(script: &Script, input: &RunInput) -> String {
        providers::argument(script.style(), input)
    }

    /// Check the guest's claims JSON as a run does.
    pub fn validate(access_token_json: &str, max_output_bytes: usize) -> Outcome {
        claims_outcome(
            types::Claims {
                access_token: access_token_json.to_string(),
                id_token: None,
                scopes_added: Vec::new(),
                scopes_removed: Vec::new(),
            },
            max_output_bytes,
        )
    }
}
