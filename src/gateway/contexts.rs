//! What named contexts need from the daemon before conversion: the frontend inputs behind
//! `input:` contexts (`Inputs` RPC), the `.dockerignore` of `local:` contexts, and what a
//! source policy makes of the image a `docker-image:` context names.

use std::collections::BTreeMap;

use base64::Engine as _;
use prost::Message;

use crate::llb;
use crate::options::{BuildOptions, FrontendInput};
use crate::pipeline;
use crate::proto::moby::buildkit::v1::frontend::ResolveImageConfigRequest;

use super::client::{Client, PendingDaemon};
use super::frontend::Failure;
use super::options::GatewayOptions;

/// Fills `build.inputs` and `build.context_excludes` for the named contexts asked for.
pub(super) async fn load(
    client: &mut Client,
    daemon: &PendingDaemon,
    opts: &GatewayOptions,
    build: &mut BuildOptions,
) -> Result<(), Failure> {
    let mut wanted_inputs = Vec::new();
    let mut locals = BTreeMap::new();
    // Ping's answer is awaited only for the contexts whose caps are checked.
    let needs_caps = (build.named_contexts.values())
        .any(|s| s.starts_with("oci-layout:") || s.starts_with("input:"));
    let daemon = match needs_caps {
        true => super::frontend::answered(daemon).await?,
        false => super::client::Daemon::default(),
    };
    for (key, source) in &build.named_contexts {
        // An old daemon would resolve the image from a registry instead of the client's store.
        if source.starts_with("oci-layout:") && !daemon.llb_caps.has("source.ocilayout") {
            return Err(Failure::plain(format!(
                "named context {key}: oci-layout:// contexts need a BuildKit with source.ocilayout (v0.11 or later)"
            )));
        }
        if let Some(name) = source.strip_prefix("input:") {
            wanted_inputs.push((key.clone(), name.to_string()));
        } else if let Some(name) = source.strip_prefix("local:") {
            locals
                .entry(name.to_string())
                .or_insert_with(|| key.clone());
        }
    }
    if !wanted_inputs.is_empty() {
        if !daemon.api_caps.has("frontend.inputs") {
            return Err(Failure::plain(
                "named contexts from frontend inputs need a BuildKit with frontend.inputs",
            ));
        }
        let definitions = client.inputs().await?;
        for (key, name) in wanted_inputs {
            let Some(definition) = definitions.get(&name) else {
                return Err(Failure::plain(format!("invalid input {name} for {key}")));
            };
            let image_config = match opts.input_metadata.get(&name) {
                Some(json) => image_config(json).map_err(|e| {
                    Failure::plain(format!("failed to parse input metadata {json}: {e}"))
                })?,
                None => None,
            };
            build.inputs.insert(
                name,
                FrontendInput {
                    definition: definition.encode_to_vec(),
                    image_config,
                },
            );
        }
    }
    for (name, key) in locals {
        if let Some(bytes) = local_dockerignore(client, build, &name, &key).await? {
            build
                .context_excludes
                .insert(name, pipeline::dockerignore_patterns(&bytes));
        }
    }
    Ok(())
}

/// The request fields that make the daemon read an image from the client's OCI layout store.
pub(super) fn oci_resolve(
    image: &pipeline::ImageRequest,
    build: &BuildOptions,
) -> ResolveImageConfigRequest {
    match &image.oci_store {
        None => ResolveImageConfigRequest::default(),
        Some(store) => ResolveImageConfigRequest {
            // BuildKit's ResolverTypeOCILayout.
            resolver_type: 1,
            session_id: build.session_id.clone(),
            store_id: store.clone(),
            ..ResolveImageConfigRequest::default()
        },
    }
}

/// The `containerimage.config` entry of `input-metadata:NAME` (a JSON map of base64 values).
fn image_config(json: &str) -> Result<Option<Vec<u8>>, String> {
    let map: BTreeMap<String, String> = serde_json::from_str(json).map_err(|e| e.to_string())?;
    match map.get("containerimage.config") {
        None => Ok(None),
        Some(b64) => base64::engine::general_purpose::STANDARD
            .decode(b64)
            .map(Some)
            .map_err(|e| e.to_string()),
    }
}

/// How many times a source policy may turn a named context's image into another source
/// (dockerui's `maxContextRecursion`).
pub(super) const MAX_REDIRECTS: usize = 10;

