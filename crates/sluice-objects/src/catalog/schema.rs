//! The catalog's tables, created by versioned migrations (`PRAGMA user_version`).
//!
//! * `versions` — one row per object version or delete marker. The latest
//!   version of a key is its row with the highest `seq`; rows are never
//!   updated, only inserted and deleted, so "latest" cannot go stale.
//! * `outbox` — one row per (object event, matching notification rule),
//!   inserted in the transaction that commits the change; relayed and marked
//!   by the engine (at-least-once).
//! * `garbage` — blobs made unreachable by a committed transaction, deleted
//!   from their backend after commit (and retried at the next open).

pub(super) struct Migration {
    pub version: i64,
    pub sql: &'static str,
}

pub(super) const MIGRATIONS: &[Migration] = &[Migration {
    version: 1,
    sql: r#"
CREATE TABLE buckets (
    name TEXT PRIMARY KEY,
    versioning TEXT NOT NULL,
    created_ms INTEGER NOT NULL
);
CREATE TABLE versions (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    bucket TEXT NOT NULL REFERENCES buckets(name),
    key TEXT NOT NULL,
    version_id TEXT NOT NULL,
    is_delete_marker INTEGER NOT NULL,
    size INTEGER NOT NULL,
    etag TEXT NOT NULL,
    content_type TEXT,
    user_metadata TEXT NOT NULL,
    segments TEXT NOT NULL,
    parts_count INTEGER,
    last_modified_ms INTEGER NOT NULL,
    UNIQUE (bucket, key, version_id)
);
CREATE INDEX versions_by_key ON versions (bucket, key, seq);
CREATE TABLE uploads (
    upload_id TEXT PRIMARY KEY,
    bucket TEXT NOT NULL REFERENCES buckets(name),
    key TEXT NOT NULL,
    content_type TEXT,
    user_metadata TEXT NOT NULL,
    initiated_ms INTEGER NOT NULL
);
CREATE TABLE parts (
    upload_id TEXT NOT NULL REFERENCES uploads(upload_id),
    part_number INTEGER NOT NULL,
    size INTEGER NOT NULL,
    etag TEXT NOT NULL,
    blob TEXT NOT NULL,
    last_modified_ms INTEGER NOT NULL,
    PRIMARY KEY (upload_id, part_number)
);
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    bucket TEXT NOT NULL,
    key TEXT NOT NULL,
    event_name TEXT NOT NULL,
    size INTEGER,
    etag TEXT,
    version_id TEXT,
    sequencer INTEGER NOT NULL,
    event_time_ms INTEGER NOT NULL,
    configuration_id TEXT NOT NULL,
    target TEXT NOT NULL,
    delivered_ms INTEGER
);
CREATE INDEX outbox_pending ON outbox (id) WHERE delivered_ms IS NULL;
CREATE TABLE garbage (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    bucket TEXT NOT NULL,
    blob TEXT NOT NULL
);
CREATE TABLE event_sequence (
    only_row INTEGER PRIMARY KEY CHECK (only_row = 1),
    value INTEGER NOT NULL
);
INSERT INTO event_sequence VALUES (1, 0);
"#,
}];
