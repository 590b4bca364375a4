//! The scanner: quotes, escapes and `$` substitutions over one word, character by character.

use std::collections::BTreeSet;

use super::words::Words;
use super::{EnvGetter, ErrorKind, Lexer, MAX_EXPANDED_LEN, MAX_NESTING, chars, pattern};

/// What one pass over a word produced.
pub(super) struct Scanned {
    pub(super) word: String,
    pub(super) words: Vec<String>,
    pub(super) matched: BTreeSet<String>,
    pub(super) unmatched: BTreeSet<String>,
}

/// Expands `word`, recording variable names in `matched`/`unmatched` when `capture` is set.
pub(super) fn scan(
    lexer: &Lexer,
    word: &str,
    env: &dyn EnvGetter,
    capture: bool,
) -> Result<Scanned, ErrorKind> {
    // Go's text/scanner drops a byte order mark at the very start.
    let word = word.strip_prefix('\u{FEFF}').unwrap_or(word);
    let mut scanner = Scanner {
        lexer,
        env,
        input: word.chars().collect(),
        pos: 0,
        depth: 0,
        budget: MAX_EXPANDED_LEN,
        capture,
        matched: BTreeSet::new(),
        unmatched: BTreeSet::new(),
    };
    let (word, words) = scanner.until(None, lexer.raw_escapes)?;
    Ok(Scanned {
        word,
        words: words.finish(),
        matched: scanner.matched,
        unmatched: scanner.unmatched,
    })
}

struct Scanner<'a> {
    lexer: &'a Lexer,
    env: &'a dyn EnvGetter,
    input: Vec<char>,
    pos: usize,
    depth: usize,
    /// Bytes substitutions may still produce (see [`MAX_EXPANDED_LEN`]).
    budget: usize,
    capture: bool,
    matched: BTreeSet<String>,
    unmatched: BTreeSet<String>,
}

impl<'a> Scanner<'a> {
    fn peek(&self) -> Option<char> {
        self.input.get(self.pos).copied()
    }

    fn next(&mut self) -> Option<char> {
        let c = self.peek();
        if c.is_some() {
            self.pos += 1;
        }
        c
    }

    fn at_end(&self) -> bool {
        self.pos >= self.input.len()
    }

    /// Reads up to and past `stop` (or to the end of the word when `stop` is `None`).
    /// `raw_escapes` keeps escape tokens in the text, for patterns that need them later.
    fn until(
        &mut self,
        stop: Option<char>,
        raw_escapes: bool,
    ) -> Result<(String, Words), ErrorKind> {
        let mut text = String::new();
        let mut words = Words::default();
        let quotes = !self.lexer.skip_process_quotes;
        while let Some(c) = self.peek() {
            if Some(c) == stop {
                self.pos += 1;
                return Ok((text, words));
            }
            match c {
                '$' => {
                    let value = self.dollar()?;
                    text.push_str(&value);
                    words.push_unquoted_str(&value);
                }
                '\'' if quotes => {
                    let value = self.single_quoted()?;
                    text.push_str(&value);
                    words.push_quoted_str(&value);
                }
                '"' if quotes => {
                    let value = self.double_quoted(raw_escapes)?;
                    text.push_str(&value);
                    words.push_quoted_str(&value);
                }
                c if c == self.lexer.escape => {
                    self.pos += 1;
                    if raw_escapes {
                        text.push(c);
                        words.push_quoted(c);
                    }
                    // An escape token ending the word is dropped.
                    let Some(escaped) = self.next() else { break };
                    text.push(escaped);
                    words.push_quoted(escaped);
                }
                c => {
                    self.pos += 1;
                    text.push(c);
                    words.push_unquoted(c);
                }
            }
        }
        match stop {
            Some(stop) => Err(ErrorKind::UnexpectedEnd(stop)),
            None => Ok((text, words)),
        }
    }

    /// `'...'`: everything literal up to the next `'`.
    fn single_quoted(&mut self) -> Result<String, ErrorKind> {
        let raw = self.lexer.raw_quotes;
        let mut text = String::new();
        self.pos += 1;
        if raw {
            text.push('\'');
        }
        loop {
            match self.next() {
                None => return Err(ErrorKind::UnclosedSingleQuote),
                Some('\'') => {
                    if raw {
                        text.push('\'');
                    }
                    return Ok(text);
                }
                Some(c) => text.push(c),
            }
        }
    }

