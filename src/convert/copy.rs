//! COPY and ADD -> one FileOp with a copy action per source.

use crate::instructions::{Copy, Instruction};
use crate::llb;
use crate::plan::{Base, Stage};

use super::Dispatcher;
use super::paths::{copy_dest, copy_source};
use super::stage::{StageState, uppercase_cmd};

impl Dispatcher<'_> {
    pub(super) fn copy_step(
        &mut self,
        st: &mut StageState,
        _stage: &Stage,
        ins: &Instruction,
        c: &Copy,
        is_add: bool,
        from: Option<&Base>,
    ) -> Result<(), String> {
        let keyword = if is_add { "ADD" } else { "COPY" };
        if c.parents {
            return Err("COPY --parents is not supported by stager yet".into());
        }
        if !c.excludes.is_empty()
            && !self
                .ctx
                .llb_caps
                .contains("file.copy.includeexcludepatterns")
        {
            return Err(format!(
                "{keyword} --exclude needs a BuildKit with file.copy.includeexcludepatterns (v0.9 or later)"
            ));
        }
        let expand = |word: &str| {
            self.lexer
                .process_word(word, &st.env)
                .map_err(|e| e.to_string())
        };
        // Here-document sources are inline files; the other words are paths.
        let mut inline = Vec::new();
        let mut paths = Vec::new();
        for word in &c.sources {
            let doc = crate::syntax::parse_heredoc(word)
                .ok()
                .flatten()
                .and_then(|h| c.heredocs.iter().find(|d| d.name == h.name));
            match doc {
                Some(doc) => inline.push(doc),
                None => paths.push(word),
            }
        }
        let sources = paths
            .iter()
            .map(|s| expand(s))
            .collect::<Result<Vec<_>, _>>()?;
        let dest_raw = expand(&c.dest)?;
        let chown = c.chown.as_deref().map(expand).transpose()?;
        let chmod = c.chmod.as_deref().map(expand).transpose()?;
        for src in &sources {
            if is_remote(src) {
                return Err(if is_add {
                    "ADD from a URL or git repository is not supported by stager yet".into()
                } else if src.contains(".git") || src.starts_with("git@") {
                    "source can't be a git ref for COPY".into()
                } else {
                    "source can't be a URL for COPY".into()
                });
            }
        }
        if !is_add && c.checksum.is_some() {
            return Err("checksum can't be specified for COPY".into());
        }
        let mode = match &chmod {
            None => None,
            Some(m) => Some(parse_chmod(m)?),
        };
        let owner = chown.as_deref().map(parse_chown);
        let dest = copy_dest(&st.workdir, &dest_raw);

        let source_state = match from {
            None => {
                for src in &sources {
                    self.context_paths.insert(copy_source(src));
                }
                self.context.clone()
            }
            Some(Base::Stage(i)) => self
                .done
                .get(*i)
                .and_then(|s| s.as_ref())
                .map(|s| s.state.clone())
                .ok_or_else(|| format!("stage {i} was not converted before use"))?,
            Some(Base::Scratch) => llb::State::scratch(),
            Some(Base::Image(r)) => {
                self.image_source(&r.to_string(), &st.platform, None, ins)
                    .map_err(|e| e.message)?
                    .0
            }
        };
        let unpack = c.unpack.unwrap_or(is_add);
        let mut actions = llb::FileActions::new();
        for src in &sources {
            actions = actions.copy(
                &source_state,
                &copy_source(src),
                &dest,
                llb::CopyOpts {
                    owner: owner.clone(),
                    mode,
                    follow_symlink: true,
                    dir_copy_contents: true,
                    attempt_unpack: unpack,
                    create_dest_path: true,
                    allow_wildcard: true,
                    allow_empty_wildcard: true,
                    exclude_patterns: c.excludes.clone(),
                    ..llb::CopyOpts::default()
                },
            );
        }
        for doc in &inline {
            let mut body = if doc.chomp {
                doc.chomped_content()
            } else {
                doc.content.clone()
            };
            if doc.expand {
                let raw = crate::shell::Lexer {
                    skip_process_quotes: true,
                    ..crate::shell::Lexer::new('\\')
                };
                body = raw
                    .process_word(&body, &st.env)
                    .map_err(|e| e.to_string())?;
            }
            let file = llb::State::scratch().file(
                llb::FileActions::new().mkfile(&doc.name, 0o644, body.into_bytes(), None),
                llb::OpMeta {
                    name: Some("[internal] preparing inline document".into()),
                    ..llb::OpMeta::default()
                },
            );
            actions = actions.copy(
                &file,
                &format!("/{}", doc.name),
                &dest,
                llb::CopyOpts {
                    owner: owner.clone(),
                    mode,
                    create_dest_path: true,
                    ..llb::CopyOpts::default()
                },
            );
        }
        let shown = self
            .lexer
            .process_word(&ins.original, &st.env)
            .unwrap_or_else(|_| ins.original.clone());
        let name = st.progress_name(&uppercase_cmd(&shown));
        let meta = self.op_meta(st, ins, name);
        st.state = st.state.file(actions, meta);

        let mut history = String::from(keyword);
        if let Some(chown) = &chown {
            history.push_str(&format!(" --chown={chown}"));
        }
        if let Some(chmod) = &chmod {
            history.push_str(&format!(" --chmod={chmod}"));
        }
        for src in &sources {
            history.push(' ');
            history.push_str(src);
        }
        for doc in &inline {
            history.push_str(&format!(" <<{}", doc.name));
        }
        history.push(' ');
        history.push_str(&dest_raw);
        history.push_str(" # buildkit");
        st.image.add_history(history, true);
        Ok(())
    }
}

fn is_remote(src: &str) -> bool {
    src.starts_with("http://")
        || src.starts_with("https://")
        || src.starts_with("git@")
        || src.starts_with("git://")
}

/// Octal `--chmod` (symbolic modes need a newer BuildKit and are not supported yet).
fn parse_chmod(m: &str) -> Result<i32, String> {
    let bad = || {
        format!("invalid chmod parameter: '{m}'. it should be octal string and between 0 and 07777")
    };
    let v = u32::from_str_radix(m, 8).map_err(|_| bad())?;
    if v > 0o7777 {
        return Err(bad());
    }
    i32::try_from(v).map_err(|_| bad())
}

/// `user[:group]`: numbers are IDs, `root` is 0, anything else a name the daemon looks up.
pub(super) fn parse_chown(spec: &str) -> llb::Chown {
    let one = |s: &str| {
        if s == "root" {
            llb::UserSpec::Id(0)
        } else {
            match s.parse::<u32>() {
                Ok(id) if i32::try_from(id).is_ok() => llb::UserSpec::Id(id),
                _ => llb::UserSpec::Name(s.to_string()),
            }
        }
    };
    match spec.split_once(':') {
        Some((u, g)) => llb::Chown {
            user: one(u),
            group: Some(one(g)),
        },
        None => llb::Chown {
            user: one(spec),
            group: None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chmod_and_chown() {
        assert_eq!(parse_chmod("755"), Ok(0o755));
        assert_eq!(parse_chmod("7777"), Ok(0o7777));
        assert_eq!(
            parse_chmod("17777").unwrap_err(),
            "invalid chmod parameter: '17777'. it should be octal string and between 0 and 07777"
        );
        assert!(parse_chmod("u+x").is_err());
        let c = parse_chown("app:1000");
        assert_eq!(c.user, llb::UserSpec::Name("app".into()));
        assert_eq!(c.group, Some(llb::UserSpec::Id(1000)));
        assert_eq!(parse_chown("root").user, llb::UserSpec::Id(0));
    }
}
