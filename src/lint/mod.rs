//! Build checks: the rule catalogue, the `# check=` options, and the findings.
//!
//! This is vocabulary shared by every stage of the pipeline: `convert` reports what it sees
//! while dispatching (undefined variables, relative WORKDIR, ...) into a [`Sink`], and
//! `check` adds the rules that need only the parse or the plan, then filters the findings with
//! [`CheckConfig`]. Rule names, descriptions, URLs and messages are the official frontend's
//! (`frontend/dockerfile/linter/ruleset.go`); rules of stager's own are marked
//! [`Origin::Stager`]. Not here: deciding when a rule fires.

mod ignore;
mod rules;

use std::cell::RefCell;

pub use ignore::IgnoreMatcher;
pub(crate) use ignore::glob_str;
pub use rules::*;

/// How serious a finding is; `stager check` exits 1 from [`Severity::Error`] on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// A style hint.
    Info,
    /// Likely to surprise.
    Warning,
    /// Wrong or about to become an error in BuildKit.
    Error,
}

impl Severity {
    /// `info`, `warning`, `error`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// Whose rule it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// A rule of the official frontend, reported exactly as it does.
    Official,
    /// stager's multi-stage advice; never sent to BuildKit as an official warning.
    Stager,
}

/// One build-check rule.
#[derive(Debug, PartialEq, Eq)]
pub struct Rule {
    /// `UndefinedVar`.
    pub name: &'static str,
    /// The one-line description.
    pub description: &'static str,
    /// The documentation page, empty when the official frontend has none.
    pub url: &'static str,
    /// Off unless `experimental=` names it.
    pub experimental: bool,
    /// How serious it is.
    pub severity: Severity,
    /// Official or ours.
    pub origin: Origin,
}

/// A rule that fired, with its message and the Dockerfile lines (1-based ranges).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// The rule.
    pub rule: &'static Rule,
    /// The detail text, e.g. `Usage of undefined variable '$FOO'`.
    pub message: String,
    /// Line ranges, as the official frontend reports them (one per line for instructions).
    pub ranges: Vec<(u32, u32)>,
}

impl Finding {
    /// The first line, 0 when the finding has no location.
    pub fn line(&self) -> u32 {
        self.ranges.first().map_or(0, |r| r.0)
    }

    /// BuildKit's short form: `Rule: message (line N)`.
    pub fn short(&self) -> String {
        match self.line() {
            0 => format!("{}: {}", self.rule.name, self.message),
            n => format!("{}: {} (line {n})", self.rule.name, self.message),
        }
    }
}

/// One range per line of `lines`, as BuildKit's `Node.Location()`.
pub fn per_line((start, end): (u32, u32)) -> Vec<(u32, u32)> {
    (start..=end.max(start)).map(|l| (l, l)).collect()
}

/// Where the pipeline reports findings while it runs; shared by reference, so that conversion
/// can report without owning the list.
#[derive(Debug, Default)]
pub struct Sink(RefCell<Vec<Finding>>);

impl Sink {
    /// Records a finding.
    pub fn report(&self, rule: &'static Rule, ranges: Vec<(u32, u32)>, message: String) {
        self.0.borrow_mut().push(Finding {
            rule,
            message,
            ranges,
        });
    }

    /// How many findings so far.
    pub fn len(&self) -> usize {
        self.0.borrow().len()
    }

    /// No finding yet.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Forgets the findings after the first `len` (a conversion pass that is redone).
    pub fn truncate(&self, len: usize) {
        self.0.borrow_mut().truncate(len);
    }

    /// The findings, in the order they were reported.
    pub fn into_findings(self) -> Vec<Finding> {
        self.0.into_inner()
    }
}

/// The `# check=` directive or the `BUILDKIT_DOCKERFILE_CHECK` build arg.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CheckConfig {
    /// `skip=all`.
    pub skip_all: bool,
    /// `skip=A,B`.
    pub skip: Vec<String>,
    /// `experimental=all`.
    pub experimental_all: bool,
    /// `experimental=A,B`.
    pub experimental: Vec<String>,
    /// `error=true`: findings fail the build.
    pub error: bool,
}

impl CheckConfig {
    /// Parses `skip=...;error=...;experimental=...` with BuildKit's messages.
    pub fn parse(text: &str) -> Result<CheckConfig, String> {
        let text = text.trim();
        let mut config = CheckConfig::default();
        if text.is_empty() {
            return Ok(config);
        }
        // At most three parts: a fourth stays glued to the third, as Go's SplitN does.
        for part in text.splitn(3, ';') {
            let Some((key, value)) = part.split_once('=') else {
                return Err(format!("invalid check option {}", go_quote(part)));
            };
            let value = value.trim();
            let list = || value.split(',').map(|r| r.trim().to_string()).collect();
            match key.trim() {
                "skip" if value == "all" => config.skip_all = true,
                "skip" => config.skip = list(),
                "experimental" if value == "all" => config.experimental_all = true,
                "experimental" => config.experimental = list(),
                "error" => {
                    config.error = parse_go_bool(value).ok_or_else(|| {
                        format!(
                            "failed to parse check option {}: strconv.ParseBool: parsing {}: invalid syntax",
                            go_quote(part),
                            go_quote(value)
                        )
                    })?;
                }
                other => return Err(format!("invalid check option {}", go_quote(other))),
            }
        }
        Ok(config)
    }

