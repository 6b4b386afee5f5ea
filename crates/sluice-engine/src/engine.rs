//! The engine handle: submit work, inspect it, and run the dispatchers.

use crate::dispatcher::Dispatcher;
use crate::hub::{Hub, Notice};
use crate::plan::{function_queue, pipeline_queue, topic_queue, Consumer, Plan};
use crate::EngineError;
use serde_json::Value;
use sluice_core::id::new_id;
use sluice_core::RunKind;
use sluice_store::{Enqueued, NewMessage, NewRun, RunRecord, Store, Submitted};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Notify, Semaphore};
use tokio::task::JoinSet;

/// Tunables of a running engine.
#[derive(Debug, Clone)]
pub struct EngineOptions {
    /// Identifies this process in leases and attempts.
    pub worker_id: String,
    /// Longest a dispatcher sleeps before asking the store again, so messages
    /// enqueued by other processes sharing the store are picked up.
    pub poll_interval: Duration,
    /// Messages leased at once per queue when it has no concurrency limit.
    pub default_queue_concurrency: u32,
    /// How late a schedule may fire before the firing counts as missed
    /// (downtime), which its `catch_up` policy then decides.
    pub schedule_grace: Duration,
    /// The HTTP API's base URL, for links to runs in notifications.
    pub api_url: Option<String>,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            worker_id: new_id("worker"),
            poll_interval: Duration::from_millis(500),
            default_queue_concurrency: 16,
            schedule_grace: Duration::from_secs(60),
            api_url: None,
        }
    }
}

/// A request to start a run of a function or pipeline.
#[derive(Debug, Clone)]
pub struct SubmitRequest {
    pub kind: RunKind,
    pub target: String,
    pub input: Value,
    /// What started it (`invoke`, `http`, `queue:NAME`, …).
    pub trigger: String,
    pub idempotency_key: Option<String>,
}

/// What [`Engine::send`] did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Sent {
    pub message_id: String,
    /// The run the message became, on a consumed queue.
    pub run_id: Option<String>,
    /// True when the dedup key matched an earlier message (whose ids these are).
    pub duplicate: bool,
}

/// Shared state of the engine; cheap to clone.
#[derive(Clone)]
pub struct Engine {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub store: Arc<dyn Store>,
    pub plan: Plan,
    pub options: EngineOptions,
    pub hub: Hub,
    /// Wakes a queue's dispatcher when this process enqueues to it.
    pub wakeups: HashMap<String, Arc<Notify>>,
    /// Bounds a function's concurrent invocations across every path that calls it.
    pub function_slots: HashMap<String, Arc<Semaphore>>,
    /// The buckets, once attached (built-in steps move and copy use them).
    pub objects: std::sync::OnceLock<sluice_objects::ObjectService>,
    /// The tables, once opened (the built-in step csv-load uses them).
    pub tables: std::sync::OnceLock<sluice_tables::Tables>,
    /// Deliveries running in this process, by run, so a cancel can stop them.
    pub in_flight: std::sync::Mutex<HashMap<String, futures::future::AbortHandle>>,
}

impl Engine {
    /// Registers the plan's queues in the store and returns a handle. Call
    /// [`Engine::run_dispatchers`] to start executing work.
    pub async fn start(
        store: Arc<dyn Store>,
        plan: Plan,
        options: EngineOptions,
    ) -> Result<Engine, EngineError> {
        let defs: Vec<_> = plan.queues.iter().map(|q| q.def.clone()).collect();
        store.define_queues(&defs).await?;
        let wakeups = plan
            .queues
            .iter()
            .map(|q| (q.def.name.clone(), Arc::new(Notify::new())))
            .collect();
        let function_slots = plan
            .functions
            .values()
            .map(|f| {
                (
                    f.name.clone(),
                    Arc::new(Semaphore::new(f.concurrency.max(1) as usize)),
                )
            })
            .collect();
        let inner = Inner {
            store,
            plan,
            options,
            hub: Hub::default(),
            wakeups,
            function_slots,
            objects: std::sync::OnceLock::new(),
            tables: std::sync::OnceLock::new(),
            in_flight: std::sync::Mutex::new(HashMap::new()),
        };
        Ok(Engine {
            inner: Arc::new(inner),
        })
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.inner.store
    }

    pub fn plan(&self) -> &Plan {
        &self.inner.plan
    }

