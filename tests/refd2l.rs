//! `stager llb` against the official dockerfile2llb 1.26 (`refd2l` of ../shared/tools/buildkit) on
//! BuildKit's real-world parser test Dockerfiles: the same ops (bytes, so digests), the same
//! progress names, source locations and caps, op for op.
//!
//! Both convert offline as BuildKit's examples/dockerfile2llb does: no target, no build args,
//! linux/amd64, every cap of a current daemon, base images unresolved (refd2l's stub resolver
//! gives a config with no environment; stager gets the same config through `--image-config`).
//! Needs ../shared/tools/buildkit (installed into target/ on first use); skipped, loudly, when it
//! is absent.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use prost::Message;
use serde_json::Value;
use sha2::Digest;
use stager::proto::pb;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// Files whose LLB differs from 1.26 on purpose (README, "Differences from the official
/// frontend"), and why. The test fails when one of them stops differing.
const KEPT: &[(&str, &str)] = &[(
    "onbuild-copy-from-stage.Dockerfile",
    "1.26 numbers the steps of a stage that ONBUILD triggers read twice ([assets 3/2])",
)];

/// The refd2l binary, installed from ../shared/tools/buildkit when needed.
fn refd2l() -> Option<PathBuf> {
    let tools = Path::new(ROOT).join("../shared/tools/buildkit");
    if !tools.join("install.sh").exists() {
        eprintln!(
            "SKIPPED: {} is absent, stager llb is not compared with refd2l",
            tools.display()
        );
        return None;
    }
    let dest = Path::new(ROOT).join("target/buildkit-ref");
    let bin = dest.join("refd2l");
    // The tests of this file run at once: one installs while the others wait, or one would
    // unpack refd2l while another runs it ("Text file busy" on a fresh target folder).
    static INSTALLED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    let ok = *INSTALLED.get_or_init(|| {
        bin.exists()
            || Command::new("bash")
                .arg(tools.join("install.sh"))
                .arg(&dest)
                .status()
                .is_ok_and(|s| s.success())
    });
    assert!(ok, "installing the reference tools into {}", dest.display());
    Some(bin)
}

/// BuildKit's real-world parser files: the repository's copy, else ../shared's.
fn corpus() -> Vec<PathBuf> {
    let dir = [
        Path::new(ROOT).join("tests/conformance/parser"),
        Path::new(ROOT).join("../shared/conformance/parser"),
    ]
    .into_iter()
    .find(|d| d.is_dir());
    let Some(dir) = dir else {
        eprintln!("SKIPPED: no tests/conformance/parser nor ../shared/conformance/parser");
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("reading the parser corpus")
        .map(|e| e.expect("directory entry").path().join("Dockerfile"))
        .filter(|f| f.exists())
        .collect();
    files.sort();
    files
}

/// A decoded definition: normalised op JSON keyed by a structural hash (the op with the hashes
/// of its inputs), in definition order.
///
/// Offline, refd2l has no session: its context source carries a random `local.unique` where a
/// real build (and `stager llb`) names the session, which changes that op's digest and every
/// digest above it. Both attributes (and their caps) are dropped and the ops compared by
/// structure; every op without a local source below it must still have the same digest.
fn ops(bytes: &[u8]) -> Vec<(String, Value)> {
    let def = pb::Definition::decode(bytes).expect("a pb.Definition");
    let dump = stager::llb::dump(&def);
    let mut by_digest: BTreeMap<String, String> = BTreeMap::new();
    let mut out = Vec::new();
    for op in dump["ops"].as_array().expect("ops") {
        let mut op = op.clone();
        let digest = op["digest"].as_str().unwrap_or_default().to_string();
        let obj = op.as_object_mut().expect("an op object");
        obj.remove("locations");
        // The official frontend draws COPY --link progress-group IDs at random.
        if let Some(group) = obj
            .get_mut("metadata")
            .and_then(|m| m.get_mut("progress_group"))
            .and_then(Value::as_object_mut)
        {
            group.remove("id");
        }
        if let Some(attrs) = obj
            .get_mut("source")
            .and_then(|s| s.get_mut("attrs"))
            .and_then(Value::as_object_mut)
        {
            let local =
                attrs.remove("local.unique").is_some() | attrs.remove("local.session").is_some();
            if local {
                obj.remove("digest");
                if let Some(caps) = obj
                    .get_mut("metadata")
                    .and_then(|m| m.get_mut("caps"))
                    .and_then(Value::as_array_mut)
                {
                    caps.retain(|c| c != "source.local.unique" && c != "source.local.sessionid");
                }
            }
        }
        let mut local_below = false;
        if let Some(inputs) = obj.get_mut("inputs").and_then(Value::as_array_mut) {
            for input in inputs {
                let theirs = input["digest"].as_str().unwrap_or_default();
                let hash = by_digest.get(theirs).cloned().unwrap_or_default();
                local_below |= hash.starts_with('~');
                input["digest"] = Value::String(hash);
            }
        }
        if local_below || !obj.contains_key("digest") {
            obj.remove("digest");
        }
        let text = op.to_string();
        let prefix = if op.get("digest").is_some() { "" } else { "~" };
        let hash = format!("{prefix}{:x}", sha2::Sha256::digest(text.as_bytes()));
        by_digest.insert(digest, hash.clone());
        out.push((hash, op));
    }
    out
}

/// The stub resolver's config: layers only, so no environment, user or workdir.
fn stub_config(dir: &Path) -> PathBuf {
    let path = dir.join("stub-config.json");
    std::fs::write(
        &path,
        r#"{"rootfs":{"type":"layers","diff_ids":["sha256:0000000000000000000000000000000000000000000000000000000000000000"]}}"#,
    )
    .expect("writing the stub config");
    path
}

/// Every image a Dockerfile names in FROM (as stager's --image-config wants them).
fn image_args(text: &str, config: &Path) -> Vec<String> {
    text.lines()
        .filter_map(|l| {
            let mut words = l.split_whitespace();
            let keyword = words.next()?;
            if !keyword.eq_ignore_ascii_case("FROM") {
                return None;
            }
            let image = words.find(|w| !w.starts_with("--"))?;
            let plain = image.starts_with(|c: char| c.is_ascii_alphanumeric());
            (plain && !image.contains('$') && image != "scratch")
                .then(|| format!("--image-config={image}={}", config.display()))
        })
        .collect()
}

#[test]
fn stager_llb_equals_refd2l_on_real_world_dockerfiles() {
    compare("real-world", &corpus(), 20);
}

/// The golden Dockerfiles that need no build option (a `# golden: cap=...` header only asks for
/// caps a current daemon has): the features real-world files rarely use.
#[test]
fn stager_llb_equals_refd2l_on_golden_dockerfiles() {
    let mut files: Vec<PathBuf> = std::fs::read_dir(Path::new(ROOT).join("tests/golden"))
        .expect("tests/golden")
        .map(|e| e.expect("directory entry").path())
        .filter(|p| {
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let text = std::fs::read_to_string(p).unwrap_or_default();
            let options_free = text
                .lines()
                .next()
                .and_then(|l| l.strip_prefix("# golden:"))
                .is_none_or(|o| o.split_whitespace().all(|w| w.starts_with("cap=")));
            name.ends_with(".Dockerfile") && !name.starts_with("err-") && options_free
        })
        .collect();
    files.sort();
    compare("golden", &files, 50);
}

/// Probes of the 1.19–1.26 changes and of what real-world files rarely show (tests/refd2l).
#[test]
fn stager_llb_equals_refd2l_on_1_26_probes() {
    let mut files: Vec<PathBuf> = std::fs::read_dir(Path::new(ROOT).join("tests/refd2l"))
        .expect("tests/refd2l")
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "Dockerfile"))
        .collect();
    files.sort();
    let at_least = files.len();
    compare("probe", &files, at_least);
}

