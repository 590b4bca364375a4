//! Per-instruction argument parsers (BuildKit's `line_parsers.go`): how the text after the
//! keyword and flags becomes the node's argument list.

use super::error::ErrorKind;
use super::gostr::{is_space, is_space_byte, split_token_space, trim_left_space};
use super::json::{self, Item, Top};

/// Parsed arguments: the `Next` chain values, and whether the JSON form was used.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Args {
    pub(crate) values: Vec<String>,
    pub(crate) json: bool,
}

impl Args {
    fn plain(values: Vec<String>) -> Args {
        Args {
            values,
            json: false,
        }
    }
}

/// Why the text is not a JSON string array.
enum NotJson {
    /// Not JSON at all, or not an array: the caller falls back to another form.
    Fallback,
    /// A JSON array with a non-string element: an error.
    NotStrings,
}

/// BuildKit's `parseJSON`: a JSON array of strings, after leading whitespace.
fn json_strings(rest: &str) -> Result<Vec<String>, NotJson> {
    let rest = trim_left_space(rest);
    if !rest.starts_with('[') {
        return Err(NotJson::Fallback);
    }
    match json::parse(rest) {
        Some(Top::Array(items)) => items
            .into_iter()
            .map(|item| match item {
                Item::Str(s) => Ok(s),
                Item::Other => Err(NotJson::NotStrings),
            })
            .collect(),
        _ => Err(NotJson::Fallback),
    }
}

/// `RUN`, `CMD`, `ENTRYPOINT`, `SHELL`: a JSON string array, else the whole text as one value.
pub(crate) fn maybe_json(rest: &str) -> Result<Args, ErrorKind> {
    if rest.is_empty() {
        return Ok(Args::default());
    }
    match json_strings(rest) {
        Ok(values) => Ok(Args { values, json: true }),
        Err(NotJson::NotStrings) => Err(ErrorKind::NotStringArray),
        Err(NotJson::Fallback) => Ok(Args::plain(vec![rest.to_string()])),
    }
}

/// `ADD`, `COPY`, `VOLUME`: a JSON string array, else whitespace-separated words.
pub(crate) fn maybe_json_to_list(rest: &str) -> Result<Args, ErrorKind> {
    match json_strings(rest) {
        Ok(values) => Ok(Args { values, json: true }),
        Err(NotJson::NotStrings) => Err(ErrorKind::NotStringArray),
        Err(NotJson::Fallback) => Ok(whitespace_delimited(rest)),
    }
}

/// `FROM`, `EXPOSE`: words split on `[\t\v\f\r ]+`, quotes and escapes left alone.
pub(crate) fn whitespace_delimited(rest: &str) -> Args {
    if rest.is_empty() {
        return Args::default();
    }
    Args::plain(
        split_token_space(rest, -1)
            .into_iter()
            .map(str::to_string)
            .collect(),
    )
}

/// `MAINTAINER`, `USER`, `WORKDIR`, `STOPSIGNAL`: the text as one value.
pub(crate) fn single_string(rest: &str) -> Args {
    if rest.is_empty() {
        return Args::default();
    }
    Args::plain(vec![rest.to_string()])
}

/// `ARG`: shell-like words with their quotes and escapes kept.
pub(crate) fn name_or_name_val(rest: &str, escape: char) -> Args {
    Args::plain(words(rest, escape))
}

/// `ENV`, `LABEL` (`instruction` names which, for the error message): key, value, separator
/// triples. The legacy form `KEY value…` has one triple with an empty separator.
pub(crate) fn name_val(rest: &str, instruction: &str, escape: char) -> Result<Args, ErrorKind> {
    let words = words(rest, escape);
    let Some(first) = words.first() else {
        return Ok(Args::default());
    };
    if !first.contains('=') {
        let parts = split_token_space(rest, 2);
        let [key, value] = parts.as_slice() else {
            return Err(ErrorKind::MissingValue(instruction.to_string()));
        };
        return Ok(Args::plain(vec![
            key.to_string(),
            value.to_string(),
            String::new(),
        ]));
    }
    let mut values = Vec::with_capacity(words.len() * 3);
    for word in words {
        let Some((key, value)) = word.split_once('=') else {
            return Err(ErrorKind::MissingEquals(word));
        };
        values.extend([key.to_string(), value.to_string(), "=".to_string()]);
    }
    Ok(Args::plain(values))
}

