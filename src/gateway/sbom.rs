//! SBOM attestations made by the frontend, as 1.26 makes them (`attest:sbom`): the scanner
//! image runs once per platform over the result and, with `BUILDKIT_SBOM_SCAN_CONTEXT` /
//! `BUILDKIT_SBOM_SCAN_STAGE`, over the build context and the stages asked for. The daemon then
//! skips its own scan, which sees the result alone.

use std::collections::BTreeMap;

use crate::image::Platform;
use crate::llb;
use crate::proto::moby::buildkit::v1::frontend as gw;

use super::client::Client;
use super::frontend::Failure;

/// What `attest:sbom` (or `build-arg:BUILDKIT_ATTEST_SBOM`) asks for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Sbom {
    /// The scanner image, normalised with its tag.
    pub generator: String,
    /// The other fields, passed to the scanner as `BUILDKIT_SCAN_<KEY>`.
    pub params: BTreeMap<String, String>,
}

/// BuildKit's default scanner.
const DEFAULT_GENERATOR: &str = "docker/buildkit-syft-scanner:stable-1";
const SOURCE_DIR: &str = "/run/src/";
const OUT_DIR: &str = "/run/out/";
const CORE_NAME: &str = "sbom";
const SPDX: &str = "https://spdx.dev/Document";

/// The SBOM request in the frontend attributes, if any (dockerui's attestation parsing).
pub fn parse(attrs: &BTreeMap<String, String>) -> Result<Option<Sbom>, String> {
    let value = attrs.iter().find_map(|(k, v)| {
        let kind = k
            .strip_prefix("attest:")
            .or_else(|| k.strip_prefix("build-arg:BUILDKIT_ATTEST_"))?;
        kind.eq_ignore_ascii_case("sbom").then_some(v)
    });
    let Some(value) = value else {
        return Ok(None);
    };
    let mut fields = BTreeMap::from([("generator".to_string(), DEFAULT_GENERATOR.to_string())]);
    if !value.is_empty() {
        let parsed = crate::instructions::mount::csv_fields(value)
            .map_err(|e| format!("failed to parse sbom: {e}"))?;
        for field in parsed {
            let (k, v) = field.split_once('=').unwrap_or((&field, ""));
            fields.insert(k.to_string(), v.to_string());
        }
    }
    let generator = fields.remove("generator").unwrap_or_default();
    if generator.is_empty() {
        return Err("sbom scanner cannot be empty".into());
    }
    let reference = crate::image::Reference::parse(&generator)
        .map_err(|e| format!("failed to parse sbom scanner {generator}: {e}"))?;
    Ok(Some(Sbom {
        generator: reference.to_string(),
        params: fields,
    }))
}

/// The scanner image and the command it runs.
pub(super) struct Scanner {
    reference: String,
    platform: Platform,
    args: Vec<String>,
    env: Vec<String>,
    cwd: String,
    params: BTreeMap<String, String>,
}

impl Scanner {
    /// Resolves the scanner image for the build platform.
    pub(super) async fn resolve(
        client: &mut Client,
        sbom: &Sbom,
        platform: &Platform,
        resolve_mode: &str,
    ) -> Result<Scanner, Failure> {
        let request = gw::ResolveImageConfigRequest {
            r#ref: sbom.generator.clone(),
            platform: Some(crate::proto::pb::Platform {
                architecture: platform.architecture.clone(),
                os: platform.os.clone(),
                variant: platform.variant.clone().unwrap_or_default(),
                os_version: platform.os_version.clone().unwrap_or_default(),
                ..Default::default()
            }),
            resolve_mode: resolve_mode.to_string(),
            ..Default::default()
        };
        let resolved = client.resolve_image_config(request).await?;
        let image = crate::image::Image::from_json(&resolved.config).map_err(|e| {
            Failure::plain(format!("invalid image config of {}: {e}", sbom.generator))
        })?;
        let config = image.config;
        let args: Vec<String> = (config.entrypoint.iter().flatten())
            .chain(config.cmd.iter().flatten())
            .cloned()
            .collect();
        if args.is_empty() {
            return Err(Failure::plain(format!(
                "scanner {} does not have cmd",
                sbom.generator
            )));
        }
        Ok(Scanner {
            reference: sbom.generator.clone(),
            platform: platform.clone(),
            args,
            env: config.env.unwrap_or_default(),
            cwd: config.working_dir,
            params: sbom.params.clone(),
        })
    }

