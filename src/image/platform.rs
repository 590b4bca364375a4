//! OCI platforms, normalised with containerd's rules.

use std::fmt;

/// An OS/architecture/variant triple, normalised.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Platform {
    /// `linux`, `windows`, ...
    pub os: String,
    /// `amd64`, `arm64`, `arm`, ...
    pub architecture: String,
    /// `v7`, `v8`, ...; `None` when the architecture has no variant.
    pub variant: Option<String>,
    /// Windows' `10.0.20348.1006`, written `windows(10.0.20348.1006)/amd64`; `None` mostly.
    pub os_version: Option<String>,
}

/// A platform string that cannot be understood, in containerd's words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct PlatformError {
    /// What is wrong with it, e.g. `"" is an invalid component of "linux/": ...`.
    pub message: String,
}

/// containerd's `specifierRe` and `osRe`, shown in its errors.
const SPECIFIER_RE: &str = "^[A-Za-z0-9_.-]+$";
const OS_RE: &str = r"^([A-Za-z0-9_-]+)(?:\(([A-Za-z0-9_.%-]*)((?:\+[A-Za-z0-9_.%-]+)*)\))?$";

/// `os[(version[+feature]*)]` as containerd's `osRe` reads it: the OS and the version.
fn os_component(part: &str) -> Option<(&str, Option<&str>)> {
    let name_ok = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    };
    let option_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '%' | '-');
    let Some((os, tail)) = part.split_once('(') else {
        return name_ok(part).then_some((part, None));
    };
    let inner = tail.strip_suffix(')')?;
    let (version, features) = inner.split_once('+').unwrap_or((inner, ""));
    let features_ok = features.is_empty()
        || features
            .split('+')
            .all(|f| !f.is_empty() && f.chars().all(option_char));
    (name_ok(os) && version.chars().all(option_char) && features_ok)
        .then_some((os, (!version.is_empty()).then_some(version)))
}

impl Platform {
    /// The platform this binary was built for (the default when the daemon reports none).
    pub fn host() -> Platform {
        let arch = match std::env::consts::ARCH {
            "x86_64" => "amd64",
            "aarch64" => "arm64",
            "x86" => "386",
            "arm" => "arm",
            "powerpc64" => "ppc64le",
            "s390x" => "s390x",
            "riscv64" => "riscv64",
            other => other,
        };
        Platform::new("linux", arch, None)
    }

    /// Builds a platform from parts, normalising them.
    pub fn new(os: &str, architecture: &str, variant: Option<&str>) -> Platform {
        let os = normalize_os(os);
        let (architecture, variant) = normalize_arch(architecture, variant.unwrap_or(""));
        Platform {
            os,
            architecture,
            variant: (!variant.is_empty()).then_some(variant),
            os_version: None,
        }
    }

    /// containerd's `FormatAll`: `os(version)/arch[/variant]` (the result IDs, TARGETPLATFORM).
    pub fn format_all(&self) -> String {
        match &self.os_version {
            Some(v) => {
                let plain = self.to_string();
                let rest = plain.strip_prefix(self.os.as_str()).unwrap_or(&plain);
                format!("{}({v}){rest}", self.os)
            }
            None => self.to_string(),
        }
    }

    /// Parses `os[(version)][/arch[/variant]]` or a bare `arch`, as containerd's
    /// `platforms.Parse` does, with its error texts.
    pub fn parse(spec: &str) -> Result<Platform, PlatformError> {
        let q = crate::syntax::go_quote;
        let err = |message: String| PlatformError { message };
        if spec.contains('*') {
            return Err(err(format!(
                "{}: wildcards not yet supported: invalid argument",
                q(spec)
            )));
        }
        let parts: Vec<&str> = spec.splitn(4, '/').collect();
        let first = parts.first().copied().unwrap_or_default();
        let Some((os, os_version)) = os_component(first) else {
            return Err(err(format!(
                "{} is an invalid OS component of {}: OSAndVersion specifier component must match {}: invalid argument",
                q(first),
                q(spec),
                q(OS_RE)
            )));
        };
        for part in parts.iter().skip(1) {
            let ok = !part.is_empty()
                && part
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.');
            if !ok {
                return Err(err(format!(
                    "{} is an invalid component of {}: platform specifier component must match {}: invalid argument",
                    q(part),
                    q(spec),
                    q(SPECIFIER_RE)
                )));
            }
        }
        let with_version = |mut p: Platform| {
            p.os_version = os_version.map(str::to_string);
            p
        };
        match parts.as_slice() {
            [_] => {
                let lower = os.to_ascii_lowercase();
                if is_known_os(&lower) {
                    Ok(with_version(
                        Platform::new(&lower, std::env::consts::ARCH, None).with_host_arch(),
                    ))
                } else if is_known_arch(&lower) {
                    Ok(Platform::new("linux", &lower, None))
                } else {
                    Err(err(format!(
                        "{}: unknown operating system or architecture: invalid argument",
                        q(spec)
                    )))
                }
            }
            [_, arch] => Ok(with_version(Platform::new(os, arch, None))),
            [_, arch, variant] => Ok(with_version(Platform::new(os, arch, Some(variant)))),
            _ => Err(err(format!(
                "{}: cannot parse platform specifier: invalid argument",
                q(spec)
            ))),
        }
    }

