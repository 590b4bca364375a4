//! One build's LLB as the solver sees it: ops by index with their inputs, progress names,
//! Dockerfile lines and cache maps.

use std::collections::BTreeMap;

use prost::Message;
use sha2::{Digest, Sha256};

use super::Error;
use super::cache_map::{CacheMap, Rules, cache_map};
use crate::proto::pb;

/// The ops of one definition, dependencies first (as marshalled).
#[derive(Clone, Debug)]
pub(crate) struct Graph {
    pub vertices: Vec<Vertex>,
}

/// One op.
#[derive(Clone, Debug)]
pub(crate) struct Vertex {
    pub op: pb::Op,
    /// (vertex index, output index) per input.
    pub inputs: Vec<(usize, i64)>,
    /// The progress name BuildKit prints (`llb.customname`).
    pub name: Option<String>,
    /// First Dockerfile line of the op.
    pub line: Option<u32>,
    /// `--no-cache` for its stage.
    pub ignore_cache: bool,
    pub map: CacheMap,
}

impl Vertex {
    /// The local source's name (`context` for the build context), for local sources.
    pub fn local_name(&self) -> Option<&str> {
        match &self.op.op {
            Some(pb::op::Op::Source(s)) => s.identifier.strip_prefix("local://"),
            _ => None,
        }
    }

    /// A source op of any kind.
    pub fn is_source(&self) -> bool {
        matches!(self.op.op, Some(pb::op::Op::Source(_)))
    }

    /// The source identifier, for sources.
    pub fn identifier(&self) -> Option<&str> {
        match &self.op.op {
            Some(pb::op::Op::Source(s)) => Some(&s.identifier),
            _ => None,
        }
    }

    /// A source attribute.
    pub fn attr(&self, key: &str) -> Option<&str> {
        match &self.op.op {
            Some(pb::op::Op::Source(s)) => s.attrs.get(key).map(String::as_str),
            _ => None,
        }
    }

    /// The part of the progress name after `[stage i/N] `.
    pub fn command(&self) -> Option<&str> {
        let name = self.name.as_deref()?;
        Some(name.split_once("] ").map_or(name, |(_, c)| c))
    }

    /// Stage label and step number from `[stage i/N]` (`""` for the unnamed single stage).
    pub fn stage_step(&self) -> Option<(&str, u32)> {
        let inner = self
            .name
            .as_deref()?
            .strip_prefix('[')?
            .split_once(']')?
            .0
            .trim();
        // Numbers are padded to the width of the total: `[build  3/12]`.
        let (stage, count) = match inner.rsplit_once(' ') {
            Some((stage, count)) => (stage.trim(), count),
            None => ("", inner),
        };
        let step = count.split_once('/')?.0.parse().ok()?;
        Some((stage, step))
    }

    /// A step of the Dockerfile BuildKit prints with a `[stage i/N]` name (not a source).
    pub fn is_step(&self) -> bool {
        !self.is_source() && self.stage_step().is_some()
    }
}

fn digest(bytes: &[u8]) -> String {
    let hex: String = Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("sha256:{hex}")
}

impl Graph {
    /// Reads a marshalled definition.
    pub fn new(def: &pb::Definition, rules: Rules) -> Result<Graph, Error> {
        let mut index = BTreeMap::new();
        let mut ops = Vec::new();
        for bytes in &def.def {
            let op = pb::Op::decode(bytes.as_slice())
                .map_err(|e| Error::Definition(format!("an op does not decode: {e}")))?;
            // The terminal op only names the result.
            if op.op.is_none() {
                continue;
            }
            index.insert(digest(bytes), ops.len());
            ops.push((digest(bytes), op));
        }
        let locations = def.source.as_ref().map(pb::Source::locations_by_digest);
        let mut vertices = Vec::with_capacity(ops.len());
        for (dgst, op) in ops {
            let mut inputs = Vec::new();
            for input in &op.inputs {
                let Some(&i) = index.get(&input.digest) else {
                    return Err(Error::Definition(format!(
                        "input {} is not in the definition",
                        input.digest
                    )));
                };
                inputs.push((i, input.index));
            }
            let meta = def.metadata.get(&dgst);
            // An op several instructions produce (two FROMs of one image) has a location per
            // instruction; the last one walked, as its name (later descriptions win).
            let line = (locations.as_ref())
                .and_then(|l| l.get(dgst.as_str()))
                .and_then(|l| l.last())
                .and_then(|l| l.ranges.first())
                .and_then(|r| r.start.as_ref())
                .and_then(|p| u32::try_from(p.line).ok());
            let map = cache_map(&op, rules);
            vertices.push(Vertex {
                inputs,
                name: meta.and_then(|m| m.description.get("llb.customname").cloned()),
                line,
                ignore_cache: meta.is_some_and(|m| m.ignore_cache),
                map,
                op,
            });
        }
        Ok(Graph { vertices })
    }
}
