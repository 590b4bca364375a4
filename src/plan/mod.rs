//! The build plan: stages, global ARGs, stage references and what the target needs.
//!
//! In: typed instructions and [`BuildOptions`]. Out: an immutable [`Plan`]: every stage with its
//! resolved base (scratch, an image, or an earlier stage), each `COPY --from` and `RUN --mount`
//! `from` resolved to a stage or an image, the global ARG values, and the set of stages reachable
//! from the target.
//! `convert` reads the plan and never re-reads instructions to find stages.
//! Not here: per-stage ARG/ENV scoping and any LLB (that is `convert`).

mod args;
mod build;
pub mod epoch;
mod names;

pub use args::{GlobalArgs, Vars, automatic_args};
pub(crate) use build::step_sources;
pub use build::{global_args, plan};
pub use names::StageNames;

use std::ops::Deref;

use crate::image::{Platform, Reference};
use crate::instructions::Instruction;
use crate::options::BuildOptions;

/// An immutable description of what to build, borrowing the instructions it was made from.
#[derive(Clone, Debug)]
pub struct Plan<'a> {
    /// ARGs declared before the first FROM, with their resolved values.
    pub global_args: GlobalArgs,
    /// Every stage, in Dockerfile order.
    pub stages: Vec<Stage<'a>>,
    /// The stages' `AS` names.
    pub names: StageNames,
    /// The stage whose result is returned.
    pub target: usize,
    /// `reachable[i]`: stage `i` is needed by the target.
    pub reachable: Vec<bool>,
    /// What SOURCE_DATE_EPOCH resolved to (nothing when not asked for).
    pub epoch: epoch::Resolved,
    /// The SOURCE_DATE_EPOCH build arg after resolution, when one was given: the number, or
    /// `None` when it resolved to nothing and is dropped.
    pub epoch_build_arg: Option<Option<String>>,
}

impl Plan<'_> {
    /// The same plan owning its instructions, for a caller that keeps it longer than the
    /// parsed Dockerfile.
    pub fn into_owned(self) -> Plan<'static> {
        Plan {
            global_args: self.global_args,
            stages: (self.stages.into_iter())
                .map(|s| Stage {
                    index: s.index,
                    name: s.name,
                    base: s.base,
                    platform: s.platform,
                    from: s.from.into_owned(),
                    steps: (s.steps.into_iter())
                        .map(|step| Step {
                            instruction: step.instruction.into_owned(),
                            copy_from: step.copy_from,
                            mount_from: step.mount_from,
                        })
                        .collect(),
                })
                .collect(),
            names: self.names,
            target: self.target,
            reachable: self.reachable,
            epoch: self.epoch,
            epoch_build_arg: self.epoch_build_arg,
        }
    }

    /// The value of build arg `key` for this build (`opts.build_args`, with SOURCE_DATE_EPOCH
    /// as resolved).
    pub fn build_arg<'a>(&'a self, opts: &'a BuildOptions, key: &str) -> Option<&'a str> {
        match &self.epoch_build_arg {
            Some(resolved) if key == epoch::NAME => resolved.as_deref(),
            _ => opts.build_args.get(key).map(String::as_str),
        }
    }
}

/// One `FROM` and the instructions after it.
#[derive(Clone, Debug)]
pub struct Stage<'a> {
    /// Position in the Dockerfile, from 0.
    pub index: usize,
    /// `AS name`, lower-cased.
    pub name: Option<String>,
    /// What the stage starts from.
    pub base: Base,
    /// The platform the stage builds for.
    pub platform: Platform,
    /// The FROM instruction.
    pub from: InstructionRef<'a>,
    /// The instructions after FROM, with their resolved references.
    pub steps: Vec<Step<'a>>,
}

/// What a stage starts from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Base {
    /// `FROM scratch`.
    Scratch,
    /// An image from a registry or the daemon's store.
    Image(Reference),
    /// An earlier stage, by index.
    Stage(usize),
    /// A named context (`context:NAME` option) standing in for an image or a stage.
    Context(NamedContext),
}

