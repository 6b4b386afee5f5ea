//! Checks of API tokens: stored by hash, found by id, listed, revoked.

use super::Harness;
use crate::{NewToken, StoreError, TokenScope};
use std::collections::BTreeSet;

fn token(id: &str, name: &str, scope: TokenScope) -> NewToken {
    NewToken {
        id: id.to_string(),
        name: name.to_string(),
        secret_hash: format!("hash-of-{id}"),
        scope,
        expires_at: None,
    }
}

fn pipelines(names: &[&str]) -> TokenScope {
    TokenScope::Pipelines(names.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>())
}

/// A created token comes back by id with its scope, expiry and the store's
/// creation time; listing returns every token oldest first.
pub async fn tokens_are_stored_found_and_listed(h: Harness) {
    let first = h
        .store
        .create_token(&NewToken {
            expires_at: Some(h.now() + 60_000),
            ..token("tok_a", "ci", pipelines(&["etl", "report"]))
        })
        .await
        .expect("create_token should store a new token");
    assert_eq!(
        first.created_at,
        h.now(),
        "created_at is the store clock's now"
    );
    assert_eq!(first.scope, pipelines(&["etl", "report"]));
    assert_eq!(first.expires_at, Some(h.now() + 60_000));
    assert_eq!(first.revoked_at, None);
    h.advance(10);
    h.store
        .create_token(&token("tok_b", "admin", TokenScope::Admin))
        .await
        .unwrap();
    let found = h.store.get_token("tok_a").await.unwrap();
    assert_eq!(
        found, first,
        "get_token returns the stored record unchanged"
    );
    assert_eq!(found.secret_hash, "hash-of-tok_a");
    let ids: Vec<String> = h
        .store
        .list_tokens()
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.id)
        .collect();
    assert_eq!(ids, ["tok_a", "tok_b"], "tokens are listed oldest first");
    match h.store.get_token("tok_missing").await {
        Err(StoreError::NotFound { kind: "token", .. }) => {}
        other => panic!("an unknown token must be NotFound, got {other:?}"),
    }
}

/// Revoking keeps the record with the first revocation time; a live name
/// cannot be taken twice, a revoked one can.
pub async fn revoked_tokens_keep_their_record_and_free_their_name(h: Harness) {
    h.store
        .create_token(&token("tok_a", "ci", TokenScope::All))
        .await
        .unwrap();
    match h
        .store
        .create_token(&token("tok_b", "ci", TokenScope::All))
        .await
    {
        Err(StoreError::Conflict(message)) => {
            assert!(
                message.contains("ci") && message.contains("tok_a"),
                "{message}"
            )
        }
        other => panic!("a second live token named `ci` must conflict, got {other:?}"),
    }
    h.advance(5);
    let revoked = h.store.revoke_token("tok_a").await.unwrap();
    assert_eq!(revoked.revoked_at, Some(h.now()));
    h.advance(5);
    let again = h.store.revoke_token("tok_a").await.unwrap();
    assert_eq!(
        again.revoked_at, revoked.revoked_at,
        "revoking twice keeps the first time"
    );
    h.store
        .create_token(&token("tok_b", "ci", TokenScope::All))
        .await
        .expect("the name of a revoked token can be reused");
    assert_eq!(h.store.list_tokens().await.unwrap().len(), 2);
    assert!(matches!(
        h.store.revoke_token("tok_missing").await,
        Err(StoreError::NotFound { .. })
    ));
}
