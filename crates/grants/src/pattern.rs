//! `scheme://host[:port]` egress patterns, parsed once at load time.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

/// A URL scheme fetch supports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Scheme {
    /// `http`, default port 80.
    Http,
    /// `https`, default port 443.
    Https,
}

impl Scheme {
    /// The scheme's default port.
    pub fn default_port(self) -> u16 {
        match self {
            Scheme::Http => 80,
            Scheme::Https => 443,
        }
    }

    /// Parse `http` or `https` (case-insensitive).
    pub fn parse(s: &str) -> Option<Scheme> {
        match s.to_ascii_lowercase().as_str() {
            "http" => Some(Scheme::Http),
            "https" => Some(Scheme::Https),
            _ => None,
        }
    }

    /// The scheme's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }
}

/// Which hosts a pattern admits.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum HostRule {
    /// `*`: any host name. Never opens loopback, private or other non-public
    /// addresses: the address guard still refuses them.
    Any,
    /// `*.example.com`: any subdomain of `example.com` (not `example.com` itself).
    Subdomains(String),
    /// `api.example.com`: exactly this name (lower-case, no trailing dot).
    Name(String),
    /// `127.0.0.1` or `[::1]`: exactly this address; naming it opens it even
    /// when the address guard would refuse it.
    Ip(IpAddr),
}

/// Which ports a pattern admits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PortRule {
    /// `:*`: any port.
    Any,
    /// An explicit port, or the scheme's default when the pattern has none.
    Exact(u16),
}

/// One `allow` entry: `scheme://host[:port]`.
///
/// - host: `*` (any), `*.example.com` (subdomains), a name, an IPv4 address or
///   a bracketed IPv6 address;
/// - port: a number, `*`, or omitted for the scheme's default.
///
/// Paths, queries and credentials are rejected, and so is a host the URL
/// standard reads as a numeric IPv4 address (`127.1`, `2130706433`): the
/// error gives its dotted form. In an `allow` list, `*` alone means any
/// host and port over http and https ([`HostPattern::parse_allow`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostPattern {
    /// The scheme.
    pub scheme: Scheme,
    /// The hosts.
    pub host: HostRule,
    /// The ports.
    pub port: PortRule,
    source: String,
}

impl HostPattern {
    /// Whether `scheme://host:port` matches. `host` may be a name or an IP
    /// literal (IPv6 with or without brackets).
    pub fn matches(&self, scheme: Scheme, host: &str, port: u16) -> bool {
        if scheme != self.scheme {
            return false;
        }
        if let PortRule::Exact(p) = self.port
            && p != port
        {
            return false;
        }
        let host = normalise_host(host);
        match &self.host {
            HostRule::Any => true,
            HostRule::Subdomains(domain) => host
                .strip_suffix(domain.as_str())
                .is_some_and(|prefix| prefix.len() > 1 && prefix.ends_with('.')),
            HostRule::Name(name) => host == *name,
            HostRule::Ip(ip) => parse_ip(&host) == Some(*ip),
        }
    }

    /// Whether this pattern names `host` itself (an exact name or address, not
    /// a wildcard): such a grant opens addresses the guard would refuse.
    pub fn names_host_explicitly(&self, host: &str) -> bool {
        let host = normalise_host(host);
        match &self.host {
            HostRule::Name(name) => host == *name,
            HostRule::Ip(ip) => parse_ip(&host) == Some(*ip),
            HostRule::Any | HostRule::Subdomains(_) => false,
        }
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// What the pattern admits, in plain words.
    pub fn describe(&self) -> String {
        let host = match &self.host {
            HostRule::Any => "any host (public addresses only)".to_string(),
            HostRule::Subdomains(d) => format!("any subdomain of {d}"),
            HostRule::Name(n) => format!("the host {n}"),
            HostRule::Ip(ip) => format!("the address {ip}"),
        };
        let port = match self.port {
            PortRule::Any => "any port".to_string(),
            PortRule::Exact(p) => format!("port {p}"),
        };
        format!("{} to {host}, {port}", self.scheme.as_str())
    }
}

impl fmt::Display for HostPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

/// Why an `allow` pattern was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid fetch pattern `{pattern}`: {reason} (expected scheme://host[:port], e.g. https://api.example.com or https://*.example.com:*)"
)]
pub struct PatternError {
    /// The pattern as written.
    pub pattern: String,
    /// What is wrong with it.
    pub reason: String,
}

