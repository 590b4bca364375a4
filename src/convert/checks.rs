//! The build checks that need the dispatch state: undefined variables, the first WORKDIR,
//! instructions used twice, shell-form CMD/ENTRYPOINT, ENV/LABEL/ARG keys, EXPOSE formats and
//! base image platforms. They report into the [`Sink`](crate::lint::Sink) the conversion was
//! given, exactly where BuildKit's dispatch runs its linter, and change nothing else.

use crate::image::{Image, Platform};
use crate::instructions::Instruction;
use crate::lint::{self, Rule, per_line};
use crate::plan::{Base, Stage};
use crate::shell::EnvGetter;

use super::Dispatcher;
use super::stage::StageState;

/// ARGs BuildKit never puts in the environment, so never calls undefined.
const NON_ENV_ARGS: [&str; 2] = ["BUILDKIT_SBOM_SCAN_CONTEXT", "BUILDKIT_SBOM_SCAN_STAGE"];

/// Which once-per-stage instruction, for `StageState::last_once`.
#[derive(Clone, Copy)]
pub(super) enum Once {
    Cmd = 0,
    Entrypoint = 1,
    Healthcheck = 2,
}

impl Dispatcher<'_> {
    fn report(&self, rule: &'static Rule, ins: &Instruction, message: String) {
        if let Some(sink) = self.lint {
            sink.report(rule, per_line(ins.lines), message);
        }
    }

    /// Expands one word as the instruction's expansion does, reporting `UndefinedVar` for
    /// names that are neither set nor declared ARGs.
    pub(super) fn expand_checked(
        &self,
        word: &str,
        st: &StageState,
        ins: &Instruction,
    ) -> Result<String, String> {
        if self.lint.is_none() || !st.env_known {
            return self
                .lexer
                .process_word(word, &st.env)
                .map_err(|e| e.to_string());
        }
        let expansion = self
            .lexer
            .process_word_with_matches(word, &st.env)
            .map_err(|e| e.to_string())?;
        self.report_undefined(&expansion.unmatched, st, ins);
        Ok(expansion.word)
    }

    fn report_undefined(
        &self,
        unmatched: &std::collections::BTreeSet<String>,
        st: &StageState,
        ins: &Instruction,
    ) {
        let declared = |name: &str| st.build_args.contains(name);
        let mut keys: Option<Vec<String>> = None;
        for name in unmatched {
            if declared(name) || NON_ENV_ARGS.contains(&name.as_str()) {
                continue;
            }
            let keys = keys.get_or_insert_with(|| st.env.keys());
            let message = match crate::suggest::search(name, keys, !self.lexer.windows) {
                Some(s) => format!("Usage of undefined variable '${name}' (did you mean ${s}?)"),
                None => format!("Usage of undefined variable '${name}'"),
            };
            self.report(&lint::UNDEFINED_VAR, ins, message);
        }
    }

    /// The default of an `ARG` is expanded like any word (BuildKit checks it too).
    pub(super) fn check_arg_key(&self, key: &str, ins: &Instruction) {
        if lint::is_secret_key(key) {
            self.report(
                &lint::SECRETS_USED_IN_ARG_OR_ENV,
                ins,
                format!("Do not use ARG or ENV instructions for sensitive data (ARG {key:?})"),
            );
        }
    }

    /// `ENV`/`LABEL` pairs: the legacy `KEY value` form, and secret-looking ENV names.
    pub(super) fn check_pair(&self, keyword: &str, key: &str, legacy: bool, ins: &Instruction) {
        if legacy {
            self.report(
                &lint::LEGACY_KEY_VALUE_FORMAT,
                ins,
                format!("\"{keyword} key=value\" should be used instead of legacy \"{keyword} key value\" format"),
            );
        }
        if keyword == "ENV" && lint::is_secret_key(key) {
            self.report(
                &lint::SECRETS_USED_IN_ARG_OR_ENV,
                ins,
                format!("Do not use ARG or ENV instructions for sensitive data (ENV {key:?})"),
            );
        }
    }

    /// A context source the `.dockerignore` excludes: the copy would find nothing there.
    pub(super) fn check_ignored(&self, src: &str, is_add: bool, ins: &Instruction) {
        let Some(matcher) = self.lint.and(self.ignore.as_ref()) else {
            return;
        };
        let cleaned = super::paths::clean(src);
        let root = matches!(cleaned.as_str(), "." | "/");
        if (root && !matcher.excludes_root()) || !matcher.matches_or_parent_matches(&cleaned) {
            return;
        }
        let cmd = if is_add { "Add" } else { "Copy" };
        self.report(
            &lint::COPY_IGNORED_FILE,
            ins,
            format!("Attempting to {cmd} file {cleaned:?} that is excluded by .dockerignore"),
        );
    }

    /// The first WORKDIR of a stage chain should be absolute.
    pub(super) fn check_workdir(&self, st: &mut StageState, path: &str, ins: &Instruction) {
        let absolute = if st.platform.os == "windows" {
            path.starts_with(['/', '\\']) || path.get(1..3).is_some_and(|s| s.starts_with(':'))
        } else {
            path.starts_with('/')
        };
        if !st.workdir_set && !absolute {
            self.report(
                &lint::WORKDIR_RELATIVE_PATH,
                ins,
                format!("Relative workdir {path:?} can have unexpected results if the base image changes"),
            );
        }
        st.workdir_set = true;
    }

    /// CMD, ENTRYPOINT and HEALTHCHECK count once per stage: a second one reports the first.
    pub(super) fn check_once(&self, st: &mut StageState, which: Once, ins: &Instruction) {
        let slot = &mut st.last_once[which as usize];
        if let (Some(sink), Some(earlier)) = (self.lint, *slot) {
            sink.report(
                &lint::MULTIPLE_INSTRUCTIONS_DISALLOWED,
                per_line(earlier),
                format!(
                    "Multiple {} instructions should not be used in the same stage because only the last one will be used",
                    ins.keyword()
                ),
            );
        }
        *slot = Some(ins.lines);
    }

    /// Shell-form CMD/ENTRYPOINT when no SHELL was set.
    pub(super) fn check_shell_form(&self, st: &StageState, ins: &Instruction) {
        let shell_set = st
            .image
            .config
            .shell
            .as_ref()
            .is_some_and(|s| !s.is_empty());
        if !shell_set {
            self.report(
                &lint::JSON_ARGS_RECOMMENDED,
                ins,
                format!(
                    "JSON arguments recommended for {} to prevent unintended behavior related to OS signals",
                    ins.keyword()
                ),
            );
        }
    }

    /// One expanded EXPOSE word: upper-case protocols and host parts.
    pub(super) fn check_expose(&self, spec: &str, ins: &Instruction) {
        let parts: Vec<&str> = spec.split(':').collect();
        let (ip, host, container) = match parts.as_slice() {
            [c] => ("", "", *c),
            [h, c] => ("", *h, *c),
            [ip, h, c] => (*ip, *h, *c),
            _ => ("-", "-", parts.last().copied().unwrap_or("")),
        };
        let proto = container.split_once('/').map_or("", |(_, p)| p);
        if proto != proto.to_lowercase() {
            self.report(
                &lint::EXPOSE_PROTO_CASING,
                ins,
                format!("Defined protocol '{spec}' in EXPOSE instruction should be lowercase"),
            );
        }
        if !ip.is_empty() || !host.is_empty() {
            self.report(
                &lint::EXPOSE_INVALID_FORMAT,
                ins,
                format!("EXPOSE instruction should not define an IP address or host-port mapping, found '{spec}'"),
            );
        }
    }

    /// A resolved base image of another OS or architecture than the stage builds for.
    pub(super) fn check_base_platform(
        &self,
        stage: &Stage,
        reference: &impl ToString,
        image: &Image,
    ) {
        let Some(sink) = self.lint else { return };
        if !matches!(stage.base, Base::Image(_)) || image.os.is_empty() {
            return;
        }
        let actual = image.platform();
        let expected = &stage.platform;
        if actual.os != expected.os || actual.architecture != expected.architecture {
            let name = stage_base_name(stage).unwrap_or_else(|| reference.to_string());
            sink.report(
                &lint::INVALID_BASE_IMAGE_PLATFORM,
                per_line(stage.from.lines),
                format!(
                    "Base image {name} was pulled with platform {:?}, expected {:?} for current build",
                    full(&actual),
                    full(expected)
                ),
            );
        }
    }
}

/// The base as written after expansion, before normalisation (`alpine`, not
/// `docker.io/library/alpine:latest`).
fn stage_base_name(stage: &Stage) -> Option<String> {
    match &stage.from.kind {
        crate::instructions::Kind::From(f) if !f.image.contains('$') => Some(f.image.clone()),
        _ => None,
    }
}

/// `os/arch[/variant]`, as containerd's `FormatAll` writes it.
fn full(p: &Platform) -> String {
    p.to_string()
}
