//! stager's own checks: what multi-stage builds are for. Each finding says what to do.
//!
//! They read the plan only, and stay quiet unless the pattern is unambiguous: a final image
//! based on a compiler image, the whole context copied before a dependency install, compilers
//! or package caches left in the final image, stages nothing can build, and stages that wait
//! for another through FROM only to install packages.

use crate::image::Reference;
use crate::instructions::{Instruction, Kind};
use crate::lint::{self, Sink, per_line};
use crate::plan::{Base, Plan, Stage};

/// Reports every advice finding of `plan` into `sink`, stage by stage.
pub fn report(plan: &Plan, sink: &Sink) {
    final_stage_toolchain(plan, sink);
    for stage in &plan.stages {
        copy_context_before_install(stage, sink);
    }
    build_tools_in_final_stage(plan, sink);
    unused_stages(plan, sink);
    serial_from_stages(plan, sink);
}

/// The stages whose steps end up in the target's image: the target and its FROM parents.
fn final_chain<'p, 'a>(plan: &'p Plan<'a>) -> Vec<&'p Stage<'a>> {
    let mut chain = Vec::new();
    let mut at = plan.stages.get(plan.target);
    while let Some(stage) = at {
        chain.push(stage);
        at = match stage.base {
            Base::Stage(i) if i < stage.index => plan.stages.get(i),
            _ => None,
        };
    }
    chain
}

/// Whether the final image is meant to run something (it sets CMD or ENTRYPOINT): advice about
/// what a shipped image carries stays quiet for fragments and base images.
fn ships(chain: &[&Stage]) -> bool {
    chain
        .iter()
        .flat_map(|s| &s.steps)
        .any(|s| matches!(s.instruction.kind, Kind::Cmd(_) | Kind::Entrypoint(_)))
}

fn display_name(stage: &Stage) -> String {
    stage
        .name
        .clone()
        .unwrap_or_else(|| format!("stage-{}", stage.index))
}

fn final_stage_toolchain(plan: &Plan, sink: &Sink) {
    let chain = final_chain(plan);
    let (Some(target), Some(root)) = (chain.first(), chain.last()) else {
        return;
    };
    // A target named for development or CI is meant to carry its tools.
    let meant = |s: &Stage| {
        s.name.as_deref().is_some_and(|n| {
            n.split(['-', '_', '.']).any(|w| {
                matches!(
                    w,
                    "dev"
                        | "devcontainer"
                        | "develop"
                        | "test"
                        | "tests"
                        | "testing"
                        | "debug"
                        | "lint"
                        | "ci"
                        | "build"
                        | "builder"
                        | "tools"
                        | "toolchain"
                        | "sdk"
                )
            })
        })
    };
    if chain.iter().any(|s| meant(s)) || !ships(&chain) {
        return;
    }
    let Base::Image(reference) = &root.base else {
        return;
    };
    let Some(kind) = toolchain(reference) else {
        return;
    };
    let image = match &reference.tag {
        Some(tag) => format!("{}:{tag}", short_path(reference)),
        None => short_path(reference).to_string(),
    };
    sink.report(
        &lint::FINAL_STAGE_TOOLCHAIN,
        per_line(target.from.lines),
        format!(
            "The final stage '{}' is based on the {kind} image {image}: compile in a builder stage \
             and COPY --from it only the build output into a small runtime stage (distroless, \
             alpine or a -slim image)",
            display_name(target)
        ),
    );
}

fn short_path(r: &Reference) -> &str {
    r.path.strip_prefix("library/").unwrap_or(&r.path)
}

/// `Some("Go toolchain")` for images that carry a compiler or SDK, whatever their tag says.
fn toolchain(r: &Reference) -> Option<&'static str> {
    let name = r.path.rsplit('/').next().unwrap_or("");
    let tag = r.tag.as_deref().unwrap_or("latest");
    let slim = tag.contains("slim") || tag.contains("alpine");
    let jre = tag.contains("jre");
    Some(match name {
        "golang" => "Go toolchain",
        "rust" => "Rust toolchain",
        "gcc" => "GCC",
        "maven" => "Maven",
        "gradle" => "Gradle",
        "buildpack-deps" => "buildpack-deps",
        "sdk" if r.path.ends_with("dotnet/sdk") => ".NET SDK",
        "openjdk" | "eclipse-temurin" | "amazoncorretto" if !jre => "JDK",
        "node" if !slim => "full Node.js",
        "python" if !slim => "full Python",
        "ruby" if !slim => "full Ruby",
        _ => return None,
    })
}

/// The text a RUN runs, flags and all, for matching commands.
fn run_text(ins: &Instruction) -> Option<String> {
    match &ins.kind {
        Kind::Run(run) => {
            let mut text = run.command.args.join(" ");
            for doc in &run.heredocs {
                text.push('\n');
                text.push_str(&doc.content);
            }
            Some(text)
        }
        _ => None,
    }
}

