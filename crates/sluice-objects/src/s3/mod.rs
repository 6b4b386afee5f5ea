//! The S3 protocol edge: the `s3s` crate parses requests, checks Signature V4
//! (headers, presigned URLs, streaming `aws-chunked` bodies) and renders XML;
//! this module maps each operation onto [`ObjectService`] and domain errors
//! onto S3 error codes (`errors`), and nothing else.
//!
//! Replay protection is SigV4's: a signed request is valid only within 15
//! minutes of its `X-Amz-Date` (and a presigned URL until it expires). SigV4
//! has no nonce, so an identical request replayed inside that window is
//! accepted, as by AWS S3; every write is a full new version, so a replay
//! cannot corrupt an object.

mod access;
mod buckets;
mod convert;
mod credentials;
mod errors;
mod multipart;
mod objects;
mod unread;

pub use credentials::{AccessKey, S3Credentials, CREDENTIALS_FILE};

use crate::service::ObjectService;
use errors::IntoS3;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder as ConnectionBuilder;
use s3s::dto::*;
use s3s::service::S3ServiceBuilder;
use s3s::{S3Request, S3Response, S3Result, S3};
use std::future::Future;
use std::time::Duration;

/// How long shutdown waits for requests in flight.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// Serves the S3 API on `listener` until `shutdown` completes, then drains
/// connections for up to ten seconds. Only requests signed with one of
/// `credentials`' keys are accepted.
pub async fn serve_s3(
    listener: tokio::net::TcpListener,
    service: ObjectService,
    credentials: S3Credentials,
    shutdown: impl Future<Output = ()> + Send,
) -> std::io::Result<()> {
    let project_keys: std::collections::HashMap<String, String> = credentials
        .keys
        .into_iter()
        .map(|k| (k.access_key_id, k.secret_access_key))
        .collect();
    let auth = access::SluiceAuth {
        project_keys: project_keys.clone(),
        issuer: credentials.issuer.clone(),
    };
    let access = access::ScopedAccess {
        project_keys,
        issuer: credentials.issuer,
    };
    let mut builder = S3ServiceBuilder::new(S3Frontend { service });
    builder.set_auth(auth);
    builder.set_access(access);
    builder.set_validation(SluiceBucketNames);
    let s3_service = builder.build();

    let connections = ConnectionBuilder::new(TokioExecutor::new());
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    tracing::info!(address = %listener.local_addr()?, "S3 endpoint ready");
    loop {
        let socket = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((socket, _peer)) => socket,
                Err(error) => {
                    tracing::warn!(%error, "cannot accept an S3 connection");
                    continue;
                }
            },
            () = shutdown.as_mut() => break,
        };
        let s3_service = s3_service.clone();
        let tracked =
            hyper::service::service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
                let s3_service = s3_service.clone();
                async move {
                    let (parts, body) = request.into_parts();
                    let (body, finished) = unread::TrackedBody::new(body);
                    let request =
                        hyper::Request::from_parts(parts, s3s::Body::http_body_unsync(body));
                    let mut response = s3_service.call(request).await?;
                    unread::close_if_unread(&mut response, &finished);
                    Ok::<_, s3s::HttpError>(response)
                }
            });
        let connection = connections.serve_connection(TokioIo::new(socket), tracked);
        let connection = graceful.watch(connection.into_owned());
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(%error, "S3 connection ended with an error");
            }
        });
    }
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(DRAIN_TIMEOUT) => tracing::warn!("S3 connections still open after shutdown; closing them"),
    }
    Ok(())
}

/// Bucket names as Sluice allows them (S3's rules plus `_`).
struct SluiceBucketNames;

impl s3s::validation::NameValidation for SluiceBucketNames {
    fn validate_bucket_name(&self, name: &str) -> bool {
        crate::names::check_bucket_name(name).is_ok()
    }
}

/// `s3s::S3` over the object service. Operations not listed here answer
/// `NotImplemented`.
struct S3Frontend {
    service: ObjectService,
}

#[async_trait::async_trait]
impl S3 for S3Frontend {
    async fn list_buckets(
        &self,
        _req: S3Request<ListBucketsInput>,
    ) -> S3Result<S3Response<ListBucketsOutput>> {
        buckets::list_buckets(&self.service).await
    }

    async fn head_bucket(
        &self,
        req: S3Request<HeadBucketInput>,
    ) -> S3Result<S3Response<HeadBucketOutput>> {
        buckets::head_bucket(&self.service, &req.input.bucket).await
    }

    /// Buckets normally come from the project file; API creation is allowed
    /// so tools like `aws s3 mb` work, and the bucket then simply has no
    /// notification rules.
    async fn create_bucket(
        &self,
        req: S3Request<CreateBucketInput>,
    ) -> S3Result<S3Response<CreateBucketOutput>> {
        let created = self
            .service
            .catalog()
            .create_bucket(&req.input.bucket)
            .await
            .s3()?;
        if !created {
            return Err(s3s::s3_error!(
                BucketAlreadyOwnedByYou,
                "bucket `{}` already exists",
                req.input.bucket
            ));
        }
        let location = Some(format!("/{}", req.input.bucket));
        Ok(S3Response::new(CreateBucketOutput { location }))
    }

