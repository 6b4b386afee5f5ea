//! Commands about the project file itself: validate and schema.

use crate::output;
use anyhow::Result;
use std::path::Path;
use std::process::ExitCode;

/// Prints every problem of the project file at once; exit status 2 when any is an error.
pub fn validate(dir: &Path, json: bool) -> Result<ExitCode> {
    match sluice_spec::load_project(dir) {
        Ok(project) => {
            for warning in project.warnings.iter() {
                eprintln!("{warning}");
            }
            if json {
                output::print_json(
                    &serde_json::json!({ "valid": true, "file": project.file, "warnings": project.warnings.len() }),
                );
            } else {
                println!("{}: valid", project.file.display());
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(diagnostics) => {
            eprintln!("{diagnostics}");
            Ok(ExitCode::from(2))
        }
    }
}

pub fn schema() -> Result<ExitCode> {
    output::print_json(&sluice_spec::json_schema());
    Ok(ExitCode::SUCCESS)
}
