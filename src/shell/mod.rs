//! Shell-style word expansion, as BuildKit's Dockerfile frontend does it (`shell/lex.go`).
//!
//! **In:** one word of Dockerfile text (an `ENV` value, a `COPY` source, an `EXPOSE` list…), the
//! variables in scope as an [`EnvGetter`], and a [`Lexer`] holding the escape token and options.
//!
//! **Out:** the word with quotes removed, escapes resolved and `$V`, `${V}`, `${V:-w}`,
//! `${V-w}`, `${V:+w}`, `${V+w}`, `${V:?m}`, `${V?m}`, `${V#p}`, `${V##p}`, `${V%p}`,
//! `${V%%p}`, `${V/p/r}` and `${V//p/r}` substituted ([`Lexer::process_word`]); optionally with
//! the names that were found and not found ([`Lexer::process_word_with_matches`]), or split into
//! words on unquoted blanks ([`Lexer::process_words`]). Failures carry BuildKit's exact text.
//!
//! **Not here:** deciding which instructions expand (that is the instruction layer), command
//! substitution, arithmetic, globbing of file names, or `${V:=w}` (BuildKit rejects it too).
//! Work is bounded: nesting is capped at [`MAX_NESTING`], substitution output at
//! [`MAX_EXPANDED_LEN`] bytes, and a pattern matches in time proportional to value length
//! times pattern length (as with Go's regexps), never exponentially.
//!
//! ```
//! use stager::shell::{Env, Lexer};
//!
//! let env = Env::from_slice(&["TAG=1.2", "EMPTY="]);
//! let lexer = Lexer::new('\\');
//! assert_eq!(lexer.process_word("app:${TAG:-latest}", &env).unwrap(), "app:1.2");
//! assert_eq!(lexer.process_word("'$TAG' \"${EMPTY:-x}\"", &env).unwrap(), "$TAG x");
//! assert_eq!(lexer.process_words("80/tcp ${TAG}", &env).unwrap(), ["80/tcp", "1.2"]);
//! let err = lexer.process_word("${NAME:?is required}", &env).unwrap_err();
//! assert_eq!(err.to_string(), "NAME: is required");
//! ```

mod chars;
mod env;
mod error;
mod expand;
mod pattern;
mod unicode_tables;
mod words;

#[cfg(test)]
mod tests;

use std::collections::BTreeSet;

pub use env::{Env, EnvGetter};
pub use error::{Error, ErrorKind};

/// How deeply `${...}` may nest inside another's operand before expansion fails.
pub const MAX_NESTING: usize = 64;

/// The most bytes that substitutions may produce while expanding one word (a nested result
/// counts at every level), so that nested `${V//p/r}` cannot grow without bound.
pub const MAX_EXPANDED_LEN: usize = 1 << 20;

/// Expansion settings: the escape token and BuildKit's `Lex` options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lexer {
    /// The escape token: `\` by default, `` ` `` after `# escape=``.
    pub escape: char,
    /// Keep quote characters in the output (progress names use this).
    pub raw_quotes: bool,
    /// Keep escape tokens in the output.
    pub raw_escapes: bool,
    /// Leave references to unset variables as written (`$X`, `${X:-y}`) instead of expanding.
    pub skip_unset_env: bool,
    /// Treat quotes as ordinary characters.
    pub skip_process_quotes: bool,
    /// Windows rules: variable names match case-insensitively.
    pub windows: bool,
}

/// The result of [`Lexer::process_word_with_matches`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Expansion {
    /// The expanded word.
    pub word: String,
    /// Names referenced and set (possibly empty).
    pub matched: BTreeSet<String>,
    /// Names referenced but unset.
    pub unmatched: BTreeSet<String>,
}

impl Lexer {
    /// A lexer with the given escape token, all options off, and the host's key rules.
    pub fn new(escape: char) -> Self {
        Self {
            escape,
            raw_quotes: false,
            raw_escapes: false,
            skip_unset_env: false,
            skip_process_quotes: false,
            windows: cfg!(windows),
        }
    }

    /// One word: quotes removed, escapes processed, variables expanded, no splitting.
    pub fn process_word(&self, word: &str, env: &dyn EnvGetter) -> Result<String, Error> {
        // Most words of a Dockerfile have nothing to expand: skip the scanner's char buffer.
        if self.is_literal(word) {
            return Ok(word.strip_prefix('\u{FEFF}').unwrap_or(word).to_owned());
        }
        Ok(self.scan(word, env, false)?.word)
    }

    /// Whether the scanner would give `word` back unchanged (apart from a leading BOM): no `$`,
    /// no escape token, no quotes it processes.
    fn is_literal(&self, word: &str) -> bool {
        !word.chars().any(|c| {
            c == '$' || c == self.escape || (!self.skip_process_quotes && (c == '\'' || c == '"'))
        })
    }

    /// Same, also reporting which variable names were matched (set) and which were referenced
    /// but unset.
    pub fn process_word_with_matches(
        &self,
        word: &str,
        env: &dyn EnvGetter,
    ) -> Result<Expansion, Error> {
        let scanned = self.scan(word, env, true)?;
        Ok(Expansion {
            word: scanned.word,
            matched: scanned.matched,
            unmatched: scanned.unmatched,
        })
    }

    /// Expands then splits into words on unquoted whitespace (EXPOSE, shell-form parsing).
    pub fn process_words(&self, word: &str, env: &dyn EnvGetter) -> Result<Vec<String>, Error> {
        Ok(self.scan(word, env, false)?.words)
    }

    fn scan(
        &self,
        word: &str,
        env: &dyn EnvGetter,
        capture: bool,
    ) -> Result<expand::Scanned, Error> {
        expand::scan(self, word, env, capture).map_err(|kind| Error::new(kind, word))
    }
}
