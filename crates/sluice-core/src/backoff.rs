//! Exponential backoff with jitter for retried messages.
//!
//! The delay before retry `n` (1-based: the wait after the first failure is
//! retry 1) is `min(max, initial * multiplier^(n-1))`, then jittered. "Equal
//! jitter" keeps half the delay fixed and randomises the other half, so a burst
//! of failures spreads out without any retry coming back almost immediately.

use serde::{Deserialize, Serialize};

/// How long to wait before redelivering a failed message.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Backoff {
    pub initial_ms: u64,
    pub max_ms: u64,
    pub multiplier: f64,
    /// Fraction of the delay that is randomised, in `0.0..=1.0`.
    pub jitter: f64,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            initial_ms: 1_000,
            max_ms: 300_000,
            multiplier: 2.0,
            jitter: 0.5,
        }
    }
}

impl Backoff {
    /// The un-jittered delay before retry `retry` (1-based).
    pub fn base_delay_ms(&self, retry: u32) -> u64 {
        let exp = retry.saturating_sub(1).min(63) as i32;
        let raw = self.initial_ms as f64 * self.multiplier.max(1.0).powi(exp);
        raw.min(self.max_ms as f64).max(0.0) as u64
    }

    /// The delay before retry `retry`, with `random` drawn uniformly from `0.0..1.0`.
    ///
    /// Taking the random number as an argument keeps this function pure.
    pub fn delay_ms(&self, retry: u32, random: f64) -> u64 {
        let base = self.base_delay_ms(retry) as f64;
        let jitter = self.jitter.clamp(0.0, 1.0);
        let fixed = base * (1.0 - jitter);
        (fixed + base * jitter * random.clamp(0.0, 1.0)) as u64
    }

    /// The delay before retry `retry`, jittered with the thread's random generator.
    pub fn sample_delay_ms(&self, retry: u32) -> u64 {
        self.delay_ms(retry, rand::random::<f64>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delay_grows_exponentially_then_caps() {
        let b = Backoff {
            initial_ms: 100,
            max_ms: 1_000,
            multiplier: 2.0,
            jitter: 0.0,
        };
        let delays: Vec<u64> = (1..=6).map(|n| b.base_delay_ms(n)).collect();
        assert_eq!(delays, [100, 200, 400, 800, 1_000, 1_000]);
    }

    #[test]
    fn jitter_stays_within_its_band() {
        let b = Backoff {
            initial_ms: 1_000,
            max_ms: 10_000,
            multiplier: 2.0,
            jitter: 0.5,
        };
        assert_eq!(b.delay_ms(1, 0.0), 500);
        assert_eq!(b.delay_ms(1, 0.999_999), 999);
        for _ in 0..1_000 {
            let d = b.sample_delay_ms(2);
            assert!((1_000..=2_000).contains(&d), "{d}");
        }
    }

    #[test]
    fn huge_retry_counts_do_not_overflow() {
        let b = Backoff::default();
        assert_eq!(b.base_delay_ms(u32::MAX), b.max_ms);
    }
}
