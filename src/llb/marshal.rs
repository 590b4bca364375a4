//! The deterministic `pb::Definition` marshaller, and the byte encoding of one op.

use std::collections::BTreeMap;
use std::collections::btree_map::Entry;
use std::sync::Arc;

use prost::Message;
use prost::encoding::{WireType, encode_key, encode_varint};

use super::fxhash::FxHashSet;
use super::metadata::Metadata;
use super::state::{OpDigest, State, Vertex, digest_of};
use crate::proto::pb;

/// Marshals everything `root` depends on into a Definition.
///
/// Ops are deduplicated by digest and listed dependencies first, in the order BuildKit's Go client
/// walks the graph; the last element is a terminal `Op { inputs: [root] }` with no op. Metadata
/// is keyed by `sha256:…` digest (ops that share a digest have theirs merged); the terminal op's
/// metadata lists the caps the definition as a whole needs. As in Go, every digest walked has a
/// source locations entry, empty when its vertices have no lines; the lines themselves are
/// written only when `source_info` is given, which becomes `infos[0]`. A scratch root gives an
/// empty Definition.
pub fn marshal(root: &State, source_info: Option<pb::SourceInfo>) -> pb::Definition {
    marshal_owned(root.clone(), source_info)
}

/// [`marshal`], moving each op's bytes and metadata out of the graph instead of copying them
/// where `root` holds the only reference to a vertex (the graph is consumed): a converted
/// Dockerfile's ops then exist once, not twice, while the Definition is made.
pub fn marshal_owned(root: State, source_info: Option<pb::SourceInfo>) -> pb::Definition {
    if root.is_scratch() {
        return pb::Definition::default();
    }
    let terminal = terminal(&root);
    let parts = take_apart(root);
    let mut walk = Walk::default();
    for part in parts {
        walk.record(part);
    }

    let bytes = encode_op(&terminal);
    let terminal_md = terminal_metadata(walk.metadata.values().map(|md| {
        (
            md.ignore_cache,
            !md.description.is_empty(),
            md.export_cache.is_some(),
        )
    }));
    walk.metadata.insert(digest_of(&bytes), terminal_md);
    walk.def.push(bytes);

    let with_lines = source_info.is_some();
    let source = pb::Source {
        infos: source_info.into_iter().collect(),
        locations: (walk.locations.into_iter())
            .map(|(digest, per_vertex)| {
                let per_vertex = if with_lines { per_vertex } else { Vec::new() };
                // Written even when empty, as Go writes it (see ops.proto).
                pb::source::LocationsEntry {
                    key: digest,
                    value: Some(locations(per_vertex)),
                }
            })
            .collect(),
    };
    pb::Definition {
        def: walk.def,
        metadata: walk.metadata,
        source: Some(source),
    }
}

/// The terminal op of a Definition whose root is `root`: `Op { inputs: [root] }`, no op.
pub(super) fn terminal(root: &State) -> pb::Op {
    pb::Op {
        inputs: root.input().into_iter().collect(),
        ..pb::Op::default()
    }
}

/// The terminal op's metadata: the caps the definition as a whole needs, from each op's
/// (merged) metadata flags `(ignore_cache, described, export_cache)`.
pub(super) fn terminal_metadata(flags: impl Iterator<Item = (bool, bool, bool)>) -> pb::OpMetadata {
    let mut caps: BTreeMap<String, bool> = ["constraints", "platform"]
        .into_iter()
        .map(|c| (c.to_owned(), true))
        .collect();
    for (ignore_cache, described, export_cache) in flags {
        if ignore_cache {
            caps.insert("meta.ignorecache".to_owned(), true);
        }
        if described {
            caps.insert("meta.description".to_owned(), true);
        }
        if export_cache {
            caps.insert("meta.exportcache".to_owned(), true);
        }
    }
    pb::OpMetadata {
        caps,
        ..pb::OpMetadata::default()
    }
}

/// Every vertex under `root` once, in the order BuildKit's Go client walks them, each moved
/// out of the graph where `root` held the only reference to it (copied otherwise).
pub(super) fn take_apart(root: State) -> Vec<Part> {
    let Some(out) = root.output() else {
        return Vec::new();
    };
    let mut order = post_order(&out.vertex);
    drop(root);
    // Users before their dependencies: once a vertex is taken apart, the references its deps
    // held go away, so the deps are unique when their turn comes.
    let mut parts = Vec::with_capacity(order.len());
    while let Some(vertex) = order.pop() {
        parts.push(Part::from(vertex));
    }
    parts.reverse();
    parts
}

