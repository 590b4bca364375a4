//! Physical lines of the input, the way BuildKit's `bufio.Scanner` with its `scanLines` split
//! function hands them out: newline kept, and a hard stop at a line that does not fit the 64 KiB
//! buffer.

/// `bufio.MaxScanTokenSize`: the scanner's buffer cannot grow past this many bytes.
const MAX_TOKEN_SIZE: usize = 64 * 1024;

/// Yields the input's lines, each with its trailing `\n` when it has one.
pub(crate) struct Lines<'a> {
    rest: &'a [u8],
    too_long: bool,
}

impl<'a> Lines<'a> {
    pub(crate) fn new(input: &'a [u8]) -> Lines<'a> {
        Lines {
            rest: input,
            too_long: false,
        }
    }

    /// Whether reading stopped at a line longer than the scanner's buffer.
    pub(crate) fn too_long(&self) -> bool {
        self.too_long
    }
}

impl<'a> Iterator for Lines<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        if self.too_long || self.rest.is_empty() {
            return None;
        }
        let (line, rest) = match self.rest.iter().position(|&b| b == b'\n') {
            Some(i) if i < MAX_TOKEN_SIZE => self.rest.split_at(i + 1),
            // A last line without a newline must leave room in the buffer for the scanner to
            // notice the end of input; one that fills the buffer is an error too.
            None if self.rest.len() < MAX_TOKEN_SIZE => (self.rest, &self.rest[self.rest.len()..]),
            _ => {
                self.too_long = true;
                return None;
            }
        };
        self.rest = rest;
        Some(line)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(input: &[u8]) -> (Vec<&[u8]>, bool) {
        let mut it = Lines::new(input);
        let got: Vec<&[u8]> = it.by_ref().collect();
        (got, it.too_long())
    }

    #[test]
    fn splits_keeping_newlines() {
        assert_eq!(lines(b""), (vec![], false));
        assert_eq!(lines(b"\n"), (vec![&b"\n"[..]], false));
        assert_eq!(lines(b"a\r\nb"), (vec![&b"a\r\n"[..], &b"b"[..]], false));
    }

    #[test]
    fn line_length_limit() {
        let fits = [vec![b'a'; MAX_TOKEN_SIZE - 1], b"\n".to_vec()].concat();
        assert_eq!(lines(&fits).0.len(), 1);
        let too_long = [vec![b'a'; MAX_TOKEN_SIZE], b"\n".to_vec()].concat();
        assert_eq!(lines(&too_long), (vec![], true));
        let last_fits = vec![b'a'; MAX_TOKEN_SIZE - 1];
        assert_eq!(lines(&last_fits).0.len(), 1);
        let last_too_long = [b"x\n".to_vec(), vec![b'a'; MAX_TOKEN_SIZE]].concat();
        assert_eq!(lines(&last_too_long), (vec![&b"x\n"[..]], true));
    }
}
