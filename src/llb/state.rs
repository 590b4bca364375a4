//! The vertex graph: a [`State`] is one output of one vertex, or scratch.
//!
//! Vertices are built eagerly: when an op is created its inputs are already final, so its bytes
//! and digest are computed once, at construction, and never change. The graph is immutable and
//! shared through `Arc`, so cloning a `State` is cheap.

use std::cell::RefCell;
use std::fmt;
use std::sync::Arc;

use sha2::{Digest as _, Sha256};

use super::OpMeta;
use super::marshal::encode_op;
use super::metadata::Metadata;
use crate::proto::pb;

/// One output of a vertex (an LLB op), or scratch (the empty filesystem, no vertex at all).
///
/// States are values: every builder method returns a new `State` and leaves its inputs alone.
#[derive(Clone, Default)]
pub struct State {
    out: Option<Output>,
}

/// A vertex plus the index of one of its outputs.
#[derive(Clone)]
pub(crate) struct Output {
    pub(crate) vertex: Arc<Vertex>,
    pub(crate) index: i64,
}

/// A marshalled op with everything `marshal` needs to place it in a `pb::Definition`.
pub(crate) struct Vertex {
    /// `sha256:<hex>` of `bytes`.
    pub(crate) digest: OpDigest,
    /// The op exactly as it goes into `Definition.def`.
    pub(crate) bytes: Vec<u8>,
    /// How many leading bytes of `bytes` are the encoded `Op.inputs` (field 1 comes first).
    pub(crate) inputs_len: usize,
    /// The vertices this one reads, in the order BuildKit's Go client walks them.
    pub(crate) deps: Vec<Output>,
    /// `OpMetadata`, encoded.
    pub(crate) metadata: Metadata,
    pub(crate) locations: Vec<(u32, u32)>,
}

impl State {
    /// The empty filesystem. It is not a vertex: ops that read it get input index `-1`.
    pub fn scratch() -> State {
        State { out: None }
    }

    /// Whether this is scratch.
    pub fn is_scratch(&self) -> bool {
        self.out.is_none()
    }

    /// `sha256:<hex>` of the vertex this state is an output of; `None` for scratch.
    pub fn digest(&self) -> Option<String> {
        self.out.as_ref().map(|o| o.vertex.digest.to_string())
    }

    /// The `pb::Input` that points at this state (`None` for scratch).
    pub fn input(&self) -> Option<pb::Input> {
        self.out.as_ref().map(|o| pb::Input {
            digest: o.vertex.digest.to_string(),
            index: o.index,
        })
    }

    pub(crate) fn from_vertex(vertex: Arc<Vertex>, index: i64) -> State {
        State {
            out: Some(Output { vertex, index }),
        }
    }

    pub(crate) fn output(&self) -> Option<&Output> {
        self.out.as_ref()
    }
}

impl PartialEq for State {
    fn eq(&self, other: &State) -> bool {
        match (&self.out, &other.out) {
            (None, None) => true,
            (Some(a), Some(b)) => a.index == b.index && a.vertex.digest == b.vertex.digest,
            _ => false,
        }
    }
}

impl Eq for State {}

impl fmt::Debug for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.out {
            None => f.write_str("State(scratch)"),
            Some(o) => write!(f, "State({}#{})", o.vertex.digest, o.index),
        }
    }
}

/// Drops long chains without recursing once per vertex (a 10,000-step graph would otherwise
/// overflow the stack when its last `State` goes away).
impl Drop for Vertex {
    fn drop(&mut self) {
        let mut pending = std::mem::take(&mut self.deps);
        while let Some(out) = pending.pop() {
            if let Ok(mut vertex) = Arc::try_unwrap(out.vertex) {
                pending.append(&mut vertex.deps);
            }
        }
    }
}

/// `Op.inputs` under construction: each distinct (digest, index) once, in first-use order.
#[derive(Default)]
pub(crate) struct Inputs {
    list: Vec<Output>,
}

