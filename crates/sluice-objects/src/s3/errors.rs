//! The protocol edge's only translation of domain errors into S3 error codes
//! (and so HTTP statuses), with messages that name the bucket/key.

use crate::blob::BlobError;
use crate::error::ObjectError;
use s3s::{S3Error, S3ErrorCode};

pub(super) fn to_s3_error(error: ObjectError) -> S3Error {
    use S3ErrorCode as Code;
    let message = error.to_string();
    let code = match &error {
        ObjectError::NoSuchBucket { .. } => Code::NoSuchBucket,
        ObjectError::InvalidBucketName { .. } => Code::InvalidBucketName,
        ObjectError::BucketNotEmpty { .. } => Code::BucketNotEmpty,
        ObjectError::NoSuchKey { .. } => Code::NoSuchKey,
        ObjectError::NoSuchVersion { .. } => Code::NoSuchVersion,
        ObjectError::DeleteMarker {
            addressed_by_version: true,
            ..
        } => Code::MethodNotAllowed,
        ObjectError::DeleteMarker { .. } => Code::NoSuchKey,
        ObjectError::InvalidKey { .. } => Code::InvalidArgument,
        ObjectError::NoSuchUpload { .. } => Code::NoSuchUpload,
        ObjectError::InvalidPart { .. } => Code::InvalidPart,
        ObjectError::InvalidPartOrder => Code::InvalidPartOrder,
        ObjectError::EntityTooSmall { .. } => Code::EntityTooSmall,
        ObjectError::InvalidPartNumber { .. } => Code::InvalidArgument,
        ObjectError::PreconditionFailed { .. } => Code::PreconditionFailed,
        ObjectError::NotModified { .. } => Code::NotModified,
        ObjectError::InvalidRange { .. } => Code::InvalidRange,
        ObjectError::IncompleteBody { .. } => Code::IncompleteBody,
        ObjectError::BadDigest => Code::BadDigest,
        ObjectError::Blob(BlobError::StorageFull { .. }) => Code::ServiceUnavailable,
        ObjectError::Blob(BlobError::Body { .. }) => Code::IncompleteBody,
        ObjectError::Blob(_)
        | ObjectError::Catalog(_)
        | ObjectError::CatalogUnusable { .. }
        | ObjectError::StorageConfig { .. } => Code::InternalError,
    };
    if code == Code::InternalError {
        tracing::error!(error = %message, "object operation failed");
    }
    let mut s3_error = S3Error::with_message(code, message);
    if let ObjectError::DeleteMarker { version_id, .. } = &error {
        let mut headers = hyper::HeaderMap::new();
        headers.insert(
            "x-amz-delete-marker",
            hyper::header::HeaderValue::from_static("true"),
        );
        if let Ok(value) = hyper::header::HeaderValue::from_str(version_id) {
            headers.insert("x-amz-version-id", value);
        }
        s3_error.set_headers(headers);
    }
    s3_error
}

/// `?` for domain results inside S3 operations.
pub(super) trait IntoS3<T> {
    fn s3(self) -> s3s::S3Result<T>;
}

impl<T> IntoS3<T> for Result<T, ObjectError> {
    fn s3(self) -> s3s::S3Result<T> {
        self.map_err(to_s3_error)
    }
}
