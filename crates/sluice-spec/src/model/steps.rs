//! Parameters of the built-in pipeline steps (`with:` of a `uses:` phase).
//!
//! They are typed here, not left as free-form maps, so `sluice validate`
//! reports a misspelt parameter with its line and column before anything runs.

use super::defaults;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// `uses: csv-load` — validate a CSV object record by record and load it
/// into a table, then move it to an archive or error bucket with a report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub struct CsvLoad {
    /// The declared table to load into.
    pub table: String,
    /// `all-or-nothing` (default: any invalid record rejects the whole file)
    /// or `load-valid` (valid records load, invalid ones are reported).
    #[serde(default)]
    pub policy: LoadPolicy,
    /// Whether the first line names the columns (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header: Option<bool>,
    /// Column names in file order when there is no header (default: the
    /// table's columns in declaration order).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub columns: Option<Vec<String>>,
    /// Field delimiter, one ASCII character (default `,`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delimiter: Option<char>,
    /// Quote character, one ASCII character (default `"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quote: Option<char>,
    /// Escape character inside quotes (default: none; a quote is escaped by doubling it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub escape: Option<char>,
    /// Field texts that mean "no value" (default `[""]`), e.g. `["", "NULL", "\\N"]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub null: Option<Vec<String>>,
    /// Header columns the table does not have: `reject` the file (default) or `ignore` them.
    #[serde(default)]
    pub unknown_columns: UnknownColumns,
    /// Rows per write batch (default 10000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_size: Option<u32>,
    /// Where the file goes when it loaded (with its report).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archive: Option<Destination>,
    /// Where the file goes when it was rejected (with its report).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<Destination>,
}

impl CsvLoad {
    pub fn header(&self) -> bool {
        self.header.unwrap_or(true)
    }

    pub fn batch_size(&self) -> usize {
        self.batch_size
            .map_or(defaults::CSV_BATCH_SIZE, |n| n.max(1) as usize)
    }

    pub fn null_values(&self) -> Vec<String> {
        self.null.clone().unwrap_or_else(|| vec![String::new()])
    }
}

/// `uses: table-put` — write records made by earlier phases into a table,
/// checked against its declaration exactly as `csv-load` checks a file's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub struct TablePut {
    /// The declared table to write into.
    pub table: String,
    /// Where the list of records is in the step's input (`$.path`); default:
    /// the input itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub records: Option<String>,
    /// `all-or-nothing` (default: one invalid record fails the step and
    /// writes nothing) or `load-valid` (valid records are written, invalid
    /// ones reported in the output).
    #[serde(default)]
    pub policy: LoadPolicy,
    /// Records per write batch (default 10000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_size: Option<u32>,
}

/// What to do with a file that has invalid records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum LoadPolicy {
    /// Any invalid record rejects the whole file; nothing is loaded.
    #[default]
    AllOrNothing,
    /// Valid records are loaded; invalid ones go to the rejects report.
    LoadValid,
}

impl LoadPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            LoadPolicy::AllOrNothing => "all-or-nothing",
            LoadPolicy::LoadValid => "load-valid",
        }
    }
}

/// What to do with header columns the table does not declare.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum UnknownColumns {
    /// Reject the file, naming the column.
    #[default]
    Reject,
    /// Skip the column's values.
    Ignore,
}

/// A bucket and key prefix that processed files are moved to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub struct Destination {
    /// A declared bucket.
    pub bucket: String,
    /// Prepended to the file's key (default none), e.g. `students/`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
}

impl Destination {
    /// The key a source key lands under.
    pub fn key_for(&self, source_key: &str) -> String {
        format!("{}{source_key}", self.prefix.as_deref().unwrap_or(""))
    }
}

/// `uses: notify` — publish a message to a topic.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub struct Notify {
    /// The declared topic.
    pub topic: String,
    /// Subject line (email) and `subject` field (webhook); `{$.path}` inserts
    /// a value of the step's input. Default: a summary chosen by the step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
}
