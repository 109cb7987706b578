//! The card profile as data: application identifiers, the elementary files of SSSE, their data
//! items, record order per generation and access rules (V2.0 notice §5.2 table 3, §7 table 9;
//! `docs/card-os.md` §1).
//!
//! Software addresses records by tag, never by number, because record numbers differ between
//! generations; [`record_number`] is there for diagnostics and for the simulator.
//!
//! [`areas`] holds every DF, EF and data item of the V2.0 notice (SSSE and the data areas
//! DF01-DF04, DF07, appendix B's DF05) as one table, with the code tables of [`codes`].

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::data::DataError;
use crate::keys::KeyRole;

pub mod areas;
pub mod codes;
pub mod fci;

pub use areas::{
    AreaError, AreaProfile, Compat, DfId, DfSpec, FileId, FileSpec, ItemSpec, ReadRule, Reading,
    Structure, Value, WriteRule,
};

/// AID of the social security application SSSE: `"sx1.sh.社会保障"` in GBK.
pub const SSSE_AID: [u8; 15] = [
    0x73, 0x78, 0x31, 0x2E, 0x73, 0x68, 0x2E, 0xC9, 0xE7, 0xBB, 0xE1, 0xB1, 0xA3, 0xD5, 0xCF,
];

/// AID of the PSAM's social security application ADF (part 9 §5).
pub const PSAM_AID: [u8; 6] = [0xD1, 0x56, 0x00, 0x00, 0x05, 0x90];

/// Record tags (record identifiers) of every data element.
pub mod tag {
    /// EF05: card identification code 卡识别码.
    pub const CARD_ID: u8 = 0x01;
    /// EF05: card type 卡的类别.
    pub const CARD_TYPE: u8 = 0x02;
    /// EF05: spec version 规范版本.
    pub const SPEC_VERSION: u8 = 0x03;
    /// EF05: initializing body number 初始化机构编号.
    pub const INITIALIZING_BODY: u8 = 0x04;
    /// EF05: issue date 发卡日期.
    pub const ISSUE_DATE: u8 = 0x05;
    /// EF05: expiry date 卡有效期.
    pub const EXPIRY_DATE: u8 = 0x06;
    /// EF05: card number 卡号.
    pub const CARD_NUMBER: u8 = 0x07;
    /// EF06: social security number 社会保障号码.
    pub const SSN: u8 = 0x08;
    /// EF06: name 姓名.
    pub const NAME: u8 = 0x09;
    /// EF06: name extension 姓名扩展 (2.0 and later).
    pub const NAME_EXTENSION: u8 = 0x4E;
    /// EF06: sex 性别.
    pub const SEX: u8 = 0x0A;
    /// EF06: ethnicity 民族.
    pub const ETHNICITY: u8 = 0x0B;
    /// EF06: birthplace 出生地.
    pub const BIRTHPLACE: u8 = 0x0C;
    /// EF06: birth date 出生日期.
    pub const BIRTH_DATE: u8 = 0x0D;
}

/// Card generation (规范版本): decides the record layout and whether reading needs RKSSSE.
///
/// Serialized as `"1.0"`, `"2.0"` or `"3.0"`. Deserialized from a string whose form is `"1"`,
/// `"1.0"` or `"1.00"` (likewise 2 and 3), or from the integer `1`, `2` or `3`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Generation {
    /// 1.0 cards: no name extension (tag 4E); 3DES; data free to read.
    V1,
    /// 2.0 cards: name extension 4E (shifts EF06 record numbers); data free to read.
    V2,
    /// 3.0 cards: reading EF06 needs RKSSSE (reader interface §10.2).
    V3,
}

impl Generation {
    /// Every generation, oldest first.
    pub const ALL: [Generation; 3] = [Generation::V1, Generation::V2, Generation::V3];

    /// The generation of a spec version string (EF05 tag 03): only its first characters count
    /// (`1.0x`, `2.0x`, `3.0x`), reader interface §10.2.
    pub fn from_spec_version(version: &str) -> Result<Generation, DataError> {
        match version.trim_start().chars().next() {
            Some('1') => Ok(Generation::V1),
            Some('2') => Ok(Generation::V2),
            Some('3') => Ok(Generation::V3),
            _ => Err(DataError::invalid(
                "spec_version",
                format!("unknown spec version {version:?} (expected 1.00, 2.00 or 3.00)"),
            )),
        }
    }

