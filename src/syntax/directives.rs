//! Parser directives (`# syntax=`, `# escape=`, `# check=`) and syntax detection.
//!
//! Directives are comment lines of the form `# key = value` at the very top of the file. The first
//! line that is not one (a plain comment, a blank line, an instruction, or a directive with an
//! unknown key) ends the scan. Keys are case-insensitive; each known key may appear once.

use super::error::ErrorKind;
use super::gostr::{is_regex_space, to_lower, trim_left_space};
use super::json::{self, Item, Top};

const VALID_KEYS: [&str; 3] = ["syntax", "escape", "check"];

/// One directive line: lower-cased key and raw value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Found {
    pub(crate) key: String,
    pub(crate) value: String,
    pub(crate) line: usize,
}

/// Scans lines for directives until the first line that is not one.
#[derive(Debug, Clone)]
pub(crate) struct DirectiveParser {
    comment: &'static str,
    line: usize,
    seen: Vec<String>,
    done: bool,
}

impl DirectiveParser {
    /// A scanner for directives written after `comment` (`#`, or `//` for syntax detection).
    pub(crate) fn new(comment: &'static str) -> DirectiveParser {
        DirectiveParser {
            comment,
            line: 0,
            seen: Vec::new(),
            done: false,
        }
    }

    fn starting_at(comment: &'static str, line: usize) -> DirectiveParser {
        DirectiveParser {
            line,
            ..DirectiveParser::new(comment)
        }
    }

    /// Looks at the next line (without its newline); `Some` when it is a known directive.
    pub(crate) fn parse_line(&mut self, line: &str) -> Result<Option<Found>, ErrorKind> {
        self.line += 1;
        if self.done {
            return Ok(None);
        }
        let Some((key, value)) = line
            .strip_prefix(self.comment)
            .and_then(|rest| split_directive(trim_left_space(rest)))
        else {
            self.done = true;
            return Ok(None);
        };
        let key = to_lower(key);
        if !VALID_KEYS.contains(&key.as_str()) {
            self.done = true;
            return Ok(None);
        }
        if self.seen.contains(&key) {
            return Err(ErrorKind::DuplicateDirective(key));
        }
        self.seen.push(key.clone());
        Ok(Some(Found {
            key,
            value: value.to_string(),
            line: self.line,
        }))
    }

    /// All directives at the top of `text`, stopping quietly at the first error.
    fn parse_all(mut self, text: &str) -> Vec<Found> {
        let mut found = Vec::new();
        for line in scan_lines(text) {
            if self.done {
                break;
            }
            match self.parse_line(line) {
                Ok(Some(d)) => found.push(d),
                Ok(None) => {}
                Err(_) => break,
            }
        }
        found
    }
}

/// Matches `^([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$` and returns the key and value.
fn split_directive(s: &str) -> Option<(&str, &str)> {
    let first = s.chars().next()?;
    if !first.is_ascii_alphabetic() {
        return None;
    }
    let key_len = s
        .find(|c: char| !c.is_ascii_alphanumeric())
        .unwrap_or(s.len());
    let (key, rest) = s.split_at(key_len);
    let after_eq = rest.trim_start_matches(is_regex_space).strip_prefix('=')?;
    if after_eq.is_empty() || after_eq.contains('\n') {
        return None;
    }
    let value = after_eq
        .trim_start_matches(is_regex_space)
        .trim_end_matches(is_regex_space);
    if !value.is_empty() {
        return Some((key, value));
    }
    // Only blanks after `=`: the lazy `(.+?)` still takes one character, the last one.
    let last = after_eq.char_indices().last().map_or(0, |(i, _)| i);
    Some((key, &after_eq[last..]))
}

/// `bufio.ScanLines`: lines without `\n` and without one trailing `\r`.
fn scan_lines(text: &str) -> impl Iterator<Item = &str> {
    let body = text.strip_suffix('\n').unwrap_or(text);
    let lines = if text.is_empty() {
        None
    } else {
        Some(body.split('\n'))
    };
    lines
        .into_iter()
        .flatten()
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
}