impl Inputs {
    /// The index of `state` in the list (added if new), or `-1` for scratch.
    pub(crate) fn add(&mut self, state: &State) -> i64 {
        let Some(out) = state.output() else {
            return -1;
        };
        let known = (self.list.iter()).position(|i| {
            i.index == out.index
                && (Arc::ptr_eq(&i.vertex, &out.vertex) || i.vertex.digest == out.vertex.digest)
        });
        let pos = match known {
            Some(pos) => pos,
            None => {
                self.list.push(out.clone());
                self.list.len() - 1
            }
        };
        i64::try_from(pos).unwrap_or(i64::MAX)
    }

    pub(crate) fn len(&self) -> i64 {
        i64::try_from(self.list.len()).unwrap_or(i64::MAX)
    }

    /// Writes the list as `Op.inputs` (field 1), as prost would.
    pub(crate) fn encode(&self, buf: &mut Vec<u8>) {
        for input in &self.list {
            super::exec_encode::nested(buf, 1, |b| {
                super::exec_encode::bytes_field(b, 1, input.vertex.digest.as_bytes());
                super::exec_encode::varint_if_set(b, 2, input.index);
            });
        }
    }

    pub(crate) fn into_vec(self) -> Vec<pb::Input> {
        (self.list.into_iter())
            .map(|o| pb::Input {
                digest: o.vertex.digest.to_string(),
                index: o.index,
            })
            .collect()
    }
}

/// Adds `state` to a dependency list unless it is scratch or that very output is already there.
///
/// Equal vertices built separately both stay: `marshal` writes their op once but merges the
/// metadata of both, as the Go client does.
pub(crate) fn push_dep(deps: &mut Vec<Output>, state: &State) {
    if let Some(out) = state.output()
        && !deps
            .iter()
            .any(|d| d.index == out.index && Arc::ptr_eq(&d.vertex, &out.vertex))
    {
        deps.push(out.clone());
    }
}

/// Finishes an op: adds the worker constraints Go always writes, encodes it and digests it.
///
/// `op.platform` is left as the caller set it (only some op kinds carry one). `caps` are the
/// capabilities the op needs, merged with the caller's `meta.caps`.
pub(crate) fn new_vertex(mut op: pb::Op, deps: Vec<Output>, meta: OpMeta, caps: &[&str]) -> State {
    op.constraints = Some(pb::WorkerConstraints::default());
    let bytes = encode_op(&op);
    let inputs_len = (op.inputs.iter())
        .map(|i| prost::encoding::message::encoded_len(1, i))
        .sum();
    vertex_from_bytes(bytes, inputs_len, deps, meta, caps)
}

/// Finishes an op already encoded: `bytes` start with `inputs_len` bytes of `Op.inputs` and
/// carry the worker constraints.
pub(crate) fn vertex_from_bytes(
    bytes: Vec<u8>,
    inputs_len: usize,
    deps: Vec<Output>,
    meta: OpMeta,
    caps: &[&str],
) -> State {
    let metadata = Metadata::new(&meta, caps);
    let vertex = Vertex {
        digest: OpDigest::of(&bytes),
        bytes,
        inputs_len,
        deps,
        metadata,
        locations: meta.locations,
    };
    State::from_vertex(Arc::new(vertex), 0)
}

/// The bytes `write` appends to an empty buffer, in an allocation of exactly their length:
/// what a vertex keeps for the whole build.
///
/// They are written into one reused buffer of the thread and copied out, rather than into a
/// buffer sized by an upper bound and shrunk in place: glibc splits the block on a shrink and
/// frees the tail, which merges into the top of the heap and makes every such free sweep the
/// allocator's fast bins (a tenth of converting 10,000 RUN lines). The copy is a few hundred
/// bytes, and no bound has to be worked out per op: the buffer grows on the first ops only.
pub(crate) fn with_scratch(write: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    thread_local! {
        static SCRATCH: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
    }
    SCRATCH.with(|scratch| match scratch.try_borrow_mut() {
        Ok(mut buf) => {
            buf.clear();
            write(&mut buf);
            let out = buf.as_slice().to_vec();
            // Do not hold on to the buffer of one huge op.
            if buf.capacity() > SCRATCH_KEPT {
                *buf = Vec::new();
            }
            out
        }
        // Only if `write` itself makes an op.
        Err(_) => {
            let mut buf = Vec::new();
            write(&mut buf);
            buf.shrink_to_fit();
            buf
        }
    })
}

