//! Local named contexts send only what the build reads of them, as 1.26 does: a source per
//! stage chain, `COPY --from` and mount that reads one, each with its own `local.followpaths`.

use std::collections::{BTreeMap, BTreeSet};

use prost::Message;

use crate::image::Platform;
use crate::options::BuildOptions;
use crate::proto::pb;

/// The `local://foo` sources of `src` built for `target` (`""`: the last stage) with `context:foo=local:foo`, as
/// their followpaths (empty: the whole directory), sorted and without duplicates.
fn foo_sources(src: &str, target: &str) -> Vec<String> {
    let mut opts = BuildOptions::new(Platform::new("linux", "amd64", None));
    opts.context_name = "context".into();
    opts.target = (!target.is_empty()).then(|| target.into());
    opts.named_contexts.insert("foo".into(), "local:foo".into());
    let parsed = crate::pipeline::parse(src.as_bytes()).expect("parses");
    let plan = crate::pipeline::plan(&parsed, &opts).expect("plans");
    let ctx = super::super::Context {
        options: &opts,
        llb_caps: ["file.base", "exec.meta.base", "merge.diff"]
            .iter()
            .map(|c| (*c).to_string())
            .collect::<BTreeSet<_>>(),
        source_info: None,
    };
    let def = super::super::convert(&plan, '\\', &BTreeMap::new(), &ctx)
        .expect("converts")
        .definition;
    let found: BTreeSet<String> = (def.def.iter())
        .filter_map(|b| pb::Op::decode(b.as_slice()).ok())
        .filter_map(|op| match op.op {
            Some(pb::op::Op::Source(s)) if s.identifier == "local://foo" => Some(
                s.attrs
                    .get("local.followpaths")
                    .cloned()
                    .unwrap_or_default(),
            ),
            _ => None,
        })
        .collect();
    found.into_iter().collect()
}

/// BuildKit's TestNamedFilteredContext Dockerfile.
const BASE: &str = "FROM scratch AS copy_from
COPY --from=foo /foo /

FROM alpine AS run_mount
RUN --mount=from=foo,src=/foo,target=/in/foo cp /in/foo /foo

FROM foo AS image_source
COPY --from=alpine / /
RUN cat /foo > /bar

FROM scratch AS all
COPY --link --from=copy_from /foo /foo.b
COPY --link --from=run_mount /foo /foo.c
COPY --link --from=image_source /bar /foo.d
";

#[test]
fn copy_from_and_mounts_read_only_their_paths() {
    assert_eq!(foo_sources(BASE, "copy_from"), [r#"["foo"]"#]);
    assert_eq!(foo_sources(BASE, "run_mount"), [r#"["foo"]"#]);
    // A stage starting from the context runs a command: it reads everything.
    assert_eq!(foo_sources(BASE, "image_source"), [""]);
    assert_eq!(foo_sources(BASE, "all"), ["", r#"["foo"]"#]);
}

#[test]
fn a_stage_replaced_by_the_context_reads_what_later_stages_read_of_it() {
    let full = format!("FROM scratch AS foo\nCOPY <<EOF /foo\ntest\nEOF\n{BASE}");
    assert_eq!(foo_sources(&full, "copy_from"), [r#"["foo"]"#]);
    assert_eq!(foo_sources(&full, "run_mount"), [r#"["foo"]"#]);
    assert_eq!(foo_sources(&full, "image_source"), [""]);
    // The stages starting from it share its paths: the RUN of image_source reads everything.
    assert_eq!(foo_sources(&full, "all"), [""]);
    let two = "FROM scratch AS foo\nFROM scratch\nCOPY --from=foo /a /b /\nCOPY --from=foo /c/ /\n";
    assert_eq!(foo_sources(two, ""), [r#"["a","b","c"]"#]);
}
