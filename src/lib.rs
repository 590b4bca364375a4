//! stager: a BuildKit frontend for Dockerfiles.
//!
//! # Layout
//!
//! Data flows one way (see `ARCHITECTURE.md`); [`pipeline`] is the whole flow on one page.
//!
//! - [`syntax`]: Dockerfile text -> nodes with line ranges (BuildKit's parser semantics).
//! - [`shell`]: the word lexer and variable expansion used by instructions that expand.
//! - [`instructions`]: nodes -> typed instructions with validated flags.
//! - [`plan`]: stages, global ARGs, stage references, reachability from the target.
//! - [`convert`]: plan + base image configs -> LLB + image config.
//! - [`llb`]: a small typed LLB builder and the deterministic `pb.Definition` marshaller.
//! - [`image`]: the image config JSON, image references and platforms.
//! - [`options`]: what a build was asked for, whatever the caller.
//! - [`impact`]: which steps a change will rebuild, from the old and new LLB.
//! - [`outline`]: introspection: targets, outline and describe subrequests, the stage graph.
//! - [`gateway`]: the gRPC client BuildKit talks to over stdio, and the frontend entry point.

pub mod check;
pub mod convert;
pub mod gateway;
pub mod image;
pub mod impact;
pub mod instructions;
pub mod lint;
pub mod llb;
pub mod options;
pub mod outline;
pub mod pipeline;
pub mod plan;
pub mod proto;
pub mod shell;
pub mod suggest;
pub mod syntax;
