//! `sluice openapi` prints the served `/v1/openapi.json`, and it is a valid
//! OpenAPI 3 document according to `openapi-spec-validator` (installed with
//! pip into a virtual environment when the machine lacks it; the test fails
//! if it cannot be installed).

mod common;

use common::*;
use std::path::{Path, PathBuf};
use std::process::Command;

const PROJECT: &str = r#"
version: 1
functions:
  echo:
    run: cat
triggers:
  submit:
    http: { path: /tasks/echo }
    target: { function: echo }
"#;

/// A Python that can import `openapi_spec_validator`.
fn validator_python() -> PathBuf {
    let system = PathBuf::from("python3");
    let has = |python: &Path| {
        Command::new(python)
            .args(["-c", "import openapi_spec_validator"])
            .status()
            .is_ok_and(|s| s.success())
    };
    if has(&system) {
        return system;
    }
    let venv = Path::new(env!("CARGO_TARGET_TMPDIR")).join("openapi-venv");
    let python = venv.join("bin/python");
    if !has(&python) {
        let made = Command::new("python3")
            .arg("-m")
            .arg("venv")
            .arg(&venv)
            .status();
        assert!(
            made.is_ok_and(|s| s.success()),
            "cannot create a virtual environment at {}",
            venv.display()
        );
        let installed = Command::new(&python)
            .args(["-m", "pip", "install", "--quiet", "openapi-spec-validator"])
            .status();
        assert!(
            installed.is_ok_and(|s| s.success()) && has(&python),
            "cannot install openapi-spec-validator with pip; this test needs it"
        );
    }
    python
}

#[test]
fn the_openapi_document_is_served_printed_and_valid() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = project(&tmp.path().join("p"), PROJECT, &[]);
    let server = Server::start(&dir, &tmp.path().join("data"));
    let printed = server.cli_json(&["openapi"]);
    let served = server.get("/v1/openapi.json");
    assert_eq!(
        printed, served,
        "`sluice openapi` prints what the server serves"
    );
    assert_eq!(served["openapi"], "3.1.0");
    for path in ["/v1/tokens", "/v1/runs/{id}/ws", "/tasks/echo"] {
        assert!(
            served["paths"][path].is_object(),
            "{path} missing from the document"
        );
    }
    let file = tmp.path().join("openapi.json");
    std::fs::write(&file, served.to_string()).unwrap();
    let out = Command::new(validator_python())
        .args(["-m", "openapi_spec_validator"])
        .arg(&file)
        .output()
        .expect("run openapi-spec-validator");
    assert!(
        out.status.success(),
        "the document is not valid OpenAPI:\n{}\n{}",
        stdout(&out),
        stderr(&out)
    );
}
