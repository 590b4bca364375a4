//! SOURCE_DATE_EPOCH from a remote source's time, as dockerfile 1.26 finds it: the daemon's
//! `ResolveSourceMeta` answer (a git commit's committer time, an HTTP download's
//! Last-Modified), else the newest regular file of the downloaded tar archive.

use prost::Message as _;

use crate::convert::{epoch_source, main_context};
use crate::llb;
use crate::options::BuildOptions;
use crate::plan::epoch::Remote;
use crate::proto::moby::buildkit::v1::frontend as gw;
use crate::proto::pb;

use super::client::{Client, Daemon};
use super::frontend::Failure;

/// The gateway cap of `ResolveSourceMeta`.
pub(super) const CAP: &str = "source.metaresolver";

/// The time of `remote`'s source; `None` when it has none (SOURCE_DATE_EPOCH is then dropped).
pub(super) async fn epoch(
    client: &mut Client,
    daemon: &Daemon,
    opts: &BuildOptions,
    remote: &Remote,
) -> Result<Option<i64>, Failure> {
    if !daemon.api_caps.has(CAP) {
        return Err(Failure::plain(format!(
            "SOURCE_DATE_EPOCH from the time of {remote} (a git or HTTP source) needs a BuildKit with {CAP} (v0.13 or later); pass the time as a number"
        )));
    }
    let caps = daemon.llb_caps.ids().map(str::to_string).collect();
    let state = epoch_source::state(remote, opts, &caps).map_err(Failure::plain)?;
    // Like 1.26, only a state with exactly one source has a time.
    let Some(source) = single_source(&llb::marshal(&state, None)) else {
        return Ok(None);
    };
    let git = source.identifier.starts_with("git://");
    let request = gw::ResolveSourceMetaRequest {
        source: Some(source.clone()),
        log_name: log_name(remote),
        git: git.then_some(gw::ResolveSourceGitRequest {
            return_object: true,
        }),
        ..gw::ResolveSourceMetaRequest::default()
    };
    let meta = client.resolve_source_meta(request).await?;
    if let Some(git) = &meta.git {
        if git.commit_object.is_empty() {
            // 1.26 would build without a time: not reproducible, and silently so.
            return Err(Failure::plain(format!(
                "SOURCE_DATE_EPOCH from the time of {remote}: the daemon did not report the commit (needs BuildKit v0.26 or later); pass the time as a number"
            )));
        }
        return commit_time(&git.commit_object)
            .map(Some)
            .map_err(Failure::plain);
    }
    if let Some(http) = &meta.http
        && let Some(modified) = &http.last_modified
    {
        return Ok(Some(modified.seconds));
    }
    let http = ["http://", "https://"]
        .iter()
        .any(|p| source.identifier.starts_with(p));
    let filename = source
        .attrs
        .get("http.filename")
        .cloned()
        .unwrap_or_default();
    if !http || filename.is_empty() {
        return Ok(None);
    }
    // No Last-Modified: the newest file of the download when it is a tar archive.
    let download = llb::State::source(
        &source.identifier,
        source.attrs.clone(),
        llb::OpMeta::default(),
    );
    let reference = client.solve_ref(llb::marshal(&download, None)).await?;
    let data = client
        .read_file(&reference, &filename)
        .await?
        .unwrap_or_default();
    archive_time(&data).map_err(Failure::plain)
}

/// The progress name 1.26 gives the metadata request.
fn log_name(remote: &Remote) -> String {
    match remote {
        Remote::MainContext => "[internal] resolve main build context metadata".into(),
        Remote::NamedContext(ctx) => {
            let name = ctx.key.split("::").next().unwrap_or(&ctx.key);
            format!("[internal] resolve SOURCE_DATE_EPOCH named context {name}")
        }
        Remote::Stage { name, .. } => format!(
            "[internal] resolve SOURCE_DATE_EPOCH source stage {}",
            name.to_lowercase()
        ),
    }
}

/// The one source op of a definition (identifier and attributes), none when there are more.
fn single_source(def: &pb::Definition) -> Option<pb::SourceOp> {
    let mut found = None;
    for bytes in &def.def {
        let Ok(op) = pb::Op::decode(bytes.as_slice()) else {
            continue;
        };
        if let Some(pb::op::Op::Source(s)) = op.op {
            if found.is_some() {
                return None;
            }
            found = Some(pb::SourceOp {
                identifier: s.identifier,
                attrs: s.attrs,
            });
        }
    }
    found
}