    /// The generation of the raw value of EF05 tag 03. An empty value (all `00`, `20` or `FF`)
    /// is a 1.0 card (reader interface §10.2: "如卡内版本为空时，默认为 1.0x").
    pub fn from_spec_version_bytes(value: &[u8]) -> Result<Generation, DataError> {
        if value.iter().all(|&b| matches!(b, 0x00 | 0x20 | 0xFF)) {
            return Ok(Generation::V1);
        }
        match value.first() {
            Some(b'1') => Ok(Generation::V1),
            Some(b'2') => Ok(Generation::V2),
            Some(b'3') => Ok(Generation::V3),
            _ => Err(DataError::invalid(
                "spec_version",
                format!(
                    "unknown spec version {} (expected 1.00, 2.00 or 3.00)",
                    hex::encode_upper(value)
                ),
            )),
        }
    }

    /// The spec version string written to EF05 tag 03: `"1.00"`, `"2.00"` or `"3.00"`.
    pub fn spec_version(self) -> &'static str {
        match self {
            Generation::V1 => "1.00",
            Generation::V2 => "2.00",
            Generation::V3 => "3.00",
        }
    }

    /// The generation number 1, 2 or 3.
    pub fn number(self) -> u8 {
        match self {
            Generation::V1 => 1,
            Generation::V2 => 2,
            Generation::V3 => 3,
        }
    }

    /// The generation of number 1, 2 or 3.
    pub fn from_number(n: u8) -> Option<Generation> {
        match n {
            1 => Some(Generation::V1),
            2 => Some(Generation::V2),
            3 => Some(Generation::V3),
            _ => None,
        }
    }

    /// Whether EF06 has the name extension record (tag 4E).
    pub fn has_name_extension(self) -> bool {
        self != Generation::V1
    }

    /// Whether SSSE has the fingerprint and photo files EF07 and EF08 (V2.0 notice §5.2).
    pub fn has_transparent_files(self) -> bool {
        self != Generation::V1
    }

    /// Whether reading EF06 needs RKSSSE (3.0 cards).
    pub fn needs_read_key(self) -> bool {
        self == Generation::V3
    }

    /// The most GBK bytes a name can have: 30 on 1.0 (tag 09 only), 50 on 2.0+ (09 + 4E).
    pub fn max_name_len(self) -> usize {
        match self {
            Generation::V1 => NAME_LEN,
            _ => NAME_LEN + NAME_EXTENSION_LEN,
        }
    }
}

impl fmt::Display for Generation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Generation::V1 => "1.0",
            Generation::V2 => "2.0",
            Generation::V3 => "3.0",
        })
    }
}

impl FromStr for Generation {
    type Err = DataError;

    /// Accepts `1`, `1.0`, `1.00` (and likewise 2 and 3).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let g = match s.trim() {
            "1" | "1.0" | "1.00" => Generation::V1,
            "2" | "2.0" | "2.00" => Generation::V2,
            "3" | "3.0" | "3.00" => Generation::V3,
            other => {
                return Err(DataError::invalid(
                    "generation",
                    format!("unknown generation {other:?} (expected 1.0, 2.0 or 3.0)"),
                ))
            }
        };
        Ok(g)
    }
}

impl Serialize for Generation {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Generation {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Generation;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a card generation: \"1.0\", \"2.0\", \"3.0\" or 1, 2, 3")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Generation, E> {
                v.parse().map_err(E::custom)
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Generation, E> {
                u8::try_from(v)
                    .ok()
                    .and_then(Generation::from_number)
                    .ok_or_else(|| E::custom(format!("unknown generation {v}")))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Generation, E> {
                u8::try_from(v)
                    .ok()
                    .and_then(Generation::from_number)
                    .ok_or_else(|| E::custom(format!("unknown generation {v}")))
            }
        }
        d.deserialize_any(V)
    }
}

/// The elementary files of SSSE (V2.0 notice §5.2 table 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Ef {
    /// EF05, SFI 05: card issuing data 发卡机构数据文件 (variable-length records).
    Ef05,
    /// EF06, SFI 06: cardholder data 持卡人的基本信息文件 (variable-length records).
    Ef06,
    /// EF07, SFI 07: fingerprint 指纹数据文件 (transparent, `0300` bytes; 2.0 and later).
    Ef07,
    /// EF08, SFI 08: photo 照片信息文件 (transparent, `1000` bytes; 2.0 and later).
    Ef08,
}

