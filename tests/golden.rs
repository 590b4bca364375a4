//! Golden LLB tests: every `tests/golden/*.Dockerfile` goes through the whole pipeline (with no
//! resolved base images, so FROM stays unpinned) and the readable LLB dump plus the image config,
//! or the error with its lines, is compared with `tests/snapshots/golden__<name>.snap`.
//!
//! Options for a case come from a `# golden: ...` comment line; `tests/golden/README.md`
//! describes the format. Files named `err-*` must fail, `bug-*` files record a known
//! disagreement with BuildKit (either outcome is accepted, the snapshot shows today's), all
//! others must convert.
//!
//! Update the snapshots with `INSTA_UPDATE=always cargo test --test golden`, then read the diff.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use prost::Message;
use stager::image::Platform;
use stager::options::{BuildOptions, NetworkMode, NoCache, ResolveMode};
use stager::pipeline::{self, ConvertContext, Converted};
use stager::proto::pb;

const GOLDEN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden");

/// One golden Dockerfile.
struct Case {
    name: String,
    bytes: Vec<u8>,
    /// The `# golden:` words, in the order written.
    words: Vec<String>,
}

fn cases() -> Vec<Case> {
    let mut paths: Vec<PathBuf> = fs::read_dir(GOLDEN)
        .unwrap_or_else(|e| panic!("reading {GOLDEN}: {e}"))
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "Dockerfile"))
        .collect();
    paths.sort();
    assert!(
        paths.len() >= 40,
        "expected at least 40 golden Dockerfiles, found {}",
        paths.len()
    );
    paths
        .iter()
        .map(|path| {
            let bytes = fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let name = path
                .file_stem()
                .expect("file name")
                .to_string_lossy()
                .into_owned();
            let words = String::from_utf8_lossy(&bytes)
                .lines()
                .filter_map(|l| l.trim_start().strip_prefix("# golden:"))
                .flat_map(|l| l.split_whitespace().map(str::to_string))
                .collect();
            Case { name, bytes, words }
        })
        .collect()
}

/// Build options and LLB caps from the `# golden:` words (see tests/golden/README.md).
fn options(case: &Case, words: &[String]) -> (BuildOptions, BTreeSet<String>) {
    let mut opts = BuildOptions::new(Platform::new("linux", "amd64", None));
    opts.session_id = "golden-session".into();
    let mut caps = BTreeSet::new();
    for word in words {
        let (key, value) = word.split_once('=').unwrap_or((word.as_str(), ""));
        let bad = || -> ! { panic!("{}: bad golden option {word:?}", case.name) };
        if let Some(name) = key.strip_prefix("build-arg:") {
            opts.build_args.insert(name.into(), value.into());
            continue;
        }
        if let Some(name) = key.strip_prefix("sharedkey:localdir:") {
            opts.context_shared_keys.insert(name.into(), value.into());
            continue;
        }
        if let Some(name) = key.strip_prefix("context:") {
            opts.named_contexts.insert(name.into(), value.into());
            continue;
        }
        if let Some(name) = key.strip_prefix("label:") {
            opts.labels.insert(name.into(), value.into());
            continue;
        }
        match key {
            "target" => opts.target = Some(value.into()),
            "platform" => {
                opts.target_platform = Some(Platform::parse(value).unwrap_or_else(|_| bad()));
            }
            "filename" => opts.filename = value.into(),
            "no-cache" if value.is_empty() => opts.no_cache = NoCache::All,
            "no-cache" => {
                opts.no_cache = NoCache::Stages(value.split(',').map(str::to_string).collect());
            }
            "hostname" => opts.hostname = Some(value.into()),
            "memory" | "cpushares" | "cpusetcpus" => {
                let r = opts.linux_resources.get_or_insert_with(Default::default);
                match key {
                    "memory" => r.memory = value.parse().unwrap_or_else(|_| bad()),
                    "cpushares" => r.cpu_shares = value.parse().unwrap_or_else(|_| bad()),
                    _ => r.cpuset_cpus = value.into(),
                }
            }
            "shm-size" => opts.shm_size = value.parse().unwrap_or_else(|_| bad()),
            "ulimit" => {
                let (name, limits) = value.split_once('=').unwrap_or_else(|| bad());
                let (soft, hard) = limits.split_once(':').unwrap_or((limits, limits));
                opts.ulimits.push(stager::options::Ulimit {
                    name: name.into(),
                    soft: soft.parse().unwrap_or_else(|_| bad()),
                    hard: hard.parse().unwrap_or_else(|_| bad()),
                });
            }
            "add-hosts" => {
                for pair in value.split(',') {
                    let (host, ip) = pair.split_once('=').unwrap_or_else(|| bad());
                    opts.extra_hosts.push((host.into(), ip.into()));
                }
            }
            "force-network-mode" => {
                opts.network = match value {
                    "sandbox" => NetworkMode::Sandbox,
                    "host" => NetworkMode::Host,
                    "none" => NetworkMode::None,
                    _ => bad(),
                }
            }
            "image-resolve-mode" => {
                opts.image_resolve_mode = match value {
                    "default" => ResolveMode::Default,
                    "pull" => ResolveMode::Pull,
                    "local" => ResolveMode::Local,
                    _ => bad(),
                }
            }
            "excludes" => opts.excludes = value.split(',').map(str::to_string).collect(),
            "contextkey" => opts.context_name = value.into(),
            "cap" => {
                caps.insert(value.to_string());
            }
            _ => bad(),
        }
    }
    (opts, caps)
}

