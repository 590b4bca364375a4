//! The resource-limit options of dockerfile 1.25+ (`memory`, `memswap`, `cpushares`,
//! `cpuperiod`, `cpuquota`, `cpusetcpus`, `cpusetmems`), read as BuildKit's `dockerui` reads them,
//! with its error texts.

use std::collections::BTreeMap;

use crate::options::LinuxResources;

/// The limits the attributes set (`None` when none is), or BuildKit's error
/// (`failed to parse resource limits: invalid memory value: ...`).
pub fn parse(attrs: &BTreeMap<String, String>) -> Result<Option<LinuxResources>, String> {
    parse_limits(attrs).map_err(|e| format!("failed to parse resource limits: {e}"))
}

fn parse_limits(attrs: &BTreeMap<String, String>) -> Result<Option<LinuxResources>, String> {
    let get = |k: &str| attrs.get(k).filter(|v| !v.is_empty());
    let mut res = LinuxResources::default();
    if let Some(v) = get("memory") {
        res.memory = parse_int(v).map_err(|e| format!("invalid memory value: {v}: {e}"))?;
        if res.memory <= 0 {
            return Err(format!("invalid memory value: {v}: must be > 0"));
        }
    }
    if let Some(v) = get("memswap") {
        res.memory_swap = parse_int(v).map_err(|e| format!("invalid memswap value: {v}: {e}"))?;
        if res.memory_swap < -1 || res.memory_swap == 0 {
            return Err(format!(
                "invalid memswap value: {v}: must be -1 (unlimited) or > 0"
            ));
        }
    }
    if let Some(v) = get("cpushares") {
        res.cpu_shares = parse_uint(v).map_err(|e| format!("invalid cpushares value: {v}: {e}"))?;
        if res.cpu_shares == 0 {
            return Err(format!("invalid cpushares value: {v}: must be > 0"));
        }
    }
    if let Some(v) = get("cpuperiod") {
        res.cpu_period = parse_uint(v).map_err(|e| format!("invalid cpuperiod value: {v}: {e}"))?;
        if res.cpu_period == 0 {
            return Err(format!("invalid cpuperiod value: {v}: must be > 0"));
        }
    }
    if let Some(v) = get("cpuquota") {
        res.cpu_quota = parse_int(v).map_err(|e| format!("invalid cpuquota value: {v}: {e}"))?;
        if res.cpu_quota <= 0 {
            return Err(format!("invalid cpuquota value: {v}: must be > 0"));
        }
    }
    for (key, slot) in [
        ("cpusetcpus", &mut res.cpuset_cpus),
        ("cpusetmems", &mut res.cpuset_mems),
    ] {
        if let Some(v) = get(key) {
            validate_cpuset(v).map_err(|e| format!("invalid {key} value: {v}: {e}"))?;
            slot.clone_from(v);
        }
    }
    Ok((res != LinuxResources::default()).then_some(res))
}

/// Go's `strconv.ParseInt(v, 10, 64)`, with its error text.
fn parse_int(v: &str) -> Result<i64, String> {
    let digits = v.strip_prefix(['+', '-']).unwrap_or(v);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("strconv.ParseInt: parsing {v:?}: invalid syntax"));
    }
    v.parse()
        .map_err(|_| format!("strconv.ParseInt: parsing {v:?}: value out of range"))
}

/// Go's `strconv.ParseUint(v, 10, 64)`, with its error text.
fn parse_uint(v: &str) -> Result<u64, String> {
    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("strconv.ParseUint: parsing {v:?}: invalid syntax"));
    }
    v.parse()
        .map_err(|_| format!("strconv.ParseUint: parsing {v:?}: value out of range"))
}

/// The largest CPU or memory-node index BuildKit's cpuset parser accepts.
const MAX_CPU: i64 = 8192;

/// BuildKit's `cpuset.Validate`: `0-3,5,7-9`, indexes up to [`MAX_CPU`].
fn validate_cpuset(s: &str) -> Result<(), String> {
    let atoi = |t: &str| {
        let digits = t.strip_prefix(['+', '-']).unwrap_or(t);
        (!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
            .then(|| t.parse::<i64>().ok())
            .flatten()
    };
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        match part.split_once('-') {
            None => {
                let n = atoi(part)
                    .filter(|n| *n >= 0)
                    .ok_or_else(|| format!("invalid cpuset element {part:?}"))?;
                if n > MAX_CPU {
                    return Err(format!("cpuset element {part:?} exceeds maximum {MAX_CPU}"));
                }
            }
            Some((lo, hi)) => {
                let hi = match (atoi(lo.trim()), atoi(hi.trim())) {
                    (Some(lo), Some(hi)) if lo >= 0 && hi >= lo => hi,
                    _ => return Err(format!("invalid cpuset range {part:?}")),
                };
                if hi > MAX_CPU {
                    return Err(format!("cpuset range {part:?} exceeds maximum {MAX_CPU}"));
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attrs(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
            .collect()
    }

    #[test]
    fn limits_as_buildkit_reads_them() {
        assert_eq!(parse(&attrs(&[("memory", "")])), Ok(None));
        let got = parse(&attrs(&[
            ("memory", "1073741824"),
            ("cpushares", "512"),
            ("cpusetcpus", "0-1"),
            ("memswap", "-1"),
        ]))
        .unwrap()
        .unwrap();
        assert_eq!(got.memory, 1 << 30);
        assert_eq!(got.cpu_shares, 512);
        assert_eq!(got.cpuset_cpus, "0-1");
        assert_eq!(got.memory_swap, -1);
    }

    #[test]
    fn official_errors() {
        let err = |k: &str, v: &str| parse(&attrs(&[(k, v)])).unwrap_err();
        assert_eq!(
            err("memory", "abc"),
            "failed to parse resource limits: invalid memory value: abc: strconv.ParseInt: parsing \"abc\": invalid syntax"
        );
        assert_eq!(
            err("memory", "0"),
            "failed to parse resource limits: invalid memory value: 0: must be > 0"
        );
        assert_eq!(
            err("memswap", "-2"),
            "failed to parse resource limits: invalid memswap value: -2: must be -1 (unlimited) or > 0"
        );
        assert_eq!(
            err("cpushares", "-1"),
            "failed to parse resource limits: invalid cpushares value: -1: strconv.ParseUint: parsing \"-1\": invalid syntax"
        );
        assert_eq!(
            err("cpusetcpus", "3-1"),
            "failed to parse resource limits: invalid cpusetcpus value: 3-1: invalid cpuset range \"3-1\""
        );
        assert_eq!(
            err("cpusetmems", "9000"),
            "failed to parse resource limits: invalid cpusetmems value: 9000: cpuset element \"9000\" exceeds maximum 8192"
        );
        assert!(err("cpuquota", "99999999999999999999").ends_with("value out of range"));
    }
}
