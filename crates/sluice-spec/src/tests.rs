//! Crate-internal tests: the per-resource parser agrees with plain serde.

const FULL: &str = include_str!("../tests/fixtures/full.yaml");

#[test]
fn sectioned_parse_matches_direct_serde() {
    let ours = crate::parse_project("sluice.yaml", FULL).expect("full example is valid");
    let direct = crate::parse::parse_direct(FULL).expect("serde reads the full example");
    let strip = |p: crate::Project| crate::Project {
        root: Default::default(),
        file: Default::default(),
        warnings: vec![],
        ..p
    };
    assert_eq!(strip(ours), strip(direct));
}

#[test]
fn serialized_project_parses_back() {
    let project = crate::parse_project("sluice.yaml", FULL).unwrap();
    let yaml = serde_yaml_ng::to_string(&project).unwrap();
    let again =
        crate::parse_project("sluice.yaml", &yaml).unwrap_or_else(|e| panic!("{e}\n{yaml}"));
    assert_eq!(project.functions, again.functions);
    assert_eq!(project.pipelines, again.pipelines);
    assert_eq!(project.triggers, again.triggers);
    assert_eq!(project.buckets, again.buckets);
    assert_eq!(project.queues, again.queues);
}
