//! Reputation arithmetic, from counts of real interactions.
//!
//! * `positive_rate` = positive ratings / ratings (a rating per offer, from the requester that received it).
//! * `success_rate` = requests answered with an offer before the deadline / requests decided
//!   (offered, declined or expired; pending ones do not count).
//!
//! Both are `None` while their denominator is zero. Ranking uses the Wilson
//! score lower bound (z = 1.96) so that 1 of 1 does not beat 95 of 100.

/// The counts behind a holder's reputation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReputationCounts {
    pub positive: u64,
    pub ratings: u64,
    /// Requests answered with an offer before the deadline.
    pub offered: u64,
    /// Requests decided: offered, declined or expired.
    pub interactions: u64,
}

impl ReputationCounts {
    pub fn positive_rate(&self) -> Option<f64> {
        ratio(self.positive, self.ratings)
    }
    pub fn success_rate(&self) -> Option<f64> {
        ratio(self.offered, self.interactions)
    }
    pub fn positive_lower_bound(&self) -> f64 {
        wilson_lower_bound(self.positive, self.ratings)
    }
    pub fn success_lower_bound(&self) -> f64 {
        wilson_lower_bound(self.offered, self.interactions)
    }
}

fn ratio(num: u64, den: u64) -> Option<f64> {
    (den > 0).then(|| num as f64 / den as f64)
}

/// z for a 95% two-sided confidence interval.
pub const WILSON_Z: f64 = 1.96;

/// The lower bound of the Wilson score interval for `successes` of `n`; 0 when `n` is 0.
pub fn wilson_lower_bound(successes: u64, n: u64) -> f64 {
    if n == 0 {
        return 0.0;
    }
    let n = n as f64;
    let p = successes as f64 / n;
    let z2 = WILSON_Z * WILSON_Z;
    let centre = p + z2 / (2.0 * n);
    let margin = WILSON_Z * ((p * (1.0 - p) + z2 / (4.0 * n)) / n).sqrt();
    ((centre - margin) / (1.0 + z2 / n)).clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn one_of_one_does_not_beat_95_of_100() {
        assert!(wilson_lower_bound(1, 1) < wilson_lower_bound(95, 100));
        assert_eq!(wilson_lower_bound(0, 0), 0.0);
        // Known value: 95/100 at z=1.96 → 0.8882.
        assert!((wilson_lower_bound(95, 100) - 0.8882).abs() < 1e-3);
    }

    #[test]
    fn rates_are_null_until_denominator() {
        let c = ReputationCounts::default();
        assert_eq!(c.positive_rate(), None);
        assert_eq!(c.success_rate(), None);
        let c = ReputationCounts {
            positive: 3,
            ratings: 4,
            offered: 1,
            interactions: 3,
        };
        assert_eq!(c.positive_rate(), Some(0.75));
        assert_eq!(c.success_rate(), Some(1.0 / 3.0));
    }

    proptest! {
        #[test]
        fn wilson_is_a_lower_bound_and_monotone(n in 1u64..10_000, k in 0u64..10_000) {
            let k = k % (n + 1);
            let lb = wilson_lower_bound(k, n);
            prop_assert!(lb >= 0.0 && lb <= k as f64 / n as f64 + 1e-12);
            if k < n {
                prop_assert!(wilson_lower_bound(k + 1, n) >= lb);
            }
            // More evidence at the same rate raises the bound.
            prop_assert!(wilson_lower_bound(k * 2, n * 2) >= lb - 1e-12);
        }
    }
}
