//! The slice of BuildKit's shell lexer (`shell.Lex.ProcessWords`) that heredoc detection runs:
//! escape token `\`, no variables set, unset variables kept as written (`SkipUnsetEnv`), with or
//! without keeping quotes (`RawQuotes`) and escapes (`RawEscapes`) in the words.
//!
//! Words split on unquoted whitespace. `<<` keeps the blanks after it in its word, so `<< EOF` is
//! one word. Variable expansion itself belongs to the instruction layer; here a `$NAME` or
//! `${NAME…}` only has to come back as written.

use super::gostr::is_space;

const ESCAPE: char = '\\';

/// How deeply `${…}` expansions may nest. BuildKit has no limit (Go stacks grow); here each level
/// is a few stack frames, so a pathological line could overflow the stack. Past this depth the
/// lexer fails, which for a whole line means "no heredocs".
const MAX_NESTED_EXPANSIONS: usize = 100;

/// Which of the lexer's raw modes are on.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Mode {
    /// Keep quote characters in the words.
    pub(crate) raw_quotes: bool,
    /// Keep escape characters in the words.
    pub(crate) raw_escapes: bool,
}

/// Splits `input` into shell words; `Err` holds the lexer's message.
pub(crate) fn words(input: &str, mode: Mode) -> Result<Vec<String>, String> {
    let mut chars: Vec<char> = input.chars().collect();
    // text/scanner drops a byte order mark at the very start.
    if chars.first() == Some(&'\u{FEFF}') {
        chars.remove(0);
    }
    let mut lexer = Lexer {
        chars,
        pos: 0,
        depth: 0,
        raw_quotes: mode.raw_quotes,
        raw_escapes: mode.raw_escapes,
    };
    let (_, words) = lexer.until(None, mode.raw_escapes)?;
    Ok(words)
}

struct Lexer {
    chars: Vec<char>,
    pos: usize,
    /// How many `${` are open.
    depth: usize,
    raw_quotes: bool,
    raw_escapes: bool,
}

/// Words being collected, as Go's `wordsStruct`.
#[derive(Default)]
struct Words {
    word: String,
    words: Vec<String>,
    in_word: bool,
}

impl Words {
    fn add_char(&mut self, c: char) {
        if is_space(c) {
            if self.in_word && !self.word.is_empty() {
                self.words.push(std::mem::take(&mut self.word));
                self.in_word = false;
            }
        } else {
            self.add_raw_char(c);
        }
    }

    fn add_raw_char(&mut self, c: char) {
        self.word.push(c);
        self.in_word = true;
    }

    fn add_string(&mut self, s: &str) {
        s.chars().for_each(|c| self.add_char(c));
    }

    fn add_raw_string(&mut self, s: &str) {
        self.word.push_str(s);
        self.in_word = true;
    }

    fn finish(mut self) -> Vec<String> {
        if !self.word.is_empty() {
            self.words.push(self.word);
        }
        self.words
    }
}

impl Lexer {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn next(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += 1;
        Some(c)
    }

    /// Go's `processStopOn`: reads up to `stop` (or the end when `None`), returning the processed
    /// text and its words.
    fn until(
        &mut self,
        stop: Option<char>,
        raw_escapes: bool,
    ) -> Result<(String, Vec<String>), String> {
        let saved = std::mem::replace(&mut self.raw_escapes, raw_escapes);
        let result = self.until_inner(stop);
        self.raw_escapes = saved;
        result
    }

    fn until_inner(&mut self, stop: Option<char>) -> Result<(String, Vec<String>), String> {
        let mut result = String::new();
        let mut words = Words::default();
        while let Some(c) = self.peek() {
            if Some(c) == stop {
                self.pos += 1;
                return Ok((result, words.finish()));
            }
            match c {
                '$' => {
                    let text = self.dollar()?;
                    result.push_str(&text);
                    words.add_string(&text);
                }
                '\'' | '"' | '<' => {
                    let text = match c {
                        '\'' => self.single_quote()?,
                        '"' => self.double_quote()?,
                        _ => self.possible_heredoc(),
                    };
                    result.push_str(&text);
                    words.add_raw_string(&text);
                }
                _ => {
                    self.pos += 1;
                    let mut c = c;
                    if c == ESCAPE {
                        if self.raw_escapes {
                            words.add_raw_char(c);
                            result.push(c);
                        }
                        match self.next() {
                            Some(escaped) => c = escaped,
                            None => break,
                        }
                        words.add_raw_char(c);
                    } else {
                        words.add_char(c);
                    }
                    result.push(c);
                }
            }
        }
        match stop {
            Some(stop) => Err(format!(
                "unexpected end of statement while looking for matching {stop}"
            )),
            None => Ok((result, words.finish())),
        }
    }

