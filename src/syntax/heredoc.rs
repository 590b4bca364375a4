//! Finding heredoc words (`<<EOF`, `<<-EOF`, `3<<'EOF'`, `<< EOF`) in an instruction line.
//!
//! The line is split into shell words with quotes and escapes kept; each word that matches
//! `^(\d*)<<(-?)\s*([^<]*)$` names a heredoc. The delimiter is lexed twice, with and without
//! quotes kept: if the quote counts differ, part of it was quoted and the body is not expanded.

use super::ast::Heredoc;
use super::error::ErrorKind;
use super::gostr::is_regex_space;
use super::shell_words::{self, Mode};

/// The heredocs named on `line`, in order.
pub(crate) fn heredocs_from_line(line: &str) -> Result<Vec<Heredoc>, ErrorKind> {
    // BuildKit ignores a lexing error here: a line that does not lex has no heredocs.
    let words = shell_words::words(
        line,
        Mode {
            raw_quotes: true,
            raw_escapes: true,
        },
    )
    .unwrap_or_default();
    let mut docs = Vec::new();
    for word in words {
        if let Some(doc) = parse_heredoc(&word)? {
            docs.push(doc);
        }
    }
    Ok(docs)
}

/// BuildKit's `ParseHeredoc`: the heredoc a single word names, if it names one.
pub fn parse_heredoc(word: &str) -> Result<Option<Heredoc>, ErrorKind> {
    let digits = word.bytes().take_while(u8::is_ascii_digit).count();
    let Some(after) = word[digits..].strip_prefix("<<") else {
        return Ok(None);
    };
    let (chomp, after) = match after.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, after),
    };
    let rest = after.trim_start_matches(is_regex_space);
    if rest.is_empty() || rest.contains('<') {
        return Ok(None);
    }
    let lex = |raw_quotes| {
        shell_words::words(
            rest,
            Mode {
                raw_quotes,
                raw_escapes: false,
            },
        )
        .map_err(|message| ErrorKind::HeredocWord {
            word: rest.to_string(),
            message,
        })
    };
    let words = lex(false)?;
    let [name] = words.as_slice() else {
        return Ok(None);
    };
    let raw = lex(true)?;
    let [raw_name] = raw.as_slice() else {
        return Err(ErrorKind::InconsistentHeredoc(rest.to_string()));
    };
    let quotes = |s: &str| s.chars().filter(|&c| c == '\'' || c == '"').count();
    Ok(Some(Heredoc {
        name: name.clone(),
        content: String::new(),
        expand: quotes(name) == quotes(raw_name),
        chomp,
        file_descriptor: file_descriptor(&word[..digits]),
    }))
}

