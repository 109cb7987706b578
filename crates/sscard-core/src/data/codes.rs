//! Coded values: sex (GB/T 2261.1) and ethnicity (GB 3304).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::DataError;

/// Sex per GB/T 2261.1. On the card: one `an` character, `1` male, `2` female (`0` unknown,
/// `9` unspecified).
///
/// Serialized as `"male"`, `"female"`, `"unknown"`, `"unspecified"`. Deserialized from those
/// names, from the code as a string (`"1"`) or number (`1`), or from `"男"` / `"女"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Sex {
    /// `0` 未知的性别.
    Unknown,
    /// `1` 男性.
    Male,
    /// `2` 女性.
    Female,
    /// `9` 未说明的性别.
    Unspecified,
}

impl Sex {
    /// The sex of a GB/T 2261.1 code.
    pub fn from_code(code: u8) -> Result<Sex, DataError> {
        match code {
            0 => Ok(Sex::Unknown),
            1 => Ok(Sex::Male),
            2 => Ok(Sex::Female),
            9 => Ok(Sex::Unspecified),
            other => Err(DataError::invalid(
                "sex",
                format!("{other} is not a sex code (1 male, 2 female, 0 unknown, 9 unspecified)"),
            )),
        }
    }

    /// The GB/T 2261.1 code.
    pub fn code(self) -> u8 {
        match self {
            Sex::Unknown => 0,
            Sex::Male => 1,
            Sex::Female => 2,
            Sex::Unspecified => 9,
        }
    }

    /// The code character as written on the card (`'1'`).
    pub fn to_char(self) -> char {
        char::from(b'0' + self.code())
    }

    /// The sex of a code character (`'1'`).
    pub fn from_char(c: char) -> Result<Sex, DataError> {
        match c.to_digit(10) {
            Some(d) if c.is_ascii_digit() => Sex::from_code(d as u8),
            _ => Err(DataError::invalid(
                "sex",
                format!("{c:?} is not a sex code"),
            )),
        }
    }

    /// English name: `male`, `female`, `unknown`, `unspecified`.
    pub fn name(self) -> &'static str {
        match self {
            Sex::Unknown => "unknown",
            Sex::Male => "male",
            Sex::Female => "female",
            Sex::Unspecified => "unspecified",
        }
    }

    /// Chinese name: 男, 女, 未知, 未说明.
    pub fn name_zh(self) -> &'static str {
        match self {
            Sex::Unknown => "未知",
            Sex::Male => "男",
            Sex::Female => "女",
            Sex::Unspecified => "未说明",
        }
    }
}

impl fmt::Display for Sex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Sex {
    type Err = DataError;
    /// Accepts the code (`1`), the English name (`male`, any case) or 男/女.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        match t.to_ascii_lowercase().as_str() {
            "0" | "unknown" | "未知" => Ok(Sex::Unknown),
            "1" | "male" | "m" | "男" => Ok(Sex::Male),
            "2" | "female" | "f" | "女" => Ok(Sex::Female),
            "9" | "unspecified" | "未说明" => Ok(Sex::Unspecified),
            _ => Err(DataError::invalid(
                "sex",
                format!("{s:?} is not a sex (1/male/男, 2/female/女, 0 unknown, 9 unspecified)"),
            )),
        }
    }
}

