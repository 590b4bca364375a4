//! Writing a Definition without first encoding all of it into one buffer.

use std::io::{self, Write};

use prost::Message;
use prost::encoding::{WireType, encode_key, encode_varint, encoded_len_varint};

use super::State;
use super::fxhash::FxHashMap;
use super::marshal;
use super::metadata::Metadata;
use super::state::digest_of;
use crate::proto::pb;

/// Writes the Definition of the graph under `root`, byte for byte what
/// `marshal_owned(root, source_info).encode_to_vec()` gives, without making a
/// `pb::Definition`: each op's bytes are written as they are taken out of the graph and freed,
/// and its metadata goes out as the vertex kept it, encoded.
pub fn write_graph(
    root: State,
    source_info: Option<pb::SourceInfo>,
    out: &mut impl Write,
) -> io::Result<()> {
    if root.is_scratch() {
        return Ok(());
    }
    let terminal = marshal::encode_op(&marshal::terminal(&root));
    let mut parts = marshal::take_apart(root);
    // The first part of each digest stands for all parts with that digest.
    let owner: Vec<usize> = {
        let mut first: FxHashMap<&[u8], usize> = FxHashMap::default();
        first.reserve(parts.len());
        (parts.iter().enumerate())
            .map(|(i, p)| *first.entry(p.digest.as_bytes()).or_insert(i))
            .collect()
    };
    let mut buf = Vec::new();
    for (i, part) in parts.iter_mut().enumerate() {
        if owner[i] == i {
            bytes_field(1, &std::mem::take(&mut part.bytes), &mut buf, out)?;
        }
    }
    bytes_field(1, &terminal, &mut buf, out)?;

    // As in Go, metadata of equal ops is merged in walk order, and every vertex walked with
    // source lines adds a `Location` to its digest's entry, in walk order.
    let mut with_lines: Vec<(usize, usize)> = Vec::new();
    for i in 0..parts.len() {
        let o = owner[i];
        if o != i {
            let mut merged = parts[o].metadata.to_pb();
            marshal::merge_metadata(&mut merged, &parts[i].metadata.to_pb());
            parts[o].metadata = Metadata::from_pb(&merged);
        }
        if !parts[i].locations.is_empty() {
            with_lines.push((o, i));
        }
    }
    // Stable: the vertices of one digest stay in walk order.
    with_lines.sort_by_key(|&(o, _)| o);
    // Where each owner's vertices start in `with_lines` (they end where the next owner's start).
    let mut lines_from = vec![0usize; parts.len() + 1];
    for &(o, _) in &with_lines {
        lines_from[o + 1] += 1;
    }
    let mut seen = 0;
    for from in &mut lines_from {
        seen += *from;
        *from = seen;
    }
    let mut owners: Vec<usize> = (0..parts.len()).filter(|&i| owner[i] == i).collect();
    let terminal_md = Metadata::from_pb(&marshal::terminal_metadata(owners.iter().map(|&i| {
        let md = &parts[i].metadata;
        (md.ignore_cache, md.described, md.exports_cache)
    })));
    let terminal_digest = digest_of(&terminal);
    // By digest, compared first by the number its leading hex digits spell (the same order
    // for equal-length lower-case hex): comparing 10,000 whole strings cost as much as
    // writing them.
    let mut keyed: Vec<(u64, usize)> = (owners.iter())
        .map(|&i| (hex_prefix(parts[i].digest.as_bytes()), i))
        .collect();
    keyed.sort_unstable_by(|&(ka, a), &(kb, b)| {
        ka.cmp(&kb)
            .then_with(|| parts[a].digest.cmp(&parts[b].digest))
    });
    owners = keyed.into_iter().map(|(_, i)| i).collect();
    let mut terminal_entry = Some((terminal_digest.as_str(), terminal_md.bytes()));
    for part in owners.iter().map(|&i| &parts[i]) {
        if let Some((digest, md)) = terminal_entry
            && digest.as_bytes() < part.digest.as_bytes()
        {
            metadata_entry(digest.as_bytes(), md, &mut buf);
            terminal_entry = None;
        }
        metadata_entry(part.digest.as_bytes(), part.metadata.bytes(), &mut buf);
        if buf.len() >= CHUNK * 64 {
            out.write_all(&buf)?;
            buf.clear();
        }
    }
    if let Some((digest, md)) = terminal_entry {
        metadata_entry(digest.as_bytes(), md, &mut buf);
    }

    // Every digest walked has a locations entry, its lines only with a source info.
    // Sized for the usual entry (digest, one location of one line) so that it does not grow
    // by doubling, which briefly holds it twice, at the end of a big build.
    let info_len = source_info.as_ref().map_or(0, |i| i.encoded_len() + 8);
    let mut source = Vec::with_capacity(owners.len() * 96 + info_len);
    let with_info = source_info.is_some();
    for &o in &owners {
        let digest = parts[o].digest.as_bytes();
        let vertices = match with_lines.get(lines_from[o]..lines_from[o + 1]) {
            Some(vertices) if with_info => vertices,
            _ => &[],
        };
        let len: usize = (vertices.iter())
            .map(|&(_, i)| {
                let len = location_len(&parts[i].locations);
                1 + encoded_len_varint(len as u64) + len
            })
            .sum();
        // The value is written even when it is the empty message, as Go writes it (see
        // `Source` in proto/ops.proto).
        let value_len = 1 + encoded_len_varint(len as u64) + len;
        encode_key(1, WireType::LengthDelimited, &mut source);
        encode_varint((field_len(digest) + value_len) as u64, &mut source);
        encode_key(1, WireType::LengthDelimited, &mut source);
        encode_varint(digest.len() as u64, &mut source);
        source.extend_from_slice(digest);
        encode_key(2, WireType::LengthDelimited, &mut source);
        encode_varint(len as u64, &mut source);
        for &(_, i) in vertices {
            let lines = &parts[i].locations;
            let len = location_len(lines);
            encode_key(1, WireType::LengthDelimited, &mut source);
            encode_varint(len as u64, &mut source);
            encode_location(lines, &mut source);
        }
    }
    if let Some(info) = source_info {
        prost::encoding::message::encode(2, &info, &mut source);
    }
    encode_key(3, WireType::LengthDelimited, &mut buf);
    encode_varint(source.len() as u64, &mut buf);
    out.write_all(&buf)?;
    out.write_all(&source)
}

