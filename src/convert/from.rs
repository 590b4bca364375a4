//! Starting a stage: scratch, an image, or an earlier stage (BuildKit's dispatchState init).

use std::collections::BTreeMap;

use crate::image::{DEFAULT_PATH, Image};
use crate::instructions::Kind;
use crate::llb;
use crate::plan::{Base, Stage, image_key};

use super::env::{EnvList, split_entry};
use super::stage::StageState;
use super::{Dispatcher, Error};

impl Dispatcher<'_> {
    /// The state a stage starts with, after FROM.
    pub(super) fn start(&mut self, stage: &Stage) -> Result<StageState, Error> {
        let at = |message: String| Error {
            message,
            lines: stage.from.lines,
        };
        let opts = self.ctx.options;
        let counted = stage
            .steps
            .iter()
            .filter(|s| {
                matches!(
                    s.instruction.kind,
                    Kind::Run(_) | Kind::Copy(_) | Kind::Add(_) | Kind::Workdir(_)
                )
            })
            .count();
        let display_name = self.named.then(|| {
            stage
                .name
                .clone()
                .unwrap_or_else(|| format!("stage-{}", stage.index))
        });
        let ignore_cache = opts.no_cache.applies_to(stage.name.as_deref());
        let mut st = match &stage.base {
            Base::Stage(parent) => {
                let mut st = self.done[*parent]
                    .clone()
                    .ok_or_else(|| at(format!("stage {parent} was not converted before use")))?;
                st.image.config.on_build = None;
                st.cmd_set = false;
                st.cmd_total = counted;
                st.cmd_index = 0;
                st.display_name = display_name;
                st.ignore_cache = ignore_cache;
                st
            }
            Base::Scratch => StageState {
                state: llb::State::scratch(),
                image: Image::scratch(&stage.platform),
                env: EnvList::default(),
                workdir: "/".into(),
                user: String::new(),
                build_args: Vec::new(),
                cmd_set: false,
                platform: stage.platform.clone(),
                ignore_cache,
                display_name,
                cmd_total: counted,
                cmd_index: 0,
            },
            Base::Image(reference) => {
                let mut st = StageState {
                    state: llb::State::scratch(),
                    image: Image::default(),
                    env: EnvList::default(),
                    workdir: "/".into(),
                    user: String::new(),
                    build_args: Vec::new(),
                    cmd_set: false,
                    platform: stage.platform.clone(),
                    ignore_cache,
                    display_name,
                    cmd_total: counted + 1,
                    cmd_index: 0,
                };
                let (state, image) = self.image_source(
                    &reference.to_string(),
                    &stage.platform,
                    Some(&mut st),
                    &stage.from,
                )?;
                if image
                    .config
                    .on_build
                    .as_ref()
                    .is_some_and(|t| !t.is_empty())
                {
                    return Err(at(format!(
                        "base image {reference} has ONBUILD triggers, which stager does not run yet"
                    )));
                }
                st.state = state;
                st.image = image;
                st
            }
        };
        // BuildKit makes sure PATH is set, then mirrors the config env into the LLB env.
        if st.image.platform().os != "windows"
            && !st.image.env().iter().any(|e| split_entry(e).0 == "PATH")
        {
            st.image
                .config
                .env
                .get_or_insert_with(Vec::new)
                .push(format!("PATH={DEFAULT_PATH}"));
        }
        for entry in st.image.env().to_vec() {
            let (k, v) = split_entry(&entry);
            st.env.add(k, v);
        }
        if !st.image.config.working_dir.is_empty() {
            st.workdir = super::paths::normalize("/", &st.image.config.working_dir, false);
        }
        if !st.image.config.user.is_empty() {
            st.user = st.image.config.user.clone();
        }
        Ok(st)
    }

    /// An image source op and its config. `st` names the op as a stage step (FROM);
    /// `COPY --from=<image>` passes none and the op has no `[i/N]` prefix.
    pub(super) fn image_source(
        &self,
        reference: &str,
        platform: &crate::image::Platform,
        st: Option<&mut StageState>,
        ins: &crate::instructions::Instruction,
    ) -> Result<(llb::State, Image), Error> {
        let key = image_key(reference, platform);
        let base = self.bases.get(&key);
        let pinned = match base.map(|b| b.digest.as_str()) {
            Some(d) if !d.is_empty() => format!("{reference}@{d}"),
            _ => reference.to_string(),
        };
        let mut image = base.map(|b| b.config.clone()).unwrap_or_else(|| Image {
            architecture: platform.architecture.clone(),
            os: platform.os.clone(),
            variant: platform.variant.clone().unwrap_or_default(),
            ..Image::default()
        });
        image.created = None;
        // An image without layers is scratch: no source op, as in BuildKit.
        if base.is_some() && image.rootfs.diff_ids.is_empty() {
            return Ok((llb::State::scratch(), image));
        }
        let text = format!("FROM {pinned}");
        let name = match st {
            Some(st) => st.progress_name(&text),
            None => text,
        };
        let mut attrs = BTreeMap::new();
        let mode = self.ctx.options.image_resolve_mode;
        if mode != crate::options::ResolveMode::Default {
            attrs.insert("image.resolvemode".to_string(), mode.as_str().to_string());
        }
        let meta = llb::OpMeta {
            name: Some(name),
            description: BTreeMap::from([(
                "com.docker.dockerfile.v1.command".to_string(),
                ins.original.trim().to_string(),
            )]),
            locations: (ins.lines.0..=ins.lines.1).map(|l| (l, l)).collect(),
            platform: Some(llb_platform(platform)),
            ..llb::OpMeta::default()
        };
        Ok((llb::State::image(&pinned, attrs, meta), image))
    }
}

/// The LLB form of a platform.
pub(super) fn llb_platform(p: &crate::image::Platform) -> llb::Platform {
    llb::Platform {
        os: p.os.clone(),
        architecture: p.architecture.clone(),
        variant: p.variant.clone(),
    }
}
