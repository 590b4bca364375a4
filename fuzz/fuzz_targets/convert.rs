//! The whole pipeline: `pipeline::parse` -> `plan` -> `convert`, default options, no base images.
#![no_main]

use std::collections::BTreeMap;

use libfuzzer_sys::fuzz_target;
use stager::image::Platform;
use stager::options::BuildOptions;
use stager::pipeline::{self, ConvertContext, Converted};

fn run(data: &[u8]) -> Result<Converted, pipeline::Error> {
    let parsed = pipeline::parse(data)?;
    let opts = BuildOptions::new(Platform::new("linux", "amd64", None));
    let plan = pipeline::plan(&parsed, &opts)?;
    let _ = plan.base_images();
    let ctx = ConvertContext {
        options: &opts,
        llb_caps: Default::default(),
        source_info: None,
    };
    pipeline::convert(&plan, parsed.dockerfile.escape, &BTreeMap::new(), &ctx)
}

fuzz_target!(|data: &[u8]| {
    match run(data) {
        Ok(converted) => {
            let _ = stager::llb::dump(&converted.definition);
        }
        Err(e) => {
            // Rendering the error must not panic either.
            let _ = e.ranges();
            let _ = e.located_message("Dockerfile");
        }
    }
});
