//! The JSON of `--call=convertllb` (dockerfile 1.20+ `frontend.convertllb`): every op of a
//! definition in protobuf's canonical JSON (Go's `protojson`), keyed by digest, with the
//! metadata as Go's `encoding/json` writes `llb.OpMetadata` and the source map in protojson.
//!
//! Ops are read from their wire bytes with the descriptors of `proto/` (compiled in by
//! build.rs), so every field stager writes appears with its protojson name and form: 64-bit
//! integers as strings, enums by name, bytes in base64, zero values left out.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use base64::Engine;
use prost::Message;
use prost_types::field_descriptor_proto::{Label, Type};
use prost_types::{DescriptorProto, EnumDescriptorProto, FileDescriptorSet};
use serde_json::{Map, Value, json};

use crate::proto::pb;

static FDS: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/buildkit.fds"));

/// Messages and enums of `proto/` by full name (`.pb.Op`).
struct Registry {
    messages: BTreeMap<String, DescriptorProto>,
    enums: BTreeMap<String, EnumDescriptorProto>,
}

fn registry() -> &'static Registry {
    static REG: OnceLock<Registry> = OnceLock::new();
    REG.get_or_init(|| {
        let fds = FileDescriptorSet::decode(FDS).unwrap_or_default();
        let mut reg = Registry {
            messages: BTreeMap::new(),
            enums: BTreeMap::new(),
        };
        for file in fds.file {
            let prefix = format!(".{}", file.package());
            for e in file.enum_type {
                reg.enums.insert(format!("{prefix}.{}", e.name()), e);
            }
            for m in file.message_type {
                add_message(&mut reg, &prefix, m);
            }
        }
        reg
    })
}

/// Messages proto/ declares as explicit entries of a field that is a map in BuildKit's files
/// (see `Source` in ops.proto): read as the map they are on the wire.
const MAP_ENTRIES: [&str; 1] = [".pb.Source.LocationsEntry"];

fn add_message(reg: &mut Registry, prefix: &str, mut m: DescriptorProto) {
    let name = format!("{prefix}.{}", m.name());
    if MAP_ENTRIES.contains(&name.as_str()) {
        m.options.get_or_insert_with(Default::default).map_entry = Some(true);
    }
    for e in &m.enum_type {
        reg.enums.insert(format!("{name}.{}", e.name()), e.clone());
    }
    for nested in &m.nested_type {
        add_message(reg, &name, nested.clone());
    }
    reg.messages.insert(name, m);
}

/// protoc's default JSON name: underscores dropped, the letter after one upper-cased.
fn json_name(field: &str) -> String {
    let mut out = String::with_capacity(field.len());
    let mut upper = false;
    for c in field.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// One wire value.
enum Wire<'a> {
    Varint(u64),
    Fixed64(u64),
    Bytes(&'a [u8]),
    Fixed32(u32),
}

fn varint(buf: &mut &[u8]) -> Option<u64> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let (&b, rest) = buf.split_first()?;
        *buf = rest;
        v |= u64::from(b & 0x7f) << shift;
        if b < 0x80 {
            return Some(v);
        }
    }
    None
}

fn fields(mut buf: &[u8]) -> Vec<(u64, Wire<'_>)> {
    let mut out = Vec::new();
    while !buf.is_empty() {
        let Some(key) = varint(&mut buf) else { break };
        let value = match key & 7 {
            0 => varint(&mut buf).map(Wire::Varint),
            1 => buf.split_first_chunk::<8>().map(|(b, rest)| {
                buf = rest;
                Wire::Fixed64(u64::from_le_bytes(*b))
            }),
            2 => varint(&mut buf)
                .and_then(|n| usize::try_from(n).ok())
                .filter(|n| *n <= buf.len())
                .map(|n| {
                    let (b, rest) = buf.split_at(n);
                    buf = rest;
                    Wire::Bytes(b)
                }),
            5 => buf.split_first_chunk::<4>().map(|(b, rest)| {
                buf = rest;
                Wire::Fixed32(u32::from_le_bytes(*b))
            }),
            _ => None,
        };
        match value {
            Some(v) => out.push((key >> 3, v)),
            None => break,
        }
    }
    out
}

