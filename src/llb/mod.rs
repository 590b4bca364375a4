//! A small typed LLB builder over the generated protobuf types, and the deterministic
//! `pb.Definition` marshaller.
//!
//! # What goes in
//!
//! [`State`]s built from sources ([`State::image`], [`State::local`], [`State::source`]) and
//! combined with [`State::run`] (an `ExecOp`, see [`Exec`] and [`Mount`]), [`State::file`] (a
//! `FileOp` chain, see [`FileActions`]) and [`State::merge`] (a `MergeOp`). Each op takes an
//! [`OpMeta`]: progress name, description, cache flags, source lines, platform and extra caps.
//!
//! # What comes out
//!
//! [`marshal`] turns the graph under one state into a `pb::Definition`: ops deduplicated by
//! digest, dependencies first, a terminal op last, metadata and source locations keyed by digest.
//! The same graph gives the same bytes on every run and machine. [`dump`] renders a Definition as
//! stable JSON for golden tests and `stager llb --format json`.
//!
//! Ops follow BuildKit's Go client (`client/llb`) where it matters for the daemon:
//!
//! - Op bytes are protobuf in field-number order, except that the `op` oneof comes last, with
//!   map entries written in full, as the Go client of BuildKit v0.32 writes them, so the digest of
//!   an op matches the one it computes for the same op.
//! - Each op records the LLB caps it needs in `OpMetadata.caps` (`source.local.followpaths`,
//!   `exec.mount.cache`, `file.base`, `mergeop`, ...), so a daemon lacking one rejects the build
//!   instead of silently ignoring a field.
//! - `Op.platform` is written for exec ops and `docker-image://`/`oci-layout://` sources only;
//!   file and merge ops and other sources are not platform specific. Every op carries an empty
//!   `WorkerConstraints`.
//! - Exec mounts are sorted by destination; writable bind mounts get output indexes in that
//!   order; secret and SSH mounts come last, in the order given.
//!
//! # What is not done here
//!
//! Nothing here knows about Dockerfiles, image configs, environment or working directories:
//! callers pass final argument lists, absolute paths and attributes. Image references are not
//! normalised (`alpine` stays `alpine`), caps are not checked against a daemon (the caller gates
//! features), and no I/O happens. `DiffOp`, OCI layout and build ops are not built.
//!
//! # Example
//!
//! ```
//! use std::collections::BTreeMap;
//! use stager::llb::{self, CopyOpts, Exec, FileActions, OpMeta, State};
//!
//! let base = State::image("docker.io/library/alpine:latest", BTreeMap::new(), OpMeta::default());
//! let ctx = State::local("context", BTreeMap::new(), OpMeta::default());
//! let built = base
//!     .run(Exec { args: vec!["sh".into(), "-c".into(), "make".into()], cwd: "/".into(), ..Exec::default() },
//!          OpMeta { name: Some("RUN make".into()), ..OpMeta::default() })
//!     .root();
//! let out = State::scratch().file(
//!     FileActions::new().copy(&built, "/out", "/", CopyOpts::default())
//!         .copy(&ctx, "README", "/", CopyOpts::default()),
//!     OpMeta::default(),
//! );
//! let def = llb::marshal(&out, None);
//! assert_eq!(def.def.len(), 5); // image, local, exec, file, terminal
//! assert_eq!(llb::marshal(&out, None), def); // deterministic
//! assert_eq!(llb::dump(&def)["ops"][4]["terminal"], true);
//! ```

use std::fmt;
use std::sync::Arc;

use crate::proto::pb;

pub mod caps;
mod definition;
mod dump;
mod exec;
mod exec_encode;
mod file;
mod fxhash;
mod marshal;
mod merge;
mod metadata;
pub(crate) mod path;
pub mod protojson;
mod replace;
mod source;
mod state;
mod write;

pub use definition::DefinitionError;
pub use dump::dump;
pub use exec::{Exec, ExecOutput, Mount, MountKind};
pub use file::{Chown, CopyOpts, FileActions, MkdirOpts, MkfileOpts, UserSpec};
pub use marshal::{marshal, marshal_owned};
pub use source::Git;
pub use state::State;
pub(crate) use state::digest_of;
pub use write::{write_definition, write_graph};

/// Target platform of an op (written into `Op.platform`, like Go's `SetMarshalDefaults`).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Platform {
    pub os: String,
    pub architecture: String,
    pub variant: Option<String>,
    /// `Platform.OSVersion` (Windows builds).
    pub os_version: Option<String>,
}

impl Platform {
    pub(crate) fn to_pb(&self) -> pb::Platform {
        pb::Platform {
            architecture: self.architecture.clone(),
            os: self.os.clone(),
            variant: self.variant.clone().unwrap_or_default(),
            os_version: self.os_version.clone().unwrap_or_default(),
            os_features: Vec::new(),
        }
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        match &self.variant {
            Some(v) if !v.is_empty() => write!(f, "/{v}"),
            _ => Ok(()),
        }
    }
}

/// Per-op metadata and source mapping.
#[derive(Clone, Debug, Default)]
pub struct OpMeta {
    /// Progress vertex name: `OpMetadata.description["llb.customname"]`.
    pub name: Option<String>,
    /// Other description keys, e.g. `com.docker.dockerfile.v1.command`, each once, in any
    /// order (they are written sorted). Static keys: no allocation per op for them.
    pub description: Vec<(&'static str, String)>,
    pub ignore_cache: bool,
    /// 1-based Dockerfile line ranges: `Definition.source.locations[digest]`, source index 0, one
    /// `Range` per `(start, end)` with character 0. Written only when `marshal` gets a source info.
    pub locations: Vec<(u32, u32)>,
    pub progress_group: Option<pb::ProgressGroup>,
    /// Written into the op for exec ops and image sources; ignored by op kinds that are not
    /// platform specific.
    pub platform: Option<Arc<Platform>>,
    /// Extra `OpMetadata.caps`, on top of the ones the op kind adds itself.
    pub caps: Vec<&'static str>,
    /// Cgroup limits of an exec (`OpMetadata.linux_resources`).
    pub linux_resources: Option<pb::LinuxResources>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platform_display_and_pb() {
        let cases = [
            ("linux", "amd64", None, "linux/amd64"),
            ("linux", "arm64", Some("v8"), "linux/arm64/v8"),
            ("windows", "amd64", Some(""), "windows/amd64"),
        ];
        for (os, arch, variant, want) in cases {
            let p = Platform {
                os: os.into(),
                architecture: arch.into(),
                variant: variant.map(Into::into),
                os_version: None,
            };
            assert_eq!(p.to_string(), want);
            let pb = p.to_pb();
            assert_eq!((pb.os.as_str(), pb.architecture.as_str()), (os, arch));
            assert_eq!(pb.variant, variant.unwrap_or(""));
        }
    }
}
