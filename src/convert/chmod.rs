//! `--chmod` values: octal numbers, or chmod(1) symbolic modes such as `u+x,go-w`.

use std::collections::BTreeSet;

/// A parsed `--chmod`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Chmod {
    /// `0`..=`07777`: the copy action's `mode`.
    Octal(i32),
    /// A symbolic mode, applied by the daemon to each copied file (`mode_str`, cap
    /// `file.copy.modestring`).
    Symbolic(String),
}

/// Whether the daemon applies a copy's `mode_str`. BuildKit v0.17 added it together with
/// `exec.validexitcode`, but never announces its own cap `file.copy.modestring` (declared, not
/// initialised); v0.8..v0.16 would silently ignore the field and copy with the source's modes,
/// which the official frontend lets happen and stager refuses.
pub fn daemon_applies_symbolic(caps: &BTreeSet<String>) -> bool {
    caps.contains("file.copy.modestring") || caps.contains("exec.validexitcode")
}

/// Parses `--chmod` as BuildKit does: octal first; otherwise a symbolic mode, validated here so
/// a typo fails at its line instead of in the daemon.
pub fn parse(m: &str) -> Result<Chmod, String> {
    let octal_error = || {
        format!("invalid chmod parameter: '{m}'. it should be octal string and between 0 and 07777")
    };
    let digits = !m.is_empty() && m.bytes().all(|b| b.is_ascii_digit());
    if let Some(v) = digits.then(|| u32::from_str_radix(m, 8).ok()).flatten() {
        if v > 0o7777 {
            return Err(octal_error());
        }
        return i32::try_from(v)
            .map(Chmod::Octal)
            .map_err(|_| octal_error());
    }
    // Anything starting with a digit is read as a number by the mode parser too.
    if m.starts_with(|c: char| c.is_ascii_digit()) {
        return Err(octal_error());
    }
    if symbolic_is_valid(m) {
        Ok(Chmod::Symbolic(m.to_string()))
    } else {
        Err(format!("invalid chmod parameter: '{m}': invalid syntax"))
    }
}

/// The grammar of chmod(1) as BSD's setmode reads it: clauses separated by `,`, each
/// `[ugoa]*` followed by one or more `[+-=][rwxXstugo]*` actions.
fn symbolic_is_valid(m: &str) -> bool {
    m.split(',').all(|clause| {
        let rest = clause.trim_start_matches(['u', 'g', 'o', 'a']);
        // At least one action, each starting with an operator.
        let mut chars = rest.chars().peekable();
        if chars.peek().is_none() {
            return false;
        }
        while let Some(op) = chars.next() {
            if !matches!(op, '+' | '-' | '=') {
                return false;
            }
            while chars
                .peek()
                .is_some_and(|c| matches!(c, 'r' | 'w' | 'x' | 'X' | 's' | 't' | 'u' | 'g' | 'o'))
            {
                chars.next();
            }
        }
        true
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn octal_and_symbolic() {
        assert_eq!(parse("755"), Ok(Chmod::Octal(0o755)));
        assert_eq!(parse("7777"), Ok(Chmod::Octal(0o7777)));
        assert_eq!(parse("0"), Ok(Chmod::Octal(0)));
        for ok in [
            "u+x",
            "+x",
            "=",
            "a=rwX",
            "u=rwx,go=rx",
            "go=u-w",
            "g+s,o-t",
            "u+x-w",
        ] {
            assert_eq!(parse(ok), Ok(Chmod::Symbolic(ok.into())), "{ok}");
        }
    }

    #[test]
    fn symbolic_needs_v0_17() {
        use crate::llb::caps::announced_by;
        assert!(!daemon_applies_symbolic(&announced_by(8)));
        assert!(!daemon_applies_symbolic(&announced_by(16)));
        assert!(daemon_applies_symbolic(&announced_by(17)));
        assert!(daemon_applies_symbolic(&announced_by(32)));
        assert!(daemon_applies_symbolic(
            &["file.copy.modestring".to_string()].into()
        ));
    }

    #[test]
    fn bad_modes() {
        let octal = "it should be octal string and between 0 and 07777";
        for bad in ["17777", "8", "75a", "99999999999"] {
            let err = parse(bad).unwrap_err();
            assert!(err.ends_with(octal), "{bad}: {err}");
        }
        for bad in ["u", "ug", "u+q", "x", "u+x,", ",u+x", "-1", "+7", "u+x g-w"] {
            assert_eq!(
                parse(bad).unwrap_err(),
                format!("invalid chmod parameter: '{bad}': invalid syntax"),
                "{bad}"
            );
        }
    }
}
