//! Starting a stage: scratch, an image, or an earlier stage (BuildKit's dispatchState init).

use std::collections::BTreeMap;

use crate::image::{DEFAULT_PATH, Image};
use crate::instructions::Kind;
use crate::llb;
use crate::plan::{Base, Stage, Step, image_key, step_sources};

use super::env::split_entry;
use super::stage::StageState;
use super::{Dispatcher, Error};

impl Dispatcher<'_> {
    /// The state a stage starts with, after FROM, and the ONBUILD triggers it inherits (from
    /// the base image's config or the parent stage's ONBUILD instructions), to run first.
    pub(super) fn start(&mut self, stage: &Stage) -> Result<(StageState, Vec<String>), Error> {
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
        let mut triggers = Vec::new();
        let mut st = match &stage.base {
            Base::Stage(parent) => {
                let mut st = self
                    .take_base(*parent)
                    .ok_or_else(|| at(format!("stage {parent} was not converted before use")))?;
                triggers = st.image.config.on_build.take().unwrap_or_default();
                st.cmd_set = false;
                st.cmd_total = counted;
                st.cmd_index = 0;
                st.display_name = display_name;
                st.ignore_cache = ignore_cache;
                // BuildKit's trackers of CMD/ENTRYPOINT/HEALTHCHECK are per stage.
                st.last_once = [None; 3];
                st
            }
            Base::Scratch => {
                let image = Image::scratch(&stage.platform);
                let mut st = StageState::new(
                    llb::State::scratch(),
                    image,
                    stage.platform.clone(),
                    counted,
                );
                st.ignore_cache = ignore_cache;
                st.display_name = display_name;
                st
            }
            Base::Context(named) => {
                // Counted like an image base, but named after the context, as BuildKit does.
                let (state, image) = self
                    .context_source(
                        named,
                        &stage.platform,
                        &stage.from,
                        self.named_follow.get(&stage.index),
                    )
                    .map_err(at)?;
                let image = image.unwrap_or_else(|| Image::scratch(&stage.platform));
                let mut st = StageState::new(state, image, stage.platform.clone(), counted + 1);
                st.ignore_cache = ignore_cache;
                st.display_name = display_name;
                triggers = st.image.config.on_build.take().unwrap_or_default();
                st
            }
            Base::Image(reference) => {
                let mut st = StageState::new(
                    llb::State::scratch(),
                    Image::default(),
                    stage.platform.clone(),
                    counted + 1,
                );
                st.ignore_cache = ignore_cache;
                st.display_name = display_name;
                st.platform_prefix = opts.multi_platform;
                let (state, image) = self.image_source(
                    &reference.to_string(),
                    &stage.platform,
                    Some(&mut st),
                    &stage.from,
                )?;
                st.state = state;
                st.image = image;
                st.env_known = self
                    .bases
                    .contains_key(&image_key(&reference.to_string(), &stage.platform));
                self.check_base_platform(stage, reference, &st.image);
                triggers = st.image.config.on_build.take().unwrap_or_default();
                st
            }
        };
        st.platform_prefix = opts.multi_platform;
        // BuildKit counts the triggers after naming the FROM op, so only later steps see them.
        st.cmd_total += triggers.len();
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
        Ok((st, triggers))
    }

    /// An inherited ONBUILD trigger as a step of `stage`, located at its FROM line. A trigger
    /// that reads another stage, an image or a named context resolves it as if it were written
    /// in this stage, as BuildKit does.
    pub(super) fn trigger_step(
        &self,
        trigger: &str,
        stage: &Stage,
    ) -> Result<Step<'static>, Error> {
        let at = |message: String| Error {
            message: format!("ONBUILD trigger {trigger:?}: {message}"),
            lines: stage.from.lines,
        };
        let df = crate::syntax::parse(trigger.as_bytes()).map_err(|e| at(e.to_string()))?;
        let node = match df.nodes.as_slice() {
            [node] => node,
            _ => return Err(at("expected exactly one instruction".into())),
        };
        let mut instruction = crate::instructions::parse_node(node).map_err(|e| at(e.message))?;
        if let Kind::From(_) | Kind::OnBuild(_) | Kind::Maintainer(_) = &instruction.kind {
            return Err(at(format!(
                "{} isn't allowed as an ONBUILD trigger",
                instruction.keyword()
            )));
        }
        let names = &self.plan.names;
        let (copy_from, mount_from) = step_sources(
            &instruction,
            stage.index,
            names,
            self.ctx.options,
            &stage.platform,
        )
        .map_err(|e| at(e.message))?;
        // Stages are converted only when the plan reaches them; the gateway plans again with
        // the stages that resolved base images' triggers read, other callers may not.
        for base in copy_from.iter().chain(mount_from.iter().flatten()) {
            if let Base::Stage(i) = base
                && self.stage_output(*i).is_none()
            {
                let name = names.get(*i).map_or_else(|| i.to_string(), str::to_string);
                return Err(at(format!(
                    "stage {name:?} read by this trigger was not planned (its base image was not resolved before planning)"
                )));
            }
        }
        instruction.original = format!(
            "ONBUILD {}",
            super::stage::uppercase_cmd(instruction.original.trim())
        );
        instruction.lines = stage.from.lines;
        Ok(Step {
            instruction: crate::plan::InstructionRef::Owned(Box::new(instruction)),
            copy_from,
            mount_from,
        })
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
        self.image_source_with(reference, platform, st, ins, true)
    }

    /// [`Self::image_source`]; `resolve_mode` false leaves out the build's `image.resolvemode`
    /// (a `docker-image://` named context's source has none in the official frontend).
    pub(super) fn image_source_with(
        &self,
        reference: &str,
        platform: &crate::image::Platform,
        st: Option<&mut StageState>,
        ins: &crate::instructions::Instruction,
        resolve_mode: bool,
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
        // An image read by COPY --from or a mount is an implicit stage in the official frontend,
        // whose source code (the op's command description) is empty.
        let command = if st.is_some() {
            ins.original.trim().to_string()
        } else {
            String::new()
        };
        let name = match st {
            Some(st) => st.base_progress_name(&text),
            None => text,
        };
        let mut attrs = BTreeMap::new();
        let mode = self.ctx.options.image_resolve_mode;
        if resolve_mode && mode != crate::options::ResolveMode::Default {
            attrs.insert("image.resolvemode".to_string(), mode.as_str().to_string());
        }
        let meta = llb::OpMeta {
            name: Some(name),
            description: vec![("com.docker.dockerfile.v1.command", command)],
            locations: (ins.lines.0..=ins.lines.1).map(|l| (l, l)).collect(),
            platform: Some(std::sync::Arc::new(llb_platform(platform))),
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
        os_version: p.os_version.clone(),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use crate::image::{Image, Platform};
    use crate::options::BuildOptions;
    use crate::pipeline::{self, BaseImage, ConvertContext};

    /// Converts `src` with `busybox` resolved to `config`; returns progress names and the image.
    fn convert_with_base(src: &str, config: Image) -> Result<(Vec<String>, Image), String> {
        let opts = BuildOptions::new(Platform::new("linux", "amd64", None));
        let parsed = pipeline::parse(src.as_bytes()).map_err(|e| e.to_string())?;
        let plan = pipeline::plan(&parsed, &opts).map_err(|e| e.to_string())?;
        let bases: BTreeMap<String, BaseImage> = plan
            .base_images()
            .into_iter()
            .map(|r| {
                let base = BaseImage {
                    digest: String::new(),
                    config: config.clone(),
                };
                (r.key(), base)
            })
            .collect();
        let ctx = ConvertContext {
            options: &opts,
            llb_caps: Default::default(),
            source_info: None,
        };
        let out = pipeline::convert(&plan, parsed.dockerfile.escape, &bases, &ctx)
            .map_err(|e| e.to_string())?;
        let dump = crate::llb::dump(&out.definition);
        let names = dump["ops"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|op| op["metadata"]["description"]["llb.customname"].as_str())
            .map(str::to_string)
            .collect();
        Ok((names, out.image))
    }

    fn base_with_triggers(triggers: &[&str]) -> Image {
        let mut img = Image::scratch(&Platform::new("linux", "amd64", None));
        img.rootfs.diff_ids = vec!["sha256:00".into()];
        img.config.on_build = Some(triggers.iter().map(|t| t.to_string()).collect());
        img
    }

    #[test]
    fn base_image_triggers_run_first_and_are_cleared() {
        let (names, image) = convert_with_base(
            "FROM busybox\nRUN echo after\n",
            base_with_triggers(&["run echo one", "ENV A=1"]),
        )
        .unwrap();
        assert!(names.contains(&"[1/2] FROM docker.io/library/busybox:latest".to_string()));
        // BuildKit counts every trigger (ENV too) in the total, after naming FROM.
        assert!(
            names.contains(&"[2/4] ONBUILD RUN echo one".to_string()),
            "{names:?}"
        );
        assert!(
            names.contains(&"[3/4] RUN echo after".to_string()),
            "{names:?}"
        );
        assert_eq!(image.config.on_build, None);
        assert!(image.env().contains(&"A=1".to_string()));
    }

    #[test]
    fn triggers_read_stages_images_and_contexts() {
        let (names, _) = convert_with_base(
            "FROM scratch AS assets\nCOPY a /a\nFROM busybox\nCOPY --from=assets /a /b\n",
            base_with_triggers(&[
                "COPY --from=assets /a /a",
                "COPY --from=alpine /etc/os-release /os",
            ]),
        )
        .unwrap();
        for want in [
            "[stage-1 2/4] ONBUILD COPY --from=assets /a /a",
            "[stage-1 3/4] ONBUILD COPY --from=alpine /etc/os-release /os",
            "FROM docker.io/library/alpine:latest",
        ] {
            assert!(names.contains(&want.to_string()), "{want}: {names:?}");
        }
    }

    #[test]
    fn a_stage_the_plan_missed_is_an_error() {
        let err = convert_with_base(
            "FROM scratch AS assets\nCOPY a /a\nFROM busybox\n",
            base_with_triggers(&["COPY --from=assets /a /a"]),
        )
        .unwrap_err();
        assert_eq!(
            err,
            "ONBUILD trigger \"COPY --from=assets /a /a\": stage \"assets\" read by this trigger was not planned (its base image was not resolved before planning)"
        );
        let err = convert_with_base(
            "FROM busybox AS b\n",
            base_with_triggers(&["COPY --from=b /a /a"]),
        )
        .unwrap_err();
        assert!(
            err.contains("it needs to be defined before current stage"),
            "{err}"
        );
    }
}
