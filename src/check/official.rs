//! The official rules that need only the parse and the global ARGs, reported in BuildKit's
//! order: parser warnings, per-instruction rules, stage names, casing, then the FROM lines.

use crate::image::{Platform, Reference};
use crate::instructions::{Instruction, Kind};
use crate::lint::{self, Sink, per_line};
use crate::options::BuildOptions;
use crate::pipeline::Parsed;
use crate::plan::GlobalArgs;
use crate::shell::{EnvGetter, Lexer};
use crate::syntax::Node;

/// Reports every parse-level and FROM-level official finding of `parsed` into `sink`.
pub fn report(parsed: &Parsed, opts: &BuildOptions, sink: &Sink) {
    let pairs = report_instructions(parsed, sink);
    let stages: Vec<&[(&Node, &Instruction)]> = stage_slices(&pairs);
    stage_names(&stages, sink);
    casing(&stages, sink);
    from_lines(parsed, opts, sink);
}

/// What BuildKit reports while it types the instructions one by one: the parser's warnings,
/// then each instruction's own rules. When an instruction does not parse, `parsed` holds the
/// ones before it and this is all that is reported (the rules over whole stages never run).
pub fn report_instructions<'p>(
    parsed: &'p Parsed,
    sink: &Sink,
) -> Vec<(&'p Node, &'p Instruction)> {
    for w in &parsed.dockerfile.warnings {
        let lines = (line(w.start_line), line(w.end_line));
        sink.report(
            &lint::NO_EMPTY_CONTINUATION,
            vec![lines],
            "Empty continuation line".into(),
        );
    }
    let pairs: Vec<(&Node, &Instruction)> = parsed
        .dockerfile
        .nodes
        .iter()
        .zip(&parsed.instructions)
        .collect();
    for (node, ins) in &pairs {
        instruction_rules(node, ins, sink);
    }
    pairs
}

fn line(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// The FROM line and body of every stage (global ARGs before the first FROM left out).
fn stage_slices<'a, 'n>(
    pairs: &'a [(&'n Node, &'n Instruction)],
) -> Vec<&'a [(&'n Node, &'n Instruction)]> {
    let starts: Vec<usize> = (pairs.iter().enumerate())
        .filter(|(_, (_, ins))| matches!(ins.kind, Kind::From(_)))
        .map(|(i, _)| i)
        .collect();
    (starts.iter().enumerate())
        .map(|(k, &s)| &pairs[s..starts.get(k + 1).copied().unwrap_or(pairs.len())])
        .collect()
}

fn instruction_rules(node: &Node, ins: &Instruction, sink: &Sink) {
    let at = per_line(ins.lines);
    match &ins.kind {
        Kind::Maintainer(_) => sink.report(
            &lint::MAINTAINER_DEPRECATED,
            at,
            "Maintainer instruction is deprecated in favor of using label".into(),
        ),
        Kind::From(from) => {
            let command = node.keyword_as_written();
            if let [_, as_word, name] = node.args.as_slice() {
                if *name != name.to_lowercase() {
                    sink.report(
                        &lint::STAGE_NAME_CASING,
                        at.clone(),
                        format!("Stage name '{name}' should be lowercase"),
                    );
                }
                let lower = command == command.to_lowercase();
                let upper = command == command.to_uppercase();
                let mismatch = (lower && *as_word != as_word.to_lowercase())
                    || (!lower && upper && *as_word != as_word.to_uppercase());
                if mismatch {
                    sink.report(
                        &lint::FROM_AS_CASING,
                        at.clone(),
                        format!("'{as_word}' and '{command}' keywords' casing do not match"),
                    );
                }
            }
            if let Some(name) = &from.name {
                description(node, "FROM", std::slice::from_ref(name), at, sink);
            }
        }
        Kind::Arg(decls) => {
            let keys: Vec<String> = decls.iter().map(|d| d.key.clone()).collect();
            description(node, "ARG", &keys, at, sink);
        }
        _ => {}
    }
}

/// `InvalidDefinitionDescription`: the comment right above FROM/ARG must start with the name.
fn description(node: &Node, keyword: &str, keys: &[String], at: Vec<(u32, u32)>, sink: &Sink) {
    let (Some(comment), Some(first_key)) = (node.prev_comment.last(), keys.first()) else {
        return;
    };
    let first_word = comment.split(' ').next().unwrap_or("");
    if keys.iter().any(|k| k == first_word) {
        return;
    }
    let example = if keys.len() > 1 {
        "<arg_key>"
    } else {
        first_key
    };
    sink.report(
        &lint::INVALID_DEFINITION_DESCRIPTION,
        at,
        format!("Comment for {keyword} should follow the format: `# {example} <description>`"),
    );
}

fn stage_names(stages: &[&[(&Node, &Instruction)]], sink: &Sink) {
    // Looked up, never iterated: the order of the findings is the stages' own.
    let mut seen: std::collections::HashSet<&str> = std::collections::HashSet::new();
    for stage in stages {
        let (_, from) = stage[0];
        let Kind::From(f) = &from.kind else { continue };
        let Some(name) = f.name.as_deref() else {
            continue;
        };
        if matches!(name, "context" | "scratch") {
            sink.report(
                &lint::RESERVED_STAGE_NAME,
                per_line(from.lines),
                format!("Stage name should not use the same name as reserved stage {name:?}"),
            );
        }
        if !seen.insert(name) {
            sink.report(
                &lint::DUPLICATE_STAGE_NAME,
                per_line(from.lines),
                format!("Duplicate stage name {name:?}, stage names should be unique"),
            );
        }
    }
}

