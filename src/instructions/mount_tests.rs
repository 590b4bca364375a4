use super::*;

/// Resolves with values kept as written.
fn resolve(value: &str) -> Result<Mount, String> {
    MountSpec::parse(value)?.resolve(&mut |v| Ok(v.to_string()))
}

#[test]
fn csv_and_from_at_parse_time() {
    let cases: &[(&str, Result<&[&str], &str>)] = &[
        ("type=cache,target=/c", Ok(&["type=cache", "target=/c"])),
        (
            "\"target=/a,b\",\"src=x\"\"y\"",
            Ok(&["target=/a,b", "src=x\"y"]),
        ),
        ("", Ok(&[""])),
        ("a,,b,", Ok(&["a", "", "b", ""])),
        (
            "target=/a\"b",
            Err(
                "failed to parse csv mounts: parse error on line 1, column 10: bare \" in non-quoted-field",
            ),
        ),
        (
            "\"target=/a\"x",
            Err(
                "failed to parse csv mounts: parse error on line 1, column 12: extraneous or missing \" in quoted-field",
            ),
        ),
        (
            "\"target=/a",
            Err(
                "failed to parse csv mounts: parse error on line 1, column 11: extraneous or missing \" in quoted-field",
            ),
        ),
        (
            "from=$STAGE,target=/x",
            Err("'from' doesn't support variable expansion, define alias stage instead"),
        ),
        (
            "FROM=a${B}",
            Err("'from' doesn't support variable expansion, define alias stage instead"),
        ),
        // A bad key is only an error once the value is resolved.
        ("nope=1,from=build$", Ok(&["nope=1", "from=build$"])),
    ];
    for (value, want) in cases {
        let got = MountSpec::parse(value);
        match want {
            Ok(fields) => assert_eq!(
                got.map(|s| s.fields),
                Ok(fields.iter().map(|f| f.to_string()).collect()),
                "{value}"
            ),
            Err(e) => assert_eq!(got.unwrap_err(), *e, "{value}"),
        }
    }
    let spec = MountSpec::parse("from=Build,dst=/a,target=/b").unwrap();
    assert_eq!(spec.from.as_deref(), Some("Build"));
    assert_eq!(spec.raw(&["target", "dst", "destination"]), Some("/b"));
}

#[test]
fn typed_values_and_defaults() {
    let m =
        resolve("type=cache,target=/root/.cache,sharing=LOCKED,mode=0750,uid=1000,id=x").unwrap();
    assert_eq!(m.kind, MountKind::Cache);
    assert_eq!(m.target, "/root/.cache");
    assert_eq!(m.sharing, Some(Sharing::Locked));
    assert_eq!((m.mode, m.uid, m.gid), (Some(0o750), Some(1000), None));
    assert_eq!(m.id, "x");
    assert!(!m.readonly);

    let cases: &[(&str, MountKind, bool)] = &[
        ("target=/a", MountKind::Bind, true),
        ("target=/a,rw", MountKind::Bind, false),
        ("target=/a,readwrite=true", MountKind::Bind, false),
        ("target=/a,RW=0", MountKind::Bind, true),
        ("type=cache,target=/a,ro", MountKind::Cache, true),
        ("type=tmpfs,target=/a", MountKind::Tmpfs, false),
        ("Type=Secret,id=s", MountKind::Secret, true),
        ("type=ssh", MountKind::Ssh, true),
        ("type=ssh,readonly=false", MountKind::Ssh, false),
    ];
    for (value, kind, readonly) in cases {
        let m = resolve(value).unwrap();
        assert_eq!((m.kind, m.readonly), (*kind, *readonly), "{value}");
    }

    let m = resolve("type=secret,id=tok,env=TOKEN,required").unwrap();
    assert_eq!((m.env.as_deref(), m.required), (Some("TOKEN"), true));
    let m = resolve("type=ssh,required=false,id=gh").unwrap();
    assert_eq!((m.id.as_str(), m.required), ("gh", false));
    let m = resolve("type=bind,from=build,source=/out,dst=/in").unwrap();
    assert_eq!(
        (m.from.as_str(), m.source.as_str(), m.target.as_str()),
        ("build", "/out", "/in")
    );

    for (size, bytes) in [
        ("64m", 64 << 20),
        ("1.5k", 1536),
        ("10", 10),
        ("2 GiB", 2 << 30),
        ("3b", 3),
    ] {
        let m = resolve(&format!("type=tmpfs,target=/t,size={size}")).unwrap();
        assert_eq!(m.size, bytes, "{size}");
    }
}