/// `HEALTHCHECK`: the first word (`CMD`, `NONE`, …) as written, then the rest as for `CMD`.
pub(crate) fn health_config(rest: &str) -> Result<Args, ErrorKind> {
    // BuildKit scans bytes here, reading each as a Latin-1 character.
    let bytes = rest.as_bytes();
    let sep = bytes
        .iter()
        .position(|&b| is_space_byte(b))
        .unwrap_or(bytes.len());
    if sep == 0 {
        return Ok(Args::default());
    }
    let next = bytes[sep..]
        .iter()
        .position(|&b| !is_space_byte(b))
        .map_or(bytes.len(), |p| sep + p);
    let kind = String::from_utf8_lossy(&bytes[..sep]).into_owned();
    let command = maybe_json(&String::from_utf8_lossy(&bytes[next..]))?;
    let mut values = vec![kind];
    values.extend(command.values);
    Ok(Args {
        values,
        json: command.json,
    })
}

#[derive(Clone, Copy, PartialEq)]
enum Phase {
    Spaces,
    Word,
    Quote(char),
}

/// BuildKit's `parseWords`: split on unquoted whitespace, keeping quotes and escape tokens in the
/// words (they are removed later, during variable expansion).
pub(crate) fn words(rest: &str, escape: char) -> Vec<String> {
    let chars: Vec<char> = rest.chars().collect();
    let mut words = Vec::new();
    let mut word = String::new();
    let mut blank_ok = false;
    let mut phase = Phase::Spaces;
    let mut pos = 0;
    while pos < chars.len() {
        let mut c = chars[pos];
        let at_last = pos + 1 == chars.len();
        if phase == Phase::Spaces {
            if is_space(c) {
                pos += 1;
                continue;
            }
            phase = Phase::Word;
        }
        match phase {
            Phase::Word => {
                if is_space(c) {
                    phase = Phase::Spaces;
                    if blank_ok || !word.is_empty() {
                        words.push(std::mem::take(&mut word));
                    }
                    blank_ok = false;
                    pos += 1;
                    continue;
                }
                if c == '\'' || c == '"' {
                    phase = Phase::Quote(c);
                    blank_ok = true;
                }
                if c == escape {
                    if at_last {
                        // An escape token at the very end is dropped.
                        pos += 1;
                        continue;
                    }
                    word.push(c);
                    pos += 1;
                    c = chars[pos];
                }
                word.push(c);
            }
            Phase::Quote(quote) => {
                if c == quote {
                    phase = Phase::Word;
                }
                // Single quotes escape nothing.
                if c == escape && quote != '\'' {
                    if at_last {
                        phase = Phase::Word;
                        pos += 1;
                        continue;
                    }
                    pos += 1;
                    word.push(c);
                    c = chars[pos];
                }
                word.push(c);
            }
            Phase::Spaces => {}
        }
        pos += 1;
    }
    if phase != Phase::Spaces && (blank_ok || !word.is_empty()) {
        words.push(word);
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owned(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn words_table() {
        let cases: &[(&str, &[&str])] = &[
            ("foo", &["foo"]),
            ("foo bar", &["foo", "bar"]),
            ("foo\\ bar", &["foo\\ bar"]),
            ("foo=bar", &["foo=bar"]),
            ("foo bar 'abc xyz'", &["foo", "bar", "'abc xyz'"]),
            ("foo bar \"abc xyz\"", &["foo", "bar", "\"abc xyz\""]),
            ("àöû", &["àöû"]),
            ("föo bàr \"âbc xÿz\"", &["föo", "bàr", "\"âbc xÿz\""]),
            ("a=\"\"", &["a=\"\""]),
            ("''", &["''"]),
            ("a\\", &["a"]),
            ("\"a\\", &["\"a"]),
            ("'a\\'b'", &["'a\\'b'"]),
            ("\"a\\\"b c\"", &["\"a\\\"b c\""]),
            ("a\u{a0}b", &["a", "b"]),
            ("", &[]),
        ];
        for (input, want) in cases {
            assert_eq!(words(input, '\\'), owned(want), "{input:?}");
        }
        assert_eq!(words("a` b", '`'), owned(&["a` b"]));
    }

    #[test]
    fn name_val_table() {
        let ok: &[(&str, &[&str])] = &[
            ("foo bar", &["foo", "bar", ""]),
            ("foo  bar baz", &["foo", "bar baz", ""]),
            (
                "foo=bar thing=star",
                &["foo", "bar", "=", "thing", "star", "="],
            ),
            ("a=b=c", &["a", "b=c", "="]),
            ("a=", &["a", "", "="]),
            ("", &[]),
        ];
        for (input, want) in ok {
            assert_eq!(
                name_val(input, "LABEL", '\\'),
                Ok(Args::plain(owned(want))),
                "{input:?}"
            );
        }
        assert_eq!(
            name_val("foo", "ENV", '\\'),
            Err(ErrorKind::MissingValue("ENV".into()))
        );
        assert_eq!(
            name_val("a=b c", "ENV", '\\'),
            Err(ErrorKind::MissingEquals("c".into()))
        );
        assert_eq!(
            name_val("a\u{a0}b", "ENV", '\\'),
            Err(ErrorKind::MissingValue("ENV".into()))
        );
    }

    #[test]
    fn json_forms() {
        let json = |v: &[&str]| {
            Ok(Args {
                values: owned(v),
                json: true,
            })
        };
        let plain = |v: &[&str]| Ok(Args::plain(owned(v)));
        assert_eq!(maybe_json("[\"a\", \"b\"]"), json(&["a", "b"]));
        assert_eq!(maybe_json("[]"), json(&[]));
        assert_eq!(maybe_json("[\"a\", 1]"), Err(ErrorKind::NotStringArray));
        assert_eq!(maybe_json("['a']"), plain(&["['a']"]));
        assert_eq!(maybe_json("[\"a\""), plain(&["[\"a\""]));
        assert_eq!(maybe_json("echo [\"a\"]"), plain(&["echo [\"a\"]"]));
        assert_eq!(maybe_json(""), Ok(Args::default()));
        assert_eq!(
            maybe_json_to_list("[ \"a b\", \"c\" ]"),
            json(&["a b", "c"])
        );
        assert_eq!(maybe_json_to_list("a  b"), plain(&["a", "b"]));
        assert_eq!(
            maybe_json_to_list("[\"a\", null]"),
            Err(ErrorKind::NotStringArray)
        );
        assert_eq!(maybe_json_to_list(""), Ok(Args::default()));
    }

    #[test]
    fn healthcheck_forms() {
        let plain = |v: &[&str]| Ok(Args::plain(owned(v)));
        assert_eq!(health_config(""), Ok(Args::default()));
        assert_eq!(health_config("NONE"), plain(&["NONE"]));
        assert_eq!(health_config("CMD"), plain(&["CMD"]));
        assert_eq!(health_config("CMD   a b"), plain(&["CMD", "a b"]));
        assert_eq!(
            health_config("cmd [\"a\"]"),
            Ok(Args {
                values: owned(&["cmd", "a"]),
                json: true
            })
        );
        assert_eq!(health_config("CMD [1]"), Err(ErrorKind::NotStringArray));
    }
}
