//! `MergeOp`: the layers of several states stacked in order (cap `mergeop`).

use super::OpMeta;
use super::state::{State, new_vertex, push_dep};
use crate::proto::pb;

impl State {
    /// Stacks `inputs`, later ones on top. As in the Go client, scratch inputs are dropped, no
    /// input left gives scratch and a single one is returned as it is (`meta` is then unused).
    /// Repeated inputs stay repeated: each `MergeInput` has its own entry in `Op.inputs`.
    pub fn merge(inputs: &[State], meta: OpMeta) -> State {
        let layers: Vec<&State> = inputs.iter().filter(|s| !s.is_scratch()).collect();
        match layers.as_slice() {
            [] => return State::scratch(),
            [one] => return (*one).clone(),
            _ => {}
        }
        let mut deps = Vec::new();
        let mut op_inputs = Vec::with_capacity(layers.len());
        let mut merge_inputs = Vec::with_capacity(layers.len());
        for (i, s) in layers.iter().enumerate() {
            push_dep(&mut deps, s);
            merge_inputs.push(pb::MergeInput {
                input: i64::try_from(i).unwrap_or(i64::MAX),
            });
            op_inputs.extend(s.input());
        }
        let op = pb::Op {
            inputs: op_inputs,
            op: Some(pb::op::Op::Merge(pb::MergeOp {
                inputs: merge_inputs,
            })),
            ..pb::Op::default()
        };
        new_vertex(op, deps, meta, &["mergeop"])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llb::marshal;
    use prost::Message;
    use std::collections::BTreeMap;

    fn img(r: &str) -> State {
        State::image(r, BTreeMap::new(), OpMeta::default())
    }

    #[test]
    fn trivial_merges_collapse() {
        let a = img("a");
        let cases: [(Vec<State>, Option<State>); 4] = [
            (vec![], None),
            (vec![State::scratch(), State::scratch()], None),
            (vec![a.clone()], Some(a.clone())),
            (vec![State::scratch(), a.clone()], Some(a.clone())),
        ];
        for (inputs, want) in cases {
            let got = State::merge(&inputs, OpMeta::default());
            match want {
                None => assert!(got.is_scratch()),
                Some(w) => assert_eq!(got, w),
            }
        }
    }

    #[test]
    fn merge_inputs_in_order_with_repeats() {
        let (a, b) = (img("a"), img("b"));
        let m = State::merge(
            &[a.clone(), State::scratch(), b.clone(), a.clone()],
            OpMeta::default(),
        );
        let def = marshal(&m, None);
        assert_eq!(def.def.len(), 4); // a, b, merge, terminal
        let op = pb::Op::decode(def.def[2].as_slice()).unwrap();
        let digests: Vec<String> = op.inputs.iter().map(|i| i.digest.clone()).collect();
        assert_eq!(digests, [&a, &b, &a].map(|s| s.digest().unwrap()));
        let Some(pb::op::Op::Merge(merge)) = op.op else {
            panic!("not a merge");
        };
        let idx: Vec<i64> = merge.inputs.iter().map(|i| i.input).collect();
        assert_eq!(idx, [0, 1, 2]);
        assert_eq!(op.platform, None);
        assert!(
            def.metadata[&m.digest().unwrap()]
                .caps
                .contains_key("mergeop")
        );
    }
}
