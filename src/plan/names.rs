//! Stage names and the lookup from a name to its stage.

use std::collections::HashMap;

/// The `AS` names of a Dockerfile's stages, in order, with the first stage of each name found
/// without a search (a chain of 40,000 stages looks up a name per FROM and `COPY --from`). The
/// map is only looked up, never iterated.
#[derive(Clone, Debug, Default)]
pub struct StageNames {
    names: Vec<Option<String>>,
    first: HashMap<String, usize>,
}

impl StageNames {
    /// Names by stage index (`None` for a stage without `AS`), already lower-cased.
    pub fn new(names: Vec<Option<String>>) -> StageNames {
        let mut first = HashMap::with_capacity(names.len());
        for (i, name) in names.iter().enumerate() {
            if let Some(name) = name {
                first.entry(name.clone()).or_insert(i);
            }
        }
        StageNames { names, first }
    }

    /// The first stage called `name` (lower-cased).
    pub fn position(&self, name: &str) -> Option<usize> {
        self.first.get(name).copied()
    }

    /// The name of stage `index`.
    pub fn get(&self, index: usize) -> Option<&str> {
        self.names.get(index)?.as_deref()
    }

    /// Names by stage index.
    pub fn as_slice(&self) -> &[Option<String>] {
        &self.names
    }

    /// How many stages there are.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_stage_of_a_name_wins() {
        let names = StageNames::new(vec![
            None,
            Some("a".into()),
            Some("b".into()),
            Some("a".into()),
        ]);
        assert_eq!(names.position("a"), Some(1));
        assert_eq!(names.position("b"), Some(2));
        assert_eq!(names.position("c"), None);
        assert_eq!(names.get(0), None);
        assert_eq!(names.get(3), Some("a"));
        assert_eq!(names.len(), 4);
    }
}