/// The largest scratch buffer kept between ops.
const SCRATCH_KEPT: usize = 1 << 16;

/// `sha256:<lowercase hex>` of an op's bytes, kept inline: no allocation per op, and
/// copied, compared and ordered as the string it spells.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct OpDigest([u8; 71]);

impl OpDigest {
    /// The digest of `bytes`.
    pub(crate) fn of(bytes: &[u8]) -> OpDigest {
        let sum = Sha256::digest(bytes);
        let mut out = [0u8; 71];
        out[..7].copy_from_slice(b"sha256:");
        for (i, b) in sum.iter().enumerate() {
            out[7 + 2 * i] = HEX[usize::from(b >> 4)];
            out[8 + 2 * i] = HEX[usize::from(b & 0xf)];
        }
        OpDigest(out)
    }

    /// The digest's bytes: what writers copy, without the text check of `as_str`.
    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The digest as text.
    pub(crate) fn as_str(&self) -> &str {
        // Only `of` makes one, from ASCII.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl std::ops::Deref for OpDigest {
    type Target = str;

    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Display for OpDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for OpDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

/// `sha256:<lowercase hex>` of `bytes`.
pub(crate) fn digest_of(bytes: &[u8]) -> String {
    let sum = Sha256::digest(bytes);
    let mut out = String::with_capacity(7 + 64);
    out.push_str("sha256:");
    for b in sum {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 0xf)]));
    }
    out
}

const HEX: &[u8; 16] = b"0123456789abcdef";

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn img(r: &str) -> State {
        State::image(r, BTreeMap::new(), OpMeta::default())
    }

    #[test]
    fn digest_of_empty_input() {
        assert_eq!(
            digest_of(b""),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn scratch_bytes_come_out_at_their_size_even_when_nested() {
        let outer = with_scratch(|buf| {
            buf.extend_from_slice(b"outer");
            let inner = with_scratch(|b| b.extend_from_slice(b"inner"));
            assert_eq!((inner.as_slice(), inner.capacity()), (&b"inner"[..], 5));
            buf.extend_from_slice(&inner);
        });
        assert_eq!(
            (outer.as_slice(), outer.capacity()),
            (&b"outerinner"[..], 10)
        );
        // A huge op does not leave its buffer behind, and the next one starts empty.
        let huge = with_scratch(|b| b.resize(SCRATCH_KEPT + 1, 7));
        assert_eq!(huge.len(), SCRATCH_KEPT + 1);
        assert_eq!(with_scratch(|b| b.push(1)), [1]);
    }

    #[test]
    fn scratch_has_no_digest_or_input() {
        let s = State::scratch();
        assert!(s.is_scratch());
        assert_eq!(s.digest(), None);
        assert_eq!(s.input(), None);
        assert_eq!(format!("{s:?}"), "State(scratch)");
    }

    #[test]
    fn inputs_dedup_in_first_use_order() {
        let (a, b) = (img("a"), img("b"));
        let mut inputs = Inputs::default();
        let got: Vec<i64> = [&a, &State::scratch(), &b, &a, &b]
            .into_iter()
            .map(|s| inputs.add(s))
            .collect();
        assert_eq!(got, [0, -1, 1, 0, 1]);
        assert_eq!(inputs.len(), 2);
    }

    #[test]
    fn identical_vertices_are_equal_states() {
        assert_eq!(img("alpine"), img("alpine"));
        assert_ne!(img("alpine"), img("busybox"));
    }

    #[test]
    fn metadata_merges_name_description_and_caps() {
        let meta = OpMeta {
            name: Some("[1/2] FROM alpine".into()),
            description: vec![("k", "v".into())],
            caps: vec!["x.cap"],
            ..OpMeta::default()
        };
        let md = Metadata::new(&meta, &["source.image"]).to_pb();
        assert_eq!(md.description["llb.customname"], "[1/2] FROM alpine");
        assert_eq!(md.description["k"], "v");
        let caps: Vec<&str> = md.caps.keys().map(String::as_str).collect();
        assert_eq!(caps, ["source.image", "x.cap"]);
    }
}
