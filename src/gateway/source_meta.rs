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

/// The most a gzipped archive may unpack to here (its files are only dated, not kept).
const MAX_UNPACKED: u64 = 1 << 30;

/// The newest modification time of a regular file in a tar archive, also a gzipped one; `None`
/// for data that is not a tar archive (as 1.26 treats a download that is not one). Archives
/// compressed otherwise (bzip2, xz, zstd) are refused: stager cannot decompress them, and a
/// missing time would silently not reproduce.
pub(super) fn archive_time(data: &[u8]) -> Result<Option<i64>, String> {
    use std::io::Read as _;
    if data.starts_with(&[0x1F, 0x8B, 0x08]) {
        let mut tar = Vec::new();
        let unpacked = flate2::read::MultiGzDecoder::new(data)
            .take(MAX_UNPACKED + 1)
            .read_to_end(&mut tar)
            .map_err(|e| format!("SOURCE_DATE_EPOCH: reading the gzip archive: {e}"))?;
        if unpacked as u64 > MAX_UNPACKED {
            return Err(format!(
                "SOURCE_DATE_EPOCH: the gzip archive unpacks to more than {MAX_UNPACKED} bytes"
            ));
        }
        return tar_time(&tar);
    }
    const COMPRESSED: [&[u8]; 3] = [
        &[0x42, 0x5A, 0x68],
        &[0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00],
        &[0x28, 0xB5, 0x2F, 0xFD],
    ];
    if COMPRESSED.iter().any(|m| data.starts_with(m)) {
        return Err(
            "SOURCE_DATE_EPOCH from a bzip2, xz or zstd archive is not supported by stager; pass the time as a number"
                .into(),
        );
    }
    tar_time(data)
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
        assert!(archive_time(&[0x1F, 0x8B, 0x08, 0]).is_err());
        assert!(archive_time(&[0x28, 0xB5, 0x2F, 0xFD, 0]).is_err());
    }

    #[test]
    fn a_gzipped_archive_is_dated_by_its_newest_file() {
        use std::io::Write as _;
        let data = tar(&[
            ("a", b'0', b"1", 1_700_000_000),
            ("b", b'0', b"2", 1_700_000_500),
        ]);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&data).expect("gzip");
        let gz = gz.finish().expect("gzip");
        assert_eq!(archive_time(&gz), Ok(Some(1_700_000_500)));
        // Gzipped data that is no tar archive has no time, as plain data.
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