/// The protojson object of the message `type_name` encoded in `bytes`.
pub fn message_json(type_name: &str, bytes: &[u8]) -> Value {
    let reg = registry();
    let Some(desc) = reg.messages.get(type_name) else {
        return Value::Object(Map::new());
    };
    let wire = fields(bytes);
    let mut obj = Map::new();
    for field in &desc.field {
        let number = u64::try_from(field.number()).unwrap_or(0);
        let values: Vec<&Wire<'_>> = wire
            .iter()
            .filter(|(n, _)| *n == number)
            .map(|(_, v)| v)
            .collect();
        if values.is_empty() {
            continue;
        }
        let in_oneof = field.oneof_index.is_some() && !field.proto3_optional();
        let repeated = field.label() == Label::Repeated;
        let map_entry = reg
            .messages
            .get(field.type_name())
            .filter(|m| m.options.as_ref().is_some_and(|o| o.map_entry()));
        let value = if let Some(entry) = map_entry {
            let mut map = BTreeMap::new();
            for v in values {
                if let Wire::Bytes(b) = v {
                    let Value::Object(e) = message_json(field.type_name(), b) else {
                        continue;
                    };
                    let key = match e.get("key") {
                        Some(Value::String(s)) => s.clone(),
                        Some(other) => other.to_string(),
                        None => String::new(),
                    };
                    map.insert(key, e.get("value").cloned().unwrap_or(default_of(entry)));
                }
            }
            if map.is_empty() {
                continue;
            }
            Value::Object(map.into_iter().collect())
        } else if repeated {
            let mut items = Vec::new();
            for v in values {
                match (v, scalar_packed(field.r#type())) {
                    (Wire::Bytes(b), true) => {
                        let mut rest: &[u8] = b;
                        while let Some(x) = varint(&mut rest) {
                            items.push(scalar(field, &Wire::Varint(x)));
                        }
                    }
                    _ => items.push(scalar(field, v)),
                }
            }
            Value::Array(items)
        } else {
            let Some(last) = values.last() else { continue };
            let v = scalar(field, last);
            if !in_oneof && field.r#type() != Type::Message && is_zero(&v) {
                continue;
            }
            v
        };
        obj.insert(json_name(field.name()), value);
    }
    Value::Object(obj)
}

