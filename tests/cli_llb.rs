//! `stager llb` converts for a current daemon unless told otherwise (`--daemon`, `--caps`).

use std::path::PathBuf;
use std::process::{Command, Output};

fn dockerfile(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("stager-cli-llb-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(name);
    std::fs::write(&path, text).expect("writing a Dockerfile");
    path
}

fn llb(args: &[&str], file: &PathBuf) -> Output {
    Command::new(env!("CARGO_BIN_EXE_stager"))
        .arg("llb")
        .args(args)
        .args(["--format", "json"])
        .arg(file)
        .output()
        .expect("running stager llb")
}

fn has_merge(out: &Output) -> bool {
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    v["definition"]["ops"]
        .as_array()
        .expect("ops")
        .iter()
        .any(|op| op.get("merge").is_some())
}

#[test]
fn current_daemon_by_default_older_on_request() {
    let file = dockerfile(
        "link.Dockerfile",
        "FROM busybox\nCOPY --link a /a\nCOPY --exclude=*.md --chmod=u+x . /src\n",
    );
    let now = llb(&[], &file);
    assert!(
        now.status.success(),
        "{}",
        String::from_utf8_lossy(&now.stderr)
    );
    assert!(
        has_merge(&now),
        "COPY --link is a MergeOp on a current daemon"
    );

    let v0_8 = llb(&["--daemon", "v0.8"], &file);
    assert!(!v0_8.status.success());
    let err = String::from_utf8_lossy(&v0_8.stderr);
    assert!(err.contains("COPY --exclude needs a BuildKit"), "{err}");

    // v0.16: --exclude and MergeOp, but no symbolic modes yet.
    let v0_16 = llb(&["--daemon", "v0.16.2"], &file);
    let err = String::from_utf8_lossy(&v0_16.stderr);
    assert!(
        err.contains("symbolic modes need a BuildKit v0.17"),
        "{err}"
    );
    assert!(llb(&["--daemon", "v0.17"], &file).status.success());

    // Named caps: a daemon with file ops but no MergeOp copies in place.
    let plain = dockerfile("plain.Dockerfile", "FROM busybox\nCOPY --link a /a\n");
    let no_merge = llb(&["--caps", "file.base,exec.meta.base"], &plain);
    assert!(no_merge.status.success());
    assert!(!has_merge(&no_merge));

    let bad = llb(&["--daemon", "1.26"], &plain);
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--daemon wants a BuildKit version"));
}
