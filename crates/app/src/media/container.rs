//! Checks that a video's container holds together from its first byte to its last, so that a
//! file is not taken for a video by its first bytes alone (an HTML page behind an `ftyp` box).

/// Why a container was refused.
pub type Refusal = &'static str;

/// MP4 (ISO BMFF): top-level boxes that tile the file exactly, `ftyp` first, with a `moov`
/// (the index) and an `mdat` (the media).
pub fn check_mp4(bytes: &[u8]) -> Result<(), Refusal> {
    let mut at = 0usize;
    let (mut moov, mut mdat) = (false, false);
    while at < bytes.len() {
        let header = bytes.get(at..at + 8).ok_or("ends inside a box header")?;
        let kind = &header[4..8];
        let size = match u32::from_be_bytes(header[..4].try_into().expect("four bytes")) {
            0 => bytes.len() - at,
            1 => {
                let large = bytes
                    .get(at + 8..at + 16)
                    .ok_or("ends inside a box header")?;
                let large = u64::from_be_bytes(large.try_into().expect("eight bytes"));
                usize::try_from(large).map_err(|_| "has a box larger than the file")?
            }
            n => n as usize,
        };
        if size < 8 || size > bytes.len() - at {
            return Err("has a box that does not fit the file");
        }
        if at == 0 && kind != b"ftyp" {
            return Err("does not begin with a file type box");
        }
        if !kind.iter().all(|b| b.is_ascii_graphic() || *b == b' ') {
            return Err("has a box of no known kind");
        }
        moov |= kind == b"moov";
        mdat |= kind == b"mdat";
        at += size;
    }
    match (moov, mdat) {
        (true, true) => Ok(()),
        _ => Err("lacks its movie index (moov) or its media (mdat)"),
    }
}

const EBML: u32 = 0x1A45_DFA3;
const DOC_TYPE: u32 = 0x4282;
const SEGMENT: u32 = 0x1853_8067;
const INFO: u32 = 0x1549_A966;
const TRACKS: u32 = 0x1654_AE6B;

/// WebM (EBML): a header whose document type is `webm`, then one segment whose elements fit
/// it, among them the segment's info and its tracks. Sizes may be "unknown" where streaming
/// writers leave them so (the element then runs to the end).
pub fn check_webm(bytes: &[u8]) -> Result<(), Refusal> {
    let (id, header) = element(bytes, 0)?;
    if id != EBML {
        return Err("does not begin with an EBML header");
    }
    let header_end = header.end.ok_or("has an EBML header of unknown size")?;
    if !children(bytes, header.start, header_end)?
        .iter()
        .any(|(id, body)| *id == DOC_TYPE && &bytes[body.clone()] == b"webm")
    {
        return Err("is not a WebM document");
    }
    let (id, segment) = element(bytes, header_end)?;
    if id != SEGMENT {
        return Err("has no segment after its header");
    }
    let end = segment.end.unwrap_or(bytes.len());
    let found = children(bytes, segment.start, end)?;
    let has = |wanted: u32| found.iter().any(|(id, _)| *id == wanted);
    match (has(INFO), has(TRACKS)) {
        (true, true) => Ok(()),
        _ => Err("lacks its segment info or tracks"),
    }
}

/// Where an element's body starts, and where it ends (`None`: unknown size, to the end).
struct Body {
    start: usize,
    end: Option<usize>,
}

/// The element at `at`: its id and body, which must fit the file.
fn element(bytes: &[u8], at: usize) -> Result<(u32, Body), Refusal> {
    let (id, id_len) = vint(bytes, at, true)?;
    let (size, size_len) = vint(bytes, at + id_len, false)?;
    let start = at + id_len + size_len;
    let unknown = size == (1u64 << (7 * size_len)) - 1;
    let end = match unknown {
        true => None,
        false => {
            let end = usize::try_from(size)
                .ok()
                .and_then(|size| start.checked_add(size))
                .filter(|end| *end <= bytes.len())
                .ok_or("has an element that does not fit the file")?;
            Some(end)
        }
    };
    Ok((id as u32, Body { start, end }))
}