fn default_of(entry: &DescriptorProto) -> Value {
    match entry
        .field
        .iter()
        .find(|f| f.number() == 2)
        .map(|f| f.r#type())
    {
        Some(Type::String) => json!(""),
        Some(Type::Bool) => json!(false),
        Some(Type::Message) => json!({}),
        _ => json!(0),
    }
}

fn scalar_packed(t: Type) -> bool {
    matches!(
        t,
        Type::Int32 | Type::Int64 | Type::Uint32 | Type::Uint64 | Type::Bool | Type::Enum
    )
}

fn is_zero(v: &Value) -> bool {
    match v {
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::String(s) => s.is_empty() || s == "0",
        _ => false,
    }
}

fn scalar(field: &prost_types::FieldDescriptorProto, v: &Wire<'_>) -> Value {
    match (field.r#type(), v) {
        (Type::Message, Wire::Bytes(b)) => message_json(field.type_name(), b),
        (Type::String, Wire::Bytes(b)) => json!(String::from_utf8_lossy(b)),
        (Type::Bytes, Wire::Bytes(b)) => json!(base64::engine::general_purpose::STANDARD.encode(b)),
        (Type::Bool, Wire::Varint(x)) => json!(*x != 0),
        // Two's complement of a negative int64/int32 on the wire.
        (Type::Int64, Wire::Varint(x)) => json!((*x as i64).to_string()),
        (Type::Uint64, Wire::Varint(x)) => json!(x.to_string()),
        (Type::Int32, Wire::Varint(x)) => json!(*x as i64 as i32),
        (Type::Uint32, Wire::Varint(x)) => json!(*x as u32),
        (Type::Enum, Wire::Varint(x)) => {
            let number = *x as i64 as i32;
            registry()
                .enums
                .get(field.type_name())
                .and_then(|e| e.value.iter().find(|v| v.number() == number))
                .map_or(json!(number), |v| json!(v.name()))
        }
        (_, Wire::Fixed64(x)) => json!(x.to_string()),
        (_, Wire::Fixed32(x)) => json!(x),
        (_, Wire::Varint(x)) => json!(x),
        (_, Wire::Bytes(b)) => json!(base64::engine::general_purpose::STANDARD.encode(b)),
    }
}

/// `result.json` of `frontend.convertllb` for `def`, as 1.26 writes it (`json.MarshalIndent`
/// with two spaces; `<`, `>`, `&` escaped as Go does).
pub fn convertllb_json(def: &pb::Definition) -> String {
    let mut ops = BTreeMap::new();
    for bytes in &def.def {
        ops.insert(super::digest_of(bytes), message_json(".pb.Op", bytes));
    }
    let metadata: Map<String, Value> = def
        .metadata
        .iter()
        .map(|(d, md)| (d.clone(), go_metadata(md)))
        .collect();
    let source = def.source.as_ref().map_or(json!({}), |s| {
        message_json(".pb.Source", &s.encode_to_vec())
    });
    let out = json!({
        "def": Value::Object(ops.into_iter().collect()),
        "metadata": Value::Object(metadata),
        "source": source,
    });
    let text = serde_json::to_string_pretty(&out).unwrap_or_default();
    text.replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

/// Go's `encoding/json` of `llb.OpMetadata` (omitempty fields, the generated structs' tags).
pub fn go_metadata(md: &pb::OpMetadata) -> Value {
    let mut obj = Map::new();
    if md.ignore_cache {
        obj.insert("ignore_cache".into(), json!(true));
    }
    if !md.description.is_empty() {
        obj.insert("description".into(), json!(md.description));
    }
    if let Some(e) = &md.export_cache {
        obj.insert(
            "export_cache".into(),
            if e.value {
                json!({"Value": true})
            } else {
                json!({})
            },
        );
    }
    if !md.caps.is_empty() {
        obj.insert("caps".into(), json!(md.caps));
    }
    if let Some(g) = &md.progress_group {
        let mut group = Map::new();
        if !g.id.is_empty() {
            group.insert("id".into(), json!(g.id));
        }
        if !g.name.is_empty() {
            group.insert("name".into(), json!(g.name));
        }
        if g.weak {
            group.insert("weak".into(), json!(true));
        }
        obj.insert("progress_group".into(), Value::Object(group));
    }
    if let Some(r) = &md.linux_resources {
        let mut res = Map::new();
        let mut put = |k: &str, v: Value, zero: bool| {
            if !zero {
                res.insert(k.into(), v);
            }
        };
        put("memory", json!(r.memory), r.memory == 0);
        put("memorySwap", json!(r.memory_swap), r.memory_swap == 0);
        put("cpuShares", json!(r.cpu_shares), r.cpu_shares == 0);
        put("cpuPeriod", json!(r.cpu_period), r.cpu_period == 0);
        put("cpuQuota", json!(r.cpu_quota), r.cpu_quota == 0);
        put("cpusetCpus", json!(r.cpuset_cpus), r.cpuset_cpus.is_empty());
        put("cpusetMems", json!(r.cpuset_mems), r.cpuset_mems.is_empty());
        obj.insert("linux_resources".into(), Value::Object(res));
    }
    Value::Object(obj)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llb::{Exec, OpMeta, State, marshal};

    #[test]
    fn ops_in_protojson() {
        let base = State::image(
            "docker.io/library/busybox:latest",
            BTreeMap::new(),
            OpMeta::default(),
        );
        let run = base
            .run(
                Exec {
                    args: vec!["/bin/sh".into(), "-c".into(), "a && b > c".into()],
                    cwd: "/".into(),
                    ..Exec::default()
                },
                OpMeta {
                    name: Some("[2/2] RUN a && b > c".into()),
                    ..OpMeta::default()
                },
            )
            .root();
        let def = marshal(&run, None);
        let text = convertllb_json(&def);
        let v: Value = serde_json::from_str(&text).unwrap();
        let ops = v["def"].as_object().unwrap();
        assert_eq!(ops.len(), def.def.len());
        let exec = ops.values().find(|o| o.get("exec").is_some()).unwrap();
        assert_eq!(exec["exec"]["meta"]["args"][2], "a && b > c");
        assert_eq!(exec["exec"]["mounts"][0]["dest"], "/");
        // Zero values are left out: the root mount's input 0, output 0, type BIND.
        assert!(exec["exec"]["mounts"][0].get("input").is_none());
        assert_eq!(exec["inputs"][0]["digest"], base.digest().unwrap());
        assert!(text.contains("a \\u0026\\u0026 b \\u003e c"));
        let md = &v["metadata"][run.digest().unwrap()];
        assert_eq!(md["description"]["llb.customname"], "[2/2] RUN a && b > c");
        assert_eq!(md["caps"]["exec.meta.base"], true);
        // The source map is the map BuildKit declares, each op's entry an empty object here.
        let locations = v["source"]["locations"].as_object().unwrap();
        assert_eq!(locations.len(), 2);
        assert_eq!(locations[&run.digest().unwrap()], json!({}));
        assert_eq!(
            json_name("remove_mount_stubs_recursive"),
            "removeMountStubsRecursive"
        );
    }
}
