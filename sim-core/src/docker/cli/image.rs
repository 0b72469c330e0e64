//! Image references, validated like distribution/reference `ParseNormalizedNamed`.

use std::fmt;

/// A normalised image reference (`mysql:8.0` → domain `docker.io`, path `library/mysql`,
/// tag `8.0`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ImageRef {
    pub domain: String,
    pub path: String,
    pub tag: Option<String>,
    /// `algorithm:hex`.
    pub digest: Option<String>,
}

impl ImageRef {
    /// The tag, defaulting to `latest` when neither tag nor digest was given
    /// (`reference.TagNameOnly`).
    pub fn tag_or_latest(&self) -> Option<&str> {
        match (&self.tag, &self.digest) {
            (Some(t), _) => Some(t),
            (None, None) => Some("latest"),
            (None, Some(_)) => None,
        }
    }

    /// Name and tag as a swarm service's spec holds them without a registry to resolve a
    /// digest (`alpine:latest`, `nginx:1.27`).
    pub fn familiar_tagged(&self) -> String {
        format!("{}:{}", self.familiar_name(), self.tag_or_latest().unwrap_or("latest"))
    }

    /// The repository as users write it (`reference.FamiliarName`): `mysql`, `user/app`,
    /// `registry:5000/app`.
    pub fn familiar_name(&self) -> String {
        if self.domain == "docker.io" {
            self.path.strip_prefix("library/").filter(|r| !r.contains('/')).unwrap_or(&self.path).to_string()
        } else {
            format!("{}/{}", self.domain, self.path)
        }
    }

    /// Parse and normalise. Errors are distribution/reference's messages.
    pub fn parse(s: &str) -> Result<ImageRef, String> {
        parse_normalized_named(s)
    }
}

impl fmt::Display for ImageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.familiar_name())?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

const NAME_TOTAL_LENGTH_MAX: usize = 255;

fn is_hex64(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

fn split_docker_domain(name: &str) -> (String, String) {
    let (mut domain, mut remainder) = match name.find('/') {
        Some(i) => {
            let first = &name[..i];
            if !first.contains(['.', ':']) && first != "localhost" && first.to_lowercase() == first {
                ("docker.io".to_string(), name.to_string())
            } else {
                (first.to_string(), name[i + 1..].to_string())
            }
        }
        None => ("docker.io".to_string(), name.to_string()),
    };
    if domain == "index.docker.io" {
        domain = "docker.io".to_string();
    }
    if domain == "docker.io" && !remainder.contains('/') {
        remainder = format!("library/{remainder}");
    }
    (domain, remainder)
}

fn parse_normalized_named(s: &str) -> Result<ImageRef, String> {
    if is_hex64(s) {
        return Err(format!("invalid repository name ({s}), cannot specify 64-byte hexadecimal strings"));
    }
    let (domain, remainder) = split_docker_domain(s);
    let remote = match remainder.find(':') {
        Some(i) => &remainder[..i],
        None => &remainder,
    };
    if remote.to_lowercase() != remote {
        return Err(format!("invalid reference format: repository name ({remote}) must be lowercase"));
    }
    let full = format!("{domain}/{remainder}");
    let Some((name, tag, digest)) = match_reference(&full) else {
        if match_reference(&full.to_lowercase()).is_some() {
            return Err("invalid reference format: repository name must be lowercase".to_string());
        }
        return Err("invalid reference format".to_string());
    };
    if name.len() > NAME_TOTAL_LENGTH_MAX {
        return Err(format!("repository name must not be more than {NAME_TOTAL_LENGTH_MAX} characters"));
    }
    if let Some(d) = digest {
        validate_digest(d)?;
    }
    let path = name[domain.len() + 1..].to_string();
    Ok(ImageRef { domain, path, tag: tag.map(str::to_string), digest: digest.map(str::to_string) })
}

/// opencontainers/go-digest `Digest.Validate`.
fn validate_digest(d: &str) -> Result<(), String> {
    let (alg, hex) = d.split_once(':').ok_or("invalid checksum digest format")?;
    let want = match alg {
        "sha256" => 64,
        "sha384" => 96,
        "sha512" => 128,
        _ => return Err("unsupported digest algorithm".to_string()),
    };
    if !hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return Err("invalid checksum digest format".to_string());
    }
    if hex.len() != want {
        return Err("invalid checksum digest length".to_string());
    }
    Ok(())
}

