//! `fan_out: { over: { chunks: { bucket, key, size } } }` parses with its
//! defaults and is checked: the bucket must be declared, the size positive.

use sluice_spec::*;

fn project(over: &str) -> Result<Project, Diagnostics> {
    let yaml = format!(
        "version: 1\nbuckets:\n  data: {{}}\nfunctions:\n  f: {{ run: x }}\npipelines:\n  p:\n    phases:\n      - name: a\n        function: f\n        fan_out: {{ over: {over} }}\n"
    );
    parse_project("sluice.yaml", &yaml)
}

#[test]
fn chunks_parse_with_optional_bucket_and_key() {
    let p = project("{ chunks: { bucket: data, key: \"$.file\", size: 64MiB } }").unwrap();
    let over = &p.pipelines["p"].phases[0].fan_out.as_ref().unwrap().over;
    let FanOutSource::Chunks(c) = over else {
        panic!("{over:?}")
    };
    assert_eq!(c.chunks.bucket.as_deref(), Some("data"));
    assert_eq!(c.chunks.key.as_deref(), Some("$.file"));
    assert_eq!(c.chunks.size.bytes(), 64 << 20);
    let p = project("{ chunks: { size: 1000 } }").unwrap();
    let over = &p.pipelines["p"].phases[0].fan_out.as_ref().unwrap().over;
    assert!(
        matches!(over, FanOutSource::Chunks(c) if c.chunks.bucket.is_none() && c.chunks.size.bytes() == 1000)
    );
    // The objects form still parses.
    assert!(project("{ objects: { bucket: data } }").is_ok());
}

#[test]
fn chunks_of_an_undeclared_bucket_or_of_no_size_are_refused() {
    let err = project("{ chunks: { bucket: dta, size: 1MiB } }")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("over.chunks.bucket") && err.contains("data"),
        "{err}"
    );
    let err = project("{ chunks: { size: 0 } }").unwrap_err().to_string();
    assert!(err.contains("more than 0 bytes"), "{err}");
    let err = project("{ chunks: { key: a } }").unwrap_err().to_string();
    assert!(err.contains("size"), "{err}");
}
