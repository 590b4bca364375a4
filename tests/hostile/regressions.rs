//! Fuzzing regressions.

use super::*;
use std::path::Path;

/// Every file in `tests/regressions` (inputs found by fuzzing and minimal reproductions of
/// known bugs, described in its README.md) through the parser and the whole pipeline, within
/// the time and memory bounds. All are run; the failures are listed together.
#[test]
fn regressions() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/regressions");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.is_file() && p.extension().is_none_or(|x| x != "md"))
        .collect();
    paths.sort();
    assert!(
        !paths.is_empty(),
        "no regression inputs in {}",
        dir.display()
    );
    let mut failures = Vec::new();
    for path in paths {
        let bytes = std::fs::read(&path).expect("regression input");
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        let replay = std::panic::catch_unwind(|| {
            if let Ok(df) = stager::syntax::parse(&bytes) {
                let _ = df.dump();
            }
            let _ = pipeline_timed(&name, &bytes);
        });
        if let Err(panic) = replay {
            let text = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| format!("{name}: panicked"));
            failures.push(text);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
