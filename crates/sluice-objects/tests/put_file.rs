//! Storing a prepared file as an object: the whole file, from its start,
//! as one new version; scratch files live on the data directory's disk.

mod common;

use common::read;
use std::io::{Seek, SeekFrom, Write};

#[tokio::test]
async fn a_scratch_file_becomes_one_new_version_each_time() {
    let endpoint = common::start(&[("extracts", true)]).await;
    let service = &endpoint.service;
    let mut file = service.scratch_file().expect("scratch file");
    file.write_all(b"id,name\n1,a\n").unwrap();
    // Wherever the file's position is, the whole file is stored.
    file.seek(SeekFrom::Start(3)).unwrap();
    let first = service
        .put_file("extracts", "out/a.csv", file, "text/csv")
        .await
        .expect("put the file");
    assert_eq!(first.size, 12);
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