impl Serialize for Sex {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for Sex {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = super::person::code_text(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// Chinese names of the 56 ethnic groups, GB 3304 codes 01..=56 in order.
const ETHNIC_NAMES: [&str; 56] = [
    "汉族",
    "蒙古族",
    "回族",
    "藏族",
    "维吾尔族",
    "苗族",
    "彝族",
    "壮族",
    "布依族",
    "朝鲜族",
    "满族",
    "侗族",
    "瑶族",
    "白族",
    "土家族",
    "哈尼族",
    "哈萨克族",
    "傣族",
    "黎族",
    "傈僳族",
    "佤族",
    "畲族",
    "高山族",
    "拉祜族",
    "水族",
    "东乡族",
    "纳西族",
    "景颇族",
    "柯尔克孜族",
    "土族",
    "达斡尔族",
    "仫佬族",
    "羌族",
    "布朗族",
    "撒拉族",
    "毛南族",
    "仡佬族",
    "锡伯族",
    "阿昌族",
    "普米族",
    "塔吉克族",
    "怒族",
    "乌孜别克族",
    "俄罗斯族",
    "鄂温克族",
    "德昂族",
    "保安族",
    "裕固族",
    "京族",
    "塔塔尔族",
    "独龙族",
    "鄂伦春族",
    "赫哲族",
    "门巴族",
    "珞巴族",
    "基诺族",
];

/// Ethnicity (民族) per GB 3304: codes `01`..=`56`, `97` other (其他) and `98` foreign-born
/// naturalised citizens (外国血统中国籍人士). On the card: one byte of packed BCD (`01`).
///
/// Serialized as the 2-digit code string (`"01"`); deserialized from a code string or number
/// or from the Chinese name (`"汉族"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Ethnicity(u8);

impl Ethnicity {
    /// 汉族, code 01.
    pub const HAN: Ethnicity = Ethnicity(1);

    /// The ethnicity of a GB 3304 code.
    pub fn new(code: u8) -> Result<Ethnicity, DataError> {
        match code {
            1..=56 | 97 | 98 => Ok(Ethnicity(code)),
            other => Err(DataError::invalid(
                "ethnicity",
                format!("{other:02} is not a GB 3304 code (01..56, 97, 98)"),
            )),
        }
    }

    /// The ethnicity whose Chinese name is `name` (`汉族`, also without the final 族).
    pub fn from_name_zh(name: &str) -> Option<Ethnicity> {
        let name = name.trim();
        if name == "其他" || name == "其他族" {
            return Some(Ethnicity(97));
        }
        if name == "外国血统中国籍人士" || name == "外国血统" {
            return Some(Ethnicity(98));
        }
        ETHNIC_NAMES
            .iter()
            .position(|n| *n == name || n.strip_suffix('族') == Some(name))
            .and_then(|i| u8::try_from(i + 1).ok())
            .map(Ethnicity)
    }

    /// The GB 3304 code.
    pub fn code(self) -> u8 {
        self.0
    }

    /// The Chinese name (`汉族`, ..., `其他`, `外国血统中国籍人士`).
    pub fn name_zh(self) -> &'static str {
        match self.0 {
            97 => "其他",
            98 => "外国血统中国籍人士",
            n => ETHNIC_NAMES
                .get(usize::from(n).wrapping_sub(1))
                .copied()
                .unwrap_or(""),
        }
    }

    /// The 1-byte packed BCD card value.
    pub fn to_bcd(self) -> u8 {
        ((self.0 / 10) << 4) | (self.0 % 10)
    }

    /// Decodes the 1-byte packed BCD card value.
    pub fn from_bcd(value: &[u8]) -> Result<Ethnicity, DataError> {
        match value {
            [_] => {
                let digits = crate::codec::decode_cn("ethnicity", value)?;
                if digits.len() != 2 {
                    return Err(DataError::invalid(
                        "ethnicity",
                        format!("{} is not a 2-digit code", hex::encode_upper(value)),
                    ));
                }
                Ethnicity::new(digits.parse().unwrap_or(0))
            }
            _ => Err(DataError::invalid(
                "ethnicity",
                format!("{} bytes, the code has 1", value.len()),
            )),
        }
    }
}

impl fmt::Display for Ethnicity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}", self.0)
    }
}

impl FromStr for Ethnicity {
    type Err = DataError;
    /// Accepts the code (`01` or `1`) or the Chinese name.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        if !t.is_empty() && t.len() <= 2 && t.bytes().all(|b| b.is_ascii_digit()) {
            return Ethnicity::new(t.parse().unwrap_or(0));
        }
        Ethnicity::from_name_zh(t).ok_or_else(|| {
            DataError::invalid(
                "ethnicity",
                format!("{s:?} is not a GB 3304 code or ethnic group name"),
            )
        })
    }
}

