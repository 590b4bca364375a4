//! `shell::Lexer::process_word` / `process_words` with a small environment.
//!
//! Input layout: first byte picks options (escape token, raw quotes/escapes, skip unset),
//! the rest (lossy UTF-8) is the word.
#![no_main]

use libfuzzer_sys::fuzz_target;
use stager::shell::{Env, Lexer};

fuzz_target!(|data: &[u8]| {
    let Some((&opts, word)) = data.split_first() else {
        return;
    };
    let word = String::from_utf8_lossy(word);
    let env = Env::from_slice(&[
        "A=x",
        "B=hello world",
        "EMPTY=",
        "PATH=/usr/local/bin:/usr/bin",
        "Q='\"quoted\"'",
        "STAR=*?[a-z]",
        "U=héllo ✓",
    ]);
    let mut lexer = Lexer::new(if opts & 1 == 0 { '\\' } else { '`' });
    lexer.raw_quotes = opts & 2 != 0;
    lexer.raw_escapes = opts & 4 != 0;
    lexer.skip_unset_env = opts & 8 != 0;
    lexer.skip_process_quotes = opts & 16 != 0;
    lexer.windows = opts & 32 != 0;
    if let Ok(out) = lexer.process_word(&word, &env) {
        assert!(out.len() <= stager::shell::MAX_EXPANDED_LEN + word.len());
    }
    let _ = lexer.process_words(&word, &env);
    let _ = lexer.process_word_with_matches(&word, &env);
});