/// Encodes an op the way the Go client of BuildKit v0.32 (dockerfile 1.26) does, so that digests
/// agree: `inputs`, `platform`, `constraints`, then the `op` oneof (protobuf-go's deterministic
/// order puts oneof members after the other fields; gogo-era clients, BuildKit v0.13 and
/// older, wrote them in field-number order), and source attributes as map entries that always
/// carry both key and value (prost skips empty ones).
pub(crate) fn encode_op(op: &pb::Op) -> Vec<u8> {
    super::state::with_scratch(|buf| {
        for input in &op.inputs {
            prost::encoding::message::encode(1, input, buf);
        }
        if let Some(platform) = &op.platform {
            prost::encoding::message::encode(10, platform, buf);
        }
        if let Some(constraints) = &op.constraints {
            prost::encoding::message::encode(11, constraints, buf);
        }
        match &op.op {
            Some(pb::op::Op::Source(src)) => {
                let body = encode_source(src);
                encode_key(3, WireType::LengthDelimited, buf);
                encode_varint(body.len() as u64, buf);
                buf.extend_from_slice(&body);
            }
            Some(other) => other.encode(buf),
            None => {}
        }
    })
}

fn encode_source(src: &pb::SourceOp) -> Vec<u8> {
    let mut buf = Vec::with_capacity(src.encoded_len() + 4 * src.attrs.len());
    if !src.identifier.is_empty() {
        prost::encoding::string::encode(1, &src.identifier, &mut buf);
    }
    for (key, value) in &src.attrs {
        let entry_len = field_len(key) + field_len(value);
        encode_key(2, WireType::LengthDelimited, &mut buf);
        encode_varint(entry_len as u64, &mut buf);
        prost::encoding::string::encode(1, key, &mut buf);
        prost::encoding::string::encode(2, value, &mut buf);
    }
    buf
}

/// Encoded length of a string field with a one-byte tag.
fn field_len(s: &str) -> usize {
    1 + prost::encoding::encoded_len_varint(s.len() as u64) + s.len()
}

/// One `Location` per vertex walked with lines, in walk order (Go appends each vertex's).
pub(super) fn locations(per_vertex: Vec<Vec<(u32, u32)>>) -> pb::Locations {
    let pos = |line: u32| pb::Position {
        line: i32::try_from(line).unwrap_or(i32::MAX),
        character: 0,
    };
    let location = |lines: Vec<(u32, u32)>| pb::Location {
        source_index: 0,
        ranges: lines
            .into_iter()
            .map(|(start, end)| pb::Range {
                start: Some(pos(start)),
                end: Some(pos(end)),
            })
            .collect(),
    };
    pb::Locations {
        locations: per_vertex.into_iter().map(location).collect(),
    }
}

/// Every vertex under `root` once (by address: a graph may hold equal vertices built twice),
/// dependencies before users, in the order BuildKit's Go client walks them. Iterative, so deep
/// graphs cannot overflow the stack.
fn post_order(root: &Arc<Vertex>) -> Vec<Arc<Vertex>> {
    let mut order = Vec::new();
    let mut walked: FxHashSet<usize> = FxHashSet::default();
    let mut stack: Vec<(Arc<Vertex>, usize)> = vec![(root.clone(), 0)];
    while let Some((vertex, next)) = stack.pop() {
        if walked.contains(&address(&vertex)) {
            continue;
        }
        if let Some(dep) = vertex.deps.get(next) {
            let dep = dep.vertex.clone();
            stack.push((vertex, next + 1));
            if !walked.contains(&address(&dep)) {
                stack.push((dep, 0));
            }
            continue;
        }
        walked.insert(address(&vertex));
        order.push(vertex);
    }
    order
}

/// What the Definition takes from one vertex.
pub(super) struct Part {
    pub(super) digest: OpDigest,
    pub(super) bytes: Vec<u8>,
    pub(super) metadata: Metadata,
    pub(super) locations: Vec<(u32, u32)>,
}

