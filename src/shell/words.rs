//! Word splitting after expansion, for `process_words`.

use super::chars;

/// Collects words: unquoted blanks separate them; quoted and escaped text never does.
#[derive(Debug, Default)]
pub(super) struct Words {
    words: Vec<String>,
    current: String,
    in_word: bool,
}

impl Words {
    /// Unquoted text (literal characters and `$` expansions): blanks split words.
    pub(super) fn push_unquoted(&mut self, c: char) {
        if !chars::is_space(c) {
            self.push_quoted(c);
        } else if self.in_word && !self.current.is_empty() {
            self.words.push(std::mem::take(&mut self.current));
            self.in_word = false;
        }
    }

    /// Expanded text from `$`: split on blanks like unquoted text.
    pub(super) fn push_unquoted_str(&mut self, s: &str) {
        s.chars().for_each(|c| self.push_unquoted(c));
    }

    /// An escaped character: always part of the word.
    pub(super) fn push_quoted(&mut self, c: char) {
        self.current.push(c);
        self.in_word = true;
    }

    /// The text of a quoted string: always part of the word. An empty `""` still opens a word,
    /// but as in BuildKit an empty word is never emitted.
    pub(super) fn push_quoted_str(&mut self, s: &str) {
        self.current.push_str(s);
        self.in_word = true;
    }

    /// The finished list.
    pub(super) fn finish(mut self) -> Vec<String> {
        if !self.current.is_empty() {
            self.words.push(self.current);
        }
        self.words
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_only_unquoted_blanks() {
        let mut words = Words::default();
        words.push_unquoted_str("  a b\t");
        words.push_quoted_str(" c ");
        words.push_unquoted('\u{a0}');
        words.push_quoted_str("");
        words.push_unquoted(' ');
        words.push_quoted('d');
        assert_eq!(words.finish(), ["a", "b", " c ", "d"]);
    }
}
