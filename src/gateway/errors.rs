//! Turning errors into the `google.rpc.Status` that `Return` carries, in one place.
//!
//! BuildKit's clients print the Dockerfile excerpt around a failing line when the status carries
//! an `errdefs.Source` detail: a `google.protobuf.Any` whose type URL ends in `+json` and whose
//! value is the JSON of the source info and line ranges.

use base64::Engine as _;
use serde_json::json;

use crate::proto::google::rpc::Status;

/// Type URL of BuildKit's source-location error detail.
const SOURCE_DETAIL: &str = "github.com/moby/buildkit/errdefs.Source+json";

/// Type URL of BuildKit's "unsupported subrequest" detail, which buildx reads to retry with
/// an official frontend that answers the request.
const SUBREQUEST_DETAIL: &str = "github.com/moby/buildkit/errdefs.Subrequest+json";

/// The `errdefs.Subrequest` detail naming `request`.
pub fn subrequest_detail(request: &str) -> prost_types::Any {
    prost_types::Any {
        type_url: SUBREQUEST_DETAIL.into(),
        value: json!({ "name": request }).to_string().into_bytes(),
    }
}

/// gRPC code `Unknown`, what BuildKit's Go client uses for plain errors.
const CODE_UNKNOWN: i32 = 2;

/// Where in the Dockerfile an error is, for the status detail.
#[derive(Clone, Debug)]
pub struct SourceLocation<'a> {
    /// The Dockerfile's name.
    pub filename: &'a str,
    /// The Dockerfile's bytes.
    pub data: &'a [u8],
    /// 1-based inclusive line ranges.
    pub ranges: Vec<(u32, u32)>,
    /// The definition that loaded the Dockerfile (`SourceInfo.definition`), when known.
    pub definition: Option<&'a crate::proto::pb::Definition>,
}

/// Go's `encoding/json` of a `pb.Definition` (the form `errdefs.Source+json` carries).
fn definition_json(def: &crate::proto::pb::Definition) -> serde_json::Value {
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let mut obj = serde_json::Map::new();
    if !def.def.is_empty() {
        obj.insert(
            "def".into(),
            json!(def.def.iter().map(|b| b64(b)).collect::<Vec<_>>()),
        );
    }
    if !def.metadata.is_empty() {
        let md: serde_json::Map<String, serde_json::Value> = def
            .metadata
            .iter()
            .map(|(d, m)| (d.clone(), crate::llb::protojson::go_metadata(m)))
            .collect();
        obj.insert("metadata".into(), serde_json::Value::Object(md));
    }
    serde_json::Value::Object(obj)
}

/// A status with `message` and, when given, the Dockerfile location as a typed detail.
pub fn status(message: String, location: Option<SourceLocation<'_>>) -> Status {
    let details = location
        .map(|loc| {
            let ranges: Vec<_> = loc
                .ranges
                .iter()
                .map(|(start, end)| json!({"start": {"line": start}, "end": {"line": end}}))
                .collect();
            let mut info = json!({
                "filename": loc.filename,
                "data": base64::engine::general_purpose::STANDARD.encode(loc.data),
            });
            if let Some(def) = loc.definition {
                info["definition"] = definition_json(def);
            }
            info["language"] = json!("Dockerfile");
            let value = json!({
                "info": info,
                "ranges": ranges,
            });
            prost_types::Any {
                type_url: SOURCE_DETAIL.into(),
                value: value.to_string().into_bytes(),
            }
        })
        .into_iter()
        .collect();
    Status {
        code: CODE_UNKNOWN,
        message,
        details,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_detail_is_buildkit_json() {
        let st = status(
            "dockerfile parse error on line 2: unknown instruction: RUNN".into(),
            Some(SourceLocation {
                filename: "Dockerfile",
                data: b"FROM a\nRUNN x\n",
                ranges: vec![(2, 2)],
                definition: Some(&crate::proto::pb::Definition {
                    def: vec![b"op".to_vec()],
                    ..Default::default()
                }),
            }),
        );
        assert_eq!(st.code, 2);
        assert_eq!(st.details.len(), 1);
        assert_eq!(st.details[0].type_url, SOURCE_DETAIL);
        let v: serde_json::Value = serde_json::from_slice(&st.details[0].value).unwrap();
        assert_eq!(v["ranges"][0]["start"]["line"], 2);
        assert_eq!(v["info"]["filename"], "Dockerfile");
        assert_eq!(v["info"]["data"], "RlJPTSBhClJVTk4geAo=");
        // BuildKit's clients expect the loading definition beside the Dockerfile.
        assert_eq!(v["info"]["definition"]["def"][0], "b3A=");
        let d = subrequest_detail("frontend.nope");
        assert_eq!(d.type_url, SUBREQUEST_DETAIL);
        assert_eq!(d.value, br#"{"name":"frontend.nope"}"#);
    }
}
