//! The state of a stage while its instructions are dispatched, and progress names.

use crate::image::{Image, Platform};
use crate::llb;

use super::env::{ArgList, ConfigEnvIndex, EnvList};

/// Everything a stage carries from one instruction to the next.
#[derive(Clone, Debug)]
pub struct StageState {
    /// The filesystem so far.
    pub state: llb::State,
    /// The image config so far.
    pub image: Image,
    /// The LLB environment (config env + ARG values), in EnvList order.
    pub env: EnvList,
    /// Working directory of RUN.
    pub workdir: String,
    /// User of RUN.
    pub user: String,
    /// ARGs declared in this stage and its parent stages: name and value.
    pub build_args: ArgList,
    /// Where each key of the image config's `Env` is, for ENV.
    pub config_env: ConfigEnvIndex,
    /// Whether CMD was set in this stage (ENTRYPOINT then keeps it).
    pub cmd_set: bool,
    /// The stage's platform.
    pub platform: Platform,
    /// Whether RUN/COPY ignore the cache (`no-cache`).
    pub ignore_cache: bool,
    /// Name shown in progress (`build`, `stage-1`), or none for a one-stage build.
    pub display_name: Option<String>,
    /// How many named steps the stage has, for `[i/N]`.
    pub cmd_total: usize,
    /// Named steps so far.
    pub cmd_index: usize,
    /// Build checks: the stage's environment is fully known (false when its base image's
    /// config was not resolved, so that variables it may define are not called undefined).
    pub env_known: bool,
    /// Build checks: a WORKDIR was set in this stage or a parent stage.
    pub workdir_set: bool,
    /// Build checks: the lines of this stage's last CMD, ENTRYPOINT and HEALTHCHECK.
    pub last_once: [Option<(u32, u32)>; 3],
}

impl StageState {
    /// A stage starting from `state` and `image`, before any instruction.
    pub fn new(state: llb::State, image: Image, platform: Platform, cmd_total: usize) -> Self {
        StageState {
            state,
            image,
            env: EnvList::default(),
            workdir: "/".into(),
            user: String::new(),
            build_args: ArgList::default(),
            config_env: ConfigEnvIndex::default(),
            cmd_set: false,
            platform,
            ignore_cache: false,
            display_name: None,
            cmd_total,
            cmd_index: 0,
            env_known: true,
            workdir_set: false,
            last_once: [None; 3],
        }
    }

    /// `[name i/N] text`, as BuildKit's `prefixCommand` (the index is padded to N's width).
    pub fn progress_name(&mut self, text: &str) -> String {
        if self.cmd_total == 0 {
            return text.to_string();
        }
        self.cmd_index += 1;
        let width = self.cmd_total.to_string().len();
        let name = self
            .display_name
            .as_ref()
            .map(|n| format!("{n} "))
            .unwrap_or_default();
        format!(
            "[{name}{:>width$}/{}] {text}",
            self.cmd_index, self.cmd_total
        )
    }
}

/// Upper-cases the first word (`run echo` -> `RUN echo`).
pub fn uppercase_cmd(text: &str) -> String {
    match text.split_once(' ') {
        Some((first, rest)) => format!("{} {rest}", first.to_ascii_uppercase()),
        None => text.to_ascii_uppercase(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(total: usize, name: Option<&str>) -> StageState {
        let platform = Platform::new("linux", "amd64", None);
        let mut st = StageState::new(llb::State::scratch(), Image::default(), platform, total);
        st.display_name = name.map(str::to_string);
        st
    }

    #[test]
    fn progress_names() {
        let mut s = state(12, Some("build"));
        assert_eq!(s.progress_name("FROM x"), "[build  1/12] FROM x");
        let mut s = state(3, None);
        assert_eq!(s.progress_name("RUN a"), "[1/3] RUN a");
        assert_eq!(state(0, Some("x")).progress_name("FROM y"), "FROM y");
        assert_eq!(uppercase_cmd("copy --from=a b c"), "COPY --from=a b c");
    }
}