impl Ef {
    /// Every EF, in file order.
    pub const ALL: [Ef; 4] = [Ef::Ef05, Ef::Ef06, Ef::Ef07, Ef::Ef08];

    /// The record files holding the data items.
    pub const RECORD_FILES: [Ef; 2] = [Ef::Ef05, Ef::Ef06];

    /// The file identifier (`EF05` …).
    pub fn fid(self) -> u16 {
        match self {
            Ef::Ef05 => 0xEF05,
            Ef::Ef06 => 0xEF06,
            Ef::Ef07 => 0xEF07,
            Ef::Ef08 => 0xEF08,
        }
    }

    /// The short file identifier (5 … 8).
    pub fn sfi(self) -> u8 {
        match self {
            Ef::Ef05 => 0x05,
            Ef::Ef06 => 0x06,
            Ef::Ef07 => 0x07,
            Ef::Ef08 => 0x08,
        }
    }

    /// The EF of a short file identifier.
    pub fn from_sfi(sfi: u8) -> Option<Ef> {
        Ef::ALL.into_iter().find(|ef| ef.sfi() == sfi)
    }

    /// The EF of a file identifier.
    pub fn from_fid(fid: u16) -> Option<Ef> {
        Ef::ALL.into_iter().find(|ef| ef.fid() == fid)
    }

    /// Whether the file is transparent (read and written with READ/UPDATE BINARY).
    pub fn is_transparent(self) -> bool {
        matches!(self, Ef::Ef07 | Ef::Ef08)
    }

    /// The size of a transparent file: `0300` bytes for the fingerprint, `1000` for the photo
    /// (V2.0 notice table 9); 0 for record files.
    pub fn size(self) -> usize {
        match self {
            Ef::Ef07 => 0x300,
            Ef::Ef08 => 0x1000,
            Ef::Ef05 | Ef::Ef06 => 0,
        }
    }

    /// `"EF05"` … `"EF08"`.
    pub fn name(self) -> &'static str {
        match self {
            Ef::Ef05 => "EF05",
            Ef::Ef06 => "EF06",
            Ef::Ef07 => "EF07",
            Ef::Ef08 => "EF08",
        }
    }

    /// English description of the file's content.
    pub fn description(self) -> &'static str {
        match self {
            Ef::Ef05 => "card issuing data",
            Ef::Ef06 => "cardholder data",
            Ef::Ef07 => "fingerprint",
            Ef::Ef08 => "photo",
        }
    }

    /// Chinese name of the file.
    pub fn name_zh(self) -> &'static str {
        match self {
            Ef::Ef05 => "发卡机构数据文件",
            Ef::Ef06 => "持卡人的基本信息文件",
            Ef::Ef07 => "指纹数据文件",
            Ef::Ef08 => "照片信息文件",
        }
    }

    /// What reading the file needs on a card of `generation`: EF07 and EF08 need RKSSSE, EF06
    /// needs it on 3.0 cards, EF05 is free (V2.0 notice §5.2 table 3, reader interface §10.2).
    pub fn read_access(self, generation: Generation) -> Access {
        match self {
            Ef::Ef07 | Ef::Ef08 => Access::Key(KeyRole::Rkssse),
            Ef::Ef06 if generation.needs_read_key() => Access::Key(KeyRole::Rkssse),
            Ef::Ef05 | Ef::Ef06 => Access::Free,
        }
    }

    /// What writing the file needs: UKSSSE (V2.0 notice §5.2 table 3).
    pub fn write_access(self) -> Access {
        Access::Key(KeyRole::Ukssse)
    }
}

impl fmt::Display for Ef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How an element's value is encoded (V2.0 notice §7; see [`crate::codec`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Format {
    /// ASCII, left-justified, right-padded with `00`.
    An,
    /// GBK text (names), right-padded with `00`.
    AnGbk,
    /// Packed BCD digits, left-justified, padded with `F` nibbles.
    Cn,
    /// Binary.
    B,
}

/// Read or write condition of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Access {
    /// No condition.
    Free,
    /// EXTERNAL AUTHENTICATION with this key must have succeeded.
    Key(KeyRole),
}

/// Value length of the name record (tag 09).
pub const NAME_LEN: usize = 30;
/// Value length of the name extension record (tag 4E).
pub const NAME_EXTENSION_LEN: usize = 20;

