//! `RUN --mount` values, BuildKit's way in two steps.
//!
//! At parse time a value is only split into its CSV fields and `from` is checked (it is never
//! expanded, so `$` is refused there). Every other key is typed and validated later by
//! [`MountSpec::resolve`], after the converter expanded the values against the stage's
//! environment: BuildKit does the same, so `type=$T` works and a bad key in an unused stage is
//! no error.

/// One `--mount=` value as written: its CSV fields, and `from` (checked, never expanded).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MountSpec {
    /// The CSV fields, quotes removed, unexpanded.
    pub fields: Vec<String>,
    /// The last `from=` value, verbatim.
    pub from: Option<String>,
}

/// What is mounted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MountKind {
    /// A directory of the context, a stage or an image.
    Bind,
    /// A persistent cache directory.
    Cache,
    /// An empty in-memory filesystem.
    Tmpfs,
    /// A secret file (or environment variable) from the client.
    Secret,
    /// An SSH agent socket from the client.
    Ssh,
}

/// How concurrent builds share a cache mount.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sharing {
    /// Used by all writers at once (the default).
    Shared,
    /// A new directory per concurrent writer.
    Private,
    /// One writer at a time.
    Locked,
}

/// A validated `--mount` with expanded values; empty strings mean "not given", as in BuildKit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mount {
    /// `type`, `bind` by default.
    pub kind: MountKind,
    /// `target`/`dst`/`destination`.
    pub target: String,
    /// `source`/`src`.
    pub source: String,
    /// `from`.
    pub from: String,
    /// `ro`/`rw`; defaults to read-only for bind, secret and SSH mounts.
    pub readonly: bool,
    /// `id`.
    pub id: String,
    /// `sharing` (cache only).
    pub sharing: Option<Sharing>,
    /// `mode`, octal.
    pub mode: Option<u32>,
    /// `uid`.
    pub uid: Option<u32>,
    /// `gid`.
    pub gid: Option<u32>,
    /// `size` in bytes (tmpfs only), 0 when not given.
    pub size: i64,
    /// `required` (secret and SSH only).
    pub required: bool,
    /// `env` (secret): the variable that receives the secret.
    pub env: Option<String>,
}

const KEYS: &[&str] = &[
    "type",
    "from",
    "source",
    "target",
    "readonly",
    "id",
    "sharing",
    "required",
    "size",
    "mode",
    "uid",
    "gid",
    "src",
    "dst",
    "destination",
    "ro",
    "rw",
    "readwrite",
    "env",
];

impl MountSpec {
    /// Splits a `--mount` value and checks its `from`.
    pub fn parse(value: &str) -> Result<MountSpec, String> {
        let fields = csv_fields(value).map_err(|e| format!("failed to parse csv mounts: {e}"))?;
        let mut from = None;
        for field in &fields {
            if let Some((key, value)) = field.split_once('=')
                && key.to_lowercase() == "from"
            {
                if value.find('$').is_some_and(|i| i + 1 != value.len()) {
                    return Err(
                        "'from' doesn't support variable expansion, define alias stage instead"
                            .into(),
                    );
                }
                from = Some(value.to_string());
            }
        }
        Ok(MountSpec { fields, from })
    }

    /// The last raw value of one of `keys`, e.g. the unexpanded target for messages.
    pub fn raw(&self, keys: &[&str]) -> Option<&str> {
        self.fields.iter().rev().find_map(|f| {
            let (k, v) = f.split_once('=')?;
            keys.contains(&k.to_lowercase().as_str()).then_some(v)
        })
    }

