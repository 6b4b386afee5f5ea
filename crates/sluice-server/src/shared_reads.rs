//! One read of the store shared by every live-feed client asking for the
//! same thing at the same moment.
//!
//! A change (a progress report, a status) wakes every client of a run or a
//! pipeline; each would read the same lines after the same position. A
//! read is made once per key and per hub generation (see
//! [`sluice_engine::Hub::generation`]), and the clients woken by the same
//! notices await it together: 10,000 subscribers cost one read per change.
//! It is shared only among clients woken by notices it already reflects,
//! since every later change bumps the generation, so none misses a line.

use futures::future::{BoxFuture, FutureExt, Shared};
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex};

type SharedRead<V> = Shared<BoxFuture<'static, Result<Arc<V>, String>>>;

/// Reads by key, with the generation each was made at.
pub struct SharedReads<K, V> {
    reads: Mutex<HashMap<K, (u64, SharedRead<V>)>>,
}

impl<K, V> Default for SharedReads<K, V> {
    fn default() -> Self {
        SharedReads {
            reads: Mutex::new(HashMap::new()),
        }
    }
}

impl<K, V> SharedReads<K, V>
where
    K: Eq + Hash,
    V: Send + Sync + 'static,
{
    /// The read of `key` made at `generation`, started with `read` by the
    /// first caller; reads of older generations are dropped. With `reuse`
    /// false a new read is made (and shared with later callers).
    pub async fn get<F>(
        &self,
        generation: u64,
        key: K,
        reuse: bool,
        read: F,
    ) -> Result<Arc<V>, String>
    where
        F: FnOnce() -> BoxFuture<'static, Result<V, String>>,
    {
        let shared = {
            let mut reads = self.reads.lock().expect("shared reads poisoned");
            match reads.get(&key) {
                Some((made_at, shared)) if reuse && *made_at == generation => shared.clone(),
                _ => {
                    let shared = read().map(|r| r.map(Arc::new)).boxed().shared();
                    reads.retain(|_, (made_at, _)| *made_at == generation);
                    reads.insert(key, (generation, shared.clone()));
                    shared
                }
            }
        };
        shared.await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn one_read_per_key_and_generation() {
        let reads: SharedReads<&str, usize> = SharedReads::default();
        let made = Arc::new(AtomicUsize::new(0));
        let read = |made: Arc<AtomicUsize>| {
            move || async move { Ok(made.fetch_add(1, Ordering::SeqCst)) }.boxed()
        };
        let a = reads.get(1, "run", true, read(made.clone())).await.unwrap();
        let b = reads.get(1, "run", true, read(made.clone())).await.unwrap();
        assert_eq!((*a, *b), (0, 0), "the same generation shares the read");
        let c = reads.get(2, "run", true, read(made.clone())).await.unwrap();
        assert_eq!(*c, 1, "a later generation reads again");
        let d = reads
            .get(2, "other", true, read(made.clone()))
            .await
            .unwrap();
        assert_eq!(*d, 2, "another key reads on its own");
        let e = reads
            .get(2, "run", false, read(made.clone()))
            .await
            .unwrap();
        assert_eq!(*e, 3, "a caller that must not reuse reads afresh");
    }
}
