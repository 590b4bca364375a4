//! BuildKit's parser conformance vectors (`tests/conformance/parser*`): AST dumps, rejected
//! files, and line numbers. See `tests/conformance/README.md` for where they come from.

use std::fs;
use std::path::{Path, PathBuf};

use stager::syntax::{self, ErrorKind};

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/conformance");

fn data(sub: &str) -> PathBuf {
    let path = Path::new(DATA).join(sub);
    assert!(
        path.is_dir(),
        "conformance data missing: {} does not exist",
        path.display()
    );
    path
}

fn case_dirs(sub: &str) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = fs::read_dir(data(sub))
        .unwrap_or_else(|e| panic!("reading {sub}: {e}"))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs
}

fn read(path: &Path) -> Vec<u8> {
    fs::read(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

#[test]
fn parser_cases_dump_like_buildkit() {
    let dirs = case_dirs("parser");
    assert_eq!(dirs.len(), 33, "expected 33 parser cases");
    let mut failures = Vec::new();
    for dir in &dirs {
        let name = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let want = String::from_utf8(read(&dir.join("result"))).expect("result is UTF-8");
        match syntax::parse(&read(&dir.join("Dockerfile"))) {
            Ok(df) => {
                let got = df.dump() + "\n";
                if got != want {
                    failures.push(format!("{name}:\n--- want\n{want}--- got\n{got}"));
                }
            }
            Err(e) => failures.push(format!("{name}: parse failed: {e}")),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ:\n{}",
        failures.len(),
        dirs.len(),
        failures.join("\n")
    );
}

#[test]
fn parser_negative_cases_fail_with_buildkit_messages() {
    let cases = [
        (
            "empty_dockerfile",
            ErrorKind::NoInstructions,
            "file with no instructions",
        ),
        (
            "env_no_value",
            ErrorKind::MissingValue("ENV".into()),
            "ENV must have two arguments",
        ),
        (
            "only_comments",
            ErrorKind::NoInstructions,
            "file with no instructions",
        ),
        (
            "shykes-nested-json",
            ErrorKind::NotStringArray,
            "when using JSON array syntax, arrays must be comprised of strings only",
        ),
    ];
    let dirs = case_dirs("parser-negative");
    assert_eq!(
        dirs.len(),
        cases.len(),
        "expected {} negative cases",
        cases.len()
    );
    for (name, kind, message) in cases {
        let input = read(&data("parser-negative").join(name).join("Dockerfile"));
        let err = syntax::parse(&input).expect_err(name);
        assert_eq!(err.kind(), &kind, "{name}");
        assert_eq!(err.to_string(), message, "{name}");
    }
}

#[test]
fn parser_negative_line_numbers() {
    let dir = data("parser-negative");
    let err = syntax::parse(&read(&dir.join("env_no_value/Dockerfile"))).expect_err("ENV PATH");
    assert_eq!((err.start_line(), err.end_line()), (Some(3), Some(3)));
    let err = syntax::parse(&read(&dir.join("only_comments/Dockerfile"))).expect_err("comments");
    assert_eq!((err.start_line(), err.end_line()), (Some(3), Some(3)));
    let err = syntax::parse(&read(&dir.join("empty_dockerfile/Dockerfile"))).expect_err("empty");
    assert_eq!((err.start_line(), err.end_line()), (None, None));
}

#[test]
fn parser_line_numbers() {
    let df = syntax::parse(&read(&data("parser-line").join("Dockerfile"))).expect("parses");
    let ranges: Vec<(usize, usize)> = df
        .nodes
        .iter()
        .map(|n| (n.start_line, n.end_line))
        .collect();
    assert_eq!(ranges, [(5, 5), (11, 12), (17, 31)]);
    // Line 1 is `# ESCAPE=\`: the directive key is case-insensitive.
    let escape = df.directives.escape.as_ref().expect("escape directive");
    assert_eq!((escape.value.as_str(), escape.line), ("\\", 1));
    assert_eq!(df.escape, '\\');
    assert_eq!(df.warnings.len(), 1, "the RUN has empty continuation lines");
    assert_eq!(
        (df.warnings[0].start_line, df.warnings[0].end_line),
        (31, 31)
    );
}

/// Every vector is byte for byte what BuildKit v0.32.2 has: `SHA256SUMS` was written when the
/// files were checked against the upstream blobs, and any later edit (an editor stripping the
/// trailing blanks `wordsTest` depends on, a line-ending conversion) must fail here, not as an
/// odd parser or lexer failure.
#[test]
fn conformance_files_are_unchanged() {
    use sha2::{Digest, Sha256};
    let sums = String::from_utf8(read(&Path::new(DATA).join("SHA256SUMS"))).expect("UTF-8");
    let mut checked = 0;
    let mut failures = Vec::new();
    for line in sums.lines() {
        let (want, file) = line.split_once("  ").expect("`SUM  FILE` lines");
        let got: String = Sha256::digest(read(&Path::new(DATA).join(file)))
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        if got != want {
            failures.push(file.to_owned());
        }
        checked += 1;
    }
    assert_eq!(
        checked, 73,
        "SHA256SUMS lists the 73 files of BuildKit's vectors"
    );
    assert!(failures.is_empty(), "changed since checked: {failures:?}");
}
