//! The source whose time SOURCE_DATE_EPOCH takes when it names the main context, a named
//! context or a source-only stage: the state dockerfile 1.26 hands to `ResolveSourceMeta`
//! (only its one source op's identifier and attributes matter to the daemon).

use std::collections::{BTreeMap, BTreeSet};

use crate::llb;
use crate::options::BuildOptions;
use crate::plan::epoch::Remote;

use super::gitref::{self, Parsed};
use super::main_context;

/// The state of `remote`'s source.
pub fn state(
    remote: &Remote,
    opts: &BuildOptions,
    llb_caps: &BTreeSet<String>,
) -> Result<llb::State, String> {
    match remote {
        Remote::MainContext => match &opts.main_context {
            Some(main) => main_context::scoped_context(main, opts, llb_caps),
            None => Err("SOURCE_DATE_EPOCH=context needs a remote main context".into()),
        },
        Remote::NamedContext(ctx) => match gitref::parse(&ctx.source, false)? {
            Parsed::Git(_) => {
                let what = format!("named context {}", ctx.key);
                main_context::git_context(&ctx.source, None, None, llb_caps, &what)
            }
            Parsed::NotGit => Ok(http(&ctx.source, "context", None)),
        },
        Remote::Stage {
            source,
            checksum,
            keep_git_dir,
            ..
        } => match gitref::parse(source, false)? {
            Parsed::Git(git) => {
                let what = format!("ADD {source}");
                let attrs = super::copy::git_attrs(
                    llb_caps,
                    &git,
                    *keep_git_dir,
                    checksum.as_deref(),
                    &what,
                )?;
                Ok(llb::State::git(&attrs, llb::OpMeta::default()))
            }
            Parsed::NotGit => {
                let filename = super::copy::url_filename(source);
                Ok(http(source, &filename, checksum.as_deref()))
            }
        },
    }
}

/// An HTTP(S) download saved as `filename`.
fn http(url: &str, filename: &str, checksum: Option<&str>) -> llb::State {
    let mut attrs = BTreeMap::from([("http.filename".to_string(), filename.to_string())]);
    if let Some(sum) = checksum {
        attrs.insert("http.checksum".into(), sum.to_string());
    }
    llb::State::source(url, attrs, llb::OpMeta::default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::Platform;
    use crate::options::MainContext;
    use crate::plan::NamedContext;

    fn source_of(state: &llb::State) -> (String, BTreeMap<String, String>) {
        use prost::Message as _;
        let def = llb::marshal(state, None);
        let ops: Vec<_> = (def.def.iter())
            .filter_map(|b| crate::proto::pb::Op::decode(b.as_slice()).ok())
            .filter_map(|op| match op.op {
                Some(crate::proto::pb::op::Op::Source(s)) => Some((s.identifier, s.attrs)),
                _ => None,
            })
            .collect();
        assert_eq!(ops.len(), 1, "{ops:?}");
        ops.into_iter().next().unwrap_or_default()
    }

    #[test]
    fn stages_name_the_download_after_the_url() {
        let opts = BuildOptions::new(Platform::new("linux", "amd64", None));
        let stage = Remote::Stage {
            name: "src".into(),
            source: "https://example.com/a/src.tar?x=1".into(),
            checksum: Some("sha256:abc".into()),
            keep_git_dir: None,
        };
        let (id, attrs) = source_of(&state(&stage, &opts, &BTreeSet::new()).unwrap());
        assert_eq!(id, "https://example.com/a/src.tar?x=1");
        assert_eq!(attrs["http.filename"], "src.tar");
        assert_eq!(attrs["http.checksum"], "sha256:abc");
        let git = Remote::Stage {
            name: "src".into(),
            source: "https://example.com/o/r.git#v1".into(),
            checksum: None,
            keep_git_dir: Some(true),
        };
        let (id, attrs) = source_of(&state(&git, &opts, &BTreeSet::new()).unwrap());
        assert_eq!(id, "git://example.com/o/r.git#v1");
        assert_eq!(attrs["git.keepgitdir"], "true");
    }

    #[test]
    fn contexts_are_their_one_source() {
        let mut opts = BuildOptions::new(Platform::new("linux", "amd64", None));
        opts.main_context = Some(MainContext::Http {
            url: "https://example.com/c.tar".into(),
            archive: true,
        });
        opts.context_subdir = Some("sub".into());
        let (id, attrs) = source_of(&state(&Remote::MainContext, &opts, &BTreeSet::new()).unwrap());
        assert_eq!(id, "https://example.com/c.tar");
        assert_eq!(attrs["http.filename"], "context");
        let named = Remote::NamedContext(NamedContext {
            key: "src".into(),
            source: "https://example.com/n.tar".into(),
        });
        let (id, attrs) = source_of(&state(&named, &opts, &BTreeSet::new()).unwrap());
        assert_eq!(id, "https://example.com/n.tar");
        assert_eq!(attrs["http.filename"], "context");
    }
}
