//! The Sluice project file, `sluice.yaml`: model, parsing, validation and
//! JSON Schema. Pure: the only I/O is reading the file in [`load_project`].
//!
//! # The file format (version 1)
//!
//! A project declares resources in named maps. Every section is optional
//! except `version`; resource names match `^[a-z][a-z0-9_-]{0,62}$`.
//!
//! ```yaml
//! version: 1
//! project: quickstart
//! buckets:            # object stores with S3-style notifications
//!   inbound:
//!     notifications:
//!       - events: ["s3:ObjectCreated:*"]
//!         suffix: .csv
//!         target: { pipeline: etl }
//! tables:             # typed records (Sluice's database or a connection)
//!   students:
//!     columns:
//!       student_id: { type: string, required: true, max_length: 16 }
//!       credits: { type: integer, min: 0, max: 30 }
//!     key: { partition: student_id }
//! connections:        # external SQL databases
//!   warehouse: { url: "${env:WAREHOUSE_URL}" }
//! topics:             # publish/subscribe: webhooks and email
//!   batch-done:
//!     subscriptions:
//!       - webhook: { url: "https://hooks.example.com/x", secret: "${env:HOOK_SECRET}" }
//! queues:             # durable queues with retries and dead letters
//!   orders: { target: { function: resize }, visibility_timeout: 30s }
//! functions:          # handler programs
//!   resize: { run: python3 handler.py, timeout: 15m, memory: 512MiB }
//! pipelines:          # phases: a function or a built-in step each
//!   etl:
//!     phases:
//!       - { name: extract, function: resize }
//!       - { name: load, uses: csv-load, with: { table: students } }
//! triggers:           # exactly one of schedule | http | bucket | event
//!   nightly: { schedule: "cron(0 2 * * ? *)", target: { pipeline: etl } }
//! rules:              # event routing
//!   route-orders:
//!     pattern: { source: [shop] }
//!     targets: [ { queue: orders } ]
//! ```
//!
//! A *target* is exactly one of `{function: f}`, `{pipeline: p}`,
//! `{queue: q}`, `{topic: t}`, plus an optional `input` template.
//! Durations are `30s`, `15m`, `1h 30m` or seconds; sizes `512MiB`, `6MB` or
//! bytes. Fields that may hold secrets ([`SecretString`]) accept literals or
//! `${env:NAME}` references, also embedded in a longer string; literal
//! passwords, secrets and tokens produce warnings.
//!
//! # Errors
//!
//! Every problem is reported at once where possible, each with file, line,
//! column, dotted path and — for misspelt keys, references and enum values —
//! the closest valid name:
//!
//! ```text
//! sluice.yaml:12:5: functions.resize.timout: unknown field `timout`; did you mean `timeout`?
//! ```
//!
//! The JSON Schema for editors is [`json_schema`] (committed as
//! `sluice.schema.json`); it is generated from the same types as the parser,
//! so the two cannot drift.

mod deser;
mod diagnostic;
mod locate;
pub mod model;
mod parse;
mod report;
mod schema;
mod validate;

pub use diagnostic::{Diagnostic, Diagnostics, Severity};
pub use model::*;
pub use parse::valid_name as is_valid_name;
pub use schema::json_schema;

use std::path::{Path, PathBuf};

/// Load the project at `dir_or_file`: a directory containing `sluice.yaml`,
/// or the project file itself. Warnings come back in `Project::warnings`;
/// any error fails the load with all diagnostics (errors and warnings).
pub fn load_project(dir_or_file: &Path) -> Result<Project, Diagnostics> {
    let file = if dir_or_file.is_dir() {
        dir_or_file.join(defaults::PROJECT_FILE)
    } else {
        dir_or_file.to_path_buf()
    };
    let name = file.display().to_string();
    let text = std::fs::read_to_string(&file).map_err(|e| {
        let message = if e.kind() == std::io::ErrorKind::NotFound {
            format!(
                "project file not found ({}); create one with at least `version: 1`",
                defaults::PROJECT_FILE
            )
        } else {
            format!("cannot read the project file: {e}")
        };
        Diagnostics(vec![Diagnostic {
            severity: Severity::Error,
            file: name.clone(),
            line: 1,
            column: 1,
            path: String::new(),
            message,
            suggestion: None,
        }])
    })?;
    let mut project = parse_project(&name, &text)?;
    let file = std::path::absolute(&file).unwrap_or(file);
    project.root = file
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    project.file = file;
    Ok(project)
}

/// Parse and validate project text. `file_name` is used in diagnostics and
/// as `Project::file`; `Project::root` is its parent directory.
pub fn parse_project(file_name: &str, text: &str) -> Result<Project, Diagnostics> {
    let index = locate::Index::build(text);
    let mut rep = report::Reporter::new(file_name, &index);
    if let Some((project, declared)) = parse::parse(text, &mut rep) {
        validate::validate(&project, &declared, &mut rep);
        let diags = rep.finish();
        if diags.iter().any(Diagnostic::is_error) {
            return Err(Diagnostics(diags));
        }
        let file = PathBuf::from(file_name);
        let root = match file.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        return Ok(Project {
            root,
            file,
            warnings: diags,
            ..project
        });
    }
    Err(Diagnostics(rep.finish()))
}

#[cfg(test)]
mod tests;
