//! Tables for targets, outline and describe: JSON shapes, doc comments, text tables.

use super::*;
use crate::image::Platform;
use crate::instructions::Instruction;
use crate::syntax::Dockerfile;

fn parse(src: &str) -> (Dockerfile, Vec<Instruction>) {
    let df = crate::syntax::parse(src.as_bytes()).expect("parses");
    let ins = crate::instructions::parse(&df.nodes).expect("typed");
    (df, ins)
}

fn opts(target: Option<&str>, args: &[(&str, &str)]) -> BuildOptions {
    let mut o = BuildOptions::new(Platform::new("linux", "amd64", None));
    o.target = target.map(str::to_string);
    for (k, v) in args {
        o.build_args.insert(k.to_string(), v.to_string());
    }
    o
}

fn outline_of(src: &str, target: Option<&str>, args: &[(&str, &str)]) -> Outline {
    let (df, ins) = parse(src);
    let o = opts(target, args);
    let plan = plan::plan(&ins, df.escape, &o).expect("plans");
    outline(&plan, &df, &ins, &o, src.as_bytes(), &Default::default())
}

const TARGETS: &str = "ARG BASE=alpine\n# build compiles the app\n# build not this one\nFROM --platform=$BUILDPLATFORM ${BASE} AS build\nRUN x\n# unrelated comment\nFROM build AS test\n# release the final image\nFROM scratch AS release\nCOPY --from=build /a /a\n";

#[test]
fn targets_fields_and_doc_comments() {
    let (df, ins) = parse(TARGETS);
    let got = list_targets(&df, &ins).unwrap();
    let rows: Vec<_> = got
        .iter()
        .map(|t| {
            (
                t.name.as_str(),
                t.default,
                t.description.as_str(),
                t.base.as_str(),
                t.platform.as_str(),
                t.location.as_ref().map(Location::first_line),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            (
                "build",
                false,
                "compiles the app",
                "${BASE}",
                "$BUILDPLATFORM",
                Some(4)
            ),
            ("test", false, "", "build", "", Some(7)),
            ("release", true, "the final image", "scratch", "", Some(9)),
        ]
    );
    let answer = targets(&df, &ins, TARGETS.as_bytes()).unwrap();
    assert_eq!(
        answer.text,
        "TARGET            DESCRIPTION\nbuild             compiles the app\ntest              \nrelease (default) the final image\n"
    );
    assert_eq!(answer.version, "1.0.0");
    let keys: Vec<String> = answer.metadata().into_keys().collect();
    assert_eq!(keys, ["result.json", "result.txt", "version"]);
}

#[test]
fn targets_json_shape() {
    let src = "# base is the base\nFROM alpine AS base\n";
    let (df, ins) = parse(src);
    let got = targets(&df, &ins, src.as_bytes()).unwrap().json;
    let want = r#"{
  "targets": [
    {
      "name": "base",
      "default": true,
      "description": "is the base",
      "base": "alpine",
      "location": {
        "ranges": [
          {
            "start": {
              "line": 2
            },
            "end": {
              "line": 2
            }
          }
        ]
      }
    }
  ],
  "sources": [
    "IyBiYXNlIGlzIHRoZSBiYXNlCkZST00gYWxwaW5lIEFTIGJhc2UK"
  ]
}"#;
    assert_eq!(got, want);
}

#[test]
fn targets_edge_cases() {
    let (df, ins) = parse("FROM a\n");
    let answer = targets(&df, &ins, b"FROM a\n").unwrap();
    assert_eq!(answer.text, "TARGET    DESCRIPTION\n(default) \n");
    assert!(!answer.json.contains("\"name\""));
    let (df, ins) = parse("ARG A\nRUN x\nFROM a\n");
    let err = list_targets(&df, &ins).unwrap_err();
    assert_eq!(
        (err.message.as_str(), err.lines),
        ("no build stage in current context", vec![(2, 2)])
    );
}

const OUTLINE: &str = "ARG GO_VERSION=1.22
# REGISTRY where images come from
ARG REGISTRY=docker.io
ARG UNUSED=x
FROM ${REGISTRY}/golang:${GO_VERSION} AS build
# TAGS build tags
ARG TAGS=netgo
ARG GO_VERSION
RUN --mount=type=secret,id=token,required --mount=type=ssh x
RUN --mount=type=secret,target=/run/secrets/npmrc --mount=type=ssh,id=github y
FROM alpine AS other
ARG NOPE
RUN --mount=type=secret,id=other,required=true x
# release ships it
FROM build AS release
RUN --mount=type=secret,id=token x
";

fn args(o: &Outline) -> Vec<(&str, &str, &str, u32)> {
    o.args
        .iter()
        .map(|a| {
            let line = a.location.as_ref().map_or(0, Location::first_line);
            (
                a.name.as_str(),
                a.value.as_str(),
                a.description.as_str(),
                line,
            )
        })
        .collect()
}

fn secrets(list: &[Secret]) -> Vec<(&str, bool, u32)> {
    list.iter()
        .map(|s| {
            let line = s.location.as_ref().map_or(0, Location::first_line);
            (s.name.as_str(), s.required, line)
        })
        .collect()
}

