//! Fan-out inside a phase: the phase's action runs once per item of a list,
//! up to `max_concurrency` at once, each item with its own step, attempts and
//! retries, and the results are gathered in input order.
//!
//! Items come from a list in the phase input or from the objects under a
//! bucket prefix ([`crate::plan::FanOutOver`]). Each is a step of its own
//! (`PHASE[i]`, or the object's key after the prefix), so a run resumed after
//! a crash or a failed delivery reruns only the items that did not succeed;
//! those that did keep their stored output, and a rerun of named items redoes
//! only those. The phase's own step records the gathered list.

use crate::delivery::{Delivery, StepPlan};
use crate::plan::{FanOutOver, FanOutPlan};
use crate::EngineError;
use futures::stream::{self, StreamExt};
use serde_json::Value;
use sluice_core::{AttemptStatus, StepStatus};
use sluice_store::{AttemptOutcome, AttemptStart, NewStep, StepRecord};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// Where item steps sit among a run's steps: after their phase, before the next.
pub(crate) const ITEMS_PER_PHASE: u32 = 100_000;

impl Delivery {
    /// Runs a fan-out phase; the outer error is a store failure, the inner
    /// one the phase's failure.
    pub(crate) async fn fan_out(
        &self,
        run_id: &str,
        phase: &StepPlan,
        position: u32,
        fan_out: &FanOutPlan,
        input: &Value,
    ) -> Result<Result<Value, String>, EngineError> {
        let items = match self
            .fan_out_items(run_id, &phase.name, &fan_out.over, input)
            .await
        {
            Ok(items) => items,
            Err(error) => return Ok(Err(error)),
        };
        let store = self.engine().store().clone();
        let declared: Vec<NewStep> = items
            .iter()
            .enumerate()
            .map(|(i, (name, _))| NewStep {
                name: name.clone(),
                position: position * ITEMS_PER_PHASE + 1 + i as u32,
            })
            .collect();
        store.ensure_steps(run_id, &declared).await?;
        let recorded: std::collections::HashMap<String, StepRecord> = store
            .run_steps(run_id)
            .await?
            .into_iter()
            .map(|step| (step.name.clone(), step))
            .collect();
        // A rerun of named steps redoes those; other failed items keep
        // their failure instead of running again.
        let only = self.rerun_only();
        let settled = |name: &str| -> Option<Result<Value, String>> {
            let step = recorded.get(name)?;
            match step.status {
                StepStatus::Succeeded => Some(Ok(step.output.clone().unwrap_or(Value::Null))),
                StepStatus::Failed
                    if only
                        .as_ref()
                        .is_some_and(|o| !o.iter().any(|n| n == name || *n == phase.name)) =>
                {
                    Some(Err(step.error.clone().unwrap_or_else(|| "failed".into())))
                }
                _ => None,
            }
        };
        let labels: Vec<String> = items
            .iter()
            .enumerate()
            .map(|(i, (name, _))| match fan_out.over {
                FanOutOver::Objects { .. } => format!("`{name}`"),
                _ => i.to_string(),
            })
            .collect();
        let total = items.len() as u64;
        if let Some(progress) = self.progress() {
            progress.items(total);
        }
        // Fail fast (when asked): once more items failed than the phase
        // tolerates, it can no longer succeed, so items not yet started are
        // left alone (a rerun of the run starts them).
        let failed = AtomicU64::new(0);
        let hopeless = AtomicBool::new(false);
        let work = items.into_iter().enumerate().map(|(i, (name, item))| {
            let previous = settled(&name);
            let (failed, hopeless) = (&failed, &hopeless);
            async move {
                let result = match previous {
                    Some(result) => result,
                    None if hopeless.load(Ordering::Relaxed) || self.cancelled() => {
                        return Ok((i, None))
                    }
                    None => {
                        let step = StepPlan {
                            name: name.clone(),
                            action: phase.action.clone(),
                            fan_out: None,
                        };
                        self.item_with_retries(run_id, &step, item, fan_out).await?
                    }
                };
                if result.is_err() {
                    let failures = failed.fetch_add(1, Ordering::Relaxed) + 1;
                    if fan_out.fail_fast && !fan_out.tolerate.tolerates(failures, total) {
                        hopeless.store(true, Ordering::Relaxed);
                    }
                }
                if let Some(progress) = self.progress() {
                    progress.item_settled(&name);
                }
                Ok::<_, EngineError>((i, Some(result)))
            }
        });
        let mut results: Vec<(usize, Option<Result<Value, String>>)> = stream::iter(work)
            .buffer_unordered(fan_out.max_concurrency)
            .collect::<Vec<_>>()
            .await
            .into_iter()
            .collect::<Result<_, _>>()?;
        results.sort_by_key(|(i, _)| *i);
        Ok(gather(results, fan_out, &labels))
    }

    async fn item_with_retries(
        &self,
        run_id: &str,
        step: &StepPlan,
        item: Value,
        fan_out: &FanOutPlan,
    ) -> Result<Result<Value, String>, EngineError> {
        let mut attempt = 1;
        loop {
            match self.attempt(run_id, step, item.clone()).await? {
                Ok(output) => return Ok(Ok(output)),
                Err(error) if attempt >= fan_out.item_attempts => return Ok(Err(error)),
                Err(_) => {
                    tokio::time::sleep(std::time::Duration::from_millis(
                        fan_out.item_backoff.sample_delay_ms(attempt),
                    ))
                    .await;
                    attempt += 1;
                }
            }
        }
    }
}

