//! The domain API without HTTP, part two: versioning, listings, multipart
//! uploads, copy and move.

mod common;

use sluice_objects::{
    CompletedPart, GetObjectOptions, ListObjectsQuery, ListVersionsQuery, ObjectError,
    PutObjectOptions,
};

use common::{put, read};

#[tokio::test]
async fn versioning_keeps_versions_and_delete_markers() {
    let endpoint = common::start(&[("versioned", true)]).await;
    let service = &endpoint.service;
    let first = put(service, "versioned", "doc", b"v1").await;
    let second = put(service, "versioned", "doc", b"v2").await;
    assert_ne!(first.version_id, second.version_id);
    let deleted = service
        .delete_object("versioned", "doc", None)
        .await
        .unwrap();
    assert!(deleted.delete_marker);
    assert!(matches!(
        read(service, "versioned", "doc", None).await,
        Err(ObjectError::DeleteMarker { .. })
    ));
    assert_eq!(
        read(service, "versioned", "doc", Some(&first.version_id))
            .await
            .unwrap(),
        b"v1"
    );

    let listing = service
        .list_object_versions(
            "versioned",
            ListVersionsQuery {
                max_keys: 1000,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let shape: Vec<_> = listing
        .versions
        .iter()
        .map(|v| (v.is_delete_marker, v.is_latest))
        .collect();
    assert_eq!(shape, [(true, true), (false, false), (false, false)]);

    // Removing the delete marker brings the object back.
    service
        .delete_object("versioned", "doc", deleted.version_id.as_deref())
        .await
        .unwrap();
    assert_eq!(
        read(service, "versioned", "doc", None).await.unwrap(),
        b"v2"
    );

    // Suspending: new writes replace the "null" version; old versions stay.
    endpoint
        .service
        .catalog()
        .set_versioning("versioned", false)
        .await
        .unwrap();
    let null_one = put(service, "versioned", "doc", b"n1").await;
    let null_two = put(service, "versioned", "doc", b"n2").await;
    assert_eq!(
        (null_one.version_id.as_str(), null_two.version_id.as_str()),
        ("null", "null")
    );
    let listing = service
        .list_object_versions(
            "versioned",
            ListVersionsQuery {
                max_keys: 1000,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(listing.versions.len(), 3);

    let names: Vec<_> = common::pending_events(service)
        .await
        .into_iter()
        .map(|e| e.0)
        .collect();
    assert!(
        names.contains(&"ObjectRemoved:DeleteMarkerCreated".to_string()),
        "{names:?}"
    );
    endpoint.stop().await;
}

#[tokio::test]
async fn listing_pages_with_prefix_delimiter_and_markers() {
    let endpoint = common::start(&[("lists", false)]).await;
    let service = &endpoint.service;
    for key in ["a/1", "a/2", "b", "c/x/1", "c/y", "d", "ü"] {
        put(service, "lists", key, b"x").await;
    }
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let query = ListObjectsQuery {
            delimiter: Some("/".into()),
            after: after.clone(),
            max_keys: 2,
            ..Default::default()
        };
        let page = service.list_objects("lists", query).await.unwrap();
        seen.extend(page.common_prefixes.clone());
        seen.extend(page.objects.iter().map(|o| o.key.clone()));
        match page.next_after {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    seen.sort();
    assert_eq!(seen, ["a/", "b", "c/", "d", "ü"]);
    let query = ListObjectsQuery {
        prefix: "c/".into(),
        delimiter: Some("/".into()),
        max_keys: 1000,
        ..Default::default()
    };
    let page = service.list_objects("lists", query).await.unwrap();
    assert_eq!(page.common_prefixes, ["c/x/"]);
    assert_eq!(
        page.objects
            .iter()
            .map(|o| o.key.as_str())
            .collect::<Vec<_>>(),
        ["c/y"]
    );
    endpoint.stop().await;
}

#[tokio::test]
async fn multipart_commits_once_and_aborts_leave_nothing() {
    let endpoint = common::start(&[("uploads", false)]).await;
    let service = &endpoint.service;
    let part = vec![1u8; 5 * 1024 * 1024];
    let id = service
        .create_multipart_upload("uploads", "big", PutObjectOptions::default())
        .await
        .unwrap();
    let upload = ("uploads", "big", id.as_str());
    let e1 = service
        .upload_part(
            upload,
            1,
            common::body(vec![part.clone()], false),
            None,
            None,
        )
        .await
        .unwrap();
    let e2 = service
        .upload_part(
            upload,
            2,
            common::body(vec![b"tail".to_vec()], false),
            None,
            None,
        )
        .await
        .unwrap();
    // An out-of-order list is refused and changes nothing.
    let wrong = vec![
        CompletedPart {
            part_number: 2,
            etag: e2.clone(),
        },
        CompletedPart {
            part_number: 1,
            etag: e1.clone(),
        },
    ];
    assert!(matches!(
        service
            .complete_multipart_upload("uploads", "big", &id, wrong)
            .await,
        Err(ObjectError::InvalidPartOrder)
    ));
    let parts = vec![
        CompletedPart {
            part_number: 1,
            etag: format!("\"{e1}\""),
        },
        CompletedPart {
            part_number: 2,
            etag: e2,
        },
    ];
    let version = service
        .complete_multipart_upload("uploads", "big", &id, parts)
        .await
        .unwrap();
    assert!(version.etag.ends_with("-2"), "{}", version.etag);
    assert_eq!(version.size, part.len() as u64 + 4);
    let options = GetObjectOptions {
        range: Some(sluice_objects::ByteRange::Suffix { length: 6 }),
        ..Default::default()
    };
    let tail = common::collect(
        service
            .get_object("uploads", "big", &options)
            .await
            .unwrap()
            .bytes,
    )
    .await;
    assert_eq!(tail, [1, 1, b't', b'a', b'i', b'l']);

    let aborted = service
        .create_multipart_upload("uploads", "gone", PutObjectOptions::default())
        .await
        .unwrap();
    service
        .upload_part(
            ("uploads", "gone", &aborted),
            1,
            common::body(vec![b"x".to_vec()], false),
            None,
            None,
        )
        .await
        .unwrap();
    service
        .abort_multipart_upload("uploads", "gone", &aborted)
        .await
        .unwrap();
    let late = service
        .upload_part(
            ("uploads", "gone", &aborted),
            2,
            common::body(vec![b"y".to_vec()], false),
            None,
            None,
        )
        .await;
    assert!(matches!(late, Err(ObjectError::NoSuchUpload { .. })));

    let events = common::pending_events(service).await;
    assert_eq!(
        events,
        [(
            "ObjectCreated:CompleteMultipartUpload".to_string(),
            "uploads".to_string(),
            "big".to_string()
        )]
    );
    // Only the two parts of "big" remain as blobs.
    assert_eq!(
        common::files_under(&endpoint.data_dir.path().join("objects")).len(),
        2
    );
    endpoint.stop().await;
}

#[tokio::test]
async fn copy_and_move() {
    let endpoint = common::start(&[("src", false), ("dst", true)]).await;
    let service = &endpoint.service;
    put(service, "src", "from me", b"payload").await;
    service
        .copy_object("src", "from me", "dst", "copied")
        .await
        .unwrap();
    service
        .move_object("src", "from me", "dst", "moved")
        .await
        .unwrap();
    assert_eq!(
        read(service, "dst", "copied", None).await.unwrap(),
        b"payload"
    );
    assert_eq!(
        read(service, "dst", "moved", None).await.unwrap(),
        b"payload"
    );
    assert!(matches!(
        read(service, "src", "from me", None).await,
        Err(ObjectError::NoSuchKey { .. })
    ));
    let names: Vec<_> = common::pending_events(service)
        .await
        .into_iter()
        .map(|e| e.0)
        .collect();
    assert_eq!(
        names,
        [
            "ObjectCreated:Put",
            "ObjectCreated:Copy",
            "ObjectCreated:Copy",
            "ObjectRemoved:Delete"
        ]
    );
    endpoint.stop().await;
}
