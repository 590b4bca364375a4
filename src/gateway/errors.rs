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
            let value = json!({
                "info": {
                    "filename": loc.filename,
                    "data": base64::engine::general_purpose::STANDARD.encode(loc.data),
                    "language": "Dockerfile",
                },
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
            }),
        );
        assert_eq!(st.code, 2);
        assert_eq!(st.details.len(), 1);
        assert_eq!(st.details[0].type_url, SOURCE_DETAIL);
        let v: serde_json::Value = serde_json::from_slice(&st.details[0].value).unwrap();
        assert_eq!(v["ranges"][0]["start"]["line"], 2);
        assert_eq!(v["info"]["filename"], "Dockerfile");
        assert_eq!(v["info"]["data"], "RlJPTSBhClJVTk4geAo=");
        let d = subrequest_detail("frontend.nope");
        assert_eq!(d.type_url, SUBREQUEST_DETAIL);
        assert_eq!(d.value, br#"{"name":"frontend.nope"}"#);
    }
}
