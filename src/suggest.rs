//! "Did you mean …" suggestions for misspelt names.

/// The candidate closest to `input` by edit distance, when close enough to be a typo.
pub fn closest<'a>(input: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let input = input.to_ascii_lowercase();
    candidates
        .iter()
        .map(|c| (distance(&input, &c.to_ascii_lowercase()), *c))
        .filter(|(d, c)| *d > 0 && *d <= max_distance(c))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn max_distance(candidate: &str) -> usize {
    (candidate.chars().count().saturating_sub(1)).min(2)
}

/// Levenshtein distance over chars.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut row = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            let v = (prev[j] + cost).min(prev[j + 1] + 1).min(row[j] + 1);
            row.push(v);
        }
        prev = row;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions() {
        let names = ["run", "copy", "from", "workdir"];
        assert_eq!(closest("runn", &names), Some("run"));
        assert_eq!(closest("RUNN", &names), Some("run"));
        assert_eq!(closest("wokdir", &names), Some("workdir"));
        assert_eq!(closest("zzzzzz", &names), None);
        assert_eq!(closest("run", &names), None);
    }
}
