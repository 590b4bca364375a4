//! Typed calls to the daemon's `LLBBridge`.
//!
//! [`Client`] is cheap to clone (tonic multiplexes calls over one HTTP/2 connection), so
//! concurrent image resolution clones it instead of locking. `return_result` and `return_error`
//! consume the client: nothing can be called after `Return`.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use futures::FutureExt as _;
use futures::future::{BoxFuture, Shared};

use tonic::transport::Channel;

use crate::proto::google::rpc::Status;
use crate::proto::moby::buildkit::v1::frontend::{self as gw, llb_bridge_client::LlbBridgeClient};
use crate::proto::pb;

use super::Error;
use super::caps::Caps;
use super::stats;

/// Largest message either side accepts (BuildKit's own limit).
const MAX_MESSAGE: usize = 16 << 20;

/// How long the daemon may take to answer `Ping` (BuildKit's Go client waits 15 s).
const PING_TIMEOUT: Duration = Duration::from_secs(15);

/// How long any other call may take. Generous: resolving an image may go to a slow registry,
/// and reading the Dockerfile waits for the client to send it; but never forever.
const CALL_TIMEOUT: Duration = Duration::from_secs(600);

/// Awaits `call`, failing with a timeout error after `limit`.
/// With `STAGER_STATS`, the call is timed as a step about `about` (a file, an image; or "").
async fn deadline<T>(
    name: &'static str,
    about: &str,
    limit: Duration,
    call: impl Future<Output = Result<tonic::Response<T>, tonic::Status>>,
) -> Result<T, Error> {
    let span = stats::span_about(name, || about.to_string());
    let answer = tokio::time::timeout(limit, call).await;
    span.end();
    match answer {
        Ok(Ok(response)) => Ok(response.into_inner()),
        Ok(Err(status)) => Err(Error::rpc(name, status)),
        Err(_) => Err(Error::rpc(
            name,
            tonic::Status::deadline_exceeded(format!(
                "no answer from BuildKit after {}s",
                limit.as_secs()
            )),
        )),
    }
}

/// What `Ping` told us about the daemon.
#[derive(Clone, Debug, Default)]
pub struct Daemon {
    /// Gateway API capabilities.
    pub api_caps: Caps,
    /// LLB capabilities.
    pub llb_caps: Caps,
    /// Platforms of the first worker, in the daemon's order.
    pub worker_platforms: Vec<pb::Platform>,
}

/// The answer to `Ping`, asked for at once and awaited only where caps or workers are needed.
///
/// A daemon may take long to answer: Docker 20.10's BuildKit probes its emulators on every
/// Ping (about 12 ms), while the Dockerfile can be read and its base images resolved without
/// knowing the caps, as the official frontend, which reads the build platform from the
/// environment (`BUILDKIT_WORKERS`), also does.
#[derive(Clone)]
pub struct PendingDaemon {
    answer: Shared<BoxFuture<'static, Result<Daemon, String>>>,
}

impl PendingDaemon {
    /// Sends `Ping` now, on its own task, so that it is under way while the caller awaits
    /// other calls.
    pub fn start(client: &Client) -> PendingDaemon {
        let mut pinger = client.clone();
        let task = tokio::spawn(async move { pinger.ping().await.map_err(|e| e.to_string()) });
        let answer = async move {
            (task.await).unwrap_or_else(|e| Err(format!("Ping did not finish: {e}")))
        };
        PendingDaemon {
            answer: answer.boxed().shared(),
        }
    }

    /// A daemon whose answer is known.
    pub fn ready(daemon: Daemon) -> PendingDaemon {
        PendingDaemon {
            answer: futures::future::ready(Ok(daemon)).boxed().shared(),
        }
    }

    /// The answer, waiting for it if need be; the error is Ping's, as a message.
    pub async fn get(&self) -> Result<Daemon, String> {
        self.answer.clone().await
    }
}

/// A connected gateway client.
#[derive(Clone)]
pub struct Client {
    inner: LlbBridgeClient<Channel>,
    /// The frontend inputs, when asked for together with `Ping` (they never change).
    inputs: Option<Arc<BTreeMap<String, pb::Definition>>>,
}

/// A base image as `ResolveImageConfig` answered.
#[derive(Clone, Debug)]
pub struct ResolvedImage {
    /// Manifest digest, used to pin the image source.
    pub digest: String,
    /// The image config JSON.
    pub config: Vec<u8>,
}

impl Client {
    /// Wraps a channel.
    pub fn new(channel: Channel) -> Client {
        Client {
            inner: LlbBridgeClient::new(channel)
                .max_decoding_message_size(MAX_MESSAGE)
                .max_encoding_message_size(MAX_MESSAGE),
            inputs: None,
        }
    }

    /// Asks for the frontend inputs once and keeps them (they never change); a daemon without
    /// the `Inputs` call answers with an error, and then nothing is kept.
    pub async fn prefetch_inputs(&mut self) {
        self.inputs = self.inputs().await.ok().map(Arc::new);
    }

    /// Whether [`Client::prefetch_inputs`] got an answer: the daemon has `frontend.inputs`.
    pub fn has_inputs(&self) -> bool {
        self.inputs.is_some()
    }

    /// Calls `Ping` and keeps caps and workers.
    pub async fn ping(&mut self) -> Result<Daemon, Error> {
        let pong = deadline(
            "Ping",
            "",
            PING_TIMEOUT,
            self.inner.ping(gw::PingRequest {}),
        )
        .await?;
        Ok(Daemon {
            api_caps: Caps::from_api(&pong.frontend_api_caps),
            llb_caps: Caps::from_api(&pong.llb_caps),
            worker_platforms: pong
                .workers
                .first()
                .map(|w| w.platforms.clone())
                .unwrap_or_default(),
        })
    }

