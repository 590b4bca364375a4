//! An op's `OpMetadata`, kept encoded in its vertex.
//!
//! A typed `pb::OpMetadata` costs two B-tree maps of owned strings per op (about a kilobyte
//! for a RUN); the encoded form is one buffer of the bytes the Definition carries anyway.
//! It is written straight into a Definition's map entry and decoded only where a typed
//! `pb::Definition` is asked for, or where two equal ops' metadata must be merged.

use prost::Message;
use prost::encoding::{WireType, encode_key, encode_varint, encoded_len_varint};

use super::OpMeta;
use crate::proto::pb;

/// `OpMetadata` bytes, exactly as prost encodes the message, with the two flags the terminal
/// op's caps depend on.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Metadata {
    bytes: Vec<u8>,
    /// `ignore_cache` is set.
    pub(crate) ignore_cache: bool,
    /// `description` is not empty.
    pub(crate) described: bool,
    /// `export_cache` is set (only in metadata read from a Definition).
    pub(crate) exports_cache: bool,
}

/// The description key the progress name is written under.
const CUSTOM_NAME: &str = "llb.customname";

impl Metadata {
    /// The metadata of an op made with `meta` that needs `caps` (merged with `meta.caps`):
    /// the name becomes `description["llb.customname"]`.
    pub(crate) fn new(meta: &OpMeta, caps: &[&str]) -> Metadata {
        let name = meta.name.as_deref();
        let bytes = super::state::with_scratch(|bytes| {
            Self::write(meta, name, caps, bytes);
        });
        Metadata {
            bytes,
            ignore_cache: meta.ignore_cache,
            described: name.is_some() || !meta.description.is_empty(),
            exports_cache: false,
        }
    }

    /// Writes the `OpMetadata` of [`Metadata::new`] into `bytes`.
    fn write(meta: &OpMeta, name: Option<&str>, caps: &[&str], bytes: &mut Vec<u8>) {
        if meta.ignore_cache {
            encode_key(1, WireType::Varint, bytes);
            bytes.push(1);
        }
        // The description in key order (each key is there once), the name in its place
        // (replacing a described one).
        let pairs = (meta.description.iter()).map(|(k, v)| (*k, v.as_str()));
        with_sorted::<_, 4>(("", ""), pairs, meta.description.len(), |described| {
            let mut name_written = name.is_none();
            for &(key, value) in described {
                if name.is_some() && key == CUSTOM_NAME {
                    continue;
                }
                if !name_written && key > CUSTOM_NAME {
                    string_entry(2, CUSTOM_NAME, name.unwrap_or_default(), bytes);
                    name_written = true;
                }
                string_entry(2, key, value, bytes);
            }
            if !name_written {
                string_entry(2, CUSTOM_NAME, name.unwrap_or_default(), bytes);
            }
        });
        let merged = (meta.caps.iter().copied()).chain(caps.iter().copied());
        with_sorted::<_, 16>("", merged, meta.caps.len() + caps.len(), |all| {
            let mut previous = None;
            for &cap in all {
                if previous == Some(cap) {
                    continue;
                }
                previous = Some(cap);
                // map<string, bool> entry: key, then `true` (a false value is never written).
                let len = if cap.is_empty() { 0 } else { field_len(cap) } + 2;
                encode_key(5, WireType::LengthDelimited, bytes);
                encode_varint(len as u64, bytes);
                if !cap.is_empty() {
                    bytes_field(1, cap, bytes);
                }
                encode_key(2, WireType::Varint, bytes);
                bytes.push(1);
            }
        });
        if let Some(group) = &meta.progress_group {
            prost::encoding::message::encode(6, group, bytes);
        }
        if let Some(resources) = &meta.linux_resources {
            prost::encoding::message::encode(7, resources, bytes);
        }
    }

    /// Typed metadata, encoded.
    pub(crate) fn from_pb(md: &pb::OpMetadata) -> Metadata {
        Metadata {
            bytes: md.encode_to_vec(),
            ignore_cache: md.ignore_cache,
            described: !md.description.is_empty(),
            exports_cache: md.export_cache.is_some(),
        }
    }

    /// The typed message (bytes this module wrote always decode).
    pub(crate) fn to_pb(&self) -> pb::OpMetadata {
        pb::OpMetadata::decode(self.bytes.as_slice()).unwrap_or_default()
    }

    /// The encoded message; empty for the default one.
    pub(crate) fn bytes(&self) -> &[u8] {
        &self.bytes
    }
}

