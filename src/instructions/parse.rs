//! One node -> one instruction, with BuildKit's argument checks and error texts.

use super::flags::{FlagKind, Flags};
use super::{
    ArgDecl, CommandLine, Copy, Error, From, Healthcheck, Instruction, KeyValue, Kind, Run,
};
use crate::syntax::{KEYWORDS, Node};

/// Types one node.
pub fn parse_node(node: &Node) -> Result<Instruction, Error> {
    let lines = (line(node.start_line), line(node.end_line));
    let kind = parse_kind(node).map_err(|message| Error { message, lines })?;
    Ok(Instruction {
        kind,
        original: node.original.clone(),
        lines,
    })
}

fn line(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

fn parse_kind(node: &Node) -> Result<Kind, String> {
    let args = &node.args;
    let keyword: &str = &node.keyword;
    let no_flags = |kw: &str| -> Result<(), String> {
        Flags::parse(&node.flags, &[]).map(|_| ()).map_err(|e| {
            if node.flags.is_empty() {
                e
            } else {
                format!("{e} for {kw}")
            }
        })
    };
    Ok(match keyword {
        "from" => {
            let flags = Flags::parse(&node.flags, &[("platform", FlagKind::String)])?;
            let name = match args.as_slice() {
                [_] => None,
                [_, as_kw, name] if as_kw.eq_ignore_ascii_case("as") => Some(stage_name(name)?),
                _ => return Err("FROM requires either one or three arguments".into()),
            };
            Kind::From(From {
                image: args[0].clone(),
                name,
                platform: flags.string("platform"),
            })
        }
        "arg" => {
            no_flags("ARG")?;
            if args.is_empty() {
                return Err("ARG requires at least one argument".into());
            }
            Kind::Arg(
                args.iter()
                    .map(|word| match word.split_once('=') {
                        Some((k, v)) => ArgDecl {
                            key: k.to_string(),
                            default: Some(v.to_string()),
                        },
                        None => ArgDecl {
                            key: word.clone(),
                            default: None,
                        },
                    })
                    .collect(),
            )
        }
        "env" | "label" => {
            no_flags(&keyword.to_ascii_uppercase())?;
            let upper = keyword.to_ascii_uppercase();
            if args.is_empty() {
                return Err(format!("{upper} requires at least one argument"));
            }
            if !args.len().is_multiple_of(3) {
                return Err(format!("Bad input to {upper}, too many arguments"));
            }
            let pairs = args
                .chunks(3)
                .map(|c| KeyValue {
                    key: c[0].clone(),
                    value: c[1].clone(),
                    legacy: c[2].is_empty(),
                })
                .collect();
            if keyword == "env" {
                Kind::Env(pairs)
            } else {
                Kind::Label(pairs)
            }
        }
        "workdir" => Kind::Workdir(exactly_one(node, "WORKDIR")?),
        "user" => Kind::User(exactly_one(node, "USER")?),
        "stopsignal" => Kind::StopSignal(exactly_one(node, "STOPSIGNAL")?),
        "maintainer" => Kind::Maintainer(exactly_one(node, "MAINTAINER")?),
        "run" => {
            let flags = Flags::parse(
                &node.flags,
                &[
                    ("mount", FlagKind::Strings),
                    ("network", FlagKind::String),
                    ("security", FlagKind::String),
                ],
            )?;
            Kind::Run(Run {
                command: command_line(node, "RUN")?,
                mounts: (flags.strings("mount").iter())
                    .map(|v| super::MountSpec::parse(v))
                    .collect::<Result<_, _>>()?,
                network: flags.string("network"),
                security: flags.string("security"),
                heredocs: node.heredocs.clone(),
            })
        }
        "cmd" => {
            no_flags("CMD")?;
            Kind::Cmd(CommandLine {
                args: args.clone(),
                prepend_shell: !node.json,
            })
        }
        "entrypoint" => {
            no_flags("ENTRYPOINT")?;
            Kind::Entrypoint(CommandLine {
                args: args.clone(),
                prepend_shell: !node.json,
            })
        }
        "shell" => {
            no_flags("SHELL")?;
            if !node.json {
                return Err("SHELL requires the arguments to be in JSON form".into());
            }
            if args.is_empty() {
                return Err("SHELL requires at least one argument".into());
            }
            Kind::Shell(args.clone())
        }
        "expose" => {
            no_flags("EXPOSE")?;
            if args.is_empty() {
                return Err("EXPOSE requires at least one argument".into());
            }
            Kind::Expose(args.clone())
        }
        "volume" => {
            no_flags("VOLUME")?;
            if args.is_empty() {
                return Err("VOLUME requires at least one argument".into());
            }
            if args.iter().any(|v| v.trim().is_empty()) {
                return Err("VOLUME specified can not be an empty string".into());
            }
            Kind::Volume(args.clone())
        }
        "copy" | "add" => copy(node, keyword == "add")?,
        "healthcheck" => Kind::Healthcheck(healthcheck(node)?),
        "onbuild" => {
            no_flags("ONBUILD")?;
            let Some(sub) = &node.sub else {
                return Err("ONBUILD requires at least one argument".into());
            };
            let trigger = sub.keyword.to_ascii_uppercase();
            match trigger.as_str() {
                "ONBUILD" => {
                    return Err("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed".into());
                }
                "MAINTAINER" | "FROM" => {
                    return Err(format!("{trigger} isn't allowed as an ONBUILD trigger"));
                }
                _ => {}
            }
            let original = node.original.trim_start();
            let rest = original
                .get(..7)
                .filter(|kw| kw.eq_ignore_ascii_case("onbuild"))
                .map_or(original, |_| &original[7..]);
            // A trigger's here-documents travel with it, as BuildKit writes them into the
            // image config: the instruction line, then each body and its terminator.
            let mut expression = rest.trim_start().to_string();
            for doc in &node.heredocs {
                expression.push('\n');
                expression.push_str(&doc.content);
                expression.push_str(&doc.name);
            }
            Kind::OnBuild(expression)
        }
        other => {
            let shown = node
                .original
                .split_whitespace()
                .next()
                .unwrap_or(other)
                .to_string();
            return Err(match crate::suggest::closest(other, &KEYWORDS) {
                // BuildKit matches the suggestion's case to what was written.
                Some(s) if shown.chars().any(|c| c.is_ascii_uppercase()) => format!(
                    "unknown instruction: {shown} (did you mean {}?)",
                    s.to_ascii_uppercase()
                ),
                Some(s) => format!("unknown instruction: {shown} (did you mean {s}?)"),
                None => format!("unknown instruction: {shown}"),
            });
        }
    })
}

fn exactly_one(node: &Node, name: &str) -> Result<String, String> {
    Flags::parse(&node.flags, &[])?;
    match node.args.as_slice() {
        [one] if !one.is_empty() => Ok(one.clone()),
        _ => Err(format!("{name} requires exactly one argument")),
    }
}

fn command_line(node: &Node, name: &str) -> Result<CommandLine, String> {
    if node.args.is_empty() {
        return Err(format!("{name} requires at least one argument"));
    }
    Ok(CommandLine {
        args: node.args.clone(),
        prepend_shell: !node.json,
    })
}

fn stage_name(name: &str) -> Result<String, String> {
    let lower = name.to_ascii_lowercase();
    let mut chars = lower.chars();
    let valid = chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-_.".contains(c));
    if valid {
        Ok(lower)
    } else {
        Err(format!(
            "invalid name for build stage: {name:?}, name can't start with a number or contain symbols"
        ))
    }
}

fn copy(node: &Node, is_add: bool) -> Result<Kind, String> {
    let mut known = vec![
        ("chown", FlagKind::String),
        ("chmod", FlagKind::String),
        ("link", FlagKind::Bool),
        ("exclude", FlagKind::Strings),
    ];
    if is_add {
        known.extend([
            ("checksum", FlagKind::String),
            ("keep-git-dir", FlagKind::Bool),
            ("unpack", FlagKind::Bool),
        ]);
    } else {
        known.extend([("from", FlagKind::String), ("parents", FlagKind::Bool)]);
    }
    let flags = Flags::parse(&node.flags, &known)?;
    let name = if is_add { "ADD" } else { "COPY" };
    if node.args.len() < 2 {
        return Err(format!(
            "{name} requires at least two arguments, but only one was provided. Destination could not be determined"
        ));
    }
    let (dest, sources) = node
        .args
        .split_last()
        .ok_or_else(|| format!("{name} requires at least two arguments"))?;
    if node
        .heredocs
        .iter()
        .any(|h| dest.contains(&format!("<<{}", h.name)))
    {
        return Err(format!("{name} cannot accept a heredoc as a destination"));
    }
    let copy = Copy {
        sources: sources.to_vec(),
        dest: dest.clone(),
        from: flags.string("from"),
        chown: flags.string("chown"),
        chmod: flags.string("chmod"),
        link: flags.bool("link").unwrap_or(false),
        parents: flags.bool("parents").unwrap_or(false),
        excludes: flags.strings("exclude"),
        checksum: flags.string("checksum"),
        keep_git_dir: flags.bool("keep-git-dir"),
        unpack: flags.bool("unpack"),
        heredocs: node.heredocs.clone(),
    };
    Ok(if is_add {
        Kind::Add(Box::new(copy))
    } else {
        Kind::Copy(Box::new(copy))
    })
}

fn healthcheck(node: &Node) -> Result<Healthcheck, String> {
    let flags = Flags::parse(
        &node.flags,
        &[
            ("interval", FlagKind::String),
            ("timeout", FlagKind::String),
            ("start-period", FlagKind::String),
            ("start-interval", FlagKind::String),
            ("retries", FlagKind::String),
        ],
    )?;
    let Some(kind) = node.args.first() else {
        return Err("HEALTHCHECK requires at least one argument".into());
    };
    let rest = &node.args[1..];
    let test = match kind.to_ascii_uppercase().as_str() {
        "NONE" => {
            if !rest.is_empty() {
                return Err("HEALTHCHECK NONE takes no arguments".into());
            }
            vec!["NONE".to_string()]
        }
        "CMD" => {
            if rest.is_empty() {
                return Err("Missing command after HEALTHCHECK CMD".into());
            }
            if node.json {
                std::iter::once("CMD".to_string())
                    .chain(rest.iter().cloned())
                    .collect()
            } else {
                vec!["CMD-SHELL".to_string(), rest.join(" ")]
            }
        }
        other => return Err(format!("Unknown type {other:?} in HEALTHCHECK (try CMD)")),
    };
    let duration = |name: &str| -> Result<i64, String> {
        match flags.string(name) {
            None => Ok(0),
            Some(v) if v.is_empty() => Ok(0),
            Some(v) => {
                let ns =
                    parse_duration(&v).ok_or_else(|| format!("time: invalid duration {:?}", v))?;
                if ns != 0 && ns < 1_000_000 {
                    return Err(format!("Interval {name:?} cannot be less than 1ms"));
                }
                Ok(ns)
            }
        }
    };
    let retries = match flags.string("retries") {
        None => 0,
        Some(v) => v
            .parse::<i64>()
            .map_err(|_| format!("strconv.ParseInt: parsing {v:?}: invalid syntax"))?,
    };
    if retries < 0 {
        return Err(format!("--retries cannot be negative ({retries})"));
    }
    Ok(Healthcheck {
        test,
        interval: duration("interval")?,
        timeout: duration("timeout")?,
        start_period: duration("start-period")?,
        start_interval: duration("start-interval")?,
        retries,
    })
}

/// Parses a Go `time.Duration` string (`1m30s`, `1.5h`, `300ms`) into nanoseconds.
pub fn parse_duration(s: &str) -> Option<i64> {
    let (negative, mut rest) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    if rest == "0" {
        return Some(0);
    }
    if rest.is_empty() {
        return None;
    }
    let mut total: f64 = 0.0;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let number: f64 = rest[..num_len].parse().ok()?;
        rest = &rest[num_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let scale = match &rest[..unit_len] {
            "ns" => 1.0,
            "us" | "µs" | "μs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => return None,
        };
        rest = &rest[unit_len..];
        total += number * scale;
    }
    if total > i64::MAX as f64 {
        return None;
    }
    let ns = total.round() as i64;
    Some(if negative { -ns } else { ns })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(src: &str) -> Result<Instruction, Error> {
        let df = crate::syntax::parse(src.as_bytes()).expect("parses");
        parse_node(&df.nodes[0])
    }

    fn err(src: &str) -> String {
        one(src).unwrap_err().to_string()
    }

    #[test]
    fn errors_name_the_line() {
        let cases = [
            (
                "RUNN x",
                "dockerfile parse error on line 1: unknown instruction: RUNN (did you mean RUN?)",
            ),
            (
                "FROM a b",
                "dockerfile parse error on line 1: FROM requires either one or three arguments",
            ),
            (
                "FROM a AS 1x",
                "dockerfile parse error on line 1: invalid name for build stage: \"1x\", name can't start with a number or contain symbols",
            ),
            (
                "COPY --form=a b c",
                "dockerfile parse error on line 1: unknown flag: --form (did you mean from?)",
            ),
            (
                "COPY a",
                "dockerfile parse error on line 1: COPY requires at least two arguments, but only one was provided. Destination could not be determined",
            ),
            (
                "SHELL /bin/sh",
                "dockerfile parse error on line 1: SHELL requires the arguments to be in JSON form",
            ),
            (
                "HEALTHCHECK --interval=1ns CMD x",
                "dockerfile parse error on line 1: Interval \"interval\" cannot be less than 1ms",
            ),
            (
                "ONBUILD ONBUILD RUN x",
                "dockerfile parse error on line 1: Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed",
            ),
        ];
        for (src, want) in cases {
            assert_eq!(err(src), want, "{src}");
        }
    }

    #[test]
    fn typed_values() {
        let from = one("FROM --platform=$BUILDPLATFORM golang:1 AS Build").unwrap();
        assert_eq!(
            from.kind,
            Kind::From(From {
                image: "golang:1".into(),
                name: Some("build".into()),
                platform: Some("$BUILDPLATFORM".into()),
            })
        );
        let Kind::Copy(c) = one("COPY --from=0 --chown=1:2 --link a b /dst/")
            .unwrap()
            .kind
        else {
            panic!("not a copy")
        };
        assert_eq!(c.sources, ["a", "b"]);
        assert_eq!(c.dest, "/dst/");
        assert_eq!(c.from.as_deref(), Some("0"));
        assert!(c.link);
        let Kind::Healthcheck(h) = one("HEALTHCHECK --interval=5m --retries=3 CMD curl -f x")
            .unwrap()
            .kind
        else {
            panic!("not a healthcheck")
        };
        assert_eq!(h.test, ["CMD-SHELL", "curl -f x"]);
        assert_eq!(h.interval, 300_000_000_000);
        assert_eq!(h.retries, 3);
        assert_eq!(
            one("ONBUILD RUN make").unwrap().kind,
            Kind::OnBuild("RUN make".into())
        );
        assert_eq!(
            one("ONBUILD RUN <<EOT\necho hi\nEOT\n").unwrap().kind,
            Kind::OnBuild("RUN <<EOT\necho hi\nEOT".into())
        );
    }

    #[test]
    fn go_durations() {
        assert_eq!(parse_duration("1m30s"), Some(90_000_000_000));
        assert_eq!(parse_duration("1.5h"), Some(5_400_000_000_000));
        assert_eq!(parse_duration("300ms"), Some(300_000_000));
        assert_eq!(parse_duration("0"), Some(0));
        assert_eq!(parse_duration("5"), None);
        assert_eq!(parse_duration("x"), None);
    }
}