    /// Whether findings of `rule` are reported under this configuration.
    pub fn enabled(&self, rule: &Rule) -> bool {
        if rule.experimental {
            self.experimental_all || self.experimental.iter().any(|r| r == rule.name)
        } else {
            !(self.skip_all || self.skip.iter().any(|r| r == rule.name))
        }
    }

    /// The findings this configuration lets through, in order.
    pub fn filter(&self, findings: Vec<Finding>) -> Vec<Finding> {
        findings
            .into_iter()
            .filter(|f| self.enabled(f.rule))
            .collect()
    }

    /// BuildKit's `WithMergedConfig`: `other`'s skips and experimental rules are added.
    pub fn merged(&self, other: &CheckConfig) -> CheckConfig {
        let mut out = self.clone();
        out.skip_all |= other.skip_all;
        out.experimental_all |= other.experimental_all;
        out.skip.extend(other.skip.iter().cloned());
        out.experimental.extend(other.experimental.iter().cloned());
        out
    }

    /// The `check=` directive among an instruction's comments, as BuildKit 1.21+ reads it: the
    /// first comment of the form `check=VALUE` (text after a space in VALUE ignored); an
    /// invalid one changes nothing.
    pub fn from_comments(comments: &[String]) -> Option<CheckConfig> {
        let value = comments.iter().find_map(|c| {
            let c = c.trim_start();
            let name_len = c
                .char_indices()
                .find(|&(i, ch)| !(ch.is_ascii_alphabetic() || (i > 0 && ch.is_ascii_digit())))
                .map_or(c.len(), |(i, _)| i);
            let (name, rest) = c.split_at(name_len);
            let value = rest.trim_start().strip_prefix('=')?.trim();
            (name.eq_ignore_ascii_case("check") && !value.is_empty()).then_some(value)
        })?;
        let value = value.split(' ').next().unwrap_or(value);
        CheckConfig::parse(value).ok()
    }

    /// [`CheckConfig::filter`] where an instruction's own `# check=` comment (given as the
    /// instruction's line range and its config) also applies to the findings on its lines.
    pub fn filter_inline(
        &self,
        findings: Vec<Finding>,
        inline: &[((u32, u32), CheckConfig)],
    ) -> Vec<Finding> {
        findings
            .into_iter()
            .filter(|f| {
                let line = f.line();
                match inline.iter().find(|((a, b), _)| (*a..=*b).contains(&line)) {
                    Some((_, own)) => self.merged(own).enabled(f.rule),
                    None => self.enabled(f.rule),
                }
            })
            .collect()
    }

    /// With `error=true` and official findings: BuildKit's build failure text (rule names
    /// sorted; BuildKit's order is a Go map's).
    pub fn violation(&self, findings: &[Finding]) -> Option<String> {
        if !self.error {
            return None;
        }
        let mut names: Vec<&str> = findings
            .iter()
            .filter(|f| f.rule.origin == Origin::Official)
            .map(|f| f.rule.name)
            .collect();
        names.sort_unstable();
        names.dedup();
        (!names.is_empty()).then(|| format!("lint violation found for rules: {}", names.join(", ")))
    }
}

fn parse_go_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

fn go_quote(s: &str) -> String {
    crate::syntax::go_quote(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_options() {
        let c = CheckConfig::parse("skip=JSONArgsRecommended, StageNameCasing;error=true").unwrap();
        assert_eq!(c.skip, ["JSONArgsRecommended", "StageNameCasing"]);
        assert!(c.error);
        assert!(!c.enabled(&JSON_ARGS_RECOMMENDED));
        assert!(c.enabled(&UNDEFINED_VAR));
        assert!(!c.enabled(&INVALID_DEFINITION_DESCRIPTION));
        let c = CheckConfig::parse("experimental=all;skip=all").unwrap();
        assert!(c.enabled(&INVALID_DEFINITION_DESCRIPTION));
        assert!(!c.enabled(&UNDEFINED_VAR));
        assert_eq!(CheckConfig::parse("  ").unwrap(), CheckConfig::default());
        assert_eq!(
            CheckConfig::parse("skip").unwrap_err(),
            "invalid check option \"skip\""
        );
        assert_eq!(
            CheckConfig::parse("foo=bar").unwrap_err(),
            "invalid check option \"foo\""
        );
        assert_eq!(
            CheckConfig::parse("error=maybe").unwrap_err(),
            "failed to parse check option \"error=maybe\": strconv.ParseBool: parsing \"maybe\": invalid syntax"
        );
    }

    #[test]
    fn violation_names_each_official_rule_once() {
        let sink = Sink::default();
        sink.report(&UNDEFINED_VAR, per_line((3, 3)), "a".into());
        sink.report(&JSON_ARGS_RECOMMENDED, per_line((4, 4)), "b".into());
        sink.report(&UNDEFINED_VAR, per_line((5, 5)), "c".into());
        let findings = sink.into_findings();
        let on = CheckConfig {
            error: true,
            ..CheckConfig::default()
        };
        assert_eq!(
            on.violation(&findings).unwrap(),
            "lint violation found for rules: JSONArgsRecommended, UndefinedVar"
        );
        assert_eq!(CheckConfig::default().violation(&findings), None);
        assert_eq!(findings[0].short(), "UndefinedVar: a (line 3)");
    }
}
