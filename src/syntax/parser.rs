//! The line loop (BuildKit's `parser.Parse`): directives, comments, continuation lines, heredoc
//! bodies, and line numbers.

use std::borrow::Cow;

use super::ast::{Directive, Directives, Dockerfile, Heredoc, Warning, WarningKind};
use super::directives::DirectiveParser;
use super::error::{Error, ErrorKind};
use super::gostr::{trim_left_space, trim_space};
use super::heredoc::heredocs_from_line;
use super::instruction::{can_contain_heredoc, node_from_line};
use super::scanner::Lines;

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Parses a whole Dockerfile; see [`super::parse`].
pub(crate) fn parse(input: &[u8]) -> Result<Dockerfile, Error> {
    let mut ctx = Ctx {
        lines: Lines::new(input),
        current_line: 0,
        escape: '\\',
        directive_parser: DirectiveParser::new("#"),
        directives: Directives::default(),
    };
    let mut nodes = Vec::new();
    let mut warnings = Vec::new();
    let mut comments: Vec<String> = Vec::new();

    while let Some(raw) = ctx.lines.next() {
        let raw = if ctx.current_line == 0 {
            raw.strip_prefix(BOM).unwrap_or(raw)
        } else {
            raw
        };
        if is_comment(raw) {
            // BuildKit drops the first byte, which is `#` only when the comment is not indented.
            let comment = String::from_utf8_lossy(raw.get(1..).unwrap_or_default());
            let comment = trim_space(&comment);
            if comment.is_empty() {
                comments.clear();
            } else {
                comments.push(comment.to_string());
            }
        }
        let (text, directive) = ctx.process_line(raw, true)?;
        if directive {
            // The directive was also collected as a comment; it is not documentation.
            comments.pop();
        }
        ctx.current_line += 1;
        let start_line = ctx.current_line;

        let (first, mut end_of_line) = trim_continuation(&text, ctx.escape);
        if end_of_line && first.is_empty() {
            continue;
        }
        // The one buffer of the instruction's text: continuation lines are appended to it, and it
        // becomes the node's `original`.
        let mut line = first.to_string();
        let mut empty_continuation = false;
        while !end_of_line {
            let Some(raw) = ctx.lines.next() else { break };
            let (text, _) = ctx.process_line(raw, false)?;
            ctx.current_line += 1;
            if is_comment(raw) {
                continue;
            }
            if trim_left_space(&text).is_empty() {
                empty_continuation = true;
                continue;
            }
            let (part, end) = trim_continuation(&text, ctx.escape);
            line.push_str(part);
            end_of_line = end;
        }
        if empty_continuation {
            warnings.push(Warning {
                kind: WarningKind::EmptyContinuationLine,
                message: format!("Empty continuation line found in: {line}"),
                start_line: ctx.current_line,
                end_line: ctx.current_line,
            });
        }

        let at = |kind, end| Error::new(kind, start_line, end);
        let mut node = node_from_line(line, ctx.escape, std::mem::take(&mut comments))
            .map_err(|k| at(k, ctx.current_line))?;
        // The outermost node's `original` is the whole line.
        if can_contain_heredoc(&node) && has_heredoc_marker(&node.original) {
            let heredocs =
                heredocs_from_line(&node.original).map_err(|k| at(k, ctx.current_line))?;
            for mut heredoc in heredocs {
                ctx.read_heredoc_body(&mut heredoc)
                    .map_err(|k| at(k, ctx.current_line))?;
                node.heredocs.push(heredoc);
            }
        }
        node.start_line = start_line;
        node.end_line = ctx.current_line;
        nodes.push(node);
    }

    if nodes.is_empty() {
        return Err(Error::new(ErrorKind::NoInstructions, ctx.current_line, 0));
    }
    if ctx.lines.too_long() {
        return Err(Error::new(ErrorKind::LineTooLong, ctx.current_line, 0));
    }
    Ok(Dockerfile {
        directives: ctx.directives,
        escape: ctx.escape,
        nodes,
        warnings,
    })
}

/// Parse state shared by the loops.
struct Ctx<'a> {
    lines: Lines<'a>,
    /// Lines consumed so far; the 1-based number of the last one read.
    current_line: usize,
    escape: char,
    directive_parser: DirectiveParser,
    directives: Directives,
}

