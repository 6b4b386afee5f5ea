//! Bucket operations and listings: ListBuckets, HeadBucket, CreateBucket,
//! DeleteBucket, GetBucketLocation, Get/PutBucketVersioning, ListObjects(V2),
//! ListObjectVersions.

use super::convert::{self, decode_token, encode_token, etag, timestamp};
use super::errors::IntoS3;
use crate::catalog::{ListObjectsQuery, ListVersionsQuery, ObjectVersion, VersioningState};
use crate::service::ObjectService;
use s3s::dto::*;
use s3s::{S3Response, S3Result};

/// S3's default and maximum page size.
const MAX_KEYS: i32 = 1000;

fn page_size(max_keys: Option<i32>) -> usize {
    max_keys.unwrap_or(MAX_KEYS).clamp(0, MAX_KEYS) as usize
}

pub(super) async fn list_buckets(
    service: &ObjectService,
) -> S3Result<S3Response<ListBucketsOutput>> {
    let buckets = service.catalog().list_buckets().await.s3()?;
    let buckets = buckets
        .into_iter()
        .map(|b| Bucket {
            name: Some(b.name),
            creation_date: Some(timestamp(b.created_ms)),
            ..Default::default()
        })
        .collect();
    let owner = Owner {
        display_name: Some("sluice".into()),
        id: Some("sluice".into()),
    };
    Ok(S3Response::new(ListBucketsOutput {
        buckets: Some(buckets),
        owner: Some(owner),
        ..Default::default()
    }))
}

pub(super) async fn head_bucket(
    service: &ObjectService,
    bucket: &str,
) -> S3Result<S3Response<HeadBucketOutput>> {
    service.versioning(bucket).await.s3()?;
    Ok(S3Response::new(HeadBucketOutput {
        bucket_location_name: Some(service.region().to_string()),
        ..Default::default()
    }))
}

pub(super) async fn get_bucket_versioning(
    service: &ObjectService,
    bucket: &str,
) -> S3Result<S3Response<GetBucketVersioningOutput>> {
    let status = match service.versioning(bucket).await.s3()? {
        VersioningState::Unversioned => None,
        VersioningState::Enabled => Some(BucketVersioningStatus::from_static(
            BucketVersioningStatus::ENABLED,
        )),
        VersioningState::Suspended => Some(BucketVersioningStatus::from_static(
            BucketVersioningStatus::SUSPENDED,
        )),
    };
    Ok(S3Response::new(GetBucketVersioningOutput {
        status,
        ..Default::default()
    }))
}

pub(super) async fn put_bucket_versioning(
    service: &ObjectService,
    input: PutBucketVersioningInput,
) -> S3Result<S3Response<PutBucketVersioningOutput>> {
    let enabled = input
        .versioning_configuration
        .status
        .as_ref()
        .is_some_and(|s| s.as_str() == BucketVersioningStatus::ENABLED);
    service
        .catalog()
        .set_versioning(&input.bucket, enabled)
        .await
        .s3()?;
    Ok(S3Response::new(PutBucketVersioningOutput::default()))
}

fn object_entry(version: ObjectVersion, url_encoded: bool) -> Object {
    Object {
        key: Some(if url_encoded {
            convert::url_encode(&version.key)
        } else {
            version.key
        }),
        size: Some(version.size as i64),
        e_tag: Some(etag(&version.etag)),
        last_modified: Some(timestamp(version.last_modified_ms)),
        storage_class: Some(ObjectStorageClass::from_static(
            ObjectStorageClass::STANDARD,
        )),
        ..Default::default()
    }
}

fn encode_if(url_encoded: bool, text: String) -> String {
    if url_encoded {
        convert::url_encode(&text)
    } else {
        text
    }
}

fn prefixes(list: Vec<String>, url_encoded: bool) -> Vec<CommonPrefix> {
    list.into_iter()
        .map(|p| CommonPrefix {
            prefix: Some(encode_if(url_encoded, p)),
        })
        .collect()
}

