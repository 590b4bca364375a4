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

/// BuildKit's `suggest.Search`: the first option at the smallest edit distance below 3, matched
/// case-sensitively or not; `None` when `input` itself is an option.
pub fn search(input: &str, options: &[String], case_sensitive: bool) -> Option<String> {
    let fold = |s: &str| {
        if case_sensitive {
            s.to_string()
        } else {
            s.to_lowercase()
        }
    };
    let value = fold(input);
    let mut best: Option<(usize, String)> = None;
    for option in options {
        let folded = fold(option);
        if folded == value {
            return None;
        }
        let d = distance(&value, &folded);
        if d < best.as_ref().map_or(3, |b| b.0) {
            let shown = if case_sensitive {
                option.clone()
            } else if input == input.to_lowercase() {
                folded
            } else if input == input.to_uppercase() {
                option.to_uppercase()
            } else {
                option.clone()
            };
            best = Some((d, shown));
        }
    }
    best.map(|b| b.1)
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

    #[test]
    fn go_search() {
        let opts: Vec<String> = ["PATH", "HOME", "TAG"].map(String::from).to_vec();
        assert_eq!(search("PAHT", &opts, true).as_deref(), Some("PATH"));
        assert_eq!(search("TAGG", &opts, true).as_deref(), Some("TAG"));
        assert_eq!(search("path", &opts, true).as_deref(), None);
        assert_eq!(search("XYZWV", &opts, true), None);
        assert_eq!(search("PATH", &opts, true), None);
    }
}
