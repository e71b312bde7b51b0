//! Registry references: `oci://host[:port]/repo[:tag][@sha256:<hex>]` or the
//! same without `oci://`. Pure: no I/O.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use crate::digest::{Digest, DigestError};

/// A reference to an artifact in a registry: a registry host (with an
/// optional port), a repository, and a tag and/or a digest. A reference
/// with a digest is *pinned*: pulling it checks the manifest against it.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Reference {
    registry: String,
    repository: String,
    tag: Option<String>,
    digest: Option<Digest>,
}

/// Why a string is not a reference. Each variant names the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReferenceError {
    /// Empty input.
    #[error("empty registry reference")]
    Empty,
    /// No `host/` in front of the repository (`docker.io` is never assumed).
    #[error(
        "reference {0:?}: name the registry host first, as in oci://registry.example.com/team/script:tag or localhost:5000/script:tag"
    )]
    NoRegistry(String),
    /// The registry host or port is not valid.
    #[error("reference {input:?}: invalid registry {registry:?}: {reason}")]
    Registry {
        /// The whole input.
        input: String,
        /// The registry part.
        registry: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// The repository name is not valid (lowercase letters and digits,
    /// separated by `.`, `_`, `__`, `-` and `/`).
    #[error(
        "reference {input:?}: invalid repository {repository:?} (lowercase letters and digits separated by '.', '_', '-' or '/')"
    )]
    Repository {
        /// The whole input.
        input: String,
        /// The repository part.
        repository: String,
    },
    /// The tag is not valid (`[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`).
    #[error(
        "reference {input:?}: invalid tag {tag:?} (letters, digits, '_', '.', '-'; at most 128)"
    )]
    Tag {
        /// The whole input.
        input: String,
        /// The tag part.
        tag: String,
    },
    /// The digest is not valid.
    #[error("reference {input:?}: {source}")]
    Digest {
        /// The whole input.
        input: String,
        /// Why.
        source: DigestError,
    },
}

impl Reference {
    /// Parse `oci://host[:port]/repo[:tag][@sha256:<hex>]`; the `oci://`
    /// prefix is optional. Without a tag or a digest the tag is `latest`.
    ///
    /// ```
    /// use claimscript_oci::Reference;
    /// # fn main() -> Result<(), claimscript_oci::reference::ReferenceError> {
    /// let r = Reference::parse("oci://localhost:5000/team/login:v1")?;
    /// assert_eq!(r.registry(), "localhost:5000");
    /// assert_eq!(r.repository(), "team/login");
    /// assert_eq!(r.tag(), Some("v1"));
    /// assert!(r.digest().is_none());
    /// # Ok(())
    /// # }
    /// ```
    pub fn parse(input: &str) -> Result<Reference, ReferenceError> {
        let rest = input.strip_prefix("oci://").unwrap_or(input);
        if rest.is_empty() {
            return Err(ReferenceError::Empty);
        }
        let Some((registry, path)) = rest.split_once('/') else {
            return Err(ReferenceError::NoRegistry(input.to_string()));
        };
        if !(registry.contains('.')
            || registry.contains(':')
            || registry == "localhost"
            || registry.starts_with('['))
        {
            return Err(ReferenceError::NoRegistry(input.to_string()));
        }
        check_registry(registry).map_err(|reason| ReferenceError::Registry {
            input: input.to_string(),
            registry: registry.to_string(),
            reason,
        })?;
        let (name, digest) = match path.rsplit_once('@') {
            Some((name, digest)) => {
                let digest = Digest::parse(digest).map_err(|source| ReferenceError::Digest {
                    input: input.to_string(),
                    source,
                })?;
                (name, Some(digest))
            }
            None => (path, None),
        };
        let (repository, tag) = match name.rsplit_once(':') {
            Some((repo, tag)) if !tag.contains('/') => (repo, Some(tag)),
            _ => (name, None),
        };
        if !valid_repository(repository) {
            return Err(ReferenceError::Repository {
                input: input.to_string(),
                repository: repository.to_string(),
            });
        }
        if let Some(tag) = tag
            && !valid_tag(tag)
        {
            return Err(ReferenceError::Tag {
                input: input.to_string(),
                tag: tag.to_string(),
            });
        }
        let tag = match (tag, digest) {
            (Some(tag), _) => Some(tag.to_string()),
            (None, Some(_)) => None,
            (None, None) => Some("latest".to_string()),
        };
        Ok(Reference {
            registry: registry.to_string(),
            repository: repository.to_string(),
            tag,
            digest,
        })
    }