/// Shell-ish commands of a RUN: split on `&&`, `||`, `;`, `|` and newlines.
fn commands(text: &str) -> Vec<Vec<&str>> {
    text.split(['&', '|', ';', '\n'])
        .map(|c| {
            c.split_whitespace()
                .filter(|w| *w != "\\")
                .collect::<Vec<_>>()
        })
        .filter(|c| !c.is_empty())
        .collect()
}

/// The first dependency install in a RUN's script and the manifests it reads (for `impact`).
pub(crate) fn dependency_install_in(text: &str) -> Option<(String, &'static str)> {
    commands(text)
        .into_iter()
        .find_map(|c| dependency_install(&c).map(|m| (c.join(" "), m)))
}

/// A dependency install from manifests, and the manifests it reads.
fn dependency_install(words: &[&str]) -> Option<&'static str> {
    let args = |from: usize| words.iter().skip(from).filter(|w| !w.starts_with('-'));
    match words {
        ["npm", "ci", ..] => Some("package.json and package-lock.json"),
        ["npm", "install" | "i", ..] if args(2).next().is_none() => {
            Some("package.json and package-lock.json")
        }
        ["yarn"] | ["yarn", "install", ..] => Some("package.json and yarn.lock"),
        ["pnpm", "install" | "i", ..] if args(2).next().is_none() => {
            Some("package.json and pnpm-lock.yaml")
        }
        [pip, "install", rest @ ..]
            if pip.starts_with("pip")
                && rest
                    .iter()
                    .any(|w| *w == "-r" || w.starts_with("--requirement")) =>
        {
            Some("the requirements files")
        }
        ["poetry", "install", ..] => Some("pyproject.toml and poetry.lock"),
        ["go", "mod", "download", ..] => Some("go.mod and go.sum"),
        ["bundle", "install", ..] => Some("Gemfile and Gemfile.lock"),
        ["composer", "install", ..] => Some("composer.json and composer.lock"),
        ["mvn", rest @ ..] if rest.iter().any(|w| w.starts_with("dependency:")) => Some("pom.xml"),
        _ => None,
    }
}

fn copies_whole_context(ins: &Instruction) -> Option<&str> {
    let (Kind::Copy(c) | Kind::Add(c)) = &ins.kind else {
        return None;
    };
    if c.from.is_some() {
        return None;
    }
    c.sources
        .iter()
        .find(|s| matches!(s.as_str(), "." | "./" | "/" | "./." | "*"))
        .map(String::as_str)
}

fn copy_context_before_install(stage: &Stage, sink: &Sink) {
    let mut whole: Option<(&Instruction, &str)> = None;
    for step in &stage.steps {
        let ins: &Instruction = &step.instruction;
        if whole.is_none() {
            whole = copies_whole_context(ins).map(|s| (ins, s));
            // An install before the context arrives is the right order already.
            if run_text(ins)
                .is_some_and(|t| commands(&t).iter().any(|c| dependency_install(c).is_some()))
            {
                return;
            }
            continue;
        }
        let Some(text) = run_text(ins) else { continue };
        let Some((command, manifests)) = commands(&text)
            .into_iter()
            .find_map(|c| dependency_install(&c).map(|m| (c.join(" "), m)))
        else {
            continue;
        };
        let Some((copy, src)) = whole else { return };
        sink.report(
            &lint::COPY_CONTEXT_BEFORE_INSTALL,
            per_line(copy.lines),
            format!(
                "COPY {src} brings the whole context in before `{command}` (line {}): every source \
                 edit re-runs the install; COPY {manifests} first, install, then COPY the rest",
                ins.lines.0
            ),
        );
        return;
    }
}

/// Compiler packages, by package manager command.
fn compilers<'a>(words: &[&'a str]) -> Vec<&'a str> {
    let installing = matches!(
        words,
        ["apt-get" | "apt", ..] | ["apk", ..] | ["yum" | "dnf" | "microdnf", ..]
    ) && words.iter().any(|w| matches!(*w, "install" | "add"));
    if !installing {
        return Vec::new();
    }
    words
        .iter()
        .copied()
        .filter(|w| {
            matches!(
                *w,
                "build-essential"
                    | "build-base"
                    | "gcc"
                    | "g++"
                    | "gcc-c++"
                    | "clang"
                    | "make"
                    | "cmake"
                    | "golang"
                    | "golang-go"
                    | "go"
                    | "rustc"
                    | "cargo"
                    | "musl-dev"
                    | "default-jdk"
            ) || (w.starts_with("openjdk") && w.ends_with("-jdk"))
        })
        .collect()
}

fn has_cache_mount(ins: &Instruction, path: &str) -> bool {
    let Kind::Run(run) = &ins.kind else {
        return false;
    };
    run.mounts.iter().any(|m| {
        m.fields.iter().any(|f| f == "type=cache") && m.fields.iter().any(|f| f.contains(path))
    })
}

