//! One logical line to one [`Node`]: keyword, flags, and the keyword's argument parser (BuildKit's
//! `newNodeFromLine` and its dispatch table).

use std::borrow::Cow;

use super::args::{self, Args};
use super::ast::Node;
use super::error::ErrorKind;
use super::flags::{Split, split_command};
use super::gostr::to_lower;

/// How many `ONBUILD` keywords may nest inside another `ONBUILD`.
///
/// BuildKit's parser accepts any depth, and its instruction layer then rejects every chain with
/// "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed". Each level keeps its own copy of the
/// rest of the line, so an unbounded chain costs quadratic memory; past this depth the parser
/// reports that same error itself.
const MAX_ONBUILD_NESTING: usize = 16;

/// Parses one logical line into a node; `ONBUILD` nests its trigger as `sub`. The line becomes the
/// node's `original`.
pub(crate) fn node_from_line(
    line: String,
    escape: char,
    comments: Vec<String>,
) -> Result<Node, ErrorKind> {
    // The enclosing `ONBUILD`s, outermost first: (keyword, original text, flags). Plain
    // instructions leave it empty, so it never allocates for them.
    let mut levels: Vec<(Cow<'static, str>, String, Vec<String>)> = Vec::new();
    let mut text = line;
    let mut node = loop {
        let Split {
            keyword,
            flags,
            rest,
        } = split_command(&text, escape);
        let keyword = lower_keyword(keyword);
        if keyword == "onbuild" && !rest.is_empty() {
            if levels.len() > MAX_ONBUILD_NESTING {
                return Err(ErrorKind::OnbuildChain);
            }
            let rest = rest.into_owned();
            levels.push((keyword, std::mem::replace(&mut text, rest), flags));
            continue;
        }
        let Args { values, json } = dispatch(&keyword, &rest, escape)?;
        break Node {
            keyword,
            original: text,
            flags,
            args: values,
            json,
            sub: None,
            heredocs: Vec::new(),
            start_line: 0,
            end_line: 0,
            prev_comment: Vec::new(),
        };
    };
    while let Some((keyword, original, flags)) = levels.pop() {
        node = Node {
            keyword,
            original,
            flags,
            args: Vec::new(),
            json: false,
            sub: Some(Box::new(node)),
            heredocs: Vec::new(),
            start_line: 0,
            end_line: 0,
            prev_comment: Vec::new(),
        };
    }
    node.prev_comment = comments;
    Ok(node)
}

/// The instructions BuildKit knows, lower-cased.
pub(crate) const KEYWORDS: [&str; 18] = [
    "add",
    "arg",
    "cmd",
    "copy",
    "entrypoint",
    "env",
    "expose",
    "from",
    "healthcheck",
    "label",
    "maintainer",
    "onbuild",
    "run",
    "shell",
    "stopsignal",
    "user",
    "volume",
    "workdir",
];

/// `keyword` lower-cased: a known one as its static text, any other as a new string.
fn lower_keyword(keyword: &str) -> Cow<'static, str> {
    match KEYWORDS.iter().find(|k| k.eq_ignore_ascii_case(keyword)) {
        Some(known) => Cow::Borrowed(known),
        None => Cow::Owned(to_lower(keyword)),
    }
}

/// The argument parser for `keyword` (lower-cased); unknown keywords get one empty argument.
fn dispatch(keyword: &str, rest: &str, escape: char) -> Result<Args, ErrorKind> {
    Ok(match keyword {
        "add" | "copy" | "volume" => args::maybe_json_to_list(rest)?,
        "arg" => args::name_or_name_val(rest, escape),
        "cmd" | "entrypoint" | "run" | "shell" => args::maybe_json(rest)?,
        "env" => args::name_val(rest, "ENV", escape)?,
        "label" => args::name_val(rest, "LABEL", escape)?,
        "expose" | "from" => args::whitespace_delimited(rest),
        "healthcheck" => args::health_config(rest)?,
        "maintainer" | "stopsignal" | "user" | "workdir" => args::single_string(rest),
        // An ONBUILD with nothing after it has no trigger.
        "onbuild" => Args::default(),
        _ => Args {
            values: vec![String::new()],
            json: false,
        },
    })
}

