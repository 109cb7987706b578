//! The social security number 社会保障号码: the citizen identity number of GB 11643.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::{BcdDate, DataError, RegionCode, Sex};

const FIELD: &str = "ssn";
const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK_CHARS: [u8; 11] = *b"10X98765432";

/// An 18-character citizen identity number (GB 11643): 6-digit region code, 8-digit birth date,
/// 3-digit sequence number (odd for men, even for women) and an ISO 7064 MOD 11-2 check
/// character (`0`-`9` or `X`). A lowercase `x` is accepted and stored as `X`.
/// Serialized as the 18-character string.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
pub struct SocialSecurityNumber {
    text: String,
    birth_date: BcdDate,
}

impl SocialSecurityNumber {
    /// Validates `text`: length, digits, region, birth date and check character.
    pub fn parse(text: &str) -> Result<SocialSecurityNumber, DataError> {
        let bytes = text.as_bytes();
        if bytes.len() != 18 {
            return Err(DataError::invalid(
                FIELD,
                format!("{} characters, expected 18", text.chars().count()),
            ));
        }
        let (body, last) = bytes.split_at(17);
        if !body.iter().all(u8::is_ascii_digit) {
            return Err(DataError::invalid(
                FIELD,
                "the first 17 characters must be digits",
            ));
        }
        let given = match last {
            [b'x'] | [b'X'] => b'X',
            [d] if d.is_ascii_digit() => *d,
            _ => {
                return Err(DataError::invalid(
                    FIELD,
                    "the last character must be a digit or X",
                ))
            }
        };
        let region = std::str::from_utf8(body.get(..6).unwrap_or_default()).unwrap_or_default();
        RegionCode::parse(region)
            .map_err(|e| DataError::invalid(FIELD, format!("region part: {}", reason_of(&e))))?;
        let birth = std::str::from_utf8(body.get(6..14).unwrap_or_default()).unwrap_or_default();
        let birth_date = BcdDate::parse(birth).map_err(|e| {
            DataError::invalid(FIELD, format!("birth date part: {}", reason_of(&e)))
        })?;
        DataError::check_character(FIELD, given, check_char(body))?;
        let mut normalised = body.to_vec();
        normalised.push(given);
        Ok(SocialSecurityNumber {
            text: normalised.iter().map(|&b| char::from(b)).collect(),
            birth_date,
        })
    }

    /// The 18 characters.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The region code of the first registration (first 6 digits).
    pub fn region(&self) -> Result<RegionCode, DataError> {
        RegionCode::parse(self.text.get(..6).unwrap_or_default())
    }

    /// The birth date (digits 7 to 14).
    pub fn birth_date(&self) -> BcdDate {
        self.birth_date
    }

    /// The sex encoded in the 17th digit: odd male, even female.
    pub fn sex(&self) -> Sex {
        match self.text.as_bytes().get(16) {
            Some(d) if (d - b'0') % 2 == 1 => Sex::Male,
            _ => Sex::Female,
        }
    }
}

fn reason_of(e: &DataError) -> String {
    match e {
        DataError::Invalid { reason, .. } => reason.clone(),
        other => other.to_string(),
    }
}

/// The GB 11643 check character of the first 17 digits (ISO 7064 MOD 11-2).
fn check_char(body: &[u8]) -> u8 {
    let sum: u32 = body
        .iter()
        .zip(WEIGHTS)
        .map(|(d, w)| u32::from(d.wrapping_sub(b'0')) * w)
        .sum();
    CHECK_CHARS
        .get((sum % 11) as usize)
        .copied()
        .unwrap_or(b'?')
}

impl fmt::Display for SocialSecurityNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

crate::data::text_conversions!(SocialSecurityNumber, DataError, SocialSecurityNumber::parse);

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn with_check(body17: &str) -> String {
        format!("{body17}{}", char::from(check_char(body17.as_bytes())))
    }

    #[test]
    fn reference_number() {
        let s = SocialSecurityNumber::parse("111111198101011110").unwrap();
        assert_eq!(s.birth_date().to_string(), "19810101");
        assert_eq!(s.sex(), Sex::Male);
        assert_eq!(s.region().unwrap().as_str(), "111111");
        assert_eq!(s.to_string(), "111111198101011110");
    }

    #[test]
    fn x_check_character_and_sex() {
        // find a body whose check character is X
        let body = (0..1000)
            .map(|n| format!("63990019900101{n:03}"))
            .find(|b| check_char(b.as_bytes()) == b'X')
            .unwrap();
        let lower = format!("{body}x");
        let s = SocialSecurityNumber::parse(&lower).unwrap();
        assert_eq!(s.as_str(), format!("{body}X"));
        let female = with_check("63990019900101002");
        assert_eq!(
            SocialSecurityNumber::parse(&female).unwrap().sex(),
            Sex::Female
        );
        let json = serde_json::to_string(&s).unwrap();
        assert_eq!(
            serde_json::from_str::<SocialSecurityNumber>(&json).unwrap(),
            s
        );
    }

    #[test]
    fn rejections() {
        let cases = [
            ("111111198101011111", "check"),
            ("11111119810101111", "18"),
            ("1111111981010111100", "18"),
            ("11111119810101111A", "digit or X"),
            ("1111111981010X1110", "digits"),
            (with_check("11111120230229111").leak() as &str, "birth date"),
            (with_check("11111118991231111").leak(), "birth date"),
            (with_check("99111119810101111").leak(), "region"),
            ("１１１１１１１９８１０１０１１１１０", "18"),
        ];
        for (bad, why) in cases {
            let e = SocialSecurityNumber::parse(bad).unwrap_err();
            assert_eq!(e.field(), Some("ssn"));
            assert!(e.to_string().contains(why), "{bad}: {e}");
        }
        assert!(serde_json::from_str::<SocialSecurityNumber>("\"111111198101011111\"").is_err());
    }
}