/// Writes a length-delimited field, its header through `buf` (flushed first).
fn bytes_field(tag: u32, bytes: &[u8], buf: &mut Vec<u8>, out: &mut impl Write) -> io::Result<()> {
    encode_key(tag, WireType::LengthDelimited, buf);
    encode_varint(bytes.len() as u64, buf);
    out.write_all(buf)?;
    buf.clear();
    out.write_all(bytes)
}

/// A `Definition.metadata` map entry; the value is left out when it is the default message,
/// as prost does.
fn metadata_entry(digest: &[u8], md: &[u8], buf: &mut Vec<u8>) {
    let value_len = if md.is_empty() {
        0
    } else {
        1 + encoded_len_varint(md.len() as u64) + md.len()
    };
    encode_key(2, WireType::LengthDelimited, buf);
    encode_varint((field_len(digest) + value_len) as u64, buf);
    encode_key(1, WireType::LengthDelimited, buf);
    encode_varint(digest.len() as u64, buf);
    buf.extend_from_slice(digest);
    if !md.is_empty() {
        encode_key(2, WireType::LengthDelimited, buf);
        encode_varint(md.len() as u64, buf);
        buf.extend_from_slice(md);
    }
}

/// A `Position { line }` (character 0, not written; nor is line 0).
fn position_len(line: u32) -> usize {
    match line_value(line) {
        0 => 0,
        n => 1 + encoded_len_varint(n),
    }
}

fn line_value(line: u32) -> u64 {
    // As `marshal::locations`: an int32, so lines past i32::MAX are clamped.
    u64::from(line.min(i32::MAX as u32))
}

/// Encoded length of one `Range`'s body.
fn range_len(&(start, end): &(u32, u32)) -> usize {
    2 + position_len(start) + 2 + position_len(end)
}

/// Encoded length of the body of one `Location` of source 0 (not written, being 0) with one
/// range per line pair.
fn location_len(lines: &[(u32, u32)]) -> usize {
    (lines.iter())
        .map(|r| {
            let len = range_len(r);
            1 + encoded_len_varint(len as u64) + len
        })
        .sum()
}

/// Writes the body of one `Location` (see [`location_len`]) as prost encodes it, without
/// making the message.
fn encode_location(lines: &[(u32, u32)], buf: &mut Vec<u8>) {
    let position = |line: u32, tag: u32, buf: &mut Vec<u8>| {
        encode_key(tag, WireType::LengthDelimited, buf);
        encode_varint(position_len(line) as u64, buf);
        if line_value(line) != 0 {
            encode_key(1, WireType::Varint, buf);
            encode_varint(line_value(line), buf);
        }
    };
    for r in lines {
        encode_key(2, WireType::LengthDelimited, buf);
        encode_varint(range_len(r) as u64, buf);
        position(r.0, 1, buf);
        position(r.1, 2, buf);
    }
}

