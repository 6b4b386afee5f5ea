//! One module per group of commands; `dispatch` routes the parsed command line.

mod buckets;
mod events;
mod inspect;
mod project;
mod tables;
mod tokens;
mod up;
mod watch;
mod watch_pipeline;
mod work;

use crate::cli::{Cli, Command, DlqCommand, EventsCommand, RunCommand, TableCommand, TokenCommand};
use crate::client::Client;
use anyhow::Result;
use std::process::ExitCode;

pub async fn dispatch(cli: Cli) -> Result<ExitCode> {
    let json = cli.global.json;
    let client = || Client::new(cli.global.api.as_deref(), cli.global.token.as_deref());
    match cli.command {
        Command::Up(args) => up::run(args).await,
        Command::Validate { dir } => project::validate(&dir, json),
        Command::Schema => project::schema(),
        Command::Openapi => {
            let document: serde_json::Value = client()?.get("/v1/openapi.json").await?;
            crate::output::print_json(&document);
            Ok(ExitCode::SUCCESS)
        }
        Command::Invoke(args) => work::invoke(&client()?, args, json).await,
        Command::Start(args) => work::start(&client()?, args, json).await,
        Command::Send(args) => work::send(&client()?, args, json).await,
        Command::Rerun {
            run,
            steps,
            no_wait,
        } => work::rerun(&client()?, &run, steps, no_wait, json).await,
        Command::Runs(args) => inspect::runs(&client()?, args, json).await,
        Command::Run {
            command: RunCommand::Show { id },
        } => inspect::show(&client()?, &id, json).await,
        Command::Logs { run, follow } => inspect::logs(&client()?, &run, follow, json).await,
        Command::Events {
            command: EventsCommand::TestPattern { pattern, event },
        } => events::test_pattern(&pattern, &event, json),
        Command::Events {
            command:
                EventsCommand::Put {
                    source,
                    detail_type,
                    detail,
                },
        } => events::put(&client()?, &source, &detail_type, &detail, json).await,
        Command::Watch {
            pipeline: Some(pipeline),
            after,
            ..
        } => watch_pipeline::watch_pipeline(&client()?, &pipeline, after, json).await,
        Command::Watch { run, .. } => {
            let run = run.unwrap_or_default();
            watch::watch(&client()?, &run, json).await
        }
        Command::Cancel { run } => work::cancel(&client()?, &run, json).await,
        Command::Queues => inspect::queues(&client()?, json).await,
        Command::Schedules => inspect::schedules(&client()?, json).await,
        Command::Trigger { schedule, no_wait } => {
            work::trigger(&client()?, &schedule, no_wait, json).await
        }
        Command::Dlq {
            command: DlqCommand::List { queue, limit },
        } => inspect::dlq_list(&client()?, &queue, limit, json).await,
        Command::Dlq {
            command: DlqCommand::Redrive { queue, max },
        } => inspect::dlq_redrive(&client()?, &queue, max, json).await,
        Command::Token {
            command:
                TokenCommand::Create {
                    name,
                    pipelines,
                    expires_in,
                },
        } => tokens::create(&client()?, &name, pipelines, expires_in, json).await,
        Command::Token {
            command: TokenCommand::List,
        } => tokens::list(&client()?, json).await,
        Command::Token {
            command: TokenCommand::Revoke { id },
        } => tokens::revoke(&client()?, &id, json).await,
        Command::Table {
            command: TableCommand::List,
        } => tables::list(&client()?, json).await,
        Command::Table {
            command: query @ TableCommand::Query { .. },
        } => tables::query(&client()?, query).await,
    }
}
