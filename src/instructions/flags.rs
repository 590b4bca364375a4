//! Leading `--flags` of an instruction, validated like BuildKit's `BFlags`.

use std::collections::BTreeMap;

/// How a flag takes values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlagKind {
    /// `--link`, `--link=true`, `--link=false`.
    Bool,
    /// `--from=x`; once.
    String,
    /// `--mount=...`; repeatable.
    Strings,
}

/// Parsed flag values of one instruction.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Flags {
    values: BTreeMap<&'static str, Vec<String>>,
}

impl Flags {
    /// Parses `given` (as the parser extracted them, e.g. `--from=build`) against `known`.
    pub fn parse(given: &[String], known: &[(&'static str, FlagKind)]) -> Result<Flags, String> {
        let mut values: BTreeMap<&'static str, Vec<String>> = BTreeMap::new();
        for raw in given {
            let Some(arg) = raw.strip_prefix("--") else {
                return Err(format!("arg should start with -- : {raw}"));
            };
            if arg.is_empty() {
                continue;
            }
            let (name, value) = match arg.split_once('=') {
                Some((n, v)) => (n, Some(v)),
                None => (arg, None),
            };
            let Some(&(key, kind)) = known.iter().find(|(k, _)| *k == name) else {
                let names: Vec<&str> = known.iter().map(|(k, _)| *k).collect();
                return Err(match crate::suggest::closest(name, &names) {
                    Some(s) => format!("unknown flag: --{name} (did you mean {s}?)"),
                    None => format!("unknown flag: --{name}"),
                });
            };
            if kind != FlagKind::Strings && values.contains_key(key) {
                return Err(format!("duplicate flag specified: --{name}"));
            }
            let value = match (kind, value) {
                (FlagKind::Bool, None) => "true".to_string(),
                (FlagKind::Bool, Some(v)) => match v.to_ascii_lowercase().as_str() {
                    "true" => "true".to_string(),
                    "false" => "false".to_string(),
                    _ => return Err(format!("expecting boolean value for flag {name}, not: {v}")),
                },
                (_, None) => return Err(format!("missing a value on flag: {name}")),
                (_, Some(v)) => v.to_string(),
            };
            values.entry(key).or_default().push(value);
        }
        Ok(Flags { values })
    }

    /// The value of a string flag.
    pub fn string(&self, name: &str) -> Option<String> {
        self.values.get(name).and_then(|v| v.last().cloned())
    }

    /// The values of a repeatable flag, in order.
    pub fn strings(&self, name: &str) -> Vec<String> {
        self.values.get(name).cloned().unwrap_or_default()
    }

    /// A bool flag: `None` when absent.
    pub fn bool(&self, name: &str) -> Option<bool> {
        self.values
            .get(name)
            .and_then(|v| v.last())
            .map(|v| v == "true")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KNOWN: &[(&str, FlagKind)] = &[
        ("from", FlagKind::String),
        ("link", FlagKind::Bool),
        ("exclude", FlagKind::Strings),
    ];

    fn parse(flags: &[&str]) -> Result<Flags, String> {
        let given: Vec<String> = flags.iter().map(|s| s.to_string()).collect();
        Flags::parse(&given, KNOWN)
    }

    #[test]
    fn values() {
        let f = parse(&["--from=a", "--link", "--exclude=x", "--exclude=y"]).unwrap();
        assert_eq!(f.string("from").as_deref(), Some("a"));
        assert_eq!(f.bool("link"), Some(true));
        assert_eq!(f.strings("exclude"), ["x", "y"]);
        assert_eq!(parse(&["--link=FALSE"]).unwrap().bool("link"), Some(false));
    }

    #[test]
    fn errors() {
        let cases = [
            (
                &["--form=a"][..],
                "unknown flag: --form (did you mean from?)",
            ),
            (&["--zzz"][..], "unknown flag: --zzz"),
            (&["--from"][..], "missing a value on flag: from"),
            (
                &["--link=maybe"][..],
                "expecting boolean value for flag link, not: maybe",
            ),
            (
                &["--from=a", "--from=b"][..],
                "duplicate flag specified: --from",
            ),
        ];
        for (flags, want) in cases {
            assert_eq!(parse(flags).unwrap_err(), want, "{flags:?}");
        }
    }
}