/// Encoded length of a non-empty string field with a one-byte tag.
fn field_len(s: &[u8]) -> usize {
    1 + encoded_len_varint(s.len() as u64) + s.len()
}

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

/// The first 16 hex digits after `sha256:` as a number (0 where they are not hex): digests
/// of one algorithm order as their strings do when this is compared first.
fn hex_prefix(digest: &[u8]) -> u64 {
    let hex = digest.strip_prefix(b"sha256:").unwrap_or(digest);
    let Some(head) = hex.get(..16) else {
        return 0;
    };
    let mut n = 0u64;
    for &c in head {
        let digit = match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            _ => return 0,
        };
        n = n << 4 | u64::from(digit);
    }
    n
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
        let def = marshal(&state, Some(info.clone()));
        assert!(def.def.len() > 2 * CHUNK && def.metadata.len() > 2 * CHUNK);
        let whole = def.encode_to_vec();
        let mut written = Vec::new();
        write_definition(def, &mut written).unwrap();
        assert_eq!(written, whole);
        // Straight from the graph, the same bytes again.
        let mut streamed = Vec::new();
        write_graph(state, Some(info), &mut streamed).unwrap();
        assert_eq!(streamed, whole);
        // An empty Definition writes nothing, as it encodes to nothing.
        let mut empty = Vec::new();
        write_definition(pb::Definition::default(), &mut empty).unwrap();
        assert_eq!(empty, pb::Definition::default().encode_to_vec());
    }

    /// Equal ops built twice (metadata merged, the last lines win), scratch inputs, an op
    /// without metadata, with and without a source info.
    #[test]
    fn write_graph_gives_what_marshal_encodes() {
        use crate::llb::{CopyOpts, FileActions};
        let img = |name: Option<&str>, lines: Vec<(u32, u32)>, ignore_cache: bool| {
            let meta = OpMeta {
                name: name.map(str::to_owned),
                locations: lines,
                ignore_cache,
                ..OpMeta::default()
            };
            State::image("docker.io/library/alpine:latest", BTreeMap::new(), meta)
        };
        let a = img(Some("first"), vec![(1, 1)], false);
        let b = img(None, vec![(2, 3), (5, 5)], true);
        let c = img(Some("third"), Vec::new(), false);
        let run = a.run(
            Exec {
                args: vec!["true".into()],
                cwd: "/".into(),
                ..Exec::default()
            },
            OpMeta::default(),
        );
        let root = State::scratch().file(
            FileActions::new()
                .copy(&run.root(), "/a", "/a", CopyOpts::default())
                .copy(&b, "/b", "/b", CopyOpts::default())
                .copy(&c, "/c", "/c", CopyOpts::default()),
            OpMeta {
                name: Some("copy".into()),
                locations: vec![(9, 9)],
                ..OpMeta::default()
            },
        );
        let info = pb::SourceInfo {
            filename: "Dockerfile".into(),
            data: b"FROM alpine\n".to_vec(),
            definition: None,
            language: "Dockerfile".into(),
        };
        for (state, info) in [
            (root.clone(), None),
            (root, Some(info.clone())),
            (c, Some(info)),
            (State::scratch(), None),
        ] {
            let whole = marshal(&state, info.clone()).encode_to_vec();
            let mut streamed = Vec::new();
            write_graph(state, info, &mut streamed).unwrap();
            assert_eq!(streamed, whole);
        }
    }

    #[test]
    fn locations_as_prost_encodes_them() {
        let cases: [&[(u32, u32)]; 5] = [
            &[(1, 1)],
            &[(0, 0)],
            &[(2, 3), (5, 5), (300, 70_000)],
            &[(u32::MAX, u32::MAX)],
            &[(1, 1); 40],
        ];
        for lines in cases {
            let want = marshal::locations(vec![lines.to_vec()]).locations[0].encode_to_vec();
            let mut got = Vec::new();
            encode_location(lines, &mut got);
            assert_eq!(got, want, "{lines:?}");
            assert_eq!(location_len(lines), want.len());
        }
    }

    /// Sorting by the hex prefix first gives the order of the digest strings.
    #[test]
    fn hex_prefix_orders_digests_as_strings() {
        let digests: Vec<String> = (0..2000u32).map(|i| digest_of(&i.to_le_bytes())).collect();
        let mut by_string = digests.clone();
        by_string.sort();
        let mut by_prefix = digests;
        by_prefix.sort_by(|a, b| {
            hex_prefix(a.as_bytes())
                .cmp(&hex_prefix(b.as_bytes()))
                .then_with(|| a.cmp(b))
        });
        assert_eq!(by_prefix, by_string);
        assert!(hex_prefix(by_string[0].as_bytes()) < hex_prefix(by_string[1999].as_bytes()));
    }
}
