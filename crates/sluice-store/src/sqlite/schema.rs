//! The SQL of each schema version, oldest first.
//!
//! A migration is never edited once released: a database that ran version N
//! must end up identical whether it was created fresh or upgraded step by step.
//! New needs get a new entry at the end of [`MIGRATIONS`].

use crate::migration::Migration;

/// Every migration, in order; the last one's version is the current schema version.
pub(crate) const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        description: "initial schema",
        sql: V1,
    },
    Migration {
        version: 2,
        description: "schedule state",
        sql: V2,
    },
    Migration {
        version: 3,
        description: "API tokens",
        sql: V3,
    },
    Migration {
        version: 4,
        description: "log positions",
        sql: V4,
    },
    Migration {
        version: 5,
        description: "routed events",
        sql: V5,
    },
];

/// Version 5: when an event was routed to its targets, so events recorded
/// but not routed (a crash in between) are routed again. Events already
/// there were routed by the version before.
const V5: &str = r#"
ALTER TABLE events ADD COLUMN routed_at INTEGER;
UPDATE events SET routed_at = at;
CREATE INDEX events_unrouted ON events (seq) WHERE routed_at IS NULL;
"#;

/// Version 4: a global position for log lines, in commit order (the single
/// writer numbers them), so a pipeline's feed can resume across its runs.
const V4: &str = r#"
ALTER TABLE logs ADD COLUMN gseq INTEGER;
CREATE INDEX logs_by_position ON logs (gseq);
"#;

/// API tokens: the secret's SHA-256, never the secret. A name is unique
/// among tokens that are not revoked, so a revoked name can be reused.
const V3: &str = r#"
CREATE TABLE api_tokens (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    secret_hash TEXT NOT NULL,
    scope       TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER,
    revoked_at  INTEGER
) STRICT;
CREATE UNIQUE INDEX api_tokens_live_name ON api_tokens (name) WHERE revoked_at IS NULL;
"#;

const V2: &str = r#"
CREATE TABLE schedules (
    name          TEXT PRIMARY KEY,
    expression    TEXT NOT NULL,
    timezone      TEXT NOT NULL,
    next_fire_at  INTEGER,
    last_fired_at INTEGER,
    last_run_id   TEXT
) STRICT;
"#;

/// Version 1.
///
/// Design notes on `messages`, the hot table:
/// * `seq` is the rowid, so every secondary index ends with it for free:
///   `messages_deliverable (queue, visible_at)` is really `(queue, visible_at, seq)`,
///   which makes "the oldest deliverable messages of a queue" a range scan.
///   `AUTOINCREMENT` guarantees a seq is never reused, so it is a global order.
/// * `receive_count` counts deliveries on the current queue (reset by a move to
///   the dead-letter queue and by a redrive) and drives `max_receive_count`;
///   `deliveries` counts every delivery in the message's life and is the
///   fencing token carried by receipts. Because it is never reset, a receipt from
///   before a dead-letter/redrive round trip can never match a later delivery.
/// * `messages_group` is partial (only grouped messages) and answers "is there
///   an earlier message of this group on this queue" in O(log n).
/// * `messages_in_flight` is partial (only leased messages) so the concurrency
///   check counts in-flight messages without walking delayed ones.
const V1: &str = r#"
CREATE TABLE queues (
    name                  TEXT PRIMARY KEY,
    visibility_timeout_ms INTEGER NOT NULL,
    max_receive_count     INTEGER NOT NULL,
    dead_letter_queue     TEXT,
    concurrency           INTEGER,
    dedup_window_ms       INTEGER NOT NULL,
    backoff               TEXT NOT NULL
) STRICT;

CREATE TABLE messages (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    id            TEXT NOT NULL UNIQUE,
    queue         TEXT NOT NULL,
    body          TEXT NOT NULL,
    grp           TEXT,
    dedup_key     TEXT,
    run_id        TEXT,
    receive_count INTEGER NOT NULL DEFAULT 0,
    deliveries    INTEGER NOT NULL DEFAULT 0,
    enqueued_at   INTEGER NOT NULL,
    visible_at    INTEGER NOT NULL,
    leased_by     TEXT,
    last_error    TEXT,
    source_queue  TEXT
) STRICT;
CREATE INDEX messages_deliverable ON messages (queue, visible_at);
CREATE INDEX messages_group ON messages (queue, grp) WHERE grp IS NOT NULL;
CREATE INDEX messages_in_flight ON messages (queue, visible_at) WHERE leased_by IS NOT NULL;

CREATE TABLE dedup (
    queue      TEXT NOT NULL,
    dedup_key  TEXT NOT NULL,
    message_id TEXT NOT NULL,
    run_id     TEXT,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (queue, dedup_key)
) STRICT, WITHOUT ROWID;
CREATE INDEX dedup_expiry ON dedup (expires_at);

CREATE TABLE runs (
    id          TEXT PRIMARY KEY,
    kind        TEXT NOT NULL,
    target      TEXT NOT NULL,
    status      TEXT NOT NULL,
    trigger     TEXT NOT NULL,
    input       TEXT NOT NULL,
    output      TEXT,
    error       TEXT,
    created_at  INTEGER NOT NULL,
    started_at  INTEGER,
    finished_at INTEGER
) STRICT;
CREATE INDEX runs_by_status ON runs (status, id);
CREATE INDEX runs_by_target ON runs (target, id);

CREATE TABLE steps (
    run_id      TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    position    INTEGER NOT NULL,
    status      TEXT NOT NULL,
    output      TEXT,
    error       TEXT,
    started_at  INTEGER,
    finished_at INTEGER,
    PRIMARY KEY (run_id, name)
) STRICT;

CREATE TABLE attempts (
    id          TEXT PRIMARY KEY,
    run_id      TEXT NOT NULL,
    step        TEXT NOT NULL,
    number      INTEGER NOT NULL,
    status      TEXT NOT NULL,
    worker      TEXT NOT NULL,
    input       TEXT,
    output      TEXT,
    error       TEXT,
    exit_code   INTEGER,
    started_at  INTEGER NOT NULL,
    finished_at INTEGER,
    UNIQUE (run_id, step, number),
    FOREIGN KEY (run_id, step) REFERENCES steps (run_id, name) ON DELETE CASCADE
) STRICT;

CREATE TABLE logs (
    run_id     TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    seq        INTEGER NOT NULL,
    step       TEXT,
    attempt_id TEXT,
    at         INTEGER NOT NULL,
    stream     TEXT NOT NULL,
    line       TEXT NOT NULL,
    PRIMARY KEY (run_id, seq)
) STRICT, WITHOUT ROWID;

CREATE TABLE events (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    id          TEXT NOT NULL UNIQUE,
    at          INTEGER NOT NULL,
    source      TEXT NOT NULL,
    detail_type TEXT NOT NULL,
    detail      TEXT NOT NULL
) STRICT;
"#;
