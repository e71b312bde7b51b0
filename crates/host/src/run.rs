//! One run of a script: a fresh instance, the call, limits, and the outcome.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use claimscript_grants::Grants;
use serde_json::Value;
use sha2::{Digest, Sha256};
use wasmtime::{Store, Trap};

use crate::bindings::claimscript::script::types;
use crate::claims::{is_protected, is_protected_in_id_token, strip_protected};
use crate::engine::{CompileOptions, Engine};
use crate::error::{Error, GrantsError};
use crate::fetch::FetchState;
use crate::input::{InputError, RunInput, TokenKind};
use crate::outcome::{ErrorKind, Outcome, RunReport, RunStats, ScopeChanges, ScriptError};
use crate::providers;
use crate::runtime::hex;
use crate::script::Script;
use crate::state::RunState;
use crate::style::Style;
use crate::trail::{self, AuditSink, RunFacts, RunLabels};

impl Script {
    /// Run the script once on `input` under `grants`.
    ///
    /// A script's failure is not an `Err`: it is [`Outcome::Error`] in the
    /// report, with its kind, message, console records and statistics; so
    /// is a run that cannot get an instance because the instance pool
    /// ([`EngineConfig::max_concurrent_runs`](crate::EngineConfig::max_concurrent_runs))
    /// is exhausted (kind `internal`). `Err` means the run could not start:
    /// grants beyond the engine's limits, or a store Wasmtime refused.
    ///
    /// With an audit sink, the run gives exactly one
    /// [`RunRecord`](crate::trail::RunRecord) whatever happens: when it
    /// returns (a report or an `Err`), or, when the future is dropped before
    /// it ends, as it is dropped (`error_kind` `cancelled`). A future never
    /// polled has started no run and gives no record.
    pub async fn run(&self, input: &RunInput, grants: &Grants) -> Result<RunReport, Error> {
        self.run_labelled(input, grants, &RunLabels::default())
            .await
    }

    /// [`Script::run`], with `labels` copied into the run's record (when
    /// there is an audit sink): what a service knows of the request.
    pub async fn run_labelled(
        &self,
        input: &RunInput,
        grants: &Grants,
        labels: &RunLabels,
    ) -> Result<RunReport, Error> {
        let engine = &self.inner.engine.inner;
        let mut attempt = Attempt::new(
            engine.config.audit_sink.clone(),
            Subject::Script(self),
            input,
            grants,
            labels,
        );
        if grants.memory_mb > engine.config.max_memory_mb {
            return Err(attempt.failed(
                ErrorKind::Grants,
                Error::Grants(GrantsError::MemoryAboveEngineMax {
                    asked: grants.memory_mb,
                    max: engine.config.max_memory_mb,
                }),
            ));
        }
        // The script's argument, checked against the engine's input limit
        // before anything else is built from it. Logto's is the input's
        // token and context as they are; Auth0's and LoginRadius's repeat
        // parts of it (the scopes as a list, profile fields under two
        // names), so they may be twice as large.
        let argument = providers::argument(self.style(), input);
        let max = match self.style() {
            Style::Logto => engine.config.max_input_bytes,
            _ => engine.config.max_input_bytes.saturating_mul(2),
        };
        if argument.len() > max {
            return Err(attempt.failed(
                ErrorKind::Input,
                Error::Input(InputError::too_large(argument.len(), max)),
            ));
        }
        let env: BTreeMap<String, String> = input
            .environment_variables
            .iter()
            .filter(|(name, _)| grants.env.allows(name))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let mut fetch = FetchState::new(grants.fetch.clone(), Some(engine.http.clone()));
        if attempt.audited() {
            fetch.keep_for_scrubbing();
        }
        let state = RunState::new(grants.memory_mb as usize * 1024 * 1024, env, fetch);
        let timeout = Duration::from_millis(grants.timeout_ms);
        let store = match engine.limited_store(state, grants.fuel) {
            Ok(store) => store,
            Err(e) => return Err(attempt.failed(ErrorKind::Internal, e)),
        };
        let store = attempt.store.insert(store);

        let wit_input = types::RunInput {
            kind: match input.kind {
                TokenKind::AccessToken => types::TokenKind::AccessToken,
                TokenKind::ClientCredentials => types::TokenKind::ClientCredentials,
            },
            argument,
            // The runtime stops writing claims there (output_too_large).
            max_output_bytes: u32::try_from(grants.max_output_bytes).unwrap_or(u32::MAX),
        };
        let pre = &self.inner.pre;
        let call = async {
            let bindings = pre.instantiate_async(&mut *store).await?;
            bindings
                .claimscript_script_script()
                .call_run(&mut *store, &wit_input)
                .await
        };
        let result = tokio::time::timeout(timeout, call).await;

        let state = store.data_mut();
        let outcome = match result {
            Err(_elapsed) => Outcome::Error(limit_error(ErrorKind::Timeout, grants)),
            Ok(Err(trap)) => {
                Outcome::Error(classify_trap(&trap, state.limiter.exceeded).with_limits(grants))
            }
            Ok(Ok(Err(script_error))) => Outcome::Error(script_error.into()),
            Ok(Ok(Ok(claims))) => claims_outcome(claims, grants.max_output_bytes),
        };
        Ok(attempt.finish(outcome, true))
    }
}

