//! Command-line interface definition (clap).

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// Sluice: serverless batch pipelines in one binary.
///
/// Declare buckets, queues, functions and pipelines in `sluice.yaml`, run
/// `sluice up`, and send work to it. Commands other than `up`, `validate` and
/// `schema` talk to a running `sluice up` over its HTTP API.
#[derive(Debug, Parser)]
#[command(
    name = "sluice",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,

    #[command(flatten)]
    pub global: GlobalArgs,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// URL of a running Sluice API [default: read from ./.sluice/api.json, else http://127.0.0.1:7600]
    #[arg(long, global = true, env = "SLUICE_API")]
    pub api: Option<String>,

    /// API token sent as `Authorization: Bearer` [default: ./.sluice/admin-token if present]
    #[arg(long, global = true, env = "SLUICE_TOKEN", hide_env_values = true)]
    pub token: Option<String>,

    /// Print machine-readable JSON instead of human-readable text.
    #[arg(long, global = true)]
    pub json: bool,

    /// Format of Sluice's own log lines on stderr.
    #[arg(long, global = true, env = "SLUICE_LOG_FORMAT", default_value = "text")]
    pub log_format: LogFormat,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve a project: the API, the dispatchers and everything declared in sluice.yaml.
    Up(UpArgs),
    /// Check a project file and print every problem found, with file:line:column.
    Validate {
        /// Project directory or sluice.yaml file.
        #[arg(default_value = ".")]
        dir: PathBuf,
    },
    /// Print the JSON Schema of sluice.yaml (for editor completion and checks).
    Schema,
    /// Print the OpenAPI 3.1 document of the running Sluice's HTTP API (with its HTTP triggers).
    Openapi,
    /// Invoke a function with an event and wait for its result.
    Invoke(InvokeArgs),
    /// Start a run of a pipeline with an input and (by default) wait for it.
    Start(StartArgs),
    /// Send a message to a queue.
    Send(SendArgs),
    /// List runs, newest first.
    Runs(RunsArgs),
    /// Inspect one run.
    Run {
        #[command(subcommand)]
        command: RunCommand,
    },
    /// Print a run's log lines; with --follow, keep printing until the run ends.
    Logs {
        /// Run id.
        run: String,
        /// Keep following new lines until the run finishes.
        #[arg(short, long)]
        follow: bool,
    },
    /// Follow a run live (its log, a progress bar per step, until it ends), or
    /// with --pipeline every run of a pipeline until interrupted.
    Watch {
        /// Run id.
        #[arg(required_unless_present = "pipeline")]
        run: Option<String>,
        /// Follow every run of this pipeline instead (resuming after a dropped connection).
        #[arg(long, conflicts_with = "run")]
        pipeline: Option<String>,
        /// With --pipeline: start after this feed position (0 replays the whole history)
        /// instead of now.
        #[arg(long, requires = "pipeline")]
        after: Option<i64>,
    },
    /// Run a finished run again: only the named steps, or the steps that did not succeed.
    Rerun {
        /// Run id.
        run: String,
        /// Step to rerun (repeatable). Other steps keep their results.
        #[arg(long = "step")]
        steps: Vec<String>,
        /// Return at once instead of waiting for the run to finish.
        #[arg(long)]
        no_wait: bool,
    },
    /// Cancel a run that has not finished; a handler working on it is stopped.
    Cancel {
        /// Run id.
        run: String,
    },
    /// Queues and their message counts.
    Queues,
    /// Schedules with their next and last fire times.
    Schedules,
    /// Fire a schedule now, outside its timetable, and wait for the run.
    Trigger {
        /// Schedule trigger name.
        schedule: String,
        /// Return at once instead of waiting for the run to finish.
        #[arg(long)]
        no_wait: bool,
    },
    /// Event patterns (EventBridge syntax).
    Events {
        #[command(subcommand)]
        command: EventsCommand,
    },
    /// Dead-letter queues: list and redrive.
    Dlq {
        #[command(subcommand)]
        command: DlqCommand,
    },
    /// API tokens: create (the secret is shown once), list, revoke. Needs an admin token.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Tables: list them, query their items.
    Table {
        #[command(subcommand)]
        command: TableCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token and print its secret, once (Sluice keeps only its SHA-256).
    Create {
        /// A label for the token, unique among tokens that are not revoked.
        name: String,
        /// Limit the token to this pipeline (repeatable); without any, the token may use every target.
        #[arg(long = "pipeline")]
        pipelines: Vec<String>,
        /// Make the token stop working after this long, e.g. `30d` or `12h`.
        #[arg(long, value_parser = humantime::parse_duration)]
        expires_in: Option<std::time::Duration>,
    },
    /// List tokens with their scope, expiry and revocation (never their secrets).
    List,
    /// Revoke a token: it stops working at once.
    Revoke {
        /// Token id (`tok_…`, see `sluice token list`).
        id: String,
    },
}

/// Whether the API demands tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AuthArg {
    /// `required` unless the API listens on a loopback address only.
    Auto,
    /// Every call but /v1/health and /v1/openapi.json needs a token.
    Required,
    /// No token is checked (HTTP triggers with `auth` still check theirs).
    Off,
}