/// A named context as the plan uses it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NamedContext {
    /// The option key after `context:` (`NAME` or `NAME::PLATFORM`).
    pub key: String,
    /// Its source, e.g. `docker-image://alpine:3.19` or `local:src`.
    pub source: String,
}

impl NamedContext {
    /// The image a `docker-image://` context names (none for other sources and `scratch`).
    pub fn image(&self) -> Option<Reference> {
        let rest = self.source.strip_prefix("docker-image:")?;
        let reference = rest.trim_start_matches("//");
        if reference == "scratch" {
            return None;
        }
        Reference::parse(reference).ok()
    }
}

/// An image in the client's OCI layout store (`oci-layout://STORE@DIGEST`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OciLayout {
    /// The store's ID in the client session.
    pub store: String,
    /// The context's name pinned to the digest: how BuildKit names the image.
    pub reference: Reference,
}

impl NamedContext {
    /// The image of an `oci-layout://` context; `None` for other sources or one without a
    /// `@sha256:` digest (conversion reports that).
    pub fn oci_layout(&self) -> Option<OciLayout> {
        let rest = self.source.strip_prefix("oci-layout:")?;
        let (store, digest) = rest.trim_start_matches("//").split_once('@')?;
        let name = self.key.split("::").next().unwrap_or_default();
        let reference = Reference::parse(&format!("{name}@{digest}")).ok()?;
        (!store.is_empty()).then(|| OciLayout {
            store: store.to_string(),
            reference,
        })
    }
}

/// The named context that replaces `name` (a stage name or an image) on `platform`: the key
/// `NAME::PLATFORM` first, then `NAME`, with image names in their short form. `scratch` and
/// `context` are never replaced.
pub fn named_context(opts: &BuildOptions, name: &str, platform: &Platform) -> Option<NamedContext> {
    if opts.named_contexts.is_empty() || name == "scratch" || name == "context" {
        return None;
    }
    let short = Reference::parse(name).ok()?.familiar();
    [format!("{short}::{platform}"), short]
        .into_iter()
        .find_map(|key| {
            let source = opts.named_contexts.get(&key)?.clone();
            Some(NamedContext { key, source })
        })
}

/// An instruction a plan holds: the Dockerfile's, borrowed, or one made while planning or
/// converting (an ONBUILD trigger), boxed so that a step stays a pointer wide.
#[derive(Clone, Debug)]
pub enum InstructionRef<'a> {
    Borrowed(&'a Instruction),
    Owned(Box<Instruction>),
}

impl InstructionRef<'_> {
    /// The same instruction, owned.
    pub fn into_owned(self) -> InstructionRef<'static> {
        match self {
            InstructionRef::Borrowed(i) => InstructionRef::Owned(Box::new(i.clone())),
            InstructionRef::Owned(i) => InstructionRef::Owned(i),
        }
    }
}

impl Deref for InstructionRef<'_> {
    type Target = Instruction;

    fn deref(&self) -> &Instruction {
        match self {
            InstructionRef::Borrowed(i) => i,
            InstructionRef::Owned(i) => i,
        }
    }
}

/// An instruction of a stage.
#[derive(Clone, Debug)]
pub struct Step<'a> {
    /// The instruction: the Dockerfile's, or (for an ONBUILD trigger of a base image) one
    /// parsed while converting.
    pub instruction: InstructionRef<'a>,
    /// For `COPY --from`: where the files come from.
    pub copy_from: Option<Base>,
    /// For `RUN --mount`: one entry per mount, `Some` where it has a `from`.
    pub mount_from: Vec<Option<Base>>,
}

impl Step<'_> {
    /// The stages and images this step reads besides its own stage.
    pub fn sources(&self) -> impl Iterator<Item = &Base> {
        self.copy_from
            .iter()
            .chain(self.mount_from.iter().flatten())
    }
}

/// A base image to resolve before converting.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ImageRequest {
    /// Normalised reference.
    pub reference: String,
    /// Platform to resolve for.
    pub platform: Platform,
    /// The client's OCI layout store to read it from (`oci-layout://` named contexts) instead
    /// of a registry.
    pub oci_store: Option<String>,
}

impl ImageRequest {
    /// The key under which the resolved config is looked up.
    pub fn key(&self) -> String {
        image_key(&self.reference, &self.platform)
    }
}