impl Engine {
    /// Compile `source` (as [`Engine::compile_with`] does, cached alike) and
    /// run it once on `input` under `grants`: one run attempt from source,
    /// as `claimscript run script.js` makes.
    ///
    /// A source that does not compile is a report, not an `Err`: the
    /// compile error as [`Outcome::Error`] (as [`RunReport::from_error`]
    /// gives it), and, with an audit sink, one record of it (outcome
    /// `error`, the error's kind; `script` and `source` both the source's
    /// SHA-256, since there is no artifact; `style` the one asked for, else
    /// `unknown`). Other errors are as for [`Engine::compile_with`] and
    /// [`Script::run`], recorded too. Either way the attempt gives exactly
    /// one record.
    pub async fn run_source(
        &self,
        source: &str,
        options: &CompileOptions,
        input: &RunInput,
        grants: &Grants,
    ) -> Result<RunReport, Error> {
        self.run_source_labelled(source, options, input, grants, &RunLabels::default())
            .await
    }

    /// [`Engine::run_source`], with `labels` copied into the attempt's record
    /// (when there is an audit sink).
    pub async fn run_source_labelled(
        &self,
        source: &str,
        options: &CompileOptions,
        input: &RunInput,
        grants: &Grants,
        labels: &RunLabels,
    ) -> Result<RunReport, Error> {
        let sink = self.inner.config.audit_sink.clone();
        let subject = Subject::Source {
            sha256: if sink.is_some() {
                hex(&Sha256::digest(source.as_bytes()))
            } else {
                String::new()
            },
            style: options.style,
        };
        let mut attempt = Attempt::new(sink, subject, input, grants, labels);
        match self.compile_with(source, options).await {
            Ok(script) => {
                // The run records itself.
                attempt.disarm();
                script.run_labelled(input, grants, labels).await
            }
            Err(Error::Script(error)) => {
                let kind = error.kind;
                attempt.finish(Outcome::Error(ScriptError::new(kind, String::new())), false);
                Ok(RunReport::from_error(error))
            }
            Err(e) => Err(attempt.failed(ErrorKind::Internal, e)),
        }
    }
}

/// What a record is about: a compiled script, or a source that has not
/// compiled (yet).
enum Subject<'a> {
    Script(&'a Script),
    Source {
        sha256: String,
        style: Option<Style>,
    },
}

/// One run attempt, for the execution trail: delivers exactly one record,
/// when the attempt ends ([`Attempt::finish`], [`Attempt::failed`]) or, if
/// it never does (its future was dropped), when it is dropped. It owns the
/// run's store, so that a dropped run's record still has its fetches.
struct Attempt<'a> {
    sink: Option<Arc<dyn AuditSink>>,
    subject: Subject<'a>,
    input: &'a RunInput,
    grants: &'a Grants,
    labels: &'a RunLabels,
    started: Instant,
    started_at: SystemTime,
    store: Option<Store<RunState>>,
    done: bool,
}

impl<'a> Attempt<'a> {
    fn new(
        sink: Option<Arc<dyn AuditSink>>,
        subject: Subject<'a>,
        input: &'a RunInput,
        grants: &'a Grants,
        labels: &'a RunLabels,
    ) -> Attempt<'a> {
        Attempt {
            sink,
            subject,
            input,
            grants,
            labels,
            started: Instant::now(),
            started_at: SystemTime::now(),
            store: None,
            done: false,
        }
    }

    fn audited(&self) -> bool {
        self.sink.is_some()
    }

    /// Another attempt records this one.
    fn disarm(&mut self) {
        self.done = true;
    }

    /// The attempt ended without a run: record `kind` and hand back `error`.
    fn failed(&mut self, kind: ErrorKind, error: Error) -> Error {
        self.finish(Outcome::Error(ScriptError::new(kind, String::new())), false);
        error
    }

    /// The report of the run that ended with `outcome` (statistics from the
    /// store, if there is one), recorded. `final_denial`: a denial the
    /// script made stands, whatever it did after it.
    fn finish(&mut self, mut outcome: Outcome, final_denial: bool) -> RunReport {
        let mut stats = RunStats {
            duration_us: u64::try_from(self.started.elapsed().as_micros()).unwrap_or(u64::MAX),
            ..RunStats::default()
        };
        let mut logs = Vec::new();
        if let Some(store) = &mut self.store {
            stats.fuel = self
                .grants
                .fuel
                .saturating_sub(store.get_fuel().unwrap_or(0));
            let state = store.data_mut();
            state.fetch.finish();
            if let Some(denial) = state.denial.take()
                && final_denial
            {
                outcome = Outcome::Denied(denial);
            }
            stats.memory_bytes = state.limiter.peak as u64;
            stats.fetches = std::mem::take(&mut state.fetch.records);
            logs = state.take_logs();
        }
        let report = RunReport {
            outcome,
            logs,
            stats,
        };
        self.record(&report);
        report
    }

    fn record(&mut self, report: &RunReport) {
        if self.done {
            return;
        }
        self.done = true;
        let Some(sink) = &self.sink else {
            return;
        };
        let (script, source, style) = match &self.subject {
            Subject::Script(script) => (
                script.digest_hex(),
                script.source_digest_hex(),
                script.style().as_str(),
            ),
            Subject::Source { sha256, style } => (
                sha256.clone(),
                sha256.as_str(),
                style.map_or("unknown", Style::as_str),
            ),
        };
        let empty = BTreeSet::new();
        let state = self.store.as_ref().map(Store::data);
        let grants = self.grants;
        let facts = RunFacts {
            started: self.started_at,
            script,
            source,
            style,
            input: self.input,
            env_read: state.map_or(&empty, |s| &s.env_read),
            exposed: &|name| grants.env.allows(name),
            seen: state.and_then(|s| s.fetch.seen.as_ref()),
            labels: self.labels,
        };
        sink.record(&trail::record(report, &facts));
    }
}

