//! Writing objects: PUT, copy, move, and multipart uploads.
//!
//! Every write streams bytes into a fresh blob first and commits the catalog
//! row (with its event) second. If the commit fails, the blob is deleted; if
//! the process dies in between, the blob is an orphan that no row names —
//! never a partial object, never an event without an object.

use super::ObjectService;
use crate::blob::{BlobStore, ByteStream, WrittenBlob};
use crate::catalog::{CompletedPart, NewVersion, ObjectVersion, PartInfo, Segment};
use crate::error::{ObjectError, ObjectResult};
use crate::etag::single_part_etag;
use crate::names::check_key;
use crate::scratch::ScratchFile;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Options of a PUT.
#[derive(Debug, Clone, Default)]
pub struct PutObjectOptions {
    pub content_type: Option<String>,
    pub user_metadata: BTreeMap<String, String>,
    /// The declared `Content-Length`: a body that ends early is refused.
    pub content_length: Option<u64>,
    /// The `Content-MD5` digest the client sent (raw bytes).
    pub content_md5: Option<[u8; 16]>,
}

impl ObjectService {
    /// Stores `bytes` as one object (Sluice's own writes, such as payloads
    /// passed by reference).
    pub async fn put_bytes(
        &self,
        bucket: &str,
        key: &str,
        bytes: Vec<u8>,
        content_type: &str,
    ) -> ObjectResult<ObjectVersion> {
        let length = bytes.len() as u64;
        let body: crate::ByteStream = Box::pin(futures::stream::once(async move {
            Ok(bytes::Bytes::from(bytes))
        }));
        let options = PutObjectOptions {
            content_type: Some(content_type.to_string()),
            content_length: Some(length),
            ..Default::default()
        };
        self.put_object(bucket, key, body, options).await
    }

    /// Stores a finished scratch file as one new version: the object appears
    /// only once every byte is in, so readers never see a partial file. The
    /// file is synced and, where the bucket's blobs are on its disk, renamed
    /// into place; its size and MD5 were computed as it was written.
    pub async fn put_file(
        &self,
        bucket: &str,
        key: &str,
        file: ScratchFile,
        content_type: &str,
    ) -> ObjectResult<ObjectVersion> {
        let io = |source| {
            ObjectError::Blob(crate::BlobError::Io {
                backend: "a scratch file".into(),
                source,
            })
        };
        check_key(key)?;
        self.catalog.versioning(bucket).await?;
        let sealed = tokio::task::spawn_blocking(move || file.seal())
            .await
            .map_err(|e| io(std::io::Error::other(e)))?
            .map_err(io)?;
        let blobs = self.blobs_for(bucket);
        let written = match blobs.adopt(&sealed.path, sealed.size, sealed.md5).await? {
            Some(written) => written,
            None => {
                let file = tokio::fs::File::open(&sealed.path).await.map_err(io)?;
                let body: ByteStream = Box::pin(tokio_util::io::ReaderStream::with_capacity(
                    file,
                    256 * 1024,
                ));
                write_checked(&blobs, body, Some(sealed.size), Some(sealed.md5)).await?
            }
        };
        let version = NewVersion {
            bucket: bucket.to_string(),
            key: key.to_string(),
            size: written.size,
            etag: single_part_etag(&written.md5),
            content_type: Some(content_type.to_string()),
            user_metadata: BTreeMap::new(),
            segments: vec![Segment {
                blob: written.id.clone(),
                size: written.size,
            }],
            parts_count: None,
        };
        self.commit_or_discard(&blobs, version, "ObjectCreated:Put", &[written.id])
            .await
    }

    /// Stores `body` as a new version of `bucket`/`key` (`ObjectCreated:Put`).
    pub async fn put_object(
        &self,
        bucket: &str,
        key: &str,
        body: ByteStream,
        options: PutObjectOptions,
    ) -> ObjectResult<ObjectVersion> {
        check_key(key)?;
        self.catalog.versioning(bucket).await?;
        let blobs = self.blobs_for(bucket);
        let written =
            write_checked(&blobs, body, options.content_length, options.content_md5).await?;
        let version = NewVersion {
            bucket: bucket.to_string(),
            key: key.to_string(),
            size: written.size,
            etag: single_part_etag(&written.md5),
            content_type: options.content_type,
            user_metadata: options.user_metadata,
            segments: vec![Segment {
                blob: written.id.clone(),
                size: written.size,
            }],
            parts_count: None,
        };
        self.commit_or_discard(&blobs, version, "ObjectCreated:Put", &[written.id])
            .await
    }

    /// Copies the latest version (or `source_version`) of a source object to
    /// a new version of the destination (`ObjectCreated:Copy`). Metadata is
    /// copied unless `replace_metadata` gives the new content type and metadata.
    pub async fn copy_object_version(
        &self,
        (source_bucket, source_key, source_version): (&str, &str, Option<&str>),
        (target_bucket, target_key): (&str, &str),
        replace_metadata: Option<(Option<String>, BTreeMap<String, String>)>,
    ) -> ObjectResult<ObjectVersion> {
        check_key(target_key)?;
        let source = self
            .readable_version(source_bucket, source_key, source_version)
            .await?;
        self.catalog.versioning(target_bucket).await?;
        let (source_blobs, target_blobs) =
            (self.blobs_for(source_bucket), self.blobs_for(target_bucket));
        let mut segments = Vec::with_capacity(source.segments.len());
        for segment in &source.segments {
            let copied = if Arc::ptr_eq(&source_blobs, &target_blobs) {
                source_blobs.copy(&segment.blob).await
            } else {
                let bytes = source_blobs.read(&segment.blob, 0..segment.size).await?;
                target_blobs.write(bytes).await.map(|written| written.id)
            };
            match copied {
                Ok(blob) => segments.push(Segment {
                    blob,
                    size: segment.size,
                }),
                Err(error) => {
                    let written: Vec<_> = segments.iter().map(|s| s.blob.clone()).collect();
                    discard(&target_blobs, &written).await;
                    return Err(error.into());
                }
            }
        }
        let (content_type, user_metadata) =
            replace_metadata.unwrap_or((source.content_type.clone(), source.user_metadata.clone()));
        let blobs: Vec<_> = segments.iter().map(|s| s.blob.clone()).collect();
        let version = NewVersion {
            bucket: target_bucket.to_string(),
            key: target_key.to_string(),
            size: source.size,
            etag: source.etag.clone(),
            content_type,
            user_metadata,
            segments,
            parts_count: source.parts_count,
        };
        self.commit_or_discard(&target_blobs, version, "ObjectCreated:Copy", &blobs)
            .await
    }