/// The whole pipeline with no resolved images.
fn run(
    bytes: &[u8],
    opts: &BuildOptions,
    caps: &BTreeSet<String>,
) -> Result<Converted, pipeline::Error> {
    let parsed = pipeline::parse(bytes)?;
    let plan = pipeline::plan(&parsed, opts)?;
    let ctx = ConvertContext {
        options: opts,
        llb_caps: caps.clone(),
        source_info: Some(pb::SourceInfo {
            filename: opts.filename.clone(),
            data: bytes.to_vec(),
            definition: None,
            language: "Dockerfile".into(),
        }),
    };
    pipeline::convert(&plan, parsed.dockerfile.escape, &BTreeMap::new(), &ctx)
}

fn render(case: &Case) -> Result<String, String> {
    let (opts, caps) = options(case, &case.words);
    let mut out = format!("options: {}\n", case.words.join(" "));
    match run(&case.bytes, &opts, &caps) {
        Ok(converted) => {
            let dump = stager::llb::dump(&converted.definition);
            let image = serde_json::to_string_pretty(&converted.image).expect("image JSON");
            out.push_str("== definition ==\n");
            out.push_str(&serde_json::to_string_pretty(&dump).expect("dump JSON"));
            out.push_str("\n== image ==\n");
            out.push_str(&image);
            out.push('\n');
            Ok(out)
        }
        Err(e) => {
            let lines: Vec<String> = (e.ranges().iter())
                .map(|(s, e)| {
                    if s == e {
                        s.to_string()
                    } else {
                        format!("{s}-{e}")
                    }
                })
                .collect();
            out.push_str("== error ==\n");
            match e.line() {
                Some(line) => out.push_str(&format!("line {line}: {e}\n")),
                None => out.push_str(&format!("no line: {e}\n")),
            }
            out.push_str(&format!("ranges: [{}]\n", lines.join(", ")));
            Err(out)
        }
    }
}

#[test]
fn golden_llb() {
    let mut failures = Vec::new();
    for case in cases() {
        let expect_error = case.name.starts_with("err-");
        let known_bug = case.name.starts_with("bug-");
        let text = match render(&case) {
            Ok(text) | Err(text) if known_bug => text,
            Ok(text) if expect_error => {
                failures.push(format!(
                    "{}: converted but an error was expected",
                    case.name
                ));
                text
            }
            Err(text) if !expect_error => {
                failures.push(format!("{}: failed unexpectedly:\n{text}", case.name));
                text
            }
            Ok(text) | Err(text) => text,
        };
        let name = case.name.clone();
        let result = std::panic::catch_unwind(|| {
            insta::with_settings!({
                snapshot_path => "snapshots",
                prepend_module_to_snapshot => true,
                description => format!("tests/golden/{name}.Dockerfile"),
                omit_expression => true,
            }, {
                insta::assert_snapshot!(name.as_str(), text);
            });
        });
        if result.is_err() {
            failures.push(format!("{}: snapshot differs", case.name));
        }
    }
    assert!(
        failures.is_empty(),
        "golden failures:\n{}",
        failures.join("\n")
    );
}

/// The encoded Definition of every case that converts, with the options as written or with the
/// build-args inserted in reverse order.
fn encoded(reverse_build_args: bool) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    for case in cases() {
        let mut words = case.words.clone();
        if reverse_build_args {
            words.reverse();
        }
        let (opts, caps) = options(&case, &words);
        if let Ok(c) = run(&case.bytes, &opts, &caps) {
            out.insert(case.name, c.definition.encode_to_vec());
        }
    }
    out
}

fn determinism_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("golden-determinism")
}

#[test]
fn conversion_is_deterministic() {
    let first = encoded(false);
    assert!(
        first.len() >= 30,
        "too few cases converted: {}",
        first.len()
    );
    assert_eq!(first, encoded(false), "a second conversion differs");
    let reversed = encoded(true);
    for (name, bytes) in &first {
        assert!(
            reversed.get(name) == Some(bytes),
            "{name}: differs when build-args are given in another order"
        );
    }

    // Once more in a child process (new hash seeds) with a different environment.
    let dir = determinism_dir();
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).expect("temp dir");
    let child = Command::new(std::env::current_exe().expect("test binary"))
        .args(["--exact", "determinism_child", "--test-threads=1"])
        .env("GOLDEN_DETERMINISM_CHILD", &dir)
        .env("HTTP_PROXY", "http://proxy.invalid:3128")
        .env("http_proxy", "http://proxy.invalid:3128")
        .env("BUILDKIT_SANDBOX_HOSTNAME", "from-env")
        .env("TARGETARCH", "riscv64")
        .env("HOME", "/nonexistent")
        .env("LANG", "tr_TR.UTF-8")
        .env("TZ", "Pacific/Chatham")
        .env_remove("USER")
        .output()
        .expect("running the child");
    assert!(
        child.status.success(),
        "determinism child failed:\n{}{}",
        String::from_utf8_lossy(&child.stdout),
        String::from_utf8_lossy(&child.stderr)
    );
    for (name, bytes) in &first {
        let child = fs::read(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(
            &child == bytes,
            "{name}: differs in a process with another environment"
        );
    }
}

/// The child half of `conversion_is_deterministic`: writes each encoded Definition when
/// that test runs it (it sets `GOLDEN_DETERMINISM_CHILD`); otherwise there is nothing to do.
#[test]
fn determinism_child() {
    let Some(dir) = std::env::var_os("GOLDEN_DETERMINISM_CHILD") else {
        return;
    };
    for (name, bytes) in encoded(true) {
        fs::write(Path::new(&dir).join(name), bytes).expect("writing");
    }
}