    /// The scan of `core` (one platform's result, `id` its platform ID) and of `extras`
    /// (`context` and stage names): the state of the attestation bundle.
    pub(super) fn scan(
        &self,
        id: &str,
        core: &llb::State,
        extras: &[(String, llb::State)],
    ) -> llb::State {
        let mut env: Vec<String> = Vec::new();
        let mut set = |key: &str, value: &str| {
            let entry = format!("{key}={value}");
            match env
                .iter_mut()
                .find(|e| e.split_once('=').map_or(e.as_str(), |(k, _)| k) == key)
            {
                Some(slot) => *slot = entry,
                None => env.push(entry),
            }
        };
        for e in &self.env {
            let (k, v) = e.split_once('=').unwrap_or((e, ""));
            set(k, v);
        }
        set("BUILDKIT_SCAN_DESTINATION", OUT_DIR);
        set(
            "BUILDKIT_SCAN_SOURCE",
            &format!("{SOURCE_DIR}core/{CORE_NAME}"),
        );
        if !extras.is_empty() {
            set(
                "BUILDKIT_SCAN_SOURCE_EXTRAS",
                &format!("{SOURCE_DIR}extras"),
            );
        }
        for (k, v) in &self.params {
            set(&format!("BUILDKIT_SCAN_{k}"), v);
        }
        let readonly = |dest: String, state: &llb::State| llb::Mount {
            readonly: true,
            ..llb::Mount::new(&dest, llb::MountKind::Bind(state.clone()))
        };
        let mut mounts = vec![
            llb::Mount::new("/tmp", llb::MountKind::Tmpfs { size: 0 }),
            readonly(format!("{SOURCE_DIR}core/{CORE_NAME}"), core),
        ];
        for (name, state) in extras {
            mounts.push(readonly(
                format!("{SOURCE_DIR}extras/{CORE_NAME}-{name}"),
                state,
            ));
        }
        mounts.push(llb::Mount::new(
            "/run/out",
            llb::MountKind::Bind(llb::State::scratch()),
        ));
        let platform = std::sync::Arc::new(llb::Platform {
            os: self.platform.os.clone(),
            architecture: self.platform.architecture.clone(),
            variant: self.platform.variant.clone(),
            os_version: self.platform.os_version.clone(),
        });
        let image = llb::State::image(
            &self.reference,
            BTreeMap::new(),
            llb::OpMeta {
                platform: Some(platform.clone()),
                ..llb::OpMeta::default()
            },
        );
        let exec = llb::Exec {
            args: self.args.clone(),
            env: env.into(),
            cwd: if self.cwd.is_empty() {
                "/".into()
            } else {
                self.cwd.clone()
            },
            mounts,
            ..llb::Exec::default()
        };
        let meta = llb::OpMeta {
            name: Some(format!("[{id}] generating sbom using {}", self.reference)),
            platform: Some(platform),
            ..llb::OpMeta::default()
        };
        let out = image.run(exec, meta);
        out.mount("/run/out").unwrap_or_else(llb::State::scratch)
    }
}

/// One platform's result to scan: its platform ID, the result, and the extras.
pub(super) struct Target {
    pub(super) id: String,
    pub(super) core: crate::proto::pb::Definition,
    pub(super) extras: Vec<(String, llb::State)>,
}

/// Scans each target and returns the attestations by platform ID.
pub(super) async fn attest(
    client: &mut Client,
    sbom: &Sbom,
    build: &crate::options::BuildOptions,
    targets: Vec<Target>,
) -> Result<BTreeMap<String, gw::Attestations>, Failure> {
    let mode = build.image_resolve_mode.as_str();
    let scanner = Scanner::resolve(client, sbom, &build.build_platform, mode).await?;
    let mut out = BTreeMap::new();
    for target in targets {
        let core = llb::State::from_definition(&target.core)
            .map_err(|e| Failure::plain(format!("invalid result definition: {e}")))?;
        let bundle = scanner.scan(&target.id, &core, &target.extras);
        let definition = llb::marshal(&bundle, None);
        let id = client.solve_ref(definition.clone()).await?;
        let reference = gw::Ref {
            id,
            def: Some(definition),
        };
        out.insert(
            target.id,
            gw::Attestations {
                attestation: vec![attestation(reference)],
            },
        );
    }
    Ok(out)
}

