//! Reading the build's files from the client: the Dockerfile with its own `.dockerignore`,
//! the main context's `.dockerignore` and the named contexts' files, each a small Solve of a
//! local source and a ReadFile, as dockerui reads them.

use std::collections::BTreeMap;

use crate::llb;
use crate::pipeline;
use crate::proto::pb;

use super::client::{Client, PendingDaemon};
use super::frontend::Failure;
use super::options::GatewayOptions;
use super::stats;

/// The Dockerfile, its own `.dockerignore` if any, and the definition that loaded them.
pub(super) struct Loaded {
    pub(super) bytes: Vec<u8>,
    pub(super) dockerignore: Option<Vec<u8>>,
    pub(super) definition: pb::Definition,
}

/// Reads the Dockerfile from `source`, or from the `dockerfile` local when `None`.
pub(super) async fn load_dockerfile(
    client: &mut Client,
    opts: &GatewayOptions,
    source: Option<&llb::State>,
) -> Result<Loaded, Failure> {
    let filename = opts.build.filename.clone();
    let basename = filename.rsplit('/').next().unwrap_or(&filename).to_string();
    let mut follow = vec![filename.clone(), format!("{filename}.dockerignore")];
    let lowercase_fallback = (basename == "Dockerfile").then(|| {
        let dir = &filename[..filename.len() - basename.len()];
        format!("{dir}dockerfile")
    });
    follow.extend(lowercase_fallback.clone());
    let local = &opts.dockerfile_local;
    let attrs = BTreeMap::from([
        ("local.differ".to_string(), "none".to_string()),
        (
            "local.followpaths".to_string(),
            serde_json::to_string(&follow).unwrap_or_default(),
        ),
        (
            "local.session".to_string(),
            opts.build.session_for(local).to_string(),
        ),
        ("local.sharedkeyhint".to_string(), local.clone()),
    ]);
    let meta = llb::OpMeta {
        name: Some(format!("[internal] load build definition from {filename}")),
        ..llb::OpMeta::default()
    };
    let definition = match source {
        Some(state) => llb::marshal(state, None),
        None => llb::marshal(&llb::State::local(local, attrs, meta), None),
    };
    let reference = client.solve_ref(definition.clone()).await?;
    // Both files come from the one solved ref: read them at once.
    let ignore_name = format!("{filename}.dockerignore");
    let mut ignore_client = client.clone();
    let (bytes, dockerignore) = futures::future::join(
        client.read_file(&reference, &filename),
        ignore_client.read_file(&reference, &ignore_name),
    )
    .await;
    let mut bytes = bytes?;
    if bytes.is_none()
        && let Some(lower) = &lowercase_fallback
    {
        bytes = client.read_file(&reference, lower).await?;
    }
    let bytes = bytes.ok_or_else(|| {
        Failure::plain(format!(
            "failed to read dockerfile: open {filename}: no such file or directory"
        ))
    })?;
    let dockerignore = dockerignore?;
    Ok(Loaded {
        bytes,
        dockerignore,
        definition,
    })
}

/// The build options with what conversion reads besides the Dockerfile: the named contexts'
/// inputs and `.dockerignore`s, and the main context's `.dockerignore` patterns.
pub(super) async fn load_context_files(
    mut client: Client,
    daemon: &PendingDaemon,
    opts: &GatewayOptions,
    loaded: &Loaded,
) -> Result<crate::options::BuildOptions, Failure> {
    let mut build_opts = opts.build.clone();
    super::contexts::load(&mut client, daemon, opts, &mut build_opts).await?;
    // A remote context has no client directory to filter: no patterns apply.
    let span = stats::span("load-dockerignore");
    let ignore = match &loaded.dockerignore {
        _ if opts.build.main_context.is_some() => None,
        Some(bytes) => Some(bytes.clone()),
        None => load_context_dockerignore(&mut client, opts).await?,
    };
    span.end();
    if let Some(bytes) = ignore {
        build_opts.excludes = pipeline::dockerignore_patterns(&bytes);
        pipeline::validate_dockerignore(&build_opts.excludes).map_err(Failure::plain)?;
    }
    Ok(build_opts)
}

/// The Dockerfile as build-check warnings and source locations name it.
pub(super) fn source_info(
    build_opts: &crate::options::BuildOptions,
    loaded: &Loaded,
) -> pb::SourceInfo {
    pb::SourceInfo {
        filename: build_opts.filename.clone(),
        data: loaded.bytes.clone(),
        definition: Some(loaded.definition.clone()),
        language: "Dockerfile".into(),
    }
}

pub(super) async fn load_context_dockerignore(
    client: &mut Client,
    opts: &GatewayOptions,
) -> Result<Option<Vec<u8>>, Failure> {
    let local = &opts.build.context_name;
    let attrs = BTreeMap::from([
        ("local.differ".to_string(), "none".to_string()),
        (
            "local.followpaths".to_string(),
            r#"[".dockerignore"]"#.to_string(),
        ),
        (
            "local.session".to_string(),
            opts.build.session_for(local).to_string(),
        ),
        (
            "local.sharedkeyhint".to_string(),
            format!("{local}-.dockerignore"),
        ),
    ]);
    let meta = llb::OpMeta {
        name: Some("[internal] load .dockerignore".into()),
        ..llb::OpMeta::default()
    };
    let definition = llb::marshal(&llb::State::local(local, attrs, meta), None);
    let reference = client.solve_ref(definition).await?;
    // Any read error counts as no `.dockerignore`, as in dockerui: a client that sends no
    // directories ("no local sources enabled") can still build what never uses the context.
    Ok(client
        .read_file(&reference, ".dockerignore")
        .await
        .unwrap_or(None))
}
