//! States from an existing `pb.Definition` (frontend inputs), and renamed source ops.

use std::collections::BTreeMap;
use std::sync::Arc;

use prost::Message;

use super::metadata::Metadata;
use super::state::{OpDigest, Output, State, Vertex};
use crate::proto::pb;

/// A definition that cannot be used as a state.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DefinitionError {
    /// An op that does not decode.
    #[error("op {0} is not a valid LLB op")]
    BadOp(usize),
    /// An input that names no earlier op.
    #[error("op {0} reads {1}, which is not defined before it")]
    MissingInput(usize, String),
    /// The last op is not a terminal with one input.
    #[error("the last op is not a terminal")]
    NoTerminal,
}

impl State {
    /// The state a definition ends in. Ops keep their bytes and metadata, so they keep their
    /// digests; an empty definition is scratch.
    pub fn from_definition(def: &pb::Definition) -> Result<State, DefinitionError> {
        let Some((terminal, ops)) = def.def.split_last() else {
            return Ok(State::scratch());
        };
        let mut vertices: BTreeMap<String, Arc<Vertex>> = BTreeMap::new();
        for (i, bytes) in ops.iter().enumerate() {
            let op = pb::Op::decode(bytes.as_slice()).map_err(|_| DefinitionError::BadOp(i))?;
            let deps = op
                .inputs
                .iter()
                .map(|input| {
                    let vertex = vertices
                        .get(&input.digest)
                        .ok_or_else(|| DefinitionError::MissingInput(i, input.digest.clone()))?;
                    Ok(Output {
                        vertex: Arc::clone(vertex),
                        index: input.index,
                    })
                })
                .collect::<Result<Vec<_>, DefinitionError>>()?;
            let digest = OpDigest::of(bytes);
            // Go writes `inputs` (field 1) first, as stager does: the same prefix rule holds.
            let inputs_len = (op.inputs.iter())
                .map(|i| prost::encoding::message::encoded_len(1, i))
                .sum();
            let vertex = Vertex {
                metadata: (def.metadata.get(digest.as_str()))
                    .map(Metadata::from_pb)
                    .unwrap_or_default(),
                digest,
                bytes: bytes.clone(),
                inputs_len,
                deps,
                locations: Vec::new(),
            };
            vertices.insert(digest.to_string(), Arc::new(vertex));
        }
        let last = pb::Op::decode(terminal.as_slice()).map_err(|_| DefinitionError::NoTerminal)?;
        match (last.op, last.inputs.as_slice()) {
            (None, [input]) => {
                let vertex = vertices.get(&input.digest).ok_or_else(|| {
                    DefinitionError::MissingInput(ops.len(), input.digest.clone())
                })?;
                Ok(State::from_vertex(Arc::clone(vertex), input.index))
            }
            _ => Err(DefinitionError::NoTerminal),
        }
    }

    /// The same op shown as `name`: its description holds only that name and it has no source
    /// locations (the digest does not change). Scratch stays scratch.
    pub fn renamed(&self, name: &str) -> State {
        let Some(out) = self.output() else {
            return State::scratch();
        };
        let mut metadata = out.vertex.metadata.to_pb();
        metadata.description = BTreeMap::from([("llb.customname".to_string(), name.to_string())])
            .into_iter()
            .collect();
        let metadata = Metadata::from_pb(&metadata);
        let vertex = Vertex {
            digest: out.vertex.digest,
            bytes: out.vertex.bytes.clone(),
            inputs_len: out.vertex.inputs_len,
            deps: out.vertex.deps.clone(),
            metadata,
            locations: Vec::new(),
        };
        State::from_vertex(Arc::new(vertex), out.index)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llb::{CopyOpts, FileActions, OpMeta, marshal};

    #[test]
    fn definition_round_trip_keeps_digests() {
        let img = State::image("alpine", Default::default(), OpMeta::default());
        let ctx = State::local("context", Default::default(), OpMeta::default());
        let out = img.file(
            FileActions::new().copy(&ctx, "/a", "/a", CopyOpts::default()),
            OpMeta {
                name: Some("copy".into()),
                ..OpMeta::default()
            },
        );
        let def = marshal(&out, None);
        let back = State::from_definition(&def).unwrap();
        assert_eq!(back, out);
        assert_eq!(marshal(&back, None), def);
        assert!(
            State::from_definition(&pb::Definition::default())
                .unwrap()
                .is_scratch()
        );
        let broken = pb::Definition {
            def: def.def[1..].to_vec(),
            ..def.clone()
        };
        assert!(matches!(
            State::from_definition(&broken),
            Err(DefinitionError::MissingInput(..))
        ));
    }

    #[test]
    fn renamed_keeps_the_op() {
        let meta = OpMeta {
            name: Some("[1/2] FROM alpine".into()),
            locations: vec![(1, 1)],
            ..OpMeta::default()
        };
        let img = State::image("alpine", Default::default(), meta);
        let r = img.renamed("[context alpine] alpine");
        assert_eq!(r.digest(), img.digest());
        let def = marshal(&r, None);
        let md = &def.metadata[&r.digest().unwrap()];
        assert_eq!(md.description.len(), 1);
        assert_eq!(md.description["llb.customname"], "[context alpine] alpine");
    }
}
