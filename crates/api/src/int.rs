//! Integers as JSON (and JSON Schema) count them: `45` and `45.0` are the
//! same integer, so request fields typed `integer` accept both; a fraction
//! or a number out of the field's range is refused.

use serde::de::{Deserializer, Error, Unexpected, Visitor};
use std::fmt;

struct Integral;

impl Visitor<'_> for Integral {
    type Value = Option<i128>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an integer")
    }
    fn visit_i64<E: Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Some(v.into()))
    }
    fn visit_u64<E: Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Some(v.into()))
    }
    fn visit_f64<E: Error>(self, v: f64) -> Result<Self::Value, E> {
        // 2^63: past it an f64 is no exact integer of any field's type.
        if v.is_finite() && v.fract() == 0.0 && v.abs() < 9_223_372_036_854_775_808.0 {
            Ok(Some(v as i128))
        } else {
            Err(E::invalid_type(Unexpected::Float(v), &self))
        }
    }
    fn visit_unit<E: Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_none<E: Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
}

fn fit<T: TryFrom<i128>, E: Error>(n: i128) -> Result<T, E> {
    T::try_from(n).map_err(|_| {
        E::invalid_value(
            Unexpected::Other(&format!("integer `{n}`")),
            &"an integer in the field's range",
        )
    })
}

/// A required integer field (`#[serde(deserialize_with = "int::required")]`).
pub fn required<'de, D: Deserializer<'de>, T: TryFrom<i128>>(d: D) -> Result<T, D::Error> {
    match d.deserialize_any(Integral)? {
        Some(n) => fit(n),
        None => Err(D::Error::invalid_type(Unexpected::Unit, &"an integer")),
    }
}

/// An optional integer field (`#[serde(default, deserialize_with = "int::optional")]`): `null` is none.
pub fn optional<'de, D: Deserializer<'de>, T: TryFrom<i128>>(d: D) -> Result<Option<T>, D::Error> {
    d.deserialize_any(Integral)?.map(fit).transpose()
}

#[cfg(test)]
mod tests {
    #[derive(serde::Deserialize, Debug)]
    struct T {
        #[serde(deserialize_with = "super::required")]
        n: i64,
        #[serde(default, deserialize_with = "super::optional")]
        m: Option<u32>,
    }

    fn parse(s: &str) -> Result<T, String> {
        serde_json::from_str(s).map_err(|e| e.to_string())
    }

    #[test]
    fn integral_floats_are_integers() {
        let t = parse(r#"{"n": 45.0, "m": 7.0}"#).unwrap();
        assert_eq!((t.n, t.m), (45, Some(7)));
        let t = parse(r#"{"n": -3}"#).unwrap();
        assert_eq!((t.n, t.m), (-3, None));
        assert_eq!(parse(r#"{"n": 1, "m": null}"#).unwrap().m, None);
        assert!(parse(r#"{"n": 4.5}"#)
            .unwrap_err()
            .contains("floating point"));
        assert!(parse(r#"{"n": 1, "m": -1}"#).is_err());
        assert!(parse(r#"{"n": 1, "m": 4294967296}"#).is_err());
        assert!(parse(r#"{"n": 1e300}"#).is_err());
        assert!(parse(r#"{"n": "1"}"#).is_err());
        assert!(parse(r#"{"n": null}"#).is_err());
    }
}
