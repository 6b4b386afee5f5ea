//! What a live feed must respect for as long as it stays open.
//!
//! A token is checked when a feed opens, but a feed may stay open for days:
//! [`guard`] checks the token again every [`RECHECK_EVERY`] and at the
//! moment it expires, and ends the feed with an `error` item once it is
//! expired or revoked (the client must reconnect with a new token, and can
//! resume where it stopped). It also ends the feed of a client that has read
//! nothing for [`STALLED_AFTER`]: the producer already waits for a slow
//! reader without buffering, so a stalled one costs no memory, but it would
//! still hold a task and a connection forever.

use crate::auth::Credential;
use crate::feed::FeedItem;
use serde_json::json;
use sluice_core::time::now_ms;
use sluice_engine::Engine;
use std::time::Duration;
use tokio::sync::mpsc;

/// How often an open feed's token is checked again (revocation is seen this fast).
pub const RECHECK_EVERY: Duration = Duration::from_secs(30);
/// A client that takes nothing for this long is disconnected.
pub const STALLED_AFTER: Duration = Duration::from_secs(120);

/// The items of `feed`, ended when `credential` stops being valid or the
/// client stops reading. Without a credential (auth off) only the stall
/// rule applies.
pub fn guard(
    engine: Engine,
    credential: Option<Credential>,
    mut feed: mpsc::Receiver<FeedItem>,
) -> mpsc::Receiver<FeedItem> {
    let (tx, rx) = mpsc::channel(16);
    tokio::spawn(async move {
        let mut next_check = check_at(credential.as_ref());
        loop {
            let item = tokio::select! {
                item = feed.recv() => match item {
                    Some(item) => item,
                    None => return,
                },
                _ = tokio::time::sleep_until(next_check), if credential.is_some() => {
                    let Some(credential) = &credential else { continue };
                    if let Some(reason) = refused(&engine, credential).await {
                        let _ = tx.send_timeout(ended(reason), STALLED_AFTER).await;
                        return;
                    }
                    next_check = check_at(Some(credential));
                    continue;
                }
            };
            if tx.send_timeout(item, STALLED_AFTER).await.is_err() {
                // Gone, or stalled: dropping `feed` stops its producer.
                return;
            }
        }
    });
    rx
}

/// The next check: in [`RECHECK_EVERY`], or when the token expires if sooner.
fn check_at(credential: Option<&Credential>) -> tokio::time::Instant {
    let mut wait = RECHECK_EVERY;
    if let Some(expires_at) = credential.and_then(|c| c.expires_at) {
        let left = Duration::from_millis(expires_at.saturating_sub(now_ms()).max(0) as u64);
        wait = wait.min(left + Duration::from_millis(1));
    }
    tokio::time::Instant::now() + wait
}

/// Why the token no longer lets the feed go on, if it does not.
async fn refused(engine: &Engine, credential: &Credential) -> Option<String> {
    match engine
        .authenticate(&credential.bearer, &credential.access)
        .await
    {
        Ok(Ok(_)) => None,
        Ok(Err(error)) => Some(format!(
            "{error}; the feed ends here: reconnect with a valid token and the last position seen to resume"
        )),
        // The store is unreachable: keep serving what the token allowed.
        Err(_) => None,
    }
}

fn ended(reason: String) -> FeedItem {
    FeedItem::new(
        None,
        "error",
        json!({ "message": reason, "code": "invalid_token" }),
    )
}