/// The daemon's answer when a source policy turns an image into a source of another kind
/// (`ref mutated by policy to non-image: docker-image://REF -> UPDATED`): REF and UPDATED.
pub(super) fn policy_redirect(message: &str) -> Option<(&str, &str)> {
    let (_, rest) = message.split_once("ref mutated by policy to non-image: docker-image://")?;
    let (reference, updated) = rest.split_once(" -> ")?;
    Some((reference, updated.split_whitespace().next()?))
}

/// Points the `docker-image:` named contexts that name `reference` at `updated` (`local://dir`
/// becomes `local:dir`), as dockerui does when the policy answer comes back, and loads the
/// `.dockerignore` of a local one. False when no named context names that image.
pub(super) async fn redirect(
    client: &mut Client,
    build: &mut BuildOptions,
    reference: &str,
    updated: &str,
    redirects: usize,
) -> Result<bool, Failure> {
    let keys: Vec<String> = (build.named_contexts.iter())
        .filter(|(key, source)| {
            let named = crate::plan::NamedContext {
                key: (*key).clone(),
                source: (*source).clone(),
            };
            named.image().is_some_and(|r| r.to_string() == reference)
        })
        .map(|(key, _)| key.clone())
        .collect();
    let Some(first) = keys.first() else {
        return Ok(false);
    };
    if redirects >= MAX_REDIRECTS {
        return Err(Failure::plain(format!(
            "context recursion limit exceeded; this may indicate a cycle in the provided source policies: {}",
            build.named_contexts[first]
        )));
    }
    let Some((scheme, rest)) = updated.split_once("://") else {
        return Err(Failure::plain(format!("could not parse ref: {updated}")));
    };
    let source = format!("{scheme}:{rest}");
    for key in &keys {
        build.named_contexts.insert(key.clone(), source.clone());
    }
    if scheme == "local"
        && !build.context_excludes.contains_key(rest)
        && let Some(bytes) = local_dockerignore(client, build, rest, first).await?
    {
        build
            .context_excludes
            .insert(rest.to_string(), pipeline::dockerignore_patterns(&bytes));
    }
    Ok(true)
}

/// The `.dockerignore` at the root of local `name`, read the way the official frontend reads
/// it for a `local:` context (a small Solve of just that file).
async fn local_dockerignore(
    client: &mut Client,
    build: &BuildOptions,
    name: &str,
    key: &str,
) -> Result<Option<Vec<u8>>, Failure> {
    let attrs = BTreeMap::from([
        ("local.differ".to_string(), "none".to_string()),
        (
            "local.followpaths".to_string(),
            r#"[".dockerignore"]"#.to_string(),
        ),
        (
            "local.session".to_string(),
            build.session_for(name).to_string(),
        ),
        (
            "local.sharedkeyhint".to_string(),
            format!("context:{key}-.dockerignore"),
        ),
    ]);
    let meta = llb::OpMeta {
        name: Some(format!("[context {key}] load .dockerignore")),
        ..llb::OpMeta::default()
    };
    let definition = llb::marshal(&llb::State::local(name, attrs, meta), None);
    let reference = client.solve_ref(definition).await?;
    Ok(client.read_file(&reference, ".dockerignore").await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oci_layout_images_resolve_from_the_client_store() {
        let mut build = BuildOptions::new(crate::image::Platform::new("linux", "amd64", None));
        build.session_id = "s1".into();
        let image = pipeline::ImageRequest {
            reference: "docker.io/library/alpine@sha256:00".into(),
            platform: build.build_platform.clone(),
            oci_store: Some("mystore".into()),
        };
        let req = oci_resolve(&image, &build);
        assert_eq!(
            (
                req.resolver_type,
                req.session_id.as_str(),
                req.store_id.as_str()
            ),
            (1, "s1", "mystore")
        );
        let registry = pipeline::ImageRequest {
            oci_store: None,
            ..image
        };
        assert_eq!(
            oci_resolve(&registry, &build),
            ResolveImageConfigRequest::default()
        );
    }

    #[test]
    fn input_metadata_image_config() {
        let b64 = base64::engine::general_purpose::STANDARD.encode(br#"{"os":"linux"}"#);
        let json = format!(r#"{{"containerimage.config":"{b64}","other":"eA=="}}"#);
        assert_eq!(image_config(&json), Ok(Some(br#"{"os":"linux"}"#.to_vec())));
        assert_eq!(image_config("{}"), Ok(None));
        assert!(image_config("[").is_err());
    }
}