/// The attestation of a solved scan bundle.
fn attestation(reference: gw::Ref) -> gw::Attestation {
    gw::Attestation {
        kind: gw::AttestationKind::Bundle as i32,
        metadata: BTreeMap::from([
            ("reason".to_string(), b"sbom".to_vec()),
            ("sbom-core".to_string(), CORE_NAME.as_bytes().to_vec()),
        ]),
        r#ref: Some(reference),
        path: String::new(),
        in_toto_predicate_type: SPDX.into(),
        in_toto_subjects: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attrs(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        (pairs.iter())
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn generator_and_params() {
        assert_eq!(parse(&attrs(&[])), Ok(None));
        let got = parse(&attrs(&[("attest:sbom", "")])).unwrap().unwrap();
        assert_eq!(
            got.generator,
            "docker.io/docker/buildkit-syft-scanner:stable-1"
        );
        let got = parse(&attrs(&[("attest:sbom", "generator=scanner,mode=max")]))
            .unwrap()
            .unwrap();
        assert_eq!(got.generator, "docker.io/library/scanner:latest");
        assert_eq!(got.params, attrs(&[("mode", "max")]));
        let got = parse(&attrs(&[(
            "build-arg:BUILDKIT_ATTEST_SBOM",
            "generator=s:1",
        )]));
        assert_eq!(got.unwrap().unwrap().generator, "docker.io/library/s:1");
        assert!(parse(&attrs(&[("attest:sbom", "generator=")])).is_err());
    }
}

#[cfg(test)]
mod build_tests {
    use prost::Message as _;

    use crate::proto::pb;

    use super::super::tests::{daemon, run_build};

    const DOCKERFILE: &str = "ARG BUILDKIT_SBOM_SCAN_CONTEXT=true
FROM scratch AS file
ARG BUILDKIT_SBOM_SCAN_STAGE=true
COPY a /file
FROM scratch AS base
ARG BUILDKIT_SBOM_SCAN_STAGE=true
COPY --from=file /file /foo
FROM scratch AS base2
ARG BUILDKIT_SBOM_SCAN_STAGE=true
RUN false
FROM base
ARG BUILDKIT_SBOM_SCAN_STAGE=true
";

    /// Builds with a scanner and returns the scan's mount destinations and environment, and
    /// the attestations' platform IDs.
    async fn scan(extra: &[(&str, &str)]) -> (Vec<String>, Vec<String>, Vec<String>) {
        let fake = daemon(DOCKERFILE);
        let solves = fake.solves.clone();
        let mut attrs = vec![("attest:sbom", "generator=scanner,extra=1")];
        attrs.extend_from_slice(extra);
        let result = run_build(fake, &attrs)
            .await
            .unwrap_or_else(|f| panic!("build failed: {}", f.message));
        let ids: Vec<String> = result.attestations.keys().cloned().collect();
        let solves = solves.lock().expect("lock");
        let last = solves
            .last()
            .expect("the scan")
            .definition
            .clone()
            .unwrap_or_default();
        let exec = (last.def.iter())
            .filter_map(|b| pb::Op::decode(b.as_slice()).ok())
            .find_map(|op| match op.op {
                Some(pb::op::Op::Exec(e)) => Some(e),
                _ => None,
            })
            .expect("an exec");
        let dests = exec.mounts.iter().map(|m| m.dest.clone()).collect();
        (dests, exec.meta.unwrap_or_default().env, ids)
    }

    #[tokio::test]
    async fn the_scan_covers_the_context_and_the_stages_asked_for() {
        let (dests, env, ids) = scan(&[]).await;
        assert_eq!(ids, ["linux/amd64"]);
        assert_eq!(
            dests,
            [
                "/",
                "/run/out",
                "/run/src/core/sbom",
                "/run/src/extras/sbom-base",
                "/run/src/extras/sbom-context",
                "/run/src/extras/sbom-file",
                "/tmp"
            ]
        );
        assert!(env.contains(&"BUILDKIT_SCAN_SOURCE_EXTRAS=/run/src/extras".to_string()));
        assert!(env.contains(&"BUILDKIT_SCAN_extra=1".to_string()));
        // The build args win over the Dockerfile's defaults.
        let off = [
            ("build-arg:BUILDKIT_SBOM_SCAN_STAGE", "false"),
            ("build-arg:BUILDKIT_SBOM_SCAN_CONTEXT", "false"),
        ];
        let (dests, env, _) = scan(&off).await;
        assert_eq!(dests, ["/", "/run/out", "/run/src/core/sbom", "/tmp"]);
        assert!(
            !env.iter()
                .any(|e| e.starts_with("BUILDKIT_SCAN_SOURCE_EXTRAS="))
        );
        // A list of stage names.
        let (dests, _, _) = scan(&[("build-arg:BUILDKIT_SBOM_SCAN_STAGE", "file")]).await;
        assert!(dests.contains(&"/run/src/extras/sbom-file".to_string()));
        assert!(!dests.contains(&"/run/src/extras/sbom-base".to_string()));
    }
}
