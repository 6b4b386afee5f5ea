//! Fan-out inside a phase: the phase's action runs once per item of a list,
//! up to `max_concurrency` at once, each item with its own step, attempts and
//! retries, and the results are gathered in input order.
//!
//! Items are steps named `PHASE[i]`, so a run resumed after a crash or a
//! failed delivery reruns only the items that did not succeed; those that did
//! keep their stored output. The phase's own step records the gathered list.

use crate::delivery::{Delivery, StepPlan};
use crate::plan::FanOutPlan;
use crate::EngineError;
use futures::stream::{self, StreamExt};
use serde_json::Value;
use sluice_core::transform::lookup;
use sluice_core::{AttemptStatus, StepStatus};
use sluice_store::{AttemptOutcome, AttemptStart, NewStep, StepRecord};

/// Where item steps sit among a run's steps: after their phase, before the next.
const ITEMS_PER_PHASE: u32 = 100_000;

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
        let listed = match &fan_out.chunks {
            Some(chunks) => match self.engine().chunk_items(chunks, input).await {
                Ok(items) => Some(Value::Array(items)),
                Err(error) => return Ok(Err(error)),
            },
            None => lookup(input, &fan_out.over).cloned(),
        };
        let items = match listed.as_ref() {
            Some(Value::Array(items)) => items.clone(),
            Some(other) => {
                return Ok(Err(format!(
                    "fan_out.over `{}` is not a list (found {})",
                    fan_out.over,
                    kind(other)
                )))
            }
            None => {
                return Ok(Err(format!(
                    "fan_out.over `{}` is not in the phase input",
                    fan_out.over
                )))
            }
        };
        let store = self.engine().store().clone();
        let names: Vec<String> = (0..items.len())
            .map(|i| format!("{}[{i}]", phase.name))
            .collect();
        let declared: Vec<NewStep> = names
            .iter()
            .enumerate()
            .map(|(i, name)| NewStep {
                name: name.clone(),
                position: position * ITEMS_PER_PHASE + 1 + i as u32,
            })
            .collect();
        store.ensure_steps(run_id, &declared).await?;
        let recorded = store.run_steps(run_id).await?;
        let done = |name: &str| -> Option<Value> {
            recorded
                .iter()
                .find(|s: &&StepRecord| s.name == name && s.status == StepStatus::Succeeded)
                .map(|s| s.output.clone().unwrap_or(Value::Null))
        };
        let work = items
            .into_iter()
            .zip(names)
            .enumerate()
            .map(|(i, (item, name))| {
                let previous = done(&name);
                async move {
                    if let Some(output) = previous {
                        return Ok((i, Ok(output)));
                    }
                    let step = StepPlan {
                        name,
                        action: phase.action.clone(),
                        fan_out: None,
                    };
                    self.item_with_retries(run_id, &step, item, fan_out)
                        .await
                        .map(|r| (i, r))
                }
            });
        let mut results: Vec<(usize, Result<Value, String>)> = stream::iter(work)
            .buffer_unordered(fan_out.max_concurrency)
            .collect::<Vec<_>>()
            .await
            .into_iter()
            .collect::<Result<_, _>>()?;
        results.sort_by_key(|(i, _)| *i);
        Ok(gather(results, fan_out))
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

/// The outputs in input order, `null` for a tolerated failure; or the phase's error.
fn gather(
    results: Vec<(usize, Result<Value, String>)>,
    fan_out: &FanOutPlan,
) -> Result<Value, String> {
    let total = results.len() as u64;
    let failed: Vec<(usize, &String)> = results
        .iter()
        .filter_map(|(i, r)| r.as_ref().err().map(|e| (*i, e)))
        .collect();
    if !fan_out.tolerate.tolerates(failed.len() as u64, total) {
        let (first, error) = failed[0];
        return Err(format!(
            "{} of {total} items failed (item {first}: {error})",
            failed.len()
        ));
    }
    Ok(Value::Array(
        results
            .into_iter()
            .map(|(_, r)| r.unwrap_or(Value::Null))
            .collect(),
    ))
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
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
