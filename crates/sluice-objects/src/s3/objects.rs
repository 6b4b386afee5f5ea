//! Object operations: PutObject, GetObject, HeadObject, DeleteObject(s), CopyObject.

use super::convert::{self, conditions, etag, timestamp};
use super::errors::{to_s3_error, IntoS3};
use crate::catalog::ObjectVersion;
use crate::service::{GetObjectOptions, ObjectService, PutObjectOptions};
use s3s::dto::*;
use s3s::{S3Request, S3Response, S3Result};

/// The version id header: absent for objects of never-versioned buckets.
fn version_header(version: &ObjectVersion) -> Option<String> {
    (version.version_id != crate::catalog::NULL_VERSION_ID).then(|| version.version_id.clone())
}

pub(super) async fn put_object(
    service: &ObjectService,
    req: S3Request<PutObjectInput>,
) -> S3Result<S3Response<PutObjectOutput>> {
    let input = req.input;
    let options = PutObjectOptions {
        content_type: input.content_type,
        user_metadata: convert::metadata_in(input.metadata),
        content_length: input.content_length.and_then(|l| u64::try_from(l).ok()),
        content_md5: convert::content_md5(input.content_md5.as_deref())?,
    };
    let body = convert::request_body(input.body);
    let version = service
        .put_object(&input.bucket, &input.key, body, options)
        .await
        .s3()?;
    let output = PutObjectOutput {
        e_tag: Some(etag(&version.etag)),
        size: Some(version.size as i64),
        version_id: version_header(&version),
        ..Default::default()
    };
    Ok(S3Response::new(output))
}

pub(super) async fn get_object(
    service: &ObjectService,
    req: S3Request<GetObjectInput>,
) -> S3Result<S3Response<GetObjectOutput>> {
    let input = req.input;
    let options = GetObjectOptions {
        version_id: input.version_id,
        range: convert::byte_range(input.range.as_ref()),
        conditions: conditions(
            input.if_match.as_ref(),
            input.if_none_match.as_ref(),
            input.if_modified_since.as_ref(),
            input.if_unmodified_since.as_ref(),
        ),
    };
    let object = service
        .get_object(&input.bucket, &input.key, &options)
        .await
        .s3()?;
    let version = &object.version;
    let length = object.range.end - object.range.start;
    let output = GetObjectOutput {
        accept_ranges: Some("bytes".into()),
        content_length: Some(length as i64),
        content_range: object.partial.then(|| {
            format!(
                "bytes {}-{}/{}",
                object.range.start,
                object.range.end.saturating_sub(1),
                version.size
            )
        }),
        content_type: version.content_type.clone(),
        e_tag: Some(etag(&version.etag)),
        last_modified: Some(timestamp(version.last_modified_ms)),
        metadata: convert::metadata_out(&version.user_metadata),
        parts_count: version.parts_count.map(|n| n as i32),
        version_id: version_header(version),
        body: Some(convert::response_body(object.bytes)),
        ..Default::default()
    };
    let mut response = S3Response::new(output);
    if object.partial {
        response.status = Some(hyper::StatusCode::PARTIAL_CONTENT);
    }
    Ok(response)
}

pub(super) async fn head_object(
    service: &ObjectService,
    req: S3Request<HeadObjectInput>,
) -> S3Result<S3Response<HeadObjectOutput>> {
    let input = req.input;
    let options = GetObjectOptions {
        version_id: input.version_id,
        range: convert::byte_range(input.range.as_ref()),
        conditions: conditions(
            input.if_match.as_ref(),
            input.if_none_match.as_ref(),
            input.if_modified_since.as_ref(),
            input.if_unmodified_since.as_ref(),
        ),
    };
    let version = service
        .head_object(&input.bucket, &input.key, &options)
        .await
        .s3()?;
    let output = HeadObjectOutput {
        accept_ranges: Some("bytes".into()),
        content_length: Some(version.size as i64),
        content_type: version.content_type.clone(),
        e_tag: Some(etag(&version.etag)),
        last_modified: Some(timestamp(version.last_modified_ms)),
        metadata: convert::metadata_out(&version.user_metadata),
        parts_count: version.parts_count.map(|n| n as i32),
        version_id: version_header(&version),
        ..Default::default()
    };
    Ok(S3Response::new(output))
}