/// `^(name)(?::(tag))?(?:@(digest))?$` → (name, tag, digest).
fn match_reference(s: &str) -> Option<(&str, Option<&str>, Option<&str>)> {
    let (rest, digest) = match s.split_once('@') {
        Some((r, d)) => (r, Some(d)),
        None => (s, None),
    };
    if let Some(d) = digest
        && !is_digest(d)
    {
        return None;
    }
    let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
    let (name, tag) = match rest[last_slash..].rfind(':') {
        Some(i) => (&rest[..last_slash + i], Some(&rest[last_slash + i + 1..])),
        None => (rest, None),
    };
    if let Some(t) = tag
        && !is_tag(t)
    {
        return None;
    }
    is_name(name).then_some((name, tag, digest))
}

fn is_word_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

fn is_tag(t: &str) -> bool {
    let b = t.as_bytes();
    !b.is_empty()
        && b.len() <= 128
        && is_word_char(b[0])
        && b[1..].iter().all(|&c| is_word_char(c) || c == b'.' || c == b'-')
}

fn is_digest(d: &str) -> bool {
    let Some((alg, hex)) = d.split_once(':') else { return false };
    let alg_ok = alg.split(['-', '_', '+', '.']).all(|c| {
        let b = c.as_bytes();
        !b.is_empty() && b[0].is_ascii_alphabetic() && b.iter().all(u8::is_ascii_alphanumeric)
    });
    alg_ok && hex.len() >= 32 && hex.bytes().all(|b| b.is_ascii_hexdigit())
}

/// `[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*`
fn is_path_component(c: &str) -> bool {
    let b = c.as_bytes();
    let alnum = |x: u8| x.is_ascii_lowercase() || x.is_ascii_digit();
    let mut i = 0;
    loop {
        let start = i;
        while i < b.len() && alnum(b[i]) {
            i += 1;
        }
        if i == start {
            return false;
        }
        if i == b.len() {
            return true;
        }
        // separator
        match b[i] {
            b'.' => i += 1,
            b'_' => {
                i += 1;
                if i < b.len() && b[i] == b'_' {
                    i += 1;
                }
            }
            b'-' => {
                while i < b.len() && b[i] == b'-' {
                    i += 1;
                }
            }
            _ => return false,
        }
    }
}

/// `domainName(:port)?` or `\[ipv6\](:port)?`.
fn is_domain(d: &str) -> bool {
    let (host, port) = if let Some(rest) = d.strip_prefix('[') {
        let Some((h, after)) = rest.split_once(']') else { return false };
        if h.parse::<std::net::Ipv6Addr>().is_err() {
            return false;
        }
        match after {
            "" => return true,
            a => match a.strip_prefix(':') {
                Some(p) => ("x", Some(p)),
                None => return false,
            },
        }
    } else {
        match d.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (d, None),
        }
    };
    if let Some(p) = port
        && (p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        return false;
    }
    !host.is_empty()
        && host.split('.').all(|c| {
            let b = c.as_bytes();
            !b.is_empty()
                && b[0].is_ascii_alphanumeric()
                && b[b.len() - 1].is_ascii_alphanumeric()
                && b.iter().all(|&x| x.is_ascii_alphanumeric() || x == b'-')
        })
}

fn is_name(name: &str) -> bool {
    let comps: Vec<&str> = name.split('/').collect();
    let rest_ok = |from: usize| comps.len() > from && comps[from..].iter().all(|c| is_path_component(c));
    (is_domain(comps[0]) && rest_ok(1)) || rest_ok(0)
}
