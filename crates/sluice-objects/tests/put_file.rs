//! Storing a prepared file as an object: the whole file, from its start,
//! as one new version; scratch files live on the data directory's disk.

mod common;

use common::read;
use std::io::Write;

#[tokio::test]
async fn a_scratch_file_becomes_one_new_version_each_time() {
    let endpoint = common::start(&[("extracts", true)]).await;
    let service = &endpoint.service;
    let mut file = service.scratch_file().expect("scratch file");
    file.write_all(b"id,name\n1,a\n").unwrap();
    let first = service
        .put_file("extracts", "out/a.csv", file, "text/csv")
        .await
        .expect("put the file");
    assert_eq!(first.size, 12);
    // The ETag S3 gives a single PUT: the hex MD5 of the content.
    assert_eq!(first.etag, "97570fe1797bcf3e469b9a17b9f0abf4");
    let scratch = endpoint.data_dir.path().join("objects").join("scratch");
    assert_eq!(
        std::fs::read_dir(&scratch).unwrap().count(),
        0,
        "the stored scratch file was moved into the blob store"
    );
    assert_eq!(first.content_type.as_deref(), Some("text/csv"));
    assert_eq!(
        read(service, "extracts", "out/a.csv", None).await.unwrap(),
        b"id,name\n1,a\n"
    );

    let mut again = service.scratch_file().unwrap();
    again.write_all(b"id,name\n").unwrap();
    let second = service
        .put_file("extracts", "out/a.csv", again, "text/csv")
        .await
        .unwrap();
    assert_ne!(first.version_id, second.version_id, "versioning keeps both");
    let old = read(service, "extracts", "out/a.csv", Some(&first.version_id)).await;
    assert_eq!(old.unwrap(), b"id,name\n1,a\n");
}

/// A local store that cannot adopt files, like a store on another disk or
/// an S3 backend: the scratch file is streamed into it instead.
#[derive(Debug)]
struct StreamOnly(sluice_objects::LocalBlobStore);

#[async_trait::async_trait]
impl sluice_objects::BlobStore for StreamOnly {
    async fn write(
        &self,
        body: sluice_objects::ByteStream,
    ) -> Result<sluice_objects::WrittenBlob, sluice_objects::BlobError> {
        self.0.write(body).await
    }
    async fn read(
        &self,
        id: &sluice_objects::BlobId,
        range: std::ops::Range<u64>,
    ) -> Result<sluice_objects::ByteStream, sluice_objects::BlobError> {
        self.0.read(id, range).await
    }
    async fn copy(
        &self,
        id: &sluice_objects::BlobId,
    ) -> Result<sluice_objects::BlobId, sluice_objects::BlobError> {
        self.0.copy(id).await
    }
    async fn delete(&self, id: &sluice_objects::BlobId) -> Result<(), sluice_objects::BlobError> {
        self.0.delete(id).await
    }
}

#[tokio::test]
async fn a_store_that_cannot_adopt_gets_a_copy_with_the_same_etag() {
    let endpoint = common::start(&[("extracts", true)]).await;
    let service = &endpoint.service;
    let other = tempfile::tempdir().unwrap();
    let store = sluice_objects::LocalBlobStore::open(other.path())
        .await
        .unwrap();
    service.use_blob_store("extracts", std::sync::Arc::new(StreamOnly(store)));
    let mut file = service.scratch_file().unwrap();
    file.write_all(b"id,name\n1,a\n").unwrap();
    let stored = service
        .put_file("extracts", "out/a.csv", file, "text/csv")
        .await
        .unwrap();
    assert_eq!(stored.etag, "97570fe1797bcf3e469b9a17b9f0abf4");
    assert_eq!(
        read(service, "extracts", "out/a.csv", None).await.unwrap(),
        b"id,name\n1,a\n"
    );
    let scratch = endpoint.data_dir.path().join("objects").join("scratch");
    assert_eq!(
        std::fs::read_dir(&scratch).unwrap().count(),
        0,
        "the copied scratch file is deleted"
    );
}