/// Calls `f` with the `count` `items` sorted: on the stack when they are at most `N` (the
/// usual op: no allocation for them), on the heap otherwise.
fn with_sorted<T: Copy + Ord, const N: usize>(
    empty: T,
    items: impl Iterator<Item = T>,
    count: usize,
    f: impl FnOnce(&[T]),
) {
    let mut stack = [empty; N];
    let mut heap = Vec::new();
    let all: &mut [T] = if count <= N {
        for (slot, item) in stack.iter_mut().zip(items) {
            *slot = item;
        }
        &mut stack[..count]
    } else {
        heap.extend(items);
        &mut heap
    };
    all.sort_unstable();
    f(all);
}

/// A `map<string, string>` entry as prost writes it: empty keys and values are left out.
fn string_entry(tag: u32, key: &str, value: &str, buf: &mut Vec<u8>) {
    let key_len = if key.is_empty() { 0 } else { field_len(key) };
    let value_len = if value.is_empty() {
        0
    } else {
        field_len(value)
    };
    encode_key(tag, WireType::LengthDelimited, buf);
    encode_varint((key_len + value_len) as u64, buf);
    if !key.is_empty() {
        bytes_field(1, key, buf);
    }
    if !value.is_empty() {
        bytes_field(2, value, buf);
    }
}

/// A string field with a one-byte tag.
fn bytes_field(tag: u32, s: &str, buf: &mut Vec<u8>) {
    encode_key(tag, WireType::LengthDelimited, buf);
    encode_varint(s.len() as u64, buf);
    buf.extend_from_slice(s.as_bytes());
}

/// Encoded length of a string field with a one-byte tag.
fn field_len(s: &str) -> usize {
    1 + encoded_len_varint(s.len() as u64) + s.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    /// The typed message the encoding must equal (what ops carried before it was kept encoded).
    fn typed(meta: &OpMeta, caps: &[&str]) -> pb::OpMetadata {
        let mut description: BTreeMap<String, String> = (meta.description.iter())
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect();
        if let Some(name) = &meta.name {
            description.insert(CUSTOM_NAME.to_owned(), name.clone());
        }
        pb::OpMetadata {
            ignore_cache: meta.ignore_cache,
            description,
            export_cache: None,
            caps: (meta.caps.iter().copied())
                .chain(caps.iter().copied())
                .map(|c| (c.to_owned(), true))
                .collect(),
            progress_group: meta.progress_group.clone(),
            linux_resources: meta.linux_resources.clone(),
        }
    }

    #[test]
    fn the_bytes_prost_writes_for_the_typed_message() {
        let described = |pairs: &[(&'static str, &str)]| -> Vec<(&'static str, String)> {
            (pairs.iter()).map(|(k, v)| (*k, (*v).to_owned())).collect()
        };
        let metas = [
            OpMeta::default(),
            OpMeta {
                name: Some("[1/2] RUN echo".into()),
                ..OpMeta::default()
            },
            OpMeta {
                name: Some(String::new()),
                ignore_cache: true,
                description: described(&[
                    ("a", "1"),
                    ("com.docker.dockerfile.v1.command", "RUN x"),
                    ("llb.customname", "replaced"),
                    ("z", ""),
                    ("", "empty key"),
                ]),
                caps: vec!["zz", "exec.meta.base", ""],
                progress_group: Some(pb::ProgressGroup {
                    id: "g".into(),
                    name: "group".into(),
                    weak: true,
                }),
                linux_resources: Some(pb::LinuxResources {
                    memory: 1 << 30,
                    cpuset_cpus: "0-1".into(),
                    ..pb::LinuxResources::default()
                }),
                ..OpMeta::default()
            },
            OpMeta {
                description: described(&[("m", "v"), ("llb.customname", "kept")]),
                ..OpMeta::default()
            },
            OpMeta {
                name: Some("n".into()),
                description: described(&[("a", "1"), ("b", "2")]),
                ..OpMeta::default()
            },
        ];
        let caps: [&[&str]; 3] = [&[], &["exec.meta.base", "exec.mount.bind"], &["zz", "a"]];
        for meta in &metas {
            for caps in caps {
                let want = typed(meta, caps);
                let got = Metadata::new(meta, caps);
                assert_eq!(
                    got.bytes(),
                    want.encode_to_vec().as_slice(),
                    "{meta:?} {caps:?}"
                );
                assert_eq!(got.to_pb(), want);
                assert_eq!(got, Metadata::from_pb(&want));
            }
        }
    }
}
