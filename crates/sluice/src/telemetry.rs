//! Sluice's own logs: readable text by default, JSON lines with `--log-format json`.
//!
//! Lines about work carry the span fields `run_id`, `step` and `attempt_id`
//! set by the engine, in both formats. `RUST_LOG` adjusts the filter.

use crate::cli::LogFormat;
use tracing_subscriber::EnvFilter;

pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.with_target(false).init(),
        LogFormat::Json => builder
            .json()
            .with_current_span(true)
            .with_span_list(true)
            .init(),
    }
}
