//! Shell patterns for `${V#p}`, `${V%p}` and `${V/p/r}`, matched as BuildKit's Go regexps match.
//!
//! BuildKit turns a pattern into a Go regexp: `*` becomes `.*` (or lazy `.*?`), `?` becomes `.`,
//! `\*`, `\?` and `\\` are literals, `\}` and `\/` drop the backslash, and everything else,
//! brackets included, is literal. Like any Go `.`, the wildcards never match a newline. Here the
//! pattern compiles to a tiny program run by a Pike VM: leftmost-first results identical to Go's,
//! in time proportional to text length times pattern length, with no backtracking blow-up.

use super::ErrorKind;

/// `REPLACEMENT CHARACTER`, what Go prints for a rune read past the end.
pub(super) const END_OF_INPUT: char = '\u{FFFD}';

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Inst {
    Char(char),
    AnyButNewline,
    /// Try the first target, then the second.
    Split(usize, usize),
    Jump(usize),
    Match,
}

/// A compiled pattern.
#[derive(Debug)]
struct Glob {
    prog: Vec<Inst>,
}

impl Glob {
    /// Compiles `pattern`; `greedy` picks `.*` over `.*?` for `*`.
    fn compile(pattern: &str, greedy: bool) -> Result<Self, ErrorKind> {
        let mut prog = Vec::with_capacity(pattern.len() + 1);
        // Go's text/scanner drops a byte order mark at the very start.
        let mut chars = pattern
            .strip_prefix('\u{FEFF}')
            .unwrap_or(pattern)
            .chars()
            .peekable();
        while let Some(c) = chars.next() {
            match c {
                '*' => {
                    let at = prog.len();
                    let (body, rest) = (at + 1, at + 3);
                    prog.push(if greedy {
                        Inst::Split(body, rest)
                    } else {
                        Inst::Split(rest, body)
                    });
                    prog.push(Inst::AnyButNewline);
                    prog.push(Inst::Jump(at));
                }
                '?' => prog.push(Inst::AnyButNewline),
                '\\' if matches!(chars.peek(), Some('}' | '/')) => {}
                '\\' => match chars.next() {
                    Some(escaped @ ('*' | '?' | '\\')) => prog.push(Inst::Char(escaped)),
                    escaped => {
                        return Err(ErrorKind::InvalidPattern {
                            pattern: pattern.to_owned(),
                            escaped: escaped.unwrap_or(END_OF_INPUT),
                        });
                    }
                },
                c => prog.push(Inst::Char(c)),
            }
        }
        prog.push(Inst::Match);
        Ok(Self { prog })
    }

    /// The leftmost-first match starting at or after `start` (exactly at `start` if
    /// `anchored`), as `(start, end)` indexes into `text`.
    fn find_at(&self, text: &[char], start: usize, anchored: bool) -> Option<(usize, usize)> {
        let mut current = Threads::new(self.prog.len());
        let mut next = Threads::new(self.prog.len());
        let mut found = None;
        let mut pos = start;
        loop {
            if current.is_empty() && (found.is_some() || (anchored && pos != start)) {
                break;
            }
            if found.is_none() && (pos == start || !anchored) {
                current.add(&self.prog, 0, pos);
            }
            let c = text.get(pos).copied();
            for &(pc, from) in &current.list {
                match self.prog[pc] {
                    Inst::Match => {
                        // Everything after this thread has lower priority: drop it.
                        found = Some((from, pos));
                        break;
                    }
                    Inst::Char(want) if c == Some(want) => next.add(&self.prog, pc + 1, from),
                    Inst::AnyButNewline if c.is_some_and(|c| c != '\n') => {
                        next.add(&self.prog, pc + 1, from)
                    }
                    _ => {}
                }
            }
            if c.is_none() {
                break;
            }
            pos += 1;
            std::mem::swap(&mut current, &mut next);
            next.clear();
        }
        found
    }
}

/// The live threads of one step, in priority order, at most one per instruction.
struct Threads {
    list: Vec<(usize, usize)>,
    seen: Vec<bool>,
    marked: Vec<usize>,
    stack: Vec<usize>,
}

impl Threads {
    fn new(len: usize) -> Self {
        Self {
            list: Vec::new(),
            seen: vec![false; len],
            marked: Vec::new(),
            stack: Vec::new(),
        }
    }

    fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    fn clear(&mut self) {
        for pc in self.marked.drain(..) {
            self.seen[pc] = false;
        }
        self.list.clear();
    }

