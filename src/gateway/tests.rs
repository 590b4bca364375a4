//! The gateway against a fake daemon: the whole build sequence over a real gRPC connection
//! (an in-memory pipe instead of stdio), and the faults a daemon can produce.

use std::sync::{Arc, Mutex};

use tonic::transport::{Endpoint, Server, Uri};
use tonic::{Request, Response, Status};

use crate::proto::moby::buildkit::v1::apicaps::ApiCap;
use crate::proto::moby::buildkit::v1::frontend::{
    self as gw,
    llb_bridge_server::{LlbBridge, LlbBridgeServer},
};
use crate::proto::moby::buildkit::v1::types::WorkerRecord;
use crate::proto::pb;

use super::client::Client;
use super::frontend::build_with;

/// What the fake daemon answers.
#[derive(Clone, Default)]
pub(super) struct FakeDaemon {
    pub(super) dockerfile: Vec<u8>,
    /// `None`: ResolveImageConfig fails.
    pub(super) image_config: Option<Vec<u8>>,
    /// Solve fails for definitions with an exec op (the main build, not the Dockerfile load).
    pub(super) fail_main_solve: bool,
    /// Frontend inputs; the `frontend.inputs` cap is announced when there are any.
    pub(super) inputs: std::collections::BTreeMap<String, pb::Definition>,
    pub(super) solves: Arc<Mutex<Vec<gw::SolveRequest>>>,
    /// Gateway caps announced besides the basic ones.
    pub(super) extra_caps: Vec<&'static str>,
    /// LLB caps announced besides the basic ones.
    pub(super) extra_llb_caps: Vec<&'static str>,
    /// The `Warn` calls received.
    pub(super) warns: Arc<Mutex<Vec<gw::WarnRequest>>>,
    /// Files besides `Dockerfile` that ReadFile finds (in any ref).
    pub(super) files: std::collections::BTreeMap<String, Vec<u8>>,
    /// The ReadFile calls received: ref, path and range length.
    pub(super) reads: Arc<Mutex<Vec<Read>>>,
    /// The context's `.dockerignore`, when it has one.
    pub(super) dockerignore: Option<Vec<u8>>,
    /// ReadFile of the context's `.dockerignore` fails with this (a client with no directories).
    pub(super) dockerignore_error: Option<&'static str>,
    /// A source policy: ResolveImageConfig of this image says it became that other source.
    pub(super) policy: Option<(&'static str, &'static str)>,
    /// The ResolveImageConfig calls received.
    pub(super) resolves: Arc<Mutex<Vec<gw::ResolveImageConfigRequest>>>,
    /// The `ResolveSourceMeta` answer (its `source` is filled from the request).
    pub(super) source_meta: gw::ResolveSourceMetaResponse,
    /// The `ResolveSourceMeta` calls received.
    pub(super) source_meta_requests: Arc<Mutex<Vec<gw::ResolveSourceMetaRequest>>>,
    /// Calls that must be under way at the same time (round_trip_tests.rs).
    pub(super) together: Option<Arc<Together>>,
}

/// Calls (`ResolveImageConfig`, `ReadFile <path>`) that each wait until all of them have
/// started, for at most a second: a frontend that makes them one after the other fails.
pub(super) struct Together {
    pub(super) calls: Vec<&'static str>,
    pub(super) barrier: tokio::sync::Barrier,
}

impl FakeDaemon {
    async fn meet(&self, call: &str) -> Result<(), Status> {
        let Some(together) = (self.together.as_ref()).filter(|t| t.calls.contains(&call)) else {
            return Ok(());
        };
        let wait = together.barrier.wait();
        match tokio::time::timeout(std::time::Duration::from_secs(1), wait).await {
            Ok(_) => Ok(()),
            Err(_) => Err(Status::deadline_exceeded(format!(
                "{call}: the other calls of {:?} did not come while it was under way",
                together.calls
            ))),
        }
    }
}

/// A ReadFile call: ref, path and range length.
pub(super) type Read = (String, String, Option<i64>);

fn has_exec(def: Option<&pb::Definition>) -> bool {
    use prost::Message as _;
    def.is_some_and(|d| {
        d.def.iter().any(|bytes| {
            pb::Op::decode(bytes.as_slice())
                .is_ok_and(|op| matches!(op.op, Some(pb::op::Op::Exec(_))))
        })
    })
}