/// Go's `strconv.ParseUint(digits, 10, 0)` with the error ignored: 0 when empty, the maximum on
/// overflow (saturated to `u32` here).
fn file_descriptor(digits: &str) -> u32 {
    if digits.is_empty() {
        return 0;
    }
    digits.parse::<u32>().unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(line: &str) -> Vec<String> {
        heredocs_from_line(line)
            .map(|docs| docs.into_iter().map(|d| d.name).collect())
            .unwrap_or_default()
    }

    #[test]
    fn words_that_are_heredocs() {
        // (word, name, expand, chomp, fd)
        let cases = [
            ("<<EOF", "EOF", true, false, 0),
            ("<<'EOF'", "EOF", false, false, 0),
            ("<<\"EOF\"", "EOF", false, false, 0),
            ("<<-EOF", "EOF", true, true, 0),
            ("<<-'EOF'", "EOF", false, true, 0),
            ("<<-\"EOF\"", "EOF", false, true, 0),
            ("<<EO\"F\"", "EOF", false, false, 0),
            ("<< EOF", "EOF", true, false, 0),
            ("<<-\t EOF", "EOF", true, true, 0),
            ("3<<EOF", "EOF", true, false, 3),
            ("<<eo'f'", "eof", false, false, 0),
            ("<<eo\\'f", "eo'f", true, false, 0),
            ("<<'e'o\\'f", "eo'f", false, false, 0),
            ("<<'one two'", "one two", false, false, 0),
            ("<<$EOF", "$EOF", true, false, 0),
            ("<<file.txt", "file.txt", true, false, 0),
            ("<< -EOF", "-EOF", true, false, 0),
            ("99999999999<<EOF", "EOF", true, false, u32::MAX),
        ];
        for (word, name, expand, chomp, fd) in cases {
            let doc = parse_heredoc(word)
                .ok()
                .flatten()
                .unwrap_or_else(|| panic!("{word} is a heredoc"));
            assert_eq!(
                (
                    doc.name.as_str(),
                    doc.expand,
                    doc.chomp,
                    doc.file_descriptor
                ),
                (name, expand, chomp, fd),
                "{word}"
            );
        }
    }

    #[test]
    fn words_that_are_not_heredocs() {
        for word in [
            "", "EOF", "<<", "<<-", "<EOF", "<<<EOF", "<<EOF sh", "<< ", "a<<EOF", "<<EOF<<X",
            "<<\"\"",
        ] {
            assert_eq!(parse_heredoc(word), Ok(None), "{word:?}");
        }
    }

    #[test]
    fn words_that_are_broken_heredocs() {
        let cases = [
            (
                "<<'EOF",
                "unexpected end of statement while looking for matching single-quote",
            ),
            (
                "<<\"EOF",
                "unexpected end of statement while looking for matching double-quote",
            ),
            (
                "<<EOF'",
                "unexpected end of statement while looking for matching single-quote",
            ),
            (
                "<<EOF\"",
                "unexpected end of statement while looking for matching double-quote",
            ),
        ];
        for (word, message) in cases {
            let Err(ErrorKind::HeredocWord { message: got, .. }) = parse_heredoc(word) else {
                panic!("{word} should fail");
            };
            assert_eq!(got, message, "{word}");
        }
    }

    #[test]
    fn heredocs_on_a_line() {
        let cases: &[(&str, &[&str])] = &[
            ("RUN <<EOF", &["EOF"]),
            ("RUN <<-EOF", &["EOF"]),
            ("RUN <<'EOF'", &["EOF"]),
            ("RUN 4<<EOF", &["EOF"]),
            ("RUN <<EOF <<EOF2", &["EOF", "EOF2"]),
            ("RUN << EOF", &["EOF"]),
            ("RUN '<<EOF'", &[]),
            ("RUN \"<<EOF\"", &[]),
            ("RUN cat<<EOF", &[]),
            ("RUN <<EOF 'unterminated", &[]),
            ("COPY --chmod=755 <<A <<-B /dest", &["A", "B"]),
        ];
        for (line, want) in cases {
            assert_eq!(names(line), *want, "{line}");
        }
    }

    /// (name, content, expand, chomp, fd) for each heredoc of a node.
    type Doc<'a> = (&'a str, &'a str, bool, bool, u32);
    type OwnedDoc = (String, String, bool, bool, u32);

    fn docs_per_node(input: &str) -> Vec<Vec<OwnedDoc>> {
        let df = crate::syntax::parse(input.as_bytes()).expect("parses");
        df.nodes
            .iter()
            .map(|n| {
                n.heredocs
                    .iter()
                    .map(|h| {
                        (
                            h.name.clone(),
                            h.content.clone(),
                            h.expand,
                            h.chomp,
                            h.file_descriptor,
                        )
                    })
                    .collect()
            })
            .collect()
    }

    fn owned(docs: &[Doc]) -> Vec<OwnedDoc> {
        docs.iter()
            .map(|&(n, c, e, ch, fd)| (n.to_string(), c.to_string(), e, ch, fd))
            .collect()
    }

    #[test]
    fn bodies_are_read_after_the_instruction() {
        // One Dockerfile per case: (text, heredocs of the last instruction).
        let cases: &[(&str, &[Doc])] = &[
            ("FROM a\nRUN ls\n", &[]),
            (
                "FROM a\nRUN <<EMPTY\nEMPTY\n",
                &[("EMPTY", "", true, false, 0)],
            ),
            (
                "FROM a\nRUN 3<<EMPTY2\nEMPTY2\n",
                &[("EMPTY2", "", true, false, 3)],
            ),
            ("FROM a\nRUN \"<<NOHEREDOC\"\n", &[]),
            (
                "FROM a\nRUN <<INDENT\n\tfoo\n\tbar\nINDENT\n",
                &[("INDENT", "\tfoo\n\tbar\n", true, false, 0)],
            ),
            (
                "FROM a\nRUN <<-UNINDENT\n\tbaz\n\tquux\nUNINDENT\n",
                &[("UNINDENT", "\tbaz\n\tquux\n", true, true, 0)],
            ),
            (
                "FROM a\nRUN <<-UNINDENT2\n\tbaz\n\tquux\n\tUNINDENT2\n",
                &[("UNINDENT2", "\tbaz\n\tquux\n", true, true, 0)],
            ),
            (
                "FROM a\nRUN <<-EXPAND\n\texpand $NAME\nEXPAND\n",
                &[("EXPAND", "\texpand $NAME\n", true, true, 0)],
            ),
            (
                "FROM a\nRUN <<-'NOEXPAND'\n\tdon't expand $NAME\nNOEXPAND\n",
                &[("NOEXPAND", "\tdon't expand $NAME\n", false, true, 0)],
            ),
            (
                "FROM a\nRUN <<COPY\necho hello world\necho foo bar\nCOPY\n",
                &[("COPY", "echo hello world\necho foo bar\n", true, false, 0)],
            ),
            (
                "FROM a\nRUN <<COMMENT\n# internal comment\necho hello world\necho foo bar # trailing comment\nCOMMENT\n",
                &[(
                    "COMMENT",
                    "# internal comment\necho hello world\necho foo bar # trailing comment\n",
                    true,
                    false,
                    0,
                )],
            ),
            (
                "FROM a\nRUN --mount=type=cache,target=/foo <<MOUNT\necho hello\nMOUNT\n",
                &[("MOUNT", "echo hello\n", true, false, 0)],
            ),
            (
                "FROM a\nCOPY <<FILE1 <<FILE2 /dest\ncontent 1\nFILE1\ncontent 2\nFILE2\n",
                &[
                    ("FILE1", "content 1\n", true, false, 0),
                    ("FILE2", "content 2\n", true, false, 0),
                ],
            ),
            (
                "FROM a\nCOPY <<EOF /quotes\n\"foo\"\n'bar'\nEOF\n",
                &[("EOF", "\"foo\"\n'bar'\n", true, false, 0)],
            ),
            (
                "FROM a\nCOPY <<X <<Y /dest\nY\nX\nX\nY\n",
                &[("X", "Y\n", true, false, 0), ("Y", "X\n", true, false, 0)],
            ),
            (
                "FROM a\nRUN <<COMPLEX python3\nprint('hello world')\nCOMPLEX\n",
                &[("COMPLEX", "print('hello world')\n", true, false, 0)],
            ),
            (
                "FROM a\nCOPY <<file.txt /dest\nhello world\nfile.txt\n",
                &[("file.txt", "hello world\n", true, false, 0)],
            ),
            (
                "FROM a\nRUN <<eo'f'\necho foo\neof\n",
                &[("eof", "echo foo\n", false, false, 0)],
            ),
            (
                "FROM a\nRUN <<eo\\'f\necho foo\neo'f\n",
                &[("eo'f", "echo foo\n", true, false, 0)],
            ),
            (
                "FROM a\nRUN <<'e'o\\'f\necho foo\neo'f\n",
                &[("eo'f", "echo foo\n", false, false, 0)],
            ),
            (
                "FROM a\nRUN <<'one two'\necho bar\none two\n",
                &[("one two", "echo bar\n", false, false, 0)],
            ),
            (
                "FROM a\nRUN <<$EOF\n$EOF\n",
                &[("$EOF", "", true, false, 0)],
            ),
            (
                "FROM a\nRUN << EOF\nx\nEOF\n",
                &[("EOF", "x\n", true, false, 0)],
            ),
            (
                "FROM a\nRUN <<EOF\r\nx\r\nEOF\r\n",
                &[("EOF", "x\r\n", true, false, 0)],
            ),
            (
                "FROM a\nRUN <<EOF\nx\nEOF",
                &[("EOF", "x\n", true, false, 0)],
            ),
            (
                "FROM a\nRUN echo a \\\n  <<EOF\nx\nEOF\n",
                &[("EOF", "x\n", true, false, 0)],
            ),
            (
                "FROM a\nONBUILD RUN <<EOF\nx\nEOF\n",
                &[("EOF", "x\n", true, false, 0)],
            ),
            ("FROM a\nRUN [\"<<EOF\"]\n", &[]),
            ("FROM a\nRUN [\"<<'EOF'\"]\n", &[]),
            ("FROM a\nONBUILD RUN [\"<<EOF\"]\n", &[]),
            ("FROM a\nUSER <<INVALID\n", &[]),
            ("FROM a\nRUN cat<<EOF\n", &[]),
        ];
        for (input, want) in cases {
            let got = docs_per_node(input);
            assert_eq!(got.last(), Some(&owned(want)), "{input:?}");
        }
    }

    #[test]
    fn heredoc_lines_belong_to_the_instruction() {
        let df =
            crate::syntax::parse(b"FROM a\nRUN <<A <<B\n1\nA\n2\nB\nUSER x\n").expect("parses");
        let ranges: Vec<(usize, usize)> = df
            .nodes
            .iter()
            .map(|n| (n.start_line, n.end_line))
            .collect();
        assert_eq!(ranges, [(1, 1), (2, 6), (7, 7)]);
        // A word that only looks like a heredoc leaves the next lines to be instructions.
        let df = crate::syntax::parse(b"FROM a\nUSER <<INVALID\nINVALID\n").expect("parses");
        assert_eq!(
            df.dump(),
            "(from \"a\")\n(user \"<<INVALID\")\n(invalid \"\")"
        );
    }

    #[test]
    fn unterminated_heredoc() {
        let err = crate::syntax::parse(b"FROM a\nRUN <<EOF\nx\n").expect_err("no terminator");
        assert_eq!(err.kind(), &ErrorKind::UnterminatedHeredoc);
        assert_eq!((err.start_line(), err.end_line()), (Some(2), Some(3)));
        let err =
            crate::syntax::parse(b"FROM a\nCOPY <<A <<B /\nA\n").expect_err("second one open");
        assert_eq!(err.kind(), &ErrorKind::UnterminatedHeredoc);
        assert_eq!((err.start_line(), err.end_line()), (Some(2), Some(3)));
    }
}