impl Drop for Attempt<'_> {
    fn drop(&mut self) {
        if !self.done && self.sink.is_some() {
            self.finish(
                Outcome::Error(ScriptError::new(
                    ErrorKind::Cancelled,
                    "the run was dropped before it ended",
                )),
                false,
            );
        }
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
    // Scope changes are output too (Auth0 addScope/removeScope).
    let scopes: usize = claims
        .scopes_added
        .iter()
        .chain(&claims.scopes_removed)
        .map(|s| s.len() + 1)
        .sum();
    let size = claims.access_token.len() + claims.id_token.as_ref().map_or(0, String::len);
    if size.saturating_add(scopes) > max_output_bytes {
        let scopes = if scopes > 0 {
            format!(" and {scopes} bytes of scope changes")
        } else {
            String::new()
        };
        return Outcome::Error(ScriptError::new(
            ErrorKind::OutputTooLarge,
            format!(
                "the returned claims are {size} bytes of JSON{scopes}; max_output_bytes is {max_output_bytes}"
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
    if let Some(scope) = claims
        .scopes_added
        .iter()
        .chain(&claims.scopes_removed)
        .find(|s| !is_scope_token(s))
    {
        return Outcome::Error(ScriptError::new(
            ErrorKind::InvalidOutput,
            format!(
                "the scope {} is not a valid OAuth scope token (RFC 6749: printable ASCII, \
                 no space, `\"` or `\\`)",
                crate::runtime::printable(scope)
            ),
        ));
    }
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

/// RFC 6749 §3.3 `scope-token = 1*( %x21 / %x23-5B / %x5D-7E )`.
fn is_scope_token(scope: &str) -> bool {
    !scope.is_empty()
        && scope
            .bytes()
            .all(|b| matches!(b, 0x21 | 0x23..=0x5B | 0x5D..=0x7E))
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
            types::ErrorKind::OutputTooLarge => ErrorKind::OutputTooLarge,
        };
        // Cut as console messages are: they crossed from the guest
        // outside max_output_bytes.
        ScriptError {
            kind,
            message: crate::state::truncate(e.message, crate::state::MAX_MESSAGE_BYTES),
            stack: e
                .stack
                .map(|s| crate::state::truncate(s, crate::state::MAX_STACK_BYTES)),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn with_scopes(added: &[&str], removed: &[&str]) -> Outcome {
        claims_outcome(
            types::Claims {
                access_token: "{}".into(),
                id_token: None,
                scopes_added: added.iter().map(|s| s.to_string()).collect(),
                scopes_removed: removed.iter().map(|s| s.to_string()).collect(),
            },
            1000,
        )
    }

    /// Compiles only if runs can be spawned on a multi-threaded runtime.
    #[allow(dead_code)]
    fn run_futures_are_send(script: &Script, engine: &Engine, input: &RunInput, grants: &Grants) {
        fn send<T: Send>(_: &T) {}
        send(&script.run(input, grants));
        send(&engine.run_source("", &CompileOptions::default(), input, grants));
    }

    #[test]
    fn scopes_must_be_scope_tokens() {
        assert!(matches!(
            with_scopes(&["read:x", "!#[]~"], &["a/b"]),
            Outcome::Claims { .. }
        ));
        for bad in ["a\u{85}b", "a b", "a\"b", "a\\b", "", "é", "a\nb"] {
            for outcome in [with_scopes(&[bad], &[]), with_scopes(&[], &[bad])] {
                let Outcome::Error(e) = outcome else {
                    panic!("{bad:?} accepted");
                };
                assert_eq!(e.kind, ErrorKind::InvalidOutput);
                assert!(
                    e.message.is_ascii() && !e.message.chars().any(|c| c.is_control()),
                    "{}",
                    e.message
                );
            }
        }
    }
}
