//! Go's `strconv.Quote` and the `%q` verb on a `[]string`, which shape BuildKit's AST dump and
//! some of its error messages.

use std::fmt::Write as _;

use super::unicode_print::is_print;

/// Go's `strconv.Quote`: a double-quoted literal in which `"` and `\` are escaped, control
/// characters use `\n`-style or `\xHH` escapes, other non-printable characters use `\uHHHH` or
/// `\UHHHHHHHH`, and printable Unicode stays as it is.
pub(crate) fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        push_escaped(&mut out, c);
    }
    out.push('"');
    out
}

/// Go's `fmt.Sprintf("%q", slice)` for a `[]string`: `["a" "b"]`.
pub(crate) fn quote_slice<S: AsRef<str>>(items: &[S]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| quote(s.as_ref())).collect();
    format!("[{}]", quoted.join(" "))
}

fn push_escaped(out: &mut String, c: char) {
    if c == '"' || c == '\\' {
        out.push('\\');
        out.push(c);
        return;
    }
    if is_print(c) {
        out.push(c);
        return;
    }
    let escape = match c {
        '\u{07}' => "\\a",
        '\u{08}' => "\\b",
        '\u{0C}' => "\\f",
        '\n' => "\\n",
        '\r' => "\\r",
        '\t' => "\\t",
        '\u{0B}' => "\\v",
        _ => "",
    };
    if !escape.is_empty() {
        out.push_str(escape);
        return;
    }
    let code = u32::from(c);
    // Writing to a String cannot fail.
    let _ = if code < 0x20 || code == 0x7f {
        write!(out, "\\x{code:02x}")
    } else if code < 0x10000 {
        write!(out, "\\u{code:04x}")
    } else {
        write!(out, "\\U{code:08x}")
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quote_like_go() {
        let cases = [
            ("", r#""""#),
            ("abc 123", r#""abc 123""#),
            ("a\"b\\c", r#""a\"b\\c""#),
            ("\u{7}\u{8}\u{c}\n\r\t\u{b}", r#""\a\b\f\n\r\t\v""#),
            ("\0", r#""\x00""#),
            ("\u{1b}[0m", r#""\x1b[0m""#),
            ("\u{7f}", r#""\x7f""#),
            ("\u{a0}", r#""\u00a0""#),
            ("\u{feff}", r#""\ufeff""#),
            ("\u{e0001}", r#""\U000e0001""#),
            ("♥ ☃ é", r#""♥ ☃ é""#),
            ("\u{fffd}", "\"\u{fffd}\""),
        ];
        for (input, want) in cases {
            assert_eq!(quote(input), want, "{input:?}");
        }
    }

    #[test]
    fn quote_slice_like_go() {
        assert_eq!(
            quote_slice(&["--from=foo", "--chown=1:1"]),
            r#"["--from=foo" "--chown=1:1"]"#
        );
        assert_eq!(quote_slice::<&str>(&[]), "[]");
    }
}