    /// Whether `input` is meant as a registry reference rather than a file
    /// name: it starts with `oci://`, or it parses as `host:port/repo...`
    /// (an explicit port: `dir.d/script.wasm` stays a file name). Callers
    /// check for an existing file first.
    pub fn looks_like_reference(input: &str) -> bool {
        input.starts_with("oci://") || Reference::parse(input).is_ok_and(|r| r.port().is_some())
    }

    /// A reference to `repository` in `registry`, by tag.
    pub fn with_tag(
        registry: &str,
        repository: &str,
        tag: &str,
    ) -> Result<Reference, ReferenceError> {
        Reference::parse(&format!("{registry}/{repository}:{tag}"))
    }

    /// The registry: `host` or `host:port`.
    pub fn registry(&self) -> &str {
        &self.registry
    }

    /// The registry host without the port (IPv6 without brackets).
    pub fn host(&self) -> &str {
        host_of(&self.registry)
    }

    /// The port, if the registry names one.
    pub fn port(&self) -> Option<u16> {
        let port = match self.registry.strip_prefix('[') {
            Some(rest) => rest.split_once("]:")?.1,
            None => self.registry.split_once(':')?.1,
        };
        port.parse().ok()
    }

    /// The repository, e.g. `team/login`.
    pub fn repository(&self) -> &str {
        &self.repository
    }

    /// The tag, if any.
    pub fn tag(&self) -> Option<&str> {
        self.tag.as_deref()
    }

    /// The digest, if the reference is pinned.
    pub fn digest(&self) -> Option<&Digest> {
        self.digest.as_ref()
    }

    /// The same reference pinned to `digest` (the tag is kept for display;
    /// the digest is what is fetched).
    pub fn pinned(&self, digest: Digest) -> Reference {
        Reference {
            digest: Some(digest),
            ..self.clone()
        }
    }

    /// `registry/repository@digest`, without the tag.
    pub fn by_digest(&self, digest: Digest) -> Reference {
        Reference {
            tag: None,
            digest: Some(digest),
            ..self.clone()
        }
    }

    /// `registry/repository`: what cosign's payload names as
    /// `docker-reference`.
    pub fn repository_path(&self) -> String {
        format!("{}/{}", self.registry, self.repository)
    }

    /// What the manifest is fetched by: the digest if pinned, else the tag.
    pub fn manifest_key(&self) -> String {
        match (&self.digest, &self.tag) {
            (Some(d), _) => d.to_string(),
            (None, Some(t)) => t.clone(),
            (None, None) => "latest".to_string(),
        }
    }

    /// Whether the registry is on the loopback interface (`localhost`,
    /// 127.0.0.0/8, `::1`): the only registries plain HTTP may be used for.
    pub fn is_loopback(&self) -> bool {
        is_loopback_host(self.host())
    }
}

