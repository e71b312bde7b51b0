//! The service's config parser: any text gives a config or an error naming
//! the file, line and key. Paths resolve under a directory that does not
//! exist, so nothing is read.
#![no_main]

use std::path::Path;

use claimscript_server::ServiceConfig;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let base = Path::new("/nonexistent/claimscript-fuzz");
    match ServiceConfig::from_toml(text, base, Some(Path::new("fuzz.toml"))) {
        Ok(config) => {
            let _ = config.auth_enabled();
            let _ = config.check_exposure();
        }
        Err(e) => assert!(!e.to_string().is_empty()),
    }
});