    pub fn hub(&self) -> &Hub {
        &self.inner.hub
    }

    pub fn worker_id(&self) -> &str {
        &self.inner.options.worker_id
    }

    /// Gives the engine its tables (opened and checked by the caller).
    pub fn attach_tables(&self, tables: sluice_tables::Tables) {
        let _ = self.inner.tables.set(tables);
    }

    /// The tables, if attached.
    pub fn tables(&self) -> Option<&sluice_tables::Tables> {
        self.inner.tables.get()
    }

    /// Runs one dispatcher per consumed queue until the returned set is dropped or aborted.
    pub fn run_dispatchers(&self) -> JoinSet<()> {
        let mut set = JoinSet::new();
        for queue in &self.inner.plan.queues {
            let Some(consumer) = queue.consumer.clone() else {
                continue;
            };
            let dispatcher = Dispatcher::new(self.clone(), queue.def.clone(), consumer);
            set.spawn(dispatcher.run());
        }
        set
    }

    /// Creates a run and queues it on the function's or pipeline's own queue.
    pub async fn submit(&self, request: SubmitRequest) -> Result<Submitted, EngineError> {
        let queue = match request.kind {
            RunKind::Function => {
                self.function(&request.target)?;
                function_queue(&request.target)
            }
            RunKind::Pipeline => {
                self.pipeline(&request.target)?;
                pipeline_queue(&request.target)
            }
            RunKind::Notification => {
                if !self.inner.plan.topics.contains_key(&request.target) {
                    return Err(EngineError::unknown(
                        "topic",
                        &request.target,
                        self.inner.plan.topics.keys(),
                    ));
                }
                topic_queue(&request.target)
            }
        };
        self.submit_on(&queue, request, None, 0).await
    }

    /// Sends a message to a declared queue. On a consumed queue the message
    /// becomes a run of the consumer; on a plain queue it just waits there.
    pub async fn send(
        &self,
        queue: &str,
        body: Value,
        group: Option<String>,
        dedup_key: Option<String>,
        delay_ms: u64,
    ) -> Result<Sent, EngineError> {
        let plan = self.inner.plan.queue(queue).ok_or_else(|| {
            EngineError::unknown(
                "queue",
                queue,
                self.inner.plan.queues.iter().map(|q| &q.def.name),
            )
        })?;
        let delay_ms = if delay_ms == 0 {
            plan.default_delay_ms
        } else {
            delay_ms
        };
        if group.is_some() && !plan.fifo {
            return Err(EngineError::Invalid(format!(
                "queue `{queue}` is not FIFO, so messages cannot carry a group; set `fifo: true` on it in sluice.yaml"
            )));
        }
        let (kind, target) = match &plan.consumer {
            Some(Consumer::Function(f)) => (RunKind::Function, f.clone()),
            Some(Consumer::Pipeline(p)) => (RunKind::Pipeline, p.clone()),
            Some(Consumer::Topic(t)) => (RunKind::Notification, t.clone()),
            None => {
                let message = NewMessage {
                    queue: queue.to_string(),
                    body,
                    group,
                    dedup_key,
                    delay_ms,
                    run_id: None,
                };
                let Enqueued {
                    message_id,
                    duplicate,
                } = self.inner.store.enqueue(&[message]).await?.remove(0);
                self.wake(queue);
                return Ok(Sent {
                    message_id,
                    run_id: None,
                    duplicate,
                });
            }
        };
        let request = SubmitRequest {
            kind,
            target,
            input: body,
            trigger: format!("queue:{queue}"),
            idempotency_key: dedup_key,
        };
        let submitted = self.submit_on(queue, request, group, delay_ms).await?;
        Ok(Sent {
            message_id: submitted.message_id,
            run_id: Some(submitted.run_id),
            duplicate: submitted.duplicate,
        })
    }

    async fn submit_on(
        &self,
        queue: &str,
        request: SubmitRequest,
        group: Option<String>,
        delay_ms: u64,
    ) -> Result<Submitted, EngineError> {
        let run = NewRun {
            id: new_id("run"),
            kind: request.kind,
            target: request.target,
            input: request.input,
            trigger: request.trigger,
        };
        let message = NewMessage {
            queue: queue.to_string(),
            body: Value::Null,
            group,
            dedup_key: request.idempotency_key,
            delay_ms,
            run_id: Some(run.id.clone()),
        };
        let submitted = self.inner.store.submit_run(&run, &message).await?;
        if !submitted.duplicate {
            tracing::info!(run_id = %submitted.run_id, queue, "run queued");
            self.wake(queue);
        }
        Ok(submitted)
    }

