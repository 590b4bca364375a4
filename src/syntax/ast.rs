//! The parse result: instructions as BuildKit's `parser.Node` holds them, and its `Dump` format.

use std::borrow::Cow;

use super::goquote::{quote, quote_slice};
use super::gostr::{split_first_token, trim_space};

/// A parsed Dockerfile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dockerfile {
    /// The parser directives found at the top of the file.
    pub directives: Directives,
    /// The escape token in force: `\` unless an `# escape=` directive chose `` ` ``.
    pub escape: char,
    /// Top-level instructions in source order.
    pub nodes: Vec<Node>,
    /// Soft findings that do not stop the parse.
    pub warnings: Vec<Warning>,
}

/// The parser directives `syntax`, `escape` and `check`, each at most once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Directives {
    /// `# syntax=…`: the frontend image to use.
    pub syntax: Option<Directive>,
    /// `# escape=…`: `\` or `` ` ``.
    pub escape: Option<Directive>,
    /// `# check=…`: lint options.
    pub check: Option<Directive>,
}

/// One parser directive's value (case kept, surrounding blanks trimmed) and its 1-based line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Directive {
    /// The text after `=`.
    pub value: String,
    /// The line it was found on, counting from 1.
    pub line: usize,
}

/// One instruction, as BuildKit's `parser.Node` with its `Next` chain flattened into `args`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// The instruction keyword, lower-cased (`run`); unknown keywords are kept, lower-cased.
    /// Known keywords are static text: no allocation per line.
    pub keyword: Cow<'static, str>,
    /// The instruction text after joining continuation lines (BuildKit's `Node.Original`).
    pub original: String,
    /// Leading `--flags`, quotes removed and escapes resolved, e.g. `--from=build`.
    pub flags: Vec<String>,
    /// The argument values (BuildKit's `Next` chain); `ENV` and `LABEL` give key, value, separator
    /// triples; unknown instructions give one empty string.
    pub args: Vec<String>,
    /// The exec (JSON array) form was used.
    pub json: bool,
    /// `ONBUILD`'s trigger instruction.
    pub sub: Option<Box<Node>>,
    /// Heredoc bodies that follow the instruction, in the order their `<<` words appear.
    pub heredocs: Vec<Heredoc>,
    /// First source line, 1-based, inclusive.
    pub start_line: usize,
    /// Last source line, 1-based, inclusive; heredoc bodies count.
    pub end_line: usize,
    /// Comment lines above the instruction (BuildKit's `PrevComment`), `#` and blanks removed.
    pub prev_comment: Vec<String>,
}

/// A heredoc body attached to `RUN`, `COPY` or `ADD`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heredoc {
    /// The delimiter word with its quotes removed.
    pub name: String,
    /// The lines between the instruction and the terminator, newlines included, tabs not chomped.
    pub content: String,
    /// No part of the delimiter was quoted, so variables in the body are expanded.
    pub expand: bool,
    /// The `<<-` form: leading tabs are stripped from the body (see [`Heredoc::chomped_content`]).
    pub chomp: bool,
    /// The file descriptor written before `<<`, e.g. 3 in `3<<EOF`; 0 when absent.
    pub file_descriptor: u32,
}

/// A soft finding: the Dockerfile parses, but something in it is discouraged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// Which finding this is.
    pub kind: WarningKind,
    /// BuildKit's short message, e.g. `Empty continuation line found in: RUN a b`.
    pub message: String,
    /// First line of the location BuildKit reports, 1-based.
    pub start_line: usize,
    /// Last line of the location BuildKit reports, 1-based, inclusive.
    pub end_line: usize,
}

/// The kinds of parser warnings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum WarningKind {
    /// A blank line inside a continued instruction (lint rule `NoEmptyContinuation`).
    EmptyContinuationLine,
}

impl WarningKind {
    /// BuildKit's detail text for this warning.
    pub fn detail(self) -> &'static str {
        match self {
            WarningKind::EmptyContinuationLine => {
                "Empty continuation lines will become errors in a future release"
            }
        }
    }

    /// The documentation page BuildKit links for this warning.
    pub fn url(self) -> &'static str {
        match self {
            WarningKind::EmptyContinuationLine => {
                "https://docs.docker.com/go/dockerfile/rule/no-empty-continuation/"
            }
        }
    }
}

impl Dockerfile {
    /// BuildKit's `AST.Dump()`: one `(keyword …)` line per instruction, no trailing newline.
    pub fn dump(&self) -> String {
        let lines: Vec<String> = self
            .nodes
            .iter()
            .map(|n| format!("({})", n.dump()))
            .collect();
        lines.join("\n")
    }
}

impl Node {
    /// BuildKit's `Node.Dump()` for one instruction: `run "echo hi"`, `onbuild (run "x")`.
    pub fn dump(&self) -> String {
        // Walk the ONBUILD chain in a loop rather than by recursion.
        let mut out = String::new();
        let mut depth = 0;
        let mut node = self;
        loop {
            out.push_str(&node.keyword);
            if !node.flags.is_empty() {
                out.push(' ');
                out.push_str(&quote_slice(&node.flags));
            }
            match &node.sub {
                Some(sub) => {
                    out.push_str(" (");
                    depth += 1;
                    node = sub;
                }
                None => {
                    for arg in &node.args {
                        out.push(' ');
                        out.push_str(&quote(arg));
                    }
                    break;
                }
            }
        }
        out.push_str(&")".repeat(depth));
        trim_space(&out).to_string()
    }

    /// The keyword as written in the source, e.g. `Run` (the casing lint needs it).
    pub fn keyword_as_written(&self) -> &str {
        split_first_token(trim_space(&self.original)).0
    }
}

impl Heredoc {
    /// The body with leading tabs removed from every line, as `<<-` asks (BuildKit's
    /// `ChompHeredocContent`).
    pub fn chomped_content(&self) -> String {
        chomp_heredoc_content(&self.content)
    }
}

/// Removes the leading tabs of every line (BuildKit's `ChompHeredocContent`).
pub fn chomp_heredoc_content(content: &str) -> String {
    content
        .split_inclusive('\n')
        .map(|line| line.trim_start_matches('\t'))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(keyword: &str, flags: &[&str], args: &[&str]) -> Node {
        Node {
            keyword: keyword.to_string().into(),
            original: String::new(),
            flags: flags.iter().map(|s| s.to_string()).collect(),
            args: args.iter().map(|s| s.to_string()).collect(),
            json: false,
            sub: None,
            heredocs: Vec::new(),
            start_line: 1,
            end_line: 1,
            prev_comment: Vec::new(),
        }
    }

    #[test]
    fn dump_forms() {
        assert_eq!(node("cmd", &[], &[]).dump(), "cmd");
        assert_eq!(node("from", &[], &["a", "b"]).dump(), r#"from "a" "b""#);
        assert_eq!(
            node("copy", &["--from=x"], &["a"]).dump(),
            r#"copy ["--from=x"] "a""#
        );
        assert_eq!(node("", &[], &[""]).dump(), r#""""#);
        let mut onbuild = node("onbuild", &[], &[]);
        onbuild.sub = Some(Box::new(node("run", &[], &["x"])));
        assert_eq!(onbuild.dump(), r#"onbuild (run "x")"#);
    }

    #[test]
    fn chomp() {
        assert_eq!(
            chomp_heredoc_content("\thello\n\t\tworld\n x\t\n"),
            "hello\nworld\n x\t\n"
        );
    }
}
