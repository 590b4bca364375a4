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
    /// The stage's platform (set once, by `new`).
    pub platform: Platform,
    /// The same, as ops carry it: made once, shared by the stage's ops.
    llb_platform: std::sync::Arc<llb::Platform>,
    /// Whether RUN/COPY ignore the cache (`no-cache`).
    pub ignore_cache: bool,
    /// Name shown in progress (`build`, `stage-1`), or none for a one-stage build.
    pub display_name: Option<String>,
    /// How many named steps the stage has, for `[i/N]`.
    pub cmd_total: usize,
    /// Named steps so far.
    pub cmd_index: usize,
    /// Several platforms are built: names start with the platform, as 1.26's do.
    pub platform_prefix: bool,
    /// Build checks: the stage's environment is fully known (false when its base image's
    /// config was not resolved, so that variables it may define are not called undefined).
    pub env_known: bool,
    /// Build checks: a WORKDIR was set in this stage or a parent stage.
    pub workdir_set: bool,
    /// Build checks: the lines of this stage's last CMD, ENTRYPOINT and HEALTHCHECK.
    pub last_once: [Option<(u32, u32)>; 3],
}

impl StageState {
    /// The stage's platform as an op carries it.
    pub fn llb_platform(&self) -> std::sync::Arc<llb::Platform> {
        self.llb_platform.clone()
    }

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
            llb_platform: std::sync::Arc::new(super::from::llb_platform(&platform)),
            platform,
            ignore_cache: false,
            display_name: None,
            cmd_total,
            cmd_index: 0,
            platform_prefix: false,
            env_known: true,
            workdir_set: false,
            last_once: [None; 3],
        }
    }

    /// `[platform name i/N] text` of a RUN, COPY, ADD or WORKDIR, as 1.26's `prefixCommand`
    /// (the index padded to N's width; the platform only when several are built, with
    /// `->arch` when the stage's TARGET* args name another one).
    pub fn progress_name(&mut self, text: &str) -> String {
        let target = self.platform_prefix.then(|| target_from_env(&self.env));
        self.named(text, target.flatten())
    }

    /// The same for FROM, whose name 1.26 makes without the stage's environment.
    pub fn base_progress_name(&mut self, text: &str) -> String {
        self.named(text, None)
    }

    fn named(&mut self, text: &str, target: Option<Platform>) -> String {
        if self.cmd_total == 0 {
            return text.to_string();
        }
        use std::fmt::Write as _;
        self.cmd_index += 1;
        let width = decimal_width(self.cmd_total);
        let name = self.display_name.as_deref();
        // One buffer: this runs for every step of every stage.
        let mut out = String::with_capacity(name.map_or(0, str::len) + 2 * width + text.len() + 8);
        out.push('[');
        if self.platform_prefix {
            let arrow = target.map_or_else(String::new, |t| target_arrow(&self.platform, &t));
            let _ = write!(out, "{}{arrow} ", self.platform.format_all());
        }
        if let Some(name) = name {
            out.push_str(name);
            out.push(' ');
        }
        // `{:>width$}/{}] {text}` without the formatting machinery (a tenth of a RUN's naming).
        out.extend(std::iter::repeat_n(
            ' ',
            width.saturating_sub(decimal_width(self.cmd_index)),
        ));
        push_decimal(&mut out, self.cmd_index);
        out.push('/');
        push_decimal(&mut out, self.cmd_total);
        out.push_str("] ");
        out.push_str(text);
        out
    }
}

/// Appends `n` in base 10 (no intermediate string).
fn push_decimal(out: &mut String, n: usize) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut rest = n;
    loop {
        at -= 1;
        digits[at] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    out.extend(digits[at..].iter().map(|&d| char::from(d)));
}

/// Digits of `n` in base 10.
fn decimal_width(mut n: usize) -> usize {
    let mut width = 1;
    while n >= 10 {
        n /= 10;
        width += 1;
    }
    width
}

