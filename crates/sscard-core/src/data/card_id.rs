//! The card identification code 卡识别码 (EF05 tag 01).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::{DataError, RegionCode};

const FIELD: &str = "card_id";
/// The fixed middle part: RID `D156000005` of the social security card.
const MIDDLE: [u8; 5] = [0xD1, 0x56, 0x00, 0x00, 0x05];

/// `region (3 bytes BCD) ‖ D156000005 ‖ serial (4 bytes) ‖ authentication code (4 bytes)`
/// (V2.0 notice §8.1.1.1, table 10).
///
/// The serial (卡的流水号) is the one the issuer assigned when it initialized the card; the
/// authentication code (卡的认证码) is computed by the issuer in a way the specification does
/// not publish, so sscard treats it as opaque (design choice D15). Displayed and serialized as
/// 32 upper-case hex digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
pub struct CardIdentificationCode {
    /// The issuing region.
    pub region: RegionCode,
    /// The serial assigned at initialization (卡的流水号).
    pub serial: [u8; 4],
    /// The authentication code (卡的认证码), opaque.
    pub auth_code: [u8; 4],
}

impl CardIdentificationCode {
    /// Parses the 16-byte record value: the region must be a valid BCD region code and the
    /// middle `D156000005`.
    pub fn from_bytes(bytes: &[u8; 16]) -> Result<CardIdentificationCode, DataError> {
        let [r0, r1, r2, m0, m1, m2, m3, m4, s0, s1, s2, s3, c0, c1, c2, c3] = *bytes;
        if [m0, m1, m2, m3, m4] != MIDDLE {
            return Err(DataError::invalid(
                FIELD,
                format!(
                    "{}: bytes 4-8 are {}, expected D156000005",
                    hex::encode_upper(bytes),
                    hex::encode_upper([m0, m1, m2, m3, m4])
                ),
            ));
        }
        let region = RegionCode::from_bcd(&[r0, r1, r2]).map_err(|e| e.in_field(FIELD))?;
        Ok(CardIdentificationCode {
            region,
            serial: [s0, s1, s2, s3],
            auth_code: [c0, c1, c2, c3],
        })
    }

    /// Parses a record value of any length (16 bytes expected).
    pub fn from_slice(value: &[u8]) -> Result<CardIdentificationCode, DataError> {
        let bytes: &[u8; 16] = value.try_into().map_err(|_| {
            DataError::invalid(FIELD, format!("{} bytes, expected 16", value.len()))
        })?;
        CardIdentificationCode::from_bytes(bytes)
    }

    /// The 16-byte record value.
    pub fn to_bytes(&self) -> [u8; 16] {
        let mut out = [0u8; 16];
        let [r0, r1, r2] = self.region.to_bcd();
        let [m0, m1, m2, m3, m4] = MIDDLE;
        let [s0, s1, s2, s3] = self.serial;
        let [c0, c1, c2, c3] = self.auth_code;
        out.copy_from_slice(&[
            r0, r1, r2, m0, m1, m2, m3, m4, s0, s1, s2, s3, c0, c1, c2, c3,
        ]);
        out
    }
}

impl fmt::Display for CardIdentificationCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode_upper(self.to_bytes()))
    }
}

impl FromStr for CardIdentificationCode {
    type Err = DataError;
    /// Parses 32 hex digits.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut bytes = [0u8; 16];
        hex::decode_to_slice(s.trim(), &mut bytes)
            .map_err(|e| DataError::invalid(FIELD, format!("{s:?} is not 32 hex digits: {e}")))?;
        CardIdentificationCode::from_bytes(&bytes)
    }
}

crate::data::text_conversions!(CardIdentificationCode, DataError);

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    const REFERENCE: &str = "639900D15600000500BF7C7A48FB4966";

    #[test]
    fn reference_code() {
        let bytes: [u8; 16] = hex::decode(REFERENCE).unwrap().try_into().unwrap();
        let id = CardIdentificationCode::from_bytes(&bytes).unwrap();
        assert_eq!(id.region.as_str(), "639900");
        assert_eq!(id.serial, [0x00, 0xBF, 0x7C, 0x7A]);
        assert_eq!(id.auth_code, [0x48, 0xFB, 0x49, 0x66]);
        assert_eq!(id.to_bytes(), bytes);
        assert_eq!(id.to_string(), REFERENCE);
        assert_eq!(
            REFERENCE
                .to_lowercase()
                .parse::<CardIdentificationCode>()
                .unwrap(),
            id
        );
        assert_eq!(CardIdentificationCode::from_slice(&bytes).unwrap(), id);
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, format!("\"{REFERENCE}\""));
        assert_eq!(
            serde_json::from_str::<CardIdentificationCode>(&json).unwrap(),
            id
        );
    }

    #[test]
    fn rejections() {
        let mut bytes: [u8; 16] = hex::decode(REFERENCE).unwrap().try_into().unwrap();
        bytes[7] = 0x06;
        let e = CardIdentificationCode::from_bytes(&bytes).unwrap_err();
        assert_eq!(e.field(), Some("card_id"));
        let mut bytes: [u8; 16] = hex::decode(REFERENCE).unwrap().try_into().unwrap();
        bytes[0] = 0x6A;
        let e = CardIdentificationCode::from_bytes(&bytes).unwrap_err();
        assert_eq!(e.field(), Some("card_id"));
        bytes[0] = 0x99; // not a province
        assert!(CardIdentificationCode::from_bytes(&bytes).is_err());
        assert!(CardIdentificationCode::from_bytes(&[0; 16]).is_err());
        assert!(CardIdentificationCode::from_slice(&[0; 15]).is_err());
        assert!("639900D156".parse::<CardIdentificationCode>().is_err());
        assert!("zz".repeat(16).parse::<CardIdentificationCode>().is_err());
    }
}