    /// Reruns a finished run: only `steps` (or, if empty, the steps that did
    /// not succeed), keeping the other steps' results.
    pub async fn rerun(&self, run_id: &str, steps: &[String]) -> Result<RunRecord, EngineError> {
        let store = &self.inner.store;
        let run = store.get_run(run_id).await?;
        let known: Vec<String> = store
            .run_steps(run_id)
            .await?
            .into_iter()
            .map(|s| s.name)
            .collect();
        if let Some(missing) = steps.iter().find(|s| !known.contains(s)) {
            return Err(EngineError::unknown("step", missing, known.iter()).with_context(run_id));
        }
        // A fan-out item reruns inside its phase, so the phase runs again too.
        let mut reset = steps.to_vec();
        if let (RunKind::Pipeline, Ok(pipeline)) = (run.kind, self.pipeline(&run.target)) {
            for phase in crate::fanout::phases_of_items(pipeline, steps) {
                if !reset.contains(&phase) {
                    reset.push(phase);
                }
            }
        }
        let queue = match run.kind {
            RunKind::Function => function_queue(&run.target),
            RunKind::Pipeline => pipeline_queue(&run.target),
            RunKind::Notification => topic_queue(&run.target),
        };
        // The message names the steps, so other failed items stay as they are.
        let body = if steps.is_empty() {
            Value::Null
        } else {
            serde_json::json!({ "rerun": steps })
        };
        let message = NewMessage {
            queue: queue.clone(),
            run_id: Some(run.id.clone()),
            body,
            ..Default::default()
        };
        let run = store.rerun(run_id, &reset, &message).await?;
        tracing::info!(run_id, ?steps, "run queued again");
        self.inner.hub.publish(Notice::RunChanged {
            run_id: run_id.to_string(),
        });
        self.wake(&queue);
        Ok(run)
    }

    /// Cancels a run that has not finished: it becomes `cancelled`, a delivery
    /// of it in this process is stopped (killing its handler), and its
    /// message is acknowledged when next delivered. Work in flight in another
    /// process stops at its next step.
    pub async fn cancel(&self, run_id: &str) -> Result<RunRecord, EngineError> {
        let update = sluice_store::RunUpdate {
            status: sluice_core::RunStatus::Cancelled,
            output: None,
            error: Some("cancelled".to_string()),
        };
        let run = self.inner.store.update_run(run_id, &update).await?;
        let running = self
            .inner
            .in_flight
            .lock()
            .expect("in-flight map poisoned")
            .remove(run_id);
        if let Some(handle) = running {
            handle.abort();
        }
        self.inner.store.abandon_running_attempts(run_id).await?;
        tracing::info!(run_id, "run cancelled");
        self.inner.hub.publish(Notice::RunFinished {
            run_id: run_id.to_string(),
        });
        self.announce_cancelled(&run).await;
        Ok(run)
    }

    /// Wakes the dispatcher of `queue` (after something was enqueued or redriven to it).
    pub fn wake(&self, queue: &str) {
        if let Some(n) = self.inner.wakeups.get(queue) {
            n.notify_one();
        }
    }

    pub(crate) fn function(&self, name: &str) -> Result<&crate::plan::FunctionPlan, EngineError> {
        let functions = &self.inner.plan.functions;
        functions
            .get(name)
            .ok_or_else(|| EngineError::unknown("function", name, functions.keys()))
    }

    pub(crate) fn pipeline(&self, name: &str) -> Result<&crate::plan::PipelinePlan, EngineError> {
        let pipelines = &self.inner.plan.pipelines;
        pipelines
            .get(name)
            .ok_or_else(|| EngineError::unknown("pipeline", name, pipelines.keys()))
    }
}

impl EngineError {
    fn with_context(self, run_id: &str) -> Self {
        match self {
            EngineError::UnknownTarget {
                name, suggestion, ..
            } => EngineError::Invalid(format!(
                "run `{run_id}` has no step `{name}`{}",
                suggestion
                    .map(|s| format!("; did you mean `{s}`?"))
                    .unwrap_or_default()
            )),
            other => other,
        }
    }
}