/// The committer time of a raw git commit object (as BuildKit's `gitobject` reads it).
pub(super) fn commit_time(object: &[u8]) -> Result<i64, String> {
    let text = String::from_utf8_lossy(object);
    if text.starts_with("object ") {
        return Err("not a commit object".into());
    }
    let headers: Vec<&str> = text.split('\n').take_while(|l| !l.is_empty()).collect();
    for required in ["tree", "author", "committer"] {
        if !headers
            .iter()
            .any(|l| l.split(' ').next() == Some(required))
        {
            return Err(format!("invalid commit object: missing {required} header"));
        }
    }
    let committer = headers
        .iter()
        .find_map(|l| l.strip_prefix("committer "))
        .unwrap_or_default();
    // `Name <email> 1700000000 +0000`: the time follows the last `>`.
    let when = committer
        .rfind('>')
        .and_then(|end| committer[end + 1..].split_whitespace().next())
        .and_then(|t| t.parse::<i64>().ok());
    when.ok_or_else(|| format!("invalid commit object: no committer time in {committer:?}"))
}

/// The most a compressed archive may unpack to here (its files are only dated, not kept).
const MAX_UNPACKED: u64 = 1 << 30;

/// The newest modification time of a regular file in a tar archive, plain or compressed as
/// BuildKit's `DecompressStream` knows (gzip, bzip2, xz, zstd); `None` for data that is not a
/// tar archive (as 1.26 treats a download that is not one).
pub(super) fn archive_time(data: &[u8]) -> Result<Option<i64>, String> {
    let unpacked = if data.starts_with(&[0x1F, 0x8B, 0x08]) {
        unpack("gzip", flate2::read::MultiGzDecoder::new(data))?
    } else if data.starts_with(b"BZh") {
        unpack("bzip2", bzip2_rs::DecoderReader::new(data))?
    } else if data.starts_with(&[0xFD, b'7', b'z', b'X', b'Z', 0x00]) {
        let mut out = Bounded(Vec::new());
        lzma_rs::xz_decompress(&mut std::io::BufReader::new(data), &mut out)
            .map_err(|e| format!("SOURCE_DATE_EPOCH: reading the xz archive: {e}"))?;
        out.0
    } else if data.starts_with(&[0x28, 0xB5, 0x2F, 0xFD]) {
        let zstd = ruzstd::decoding::StreamingDecoder::new(data)
            .map_err(|e| format!("SOURCE_DATE_EPOCH: reading the zstd archive: {e}"))?;
        unpack("zstd", zstd)?
    } else {
        return tar_time(data);
    };
    if unpacked.len() as u64 > MAX_UNPACKED {
        return Err(format!(
            "SOURCE_DATE_EPOCH: the archive unpacks to more than {MAX_UNPACKED} bytes"
        ));
    }
    tar_time(&unpacked)
}

/// A buffer that refuses to grow past [`MAX_UNPACKED`] (lzma-rs writes rather than reads).
struct Bounded(Vec<u8>);

