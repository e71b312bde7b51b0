//! The address classifier: every address classifies without panicking, the
//! guard agrees with the classification, and an IPv4 address and its
//! IPv4-mapped IPv6 form are blocked alike (no bypass by notation).
#![no_main]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use claimscript_egress::{Guard, classify};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let address = match data.len() {
        4 => IpAddr::V4(Ipv4Addr::new(data[0], data[1], data[2], data[3])),
        16.. => {
            let mut octets = [0u8; 16];
            octets.copy_from_slice(&data[..16]);
            IpAddr::V6(Ipv6Addr::from(octets))
        }
        _ => return,
    };
    let reason = classify(address);
    if let Some(reason) = reason {
        let _ = reason.to_string();
    }
    assert_eq!(
        Guard::public_only().check_address(address).is_ok(),
        reason.is_none(),
        "the guard disagrees with the classifier on {address}"
    );
    assert!(Guard::opening_non_public().check_address(address).is_ok());
    if let IpAddr::V4(v4) = address {
        let mapped = IpAddr::V6(v4.to_ipv6_mapped());
        assert_eq!(
            classify(mapped).is_some(),
            reason.is_some(),
            "{address} and {mapped} are classified differently"
        );
    }
    // Whatever text the address has parses back to it.
    let text = address.to_string();
    assert_eq!(text.parse::<IpAddr>().ok(), Some(address));
});
