//! Remote main contexts against the fake daemon: which source each Solve loads, where the
//! Dockerfile is read from, and that no client directory is asked for.

use prost::Message as _;

use crate::proto::moby::buildkit::v1::frontend as gw;
use crate::proto::pb;

use super::tests::{FakeDaemon, Read, daemon, failing_build, run_build};

/// Each Solve's source ops as `identifier` plus the attributes that tell them apart.
fn sources(req: &gw::SolveRequest) -> Vec<String> {
    let def = req.definition.as_ref().expect("definition");
    def.def
        .iter()
        .filter_map(|b| pb::Op::decode(b.as_slice()).ok())
        .filter_map(|op| match op.op {
            Some(pb::op::Op::Source(s)) => {
                let attrs: Vec<String> = (s.attrs.iter())
                    .filter(|(k, _)| !k.starts_with("git.auth") && !k.starts_with("local.session"))
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect();
                Some(format!("{} {}", s.identifier, attrs.join(" ")))
            }
            _ => None,
        })
        .collect()
}

/// The copy actions of a Solve as `src -> dest`, with `unpack` or `contents` when set.
fn copies(req: &gw::SolveRequest) -> Vec<String> {
    let def = req.definition.as_ref().expect("definition");
    def.def
        .iter()
        .filter_map(|b| pb::Op::decode(b.as_slice()).ok())
        .filter_map(|op| match op.op {
            Some(pb::op::Op::File(f)) => Some(f.actions),
            _ => None,
        })
        .flatten()
        .filter_map(|a| match a.action {
            Some(pb::file_action::Action::Copy(c)) => Some(format!(
                "{} -> {}{}{}",
                c.src,
                c.dest,
                if c.attempt_unpack_docker_compatibility {
                    " unpack"
                } else {
                    ""
                },
                if c.dir_copy_contents { " contents" } else { "" }
            )),
            _ => None,
        })
        .collect()
}

/// Runs a build and returns the Solves and the ReadFile calls (ref, path, range length).
async fn build(fake: FakeDaemon, extra: &[(&str, &str)]) -> (Vec<gw::SolveRequest>, Vec<Read>) {
    let (solves, reads) = (fake.solves.clone(), fake.reads.clone());
    if let Err(f) = run_build(fake, extra).await {
        panic!("build failed: {}", f.message);
    }
    let solves = solves.lock().expect("lock").clone();
    let reads = reads.lock().expect("lock").clone();
    (solves, reads)
}

fn no_locals(solves: &[gw::SolveRequest]) {
    for req in solves {
        let got = sources(req);
        assert!(!got.iter().any(|s| s.starts_with("local://")), "{got:?}");
    }
}

const DOCKERFILE: &str = "FROM busybox\nCOPY . /src\n";

/// A daemon with the git features the URLs below use.
fn git_daemon() -> FakeDaemon {
    let mut fake = daemon(DOCKERFILE);
    fake.extra_llb_caps = vec![
        "source.git.subdir",
        "source.git.checksum",
        "source.git.mtime",
        "source.git.fetchbycommit",
    ];
    fake
}

#[tokio::test]
async fn a_git_context_holds_the_dockerfile_and_the_files() {
    let url = "https://example.com/o/r.git#main:sub";
    let (solves, reads) = build(git_daemon(), &[("context", url)]).await;
    let git = "git://example.com/o/r.git#main:sub git.fullurl=https://example.com/o/r.git";
    // The Dockerfile load, then the build; no .dockerignore load.
    assert_eq!(solves.len(), 2);
    assert_eq!(sources(&solves[0]), [git]);
    assert_eq!(reads[0], ("ref-1".into(), "Dockerfile".into(), None));
    assert!(sources(&solves[1]).contains(&git.to_string()));
    no_locals(&solves);
}

#[tokio::test]
async fn git_query_options_and_context_subdir() {
    let url = "https://example.com/o/r.git?ref=v1&mtime=commit&fetch-by-commit&checksum=abc";
    let (solves, _) = build(git_daemon(), &[("context", url), ("contextsubdir", "app")]).await;
    let git = "git://example.com/o/r.git#v1 git.checksum=abc git.fetchbycommit=true git.fullurl=https://example.com/o/r.git git.mtime=commit";
    assert_eq!(sources(&solves[0]), [git]);
    // Only the build's context is scoped to the subdirectory, not the Dockerfile's.
    assert!(copies(&solves[0]).is_empty());
    assert!(
        copies(&solves[1]).contains(&"/app -> / contents".to_string()),
        "{:?}",
        copies(&solves[1])
    );
}

