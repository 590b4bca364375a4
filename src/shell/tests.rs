//! Table tests for the public API: error texts, options, matches, and a no-panic property.

use std::collections::BTreeSet;

use proptest::prelude::*;

use super::*;

fn env() -> Env {
    Env::from_slice(&["PWD=/home", "SHELL=bash", "KOREAN=한국어", "NULL="]).windows(false)
}

fn unix(escape: char) -> Lexer {
    Lexer {
        windows: false,
        ..Lexer::new(escape)
    }
}

/// Runs `(input, expected)` pairs through `lexer`; an expected `Err` holds the error text.
fn check(lexer: &Lexer, cases: &[(&str, Result<&str, &str>)]) {
    for &(input, want) in cases {
        let got = lexer.process_word(input, &env());
        let got = got.as_deref().map_err(|err| err.to_string());
        assert_eq!(got, want.map_err(str::to_owned), "input {input:?}");
    }
}

#[test]
fn error_texts() {
    check(
        &unix('\\'),
        &[
            ("${}", Err("syntax error: bad substitution")),
            ("${:x}", Err("syntax error: bad substitution")),
            ("${{x}", Err("syntax error: bad substitution")),
            ("${", Err("syntax error: missing '}'")),
            ("${a:-b", Err("syntax error: missing '}'")),
            ("${a:-\"b", Err("syntax error: missing '}'")),
            ("${a:", Err("syntax error: missing '}'")),
            ("${a:-${b:?msg}", Err("syntax error: missing '}'")),
            ("${a:-${b:?msg}}", Err("b: msg")),
            ("${a/b", Err("syntax error: missing '/' in ${}")),
            ("${a//b}", Err("syntax error: missing '/' in ${}")),
            ("${a/b/c", Err("syntax error: missing '}'")),
            (
                "${a",
                Err("unsupported modifier (\u{FFFD}) in substitution"),
            ),
            ("${a=b}", Err("unsupported modifier (=) in substitution")),
            ("${a:=b}", Err("unsupported modifier (:=) in substitution")),
            ("${a:b}", Err("unsupported modifier (:b) in substitution")),
            ("${a:#b}", Err("unsupported modifier (:#) in substitution")),
            ("${a:%%b}", Err("unsupported modifier (:%) in substitution")),
            ("he${.}", Err("unsupported modifier (.) in substitution")),
            ("${X?}", Err("X: is not allowed to be unset")),
            ("${X:?}", Err("X: is not allowed to be unset")),
            ("${NULL:?}", Err("NULL: is not allowed to be empty")),
            ("${NULL:?must be set}", Err("NULL: must be set")),
            ("${X?oops $SHELL}", Err("X: oops bash")),
            (
                "${PWD#\\x}",
                Err("invalid pattern (\\x) in substitution: invalid escape '\\x'"),
            ),
            (
                "${PWD%a\\x}",
                Err("invalid pattern (\\xa) in substitution: invalid escape '\\x'"),
            ),
            (
                "${X/\\x/}",
                Err("invalid pattern (\\x) in substitution: invalid escape '\\x'"),
            ),
            (
                "'abc",
                Err("unexpected end of statement while looking for matching single-quote"),
            ),
            (
                "\"abc\\",
                Err("unexpected end of statement while looking for matching double-quote"),
            ),
        ],
    );
    let err = unix('\\').process_word("a${}", &env()).unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::BadSubstitution);
    assert_eq!(err.word(), "a${}");
    assert_eq!(
        err.wrapped(),
        "failed to process \"a${}\": syntax error: bad substitution"
    );
}

