//! House rules that review would check, checked by a test so they cannot drift:
//! every source file opens with a doc comment saying what it is for, no file
//! grows past 500 lines, and crates depend on each other only inward.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn crate_sources() -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(workspace().join("crates"))
        .unwrap()
        .flatten()
    {
        let src = entry.path().join("src");
        if src.is_dir() {
            rust_files(&src, &mut files);
        }
    }
    files
}

#[test]
fn every_source_file_starts_with_a_doc_comment() {
    let missing: Vec<_> = crate_sources()
        .into_iter()
        .filter(|f| {
            !std::fs::read_to_string(f)
                .unwrap()
                .trim_start()
                .starts_with("//!")
        })
        .collect();
    assert!(
        missing.is_empty(),
        "files without a `//!` doc comment: {missing:#?}"
    );
}

#[test]
fn no_source_file_is_longer_than_500_lines() {
    let long: Vec<_> = crate_sources()
        .into_iter()
        .map(|f| (std::fs::read_to_string(&f).unwrap().lines().count(), f))
        .filter(|(n, _)| *n > 500)
        .collect();
    assert!(
        long.is_empty(),
        "files over 500 lines (split them by concept): {long:#?}"
    );
}

/// Which Sluice crates each crate may depend on. The pure crates depend on
/// nothing of ours; nothing depends on the HTTP edge or the binary.
const ALLOWED: &[(&str, &[&str])] = &[
    ("sluice-core", &[]),
    ("sluice-spec", &["sluice-core"]),
    ("sluice-store", &["sluice-core"]),
    ("sluice-runtime", &["sluice-core"]),
    ("sluice-objects", &["sluice-core", "sluice-spec"]),
    ("sluice-tables", &["sluice-core", "sluice-spec"]),
    ("sluice-sql", &["sluice-core", "sluice-spec"]),
    (
        "sluice-engine",
        &[
            "sluice-core",
            "sluice-spec",
            "sluice-store",
            "sluice-runtime",
            "sluice-objects",
            "sluice-tables",
            "sluice-sql",
        ],
    ),
    (
        "sluice-server",
        &[
            "sluice-core",
            "sluice-spec",
            "sluice-store",
            "sluice-engine",
            "sluice-objects",
            "sluice-tables",
        ],
    ),
    (
        "sluice",
        &[
            "sluice-core",
            "sluice-spec",
            "sluice-store",
            "sluice-runtime",
            "sluice-engine",
            "sluice-server",
            "sluice-objects",
            "sluice-tables",
        ],
    ),
];

#[test]
fn crates_depend_only_inward() {
    let allowed: BTreeMap<&str, &[&str]> = ALLOWED.iter().copied().collect();
    for entry in std::fs::read_dir(workspace().join("crates"))
        .unwrap()
        .flatten()
    {
        let name = entry.file_name().to_string_lossy().into_owned();
        let manifest = std::fs::read_to_string(entry.path().join("Cargo.toml")).unwrap();
        let deps = manifest
            .split("[dependencies]")
            .nth(1)
            .unwrap_or("")
            .split("\n[")
            .next()
            .unwrap_or("");
        let ours: Vec<&str> = deps
            .lines()
            .filter_map(|l| l.split(['.', ' ', '=']).next())
            .filter(|d| d.starts_with("sluice"))
            .collect();
        let permitted = allowed
            .get(name.as_str())
            .unwrap_or_else(|| panic!("crate {name} is not in the tidy test's map"));
        for dep in ours {
            assert!(
                permitted.contains(&dep),
                "{name} must not depend on {dep} (see ARCHITECTURE.md)"
            );
        }
    }
}
