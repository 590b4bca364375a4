//! Bytes that are not text.

use super::*;

#[test]
fn invalid_utf8_and_nul_bytes() {
    let cases: &[&[u8]] = &[
        b"FROM scratch\nRUN \xff\xfe\xfd\n",
        b"FROM scratch\nRUN echo \x00\n",
        b"FROM \x00\n",
        b"FROM scr\x00atch\n",
        b"FROM scratch AS \xff\n",
        b"FROM scratch\nLABEL \xff=\xfe\n",
        b"FROM scratch\nENV \x00=\x00\nRUN echo $\x00\n",
        b"FROM scratch\nCOPY \xff /\xfe\n",
        b"FROM scratch\nWORKDIR /\x00/\xc3\n",
        b"FROM scratch\nUSER \x00:\x00\n",
        b"FROM scratch\nEXPOSE \xff\n",
        b"FROM scratch\nCMD [\"\x00\", \"\xff\"]\n",
        b"FROM scratch\nRUN <<\xff\nbody\n\xff\n",
        b"\xEF\xBB\xBF\xEF\xBB\xBFFROM scratch\n",
        b"# escape=\xff\nFROM scratch\n",
        b"# syntax=\x00\nFROM scratch\n",
        b"\x00\x00\x00\x00",
        b"\xff\xff\xff\xff\n\xff",
        b"FROM scratch\r\r\r\nRUN a\r\n",
    ];
    for (i, df) in cases.iter().enumerate() {
        let _ = pipeline_timed(&format!("binary case {i}"), df);
        if let Ok(parsed) = stager::syntax::parse(df) {
            let _ = parsed.dump();
        }
    }
}