/// The platform the stage's `TARGETPLATFORM` (or `TARGETOS`/`TARGETARCH`/`TARGETVARIANT`)
/// args name, as 1.26's `platformFromEnv`; OS and architecture left empty are filled in later.
fn target_from_env(env: &EnvList) -> Option<Platform> {
    if let Some(p) = env
        .value("TARGETPLATFORM")
        .and_then(|v| Platform::parse(v).ok())
    {
        return Some(p);
    }
    let [os, arch, variant] = ["TARGETOS", "TARGETARCH", "TARGETVARIANT"].map(|k| env.value(k));
    if os.is_none() && arch.is_none() && variant.is_none() {
        return None;
    }
    Some(Platform {
        os: os.unwrap_or_default().to_string(),
        architecture: arch.unwrap_or_default().to_string(),
        variant: variant.filter(|v| !v.is_empty()).map(str::to_string),
        os_version: None,
    })
}

/// 1.26's `formatTargetPlatform`: `->arm64` for another architecture on the same OS,
/// `->windows/amd64` for another OS, nothing otherwise.
fn target_arrow(base: &Platform, target: &Platform) -> String {
    let or_base = |v: &str, b: &str| {
        if v.is_empty() {
            b.to_string()
        } else {
            v.to_string()
        }
    };
    let os = or_base(&target.os, &base.os);
    let arch = or_base(&target.architecture, &base.architecture);
    let mut normal = Platform::new(&os, &arch, target.variant.as_deref());
    normal.os_version.clone_from(&target.os_version);
    if normal.os == base.os && normal.architecture != base.architecture {
        match &normal.variant {
            Some(v) => format!("->{}/{v}", normal.architecture),
            None => format!("->{}", normal.architecture),
        }
    } else if normal.os != base.os {
        format!("->{}", normal.format_all())
    } else {
        String::new()
    }
}

/// Upper-cases the first word (`run echo` -> `RUN echo`).
pub fn uppercase_cmd(text: &str) -> String {
    let mut out = text.to_string();
    uppercase_cmd_in_place(&mut out);
    out
}

/// [`uppercase_cmd`] in place.
pub fn uppercase_cmd_in_place(text: &mut str) {
    let first = text.find(' ').unwrap_or(text.len());
    if let Some(word) = text.get_mut(..first) {
        word.make_ascii_uppercase();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_as_display_writes_them() {
        for n in [0, 7, 9, 10, 99, 100, 12345, usize::MAX] {
            let mut out = String::from("x");
            push_decimal(&mut out, n);
            assert_eq!(out, format!("x{n}"));
            assert_eq!(decimal_width(n), n.to_string().len());
        }
    }

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

    #[test]
    fn multi_platform_names_start_with_the_platform() {
        let mut s = state(3, Some("build"));
        s.platform_prefix = true;
        assert_eq!(
            s.base_progress_name("FROM x"),
            "[linux/amd64 build 1/3] FROM x"
        );
        assert_eq!(s.progress_name("RUN a"), "[linux/amd64 build 2/3] RUN a");
        // A stage on the build platform whose TARGET* args name another one: `->arch` (arm64's
        // v8 variant normalised away).
        s.env.add("TARGETARCH", "arm64");
        s.env.add("TARGETVARIANT", "v8");
        assert_eq!(
            s.progress_name("RUN b"),
            "[linux/amd64->arm64 build 3/3] RUN b"
        );
        let mut s = state(2, None);
        s.platform_prefix = true;
        s.env.add("TARGETPLATFORM", "windows/amd64");
        s.env.add("TARGETARCH", "arm");
        assert_eq!(
            s.progress_name("COPY a b"),
            "[linux/amd64->windows/amd64 1/2] COPY a b"
        );
        s.env.add("TARGETPLATFORM", "linux/arm/v7");
        assert_eq!(s.progress_name("RUN c"), "[linux/amd64->arm/v7 2/2] RUN c");
        // FROM ignores the environment, as 1.26 does.
        let mut s = state(1, None);
        s.platform_prefix = true;
        s.env.add("TARGETARCH", "arm64");
        assert_eq!(s.base_progress_name("FROM y"), "[linux/amd64 1/1] FROM y");
    }
}
