//! The build checks: `check::run` with stager's advice, a `.dockerignore` and no base images,
//! then both result shapes (the lint JSON and text with Dockerfile excerpts).
#![no_main]

use std::collections::BTreeMap;

use libfuzzer_sys::fuzz_target;
use stager::image::Platform;
use stager::options::BuildOptions;

fuzz_target!(|data: &[u8]| {
    let mut opts = BuildOptions::new(Platform::new("linux", "amd64", None));
    opts.excludes = vec!["secret*".into(), "**/node_modules".into(), "build".into()];
    let report = stager::check::run(data, &opts, &BTreeMap::new(), true);
    let _ = stager::check::to_json(&report, "Dockerfile", data);
    let _ = stager::check::text(&report, "Dockerfile", data);
    let _ = report.fails();
});
