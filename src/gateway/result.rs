//! The `Return` result of a build: one ref or refs by platform, with the metadata BuildKit's
//! exporters read (image config, `refs.platforms`, base image config, SOURCE_DATE_EPOCH).

use std::collections::BTreeMap;

use crate::image::Platform;
use crate::proto::moby::buildkit::v1::frontend as gw;

/// One platform's solved build.
pub(super) struct Solved {
    pub(super) platform: Platform,
    pub(super) reference: gw::Ref,
    pub(super) image: crate::image::Image,
    /// The config of the image the target starts from (`containerimage.base.config`).
    pub(super) base_config: Option<Vec<u8>>,
    /// SOURCE_DATE_EPOCH as resolved, for the exporter (`source.date.epoch`).
    pub(super) epoch: Option<i64>,
}

/// The result metadata key the image exporters read SOURCE_DATE_EPOCH from.
const EPOCH_KEY: &str = "source.date.epoch";

/// The result metadata key of the target's base image config (BuildKit v0.13+ exporters and
/// provenance read it).
const BASE_CONFIG_KEY: &str = "containerimage.base.config";

/// The `Return` result: one ref, or refs by platform ID with a config (and, with
/// SOURCE_DATE_EPOCH, an epoch) per platform.
pub(super) fn assemble_result(solved: Vec<Solved>, ref_map: bool) -> gw::Result {
    let platforms: Vec<Platform> = solved.iter().map(export_platform).collect();
    let mut metadata = BTreeMap::from([("refs.platforms".to_string(), refs_platforms(&platforms))]);
    if !ref_map && let [one] = solved.as_slice() {
        metadata.insert("containerimage.config".to_string(), one.image.to_json());
        if let Some(base) = &one.base_config {
            metadata.insert(BASE_CONFIG_KEY.to_string(), base.clone());
        }
        if let Some(epoch) = one.epoch {
            metadata.insert(EPOCH_KEY.to_string(), epoch.to_string().into_bytes());
        }
        return gw::Result {
            result: Some(gw::result::Result::Ref(one.reference.clone())),
            metadata,
            attestations: BTreeMap::new(),
        };
    }
    let mut refs = BTreeMap::new();
    for one in solved {
        let id = export_platform(&one).format_all();
        metadata.insert(format!("containerimage.config/{id}"), one.image.to_json());
        if let Some(base) = one.base_config {
            metadata.insert(format!("{BASE_CONFIG_KEY}/{id}"), base);
        }
        if let Some(epoch) = one.epoch {
            metadata.insert(format!("{EPOCH_KEY}/{id}"), epoch.to_string().into_bytes());
        }
        refs.insert(id, one.reference);
    }
    gw::Result {
        result: Some(gw::result::Result::Refs(gw::RefMap { refs })),
        metadata,
        attestations: BTreeMap::new(),
    }
}

/// The platform a result is exported as: a Windows target without an OS version takes the
/// image's (BuildKit's `extendWindowsPlatform`).
pub(super) fn export_platform(solved: &Solved) -> Platform {
    let mut p = solved.platform.clone();
    let image = &solved.image;
    if p.os == "windows"
        && image.os == p.os
        && p.os_version.is_none()
        && !image.os_version.is_empty()
    {
        p.os_version = Some(image.os_version.clone());
    }
    p
}

/// `refs.platforms` as BuildKit's exporter reads it (Go field names, no JSON tags), in order.
fn refs_platforms(platforms: &[Platform]) -> Vec<u8> {
    let entries: Vec<serde_json::Value> = platforms
        .iter()
        .map(|p| {
            let mut platform = serde_json::json!({"architecture": p.architecture, "os": p.os});
            if let Some(v) = &p.os_version {
                platform["os.version"] = serde_json::Value::String(v.clone());
            }
            if let Some(v) = &p.variant {
                platform["variant"] = serde_json::Value::String(v.clone());
            }
            serde_json::json!({"ID": p.format_all(), "Platform": platform})
        })
        .collect();
    serde_json::json!({ "Platforms": entries })
        .to_string()
        .into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn solved(p: &str, id: &str) -> Solved {
        let platform = Platform::parse(p).unwrap();
        let image = crate::image::Image::scratch(&platform);
        let reference = gw::Ref {
            id: id.into(),
            def: None,
        };
        Solved {
            platform,
            reference,
            image,
            base_config: None,
            epoch: None,
        }
    }

    #[test]
    fn the_epoch_is_returned_per_platform() {
        let dated = |p: &str| Solved {
            epoch: Some(1_700_000_000),
            ..solved(p, "r")
        };
        let one = assemble_result(vec![dated("linux/amd64")], false);
        assert_eq!(one.metadata["source.date.epoch"], b"1700000000");
        let many = assemble_result(vec![dated("linux/amd64"), dated("linux/arm64")], true);
        assert_eq!(
            many.metadata["source.date.epoch/linux/arm64"],
            b"1700000000"
        );
        assert!(!many.metadata.contains_key("source.date.epoch"));
        let none = assemble_result(vec![solved("linux/amd64", "r")], false);
        assert!(!none.metadata.contains_key("source.date.epoch"));
    }

    #[test]
    fn one_platform_returns_one_ref() {
        let r = assemble_result(vec![solved("linux/amd64", "r1")], false);
        assert!(matches!(r.result, Some(gw::result::Result::Ref(ref x)) if x.id == "r1"));
        assert!(r.metadata.contains_key("containerimage.config"));
        assert_eq!(
            String::from_utf8(r.metadata["refs.platforms"].clone()).unwrap(),
            r#"{"Platforms":[{"ID":"linux/amd64","Platform":{"architecture":"amd64","os":"linux"}}]}"#
        );
    }

    #[test]
    fn several_platforms_return_a_ref_map() {
        let r = assemble_result(
            vec![solved("linux/arm/v7", "a"), solved("linux/amd64", "b")],
            true,
        );
        let Some(gw::result::Result::Refs(map)) = r.result else {
            panic!("not a ref map")
        };
        assert_eq!(map.refs["linux/arm/v7"].id, "a");
        assert_eq!(map.refs["linux/amd64"].id, "b");
        assert!(
            r.metadata
                .contains_key("containerimage.config/linux/arm/v7")
        );
        assert!(r.metadata.contains_key("containerimage.config/linux/amd64"));
        let platforms: serde_json::Value =
            serde_json::from_slice(&r.metadata["refs.platforms"]).unwrap();
        assert_eq!(platforms["Platforms"][0]["ID"], "linux/arm/v7");
        assert_eq!(platforms["Platforms"][0]["Platform"]["variant"], "v7");
    }
}
