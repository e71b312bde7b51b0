//! Which IP addresses a script may never reach through a wildcard grant.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Why an address is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum BlockReason {
    /// `0.0.0.0/8`, `::`.
    Unspecified,
    /// `127.0.0.0/8`, `::1`.
    Loopback,
    /// RFC 1918: `10/8`, `172.16/12`, `192.168/16`.
    Private,
    /// `100.64.0.0/10` (carrier-grade NAT, RFC 6598).
    SharedAddressSpace,
    /// `169.254.0.0/16` (including the cloud metadata address
    /// `169.254.169.254`), `fe80::/10`.
    LinkLocal,
    /// `fc00::/7` (RFC 4193), and the deprecated site-local `fec0::/10`.
    UniqueLocal,
    /// `224.0.0.0/4`, `ff00::/8`.
    Multicast,
    /// `255.255.255.255`.
    Broadcast,
    /// `192.0.2/24`, `198.51.100/24`, `203.0.113/24`, `2001:db8::/32`,
    /// `3fff::/20`.
    Documentation,
    /// `198.18.0.0/15`, `2001:2::/48`.
    Benchmarking,
    /// Reserved or special-purpose: `192.0.0/24`, `240.0.0.0/4`,
    /// `192.88.99/24`, `100::/64`, `64:ff9b:1::/48`, `2001::/23` outside
    /// Teredo, ORCHID.
    Reserved,
    /// An IPv6 form (mapped, compatible, 6to4, Teredo, NAT64) that embeds a
    /// refused IPv4 address.
    Embedded(EmbeddedForm, EmbeddedReason),
}

/// How an IPv6 address embeds an IPv4 address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum EmbeddedForm {
    /// `::ffff:a.b.c.d`.
    Mapped,
    /// `::a.b.c.d` (deprecated).
    Compatible,
    /// `2002:AABB:CCDD::/48`.
    SixToFour,
    /// `2001:0::/32`, client address inverted in the last 32 bits.
    Teredo,
    /// `64:ff9b::a.b.c.d` (RFC 6052).
    Nat64,
}

/// The IPv4-level reason inside an [`BlockReason::Embedded`] address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EmbeddedReason(Ipv4Addr);

impl EmbeddedReason {
    /// The embedded IPv4 address.
    pub fn address(self) -> Ipv4Addr {
        self.0
    }
}

impl fmt::Display for BlockReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BlockReason::Unspecified => f.write_str("unspecified"),
            BlockReason::Loopback => f.write_str("loopback"),
            BlockReason::Private => f.write_str("private (RFC 1918)"),
            BlockReason::SharedAddressSpace => f.write_str("shared address space (CGNAT)"),
            BlockReason::LinkLocal => f.write_str("link-local (includes cloud metadata)"),
            BlockReason::UniqueLocal => f.write_str("unique-local"),
            BlockReason::Multicast => f.write_str("multicast"),
            BlockReason::Broadcast => f.write_str("broadcast"),
            BlockReason::Documentation => f.write_str("reserved for documentation"),
            BlockReason::Benchmarking => f.write_str("reserved for benchmarking"),
            BlockReason::Reserved => f.write_str("reserved"),
            BlockReason::Embedded(form, inner) => {
                let form = match form {
                    EmbeddedForm::Mapped => "IPv4-mapped",
                    EmbeddedForm::Compatible => "IPv4-compatible",
                    EmbeddedForm::SixToFour => "6to4",
                    EmbeddedForm::Teredo => "Teredo",
                    EmbeddedForm::Nat64 => "NAT64",
                };
                let reason = classify_v4(inner.0).map_or_else(String::new, |r| r.to_string());
                write!(f, "{form}, embedding {} ({reason})", inner.0)
            }
        }
    }
}

/// `Some(reason)` when `address` must not be reached through a wildcard
/// grant; `None` for a public unicast address.
pub fn classify(address: IpAddr) -> Option<BlockReason> {
    match address {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => classify_v6(v6),
    }
}

fn in_v4(address: Ipv4Addr, network: [u8; 4], prefix: u32) -> bool {
    let mask = if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - prefix)
    };
    (u32::from(address) & mask) == (u32::from(Ipv4Addr::from(network)) & mask)
}

