//! The egress policy of Claimscript's host-mediated `fetch`, as pure
//! functions: nothing here opens a socket.
//!
//! A request passes two checks:
//!
//! 1. [`admit`]: the URL's scheme, host and port must match one of the
//!    script's `[fetch] allow` patterns ([`claimscript_grants::HostPattern`]).
//! 2. [`check_address`], after DNS, on every resolved address: loopback,
//!    private, link-local (cloud metadata), CGNAT, unique-local, multicast,
//!    broadcast, reserved and documentation ranges are refused, including IPv6
//!    forms that embed such an IPv4 address — unless the grant names the host
//!    or address itself ([`Admission::opens_non_public`]). A wildcard never
//!    opens them. A connector applies it as a [`Guard`] value (one per
//!    connection pool): [`check_addresses`] is that guard for one admission.
//!
//! ```
//! use claimscript_egress::{admit, check_address, classify};
//! use claimscript_grants::FetchGrants;
//! use std::net::IpAddr;
//!
//! let grants = FetchGrants::allowing(["https://*"]).unwrap();
//! let url = url::Url::parse("https://metadata.internal/latest").unwrap();
//! let admission = admit(Some(&grants), &url).unwrap();
//! let metadata: IpAddr = "169.254.169.254".parse().unwrap();
//! assert!(classify(metadata).is_some());
//! assert!(check_address(&admission, metadata).is_err());
//! ```
#![deny(missing_docs)]

mod address;

use std::net::IpAddr;

use claimscript_grants::{FetchGrants, Scheme};
use url::Url;

pub use address::{BlockReason, classify};

/// A request the grants admit, and what it may reach.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Admission {
    /// The scheme.
    pub scheme: Scheme,
    /// The host as written in the URL (an IPv6 literal keeps its brackets).
    pub host: String,
    /// The port (explicit, or the scheme's default).
    pub port: u16,
    /// True when a pattern names this host or address itself, which opens
    /// addresses the guard would refuse (a sidecar on loopback).
    pub opens_non_public: bool,
}

/// Why a request is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Refusal {
    /// No `[fetch]` grant at all.
    #[error("not granted: this script has no [fetch] grant")]
    NoGrant,
    /// The URL is not http(s) or has no host.
    #[error("invalid URL: {0}")]
    InvalidUrl(String),
    /// No `allow` pattern matches.
    #[error("not granted: {0} matches no [fetch] allow pattern")]
    NotAllowed(String),
    /// A resolved (or literal) address is in a refused range.
    #[error("blocked address: {address} is {reason}")]
    BlockedAddress {
        /// The address.
        address: IpAddr,
        /// Its range.
        reason: BlockReason,
    },
}

/// The grant check: is `url` admitted by `grants`?
pub fn admit(grants: Option<&FetchGrants>, url: &Url) -> Result<Admission, Refusal> {
    let grants = grants.ok_or(Refusal::NoGrant)?;
    let scheme = Scheme::parse(url.scheme()).ok_or_else(|| {
        Refusal::InvalidUrl(format!(
            "unsupported scheme `{}` (http and https only)",
            url.scheme()
        ))
    })?;
    let host = url
        .host_str()
        .ok_or_else(|| Refusal::InvalidUrl("no host".into()))?;
    let port = url.port().unwrap_or(scheme.default_port());
    let matching: Vec<_> = grants
        .allow
        .iter()
        .filter(|p| p.matches(scheme, host, port))
        .collect();
    if matching.is_empty() {
        return Err(Refusal::NotAllowed(format!(
            "{}://{host}:{port}",
            scheme.as_str()
        )));
    }
    Ok(Admission {
        scheme,
        host: host.to_string(),
        port,
        opens_non_public: matching.iter().any(|p| p.names_host_explicitly(host)),
    })
}

/// The address guard: may an admitted request connect to `address`?
pub fn check_address(admission: &Admission, address: IpAddr) -> Result<(), Refusal> {
    admission.guard().check_address(address)
}

/// Check every resolved address; refuse the request if any is refused (a
/// name that resolves to a mix of public and internal addresses is treated
/// as hostile). Returns the addresses to dial, in order.
pub fn check_addresses(
    admission: &Admission,
    addresses: &[IpAddr],
) -> Result<Vec<IpAddr>, Refusal> {
    admission.guard().check_addresses(addresses)
}

impl Admission {
    /// The address guard this admission calls for: what a connector that
    /// dials for it must check ([`Guard::check_addresses`]).
    pub fn guard(&self) -> Guard {
        Guard {
            opens_non_public: self.opens_non_public,
        }
    }
}

/// The address guard a connector applies after DNS: refuse every
/// non-public address ([`classify`]), unless the grant named the host or
/// address itself. [`check_address`] and [`check_addresses`] are this
/// guard for one admission; a connection pool whose connector serves many
/// admissions of the same kind holds the `Guard` value instead (the
/// engine's HTTP client keeps one pool per kind).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Guard {
    opens_non_public: bool,
}

impl Guard {
    /// The guard for requests admitted only through a wildcard: public
    /// addresses only.
    pub fn public_only() -> Guard {
        Guard {
            opens_non_public: false,
        }
    }

    /// The guard for requests whose grant names the host or address
    /// itself ([`Admission::opens_non_public`]): every address.
    pub fn opening_non_public() -> Guard {
        Guard {
            opens_non_public: true,
        }
    }

