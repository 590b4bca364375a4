//! `SOURCE_DATE_EPOCH`: the value a build asks for, and the time it resolves to.
//!
//! As dockerfile 1.26 reads it: the build arg wins (even empty), else a non-empty global ARG.
//! A number is the time; `context` is the main context's commit or download time; any other
//! word names a named context or a stage that is `FROM scratch` with one remote ADD, whose
//! source's time the daemon reports. Local folders, images and frontend inputs have no such time:
//! those resolve to none, as in 1.26. A remote source (a git or HTTP main or named context, a
//! stage's ADD) is kept in [`Resolved::remote`] for the gateway to ask the daemon about
//! (`ResolveSourceMeta`); it plans again with the answer in `BuildOptions::source_epoch`.

use super::args::GlobalArgs;
use super::{Error, NamedContext, named_context};
use crate::instructions::{Instruction, Kind};
use crate::options::{BuildOptions, MainContext};
use crate::shell::Lexer;

/// The build arg and global ARG name.
pub const NAME: &str = "SOURCE_DATE_EPOCH";

/// What the requested value resolved to.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Resolved {
    /// Seconds since the Unix epoch.
    pub unix: Option<i64>,
    /// A remote source whose time only the daemon can tell, not yet asked for.
    pub remote: Option<Remote>,
}

/// A source whose commit, Last-Modified or newest archive entry gives SOURCE_DATE_EPOCH.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Remote {
    /// The git or HTTP(S) main context (`=context`).
    MainContext,
    /// A git or HTTP(S) named context.
    NamedContext(NamedContext),
    /// A `FROM scratch` stage with one remote ADD.
    Stage {
        /// The stage's name as written.
        name: String,
        /// The ADD source, expanded: an HTTP(S) URL or a git source.
        source: String,
        /// ADD `--checksum`, expanded.
        checksum: Option<String>,
        /// ADD `--keep-git-dir`.
        keep_git_dir: Option<bool>,
    },
}

impl std::fmt::Display for Remote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Remote::MainContext => f.write_str("the main context"),
            Remote::NamedContext(c) => write!(f, "named context {}", c.key),
            Remote::Stage { name, .. } => write!(f, "stage {name}"),
        }
    }
}

impl Resolved {
    /// The value SOURCE_DATE_EPOCH takes for the rest of the build (none: it is removed).
    pub fn value(&self) -> Option<String> {
        self.unix.map(|t| t.to_string())
    }
}

/// The requested value: the build arg when given, else the global ARG's value when not empty.
pub fn requested(opts: &BuildOptions, global: &GlobalArgs) -> Option<String> {
    if let Some(v) = opts.build_args.get(NAME) {
        return Some(v.clone());
    }
    global
        .vars
        .value(NAME)
        .filter(|v| !v.is_empty())
        .map(str::to_string)
}

/// Resolves `value`; `stages` are each stage's FROM with its instructions.
pub fn resolve(
    value: &str,
    stages: &[(&Instruction, Vec<&Instruction>)],
    global: &GlobalArgs,
    opts: &BuildOptions,
    lexer: &Lexer,
) -> Result<Resolved, Error> {
    if value.is_empty() {
        return Ok(Resolved::default());
    }
    if let Ok(unix) = value.parse::<i64>() {
        return Ok(Resolved {
            unix: Some(unix),
            remote: None,
        });
    }
    // The time the daemon reported for this value's source, once asked.
    let remote = |source: Remote| match opts.source_epoch {
        Some(unix) => Resolved { unix, remote: None },
        None => Resolved {
            unix: None,
            remote: Some(source),
        },
    };
    if value == "context" {
        // A git or HTTP(S) main context has a commit or download time that only the daemon can
        // tell; a local folder or a frontend input has none.
        return Ok(match opts.main_context {
            Some(MainContext::Git(_) | MainContext::Http { .. }) => remote(Remote::MainContext),
            _ => Resolved::default(),
        });
    }
    if let Some(ctx) = named_context(opts, value, opts.target_platform()) {
        let is_remote = ["git://", "http://", "https://"]
            .iter()
            .any(|s| ctx.source.starts_with(s))
            || ctx.source.ends_with(".git");
        return Ok(if is_remote {
            remote(Remote::NamedContext(ctx))
        } else {
            Resolved::default()
        });
    }
    for (from, body) in stages {
        let Kind::From(f) = &from.kind else { continue };
        if !f
            .name
            .as_deref()
            .is_some_and(|n| n.eq_ignore_ascii_case(value))
        {
            continue;
        }
        let at = |message: String| Error {
            message,
            lines: vec![from.lines],
        };
        let mut vars = global.vars.clone();
        vars.remove(NAME);
        let name = f.name.clone().unwrap_or_default();
        let stage = stage_source(name, &f.image, body, &vars, opts, lexer).map_err(at)?;
        return Ok(remote(stage));
    }
    Err(Error {
        message: format!("invalid SOURCE_DATE_EPOCH: {value}"),
        lines: Vec::new(),
    })
}