impl std::io::Write for Bounded {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if (self.0.len() + buf.len()) as u64 > MAX_UNPACKED {
            return Err(std::io::Error::other(format!(
                "it unpacks to more than {MAX_UNPACKED} bytes"
            )));
        }
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// All of `reader`, up to one byte past [`MAX_UNPACKED`].
fn unpack(kind: &str, reader: impl std::io::Read) -> Result<Vec<u8>, String> {
    use std::io::Read as _;
    let mut out = Vec::new();
    reader
        .take(MAX_UNPACKED + 1)
        .read_to_end(&mut out)
        .map_err(|e| format!("SOURCE_DATE_EPOCH: reading the {kind} archive: {e}"))?;
    Ok(out)
}

/// [`archive_time`] of uncompressed data.
fn tar_time(data: &[u8]) -> Result<Option<i64>, String> {
    let mut newest: Option<i64> = None;
    let mut pax_mtime: Option<i64> = None;
    let mut at = 0usize;
    loop {
        let Some(block) = data.get(at..at + 512) else {
            // Go's reader ends cleanly only between entries; a truncated one is no archive.
            return Ok(if at == data.len() { newest } else { None });
        };
        if block.iter().all(|&b| b == 0) {
            return Ok(newest);
        }
        if !main_context::tar_header(block) {
            return Ok(None);
        }
        let (Some(size), Some(mtime)) =
            (tar_number(&block[124..136]), tar_number(&block[136..148]))
        else {
            return Ok(None);
        };
        let Ok(size) = usize::try_from(size) else {
            return Ok(None);
        };
        let body = at + 512;
        let next = body.saturating_add(size.div_ceil(512).saturating_mul(512));
        match block[156] {
            // PAX records for the next entry.
            b'x' => {
                let Some(records) = data.get(body..body.saturating_add(size)) else {
                    return Ok(None);
                };
                pax_mtime = pax_time(records);
            }
            // Global PAX records and GNU long names describe no file.
            b'g' | b'L' | b'K' => {}
            kind => {
                let mtime = pax_mtime.take().unwrap_or(mtime);
                // Go's FileInfo: symlinks, devices, directories and FIFOs are not regular.
                let mode_type = tar_number(&block[100..108]).unwrap_or(0) & 0o170_000;
                let regular = !matches!(kind, b'2' | b'3' | b'4' | b'5' | b'6')
                    && matches!(mode_type, 0 | 0o100_000);
                if regular {
                    newest = Some(newest.map_or(mtime, |n| n.max(mtime)));
                }
            }
        }
        at = next;
    }
}

/// A tar numeric field: octal text, or GNU base-256 (high bit set).
fn tar_number(field: &[u8]) -> Option<i64> {
    if field.first().is_some_and(|b| b & 0x80 != 0) {
        let mut n: i64 = i64::from(field[0] & 0x7F);
        for &b in &field[1..] {
            n = n.checked_mul(256)?.checked_add(i64::from(b))?;
        }
        return Some(n);
    }
    let text: String = field
        .iter()
        .map(|&b| b as char)
        .filter(|c| *c != '\0' && *c != ' ')
        .collect();
    if text.is_empty() {
        return Some(0);
    }
    i64::from_str_radix(&text, 8).ok()
}

/// The whole seconds of a PAX `mtime` record.
fn pax_time(records: &[u8]) -> Option<i64> {
    let text = String::from_utf8_lossy(records);
    text.lines().find_map(|record| {
        let (_, kv) = record.split_once(' ')?;
        let value = kv.strip_prefix("mtime=")?;
        let secs = value.split('.').next()?;
        let whole: i64 = secs.parse().ok()?;
        // Go floors negative fractional times.
        let fraction = value
            .split_once('.')
            .is_some_and(|(_, f)| f.bytes().any(|b| b != b'0'));
        Some(if whole < 0 && fraction {
            whole - 1
        } else {
            whole
        })
    })
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// A tar entry header block with a valid checksum.
    pub(crate) fn header(name: &str, kind: u8, size: usize, mtime: i64) -> Vec<u8> {
        let mut b = vec![0u8; 512];
        b[..name.len()].copy_from_slice(name.as_bytes());
        b[100..107].copy_from_slice(b"0000644");
        b[124..135].copy_from_slice(format!("{size:011o}").as_bytes());
        b[136..147].copy_from_slice(format!("{mtime:011o}").as_bytes());
        b[156] = kind;
        b[257..263].copy_from_slice(b"ustar\0");
        b[263..265].copy_from_slice(b"00");
        b[148..156].copy_from_slice(b"        ");
        let sum: u32 = b.iter().map(|&x| u32::from(x)).sum();
        b[148..155].copy_from_slice(format!("{sum:06o}\0").as_bytes());
        b
    }

    /// An uncompressed tar of `(name, kind, body, mtime)` entries.
    pub(crate) fn tar(entries: &[(&str, u8, &[u8], i64)]) -> Vec<u8> {
        let mut out = Vec::new();
        for (name, kind, body, mtime) in entries {
            out.extend(header(name, *kind, body.len(), *mtime));
            out.extend(*body);
            out.resize(out.len().div_ceil(512) * 512, 0);
        }
        out.extend([0u8; 1024]);
        out
    }

    #[test]
    fn the_newest_regular_file_dates_an_archive() {
        let data = tar(&[
            ("Dockerfile", b'0', b"FROM scratch\n", 1_700_000_000),
            ("dir/", b'5', b"", 1_800_000_000),
            ("link", b'2', b"", 1_900_000_000),
            ("foo", b'0', b"bar", 1_700_000_302),
        ]);
        assert_eq!(archive_time(&data), Ok(Some(1_700_000_302)));
        // A PAX mtime wins over the header's.
        let pax = b"30 mtime=1700000999.500000000\n";
        let data = tar(&[
            ("PaxHeaders/foo", b'x', pax, 0),
            ("foo", b'0', b"bar", 1_700_000_000),
        ]);
        assert_eq!(archive_time(&data), Ok(Some(1_700_000_999)));
    }

    #[test]
    fn data_that_is_not_an_archive_has_no_time() {
        assert_eq!(archive_time(b"FROM scratch\n"), Ok(None));
        assert_eq!(archive_time(b""), Ok(None));
        assert_eq!(archive_time(&[0u8; 1024]), Ok(None));
        // Compressed, but broken.
        assert!(archive_time(&[0x1F, 0x8B, 0x08, 0]).is_err());
        assert!(archive_time(&[0x28, 0xB5, 0x2F, 0xFD, 0]).is_err());
    }

    /// A tar of `a` (1,700,000,000) and `b` (1,700,000,700), `bzip2 -9`'d (no Rust encoder).
    const DATED_TAR_BZ2: &[u8] = &[
        0x42, 0x5a, 0x68, 0x39, 0x31, 0x41, 0x59, 0x26, 0x53, 0x59, 0xf2, 0x34, 0x3d, 0xeb, 0x00,
        0x00, 0x8e, 0x7b, 0x80, 0xc9, 0x00, 0x00, 0x02, 0x40, 0x00, 0x77, 0x80, 0x00, 0x00, 0xf0,
        0x00, 0x1e, 0x00, 0x08, 0x08, 0x20, 0x00, 0x74, 0x0a, 0xa8, 0xd0, 0xd4, 0x21, 0x93, 0x26,
        0x6a, 0x09, 0x29, 0xea, 0x04, 0x64, 0xd0, 0x19, 0x35, 0xd7, 0x7b, 0x04, 0x50, 0x05, 0xac,
        0xe8, 0x92, 0x10, 0xe5, 0xe1, 0xc1, 0xb8, 0x45, 0xc8, 0x64, 0xc2, 0x90, 0x12, 0x06, 0x2a,
        0xd3, 0xe2, 0x1c, 0x56, 0x85, 0x93, 0x01, 0xca, 0xc3, 0x9b, 0x33, 0x8f, 0xad, 0x25, 0x59,
        0xc7, 0x49, 0x5b, 0x4f, 0x72, 0xab, 0x86, 0x11, 0x76, 0xa8, 0x94, 0xe1, 0x73, 0xaf, 0x11,
        0xf9, 0x96, 0x59, 0x5d, 0x4a, 0x1f, 0xc5, 0xdc, 0x91, 0x4e, 0x14, 0x24, 0x3c, 0x8d, 0x0f,
        0x7a, 0xc0,
    ];

    #[test]
    fn compressed_archives_are_dated_by_their_newest_file() {
        use std::io::Write as _;
        let data = tar(&[
            ("a", b'0', b"1", 1_700_000_000),
            ("b", b'0', b"2", 1_700_000_500),
        ]);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&data).expect("gzip");
        assert_eq!(
            archive_time(&gz.finish().expect("gzip")),
            Ok(Some(1_700_000_500))
        );
        let mut xz = Vec::new();
        lzma_rs::xz_compress(&mut data.as_slice(), &mut xz).expect("xz");
        assert_eq!(archive_time(&xz), Ok(Some(1_700_000_500)));
        let zstd = ruzstd::encoding::compress_to_vec(
            data.as_slice(),
            ruzstd::encoding::CompressionLevel::Fastest,
        );
        assert_eq!(archive_time(&zstd), Ok(Some(1_700_000_500)));
        assert_eq!(archive_time(DATED_TAR_BZ2), Ok(Some(1_700_000_700)));
        // Compressed data that is no tar archive has no time, as plain data.
        let mut plain = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        plain.write_all(b"FROM scratch\n").expect("gzip");
        assert_eq!(archive_time(&plain.finish().expect("gzip")), Ok(None));
    }

    #[test]
    fn commits_are_dated_by_their_committer() {
        let commit = b"tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nauthor A <a@x> 1600000000 +0200\ncommitter C <c@x> 1700000101 -0500\n\nmsg\n";
        assert_eq!(commit_time(commit), Ok(1_700_000_101));
        let signed = b"tree t\nauthor A <a@x> 1 +0000\ncommitter C <c@x> 2 +0000\ngpgsig -----BEGIN PGP SIGNATURE-----\n abc\n -----END PGP SIGNATURE-----\n\nmsg\n";
        assert_eq!(commit_time(signed), Ok(2));
        assert!(commit_time(b"tree t\nauthor A <a@x> 1 +0000\n\nmsg").is_err());
        assert!(commit_time(b"object abc\ntype commit\n").is_err());
    }
}
