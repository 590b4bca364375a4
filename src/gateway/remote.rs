//! The main context and Dockerfile from somewhere else than the client's directories, decided
//! before the Dockerfile is read, as dockerui's `initContext` does: a git URL or an HTTP(S) URL
//! in the `context` attribute, else the frontend inputs `context` and `dockerfile`.

use crate::convert::main_context::{self, HTTP_FILENAME};
use crate::llb;
use crate::options::MainContext;

use super::client::{Client, PendingDaemon};
use super::frontend::Failure;
use super::options::GatewayOptions;

/// How much of an HTTP download is read to tell a tarball from a Dockerfile.
const HEADER_LENGTH: i64 = 1024;

/// Sets `opts.build.main_context` (and, for a downloaded Dockerfile, the file name) and
/// returns the state to read the Dockerfile from, `None` for the `dockerfile` local.
pub(super) async fn init(
    client: &mut Client,
    daemon: &PendingDaemon,
    opts: &mut GatewayOptions,
) -> Result<Option<llb::State>, Failure> {
    let spec = opts.context_spec.clone().unwrap_or_default();
    let main = if main_context::is_git(&spec).map_err(Failure::plain)? {
        MainContext::Git(spec)
    } else if spec.starts_with("http://") || spec.starts_with("https://") {
        let download = llb::marshal(&main_context::http_source(&spec), None);
        let reference = client
            .solve_ref(download)
            .await
            .map_err(|e| wrap("failed to resolve httpcontext", e))?;
        let header = client
            .read_file_head(&reference, HTTP_FILENAME, HEADER_LENGTH)
            .await
            .map_err(|e| wrap("failed to read downloaded context", e))?;
        let archive = main_context::is_archive(&header);
        if !archive {
            // The download is the Dockerfile.
            opts.build.filename = HTTP_FILENAME.to_string();
        }
        MainContext::Http { url: spec, archive }
    } else if client.has_inputs() {
        // The daemon answered `Inputs`: it has `frontend.inputs`, no need to wait for Ping.
        return from_inputs(client, opts).await;
    } else if (super::frontend::answered(daemon).await?.api_caps).has("frontend.inputs") {
        return from_inputs(client, opts).await;
    } else {
        return Ok(None);
    };
    let caps: std::collections::BTreeSet<String> = (super::frontend::answered(daemon).await?)
        .llb_caps
        .ids()
        .map(str::to_string)
        .collect();
    let state = main_context::remote_context(&main, &opts.build, &caps).map_err(Failure::plain)?;
    opts.build.main_context = Some(main);
    Ok((!opts.force_local_dockerfile).then_some(state))
}

/// The frontend inputs `context` and (unless `dockerfilekey` was given) the one named like
/// the Dockerfile's local; either may be absent.
async fn from_inputs(
    client: &mut Client,
    opts: &mut GatewayOptions,
) -> Result<Option<llb::State>, Failure> {
    use prost::Message as _;
    let inputs = client
        .inputs()
        .await
        .map_err(|e| wrap("failed to get frontend inputs", e))?;
    let dockerfile = match inputs.get(&opts.dockerfile_local) {
        Some(def) if !opts.force_local_dockerfile => Some(
            llb::State::from_definition(def)
                .map_err(|e| Failure::plain(format!("invalid dockerfile input: {e}")))?,
        ),
        _ => None,
    };
    if let Some(def) = inputs.get("context") {
        opts.build.main_context = Some(MainContext::Input(def.encode_to_vec()));
    }
    Ok(dockerfile)
}

fn wrap(what: &str, e: super::Error) -> Failure {
    let Failure { message, .. } = Failure::from(e);
    Failure::plain(format!("{what}: {message}"))
}