/// The source of a source-only stage (FROM scratch, ARGs, and exactly one remote ADD).
fn stage_source(
    name: String,
    base: &str,
    body: &[&Instruction],
    vars: &super::args::Vars,
    opts: &BuildOptions,
    lexer: &Lexer,
) -> Result<Remote, String> {
    let base = lexer
        .process_word(base, vars)
        .map_err(|e| format!("failed to process source stage base name {base:?}: {e}"))?;
    if base != "scratch" {
        return Err("SOURCE_DATE_EPOCH stage must use FROM scratch".into());
    }
    let mut env = vars.clone();
    let mut source = None;
    for ins in body {
        match &ins.kind {
            Kind::Arg(decls) => {
                for decl in decls {
                    if let Some(v) = opts.build_args.get(&decl.key) {
                        env.set(&decl.key, v);
                    } else if let Some(default) = &decl.default {
                        let v = lexer
                            .process_word(default, &env)
                            .map_err(|e| e.to_string())?;
                        env.set(&decl.key, &v);
                    }
                }
            }
            Kind::Add(c) => {
                if source.is_some() {
                    return Err(
                        "SOURCE_DATE_EPOCH stage must contain exactly one remote ADD".into(),
                    );
                }
                if !c.heredocs.is_empty() || c.sources.len() != 1 {
                    return Err(
                        "SOURCE_DATE_EPOCH stage must contain exactly one remote ADD source".into(),
                    );
                }
                let src = lexer
                    .process_word(&c.sources[0], &env)
                    .map_err(|e| e.to_string())?;
                if !is_remote(&src) {
                    return Err(
                        "SOURCE_DATE_EPOCH stage source must be a single HTTP(S) or Git ADD".into(),
                    );
                }
                let checksum = match &c.checksum {
                    Some(sum) => Some(lexer.process_word(sum, &env).map_err(|e| e.to_string())?),
                    None => None,
                };
                source = Some(Remote::Stage {
                    name: name.clone(),
                    source: src,
                    checksum,
                    keep_git_dir: c.keep_git_dir,
                });
            }
            _ => {
                return Err(format!(
                    "SOURCE_DATE_EPOCH stage does not meet source-only requirements: unsupported {} instruction",
                    ins.keyword()
                ));
            }
        }
    }
    source.ok_or_else(|| "SOURCE_DATE_EPOCH stage must contain exactly one remote ADD".into())
}

/// An HTTP(S) URL or a git source (a `git://`/`ssh://` URL, `git@host:path`, or a `.git` path).
fn is_remote(src: &str) -> bool {
    let without_fragment = src.split('#').next().unwrap_or(src);
    ["http://", "https://", "git://", "ssh://"]
        .iter()
        .any(|s| src.starts_with(s))
        || (src.starts_with("git@") && src.contains(':'))
        || without_fragment.ends_with(".git")
}

/// `unix` as RFC 3339 in UTC, as Go writes a `time.Time` in JSON (`2023-11-14T22:13:20Z`).
pub fn rfc3339(unix: i64) -> String {
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_format_as_go() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(-1), "1969-12-31T23:59:59Z");
    }
}

#[cfg(test)]
mod plan_tests {
    use crate::image::Platform;
    use crate::options::BuildOptions;
    use crate::plan::{Plan, plan};

