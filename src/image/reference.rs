//! Docker image references, normalised as `reference.ParseNormalizedNamed` + `TagNameOnly`
//! do: `alpine` -> `docker.io/library/alpine:latest`.

use std::fmt;

/// A normalised image reference.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Reference {
    /// Registry host, e.g. `docker.io`.
    pub domain: String,
    /// Repository path, e.g. `library/alpine`.
    pub path: String,
    /// Tag; `latest` when neither tag nor digest was given.
    pub tag: Option<String>,
    /// `sha256:...`.
    pub digest: Option<String>,
}

/// A reference that cannot be parsed, with Docker's wording.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ReferenceError(pub &'static str);

impl Reference {
    /// Parses and normalises `input`.
    pub fn parse(input: &str) -> Result<Reference, ReferenceError> {
        if input.is_empty() {
            return Err(ReferenceError("invalid reference format"));
        }
        let (name_tag, digest) = match input.split_once('@') {
            Some((n, d)) => {
                let valid = d.split_once(':').is_some_and(|(alg, hex)| {
                    !alg.is_empty() && hex.len() >= 32 && hex.chars().all(|c| c.is_ascii_hexdigit())
                });
                if !valid {
                    return Err(ReferenceError("invalid reference format"));
                }
                (n, Some(d.to_string()))
            }
            None => (input, None),
        };
        let last_slash = name_tag.rfind('/').map_or(0, |i| i + 1);
        let (name, tag) = match name_tag[last_slash..].rfind(':') {
            Some(i) => {
                let at = last_slash + i;
                (&name_tag[..at], Some(name_tag[at + 1..].to_string()))
            }
            None => (name_tag, None),
        };
        if let Some(t) = &tag {
            let ok = !t.is_empty()
                && t.len() <= 128
                && t.chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
                && t.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c));
            if !ok {
                return Err(ReferenceError("invalid reference format"));
            }
        }
        let (domain, path) = match name.split_once('/') {
            Some((first, rest))
                if first.contains('.') || first.contains(':') || first == "localhost" =>
            {
                (first.to_string(), rest.to_string())
            }
            _ => ("docker.io".to_string(), name.to_string()),
        };
        let path = if domain == "docker.io" && !path.contains('/') {
            format!("library/{path}")
        } else {
            path
        };
        if path.chars().any(|c| c.is_ascii_uppercase()) {
            return Err(ReferenceError(
                "invalid reference format: repository name must be lowercase",
            ));
        }
        let component_ok = |c: &str| {
            !c.is_empty()
                && c.chars()
                    .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || "._-".contains(ch))
                && c.chars()
                    .next()
                    .is_some_and(|ch| ch.is_ascii_alphanumeric())
                && c.chars()
                    .last()
                    .is_some_and(|ch| ch.is_ascii_alphanumeric())
        };
        if !path.split('/').all(component_ok) {
            return Err(ReferenceError("invalid reference format"));
        }
        let tag = match (&tag, &digest) {
            (None, None) => Some("latest".to_string()),
            _ => tag,
        };
        Ok(Reference {
            domain,
            path,
            tag,
            digest,
        })
    }

    /// The short form Docker prints (`docker.io/library/alpine:latest` -> `alpine`), without a
    /// `:latest` suffix: how named contexts are looked up.
    pub fn familiar(&self) -> String {
        let mut out = if self.domain == "docker.io" {
            self.path
                .strip_prefix("library/")
                .filter(|p| !p.contains('/'))
                .unwrap_or(&self.path)
                .to_string()
        } else {
            format!("{}/{}", self.domain, self.path)
        };
        if let Some(t) = &self.tag {
            out.push(':');
            out.push_str(t);
        }
        if let Some(d) = &self.digest {
            out.push('@');
            out.push_str(d);
        }
        out.strip_suffix(":latest")
            .map_or(out.clone(), str::to_string)
    }

    /// The same reference pinned to `digest` (the tag is kept, as BuildKit does).
    pub fn with_digest(&self, digest: &str) -> Reference {
        Reference {
            digest: Some(digest.to_string()),
            ..self.clone()
        }
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.domain, self.path)?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises() {
        let cases = [
            ("alpine", "docker.io/library/alpine:latest"),
            ("alpine:3.19", "docker.io/library/alpine:3.19"),
            ("myorg/frontend", "docker.io/myorg/frontend:latest"),
            ("localhost:5000/x/y:1", "localhost:5000/x/y:1"),
            ("ghcr.io/o/r", "ghcr.io/o/r:latest"),
            (
                "busybox@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                "docker.io/library/busybox@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            ),
        ];
        for (input, want) in cases {
            assert_eq!(
                Reference::parse(input).unwrap().to_string(),
                want,
                "{input}"
            );
        }
    }

    #[test]
    fn familiar_names() {
        for (input, want) in [
            ("docker.io/library/alpine:latest", "alpine"),
            ("alpine:3.19", "alpine:3.19"),
            ("myorg/frontend", "myorg/frontend"),
            ("ghcr.io/o/r:latest", "ghcr.io/o/r"),
            ("localhost:5000/x", "localhost:5000/x"),
        ] {
            assert_eq!(Reference::parse(input).unwrap().familiar(), want, "{input}");
        }
    }

    #[test]
    fn rejects() {
        for bad in ["", "Alpine", "a:b:c", "x@sha256:zz", "a//b", "-a"] {
            assert!(Reference::parse(bad).is_err(), "{bad}");
        }
    }
}