/// Whether heredocs after this node are read: `RUN`, `COPY`, `ADD` (directly or as an `ONBUILD`
/// trigger), and not in the JSON form.
pub(crate) fn can_contain_heredoc(node: &Node) -> bool {
    let node = match (&*node.keyword, &node.sub) {
        ("onbuild", Some(sub)) => sub,
        _ => node,
    };
    matches!(&*node.keyword, "run" | "copy" | "add") && !node.json
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Known keywords are their static text in any case; others are lower-cased copies.
    #[test]
    fn keywords_lower_cased() {
        assert!(matches!(lower_keyword("RuN"), Cow::Borrowed("run")));
        assert!(matches!(
            lower_keyword("HEALTHCHECK"),
            Cow::Borrowed("healthcheck")
        ));
        assert_eq!(lower_keyword("FOO-Bar"), "foo-bar");
        assert!(matches!(lower_keyword("İNFO"), Cow::Owned(_)));
    }

    fn dump(line: &str) -> String {
        node_from_line(line.to_string(), '\\', Vec::new())
            .map_or_else(|e| format!("error: {e}"), |n| n.dump())
    }

    #[test]
    fn lines_table() {
        let cases = [
            ("FROM a AS b", r#"from "a" "AS" "b""#),
            ("from\ta", r#"from "a""#),
            ("RUN", "run"),
            (
                "RUN echo hi # not a comment",
                r#"run "echo hi # not a comment""#,
            ),
            ("Run [\"a\"]", r#"run "a""#),
            ("ONBUILD RUN echo", r#"onbuild (run "echo")"#),
            ("ONBUILD", "onbuild"),
            (
                "ONBUILD --x ONBUILD --y COPY a b",
                r#"onbuild ["--x"] (onbuild ["--y"] (copy "a" "b"))"#,
            ),
            ("FOO bar baz", r#"foo """#),
            ("ARG a=\"1 2\" b", r#"arg "a=\"1 2\"" "b""#),
            ("ENV a b c", r#"env "a" "b c" """#),
            (
                "LABEL \"a.b\"=\"c d\" e=f",
                r#"label "\"a.b\"" "\"c d\"" "=" "e" "f" "=""#,
            ),
            ("EXPOSE 80 53/udp", r#"expose "80" "53/udp""#),
            ("USER  me ", r#"user "me""#),
            ("HEALTHCHECK NONE", r#"healthcheck "NONE""#),
            ("ENV PATH", "error: ENV must have two arguments"),
            (
                "LABEL a=b c",
                "error: Syntax error - can't find = in \"c\". Must be of the form: name=value",
            ),
            (
                "ONBUILD CMD [1]",
                "error: when using JSON array syntax, arrays must be comprised of strings only",
            ),
        ];
        for (line, want) in cases {
            assert_eq!(dump(line), want, "{line:?}");
        }
    }

    #[test]
    fn node_fields() {
        let n =
            node_from_line("ONBUILD RUN [\"a\"]".into(), '\\', vec!["doc".into()]).expect("parses");
        assert_eq!(n.original, "ONBUILD RUN [\"a\"]");
        assert_eq!(n.prev_comment, vec!["doc".to_string()]);
        assert!(!n.json);
        let sub = n.sub.as_deref().expect("has a trigger");
        assert_eq!(
            (sub.original.as_str(), sub.json, sub.prev_comment.len()),
            ("RUN [\"a\"]", true, 0)
        );
        assert_eq!(n.keyword_as_written(), "ONBUILD");
    }

    #[test]
    fn heredoc_capable() {
        let cases = [
            ("RUN x", true),
            ("copy x y", true),
            ("ADD x y", true),
            ("RUN [\"x\"]", false),
            ("USER x", false),
            ("ONBUILD RUN x", true),
            ("ONBUILD ADD [\"a\", \"b\"]", false),
            ("ONBUILD USER x", false),
            ("ONBUILD", false),
        ];
        for (line, want) in cases {
            let node = node_from_line(line.to_string(), '\\', Vec::new()).expect("parses");
            assert_eq!(can_contain_heredoc(&node), want, "{line}");
        }
    }

    #[test]
    fn onbuild_nesting_limit() {
        let line = format!("{}RUN x", "ONBUILD ".repeat(MAX_ONBUILD_NESTING + 1));
        let node = node_from_line(line, '\\', Vec::new()).expect("parses");
        let want = format!(
            "{}run \"x\"{}",
            "onbuild (".repeat(MAX_ONBUILD_NESTING + 1),
            ")".repeat(MAX_ONBUILD_NESTING + 1)
        );
        assert_eq!(node.dump(), want);
        let line = format!("{}RUN x", "ONBUILD ".repeat(100_000));
        assert_eq!(
            node_from_line(line, '\\', Vec::new()),
            Err(ErrorKind::OnbuildChain)
        );
    }
}
