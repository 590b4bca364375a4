//! `stager impact` as a user runs it: a git repository, `--since`, the Dockerfile and
//! `.dockerignore` as they were at that revision, JSON and text output.

use std::path::{Path, PathBuf};
use std::process::Command;

fn stager() -> Command {
    Command::new(env!("CARGO_BIN_EXE_stager"))
}

fn git(dir: &Path, args: &[&str]) -> bool {
    Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@localhost")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@localhost")
        .output()
        .is_ok_and(|o| o.status.success())
}

fn project(name: &str, files: &[(&str, &str)]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("stager-impact-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    for (path, text) in files {
        let p = dir.join(path);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(p, text).expect("write");
    }
    dir
}

fn verdicts(dir: &Path, args: &[&str]) -> Vec<(String, String)> {
    let out = stager()
        .arg("impact")
        .args(args)
        .args(["--format", "json"])
        .arg(dir.join("Dockerfile"))
        .output()
        .expect("run stager");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    json["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .map(|s| {
            (
                s["name"].as_str().unwrap_or_default().to_string(),
                s["verdict"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

const DOCKERFILE: &str =
    "FROM busybox\nCOPY package.json /app/\nRUN echo install\nCOPY . /app/\nRUN echo build\n";

#[test]
fn since_reads_changes_dockerfile_and_dockerignore_from_git() {
    let dir = project(
        "git",
        &[
            ("Dockerfile", DOCKERFILE),
            ("package.json", "{}\n"),
            ("src/a.js", "a\n"),
            ("notes.md", "n\n"),
            (".dockerignore", "*.md\nDockerfile\n.dockerignore\n.git\n"),
        ],
    );
    if !git(&dir, &["init", "-q"]) {
        eprintln!("SKIPPED: git is not available");
        return;
    }
    assert!(git(&dir, &["add", "-A"]) && git(&dir, &["commit", "-qm", "one"]));
    // An ignored file changes: everything cached.
    std::fs::write(dir.join("notes.md"), "m\n").expect("write");
    let v = verdicts(&dir, &["--since", "HEAD"]);
    assert!(v.iter().all(|(_, v)| v == "cached"), "{v:?}");
    // A new untracked source file: the second COPY and what follows.
    std::fs::write(dir.join("src/b.js"), "b\n").expect("write");
    let v = verdicts(&dir, &["--since", "HEAD"]);
    assert_eq!(
        v.iter().map(|(_, v)| v.as_str()).collect::<Vec<_>>(),
        ["cached", "cached", "rebuilt", "rebuilt"],
        "{v:?}"
    );
    std::fs::remove_file(dir.join("src/b.js")).expect("rm");
    // The .dockerignore as of HEAD no longer ignores *.md: notes.md now enters COPY . /app/.
    std::fs::write(
        dir.join(".dockerignore"),
        "Dockerfile\n.dockerignore\n.git\n",
    )
    .expect("write");
    std::fs::write(dir.join("notes.md"), "n\n").expect("write");
    let v = verdicts(&dir, &["--since", "HEAD"]);
    assert_eq!(
        v[2],
        ("[4/5] COPY . /app/".to_string(), "rebuilt".to_string()),
        "{v:?}"
    );
    assert_eq!(v[1].1, "cached", "{v:?}");
    // The Dockerfile as of HEAD: an edited RUN.
    std::fs::write(
        dir.join(".dockerignore"),
        "*.md\nDockerfile\n.dockerignore\n.git\n",
    )
    .expect("write");
    std::fs::write(
        dir.join("Dockerfile"),
        DOCKERFILE.replace("echo build", "echo make"),
    )
    .expect("write");
    let v = verdicts(&dir, &["--since", "HEAD"]);
    assert_eq!(
        v.iter().map(|(_, v)| v.as_str()).collect::<Vec<_>>(),
        ["cached", "cached", "cached", "rebuilt"],
        "{v:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn text_output_names_the_first_rebuilt_step_and_the_build_arg() {
    let dir = project(
        "text",
        &[(
            "Dockerfile",
            "FROM busybox\nRUN echo one\nARG MODE\nRUN echo two\nRUN echo three\n",
        )],
    );
    let out = stager()
        .args([
            "impact",
            "--build-arg",
            "MODE=b",
            "--old-build-arg",
            "MODE=a",
        ])
        .arg(dir.join("Dockerfile"))
        .output()
        .expect("run stager");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        text,
        "stage-0  rebuilt [3/4] RUN echo two: build arg MODE changed (\"a\" -> \"b\"); then 1 more step after it\n\
         3 steps: 1 cached, 2 rebuilt, 0 depend on file contents\n"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
