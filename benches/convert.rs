//! Parse and convert speed: BuildKit's parser test files, the examples, synthetic
//! Dockerfiles from 10 to 10,000 instructions and from 1 to 1,000 stages, and every shape of
//! `shapes` from 1,000 to 40,000 lines (time per line should stay flat: growth must be linear).
//!
//! Every input is also written to `target/bench-inputs/GROUP/ID.Dockerfile`, so that
//! `scripts/bench-report.py` counts its lines and runs the official converter on the very same
//! files.

mod shapes;

use std::collections::BTreeMap;
use std::path::Path;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

use stager::image::Platform;
use stager::options::BuildOptions;
use stager::pipeline::{self, ConvertContext};
use stager::proto::pb::SourceInfo;

fn options() -> BuildOptions {
    BuildOptions::new(Platform::new("linux", "amd64", None))
}

/// Parse, plan and convert one Dockerfile and marshal its Definition to bytes, with the
/// Dockerfile as source info, as `stager llb` does (and as `refd2l --time` times the official
/// converter: Dockerfile2LLB, Marshal and the protobuf encoding); `None` when stager rejects it.
fn convert(bytes: &[u8]) -> Option<usize> {
    let opts = options();
    let parsed = pipeline::parse(bytes).ok()?;
    let plan = pipeline::plan(&parsed, &opts).ok()?;
    let ctx = ConvertContext {
        options: &opts,
        llb_caps: Default::default(),
        source_info: Some(SourceInfo {
            filename: opts.filename.clone(),
            data: bytes.to_vec(),
            definition: None,
            language: "Dockerfile".into(),
        }),
    };
    let graph =
        pipeline::convert_graph(&plan, parsed.dockerfile.escape, &BTreeMap::new(), &ctx).ok()?;
    let mut out = Vec::new();
    stager::llb::write_graph(graph.state, ctx.source_info, &mut out).ok()?;
    Some(out.len())
}

/// Dockerfiles that exist: the conformance parser cases (those stager converts) and examples/.
fn real_world() -> Vec<(String, Vec<u8>)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for dir in [root.join("tests/conformance/parser"), root.join("examples")] {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut entries: Vec<_> = entries.flatten().map(|e| e.path()).collect();
        entries.sort();
        for case in entries {
            if let Ok(bytes) = std::fs::read(case.join("Dockerfile")) {
                let name = case
                    .file_name()
                    .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
                files.push((name, bytes));
            }
        }
    }
    files
}

/// One stage with `n` instructions of the common kinds.
fn synthetic_instructions(n: usize) -> Vec<u8> {
    let mut s = String::from("FROM busybox AS base\nARG V=1\n");
    for i in 0..n {
        s.push_str(match i % 5 {
            0 => "RUN echo $V > /tmp/x\n",
            1 => "ENV A=1 B=\"two words\"\n",
            2 => "COPY src/ /app/\n",
            3 => "WORKDIR /app/sub\n",
            _ => "LABEL k=v\n",
        });
    }
    s.into_bytes()
}

/// `n` stages, each copying from the previous one.
fn synthetic_stages(n: usize) -> Vec<u8> {
    let mut s = String::from("FROM busybox AS s0\nRUN echo 0 > /f\n");
    for i in 1..n {
        s.push_str(&format!(
            "FROM busybox AS s{i}\nCOPY --from=s{} /f /prev\nRUN echo {i} >> /f\n",
            i - 1
        ));
    }
    s.into_bytes()
}

/// Writes a benchmark's input where `scripts/bench-report.py` finds it.
fn keep_input(group: &str, id: &str, bytes: &[u8]) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target/bench-inputs")
        .join(group);
    let written = std::fs::create_dir_all(&dir)
        .and_then(|()| std::fs::write(dir.join(format!("{id}.Dockerfile")), bytes));
    if let Err(e) = written {
        eprintln!("cannot keep the input of {group}/{id}: {e}");
    }
}

/// The sizes each shape is measured at.
const SHAPE_LINES: [usize; 4] = [1_000, 4_000, 10_000, 40_000];

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("real-world");
    for (name, bytes) in real_world() {
        if convert(&bytes).is_some() {
            keep_input("real-world", &name, &bytes);
            group.bench_with_input(BenchmarkId::from_parameter(&name), &bytes, |b, bytes| {
                b.iter(|| convert(bytes))
            });
        }
    }
    group.finish();

    let mut group = c.benchmark_group("instructions");
    for n in [10, 100, 1_000, 10_000] {
        let bytes = synthetic_instructions(n);
        keep_input("instructions", &n.to_string(), &bytes);
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::from_parameter(n), &bytes, |b, bytes| {
            b.iter(|| convert(bytes))
        });
    }
    group.finish();

    // Where the time goes, for the largest real-world case: parse only, parse + plan.
    let mut group = c.benchmark_group("phases");
    let bytes = synthetic_instructions(100);
    group.bench_function("parse", |b| b.iter(|| pipeline::parse(&bytes).ok()));
    group.bench_function("parse+plan", |b| {
        let opts = options();
        b.iter(|| {
            let parsed = pipeline::parse(&bytes).ok()?;
            pipeline::plan(&parsed, &opts).ok().map(|p| p.stages.len())
        })
    });
    group.bench_function("parse+plan+convert", |b| b.iter(|| convert(&bytes)));
    group.finish();

    let mut group = c.benchmark_group("stages");
    for n in [1, 10, 100, 1_000] {
        let bytes = synthetic_stages(n);
        keep_input("stages", &n.to_string(), &bytes);
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::from_parameter(n), &bytes, |b, bytes| {
            b.iter(|| convert(bytes))
        });
    }
    group.finish();

    for (shape, generate) in shapes::SHAPES {
        let name = format!("shape-{shape}");
        let mut group = c.benchmark_group(&name);
        group.sample_size(10);
        for n in SHAPE_LINES {
            let bytes = generate(n).into_bytes();
            if convert(&bytes).is_none() {
                eprintln!("{name}/{n} does not convert: left out");
                continue;
            }
            keep_input(&name, &n.to_string(), &bytes);
            group.throughput(Throughput::Elements(n as u64));
            group.bench_with_input(BenchmarkId::from_parameter(n), &bytes, |b, bytes| {
                b.iter(|| convert(bytes))
            });
        }
        group.finish();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).warm_up_time(std::time::Duration::from_millis(500)).measurement_time(std::time::Duration::from_secs(2));
    targets = bench
}
criterion_main!(benches);