    /// Expands every value with `expand` and types and validates the mount.
    pub fn resolve(
        &self,
        expand: &mut dyn FnMut(&str) -> Result<String, String>,
    ) -> Result<Mount, String> {
        let mut m = Mount {
            kind: MountKind::Bind,
            target: String::new(),
            source: String::new(),
            from: String::new(),
            readonly: false,
            id: String::new(),
            sharing: None,
            mode: None,
            uid: None,
            gid: None,
            size: 0,
            required: false,
            env: None,
        };
        let mut ro_auto = true;
        let secret_or_ssh = |m: &Mount| matches!(m.kind, MountKind::Secret | MountKind::Ssh);
        for field in &self.fields {
            let Some((key, raw)) = field.split_once('=') else {
                match field.to_lowercase().as_str() {
                    "readonly" | "ro" => (m.readonly, ro_auto) = (true, false),
                    "readwrite" | "rw" => (m.readonly, ro_auto) = (false, false),
                    "required" if secret_or_ssh(&m) => m.required = true,
                    "required" => return Err(unexpected_for_type("required", m.kind)),
                    _ => return Err(format!("invalid field '{field}' must be a key=value pair")),
                }
                continue;
            };
            let key = key.to_lowercase();
            let value = expand(raw)?;
            let invalid = || format!("invalid value for {key}: {value}");
            match key.as_str() {
                "type" => {
                    m.kind = kind_of(&value.to_lowercase()).ok_or_else(|| {
                        with_suggestion(
                            format!("unsupported mount type {value:?}"),
                            &value,
                            &["bind", "cache", "tmpfs", "secret", "ssh"],
                        )
                    })?;
                }
                "from" => m.from = value,
                "source" | "src" => m.source = value,
                "target" | "dst" | "destination" => m.target = value,
                "readonly" | "ro" => {
                    m.readonly = go_bool(&value).ok_or_else(invalid)?;
                    ro_auto = false;
                }
                "readwrite" | "rw" => {
                    m.readonly = !go_bool(&value).ok_or_else(invalid)?;
                    ro_auto = false;
                }
                "required" if secret_or_ssh(&m) => {
                    m.required = go_bool(&value).ok_or_else(invalid)?;
                }
                "size" if m.kind == MountKind::Tmpfs => {
                    m.size = ram_in_bytes(&value).ok_or_else(invalid)?;
                }
                "required" | "size" => return Err(unexpected_for_type(&key, m.kind)),
                "id" => m.id = value,
                "sharing" => {
                    m.sharing = Some(match value.to_lowercase().as_str() {
                        "shared" => Sharing::Shared,
                        "private" => Sharing::Private,
                        "locked" => Sharing::Locked,
                        _ => {
                            return Err(with_suggestion(
                                format!("unsupported sharing value {value:?}"),
                                &value,
                                &["shared", "private", "locked"],
                            ));
                        }
                    });
                }
                "mode" | "uid" | "gid" => {
                    let radix = if key == "mode" { 8 } else { 10 };
                    let n = go_uint(&value, radix)
                        .ok_or_else(|| format!("invalid value {value} for {key}"))?;
                    match key.as_str() {
                        "mode" => m.mode = Some(n),
                        "uid" => m.uid = Some(n),
                        _ => m.gid = Some(n),
                    }
                }
                "env" => m.env = Some(value),
                _ => {
                    return Err(with_suggestion(
                        format!("unexpected key '{key}' in '{field}'"),
                        &key,
                        KEYS,
                    ));
                }
            }
        }
        validate(&mut m, ro_auto)?;
        Ok(m)
    }
}

fn validate(m: &mut Mount, ro_auto: bool) -> Result<(), String> {
    if !matches!(
        m.kind,
        MountKind::Secret | MountKind::Ssh | MountKind::Cache
    ) {
        let t = type_name(m.kind);
        for (name, set) in [
            ("mode", m.mode.is_some()),
            ("uid", m.uid.is_some()),
            ("gid", m.gid.is_some()),
        ] {
            if set {
                return Err(format!("{name} not allowed for {t:?} type mounts"));
            }
        }
    }
    if ro_auto {
        m.readonly = !matches!(m.kind, MountKind::Cache | MountKind::Tmpfs);
    }
    if m.kind == MountKind::Secret {
        if !m.from.is_empty() {
            return Err("secret mount should not have a from".into());
        }
        if m.sharing.is_some() {
            return Err("secret mount should not define sharing".into());
        }
        if m.source.is_empty() && m.target.is_empty() && m.id.is_empty() {
            return Err("invalid secret mount. one of source, target required".into());
        }
        if !m.source.is_empty() && !m.id.is_empty() {
            return Err("both source and id can't be set".into());
        }
    }
    if m.sharing.is_some() && m.kind != MountKind::Cache {
        return Err(format!(
            "invalid cache sharing set for {} mount",
            type_name(m.kind)
        ));
    }
    Ok(())
}

