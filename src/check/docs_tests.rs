//! The official checks' own examples, as tables: every case of BuildKit's lint integration
//! test (`frontend/dockerfile/dockerfile_lint_test.go`) that can be judged offline, and the
//! ❌/✅ examples of the rule documentation (`frontend/dockerfile/linter/docs/*.md`).
//!
//! Every base image gets a config (PATH, plus what a case adds), as the official test pulls
//! real images: offline, stager does not check variables in a stage whose base is unknown.

use std::collections::BTreeMap;

use super::*;
use crate::image::{Image, Platform};
use crate::lint::Origin;

mod lint_test;
mod names;
mod rule_docs;

/// One Dockerfile and what the official frontend reports for it.
struct Case {
    /// Where it comes from.
    name: &'static str,
    dockerfile: &'static str,
    /// `--build-arg`s.
    args: &'static [(&'static str, &'static str)],
    /// `.dockerignore` lines.
    ignore: &'static [&'static str],
    /// Extra `Env` of base images whose reference contains the key.
    env: &'static [(&'static str, &'static str)],
    /// `(rule, line, detail)` of every official finding.
    warnings: &'static [(&'static str, u32, &'static str)],
    /// The lint result's error message, if any.
    error: Option<&'static str>,
    /// Compare only this rule's findings (a documentation example shows one rule).
    only: Option<&'static str>,
    /// Check only this stage and what it needs, as a build does (default: every stage).
    target: Option<&'static str>,
}

const fn case(name: &'static str, dockerfile: &'static str) -> Case {
    Case {
        name,
        dockerfile,
        args: &[],
        ignore: &[],
        env: &[],
        warnings: &[],
        error: None,
        only: None,
        target: None,
    }
}

/// A documentation example of `rule`: only that rule's findings count.
const fn doc(rule: &'static str, name: &'static str, dockerfile: &'static str) -> Case {
    Case {
        only: Some(rule),
        ..case(name, dockerfile)
    }
}

impl Case {
    const fn warns(self, warnings: &'static [(&'static str, u32, &'static str)]) -> Case {
        Case { warnings, ..self }
    }
    const fn args(self, args: &'static [(&'static str, &'static str)]) -> Case {
        Case { args, ..self }
    }
    const fn ignore(self, ignore: &'static [&'static str]) -> Case {
        Case { ignore, ..self }
    }
    const fn env(self, env: &'static [(&'static str, &'static str)]) -> Case {
        Case { env, ..self }
    }
    const fn target(self, target: &'static str) -> Case {
        Case {
            target: Some(target),
            ..self
        }
    }
    const fn fails(self, error: &'static str) -> Case {
        Case {
            error: Some(error),
            ..self
        }
    }

    fn options(&self) -> BuildOptions {
        let mut opts = BuildOptions::new(Platform::new("linux", "amd64", None));
        for (k, v) in self.args {
            opts.build_args.insert(k.to_string(), v.to_string());
        }
        opts.excludes = self.ignore.iter().map(|s| s.to_string()).collect();
        opts.target = self.target.map(String::from);
        opts
    }

    /// A config for every base image of every stage, on the platform it is asked for.
    fn bases(&self, opts: &BuildOptions) -> BTreeMap<String, BaseImage> {
        let mut bases = BTreeMap::new();
        let Ok(parsed) = pipeline::parse(self.dockerfile.as_bytes()) else {
            return bases;
        };
        let Ok(mut plan) = pipeline::plan(&parsed, opts) else {
            return bases;
        };
        plan.reachable = vec![true; plan.stages.len()];
        for req in plan.base_images() {
            let mut env = vec![
                "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".to_string(),
            ];
            for (image, var) in self.env {
                if req.reference.contains(image) {
                    env.push(var.to_string());
                }
            }
            let p = &req.platform;
            let mut config = serde_json::json!({
                "architecture": p.architecture,
                "os": p.os,
                "config": {"Env": env},
                "rootfs": {"type": "layers", "diff_ids": ["sha256:00"]},
            });
            if let Some(v) = &p.variant {
                config["variant"] = v.clone().into();
            }
            let config = Image::from_json(config.to_string().as_bytes()).expect("test config");
            bases.insert(
                req.key(),
                BaseImage {
                    digest: String::new(),
                    config,
                },
            );
        }
        bases
    }

    /// What stager reports: official findings sorted as the official test sorts them (line,
    /// then detail), and the error (a failure, or the `error=true` verdict).
    fn run(&self) -> (Vec<(String, u32, String)>, Option<String>) {
        let opts = self.options();
        let report = run(self.dockerfile.as_bytes(), &opts, &self.bases(&opts), false);
        let mut found: Vec<_> = (report.findings.iter())
            .filter(|f| f.rule.origin == Origin::Official)
            .filter(|f| self.only.is_none_or(|r| r == f.rule.name))
            .map(|f| (f.rule.name.to_string(), f.line(), f.message.clone()))
            .collect();
        found.sort_by(|a, b| (a.1, &a.2).cmp(&(b.1, &b.2)));
        let error = match &report.error {
            Some(e) => Some(e.message.clone()),
            None => report.config.violation(&report.findings),
        };
        (found, error)
    }

    fn expected(&self) -> Vec<(String, u32, String)> {
        let mut want: Vec<_> = (self.warnings.iter())
            .map(|(r, l, d)| (r.to_string(), *l, d.to_string()))
            .collect();
        want.sort_by(|a, b| (a.1, &a.2).cmp(&(b.1, &b.2)));
        want
    }
}

/// Runs every case and lists each one that differs, so one run shows them all.
fn check_all(cases: &[Case]) {
    let mut wrong = Vec::new();
    for c in cases {
        let (found, error) = c.run();
        let want = c.expected();
        if found != want || error.as_deref() != c.error {
            wrong.push(format!(
                "{}:\n{}\n  want {want:?} error {:?}\n  got  {found:?} error {error:?}",
                c.name, c.dockerfile, c.error
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {} cases differ:\n\n{}",
        wrong.len(),
        cases.len(),
        wrong.join("\n\n")
    );
}
