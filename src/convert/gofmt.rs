//! Go's formatting of values where BuildKit writes them into history (`%q` and `%v` of lists, durations).

/// Go `%q` of a `[]string`: `["a" "b"]`.
pub fn quote_list(items: &[String]) -> String {
    crate::syntax::go_quote_slice(items)
}

/// Go `%v` of a `[]string`: `[a b]`.
pub fn plain_list(items: &[String]) -> String {
    format!("[{}]", items.join(" "))
}

/// Go `time.Duration.String()`: `1m30s`, `300ms`, `0s`.
pub fn duration(ns: i64) -> String {
    if ns == 0 {
        return "0s".into();
    }
    let negative = ns < 0;
    let u = ns.unsigned_abs();
    let body = if u < 1_000_000_000 {
        let (unit, scale) = if u < 1_000 {
            ("ns", 1)
        } else if u < 1_000_000 {
            ("µs", 1_000)
        } else {
            ("ms", 1_000_000)
        };
        format!("{}{unit}", fraction(u, scale))
    } else {
        let hours = u / 3_600_000_000_000;
        let minutes = (u / 60_000_000_000) % 60;
        let secs = u % 60_000_000_000;
        let mut s = String::new();
        if hours > 0 {
            s.push_str(&format!("{hours}h"));
        }
        if hours > 0 || minutes > 0 {
            s.push_str(&format!("{minutes}m"));
        }
        s.push_str(&format!("{}s", fraction(secs, 1_000_000_000)));
        s
    };
    if negative { format!("-{body}") } else { body }
}

fn fraction(value: u64, scale: u64) -> String {
    let whole = value / scale;
    let rest = value % scale;
    if rest == 0 {
        return whole.to_string();
    }
    let digits = scale.to_string().len() - 1;
    let frac = format!("{rest:0digits$}");
    format!("{whole}.{}", frac.trim_end_matches('0'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_formats() {
        assert_eq!(
            quote_list(&["/bin/sh".into(), "-c".into(), "echo \"hi\"\n".into()]),
            r#"["/bin/sh" "-c" "echo \"hi\"\n"]"#
        );
        assert_eq!(plain_list(&["a".into(), "b".into()]), "[a b]");
        let cases = [
            (0, "0s"),
            (300_000_000, "300ms"),
            (1_500_000_000, "1.5s"),
            (90_000_000_000, "1m30s"),
            (300_000_000_000, "5m0s"),
            (3_600_000_000_000, "1h0m0s"),
            (1_500, "1.5µs"),
        ];
        for (ns, want) in cases {
            assert_eq!(duration(ns), want);
        }
    }
}