/// One data element: a record of an EF, identified by its tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ElementSpec {
    /// The record identifier (SIMPLE-TLV tag).
    pub tag: u8,
    /// The EF holding the record.
    pub ef: Ef,
    /// English name.
    pub name: &'static str,
    /// Chinese name.
    pub name_zh: &'static str,
    /// Fixed value length in bytes.
    pub len: usize,
    /// Value encoding.
    pub format: Format,
    /// JSON field name (also the `field` of [`DataError`]s about this element).
    pub field: &'static str,
}

impl ElementSpec {
    /// The element's record number in its EF on a card of `generation`, or `None` if the
    /// generation does not have it.
    pub fn record_number(&self, generation: Generation) -> Option<u8> {
        record_number(generation, self.ef, self.tag)
    }
}

const fn spec(
    tag: u8,
    ef: Ef,
    name: &'static str,
    name_zh: &'static str,
    len: usize,
    format: Format,
    field: &'static str,
) -> ElementSpec {
    ElementSpec {
        tag,
        ef,
        name,
        name_zh,
        len,
        format,
        field,
    }
}

const E01: ElementSpec = spec(
    tag::CARD_ID,
    Ef::Ef05,
    "card identification code",
    "卡识别码",
    16,
    Format::B,
    "card_id",
);
const E02: ElementSpec = spec(
    tag::CARD_TYPE,
    Ef::Ef05,
    "card type",
    "卡的类别",
    1,
    Format::An,
    "card_type",
);
const E03: ElementSpec = spec(
    tag::SPEC_VERSION,
    Ef::Ef05,
    "spec version",
    "规范版本",
    4,
    Format::An,
    "spec_version",
);
const E04: ElementSpec = spec(
    tag::INITIALIZING_BODY,
    Ef::Ef05,
    "initializing body number",
    "初始化机构编号",
    12,
    Format::Cn,
    "initializing_body",
);
const E05: ElementSpec = spec(
    tag::ISSUE_DATE,
    Ef::Ef05,
    "issue date",
    "发卡日期",
    4,
    Format::Cn,
    "issue_date",
);
const E06: ElementSpec = spec(
    tag::EXPIRY_DATE,
    Ef::Ef05,
    "expiry date",
    "卡有效期",
    4,
    Format::Cn,
    "expiry_date",
);
const E07: ElementSpec = spec(
    tag::CARD_NUMBER,
    Ef::Ef05,
    "card number",
    "卡号",
    9,
    Format::An,
    "card_number",
);
const E08: ElementSpec = spec(
    tag::SSN,
    Ef::Ef06,
    "social security number",
    "社会保障号码",
    18,
    Format::An,
    "ssn",
);
const E09: ElementSpec = spec(
    tag::NAME,
    Ef::Ef06,
    "name",
    "姓名",
    NAME_LEN,
    Format::AnGbk,
    "name",
);
const E4E: ElementSpec = spec(
    tag::NAME_EXTENSION,
    Ef::Ef06,
    "name extension",
    "姓名扩展",
    NAME_EXTENSION_LEN,
    Format::AnGbk,
    "name_extension",
);
const E0A: ElementSpec = spec(tag::SEX, Ef::Ef06, "sex", "性别", 1, Format::An, "sex");
const E0B: ElementSpec = spec(
    tag::ETHNICITY,
    Ef::Ef06,
    "ethnicity",
    "民族",
    1,
    Format::Cn,
    "ethnicity",
);
const E0C: ElementSpec = spec(
    tag::BIRTHPLACE,
    Ef::Ef06,
    "birthplace",
    "出生地",
    3,
    Format::Cn,
    "birthplace",
);
const E0D: ElementSpec = spec(
    tag::BIRTH_DATE,
    Ef::Ef06,
    "birth date",
    "出生日期",
    4,
    Format::Cn,
    "birth_date",
);
static EF05_RECORDS: [ElementSpec; 7] = [E01, E02, E03, E04, E05, E06, E07];
static EF06_RECORDS_V1: [ElementSpec; 6] = [E08, E09, E0A, E0B, E0C, E0D];
static EF06_RECORDS_V2: [ElementSpec; 7] = [E08, E09, E4E, E0A, E0B, E0C, E0D];