impl FromStr for HostPattern {
    type Err = PatternError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let fail = |reason: &str| PatternError {
            pattern: s.to_string(),
            reason: reason.to_string(),
        };
        let (scheme, rest) = s.split_once("://").ok_or_else(|| {
            fail("missing `://` (`*` alone, any http or https host and port, is an allow entry only)")
        })?;
        let scheme =
            Scheme::parse(scheme).ok_or_else(|| fail("the scheme must be http or https"))?;
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        if rest.contains(['/', '?', '#']) {
            return Err(fail("patterns have no path, query or fragment"));
        }
        if rest.contains('@') {
            return Err(fail("patterns have no credentials"));
        }
        let (host, port) = split_host_port(rest).map_err(fail)?;
        let port = match port {
            None => PortRule::Exact(scheme.default_port()),
            Some("*") => PortRule::Any,
            Some(p) => PortRule::Exact(
                p.parse::<u16>()
                    .ok()
                    .filter(|p| *p != 0)
                    .ok_or_else(|| fail("the port must be 1-65535 or *"))?,
            ),
        };
        let host = if host == "*" {
            HostRule::Any
        } else if let Some(domain) = host.strip_prefix("*.") {
            HostRule::Subdomains(valid_name(domain).map_err(fail)?)
        } else if let Some(ip) = parse_ip(host) {
            HostRule::Ip(ip)
        } else if host.starts_with('[') {
            return Err(fail("invalid IPv6 address"));
        } else if let Some(numeric) = numeric_ipv4(host) {
            // URLs read a host ending in a number as an IPv4 address
            // (`127.1`, `2130706433`, `0x7f.1`): as a name it would never
            // match.
            return Err(match numeric {
                Some(ip) => PatternError {
                    pattern: s.to_string(),
                    reason: format!(
                        "`{host}` is the IPv4 address {ip} written as a number; write it dotted: {}://{ip}{}",
                        scheme.as_str(),
                        port_suffix(port, scheme),
                    ),
                },
                None => fail("the host ends in a number but is not an IPv4 address"),
            });
        } else {
            HostRule::Name(valid_name(host).map_err(fail)?)
        };
        Ok(HostPattern {
            scheme,
            host,
            port,
            source: s.to_string(),
        })
    }
}

impl HostPattern {
    /// One `allow` entry as patterns: `*` alone is any host and port over
    /// http and over https (two patterns, each written `*`); anything else
    /// is one pattern ([`HostPattern::from_str`]). The address guard still
    /// applies to what `*` admits: no loopback, private or other
    /// non-public address.
    pub fn parse_allow(s: &str) -> Result<Vec<HostPattern>, PatternError> {
        if s.trim() == "*" {
            return Ok([Scheme::Http, Scheme::Https]
                .into_iter()
                .map(|scheme| HostPattern {
                    scheme,
                    host: HostRule::Any,
                    port: PortRule::Any,
                    source: "*".to_string(),
                })
                .collect());
        }
        s.parse().map(|p| vec![p])
    }
}

impl<'de> serde::Deserialize<'de> for HostPattern {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

fn split_host_port(s: &str) -> Result<(&str, Option<&str>), &'static str> {
    if s.starts_with('[') {
        let end = s.find(']').ok_or("unclosed `[` in IPv6 address")?;
        let (host, rest) = s.split_at(end + 1);
        return match rest {
            "" => Ok((host, None)),
            _ => rest
                .strip_prefix(':')
                .map(|p| (host, Some(p)))
                .ok_or("unexpected text after `]`"),
        };
    }
    match s.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') => Ok((host, Some(port))),
        Some(_) => Err("IPv6 addresses must be in brackets, e.g. http://[::1]:8080"),
        None => Ok((s, None)),
    }
}

