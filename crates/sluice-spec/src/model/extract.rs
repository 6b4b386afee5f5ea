//! Parameters of the built-in `sql-extract` step (`with:` of its phase).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Output formats of `sql-extract`.
pub const SQL_EXTRACT_FORMATS: &[&str] = &["csv", "jsonl", "parquet"];
/// Compressions of `sql-extract`.
pub const SQL_EXTRACT_COMPRESSIONS: &[&str] = &["none", "gzip", "zstd"];
/// Variables of the output key template.
pub const SQL_EXTRACT_KEY_VARIABLES: &[&str] = &[
    "name",
    "file",
    "date",
    "time",
    "logical_date",
    "run_id",
    "ext",
];
/// Where a result goes unless `key` says otherwise.
pub const SQL_EXTRACT_DEFAULT_KEY: &str = "extracts/{name}/{date}.{ext}";

/// `uses: sql-extract` — run one SQL file from a bucket against a declared
/// connection and store the result as an object.
///
/// The SQL file is the step's input: an item of a fan-out over bucket
/// objects (`{bucket, key}`), an S3 event, or `from_bucket`/`from_key`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub struct SqlExtract {
    /// The declared connection to query.
    pub connection: String,
    /// The bucket results are written to.
    pub to_bucket: String,
    /// Key of the result: `{name}` (the file without `.sql`), `{file}`,
    /// `{date}` (YYYY-MM-DD of the logical date), `{time}` (HHMMSS),
    /// `{logical_date}` (YYYYMMDDTHHMMSSZ), `{run_id}`, `{ext}`
    /// (default `extracts/{name}/{date}.{ext}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// `csv` (default, with a header row), `jsonl` or `parquet`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    /// `none` (default), `gzip` or `zstd`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compression: Option<String>,
    /// Values for `{{ params.NAME }}` in queries; a `$.path` string is
    /// read from the run's input.
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub params: serde_json::Map<String, serde_json::Value>,
    /// The bucket of the SQL file, when the input does not name one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_bucket: Option<String>,
    /// The key of the SQL file, with `from_bucket`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_key: Option<String>,
}

impl SqlExtract {
    pub fn key(&self) -> &str {
        self.key.as_deref().unwrap_or(SQL_EXTRACT_DEFAULT_KEY)
    }

    pub fn format(&self) -> &str {
        self.format.as_deref().unwrap_or("csv")
    }

    pub fn compression(&self) -> &str {
        self.compression.as_deref().unwrap_or("none")
    }
}
