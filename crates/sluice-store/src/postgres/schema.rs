//! The schema of each version, oldest first, and the migration run at connect.
//!
//! Applied versions are recorded in `sluice_schema_migrations`, one row per
//! version, in the same transaction as the DDL (PostgreSQL's DDL is
//! transactional): a crash mid-migration leaves the previous version intact.
//! Several processes starting at once against a new database would otherwise
//! race to create the same tables, so the migration runs under a
//! transaction-scoped advisory lock; the second starter waits, then finds the
//! schema current and does nothing.
//!
//! A migration is never edited once released; new needs get a new entry at the
//! end of [`MIGRATIONS`].

use super::error::{DbError, DbResult};
use crate::migration::Migration;
use crate::StoreError;
use deadpool_postgres::{Client, Transaction};
use sluice_core::time::now_ms;

/// First keys of Sluice's two-key advisory locks ("SLC" and a letter), so they
/// cannot collide with another application's locks nor with each other. The
/// second key hashes the schema (and the queue), so stores in different
/// schemas never wait for each other.
pub(crate) const LEASE_LOCK: i32 = 0x534C_434C; // "SLCL": hashtext(schema.queue)
pub(crate) const EVENTS_LOCK: i32 = 0x534C_4345; // "SLCE": hashtext(schema)
pub(crate) const LOGS_LOCK: i32 = 0x534C_4347; // "SLCG": hashtext(schema)
const MIGRATION_LOCK: i32 = 0x534C_434D; // "SLCM": hashtext(schema)

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
const V5: &str = "
ALTER TABLE events ADD COLUMN routed_at BIGINT;
UPDATE events SET routed_at = at;
CREATE INDEX events_unrouted ON events (seq) WHERE routed_at IS NULL;
";

/// Version 4: a global position for log lines. Appending lines takes the
/// `LOGS_LOCK` advisory lock first, so positions are handed out in commit
/// order and a reader never sees a later position before an earlier one.
const V4: &str = "
CREATE SEQUENCE log_position;
ALTER TABLE logs ADD COLUMN gseq BIGINT;
CREATE INDEX logs_by_position ON logs (gseq);
";

/// API tokens: the secret's SHA-256, never the secret. A name is unique
/// among tokens that are not revoked, so a revoked name can be reused.
const V3: &str = "
CREATE TABLE api_tokens (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    secret_hash TEXT NOT NULL,
    scope       TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT,
    revoked_at  BIGINT
);
CREATE UNIQUE INDEX api_tokens_live_name ON api_tokens (name) WHERE revoked_at IS NULL;
";

const V2: &str = "
CREATE TABLE schedules (
    name          TEXT PRIMARY KEY,
    expression    TEXT NOT NULL,
    timezone      TEXT NOT NULL,
    next_fire_at  BIGINT,
    last_fired_at BIGINT,
    last_run_id   TEXT
);
";

/// The schema version this build writes.
pub(crate) fn latest_version() -> i64 {
    crate::migration::latest_version(MIGRATIONS)
}

/// Tables of version 1; a schema holding any of them without a migrations
/// table belongs to someone else.
const OUR_TABLES: &[&str] = &[
    "queues", "messages", "dedup", "runs", "steps", "attempts", "logs", "events",
];

/// Version 1. Mirrors the SQLite schema (see its notes), with these differences:
/// * `seq` comes from the sequence `message_seq`; a redrive takes fresh values
///   from it to put messages at the back of their queue.
/// * `runs.log_seq` is the run's last log sequence number: appending lines
///   bumps it with one `UPDATE ... RETURNING`, which both numbers the lines
///   densely and serializes concurrent appenders of one run on its row lock.
/// * `messages_group` covers `(queue, grp, seq)` so the FIFO head check and the
///   "any member in flight" check are index probes.
const V1: &str = r#"
CREATE TABLE queues (
    name                  TEXT PRIMARY KEY,
    visibility_timeout_ms BIGINT NOT NULL,
    max_receive_count     BIGINT NOT NULL,
    dead_letter_queue     TEXT,
    concurrency           BIGINT,
    dedup_window_ms       BIGINT NOT NULL,
    backoff               TEXT NOT NULL
);

CREATE SEQUENCE message_seq;
CREATE TABLE messages (
    seq           BIGINT PRIMARY KEY DEFAULT nextval('message_seq'),
    id            TEXT NOT NULL UNIQUE,
    queue         TEXT NOT NULL,
    body          TEXT NOT NULL,
    grp           TEXT,
    dedup_key     TEXT,
    run_id        TEXT,
    receive_count BIGINT NOT NULL DEFAULT 0,
    deliveries    BIGINT NOT NULL DEFAULT 0,
    enqueued_at   BIGINT NOT NULL,
    visible_at    BIGINT NOT NULL,
    leased_by     TEXT,
    last_error    TEXT,
    source_queue  TEXT
);
ALTER SEQUENCE message_seq OWNED BY messages.seq;
CREATE INDEX messages_deliverable ON messages (queue, visible_at, seq);
CREATE INDEX messages_group ON messages (queue, grp, seq) WHERE grp IS NOT NULL;
CREATE INDEX messages_in_flight ON messages (queue, visible_at) WHERE leased_by IS NOT NULL;

CREATE TABLE dedup (
    queue      TEXT NOT NULL,
    dedup_key  TEXT NOT NULL,
    message_id TEXT NOT NULL,
    run_id     TEXT,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (queue, dedup_key)
);
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
    created_at  BIGINT NOT NULL,
    started_at  BIGINT,
    finished_at BIGINT,
    log_seq     BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX runs_by_status ON runs (status, id);
CREATE INDEX runs_by_target ON runs (target, id);