    /// Copies the latest version of an object, keeping its metadata.
    pub async fn copy_object(
        &self,
        src_bucket: &str,
        src_key: &str,
        dst_bucket: &str,
        dst_key: &str,
    ) -> ObjectResult<ObjectVersion> {
        self.copy_object_version((src_bucket, src_key, None), (dst_bucket, dst_key), None)
            .await
    }

    /// Copies, then deletes the source (a copy event, then a removal event).
    /// Not atomic: a crash in between leaves both objects, never neither.
    pub async fn move_object(
        &self,
        src_bucket: &str,
        src_key: &str,
        dst_bucket: &str,
        dst_key: &str,
    ) -> ObjectResult<ObjectVersion> {
        let copied = self
            .copy_object(src_bucket, src_key, dst_bucket, dst_key)
            .await?;
        if (src_bucket, src_key) != (dst_bucket, dst_key) {
            self.delete_object(src_bucket, src_key, None).await?;
        }
        Ok(copied)
    }

    /// Starts a multipart upload; returns its id.
    pub async fn create_multipart_upload(
        &self,
        bucket: &str,
        key: &str,
        options: PutObjectOptions,
    ) -> ObjectResult<String> {
        check_key(key)?;
        self.catalog
            .create_upload(bucket, key, options.content_type, options.user_metadata)
            .await
    }

    /// Stores one part; returns its ETag (without quotes).
    pub async fn upload_part(
        &self,
        (bucket, key, upload_id): (&str, &str, &str),
        part_number: i32,
        body: ByteStream,
        content_length: Option<u64>,
        content_md5: Option<[u8; 16]>,
    ) -> ObjectResult<String> {
        self.catalog.upload(bucket, key, upload_id).await?;
        let blobs = self.blobs_for(bucket);
        let written = write_checked(&blobs, body, content_length, content_md5).await?;
        let id = written.id.clone();
        match self
            .catalog
            .record_part(bucket, key, upload_id, part_number, written)
            .await
        {
            Ok(etag) => Ok(etag),
            Err(error) => {
                discard(&blobs, &[id]).await;
                Err(error)
            }
        }
    }

    pub async fn list_parts(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        after_part: i32,
        limit: usize,
    ) -> ObjectResult<Vec<PartInfo>> {
        self.catalog
            .list_parts(bucket, key, upload_id, after_part, limit)
            .await
    }

    /// Completes an upload (`ObjectCreated:CompleteMultipartUpload`).
    pub async fn complete_multipart_upload(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        parts: Vec<CompletedPart>,
    ) -> ObjectResult<ObjectVersion> {
        let version = self
            .catalog
            .complete_upload(bucket, key, upload_id, parts)
            .await?;
        self.collect_garbage().await;
        Ok(version)
    }

    /// Aborts an upload and deletes its parts. No event.
    pub async fn abort_multipart_upload(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
    ) -> ObjectResult<()> {
        self.catalog.abort_upload(bucket, key, upload_id).await?;
        self.collect_garbage().await;
        Ok(())
    }

    async fn commit_or_discard(
        &self,
        blobs: &Arc<dyn BlobStore>,
        version: NewVersion,
        event_name: &'static str,
        written: &[crate::blob::BlobId],
    ) -> ObjectResult<ObjectVersion> {
        match self.catalog.commit_version(version, event_name).await {
            Ok(committed) => {
                self.collect_garbage().await;
                Ok(committed)
            }
            Err(error) => {
                discard(blobs, written).await;
                Err(error)
            }
        }
    }
}

/// Writes a blob and checks it against the declared length and MD5; a blob
/// that fails a check is deleted before the error is returned.
async fn write_checked(
    blobs: &Arc<dyn BlobStore>,
    body: ByteStream,
    content_length: Option<u64>,
    content_md5: Option<[u8; 16]>,
) -> ObjectResult<WrittenBlob> {
    let written = blobs.write(body).await?;
    let problem = match (content_length, content_md5) {
        (Some(expected), _) if expected != written.size => Some(ObjectError::IncompleteBody {
            expected,
            received: written.size,
        }),
        (_, Some(md5)) if md5 != written.md5 => Some(ObjectError::BadDigest),
        _ => None,
    };
    match problem {
        Some(problem) => {
            discard(blobs, std::slice::from_ref(&written.id)).await;
            Err(problem)
        }
        None => Ok(written),
    }
}

async fn discard(blobs: &Arc<dyn BlobStore>, ids: &[crate::blob::BlobId]) {
    for id in ids {
        if let Err(error) = blobs.delete(id).await {
            tracing::warn!(%error, blob = %id, "cannot delete a blob of a failed write");
        }
    }
}
