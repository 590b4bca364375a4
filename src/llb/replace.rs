//! Swapping one vertex of a finished graph for another.
//!
//! The converter needs it for the build context, whose `local.followpaths` are known only once
//! every stage has been dispatched. The ops above the swapped vertex are re-encoded with their new
//! input digests and hashed again; nothing else changes, so the result has the bytes a graph
//! built from the start with the new vertex has, for the price of hashing instead of converting
//! twice.

use std::collections::BTreeMap;
use std::sync::Arc;

use prost::Message;

use super::state::{OpDigest, Output, State, Vertex};
use crate::proto::pb;

impl State {
    /// This graph with every use of the vertex of `old` (that very vertex: an equal one built
    /// separately stays) reading the vertex of `new` instead.
    ///
    /// `None` when the swap would change how an op's inputs are deduplicated (two that were one
    /// digest become two, or two become one), or when `old` or `new` is scratch: only building
    /// the graph again gives the right bytes then.
    pub fn replace(&self, old: &State, new: &State) -> Option<State> {
        let (old, new) = (old.output()?, new.output()?);
        let Some(root) = self.output() else {
            return Some(State::scratch());
        };
        let mut done: BTreeMap<usize, Arc<Vertex>> = BTreeMap::new();
        done.insert(address(&old.vertex), new.vertex.clone());
        // Iterative post-order, so that deep graphs cannot overflow the stack.
        let mut stack: Vec<(Arc<Vertex>, usize)> = vec![(root.vertex.clone(), 0)];
        while let Some((vertex, next)) = stack.pop() {
            if done.contains_key(&address(&vertex)) {
                continue;
            }
            if let Some(dep) = vertex.deps.get(next) {
                let dep = dep.vertex.clone();
                stack.push((vertex, next + 1));
                if !done.contains_key(&address(&dep)) {
                    stack.push((dep, 0));
                }
                continue;
            }
            let rebuilt = rebuild(&vertex, &done)?;
            done.insert(address(&vertex), rebuilt);
        }
        let vertex = done.get(&address(&root.vertex))?.clone();
        Some(State::from_vertex(vertex, root.index))
    }
}

/// `vertex` over the replacements of its dependencies (itself when none changed).
fn rebuild(vertex: &Arc<Vertex>, done: &BTreeMap<usize, Arc<Vertex>>) -> Option<Arc<Vertex>> {
    let deps: Vec<Output> = (vertex.deps.iter())
        .map(|d| {
            Some(Output {
                vertex: done.get(&address(&d.vertex))?.clone(),
                index: d.index,
            })
        })
        .collect::<Option<_>>()?;
    if (deps.iter().zip(&vertex.deps)).all(|(a, b)| Arc::ptr_eq(&a.vertex, &b.vertex)) {
        return Some(vertex.clone());
    }
    // Inputs are deduplicated by digest, dependencies by vertex: every input digest must map to
    // exactly one new digest.
    let mut renamed: BTreeMap<(&str, i64), &str> = BTreeMap::new();
    for (was, now) in vertex.deps.iter().zip(&deps) {
        let key = (was.vertex.digest.as_str(), was.index);
        let now_digest = now.vertex.digest.as_str();
        if renamed
            .insert(key, now_digest)
            .is_some_and(|d| d != now_digest)
        {
            return None;
        }
    }
    let op = pb::Op::decode(vertex.bytes.get(..vertex.inputs_len)?).ok()?;
    let mut inputs: Vec<pb::Input> = Vec::with_capacity(op.inputs.len());
    for input in &op.inputs {
        let digest = (*renamed.get(&(input.digest.as_str(), input.index))?).to_owned();
        let input = pb::Input {
            digest,
            index: input.index,
        };
        if inputs.contains(&input) {
            return None;
        }
        inputs.push(input);
    }
    let mut bytes = Vec::with_capacity(vertex.bytes.len());
    for input in &inputs {
        prost::encoding::message::encode(1, input, &mut bytes);
    }
    let inputs_len = bytes.len();
    bytes.extend_from_slice(vertex.bytes.get(vertex.inputs_len..)?);
    Some(Arc::new(Vertex {
        digest: OpDigest::of(&bytes),
        bytes,
        inputs_len,
        deps,
        metadata: vertex.metadata.clone(),
        locations: vertex.locations.clone(),
    }))
}

