//! Fuel, wall clock and memory: each ends the run with its kind, and no
//! `try/catch` in the script can swallow it.

use claimscript::{ErrorKind, Grants};

use crate::error;
use crate::run_fixture;

#[tokio::test]
async fn endless_loop_runs_out_of_fuel() {
    let report = run_fixture("endless_loop", &Grants::default()).await;
    let e = error(&report);
    assert_eq!(e.kind, ErrorKind::FuelExhausted);
    assert_eq!(
        e.message,
        format!(
            "the script used up its fuel (fuel = {})",
            claimscript::grants::DEFAULT_FUEL
        )
    );
    assert_eq!(report.stats.fuel, claimscript::grants::DEFAULT_FUEL);
}

#[tokio::test]
async fn endless_loop_inside_try_catch() {
    let report = run_fixture("endless_loop_try", &Grants::default().with_fuel(5_000_000)).await;
    assert_eq!(error(&report).kind, ErrorKind::FuelExhausted);
    assert_eq!(report.stats.fuel, 5_000_000);
}

#[tokio::test]
async fn wall_clock_ends_an_endless_loop() {
    // With fuel to spare, the wall clock is what stops the loop.
    let grants = Grants::default()
        .with_fuel(u64::MAX / 2)
        .with_timeout_ms(50);
    let report = run_fixture("endless_loop_try", &grants).await;
    let e = error(&report);
    assert_eq!(e.kind, ErrorKind::Timeout);
    assert_eq!(e.message, "the run exceeded timeout_ms = 50");
}

#[tokio::test]
async fn memory_bomb_hits_the_memory_limit() {
    let grants = Grants::default().with_memory_mb(16);
    let report = run_fixture("memory_bomb", &grants).await;
    let e = error(&report);
    assert_eq!(e.kind, ErrorKind::Memory);
    assert_eq!(e.message, "the script's memory would exceed memory_mb = 16");
    assert!(report.stats.memory_bytes <= 16 << 20, "{:?}", report.stats);
}

#[tokio::test]
async fn runaway_recursion_is_stopped() {
    let report = run_fixture("recursion", &Grants::default()).await;
    let e = error(&report);
    assert!(
        matches!(e.kind, ErrorKind::StackOverflow | ErrorKind::Script),
        "recursion ends as a stack overflow (or QuickJS's own RangeError), got {e:?}"
    );
}

#[tokio::test]
async fn grants_above_the_engine_limit_are_refused() {
    let script = crate::compile(&crate::fixture("empty")).await;
    let grants = Grants::default().with_memory_mb(4096);
    let err = script
        .run(&crate::example_input("rbac"), &grants)
        .await
        .expect_err("above max_memory_mb");
    assert!(
        matches!(
            err,
            claimscript::Error::Grants(claimscript::GrantsError::MemoryAboveEngineMax {
                asked: 4096,
                ..
            })
        ),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .starts_with("grants exceed the engine's limits: memory_mb = 4096 is above"),
        "{err}"
    );
}

#[tokio::test]
async fn denials_errors_and_scopes_are_capped_where_they_cross_from_the_guest() {
    use claimscript::{MAX_MESSAGE_BYTES, MAX_STACK_BYTES, Outcome};
    // Made when the run starts (top-level code runs at compile time, on
    // its own fuel).
    let big = "const make = () => 'x'.repeat(200_000);";
    let cut = |text: &str, max: usize| {
        assert!(text.len() <= max, "{} bytes", text.len());
        assert!(text.ends_with('…'), "cut with an ellipsis");
    };
    // Logto's denyAccess, LoginRadius's setError (code, title, message).
    for source in [
        format!(
            "{big} const getCustomJwtClaims = async ({{ api }}) => {{ api.denyAccess(make()); }};"
        ),
        format!(
            "{big} exports.execute = async (lrObject, hook) => {{ const big = make(); hook.setError(big, big, big); }};"
        ),
    ] {
        let report = crate::run_source(&source).await;
        let Outcome::Denied(denial) = &report.outcome else {
            panic!("{:?}", report.outcome);
        };
        cut(&denial.message, MAX_MESSAGE_BYTES);
        for text in [&denial.code, &denial.title].into_iter().flatten() {
            cut(text, MAX_MESSAGE_BYTES);
        }
        assert!(report.to_json().to_string().len() < 4 * MAX_MESSAGE_BYTES + 2048);
    }
    // An error's message and stack.
    let report = crate::run_source(&format!(
        "{big} const getCustomJwtClaims = async () => {{ const big = make(); const e = new Error(big); e.stack = big; throw e; }};"
    ))
    .await;
    let e = error(&report);
    cut(&e.message, MAX_MESSAGE_BYTES);
    if let Some(stack) = &e.stack {
        assert!(stack.len() <= MAX_STACK_BYTES, "{} bytes", stack.len());
    }
    // Auth0's addScope: the scope changes count against max_output_bytes
    // (fuel to spare: the guest's scope checks cost fuel per character).
    let script = crate::compile(&format!(
        "{big} exports.onExecutePostLogin = async (event, api) => {{ api.accessToken.addScope(make().slice(0, 60000)); }};"
    ))
    .await;
    let report = script
        .run(
            &crate::example_input("rbac"),
            &Grants::default().with_fuel(5_000_000_000),
        )
        .await
        .expect("run starts");
    let e = error(&report);
    assert_eq!(e.kind, ErrorKind::OutputTooLarge, "{e:?}");
    assert!(
        e.message.contains("bytes of scope changes") && e.message.contains("max_output_bytes"),
        "{}",
        e.message
    );
}
