//! The route table: every `/v1` route once, with its handler and its
//! documentation. The router and the OpenAPI document are both built from
//! [`declare`] (see [`crate::openapi`]).

use crate::openapi::{Doc, RouteSink};
use crate::{events, queues, runs, schedules, stream, submit, tables, tokens, wait};
use serde_json::Value;

const RUN_FEED: &str = "The run's status, log lines and progress reports in order. Each log and progress item carries its resume position (the SSE `id`, or `seq` over WebSocket); reconnect with `Last-Event-ID` or `?after=N` to miss nothing.";

const PIPELINE_FEED: &str = "Status changes, log lines and progress reports of every run of the pipeline, in commit order. Each item's `seq` (the SSE `id`) is its position; reconnect with `Last-Event-ID` or `?after=N` to miss nothing. Without one, the feed starts with the status of the unfinished runs, then follows; `?after=0` replays the whole history. A client that stops reading holds no memory on the server: the feed waits for it and resumes from the store.";

/// Declares every route of the API.
pub(crate) fn declare<S: RouteSink>(s: &mut S) {
    s.add(
        "GET",
        "/v1/health",
        crate::health,
        Doc::new("service", "Liveness and version").answers(200, "`{status, version}`"),
    );
    s.add(
        "GET",
        "/v1/openapi.json",
        crate::openapi_json,
        Doc::new("service", "This document").answers(
            200,
            "The OpenAPI 3.1 description of the API and the project's HTTP triggers",
        ),
    );
    s.add(
        "POST",
        "/v1/functions/{name}/invoke",
        submit::invoke_function,
        Doc::new("runs", "Invoke a function")
            .describe("Starts a run of the function with the body as its event. Answers 202 with the run id at once, or waits up to `wait` seconds for the result. An `Idempotency-Key` header returns the first submission's run; the same key with a different body is refused with 422.")
            .query::<wait::WaitQuery>()
            .body::<Value>()
            .answers(202, "Accepted: `{run_id, status_url, logs_url, events_url, ws_url}`")
            .answers(200, "With `wait`: the finished run with its steps")
            .answers(422, "The `Idempotency-Key` was first used with a different body"),
    );
    s.add(
        "POST",
        "/v1/pipelines/{name}/runs",
        submit::start_pipeline,
        Doc::new("runs", "Start a pipeline run")
            .describe("The body is the first phase's input. Answers as function invocation does.")
            .query::<wait::WaitQuery>()
            .body::<Value>()
            .answers(
                202,
                "Accepted: `{run_id, status_url, logs_url, events_url, ws_url}`",
            )
            .answers(
                422,
                "The `Idempotency-Key` was first used with a different body",
            )
            .answers(200, "With `wait`: the finished run with its steps"),
    );
    s.add(
        "GET",
        "/v1/queues",
        queues::list,
        Doc::new("queues", "Queues with their message counts").answers(200, "A list of queues"),
    );
    s.add(
        "GET",
        "/v1/queues/{name}",
        queues::stats,
        Doc::new("queues", "One queue's message counts")
            .answers(200, "The queue's counts by state"),
    );
    s.add(
        "GET",
        "/v1/queues/{name}/messages",
        queues::messages,
        Doc::new("queues", "Messages on a queue, oldest first")
            .query::<queues::LimitQuery>()
            .answers(200, "A list of messages"),
    );
    s.add(
        "POST",
        "/v1/queues/{name}/messages",
        queues::send,
        Doc::new("queues", "Send a message")
            .body::<queues::SendBody>()
            .answers(202, "`{message_id, run_id, duplicate}`"),
    );
    s.add(
        "GET",
        "/v1/queues/{name}/dead-letters",
        queues::dead_letters,
        Doc::new("queues", "Dead letters of a queue, function or pipeline")
            .query::<queues::LimitQuery>()
            .answers(200, "A list of messages"),
    );
    s.add(
        "POST",
        "/v1/queues/{name}/redrive",
        queues::redrive,
        Doc::new("queues", "Move dead letters back to their queue")
            .body::<queues::RedriveBody>()
            .answers(200, "`{dead_letter_queue, moved}`"),
    );
    s.add(
        "GET",
        "/v1/runs",
        runs::list,
        Doc::new("runs", "Runs, newest first")
            .query::<runs::ListQuery>()
            .answers(200, "A list of runs"),
    );
    s.add(
        "GET",
        "/v1/runs/{id}",
        runs::show,
        Doc::new("runs", "A run with its steps and attempts")
            .query::<wait::WaitQuery>()
            .answers(
                200,
                "The run (with `wait`, once finished or when the wait runs out)",
            ),
    );
    s.add(
        "GET",
        "/v1/runs/{id}/logs",
        runs::logs,
        Doc::new("runs", "A run's log lines")
            .query::<runs::LogsQuery>()
            .answers(200, "`{lines, next_after, finished, run_status}`"),
    );
    s.add(
        "POST",
        "/v1/runs/{id}/rerun",
        runs::rerun,
        Doc::new("runs", "Rerun steps of a finished run")
            .body::<runs::RerunBody>()
            .answers(202, "The run, queued again"),
    );
    s.add(
        "POST",
        "/v1/runs/{id}/cancel",
        runs::cancel,
        Doc::new("runs", "Cancel a run that has not finished").answers(200, "The cancelled run"),
    );
    s.add(
        "GET",
        "/v1/runs/{id}/events",
        stream::sse,
        Doc::new("live", "A run's live feed (Server-Sent Events)")
            .describe(RUN_FEED)
            .query::<stream::FeedQuery>()
            .streams("text/event-stream", "Events `status`, `log`, `progress`"),
    );
    s.add(
        "GET",
        "/v1/runs/{id}/ws",
        stream::websocket,
        Doc::new("live", "A run's live feed (WebSocket)")
            .describe(RUN_FEED)
            .query::<stream::FeedQuery>()
            .streams(
                "websocket",
                "Switching protocols; one JSON text message per item: `{seq, kind, data}`",
            ),
    );
    s.add(
        "GET",
        "/v1/pipelines/{name}/events",
        stream::pipeline_sse,
        Doc::new("live", "Every run of a pipeline, live (Server-Sent Events)")
            .describe(PIPELINE_FEED)
            .query::<stream::FeedQuery>()
            .streams(
                "text/event-stream",
                "Events `status`, `log`, `progress`, each with its run id",
            ),
    );
    s.add(
        "GET",
        "/v1/pipelines/{name}/ws",
        stream::pipeline_websocket,
        Doc::new("live", "Every run of a pipeline, live (WebSocket)")
            .describe(PIPELINE_FEED)
            .query::<stream::FeedQuery>()
            .streams(
                "websocket",
                "Switching protocols; one JSON text message per item: `{seq, kind, data}`",
            ),
    );
    s.add(
        "POST",
        "/v1/events",
        events::put_events,
        Doc::new("events", "Publish events to the bus")
            .body::<events::PutEvents>()
            .answers(200, "`{entries: [{event_id, seq, deliveries}]}`"),
    );
    s.add(
        "GET",
        "/v1/schedules",
        schedules::list,
        Doc::new("schedules", "Schedules with next and last fire times")
            .answers(200, "A list of schedules"),
    );
    s.add(
        "POST",
        "/v1/schedules/{name}/trigger",
        schedules::trigger,
        Doc::new("schedules", "Fire a schedule now")
            .answers(202, "`{run_id, message_id, duplicate}`"),
    );
    s.add(
        "GET",
        "/v1/tables",
        tables::list,
        Doc::new(
            "tables",
            "Declared tables with their keys, columns and databases",
        )
        .answers(200, "A list of tables"),
    );
    s.add(
        "GET",
        "/v1/tables/{name}/items",
        tables::items,
        Doc::new("tables", "Items of one partition, in sort-key order")
            .describe("`pk` is required; narrow by `sk` (equal), `sk_from`/`sk_to` (inclusive range) or `sk_begins_with`. Values are parsed as the key columns' types. Pass a page's `next_cursor` back as `cursor` for the next page.")
            .query::<tables::ItemsQuery>()
            .answers(200, "`{table, count, items, next_cursor}`"),
    );
    s.add(
        "GET",
        "/v1/tokens",
        tokens::list,
        Doc::new("tokens", "API tokens (never their secrets); admin only")
            .returns::<Vec<tokens::TokenView>>(200, "Every token"),
    );
    s.add(
        "POST",
        "/v1/tokens",
        tokens::create,
        Doc::new("tokens", "Create an API token; admin only")
            .describe("The answer holds the token's secret, shown this once: Sluice stores only its SHA-256.")
            .body::<tokens::CreateToken>()
            .returns::<tokens::CreatedView>(201, "The new token with its secret"),
    );
    s.add(
        "POST",
        "/v1/tokens/{id}/revoke",
        tokens::revoke,
        Doc::new("tokens", "Revoke an API token; admin only")
            .returns::<tokens::TokenView>(200, "The revoked token"),
    );
}
