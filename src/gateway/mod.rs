//! The frontend as BuildKit runs it: a gRPC client over stdio.
//!
//! In: the process environment (`BUILDKIT_FRONTEND_OPT_*`, `BUILDKIT_SESSION_ID`) and the
//! daemon's answers. Out: one `Return` call with the final stage's ref and image config, or an
//! error status that names the Dockerfile line. Only this module imports tonic and the gateway
//! protos; it knows nothing of instructions (it calls the `pipeline`).
//!
//! Parts: [`stdio`] (transport), [`client`] (typed calls), [`caps`], [`options`] (attributes ->
//! `BuildOptions`), [`errors`] (status details), `remote` (a git, HTTP or input main context),
//! `source_meta` (SOURCE_DATE_EPOCH from a remote source's time), `load` (the Dockerfile and
//! `.dockerignore` files), `stats` (`STAGER_STATS` timings),
//! [`frontend`] (the build sequence).

#[cfg(test)]
mod build_result_tests;
pub mod caps;
pub mod client;
mod contexts;
pub mod errors;
pub mod frontend;
mod lint;
#[cfg(test)]
mod lint_tests;
mod load;
pub mod options;
mod remote;
#[cfg(test)]
mod remote_tests;
mod resources;
mod result;
#[cfg(test)]
mod round_trip_tests;
pub mod sbom;
mod source_meta;
#[cfg(test)]
mod source_meta_tests;
pub mod stats;
pub mod stdio;
#[cfg(test)]
mod tests;

pub use frontend::serve;

/// A failure talking to the daemon.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The stdio connection could not be set up.
    #[error("cannot connect to BuildKit over stdio: {0}")]
    Connect(#[from] tonic::transport::Error),
    /// An RPC failed.
    #[error("{call}: {}", status.message())]
    Rpc {
        /// The RPC name.
        call: &'static str,
        /// What the daemon answered.
        status: Box<tonic::Status>,
    },
    /// A frontend input without a definition (BuildKit's Go client refuses it the same way).
    #[error("invalid nil input definition to definition op")]
    NilInput,
}

impl Error {
    pub(crate) fn rpc(call: &'static str, status: tonic::Status) -> Error {
        Error::Rpc {
            call,
            status: Box::new(status),
        }
    }
}