    /// Whether this guard lets non-public addresses through.
    pub fn opens_non_public(&self) -> bool {
        self.opens_non_public
    }

    /// May a connection go to `address`?
    pub fn check_address(&self, address: IpAddr) -> Result<(), Refusal> {
        match classify(address) {
            Some(reason) if !self.opens_non_public => {
                Err(Refusal::BlockedAddress { address, reason })
            }
            _ => Ok(()),
        }
    }

    /// Check every resolved address; refuse them all if any is refused (a
    /// name that resolves to a mix of public and internal addresses is
    /// treated as hostile). Returns the addresses to dial, in order.
    pub fn check_addresses(&self, addresses: &[IpAddr]) -> Result<Vec<IpAddr>, Refusal> {
        for address in addresses {
            self.check_address(*address)?;
        }
        Ok(addresses.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).expect("url")
    }

    #[test]
    fn nothing_without_a_grant() {
        assert_eq!(
            admit(None, &url("https://api.example.com")),
            Err(Refusal::NoGrant)
        );
        let empty = FetchGrants::default();
        assert!(matches!(
            admit(Some(&empty), &url("https://api.example.com")),
            Err(Refusal::NotAllowed(_))
        ));
    }

    #[test]
    fn wildcard_never_opens_non_public_addresses() {
        let grants = FetchGrants::allowing(["http://*:*"]).expect("grants");
        for target in [
            "http://127.0.0.1:8080/",
            "http://localhost:8080/",
            "http://[::1]:9000/",
            "http://[::ffff:127.0.0.1]:80/",
            "http://0.0.0.0/",
            "http://169.254.169.254/latest/meta-data",
        ] {
            let u = url(target);
            let admission = admit(Some(&grants), &u).expect(target);
            assert!(!admission.opens_non_public, "{target}");
            let literal = u.host().and_then(|h| match h {
                url::Host::Ipv4(a) => Some(IpAddr::V4(a)),
                url::Host::Ipv6(a) => Some(IpAddr::V6(a)),
                url::Host::Domain(_) => None,
            });
            let address = literal.unwrap_or_else(|| "127.0.0.1".parse().expect("ip"));
            assert!(check_address(&admission, address).is_err(), "{target}");
        }
    }

    #[test]
    fn naming_the_address_opens_it() {
        let grants = FetchGrants::allowing([
            "http://127.0.0.1:8080",
            "http://[::1]:9000",
            "http://sidecar.local:7000",
        ])
        .expect("grants");
        for (target, address) in [
            ("http://127.0.0.1:8080/x", "127.0.0.1"),
            ("http://[::1]:9000/", "::1"),
            ("http://sidecar.local:7000/", "10.0.0.7"),
        ] {
            let admission = admit(Some(&grants), &url(target)).expect(target);
            assert!(admission.opens_non_public, "{target}");
            assert_eq!(
                check_address(&admission, address.parse().expect("ip")),
                Ok(())
            );
        }
        // Another name or port is not granted.
        assert!(admit(Some(&grants), &url("http://localhost:8080/")).is_err());
        assert!(admit(Some(&grants), &url("http://127.0.0.1:8081/")).is_err());
    }

    #[test]
    fn mixed_resolution_is_refused() {
        let grants = FetchGrants::allowing(["https://*.example.com"]).expect("grants");
        let admission = admit(Some(&grants), &url("https://api.example.com/")).expect("admitted");
        let public: IpAddr = "93.184.215.14".parse().expect("ip");
        let private: IpAddr = "10.1.2.3".parse().expect("ip");
        assert_eq!(check_addresses(&admission, &[public]), Ok(vec![public]));
        assert!(check_addresses(&admission, &[public, private]).is_err());
    }

    #[test]
    fn the_guard_of_an_admission_is_the_guard_check_addresses_applies() {
        let wildcard = FetchGrants::allowing(["http://*:*"]).expect("grants");
        let named = FetchGrants::allowing(["http://127.0.0.1:8080"]).expect("grants");
        let loopback: IpAddr = "127.0.0.1".parse().expect("ip");
        let public: IpAddr = "93.184.215.14".parse().expect("ip");
        let through_wildcard =
            admit(Some(&wildcard), &url("http://127.0.0.1:8080/")).expect("admitted");
        let by_name = admit(Some(&named), &url("http://127.0.0.1:8080/")).expect("admitted");
        assert_eq!(through_wildcard.guard(), Guard::public_only());
        assert_eq!(by_name.guard(), Guard::opening_non_public());
        assert!(!Guard::public_only().opens_non_public());
        assert_eq!(
            Guard::public_only().check_addresses(&[public, loopback]),
            Err(Refusal::BlockedAddress {
                address: loopback,
                reason: BlockReason::Loopback
            })
        );
        assert_eq!(
            Guard::opening_non_public().check_addresses(&[loopback, public]),
            Ok(vec![loopback, public])
        );
        assert_eq!(Guard::public_only().check_addresses(&[]), Ok(vec![]));
    }

    #[test]
    fn non_http_schemes_are_invalid() {
        let grants = FetchGrants::allowing(["https://*"]).expect("grants");
        assert!(matches!(
            admit(Some(&grants), &url("file:///etc/passwd")),
            Err(Refusal::InvalidUrl(_))
        ));
        assert!(matches!(
            admit(Some(&grants), &url("ftp://x.example.com/")),
            Err(Refusal::InvalidUrl(_))
        ));
    }
}
