//! Go's string primitives as BuildKit's parser uses them: `unicode.IsSpace`, `strings.TrimSpace`,
//! `strings.ToLower` and `regexp.Split` on the `[\t\v\f\r ]+` whitespace class.
//!
//! Rust's own helpers differ in small ways (`str::to_lowercase` maps `İ` to two characters and
//! knows about a final sigma, `char::is_whitespace` follows a different Unicode table revision), so
//! the parser goes through these instead.

/// Go's `unicode.IsSpace`.
pub(crate) fn is_space(c: char) -> bool {
    matches!(
        c,
        '\t' | '\n'
            | '\u{0B}'
            | '\u{0C}'
            | '\r'
            | ' '
            | '\u{85}'
            | '\u{A0}'
            | '\u{1680}'
            | '\u{2000}'
            ..='\u{200A}' | '\u{2028}' | '\u{2029}' | '\u{202F}' | '\u{205F}' | '\u{3000}'
    )
}

/// Go's `unicode.IsSpace(rune(b))` on a single byte, the way BuildKit's byte loops call it
/// (`extractBuilderFlags`, `parseHealthConfig`): the byte is read as a Latin-1 character.
pub(crate) fn is_space_byte(b: u8) -> bool {
    is_space(char::from(b))
}

/// The regexp class `[\t\v\f\r ]`, BuildKit's `reWhitespace`.
pub(crate) fn is_token_space(c: char) -> bool {
    matches!(c, '\t' | '\u{0B}' | '\u{0C}' | '\r' | ' ')
}

/// The regexp class `\s` in Go's RE2 syntax: `[\t\n\f\r ]` (no vertical tab).
pub(crate) fn is_regex_space(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\u{0C}' | '\r' | ' ')
}

/// Go's `strings.TrimSpace`.
pub(crate) fn trim_space(s: &str) -> &str {
    trim_right_space(trim_left_space(s))
}

/// Go's `strings.TrimLeftFunc(s, unicode.IsSpace)`.
pub(crate) fn trim_left_space(s: &str) -> &str {
    // ASCII blanks are stepped over byte by byte; only a non-ASCII character needs the full test.
    let start = s
        .bytes()
        .position(|b| !is_ascii_space(b))
        .unwrap_or(s.len());
    let s = &s[start..];
    match s.as_bytes().first() {
        Some(b) if !b.is_ascii() => s.trim_start_matches(is_space),
        _ => s,
    }
}

/// Go's `strings.TrimRightFunc(s, unicode.IsSpace)`.
fn trim_right_space(s: &str) -> &str {
    let end = s
        .bytes()
        .rposition(|b| !is_ascii_space(b))
        .map_or(0, |i| i + 1);
    let s = &s[..end];
    match s.as_bytes().last() {
        Some(b) if !b.is_ascii() => s.trim_end_matches(is_space),
        _ => s,
    }
}

/// The ASCII characters [`is_space`] accepts.
fn is_ascii_space(b: u8) -> bool {
    matches!(b, b'\t' | b'\n' | 0x0B | 0x0C | b'\r' | b' ')
}

/// Go's `strings.ToLower`: simple one-to-one case mapping, character by character.
pub(crate) fn to_lower(s: &str) -> String {
    // Keywords are ASCII; Go and `to_ascii_lowercase` agree there, without the table lookups.
    if s.is_ascii() {
        return s.to_ascii_lowercase();
    }
    s.chars()
        .map(|c| match c {
            // The only character whose full lowercase mapping is longer than one character.
            '\u{130}' => 'i',
            _ => c.to_lowercase().next().unwrap_or(c),
        })
        .collect()
}

/// Go's `reWhitespace.Split(s, 2)` without the vectors: the text before the first run of
/// `[\t\v\f\r ]`, and the text after that run when there is one.
pub(crate) fn split_first_token(s: &str) -> (&str, Option<&str>) {
    // The class is ASCII, and an ASCII byte is never part of a longer character, so bytes do.
    let bytes = s.as_bytes();
    let is_blank = |b: &u8| is_token_space(char::from(*b));
    let Some(start) = bytes.iter().position(is_blank) else {
        return (s, None);
    };
    let end = bytes[start..]
        .iter()
        .position(|b| !is_blank(b))
        .map_or(s.len(), |i| start + i);
    (&s[..start], Some(&s[end..]))
}

