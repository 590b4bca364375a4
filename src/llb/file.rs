//! `FileOp`: a chain of copy, mkdir, mkfile and rm actions applied on top of one state.
//!
//! Input numbering follows the Go client: `Op.inputs` holds the base state and then every copy
//! source, each once, in first-use order. The first action reads the base (`-1` for scratch);
//! each later action reads the previous action's result, written as
//! `number_of_inputs + index_of_previous_action`. Only the last action produces output 0.
//! Paths are cleaned and made absolute (against `/`) the way Go's `normalizePath` does.

use super::OpMeta;
use super::path::{clean, join_root, normalize};
use super::state::{Inputs, State, new_vertex, push_dep};
use crate::proto::pb;

/// A chain of file actions; each applies on the result of the previous one.
#[derive(Clone, Debug, Default)]
pub struct FileActions {
    actions: Vec<Action>,
}

/// Options of a copy action. `Default` is a plain copy keeping the source's mode.
#[derive(Clone, Debug, Default)]
pub struct CopyOpts {
    pub owner: Option<Chown>,
    /// Numeric mode; `None` keeps the source's mode (`-1` on the wire).
    pub mode: Option<i32>,
    /// Symbolic mode such as `u+x` (cap `file.copy.modestring`).
    pub mode_str: Option<String>,
    pub follow_symlink: bool,
    pub dir_copy_contents: bool,
    pub attempt_unpack: bool,
    pub create_dest_path: bool,
    pub allow_wildcard: bool,
    pub allow_empty_wildcard: bool,
    pub include_patterns: Vec<String>,
    pub exclude_patterns: Vec<String>,
    pub required_paths: Vec<String>,
    pub always_replace_existing_dest_paths: bool,
    /// Modification time in Unix nanoseconds; `None` keeps the source's (`-1` on the wire).
    pub timestamp: Option<i64>,
}

/// Options of a mkdir action.
#[derive(Clone, Debug, Default)]
pub struct MkdirOpts {
    pub make_parents: bool,
    pub owner: Option<Chown>,
    /// Unix nanoseconds; `None` means now (`-1` on the wire).
    pub timestamp: Option<i64>,
}

/// Options of a mkfile action.
#[derive(Clone, Debug, Default)]
pub struct MkfileOpts {
    pub owner: Option<Chown>,
    /// Unix nanoseconds; `None` means now (`-1` on the wire).
    pub timestamp: Option<i64>,
}

/// Owner of created files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Chown {
    pub user: UserSpec,
    pub group: Option<UserSpec>,
}

/// A user or group, by number or by name. Names are looked up in the `/etc/passwd` and
/// `/etc/group` of the state the action writes to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UserSpec {
    Id(u32),
    Name(String),
}

#[derive(Clone, Debug)]
enum Action {
    Copy {
        from: State,
        src: String,
        dest: String,
        opts: CopyOpts,
    },
    Mkdir {
        path: String,
        mode: i32,
        opts: MkdirOpts,
    },
    Mkfile {
        path: String,
        mode: i32,
        data: Vec<u8>,
        opts: MkfileOpts,
    },
    Rm {
        path: String,
        allow_not_found: bool,
        allow_wildcard: bool,
    },
}

impl FileActions {
    /// An empty chain.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether the chain has no actions.
    pub fn is_empty(&self) -> bool {
        self.actions.is_empty()
    }

    /// Copies `src` from `from` to `dest`.
    pub fn copy(self, from: &State, src: &str, dest: &str, opts: CopyOpts) -> Self {
        self.push(Action::Copy {
            from: from.clone(),
            src: src.to_owned(),
            dest: dest.to_owned(),
            opts,
        })
    }

    /// Creates a directory (`mode` keeps its permission bits only).
    pub fn mkdir(self, path: &str, mode: i32, opts: MkdirOpts) -> Self {
        self.push(Action::Mkdir {
            path: path.to_owned(),
            mode,
            opts,
        })
    }

    /// Creates a file holding `data`.
    pub fn mkfile(self, path: &str, mode: i32, data: Vec<u8>, owner: Option<Chown>) -> Self {
        self.mkfile_with(
            path,
            mode,
            data,
            MkfileOpts {
                owner,
                timestamp: None,
            },
        )
    }

    /// Creates a file holding `data`, with all options.
    pub fn mkfile_with(self, path: &str, mode: i32, data: Vec<u8>, opts: MkfileOpts) -> Self {
        self.push(Action::Mkfile {
            path: path.to_owned(),
            mode,
            data,
            opts,
        })
    }

    /// Removes a path.
    pub fn rm(self, path: &str, allow_not_found: bool, allow_wildcard: bool) -> Self {
        self.push(Action::Rm {
            path: path.to_owned(),
            allow_not_found,
            allow_wildcard,
        })
    }

