//! Fetch allow patterns and URL matching: the first line is a pattern, the
//! rest a URL. The pattern parser must not panic; a URL the grants admit must
//! match the pattern by scheme, host and port, and `admit` must agree with
//! `FetchGrants::allows`.
#![no_main]

use claimscript_grants::{FetchGrants, HostPattern, Scheme};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (pattern, url) = text.split_once('\n').unwrap_or((text, ""));
    let parsed: Result<HostPattern, _> = pattern.parse();
    let Ok(parsed) = parsed else {
        return;
    };
    let _ = parsed.describe();
    let _ = parsed.as_str();
    let Ok(grants) = FetchGrants::allowing([pattern]) else {
        panic!("a pattern that parses alone is refused in a grant: {pattern:?}");
    };
    let Ok(url) = url::Url::parse(url) else {
        return;
    };
    let _ = parsed.names_host_explicitly(url.host_str().unwrap_or(""));
    if let Ok(admission) = claimscript_egress::admit(Some(&grants), &url) {
        let scheme = Scheme::parse(url.scheme()).expect("an admitted URL is http or https");
        assert_eq!(admission.scheme, scheme);
        assert!(
            grants.allows(admission.scheme, &admission.host, admission.port),
            "admitted but the grants do not allow {:?}",
            admission
        );
        let _ = admission.guard();
    }
});