    fn single_quote(&mut self) -> Result<String, String> {
        let mut result = String::new();
        let open = self.next().unwrap_or('\'');
        if self.raw_quotes {
            result.push(open);
        }
        loop {
            match self.next() {
                None => {
                    return Err(
                        "unexpected end of statement while looking for matching single-quote"
                            .into(),
                    );
                }
                Some('\'') => {
                    if self.raw_quotes {
                        result.push('\'');
                    }
                    return Ok(result);
                }
                Some(c) => result.push(c),
            }
        }
    }

    fn double_quote(&mut self) -> Result<String, String> {
        let mut result = String::new();
        let open = self.next().unwrap_or('"');
        if self.raw_quotes {
            result.push(open);
        }
        loop {
            match self.peek() {
                None => {
                    return Err(
                        "unexpected end of statement while looking for matching double-quote"
                            .into(),
                    );
                }
                Some('"') => {
                    self.pos += 1;
                    if self.raw_quotes {
                        result.push('"');
                    }
                    return Ok(result);
                }
                Some('$') => result.push_str(&self.dollar()?),
                Some(mut c) => {
                    self.pos += 1;
                    if c == ESCAPE {
                        if self.raw_escapes {
                            result.push(c);
                        }
                        match self.peek() {
                            None => continue,
                            Some(next @ ('"' | '$' | ESCAPE)) => {
                                self.pos += 1;
                                c = next;
                            }
                            Some(_) => {}
                        }
                    }
                    result.push(c);
                }
            }
        }
    }

    /// `<<` and the blanks after it stay together; a single `<` is just a character.
    fn possible_heredoc(&mut self) -> String {
        self.pos += 1;
        if self.peek() != Some('<') {
            return "<".into();
        }
        self.pos += 1;
        let mut text = String::from("<<");
        while let Some(c @ (' ' | '\t' | '\r' | '\n')) = self.peek() {
            text.push(c);
            self.pos += 1;
        }
        text
    }

    /// Go's `processName`: digits, one special parameter, or letters, digits and `_`.
    fn name(&mut self) -> String {
        let mut name = String::new();
        while let Some(c) = self.peek() {
            if name.is_empty() && c.is_ascii_digit() {
                while let Some(d) = self.peek().filter(char::is_ascii_digit) {
                    name.push(d);
                    self.pos += 1;
                }
                return name;
            }
            if name.is_empty() && matches!(c, '@' | '*' | '#' | '?' | '-' | '$' | '!' | '0') {
                self.pos += 1;
                return c.to_string();
            }
            if !c.is_alphanumeric() && c != '_' {
                break;
            }
            name.push(c);
            self.pos += 1;
        }
        name
    }

    /// Go's `processDollar` with no variable set: everything comes back as written.
    fn dollar(&mut self) -> Result<String, String> {
        self.pos += 1;
        if self.peek() != Some('{') {
            let name = self.name();
            return Ok(format!("${name}"));
        }
        self.pos += 1;
        if self.depth >= MAX_NESTED_EXPANSIONS {
            return Err("syntax error: too many nested ${} expansions".into());
        }
        self.depth += 1;
        let result = self.braced();
        self.depth -= 1;
        result
    }

