//! The grants parser: any text gives Grants or an error naming where.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match claimscript_grants::Grants::from_toml(text) {
        Ok(grants) => {
            if let Some(fetch) = &grants.fetch {
                for pattern in &fetch.allow {
                    let _ = pattern.describe();
                }
            }
        }
        Err(e) => assert!(!e.to_string().is_empty(), "an error without a message"),
    }
});