#[tonic::async_trait]
impl LlbBridge for FakeDaemon {
    async fn resolve_image_config(
        &self,
        request: Request<gw::ResolveImageConfigRequest>,
    ) -> Result<Response<gw::ResolveImageConfigResponse>, Status> {
        self.meet("ResolveImageConfig").await?;
        if let Some((image, updated)) = self.policy
            && request.get_ref().r#ref == image
        {
            return Err(Status::unknown(format!(
                "ref mutated by policy to non-image: docker-image://{image} -> {updated}"
            )));
        }
        if let Ok(mut resolves) = self.resolves.lock() {
            resolves.push(request.into_inner());
        }
        match &self.image_config {
            Some(config) => Ok(Response::new(gw::ResolveImageConfigResponse {
                digest: format!("sha256:{}", "ab".repeat(32)),
                config: config.clone(),
                r#ref: String::new(),
            })),
            None => Err(Status::unknown("registry down")),
        }
    }

    async fn solve(
        &self,
        request: Request<gw::SolveRequest>,
    ) -> Result<Response<gw::SolveResponse>, Status> {
        let request = request.into_inner();
        if request.frontend_opt.get("source").map(String::as_str) == Some("nosuchfrontend") {
            return Err(Status::unknown("pull access denied for nosuchfrontend"));
        }
        if self.fail_main_solve && has_exec(request.definition.as_ref()) {
            return Err(Status::unknown(
                "process \"/bin/sh -c false\" did not complete",
            ));
        }
        let n = {
            let mut solves = self.solves.lock().map_err(|_| Status::internal("lock"))?;
            solves.push(request);
            solves.len()
        };
        Ok(Response::new(gw::SolveResponse {
            r#ref: String::new(),
            result: Some(gw::Result {
                result: Some(gw::result::Result::Ref(gw::Ref {
                    id: format!("ref-{n}"),
                    def: None,
                })),
                metadata: Default::default(),
                attestations: Default::default(),
            }),
        }))
    }

    async fn read_file(
        &self,
        request: Request<gw::ReadFileRequest>,
    ) -> Result<Response<gw::ReadFileResponse>, Status> {
        let request = request.into_inner();
        self.meet(&format!("ReadFile {}", request.file_path))
            .await?;
        if let Ok(mut reads) = self.reads.lock() {
            reads.push((
                request.r#ref.clone(),
                request.file_path.clone(),
                request.range.as_ref().map(|r| r.length),
            ));
        }
        if let (".dockerignore", Some(message)) =
            (request.file_path.as_str(), self.dockerignore_error)
        {
            return Err(Status::unknown(message));
        }
        let found = match request.file_path.as_str() {
            "Dockerfile" => Some(self.dockerfile.clone()),
            ".dockerignore" if self.dockerignore.is_some() => self.dockerignore.clone(),
            path => self.files.get(path).cloned(),
        };
        if let Some(mut data) = found {
            if let Some(range) = request.range {
                data.truncate(usize::try_from(range.length).unwrap_or(0));
            }
            Ok(Response::new(gw::ReadFileResponse { data }))
        } else {
            Err(Status::unknown(format!(
                "open {}: no such file or directory",
                request.file_path
            )))
        }
    }

    async fn read_dir(
        &self,
        _: Request<gw::ReadDirRequest>,
    ) -> Result<Response<gw::ReadDirResponse>, Status> {
        Err(Status::unimplemented("read_dir"))
    }

    async fn stat_file(
        &self,
        _: Request<gw::StatFileRequest>,
    ) -> Result<Response<gw::StatFileResponse>, Status> {
        Err(Status::unimplemented("stat_file"))
    }

    async fn ping(
        &self,
        _: Request<gw::PingRequest>,
    ) -> Result<Response<gw::PongResponse>, Status> {
        self.meet("Ping").await?;
        let cap = |id: &str| ApiCap {
            id: id.into(),
            enabled: true,
            ..ApiCap::default()
        };
        let mut api: Vec<ApiCap> = ["solve.base", "readfile"]
            .iter()
            .chain(&self.extra_caps)
            .map(|c| cap(c))
            .collect();
        if !self.inputs.is_empty() {
            api.push(cap("frontend.inputs"));
        }
        Ok(Response::new(gw::PongResponse {
            frontend_api_caps: api,
            llb_caps: ["file.base", "exec.meta.base"]
                .iter()
                .chain(&self.extra_llb_caps)
                .map(|c| cap(c))
                .collect(),
            workers: vec![WorkerRecord {
                id: "w0".into(),
                labels: Default::default(),
                platforms: vec![pb::Platform {
                    os: "linux".into(),
                    architecture: "amd64".into(),
                    ..pb::Platform::default()
                }],
            }],
        }))
    }