pub(super) async fn delete_object(
    service: &ObjectService,
    req: S3Request<DeleteObjectInput>,
) -> S3Result<S3Response<DeleteObjectOutput>> {
    let input = req.input;
    crate::names::check_key(&input.key).s3()?;
    let outcome = service
        .delete_object(&input.bucket, &input.key, input.version_id.as_deref())
        .await
        .s3()?;
    let output = DeleteObjectOutput {
        delete_marker: outcome.delete_marker.then_some(true),
        version_id: outcome
            .version_id
            .filter(|v| v != crate::catalog::NULL_VERSION_ID || outcome.delete_marker),
        ..Default::default()
    };
    Ok(S3Response::new(output))
}

pub(super) async fn delete_objects(
    service: &ObjectService,
    req: S3Request<DeleteObjectsInput>,
) -> S3Result<S3Response<DeleteObjectsOutput>> {
    let input = req.input;
    service.versioning(&input.bucket).await.s3()?;
    let quiet = input.delete.quiet.unwrap_or(false);
    let (mut deleted, mut errors) = (Vec::new(), Vec::new());
    for object in input.delete.objects {
        let result = match crate::names::check_key(&object.key) {
            Ok(()) => {
                service
                    .delete_object(&input.bucket, &object.key, object.version_id.as_deref())
                    .await
            }
            Err(error) => Err(error),
        };
        match result {
            Ok(outcome) if !quiet => deleted.push(DeletedObject {
                key: Some(object.key),
                version_id: object.version_id,
                delete_marker: outcome.delete_marker.then_some(true),
                delete_marker_version_id: outcome
                    .delete_marker
                    .then_some(outcome.version_id)
                    .flatten(),
            }),
            Ok(_) => {}
            Err(error) => {
                let s3_error = to_s3_error(error);
                errors.push(Error {
                    code: Some(s3_error.code().as_str().to_string()),
                    key: Some(object.key),
                    message: s3_error.message().map(str::to_string),
                    version_id: object.version_id,
                });
            }
        }
    }
    let output = DeleteObjectsOutput {
        deleted: Some(deleted),
        errors: Some(errors),
        ..Default::default()
    };
    Ok(S3Response::new(output))
}

pub(super) async fn copy_object(
    service: &ObjectService,
    req: S3Request<CopyObjectInput>,
) -> S3Result<S3Response<CopyObjectOutput>> {
    let input = req.input;
    let CopySource::Bucket {
        bucket: source_bucket,
        key: source_key,
        version_id: source_version,
    } = &input.copy_source
    else {
        return Err(s3s::s3_error!(
            NotImplemented,
            "only bucket/key copy sources are supported"
        ));
    };
    let source_options = GetObjectOptions {
        version_id: source_version.as_deref().map(str::to_string),
        range: None,
        conditions: conditions(
            input.copy_source_if_match.as_ref(),
            input.copy_source_if_none_match.as_ref(),
            input.copy_source_if_modified_since.as_ref(),
            input.copy_source_if_unmodified_since.as_ref(),
        ),
    };
    // A failed copy-source condition is 412 whichever header failed.
    service
        .head_object(source_bucket, source_key, &source_options)
        .await
        .map_err(|error| match error {
            crate::ObjectError::NotModified { key } => {
                to_s3_error(crate::ObjectError::PreconditionFailed { key })
            }
            other => to_s3_error(other),
        })?;
    let replace = input
        .metadata_directive
        .as_ref()
        .is_some_and(|d| d.as_str() == MetadataDirective::REPLACE);
    let replacement = replace.then(|| {
        (
            input.content_type.clone(),
            convert::metadata_in(input.metadata.clone()),
        )
    });
    let version = service
        .copy_object_version(
            (source_bucket, source_key, source_version.as_deref()),
            (&input.bucket, &input.key),
            replacement,
        )
        .await
        .s3()?;
    let output = CopyObjectOutput {
        copy_object_result: Some(CopyObjectResult {
            e_tag: Some(etag(&version.etag)),
            last_modified: Some(timestamp(version.last_modified_ms)),
            ..Default::default()
        }),
        version_id: version_header(&version),
        copy_source_version_id: source_version.as_deref().map(str::to_string),
        ..Default::default()
    };
    Ok(S3Response::new(output))
}
