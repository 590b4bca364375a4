//! stager: a BuildKit frontend for Dockerfiles.
//!
//! # Layout
//!
//! Data flows one way; see `ARCHITECTURE.md`.
//!
//! - `syntax`: Dockerfile text -> nodes with line ranges (BuildKit's parser semantics).
//! - `shell`: the word lexer and variable expansion used by instructions that expand.
//! - `instructions`: nodes -> typed instructions with validated flags.
//! - `plan`: stages, ARG scopes, stage references, reachability from the target.
//! - `convert`: plan + base image configs -> LLB + image config.
//! - `llb`: a small typed LLB builder and the deterministic `pb.Definition` marshaller.
//! - `image`: the image config JSON and platforms.
//! - `gateway`: the gRPC client BuildKit talks to over stdio, and the frontend entry point.

pub mod proto;
