//! Compiles the BuildKit protocol in `proto/` with protox (no `protoc` needed).

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let files = ["proto/ops.proto", "proto/gateway.proto"];
    let fds = protox::compile(files, ["proto"])?;
    tonic_prost_build::configure()
        // Deterministic encoding: maps iterate in key order.
        .btree_map(".")
        .build_server(true)
        .build_client(true)
        .compile_fds(fds)?;
    println!("cargo:rerun-if-changed=proto");
    Ok(())
}