    /// Loads a definition (lazily: nothing runs until a read or the export) and returns its ref.
    pub async fn solve(&mut self, request: gw::SolveRequest) -> Result<gw::Result, Error> {
        let request = gw::SolveRequest {
            allow_result_return: true,
            allow_result_array_ref: true,
            ..request
        };
        let response = deadline("Solve", "", CALL_TIMEOUT, self.inner.solve(request)).await?;
        match response.result {
            Some(result) => Ok(result),
            None => Ok(gw::Result {
                result: Some(gw::result::Result::RefDeprecated(response.r#ref)),
                metadata: BTreeMap::new(),
                attestations: BTreeMap::new(),
            }),
        }
    }

    /// The frontend inputs (`Inputs`, cap `frontend.inputs`): definitions by name. A nil
    /// input (no metadata: a client passed `nil`) fails them all, as in BuildKit's Go client.
    pub async fn inputs(&mut self) -> Result<BTreeMap<String, pb::Definition>, Error> {
        if let Some(inputs) = &self.inputs {
            return Ok(inputs.as_ref().clone());
        }
        let response = deadline(
            "Inputs",
            "",
            CALL_TIMEOUT,
            self.inner.inputs(gw::InputsRequest {}),
        )
        .await?;
        if response.definitions.values().any(|d| d.metadata.is_empty()) {
            return Err(Error::NilInput);
        }
        Ok(response.definitions.into_iter().collect())
    }

    /// Solves `definition` and returns the single ref ID it produced ("" for scratch).
    pub async fn solve_ref(&mut self, definition: pb::Definition) -> Result<String, Error> {
        let result = self
            .solve(gw::SolveRequest {
                definition: Some(definition),
                ..gw::SolveRequest::default()
            })
            .await?;
        Ok(match result.result {
            Some(gw::result::Result::Ref(r)) => r.id,
            Some(gw::result::Result::RefDeprecated(id)) => id,
            _ => String::new(),
        })
    }

    /// Reads a whole file of a solved ref. `Ok(None)` when the file does not exist.
    pub async fn read_file(
        &mut self,
        reference: &str,
        path: &str,
    ) -> Result<Option<Vec<u8>>, Error> {
        let request = gw::ReadFileRequest {
            r#ref: reference.to_string(),
            file_path: path.to_string(),
            range: None,
        };
        match deadline(
            "ReadFile",
            path,
            CALL_TIMEOUT,
            self.inner.read_file(request),
        )
        .await
        {
            Ok(response) => Ok(Some(response.data)),
            Err(Error::Rpc { status, .. }) if is_not_found(&status) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Reads at most `length` bytes from the start of a file of a solved ref.
    pub async fn read_file_head(
        &mut self,
        reference: &str,
        path: &str,
        length: i64,
    ) -> Result<Vec<u8>, Error> {
        let request = gw::ReadFileRequest {
            r#ref: reference.to_string(),
            file_path: path.to_string(),
            range: Some(gw::FileRange { offset: 0, length }),
        };
        let response = deadline(
            "ReadFile",
            path,
            CALL_TIMEOUT,
            self.inner.read_file(request),
        )
        .await?;
        Ok(response.data)
    }

    /// Resolves an image reference to its digest and config.
    pub async fn resolve_image_config(
        &mut self,
        request: gw::ResolveImageConfigRequest,
    ) -> Result<ResolvedImage, Error> {
        let about = request.r#ref.clone();
        let response = deadline(
            "ResolveImageConfig",
            &about,
            CALL_TIMEOUT,
            self.inner.resolve_image_config(request),
        )
        .await?;
        Ok(ResolvedImage {
            digest: response.digest,
            config: response.config,
        })
    }

    /// What the daemon knows of a source without loading it (`ResolveSourceMeta`, cap
    /// `source.metaresolver`): a git commit, an HTTP download's Last-Modified.
    pub async fn resolve_source_meta(
        &mut self,
        request: gw::ResolveSourceMetaRequest,
    ) -> Result<gw::ResolveSourceMetaResponse, Error> {
        let about = request
            .source
            .as_ref()
            .map(|s| s.identifier.clone())
            .unwrap_or_default();
        deadline(
            "ResolveSourceMeta",
            &about,
            CALL_TIMEOUT,
            self.inner.resolve_source_meta(request),
        )
        .await
    }

    /// Sends one build-check warning (needs the `gateway.warnings` cap).
    pub async fn warn(&mut self, request: gw::WarnRequest) -> Result<(), Error> {
        deadline("Warn", "", CALL_TIMEOUT, self.inner.warn(request)).await?;
        Ok(())
    }

    /// Returns the build result. Nothing may be called afterwards.
    pub async fn return_result(mut self, result: gw::Result) -> Result<(), Error> {
        let span = stats::span("Return");
        let answer = self
            .inner
            .r#return(gw::ReturnRequest {
                result: Some(result),
                error: None,
            })
            .await;
        span.end();
        answer.map_err(|s| Error::rpc("Return", s))?;
        Ok(())
    }

    /// Returns a build error. Nothing may be called afterwards.
    pub async fn return_error(mut self, status: Status) -> Result<(), Error> {
        let span = stats::span("Return");
        let answer = self
            .inner
            .r#return(gw::ReturnRequest {
                result: None,
                error: Some(status),
            })
            .await;
        span.end();
        answer.map_err(|s| Error::rpc("Return", s))?;
        Ok(())
    }
}

/// BuildKit reports a missing file as `open <path>: no such file or directory` (code Unknown or NotFound).
fn is_not_found(status: &tonic::Status) -> bool {
    status.code() == tonic::Code::NotFound || status.message().contains("no such file or directory")
}