/// The data elements of `ef` on a card of `generation`, in the order of V2.0 notice table 9
/// (empty for the transparent files).
pub fn records(generation: Generation, ef: Ef) -> &'static [ElementSpec] {
    match (ef, generation) {
        (Ef::Ef05, _) => &EF05_RECORDS,
        (Ef::Ef06, Generation::V1) => &EF06_RECORDS_V1,
        (Ef::Ef06, _) => &EF06_RECORDS_V2,
        (Ef::Ef07 | Ef::Ef08, _) => &[],
    }
}

/// The data element with record tag `tag` on a card of `generation`, in whichever EF.
pub fn element(generation: Generation, tag: u8) -> Option<&'static ElementSpec> {
    Ef::ALL
        .into_iter()
        .flat_map(|ef| records(generation, ef).iter())
        .find(|spec| spec.tag == tag)
}

/// The record number (1-based) of tag `tag` in `ef` on a card of `generation`.
pub fn record_number(generation: Generation, ef: Ef, tag: u8) -> Option<u8> {
    records(generation, ef)
        .iter()
        .position(|spec| spec.tag == tag)
        .and_then(|i| u8::try_from(i + 1).ok())
}

/// What reading the element needs on a card of `generation` (its file's rule).
pub fn read_access(generation: Generation, spec: &ElementSpec) -> Access {
    spec.ef.read_access(generation)
}