    /// `"..."`: `$` expands; the escape token escapes only `"`, `$` and itself.
    fn double_quoted(&mut self, raw_escapes: bool) -> Result<String, ErrorKind> {
        let raw = self.lexer.raw_quotes;
        let escape = self.lexer.escape;
        let mut text = String::new();
        self.pos += 1;
        if raw {
            text.push('"');
        }
        loop {
            match self.peek() {
                None => return Err(ErrorKind::UnclosedDoubleQuote),
                Some('"') => {
                    self.pos += 1;
                    if raw {
                        text.push('"');
                    }
                    return Ok(text);
                }
                Some('$') => {
                    let value = self.dollar()?;
                    text.push_str(&value);
                }
                Some(c) => {
                    self.pos += 1;
                    if c != escape {
                        text.push(c);
                        continue;
                    }
                    if raw_escapes {
                        text.push(c);
                    }
                    match self.peek() {
                        // Dropped; the loop then reports the missing `"`.
                        None => {}
                        Some(next) if next == '"' || next == '$' || next == escape => {
                            self.pos += 1;
                            text.push(next);
                        }
                        // Any other escape token stays literal (and is doubled when raw).
                        Some(_) => text.push(c),
                    }
                }
            }
        }
    }

    /// `$name`, `${...}`, or a lone `$`; the result is charged to the budget.
    fn dollar(&mut self) -> Result<String, ErrorKind> {
        let value = self.dollar_uncharged()?;
        self.budget = self
            .budget
            .checked_sub(value.len())
            .ok_or(ErrorKind::TooLong {
                limit: MAX_EXPANDED_LEN,
            })?;
        Ok(value)
    }

    fn dollar_uncharged(&mut self) -> Result<String, ErrorKind> {
        self.pos += 1;
        if self.peek() != Some('{') {
            let name = self.name();
            if name.is_empty() {
                return Ok("$".to_owned());
            }
            return Ok(match self.lookup(&name) {
                Some(value) => value.to_owned(),
                None if self.lexer.skip_unset_env => format!("${name}"),
                None => String::new(),
            });
        }
        self.pos += 1;
        match self.peek() {
            None => return Err(ErrorKind::MissingBrace),
            Some('{' | '}' | ':') => return Err(ErrorKind::BadSubstitution),
            Some(_) => {}
        }
        if self.depth >= MAX_NESTING {
            return Err(ErrorKind::TooDeep { limit: MAX_NESTING });
        }
        self.depth += 1;
        let result = self.braced();
        self.depth -= 1;
        result
    }

    /// The inside of `${...}`, after the `{`.
    fn braced(&mut self) -> Result<String, ErrorKind> {
        let name = self.name();
        let op = self.next();
        let mut op_text = String::from(op.unwrap_or(pattern::END_OF_INPUT));
        match op {
            Some('}') => {
                return Ok(match self.lookup(&name) {
                    Some(value) => value.to_owned(),
                    None if self.lexer.skip_unset_env => format!("${{{name}}}"),
                    None => String::new(),
                });
            }
            Some('/') => return self.substitute(name),
            _ => {}
        }
        let colon = op == Some(':');
        let op = if colon {
            let op = self.next();
            op_text.push(op.unwrap_or(pattern::END_OF_INPUT));
            op
        } else {
            op
        };
        let Some(op @ ('-' | '+' | '?' | '#' | '%')) = op else {
            if !colon {
                return Err(ErrorKind::UnsupportedModifier(op_text));
            }
            // `${V:x...}` reads on to the `}` (expanding and looking up) before failing.
            let (word, _) = self.word_until_brace(false)?;
            return match self.lookup(&name) {
                None if self.lexer.skip_unset_env => Ok(format!("${{{name}{op_text}{word}}}")),
                _ => Err(ErrorKind::UnsupportedModifier(op_text)),
            };
        };
        let trims = op == '#' || op == '%';
        if colon && trims {
            return Err(ErrorKind::UnsupportedModifier(op_text));
        }
        let (word, _) = self.word_until_brace(trims)?;
        let value = self.lookup(&name);
        if value.is_none() && self.lexer.skip_unset_env {
            return Ok(format!("${{{name}{op_text}{word}}}"));
        }
        // With `:`, an empty value counts as unset.
        let usable = value.filter(|value| !(colon && value.is_empty()));
        match op {
            '-' => Ok(usable.map_or(word, str::to_owned)),
            '+' => Ok(usable.map_or_else(String::new, |_| word)),
            '?' => {
                let message = (!word.is_empty()).then_some(word);
                match (value, usable) {
                    (_, Some(value)) => Ok(value.to_owned()),
                    (None, None) => Err(ErrorKind::Unset { name, message }),
                    (Some(_), None) => Err(ErrorKind::Empty { name, message }),
                }
            }
            _ => {
                let value = value.unwrap_or_default();
                let (pattern, longest) = match word.strip_prefix(op) {
                    Some(rest) => (rest, true),
                    None => (word.as_str(), false),
                };
                if op == '#' {
                    pattern::trim_prefix(pattern, value, longest)
                } else {
                    pattern::trim_suffix(pattern, value, longest)
                }
            }
        }
    }

