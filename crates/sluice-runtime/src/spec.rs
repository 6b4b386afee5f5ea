//! What a handler is and how to start it: the [`ProcessSpec`], the `run:` string
//! splitter, and the exact environment a handler process receives.
//!
//! The environment is built here, in one pure function, because it is a security
//! boundary: a handler must see only what the project file declares plus the
//! `SLUICE_*` call context, never the server's own secrets (database URLs, tokens).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

/// `PATH` given to handlers whose declared env does not set one.
pub const DEFAULT_PATH: &str = "/usr/local/bin:/usr/bin:/bin";

/// Variables passed through from Sluice's own environment when set (and not declared).
pub const PASSTHROUGH_VARS: &[&str] = &["HOME", "LANG"];

/// What a handler is and how to start it (built by the engine from the project file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessSpec {
    /// Program and arguments, already split (see [`split_command`]).
    pub command: Vec<String>,
    /// The env declared in the project file, and only that.
    pub env: BTreeMap<String, String>,
    /// Working directory of the handler; a relative program path such as
    /// `./handler.sh` is resolved against it.
    pub workdir: PathBuf,
    /// Per-invocation time limit (the invocation deadline may cut it shorter).
    pub timeout: Duration,
    /// Stdout beyond this many bytes fails the call with `OutputTooLarge`.
    pub max_output_bytes: usize,
    /// Memory limit of the handler process (see [`crate::limits`]).
    pub memory_limit_bytes: Option<u64>,
}

impl ProcessSpec {
    /// Default stdout limit: 64 MiB (deliberately no tiny AWS-like cap).
    pub const DEFAULT_MAX_OUTPUT_BYTES: usize = 64 * 1024 * 1024;
    /// Default per-invocation timeout: 5 minutes.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);

    /// A spec with no declared env and the default timeout and output limit.
    pub fn new(command: Vec<String>, workdir: impl Into<PathBuf>) -> Self {
        ProcessSpec {
            command,
            env: BTreeMap::new(),
            workdir: workdir.into(),
            timeout: Self::DEFAULT_TIMEOUT,
            max_output_bytes: Self::DEFAULT_MAX_OUTPUT_BYTES,
            memory_limit_bytes: None,
        }
    }

    /// The command as a user would type it, for error messages: "python3 handler.py".
    pub fn display_command(&self) -> String {
        display_command(&self.command)
    }
}

/// Splits a `run:` string into program and arguments with POSIX shell quoting
/// rules (no expansion, no pipes: it is not run through a shell).
///
/// Fails on unbalanced quotes or a trailing backslash, and on an empty command.
pub fn split_command(run: &str) -> Result<Vec<String>, String> {
    let words = shlex::split(run).ok_or_else(|| {
        format!("cannot split command `{run}`: unbalanced quotes or trailing backslash")
    })?;
    if words.is_empty() {
        return Err("command is empty".to_string());
    }
    Ok(words)
}

/// Joins words back into a shell-quoted command line, for display only.
pub fn display_command(words: &[String]) -> String {
    shlex::try_join(words.iter().map(String::as_str)).unwrap_or_else(|_| words.join(" "))
}

/// The call context exported to a handler as `SLUICE_*` variables.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CallContext<'a> {
    pub run_id: &'a str,
    pub step: &'a str,
    pub attempt_id: &'a str,
    pub request_id: &'a str,
    pub function: &'a str,
    pub deadline_ms: i64,
}

/// The part of every handler's environment that does not depend on the call:
/// default `PATH`, `HOME`/`LANG` from `inherited`, then the declared env.
pub(crate) fn base_env(
    declared: &BTreeMap<String, String>,
    inherited: impl Fn(&str) -> Option<String>,
) -> BTreeMap<String, String> {
    let mut env = BTreeMap::new();
    env.insert("PATH".to_string(), DEFAULT_PATH.to_string());
    for name in PASSTHROUGH_VARS {
        if let Some(value) = inherited(name) {
            env.insert((*name).to_string(), value);
        }
    }
    env.extend(declared.iter().map(|(k, v)| (k.clone(), v.clone())));
    env
}

/// The complete environment of a handler process.
///
/// Precedence, lowest first: default `PATH`; `HOME`/`LANG` from `inherited`; the
/// declared env; the `SLUICE_*` context (the runtime's values always win).
pub(crate) fn handler_env(
    declared: &BTreeMap<String, String>,
    inherited: impl Fn(&str) -> Option<String>,
    ctx: &CallContext<'_>,
) -> BTreeMap<String, String> {
    let mut env = base_env(declared, inherited);
    let context = [
        ("SLUICE_RUN_ID", ctx.run_id.to_string()),
        ("SLUICE_STEP", ctx.step.to_string()),
        ("SLUICE_ATTEMPT_ID", ctx.attempt_id.to_string()),
        ("SLUICE_REQUEST_ID", ctx.request_id.to_string()),
        ("SLUICE_FUNCTION", ctx.function.to_string()),
        ("SLUICE_DEADLINE_MS", ctx.deadline_ms.to_string()),
    ];
    env.extend(context.into_iter().map(|(k, v)| (k.to_string(), v)));
    env
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_command_handles_quotes_and_rejects_unbalanced() {
        assert_eq!(
            split_command(r#"python3 "my handler.py" --flag='a b'"#).unwrap(),
            vec!["python3", "my handler.py", "--flag=a b"]
        );
        assert!(split_command("python3 'oops")
            .unwrap_err()
            .contains("unbalanced"));
        assert!(split_command("   ").is_err());
    }

    #[test]
    fn display_command_quotes_words_with_spaces() {
        let words = vec!["python3".to_string(), "my handler.py".to_string()];
        assert_eq!(display_command(&words), "python3 'my handler.py'");
    }

    #[test]
    fn env_layers_default_passthrough_declared_and_context() {
        let ctx = CallContext {
            run_id: "r1",
            step: "s",
            attempt_id: "a1",
            request_id: "q1",
            function: "f",
            deadline_ms: 42,
        };
        let inherited = |name: &str| match name {
            "HOME" => Some("/home/x".to_string()),
            "SECRET" => Some("leak".to_string()),
            _ => None,
        };
        let mut declared = BTreeMap::new();
        declared.insert("FOO".to_string(), "bar".to_string());
        declared.insert("SLUICE_RUN_ID".to_string(), "forged".to_string());
        let env = handler_env(&declared, inherited, &ctx);
        assert_eq!(env["PATH"], DEFAULT_PATH);
        assert_eq!(env["HOME"], "/home/x");
        assert!(!env.contains_key("LANG") && !env.contains_key("SECRET"));
        assert_eq!(env["FOO"], "bar");
        assert_eq!(env["SLUICE_RUN_ID"], "r1");
        assert_eq!(env["SLUICE_DEADLINE_MS"], "42");

        declared.insert("PATH".to_string(), "/opt/bin".to_string());
        assert_eq!(handler_env(&declared, inherited, &ctx)["PATH"], "/opt/bin");
    }
}