#[tokio::test]
async fn an_http_dockerfile_is_the_whole_context() {
    let url = "https://example.com/Dockerfile";
    let mut fake = daemon("not read");
    fake.files
        .insert("context".into(), b"FROM busybox\nRUN true\n".to_vec());
    let (solves, reads) = build(fake, &[("context", url)]).await;
    let http = format!("{url} http.filename=context");
    assert_eq!(sources(&solves[0]), std::slice::from_ref(&http));
    // Sniffed, then read whole as the Dockerfile named `context`.
    assert_eq!(reads[0], ("ref-1".into(), "context".into(), Some(1024)));
    assert_eq!(sources(&solves[1]), [http]);
    assert_eq!(reads[1], ("ref-2".into(), "context".into(), None));
    no_locals(&solves);
}

#[tokio::test]
async fn an_http_tarball_is_unpacked_as_the_context() {
    let url = "https://example.com/ctx.tar.gz";
    let mut fake = daemon(DOCKERFILE);
    fake.files
        .insert("context".into(), vec![0x1F, 0x8B, 0x08, 0, 0]);
    let (solves, reads) = build(fake, &[("context", url)]).await;
    assert_eq!(reads[0].1, "context");
    // The Dockerfile is read from the unpacked tarball.
    assert_eq!(copies(&solves[1]), ["/context -> / unpack"]);
    assert_eq!(reads[1], ("ref-2".into(), "Dockerfile".into(), None));
    assert!(copies(&solves[2]).contains(&"/context -> / unpack".to_string()));
    no_locals(&solves);
}

#[tokio::test]
async fn dockerfilekey_reads_the_dockerfile_from_the_client() {
    let url = "https://example.com/o/r.git";
    let (solves, _) = build(
        daemon(DOCKERFILE),
        &[("context", url), ("dockerfilekey", "dockerfile")],
    )
    .await;
    assert!(sources(&solves[0])[0].starts_with("local://dockerfile "));
    assert!(sources(&solves[1]).iter().any(|s| s.starts_with("git://")));
}

#[tokio::test]
async fn frontend_inputs_give_the_context_and_the_dockerfile() {
    let image = |r: &str| {
        crate::llb::marshal(
            &crate::llb::State::image(r, Default::default(), crate::llb::OpMeta::default()),
            None,
        )
    };
    let mut fake = daemon(DOCKERFILE);
    fake.inputs
        .insert("context".into(), image("docker.io/library/ctx:1"));
    fake.inputs
        .insert("dockerfile".into(), image("docker.io/library/df:1"));
    let (solves, reads) = build(fake, &[]).await;
    assert_eq!(
        sources(&solves[0]),
        ["docker-image://docker.io/library/df:1 "]
    );
    assert_eq!(reads[0].1, "Dockerfile");
    assert!(
        sources(&solves[1]).contains(&"docker-image://docker.io/library/ctx:1 ".to_string()),
        "{:?}",
        sources(&solves[1])
    );
    no_locals(&solves);
}

#[tokio::test]
async fn a_nil_frontend_input_is_refused_as_buildkit_does() {
    let mut fake = daemon(DOCKERFILE);
    // A Go client's nil definition arrives as an empty one (no metadata).
    fake.inputs
        .insert("context".into(), pb::Definition::default());
    fake.inputs
        .insert("dockerfile".into(), pb::Definition::default());
    let failure = failing_build(fake, &[]).await;
    assert_eq!(
        failure.message,
        "failed to get frontend inputs: invalid nil input definition to definition op"
    );
}

#[tokio::test]
async fn a_dockerfile_input_without_context_builds_what_never_uses_the_context() {
    let dockerfile = crate::llb::State::image(
        "docker.io/library/df:1",
        Default::default(),
        crate::llb::OpMeta::default(),
    );
    let mut fake = daemon("FROM scratch\n");
    fake.inputs
        .insert("dockerfile".into(), crate::llb::marshal(&dockerfile, None));
    // The client sent no directories: reading the context's .dockerignore fails.
    fake.dockerignore_error = Some("no local sources enabled");
    let (solves, _) = build(fake, &[("platform", "linux/amd64,linux/arm64")]).await;
    assert!(solves.len() >= 2, "{}", solves.len());
}

#[tokio::test]
async fn a_git_context_commit_is_a_checksum_not_a_ref() {
    let url = "https://example.com/o/r.git?commit=3eb2f147";
    let (solves, _) = build(git_daemon(), &[("context", url)]).await;
    let git =
        "git://example.com/o/r.git git.checksum=3eb2f147 git.fullurl=https://example.com/o/r.git";
    assert_eq!(sources(&solves[0]), [git]);
}

#[tokio::test]
async fn a_github_context_without_scheme_is_a_git_context() {
    let (solves, _) = build(git_daemon(), &[("context", "github.com/o/r")]).await;
    let git = "git://github.com/o/r git.fullurl=https://github.com/o/r";
    assert_eq!(sources(&solves[0]), [git]);
    no_locals(&solves);
}