impl From<Arc<Vertex>> for Part {
    /// Moves the fields out of a vertex nothing else refers to, copies them otherwise.
    fn from(vertex: Arc<Vertex>) -> Part {
        match Arc::try_unwrap(vertex) {
            Ok(mut v) => Part {
                digest: v.digest,
                bytes: std::mem::take(&mut v.bytes),
                metadata: std::mem::take(&mut v.metadata),
                locations: std::mem::take(&mut v.locations),
            },
            Err(shared) => Part {
                digest: shared.digest,
                bytes: shared.bytes.clone(),
                metadata: shared.metadata.clone(),
                locations: shared.locations.clone(),
            },
        }
    }
}

/// The Definition under construction: each digest written once, in walk order.
#[derive(Default)]
struct Walk {
    def: Vec<Vec<u8>>,
    metadata: BTreeMap<String, pb::OpMetadata>,
    /// Per digest, the lines of each vertex walked with it that has any.
    locations: BTreeMap<String, Vec<Vec<(u32, u32)>>>,
}

impl Walk {
    fn record(&mut self, v: Part) {
        // Every digest walked gets metadata, so a vacant entry means a digest not yet written.
        let first = match self.metadata.entry(v.digest.to_string()) {
            Entry::Vacant(e) => {
                e.insert(v.metadata.to_pb());
                true
            }
            Entry::Occupied(mut e) => {
                merge_metadata(e.get_mut(), &v.metadata.to_pb());
                false
            }
        };
        // BuildKit v0.32's Go client appends every vertex's locations (equal vertices built
        // twice, such as two `FROM busybox`, give one op with both lines).
        let lines = self.locations.entry(v.digest.to_string()).or_default();
        if !v.locations.is_empty() {
            lines.push(v.locations);
        }
        if first {
            self.def.push(v.bytes);
        }
    }
}

fn address(v: &Arc<Vertex>) -> usize {
    Arc::as_ptr(v) as usize
}