/// Finds the `syntax` directive the way BuildKit's `DetectSyntax` does, before any parsing.
///
/// Returns the directive's whole value (the frontend reference is the part before the first
/// space; the rest are its options) and the line it was found on. Besides `# syntax=`, this accepts
/// `// syntax=` lines and a JSON object `{"syntax": "…"}` as the whole file, skips a UTF-8 BOM
/// and a first `#!` line. Like BuildKit, the JSON form reports line 0, or 1 after a `#!` line.
pub fn detect_syntax(input: &[u8]) -> Option<(String, usize)> {
    let input = input.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(input);
    let text = String::from_utf8_lossy(input);
    let (text, line) = match text.split_once('\n') {
        Some((first, rest)) if first.starts_with("#!") => (rest, 1),
        None if text.starts_with("#!") => ("", 1),
        _ => (&*text, 0),
    };
    for comment in ["#", "//"] {
        let found = DirectiveParser::starting_at(comment, line).parse_all(text);
        if let Some(d) = found.into_iter().find(|d| d.key == "syntax") {
            return Some((d.value, d.line));
        }
    }
    match json::parse(text)? {
        Top::Object(members) => match members.into_iter().rev().find(|(k, _)| k == "syntax")? {
            (_, Item::Str(value)) => Some((value, line)),
            _ => None,
        },
        _ => None,
    }
}

/// The frontend reference in a syntax directive's value: the part before the first space.
pub fn syntax_reference(value: &str) -> &str {
    value.split(' ').next().unwrap_or(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(text: &str) -> Vec<(String, String, usize)> {
        DirectiveParser::new("#")
            .parse_all(text)
            .into_iter()
            .map(|d| (d.key, d.value, d.line))
            .collect()
    }

    fn one(key: &str, value: &str, line: usize) -> Vec<(String, String, usize)> {
        vec![(key.to_string(), value.to_string(), line)]
    }

    #[test]
    fn directive_lines() {
        assert_eq!(
            all("#escape=\\\n# key = FOO bar\n\n# smth\n"),
            one("escape", "\\", 1)
        );
        assert_eq!(
            all("# EScape=\\\n# KEY = FOO bar\n\n# smth\n"),
            one("escape", "\\", 1)
        );
        assert_eq!(
            all("#  SYNTAX = docker/dockerfile:1 \t\n"),
            one("syntax", "docker/dockerfile:1", 1)
        );
        assert_eq!(
            all("# check=skip=all;error=true\n"),
            one("check", "skip=all;error=true", 1)
        );
        assert_eq!(all("# comment\n# escape=`\n"), vec![]);
        assert_eq!(all("\n# escape=`\n"), vec![]);
        assert_eq!(all("#escape= \n"), one("escape", " ", 1));
        assert_eq!(all("#1escape=`\n"), vec![]);
        assert_eq!(all("#escape\n"), vec![]);
        assert_eq!(all("# syntax=a\n# escape=`\nFROM x\n# check=x\n").len(), 2);
    }

    #[test]
    fn duplicate_directive_is_an_error() {
        let mut p = DirectiveParser::new("#");
        assert!(p.parse_line("# syntax=a").is_ok());
        assert_eq!(
            p.parse_line("# Syntax=b"),
            Err(ErrorKind::DuplicateDirective("syntax".into()))
        );
    }

    #[test]
    fn detect_syntax_forms() {
        let cases: &[(&str, Option<(&str, usize)>)] = &[
            (
                "# syntax = dockerfile:experimental // opts\nFROM busybox\n",
                Some(("dockerfile:experimental // opts", 1)),
            ),
            (
                "#!/bin/sh\n# syntax = dockerfile:experimental\nFROM busybox\n",
                Some(("dockerfile:experimental", 2)),
            ),
            ("#!/bin/sh\n\n# syntax = dockerfile:experimental\n", None),
            ("FROM busybox\nRUN ls\n", None),
            ("//syntax=foo\n//key=value", Some(("foo", 1))),
            ("#!/bin/sh\n//syntax=x", Some(("x", 2))),
            (r#"{"syntax": "foo", "bar": ["abc"]}"#, Some(("foo", 0))),
            (r#"{"syntax": "foo""#, None),
            ("{\"syntax\": \"foo\"}\n# syntax=bar", None),
            (
                "\u{feff}# syntax = myfrontend\nFROM busybox\n",
                Some(("myfrontend", 1)),
            ),
            ("# syntax=a\n# syntax=b\n", Some(("a", 1))),
        ];
        for (input, want) in cases {
            let got = detect_syntax(input.as_bytes());
            assert_eq!(got, want.map(|(v, l)| (v.to_string(), l)), "{input:?}");
        }
        assert_eq!(
            syntax_reference("dockerfile:experimental // opts"),
            "dockerfile:experimental"
        );
    }
}