fn address(v: &Arc<Vertex>) -> usize {
    Arc::as_ptr(v) as usize
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llb::{CopyOpts, Exec, FileActions, Mount, MountKind, OpMeta, marshal};

    fn ctx(follow: &str) -> State {
        let attrs = BTreeMap::from([("local.followpaths".to_owned(), follow.to_owned())]);
        State::local("context", attrs, OpMeta::default())
    }

    /// Two stages reading the context through copies and a bind mount, merged at the end.
    fn graph(context: &State) -> State {
        let base = State::image("alpine", BTreeMap::new(), OpMeta::default());
        let copied = base.file(
            FileActions::new()
                .copy(context, "/a", "/a", CopyOpts::default())
                .mkdir("/d", 0o755, Default::default())
                .copy(context, "/b", "/b", CopyOpts::default()),
            OpMeta {
                name: Some("COPY".into()),
                locations: vec![(2, 2)],
                ..OpMeta::default()
            },
        );
        let mut bind = Mount::new("/src", MountKind::Bind(context.clone()));
        bind.readonly = true;
        let ran = copied
            .run(
                Exec {
                    args: vec!["make".into()],
                    cwd: "/".into(),
                    mounts: vec![bind],
                    ..Exec::default()
                },
                OpMeta::default(),
            )
            .root();
        let other = base.run(
            Exec {
                args: vec!["true".into()],
                cwd: "/".into(),
                ..Exec::default()
            },
            OpMeta::default(),
        );
        State::merge(&[ran, other.root(), base], OpMeta::default())
    }

    #[test]
    fn replacing_gives_the_bytes_of_building_with_the_new_vertex() {
        let (first, last) = (ctx("[]"), ctx("[\"a\",\"b\"]"));
        let replaced = graph(&first).replace(&first, &last).unwrap();
        let info = pb::SourceInfo::default();
        assert_eq!(
            marshal(&replaced, Some(info.clone())),
            marshal(&graph(&last), Some(info))
        );
        assert_ne!(marshal(&replaced, None), marshal(&graph(&first), None));
    }

    #[test]
    fn untouched_vertices_are_shared() {
        let (first, last) = (ctx("x"), ctx("y"));
        let base = State::image("alpine", BTreeMap::new(), OpMeta::default());
        assert!(Arc::ptr_eq(
            &base
                .replace(&first, &last)
                .unwrap()
                .output()
                .unwrap()
                .vertex,
            &base.output().unwrap().vertex
        ));
        let swapped = first.replace(&first, &last).unwrap();
        assert_eq!(swapped, last);
    }

    #[test]
    fn a_change_in_input_deduplication_is_refused() {
        // An equal context built separately is not replaced: its input, one with the shared
        // context's before, would have to split in two.
        let (first, twin, last) = (ctx("x"), ctx("x"), ctx("y"));
        let both = State::scratch().file(
            FileActions::new()
                .copy(&first, "/a", "/a", CopyOpts::default())
                .copy(&twin, "/b", "/b", CopyOpts::default()),
            OpMeta::default(),
        );
        assert!(both.replace(&first, &last).is_none());
        // Two distinct inputs that would become one.
        let other = ctx("y");
        let two = State::scratch().file(
            FileActions::new()
                .copy(&first, "/a", "/a", CopyOpts::default())
                .copy(&other, "/b", "/b", CopyOpts::default()),
            OpMeta::default(),
        );
        assert!(two.replace(&first, &last).is_none());
        assert!(two.replace(&State::scratch(), &last).is_none());
    }
}
