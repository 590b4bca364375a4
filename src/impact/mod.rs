//! `stager impact`: before building, which steps a change will rebuild and why.
//!
//! BuildKit keys its cache on the LLB the frontend emits, so the prediction compares the LLB of
//! the last build with the LLB of the next one, op by op, the way BuildKit's solver looks up
//! its cache (moby/buildkit v0.32.2): [`cache_map`] is an op's key with the fields BuildKit
//! leaves out left out, and per input the selectors and whether a content checksum may stand
//! in for it; [`selection`] and [`changes`] say whether a changed context file is among the
//! files a copy or mount checksums (`.dockerignore`, follow paths, wildcards, `--exclude`);
//! [`solve`] replays the lookup (definition-based keys, content-based keys, `depends` where the
//! content is built first); [`reason`] and [`report`] put it in words and JSON.
//!
//! What it assumes: base images, git and http sources resolve as they did; the cache holds the
//! last build's records (an older build's records can only turn a predicted rebuild into a
//! hit; a pruned cache can only do the reverse); local contexts other than the build context
//! did not change in ways it is told about (their steps are `depends`).
//!
//! Pure: the caller converts both builds and lists the context only when asked.

mod cache_map;
mod changes;
mod graph;
mod reason;
mod report;
mod selection;
mod solve;
#[cfg(test)]
mod tests;

use std::collections::BTreeSet;

pub use cache_map::Rules;
pub use changes::{ChangeSet, ListFiles};
pub use report::{Advice, Report, Stage, Step};
pub use solve::Verdict;

use crate::proto::pb;

/// A definition the prediction cannot read.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The definition is malformed.
    #[error("invalid LLB definition: {0}")]
    Definition(String),
}

/// What the prediction compares.
pub struct Request<'a> {
    /// The LLB of the last build.
    pub old: &'a pb::Definition,
    /// The LLB of the next build.
    pub new: &'a pb::Definition,
    /// Context files changed since the last build.
    pub changes: &'a ChangeSet,
    /// Lists the context's files, called at most once and only when the files a context
    /// sends changed between the builds (a `.dockerignore` edit).
    pub list_context: ListFiles<'a>,
    /// Names of build args, given or declared, to name them in reasons.
    pub build_args: BTreeSet<String>,
    /// Whose cache rules to follow.
    pub rules: Rules,
}

/// Predicts every step of the new build.
pub fn predict(req: &Request<'_>) -> Result<Report, Error> {
    let new = graph::Graph::new(req.new, req.rules)?;
    let old = graph::Graph::new(req.old, req.rules)?;
    let ctx = changes::Context::new(req.changes, req.list_context);
    let outcomes = solve::solve(&new, &old, &ctx)?;
    let explainer = reason::Explainer {
        new: &new,
        old: &old,
        outcomes: &outcomes,
        build_args: &req.build_args,
    };
    Ok(Report::new(&explainer))
}