fn valid_name(name: &str) -> Result<String, &'static str> {
    let name = normalise_host(name);
    if name.is_empty() || name.len() > 253 {
        return Err("the host name is empty or too long");
    }
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && l.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    if !name.split('.').all(label_ok) {
        return Err(
            "the host name has an invalid label (wildcards are only `*` or a leading `*.`)",
        );
    }
    Ok(name)
}

/// `:port` as a pattern writes it, or nothing for the scheme's default.
fn port_suffix(port: PortRule, scheme: Scheme) -> String {
    match port {
        PortRule::Any => ":*".to_string(),
        PortRule::Exact(p) if p == scheme.default_port() => String::new(),
        PortRule::Exact(p) => format!(":{p}"),
    }
}

/// How the URL standard reads a host whose last label is a number:
/// `None` when it does not end in a number (a name), `Some(Some(ip))` for
/// the IPv4 address it is (parts in decimal, octal with a leading `0`, or
/// hex with `0x`; fewer than four parts fill the last), `Some(None)` when
/// it ends in a number but is no address (URLs refuse it).
fn numeric_ipv4(host: &str) -> Option<Option<Ipv4Addr>> {
    let host = host.strip_suffix('.').unwrap_or(host);
    let parts: Vec<&str> = host.split('.').collect();
    let last = parts.last()?;
    let ends_in_number = !last.is_empty()
        && (last.bytes().all(|b| b.is_ascii_digit()) || ipv4_number(last).is_some());
    if !ends_in_number {
        return None;
    }
    if parts.len() > 4 {
        return Some(None);
    }
    let numbers: Option<Vec<u64>> = parts.iter().map(|p| ipv4_number(p)).collect();
    let Some(numbers) = numbers else {
        return Some(None);
    };
    let (last, init) = numbers.split_last()?;
    if init.iter().any(|n| *n > 255) {
        return Some(None);
    }
    let room = 5 - numbers.len() as u32;
    if *last >= 256u64.pow(room) {
        return Some(None);
    }
    let mut value = *last;
    for (i, n) in init.iter().enumerate() {
        value += n * 256u64.pow(3 - i as u32);
    }
    Some(u32::try_from(value).ok().map(Ipv4Addr::from))
}

/// One part of a numeric IPv4 host: `0x` hex, `0`-led octal, or decimal.
fn ipv4_number(part: &str) -> Option<u64> {
    if part.is_empty() {
        return None;
    }
    let (digits, radix) = if let Some(hex) = part.strip_prefix("0x").or(part.strip_prefix("0X")) {
        (hex, 16)
    } else if let Some(octal) = part.strip_prefix('0').filter(|rest| !rest.is_empty()) {
        (octal, 8)
    } else {
        (part, 10)
    };
    if digits.is_empty() {
        return Some(0);
    }
    if digits.len() > 16 || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    u64::from_str_radix(digits, radix).ok()
}

fn normalise_host(host: &str) -> String {
    let host = host.strip_suffix('.').unwrap_or(host);
    host.to_ascii_lowercase()
}

