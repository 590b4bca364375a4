//! Splitting an instruction line into keyword, leading `--flags` and the rest (BuildKit's
//! `splitCommand` and `extractBuilderFlags`).
//!
//! Flags are the words right after the keyword that start with `--`. Inside them quotes are
//! removed and the escape token escapes the next byte; a bare `--` ends the flags and is dropped.
//! BuildKit walks the flag text byte by byte and reads each byte as a Latin-1 character, so
//! non-ASCII text in a flag comes out re-encoded (`é` becomes `Ã©`); that is kept here.

use std::borrow::Cow;

use super::gostr::{is_space_byte, split_first_token, trim_space};

/// An instruction line taken apart: keyword as written, flags, and the argument text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Split<'a> {
    pub(crate) keyword: &'a str,
    pub(crate) flags: Vec<String>,
    /// Borrowed from the line unless the flag scan cut a character in two (see [`extract_flags`]).
    pub(crate) rest: Cow<'a, str>,
}

/// BuildKit's `splitCommand`.
pub(crate) fn split_command(line: &str, escape: char) -> Split<'_> {
    let (keyword, after) = split_first_token(trim_space(line));
    let (rest, flags) = match after {
        Some(after) => extract_flags(after, escape),
        None => (Cow::Borrowed(""), Vec::new()),
    };
    let rest = match rest {
        Cow::Borrowed(rest) => Cow::Borrowed(trim_space(rest)),
        Cow::Owned(rest) => Cow::Owned(trim_space(&rest).to_string()),
    };
    Split {
        keyword,
        flags,
        rest,
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Phase {
    Spaces,
    Word,
    Quote(u8),
}

/// BuildKit's `extractBuilderFlags`: the flags, and the text after them. The byte scan can stop
/// inside a multi-byte character (`0xA0` and `0x85` read as spaces); the rest is then decoded the
/// way Go's conversion to a string would, with replacement characters, and so owned.
pub(crate) fn extract_flags(line: &str, escape: char) -> (Cow<'_, str>, Vec<String>) {
    let bytes = line.as_bytes();
    let escape = u8::try_from(escape).unwrap_or(b'\\');
    let rest_at = |pos: usize| match line.get(pos..) {
        Some(rest) => Cow::Borrowed(rest),
        None => Cow::Owned(String::from_utf8_lossy(&bytes[pos..]).into_owned()),
    };
    let mut flags: Vec<String> = Vec::new();
    let mut word = String::new();
    let mut blank_ok = false;
    let mut phase = Phase::Spaces;
    let mut pos = 0;
    while pos < bytes.len() {
        let mut b = bytes[pos];
        if phase == Phase::Spaces {
            if is_space_byte(b) {
                pos += 1;
                continue;
            }
            if b != b'-' || bytes.get(pos + 1) != Some(&b'-') {
                return (rest_at(pos), flags);
            }
            phase = Phase::Word;
        }
        match phase {
            Phase::Word => {
                if is_space_byte(b) {
                    phase = Phase::Spaces;
                    if word == "--" {
                        return (rest_at(pos), flags);
                    }
                    if blank_ok || !word.is_empty() {
                        flags.push(std::mem::take(&mut word));
                    }
                    word.clear();
                    blank_ok = false;
                } else if b == b'\'' || b == b'"' {
                    phase = Phase::Quote(b);
                    blank_ok = true;
                } else if b == escape && pos + 1 == bytes.len() {
                    // An escape token at the very end is dropped.
                } else {
                    if b == escape {
                        pos += 1;
                        b = bytes[pos];
                    }
                    word.push(char::from(b));
                }
            }
            Phase::Quote(quote) => {
                // The closing quote, or an escape token at the very end, ends the quote.
                if b == quote || (b == escape && pos + 1 == bytes.len()) {
                    phase = Phase::Word;
                } else {
                    if b == escape {
                        pos += 1;
                        b = bytes[pos];
                    }
                    word.push(char::from(b));
                }
            }
            Phase::Spaces => {}
        }
        pos += 1;
    }
    if phase != Phase::Spaces && word != "--" && (blank_ok || !word.is_empty()) {
        flags.push(word);
    }
    (Cow::Borrowed(""), flags)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(line: &str) -> (String, Vec<String>, String) {
        let s = split_command(line, '\\');
        (s.keyword.to_string(), s.flags, s.rest.into_owned())
    }

    fn owned(flags: &[&str]) -> Vec<String> {
        flags.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn flags_table() {
        // (line, keyword, flags, rest)
        let cases: &[(&str, &str, &[&str], &str)] = &[
            ("COPY foo /tmp/", "COPY", &[], "foo /tmp/"),
            (
                "COPY --user=me foo /tmp/",
                "COPY",
                &["--user=me"],
                "foo /tmp/",
            ),
            (
                "COPY --user=me --doit=true foo /tmp/",
                "COPY",
                &["--user=me", "--doit=true"],
                "foo /tmp/",
            ),
            (
                "COPY --doit=true -- foo /tmp/",
                "COPY",
                &["--doit=true"],
                "foo /tmp/",
            ),
            ("COPY -- foo /tmp/", "COPY", &[], "foo /tmp/"),
            (
                "CMD --doit [ \"a\", \"b\" ]",
                "CMD",
                &["--doit"],
                "[ \"a\", \"b\" ]",
            ),
            ("CMD --doit -- [ ]", "CMD", &["--doit"], "[ ]"),
            (
                "RUN --mount=type=bind,source=\"a b\" x",
                "RUN",
                &["--mount=type=bind,source=a b"],
                "x",
            ),
            ("RUN --a='it\\'s' x", "RUN", &["--a=it's"], "x"),
            ("RUN --a=\"\" x", "RUN", &["--a="], "x"),
            ("RUN --a=b\\ c x", "RUN", &["--a=b c"], "x"),
            ("RUN --a=b\\", "RUN", &["--a=b"], ""),
            ("RUN --a=\"b\\", "RUN", &["--a=b"], ""),
            ("RUN --a=\"b c", "RUN", &["--a=b c"], ""),
            ("RUN --", "RUN", &[], ""),
            ("RUN --x -y", "RUN", &["--x"], "-y"),
            ("RUN -", "RUN", &[], "-"),
            ("RUN --from=é x", "RUN", &["--from=Ã©"], "x"),
            ("  run   a  ", "run", &[], "a"),
            ("RUN", "RUN", &[], ""),
            ("", "", &[], ""),
        ];
        for (line, keyword, flags, rest) in cases {
            assert_eq!(
                split(line),
                (keyword.to_string(), owned(flags), rest.to_string()),
                "{line:?}"
            );
        }
    }

    #[test]
    fn flags_use_the_escape_directive() {
        let s = split_command("COPY --a=b`\"c x", '`');
        assert_eq!(s.flags, owned(&["--a=b\"c"]));
        assert_eq!(s.rest, "x");
    }

    #[test]
    fn split_inside_a_multibyte_character_does_not_panic() {
        // U+0800 is E0 A0 80 and 0xA0 reads as a Latin-1 space.
        let s = split_command("RUN --a\u{800}b", '\\');
        assert_eq!(s.flags, owned(&["--a\u{e0}"]));
        assert_eq!(s.rest, "\u{fffd}b");
        assert!(matches!(s.rest, Cow::Owned(_)));
        // Without such a cut, the rest is the line's own text.
        let s = split_command("RUN --a=é  x ", '\\');
        assert!(matches!(s.rest, Cow::Borrowed("x")));
    }
}
