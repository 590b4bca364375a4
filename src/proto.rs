//! Types generated from `proto/` at build time (see `build.rs`).
//!
//! The module tree mirrors the protobuf packages because the generated code refers across
//! packages with `super::` paths. Only `llb` (the `pb` package) and `gateway` (everything
//! else) use these types; the rest of the crate never sees protobuf.

#![allow(missing_docs, clippy::all, clippy::pedantic)]

/// LLB (`solver/pb`).
pub mod pb {
    tonic::include_proto!("pb");

    impl Source {
        /// The source locations by op digest: BuildKit's map, which proto/ declares as its
        /// entries (see ops.proto); a missing value reads as no locations.
        pub fn locations_by_digest(&self) -> std::collections::BTreeMap<&str, &[Location]> {
            (self.locations.iter())
                .map(|e| {
                    let locs = e.value.as_ref().map_or(&[][..], |v| &v.locations[..]);
                    (e.key.as_str(), locs)
                })
                .collect()
        }
    }
}

/// BuildKit's own API packages.
pub mod moby {
    pub mod buildkit {
        pub mod v1 {
            pub mod frontend {
                tonic::include_proto!("moby.buildkit.v1.frontend");
            }
            pub mod apicaps {
                tonic::include_proto!("moby.buildkit.v1.apicaps");
            }
            pub mod types {
                tonic::include_proto!("moby.buildkit.v1.types");
            }
        }
    }
}

/// fsutil's file metadata.
pub mod fsutil {
    pub mod types {
        tonic::include_proto!("fsutil.types");
    }
}

/// gRPC's rich error status.
pub mod google {
    pub mod rpc {
        tonic::include_proto!("google.rpc");
    }
}
