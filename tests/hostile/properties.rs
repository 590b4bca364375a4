//! Properties.

use super::*;
use proptest::prelude::*;
use stager::shell::{Env, Lexer};

/// Pieces of Dockerfile syntax, so that random inputs reach stages, flags, heredocs, expansion.
fn fragment() -> impl Strategy<Value = Vec<u8>> {
    let pieces: Vec<&'static [u8]> = vec![
        b"FROM ",
        b"FROM scratch",
        b"FROM alpine AS ",
        b" AS ",
        b"RUN ",
        b"COPY ",
        b"ADD ",
        b"ENV ",
        b"ARG ",
        b"LABEL ",
        b"WORKDIR ",
        b"USER ",
        b"EXPOSE ",
        b"VOLUME ",
        b"ONBUILD ",
        b"HEALTHCHECK ",
        b"CMD ",
        b"ENTRYPOINT ",
        b"SHELL ",
        b"STOPSIGNAL ",
        b"MAINTAINER ",
        b"--from=",
        b"--mount=",
        b"type=cache,target=/c",
        b"type=bind,from=",
        b"type=secret,id=",
        b"--chown=",
        b"--chmod=",
        b"--link",
        b"--network=",
        b"--platform=",
        b"--exclude=",
        b"--parents",
        b"--interval=",
        b"# escape=`\n",
        b"# syntax=x\n",
        b"#",
        b"<<",
        b"<<-",
        b"EOF",
        b"0",
        b"1",
        b"a",
        b"b",
        b"/",
        b"\\",
        b"`",
        b"\n",
        b"\r\n",
        b" ",
        b"\t",
        b"\"",
        b"'",
        b"[",
        b"]",
        b",",
        b"=",
        b"$",
        b"${",
        b"}",
        b":-",
        b":+",
        b"//",
        b"#",
        b"%%",
        b"*",
        b"?",
        b"\xEF\xBB\xBF",
        b"\xff",
        b"\0",
    ];
    prop_oneof![
        6 => proptest::sample::select(pieces).prop_map(<[u8]>::to_vec),
        1 => proptest::collection::vec(any::<u8>(), 0..8),
    ]
}

fn never_panics(input: &[u8]) {
    if let Ok(df) = stager::syntax::parse(input) {
        let _ = df.dump();
    }
    match run(input) {
        Ok(converted) => {
            let _ = dump(&converted);
            let _ = serde_json::to_string(&converted.image).expect("image JSON");
        }
        Err(e) => {
            let _ = e.ranges();
            let _ = e.located_message("Dockerfile");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(input in proptest::collection::vec(any::<u8>(), 0..1024)) {
        never_panics(&input);
    }

    #[test]
    fn dockerfile_shaped_input_never_panics(parts in proptest::collection::vec(fragment(), 0..96)) {
        never_panics(&parts.concat());
    }

    #[test]
    fn dockerfile_shaped_after_from_never_panics(parts in proptest::collection::vec(fragment(), 0..96)) {
        let mut input = b"FROM scratch AS s\n".to_vec();
        input.extend(parts.concat());
        never_panics(&input);
    }

    #[test]
    fn words_never_panic_the_lexer(word in "[a-zA-Z0-9 ${}:+?#%/*'\"\\\\`-]{0,64}", opts in 0u8..64) {
        let env = Env::from_slice(&["A=x", "B=hello world", "EMPTY="]);
        let mut lexer = Lexer::new(if opts & 1 == 0 { '\\' } else { '`' });
        lexer.raw_quotes = opts & 2 != 0;
        lexer.raw_escapes = opts & 4 != 0;
        lexer.skip_unset_env = opts & 8 != 0;
        lexer.skip_process_quotes = opts & 16 != 0;
        lexer.windows = opts & 32 != 0;
        let _ = lexer.process_word(&word, &env);
        let _ = lexer.process_words(&word, &env);
        let _ = lexer.process_word_with_matches(&word, &env);
    }
}