    /// `${name/pattern/replacement}` and `${name//pattern/replacement}`, after the first `/`.
    fn substitute(&mut self, name: String) -> Result<String, ErrorKind> {
        let all = self.peek() == Some('/');
        if all {
            self.pos += 1;
        }
        let (pattern, _) = self.until(Some('/'), true).map_err(|err| {
            if self.at_end() {
                ErrorKind::MissingSlash
            } else {
                err
            }
        })?;
        let (replacement, _) = self.word_until_brace(true)?;
        let Some(value) = self.lookup(&name) else {
            if self.lexer.skip_unset_env {
                return Ok(format!("${{{name}/{pattern}/{replacement}}}"));
            }
            return Self::replace(&pattern, "", &replacement, all);
        };
        Self::replace(&pattern, value, &replacement, all)
    }

    fn replace(
        pattern: &str,
        value: &str,
        replacement: &str,
        all: bool,
    ) -> Result<String, ErrorKind> {
        if all {
            pattern::replace_all(pattern, value, replacement, MAX_EXPANDED_LEN)
        } else {
            pattern::replace_first(pattern, value, replacement)
        }
    }

    /// The operand of `${name<op>operand}`; running out of input is a missing `}`.
    fn word_until_brace(&mut self, raw_escapes: bool) -> Result<(String, Words), ErrorKind> {
        self.until(Some('}'), raw_escapes).map_err(|err| {
            if self.at_end() {
                ErrorKind::MissingBrace
            } else {
                err
            }
        })
    }

    /// A name: letters, digits and `_`; or one special parameter (`@*#?-$!0`); or a run of
    /// digits (positional parameters, such as `$999`). Empty if none of these follows.
    fn name(&mut self) -> String {
        let mut name = String::new();
        match self.peek() {
            Some(c) if chars::is_digit(c) => {
                while let Some(c) = self.peek().filter(|&c| chars::is_digit(c)) {
                    self.pos += 1;
                    name.push(c);
                }
                return name;
            }
            Some(c @ ('@' | '*' | '#' | '?' | '-' | '$' | '!')) => {
                self.pos += 1;
                name.push(c);
                return name;
            }
            _ => {}
        }
        while let Some(c) = self.peek() {
            if !(chars::is_letter(c) || chars::is_digit(c) || c == '_') {
                break;
            }
            self.pos += 1;
            name.push(c);
        }
        name
    }

    /// Looks `name` up, noting whether it was set; with Windows rules, case-insensitively.
    fn lookup(&mut self, name: &str) -> Option<&'a str> {
        let env = self.env;
        let mut value = env.get(name);
        if value.is_none() && self.lexer.windows {
            let wanted = chars::to_upper(name);
            value = env
                .keys()
                .iter()
                .find(|key| chars::to_upper(key) == wanted)
                .and_then(|key| env.get(key));
        }
        if self.capture {
            let seen = if value.is_some() {
                &mut self.matched
            } else {
                &mut self.unmatched
            };
            seen.insert(name.to_owned());
        }
        value
    }
}
