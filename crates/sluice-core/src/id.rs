//! Identifiers: time-ordered, globally unique, with a readable prefix.
//!
//! A UUIDv7 sorts by creation time, so listing runs or messages by id is
//! listing them by age, and ids minted by several worker processes never clash.

/// A new id such as `run_0192f0c4a3b87c3e9d2e5f1a2b3c4d5e`.
pub fn new_id(prefix: &str) -> String {
    format!("{prefix}_{}", uuid::Uuid::now_v7().simple())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_prefixed_unique_and_time_ordered() {
        let a = new_id("run");
        let b = new_id("run");
        assert!(a.starts_with("run_"));
        assert_ne!(a, b);
        assert!(a < b, "{a} should sort before {b}");
    }
}