/// Failed items named in a phase's error; the rest are counted.
const NAMED_FAILURES: usize = 10;

/// The outputs in input order, `null` for a tolerated failure; or the
/// phase's error, naming the first failed items by their `labels` and
/// counting those left unstarted (`None`) once the phase could not succeed.
fn gather(
    results: Vec<(usize, Option<Result<Value, String>>)>,
    fan_out: &FanOutPlan,
    labels: &[String],
) -> Result<Value, String> {
    let total = results.len() as u64;
    let failed: Vec<(usize, &String)> = results
        .iter()
        .filter_map(|(i, r)| match r {
            Some(Err(e)) => Some((*i, e)),
            _ => None,
        })
        .collect();
    let unstarted = results.iter().filter(|(_, r)| r.is_none()).count();
    if unstarted > 0 || !fan_out.tolerate.tolerates(failed.len() as u64, total) {
        return Err(phase_error(&failed, unstarted, total, labels));
    }
    Ok(Value::Array(
        results
            .into_iter()
            .map(|(_, r)| r.and_then(Result::ok).unwrap_or(Value::Null))
            .collect(),
    ))
}

fn phase_error(
    failed: &[(usize, &String)],
    unstarted: usize,
    total: u64,
    labels: &[String],
) -> String {
    let mut text = match failed.first() {
        Some((first, error)) => format!(
            "{} of {total} items failed (item {}: {error}",
            failed.len(),
            labels[*first]
        ),
        None => format!("the phase stopped before its {total} items were done ("),
    };
    let others: Vec<&str> = failed
        .iter()
        .skip(1)
        .take(NAMED_FAILURES)
        .map(|(i, _)| labels[*i].as_str())
        .collect();
    if !others.is_empty() {
        text.push_str(&format!("; also failed: {}", others.join(", ")));
        let more = failed.len().saturating_sub(1 + NAMED_FAILURES);
        if more > 0 {
            text.push_str(&format!(" and {more} more"));
        }
    }
    text.push(')');
    if unstarted > 0 {
        let items = if unstarted == 1 { "item" } else { "items" };
        text.push_str(&format!(
            "; {unstarted} {items} not started, as the phase could no longer succeed \
             (a rerun starts them)"
        ));
    }
    text
}

impl Delivery {
    /// A fan-out phase as one attempt of the phase's step, whose output is
    /// the gathered list (or whose error says which items failed).
    pub(crate) async fn fan_out_phase(
        &self,
        run_id: &str,
        phase: &StepPlan,
        position: u32,
        fan_out: &FanOutPlan,
        input: Value,
    ) -> Result<Result<Value, String>, EngineError> {
        let store = self.engine().store().clone();
        let start = AttemptStart {
            worker: self.engine().worker_id().to_string(),
            input: Some(input.clone()),
        };
        let attempt = store.start_attempt(run_id, &phase.name, &start).await?;
        let result = self
            .fan_out(run_id, phase, position, fan_out, &input)
            .await?;
        // Items' large outputs are references: gather the values, then store
        // the list by reference if it is large in turn.
        let result = match result {
            Ok(list) => match self.engine().resolve_items(list).await {
                Ok(list) => {
                    self.engine()
                        .output_by_reference(run_id, &phase.name, list)
                        .await
                }
                Err(error) => Err(error),
            },
            Err(error) => Err(error),
        };
        let outcome = match &result {
            Ok(output) => AttemptOutcome {
                status: AttemptStatus::Succeeded,
                output: Some(output.clone()),
                error: None,
                exit_code: None,
            },
            Err(error) => AttemptOutcome {
                status: AttemptStatus::Failed,
                output: None,
                error: Some(error.clone()),
                exit_code: None,
            },
        };
        store.finish_attempt(&attempt.id, &outcome, &[]).await?;
        self.engine().hub().publish(crate::hub::Notice::RunChanged {
            run_id: run_id.to_string(),
        });
        Ok(result)
    }
}

/// The fan-out phases of `pipeline` that the named item steps belong to:
/// the pipeline's only fan-out phase, or the one whose name prefixes the
/// item's (`PHASE[i]`, `PHASE/key`).
pub(crate) fn phases_of_items(
    pipeline: &crate::plan::PipelinePlan,
    steps: &[String],
) -> Vec<String> {
    let fanning: Vec<&str> = pipeline
        .phases
        .iter()
        .filter(|p| p.fan_out.is_some())
        .map(|p| p.name.as_str())
        .collect();
    let mut phases = Vec::new();
    for step in steps {
        if pipeline.phases.iter().any(|p| &p.name == step) {
            continue;
        }
        let owner = match fanning.as_slice() {
            [only] => Some(*only),
            _ => fanning.iter().copied().find(|p| {
                step.strip_prefix(p)
                    .is_some_and(|rest| rest.starts_with('[') || rest.starts_with('/'))
            }),
        };
        if let Some(phase) = owner {
            if !phases.iter().any(|p| p == phase) {
                phases.push(phase.to_string());
            }
        }
    }
    phases
}
