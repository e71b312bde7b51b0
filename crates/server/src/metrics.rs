//! Prometheus metrics (`GET /metrics`, OpenMetrics text).

use std::sync::Arc;
use std::sync::atomic::AtomicI64;
use std::time::Duration;

use claimscript::{Outcome, RunReport};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HttpLabels {
    route: String,
    method: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RunLabels {
    script: String,
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ScriptLabels {
    script: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ErrorLabels {
    script: String,
    kind: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HookLabels {
    provider: String,
    result: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResultLabels {
    result: String,
}

type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

fn latency_histogram() -> Histogram {
    // 10 µs to about 5 s.
    Histogram::new(exponential_buckets(0.000_01, 2.5, 15))
}

#[derive(Debug)]
struct Inner {
    registry: Registry,
    http_requests: Family<HttpLabels, Counter>,
    http_duration: HistogramFamily<RouteLabels>,
    run_duration: HistogramFamily<RunLabels>,
    run_fuel: Family<ScriptLabels, Counter>,
    run_errors: Family<ErrorLabels, Counter>,
    dropped_claims: Family<ScriptLabels, Counter>,
    fetches: Family<ResultLabels, Counter>,
    compile_duration: Histogram,
    load_duration: Histogram,
    load_errors: Family<ScriptLabels, Counter>,
    load_failing: Family<ScriptLabels, Gauge<i64, AtomicI64>>,
    scripts_registered: Gauge<i64, AtomicI64>,
    scripts_loaded: Gauge<i64, AtomicI64>,
    runs_in_flight: Gauge<i64, AtomicI64>,
    queue_wait: Histogram,
    queue_rejections: Counter,
    audit_records: Family<ResultLabels, Counter>,
    reloads: Family<ResultLabels, Counter>,
    hook_requests: Family<HookLabels, Counter>,
    hook_dropped_claims: Family<HookLabels, Counter>,
    oci_pulls: Family<RunLabels, Counter>,
}

/// The service's metrics. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Metrics {
    inner: Arc<Inner>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    /// A fresh set of metrics.
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("claimscript");
        let http_requests = Family::<HttpLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests by route, method and status",
            http_requests.clone(),
        );
        let http_duration: HistogramFamily<RouteLabels> =
            Family::new_with_constructor(latency_histogram);
        registry.register(
            "http_request_duration_seconds",
            "Time from request to response, by route",
            http_duration.clone(),
        );
        let run_duration: HistogramFamily<RunLabels> =
            Family::new_with_constructor(latency_histogram);
        registry.register(
            "run_duration_seconds",
            "Script run time by script and outcome (claims, denied, error)",
            run_duration.clone(),
        );
        let run_fuel = Family::<ScriptLabels, Counter>::default();
        registry.register("run_fuel", "Fuel consumed by runs", run_fuel.clone());
        let run_errors = Family::<ErrorLabels, Counter>::default();
        registry.register(
            "run_errors",
            "Runs that ended in an error, by script and error kind",
            run_errors.clone(),
        );
        let dropped_claims = Family::<ScriptLabels, Counter>::default();
        registry.register(
            "dropped_claims",
            "Protected claims scripts tried to set (removed)",
            dropped_claims.clone(),
        );
        let fetches = Family::<ResultLabels, Counter>::default();
        registry.register(
            "fetches",
            "Fetches by result (response, refused)",
            fetches.clone(),
        );
        let compile_duration = latency_histogram();
        registry.register(
            "compile_duration_seconds",
            "Time to compile a script from source or a component",
            compile_duration.clone(),
        );
        let load_duration = latency_histogram();
        registry.register(
            "load_duration_seconds",
            "Time to load a registered script from the data directory",
            load_duration.clone(),
        );
        let load_errors = Family::<ScriptLabels, Counter>::default();
        registry.register(
            "script_load_errors",
            "Failed compilations or loads (the previous version keeps serving)",
            load_errors.clone(),
        );
        let load_failing = Family::<ScriptLabels, Gauge<i64, AtomicI64>>::default();
        registry.register(
            "script_load_failing",
            "1 while a script's newest version failed to load",
            load_failing.clone(),
        );
        let scripts_registered = Gauge::<i64, AtomicI64>::default();
        registry.register(
            "scripts_registered",
            "Scripts registered (config and API)",
            scripts_registered.clone(),
        );
        let scripts_loaded = Gauge::<i64, AtomicI64>::default();
        registry.register(
            "scripts_loaded",
            "Compiled scripts held in memory (the bounded cache)",
            scripts_loaded.clone(),
        );
        let runs_in_flight = Gauge::<i64, AtomicI64>::default();
        registry.register(
            "runs_in_flight",
            "Runs and compilations holding a slot",
            runs_in_flight.clone(),
        );
        let queue_wait = latency_histogram();
        registry.register(
            "queue_wait_seconds",
            "Time requests waited for a run slot",
            queue_wait.clone(),
        );
        let queue_rejections = Counter::default();
        registry.register(
            "queue_rejections",
            "Requests answered 503 because no run slot freed in time",
            queue_rejections.clone(),
        );
        let audit_records = Family::<ResultLabels, Counter>::default();
        registry.register(
            "audit_records",
            "Audit records by result (written, dropped)",
            audit_records.clone(),
        );
        let reloads = Family::<ResultLabels, Counter>::default();
        registry.register(
            "reloads",
            "Config reloads by result (ok, failed)",
            reloads.clone(),
        );
        let hook_requests = Family::<HookLabels, Counter>::default();
        registry.register(
            "hook_requests",
            "Provider hook requests by provider and result: the response's effect (claims, unchanged, denied, failed_open, failed_closed) or why it was refused (unauthenticated, stale_timestamp, replayed, malformed, ...)",
            hook_requests.clone(),
        );
        let hook_dropped_claims = Family::<HookLabels, Counter>::default();
        registry.register(
            "hook_dropped_claims",
            "Claims a provider protects that scripts tried to set (left out of the response)",
            hook_dropped_claims.clone(),
        );
        let oci_pulls = Family::<RunLabels, Counter>::default();
        registry.register(
            "oci_pulls",
            "Registry polls of OCI scripts by script and outcome (updated, unchanged, failed: the last good version keeps serving)",
            oci_pulls.clone(),
        );
        Metrics {
            inner: Arc::new(Inner {
                registry,
                http_requests,
                http_duration,
                run_duration,
                run_fuel,
                run_errors,
                dropped_claims,
                fetches,
                compile_duration,
                load_duration,
                load_errors,
                load_failing,
                scripts_registered,
                scripts_loaded,
                runs_in_flight,
                queue_wait,
                queue_rejections,
                audit_records,
                reloads,
                hook_requests,
                hook_dropped_claims,
                oci_pulls,
            }),
        }
    }

    /// The OpenMetrics text.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.inner.registry).is_err() {
            out.clear();
        }
        out
    }

    pub(crate) fn request(&self, route: &str, method: &str, status: u16, elapsed: Duration) {
        self.inner
            .http_requests
            .get_or_create(&HttpLabels {
                route: route.to_string(),
                method: method.to_string(),
                status,
            })
            .inc();
        self.inner
            .http_duration
            .get_or_create(&RouteLabels {
                route: route.to_string(),
            })
            .observe(elapsed.as_secs_f64());
    }

    pub(crate) fn run(&self, script: &str, report: &RunReport) {
        let i = &self.inner;
        let (outcome, dropped) = match &report.outcome {
            Outcome::Claims {
                dropped,
                id_token_dropped,
                ..
            } => ("claims", dropped.len() + id_token_dropped.len()),
            Outcome::Denied(_) => ("denied", 0),
            Outcome::Error(e) => {
                i.run_errors
                    .get_or_create(&ErrorLabels {
                        script: script.to_string(),
                        kind: e.kind.as_str().to_string(),
                    })
                    .inc();
                ("error", 0)
            }
            _ => ("other", 0),
        };
        i.run_duration
            .get_or_create(&RunLabels {
                script: script.to_string(),
                outcome: outcome.to_string(),
            })
            .observe(report.stats.duration_us as f64 / 1e6);
        let labels = ScriptLabels {
            script: script.to_string(),
        };
        i.run_fuel.get_or_create(&labels).inc_by(report.stats.fuel);
        if dropped > 0 {
            i.dropped_claims
                .get_or_create(&labels)
                .inc_by(dropped as u64);
        }
        for fetch in &report.stats.fetches {
            let result = if fetch.refused.is_some() {
                "refused"
            } else {
                "response"
            };
            i.fetches
                .get_or_create(&ResultLabels {
                    result: result.into(),
                })
                .inc();
        }
    }

    pub(crate) fn compiled(&self, elapsed: Duration) {
        self.inner.compile_duration.observe(elapsed.as_secs_f64());
    }

    pub(crate) fn loaded(&self, elapsed: Duration) {
        self.inner.load_duration.observe(elapsed.as_secs_f64());
    }

    pub(crate) fn load_failed(&self, script: &str, failing: bool) {
        let labels = ScriptLabels {
            script: script.to_string(),
        };
        if failing {
            self.inner.load_errors.get_or_create(&labels).inc();
        }
        self.inner
            .load_failing
            .get_or_create(&labels)
            .set(i64::from(failing));
    }

    pub(crate) fn scripts(&self, registered: usize, loaded: usize) {
        self.inner
            .scripts_registered
            .set(i64::try_from(registered).unwrap_or(i64::MAX));
        self.inner
            .scripts_loaded
            .set(i64::try_from(loaded).unwrap_or(i64::MAX));
    }

    pub(crate) fn in_flight(&self, delta: i64) {
        self.inner.runs_in_flight.inc_by(delta);
    }

    pub(crate) fn queued(&self, waited: Duration, rejected: bool) {
        self.inner.queue_wait.observe(waited.as_secs_f64());
        if rejected {
            self.inner.queue_rejections.inc();
        }
    }

    pub(crate) fn audit(&self, written: bool) {
        let result = if written { "written" } else { "dropped" };
        self.inner
            .audit_records
            .get_or_create(&ResultLabels {
                result: result.into(),
            })
            .inc();
    }

    pub(crate) fn hook_result(&self, provider: &str, why: &str) {
        self.inner
            .hook_requests
            .get_or_create(&HookLabels {
                provider: provider.into(),
                result: why.into(),
            })
            .inc();
    }

    pub(crate) fn hook_answered(&self, provider: &str, effect: &str, dropped: usize) {
        self.hook_result(provider, effect);
        if dropped > 0 {
            self.inner
                .hook_dropped_claims
                .get_or_create(&HookLabels {
                    provider: provider.into(),
                    result: "protected".into(),
                })
                .inc_by(dropped as u64);
        }
    }

    pub(crate) fn oci_pull(&self, script: &str, outcome: &str) {
        self.inner
            .oci_pulls
            .get_or_create(&RunLabels {
                script: script.into(),
                outcome: outcome.into(),
            })
            .inc();
    }

    pub(crate) fn reload(&self, ok: bool) {
        let result = if ok { "ok" } else { "failed" };
        self.inner
            .reloads
            .get_or_create(&ResultLabels {
                result: result.into(),
            })
            .inc();
    }
}
