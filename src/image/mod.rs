//! The image config a build returns, and platforms.
//!
//! In: base image config JSON (as `ResolveImageConfig` returns it) and platform strings.
//! Out: [`Image`], serialised as the Docker/OCI image config BuildKit's exporter expects in the
//! `containerimage.config` metadata key, and normalised [`Platform`]s.
//! Not here: how instructions change the config (that is `convert`).
//!
//! ```
//! let p = stager::image::Platform::parse("linux/arm64/v8").unwrap();
//! assert_eq!(p.to_string(), "linux/arm64");
//! ```

mod config;
mod platform;
mod reference;

pub use config::{DEFAULT_PATH, Empty, HealthConfig, History, Image, ImageConfig, RootFs};

pub use platform::{Platform, PlatformError};
pub use reference::{Reference, ReferenceError};