CREATE TABLE steps (
    run_id      TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    position    BIGINT NOT NULL,
    status      TEXT NOT NULL,
    output      TEXT,
    error       TEXT,
    started_at  BIGINT,
    finished_at BIGINT,
    PRIMARY KEY (run_id, name)
);

CREATE TABLE attempts (
    id          TEXT PRIMARY KEY,
    run_id      TEXT NOT NULL,
    step        TEXT NOT NULL,
    number      BIGINT NOT NULL,
    status      TEXT NOT NULL,
    worker      TEXT NOT NULL,
    input       TEXT,
    output      TEXT,
    error       TEXT,
    exit_code   INTEGER,
    started_at  BIGINT NOT NULL,
    finished_at BIGINT,
    UNIQUE (run_id, step, number),
    FOREIGN KEY (run_id, step) REFERENCES steps (run_id, name) ON DELETE CASCADE
);

CREATE TABLE logs (
    run_id     TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    seq        BIGINT NOT NULL,
    step       TEXT,
    attempt_id TEXT,
    at         BIGINT NOT NULL,
    stream     TEXT NOT NULL,
    line       TEXT NOT NULL,
    PRIMARY KEY (run_id, seq)
);

CREATE TABLE events (
    seq         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id          TEXT NOT NULL UNIQUE,
    at          BIGINT NOT NULL,
    source      TEXT NOT NULL,
    detail_type TEXT NOT NULL,
    detail      TEXT NOT NULL
);
"#;

/// Accepts only names that need no quoting: ASCII letters, digits and `_`,
/// not starting with a digit, at most 63 bytes (PostgreSQL's limit).
pub(crate) fn check_schema_name(schema: &str) -> Result<(), String> {
    let valid = !schema.is_empty()
        && schema.len() <= 63
        && !schema.starts_with(|c: char| c.is_ascii_digit())
        && schema
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_');
    if valid {
        Ok(())
    } else {
        Err(format!(
            "invalid schema name {schema:?}: use ASCII letters, digits and `_` (not starting with a digit)"
        ))
    }
}

fn unusable(location: &str, reason: String) -> DbError {
    DbError::Store(StoreError::Unusable {
        location: location.to_string(),
        reason,
    })
}

/// Brings the schema to [`latest_version`], in one transaction, under the
/// migration advisory lock.
pub(crate) async fn migrate(
    client: &mut Client,
    schema: Option<&str>,
    location: &str,
) -> DbResult<()> {
    let tx = client.transaction().await?;
    match migrate_in(&tx, schema, location).await {
        Ok(()) => Ok(tx.commit().await?),
        Err(e) => {
            // Release the lock now, not whenever the dropped transaction's
            // rollback gets sent.
            let _ = tx.rollback().await;
            Err(e)
        }
    }
}

async fn migrate_in(tx: &Transaction<'_>, schema: Option<&str>, location: &str) -> DbResult<()> {
    // Keyed by the schema the tables go to: the chosen one, or the first of the
    // default search_path.
    tx.execute(
        "SELECT pg_advisory_xact_lock($1, hashtext(coalesce($2::text, current_schema()::text, 'public')))",
        &[&MIGRATION_LOCK, &schema],
    )
    .await?;
    if let Some(schema) = schema {
        // The name was checked by `check_schema_name`: it needs no quoting.
        tx.batch_execute(&format!(
            "CREATE SCHEMA IF NOT EXISTS {schema}; SET LOCAL search_path TO {schema}"
        ))
        .await?;
    }
    let has_migrations: bool = tx
        .query_one(
            "SELECT to_regclass('sluice_schema_migrations') IS NOT NULL",
            &[],
        )
        .await?
        .get(0);
    let current: i64 = if has_migrations {
        tx.query_one(
            "SELECT coalesce(max(version), 0) FROM sluice_schema_migrations",
            &[],
        )
        .await?
        .get(0)
    } else {
        check_not_foreign(tx, location).await?;
        tx.batch_execute(
            "CREATE TABLE sluice_schema_migrations (
                 version     BIGINT PRIMARY KEY,
                 description TEXT NOT NULL,
                 applied_at  BIGINT NOT NULL
             )",
        )
        .await?;
        0
    };
    let latest = latest_version();
    if current > latest {
        return Err(unusable(
            location,
            format!(
                "the schema was written by a newer version of Sluice (schema version {current}; this \
                 build understands up to {latest}); upgrade Sluice to use it"
            ),
        ));
    }
    for migration in MIGRATIONS.iter().filter(|m| m.version > current) {
        tracing::info!(
            location,
            version = migration.version,
            migration.description,
            "migrating state store"
        );
        tx.batch_execute(migration.sql).await?;
        tx.execute(
            "INSERT INTO sluice_schema_migrations (version, description, applied_at) VALUES ($1, $2, $3)",
            &[&migration.version, &migration.description, &now_ms()],
        )
        .await?;
    }
    Ok(())
}

/// Refuses a schema that already holds tables named like ours but no
/// migrations table: it belongs to another program, and Sluice must not mix
/// its rows into it.
async fn check_not_foreign(tx: &Transaction<'_>, location: &str) -> DbResult<()> {
    let tables: Vec<&str> = OUR_TABLES.to_vec();
    let clashing: i64 = tx
        .query_one(
            "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema() AND tablename = ANY($1)",
            &[&tables],
        )
        .await?
        .get(0);
    if clashing > 0 {
        return Err(unusable(
            location,
            "the schema already has tables named like Sluice's (e.g. `runs`, `messages`) but is not a \
             Sluice state store; choose another database or schema"
                .to_string(),
        ));
    }
    Ok(())
}