/// Parse an IPv4 literal, or an IPv6 literal with or without brackets.
fn parse_ip(host: &str) -> Option<IpAddr> {
    if let Some(inner) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return inner.parse::<Ipv6Addr>().ok().map(IpAddr::V6);
    }
    host.parse::<IpAddr>().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> HostPattern {
        s.parse().unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn exact_host_default_port() {
        let pat = p("https://api.example.com");
        assert!(pat.matches(Scheme::Https, "api.example.com", 443));
        assert!(pat.matches(Scheme::Https, "API.Example.com.", 443));
        assert!(!pat.matches(Scheme::Https, "api.example.com", 8443));
        assert!(!pat.matches(Scheme::Http, "api.example.com", 443));
        assert!(!pat.matches(Scheme::Https, "x.api.example.com", 443));
    }

    #[test]
    fn subdomains_exclude_apex_and_lookalikes() {
        let pat = p("https://*.example.com:*");
        assert!(pat.matches(Scheme::Https, "a.example.com", 1));
        assert!(pat.matches(Scheme::Https, "a.b.example.com", 443));
        assert!(!pat.matches(Scheme::Https, "example.com", 443));
        assert!(!pat.matches(Scheme::Https, "badexample.com", 443));
    }

    #[test]
    fn ip_literals() {
        let v4 = p("http://127.0.0.1:8080");
        assert!(v4.matches(Scheme::Http, "127.0.0.1", 8080));
        assert!(v4.names_host_explicitly("127.0.0.1"));
        assert!(!v4.matches(Scheme::Http, "localhost", 8080));
        let v6 = p("http://[::1]:9000");
        assert!(v6.matches(Scheme::Http, "[::1]", 9000));
        assert!(v6.matches(Scheme::Http, "::1", 9000));
        assert!(!p("http://*").names_host_explicitly("127.0.0.1"));
    }

    #[test]
    fn numeric_ipv4_hosts_are_refused_with_the_dotted_form() {
        for (host, dotted) in [
            ("2130706433", "127.0.0.1"),
            ("127.1", "127.0.0.1"),
            ("0x7f.1", "127.0.0.1"),
            ("0177.0.0.1", "127.0.0.1"),
            ("10.1.2", "10.1.0.2"),
            ("127.000.0.1", "127.0.0.1"),
        ] {
            let err = format!("http://{host}:8080")
                .parse::<HostPattern>()
                .map(|p| p.describe())
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(
                err.contains(&format!("is the IPv4 address {dotted} written as a number"))
                    && err.contains(&format!("http://{dotted}:8080")),
                "{host}: {err}"
            );
        }
        for bad in ["http://1.2.3.4.5", "http://256.1.1.1", "http://example.0x"] {
            let err = bad.parse::<HostPattern>().err().map(|e| e.to_string());
            assert!(
                err.as_deref()
                    .is_some_and(|e| e.contains("ends in a number but is not an IPv4 address")),
                "{bad}: {err:?}"
            );
        }
        // Names with digits elsewhere stay names.
        for good in [
            "http://api2.example.com",
            "http://1.example.com",
            "http://x.123abc",
        ] {
            assert!(good.parse::<HostPattern>().is_ok(), "{good}");
        }
    }

    #[test]
    fn star_alone_is_any_http_or_https_host_and_port() {
        let all = HostPattern::parse_allow("*").unwrap_or_default();
        assert_eq!(all.len(), 2);
        for scheme in [Scheme::Http, Scheme::Https] {
            assert!(
                all.iter()
                    .any(|p| p.matches(scheme, "api.example.com", 8443))
            );
            assert!(all.iter().any(|p| p.matches(scheme, "203.0.113.9", 1)));
        }
        assert!(
            all.iter()
                .all(|p| p.as_str() == "*" && p.host == HostRule::Any)
        );
        // Not a pattern on its own, and not a scheme wildcard either.
        assert!("*".parse::<HostPattern>().is_err());
        assert!(HostPattern::parse_allow("*://x.com").is_err());
    }

    #[test]
    fn rejects_malformed() {
        for bad in [
            "api.example.com",
            "ftp://x.com",
            "https://x.com/path",
            "https://x.com:0",
            "https://x.com:99999",
            "https://a*.x.com",
            "https://user@x.com",
            "http://::1",
            "http://[::1",
            "https://",
        ] {
            assert!(
                bad.parse::<HostPattern>().is_err(),
                "{bad} should be rejected"
            );
        }
    }
}
