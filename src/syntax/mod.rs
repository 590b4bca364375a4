//! Dockerfile text to instruction nodes, exactly as BuildKit's `frontend/dockerfile/parser` does it.
//!
//! **In:** the Dockerfile's bytes. **Out:** a [`Dockerfile`]: the parser directives (`syntax`,
//! `escape`, `check`), the escape token, one [`Node`] per instruction (keyword, leading
//! `--flags`, arguments, JSON form, `ONBUILD` trigger, heredoc bodies, line range, doc comments)
//! and soft [`Warning`]s. [`Dockerfile::dump`] prints BuildKit's `AST.Dump()` format, which the
//! conformance tests compare byte for byte.
//!
//! Handled here: a UTF-8 byte order mark, comments (dropped, also inside continued
//! instructions), continuation lines with the escape token, empty continuation lines (skipped,
//! with a warning), the 64 KiB line limit, heredocs in `RUN`/`COPY`/`ADD`, the JSON and shell
//! forms, each instruction's argument rules, and [`detect_syntax`] for the `# syntax=` forwarding
//! decision. Bytes that are not valid UTF-8 are read lossily (as U+FFFD).
//!
//! **Not done here:** validating instructions or their flags (unknown keywords are kept, flags are
//! not checked), variable expansion and quote removal, and stage structure. Those belong to the
//! layers that read these nodes. The parser fails only where BuildKit's `parser.Parse` fails.
//!
//! ```
//! use stager::syntax;
//!
//! let dockerfile = syntax::parse(b"FROM scratch\n").unwrap();
//! assert_eq!(dockerfile.nodes[0].keyword, "from");
//! assert_eq!(dockerfile.nodes[0].args, ["scratch"]);
//! assert_eq!(dockerfile.dump(), r#"(from "scratch")"#);
//! ```

mod args;
mod ast;
mod directives;
mod error;
mod flags;
mod goquote;
mod gostr;
mod heredoc;
mod instruction;
mod json;
mod parser;
mod scanner;
mod shell_words;
mod unicode_print;

pub use ast::{
    Directive, Directives, Dockerfile, Heredoc, Node, Warning, WarningKind, chomp_heredoc_content,
};
pub use directives::{detect_syntax, syntax_reference};
pub use error::{Error, ErrorKind};
/// Go's `strconv.Quote` and `%q` of a `[]string`, shared with `convert`'s history strings.
pub(crate) use goquote::{quote as go_quote, quote_slice as go_quote_slice};
pub use heredoc::parse_heredoc;
pub(crate) use instruction::KEYWORDS;

/// Parses a Dockerfile: parser directives (`syntax`, `escape`, `check`), BOM, comments,
/// continuations, heredocs, JSON versus shell form, leading `--flags`. Fails only where
/// BuildKit's `parser.Parse` fails.
pub fn parse(input: &[u8]) -> Result<Dockerfile, Error> {
    parser::parse(input)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    /// Pieces of Dockerfile syntax, so that random inputs reach heredocs, JSON, flags and directives.
    fn fragment() -> impl Strategy<Value = Vec<u8>> {
        let pieces: Vec<&'static [u8]> = vec![
            b"FROM ",
            b"RUN ",
            b"COPY ",
            b"ADD ",
            b"ENV ",
            b"LABEL ",
            b"ARG ",
            b"ONBUILD ",
            b"HEALTHCHECK ",
            b"CMD ",
            b"# escape=`\n",
            b"# syntax=x\n",
            b"#",
            b"<<",
            b"<<-",
            b"EOF",
            b"3",
            b"\\",
            b"`",
            b"\n",
            b"\r\n",
            b" ",
            b"\t",
            b"\"",
            b"'",
            b"[",
            b"]",
            b",",
            b"--",
            b"=",
            b"$",
            b"${",
            b"}",
            b":-",
            b"/",
            b"\xEF\xBB\xBF",
            b"\xff",
            b"\xc3",
            b"\xa0",
            b"\0",
            b"\\u00",
            b"-",
        ];
        prop_oneof![
            3 => proptest::sample::select(pieces).prop_map(<[u8]>::to_vec),
            1 => proptest::collection::vec(any::<u8>(), 0..8),
        ]
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(input in proptest::collection::vec(any::<u8>(), 0..512)) {
            if let Ok(df) = super::parse(&input) {
                let _ = df.dump();
            }
            let _ = super::detect_syntax(&input);
        }

        #[test]
        fn dockerfile_like_input_never_panics(parts in proptest::collection::vec(fragment(), 0..64)) {
            let input = parts.concat();
            if let Ok(df) = super::parse(&input) {
                let _ = df.dump();
                for node in &df.nodes {
                    prop_assert!(node.start_line <= node.end_line);
                }
            }
            let _ = super::detect_syntax(&input);
        }
    }
}
