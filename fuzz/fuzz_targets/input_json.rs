//! The run input's JSON parser: any text gives a RunInput or a typed error.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match claimscript::RunInput::from_json(text) {
        // What parses parses the same again.
        Ok(input) => {
            let again = claimscript::RunInput::from_json(text).expect("parses twice");
            assert_eq!(format!("{input:?}"), format!("{again:?}"));
        }
        Err(e) => assert!(!e.to_string().is_empty(), "an error without a message"),
    }
});
