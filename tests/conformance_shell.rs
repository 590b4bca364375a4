//! BuildKit's shell conformance vectors (`tests/conformance/shell`), run against
//! `stager::shell` the way `lex_test.go` runs them against `shell.Lex`.

use std::path::{Path, PathBuf};

use stager::shell::{Env, Lexer};

fn data(name: &str) -> String {
    let dir = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/conformance/shell"
    ));
    let path: PathBuf = dir.join(name);
    std::fs::read_to_string(&path)
        .unwrap_or_else(|err| panic!("conformance data {} is missing: {err}", path.display()))
}

/// `envVarTest`: `PLATFORM | SOURCE | EXPECTED`, every platform's lines run with its rules.
#[test]
fn env_var_test() {
    let text = data("envVarTest");
    let env =
        Env::from_slice(&["PWD=/home", "SHELL=bash", "KOREAN=한국어", "NULL="]).windows(false);
    let mut failures = Vec::new();
    let mut counts = [0usize; 3]; // A, U, W
    for (number, line) in text.lines().enumerate() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.trim().split('|').map(str::trim).collect();
        let [platform, source, expected] = fields[..] else {
            panic!("line {}: want 3 fields: {line:?}", number + 1);
        };
        let mut lexer = Lexer::new('\\');
        lexer.windows = match platform {
            "A" => {
                counts[0] += 1;
                false
            }
            "U" => {
                counts[1] += 1;
                false
            }
            "W" => {
                counts[2] += 1;
                true
            }
            other => panic!("line {}: bad platform {other:?}", number + 1),
        };
        let got = lexer.process_word(source, &env);
        let ok = match (&got, expected) {
            (Err(_), "error") => true,
            (Ok(word), expected) => word == expected,
            (Err(_), _) => false,
        };
        if !ok {
            failures.push(format!(
                "line {}: {source:?} gave {got:?}, want {expected:?}",
                number + 1
            ));
        }
        // On Windows, A lines must hold too (none of them depends on key case).
        if platform == "A" {
            lexer.windows = true;
            if lexer.process_word(source, &env).ok() != got.as_ref().ok().cloned() {
                failures.push(format!(
                    "line {}: {source:?} differs under Windows rules",
                    number + 1
                ));
            }
        }
    }
    assert_eq!(counts, [226, 2, 2], "vector counts changed");
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// `wordsTest`: `ENV k=v` lines accumulate; `input | w1,w2,...` lines are split words.
#[test]
fn words_test() {
    let text = data("wordsTest");
    let lexer = Lexer {
        windows: false,
        ..Lexer::new('\\')
    };
    let mut env_lines: Vec<String> = Vec::new();
    let mut failures = Vec::new();
    let mut checked = 0;
    for (number, line) in text.lines().enumerate() {
        if line.starts_with('#') {
            continue;
        }
        if let Some(entry) = line.strip_prefix("ENV ") {
            env_lines.push(entry.trim_start_matches(' ').to_owned());
            continue;
        }
        let fields: Vec<&str> = line.split('|').collect();
        let [input, expected] = fields[..] else {
            panic!("line {}: want exactly one '|': {line:?}", number + 1);
        };
        let expected: Vec<&str> = expected.trim_start_matches(' ').split(',').collect();
        let env = Env::from_slice(&env_lines).windows(false);
        let got = match lexer.process_words(input.trim(), &env) {
            Ok(words) => words,
            Err(_) => vec!["error".to_owned()],
        };
        checked += 1;
        if got != expected {
            failures.push(format!(
                "line {}: {input:?} gave {got:?}, want {expected:?}",
                number + 1
            ));
        }
    }
    assert_eq!(checked, 24, "vector count changed");
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