    fn push(mut self, action: Action) -> Self {
        self.actions.push(action);
        self
    }
}

impl State {
    /// Applies `actions` on top of this state (which may be scratch) as one `FileOp`.
    /// An empty chain changes nothing and returns this state.
    pub fn file(&self, actions: FileActions, meta: OpMeta) -> State {
        let actions = actions.actions;
        if actions.is_empty() {
            return self.clone();
        }
        let mut inputs = Inputs::default();
        // Only `file.base`, as the Go client records: it adds the copy options' caps before any
        // action is in its marshal state, so they never reach the metadata (and
        // `file.copy.modestring` is announced by no daemon, which would reject the op). Callers
        // gate the options on the daemon's caps instead.
        let caps = vec!["file.base"];
        // (base input, secondary input) per action; the base is the same for every action.
        let mut refs = Vec::with_capacity(actions.len());
        for action in &actions {
            let base = inputs.add(self);
            let secondary = match action {
                Action::Copy { from, .. } => inputs.add(from),
                _ => -1,
            };
            refs.push((base, secondary));
        }
        let n_inputs = inputs.len();
        let last = actions.len() - 1;
        let mut pb_actions = Vec::with_capacity(actions.len());
        for (i, (action, (base, secondary))) in actions.iter().zip(refs).enumerate() {
            let input = match i64::try_from(i) {
                Ok(0) => base,
                Ok(i) => n_inputs + i - 1,
                Err(_) => -1,
            };
            pb_actions.push(pb::FileAction {
                input,
                secondary_input: secondary,
                output: if i == last { 0 } else { -1 },
                action: Some(to_pb(action, base)),
            });
        }

        // The Go client walks the base first, then copy sources from the last action back.
        let mut deps = Vec::new();
        push_dep(&mut deps, self);
        for action in actions.iter().rev() {
            if let Action::Copy { from, .. } = action {
                push_dep(&mut deps, from);
            }
        }
        let op = pb::Op {
            inputs: inputs.into_vec(),
            op: Some(pb::op::Op::File(pb::FileOp {
                actions: pb_actions,
            })),
            ..pb::Op::default()
        };
        new_vertex(op, deps, meta, &caps)
    }
}

/// The protobuf action; `base` is the input that named owners are looked up in.
fn to_pb(action: &Action, base: i64) -> pb::file_action::Action {
    use pb::file_action::Action as A;
    let chown = |c: &Option<Chown>| c.as_ref().map(|c| chown_pb(c, base));
    match action {
        Action::Copy {
            src, dest, opts, ..
        } => A::Copy(pb::FileActionCopy {
            src: join_root(&clean(src)),
            dest: normalize(dest, true),
            owner: chown(&opts.owner),
            // Go leaves `mode` at 0 beside a symbolic mode, and -1 means "keep" otherwise.
            mode: opts
                .mode
                .unwrap_or(if opts.mode_str.is_some() { 0 } else { -1 }),
            follow_symlink: opts.follow_symlink,
            dir_copy_contents: opts.dir_copy_contents,
            attempt_unpack_docker_compatibility: opts.attempt_unpack,
            create_dest_path: opts.create_dest_path,
            allow_wildcard: opts.allow_wildcard,
            allow_empty_wildcard: opts.allow_empty_wildcard,
            timestamp: opts.timestamp.unwrap_or(-1),
            include_patterns: opts.include_patterns.clone(),
            exclude_patterns: opts.exclude_patterns.clone(),
            always_replace_existing_dest_paths: opts.always_replace_existing_dest_paths,
            mode_str: opts.mode_str.clone().unwrap_or_default(),
            required_paths: opts.required_paths.clone(),
        }),
        Action::Mkdir { path, mode, opts } => A::Mkdir(pb::FileActionMkDir {
            path: normalize(path, false),
            mode: mode & 0o777,
            make_parents: opts.make_parents,
            owner: chown(&opts.owner),
            timestamp: opts.timestamp.unwrap_or(-1),
        }),
        Action::Mkfile {
            path,
            mode,
            data,
            opts,
        } => A::Mkfile(pb::FileActionMkFile {
            path: normalize(path, false),
            mode: mode & 0o777,
            data: data.clone(),
            owner: chown(&opts.owner),
            timestamp: opts.timestamp.unwrap_or(-1),
        }),
        Action::Rm {
            path,
            allow_not_found,
            allow_wildcard,
        } => A::Rm(pb::FileActionRm {
            path: normalize(path, false),
            allow_not_found: *allow_not_found,
            allow_wildcard: *allow_wildcard,
        }),
    }
}

