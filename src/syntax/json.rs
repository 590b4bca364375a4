//! Just enough of Go's `encoding/json` for the parser: whether a text is one valid JSON value, and
//! the string members of a top-level array or object.
//!
//! Validation follows Go's scanner (JSON whitespace is space, tab, CR and LF; at most 10000 nested
//! levels; control characters are not allowed in strings), and strings decode as Go decodes them
//! (a lone surrogate escape becomes U+FFFD). Nested values are checked but not kept. The scan is
//! iterative, so deep nesting cannot overflow the stack.

/// Go's `maxNestingDepth`.
const MAX_DEPTH: usize = 10_000;

/// One member of the top-level container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Item {
    /// A string, decoded.
    Str(String),
    /// Any other value.
    Other,
}

/// A valid JSON text, by the kind of its top-level value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Top {
    /// An array and its elements.
    Array(Vec<Item>),
    /// An object and its members in source order (duplicates kept).
    Object(Vec<(String, Item)>),
    /// A string, number, `true`, `false` or `null`.
    Scalar,
}

/// Parses `text` as one JSON value with optional surrounding whitespace; `None` if it is not.
pub(crate) fn parse(text: &str) -> Option<Top> {
    let mut p = Parser {
        s: text.as_bytes(),
        i: 0,
    };
    p.skip_ws();
    let top = match p.peek()? {
        b'[' => Top::Array(p.array()?),
        b'{' => Top::Object(p.object()?),
        _ => {
            p.value(0)?;
            Top::Scalar
        }
    };
    p.skip_ws();
    (p.i == p.s.len()).then_some(top)
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn eat(&mut self, b: u8) -> Option<()> {
        (self.peek()? == b).then(|| self.i += 1)
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }

    /// The elements of the array starting here (depth 1).
    fn array(&mut self) -> Option<Vec<Item>> {
        self.eat(b'[')?;
        let mut items = Vec::new();
        self.skip_ws();
        if self.eat(b']').is_some() {
            return Some(items);
        }
        loop {
            self.skip_ws();
            items.push(self.item()?);
            self.skip_ws();
            match self.peek()? {
                b',' => self.i += 1,
                b']' => {
                    self.i += 1;
                    return Some(items);
                }
                _ => return None,
            }
        }
    }

    /// The members of the object starting here (depth 1).
    fn object(&mut self) -> Option<Vec<(String, Item)>> {
        self.eat(b'{')?;
        let mut members = Vec::new();
        self.skip_ws();
        if self.eat(b'}').is_some() {
            return Some(members);
        }
        loop {
            self.skip_ws();
            let key = self.string()?;
            self.skip_ws();
            self.eat(b':')?;
            self.skip_ws();
            members.push((key, self.item()?));
            self.skip_ws();
            match self.peek()? {
                b',' => self.i += 1,
                b'}' => {
                    self.i += 1;
                    return Some(members);
                }
                _ => return None,
            }
        }
    }

    /// A member of the top-level container: decoded if it is a string.
    fn item(&mut self) -> Option<Item> {
        if self.peek()? == b'"' {
            return self.string().map(Item::Str);
        }
        self.value(1)?;
        Some(Item::Other)
    }

    /// Checks one value of any kind, nested `depth` levels deep, without keeping it.
    fn value(&mut self, depth: usize) -> Option<()> {
        // Open containers, innermost last.
        let mut open: Vec<u8> = Vec::new();
        loop {
            // Expecting a value.
            self.skip_ws();
            match self.peek()? {
                c @ (b'[' | b'{') => {
                    self.i += 1;
                    if depth + open.len() + 1 > MAX_DEPTH {
                        return None;
                    }
                    open.push(c);
                    self.skip_ws();
                    let close = if c == b'[' { b']' } else { b'}' };
                    if self.eat(close).is_some() {
                        open.pop();
                    } else {
                        if c == b'{' {
                            self.member_key()?;
                        }
                        continue;
                    }
                }
                b'"' => {
                    self.string()?;
                }
                b't' => self.literal(b"true")?,
                b'f' => self.literal(b"false")?,
                b'n' => self.literal(b"null")?,
                b'-' | b'0'..=b'9' => self.number()?,
                _ => return None,
            }
            // After a value: close containers or move to the next element.
            loop {
                let Some(&container) = open.last() else {
                    return Some(());
                };
                self.skip_ws();
                let close = if container == b'[' { b']' } else { b'}' };
                match self.peek()? {
                    b',' => {
                        self.i += 1;
                        if container == b'{' {
                            self.skip_ws();
                            self.member_key()?;
                        }
                        break;
                    }
                    c if c == close => {
                        self.i += 1;
                        open.pop();
                    }
                    _ => return None,
                }
            }
        }
    }

    /// `"key" :` inside a nested object.
    fn member_key(&mut self) -> Option<()> {
        self.string()?;
        self.skip_ws();
        self.eat(b':')
    }

    fn literal(&mut self, word: &[u8]) -> Option<()> {
        let end = self.i + word.len();
        (self.s.get(self.i..end)? == word).then(|| self.i = end)
    }

    fn digits(&mut self) -> usize {
        let start = self.i;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.i += 1;
        }
        self.i - start
    }

    fn number(&mut self) -> Option<()> {
        let _ = self.eat(b'-');
        match self.peek()? {
            b'0' => self.i += 1,
            b'1'..=b'9' => {
                self.digits();
            }
            _ => return None,
        }
        if self.eat(b'.').is_some() && self.digits() == 0 {
            return None;
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.i += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.i += 1;
            }
            if self.digits() == 0 {
                return None;
            }
        }
        Some(())
    }

    fn hex4(&mut self) -> Option<u32> {
        let hex = self.s.get(self.i..self.i + 4)?;
        let text = std::str::from_utf8(hex).ok()?;
        if !text.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        self.i += 4;
        u32::from_str_radix(text, 16).ok()
    }

    /// A string literal starting here, decoded.
    fn string(&mut self) -> Option<String> {
        self.eat(b'"')?;
        let mut out: Vec<u8> = Vec::new();
        loop {
            let b = self.peek()?;
            self.i += 1;
            match b {
                b'"' => break,
                0x00..=0x1f => return None,
                b'\\' => {
                    let e = self.peek()?;
                    self.i += 1;
                    let c = match e {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{08}',
                        b'f' => '\u{0C}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => self.unicode_escape()?,
                        _ => return None,
                    };
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                }
                _ => out.push(b),
            }
        }
        Some(String::from_utf8_lossy(&out).into_owned())
    }

    /// The character of a `\uXXXX` escape (the `\u` already read), pairing surrogates like Go.
    fn unicode_escape(&mut self) -> Option<char> {
        let first = self.hex4()?;
        if (0xD800..0xE000).contains(&first) {
            // A high surrogate followed by a `\u` low surrogate forms one character; anything
            // else leaves U+FFFD and the next escape is read on its own.
            let save = self.i;
            if first < 0xDC00 && self.s.get(self.i..self.i + 2) == Some(b"\\u") {
                self.i += 2;
                if let Some(second) = self.hex4()
                    && (0xDC00..0xE000).contains(&second)
                {
                    let c = 0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00);
                    return char::from_u32(c);
                }
            }
            self.i = save;
            return Some('\u{FFFD}');
        }
        char::from_u32(first)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(text: &str) -> Option<Vec<String>> {
        match parse(text)? {
            Top::Array(items) => items
                .into_iter()
                .map(|i| match i {
                    Item::Str(s) => Some(s),
                    Item::Other => None,
                })
                .collect(),
            _ => None,
        }
    }

    #[test]
    fn arrays_of_strings() {
        let cases: &[(&str, &[&str])] = &[
            ("[]", &[]),
            (r#"[""]"#, &[""]),
            (r#"["a"]"#, &["a"]),
            (r#"["a","b"]"#, &["a", "b"]),
            (r#"[ "a", "b" ]"#, &["a", "b"]),
            ("[\t\"a\",\t\"b\"\t]", &["a", "b"]),
            ("\t[\t\"a\",\t\"b\"\t]\t", &["a", "b"]),
            (
                r#"["abc 123", "♥", "☃", "\" \\ \/ \b \f \n \r \t \u0000"]"#,
                &["abc 123", "♥", "☃", "\" \\ / \u{8} \u{c} \n \r \t \0"],
            ),
            (
                r#"["\ud83d\ude00", "\ud800", "\ud800\u0041", "\udc00x"]"#,
                &["😀", "\u{fffd}", "\u{fffd}A", "\u{fffd}x"],
            ),
        ];
        for (text, want) in cases {
            assert_eq!(
                strings(text),
                Some(want.iter().map(|s| s.to_string()).collect()),
                "{text}"
            );
        }
    }

    #[test]
    fn arrays_with_other_values() {
        let cases = [
            r#"["a",42,"b"]"#,
            r#"["a",123.456,"b"]"#,
            r#"["a",{},"b"]"#,
            r#"["a",{"c": "d"},"b"]"#,
            r#"["a",["c"],"b"]"#,
            r#"["a",true,"b"]"#,
            r#"["a",false,"b"]"#,
            r#"["a",null,"b"]"#,
            r#"["a",-0.5e+10,[[{"x":[1,{}]}]]]"#,
        ];
        for text in cases {
            let Some(Top::Array(items)) = parse(text) else {
                panic!("{text} should be valid")
            };
            assert!(items.contains(&Item::Other), "{text}");
        }
    }

    #[test]
    fn invalid_texts() {
        let cases = [
            "",
            "[",
            "[\"a\"",
            "[\"a\",]",
            "[,]",
            "[\"a\" \"b\"]",
            "['a']",
            "[\"a\"] x",
            "[01]",
            "[1.]",
            "[1e]",
            "[-]",
            "[\"\\x\"]",
            "[\"\\u12\"]",
            "[\"a\nb\"]",
            "[tru]",
            "{\"a\"}",
            "{1:2}",
            "[\"a\"]]",
            "\u{feff}[]",
            "[\u{a0}]",
        ];
        for text in cases {
            assert_eq!(parse(text), None, "{text:?}");
        }
    }

    #[test]
    fn nesting_limit() {
        let ok = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(parse(&ok).is_some());
        let too_deep = format!("{}{}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
        assert_eq!(parse(&too_deep), None);
        let unclosed = "[".repeat(1_000_000);
        assert_eq!(parse(&unclosed), None);
    }

    #[test]
    fn objects() {
        let got = parse(r#"{"syntax": "foo", "bar": ["abc"], "syntax": 1}"#);
        let want = Top::Object(vec![
            ("syntax".into(), Item::Str("foo".into())),
            ("bar".into(), Item::Other),
            ("syntax".into(), Item::Other),
        ]);
        assert_eq!(got, Some(want));
        assert_eq!(parse("null"), Some(Top::Scalar));
    }
}