#[test]
fn outline_of_default_target() {
    let o = outline_of(OUTLINE, None, &[]);
    assert_eq!(
        (o.name.as_str(), o.description.as_str()),
        ("release", "ships it")
    );
    assert_eq!(
        args(&o),
        [
            ("GO_VERSION", "1.22", "", 1),
            ("REGISTRY", "docker.io", "where images come from", 3),
            ("TAGS", "netgo", "build tags", 7),
        ]
    );
    assert_eq!(
        secrets(&o.secrets),
        [("npmrc", false, 10), ("token", false, 16)]
    );
    assert_eq!(
        secrets(&o.ssh),
        [("default", false, 9), ("github", false, 10)]
    );
    assert_eq!(
        o.text(),
        "TARGET:      release\nDESCRIPTION: ships it\n\n\
         BUILD ARG    VALUE       DESCRIPTION\n\
         GO_VERSION   1.22        \n\
         REGISTRY     docker.io   where images come from\n\
         TAGS         netgo       build tags\n\n\
         SECRET   REQUIRED\nnpmrc    \ntoken    \n\n\
         SSH       REQUIRED\ndefault   \ngithub    \n\n"
    );
}

#[test]
fn outline_prunes_and_takes_build_args() {
    let o = outline_of(OUTLINE, Some("other"), &[]);
    assert_eq!(o.name, "other");
    assert_eq!(args(&o), [("NOPE", "", "", 12)]);
    assert_eq!(secrets(&o.secrets), [("other", true, 13)]);
    assert!(o.ssh.is_empty());

    let o = outline_of(
        OUTLINE,
        None,
        &[("TAGS", "osusergo"), ("GO_VERSION", "1.23")],
    );
    let values: Vec<(&str, &str)> = o
        .args
        .iter()
        .map(|a| (a.name.as_str(), a.value.as_str()))
        .collect();
    assert_eq!(
        values,
        [
            ("GO_VERSION", "1.23"),
            ("REGISTRY", "docker.io"),
            ("TAGS", "osusergo")
        ]
    );
}

#[test]
fn outline_follows_arg_dependencies_and_expands_defaults() {
    let src = "ARG A=1\nARG B=${A}-x\nARG C=3\nFROM alpine:$B\nENV P=/p\nARG D=${P}/d\n";
    let o = outline_of(src, None, &[]);
    assert_eq!(
        args(&o),
        [("A", "1", "", 1), ("B", "1-x", "", 2), ("D", "/p/d", "", 6)]
    );
    assert_eq!(
        o.text(),
        "BUILD ARG   VALUE   DESCRIPTION\nA           1       \nB           1-x     \nD           /p/d    \n\n"
    );
}

#[test]
fn outline_json_shape() {
    let src = "FROM a AS x\n# V the version\nARG V=1\nRUN --mount=type=ssh,required x\n";
    let o = outline_of(src, None, &[]);
    let json: serde_json::Value = serde_json::from_str(&o.answer().json).unwrap();
    let want = serde_json::json!({
        "name": "x",
        "args": [{"name": "V", "description": "the version", "value": "1",
                  "location": {"ranges": [{"start": {"line": 3}, "end": {"line": 3}}]}}],
        "ssh": [{"name": "default", "required": true,
                 "location": {"ranges": [{"start": {"line": 4}, "end": {"line": 4}}]}}],
        "sources": ["RlJPTSBhIEFTIHgKIyBWIHRoZSB2ZXJzaW9uCkFSRyBWPTEKUlVOIC0tbW91bnQ9dHlwZT1zc2gscmVxdWlyZWQgeAo="],
    });
    assert_eq!(json, want);
}

#[test]
fn describe_lists_three_requests() {
    let answer = describe();
    assert_eq!(
        answer.text,
        "NAME                 VERSION DESCRIPTION\n\
         outline              1.0.0   List all parameters current build target supports\n\
         targets              1.0.0   List all targets current build supports\n\
         subrequests.describe 1.0.0   List available subrequest types\n"
    );
    let json: serde_json::Value = serde_json::from_str(&answer.json).unwrap();
    let names: Vec<&str> = json
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "frontend.outline",
            "frontend.targets",
            "frontend.subrequests.describe"
        ]
    );
    let first = &json[0];
    let keys: Vec<&String> = first.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "name",
            "version",
            "type",
            "description",
            "opts",
            "inputs",
            "metadata",
            "refs"
        ]
    );
    assert_eq!(first["opts"][0]["name"], "target");
    assert_eq!(
        first["metadata"][1],
        serde_json::json!({"name": "result.txt", "description": ""})
    );
    assert_eq!(json[1]["opts"], serde_json::json!([]));
    assert!(json[2]["opts"].is_null() && json[2]["inputs"].is_null());
    assert_eq!(Request::from_name("frontend.lint"), None);
    assert_eq!(
        Request::from_name("frontend.outline"),
        Some(Request::Outline)
    );
}

#[test]
fn answer_dispatches_and_reports_plan_errors() {
    let src = "FROM a AS x\nRUN --mount=type=secret,id=s x\n";
    let (df, ins) = parse(src);
    let o = opts(None, &[]);
    let got = answer(Request::Outline, &df, &ins, src.as_bytes(), &o).unwrap();
    assert!(
        got.json
            .contains("\"secrets\": [\n    {\n      \"name\": \"s\",")
    );
    assert_eq!(got.text, "TARGET: x\n\nSECRET   REQUIRED\ns        \n\n");
    let got = answer(Request::Targets, &df, &ins, src.as_bytes(), &o).unwrap();
    assert_eq!(got.text, "TARGET      DESCRIPTION\nx (default) \n");
    let err = answer(Request::Outline, &df, &ins, b"", &opts(Some("y"), &[])).unwrap_err();
    assert_eq!(err.message, "target stage \"y\" could not be found");
}

#[test]
fn targets_with_a_check_comment_above_an_instruction() {
    // dockerfile 1.21–1.26 crash here (nil linter in ListTargets); 1.18 and stager answer.
    let (df, ins) = parse("FROM busybox AS base\n# check=skip=all\nFROM base AS build\n");
    let got = list_targets(&df, &ins).unwrap();
    let names: Vec<&str> = got.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["base", "build"]);
}
