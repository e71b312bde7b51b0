//! Output validation: the claims JSON a guest returns, checked as a run
//! checks it. Any text gives claims within the limit, or an error outcome.
#![no_main]

use claimscript::Outcome;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    let max = usize::from(u16::from_le_bytes([data[0], data[1]])) * 4;
    let Ok(text) = std::str::from_utf8(&data[2..]) else {
        return;
    };
    match claimscript::bench_support::validate(text, max) {
        Outcome::Claims { claims, .. } => {
            assert!(
                text.len() <= max,
                "{} bytes of claims JSON accepted over {max}",
                text.len()
            );
            for name in claims.keys() {
                assert!(
                    !claimscript::is_protected(name),
                    "protected claim {name} kept"
                );
            }
        }
        other => {
            let _ = format!("{other:?}");
        }
    }
});