/// Go's `reWhitespace.Split(s, n)` for the `[\t\v\f\r ]+` regexp; `n < 0` means no limit.
///
/// Go keeps an empty first piece when `s` starts with whitespace and an empty last piece when it
/// ends with whitespace; an empty `s` gives one empty piece.
pub(crate) fn split_token_space(s: &str, n: isize) -> Vec<&str> {
    if n == 0 {
        return Vec::new();
    }
    if s.is_empty() {
        return vec![""];
    }
    // Runs of whitespace, as byte ranges: what FindAllStringIndex returns.
    let mut runs: Vec<(usize, usize)> = Vec::new();
    let mut run_start: Option<usize> = None;
    for (i, c) in s.char_indices() {
        match (is_token_space(c), run_start) {
            (true, None) => run_start = Some(i),
            (false, Some(start)) => {
                runs.push((start, i));
                run_start = None;
            }
            _ => {}
        }
        if n > 0 && runs.len() == n as usize {
            break;
        }
    }
    if let Some(start) = run_start
        && (n < 0 || runs.len() < n as usize)
    {
        runs.push((start, s.len()));
    }
    let mut pieces = Vec::new();
    let mut begin = 0;
    let mut end = 0;
    for (match_start, match_end) in runs {
        if n > 0 && pieces.len() == (n - 1) as usize {
            break;
        }
        end = match_start;
        if match_end != 0 {
            pieces.push(&s[begin..end]);
        }
        begin = match_end;
    }
    if end != s.len() {
        pieces.push(&s[begin..]);
    }
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_like_go() {
        let cases: &[(&str, isize, &[&str])] = &[
            ("a b", -1, &["a", "b"]),
            ("a  \t b", -1, &["a", "b"]),
            ("a b c", 2, &["a", "b c"]),
            ("a   b c", 2, &["a", "b c"]),
            ("abc", 2, &["abc"]),
            ("", 2, &[""]),
            (" a", -1, &["", "a"]),
            ("a ", -1, &["a", ""]),
            ("a\u{a0}b c", -1, &["a\u{a0}b", "c"]),
            ("a\nb", -1, &["a\nb"]),
        ];
        for (input, n, want) in cases {
            assert_eq!(split_token_space(input, *n), *want, "{input:?} {n}");
        }
    }

    #[test]
    fn first_token_is_split_in_two() {
        for input in [
            "",
            "a",
            "a b",
            "a \t b c",
            " a",
            "a ",
            "a  ",
            "\u{a0}a b",
            "RUN\u{b}x",
            "é é",
        ] {
            let (first, rest) = split_first_token(input);
            let want = split_token_space(input, 2);
            let got: Vec<&str> = std::iter::once(first).chain(rest).collect();
            assert_eq!(got, want, "{input:?}");
        }
    }

    #[test]
    fn lower_like_go() {
        assert_eq!(to_lower("RUN"), "run");
        assert_eq!(to_lower("rUn1-"), "run1-");
        assert_eq!(to_lower("İ"), "i");
        assert_eq!(to_lower("ΟΔΟΣ"), "οδοσ");
    }

    #[test]
    fn trim_like_go() {
        assert_eq!(trim_space("\u{a0} x \u{3000}"), "x");
        assert_eq!(trim_space("\u{200b}x"), "\u{200b}x");
        assert_eq!(trim_left_space("\u{85}x "), "x ");
        for s in [
            "",
            " ",
            "x",
            " \t\u{b}\u{c}\r\nx y\n ",
            " \u{a0} \u{3000}x\u{2028} \u{a0}\t",
            "é",
            " é ",
            "\u{200b}",
            " \u{85}",
            "\u{85} ",
        ] {
            assert_eq!(trim_space(s), s.trim_matches(is_space), "{s:?}");
            assert_eq!(trim_left_space(s), s.trim_start_matches(is_space), "{s:?}");
        }
    }
}