    fn with_host_arch(self) -> Platform {
        let host = Platform::host();
        Platform {
            architecture: host.architecture,
            variant: host.variant,
            ..self
        }
    }
}

impl Default for Platform {
    /// The host's platform.
    fn default() -> Self {
        Platform::host()
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

fn is_known_os(os: &str) -> bool {
    matches!(
        os,
        "aix"
            | "android"
            | "darwin"
            | "dragonfly"
            | "freebsd"
            | "illumos"
            | "ios"
            | "js"
            | "linux"
            | "netbsd"
            | "openbsd"
            | "plan9"
            | "solaris"
            | "windows"
            | "zos"
    )
}

fn is_known_arch(arch: &str) -> bool {
    matches!(
        normalize_arch(arch, "").0.as_str(),
        "386"
            | "amd64"
            | "arm"
            | "arm64"
            | "loong64"
            | "mips"
            | "mips64"
            | "mips64le"
            | "mipsle"
            | "ppc64"
            | "ppc64le"
            | "riscv64"
            | "s390x"
            | "wasm"
    )
}

fn normalize_os(os: &str) -> String {
    let lower = os.to_ascii_lowercase();
    if lower == "macos" {
        "darwin".to_string()
    } else {
        lower
    }
}

fn normalize_arch(arch: &str, variant: &str) -> (String, String) {
    let arch = arch.to_ascii_lowercase();
    let variant = variant.to_ascii_lowercase();
    match arch.as_str() {
        "i386" => ("386".into(), String::new()),
        "x86_64" | "x86-64" | "amd64" => {
            let v = if variant == "v1" {
                String::new()
            } else {
                variant
            };
            ("amd64".into(), v)
        }
        "aarch64" | "arm64" => {
            let v = if variant == "8" || variant == "v8" {
                String::new()
            } else {
                variant
            };
            ("arm64".into(), v)
        }
        "armhf" => ("arm".into(), "v7".into()),
        "armel" => ("arm".into(), "v6".into()),
        "arm" => {
            let v = match variant.as_str() {
                "" | "7" => "v7".to_string(),
                "5" | "6" | "8" => format!("v{variant}"),
                _ => variant,
            };
            ("arm".into(), v)
        }
        _ => (arch, variant),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_like_containerd() {
        let cases = [
            ("linux/amd64", "linux/amd64"),
            ("linux/x86_64", "linux/amd64"),
            ("Linux/AMD64", "linux/amd64"),
            ("linux/arm64/v8", "linux/arm64"),
            ("linux/aarch64", "linux/arm64"),
            ("linux/arm", "linux/arm/v7"),
            ("linux/armhf", "linux/arm/v7"),
            ("linux/arm/6", "linux/arm/v6"),
            ("arm64", "linux/arm64"),
            ("windows/amd64", "windows/amd64"),
        ];
        for (input, want) in cases {
            assert_eq!(Platform::parse(input).unwrap().to_string(), want, "{input}");
        }
    }

    #[test]
    fn rejects_garbage() {
        for bad in ["", "linux//amd64", "a/b/c/d", "lin ux/amd64", "nonsense"] {
            assert!(Platform::parse(bad).is_err(), "{bad}");
        }
    }
}

#[cfg(test)]
mod os_version_tests {
    use super::*;

    #[test]
    fn windows_os_versions_parse_and_format_as_containerd() {
        let p = Platform::parse("windows(10.0.20348.1006)/amd64").unwrap();
        assert_eq!(
            (p.os.as_str(), p.architecture.as_str()),
            ("windows", "amd64")
        );
        assert_eq!(p.os_version.as_deref(), Some("10.0.20348.1006"));
        assert_eq!(p.to_string(), "windows/amd64");
        assert_eq!(p.format_all(), "windows(10.0.20348.1006)/amd64");
        assert_eq!(
            Platform::parse("linux/amd64").unwrap().format_all(),
            "linux/amd64"
        );
        // An empty version is allowed, as by containerd's osRe.
        assert_eq!(Platform::parse("windows()/amd64").unwrap().os_version, None);
        for bad in ["windows(/amd64", "windows(1 2)/amd64", "windows(1)x/amd64"] {
            assert!(Platform::parse(bad).is_err(), "{bad}");
        }
        // containerd's words.
        assert_eq!(
            Platform::parse("linux/").unwrap_err().to_string(),
            r#""" is an invalid component of "linux/": platform specifier component must match "^[A-Za-z0-9_.-]+$": invalid argument"#
        );
        assert_eq!(
            Platform::parse("nonsense").unwrap_err().to_string(),
            r#""nonsense": unknown operating system or architecture: invalid argument"#
        );
    }
}