/// `ConsistentInstructionCasing`: every keyword of the stages against the majority's case.
fn casing(stages: &[&[(&Node, &Instruction)]], sink: &Sink) {
    let keywords: Vec<(&str, &Instruction)> = stages
        .iter()
        .flat_map(|s| s.iter())
        .map(|(node, ins)| (node.keyword_as_written(), *ins))
        .collect();
    let (mut lower, mut upper) = (0, 0);
    for (k, _) in &keywords {
        if *k == k.to_lowercase() {
            lower += 1;
        } else if *k == k.to_uppercase() {
            upper += 1;
        }
    }
    let majority_lower = lower > upper;
    for (k, ins) in keywords {
        let wrong = if majority_lower {
            (k != k.to_lowercase()).then_some("lowercase")
        } else {
            (k != k.to_uppercase()).then_some("uppercase")
        };
        if let Some(case) = wrong {
            sink.report(
                &lint::CONSISTENT_INSTRUCTION_CASING,
                per_line(ins.lines),
                format!("Command '{k}' should match the case of the command majority ({case})"),
            );
        }
    }
}

/// The FROM rules BuildKit runs while expanding base names and platforms.
fn from_lines(parsed: &Parsed, opts: &BuildOptions, sink: &Sink) {
    let escape = parsed.dockerfile.escape;
    let lexer = Lexer::new(escape);
    let froms: Vec<&Instruction> = (parsed.instructions.iter())
        .filter(|i| matches!(i.kind, Kind::From(_)))
        .collect();
    // InvalidDefaultArgInFrom: the base names with the defaults alone, no build args.
    let defaults_only = BuildOptions {
        build_args: Default::default(),
        ..opts.clone()
    };
    if let Ok(globals) = crate::plan::global_args(&parsed.instructions, escape, &defaults_only) {
        for ins in &froms {
            let Kind::From(f) = &ins.kind else { continue };
            let Ok(name) = lexer.process_word(&f.image, &globals.vars) else {
                break;
            };
            if name.is_empty() || Reference::parse(&name).is_err() {
                sink.report(
                    &lint::INVALID_DEFAULT_ARG_IN_FROM,
                    per_line(ins.lines),
                    format!(
                        "Default value for ARG {} results in empty or invalid base image name",
                        f.image
                    ),
                );
            }
        }
    }
    let Ok(globals) = crate::plan::global_args(&parsed.instructions, escape, opts) else {
        return;
    };
    let known = known_keys(&globals);
    for ins in froms {
        let Kind::From(f) = &ins.kind else { continue };
        let Ok(base) = lexer.process_word_with_matches(&f.image, &globals.vars) else {
            return;
        };
        undefined_in_from(&base.unmatched, &known, ins, sink);
        let Some(platform) = &f.platform else {
            continue;
        };
        let Ok(p) = lexer.process_word_with_matches(platform, &globals.vars) else {
            return;
        };
        undefined_in_from(&p.unmatched, &known, ins, sink);
        let only_target =
            p.unmatched.is_empty() && p.matched.len() == 1 && p.matched.contains("TARGETPLATFORM");
        if only_target && globals.vars.get("TARGETPLATFORM") == Some(p.word.as_str()) {
            sink.report(
                &lint::REDUNDANT_TARGET_PLATFORM,
                per_line(ins.lines),
                format!("Setting platform to predefined {platform} in FROM is redundant as this is the default behavior"),
            );
        }
        let constant = p.matched.is_empty() && p.unmatched.is_empty();
        if let (true, Ok(parsed)) = (constant, Platform::parse(&p.word)) {
            let name = f.name.as_deref().unwrap_or("");
            if !name.contains(parsed.os.as_str()) && !name.contains(parsed.architecture.as_str()) {
                sink.report(
                    &lint::FROM_PLATFORM_FLAG_CONST_DISALLOWED,
                    per_line(ins.lines),
                    format!(
                        "FROM --platform flag should not use constant value {:?}",
                        p.word
                    ),
                );
            }
        }
    }
}

/// The names a FROM line may use: set global values and every declared global ARG.
fn known_keys(globals: &GlobalArgs) -> Vec<String> {
    let mut keys = globals.vars.keys();
    for (k, _) in &globals.declared {
        if !keys.contains(k) {
            keys.push(k.clone());
        }
    }
    keys
}

fn undefined_in_from(
    unmatched: &std::collections::BTreeSet<String>,
    known: &[String],
    ins: &Instruction,
    sink: &Sink,
) {
    for name in unmatched {
        if known.contains(name) {
            continue;
        }
        let message = match crate::suggest::search(name, known, true) {
            Some(s) => format!("FROM argument '{name}' is not declared (did you mean {s}?)"),
            None => format!("FROM argument '{name}' is not declared"),
        };
        sink.report(&lint::UNDEFINED_ARG_IN_FROM, per_line(ins.lines), message);
    }
}