fn build_tools_in_final_stage(plan: &Plan, sink: &Sink) {
    let chain = final_chain(plan);
    let Some(target) = chain.first() else { return };
    if !ships(&chain) {
        return;
    }
    for stage in chain.iter().rev() {
        for step in &stage.steps {
            let ins = &step.instruction;
            let Some(text) = run_text(ins) else { continue };
            let cmds = commands(&text);
            let removed = text.contains("apt-get purge")
                || text.contains("apt-get remove")
                || text.contains("apk del");
            let tools: Vec<&str> = cmds.iter().flat_map(|c| compilers(c)).collect();
            let mut what = Vec::new();
            if !tools.is_empty() && !removed {
                what.push(format!(
                    "installs {}: compile in a builder stage and COPY --from it only what the \
                     image needs at run time",
                    tools.join(", ")
                ));
            }
            let apt = cmds
                .iter()
                .any(|c| matches!(c.as_slice(), ["apt-get" | "apt", ..]) && c.contains(&"install"));
            if apt && !text.contains("/var/lib/apt/lists") && !has_cache_mount(ins, "/var/lib/apt")
            {
                what.push(
                    "leaves the apt package lists (add `&& rm -rf /var/lib/apt/lists/*`)".into(),
                );
            }
            let apk = cmds
                .iter()
                .any(|c| matches!(c.as_slice(), ["apk", ..]) && c.contains(&"add"));
            if apk
                && !text.contains("--no-cache")
                && !text.contains("/var/cache/apk")
                && !has_cache_mount(ins, "/var/cache/apk")
            {
                what.push("leaves the apk cache (use `apk add --no-cache`)".into());
            }
            let pip = cmds
                .iter()
                .any(|c| c.first().is_some_and(|w| w.starts_with("pip")) && c.contains(&"install"));
            if pip && !text.contains("--no-cache-dir") && !has_cache_mount(ins, ".cache/pip") {
                what.push(
                    "leaves the pip cache (use `pip install --no-cache-dir` or a cache mount)"
                        .into(),
                );
            }
            if what.is_empty() {
                continue;
            }
            sink.report(
                &lint::BUILD_TOOLS_IN_FINAL_STAGE,
                per_line(ins.lines),
                format!(
                    "This RUN of the final image (stage '{}') {}",
                    display_name(target),
                    what.join("; it ")
                ),
            );
        }
    }
}

/// The stages any of `from` needs, themselves included: one walk for all of them, so that a
/// chain of named stages stays linear.
fn needed_by(plan: &Plan, from: Vec<usize>) -> Vec<bool> {
    let mut seen = vec![false; plan.stages.len()];
    let mut todo = from;
    while let Some(i) = todo.pop() {
        if std::mem::replace(&mut seen[i], true) {
            continue;
        }
        let stage = &plan.stages[i];
        let deps = std::iter::once(&stage.base).chain(stage.steps.iter().flat_map(|s| s.sources()));
        for base in deps {
            if let Base::Stage(d) = base
                && *d < seen.len()
            {
                todo.push(*d);
            }
        }
    }
    seen
}

fn unused_stages(plan: &Plan, sink: &Sink) {
    let last = plan.stages.len().saturating_sub(1);
    let targets = (plan.stages.iter())
        .filter(|s| s.name.is_some() || s.index == last)
        .map(|s| s.index)
        .collect();
    let used = needed_by(plan, targets);
    for stage in &plan.stages {
        if !used[stage.index] {
            sink.report(
                &lint::UNUSED_STAGE,
                per_line(stage.from.lines),
                format!(
                    "Stage {} is unnamed and no stage uses it, so no build ever runs it: remove it, \
                     use it with COPY --from={}, or name it (FROM ... AS name) to build it with --target",
                    stage.index, stage.index
                ),
            );
        }
    }
}

fn package_install(words: &[&str]) -> bool {
    match words {
        ["apt-get" | "apt" | "yum" | "dnf" | "microdnf", rest @ ..] => rest.contains(&"install"),
        ["apk", rest @ ..] => rest.contains(&"add"),
        _ => false,
    }
}

fn serial_from_stages(plan: &Plan, sink: &Sink) {
    for stage in plan.reachable_stages() {
        let Base::Stage(parent) = stage.base else {
            continue;
        };
        let Some(parent_stage) = plan.stages.get(parent) else {
            continue;
        };
        let parent_works =
            (parent_stage.steps.iter()).any(|s| matches!(s.instruction.kind, Kind::Run(_)));
        // The stage's first filesystem step: installing packages needs nothing of the parent.
        let first = stage
            .steps
            .iter()
            .map(|s| &s.instruction)
            .find(|i| matches!(i.kind, Kind::Run(_) | Kind::Copy(_) | Kind::Add(_)));
        let Some(ins) = first else { continue };
        let installs =
            run_text(ins).is_some_and(|t| commands(&t).iter().any(|c| package_install(c)));
        if !parent_works || !installs {
            continue;
        }
        let parent_name = display_name(parent_stage);
        sink.report(
            &lint::SERIAL_FROM_STAGE,
            per_line(ins.lines),
            format!(
                "Stage '{}' starts FROM '{parent_name}', so this package install waits for all of \
                 '{parent_name}': start it FROM '{parent_name}''s base image and COPY --from={parent_name} \
                 only what it needs, and both stages run in parallel",
                display_name(stage)
            ),
        );
    }
}
