//! Reading and removing objects: GET/HEAD with ranges and conditional
//! headers, listings, and deletes.

use super::ObjectService;
use crate::blob::{BlobStore, ByteStream};
use crate::catalog::{
    DeleteOutcome, ListObjectsQuery, ListVersionsQuery, ObjectListing, ObjectVersion,
    VersionListing,
};
use crate::error::{ObjectError, ObjectResult};
use futures::{StreamExt, TryStreamExt};
use std::ops::Range;
use std::sync::Arc;

/// A `Range: bytes=...` request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ByteRange {
    /// `bytes=first-` or `bytes=first-last` (inclusive).
    From { first: u64, last: Option<u64> },
    /// `bytes=-length`: the last `length` bytes.
    Suffix { length: u64 },
}

impl ByteRange {
    /// The half-open byte range within an object of `size` bytes, as HTTP
    /// defines it (a `last` past the end is clamped).
    pub fn resolve(self, size: u64) -> ObjectResult<Range<u64>> {
        match self {
            ByteRange::From { first, last } if first < size && last.is_none_or(|l| l >= first) => {
                Ok(first..last.map_or(size, |l| (l + 1).min(size)))
            }
            ByteRange::Suffix { length } if length > 0 && size > 0 => {
                Ok(size.saturating_sub(length)..size)
            }
            _ => Err(ObjectError::InvalidRange { size }),
        }
    }
}

/// Conditional request headers (ETags without quotes; `*` matches any).
#[derive(Debug, Clone, Default)]
pub struct Conditions {
    pub if_match: Option<String>,
    pub if_none_match: Option<String>,
    pub if_modified_since_ms: Option<i64>,
    pub if_unmodified_since_ms: Option<i64>,
}

impl Conditions {
    /// Evaluates the conditions in RFC 9110's order, as S3 does.
    pub fn check(&self, version: &ObjectVersion) -> ObjectResult<()> {
        let etag_matches = |wanted: &str| {
            wanted == "*"
                || wanted
                    .trim_matches('"')
                    .trim_start_matches("W/")
                    .trim_matches('"')
                    == version.etag
        };
        let seconds = |ms: i64| ms.div_euclid(1000);
        let modified = seconds(version.last_modified_ms);
        let failed = || ObjectError::PreconditionFailed {
            key: version.key.clone(),
        };
        match &self.if_match {
            Some(wanted) if !etag_matches(wanted) => return Err(failed()),
            None if self
                .if_unmodified_since_ms
                .is_some_and(|t| modified > seconds(t)) =>
            {
                return Err(failed())
            }
            _ => {}
        }
        let not_modified = || ObjectError::NotModified {
            key: version.key.clone(),
        };
        match &self.if_none_match {
            Some(wanted) if etag_matches(wanted) => Err(not_modified()),
            None if self
                .if_modified_since_ms
                .is_some_and(|t| modified <= seconds(t)) =>
            {
                Err(not_modified())
            }
            _ => Ok(()),
        }
    }
}

/// What to read.
#[derive(Debug, Clone, Default)]
pub struct GetObjectOptions {
    pub version_id: Option<String>,
    pub range: Option<ByteRange>,
    pub conditions: Conditions,
}

/// An object being read: its metadata, the byte range served, and the bytes.
pub struct ObjectBody {
    pub version: ObjectVersion,
    /// The half-open range of the object that `bytes` yields.
    pub range: Range<u64>,
    /// Whether a `Range` was requested (the response is then 206).
    pub partial: bool,
    pub bytes: ByteStream,
}

impl ObjectService {
    /// Metadata of the version a GET would read (HEAD).
    pub async fn head_object(
        &self,
        bucket: &str,
        key: &str,
        options: &GetObjectOptions,
    ) -> ObjectResult<ObjectVersion> {
        let version = self
            .readable_version(bucket, key, options.version_id.as_deref())
            .await?;
        options.conditions.check(&version)?;
        if let Some(range) = options.range {
            range.resolve(version.size)?;
        }
        Ok(version)
    }