/// Whether `host` (no port; IPv6 without brackets) is a loopback name or
/// address.
pub fn is_loopback_host(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

fn host_of(registry: &str) -> &str {
    if let Some(rest) = registry.strip_prefix('[') {
        return rest.split_once(']').map_or(rest, |(h, _)| h);
    }
    registry.split_once(':').map_or(registry, |(h, _)| h)
}

fn check_registry(registry: &str) -> Result<(), &'static str> {
    let (host, port) = if let Some(rest) = registry.strip_prefix('[') {
        let (ip, after) = rest.split_once(']').ok_or("unclosed '['")?;
        if ip.parse::<std::net::Ipv6Addr>().is_err() {
            return Err("not an IPv6 address in brackets");
        }
        let port = match after {
            "" => None,
            p => Some(p.strip_prefix(':').ok_or("expected ':port' after ']'")?),
        };
        (None, port)
    } else {
        match registry.split_once(':') {
            Some((h, p)) => (Some(h), Some(p)),
            None => (Some(registry), None),
        }
    };
    if let Some(host) = host {
        if host.is_empty() || host.len() > 253 {
            return Err("empty or too long host name");
        }
        let ok = host.split('.').all(|label| {
            !label.is_empty()
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
        if !ok {
            return Err("not a host name (letters, digits, '-' and '.')");
        }
    }
    if let Some(port) = port {
        match port.parse::<u16>() {
            Ok(p) if p > 0 && port.bytes().all(|b| b.is_ascii_digit()) => {}
            _ => return Err("the port is not a number from 1 to 65535"),
        }
    }
    Ok(())
}

fn valid_repository(repo: &str) -> bool {
    if repo.is_empty() || repo.len() > 255 {
        return false;
    }
    repo.split('/').all(valid_component)
}

/// `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`
fn valid_component(c: &str) -> bool {
    let b = c.as_bytes();
    let alnum = |x: u8| x.is_ascii_lowercase() || x.is_ascii_digit();
    if b.is_empty() || !alnum(b[0]) || !alnum(b[b.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        if alnum(b[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && !alnum(b[i]) {
            i += 1;
        }
        let sep = &c[start..i];
        let ok = sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|x| x == b'-');
        if !ok {
            return false;
        }
    }
    true
}

fn valid_tag(tag: &str) -> bool {
    let b = tag.as_bytes();
    !b.is_empty()
        && b.len() <= 128
        && (b[0].is_ascii_alphanumeric() || b[0] == b'_')
        && b.iter()
            .all(|&x| x.is_ascii_alphanumeric() || x == b'_' || x == b'.' || x == b'-')
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry, self.repository)?;
        if let Some(tag) = &self.tag {
            write!(f, ":{tag}")?;
        }
        if let Some(digest) = &self.digest {
            write!(f, "@{digest}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Reference({self})")
    }
}

impl FromStr for Reference {
    type Err = ReferenceError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Reference::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: &str = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    #[test]
    fn forms() {
        let r = Reference::parse("oci://127.0.0.1:5000/a/b-c:v1.2").expect("ok");
        assert_eq!(
            (r.registry(), r.host(), r.repository(), r.tag()),
            ("127.0.0.1:5000", "127.0.0.1", "a/b-c", Some("v1.2"))
        );
        assert!(r.is_loopback());
        let r = Reference::parse(&format!("registry.example.com/x@{D}")).expect("ok");
        assert_eq!(r.tag(), None);
        assert_eq!(r.digest().expect("ok").to_string(), D);
        assert!(!r.is_loopback());
        assert_eq!(r.manifest_key(), D);
        let r = Reference::parse(&format!("[::1]:80/x:t@{D}")).expect("ok");
        assert_eq!((r.host(), r.port()), ("::1", Some(80)));
        assert!(r.is_loopback());
        assert_eq!(r.to_string(), format!("[::1]:80/x:t@{D}"));
        let r = Reference::parse("localhost/x").expect("ok");
        assert_eq!(r.tag(), Some("latest"));
        assert_eq!(r.repository_path(), "localhost/x");
    }

    #[test]
    fn refused() {
        for (input, want) in [
            ("", "empty"),
            ("login.wasm", "name the registry host"),
            ("team/login:v1", "name the registry host"),
            ("oci://localhost:99999/x", "port"),
            ("oci://localhost:5000/Upper", "invalid repository"),
            ("oci://localhost:5000/a//b", "invalid repository"),
            ("oci://localhost:5000/a:bad tag", "invalid tag"),
            ("oci://localhost:5000/a@sha256:12", "64 lowercase hex"),
            ("oci://localhost:5000/a@md5:12", "only sha256"),
            ("oci://bad_host.example/a", "host name"),
        ] {
            let e = Reference::parse(input).expect_err("must fail").to_string();
            assert!(e.contains(want), "{input}: {e}");
        }
        assert!(!Reference::looks_like_reference("script.wasm"));
        assert!(!Reference::looks_like_reference("dir/script.wasm"));
        assert!(Reference::looks_like_reference("localhost:5000/s:v1"));
        assert!(Reference::looks_like_reference("[::1]:5000/s"));
        assert!(!Reference::looks_like_reference("dir.d/script.wasm"));
        assert!(!Reference::looks_like_reference("[::1]/s"));
        assert!(Reference::looks_like_reference("oci://whatever"));
    }
}