#[test]
fn limits() {
    let lexer = unix('\\');
    let nested = |depth: usize| format!("{}x{}", "${a:-".repeat(depth), "}".repeat(depth));
    assert_eq!(
        lexer.process_word(&nested(MAX_NESTING), &env()).as_deref(),
        Ok("x")
    );
    let err = lexer
        .process_word(&nested(MAX_NESTING + 1), &env())
        .unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::TooDeep { limit: MAX_NESTING });

    let big = Env::from_pairs([("A", "x".repeat(5000))]);
    let err = lexer.process_word("${A//x/$A}", &big).unwrap_err();
    assert_eq!(
        err.kind(),
        &ErrorKind::TooLong {
            limit: MAX_EXPANDED_LEN
        }
    );
    // Each level multiplies the length by 1000; the budget stops it at the third.
    let small = Env::from_pairs([("A", "x".repeat(1000))]);
    let err = lexer
        .process_word("${A//x/${A//x/${A//x/x}}}", &small)
        .unwrap_err();
    assert_eq!(
        err.kind(),
        &ErrorKind::TooLong {
            limit: MAX_EXPANDED_LEN
        }
    );
}

#[test]
fn patterns() {
    check(
        &unix('\\'),
        &[
            ("${PWD#/}", Ok("home")),
            ("${PWD#*o}", Ok("me")),
            ("${PWD##*[o]}", Ok("/home")),
            ("${PWD%e}", Ok("/hom")),
            ("${PWD%%/*}", Ok("")),
            ("${SHELL/?/X}", Ok("Xash")),
            ("${SHELL//[a-z]/X}", Ok("bash")),
            ("${SHELL//a*/\\$0-$$}", Ok("b\\ash-")),
            ("${SHELL/a*/\\$0}", Ok("b\\$0")),
            ("${X/a/b}", Ok("")),
            ("${X#}", Ok("")),
        ],
    );
}

#[test]
fn backtick_escape() {
    check(
        &unix('`'),
        &[
            ("he`$PWD", Ok("he$PWD")),
            ("he\\$PWD", Ok("he\\/home")),
            ("C:\\path\\to", Ok("C:\\path\\to")),
            ("\"a`\"b\"", Ok("a\"b")),
            ("\"a`b\"", Ok("a`b")),
            ("a``b", Ok("a`b")),
            ("hello`", Ok("hello")),
            ("${X:-`}}", Ok("}")),
            // The kept escape token is a literal in the pattern, as in BuildKit.
            ("${PWD%`e}", Ok("/home")),
        ],
    );
}

#[test]
fn raw_quotes_and_escapes() {
    let raw_quotes = Lexer {
        raw_quotes: true,
        ..unix('\\')
    };
    check(
        &raw_quotes,
        &[
            ("\"a b\" 'c'", Ok("\"a b\" 'c'")),
            ("'$PWD'", Ok("'$PWD'")),
            ("\"$PWD\"", Ok("\"/home\"")),
            ("a\\ b", Ok("a b")),
        ],
    );
    let raw_escapes = Lexer {
        raw_escapes: true,
        ..unix('\\')
    };
    check(
        &raw_escapes,
        &[
            ("a\\ b", Ok("a\\ b")),
            ("\"a\\\"b\"", Ok("a\\\"b")),
            // BuildKit writes a kept escape twice when it escapes nothing.
            ("\"a\\xb\"", Ok("a\\\\xb")),
            ("a\\", Ok("a\\")),
        ],
    );
    let no_quotes = Lexer {
        skip_process_quotes: true,
        ..unix('\\')
    };
    check(
        &no_quotes,
        &[
            ("\"a $PWD\"", Ok("\"a /home\"")),
            ("'$SHELL'", Ok("'bash'")),
        ],
    );
    assert_eq!(
        no_quotes.process_words("\"a b\"", &env()).unwrap(),
        ["\"a", "b\""]
    );
}

#[test]
fn skip_unset_env() {
    let lexer = Lexer {
        skip_unset_env: true,
        ..unix('\\')
    };
    check(
        &lexer,
        &[
            ("$X", Ok("$X")),
            ("${X}", Ok("${X}")),
            ("${X:-a}", Ok("${X:-a}")),
            ("${X-$PWD}", Ok("${X-/home}")),
            ("${X:?m}", Ok("${X:?m}")),
            ("${X:YY}", Ok("${X:YY}")),
            ("${X/a/b}", Ok("${X/a/b}")),
            ("${X//a/b}", Ok("${X/a/b}")),
            ("${X%%a}", Ok("${X%%a}")),
            ("$PWD$X${NULL:-d}", Ok("/home$Xd")),
            ("${NULL:?m}", Err("NULL: m")),
        ],
    );
}

