//! `syntax::parse` + `Dockerfile::dump` (and `detect_syntax`) on arbitrary bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(df) = stager::syntax::parse(data) {
        let _ = df.dump();
        for node in &df.nodes {
            assert!(node.start_line <= node.end_line, "line range inverted");
        }
    }
    let _ = stager::syntax::detect_syntax(data);
});