impl<'a> Ctx<'a> {
    /// BuildKit's `processLine`: drops the line ending (and, for the first line of an instruction,
    /// leading whitespace), looks for a parser directive, and blanks out comment lines. Returns the
    /// text (borrowed from the input when it is valid UTF-8) and whether the line was a directive.
    fn process_line(
        &mut self,
        raw: &'a [u8],
        strip_left: bool,
    ) -> Result<(Cow<'a, str>, bool), Error> {
        let text = match String::from_utf8_lossy(raw) {
            Cow::Borrowed(all) => Cow::Borrowed(line_text(all, strip_left)),
            Cow::Owned(all) => Cow::Owned(line_text(&all, strip_left).to_string()),
        };
        let line = self.current_line + 1;
        let directive = match self.directive_parser.parse_line(&text) {
            Ok(Some(found)) => {
                let directive = Directive {
                    value: found.value,
                    line: found.line,
                };
                match &*found.key {
                    "escape" => {
                        self.escape = escape_token(&directive.value).ok_or_else(|| {
                            Error::new(
                                ErrorKind::InvalidEscapeToken(directive.value.clone()),
                                line,
                                line,
                            )
                        })?;
                        self.directives.escape = Some(directive);
                    }
                    "syntax" => self.directives.syntax = Some(directive),
                    _ => self.directives.check = Some(directive),
                }
                true
            }
            Ok(None) => false,
            Err(kind) => return Err(Error::new(kind, line, line)),
        };
        let text = if is_comment_text(&text) {
            Cow::Borrowed("")
        } else {
            text
        };
        Ok((text, directive))
    }

    /// Reads lines up to the heredoc's terminator into its content.
    fn read_heredoc_body(&mut self, heredoc: &mut Heredoc) -> Result<(), ErrorKind> {
        for raw in self.lines.by_ref() {
            self.current_line += 1;
            let text = String::from_utf8_lossy(raw);
            let mut candidate = text.trim_end_matches(['\r', '\n']);
            if heredoc.chomp {
                candidate = candidate.trim_start_matches('\t');
            }
            if candidate == heredoc.name {
                return Ok(());
            }
            heredoc.content.push_str(&text);
        }
        Err(ErrorKind::UnterminatedHeredoc)
    }
}

/// A line without its line ending and, when asked, without leading whitespace.
fn line_text(line: &str, strip_left: bool) -> &str {
    let text = line.trim_end_matches(['\r', '\n']);
    if strip_left {
        trim_left_space(text)
    } else {
        text
    }
}

/// The escape character an `# escape=` value selects, if it is a valid one.
fn escape_token(value: &str) -> Option<char> {
    match value {
        "\\" => Some('\\'),
        "`" => Some('`'),
        _ => None,
    }
}

/// A comment line: `#` is its first character after leading whitespace.
fn is_comment(raw: &[u8]) -> bool {
    // Only the leading characters matter, and they are nearly always ASCII.
    for (i, &b) in raw.iter().enumerate() {
        match b {
            b'#' => return true,
            b'\t' | b'\n' | 0x0B | 0x0C | b'\r' | b' ' => {}
            _ if b.is_ascii() => return false,
            _ => {
                // A byte that is not valid UTF-8 decodes to U+FFFD, which is neither a space nor
                // `#`, so the valid prefix decides.
                let rest = &raw[i..];
                let valid = match std::str::from_utf8(rest) {
                    Ok(text) => text,
                    Err(e) => std::str::from_utf8(&rest[..e.valid_up_to()]).unwrap_or_default(),
                };
                return is_comment_text(valid);
            }
        }
    }
    false
}

fn is_comment_text(text: &str) -> bool {
    trim_left_space(text).starts_with('#')
}

/// Whether `<<` occurs in the line: a byte scan, cheaper on short lines than a substring search.
fn has_heredoc_marker(line: &str) -> bool {
    line.as_bytes().windows(2).any(|pair| pair == b"<<")
}

