//! Named contexts (`context:NAME=<source>`): the state, and the image config where the source
//! has one, that stand in for an image or a stage.

use std::collections::{BTreeMap, BTreeSet};

use prost::Message;

use crate::image::{Image, Platform};
use crate::instructions::Instruction;
use crate::llb;
use crate::plan::{NamedContext, image_key};

use super::Dispatcher;
use super::gitref::{self, Parsed};

impl Dispatcher<'_> {
    /// The filesystem of a named context and, for images and inputs with metadata, its config.
    /// `follow`: the paths the build reads of it, which a local one sends alone (1.26 makes a
    /// source per stage, `COPY --from` and mount that reads a local context).
    pub(super) fn context_source(
        &self,
        named: &NamedContext,
        platform: &Platform,
        ins: &Instruction,
        follow: Option<&BTreeSet<String>>,
    ) -> Result<(llb::State, Option<Image>), String> {
        let key = &named.key;
        let spec = &named.source;
        let Some((kind, rest)) = spec.split_once(':') else {
            return Err(format!("invalid context specifier {spec} for {key}"));
        };
        // `git@host:repo` has no scheme.
        let kind = if kind.starts_with("git@") {
            "git"
        } else {
            kind
        };
        match kind {
            "docker-image" => {
                let reference = rest.trim_start_matches("//");
                if reference == "scratch" {
                    return Ok((llb::State::scratch(), None));
                }
                let Some(image) = named.image() else {
                    return Err(format!("invalid reference format: {reference} for {key}"));
                };
                let (state, config) = self
                    .image_source_with(&image.to_string(), platform, None, ins, false)
                    .map_err(|e| e.message)?;
                // The op is the context's, not a FROM step's.
                let renamed = state.renamed(&format!("[context {key}] {reference}"));
                Ok((renamed, Some(config)))
            }
            "git" | "http" | "https" => match gitref::parse(spec, false)? {
                Parsed::Git(_) => {
                    let what = format!("named context {key}");
                    let caps = &self.ctx.llb_caps;
                    let state = super::main_context::git_context(spec, None, None, caps, &what)?;
                    Ok((state, None))
                }
                Parsed::NotGit if kind == "git" => Err(format!("invalid git context {spec}")),
                Parsed::NotGit => {
                    let attrs = BTreeMap::from([("http.filename".into(), "context".into())]);
                    let meta = llb::OpMeta {
                        name: Some(format!("[context {key}] {spec}")),
                        ..llb::OpMeta::default()
                    };
                    Ok((llb::State::source(spec, attrs, meta), None))
                }
            },
            "local" => {
                let opts = self.ctx.options;
                let mut attrs = BTreeMap::from([
                    (
                        "local.session".to_string(),
                        opts.session_for(rest).to_string(),
                    ),
                    (
                        "local.sharedkeyhint".to_string(),
                        format!(
                            "context:{key}-{}",
                            opts.context_shared_keys.get(key).map_or("", String::as_str)
                        ),
                    ),
                ]);
                if let Some(excludes) = opts.context_excludes.get(rest).filter(|e| !e.is_empty()) {
                    attrs.insert(
                        "local.excludepatterns".into(),
                        serde_json::to_string(excludes).unwrap_or_default(),
                    );
                }
                if let Some(paths) = follow.and_then(super::follow_paths_attr) {
                    attrs.insert("local.followpaths".into(), paths);
                }
                let meta = llb::OpMeta {
                    name: Some(format!("[context {key}] load from client")),
                    ..llb::OpMeta::default()
                };
                Ok((llb::State::local(rest, attrs, meta), None))
            }
            "input" => {
                let Some(input) = self.ctx.options.inputs.get(rest) else {
                    return Err(format!("invalid input {rest} for {key}"));
                };
                let def = crate::proto::pb::Definition::decode(input.definition.as_slice())
                    .map_err(|e| format!("invalid definition of input {rest}: {e}"))?;
                let state = llb::State::from_definition(&def)
                    .map_err(|e| format!("invalid definition of input {rest}: {e}"))?;
                let image = match &input.image_config {
                    None => None,
                    Some(bytes) => {
                        let mut image: Image = serde_json::from_slice(bytes)
                            .map_err(|e| format!("failed to parse image config for {key}: {e}"))?;
                        image.created = None;
                        Some(image)
                    }
                };
                Ok((state, image))
            }
            "oci-layout" => {
                let Some(oci) = named.oci_layout() else {
                    return Err(format!(
                        "oci-layout reference {rest:?} for {key} needs a store name and a digest"
                    ));
                };
                if !self.ctx.llb_caps.contains("source.ocilayout") {
                    return Err(format!(
                        "named context {key}: oci-layout:// contexts need a BuildKit with source.ocilayout (v0.11 or later)"
                    ));
                }
                let reference = oci.reference.to_string();
                let base = self.bases.get(&image_key(&reference, platform));
                let image = base.map(|b| {
                    let mut image = b.config.clone();
                    image.created = None;
                    image
                });
                let attrs = BTreeMap::from([
                    (
                        "oci.session".to_string(),
                        self.ctx.options.session_id.clone(),
                    ),
                    ("oci.store".to_string(), oci.store.clone()),
                ]);
                let meta = llb::OpMeta {
                    name: Some(format!("[context {key}] OCI load from client")),
                    platform: Some(std::sync::Arc::new(super::from::llb_platform(platform))),
                    ..llb::OpMeta::default()
                };
                let state = llb::State::source(&format!("oci-layout://{reference}"), attrs, meta);
                Ok((state, image))
            }
            other => Err(format!("unsupported context source {other} for {key}")),
        }
    }
}

#[cfg(test)]
#[path = "context_tests.rs"]
mod tests;
