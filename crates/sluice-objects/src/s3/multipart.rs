//! Multipart upload operations: Create, UploadPart, Complete, Abort,
//! ListParts, ListMultipartUploads.

use super::convert::{self, etag, timestamp};
use super::errors::IntoS3;
use crate::catalog::CompletedPart;
use crate::service::{ObjectService, PutObjectOptions};
use s3s::dto::*;
use s3s::{S3Request, S3Response, S3Result};

pub(super) async fn create(
    service: &ObjectService,
    input: CreateMultipartUploadInput,
) -> S3Result<S3Response<CreateMultipartUploadOutput>> {
    let options = PutObjectOptions {
        content_type: input.content_type,
        user_metadata: convert::metadata_in(input.metadata),
        ..Default::default()
    };
    let upload_id = service
        .create_multipart_upload(&input.bucket, &input.key, options)
        .await
        .s3()?;
    let output = CreateMultipartUploadOutput {
        bucket: Some(input.bucket),
        key: Some(input.key),
        upload_id: Some(upload_id),
        ..Default::default()
    };
    Ok(S3Response::new(output))
}

pub(super) async fn upload_part(
    service: &ObjectService,
    req: S3Request<UploadPartInput>,
) -> S3Result<S3Response<UploadPartOutput>> {
    let input = req.input;
    let content_md5 = convert::content_md5(input.content_md5.as_deref())?;
    let content_length = input.content_length.and_then(|l| u64::try_from(l).ok());
    let body = convert::request_body(input.body);
    let upload = (
        input.bucket.as_str(),
        input.key.as_str(),
        input.upload_id.as_str(),
    );
    let part_etag = service
        .upload_part(upload, input.part_number, body, content_length, content_md5)
        .await
        .s3()?;
    Ok(S3Response::new(UploadPartOutput {
        e_tag: Some(etag(&part_etag)),
        ..Default::default()
    }))
}

pub(super) async fn complete(
    service: &ObjectService,
    input: CompleteMultipartUploadInput,
) -> S3Result<S3Response<CompleteMultipartUploadOutput>> {
    let listed = input
        .multipart_upload
        .and_then(|u| u.parts)
        .unwrap_or_default();
    let mut parts = Vec::with_capacity(listed.len());
    for part in listed {
        let (Some(part_number), Some(part_etag)) = (part.part_number, part.e_tag) else {
            return Err(s3s::s3_error!(
                InvalidPart,
                "every part needs a PartNumber and an ETag"
            ));
        };
        parts.push(CompletedPart {
            part_number,
            etag: part_etag.value().to_string(),
        });
    }
    let version = service
        .complete_multipart_upload(&input.bucket, &input.key, &input.upload_id, parts)
        .await
        .s3()?;
    let output = CompleteMultipartUploadOutput {
        location: Some(format!(
            "/{}/{}",
            input.bucket,
            convert::url_encode(&input.key)
        )),
        bucket: Some(input.bucket),
        key: Some(input.key),
        e_tag: Some(etag(&version.etag)),
        version_id: (version.version_id != crate::catalog::NULL_VERSION_ID)
            .then_some(version.version_id),
        ..Default::default()
    };
    Ok(S3Response::new(output))
}

pub(super) async fn abort(
    service: &ObjectService,
    input: AbortMultipartUploadInput,
) -> S3Result<S3Response<AbortMultipartUploadOutput>> {
    service
        .abort_multipart_upload(&input.bucket, &input.key, &input.upload_id)
        .await
        .s3()?;
    Ok(S3Response::new(AbortMultipartUploadOutput::default()))
}

pub(super) async fn list_parts(
    service: &ObjectService,
    input: ListPartsInput,
) -> S3Result<S3Response<ListPartsOutput>> {
    let max_parts = input.max_parts.unwrap_or(1000).clamp(1, 1000);
    let after = input.part_number_marker.unwrap_or(0);
    let mut parts = service
        .list_parts(
            &input.bucket,
            &input.key,
            &input.upload_id,
            after,
            max_parts as usize + 1,
        )
        .await
        .s3()?;
    let truncated = parts.len() > max_parts as usize;
    parts.truncate(max_parts as usize);
    let output = ListPartsOutput {
        bucket: Some(input.bucket),
        key: Some(input.key),
        upload_id: Some(input.upload_id),
        max_parts: Some(max_parts),
        is_truncated: Some(truncated),
        part_number_marker: input.part_number_marker,
        next_part_number_marker: parts.last().filter(|_| truncated).map(|p| p.part_number),
        parts: Some(
            parts
                .into_iter()
                .map(|p| Part {
                    part_number: Some(p.part_number),
                    size: Some(p.size as i64),
                    e_tag: Some(etag(&p.etag)),
                    last_modified: Some(timestamp(p.last_modified_ms)),
                    ..Default::default()
                })
                .collect(),
        ),
        ..Default::default()
    };
    Ok(S3Response::new(output))
}

/// Lists uploads in progress (prefix filter only; one page of up to 1000).
pub(super) async fn list_uploads(
    service: &ObjectService,
    input: ListMultipartUploadsInput,
) -> S3Result<S3Response<ListMultipartUploadsOutput>> {
    let prefix = input.prefix.clone().unwrap_or_default();
    let uploads = service.catalog().list_uploads(&input.bucket).await.s3()?;
    let uploads: Vec<MultipartUpload> = uploads
        .into_iter()
        .filter(|u| u.key.starts_with(&prefix))
        .take(1000)
        .map(|u| MultipartUpload {
            key: Some(u.key),
            upload_id: Some(u.upload_id),
            initiated: Some(timestamp(u.initiated_ms)),
            ..Default::default()
        })
        .collect();
    let output = ListMultipartUploadsOutput {
        bucket: Some(input.bucket),
        prefix: input.prefix,
        max_uploads: Some(1000),
        is_truncated: Some(false),
        uploads: Some(uploads),
        ..Default::default()
    };
    Ok(S3Response::new(output))
}