/// BuildKit's `trimContinuationCharacter`: a line ending in the escape token (optionally followed by
/// spaces or tabs) that is not itself escaped continues on the next line. Returns the text without
/// the token and whether the instruction ends here.
fn trim_continuation(text: &str, escape: char) -> (&str, bool) {
    let trimmed = text.trim_end_matches([' ', '\t']);
    if let Some(before) = trimmed.strip_suffix(escape)
        && !before.ends_with(escape)
    {
        return (before, false);
    }
    (text, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continuation_table() {
        let cases = [
            ("RUN a \\", '\\', "RUN a ", false),
            ("RUN a \\  \t", '\\', "RUN a ", false),
            ("\\", '\\', "", false),
            ("\\ ", '\\', "", false),
            ("RUN a \\\\", '\\', "RUN a \\\\", true),
            ("RUN a", '\\', "RUN a", true),
            ("RUN a `", '`', "RUN a ", false),
            ("RUN a \\", '`', "RUN a \\", true),
            ("RUN a\\``", '`', "RUN a\\``", true),
            ("é\\", '\\', "é", false),
        ];
        for (text, escape, want, end) in cases {
            assert_eq!(trim_continuation(text, escape), (want, end), "{text:?}");
        }
    }

    #[test]
    fn heredoc_marker() {
        for (line, want) in [
            ("RUN <<EOF", true),
            ("RUN a<<", true),
            ("RUN < <", false),
            ("<", false),
            ("", false),
        ] {
            assert_eq!(has_heredoc_marker(line), want, "{line:?}");
        }
    }

    #[test]
    fn comment_detection() {
        assert!(is_comment(b"# x\n"));
        assert!(is_comment(b" \t# x"));
        assert!(is_comment("\u{a0}#".as_bytes()));
        assert!(!is_comment(b"RUN # x"));
        assert!(!is_comment(b"\n"));
        assert!(!is_comment(b""));
        assert!(is_comment(b" \x0b\x0c\r#"));
        assert!(is_comment(b" \xe3\x80\x80#"));
        assert!(!is_comment(b" \xe3\x80#"));
        assert!(!is_comment(b"\xff#"));
        assert!(!is_comment(" \u{200b}#".as_bytes()));
    }

    fn parse_err(input: &[u8]) -> (ErrorKind, Option<usize>, Option<usize>) {
        let err = parse(input).expect_err("should fail");
        (err.kind().clone(), err.start_line(), err.end_line())
    }

    #[test]
    fn warns_on_empty_continuation_lines() {
        let input = "\nFROM alpine:3.6\n\nRUN valid \\\n    continuation\n\nRUN something \\\n\n    following \\\n\n    more\n\nRUN another \\\n\n    thing\n\nRUN non-indented \\\n# this is a comment\n   after-comment\n\nRUN indented \\\n    # this is an indented comment\n    comment\n\t";
        let df = parse(input.as_bytes()).expect("parses");
        let got: Vec<(WarningKind, &str, usize, usize)> = df
            .warnings
            .iter()
            .map(|w| (w.kind, w.message.as_str(), w.start_line, w.end_line))
            .collect();
        assert_eq!(
            got,
            [
                (
                    WarningKind::EmptyContinuationLine,
                    "Empty continuation line found in: RUN something     following     more",
                    11,
                    11
                ),
                (
                    WarningKind::EmptyContinuationLine,
                    "Empty continuation line found in: RUN another     thing",
                    15,
                    15
                ),
            ]
        );
        assert_eq!(df.nodes[4].args, ["non-indented    after-comment"]);
        assert_eq!(df.nodes[5].args, ["indented     comment"]);
        assert_eq!(
            WarningKind::EmptyContinuationLine.detail(),
            "Empty continuation lines will become errors in a future release"
        );
    }

    #[test]
    fn errors_and_their_lines() {
        let long = [b"FROM a\n".to_vec(), vec![b'a'; 70_000]].concat();
        type Case<'a> = (&'a [u8], ErrorKind, Option<usize>, Option<usize>);
        let cases: &[Case] = &[
            (b"", ErrorKind::NoInstructions, None, None),
            (b"# a\n\n# b\n", ErrorKind::NoInstructions, Some(3), Some(3)),
            (
                b"FROM a\nENV A\n",
                ErrorKind::MissingValue("ENV".into()),
                Some(2),
                Some(2),
            ),
            (
                b"FROM a\nLABEL a=b \\\n  c\n",
                ErrorKind::MissingEquals("c".into()),
                Some(2),
                Some(3),
            ),
            (
                b"FROM a\nCMD [\"a\", 1]\n",
                ErrorKind::NotStringArray,
                Some(2),
                Some(2),
            ),
            (
                b"# escape=x\nFROM a\n",
                ErrorKind::InvalidEscapeToken("x".into()),
                Some(1),
                Some(1),
            ),
            (
                b"# syntax=a\n# SYNTAX=b\nFROM a\n",
                ErrorKind::DuplicateDirective("syntax".into()),
                Some(2),
                Some(2),
            ),
            (
                b"# check=a\n#check=b\nFROM a\n",
                ErrorKind::DuplicateDirective("check".into()),
                Some(2),
                Some(2),
            ),
            (&long, ErrorKind::LineTooLong, Some(1), Some(1)),
            (
                b"FROM a\nRUN <<EOF\nx\n",
                ErrorKind::UnterminatedHeredoc,
                Some(2),
                Some(3),
            ),
            (
                b"FROM a\nRUN <<${X:-a b}\n",
                ErrorKind::HeredocWord {
                    word: "${X:-a".into(),
                    message: "syntax error: missing '}'".into(),
                },
                Some(2),
                Some(2),
            ),
        ];
        for (input, kind, start, end) in cases {
            assert_eq!(
                parse_err(input),
                (kind.clone(), *start, *end),
                "{:?}",
                String::from_utf8_lossy(input)
            );
        }
        let first_line_too_long = vec![b'a'; 70_000];
        assert_eq!(parse_err(&first_line_too_long).0, ErrorKind::NoInstructions);
        assert_eq!(
            parse(&long).expect_err("too long").to_string(),
            "dockerfile line greater than max allowed size of 65535"
        );
    }

    #[test]
    fn directives_and_escape() {
        let df = parse(b"\xEF\xBB\xBF# syntax = docker/dockerfile:1\n#ESCAPE=`\n# check=skip=all\nFROM a\nRUN a `\n  b\n").expect("parses");
        let d = &df.directives;
        let pick = |d: &Option<Directive>| d.as_ref().map(|d| (d.value.clone(), d.line));
        assert_eq!(
            pick(&d.syntax),
            Some(("docker/dockerfile:1".to_string(), 1))
        );
        assert_eq!(pick(&d.escape), Some(("`".to_string(), 2)));
        assert_eq!(pick(&d.check), Some(("skip=all".to_string(), 3)));
        assert_eq!(df.escape, '`');
        assert_eq!(df.dump(), "(from \"a\")\n(run \"a   b\")");
        // After a plain comment, directives are comments.
        let df = parse(b"# hello\n# escape=`\nFROM a\n").expect("parses");
        assert_eq!((df.escape, df.directives.escape.is_none()), ('\\', true));
        // An unknown key ends the directives.
        let df = parse(b"# foo=bar\n# escape=`\nFROM a\n").expect("parses");
        assert_eq!(df.escape, '\\');
        // A directive-looking line after an instruction is a comment, even a duplicate.
        let df = parse(b"# syntax=a\nFROM a\n# syntax=b\n").expect("parses");
        assert_eq!(df.directives.syntax.map(|d| d.value), Some("a".to_string()));
    }

    #[test]
    fn doc_comments() {
        let input = "# syntax=x\n# The base\nFROM a AS b\n# one\n\n# two\nARG V\n#\n# three\nARG W\n  # indented\nARG X\nRUN a \\\n# skipped\n  b\n";
        let df = parse(input.as_bytes()).expect("parses");
        let got: Vec<Vec<String>> = df.nodes.iter().map(|n| n.prev_comment.clone()).collect();
        let want: Vec<Vec<String>> = vec![
            vec!["The base".into()],
            vec!["one".into(), "two".into()],
            vec!["three".into()],
            vec!["# indented".into()],
            vec![],
        ];
        assert_eq!(got, want);
    }

    #[test]
    fn lines_and_bytes() {
        let cases: &[(&[u8], &str)] = &[
            (
                b"FROM a\r\nRUN b \\\r\n c\r\n",
                "(from \"a\")\n(run \"b  c\")",
            ),
            (b"  FROM a\n\tRUN b\n", "(from \"a\")\n(run \"b\")"),
            (b"FROM a\nRUN b \\", "(from \"a\")\n(run \"b\")"),
            (b"\\\n", "(\"\")"),
            (
                b"FROM a\nRUN \xff\xfe\n",
                "(from \"a\")\n(run \"\u{fffd}\u{fffd}\")",
            ),
            (b"FROM a\nRUN a\0b\n", "(from \"a\")\n(run \"a\\x00b\")"),
            (b"FROM a\nRUN \\\n\\\nb\n", "(from \"a\")\n(run \"b\")"),
            (b"\xEF\xBB\xBFFROM a\n", "(from \"a\")"),
            (
                b"FROM a\n\xEF\xBB\xBFRUN b\n",
                "(from \"a\")\n(\u{feff}run \"\")",
            ),
        ];
        for (input, want) in cases {
            let df = parse(input).expect("parses");
            assert_eq!(df.dump(), *want, "{:?}", String::from_utf8_lossy(input));
        }
        let df = parse(b"FROM a\nRUN b \\\n c\n").expect("parses");
        assert_eq!(df.nodes[1].original, "RUN b  c");
        assert_eq!((df.nodes[1].start_line, df.nodes[1].end_line), (2, 3));
    }
}