    async fn r#return(
        &self,
        _: Request<gw::ReturnRequest>,
    ) -> Result<Response<gw::ReturnResponse>, Status> {
        Ok(Response::new(gw::ReturnResponse {}))
    }

    async fn inputs(
        &self,
        _: Request<gw::InputsRequest>,
    ) -> Result<Response<gw::InputsResponse>, Status> {
        self.meet("Inputs").await?;
        Ok(Response::new(gw::InputsResponse {
            definitions: self.inputs.clone().into_iter().collect(),
        }))
    }

    async fn resolve_source_meta(
        &self,
        request: Request<gw::ResolveSourceMetaRequest>,
    ) -> Result<Response<gw::ResolveSourceMetaResponse>, Status> {
        let request = request.into_inner();
        let source = request.source.clone();
        let mut calls = (self.source_meta_requests.lock()).map_err(|_| Status::internal("lock"))?;
        calls.push(request);
        Ok(Response::new(gw::ResolveSourceMetaResponse {
            source,
            ..self.source_meta.clone()
        }))
    }

    async fn warn(
        &self,
        request: Request<gw::WarnRequest>,
    ) -> Result<Response<gw::WarnResponse>, Status> {
        let mut warns = self.warns.lock().map_err(|_| Status::internal("lock"))?;
        warns.push(request.into_inner());
        Ok(Response::new(gw::WarnResponse {}))
    }
}

/// A gRPC channel over one end of an in-memory pipe (as the frontend's is over stdio).
async fn channel_over(
    io: tokio::io::DuplexStream,
) -> Result<tonic::transport::Channel, tonic::transport::Error> {
    let pipe = Arc::new(Mutex::new(Some(io)));
    Endpoint::from_static("http://fake.invalid")
        .connect_with_connector(tower::service_fn(move |_: Uri| {
            let pipe = pipe.clone();
            async move {
                let io = pipe
                    .lock()
                    .ok()
                    .and_then(|mut p| p.take())
                    .ok_or_else(|| std::io::Error::other("the pipe has one connection"))?;
                Ok::<_, std::io::Error>(hyper_util::rt::TokioIo::new(io))
            }
        }))
        .await
}

/// A client connected to `daemon` over an in-memory pipe.
pub(super) async fn connect(daemon: FakeDaemon) -> Client {
    let (client_io, server_io) = tokio::io::duplex(1 << 20);
    tokio::spawn(async move {
        let incoming = tokio_stream::once(Ok::<_, std::io::Error>(server_io));
        let _ = Server::builder()
            .add_service(LlbBridgeServer::new(daemon))
            .serve_with_incoming(incoming)
            .await;
    });
    Client::new(channel_over(client_io).await.expect("connects"))
}

/// Runs a build against `fake` (as if reached through `# syntax`) that must fail.
pub(super) async fn failing_build(
    fake: FakeDaemon,
    extra: &[(&str, &str)],
) -> super::frontend::Failure {
    run_build(fake, extra).await.expect_err("fails")
}

/// Runs a build against `fake` as if reached through `# syntax`, with extra attributes.
pub(super) async fn run_build(
    fake: FakeDaemon,
    extra: &[(&str, &str)],
) -> Result<gw::Result, super::frontend::Failure> {
    let mut client = connect(fake).await;
    let pong = client.ping().await.expect("ping");
    let mut all = attrs(&[("cmdline", "x")]);
    all.extend(attrs(extra));
    build_with(&mut client, &pong, all, String::new()).await
}

const BUSYBOX: &str = r#"{"architecture":"amd64","os":"linux","config":{"Env":["PATH=/bin"],"Cmd":["sh"]},"rootfs":{"type":"layers","diff_ids":["sha256:00"]}}"#;

pub(super) fn daemon(dockerfile: &str) -> FakeDaemon {
    FakeDaemon {
        dockerfile: dockerfile.as_bytes().to_vec(),
        image_config: Some(BUSYBOX.as_bytes().to_vec()),
        ..FakeDaemon::default()
    }
}