#[test]
fn windows_rules() {
    let lexer = Lexer {
        windows: true,
        ..Lexer::new('\\')
    };
    check(
        &lexer,
        &[
            ("$pwd", Ok("/home")),
            ("${Shell:+x}", Ok("x")),
            ("$nope", Ok("")),
        ],
    );
    let folded = Env::from_slice(&["Path=a"]).windows(true);
    assert_eq!(
        unix('\\').process_word("$PATH", &folded).as_deref(),
        Ok("a")
    );
}

#[test]
fn words() {
    let lexer = unix('\\');
    let cases: &[(&str, &[&str])] = &[
        ("a  b\tc", &["a", "b", "c"]),
        ("\"\" a", &["a"]),
        ("'a  b'c d", &["a  bc", "d"]),
        ("a\\ b", &["a b"]),
        ("$SHELL$PWD x", &["bash/home", "x"]),
        // BuildKit's ProcessWords loses "ab" here (it shares one buffer between nested
        // scans); stager keeps it, like a shell.
        ("ab${X:-y}", &["aby"]),
    ];
    for &(input, want) in cases {
        assert_eq!(
            lexer.process_words(input, &env()).unwrap(),
            want,
            "input {input:?}"
        );
    }
}

#[test]
fn matches_and_unmatched() {
    // (input, env, expected word or None for an error, matched, unmatched)
    type Case<'a> = (
        &'a str,
        &'a [(&'a str, &'a str)],
        Option<&'a str>,
        &'a [&'a str],
        &'a [&'a str],
    );
    let cases: &[Case] = &[
        ("x", &[("DUMMY", "dummy")], Some("x"), &[], &[]),
        (
            "x ${UNUSED}",
            &[("DUMMY", "dummy")],
            Some("x "),
            &[],
            &["UNUSED"],
        ),
        ("x ${FOO}", &[("FOO", "y")], Some("x y"), &["FOO"], &[]),
        (
            "${FOO-aaa} ${BAR-bbb} ${BAZ-ccc}",
            &[("FOO", "xxx"), ("BAR", "")],
            Some("xxx  ccc"),
            &["BAR", "FOO"],
            &["BAZ"],
        ),
        (
            "${FOO:-aaa} ${BAR:-bbb} ${BAZ:-ccc}",
            &[("FOO", "xxx"), ("BAR", "")],
            Some("xxx bbb ccc"),
            &["BAR", "FOO"],
            &["BAZ"],
        ),
        (
            "${FOO+aaa} ${BAR+bbb} ${BAZ+ccc}",
            &[("FOO", "xxx"), ("BAR", "")],
            Some("aaa bbb "),
            &["BAR", "FOO"],
            &["BAZ"],
        ),
        (
            "${FOO:+aaa} ${BAR:+bbb} ${BAZ:+ccc}",
            &[("FOO", "xxx"), ("BAR", "")],
            Some("aaa  "),
            &["BAR", "FOO"],
            &["BAZ"],
        ),
        ("${BAR?bbb}", &[("BAR", "")], Some(""), &["BAR"], &[]),
        ("${FOO:-}", &[], Some(""), &[], &["FOO"]),
        (
            "${FOO#$BAR}",
            &[("FOO", "xxyy"), ("BAR", "x")],
            Some("xyy"),
            &["BAR", "FOO"],
            &[],
        ),
        (
            "${ABC:-.}${FOO%x}${ABC:-.}",
            &[("FOO", "xxyy")],
            Some(".xxyy."),
            &["FOO"],
            &["ABC"],
        ),
        (
            "${FOO/$N/$R} - ${FOO//$N/$R}",
            &[("FOO", "/a/foo/b/c.txt"), ("N", "/?/"), ("R", "/")],
            Some("/foo/b/c.txt - /foo/c.txt"),
            &["FOO", "N", "R"],
            &[],
        ),
        (
            "${FOO/$BAR/ww}",
            &[("FOO", "xxyy"), ("BAR", "")],
            Some("wwxxyy"),
            &["BAR", "FOO"],
            &[],
        ),
        ("${FOO///}", &[], Some(""), &[], &["FOO"]),
        ("$1 $@ ${#}", &[], Some("  "), &[], &["#", "1", "@"]),
        ("${FOO=aaa}", &[("FOO", "xxx")], None, &[], &[]),
    ];
    let lexer = unix('\\');
    for &(input, vars, word, matched, unmatched) in cases {
        let env = Env::from_pairs(vars.iter().copied());
        let got = lexer.process_word_with_matches(input, &env);
        let Some(word) = word else {
            assert!(got.is_err(), "input {input:?}");
            continue;
        };
        let set = |names: &[&str]| {
            names
                .iter()
                .map(|name| name.to_string())
                .collect::<BTreeSet<_>>()
        };
        let want = Expansion {
            word: word.to_owned(),
            matched: set(matched),
            unmatched: set(unmatched),
        };
        assert_eq!(got, Ok(want), "input {input:?}");
    }
}

