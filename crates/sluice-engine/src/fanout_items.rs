//! The items a fan-out phase runs over, each with the name of its step: the
//! elements of a list in the phase input or the chunks of one object
//! (`PHASE[i]`, see `chunks.rs`), or the objects under
//! a bucket prefix, listed when a run first reaches the phase, so a file
//! dropped there is picked up by the next run without a restart. A run
//! that executes the phase again (a retry, a rerun, a resumed delivery)
//! works on the objects it listed the first time, not on a new listing.

use crate::delivery::Delivery;
use crate::plan::FanOutOver;
use serde_json::{json, Value};
use sluice_core::transform::lookup;
use sluice_objects::ListObjectsQuery;

/// Most items one fan-out phase runs: each is a step with its own records,
/// and the steps of a phase are numbered within this range.
pub(crate) const MAX_ITEMS: usize = crate::fanout::ITEMS_PER_PHASE as usize - 1;

/// Objects listed per page.
const PAGE: usize = 1000;

impl Delivery {
    /// `(step name, item)` pairs in order, or why there are none.
    pub(crate) async fn fan_out_items(
        &self,
        run_id: &str,
        phase: &str,
        over: &FanOutOver,
        input: &Value,
    ) -> Result<Vec<(String, Value)>, String> {
        let items = self.all_fan_out_items(run_id, phase, over, input).await?;
        if items.len() > MAX_ITEMS {
            return Err(too_many(items.len()));
        }
        Ok(items)
    }

    async fn all_fan_out_items(
        &self,
        run_id: &str,
        phase: &str,
        over: &FanOutOver,
        input: &Value,
    ) -> Result<Vec<(String, Value)>, String> {
        match over {
            FanOutOver::Chunks(chunks) => {
                let items = self.engine().chunk_items(chunks, input).await?;
                Ok(numbered(phase, items))
            }
            FanOutOver::Path(path) => match lookup(input, path) {
                // Refused before copying a million items.
                Some(Value::Array(items)) if items.len() > MAX_ITEMS => Err(too_many(items.len())),
                Some(Value::Array(items)) => Ok(numbered(phase, items.clone())),
                Some(other) => Err(format!(
                    "fan_out.over `{path}` is not a list (found {})",
                    sluice_core::transform::kind_of(other)
                )),
                None => Err(format!("fan_out.over `{path}` is not in the phase input")),
            },
            FanOutOver::Objects {
                bucket,
                prefix,
                suffix,
                qualified,
            } => {
                let earlier = self.listed_before(run_id, phase, *qualified).await?;
                if !earlier.is_empty() {
                    return Ok(self.describe_again(bucket, prefix, earlier).await);
                }
                let objects = self.list_objects(bucket, prefix, suffix.as_deref()).await?;
                Ok(objects
                    .into_iter()
                    .map(|item| {
                        let relative = item["name"].as_str().unwrap_or_default();
                        let name = if *qualified {
                            format!("{phase}/{relative}")
                        } else {
                            relative.to_string()
                        };
                        (name, item)
                    })
                    .collect())
            }
        }
    }

    /// The items this run's phase already declared, as `(step, key after
    /// the prefix)` in their original order.
    async fn listed_before(
        &self,
        run_id: &str,
        phase: &str,
        qualified: bool,
    ) -> Result<Vec<(String, String)>, String> {
        let recorded = self
            .engine()
            .store()
            .run_steps(run_id)
            .await
            .map_err(|e| e.to_string())?;
        let phases = self.phase_names();
        let own = format!("{phase}/");
        let mut items: Vec<(u32, String, String)> = recorded
            .into_iter()
            .filter(|s| !phases.contains(&s.name))
            .filter_map(|s| {
                let relative = if qualified {
                    s.name.strip_prefix(&own)?.to_string()
                } else {
                    s.name.clone()
                };
                Some((s.position, s.name, relative))
            })
            .collect();
        items.sort_by_key(|(position, _, _)| *position);
        Ok(items.into_iter().map(|(_, s, r)| (s, r)).collect())
    }

    /// Items for objects listed before, with what the bucket says of them now.
    async fn describe_again(
        &self,
        bucket: &str,
        prefix: &str,
        earlier: Vec<(String, String)>,
    ) -> Vec<(String, Value)> {
        let service = self.engine().inner.objects.get();
        let mut items = Vec::with_capacity(earlier.len());
        for (step, relative) in earlier {
            let key = format!("{prefix}{relative}");
            let mut item = json!({ "bucket": bucket, "key": key, "name": relative });
            if let Some(service) = service {
                let options = sluice_objects::GetObjectOptions::default();
                if let Ok(v) = service.head_object(bucket, &key, &options).await {
                    item["version_id"] = json!(v.version_id);
                    item["size"] = json!(v.size);
                    item["etag"] = json!(v.etag);
                }
            }
            items.push((step, item));
        }
        items
    }

    /// Every object under `prefix` (ending with `suffix`), in key order.
    async fn list_objects(
        &self,
        bucket: &str,
        prefix: &str,
        suffix: Option<&str>,
    ) -> Result<Vec<Value>, String> {
        let service = self
            .engine()
            .inner
            .objects
            .get()
            .ok_or("fan_out over objects: no buckets are served by this Sluice")?;
        let mut items = Vec::new();
        let mut after = None;
        loop {
            let query = ListObjectsQuery {
                prefix: prefix.to_string(),
                delimiter: None,
                after: after.take(),
                max_keys: PAGE,
            };
            let page = service
                .list_objects(bucket, query)
                .await
                .map_err(|e| format!("cannot list s3://{bucket}/{prefix}: {e}"))?;
            for object in page.objects {
                let relative = &object.key[prefix.len().min(object.key.len())..];
                // Folder markers (`sql/`) are not items.
                if relative.is_empty() || object.key.ends_with('/') {
                    continue;
                }
                if suffix.is_some_and(|s| !object.key.ends_with(s)) {
                    continue;
                }
                items.push(json!({
                    "bucket": bucket,
                    "key": object.key,
                    "version_id": object.version_id,
                    "size": object.size,
                    "etag": object.etag,
                    "name": relative,
                }));
            }
            // Refused as soon as the listing passes the limit, not after
            // holding a listing of any size.
            if items.len() > MAX_ITEMS {
                return Err(format!(
                    "more than {MAX_ITEMS} objects under s3://{bucket}/{prefix}, more than one \
                     phase may run; fan out over a narrower prefix, or over batches listed by a step"
                ));
            }
            match page.next_after {
                Some(next) => after = Some(next),
                None => return Ok(items),
            }
        }
    }
}

/// Items named `PHASE[i]`.
fn too_many(n: usize) -> String {
    format!(
        "the fan-out has {n} items, more than the {MAX_ITEMS} one phase may run; \
         group them into batches (a list of lists), or fan out over chunks of a file"
    )
}

fn numbered(phase: &str, items: Vec<Value>) -> Vec<(String, Value)> {
    items
        .into_iter()
        .enumerate()
        .map(|(i, item)| (format!("{phase}[{i}]"), item))
        .collect()
}