fn kind_of(name: &str) -> Option<MountKind> {
    Some(match name {
        "bind" => MountKind::Bind,
        "cache" => MountKind::Cache,
        "tmpfs" => MountKind::Tmpfs,
        "secret" => MountKind::Secret,
        "ssh" => MountKind::Ssh,
        _ => return None,
    })
}

/// The `type=` word of a kind.
pub fn type_name(kind: MountKind) -> &'static str {
    match kind {
        MountKind::Bind => "bind",
        MountKind::Cache => "cache",
        MountKind::Tmpfs => "tmpfs",
        MountKind::Secret => "secret",
        MountKind::Ssh => "ssh",
    }
}

fn unexpected_for_type(key: &str, kind: MountKind) -> String {
    format!(
        "unexpected key '{key}' for mount type '{}'",
        type_name(kind)
    )
}

fn with_suggestion(message: String, value: &str, options: &[&str]) -> String {
    match crate::suggest::closest(value, options) {
        Some(s) => format!("{message} (did you mean {s}?)"),
        None => message,
    }
}

/// The fields of the first CSV record, as Go's `encoding/csv` reads them (no lazy quotes).
pub(crate) fn csv_fields(s: &str) -> Result<Vec<String>, String> {
    let bytes = s.as_bytes();
    let err = |col: usize, what: &str| format!("parse error on line 1, column {col}: {what}");
    let mut fields = Vec::new();
    let mut i = 0;
    loop {
        let mut field = Vec::new();
        if bytes.get(i) == Some(&b'"') {
            i += 1;
            loop {
                match bytes.get(i) {
                    None => return Err(err(i + 1, "extraneous or missing \" in quoted-field")),
                    Some(b'"') if bytes.get(i + 1) == Some(&b'"') => {
                        field.push(b'"');
                        i += 2;
                    }
                    Some(b'"') => {
                        i += 1;
                        break;
                    }
                    Some(&c) => {
                        field.push(c);
                        i += 1;
                    }
                }
            }
            if !matches!(bytes.get(i), None | Some(b',' | b'\n' | b'\r')) {
                return Err(err(i + 1, "extraneous or missing \" in quoted-field"));
            }
        } else {
            while let Some(&c) = bytes.get(i) {
                match c {
                    b',' | b'\n' | b'\r' => break,
                    b'"' => return Err(err(i + 1, "bare \" in non-quoted-field")),
                    _ => field.push(c),
                }
                i += 1;
            }
        }
        fields.push(String::from_utf8_lossy(&field).into_owned());
        if bytes.get(i) != Some(&b',') {
            return Ok(fields);
        }
        i += 1;
    }
}

/// Go's `strconv.ParseBool`.
fn go_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// Go's `strconv.ParseUint(s, radix, 32)`: digits only, no sign.
fn go_uint(s: &str, radix: u32) -> Option<u32> {
    if s.is_empty() || !s.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    u32::from_str_radix(s, radix).ok()
}

/// go-units `RAMInBytes`: `64m`, `1.5g`, `512 KiB`, `100` (binary multiples).
fn ram_in_bytes(s: &str) -> Option<i64> {
    let num_len = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (num, rest) = s.split_at(num_len);
    if !num.starts_with(|c: char| c.is_ascii_digit()) || num.ends_with('.') {
        return None;
    }
    let number: f64 = num.parse().ok()?;
    let rest = rest.strip_prefix(' ').unwrap_or(rest);
    let mut chars = rest.chars().peekable();
    let scale = match chars.peek().map(char::to_ascii_lowercase) {
        Some(u @ ('k' | 'm' | 'g' | 't' | 'p')) => {
            chars.next();
            1024f64.powi("kmgtp".find(u).map_or(0, |i| i as i32 + 1))
        }
        _ => 1.0,
    };
    chars.next_if(|c| c.eq_ignore_ascii_case(&'i'));
    chars.next_if(|c| c.eq_ignore_ascii_case(&'b'));
    if chars.next().is_some() {
        return None;
    }
    let bytes = number * scale;
    (bytes < i64::MAX as f64).then_some(bytes as i64)
}

#[cfg(test)]
#[path = "mount_tests.rs"]
mod tests;
