//! Administrative region codes (GB/T 2260): 6 digits, stored on the card as 3 bytes BCD.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::DataError;

const FIELD: &str = "region";

/// Province-level codes (the first two digits of a region code): the 31 provinces,
/// autonomous regions and municipalities, Taiwan (71), Hong Kong (81) and Macao (82). The test
/// region of the reference data, `63xxxx` (Qinghai), is among them.
const PROVINCES: [u8; 34] = [
    11, 12, 13, 14, 15, // 北京 天津 河北 山西 内蒙古
    21, 22, 23, // 辽宁 吉林 黑龙江
    31, 32, 33, 34, 35, 36, 37, // 上海 江苏 浙江 安徽 福建 江西 山东
    41, 42, 43, 44, 45, 46, // 河南 湖北 湖南 广东 广西 海南
    50, 51, 52, 53, 54, // 重庆 四川 贵州 云南 西藏
    61, 62, 63, 64, 65, // 陕西 甘肃 青海 宁夏 新疆
    71, 81, 82, // 台湾 香港 澳门
];

/// A 6-digit administrative region code whose first two digits are a province-level code
/// (11..65 as listed in GB/T 2260, 71, 81, 82). Serialized as the 6-digit string.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
pub struct RegionCode([u8; 6]);

impl RegionCode {
    /// Parses 6 ASCII digits with a valid province code.
    pub fn parse(text: &str) -> Result<RegionCode, DataError> {
        let digits: [u8; 6] = text
            .as_bytes()
            .try_into()
            .ok()
            .filter(|d: &[u8; 6]| d.iter().all(u8::is_ascii_digit))
            .ok_or_else(|| {
                DataError::invalid(FIELD, format!("{text:?} is not a 6-digit region code"))
            })?;
        let province = (digits[0] - b'0') * 10 + (digits[1] - b'0');
        if !PROVINCES.contains(&province) {
            return Err(DataError::invalid(
                FIELD,
                format!("{text}: {province:02} is not a province code"),
            ));
        }
        Ok(RegionCode(digits))
    }

    /// Decodes the 3-byte packed BCD value of a card record.
    pub fn from_bcd(value: &[u8]) -> Result<RegionCode, DataError> {
        if value.len() != 3 {
            return Err(DataError::invalid(
                FIELD,
                format!("{} bytes, a region code has 3", value.len()),
            ));
        }
        RegionCode::parse(&crate::codec::decode_cn(FIELD, value)?)
    }

    /// The 3-byte packed BCD value.
    pub fn to_bcd(&self) -> [u8; 3] {
        let d = |i: usize| self.0.get(i).map_or(0, |c| c - b'0');
        [(d(0) << 4) | d(1), (d(2) << 4) | d(3), (d(4) << 4) | d(5)]
    }

    /// The 6 digits as ASCII (the first part of the city diversification factor).
    pub fn ascii(&self) -> [u8; 6] {
        self.0
    }

    /// The 6 digits.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or_default()
    }

    /// The province-level code (first two digits).
    pub fn province(&self) -> u8 {
        let [hi, lo, ..] = self.0;
        (hi - b'0') * 10 + (lo - b'0')
    }
}

impl fmt::Display for RegionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for RegionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RegionCode({})", self.as_str())
    }
}

crate::data::text_conversions!(RegionCode, DataError, RegionCode::parse);

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn valid_regions() {
        let r = RegionCode::parse("639900").unwrap();
        assert_eq!(r.to_bcd(), [0x63, 0x99, 0x00]);
        assert_eq!(RegionCode::from_bcd(&[0x63, 0x99, 0x00]).unwrap(), r);
        assert_eq!(r.as_str(), "639900");
        assert_eq!(&r.ascii(), b"639900");
        assert_eq!(r.province(), 63);
        assert_eq!(format!("{r:?}"), "RegionCode(639900)");
        for ok in [
            "110101", "440300", "650100", "710000", "810000", "820000", "111111",
        ] {
            assert!(RegionCode::parse(ok).is_ok(), "{ok}");
        }
        let json = serde_json::to_string(&r).unwrap();
        assert_eq!(json, "\"639900\"");
        assert_eq!(serde_json::from_str::<RegionCode>(&json).unwrap(), r);
    }

    #[test]
    fn bad_regions() {
        for bad in [
            "000000",
            "100000",
            "160000",
            "390000",
            "660000",
            "700000",
            "990000",
            "63990",
            "6399000",
            "63990A",
            "",
            "６３９９００",
        ] {
            let e = RegionCode::parse(bad).unwrap_err();
            assert_eq!(e.field(), Some("region"), "{bad}");
        }
        assert!(RegionCode::from_bcd(&[0x63, 0x99]).is_err());
        assert!(RegionCode::from_bcd(&[0x63, 0x99, 0x0F]).is_err());
        assert!(RegionCode::from_bcd(&[0x6A, 0x99, 0x00]).is_err());
        assert!(RegionCode::from_bcd(&[0, 0, 0]).is_err());
        assert!(serde_json::from_str::<RegionCode>("\"990000\"").is_err());
    }
}
