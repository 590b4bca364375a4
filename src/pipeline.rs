//! The one-page pipeline: bytes -> syntax -> instructions -> plan -> convert.
//!
//! Each step is a pure function; the gateway and the CLI call them in order and stop at the
//! earliest step that answers their question. [`Error`] carries the Dockerfile lines of every
//! failure so that the edges can show them.

use std::collections::BTreeMap;

pub use crate::convert::{BaseImage, Context as ConvertContext, Converted, Graph};
pub use crate::plan::{ImageRequest, Plan};

use crate::options::BuildOptions;
use crate::{convert, instructions, plan, syntax};

/// A Dockerfile parsed and typed.
#[derive(Clone, Debug)]
pub struct Parsed {
    /// The syntax tree (directives, escape token, warnings).
    pub dockerfile: syntax::Dockerfile,
    /// One typed instruction per node.
    pub instructions: Vec<instructions::Instruction>,
}

/// Any failure of the pipeline, with the lines it concerns.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The text is not a Dockerfile BuildKit accepts.
    #[error(transparent)]
    Syntax(#[from] syntax::Error),
    /// An instruction is malformed.
    #[error(transparent)]
    Instruction(#[from] instructions::Error),
    /// The stages do not fit together.
    #[error(transparent)]
    Plan(#[from] plan::Error),
    /// An instruction cannot be converted.
    #[error(transparent)]
    Convert(#[from] convert::Error),
}

impl Error {
    /// 1-based line ranges, one per line as BuildKit reports them; empty if no line is to blame.
    pub fn ranges(&self) -> Vec<(u32, u32)> {
        let spans: Vec<(u32, u32)> = match self {
            Error::Syntax(e) => e
                .start_line()
                .map(|s| (line(s), line(e.end_line().unwrap_or(s))))
                .into_iter()
                .collect(),
            Error::Instruction(e) => vec![e.lines],
            Error::Plan(e) => e.lines.clone(),
            Error::Convert(e) => vec![e.lines],
        };
        spans
            .into_iter()
            .filter(|(s, _)| *s > 0)
            .flat_map(|(s, e)| (s..=e.max(s)).map(|l| (l, l)))
            .collect()
    }

    /// The message with `FILE:LINE: ` in front when the text itself does not name the line
    /// (clients such as Docker 20.10 show only the text, not the source excerpt).
    pub fn located_message(&self, filename: &str) -> String {
        match (self, self.line()) {
            (Error::Plan(_) | Error::Convert(_), Some(line)) => {
                format!("{filename}:{line}: {self}")
            }
            _ => self.to_string(),
        }
    }

    /// The first line, for `FILE:LINE:` messages.
    pub fn line(&self) -> Option<u32> {
        self.ranges().first().map(|r| r.0)
    }
}

fn line(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Parses and types a Dockerfile.
pub fn parse(bytes: &[u8]) -> Result<Parsed, Error> {
    if bytes.is_empty() {
        return Err(Error::Plan(plan::Error {
            message: "the Dockerfile cannot be empty".into(),
            lines: Vec::new(),
        }));
    }
    let dockerfile = syntax::parse(bytes)?;
    let instructions = instructions::parse(&dockerfile.nodes)?;
    Ok(Parsed {
        dockerfile,
        instructions,
    })
}

/// Makes the plan for `opts`.
pub fn plan<'a>(parsed: &'a Parsed, opts: &BuildOptions) -> Result<Plan<'a>, Error> {
    Ok(plan::plan(
        &parsed.instructions,
        parsed.dockerfile.escape,
        opts,
    )?)
}

/// Converts the plan into LLB and an image config.
pub fn convert(
    plan: &Plan,
    escape: char,
    bases: &BTreeMap<String, BaseImage>,
    ctx: &ConvertContext<'_>,
) -> Result<Converted, Error> {
    Ok(convert::convert(plan, escape, bases, ctx)?)
}

/// [`convert`], stopping before the `pb::Definition` is made (see `llb::write_graph`).
pub fn convert_graph(
    plan: &Plan,
    escape: char,
    bases: &BTreeMap<String, BaseImage>,
    ctx: &ConvertContext<'_>,
) -> Result<Graph, Error> {
    Ok(convert::convert_graph(plan, escape, bases, ctx)?)
}

/// Patterns of a `.dockerignore` file: comments and blank lines dropped, paths cleaned,
/// a leading `/` removed, `!` kept.
pub fn dockerignore_patterns(bytes: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(bytes);
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| {
            let (neg, pat) = match l.strip_prefix('!') {
                Some(rest) => (true, rest.trim()),
                None => (false, l),
            };
            if neg && pat.is_empty() {
                // Kept so that `validate_dockerignore` refuses it, as BuildKit's matcher does.
                return Some("!".to_string());
            }
            let cleaned = crate::convert::clean_pattern(pat);
            (!cleaned.is_empty()).then(|| if neg { format!("!{cleaned}") } else { cleaned })
        })
        .collect()
}

/// Refuses `.dockerignore` patterns BuildKit's pattern matcher refuses (1.26 builds it while
/// dispatching, so such a file fails every build): `!` alone, and an unclosed `[` class.
pub fn validate_dockerignore(patterns: &[String]) -> Result<(), String> {
    for p in patterns {
        if p == "!" {
            return Err("illegal exclusion pattern: \"!\"".into());
        }
        if !brackets_closed(p.strip_prefix('!').unwrap_or(p)) {
            return Err("syntax error in pattern".into());
        }
    }
    Ok(())
}

/// Whether every `[` class of a glob is closed (Go's `filepath.Match` reports
/// `ErrBadPattern` otherwise).
fn brackets_closed(p: &str) -> bool {
    let mut chars = p.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.next().is_none() => return false,
            '[' => {
                let mut first = true;
                loop {
                    match chars.next() {
                        None => return false,
                        Some(']') if !first => break,
                        Some('\\') if chars.next().is_none() => return false,
                        _ => {}
                    }
                    first = false;
                }
            }
            _ => {}
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_dockerignore() {
        let bang = dockerignore_patterns(b"a\n!\n");
        assert_eq!(bang, ["a", "!"]);
        assert_eq!(
            validate_dockerignore(&bang).unwrap_err(),
            "illegal exclusion pattern: \"!\""
        );
        assert_eq!(
            validate_dockerignore(&dockerignore_patterns(b"! \n")).unwrap_err(),
            "illegal exclusion pattern: \"!\""
        );
        assert!(validate_dockerignore(&dockerignore_patterns(b"[a-z\n")).is_err());
        assert!(validate_dockerignore(&dockerignore_patterns(b"[a-z]*\n!keep\n*.log\n")).is_ok());
    }

    #[test]
    fn dockerignore() {
        let got = dockerignore_patterns(b"# c\n\n/target\n!target/x/./y\n  *.log \nsub/../z/\n");
        assert_eq!(got, ["target", "!target/x/y", "*.log", "z"]);
    }
}
