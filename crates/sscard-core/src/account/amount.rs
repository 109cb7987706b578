//! Amounts of the medical account: integer fen (分) on the card (V2.0 notice §8.5.3.5: "以人民币
//! '分'为单位，用二进制表示", 4 bytes), yuan with at most two decimals for people.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// An amount in fen (分, 1/100 yuan) as the card keeps it: 4 bytes binary, 0 to
/// 4 294 967 295 fen (42 949 672.95 yuan, the reader interface's "小于 42949672.95" bound of
/// §8.1.2(3)). Never a float.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
pub struct Fen(pub u32);

/// Why a text is not an amount in yuan.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum AmountError {
    /// Nothing was given.
    #[error("an amount is empty")]
    Empty,
    /// A minus sign: amounts on the card are never negative.
    #[error("{0:?}: amounts are never negative")]
    Negative(String),
    /// Not digits with an optional decimal point.
    #[error("{0:?} is not an amount in yuan (digits, optionally a point and one or two decimals, e.g. 12.50)")]
    NotAnAmount(String),
    /// More than two decimals: the card counts in fen.
    #[error("{0:?} has more than two decimals: the card counts in fen (0.01 yuan)")]
    TooManyDecimals(String),
    /// More than the card's 4 bytes hold.
    #[error("{0:?} is more than the card can hold (42949672.95 yuan, 4 bytes of fen)")]
    TooLarge(String),
}

impl Fen {
    /// Zero.
    pub const ZERO: Fen = Fen(0);
    /// The largest amount 4 bytes hold.
    pub const MAX: Fen = Fen(u32::MAX);

    /// Parses yuan with at most two decimals (`12`, `12.5`, `12.50`), exactly: no rounding,
    /// no sign, no exponent, no grouping. Surrounding blanks are ignored.
    pub fn parse_yuan(text: &str) -> Result<Fen, AmountError> {
        let t = text.trim();
        if t.is_empty() {
            return Err(AmountError::Empty);
        }
        if t.starts_with('-') {
            return Err(AmountError::Negative(t.to_owned()));
        }
        let (whole, frac) = match t.split_once('.') {
            Some((w, f)) => (w, Some(f)),
            None => (t, None),
        };
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if !digits(whole) {
            return Err(AmountError::NotAnAmount(t.to_owned()));
        }
        let frac_fen = match frac {
            None => 0u64,
            Some(f) if !digits(f) => return Err(AmountError::NotAnAmount(t.to_owned())),
            Some(f) if f.len() > 2 => return Err(AmountError::TooManyDecimals(t.to_owned())),
            Some(f) => {
                let v: u64 = f
                    .parse()
                    .map_err(|_| AmountError::NotAnAmount(t.to_owned()))?;
                if f.len() == 1 {
                    v * 10
                } else {
                    v
                }
            }
        };
        let whole = whole.trim_start_matches('0');
        if whole.len() > 10 {
            return Err(AmountError::TooLarge(t.to_owned()));
        }
        let yuan: u64 = if whole.is_empty() {
            0
        } else {
            whole
                .parse()
                .map_err(|_| AmountError::NotAnAmount(t.to_owned()))?
        };
        let fen = yuan
            .checked_mul(100)
            .and_then(|f| f.checked_add(frac_fen))
            .and_then(|f| u32::try_from(f).ok())
            .ok_or_else(|| AmountError::TooLarge(t.to_owned()))?;
        Ok(Fen(fen))
    }

    /// The amount in yuan with two decimals: `12.50`.
    pub fn yuan(self) -> String {
        format!("{}.{:02}", self.0 / 100, self.0 % 100)
    }

    /// The 4 bytes the card holds (big-endian binary).
    pub fn to_bytes(self) -> [u8; 4] {
        self.0.to_be_bytes()
    }

    /// The amount of 4 bytes from the card.
    pub fn from_bytes(bytes: [u8; 4]) -> Fen {
        Fen(u32::from_be_bytes(bytes))
    }

    /// `self + other`, `None` beyond 4 bytes.
    pub fn checked_add(self, other: Fen) -> Option<Fen> {
        self.0.checked_add(other.0).map(Fen)
    }

    /// `self - other`, `None` below zero.
    pub fn checked_sub(self, other: Fen) -> Option<Fen> {
        self.0.checked_sub(other.0).map(Fen)
    }

    /// Whether the amount is zero.
    pub fn is_zero(self) -> bool {
        self.0 == 0
    }
}

impl fmt::Display for Fen {
    /// Yuan with two decimals ([`Fen::yuan`]).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.yuan())
    }
}

impl FromStr for Fen {
    type Err = AmountError;
    /// [`Fen::parse_yuan`].
    fn from_str(s: &str) -> Result<Fen, AmountError> {
        Fen::parse_yuan(s)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn yuan_are_parsed_exactly() {
        for (text, fen) in [
            ("0", 0),
            ("0.01", 1),
            ("12", 1200),
            ("12.5", 1250),
            ("12.50", 1250),
            (" 7.09 ", 709),
            ("007.00", 700),
            ("42949672.95", u32::MAX),
            // a float would round 0.29 * 100 to 28.999…
            ("0.29", 29),
            ("1234567.89", 123_456_789),
        ] {
            assert_eq!(Fen::parse_yuan(text).unwrap(), Fen(fen), "{text}");
        }
        assert_eq!(Fen(1250).yuan(), "12.50");
        assert_eq!(Fen(7).to_string(), "0.07");
        assert_eq!(Fen(u32::MAX).yuan(), "42949672.95");
    }

    #[test]
    fn bad_amounts_say_why() {
        assert_eq!(Fen::parse_yuan(""), Err(AmountError::Empty));
        assert!(matches!(
            Fen::parse_yuan("-1.00"),
            Err(AmountError::Negative(_))
        ));
        assert!(matches!(
            Fen::parse_yuan("1.005"),
            Err(AmountError::TooManyDecimals(_))
        ));
        assert!(matches!(
            Fen::parse_yuan("42949672.96"),
            Err(AmountError::TooLarge(_))
        ));
        assert!(matches!(
            Fen::parse_yuan("99999999999999999999"),
            Err(AmountError::TooLarge(_))
        ));
        for bad in [
            "1e3", "+5", "1,000", ".5", "5.", "¥5", "5 .0", "0x10", "NaN",
        ] {
            assert!(
                matches!(Fen::parse_yuan(bad), Err(AmountError::NotAnAmount(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn bytes_round_trip() {
        assert_eq!(Fen(0x0102_0304).to_bytes(), [1, 2, 3, 4]);
        assert_eq!(Fen::from_bytes([0, 0, 0x27, 0x10]), Fen(10_000));
        assert_eq!(Fen(5).checked_sub(Fen(6)), None);
        assert_eq!(Fen::MAX.checked_add(Fen(1)), None);
    }
}