#[test]
fn byte_order_mark_is_dropped_only_at_the_start() {
    check(
        &unix('\\'),
        &[
            ("\u{FEFF}a$SHELL", Ok("abash")),
            ("a\u{FEFF}", Ok("a\u{FEFF}")),
        ],
    );
}

fn lexers() -> impl Strategy<Value = Lexer> {
    (
        prop::sample::select(vec!['\\', '`', '$', '"', '}']),
        any::<[bool; 5]>(),
    )
        .prop_map(
            |(
                escape,
                [
                    raw_quotes,
                    raw_escapes,
                    skip_unset_env,
                    skip_process_quotes,
                    windows,
                ],
            )| Lexer {
                escape,
                raw_quotes,
                raw_escapes,
                skip_unset_env,
                skip_process_quotes,
                windows,
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn never_panics_on_shell_syntax(
        word in "[-${}:+?#%/\\\\`'\"*?\\[\\] a-cA\u{FEFF}한\n]{0,48}",
        lexer in lexers(),
    ) {
        let env = Env::from_slice(&["a=a*b", "b=", "A=x y", "c=$0\\"]);
        let single = lexer.process_word(&word, &env);
        let split = lexer.process_words(&word, &env);
        let matched = lexer.process_word_with_matches(&word, &env);
        prop_assert_eq!(single.is_ok(), split.is_ok());
        prop_assert_eq!(single.ok(), matched.ok().map(|expansion| expansion.word));
    }

    #[test]
    fn never_panics_on_any_string(word in any::<String>(), lexer in lexers()) {
        let env = env();
        let _ = lexer.process_word(&word, &env);
        let _ = lexer.process_words(&word, &env);
    }
}

#[test]
fn literal_words_give_what_the_scanner_gives() {
    // process_word skips the scanner for words without `$`, quotes or escapes;
    // process_word_with_matches always scans.
    let words = [
        "",
        "plain",
        "/usr/local/bin",
        "a b\tc",
        "\u{FEFF}bom",
        "한국어",
        "it's",
        "\"q\"",
        "back\\slash",
        "back`tick",
        "{}[]*?~",
        "x\u{FEFF}y",
    ];
    for lexer in [
        unix('\\'),
        unix('`'),
        Lexer {
            skip_process_quotes: true,
            ..unix('\\')
        },
    ] {
        for word in words {
            let fast = lexer.process_word(word, &env()).map_err(|e| e.to_string());
            let scanned = (lexer.process_word_with_matches(word, &env()))
                .map(|e| e.word)
                .map_err(|e| e.to_string());
            assert_eq!(fast, scanned, "{word:?}");
        }
    }
}
