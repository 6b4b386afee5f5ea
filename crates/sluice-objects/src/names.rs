//! Validation of bucket names and object keys, before anything is stored.
//!
//! Blobs are never named after keys, so a key cannot escape the data
//! directory whatever it holds; these checks exist so that every backend
//! (including `object_store` paths, which reject `..` segments) accepts the
//! same keys, and so that bad input gets a clear error instead of an
//! unreadable object.

use crate::error::{ObjectError, ObjectResult};

/// S3's limit on the UTF-8 length of a key.
pub const MAX_KEY_BYTES: usize = 1024;

/// Accepts any UTF-8 key S3 accepts, except NUL and `.`/`..` path segments.
pub fn check_key(key: &str) -> ObjectResult<()> {
    let invalid = |reason| {
        Err(ObjectError::InvalidKey {
            key: key.to_string(),
            reason,
        })
    };
    if key.is_empty() {
        return invalid("a key must not be empty");
    }
    if key.len() > MAX_KEY_BYTES {
        return invalid("a key must be at most 1024 bytes of UTF-8");
    }
    if key.contains('\0') {
        return invalid("a key must not contain NUL");
    }
    if key
        .split('/')
        .any(|segment| segment == ".." || segment == ".")
    {
        return invalid("a key must not contain `.` or `..` path segments");
    }
    Ok(())
}

/// S3's bucket naming rules (3–63 chars of `a-z0-9.-`, starting and ending
/// alphanumeric), widened to allow `_`, which Sluice resource names may use.
pub fn check_bucket_name(bucket: &str) -> ObjectResult<()> {
    let invalid = |reason| {
        Err(ObjectError::InvalidBucketName {
            bucket: bucket.to_string(),
            reason,
        })
    };
    if !(3..=63).contains(&bucket.len()) {
        return invalid("it must be 3 to 63 characters long");
    }
    let allowed =
        |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '-' | '_');
    if !bucket.chars().all(allowed) {
        return invalid("it may hold only lowercase letters, digits, `.`, `-` and `_`");
    }
    let edge_ok = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
    if !edge_ok(bucket.chars().next()) || !edge_ok(bucket.chars().last()) {
        return invalid("it must start and end with a letter or digit");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys() {
        for good in [
            "a",
            "with space",
            "a+b",
            "ünï/cödé",
            "a..b",
            "dir/",
            "/lead",
        ] {
            assert!(check_key(good).is_ok(), "{good}");
        }
        for bad in ["", "a\0b", "../x", "a/../b", "a/..", "./a", "a/./b"] {
            assert!(check_key(bad).is_err(), "{bad:?}");
        }
        assert!(check_key(&"k".repeat(1025)).is_err());
    }

    #[test]
    fn bucket_names() {
        for good in ["abc", "my-bucket", "in_bound", "a.b.c"] {
            assert!(check_bucket_name(good).is_ok(), "{good}");
        }
        for bad in ["ab", "Upper", "-x-", "x-", "a b", &"a".repeat(64)] {
            assert!(check_bucket_name(bad).is_err(), "{bad}");
        }
    }
}