pub(super) async fn list_objects_v2(
    service: &ObjectService,
    input: ListObjectsV2Input,
) -> S3Result<S3Response<ListObjectsV2Output>> {
    let after =
        match &input.continuation_token {
            Some(token) => Some(decode_token(token).ok_or_else(|| {
                s3s::s3_error!(InvalidArgument, "the continuation token is invalid")
            })?),
            None => input.start_after.clone(),
        };
    let query = ListObjectsQuery {
        prefix: input.prefix.clone().unwrap_or_default(),
        delimiter: input.delimiter.clone(),
        after,
        max_keys: page_size(input.max_keys),
    };
    let page = service.list_objects(&input.bucket, query).await.s3()?;
    let url_encoded = input
        .encoding_type
        .as_ref()
        .is_some_and(|e| e.as_str() == EncodingType::URL);
    let key_count = (page.objects.len() + page.common_prefixes.len()) as i32;
    let output = ListObjectsV2Output {
        name: Some(input.bucket),
        prefix: Some(encode_if(url_encoded, input.prefix.unwrap_or_default())),
        delimiter: input.delimiter.map(|d| encode_if(url_encoded, d)),
        max_keys: Some(input.max_keys.unwrap_or(MAX_KEYS)),
        key_count: Some(key_count),
        is_truncated: Some(page.next_after.is_some()),
        continuation_token: input.continuation_token,
        next_continuation_token: page.next_after.as_deref().map(encode_token),
        start_after: input.start_after.map(|s| encode_if(url_encoded, s)),
        encoding_type: input.encoding_type,
        contents: Some(
            page.objects
                .into_iter()
                .map(|v| object_entry(v, url_encoded))
                .collect(),
        ),
        common_prefixes: Some(prefixes(page.common_prefixes, url_encoded)),
        ..Default::default()
    };
    Ok(S3Response::new(output))
}

pub(super) async fn list_objects_v1(
    service: &ObjectService,
    input: ListObjectsInput,
) -> S3Result<S3Response<ListObjectsOutput>> {
    let query = ListObjectsQuery {
        prefix: input.prefix.clone().unwrap_or_default(),
        delimiter: input.delimiter.clone(),
        after: input.marker.clone(),
        max_keys: page_size(input.max_keys),
    };
    let page = service.list_objects(&input.bucket, query).await.s3()?;
    let url_encoded = input
        .encoding_type
        .as_ref()
        .is_some_and(|e| e.as_str() == EncodingType::URL);
    let output = ListObjectsOutput {
        name: Some(input.bucket),
        prefix: Some(encode_if(url_encoded, input.prefix.unwrap_or_default())),
        delimiter: input.delimiter.map(|d| encode_if(url_encoded, d)),
        marker: input.marker.map(|m| encode_if(url_encoded, m)),
        max_keys: Some(input.max_keys.unwrap_or(MAX_KEYS)),
        is_truncated: Some(page.next_after.is_some()),
        next_marker: page.next_after.map(|m| encode_if(url_encoded, m)),
        encoding_type: input.encoding_type,
        contents: Some(
            page.objects
                .into_iter()
                .map(|v| object_entry(v, url_encoded))
                .collect(),
        ),
        common_prefixes: Some(prefixes(page.common_prefixes, url_encoded)),
        ..Default::default()
    };
    Ok(S3Response::new(output))
}

pub(super) async fn list_object_versions(
    service: &ObjectService,
    input: ListObjectVersionsInput,
) -> S3Result<S3Response<ListObjectVersionsOutput>> {
    let query = ListVersionsQuery {
        prefix: input.prefix.clone().unwrap_or_default(),
        delimiter: input.delimiter.clone(),
        key_marker: input.key_marker.clone(),
        version_id_marker: input.version_id_marker.clone(),
        max_keys: page_size(input.max_keys),
    };
    let page = service
        .list_object_versions(&input.bucket, query)
        .await
        .s3()?;
    let url_encoded = input
        .encoding_type
        .as_ref()
        .is_some_and(|e| e.as_str() == EncodingType::URL);
    let (mut versions, mut markers) = (Vec::new(), Vec::new());
    for version in page.versions {
        let key = Some(encode_if(url_encoded, version.key.clone()));
        if version.is_delete_marker {
            markers.push(DeleteMarkerEntry {
                key,
                version_id: Some(version.version_id),
                is_latest: Some(version.is_latest),
                last_modified: Some(timestamp(version.last_modified_ms)),
                ..Default::default()
            });
        } else {
            versions.push(s3s::dto::ObjectVersion {
                key,
                version_id: Some(version.version_id),
                is_latest: Some(version.is_latest),
                last_modified: Some(timestamp(version.last_modified_ms)),
                size: Some(version.size as i64),
                e_tag: Some(etag(&version.etag)),
                storage_class: Some(ObjectVersionStorageClass::from_static(
                    ObjectVersionStorageClass::STANDARD,
                )),
                ..Default::default()
            });
        }
    }
    let output = ListObjectVersionsOutput {
        name: Some(input.bucket),
        prefix: Some(encode_if(url_encoded, input.prefix.unwrap_or_default())),
        delimiter: input.delimiter,
        key_marker: input.key_marker,
        version_id_marker: input.version_id_marker,
        max_keys: Some(input.max_keys.unwrap_or(MAX_KEYS)),
        is_truncated: Some(page.next_key_marker.is_some()),
        next_key_marker: page.next_key_marker.map(|m| encode_if(url_encoded, m)),
        next_version_id_marker: page.next_version_id_marker,
        encoding_type: input.encoding_type,
        versions: Some(versions),
        delete_markers: Some(markers),
        common_prefixes: Some(prefixes(page.common_prefixes, url_encoded)),
        ..Default::default()
    };
    Ok(S3Response::new(output))
}
