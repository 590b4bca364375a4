//! Expansion errors, worded as BuildKit words them.

use std::fmt::Write as _;

/// A word that could not be expanded; displays BuildKit's message for the failure.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind}")]
pub struct Error {
    kind: ErrorKind,
    word: String,
}

impl Error {
    pub(super) fn new(kind: ErrorKind, word: &str) -> Self {
        Self {
            kind,
            word: word.to_owned(),
        }
    }

    /// What went wrong.
    pub fn kind(&self) -> &ErrorKind {
        &self.kind
    }

    /// The whole word that was being expanded.
    pub fn word(&self) -> &str {
        &self.word
    }

    /// BuildKit's wrapped form, `failed to process "<word>": <message>`, as users see it.
    pub fn wrapped(&self) -> String {
        format!("failed to process {}: {}", go_quote(&self.word), self.kind)
    }
}

/// The kinds of expansion failure; each displays BuildKit's exact text.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ErrorKind {
    /// `${}`, `${:x}`, `${{x}`: no usable name after `${`.
    #[error("syntax error: bad substitution")]
    BadSubstitution,
    /// The word ended inside `${...}`.
    #[error("syntax error: missing '}}'")]
    MissingBrace,
    /// The word ended inside the pattern of `${V/pattern/replacement}`.
    #[error("syntax error: missing '/' in ${{}}")]
    MissingSlash,
    /// An operator BuildKit does not support, such as `${V:=x}` or `${V:#x}`; holds the
    /// operator text (`U+FFFD` stands for the end of the word, as in Go).
    #[error("unsupported modifier ({0}) in substitution")]
    UnsupportedModifier(String),
    /// `${V?message}` or `${V:?message}` with `V` unset.
    #[error("{name}: {}", message.as_deref().unwrap_or("is not allowed to be unset"))]
    Unset {
        /// The variable.
        name: String,
        /// The user's message, if one was given.
        message: Option<String>,
    },
    /// `${V:?message}` with `V` set but empty.
    #[error("{name}: {}", message.as_deref().unwrap_or("is not allowed to be empty"))]
    Empty {
        /// The variable.
        name: String,
        /// The user's message, if one was given.
        message: Option<String>,
    },
    /// A pattern with `\` before something other than `*`, `?`, `\`, `}` or `/`.
    #[error("invalid pattern ({pattern}) in substitution: invalid escape '\\{escaped}'")]
    InvalidPattern {
        /// The pattern as BuildKit reports it (reversed for `%` and `%%`, as BuildKit does).
        pattern: String,
        /// The character after the `\` (`U+FFFD` for the end of the pattern).
        escaped: char,
    },
    /// An unterminated `'...'`.
    #[error("unexpected end of statement while looking for matching single-quote")]
    UnclosedSingleQuote,
    /// An unterminated `"..."`.
    #[error("unexpected end of statement while looking for matching double-quote")]
    UnclosedDoubleQuote,
    /// The word ended while looking for the given character; inside `${...}` this is reported as
    /// [`ErrorKind::MissingBrace`] or [`ErrorKind::MissingSlash`] instead, as in BuildKit.
    #[error("unexpected end of statement while looking for matching {0}")]
    UnexpectedEnd(char),
    /// Stager's own limit: `${...}` nested deeper than [`super::MAX_NESTING`].
    #[error("substitutions nested deeper than {limit} levels")]
    TooDeep {
        /// The limit that was hit.
        limit: usize,
    },
    /// Stager's own limit: substitutions produced more than [`super::MAX_EXPANDED_LEN`] bytes.
    #[error("substitutions produced more than {limit} bytes")]
    TooLong {
        /// The limit that was hit.
        limit: usize,
    },
}

/// Go's `%q` for a string: double-quoted with Go escapes.
///
/// Printability follows Go's `strconv.IsPrint` for control characters and blanks; other
/// characters Go deems unprintable (unassigned or format code points) are written as is.
fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            ' ' => out.push(' '),
            c if u32::from(c) < 0x20 || c == '\u{7f}' => {
                let _ = write!(out, "\\x{:02x}", u32::from(c));
            }
            c if c.is_control() || c.is_whitespace() || c == '\u{feff}' => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_quote_escapes_like_go() {
        let cases = [
            ("abc", r#""abc""#),
            ("a\"b\\c", r#""a\"b\\c""#),
            ("\t\n\0", r#""\t\n\x00""#),
            ("안녕 ♥", "\"안녕 ♥\""),
            ("\u{a0}\u{85}", r#""\u00a0\u0085""#),
        ];
        for (input, want) in cases {
            assert_eq!(go_quote(input), want, "{input:?}");
        }
    }

    #[test]
    fn wrapped_like_buildkit() {
        let err = Error::new(ErrorKind::BadSubstitution, "he${}");
        assert_eq!(err.to_string(), "syntax error: bad substitution");
        assert_eq!(
            err.wrapped(),
            r#"failed to process "he${}": syntax error: bad substitution"#
        );
    }
}