    async fn delete_bucket(
        &self,
        req: S3Request<DeleteBucketInput>,
    ) -> S3Result<S3Response<DeleteBucketOutput>> {
        self.service
            .catalog()
            .delete_bucket(&req.input.bucket)
            .await
            .s3()?;
        Ok(S3Response::new(DeleteBucketOutput::default()))
    }

    async fn get_bucket_location(
        &self,
        req: S3Request<GetBucketLocationInput>,
    ) -> S3Result<S3Response<GetBucketLocationOutput>> {
        self.service.versioning(&req.input.bucket).await.s3()?;
        Ok(S3Response::new(GetBucketLocationOutput::default()))
    }

    async fn get_bucket_versioning(
        &self,
        req: S3Request<GetBucketVersioningInput>,
    ) -> S3Result<S3Response<GetBucketVersioningOutput>> {
        buckets::get_bucket_versioning(&self.service, &req.input.bucket).await
    }

    async fn put_bucket_versioning(
        &self,
        req: S3Request<PutBucketVersioningInput>,
    ) -> S3Result<S3Response<PutBucketVersioningOutput>> {
        buckets::put_bucket_versioning(&self.service, req.input).await
    }

    async fn list_objects_v2(
        &self,
        req: S3Request<ListObjectsV2Input>,
    ) -> S3Result<S3Response<ListObjectsV2Output>> {
        buckets::list_objects_v2(&self.service, req.input).await
    }

    async fn list_objects(
        &self,
        req: S3Request<ListObjectsInput>,
    ) -> S3Result<S3Response<ListObjectsOutput>> {
        buckets::list_objects_v1(&self.service, req.input).await
    }

    async fn list_object_versions(
        &self,
        req: S3Request<ListObjectVersionsInput>,
    ) -> S3Result<S3Response<ListObjectVersionsOutput>> {
        buckets::list_object_versions(&self.service, req.input).await
    }

    async fn put_object(
        &self,
        req: S3Request<PutObjectInput>,
    ) -> S3Result<S3Response<PutObjectOutput>> {
        objects::put_object(&self.service, req).await
    }

    async fn get_object(
        &self,
        req: S3Request<GetObjectInput>,
    ) -> S3Result<S3Response<GetObjectOutput>> {
        objects::get_object(&self.service, req).await
    }

    async fn head_object(
        &self,
        req: S3Request<HeadObjectInput>,
    ) -> S3Result<S3Response<HeadObjectOutput>> {
        objects::head_object(&self.service, req).await
    }

    async fn delete_object(
        &self,
        req: S3Request<DeleteObjectInput>,
    ) -> S3Result<S3Response<DeleteObjectOutput>> {
        objects::delete_object(&self.service, req).await
    }

    async fn delete_objects(
        &self,
        req: S3Request<DeleteObjectsInput>,
    ) -> S3Result<S3Response<DeleteObjectsOutput>> {
        objects::delete_objects(&self.service, req).await
    }

    async fn copy_object(
        &self,
        req: S3Request<CopyObjectInput>,
    ) -> S3Result<S3Response<CopyObjectOutput>> {
        objects::copy_object(&self.service, req).await
    }

    async fn create_multipart_upload(
        &self,
        req: S3Request<CreateMultipartUploadInput>,
    ) -> S3Result<S3Response<CreateMultipartUploadOutput>> {
        multipart::create(&self.service, req.input).await
    }

    async fn upload_part(
        &self,
        req: S3Request<UploadPartInput>,
    ) -> S3Result<S3Response<UploadPartOutput>> {
        multipart::upload_part(&self.service, req).await
    }

    async fn complete_multipart_upload(
        &self,
        req: S3Request<CompleteMultipartUploadInput>,
    ) -> S3Result<S3Response<CompleteMultipartUploadOutput>> {
        multipart::complete(&self.service, req.input).await
    }

    async fn abort_multipart_upload(
        &self,
        req: S3Request<AbortMultipartUploadInput>,
    ) -> S3Result<S3Response<AbortMultipartUploadOutput>> {
        multipart::abort(&self.service, req.input).await
    }

    async fn list_multipart_uploads(
        &self,
        req: S3Request<ListMultipartUploadsInput>,
    ) -> S3Result<S3Response<ListMultipartUploadsOutput>> {
        multipart::list_uploads(&self.service, req.input).await
    }

    async fn list_parts(
        &self,
        req: S3Request<ListPartsInput>,
    ) -> S3Result<S3Response<ListPartsOutput>> {
        multipart::list_parts(&self.service, req.input).await
    }
}
