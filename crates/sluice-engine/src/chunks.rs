//! Fan-out over the chunks of one large object: byte ranges of about
//! `size` bytes, each ending just after a newline, so that a CSV or JSON
//! Lines file splits into chunks of whole records. Each item is
//! `{"bucket", "key", "offset", "length", "index", "count"}`; a handler reads
//! its range with an S3 ranged GET (`Range: bytes=offset-(offset+length-1)`).
//!
//! The splitting is pure ([`split_at_lines`]) over a function that finds the
//! first newline at or after a position, so it is tested on bytes in memory;
//! against a bucket that function reads small ranged windows, never the
//! whole object.

use crate::engine::Engine;
use crate::plan::ChunksPlan;
use futures::StreamExt;
use serde_json::{json, Value};
use sluice_core::transform::lookup;
use sluice_objects::{ByteRange, GetObjectOptions};

/// Bytes read at once while looking for the end of a line.
const WINDOW: u64 = 64 * 1024;

/// Chunk start offsets of an object of `size` bytes cut about every `chunk`
/// bytes, each cut moved forward to just after the next newline at or after
/// the nominal position. `newline_at_or_after(p)` returns the offset of the
/// first `\n` at or after `p`, if any. A line longer than `chunk` makes its
/// chunk longer; no chunk is ever empty.
pub fn split_at_lines(
    size: u64,
    chunk: u64,
    mut newline_at_or_after: impl FnMut(u64) -> Result<Option<u64>, String>,
) -> Result<Vec<(u64, u64)>, String> {
    let chunk = chunk.max(1);
    let mut starts = vec![0u64];
    let mut nominal = chunk;
    while nominal < size {
        // The cut goes after the newline that ends the line containing byte `nominal - 1`.
        let Some(newline) = newline_at_or_after(nominal - 1)? else {
            break;
        };
        let start = newline + 1;
        if start >= size {
            break;
        }
        starts.push(start);
        nominal = start + chunk;
    }
    Ok(starts
        .iter()
        .enumerate()
        .map(|(i, &start)| (start, starts.get(i + 1).copied().unwrap_or(size) - start))
        .collect())
}

impl Engine {
    /// The fan-out items of a chunked object named by `plan` and the phase input.
    pub(crate) async fn chunk_items(
        &self,
        plan: &ChunksPlan,
        input: &Value,
    ) -> Result<Vec<Value>, String> {
        let (bucket, key) = object_of(plan, input)?;
        let objects = self
            .inner
            .objects
            .get()
            .ok_or("fan-out over chunks needs buckets, and none are served")?;
        let size = objects
            .head_object(&bucket, &key, &GetObjectOptions::default())
            .await
            .map_err(|e| format!("cannot chunk s3://{bucket}/{key}: {e}"))?
            .size;
        // Windows are read one after another; the closure below is sync, so
        // the newline positions are found first with async reads.
        let mut cuts: Vec<(u64, u64)> = Vec::new();
        let mut finder = NewlineFinder {
            engine: self,
            bucket: &bucket,
            key: &key,
            size,
        };
        let mut nominal = plan.size.max(1);
        let mut newlines = std::collections::HashMap::new();
        while nominal < size {
            let found = finder.first_newline(nominal - 1).await?;
            newlines.insert(nominal - 1, found);
            let Some(newline) = found else { break };
            nominal = newline + 1 + plan.size.max(1);
        }
        cuts.extend(split_at_lines(size, plan.size, |p| {
            Ok(newlines.get(&p).copied().flatten())
        })?);
        let count = cuts.len();
        Ok(cuts
            .into_iter()
            .enumerate()
            .map(|(index, (offset, length))| {
                json!({ "bucket": bucket, "key": key, "offset": offset, "length": length, "index": index, "count": count })
            })
            .collect())
    }
}

/// Reads windows of an object to find newlines.
struct NewlineFinder<'a> {
    engine: &'a Engine,
    bucket: &'a str,
    key: &'a str,
    size: u64,
}

