//! Typed instructions: `syntax::Node`s -> [`Instruction`]s with validated flags.
//!
//! In: the nodes of a parsed Dockerfile. Out: one [`Instruction`] per node, each with its line
//! range and original text. Values stay unexpanded: which words expand, and against which
//! variables, is decided when the plan is converted. Not here: stages and ARG scoping (`plan`).
//!
//! ```
//! let df = stager::syntax::parse(b"FROM busybox AS base\nRUN echo hi\n").unwrap();
//! let ins = stager::instructions::parse(&df.nodes).unwrap();
//! assert!(matches!(ins[1].kind, stager::instructions::Kind::Run(_)));
//! ```

mod flags;
pub(crate) mod mount;
mod parse;

pub use flags::{FlagKind, Flags};
pub use mount::{Mount, MountKind, MountSpec, Sharing};
pub use parse::parse_node;

use crate::syntax;

/// One instruction with where it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Instruction {
    /// What it does.
    pub kind: Kind,
    /// The instruction text (continuations joined), as BuildKit keeps it.
    pub original: String,
    /// First and last Dockerfile line, 1-based.
    pub lines: (u32, u32),
}

/// The instructions BuildKit knows.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Kind {
    /// `FROM [--platform=p] image [AS name]`.
    From(From),
    /// `ARG name[=default] ...`.
    Arg(Vec<ArgDecl>),
    /// `ENV k=v ...`.
    Env(Vec<KeyValue>),
    /// `LABEL k=v ...`.
    Label(Vec<KeyValue>),
    /// `WORKDIR path`.
    Workdir(String),
    /// `USER user[:group]`.
    User(String),
    /// `RUN`.
    Run(Run),
    /// `COPY`. Boxed, as `ADD`: its flags make it the largest kind, and every instruction of
    /// a Dockerfile would carry that size.
    Copy(Box<Copy>),
    /// `ADD`.
    Add(Box<Copy>),
    /// `CMD`.
    Cmd(CommandLine),
    /// `ENTRYPOINT`.
    Entrypoint(CommandLine),
    /// `SHELL ["exe", "arg"]`.
    Shell(Vec<String>),
    /// `EXPOSE port ...`.
    Expose(Vec<String>),
    /// `VOLUME path ...`.
    Volume(Vec<String>),
    /// `STOPSIGNAL signal`.
    StopSignal(String),
    /// `HEALTHCHECK`.
    Healthcheck(Healthcheck),
    /// `MAINTAINER name`.
    Maintainer(String),
    /// `ONBUILD instruction`: the trigger text.
    OnBuild(String),
}

/// `FROM`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct From {
    /// Image, stage name or `scratch`, unexpanded.
    pub image: String,
    /// `AS name`, lower-cased.
    pub name: Option<String>,
    /// `--platform`, unexpanded.
    pub platform: Option<String>,
}

/// One name of an `ARG`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArgDecl {
    /// The variable name.
    pub key: String,
    /// The default, unexpanded.
    pub default: Option<String>,
}

/// A `key=value` pair of ENV or LABEL, unexpanded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyValue {
    /// Key.
    pub key: String,
    /// Value.
    pub value: String,
    /// True for the legacy `ENV k v` form.
    pub legacy: bool,
}

/// The command of RUN, CMD and ENTRYPOINT.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommandLine {
    /// Exec-form words, or the one shell-form string.
    pub args: Vec<String>,
    /// Shell form: the args run through the stage's SHELL.
    pub prepend_shell: bool,
}

/// `RUN`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Run {
    /// The command.
    pub command: CommandLine,
    /// `--mount` values, split and with `from` checked; typed once expanded.
    pub mounts: Vec<MountSpec>,
    /// `--network`.
    pub network: Option<String>,
    /// `--security`.
    pub security: Option<String>,
    /// Here-documents of the line.
    pub heredocs: Vec<syntax::Heredoc>,
}

/// `COPY` and `ADD`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Copy {
    /// Sources, unexpanded.
    pub sources: Vec<String>,
    /// Destination, unexpanded.
    pub dest: String,
    /// `--from` (never expanded).
    pub from: Option<String>,
    /// `--chown`.
    pub chown: Option<String>,
    /// `--chmod`.
    pub chmod: Option<String>,
    /// `--link`.
    pub link: bool,
    /// `--parents`.
    pub parents: bool,
    /// `--exclude` patterns.
    pub excludes: Vec<String>,
    /// ADD `--checksum`.
    pub checksum: Option<String>,
    /// ADD `--keep-git-dir`.
    pub keep_git_dir: Option<bool>,
    /// ADD `--unpack`.
    pub unpack: Option<bool>,
    /// Here-documents used as sources.
    pub heredocs: Vec<syntax::Heredoc>,
}

/// `HEALTHCHECK`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Healthcheck {
    /// `["NONE"]`, `["CMD", ...]` or `["CMD-SHELL", cmd]`.
    pub test: Vec<String>,
    /// Nanoseconds.
    pub interval: i64,
    /// Nanoseconds.
    pub timeout: i64,
    /// Nanoseconds.
    pub start_period: i64,
    /// Nanoseconds.
    pub start_interval: i64,
    /// Retries.
    pub retries: i64,
}

/// An instruction BuildKit would reject.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("dockerfile parse error on line {}: {message}", lines.0)]
pub struct Error {
    /// BuildKit's text.
    pub message: String,
    /// The instruction's lines.
    pub lines: (u32, u32),
}

/// Types every node. The first error stops, as in BuildKit.
pub fn parse(nodes: &[syntax::Node]) -> Result<Vec<Instruction>, Error> {
    // Sized once: collecting through `Result` grows by doubling, and the plan borrows this
    // list for the whole conversion (a 10,000-line file kept 16,384 slots).
    let mut out = Vec::with_capacity(nodes.len());
    for node in nodes {
        out.push(parse_node(node)?);
    }
    Ok(out)
}

impl Instruction {
    /// The instruction keyword in upper case, e.g. `RUN`.
    pub fn keyword(&self) -> &'static str {
        match &self.kind {
            Kind::From(_) => "FROM",
            Kind::Arg(_) => "ARG",
            Kind::Env(_) => "ENV",
            Kind::Label(_) => "LABEL",
            Kind::Workdir(_) => "WORKDIR",
            Kind::User(_) => "USER",
            Kind::Run(_) => "RUN",
            Kind::Copy(_) => "COPY",
            Kind::Add(_) => "ADD",
            Kind::Cmd(_) => "CMD",
            Kind::Entrypoint(_) => "ENTRYPOINT",
            Kind::Shell(_) => "SHELL",
            Kind::Expose(_) => "EXPOSE",
            Kind::Volume(_) => "VOLUME",
            Kind::StopSignal(_) => "STOPSIGNAL",
            Kind::Healthcheck(_) => "HEALTHCHECK",
            Kind::Maintainer(_) => "MAINTAINER",
            Kind::OnBuild(_) => "ONBUILD",
        }
    }
}