    /// Adds the thread at `pc` and everything reachable from it without input, depth first so
    /// priority order is kept (an explicit stack: long runs of `*` must not recurse).
    fn add(&mut self, prog: &[Inst], pc: usize, from: usize) {
        self.stack.push(pc);
        while let Some(pc) = self.stack.pop() {
            if std::mem::replace(&mut self.seen[pc], true) {
                continue;
            }
            self.marked.push(pc);
            match prog[pc] {
                Inst::Jump(to) => self.stack.push(to),
                Inst::Split(first, second) => {
                    self.stack.push(second);
                    self.stack.push(first);
                }
                _ => self.list.push((pc, from)),
            }
        }
    }
}

/// `${V#p}` (shortest) and `${V##p}` (longest): `value` without its matching prefix.
pub(super) fn trim_prefix(pattern: &str, value: &str, longest: bool) -> Result<String, ErrorKind> {
    let glob = Glob::compile(pattern, longest)?;
    let text: Vec<char> = value.chars().collect();
    Ok(match glob.find_at(&text, 0, true) {
        Some((_, end)) => text[end..].iter().collect(),
        None => value.to_owned(),
    })
}

/// `${V%p}` and `${V%%p}`: `value` without its matching suffix. Like BuildKit, this reverses
/// pattern and value and trims a prefix, so errors name the reversed pattern.
pub(super) fn trim_suffix(pattern: &str, value: &str, longest: bool) -> Result<String, ErrorKind> {
    let reversed: String = value.chars().rev().collect();
    let trimmed = trim_prefix(&reverse_pattern(pattern), &reversed, longest)?;
    Ok(trimmed.chars().rev().collect())
}

/// `${V/p/r}`: the first (leftmost, longest-preferring) match replaced by `replacement` as is.
pub(super) fn replace_first(
    pattern: &str,
    value: &str,
    replacement: &str,
) -> Result<String, ErrorKind> {
    let glob = Glob::compile(pattern, true)?;
    let text: Vec<char> = value.chars().collect();
    Ok(match glob.find_at(&text, 0, false) {
        Some((start, end)) => {
            let mut out: String = text[..start].iter().collect();
            out.push_str(replacement);
            out.extend(&text[end..]);
            out
        }
        None => value.to_owned(),
    })
}

/// `${V//p/r}`: every match replaced, following Go's `Regexp.ReplaceAllString`, including its
/// template rules (`$0` and `${0}` are the match, `$$` is `$`, other references are empty).
pub(super) fn replace_all(
    pattern: &str,
    value: &str,
    template: &str,
    limit: usize,
) -> Result<String, ErrorKind> {
    let glob = Glob::compile(pattern, true)?;
    let text: Vec<char> = value.chars().collect();
    let mut out = String::new();
    let (mut last_end, mut pos) = (0, 0);
    while pos <= text.len() {
        let Some((start, end)) = glob.find_at(&text, pos, false) else {
            break;
        };
        out.extend(&text[last_end..start]);
        // No replacement for an empty match right after the previous match.
        if end > last_end || start == 0 {
            let matched: String = text[start..end].iter().collect();
            expand_template(&mut out, template, &matched);
        }
        if out.len() > limit {
            return Err(ErrorKind::TooLong { limit });
        }
        last_end = end;
        pos = if pos < end { end } else { pos + 1 };
    }
    out.extend(&text[last_end..]);
    Ok(out)
}

/// Reverses a pattern, keeping each `\x` pair in order (`a\*c` → `c\*a`), as BuildKit does.
fn reverse_pattern(pattern: &str) -> String {
    let chars: Vec<char> = pattern.chars().collect();
    let mut pieces: Vec<&[char]> = Vec::with_capacity(chars.len());
    let mut i = 0;
    while i < chars.len() {
        let len = if chars[i] == '\\' && i + 1 < chars.len() {
            2
        } else {
            1
        };
        pieces.push(&chars[i..i + len]);
        i += len;
    }
    pieces.iter().rev().flat_map(|piece| piece.iter()).collect()
}

/// Appends Go's `Regexp.Expand` of `template` for a regexp without groups.
fn expand_template(out: &mut String, template: &str, matched: &str) {
    let mut rest = template;
    while let Some((before, after)) = rest.split_once('$') {
        out.push_str(before);
        if let Some(after) = after.strip_prefix('$') {
            out.push('$');
            rest = after;
            continue;
        }
        match group_reference(after) {
            Some((group, after)) => {
                if group == Some(0) {
                    out.push_str(matched);
                }
                rest = after;
            }
            None => {
                out.push('$');
                rest = after;
            }
        }
    }
    out.push_str(rest);
}