fn chown_pb(c: &Chown, base: i64) -> pb::ChownOpt {
    let user = |u: &UserSpec| pb::UserOpt {
        user: Some(match u {
            UserSpec::Id(id) => pb::user_opt::User::ById(*id),
            UserSpec::Name(name) => pb::user_opt::User::ByName(pb::NamedUserOpt {
                name: name.clone(),
                input: base,
            }),
        }),
    };
    pb::ChownOpt {
        user: Some(user(&c.user)),
        group: c.group.as_ref().map(user),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llb::marshal;
    use prost::Message;
    use std::collections::BTreeMap;

    fn img(r: &str) -> State {
        State::image(r, BTreeMap::new(), OpMeta::default())
    }

    fn file_op(s: &State) -> (pb::Op, Vec<pb::FileAction>) {
        let def = marshal(s, None);
        let op = pb::Op::decode(def.def[def.def.len() - 2].as_slice()).unwrap();
        match op.op.clone() {
            Some(pb::op::Op::File(f)) => (op, f.actions),
            other => panic!("not a file op: {other:?}"),
        }
    }

    #[test]
    fn chain_indexes_and_outputs() {
        let (base, a, b) = (img("base"), img("a"), img("b"));
        let actions = FileActions::new()
            .mkdir("/app", 0o40755, MkdirOpts::default())
            .copy(&a, "x", "/app/", CopyOpts::default())
            .copy(&b, "/y", "/app/y", CopyOpts::default())
            .copy(&a, "z", "/app/z", CopyOpts::default())
            .rm("/app/tmp", true, false);
        let (op, got) = file_op(&base.file(actions, OpMeta::default()));
        let inputs: Vec<String> = op.inputs.iter().map(|i| i.digest.clone()).collect();
        assert_eq!(inputs, [&base, &a, &b].map(|s| s.digest().unwrap()));
        assert_eq!(op.platform, None);
        let triples: Vec<(i64, i64, i64)> = got
            .iter()
            .map(|a| (a.input, a.secondary_input, a.output))
            .collect();
        assert_eq!(
            triples,
            [(0, -1, -1), (3, 1, -1), (4, 2, -1), (5, 1, -1), (6, -1, 0)]
        );
        match &got[0].action {
            Some(pb::file_action::Action::Mkdir(m)) => {
                assert_eq!((m.mode, m.timestamp), (0o755, -1));
            }
            other => panic!("{other:?}"),
        }
        match &got[1].action {
            Some(pb::file_action::Action::Copy(c)) => {
                assert_eq!(
                    (c.src.as_str(), c.dest.as_str(), c.mode),
                    ("/x", "/app/", -1)
                );
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn scratch_base_and_scratch_source() {
        let from = img("from");
        let s = State::scratch().file(
            FileActions::new()
                .copy(&from, "/a", "/a", CopyOpts::default())
                .copy(&State::scratch(), "/b", "/b", CopyOpts::default()),
            OpMeta::default(),
        );
        let (op, got) = file_op(&s);
        assert_eq!(op.inputs.len(), 1);
        let triples: Vec<(i64, i64, i64)> = got
            .iter()
            .map(|a| (a.input, a.secondary_input, a.output))
            .collect();
        assert_eq!(triples, [(-1, 0, -1), (1, -1, 0)]);
    }

    #[test]
    fn empty_chain_is_identity() {
        let base = img("base");
        assert_eq!(base.file(FileActions::new(), OpMeta::default()), base);
        assert!(
            State::scratch()
                .file(FileActions::new(), OpMeta::default())
                .is_scratch()
        );
    }

    #[test]
    fn named_owner_reads_the_base_input() {
        let owner = Some(Chown {
            user: UserSpec::Name("app".into()),
            group: Some(UserSpec::Id(0)),
        });
        for (base, want) in [(img("base"), 0), (State::scratch(), -1)] {
            let s = base.file(
                FileActions::new().mkfile("/f", 0o644, b"hi".to_vec(), owner.clone()),
                OpMeta::default(),
            );
            let (_, got) = file_op(&s);
            let Some(pb::file_action::Action::Mkfile(f)) = &got[0].action else {
                panic!("not mkfile");
            };
            let chown = f.owner.clone().unwrap();
            assert_eq!(
                chown.user.unwrap().user,
                Some(pb::user_opt::User::ByName(pb::NamedUserOpt {
                    name: "app".into(),
                    input: want
                }))
            );
            assert_eq!(chown.group.unwrap().user, Some(pb::user_opt::User::ById(0)));
        }
    }

    #[test]
    fn copy_records_only_file_base() {
        let opts = CopyOpts {
            exclude_patterns: vec!["*.md".into()],
            mode_str: Some("u+x".into()),
            required_paths: vec!["a".into()],
            always_replace_existing_dest_paths: true,
            ..CopyOpts::default()
        };
        let s = State::scratch().file(
            FileActions::new().copy(&img("a"), "/", "/", opts),
            OpMeta::default(),
        );
        let def = marshal(&s, None);
        let caps: Vec<&str> = def.metadata[&s.digest().unwrap()]
            .caps
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(caps, ["file.base"]);
    }
}