    fn planned(src: &str, build_arg: Option<&str>) -> Result<Plan<'static>, String> {
        let df = crate::syntax::parse(src.as_bytes()).map_err(|e| e.to_string())?;
        let ins = crate::instructions::parse(&df.nodes).map_err(|e| e.to_string())?;
        let mut opts = BuildOptions::new(Platform::new("linux", "amd64", None));
        if let Some(v) = build_arg {
            opts.build_args.insert("SOURCE_DATE_EPOCH".into(), v.into());
        }
        (plan(&ins, df.escape, &opts).map(Plan::into_owned)).map_err(|e| e.message)
    }

    #[test]
    fn the_build_arg_wins_and_values_are_written_back_as_numbers() {
        let df = "ARG SOURCE_DATE_EPOCH=0100\nFROM busybox\nARG SOURCE_DATE_EPOCH\n";
        let p = planned(df, None).unwrap();
        assert_eq!(p.epoch.unix, Some(100));
        assert_eq!(
            p.global_args.value_for_stage("SOURCE_DATE_EPOCH"),
            Some("100")
        );
        let p = planned(df, Some("+7")).unwrap();
        assert_eq!(p.epoch.unix, Some(7));
        assert_eq!(p.epoch_build_arg, Some(Some("7".into())));
        // An empty build arg asks for no time and drops the arg, the global default too.
        let p = planned(df, Some("")).unwrap();
        assert_eq!(p.epoch.unix, None);
        assert_eq!(p.epoch_build_arg, Some(None));
        assert_eq!(p.global_args.value_for_stage("SOURCE_DATE_EPOCH"), None);
    }

    /// `=context` with a git or HTTP(S) main context needs the daemon's time of that source, so
    /// it must not quietly resolve to no time as a local context does.
    #[test]
    fn context_of_a_remote_main_context_is_a_remote_time() {
        use crate::options::MainContext;
        let df = crate::syntax::parse(b"ARG SOURCE_DATE_EPOCH=context\nFROM busybox\n").unwrap();
        let ins = crate::instructions::parse(&df.nodes).unwrap();
        let mut opts = BuildOptions::new(Platform::new("linux", "amd64", None));
        for (main, want) in [
            (
                MainContext::Git("https://example.com/r.git#main".into()),
                true,
            ),
            (
                MainContext::Http {
                    url: "https://example.com/c.tar".into(),
                    archive: true,
                },
                true,
            ),
            (MainContext::Input(Vec::new()), false),
        ] {
            opts.main_context = Some(main);
            let p = plan(&ins, df.escape, &opts).unwrap();
            assert_eq!(p.epoch.unix, None);
            assert_eq!(p.epoch.remote.is_some(), want, "{:?}", opts.main_context);
        }
        // Once the daemon reported the time, it is the value, written back into the ARG.
        opts.main_context = Some(MainContext::Git("https://example.com/r.git".into()));
        opts.source_epoch = Some(Some(1_700_000_101));
        let p = plan(&ins, df.escape, &opts).unwrap();
        assert_eq!((p.epoch.unix, p.epoch.remote), (Some(1_700_000_101), None));
        assert_eq!(
            p.global_args.value_for_stage("SOURCE_DATE_EPOCH"),
            Some("1700000101")
        );
        // A source without a time drops the arg, as a local context does.
        opts.source_epoch = Some(None);
        let p = plan(&ins, df.escape, &opts).unwrap();
        assert_eq!((p.epoch.unix, p.epoch.remote), (None, None));
        assert_eq!(p.global_args.value_for_stage("SOURCE_DATE_EPOCH"), None);
    }

    #[test]
    fn context_and_stage_forms() {
        let p = planned("ARG SOURCE_DATE_EPOCH=context\nFROM busybox\n", None).unwrap();
        assert_eq!((p.epoch.unix, p.epoch.remote.clone()), (None, None));
        let src = "ARG SOURCE_DATE_EPOCH=src\nFROM scratch AS src\nARG V=1\nADD https://example.com/v$V.tar /\nFROM busybox\n";
        let p = planned(src, None).unwrap();
        let want = super::Remote::Stage {
            name: "src".into(),
            source: "https://example.com/v1.tar".into(),
            checksum: None,
            keep_git_dir: None,
        };
        assert_eq!(p.epoch.remote, Some(want));
        let err = planned("FROM busybox\n", Some("nope")).unwrap_err();
        assert_eq!(err, "invalid SOURCE_DATE_EPOCH: nope");
        let two = "ARG SOURCE_DATE_EPOCH=src\nFROM scratch AS src\nADD https://a/x /\nADD https://a/y /\n";
        assert_eq!(
            planned(two, None).unwrap_err(),
            "SOURCE_DATE_EPOCH stage must contain exactly one remote ADD"
        );
        let local = "ARG SOURCE_DATE_EPOCH=src\nFROM scratch AS src\nADD dir /\n";
        assert_eq!(
            planned(local, None).unwrap_err(),
            "SOURCE_DATE_EPOCH stage source must be a single HTTP(S) or Git ADD"
        );
    }
}