pub(super) fn attrs(pairs: &[(&str, &str)]) -> std::collections::BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// The step names (`llb.customname`) of a build's main Solves: the last `platforms` of them,
/// one per platform, after the loads of the Dockerfile and the contexts.
pub(super) fn main_names(
    solves: &Mutex<Vec<gw::SolveRequest>>,
    platforms: usize,
) -> std::collections::BTreeSet<String> {
    let solves = solves.lock().expect("lock");
    assert!(solves.len() > platforms, "{} solves", solves.len());
    (solves[solves.len() - platforms..].iter())
        .map(|r| r.definition.as_ref().expect("main definition"))
        .flat_map(|d| d.metadata.values())
        .filter_map(|m| m.description.get("llb.customname").cloned())
        .collect()
}

#[tokio::test]
async fn builds_and_returns_the_target_with_its_config() {
    let fake = daemon(
        "FROM busybox AS build\nRUN make\nFROM scratch\nCOPY --from=build /out /\nCMD [\"/app\"]\n",
    );
    let solves = fake.solves.clone();
    let mut client = connect(fake).await;
    let pong = client.ping().await.expect("ping");
    let result = build_with(&mut client, &pong, attrs(&[("cmdline", "x")]), "s1".into())
        .await
        .unwrap_or_else(|f| panic!("build failed: {}", f.message));
    let Some(gw::result::Result::Ref(reference)) = result.result else {
        panic!("no ref")
    };
    // Dockerfile load, .dockerignore load, then the main build.
    assert_eq!(reference.id, "ref-3");
    let config: serde_json::Value =
        serde_json::from_slice(&result.metadata["containerimage.config"]).expect("json");
    assert_eq!(config["config"]["Cmd"], serde_json::json!(["/app"]));
    assert_eq!(config["architecture"], "amd64");
    // The target starts from scratch: no base image config.
    assert!(!result.metadata.contains_key("containerimage.base.config"));
    let solves = solves.lock().expect("lock");
    let local = |i: usize| -> Vec<String> {
        use prost::Message as _;
        let def = solves[i].definition.as_ref().expect("definition");
        def.def
            .iter()
            .filter_map(|b| pb::Op::decode(b.as_slice()).ok())
            .filter_map(|op| match op.op {
                Some(pb::op::Op::Source(s)) => Some(format!(
                    "{} {}",
                    s.identifier,
                    s.attrs.get("local.session").cloned().unwrap_or_default()
                )),
                _ => None,
            })
            .collect()
    };
    assert_eq!(local(0), ["local://dockerfile s1"]);
    assert_eq!(local(1), ["local://context s1"]);
    assert!(has_exec(solves[2].definition.as_ref()));
}

#[tokio::test]
async fn a_failed_image_resolution_is_the_build_error() {
    let fake = FakeDaemon {
        image_config: None,
        ..daemon("FROM busybox\nRUN true\n")
    };
    let failure = failing_build(fake, &[]).await;
    assert_eq!(
        failure.message,
        "docker.io/library/busybox:latest: registry down"
    );
}

#[tokio::test]
async fn a_failed_solve_is_the_build_error() {
    let fake = FakeDaemon {
        fail_main_solve: true,
        ..daemon("FROM busybox\nRUN false\n")
    };
    let failure = failing_build(fake, &[]).await;
    assert!(
        failure.message.contains("did not complete"),
        "{}",
        failure.message
    );
}

#[tokio::test]
async fn dockerfile_errors_name_the_line() {
    let failure = failing_build(daemon("FROM busybox\nRUNN x\n"), &[]).await;
    assert_eq!(
        failure.message,
        "dockerfile parse error on line 2: unknown instruction: RUNN (did you mean RUN?)"
    );
    assert_eq!(failure.ranges, [(2, 2)]);
}

#[tokio::test]
async fn unknown_requests_and_missing_caps_are_refused() {
    let cases = [
        (
            ("requestid", "frontend.nope"),
            "unsupported request frontend.nope",
        ),
        (
            ("frontend.caps", "moby.buildkit.frontend.x"),
            "unsupported frontend capability moby.buildkit.frontend.x",
        ),
        (
            ("context:busybox", "input:base"),
            "named contexts from frontend inputs need a BuildKit with frontend.inputs",
        ),
    ];
    for ((key, value), want) in cases {
        let failure = failing_build(daemon("FROM busybox\n"), &[(key, value)]).await;
        assert_eq!(failure.message, want, "{key}={value}");
    }
}

