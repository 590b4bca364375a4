//! Character classes with Go's `unicode` semantics.
//!
//! They decide where a variable name ends (`$안녕x` is one name, `$aⅠ` is not) and what word
//! splitting treats as a blank, so they follow Go's categories rather than Rust's
//! `is_alphabetic` (which also admits marks and letter-numbers).

use super::unicode_tables::{DECIMAL_DIGIT, LETTER};

/// Go's `unicode.IsLetter`: general category L.
pub(super) fn is_letter(c: char) -> bool {
    c.is_ascii_alphabetic() || (!c.is_ascii() && in_table(LETTER, c))
}

/// Go's `unicode.IsDigit`: general category Nd.
pub(super) fn is_digit(c: char) -> bool {
    c.is_ascii_digit() || (!c.is_ascii() && in_table(DECIMAL_DIGIT, c))
}

/// Go's `unicode.IsSpace`, which is the Unicode White_Space property, as is Rust's.
pub(super) fn is_space(c: char) -> bool {
    c.is_whitespace()
}

/// Go's `unicode.ToUpper` (simple case mapping) applied to every character of `s`.
///
/// Rust only offers the full mapping; where that gives more than one character (`ß` → `SS`)
/// the simple mapping leaves the character alone, and so does this.
pub(super) fn to_upper(s: &str) -> String {
    s.chars()
        .map(|c| {
            let mut upper = c.to_uppercase();
            match (upper.next(), upper.next()) {
                (Some(u), None) => u,
                _ => c,
            }
        })
        .collect()
}

fn in_table(table: &[u32], c: char) -> bool {
    let cp = u32::from(c);
    let (pairs, _) = table.as_chunks::<2>();
    let after = pairs.partition_point(|[first, _]| *first <= cp);
    after > 0 && cp <= pairs[after - 1][1]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letters_follow_go_categories() {
        let cases = [
            ('a', true),
            ('Z', true),
            ('_', false),
            ('한', true),
            ('ß', true),
            ('\u{2160}', false), // ROMAN NUMERAL ONE is Nl, not a letter in Go
            ('\u{0903}', false), // DEVANAGARI SIGN VISARGA is Mc
            ('\u{24B6}', false), // CIRCLED LATIN CAPITAL LETTER A is So
            ('\u{31350}', true), // CJK extension H, new in Unicode 15.0
            ('\u{10FFFF}', false),
        ];
        for (c, want) in cases {
            assert_eq!(is_letter(c), want, "{c:?}");
        }
    }

    #[test]
    fn digits_are_nd_only() {
        let cases = [
            ('0', true),
            ('٣', true),
            ('²', false),
            ('Ⅻ', false),
            ('x', false),
        ];
        for (c, want) in cases {
            assert_eq!(is_digit(c), want, "{c:?}");
        }
    }

    #[test]
    fn upper_uses_the_simple_mapping() {
        assert_eq!(to_upper("pwd"), "PWD");
        assert_eq!(to_upper("straße"), "STRAßE");
    }
}
