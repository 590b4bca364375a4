//! Writing a Definition without first encoding all of it into one buffer.

use std::io::{self, Write};

use prost::Message;

use crate::proto::pb;

/// How many ops or metadata entries are encoded per buffer.
const CHUNK: usize = 256;

/// Writes `def` exactly as `def.encode_to_vec()` would, in chunks, freeing each part once it
/// is written: a protobuf message is the concatenation of its fields in field order, and a
/// repeated or map field the concatenation of its entries, so encoding the ops, the metadata
/// and the source a few at a time gives the same bytes with a fraction of the memory.
pub fn write_definition(def: pb::Definition, out: &mut impl Write) -> io::Result<()> {
    let pb::Definition {
        def: ops,
        mut metadata,
        source,
    } = def;
    let mut buf = Vec::new();
    let mut ops = ops.into_iter().peekable();
    while ops.peek().is_some() {
        let part = pb::Definition {
            def: ops.by_ref().take(CHUNK).collect(),
            ..pb::Definition::default()
        };
        flush(&part, &mut buf, out)?;
    }
    while !metadata.is_empty() {
        let mut part = pb::Definition::default();
        while part.metadata.len() < CHUNK
            && let Some((k, v)) = metadata.pop_first()
        {
            part.metadata.insert(k, v);
        }
        flush(&part, &mut buf, out)?;
    }
    let part = pb::Definition {
        source,
        ..pb::Definition::default()
    };
    flush(&part, &mut buf, out)
}

fn flush(part: &pb::Definition, buf: &mut Vec<u8>, out: &mut impl Write) -> io::Result<()> {
    buf.clear();
    part.encode(buf)
        .map_err(|e| io::Error::new(io::ErrorKind::OutOfMemory, e))?;
    out.write_all(buf)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llb::{Exec, OpMeta, State, marshal};
    use std::collections::BTreeMap;

    #[test]
    fn the_same_bytes_as_encoding_it_whole() {
        let mut state = State::image(
            "docker.io/library/alpine:latest",
            BTreeMap::new(),
            OpMeta::default(),
        );
        // More ops than one chunk, each with metadata and a location.
        for i in 0..(CHUNK * 2 + 7) {
            let meta = OpMeta {
                name: Some(format!("RUN {i}")),
                locations: vec![(i as u32 + 1, i as u32 + 1)],
                ..OpMeta::default()
            };
            let exec = Exec {
                args: vec!["true".into(), i.to_string()],
                cwd: "/".into(),
                ..Exec::default()
            };
            state = state.run(exec, meta).root();
        }
        let info = pb::SourceInfo {
            filename: "Dockerfile".into(),
            data: b"FROM alpine\n".to_vec(),
            definition: None,
            language: "Dockerfile".into(),
        };
        let def = marshal(&state, Some(info));
        assert!(def.def.len() > 2 * CHUNK && def.metadata.len() > 2 * CHUNK);
        let whole = def.encode_to_vec();
        let mut written = Vec::new();
        write_definition(def, &mut written).unwrap();
        assert_eq!(written, whole);
        // An empty Definition writes nothing, as it encodes to nothing.
        let mut empty = Vec::new();
        write_definition(pb::Definition::default(), &mut empty).unwrap();
        assert_eq!(empty, pb::Definition::default().encode_to_vec());
    }
}