#[tokio::test]
async fn named_contexts_from_inputs_and_local_directories() {
    use base64::Engine as _;
    use prost::Message as _;
    let input = crate::llb::State::image(
        "docker.io/library/alpine:3.19",
        Default::default(),
        crate::llb::OpMeta::default(),
    );
    let mut fake = daemon("FROM base\nCOPY --from=src /a /a\n");
    fake.inputs
        .insert("base".into(), crate::llb::marshal(&input, None));
    let solves = fake.solves.clone();
    let mut client = connect(fake).await;
    let pong = client.ping().await.expect("ping");
    let config = r#"{"architecture":"amd64","os":"linux","config":{"Cmd":["from-input"]},"rootfs":{"type":"layers","diff_ids":[]}}"#;
    let b64 = base64::engine::general_purpose::STANDARD.encode(config);
    let metadata = format!(r#"{{"containerimage.config":"{b64}"}}"#);
    let all = attrs(&[
        ("cmdline", "x"),
        ("context:base", "input:base"),
        ("input-metadata:base", &metadata),
        ("context:src", "local:srcdir"),
        ("frontend.caps", "moby.buildkit.frontend.contexts"),
    ]);
    let result = build_with(&mut client, &pong, all, "s1".into())
        .await
        .unwrap_or_else(|f| panic!("build failed: {}", f.message));
    let config: serde_json::Value =
        serde_json::from_slice(&result.metadata["containerimage.config"]).expect("json");
    assert_eq!(config["config"]["Cmd"], serde_json::json!(["from-input"]));
    let solves = solves.lock().expect("lock");
    let sources = |req: &gw::SolveRequest| -> Vec<(String, String)> {
        let def = req.definition.as_ref().expect("definition");
        def.def
            .iter()
            .filter_map(|b| pb::Op::decode(b.as_slice()).ok())
            .filter_map(|op| match op.op {
                Some(pb::op::Op::Source(s)) => Some((
                    s.identifier,
                    s.attrs
                        .get("local.sharedkeyhint")
                        .cloned()
                        .unwrap_or_default(),
                )),
                _ => None,
            })
            .collect()
    };
    // The .dockerignore of the local context is read first, as the official frontend does.
    assert!(solves.iter().any(|r| sources(r)
        == [(
            "local://srcdir".to_string(),
            "context:src-.dockerignore".to_string()
        )]));
    let main = solves.last().expect("main solve");
    let got = sources(main);
    assert!(
        got.contains(&(
            "docker-image://docker.io/library/alpine:3.19".into(),
            String::new()
        )),
        "{got:?}"
    );
    assert!(
        got.contains(&("local://srcdir".into(), "context:src-".into())),
        "{got:?}"
    );
}

#[tokio::test]
async fn stages_read_by_base_image_triggers_are_planned_again() {
    let config = r#"{"architecture":"amd64","os":"linux","config":{"OnBuild":["COPY --from=assets /a /a"]},"rootfs":{"type":"layers","diff_ids":["sha256:00"]}}"#;
    let fake = FakeDaemon {
        image_config: Some(config.as_bytes().to_vec()),
        ..daemon("FROM scratch AS assets\nCOPY a /a\nFROM busybox\n")
    };
    let solves = fake.solves.clone();
    let mut client = connect(fake).await;
    let pong = client.ping().await.expect("ping");
    build_with(&mut client, &pong, attrs(&[("cmdline", "x")]), "s1".into())
        .await
        .unwrap_or_else(|f| panic!("build failed: {}", f.message));
    let names = main_names(&solves, 1);
    assert!(names.contains("[assets 1/1] COPY a /a"), "{names:?}");
    assert!(
        names.contains("[stage-1 2/2] ONBUILD COPY --from=assets /a /a"),
        "{names:?}"
    );
}

#[tokio::test]
async fn a_daemon_that_went_away_is_an_error_not_a_hang() {
    let (client_io, server_io) = tokio::io::duplex(1 << 16);
    drop(server_io);
    // Either the connection or the first call fails; neither may hang.
    let limit = std::time::Duration::from_secs(20);
    let channel = tokio::time::timeout(limit, channel_over(client_io))
        .await
        .expect("connecting must not hang");
    if let Ok(channel) = channel {
        let mut client = Client::new(channel);
        let answer = tokio::time::timeout(limit, client.ping()).await;
        assert!(matches!(answer, Ok(Err(_))), "ping must fail promptly");
    }
}
