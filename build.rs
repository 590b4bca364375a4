//! Compiles the BuildKit protocol in `proto/` with protox (no `protoc` needed).

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let files = ["proto/ops.proto", "proto/gateway.proto"];
    let fds = protox::compile(files, ["proto"])?;
    // The descriptors, for the protojson of `--call=convertllb` (llb::protojson).
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR")?);
    std::fs::write(
        out.join("buildkit.fds"),
        prost::Message::encode_to_vec(&fds),
    )?;
    tonic_prost_build::configure()
        // Deterministic encoding: maps iterate in key order.
        .btree_map(".")
        .build_server(true)
        .build_client(true)
        .compile_fds(fds)?;
    println!("cargo:rerun-if-changed=proto");
    Ok(())
}