/// The elements between `start` and `end`, each with its body's range; they must tile it. An
/// element of unknown size is the last one read.
fn children(
    bytes: &[u8],
    start: usize,
    end: usize,
) -> Result<Vec<(u32, std::ops::Range<usize>)>, Refusal> {
    let mut found = Vec::new();
    let mut at = start;
    while at < end {
        let (id, body) = element(&bytes[..end], at)?;
        let Some(body_end) = body.end else {
            found.push((id, body.start..end));
            break;
        };
        found.push((id, body.start..body_end));
        at = body_end;
    }
    Ok(found)
}

/// An EBML variable-length integer at `at`: its value (an id keeps its length marker) and
/// length in bytes.
fn vint(bytes: &[u8], at: usize, keep_marker: bool) -> Result<(u64, usize), Refusal> {
    let first = *bytes.get(at).ok_or("ends inside an element header")?;
    let len = first.leading_zeros() as usize + 1;
    let max = if keep_marker { 4 } else { 8 };
    if len > max {
        return Err("has an element header of no valid length");
    }
    let raw = bytes
        .get(at..at + len)
        .ok_or("ends inside an element header")?;
    let mut value = match keep_marker {
        true => u64::from(first),
        false => u64::from(first) & ((1u64 << (8 - len)) - 1),
    };
    for byte in &raw[1..] {
        value = (value << 8) | u64::from(*byte);
    }
    Ok((value, len))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mp4_box(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
        let mut out = ((body.len() + 8) as u32).to_be_bytes().to_vec();
        out.extend_from_slice(kind);
        out.extend_from_slice(body);
        out
    }

    fn mp4() -> Vec<u8> {
        let mut file = mp4_box(b"ftyp", b"mp42\0\0\0\0mp42isom");
        file.extend(mp4_box(b"moov", &[0; 40]));
        file.extend(mp4_box(b"mdat", &[9; 500]));
        file
    }

    fn ebml(id: &[u8], body: &[u8]) -> Vec<u8> {
        let mut out = id.to_vec();
        out.push(0x80 | body.len() as u8);
        out.extend_from_slice(body);
        out
    }

    fn webm() -> Vec<u8> {
        let mut file = ebml(&[0x1A, 0x45, 0xDF, 0xA3], &ebml(&[0x42, 0x82], b"webm"));
        let mut segment = ebml(&[0x15, 0x49, 0xA9, 0x66], &[1, 2, 3]);
        segment.extend(ebml(&[0x16, 0x54, 0xAE, 0x6B], &[4, 5]));
        file.extend(ebml(&[0x18, 0x53, 0x80, 0x67], &segment));
        file
    }

    #[test]
    fn whole_containers_pass() {
        assert_eq!(check_mp4(&mp4()), Ok(()));
        assert_eq!(check_webm(&webm()), Ok(()));
        // A streaming writer's segment of unknown size runs to the end.
        let mut streamed = webm();
        let at = streamed
            .windows(4)
            .position(|w| w == [0x18, 0x53, 0x80, 0x67])
            .unwrap();
        streamed[at + 4] = 0xFF;
        assert_eq!(check_webm(&streamed), Ok(()));
    }

    #[test]
    fn a_container_that_is_only_its_first_bytes_is_refused() {
        let mut disguised = mp4_box(b"ftyp", b"mp42\0\0\0\0mp42isom");
        disguised.extend_from_slice(b"<html><script>alert(1)</script></html>");
        assert!(check_mp4(&disguised).is_err());
        let mut cut = mp4();
        cut.truncate(cut.len() - 10);
        assert!(check_mp4(&cut).is_err());
        let mut no_index = mp4_box(b"ftyp", b"mp42");
        no_index.extend(mp4_box(b"mdat", &[1; 30]));
        assert!(check_mp4(&no_index).is_err());

        let mut cut = webm();
        cut.truncate(cut.len() - 1);
        assert!(check_webm(&cut).is_err());
        let mut other = webm();
        let at = other.windows(4).position(|w| w == b"webm").unwrap();
        other[at..at + 4].copy_from_slice(b"mkvx");
        assert!(check_webm(&other).is_err());
        assert!(check_webm(b"\x1A\x45\xDF\xA3\x9f\x42\x86\x81\x01\x42\x82\x84webm").is_err());
    }
}