/// Parses the reference after a `$`: `name` or `{name}` of letters, digits and `_`. Returns the
/// group number (`None` for a name or a number with a leading zero) and the rest.
fn group_reference(s: &str) -> Option<(Option<u32>, &str)> {
    let (braced, body) = match s.strip_prefix('{') {
        Some(body) => (true, body),
        None => (false, s),
    };
    let len = body
        .char_indices()
        .find(|&(_, c)| !(super::chars::is_letter(c) || super::chars::is_digit(c) || c == '_'))
        .map_or(body.len(), |(at, _)| at);
    if len == 0 {
        return None;
    }
    let (name, mut rest) = body.split_at(len);
    if braced {
        rest = rest.strip_prefix('}')?;
    }
    let number = if name.len() > 1 && name.starts_with('0') {
        None
    } else {
        name.parse::<u32>().ok().filter(|n| *n < 100_000_000)
    };
    Some((number, rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims() {
        // (pattern, value, longest, prefix result, suffix result)
        let cases = [
            ("*x*y", "xxyy", false, "y", "x"),
            ("*", "xxyy", false, "xxyy", "xxyy"),
            ("*x", "xxyy", true, "yy", "xxyy"),
            ("", "xxyy", true, "xxyy", "xxyy"),
            ("?\\?", "???y", false, "?y", "???y"),
            ("\\**\\*", "a***yy*", true, "a***yy*", "a"),
            ("y*", "xxyy", false, "xxyy", "xxy"),
            ("y*", "xxyy", true, "xxyy", "xx"),
            (
                "()[]{\\}^$.\\*\\?|\\\\",
                "()[]{}^$.*?|\\x",
                false,
                "x",
                "()[]{}^$.*?|\\x",
            ),
            ("*", "a\nb", true, "\nb", "a\n"),
            ("[ab]", "[ab]c", false, "c", "[ab]c"),
        ];
        for (pattern, value, longest, prefix, suffix) in cases {
            assert_eq!(
                trim_prefix(pattern, value, longest).as_deref(),
                Ok(prefix),
                "#{pattern}"
            );
            assert_eq!(
                trim_suffix(pattern, value, longest).as_deref(),
                Ok(suffix),
                "%{pattern}"
            );
        }
    }

    #[test]
    fn replaces() {
        // (pattern, value, replacement, first, all)
        let cases = [
            ("\\*/", "/foo*/*/*.txt", ".", "/foo.*/*.txt", "/foo..*.txt"),
            ("/tmp", "/tmp/tmp/bar.txt", "", "/tmp/bar.txt", "/bar.txt"),
            ("/?/", "/a/foo/b/c.txt", "/", "/foo/b/c.txt", "/foo/c.txt"),
            (
                "\\/",
                "/tmp/foo.txt",
                "\\/",
                "\\/tmp/foo.txt",
                "\\/tmp\\/foo.txt",
            ),
            ("", "xy", "-", "-xy", "-x-y-"),
            ("x*", "axxb", "-", "a-", "a-"),
            (
                "o",
                "foo",
                "<$0|${0}|$1|$$|$|$.>",
                "f<$0|${0}|$1|$$|$|$.>o",
                "f<o|o||$|$|$.><o|o||$|$|$.>",
            ),
        ];
        for (pattern, value, replacement, first, all) in cases {
            assert_eq!(
                replace_first(pattern, value, replacement).as_deref(),
                Ok(first),
                "{pattern}"
            );
            assert_eq!(
                replace_all(pattern, value, replacement, usize::MAX).as_deref(),
                Ok(all),
                "{pattern}"
            );
        }
    }

    #[test]
    fn bad_escapes() {
        let cases = [
            ("\\", END_OF_INPUT),
            ("\\x", 'x'),
            ("\\\\\\", END_OF_INPUT),
            ("a\\b", 'b'),
        ];
        for (pattern, escaped) in cases {
            let want = ErrorKind::InvalidPattern {
                pattern: pattern.to_owned(),
                escaped,
            };
            assert_eq!(trim_prefix(pattern, "", true), Err(want), "{pattern}");
        }
        // Suffix trimming reports the reversed pattern, as BuildKit does.
        let want = ErrorKind::InvalidPattern {
            pattern: "\\ba".to_owned(),
            escaped: 'b',
        };
        assert_eq!(trim_suffix("ab\\", "", true), Err(want));
    }

    #[test]
    fn reverses_patterns_keeping_escapes() {
        let cases = [
            ("a\\*c", "c\\*a"),
            ("\\\\\\ab", "b\\a\\\\"),
            ("ab\\", "\\ba"),
            ("👽\\🚀🖖", "🖖\\🚀👽"),
            ("\\\\b", "b\\\\"),
        ];
        for (pattern, want) in cases {
            assert_eq!(reverse_pattern(pattern), want, "{pattern}");
        }
    }

    #[test]
    fn many_stars_stay_cheap() {
        let pattern = "*a".repeat(500) + "b";
        let value = "a".repeat(1000);
        assert_eq!(
            trim_prefix(&pattern, &value, true).as_deref(),
            Ok(value.as_str())
        );
    }
}
