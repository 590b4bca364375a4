//! The parse error: what went wrong ([`ErrorKind`]) and on which lines.

use super::goquote::quote;

/// A Dockerfile that BuildKit's parser rejects. `Display` is BuildKit's message, word for word.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind}")]
pub struct Error {
    kind: ErrorKind,
    start_line: Option<usize>,
    end_line: Option<usize>,
}

/// What made the parse fail.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorKind {
    /// Nothing but blank lines, comments and parser directives.
    #[error("file with no instructions")]
    NoInstructions,
    /// A physical line, newline included, longer than BuildKit's 64 KiB scanner buffer.
    #[error("dockerfile line greater than max allowed size of 65535")]
    LineTooLong,
    /// An `# escape=` directive whose value is neither `\` nor `` ` ``.
    #[error("invalid escape token '{0}' does not match ` or \\")]
    InvalidEscapeToken(String),
    /// A parser directive given twice; holds its lower-cased name.
    #[error("only one {0} parser directive can be used")]
    DuplicateDirective(String),
    /// `ENV name` or `LABEL name` without a value; holds `ENV` or `LABEL`.
    #[error("{0} must have two arguments")]
    MissingValue(String),
    /// A word without `=` in the `ENV k=v` or `LABEL k=v` form; holds the word.
    #[error("Syntax error - can't find = in {}. Must be of the form: name=value", quote(.0))]
    MissingEquals(String),
    /// A JSON array with an element that is not a string, e.g. `CMD ["a", 1]`.
    #[error("when using JSON array syntax, arrays must be comprised of strings only")]
    NotStringArray,
    /// The input ended before a heredoc's terminator line.
    #[error("unterminated heredoc")]
    UnterminatedHeredoc,
    /// A heredoc delimiter word the shell lexer rejects, e.g. an unmatched quote.
    #[error("failed to process {}: {message}", quote(.word))]
    HeredocWord {
        /// The delimiter word after `<<`.
        word: String,
        /// The lexer's message.
        message: String,
    },
    /// `ONBUILD` nested deeper than this parser follows (BuildKit's instruction layer rejects any
    /// `ONBUILD ONBUILD` with this message; BuildKit's parser itself accepts them).
    #[error("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed")]
    OnbuildChain,
    /// The two lexings of a heredoc delimiter disagreed (BuildKit's internal consistency check).
    #[error("internal lexing of heredoc produced inconsistent results: {0}")]
    InconsistentHeredoc(String),
}

impl Error {
    pub(crate) fn new(kind: ErrorKind, start_line: usize, end_line: usize) -> Error {
        // BuildKit's toRanges: an end before the start means a single line; line 0 means none.
        let end_line = end_line.max(start_line);
        let line = |n: usize| (n > 0).then_some(n);
        Error {
            kind,
            start_line: line(start_line),
            end_line: line(end_line),
        }
    }

    /// What went wrong.
    pub fn kind(&self) -> &ErrorKind {
        &self.kind
    }

    /// The first line (1-based) the error is about, if it is about a line.
    pub fn start_line(&self) -> Option<usize> {
        self.start_line
    }

    /// The last line (1-based, inclusive) the error is about, if it is about a line.
    pub fn end_line(&self) -> Option<usize> {
        self.end_line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_match_buildkit() {
        let cases = [
            (ErrorKind::NoInstructions, "file with no instructions"),
            (
                ErrorKind::LineTooLong,
                "dockerfile line greater than max allowed size of 65535",
            ),
            (
                ErrorKind::InvalidEscapeToken("x".into()),
                "invalid escape token 'x' does not match ` or \\",
            ),
            (
                ErrorKind::DuplicateDirective("syntax".into()),
                "only one syntax parser directive can be used",
            ),
            (
                ErrorKind::MissingValue("ENV".into()),
                "ENV must have two arguments",
            ),
            (
                ErrorKind::MissingEquals("b\"c".into()),
                r#"Syntax error - can't find = in "b\"c". Must be of the form: name=value"#,
            ),
            (
                ErrorKind::NotStringArray,
                "when using JSON array syntax, arrays must be comprised of strings only",
            ),
            (ErrorKind::UnterminatedHeredoc, "unterminated heredoc"),
            (
                ErrorKind::HeredocWord {
                    word: "'EOF".into(),
                    message: "boom".into(),
                },
                r#"failed to process "'EOF": boom"#,
            ),
        ];
        for (kind, want) in cases {
            assert_eq!(Error::new(kind, 1, 1).to_string(), want);
        }
    }

    #[test]
    fn line_ranges() {
        let e = Error::new(ErrorKind::NoInstructions, 0, 0);
        assert_eq!((e.start_line(), e.end_line()), (None, None));
        let e = Error::new(ErrorKind::UnterminatedHeredoc, 3, 7);
        assert_eq!((e.start_line(), e.end_line()), (Some(3), Some(7)));
        let e = Error::new(ErrorKind::LineTooLong, 4, 0);
        assert_eq!((e.start_line(), e.end_line()), (Some(4), Some(4)));
    }
}
