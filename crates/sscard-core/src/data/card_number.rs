//! The card number 卡号: 8 characters and a check character.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::DataError;

const FIELD: &str = "card_number";
const WEIGHTS: [u32; 8] = [3, 7, 9, 10, 5, 8, 4, 2];

/// A 9-character card number (卡号): 8 characters `0-9`/`A-Z` and the check character of the
/// V2.0 notice's appendix A (weights `3 7 9 10 5 8 4 2`, `11 - sum mod 11`, 10 → `X`,
/// 11 → `0`). Lowercase input is stored in capitals.
/// Serialized as the 9-character string.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
pub struct CardNumber(String);

fn value_of(c: u8) -> Option<u32> {
    match c {
        b'0'..=b'9' => Some(u32::from(c - b'0')),
        b'A'..=b'Z' => Some(u32::from(c - b'A') + 10),
        _ => None,
    }
}

/// The check character of 8 normalised (capital) characters.
fn check_of(body: &[u8]) -> Result<u8, DataError> {
    if body.len() != 8 {
        return Err(DataError::invalid(
            FIELD,
            format!(
                "{} characters before the check character, expected 8",
                body.len()
            ),
        ));
    }
    let mut sum = 0u32;
    for (&c, w) in body.iter().zip(WEIGHTS) {
        let v = value_of(c).ok_or_else(|| {
            DataError::invalid(
                FIELD,
                format!("{:?} is not a digit or capital letter", char::from(c)),
            )
        })?;
        sum += v * w;
    }
    Ok(match 11 - sum % 11 {
        10 => b'X',
        11 => b'0',
        c => b'0' + c as u8,
    })
}

fn normalise(text: &str) -> Result<Vec<u8>, DataError> {
    if !text.is_ascii() {
        return Err(DataError::invalid(
            FIELD,
            format!("{text:?} has characters other than 0-9 and A-Z"),
        ));
    }
    Ok(text.to_ascii_uppercase().into_bytes())
}

impl CardNumber {
    /// Validates a 9-character card number including its check character.
    pub fn parse(text: &str) -> Result<CardNumber, DataError> {
        let bytes = normalise(text)?;
        let (body, check) = match bytes.as_slice() {
            [body @ .., check] if bytes.len() == 9 => (body, *check),
            _ => {
                return Err(DataError::invalid(
                    FIELD,
                    format!("{} characters, expected 9", text.chars().count()),
                ))
            }
        };
        DataError::check_character(FIELD, check, check_of(body)?)?;
        Ok(CardNumber(String::from_utf8_lossy(&bytes).into_owned()))
    }

    /// A card number as read from a card: 9 characters `0-9`/`A-Z`, the check character not
    /// checked. The check algorithm is sscard's choice where public sources are silent
    /// (docs/card-os.md §1), so a real card whose issuer used another one must still read;
    /// [`CardNumber::has_valid_check`] tells whether it agrees.
    pub fn from_card(text: &str) -> Result<CardNumber, DataError> {
        let bytes = normalise(text)?;
        if bytes.len() != 9 {
            return Err(DataError::invalid(
                FIELD,
                format!("{} characters, expected 9", text.chars().count()),
            ));
        }
        // the form: every character a digit or capital letter
        check_of(bytes.get(..8).unwrap_or_default())?;
        if bytes.get(8).and_then(|&c| value_of(c)).is_none() {
            return Err(DataError::invalid(
                FIELD,
                "the check character is not a digit or capital letter",
            ));
        }
        Ok(CardNumber(String::from_utf8_lossy(&bytes).into_owned()))
    }

    /// Whether the check character agrees with the GB 11714 algorithm sscard uses.
    pub fn has_valid_check(&self) -> bool {
        let bytes = self.0.as_bytes();
        match (bytes.get(..8), bytes.get(8)) {
            (Some(body), Some(&check)) => check_of(body).map(|c| c == check).unwrap_or(false),
            _ => false,
        }
    }

    /// The check character of the first 8 characters.
    pub fn check_char(first8: &str) -> Result<char, DataError> {
        check_of(&normalise(first8)?).map(char::from)
    }

    /// The card number made of `first8` and its check character.
    pub fn with_check(first8: &str) -> Result<CardNumber, DataError> {
        let mut body = normalise(first8)?;
        let check = check_of(&body)?;
        body.push(check);
        Ok(CardNumber(String::from_utf8_lossy(&body).into_owned()))
    }

    /// The 9 characters.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CardNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

crate::data::text_conversions!(CardNumber, DataError, CardNumber::parse);

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    #[test]
    fn cards_are_read_leniently_on_the_check_character() {
        let n = CardNumber::from_card("KD5578905").unwrap();
        assert!(!n.has_valid_check());
        assert!(CardNumber::from_card("KD5578904")
            .unwrap()
            .has_valid_check());
        assert!(CardNumber::parse("KD5578905").is_err());
        assert!(CardNumber::from_card("KD55789").is_err());
        assert!(CardNumber::from_card("KD55-8904").is_err());
        assert!(CardNumber::from_card("KD557890-").is_err());
    }

    use super::*;

    #[test]
    fn reference_numbers() {
        for n in ["KD5578904", "X00000019"] {
            assert_eq!(CardNumber::parse(n).unwrap().as_str(), n);
        }
        assert_eq!(
            CardNumber::with_check("KD557890").unwrap().as_str(),
            "KD5578904"
        );
        assert_eq!(
            CardNumber::with_check("X0000001").unwrap().as_str(),
            "X00000019"
        );
        assert_eq!(CardNumber::check_char("X0000001").unwrap(), '9');
        assert_eq!(
            CardNumber::parse("kd5578904").unwrap().as_str(),
            "KD5578904"
        );
        let json = serde_json::to_string(&CardNumber::parse("KD5578904").unwrap()).unwrap();
        assert_eq!(json, "\"KD5578904\"");
    }

    #[test]
    fn check_x_and_zero() {
        // search bodies whose check is X (c = 10) and 0 (c = 11)
        let mut seen_x = false;
        let mut seen_0 = false;
        for n in 0..200u32 {
            let body = format!("A{n:07}");
            let c = CardNumber::with_check(&body).unwrap();
            let check = c.as_str().as_bytes()[8];
            seen_x |= check == b'X';
            seen_0 |= check == b'0';
            assert!(CardNumber::parse(c.as_str()).is_ok());
        }
        assert!(seen_x && seen_0);
    }

    #[test]
    fn rejections() {
        for bad in [
            "KD5578905",
            "KD557890",
            "KD55789044",
            "KD5578-04",
            "KD557890４",
            "",
            "X0000001X",
        ] {
            let e = CardNumber::parse(bad).unwrap_err();
            assert_eq!(e.field(), Some("card_number"), "{bad}");
        }
        assert!(CardNumber::with_check("KD55789").is_err());
        assert!(CardNumber::with_check("KD5578_0").is_err());
        assert!(serde_json::from_str::<CardNumber>("\"KD5578905\"").is_err());
    }
}
