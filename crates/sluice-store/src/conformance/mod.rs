//! The backend-agnostic conformance suite: the executable form of the
//! invariants documented on [`crate::Store`].
//!
//! Every backend runs the same functions. Each takes a fresh [`Harness`] (an
//! empty store whose clock is a [`ManualClock`]) and panics with a message
//! naming the violated invariant. Time is moved with the manual clock, never
//! slept through, so the suite is fast and deterministic.
//!
//! A backend's test file expands [`store_conformance_tests!`](crate::store_conformance_tests)
//! with a function that builds a harness; every check then shows up as its own test:
//!
//! ```ignore
//! async fn harness() -> Harness { /* open an empty store on a ManualClock */ }
//! sluice_store::store_conformance_tests!(harness);
//! ```

mod delivery;
mod logs_events;
mod queue_basics;
mod queue_failures;
mod queue_inspection;
mod queue_ordering;
mod queue_volume;
mod runs;
mod schedules;
mod steps;
mod support;
mod tokens;

pub use delivery::*;
pub use logs_events::*;
pub use queue_basics::*;
pub use queue_failures::*;
pub use queue_inspection::*;
pub use queue_ordering::*;
pub use queue_volume::*;
pub use runs::*;
pub use schedules::*;
pub use steps::*;
pub use tokens::*;

use crate::Store;
use sluice_core::time::{EpochMillis, ManualClock};
use std::any::Any;
use std::sync::Arc;

/// The instant every harness clock starts at (2023-11-14T22:13:20Z).
pub const START: EpochMillis = 1_700_000_000_000;

/// What each conformance check runs against.
pub struct Harness {
    /// An empty store.
    pub store: Arc<dyn Store>,
    /// The clock the store reads; checks advance it.
    pub clock: Arc<ManualClock>,
    /// Anything the backend needs kept alive while the check runs (a temporary
    /// directory, a container handle); dropped with the harness.
    pub guard: Option<Box<dyn Any + Send + Sync>>,
}

impl Harness {
    /// A harness over `store`, which must read `clock`.
    pub fn new(store: Arc<dyn Store>, clock: Arc<ManualClock>) -> Self {
        Harness {
            store,
            clock,
            guard: None,
        }
    }

    /// Keeps `guard` alive as long as the harness.
    pub fn with_guard(mut self, guard: impl Any + Send + Sync) -> Self {
        self.guard = Some(Box::new(guard));
        self
    }

    /// The harness clock's current time.
    pub fn now(&self) -> EpochMillis {
        sluice_core::time::Clock::now_ms(self.clock.as_ref())
    }

    /// Moves the clock forward.
    pub fn advance(&self, ms: i64) {
        self.clock.advance(ms);
    }
}

/// Expands to one `#[tokio::test]` per conformance check.
///
/// `$make_harness` is anything callable with no arguments that returns a
/// future of [`Harness`] (an `async fn` name or a closure returning an async
/// block); it is called once per test, so every test gets an empty store.
/// The crate using the macro needs `tokio` with the `macros` and `rt` features.
#[macro_export]
macro_rules! store_conformance_tests {
    ($make_harness:expr) => {
        $crate::store_conformance_tests!(@each $make_harness;
            // queue basics
            enqueue_lease_ack_round_trip,
            lease_returns_oldest_first,
            delayed_message_waits_for_its_delay,
            expired_lease_makes_message_reappear,
            extend_lease_keeps_message_hidden,
            stale_receipt_is_refused,
            ack_is_all_or_nothing,
            list_messages_shows_message_state,
            queue_stats_count_messages_by_state,
            next_wakeup_reports_earliest_hidden_message,
            unknown_queues_are_not_found,
            large_batch_is_delivered_exactly_once,
            concurrent_workers_share_messages_exactly_once,
            // failures and dead letters
            fail_delays_redelivery_by_retry_delay,
            exhausted_message_is_dead_lettered_on_fail,
            expired_final_lease_is_dead_lettered_on_next_lease,
            queue_without_dead_letter_queue_keeps_retrying,
            redrive_returns_messages_to_their_source,
            receipts_stay_stale_across_a_redrive,
            redriven_grouped_message_waits_for_its_group,
            redrive_requeues_the_runs_of_redriven_messages,
            // ordering, concurrency, dedup
            concurrency_limit_caps_messages_in_flight,
            concurrency_one_is_strictly_sequential,
            fifo_group_is_delivered_in_order_one_at_a_time,
            fifo_group_waits_while_head_is_in_backoff,
            fifo_groups_proceed_in_parallel,
            dedup_within_window_returns_first_message,
            dedup_window_expires,
            // runs
            submit_run_creates_run_and_message_together,
            submit_run_with_duplicate_key_returns_existing_run,
            submit_run_creates_nothing_on_failure,
            run_status_transitions_set_timestamps,
            terminal_run_status_is_final,
            list_runs_filters_and_pages_newest_first,
            // steps and attempts
            attempts_are_numbered_and_set_their_step,
            ensure_steps_is_idempotent,
            rerun_resets_failed_steps_and_keeps_succeeded_ones,
            rerun_of_named_step_and_of_unfinished_run,
            abandon_running_attempts_returns_steps_to_pending,
            // delivery transactions
            begin_run_starts_the_run_and_abandons_stale_attempts,
            begin_run_leaves_a_finished_run_alone,
            settle_success_acks_and_finishes_the_run,
            settle_failure_retries_then_dead_letters,
            settle_with_a_stale_receipt_changes_nothing,
            finish_attempt_stores_its_last_log_lines,
            // schedules
            schedule_states_are_stored_and_replaced,
            a_schedule_fires_once_per_due_time,
            skipped_and_message_firings_advance_the_schedule,
            a_manual_firing_is_the_last_run_but_keeps_the_next_time,
            // logs and events
            logs_are_numbered_per_run_and_paged,
            events_are_appended_and_read_in_order,
            unrouted_events_are_found_until_marked_routed,
            an_event_with_an_id_is_recorded_once,
            log_positions_order_a_targets_lines_and_status_changes,
            // API tokens
            tokens_are_stored_found_and_listed,
            revoked_tokens_keep_their_record_and_free_their_name,
        );
    };
    (@each $make_harness:expr; $($check:ident),+ $(,)?) => {
        $(
            #[::tokio::test]
            async fn $check() {
                let harness: $crate::conformance::Harness = ($make_harness)().await;
                $crate::conformance::$check(harness).await;
            }
        )+
    };
}
