//! Payments behind a trait. The built-in sandbox works like a card processor's
//! test mode: `4242424242424242` succeeds, `4000000000000002` is declined,
//! `4000000000005126` pays but every refund of it fails; any other
//! Luhn-valid number of 12–19 digits succeeds.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use symbolon_core::{Money, ValidationError};
use symbolon_store::StoredPaymentMethod;

/// Why a payment did not go through.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PaymentError {
    #[error("the card was declined")]
    Declined,
    #[error("payment gateway unavailable: {0}")]
    Unavailable(String),
    /// The gateway refused a refund (nothing was refunded).
    #[error("the refund was refused: {0}")]
    RefundRefused(String),
}

/// A payment processor: tokenize a method once, then authorize, capture or void.
#[async_trait::async_trait]
pub trait PaymentGateway: Send + Sync + 'static {
    /// Turns a raw method into a stored token (the raw number is not kept).
    fn tokenize(&self, kind: &str, number: &str) -> Result<StoredPaymentMethod, ValidationError>;
    /// Reserves `amount` on the method; returns the authorization reference.
    async fn authorize(
        &self,
        method: &StoredPaymentMethod,
        amount: Money,
        reference: &str,
    ) -> Result<String, PaymentError>;
    /// Captures an authorization once the order is recorded.
    async fn capture(&self, authorization: &str) -> Result<(), PaymentError>;
    /// Releases an authorization whose order could not be recorded.
    async fn void(&self, authorization: &str) -> Result<(), PaymentError>;
    /// Refunds `amount` of a captured payment. `reference` is unique to the
    /// refund: a retry with the same reference (after a crash or a timeout)
    /// refunds once and answers the same refund id.
    async fn refund(
        &self,
        payment: &str,
        amount: Money,
        reference: &str,
    ) -> Result<String, PaymentError>;
}

/// The sandbox card gateway.
#[derive(Debug, Default)]
pub struct SandboxGateway {
    voided: Mutex<HashSet<String>>,
    /// Refund reference → refund id: a retried reference refunds once.
    refunds: Mutex<HashMap<String, String>>,
}

/// The test card that always succeeds.
pub const CARD_SUCCESS: &str = "4242424242424242";
/// The test card that is always declined.
pub const CARD_DECLINED: &str = "4000000000000002";
/// The test card that pays, but whose refunds always fail.
pub const CARD_REFUND_FAILS: &str = "4000000000005126";

fn luhn_ok(digits: &str) -> bool {
    let mut sum = 0u32;
    for (i, c) in digits.bytes().rev().enumerate() {
        let mut d = (c - b'0') as u32;
        if i % 2 == 1 {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
    }
    sum.is_multiple_of(10)
}

impl SandboxGateway {
    pub fn new() -> Self {
        Self::default()
    }
    /// Whether an authorization was voided (for tests and the demo).
    pub fn was_voided(&self, authorization: &str) -> bool {
        self.voided
            .lock()
            .map(|v| v.contains(authorization))
            .unwrap_or(false)
    }
}

#[async_trait::async_trait]
impl PaymentGateway for SandboxGateway {
    fn tokenize(&self, kind: &str, number: &str) -> Result<StoredPaymentMethod, ValidationError> {
        if kind != "sandbox_card" {
            return Err(ValidationError::new(
                "payment_method.type",
                "must be `sandbox_card`",
            ));
        }
        let digits: String = number.chars().filter(|c| *c != ' ' && *c != '-').collect();
        if !(12..=19).contains(&digits.len()) || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ValidationError::new(
                "payment_method.number",
                "not a valid card number",
            ));
        }
        if !luhn_ok(&digits) {
            return Err(ValidationError::rule(
                "payment_method.number",
                "not a valid card number (its check digit is wrong)",
            ));
        }
        let outcome = match digits.as_str() {
            CARD_DECLINED => "decline",
            CARD_REFUND_FAILS => "norefund",
            _ => "approve",
        };
        Ok(StoredPaymentMethod {
            kind: kind.to_string(),
            token: format!("sandbox_{outcome}_{}", &digits[digits.len() - 4..]),
            last4: digits[digits.len() - 4..].to_string(),
        })
    }

    async fn authorize(
        &self,
        method: &StoredPaymentMethod,
        _amount: Money,
        reference: &str,
    ) -> Result<String, PaymentError> {
        if method.token.starts_with("sandbox_decline_") {
            return Err(PaymentError::Declined);
        }
        if method.token.starts_with("sandbox_norefund_") {
            return Ok(format!("sandbox_auth_norefund_{reference}"));
        }
        if !method.token.starts_with("sandbox_approve_") {
            return Err(PaymentError::Unavailable("unknown sandbox token".into()));
        }
        Ok(format!("sandbox_auth_{reference}"))
    }

    async fn capture(&self, _authorization: &str) -> Result<(), PaymentError> {
        Ok(())
    }

    async fn void(&self, authorization: &str) -> Result<(), PaymentError> {
        if let Ok(mut v) = self.voided.lock() {
            v.insert(authorization.to_string());
        }
        Ok(())
    }

    async fn refund(
        &self,
        payment: &str,
        _amount: Money,
        reference: &str,
    ) -> Result<String, PaymentError> {
        if payment.starts_with("sandbox_auth_norefund_") {
            return Err(PaymentError::RefundRefused(
                "the card issuer refused the refund".into(),
            ));
        }
        if !payment.starts_with("sandbox_auth_") {
            return Err(PaymentError::RefundRefused(
                "no such sandbox payment".into(),
            ));
        }
        let mut refunds = self
            .refunds
            .lock()
            .map_err(|_| PaymentError::Unavailable("sandbox state poisoned".into()))?;
        Ok(refunds
            .entry(reference.to_string())
            .or_insert_with(|| format!("sandbox_refund_{reference}"))
            .clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_cards() {
        let g = SandboxGateway::new();
        assert_eq!(
            g.tokenize("sandbox_card", CARD_SUCCESS).unwrap().last4,
            "4242"
        );
        assert!(g
            .tokenize("sandbox_card", CARD_DECLINED)
            .unwrap()
            .token
            .contains("decline"));
        assert_eq!(
            g.tokenize("sandbox_card", "4242424242424241")
                .unwrap_err()
                .field,
            "payment_method.number"
        );
        assert_eq!(
            g.tokenize("visa", CARD_SUCCESS).unwrap_err().field,
            "payment_method.type"
        );
        assert!(g.tokenize("sandbox_card", "4242 4242 4242 4242").is_ok());
    }

    #[tokio::test]
    async fn refunds_run_once_per_reference_and_fail_for_the_refund_card() {
        let g = SandboxGateway::new();
        let ok = g.tokenize("sandbox_card", CARD_SUCCESS).unwrap();
        let eur = symbolon_core::Currency::parse("EUR").unwrap();
        let auth = g.authorize(&ok, Money::new(100, eur), "o1").await.unwrap();
        let a = g.refund(&auth, Money::new(50, eur), "rfd_1").await.unwrap();
        assert_eq!(
            g.refund(&auth, Money::new(50, eur), "rfd_1").await.unwrap(),
            a
        );
        assert_ne!(
            g.refund(&auth, Money::new(50, eur), "rfd_2").await.unwrap(),
            a
        );
        let bad = g.tokenize("sandbox_card", CARD_REFUND_FAILS).unwrap();
        let auth = g.authorize(&bad, Money::new(100, eur), "o2").await.unwrap();
        assert!(matches!(
            g.refund(&auth, Money::new(50, eur), "rfd_3").await,
            Err(PaymentError::RefundRefused(_))
        ));
    }
}