    /// Streams an object (or a range of it).
    pub async fn get_object(
        &self,
        bucket: &str,
        key: &str,
        options: &GetObjectOptions,
    ) -> ObjectResult<ObjectBody> {
        let version = self.head_object(bucket, key, options).await?;
        let range = match options.range {
            Some(range) => range.resolve(version.size)?,
            None => 0..version.size,
        };
        let bytes = stream_range(self.blobs_for(bucket), &version, range.clone()).await?;
        Ok(ObjectBody {
            version,
            range,
            partial: options.range.is_some(),
            bytes,
        })
    }

    /// The version to read: refuses delete markers as S3 does.
    pub(crate) async fn readable_version(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
    ) -> ObjectResult<ObjectVersion> {
        let version = self.catalog.get_version(bucket, key, version_id).await?;
        if version.is_delete_marker {
            return Err(ObjectError::DeleteMarker {
                bucket: bucket.to_string(),
                key: key.to_string(),
                version_id: version.version_id,
                addressed_by_version: version_id.is_some(),
            });
        }
        Ok(version)
    }

    /// Deletes as S3's DeleteObject does (see [`crate::Catalog::delete_object`]).
    pub async fn delete_object(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
    ) -> ObjectResult<DeleteOutcome> {
        let outcome = self.catalog.delete_object(bucket, key, version_id).await?;
        self.collect_garbage().await;
        Ok(outcome)
    }

    pub async fn list_objects(
        &self,
        bucket: &str,
        query: ListObjectsQuery,
    ) -> ObjectResult<ObjectListing> {
        self.catalog.list_objects(bucket, query).await
    }

    pub async fn list_object_versions(
        &self,
        bucket: &str,
        query: ListVersionsQuery,
    ) -> ObjectResult<VersionListing> {
        self.catalog.list_versions(bucket, query).await
    }
}

/// Streams `range` of an object across its segments. The first segment is
/// opened before returning, so a missing blob is an error, not a cut body.
async fn stream_range(
    blobs: Arc<dyn BlobStore>,
    version: &ObjectVersion,
    range: Range<u64>,
) -> ObjectResult<ByteStream> {
    let mut pieces = Vec::new();
    let mut offset = 0u64;
    for segment in &version.segments {
        let segment_range = offset..offset + segment.size;
        let start = range.start.max(segment_range.start);
        let end = range.end.min(segment_range.end);
        if start < end {
            pieces.push((segment.blob.clone(), start - offset..end - offset));
        }
        offset += segment.size;
    }
    let mut pieces = pieces.into_iter();
    let Some((first_blob, first_range)) = pieces.next() else {
        return Ok(Box::pin(futures::stream::empty()));
    };
    let first = blobs.read(&first_blob, first_range).await?;
    let rest = futures::stream::iter(pieces)
        .then(move |(blob, range)| {
            let blobs = Arc::clone(&blobs);
            async move {
                blobs
                    .read(&blob, range)
                    .await
                    .map_err(std::io::Error::other)
            }
        })
        .try_flatten();
    Ok(Box::pin(first.chain(rest)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        let from = |first, last| ByteRange::From { first, last };
        assert_eq!(from(0, Some(0)).resolve(10).unwrap(), 0..1);
        assert_eq!(from(5, None).resolve(10).unwrap(), 5..10);
        assert_eq!(from(5, Some(100)).resolve(10).unwrap(), 5..10);
        assert_eq!(ByteRange::Suffix { length: 3 }.resolve(10).unwrap(), 7..10);
        assert_eq!(ByteRange::Suffix { length: 30 }.resolve(10).unwrap(), 0..10);
        assert!(from(10, None).resolve(10).is_err());
        assert!(from(0, None).resolve(0).is_err());
        assert!(ByteRange::Suffix { length: 0 }.resolve(10).is_err());
    }
}