impl Serialize for Ethnicity {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Ethnicity {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = super::person::code_text(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn sex_codes() {
        for (c, s) in [
            ('0', Sex::Unknown),
            ('1', Sex::Male),
            ('2', Sex::Female),
            ('9', Sex::Unspecified),
        ] {
            assert_eq!(Sex::from_char(c).unwrap(), s);
            assert_eq!(s.to_char(), c);
            assert_eq!(s.to_string().parse::<Sex>().unwrap(), s);
            let json = serde_json::to_string(&s).unwrap();
            assert_eq!(serde_json::from_str::<Sex>(&json).unwrap(), s);
        }
        assert_eq!(Sex::Male.name_zh(), "男");
        assert_eq!("女".parse::<Sex>().unwrap(), Sex::Female);
        assert_eq!(serde_json::from_str::<Sex>("1").unwrap(), Sex::Male);
        assert_eq!(serde_json::from_str::<Sex>("\"2\"").unwrap(), Sex::Female);
        for bad in ['3', '8', 'M', '１'] {
            assert_eq!(Sex::from_char(bad).unwrap_err().field(), Some("sex"));
        }
        assert!("x".parse::<Sex>().is_err());
        assert!(serde_json::from_str::<Sex>("3").is_err());
    }

    #[test]
    fn ethnicity_codes() {
        assert_eq!(Ethnicity::new(1).unwrap().name_zh(), "汉族");
        assert_eq!(Ethnicity::new(56).unwrap().name_zh(), "基诺族");
        assert_eq!(Ethnicity::new(29).unwrap().name_zh(), "柯尔克孜族");
        assert_eq!(Ethnicity::new(97).unwrap().name_zh(), "其他");
        assert_eq!(Ethnicity::new(98).unwrap().to_bcd(), 0x98);
        for bad in [0, 57, 96, 99] {
            assert_eq!(Ethnicity::new(bad).unwrap_err().field(), Some("ethnicity"));
        }
        assert_eq!(Ethnicity::from_name_zh("回族"), Ethnicity::new(3).ok());
        assert_eq!(Ethnicity::from_name_zh("蒙古"), Ethnicity::new(2).ok());
        assert_eq!(Ethnicity::from_name_zh("火星族"), None);
        assert_eq!(Ethnicity::from_bcd(&[0x01]).unwrap(), Ethnicity::HAN);
        assert_eq!(Ethnicity::from_bcd(&[0x56]).unwrap().code(), 56);
        assert!(Ethnicity::from_bcd(&[0x57]).is_err());
        assert!(Ethnicity::from_bcd(&[0x1F]).is_err());
        assert!(Ethnicity::from_bcd(&[0x0A]).is_err());
        assert!(Ethnicity::from_bcd(&[0x01, 0x01]).is_err());
        assert_eq!(Ethnicity::HAN.to_string(), "01");
        assert_eq!("1".parse::<Ethnicity>().unwrap(), Ethnicity::HAN);
        assert_eq!("汉族".parse::<Ethnicity>().unwrap(), Ethnicity::HAN);
        assert!("100".parse::<Ethnicity>().is_err());
        assert_eq!(serde_json::to_string(&Ethnicity::HAN).unwrap(), "\"01\"");
        assert_eq!(
            serde_json::from_str::<Ethnicity>("1").unwrap(),
            Ethnicity::HAN
        );
        assert_eq!(
            serde_json::from_str::<Ethnicity>("\"01\"").unwrap(),
            Ethnicity::HAN
        );
        assert!(serde_json::from_str::<Ethnicity>("0").is_err());
        // every name is distinct and maps back to its code
        for code in 1..=56u8 {
            let e = Ethnicity::new(code).unwrap();
            assert_eq!(Ethnicity::from_name_zh(e.name_zh()), Some(e));
        }
    }
}
