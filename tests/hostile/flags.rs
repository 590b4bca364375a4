//! Flags.

use super::*;
use std::fmt::Write as _;

#[test]
fn ten_thousand_mount_flags() {
    for (what, spec) in [
        ("cache", "type=cache,target=/c{i}"),
        ("bind", "type=bind,target=/b{i},source=/s"),
        ("tmpfs", "type=tmpfs,target=/t{i}"),
        ("secret", "type=secret,id=s{i}"),
        ("same target", "type=cache,target=/same"),
    ] {
        let mut df = String::from("FROM scratch\nRUN \\\n");
        for i in 0..10_000 {
            writeln!(df, "  --mount={} \\", spec.replace("{i}", &i.to_string())).unwrap();
        }
        df.push_str("  true\n");
        let _ = pipeline_timed(&format!("10k mounts, {what}"), df.as_bytes());
    }
}

#[test]
fn ten_thousand_other_flags() {
    for flag in [
        "--network=none",
        "--security=insecure",
        "--from=x",
        "--chown=1:1",
        "--unknown=1",
        "--exclude=*.x",
    ] {
        for keyword in ["RUN", "COPY"] {
            let mut df = format!("FROM scratch\n{keyword} \\\n");
            for _ in 0..10_000 {
                writeln!(df, "  {flag} \\").unwrap();
            }
            df.push_str("  a b\n");
            let _ = pipeline_timed(&format!("10k {flag} on {keyword}"), df.as_bytes());
        }
    }
}

#[test]
fn ten_thousand_copy_sources() {
    let mut df = String::from("FROM scratch\nCOPY \\\n");
    for i in 0..10_000 {
        writeln!(df, "  src{i} \\").unwrap();
    }
    df.push_str("  /dst/\n");
    let _ = expect_ok("10k COPY sources", df.as_bytes());
}

#[test]
fn onbuild_chains_and_floods() {
    let df = format!("FROM scratch\n{}RUN x\n", "ONBUILD ".repeat(5_000));
    let _ = expect_err("ONBUILD chain", df.as_bytes());
    let mut df = String::from("FROM scratch\n");
    for i in 0..10_000 {
        writeln!(df, "ONBUILD RUN echo {i}").unwrap();
    }
    let converted = expect_ok("10k ONBUILD", df.as_bytes());
    assert_eq!(
        converted.image.config.on_build.map(|o| o.len()),
        Some(10_000)
    );
}