/// The lookup key of a resolved image.
pub fn image_key(reference: &str, platform: &Platform) -> String {
    format!("{reference} {platform}")
}

/// A plan that cannot be made, with BuildKit's wording.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Error {
    /// What is wrong.
    pub message: String,
    /// The lines it concerns (empty when no line is to blame).
    pub lines: Vec<(u32, u32)>,
}

impl Plan<'_> {
    /// Images the reachable stages need, each once, sorted.
    pub fn base_images(&self) -> Vec<ImageRequest> {
        let mut out = std::collections::BTreeSet::new();
        for stage in self.stages.iter().filter(|s| self.reachable[s.index]) {
            let bases =
                std::iter::once(&stage.base).chain(stage.steps.iter().flat_map(Step::sources));
            for base in bases {
                let (image, oci_store) = match base {
                    Base::Image(r) => (Some(r.clone()), None),
                    Base::Context(c) => match c.oci_layout() {
                        Some(oci) => (Some(oci.reference), Some(oci.store)),
                        None => (c.image(), None),
                    },
                    _ => (None, None),
                };
                if let Some(r) = image {
                    out.insert(ImageRequest {
                        reference: r.to_string(),
                        platform: stage.platform.clone(),
                        oci_store,
                    });
                }
            }
        }
        out.into_iter().collect()
    }

    /// The lines of the first reachable instruction that reads image `reference` (a FROM, or a
    /// COPY --from / mount that names it), for errors about that image.
    pub fn image_lines(&self, reference: &str) -> Option<(u32, u32)> {
        let named = |b: &Base| matches!(b, Base::Image(r) if r.to_string() == reference);
        self.reachable_stages().find_map(|stage| {
            if named(&stage.base) {
                return Some(stage.from.lines);
            }
            stage
                .steps
                .iter()
                .find(|step| step.sources().any(named))
                .map(|step| step.instruction.lines)
        })
    }

    /// The image the target's filesystem starts from, through FROM-stage chains (what the
    /// official frontend returns as `containerimage.base.config`); none for scratch.
    pub fn target_base_image(&self) -> Option<ImageRequest> {
        let mut stage = self.stages.get(self.target)?;
        // A chain of FROM stages is at most as long as the stage list.
        for _ in 0..=self.stages.len() {
            let (image, oci_store) = match &stage.base {
                Base::Stage(i) => {
                    stage = self.stages.get(*i)?;
                    continue;
                }
                Base::Image(r) => (r.clone(), None),
                Base::Context(c) => match c.oci_layout() {
                    Some(oci) => (oci.reference, Some(oci.store)),
                    None => (c.image()?, None),
                },
                Base::Scratch => return None,
            };
            return Some(ImageRequest {
                reference: image.to_string(),
                platform: stage.platform.clone(),
                oci_store,
            });
        }
        None
    }

    /// Stages the ONBUILD triggers of the reachable stages' base images read that the plan
    /// does not reach yet; `triggers_of` gives the triggers of a resolved image.
    pub fn stages_for_triggers(
        &self,
        opts: &BuildOptions,
        triggers_of: impl Fn(&Reference, &Platform) -> Vec<String>,
    ) -> std::collections::BTreeSet<usize> {
        let mut out = std::collections::BTreeSet::new();
        for stage in self.reachable_stages() {
            // An image, or a named context that is one (docker-image:// or oci-layout://).
            let image = match &stage.base {
                Base::Image(r) => Some(r.clone()),
                Base::Context(c) => c.oci_layout().map(|o| o.reference).or_else(|| c.image()),
                _ => None,
            };
            if let Some(r) = &image {
                let triggers = triggers_of(r, &stage.platform);
                let reads = build::trigger_reads(
                    &triggers,
                    stage.index,
                    &self.names,
                    opts,
                    &stage.platform,
                );
                out.extend(reads.into_iter().filter(|d| !self.reachable[*d]));
            }
        }
        out
    }

    /// Stages in Dockerfile order that the target needs.
    pub fn reachable_stages(&self) -> impl Iterator<Item = &Stage<'_>> {
        self.stages.iter().filter(|s| self.reachable[s.index])
    }
}