impl NewlineFinder<'_> {
    async fn first_newline(&mut self, from: u64) -> Result<Option<u64>, String> {
        let objects = self
            .engine
            .inner
            .objects
            .get()
            .expect("checked by the caller");
        let mut at = from;
        while at < self.size {
            let last = (at + WINDOW).min(self.size) - 1;
            let options = GetObjectOptions {
                range: Some(ByteRange::From {
                    first: at,
                    last: Some(last),
                }),
                ..Default::default()
            };
            let mut body = objects
                .get_object(self.bucket, self.key, &options)
                .await
                .map_err(|e| format!("reading s3://{}/{}: {e}", self.bucket, self.key))?
                .bytes;
            let mut offset = at;
            while let Some(chunk) = body.next().await {
                let chunk =
                    chunk.map_err(|e| format!("reading s3://{}/{}: {e}", self.bucket, self.key))?;
                if let Some(i) = chunk.iter().position(|b| *b == b'\n') {
                    return Ok(Some(offset + i as u64));
                }
                offset += chunk.len() as u64;
            }
            at = last + 1;
        }
        Ok(None)
    }
}

/// The object to chunk: the plan's bucket and key, each else taken from the
/// input (`bucket`/`key`, or the first record of an S3 event).
fn object_of(plan: &ChunksPlan, input: &Value) -> Result<(String, String), String> {
    let from_event = |field: &str| {
        lookup(input, &format!("$.Records[0].s3.{field}"))
            .and_then(|v| v.as_str().map(str::to_string))
    };
    let bucket = match &plan.bucket {
        Some(b) => Some(b.clone()),
        None => input["bucket"]
            .as_str()
            .map(str::to_string)
            .or_else(|| from_event("bucket.name")),
    };
    let key = match &plan.key {
        Some(k) if k.starts_with('$') => {
            lookup(input, k).and_then(|v| v.as_str().map(str::to_string))
        }
        Some(k) => Some(k.clone()),
        None => input["key"]
            .as_str()
            .map(str::to_string)
            .or_else(|| from_event("object.key")),
    };
    match (bucket, key) {
        (Some(b), Some(k)) => Ok((b, k)),
        _ => Err("fan-out over chunks: name the object with `chunks: { bucket, key }` or give the phase `bucket` and `key` (or an S3 event)".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(text: &str, chunk: u64) -> Vec<&str> {
        let bytes = text.as_bytes();
        let cuts = split_at_lines(bytes.len() as u64, chunk, |p| {
            Ok(bytes[p as usize..]
                .iter()
                .position(|b| *b == b'\n')
                .map(|i| p + i as u64))
        })
        .unwrap();
        let total: u64 = cuts.iter().map(|c| c.1).sum();
        assert_eq!(total, bytes.len() as u64, "chunks cover the object exactly");
        cuts.iter()
            .map(|&(o, l)| &text[o as usize..(o + l) as usize])
            .collect()
    }

    #[test]
    fn chunks_end_after_a_newline_and_cover_everything() {
        let text = "aa\nbbbb\ncc\ndddddd\ne\n";
        assert_eq!(split(text, 4), ["aa\nbbbb\n", "cc\ndddddd\n", "e\n"]);
        assert_eq!(
            split(text, 3),
            ["aa\n", "bbbb\n", "cc\n", "dddddd\n", "e\n"]
        );
        assert_eq!(split(text, 100), [text]);
        assert_eq!(
            split(text, 1),
            ["aa\n", "bbbb\n", "cc\n", "dddddd\n", "e\n"]
        );
    }

    #[test]
    fn a_last_line_without_newline_and_long_lines_stay_whole() {
        assert_eq!(split("aa\nbb", 2), ["aa\n", "bb"]);
        assert_eq!(
            split("a-very-long-line\nx\n", 2),
            ["a-very-long-line\n", "x\n"]
        );
        assert_eq!(split("no newline at all", 4), ["no newline at all"]);
        assert!(split("", 4).len() <= 1);
    }
}