    /// The part of `processDollar` after `${`.
    fn braced(&mut self) -> Result<String, String> {
        match self.peek() {
            None => return Err("syntax error: missing '}'".into()),
            Some('{' | '}' | ':') => return Err("syntax error: bad substitution".into()),
            Some(_) => {}
        }
        let name = self.name();
        // Go renders the end of input as U+FFFD when it echoes the modifier.
        let Some(mut c) = self.next() else {
            return Err("unsupported modifier (\u{FFFD}) in substitution".into());
        };
        let mut modifier = c.to_string();
        match c {
            '}' => Ok(format!("${{{name}}}")),
            ':' | '+' | '-' | '?' | '#' | '%' => {
                let null_is_unset = c == ':';
                if null_is_unset {
                    let next = self.next();
                    modifier.push(next.unwrap_or('\u{FFFD}'));
                    c = next.unwrap_or('\u{FFFD}');
                }
                let raw_escapes = c == '#' || c == '%';
                if null_is_unset && raw_escapes {
                    return Err(format!("unsupported modifier ({modifier}) in substitution"));
                }
                let word = self.until_closing('}', raw_escapes, "syntax error: missing '}'")?;
                Ok(format!("${{{name}{modifier}{word}}}"))
            }
            '/' => {
                if self.peek() == Some('/') {
                    self.pos += 1;
                }
                let pattern = self.until_closing('/', true, "syntax error: missing '/' in ${}")?;
                let replacement = self.until_closing('}', true, "syntax error: missing '}'")?;
                Ok(format!("${{{name}/{pattern}/{replacement}}}"))
            }
            _ => Err(format!("unsupported modifier ({modifier}) in substitution")),
        }
    }

    /// A nested `processStopOn`, whose error at the end of input becomes `at_end`.
    fn until_closing(
        &mut self,
        stop: char,
        raw_escapes: bool,
        at_end: &str,
    ) -> Result<String, String> {
        match self.until(Some(stop), raw_escapes) {
            Ok((text, _)) => Ok(text),
            Err(_) if self.peek().is_none() => Err(at_end.to_string()),
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RAW: Mode = Mode {
        raw_quotes: true,
        raw_escapes: true,
    };
    const COOKED: Mode = Mode {
        raw_quotes: false,
        raw_escapes: false,
    };

    #[test]
    fn words_table() {
        type Case<'a> = (&'a str, Mode, Result<&'a [&'a str], &'a str>);
        let cases: &[Case] = &[
            ("RUN <<EOF", RAW, Ok(&["RUN", "<<EOF"])),
            ("RUN << EOF cat", RAW, Ok(&["RUN", "<< EOF", "cat"])),
            ("RUN <<\t 'EOF'", RAW, Ok(&["RUN", "<<\t 'EOF'"])),
            ("RUN '<<EOF'", RAW, Ok(&["RUN", "'<<EOF'"])),
            ("a<b", RAW, Ok(&["a<b"])),
            (
                "a\\ b 'c d' \"e\\\"f\"",
                RAW,
                Ok(&["a\\ b", "'c d'", "\"e\\\"f\""]),
            ),
            (
                "a\\ b 'c d' \"e\\\"f\"",
                COOKED,
                Ok(&["a b", "c d", "e\"f"]),
            ),
            (
                "$EOF ${X} ${X:-a b} ${X/a/b}",
                RAW,
                Ok(&["$EOF", "${X}", "${X:-a", "b}", "${X/a/b}"]),
            ),
            ("eo'f'", COOKED, Ok(&["eof"])),
            ("'one two'", COOKED, Ok(&["one two"])),
            ("\"\"", COOKED, Ok(&[])),
            (
                "'EOF",
                COOKED,
                Err("unexpected end of statement while looking for matching single-quote"),
            ),
            (
                "\"EOF",
                COOKED,
                Err("unexpected end of statement while looking for matching double-quote"),
            ),
            ("${", COOKED, Err("syntax error: missing '}'")),
            ("${}", COOKED, Err("syntax error: bad substitution")),
            ("${a:-'}", COOKED, Err("syntax error: missing '}'")),
            (
                "${a!}",
                COOKED,
                Err("unsupported modifier (!) in substitution"),
            ),
            ("trailing\\", RAW, Ok(&["trailing\\"])),
            ("${a:-${b:-c}}", RAW, Ok(&["${a:-${b:-c}}"])),
        ];
        for (input, mode, want) in cases {
            let got = words(input, *mode);
            let want = want
                .map(|w| w.iter().map(|s| s.to_string()).collect::<Vec<_>>())
                .map_err(str::to_string);
            assert_eq!(got, want, "{input:?}");
        }
    }

    #[test]
    fn deep_nesting_fails_instead_of_overflowing() {
        let deep = format!("{}x{}", "${a:-".repeat(50_000), "}".repeat(50_000));
        assert!(words(&deep, RAW).is_err());
        let fine = format!(
            "{}x{}",
            "${a:-".repeat(MAX_NESTED_EXPANSIONS),
            "}".repeat(MAX_NESTED_EXPANSIONS)
        );
        assert_eq!(words(&fine, RAW), Ok(vec![fine.clone()]));
    }
}
