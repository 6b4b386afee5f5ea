//! ETags as S3 computes them: the hex MD5 of the bytes for a single PUT, and
//! `hex(md5(md5(part1) ‖ md5(part2) ‖ …))-N` for a multipart upload of N parts.

use md5::{Digest, Md5};

/// The ETag of an object stored in one piece.
pub fn single_part_etag(md5: &[u8; 16]) -> String {
    to_hex(md5)
}

/// The ETag of a completed multipart upload, from its parts' ETags in order.
/// Returns `None` if a part ETag is not a 32-digit hex MD5.
pub fn multipart_etag<'a>(part_etags: impl ExactSizeIterator<Item = &'a str>) -> Option<String> {
    let count = part_etags.len();
    let mut hasher = Md5::new();
    for etag in part_etags {
        hasher.update(from_hex(etag)?);
    }
    Some(format!("{}-{count}", to_hex(&hasher.finalize().into())))
}

pub fn to_hex(bytes: &[u8; 16]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn from_hex(text: &str) -> Option<[u8; 16]> {
    if text.len() != 32 {
        return None;
    }
    let mut out = [0u8; 16];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_and_multipart() {
        let empty: [u8; 16] = Md5::digest(b"").into();
        assert_eq!(single_part_etag(&empty), "d41d8cd98f00b204e9800998ecf8427e");
        // Two parts "a" and "b": md5(md5("a") ‖ md5("b")) with suffix -2.
        let a = to_hex(&Md5::digest(b"a").into());
        let b = to_hex(&Md5::digest(b"b").into());
        let mut joined = Vec::new();
        joined.extend_from_slice(&Md5::digest(b"a"));
        joined.extend_from_slice(&Md5::digest(b"b"));
        let expected = format!("{}-2", to_hex(&Md5::digest(&joined).into()));
        assert_eq!(
            multipart_etag([a.as_str(), b.as_str()].into_iter()),
            Some(expected)
        );
        assert_eq!(multipart_etag(["zz"].into_iter()), None);
    }
}