/// What writing the element needs: UKSSSE.
pub fn write_access(spec: &ElementSpec) -> Access {
    spec.ef.write_access()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn aids() {
        assert_eq!(
            hex::encode_upper(SSSE_AID),
            "7378312E73682EC9E7BBE1B1A3D5CF"
        );
        assert_eq!(hex::encode_upper(PSAM_AID), "D15600000590");
        // "sx1.sh.社会保障" in GBK
        let (gbk, _, bad) = encoding_rs::GBK.encode("sx1.sh.社会保障");
        assert!(!bad);
        assert_eq!(&gbk[..], &SSSE_AID[..]);
    }

    #[test]
    fn reference_record_numbers() {
        for g in Generation::ALL {
            // EF05 record 7 is tag 07 on every generation
            assert_eq!(records(g, Ef::Ef05)[6].tag, 0x07);
            assert_eq!(record_number(g, Ef::Ef05, 0x07), Some(7));
            assert_eq!(record_number(g, Ef::Ef06, 0x08), Some(1));
        }
        // EF06 record 3 is 0A on 1.0 and 4E on 2.0+
        assert_eq!(records(Generation::V1, Ef::Ef06)[2].tag, 0x0A);
        assert_eq!(records(Generation::V2, Ef::Ef06)[2].tag, 0x4E);
        assert_eq!(records(Generation::V3, Ef::Ef06)[2].tag, 0x4E);
        assert_eq!(record_number(Generation::V1, Ef::Ef06, 0x0D), Some(6));
        assert_eq!(record_number(Generation::V2, Ef::Ef06, 0x0D), Some(7));
        assert_eq!(record_number(Generation::V1, Ef::Ef06, 0x4E), None);
        assert_eq!(E0A.record_number(Generation::V1), Some(3));
        assert_eq!(E0A.record_number(Generation::V2), Some(4));
    }

    #[test]
    fn table_matches_card_os() {
        let expected: &[(u8, Ef, usize, Format)] = &[
            (0x01, Ef::Ef05, 16, Format::B),
            (0x02, Ef::Ef05, 1, Format::An),
            (0x03, Ef::Ef05, 4, Format::An),
            (0x04, Ef::Ef05, 12, Format::Cn),
            (0x05, Ef::Ef05, 4, Format::Cn),
            (0x06, Ef::Ef05, 4, Format::Cn),
            (0x07, Ef::Ef05, 9, Format::An),
            (0x08, Ef::Ef06, 18, Format::An),
            (0x09, Ef::Ef06, 30, Format::AnGbk),
            (0x4E, Ef::Ef06, 20, Format::AnGbk),
            (0x0A, Ef::Ef06, 1, Format::An),
            (0x0B, Ef::Ef06, 1, Format::Cn),
            (0x0C, Ef::Ef06, 3, Format::Cn),
            (0x0D, Ef::Ef06, 4, Format::Cn),
        ];
        for &(t, ef, len, format) in expected {
            let s = element(Generation::V3, t).unwrap();
            assert_eq!((s.ef, s.len, s.format), (ef, len, format), "tag {t:02X}");
            assert!(!s.name.is_empty() && !s.name_zh.is_empty() && !s.field.is_empty());
        }
        assert!(element(Generation::V1, 0x4E).is_none());
        assert!(element(Generation::V2, 0x4E).is_some());
        assert!(element(Generation::V2, 0x42).is_none());
        let count: usize = Ef::ALL
            .iter()
            .map(|&ef| records(Generation::V1, ef).len())
            .sum();
        assert_eq!(count, 13);
    }

    #[test]
    fn access_rules() {
        for g in [Generation::V1, Generation::V2] {
            for ef in Ef::RECORD_FILES {
                for s in records(g, ef) {
                    assert_eq!(read_access(g, s), Access::Free);
                }
            }
        }
        let g = Generation::V3;
        let key = |t| read_access(g, element(g, t).unwrap());
        for t in [0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07] {
            assert_eq!(key(t), Access::Free, "{t:02X}");
        }
        for t in [0x08, 0x09, 0x4E, 0x0A, 0x0B, 0x0C, 0x0D] {
            assert_eq!(key(t), Access::Key(KeyRole::Rkssse), "{t:02X}");
        }
        for g in Generation::ALL {
            assert_eq!(Ef::Ef07.read_access(g), Access::Key(KeyRole::Rkssse));
            assert_eq!(Ef::Ef08.read_access(g), Access::Key(KeyRole::Rkssse));
        }
        assert_eq!(write_access(&E01), Access::Key(KeyRole::Ukssse));
        assert_eq!(write_access(&E0D), Access::Key(KeyRole::Ukssse));
        assert_eq!(Ef::Ef08.write_access(), Access::Key(KeyRole::Ukssse));
    }

    #[test]
    fn generation_parsing_and_serde() {
        assert_eq!(
            Generation::from_spec_version("1.00").unwrap(),
            Generation::V1
        );
        assert_eq!(
            Generation::from_spec_version("3.00").unwrap(),
            Generation::V3
        );
        assert!(Generation::from_spec_version("4.00").is_err());
        assert!(Generation::from_spec_version("").is_err());
        assert_eq!(
            Generation::from_spec_version_bytes(b"2.00").unwrap(),
            Generation::V2
        );
        // reader interface §10.2: an empty version is a 1.0 card
        assert_eq!(
            Generation::from_spec_version_bytes(&[0; 4]).unwrap(),
            Generation::V1
        );
        assert_eq!(
            Generation::from_spec_version_bytes(b"    ").unwrap(),
            Generation::V1
        );
        assert!(Generation::from_spec_version_bytes(b"9.00").is_err());
        for g in Generation::ALL {
            assert_eq!(Generation::from_spec_version(g.spec_version()).unwrap(), g);
            assert_eq!(Generation::from_number(g.number()), Some(g));
            let json = serde_json::to_string(&g).unwrap();
            assert_eq!(serde_json::from_str::<Generation>(&json).unwrap(), g);
            assert_eq!(g.to_string().parse::<Generation>().unwrap(), g);
        }
        assert_eq!(serde_json::to_string(&Generation::V2).unwrap(), "\"2.0\"");
        assert_eq!(
            serde_json::from_str::<Generation>("3").unwrap(),
            Generation::V3
        );
        assert_eq!(
            serde_json::from_str::<Generation>("\"1.00\"").unwrap(),
            Generation::V1
        );
        assert!(serde_json::from_str::<Generation>("\"2.5\"").is_err());
        assert!(serde_json::from_str::<Generation>("4").is_err());
        assert!(serde_json::from_str::<Generation>("-1").is_err());
        assert_eq!(Generation::V1.max_name_len(), 30);
        assert_eq!(Generation::V2.max_name_len(), 50);
    }

    #[test]
    fn ef_identifiers() {
        assert_eq!(Ef::Ef05.fid(), 0xEF05);
        assert_eq!(Ef::Ef08.sfi(), 8);
        assert_eq!(Ef::Ef07.size(), 0x300);
        assert_eq!(Ef::Ef08.size(), 0x1000);
        assert!(Ef::Ef07.is_transparent() && !Ef::Ef05.is_transparent());
        for ef in Ef::ALL {
            assert_eq!(Ef::from_sfi(ef.sfi()), Some(ef));
            assert_eq!(Ef::from_fid(ef.fid()), Some(ef));
        }
        assert_eq!(Ef::from_sfi(9), None);
        assert_eq!(Ef::Ef07.to_string(), "EF07");
        assert_eq!(Ef::Ef06.name_zh(), "持卡人的基本信息文件");
    }
}