fn classify_v4(a: Ipv4Addr) -> Option<BlockReason> {
    use BlockReason::*;
    let table: &[([u8; 4], u32, BlockReason)] = &[
        ([0, 0, 0, 0], 8, Unspecified),
        ([127, 0, 0, 0], 8, Loopback),
        ([10, 0, 0, 0], 8, Private),
        ([172, 16, 0, 0], 12, Private),
        ([192, 168, 0, 0], 16, Private),
        ([100, 64, 0, 0], 10, SharedAddressSpace),
        ([169, 254, 0, 0], 16, LinkLocal),
        ([192, 0, 0, 0], 24, Reserved),
        ([192, 0, 2, 0], 24, Documentation),
        ([198, 51, 100, 0], 24, Documentation),
        ([203, 0, 113, 0], 24, Documentation),
        ([192, 88, 99, 0], 24, Reserved),
        ([198, 18, 0, 0], 15, Benchmarking),
        ([224, 0, 0, 0], 4, Multicast),
        ([255, 255, 255, 255], 32, Broadcast),
        ([240, 0, 0, 0], 4, Reserved),
    ];
    table
        .iter()
        .find(|(net, prefix, _)| in_v4(a, *net, *prefix))
        .map(|(_, _, r)| *r)
}

fn in_v6(address: Ipv6Addr, network: Ipv6Addr, prefix: u32) -> bool {
    let mask = if prefix == 0 {
        0
    } else {
        u128::MAX << (128 - prefix)
    };
    (u128::from(address) & mask) == (u128::from(network) & mask)
}

fn v6(s: &str) -> Ipv6Addr {
    // Literals in this file only; a typo is caught by the tests.
    s.parse().unwrap_or(Ipv6Addr::UNSPECIFIED)
}

