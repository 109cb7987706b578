//! The cardholder PIN: 4 to 16 digits (reader interface §4.1.3), sent to the card as `cn`
//! (packed digits, one `F` nibble when the count is odd: part 5 §6.3.1).

use std::fmt;

use subtle::ConstantTimeEq;
use thiserror::Error;
use zeroize::Zeroizing;

/// Fewest digits of a PIN.
pub const MIN_DIGITS: usize = 4;
/// Most digits of a PIN.
pub const MAX_DIGITS: usize = 16;

/// The initial PIN personalization sets (\[design\] D15 of `docs/interop-profile.md`).
const INITIAL: &str = "123456";

/// Why a text or a BCD value is not a PIN. Messages never repeat the PIN.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum PinError {
    /// A PIN has 4 to 16 digits.
    #[error("a PIN has {MIN_DIGITS} to {MAX_DIGITS} digits, this one has {0}")]
    Length(usize),
    /// A PIN has only the digits 0-9.
    #[error("a PIN has only the digits 0-9")]
    NotDigits,
    /// The packed BCD value is not digits filled with one `F` nibble.
    #[error("the PIN is not packed BCD digits (F-filled)")]
    Bcd,
}

/// A cardholder PIN: 4 to 16 decimal digits.
///
/// The digits are wiped on drop, `Debug` prints `Pin(REDACTED)`, and comparisons are
/// constant-time (for PINs of the same length).
#[derive(Clone)]
pub struct Pin(Zeroizing<String>);

impl Pin {
    /// A PIN from its digits.
    pub fn new(digits: &str) -> Result<Pin, PinError> {
        let len = digits.chars().count();
        if !digits.chars().all(|c| c.is_ascii_digit()) {
            return Err(PinError::NotDigits);
        }
        if !(MIN_DIGITS..=MAX_DIGITS).contains(&len) {
            return Err(PinError::Length(len));
        }
        Ok(Pin(Zeroizing::new(digits.to_owned())))
    }

    /// The initial PIN `123456` a card has after personalization.
    pub fn initial() -> Pin {
        Pin(Zeroizing::new(INITIAL.to_owned()))
    }

    /// Number of digits.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Always false: a PIN has at least 4 digits.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The digits. Handle with care: copies are not wiped automatically.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Packed BCD, two digits a byte, an odd length filled with an `F` nibble: `12345` ->
    /// `12 34 5F`.
    pub fn to_bcd(&self) -> Zeroizing<Vec<u8>> {
        let mut out = Zeroizing::new(Vec::with_capacity(self.0.len().div_ceil(2)));
        for pair in self.0.as_bytes().chunks(2) {
            let high = pair.first().map_or(0x0F, |d| d - b'0');
            let low = pair.get(1).map_or(0x0F, |d| d - b'0');
            out.push((high << 4) | low);
        }
        out
    }

    /// Decodes packed BCD as [`Pin::to_bcd`] writes it: only the last nibble may be `F`, and
    /// only for an odd number of digits.
    pub fn from_bcd(bcd: &[u8]) -> Result<Pin, PinError> {
        let mut digits = Zeroizing::new(String::with_capacity(bcd.len() * 2));
        let last = bcd.len().saturating_sub(1);
        for (i, byte) in bcd.iter().enumerate() {
            for (j, nibble) in [byte >> 4, byte & 0x0F].into_iter().enumerate() {
                match nibble {
                    0..=9 => digits.push(char::from(b'0' + nibble)),
                    0x0F if i == last && j == 1 && !digits.is_empty() => {}
                    _ => return Err(PinError::Bcd),
                }
            }
        }
        Pin::new(&digits)
    }

    /// Constant-time equality (the length is not hidden).
    pub fn ct_eq(&self, other: &Pin) -> bool {
        bool::from(self.0.as_bytes().ct_eq(other.0.as_bytes()))
    }

    /// Whether this is the initial PIN `123456`.
    pub fn is_initial(&self) -> bool {
        self.ct_eq(&Pin::initial())
    }