/// Converts each file with both and fails on any op that differs; `at_least` files must convert.
fn compare(label: &str, files: &[PathBuf], at_least: usize) {
    let Some(refd2l) = refd2l() else { return };
    if files.is_empty() {
        return;
    }
    if std::env::consts::ARCH != "x86_64" {
        eprintln!("SKIPPED: refd2l converts for linux/amd64, stager for this host");
        return;
    }
    let tmp = std::env::temp_dir().join(format!("stager-refd2l-{label}-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).expect("temp dir");
    let config = stub_config(&tmp);
    let mut compared = 0;
    let mut failures = Vec::new();
    for file in files {
        let dir_name = file.file_name().is_some_and(|n| n == "Dockerfile");
        let name = (if dir_name {
            file.parent()
        } else {
            Some(file.as_path())
        })
        .and_then(Path::file_name)
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
        let official = Command::new(&refd2l).arg(file).output().expect("refd2l");
        let text = std::fs::read_to_string(file).unwrap_or_default();
        let ours = Command::new(env!("CARGO_BIN_EXE_stager"))
            .arg("llb")
            .args(image_args(&text, &config))
            .arg(file)
            .output()
            .expect("stager llb");
        match (official.status.success(), ours.status.success()) {
            (false, false) => {
                eprintln!(
                    "{name}: both fail: {}",
                    String::from_utf8_lossy(&official.stderr).trim()
                );
                continue;
            }
            (true, true) => {}
            (theirs, _) => {
                failures.push(format!(
                    "{name}: refd2l {} but stager {}: {}{}",
                    if theirs { "converts" } else { "fails" },
                    if theirs { "fails" } else { "converts" },
                    String::from_utf8_lossy(&official.stderr),
                    String::from_utf8_lossy(&ours.stderr),
                ));
                continue;
            }
        }
        compared += 1;
        let (theirs, ours) = (ops(&official.stdout), ops(&ours.stdout));
        if let Some((_, why)) = KEPT.iter().find(|(kept, _)| *kept == name) {
            if theirs == ours {
                failures.push(format!(
                    "{name} no longer differs ({why}): take it off KEPT"
                ));
            } else {
                eprintln!("{name}: differs on purpose: {why}");
            }
            continue;
        }
        let mine: BTreeMap<&str, &Value> = ours.iter().map(|(h, op)| (h.as_str(), op)).collect();
        let official_ops: BTreeMap<&str, &Value> =
            theirs.iter().map(|(h, op)| (h.as_str(), op)).collect();
        for (hash, op) in &theirs {
            if !mine.contains_key(hash.as_str()) {
                failures.push(format!("{name}: stager lacks\n  official {op}"));
            }
        }
        for (hash, op) in &ours {
            if !official_ops.contains_key(hash.as_str()) {
                failures.push(format!("{name}: stager has\n  stager   {op}"));
            }
        }
        if theirs.len() != ours.len() {
            failures.push(format!(
                "{name}: {} ops in the official LLB, {} in stager's",
                theirs.len(),
                ours.len()
            ));
        }
    }
    let _ = std::fs::remove_dir_all(&tmp);
    eprintln!("compared {compared} {label} Dockerfiles with refd2l");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(
        compared >= at_least,
        "only {compared} of the files converted on both sides"
    );
}