fn classify_v6(a: Ipv6Addr) -> Option<BlockReason> {
    use BlockReason::*;
    let bits = u128::from(a);
    if a.is_unspecified() {
        return Some(Unspecified);
    }
    if a.is_loopback() {
        return Some(Loopback);
    }
    let low32 = Ipv4Addr::from((bits & 0xffff_ffff) as u32);
    let embedded = |form, v4: Ipv4Addr| classify_v4(v4).map(|_| Embedded(form, EmbeddedReason(v4)));
    if in_v6(a, v6("::ffff:0:0"), 96) {
        return embedded(EmbeddedForm::Mapped, low32);
    }
    if in_v6(a, v6("::"), 96) {
        return embedded(EmbeddedForm::Compatible, low32);
    }
    if in_v6(a, v6("64:ff9b::"), 96) {
        return embedded(EmbeddedForm::Nat64, low32);
    }
    if in_v6(a, v6("2002::"), 16) {
        let v4 = Ipv4Addr::from(((bits >> 80) & 0xffff_ffff) as u32);
        return embedded(EmbeddedForm::SixToFour, v4);
    }
    if in_v6(a, v6("2001::"), 32) {
        // Teredo: the client's address is the bitwise NOT of the last 32 bits.
        return embedded(
            EmbeddedForm::Teredo,
            Ipv4Addr::from(!((bits & 0xffff_ffff) as u32)),
        );
    }
    let table: &[(&str, u32, BlockReason)] = &[
        ("64:ff9b:1::", 48, Reserved),
        ("100::", 64, Reserved),
        ("2001:2::", 48, Benchmarking),
        ("2001:db8::", 32, Documentation),
        ("2001:10::", 28, Reserved),
        ("2001:20::", 28, Reserved),
        ("3fff::", 20, Documentation),
        ("fc00::", 7, UniqueLocal),
        ("fe80::", 10, LinkLocal),
        ("fec0::", 10, UniqueLocal),
        ("ff00::", 8, Multicast),
    ];
    table
        .iter()
        .find(|(net, prefix, _)| in_v6(a, v6(net), *prefix))
        .map(|(_, _, r)| *r)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(s: &str) -> Option<BlockReason> {
        classify(s.parse().expect("address literal"))
    }

    #[test]
    fn ipv4_ranges() {
        use BlockReason::*;
        for (address, expected) in [
            ("0.0.0.0", Unspecified),
            ("0.1.2.3", Unspecified),
            ("127.0.0.1", Loopback),
            ("127.255.255.254", Loopback),
            ("10.0.0.1", Private),
            ("10.255.255.255", Private),
            ("172.16.0.1", Private),
            ("172.31.255.255", Private),
            ("192.168.1.1", Private),
            ("100.64.0.1", SharedAddressSpace),
            ("100.127.255.255", SharedAddressSpace),
            ("169.254.169.254", LinkLocal),
            ("169.254.0.1", LinkLocal),
            ("192.0.0.8", Reserved),
            ("192.0.2.1", Documentation),
            ("198.51.100.7", Documentation),
            ("203.0.113.9", Documentation),
            ("192.88.99.1", Reserved),
            ("198.18.0.1", Benchmarking),
            ("198.19.255.255", Benchmarking),
            ("224.0.0.1", Multicast),
            ("239.255.255.250", Multicast),
            ("240.0.0.1", Reserved),
            ("255.255.255.255", Broadcast),
        ] {
            assert_eq!(reason(address), Some(expected), "{address}");
        }
    }

    #[test]
    fn ipv4_public_neighbours_pass() {
        for address in [
            "1.1.1.1",
            "8.8.8.8",
            "9.255.255.255",
            "11.0.0.1",
            "100.63.255.255",
            "100.128.0.1",
            "126.255.255.255",
            "128.0.0.1",
            "169.253.255.255",
            "172.15.255.255",
            "172.32.0.1",
            "192.167.255.255",
            "192.169.0.1",
            "198.17.255.255",
            "198.20.0.1",
            "223.255.255.255",
        ] {
            assert_eq!(reason(address), None, "{address}");
        }
    }

    #[test]
    fn ipv6_ranges() {
        use BlockReason::*;
        for (address, expected) in [
            ("::", Unspecified),
            ("::1", Loopback),
            ("fc00::1", UniqueLocal),
            ("fd12:3456:789a::1", UniqueLocal),
            ("fe80::1", LinkLocal),
            ("febf::1", LinkLocal),
            ("fec0::1", UniqueLocal),
            ("ff02::1", Multicast),
            ("ff05::1:3", Multicast),
            ("2001:db8::1", Documentation),
            ("3fff::1", Documentation),
            ("2001:2::1", Benchmarking),
            ("100::1", Reserved),
            ("64:ff9b:1::1", Reserved),
            ("2001:10::1", Reserved),
        ] {
            assert_eq!(reason(address), Some(expected), "{address}");
        }
    }

    #[test]
    fn ipv6_forms_embedding_refused_ipv4() {
        for (address, form, inner) in [
            ("::ffff:127.0.0.1", EmbeddedForm::Mapped, "127.0.0.1"),
            ("::ffff:7f00:1", EmbeddedForm::Mapped, "127.0.0.1"),
            (
                "::ffff:169.254.169.254",
                EmbeddedForm::Mapped,
                "169.254.169.254",
            ),
            ("::ffff:10.0.0.1", EmbeddedForm::Mapped, "10.0.0.1"),
            ("::127.0.0.1", EmbeddedForm::Compatible, "127.0.0.1"),
            ("::192.168.0.1", EmbeddedForm::Compatible, "192.168.0.1"),
            ("2002:7f00:1::", EmbeddedForm::SixToFour, "127.0.0.1"),
            (
                "2002:a9fe:a9fe::1",
                EmbeddedForm::SixToFour,
                "169.254.169.254",
            ),
            // Teredo client 127.0.0.1 is stored inverted: !0x7f000001 = 0x80fffffe.
            (
                "2001:0:4136:e378:8000:63bf:80ff:fffe",
                EmbeddedForm::Teredo,
                "127.0.0.1",
            ),
            ("64:ff9b::127.0.0.1", EmbeddedForm::Nat64, "127.0.0.1"),
            ("64:ff9b::a00:1", EmbeddedForm::Nat64, "10.0.0.1"),
        ] {
            let inner: Ipv4Addr = inner.parse().expect("v4");
            assert_eq!(
                reason(address),
                Some(BlockReason::Embedded(form, EmbeddedReason(inner))),
                "{address}"
            );
        }
    }

    #[test]
    fn ipv6_forms_embedding_public_ipv4_pass() {
        for address in [
            "::ffff:8.8.8.8",
            "::8.8.8.8",
            "2002:808:808::1",
            "64:ff9b::8.8.8.8",
            // Teredo client 8.8.8.8 inverted: f7f7:f7f7.
            "2001:0:4136:e378:8000:63bf:f7f7:f7f7",
            "2606:4700:4700::1111",
            "2a00:1450:4001::200e",
        ] {
            assert_eq!(reason(address), None, "{address}");
        }
    }

    #[test]
    fn reasons_read_well() {
        let r = reason("::ffff:127.0.0.1").expect("refused");
        assert_eq!(r.to_string(), "IPv4-mapped, embedding 127.0.0.1 (loopback)");
        assert_eq!(
            reason("169.254.169.254").expect("refused").to_string(),
            "link-local (includes cloud metadata)"
        );
    }
}