#[derive(Debug, Subcommand)]
pub enum TableCommand {
    /// Declared tables with their keys and databases.
    List,
    /// Items of one partition, in sort-key order, as JSON lines.
    Query {
        /// Table name.
        table: String,
        /// Partition key value.
        #[arg(long)]
        pk: String,
        /// Exactly this sort key.
        #[arg(long, conflicts_with_all = ["sk_from", "sk_to", "begins_with"])]
        sk: Option<String>,
        /// Sort keys from this one (inclusive).
        #[arg(long)]
        sk_from: Option<String>,
        /// Sort keys up to this one (inclusive).
        #[arg(long)]
        sk_to: Option<String>,
        /// Sort keys starting with this text.
        #[arg(long, conflicts_with_all = ["sk_from", "sk_to"])]
        begins_with: Option<String>,
        /// Items per request.
        #[arg(long, default_value_t = 1000)]
        limit: usize,
        /// Resume after this sort key (a previous page's `next_cursor`).
        #[arg(long)]
        cursor: Option<String>,
        /// Fetch one page only (default: follow cursors to the end).
        #[arg(long)]
        one_page: bool,
    },
}

#[derive(Debug, Args)]
pub struct UpArgs {
    /// Project directory or sluice.yaml file.
    #[arg(default_value = ".")]
    pub dir: PathBuf,
    /// Where Sluice keeps its state [default: DIR/.sluice].
    #[arg(long, env = "SLUICE_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// State store: `sqlite` (a file in the data directory) or a PostgreSQL URL such as
    /// `postgres://user@host/db` (add `?schema=NAME` to use a schema other than the default)
    /// for several `sluice` processes sharing one state.
    #[arg(long, env = "SLUICE_STORE", default_value = "sqlite")]
    pub store: String,
    /// Address of the HTTP API (port 0 picks a free port).
    #[arg(long, env = "SLUICE_LISTEN", default_value = "127.0.0.1:7600")]
    pub listen: String,
    /// How long a worker holds a message without a heartbeat before another may take it.
    /// Heartbeats extend it while work runs, so this bounds recovery time after a crash, not run time.
    #[arg(long, env = "SLUICE_LEASE_TIMEOUT", default_value = "30s", value_parser = humantime::parse_duration)]
    pub lease_timeout: std::time::Duration,
    /// Address of the S3-compatible endpoint for the project's buckets (port 0 picks a free port).
    #[arg(long, env = "SLUICE_S3_LISTEN", default_value = "127.0.0.1:7601")]
    pub s3_listen: String,
    /// How late a schedule may fire before it counts as missed (then its `catch_up` policy decides).
    #[arg(long, env = "SLUICE_SCHEDULE_GRACE", default_value = "60s", value_parser = humantime::parse_duration)]
    pub schedule_grace: std::time::Duration,
    /// Whether API calls need a token. With `required`, an admin token is kept
    /// in DATA_DIR/admin-token for the local CLI.
    #[arg(long, env = "SLUICE_AUTH", value_enum, default_value = "auto")]
    pub auth: AuthArg,
}

#[derive(Debug, Args)]
pub struct InvokeArgs {
    /// Function name.
    pub function: String,
    /// JSON event: a file path, or `-` for stdin [default: null].
    #[arg(long, short)]
    pub event: Option<String>,
    /// Idempotency key: invoking again with the same key returns the same run.
    #[arg(long)]
    pub idempotency_key: Option<String>,
    /// Return the run id at once instead of waiting for the result.
    #[arg(long)]
    pub no_wait: bool,
}

#[derive(Debug, Args)]
pub struct StartArgs {
    /// Pipeline name.
    pub pipeline: String,
    /// JSON input: a file path, or `-` for stdin [default: null].
    #[arg(long, short)]
    pub input: Option<String>,
    #[arg(long)]
    pub idempotency_key: Option<String>,
    #[arg(long)]
    pub no_wait: bool,
}

#[derive(Debug, Args)]
pub struct SendArgs {
    /// Queue name.
    pub queue: String,
    /// JSON message body: a file path, or `-` for stdin.
    #[arg(long, short)]
    pub body: String,
    /// FIFO group: messages of one group are processed one at a time, in order.
    #[arg(long)]
    pub group: Option<String>,
    /// Deduplication key.
    #[arg(long)]
    pub dedup_key: Option<String>,
    /// Delay before the message becomes visible, e.g. `10s`.
    #[arg(long, value_parser = humantime::parse_duration)]
    pub delay: Option<std::time::Duration>,
}

#[derive(Debug, Args)]
pub struct RunsArgs {
    /// Only runs with this status (queued, running, retrying, succeeded, failed, cancelled).
    #[arg(long)]
    pub status: Option<String>,
    /// Only runs of this function or pipeline.
    #[arg(long)]
    pub target: Option<String>,
    #[arg(long, default_value_t = 20)]
    pub limit: usize,
}

#[derive(Debug, Subcommand)]
pub enum RunCommand {
    /// A run with its steps and attempts.
    Show {
        /// Run id.
        id: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum DlqCommand {
    /// Messages in the dead-letter queue of QUEUE (a queue, function or pipeline name).
    List {
        queue: String,
        #[arg(long, default_value_t = 100)]
        limit: usize,
    },
    /// Move dead-lettered messages back to the queue they came from.
    Redrive {
        queue: String,
        /// Move at most this many.
        #[arg(long)]
        max: Option<usize>,
    },
}

#[derive(Debug, Subcommand)]
pub enum EventsCommand {
    /// Publish an event to the bus; rules that match start their targets.
    Put {
        /// Where the event comes from, e.g. `shop.orders`.
        #[arg(long)]
        source: String,
        /// What kind of event it is, e.g. `Order Placed`.
        #[arg(long)]
        detail_type: String,
        /// The event's detail: JSON text, or @FILE.
        #[arg(long, default_value = "{}")]
        detail: String,
    },
    /// Check whether an event matches a pattern, and if not, why not.
    TestPattern {
        /// The pattern: JSON text, or @FILE.
        pattern: String,
        /// The event: JSON text, or @FILE.
        event: String,
    },
}