    /// Whether the PIN is too easy to guess: the initial PIN `123456`, one digit repeated
    /// (`000000`), an ascending or descending run, wrapping after 9 or 0 (`123456`,
    /// `654321`, `890123`), or a short pattern of 1-3 digits repeated (`121212`, `123123`,
    /// `1212`).
    pub fn is_weak(&self) -> bool {
        let d: Vec<u8> = self.0.bytes().map(|c| c - b'0').collect();
        let steps = |step: u8| {
            d.windows(2)
                .all(|w| w.get(1) == w.first().map(|a| (a + step) % 10).as_ref())
        };
        let ascending = steps(1);
        let descending = steps(9);
        let repeated = (1..=3).any(|period| {
            period < d.len()
                && d.len() % period == 0
                && d.iter().zip(d.iter().skip(period)).all(|(a, b)| a == b)
        });
        let weak = self.is_initial() || ascending || descending || repeated;
        let mut d = d;
        zeroize::Zeroize::zeroize(&mut d);
        weak
    }
}

impl fmt::Debug for Pin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Pin(REDACTED)")
    }
}

impl PartialEq for Pin {
    fn eq(&self, other: &Self) -> bool {
        Pin::ct_eq(self, other)
    }
}

impl Eq for Pin {}

impl std::str::FromStr for Pin {
    type Err = PinError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Pin::new(s)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn validation() {
        assert!(Pin::new("1234").is_ok());
        assert!(Pin::new("1234567890123456").is_ok());
        assert_eq!(Pin::new("123"), Err(PinError::Length(3)));
        assert_eq!(Pin::new("12345678901234567"), Err(PinError::Length(17)));
        assert_eq!(Pin::new("12a4"), Err(PinError::NotDigits));
        assert_eq!(Pin::new("１２３４"), Err(PinError::NotDigits));
        assert_eq!(
            format!("{:?}", Pin::new("987654").unwrap()),
            "Pin(REDACTED)"
        );
        assert!(!PinError::Length(3).to_string().contains("123"));
    }

    #[test]
    fn bcd() {
        assert_eq!(
            Pin::new("123456").unwrap().to_bcd().as_slice(),
            [0x12, 0x34, 0x56]
        );
        assert_eq!(
            Pin::new("12345").unwrap().to_bcd().as_slice(),
            [0x12, 0x34, 0x5F]
        );
        assert_eq!(
            Pin::from_bcd(&[0x12, 0x34, 0x5F]).unwrap(),
            Pin::new("12345").unwrap()
        );
        assert_eq!(
            Pin::from_bcd(&[0x12, 0x34]).unwrap(),
            Pin::new("1234").unwrap()
        );
        assert_eq!(Pin::from_bcd(&[0x12, 0xF4, 0x56]), Err(PinError::Bcd));
        assert_eq!(Pin::from_bcd(&[0x12, 0x34, 0xFF]), Err(PinError::Bcd));
        assert_eq!(Pin::from_bcd(&[0x12, 0x3A]), Err(PinError::Bcd));
        assert_eq!(Pin::from_bcd(&[0x12]), Err(PinError::Length(2)));
        assert!(Pin::from_bcd(&[]).is_err());
    }

    #[test]
    fn equality_and_initial() {
        assert!(Pin::initial().ct_eq(&Pin::new("123456").unwrap()));
        assert!(Pin::initial().is_initial());
        assert!(!Pin::new("1234567").unwrap().is_initial());
        assert_ne!(Pin::new("1234").unwrap(), Pin::new("1235").unwrap());
    }

    #[test]
    fn weak_pins() {
        for weak in [
            "123456",
            "000000",
            "1111",
            "999999999999",
            "654321",
            "3456",
            "890123",
            "210987",
            "121212",
            "123123",
            "1212",
            "909090",
        ] {
            assert!(Pin::new(weak).unwrap().is_weak(), "{weak} should be weak");
        }
        for ok in [
            "135792", "2580", "918273", "120934", "1123", "112233", "739164",
        ] {
            assert!(!Pin::new(ok).unwrap().is_weak(), "{ok} should not be weak");
        }
    }

    proptest! {
        #[test]
        fn bcd_round_trip(digits in "[0-9]{4,16}") {
            let pin = Pin::new(&digits).unwrap();
            let bcd = pin.to_bcd();
            prop_assert_eq!(bcd.len(), digits.len().div_ceil(2));
            prop_assert_eq!(Pin::from_bcd(&bcd).unwrap(), pin);
        }
    }
}
