//! Go's output conventions (`text/tabwriter` tables, `encoding/json` escaping) and the official
//! frontend's text for the outline.

use serde::Serialize;

use super::{Answer, Outline};

/// Rows laid out as Go's `tabwriter.NewWriter(w, 0, 0, padding, ' ', 0)` does when every row
/// has the same cells: each cell but the last padded to its column's width plus `padding`
/// (empty last cells leave the padding behind, as in Go).
pub fn table(rows: &[Vec<String>], padding: usize) -> String {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let mut widths = vec![0; columns.saturating_sub(1)];
    for row in rows {
        for (i, cell) in row.iter().enumerate().take(widths.len()) {
            widths[i] = widths[i].max(cell.chars().count() + padding);
        }
    }
    let mut out = String::new();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            out.push_str(cell);
            if let Some(width) = widths.get(i).filter(|_| i + 1 < row.len()) {
                let pad = width.saturating_sub(cell.chars().count());
                out.extend(std::iter::repeat_n(' ', pad));
            }
        }
        out.push('\n');
    }
    out
}

/// `json.MarshalIndent(v, "", "  ")`: two-space indent and Go's HTML-safe escaping of `<`, `>`,
/// `&`, U+2028 and U+2029 (they only occur inside strings, so replacing them is safe).
pub fn go_json<T: Serialize + ?Sized>(value: &T) -> String {
    let pretty = serde_json::to_string_pretty(value).unwrap_or_else(|_| "null".into());
    let mut out = String::with_capacity(pretty.len());
    for c in pretty.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

impl Outline {
    /// The subrequest answer: JSON, `outline.PrintOutline` text, version.
    pub fn answer(&self) -> Answer {
        Answer {
            json: go_json(self),
            text: self.text(),
            version: "1.0.0",
        }
    }

    /// `outline.PrintOutline`: TARGET/DESCRIPTION, then BUILD ARG, SECRET and SSH tables, each
    /// followed by a blank line.
    pub fn text(&self) -> String {
        let mut out = String::new();
        let s = |v: &str| v.to_string();
        if !self.name.is_empty() || !self.description.is_empty() {
            let name = if self.name.is_empty() {
                "(default)"
            } else {
                &self.name
            };
            let mut rows = vec![vec![s("TARGET:"), s(name)]];
            if !self.description.is_empty() {
                rows.push(vec![s("DESCRIPTION:"), self.description.clone()]);
            }
            out.push_str(&table(&rows, 1));
            out.push('\n');
        }
        if !self.args.is_empty() {
            let mut rows = vec![vec![s("BUILD ARG"), s("VALUE"), s("DESCRIPTION")]];
            for a in &self.args {
                rows.push(vec![a.name.clone(), a.value.clone(), a.description.clone()]);
            }
            out.push_str(&table(&rows, 3));
            out.push('\n');
        }
        for (title, list) in [("SECRET", &self.secrets), ("SSH", &self.ssh)] {
            if list.is_empty() {
                continue;
            }
            let mut rows = vec![vec![s(title), s("REQUIRED")]];
            for x in list {
                rows.push(vec![
                    x.name.clone(),
                    s(if x.required { "true" } else { "" }),
                ]);
            }
            out.push_str(&table(&rows, 3));
            out.push('\n');
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(v: &[&[&str]]) -> Vec<Vec<String>> {
        v.iter()
            .map(|r| r.iter().map(|c| c.to_string()).collect())
            .collect()
    }

    #[test]
    fn tabwriter_layout() {
        let got = table(
            &rows(&[&["TARGET", "DESCRIPTION"], &["a (default)", "x"]]),
            1,
        );
        assert_eq!(got, "TARGET      DESCRIPTION\na (default) x\n");
        let got = table(
            &rows(&[&["BUILD ARG", "VALUE", "DESCRIPTION"], &["V", "", ""]]),
            3,
        );
        assert_eq!(
            got,
            "BUILD ARG   VALUE   DESCRIPTION\nV                   \n"
        );
        assert_eq!(table(&[], 1), "");
    }

    #[test]
    fn go_escapes() {
        let got = go_json(&serde_json::json!({"a": ["<b>&\u{2028}"], "e": []}));
        assert_eq!(
            got,
            "{\n  \"a\": [\n    \"\\u003cb\\u003e\\u0026\\u2028\"\n  ],\n  \"e\": []\n}"
        );
    }
}