/// Go's `mergeMetadata`: flags and caps add up, later descriptions and groups win.
pub(super) fn merge_metadata(into: &mut pb::OpMetadata, from: &pb::OpMetadata) {
    into.ignore_cache |= from.ignore_cache;
    into.description.extend(from.description.clone());
    into.caps.extend(from.caps.clone());
    if from.export_cache.is_some() {
        into.export_cache = from.export_cache;
    }
    if from.progress_group.is_some() {
        into.progress_group.clone_from(&from.progress_group);
    }
    if from.linux_resources.is_some() {
        into.linux_resources.clone_from(&from.linux_resources);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llb::{CopyOpts, Exec, FileActions, OpMeta, Platform};
    use prost::Message;
    use std::collections::BTreeSet;

    fn img(r: &str) -> State {
        State::image(r, BTreeMap::new(), OpMeta::default())
    }

    fn linux() -> Option<std::sync::Arc<Platform>> {
        Some(std::sync::Arc::new(Platform {
            os: "linux".into(),
            architecture: "amd64".into(),
            variant: None,
            os_version: None,
        }))
    }

    /// image -> run -> copy onto scratch, with names, lines and a platform.
    fn small_graph() -> State {
        let base = State::image(
            "docker.io/library/alpine:latest",
            BTreeMap::new(),
            OpMeta {
                name: Some("[1/3] FROM alpine".into()),
                locations: vec![(1, 1)],
                platform: linux(),
                ..OpMeta::default()
            },
        );
        let run = base.run(
            Exec {
                args: vec!["/bin/sh".into(), "-c".into(), "echo hi > /hi".into()],
                env: vec!["PATH=/usr/bin:/bin".to_owned()].into(),
                cwd: "/".into(),
                ..Exec::default()
            },
            OpMeta {
                name: Some("[2/3] RUN echo hi > /hi".into()),
                locations: vec![(2, 3)],
                platform: linux(),
                ..OpMeta::default()
            },
        );
        State::scratch().file(
            FileActions::new().copy(&run.root(), "/hi", "/hi", CopyOpts::default()),
            OpMeta::default(),
        )
    }

    fn decode(bytes: &[u8]) -> pb::Op {
        pb::Op::decode(bytes).unwrap()
    }

    #[test]
    fn small_graph_digests_are_stable() {
        // Computed once and checked by hand-decoding the bytes: the image op is
        // `52 0e <Platform amd64 linux> 5a 00 1a 30 <SourceOp>`, the exec op starts with its input
        // and carries `removeMountStubsRecursive` (58 01), the file op has no platform and
        // `mode`/`timestamp` -1. A change here changes every cache key: it must be deliberate.
        let def = marshal(&small_graph(), None);
        let digests: Vec<String> = def.def.iter().map(|b| digest_of(b)).collect();
        assert_eq!(
            digests,
            [
                "sha256:a7f9733e307dd352c82d43053b783dd17bb2ec2c36214908ce393e41545c8b51",
                "sha256:08ec265100d6ad093b94152efb48ed474f59799e3edd9dd52045fb61832cc0ee",
                "sha256:e81e5759aa2a073708cf502783f820448533dd79eaf776aacaba38ae1eb21b8c",
                "sha256:be6e9f6823df9b07ac6bc001d4dfc67197bd63bf20bde51dc9598dc21683d621",
            ]
        );
    }

    #[test]
    fn small_graph_decodes() {
        let def = marshal(&small_graph(), None);
        let ops: Vec<pb::Op> = def.def.iter().map(|b| decode(b)).collect();
        assert!(matches!(ops[0].op, Some(pb::op::Op::Source(_))));
        assert!(matches!(ops[1].op, Some(pb::op::Op::Exec(_))));
        assert!(matches!(ops[2].op, Some(pb::op::Op::File(_))));
        assert_eq!(ops[3].op, None);
        assert_eq!(ops[0].platform.as_ref().unwrap().os, "linux");
        // Re-encoding with our encoder gives the same bytes back.
        for (op, bytes) in ops.iter().zip(&def.def) {
            assert_eq!(&encode_op(op), bytes);
        }
    }

    #[test]
    fn op_oneof_after_platform_and_constraints() {
        let s = State::image(
            "x",
            BTreeMap::from([("k".to_owned(), String::new())]),
            OpMeta {
                platform: linux(),
                ..OpMeta::default()
            },
        );
        let bytes = &marshal(&s, None).def[0];
        // As protobuf-go writes an Op: 10 (platform), 11 (constraints, empty), then the oneof
        // member 3 (source).
        assert_eq!(bytes[0], 10 << 3 | 2);
        let platform_len = usize::from(bytes[1]);
        assert_eq!(
            &bytes[2 + platform_len..4 + platform_len],
            &[11 << 3 | 2, 0]
        );
        assert_eq!(bytes[4 + platform_len], 3 << 3 | 2);
        // The attribute entry keeps its empty value: 0a 01 'k' 12 00.
        let entry = [2 << 3 | 2, 5, 0x0a, 1, b'k', 0x12, 0];
        assert!(bytes.windows(entry.len()).any(|w| w == entry), "{bytes:?}");
    }

    #[test]
    fn dependencies_come_first_and_terminal_last() {
        let def = marshal(&small_graph(), None);
        let mut seen = BTreeSet::new();
        for bytes in &def.def {
            for input in decode(bytes).inputs {
                assert!(
                    seen.contains(&input.digest),
                    "{} used before defined",
                    input.digest
                );
            }
            seen.insert(digest_of(bytes));
        }
        let terminal = decode(def.def.last().unwrap());
        assert_eq!(terminal.op, None);
        assert_eq!(terminal.inputs.len(), 1);
        assert_eq!(
            Some(terminal.inputs[0].digest.clone()),
            small_graph().digest()
        );
        let caps = &def.metadata[&digest_of(def.def.last().unwrap())].caps;
        let caps: Vec<&str> = caps.keys().map(String::as_str).collect();
        assert_eq!(caps, ["constraints", "meta.description", "platform"]);
    }

    #[test]
    fn identical_vertices_are_written_once_with_merged_metadata() {
        let a1 = State::image(
            "a",
            BTreeMap::new(),
            OpMeta {
                ignore_cache: true,
                ..OpMeta::default()
            },
        );
        let a2 = State::image(
            "a",
            BTreeMap::new(),
            OpMeta {
                name: Some("second".into()),
                ..OpMeta::default()
            },
        );
        assert_eq!(a1.digest(), a2.digest());
        let m = State::merge(&[a1, img("b"), a2], OpMeta::default());
        let def = marshal(&m, None);
        assert_eq!(def.def.len(), 4);
        let md = &def.metadata[&img("a").digest().unwrap()];
        assert!(md.ignore_cache);
        assert_eq!(md.description["llb.customname"], "second");
        assert_eq!(def.metadata.len(), 4);
    }

    #[test]
    fn equal_vertices_add_up_their_locations_in_walk_order() {
        // Two `FROM alpine` lines are two vertices with one digest: Go's client appends both
        // locations to the one op, the dependency walked first first.
        let image = |line| {
            State::image(
                "docker.io/library/alpine:latest",
                BTreeMap::new(),
                OpMeta {
                    locations: vec![(line, line)],
                    platform: linux(),
                    ..OpMeta::default()
                },
            )
        };
        let (first, second) = (image(4), image(1));
        let root = State::scratch()
            .file(
                FileActions::new().copy(&first, "/a", "/a", CopyOpts::default()),
                OpMeta::default(),
            )
            .file(
                FileActions::new().copy(&second, "/b", "/b", CopyOpts::default()),
                OpMeta::default(),
            );
        let def = marshal(&root, Some(pb::SourceInfo::default()));
        let source = def.source.unwrap();
        let image_digest = digest_of(&def.def[0]);
        let lines: Vec<i32> = source.locations_by_digest()[image_digest.as_str()]
            .iter()
            .map(|l| l.ranges[0].start.unwrap().line)
            .collect();
        assert_eq!(lines, [4, 1]);
    }

    #[test]
    fn scratch_root_gives_empty_definition() {
        assert_eq!(marshal(&State::scratch(), None), pb::Definition::default());
        let info = pb::SourceInfo::default();
        assert_eq!(
            marshal(&State::scratch(), Some(info)),
            pb::Definition::default()
        );
    }

    #[test]
    fn source_locations_only_with_source_info() {
        let root = small_graph();
        // Without a source map every op still has an entry, an empty one, as Go writes it.
        let bare = marshal(&root, None).source.unwrap();
        assert!(bare.infos.is_empty());
        assert_eq!(bare.locations.len(), 3);
        // The empty value is there, so that it is written (see ops.proto).
        assert!((bare.locations.iter()).all(|e| e.value == Some(pb::Locations::default())));
        let bytes = bare.encode_to_vec();
        let entry = &bare.locations[0];
        // field 1 (entry) { field 1 (key): digest, field 2 (value): empty }
        let mut want = vec![0x0a, 2 + 71 + 2, 0x0a, 71];
        want.extend_from_slice(entry.key.as_bytes());
        want.extend_from_slice(&[0x12, 0x00]);
        assert_eq!(bytes[..want.len()], want[..]);
        let info = pb::SourceInfo {
            filename: "Dockerfile".into(),
            data: b"FROM alpine\nRUN echo hi \\\n  > /hi\n".to_vec(),
            language: "Dockerfile".into(),
            definition: None,
        };
        let def = marshal(&root, Some(info.clone()));
        let source = def.source.unwrap();
        assert_eq!(source.infos, [info]);
        let digests: Vec<String> = def.def.iter().map(|b| digest_of(b)).collect();
        assert_eq!(source.locations.len(), 3);
        let by_digest = source.locations_by_digest();
        assert!(by_digest[digests[2].as_str()].is_empty());
        let lines = |d: &str| -> Vec<(i32, i32, i32)> {
            let locs = by_digest[d];
            assert_eq!(locs.len(), 1);
            assert_eq!(locs[0].source_index, 0);
            locs[0]
                .ranges
                .iter()
                .map(|r| {
                    (
                        r.start.unwrap().line,
                        r.end.unwrap().line,
                        r.start.unwrap().character,
                    )
                })
                .collect()
        };
        assert_eq!(lines(&digests[0]), [(1, 1, 0)]);
        assert_eq!(lines(&digests[1]), [(2, 3, 0)]);
    }

    #[test]
    fn marshal_is_deterministic() {
        let a = marshal(&small_graph(), None).encode_to_vec();
        let b = marshal(&small_graph(), None).encode_to_vec();
        assert_eq!(a, b);
    }

    #[test]
    fn deep_chains_do_not_overflow() {
        let mut s = img("base");
        for i in 0..5000 {
            s = s.file(
                FileActions::new().rm(&format!("/f{i}"), true, false),
                OpMeta::default(),
            );
        }
        assert_eq!(marshal(&s, None).def.len(), 5002);
    }
}