#[test]
fn values_are_expanded_before_typing() {
    let spec = MountSpec::parse("type=$T,target=$DIR/x,uid=${U}").unwrap();
    let mut expand = |v: &str| -> Result<String, String> {
        Ok(v.replace("$T", "cache")
            .replace("$DIR", "/w")
            .replace("${U}", "7"))
    };
    let m = spec.resolve(&mut expand).unwrap();
    assert_eq!(
        (m.kind, m.target.as_str(), m.uid),
        (MountKind::Cache, "/w/x", Some(7))
    );
    let mut failing = |_: &str| -> Result<String, String> { Err("boom".into()) };
    assert_eq!(spec.resolve(&mut failing).unwrap_err(), "boom");
}

#[test]
fn buildkit_errors() {
    let cases = [
        (
            "type=cahce,target=/a",
            "unsupported mount type \"cahce\" (did you mean cache?)",
        ),
        ("type=volume", "unsupported mount type \"volume\""),
        (
            "target=/a,trget=/b",
            "unexpected key 'trget' in 'trget=/b' (did you mean target?)",
        ),
        ("target=/a,bogus=1", "unexpected key 'bogus' in 'bogus=1'"),
        (
            "target=/a,exec",
            "invalid field 'exec' must be a key=value pair",
        ),
        ("target=/a,", "invalid field '' must be a key=value pair"),
        (
            "target=/a,required",
            "unexpected key 'required' for mount type 'bind'",
        ),
        (
            "required,type=secret,id=a",
            "unexpected key 'required' for mount type 'bind'",
        ),
        (
            "type=cache,target=/a,required=true",
            "unexpected key 'required' for mount type 'cache'",
        ),
        (
            "target=/a,size=1m",
            "unexpected key 'size' for mount type 'bind'",
        ),
        (
            "type=tmpfs,target=/a,size=lots",
            "invalid value for size: lots",
        ),
        ("target=/a,ro=maybe", "invalid value for ro: maybe"),
        (
            "type=secret,id=a,required=yes",
            "invalid value for required: yes",
        ),
        (
            "type=cache,target=/a,mode=0789",
            "invalid value 0789 for mode",
        ),
        ("type=cache,target=/a,uid=-1", "invalid value -1 for uid"),
        ("type=cache,target=/a,gid=+1", "invalid value +1 for gid"),
        (
            "type=cache,target=/a,uid=4294967296",
            "invalid value 4294967296 for uid",
        ),
        (
            "type=cache,target=/a,sharing=lockd",
            "unsupported sharing value \"lockd\" (did you mean locked?)",
        ),
        (
            "target=/a,uid=1",
            "uid not allowed for \"bind\" type mounts",
        ),
        (
            "type=tmpfs,target=/a,mode=1",
            "mode not allowed for \"tmpfs\" type mounts",
        ),
        (
            "target=/a,gid=1",
            "gid not allowed for \"bind\" type mounts",
        ),
        (
            "target=/a,sharing=private",
            "invalid cache sharing set for bind mount",
        ),
        (
            "type=secret,id=a,from=x",
            "secret mount should not have a from",
        ),
        (
            "type=secret,id=a,sharing=locked",
            "secret mount should not define sharing",
        ),
        (
            "type=secret",
            "invalid secret mount. one of source, target required",
        ),
        ("type=secret,src=a,id=b", "both source and id can't be set"),
    ];
    for (value, want) in cases {
        assert_eq!(resolve(value).unwrap_err(), want, "{value}");
    }
}

#[test]
fn go_value_parsers() {
    assert_eq!(go_uint("0755", 8), Some(0o755));
    assert_eq!(go_uint("", 10), None);
    assert_eq!(go_uint("1_0", 10), None);
    assert_eq!(go_bool("True"), Some(true));
    assert_eq!(go_bool("yes"), None);
    assert_eq!(ram_in_bytes("1.2.3m"), None);
    assert_eq!(ram_in_bytes("m"), None);
    assert_eq!(ram_in_bytes("5mbx"), None);
    assert_eq!(ram_in_bytes("1tb"), Some(1 << 40));
}
