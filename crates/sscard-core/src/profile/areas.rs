//! The data areas of the V2.0 notice as data: every DF, EF and data item of §5 (tables 2-8) and
//! §7 table 9, with the code tables of §8, written once here and used by the library, the
//! simulated card, the file-address syntax and the command line (`docs/card-os.md` §1.2-1.3).
//!
//! - [`DfSpec`]: SSSE and the data areas `DF01` 公共应用, `DF02` 就业与失业, `DF03` 社会保险 1,
//!   `DF04` 社会保险 2, `DF07` 人事与人才 with their AIDs `D156000005 00..04` (§5.1 table 2), and
//!   `DF05` 生命与健康 and `DF06` 社会救助与优待抚恤 of appendix B (informative, selected by
//!   their application labels);
//! - [`FileSpec`]: an EF with its SFI, structure (variable, fixed or cyclic records,
//!   transparent), read rule (free, PIN, a key, PIN or a key, PIN and a key), write rule (an
//!   update key, or the card OS only) and its data items;
//! - [`ItemSpec`]: a data item: record identifier, format (`an`, `cn`, `b`; §7 padding),
//!   length, how many records carry it, its B-TLV parts (`40` = `57`+`58`+`59`, `43` =
//!   `5A`..`5E` …), its code table and its 1.0 length (appendix C);
//! - [`AreaProfile`]: the national table plus the regional extensions a region declares
//!   (DFs from `DF0A`, EFs from `EF0C`, §6), as JSON ([`Extensions`]).
//!
//! Record layout (\[design\] D21): in a variable or fixed record file every data item is a
//! SIMPLE-TLV record whose tag is the record identifier; an item that occurs several times
//! (`40:1` … `40:3`) is several records with the same identifier, in creation order; a B-TLV
//! item's value is its parts, each a SIMPLE-TLV padded to its length. A cyclic file's record is
//! the concatenation of its fields, each padded to its length, without tags (§7 table 9 gives
//! those fields no tag).

use std::borrow::Cow;
use std::fmt;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::codes::{self, CodeTable};
use super::{ElementSpec, Format, Generation, E01, E02, E03, E04, E05, E06, E07, E08, E09};
use super::{E0A, E0B, E0C, E0D, E4E, SSSE_AID};
use crate::keys::KeyRole;

/// The registered identifier of the social security applications (V2.0 notice §5.1).
pub const RID: [u8; 5] = [0xD1, 0x56, 0x00, 0x00, 0x05];

/// A DF: SSSE itself, or a DF below it by file identifier (`0xDF01` …).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DfId {
    /// The social security environment SSSE (the DDF `sx1.sh.社会保障`).
    Ssse,
    /// A DF by its file identifier.
    Df(u16),
}

impl DfId {
    /// `SSSE` or `DF01` …, as the reader interface writes file names (§2.1.2).
    pub fn name(self) -> String {
        match self {
            DfId::Ssse => "SSSE".into(),
            DfId::Df(fid) => format!("{fid:04X}"),
        }
    }

    /// Parses `SSSE` or four hex digits beginning with `DF`.
    pub fn parse(text: &str) -> Option<DfId> {
        let t = text.trim();
        if t.eq_ignore_ascii_case("SSSE") {
            return Some(DfId::Ssse);
        }
        if t.len() == 4 && t.get(..2).is_some_and(|p| p.eq_ignore_ascii_case("DF")) {
            return u16::from_str_radix(t, 16).ok().map(DfId::Df);
        }
        None
    }
}

impl fmt::Display for DfId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

/// An EF of a DF: the reader interface's file name (`SSSEEF05`, `DF01EF15`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FileId {
    /// The DF.
    pub df: DfId,
    /// The EF's file identifier (`0xEF05` …).
    pub ef: u16,
}

impl FileId {
    /// The EF `ef` of DF `df` (`0xDF01`).
    pub const fn area(df: u16, ef: u16) -> FileId {
        FileId {
            df: DfId::Df(df),
            ef,
        }
    }

    /// The EF `ef` of SSSE.
    pub const fn ssse(ef: u16) -> FileId {
        FileId { df: DfId::Ssse, ef }
    }

    /// Parses a file name of the reader interface: `SSSEEF05`, `DF01EF15` (case-insensitive).
    pub fn parse(text: &str) -> Option<FileId> {
        let t = text.trim();
        let split = t.len().checked_sub(4)?;
        let (df, ef) = (t.get(..split)?, t.get(split..)?);
        if !ef.get(..2).is_some_and(|p| p.eq_ignore_ascii_case("EF")) {
            return None;
        }
        Some(FileId {
            df: DfId::parse(df)?,
            ef: u16::from_str_radix(ef, 16).ok()?,
        })
    }
}

impl fmt::Display for FileId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{:04X}", self.df, self.ef)
    }
}

/// The data areas by the name the command line uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
pub enum Area {
    /// SSSE's own files (card issuing data, holder data, fingerprint, photo).
    Basic,
    /// DF01 公共应用: household, residence, status, marriage, employer, nationality, education.
    Public,
    /// DF02 就业与失业: skills, employment status and records, registration, assistance.
    Employment,
    /// DF03 社会保险 1: unemployment, work ability, pension, work injury, maternity,
    /// dependants, insurance certificates.
    Insurance,
    /// DF04 社会保险 2: medical insurance, offline settlement, transaction details.
    Medical,
    /// DF07 人事与人才: honours, experts, demobilised officers.
    Talent,
    /// DF05 生命与健康 (V2.0 notice appendix B, informative).
    Health,
    /// DF06 社会救助与优待抚恤: social assistance and special care (V2.0 notice appendix B,
    /// informative).
    Assistance,
    /// A regional extension DF (from `DF0A`, §6).
    Regional,
}

impl Area {
    /// The areas of the V2.0 notice proper, in DF order (what `--area all` reads).
    pub const NATIONAL: [Area; 5] = [
        Area::Public,
        Area::Employment,
        Area::Insurance,
        Area::Medical,
        Area::Talent,
    ];

    /// The command line name: `public`, `employment`, ….
    pub fn name(self) -> &'static str {
        match self {
            Area::Basic => "basic",
            Area::Public => "public",
            Area::Employment => "employment",
            Area::Insurance => "insurance",
            Area::Medical => "medical",
            Area::Talent => "talent",
            Area::Health => "health",
            Area::Assistance => "assistance",
            Area::Regional => "regional",
        }
    }

    /// The area of a command line name.
    pub fn from_name(name: &str) -> Option<Area> {
        [
            Area::Basic,
            Area::Public,
            Area::Employment,
            Area::Insurance,
            Area::Medical,
            Area::Talent,
            Area::Health,
            Area::Assistance,
            Area::Regional,
        ]
        .into_iter()
        .find(|a| a.name().eq_ignore_ascii_case(name.trim()))
    }

    /// The DF of a national area.
    pub fn df(self) -> Option<DfId> {
        match self {
            Area::Basic => Some(DfId::Ssse),
            Area::Public => Some(DfId::Df(0xDF01)),
            Area::Employment => Some(DfId::Df(0xDF02)),
            Area::Insurance => Some(DfId::Df(0xDF03)),
            Area::Medical => Some(DfId::Df(0xDF04)),
            Area::Talent => Some(DfId::Df(0xDF07)),
            Area::Health => Some(DfId::Df(0xDF05)),
            Area::Assistance => Some(DfId::Df(0xDF06)),
            Area::Regional => None,
        }
    }
}

impl fmt::Display for Area {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How an EF stores its data (V2.0 notice tables 3-8 "文件结构").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Structure {
    /// Variable-length records (变长记录), one SIMPLE-TLV per data item occurrence.
    Variable,
    /// Fixed-length records (定长记录): like variable ones, every record the item's full length.
    Fixed,
    /// A cyclic file (循环) of fixed records without tags; record 1 is the newest (part 3
    /// §5.3.2). The card keeps at least `min_records` (§7 table 9 "至少 N 条记录").
    Cyclic {
        /// The length of one record.
        record_len: usize,
        /// The fewest records the file keeps.
        min_records: usize,
    },
    /// A transparent file of `size` bytes (透明).
    Transparent {
        /// The file size.
        size: usize,
    },
}

impl Structure {
    /// Whether the file holds records (not transparent).
    pub fn is_records(self) -> bool {
        !matches!(self, Structure::Transparent { .. })
    }

    /// Whether the file is cyclic.
    pub fn is_cyclic(self) -> bool {
        matches!(self, Structure::Cyclic { .. })
    }
}

/// Who may read an EF (V2.0 notice tables 3-8 "读控制").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReadRule {
    /// Free (无).
    Free,
    /// The holder's PIN verified.
    Pin,
    /// EXTERNAL AUTHENTICATION with the key.
    Key(KeyRole),
    /// The PIN or the key (PIN 或 RK): the terminal chooses (reader interface §2.1.2(2)
    /// iAuthType 1 PIN, 2 key).
    PinOrKey(KeyRole),
    /// The key and then the PIN (PIN & RK; reader interface §2.1.3(6)).
    PinAndKey(KeyRole),
}

impl ReadRule {
    /// The key the rule names, if any.
    pub fn key(self) -> Option<KeyRole> {
        match self {
            ReadRule::Key(k) | ReadRule::PinOrKey(k) | ReadRule::PinAndKey(k) => Some(k),
            ReadRule::Free | ReadRule::Pin => None,
        }
    }
}

impl fmt::Display for ReadRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadRule::Free => f.write_str("free"),
            ReadRule::Pin => f.write_str("PIN"),
            ReadRule::Key(k) => write!(f, "{k}"),
            ReadRule::PinOrKey(k) => write!(f, "PIN or {k}"),
            ReadRule::PinAndKey(k) => write!(f, "PIN & {k}"),
        }
    }
}

impl std::str::FromStr for ReadRule {
    type Err = String;
    /// `free`, `PIN`, `RK1DF02`, `PIN or RK1DF02`, `PIN & RK1DF02` (as [`fmt::Display`] writes).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        let key = |name: &str| {
            KeyRole::from_name(name).ok_or_else(|| format!("{name:?} is not a key role"))
        };
        if t.eq_ignore_ascii_case("free") || t == "无" {
            return Ok(ReadRule::Free);
        }
        if t.eq_ignore_ascii_case("pin") {
            return Ok(ReadRule::Pin);
        }
        let lower = t.to_ascii_lowercase();
        if let Some(rest) = lower.strip_prefix("pin or ") {
            return key(rest).map(ReadRule::PinOrKey);
        }
        if let Some(rest) = lower.strip_prefix("pin & ") {
            return key(rest).map(ReadRule::PinAndKey);
        }
        key(t).map(ReadRule::Key)
    }
}

/// Who may write an EF (V2.0 notice tables 3-8 "写控制").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WriteRule {
    /// EXTERNAL AUTHENTICATION with the update key.
    Key(KeyRole),
    /// Nobody from outside: the card OS appends to it itself (不允许改写; DF04 EF08, the
    /// medical transaction details).
    Internal,
}

impl fmt::Display for WriteRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WriteRule::Key(k) => write!(f, "{k}"),
            WriteRule::Internal => f.write_str("card OS only"),
        }
    }
}

impl std::str::FromStr for WriteRule {
    type Err = String;
    /// An update key role name, or `internal`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        if t.eq_ignore_ascii_case("internal") {
            return Ok(WriteRule::Internal);
        }
        KeyRole::from_name(t)
            .map(WriteRule::Key)
            .ok_or_else(|| format!("{t:?} is not a key role"))
    }
}

/// The notice's file categories (§5: 启用, 预设, 预留).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FileStatus {
    /// 启用: defined and in use.
    Enabled,
    /// 预设: defined, not yet in use.
    Preset,
    /// 预留: space reserved, content undefined.
    Reserved,
    /// A region's extension (§6).
    Regional,
}

/// What a value means beyond its format, for validation and display.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueKind {
    /// Free text or a code without a table here.
    Text,
    /// A code of this table.
    Code(&'static CodeTable),
    /// A date `YYYYMMDD` (GB/T 7408, §8.1.1.5).
    Date,
    /// A date and time `YYYYMMDDhhmmss` (§8.5.3.4).
    DateTime,
    /// An administrative region code, 6 digits (GB/T 2260, §8.2.1.3).
    Region,
    /// An amount in fen (分, §8.4.8.5), decimal digits.
    Amount,
    /// A number of months, 3 digits (§8.4.1.5).
    Months,
    /// A month `YYYYMM`, the year in full (appendix B4.2.1.7: 已发放月度, cn 3).
    YearMonth,
    /// A year `YYYY` in full (appendix B4.2.2.11: 已发放年度, cn 2).
    Year,
    /// Binary (a counter, an amount in binary).
    Binary,
}

/// One data item (V2.0 notice §7 table 9).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemSpec {
    /// The record identifier (SIMPLE-TLV tag); the tag inside its B-TLV group for a part;
    /// `0` for a field of a cyclic record (§7 table 9 gives it none).
    pub tag: u8,
    /// The notice's name.
    pub name_zh: Cow<'static, str>,
    /// English name.
    pub name: Cow<'static, str>,
    /// JSON field name, unique in its area.
    pub field: Cow<'static, str>,
    /// Encoding: `an` (ASCII codes), `an` holding GBK text ([`Format::AnGbk`]), `cn`, `b`.
    pub format: Format,
    /// The value length in bytes (for a B-TLV group: the whole group value).
    pub len: usize,
    /// How many records carry the item (`40`: 3).
    pub occurs: u8,
    /// The parts of a B-TLV group (empty otherwise).
    pub parts: Cow<'static, [ItemSpec]>,
    /// What the value means.
    pub kind: ValueKind,
    /// The item's length on 1.0 cards when appendix C redefined it (0: not redefined).
    pub legacy_len: usize,
}

impl ItemSpec {
    /// Whether the item is a B-TLV group of parts.
    pub fn is_group(&self) -> bool {
        !self.parts.is_empty()
    }

    /// The code table, if the item has one.
    pub fn codes(&self) -> Option<&'static CodeTable> {
        match self.kind {
            ValueKind::Code(t) => Some(t),
            _ => None,
        }
    }

    /// `20 户口类别` or, for a field, just its name.
    pub fn label(&self) -> String {
        if self.tag == 0 {
            format!("{} ({})", self.field, self.name_zh)
        } else {
            format!("{:02X} {} ({})", self.tag, self.field, self.name_zh)
        }
    }

    const fn with_kind(mut self, kind: ValueKind) -> ItemSpec {
        self.kind = kind;
        self
    }

    const fn code(self, table: &'static CodeTable) -> ItemSpec {
        self.with_kind(ValueKind::Code(table))
    }

    const fn legacy(mut self, len: usize) -> ItemSpec {
        self.legacy_len = len;
        self
    }
}

/// An item of `len` bytes; dates, regions and amounts are recognised by their names below.
const fn it(
    tag: u8,
    name_zh: &'static str,
    name: &'static str,
    field: &'static str,
    format: Format,
    len: usize,
) -> ItemSpec {
    ItemSpec {
        tag,
        name_zh: Cow::Borrowed(name_zh),
        name: Cow::Borrowed(name),
        field: Cow::Borrowed(field),
        format,
        len,
        occurs: 1,
        parts: Cow::Borrowed(&[]),
        kind: match format {
            Format::B => ValueKind::Binary,
            _ => ValueKind::Text,
        },
        legacy_len: 0,
    }
}

const fn date(tag: u8, name_zh: &'static str, name: &'static str, field: &'static str) -> ItemSpec {
    it(tag, name_zh, name, field, Format::Cn, 4).with_kind(ValueKind::Date)
}

const fn region(
    tag: u8,
    name_zh: &'static str,
    name: &'static str,
    field: &'static str,
) -> ItemSpec {
    it(tag, name_zh, name, field, Format::Cn, 3).with_kind(ValueKind::Region)
}

const fn group(
    tag: u8,
    name_zh: &'static str,
    name: &'static str,
    field: &'static str,
    len: usize,
    occurs: u8,
    parts: &'static [ItemSpec],
) -> ItemSpec {
    ItemSpec {
        tag,
        name_zh: Cow::Borrowed(name_zh),
        name: Cow::Borrowed(name),
        field: Cow::Borrowed(field),
        format: Format::B,
        len,
        occurs,
        parts: Cow::Borrowed(parts),
        kind: ValueKind::Text,
        legacy_len: 0,
    }
}

/// An SSSE item of the existing EF05/EF06 table, seen as an [`ItemSpec`].
const fn ssse(e: ElementSpec) -> ItemSpec {
    it(e.tag, e.name_zh, e.name, e.field, e.format, e.len)
}

use Format::{An, AnGbk, Cn, B};

/// One EF (V2.0 notice tables 3-8).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileSpec {
    /// The DF and EF.
    pub id: FileId,
    /// The short file identifier.
    pub sfi: u8,
    /// The notice's name.
    pub name_zh: Cow<'static, str>,
    /// English name.
    pub name: Cow<'static, str>,
    /// JSON name (a cyclic file's records are listed under it).
    pub field: Cow<'static, str>,
    /// How the file stores its data.
    pub structure: Structure,
    /// Who may read it (for SSSE EF06 see [`FileSpec::read_rule`]).
    pub read: ReadRule,
    /// Who may write it.
    pub write: WriteRule,
    /// 启用, 预设, 预留 or regional.
    pub status: FileStatus,
    /// The data items (variable and fixed record files) or the fields of a record (cyclic
    /// files); empty for transparent files.
    pub items: Cow<'static, [ItemSpec]>,
}

impl FileSpec {
    /// The read rule on a card of `generation`: SSSE EF06 needs RKSSSE on 3.0 cards (reader
    /// interface §10.2); every other file has the notice's rule.
    pub fn read_rule(&self, generation: Generation) -> ReadRule {
        if self.id == FileId::ssse(0xEF06) && generation.needs_read_key() {
            return ReadRule::Key(KeyRole::Rkssse);
        }
        self.read
    }

    /// The item with record identifier `tag` (`None` for cyclic and transparent files).
    pub fn item(&self, tag: u8) -> Option<&ItemSpec> {
        if !matches!(self.structure, Structure::Variable | Structure::Fixed) {
            return None;
        }
        self.items.iter().find(|i| i.tag == tag)
    }

    /// The items present on a card of `generation` (SSSE EF06 has no name extension on 1.0).
    pub fn items_on(&self, generation: Generation) -> impl Iterator<Item = &ItemSpec> {
        self.items.iter().filter(move |i| {
            !(self.id.df == DfId::Ssse && i.tag == super::tag::NAME_EXTENSION)
                || generation.has_name_extension()
        })
    }

    /// The length of one record of a cyclic file, the size of a transparent one, 0 otherwise.
    pub fn record_len(&self) -> usize {
        match self.structure {
            Structure::Cyclic { record_len, .. } => record_len,
            Structure::Transparent { size } => size,
            Structure::Variable | Structure::Fixed => 0,
        }
    }

    /// `DF02EF07 就业记录信息文件`.
    pub fn label(&self) -> String {
        format!("{} {}", self.id, self.name_zh)
    }
}

/// One DF (V2.0 notice §5.1 table 2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DfSpec {
    /// SSSE or the DF's file identifier.
    pub id: DfId,
    /// The DF name SELECT takes: the AID `D156000005 xx`, SSSE's name, or an application
    /// label in GBK (appendix B applications, which have no RID).
    pub df_name: Cow<'static, [u8]>,
    /// The notice's name.
    pub name_zh: Cow<'static, str>,
    /// English name.
    pub name: Cow<'static, str>,
    /// The area.
    pub area: Area,
    /// From the notice's informative appendix B.
    pub informative: bool,
    /// The EFs.
    pub files: Cow<'static, [FileSpec]>,
}

impl DfSpec {
    /// The EF with file identifier `ef`.
    pub fn file(&self, ef: u16) -> Option<&FileSpec> {
        self.files.iter().find(|f| f.id.ef == ef)
    }

    /// The EF with short file identifier `sfi`.
    pub fn file_by_sfi(&self, sfi: u8) -> Option<&FileSpec> {
        self.files.iter().find(|f| f.sfi == sfi)
    }

    /// The keys the DF's files name (read and update keys), in table order.
    pub fn file_keys(&self) -> Vec<KeyRole> {
        let mut out = Vec::new();
        for f in self.files.iter() {
            let write = match f.write {
                WriteRule::Key(k) => Some(k),
                WriteRule::Internal => None,
            };
            for k in [f.read.key(), write].into_iter().flatten() {
                if !out.contains(&k) {
                    out.push(k);
                }
            }
        }
        out
    }
}

#[allow(clippy::too_many_arguments)]
const fn ef(
    df: u16,
    ef: u16,
    name_zh: &'static str,
    name: &'static str,
    field: &'static str,
    structure: Structure,
    read: ReadRule,
    write: WriteRule,
    status: FileStatus,
    items: &'static [ItemSpec],
) -> FileSpec {
    FileSpec {
        id: FileId::area(df, ef),
        sfi: (ef & 0x1F) as u8,
        name_zh: Cow::Borrowed(name_zh),
        name: Cow::Borrowed(name),
        field: Cow::Borrowed(field),
        structure,
        read,
        write,
        status,
        items: Cow::Borrowed(items),
    }
}

const VAR: Structure = Structure::Variable;
const fn cyclic(record_len: usize, min_records: usize) -> Structure {
    Structure::Cyclic {
        record_len,
        min_records,
    }
}
use FileStatus::{Enabled, Preset, Reserved};
use ReadRule::{Free, Pin, PinAndKey, PinOrKey};
use WriteRule::Internal;

const fn uk(role: KeyRole) -> WriteRule {
    WriteRule::Key(role)
}
const fn rk(role: KeyRole) -> ReadRule {
    ReadRule::Key(role)
}

// ---------------------------------------------------------------------------------------------
// SSSE (§5.2 table 3): the items of the existing table (`profile::records`).

#[rustfmt::skip]
static SSSE_EF05: [ItemSpec; 7] = [
    ssse(E01),
    ssse(E02).code(&codes::CARD_TYPE),
    ssse(E03),
    ssse(E04),
    ssse(E05).with_kind(ValueKind::Date),
    ssse(E06).with_kind(ValueKind::Date),
    ssse(E07),
];
#[rustfmt::skip]
static SSSE_EF06: [ItemSpec; 7] = [
    ssse(E08),
    ssse(E09),
    ssse(E4E),
    ssse(E0A).code(&codes::SEX),
    ssse(E0B),
    ssse(E0C).with_kind(ValueKind::Region),
    ssse(E0D).with_kind(ValueKind::Date),
];

#[allow(clippy::too_many_arguments)]
const fn ssse_file(
    fid: u16,
    name_zh: &'static str,
    name: &'static str,
    field: &'static str,
    structure: Structure,
    read: ReadRule,
    status: FileStatus,
    items: &'static [ItemSpec],
) -> FileSpec {
    FileSpec {
        id: FileId::ssse(fid),
        sfi: (fid & 0x1F) as u8,
        name_zh: Cow::Borrowed(name_zh),
        name: Cow::Borrowed(name),
        field: Cow::Borrowed(field),
        structure,
        read,
        write: WriteRule::Key(KeyRole::Ukssse),
        status,
        items: Cow::Borrowed(items),
    }
}

#[rustfmt::skip]
static SSSE_FILES: [FileSpec; 4] = [
    ssse_file(0xEF05, "发卡机构数据文件", "card issuing data", "issuing", VAR, Free, Enabled, &SSSE_EF05),
    ssse_file(0xEF06, "持卡人的基本信息文件", "holder data", "holder", VAR, Free, Enabled, &SSSE_EF06),
    ssse_file(0xEF07, "指纹数据文件", "fingerprint", "fingerprint", Structure::Transparent { size: 0x300 }, rk(KeyRole::Rkssse), Preset, &[]),
    ssse_file(0xEF08, "照片信息文件", "photo", "photo", Structure::Transparent { size: 0x1000 }, rk(KeyRole::Rkssse), Preset, &[]),
];

// ---------------------------------------------------------------------------------------------
// DF01 公共应用 (§5.3 table 4; table 9; §8.2)

#[rustfmt::skip]
static DF01_EF05: [ItemSpec; 3] = [
    it(0x20, "户口类别", "household registration type", "household_type", An, 2).code(&codes::HOUSEHOLD_TYPE),
    it(0x21, "户口所在地地址", "household registration address", "household_address", AnGbk, 0x50),
    region(0x0E, "户口所在地行政区划代码", "household registration region", "household_region"),
];
#[rustfmt::skip]
static DF01_EF06: [ItemSpec; 5] = [
    it(0x23, "常住所在地地址", "residence address", "residence_address", AnGbk, 0x50),
    region(0x24, "常住所在地行政区划代码", "residence region", "residence_region"),
    it(0x28, "联系电话", "telephone", "phone", An, 0x0F),
    it(0x2C, "联系人（监护人）姓名", "contact (guardian) name", "contact_name", AnGbk, 0x32),
    it(0x2D, "联系人（监护人）电话", "contact (guardian) telephone", "contact_phone", An, 0x0F),
];
static DF01_EF07: [ItemSpec; 1] = [it(
    0x29,
    "个人就业或离退休（职）状态",
    "employment or retirement status",
    "employment_status",
    An,
    1,
)
.code(&codes::EMPLOYMENT_STATUS)];
#[rustfmt::skip]
static DF01_EF08: [ItemSpec; 1] = [
    it(0x2B, "婚姻状况", "marital status", "marital_status", An, 1).code(&codes::MARITAL_STATUS),
];
#[rustfmt::skip]
static DF01_EF09: [ItemSpec; 3] = [
    it(0x2E, "单位名称", "employer name", "employer_name", AnGbk, 0x46),
    it(0x30, "单位组织机构代码", "employer organization code", "employer_code", An, 9),
    it(0x32, "人员身份类别", "person identity category", "identity_category", An, 2).code(&codes::IDENTITY_CATEGORY).legacy(3),
];
#[rustfmt::skip]
static DF01_EF0A: [ItemSpec; 3] = [
    it(0x37, "国籍", "nationality (ISO 3166-1 alpha-3)", "nationality", An, 3).legacy(4),
    it(0x38, "政治面貌", "political status", "political_status", An, 2).code(&codes::POLITICAL_STATUS).legacy(4),
    date(0x39, "参加党派日期", "date of joining the party", "party_date"),
];
#[rustfmt::skip]
static DEGREE: [ItemSpec; 3] = [
    it(0x57, "学位代码", "degree code (GB 6864)", "degree_code", An, 3),
    it(0x58, "所学专业类别", "major (GB/T 16835)", "major", Cn, 3),
    it(0x59, "毕业学校名称", "school", "school", AnGbk, 0x28),
];
#[rustfmt::skip]
static DF01_EF15: [ItemSpec; 2] = [
    it(0x2A, "学历", "education", "education", Cn, 1).code(&codes::EDUCATION),
    group(0x40, "学位信息", "degree", "degrees", 0x34, 3, &DEGREE),
];

#[rustfmt::skip]
static DF01_FILES: [FileSpec; 12] = [
    ef(0xDF01, 0xEF05, "户籍信息文件", "household registration", "household", VAR, PinOrKey(KeyRole::Rk1Df01), uk(KeyRole::Uk1Df01), Enabled, &DF01_EF05),
    ef(0xDF01, 0xEF06, "常住地信息文件", "residence", "residence", VAR, PinOrKey(KeyRole::Rk1Df01), uk(KeyRole::Uk4Df01), Enabled, &DF01_EF06),
    ef(0xDF01, 0xEF07, "个人状况信息文件", "personal status", "personal_status", VAR, PinOrKey(KeyRole::Rk1Df01), uk(KeyRole::Uk2Df01), Enabled, &DF01_EF07),
    ef(0xDF01, 0xEF08, "婚姻状况信息文件", "marital status", "marriage", VAR, PinOrKey(KeyRole::Rk1Df01), uk(KeyRole::Uk3Df01), Enabled, &DF01_EF08),
    ef(0xDF01, 0xEF09, "人员身份及就业单位信息文件", "identity and employer", "employer", VAR, PinOrKey(KeyRole::Rk1Df01), uk(KeyRole::Uk2Df01), Enabled, &DF01_EF09),
    ef(0xDF01, 0xEF0A, "国籍及政治面貌信息文件", "nationality and political status", "nationality", VAR, PinOrKey(KeyRole::Rk1Df01), uk(KeyRole::Uk5Df01), Enabled, &DF01_EF0A),
    ef(0xDF01, 0xEF15, "学历信息文件", "education", "education", VAR, PinOrKey(KeyRole::Rk1Df01), uk(KeyRole::Uk6Df01), Enabled, &DF01_EF15),
    ef(0xDF01, 0xEF16, "预留信息文件 1", "reserved 1", "reserved_1", Structure::Transparent { size: 0x128 }, Free, uk(KeyRole::Uk7Df01), Reserved, &[]),
    ef(0xDF01, 0xEF17, "预留信息文件 2", "reserved 2", "reserved_2", Structure::Transparent { size: 0x128 }, Free, uk(KeyRole::Uk8Df01), Reserved, &[]),
    ef(0xDF01, 0xEF18, "预留信息文件 3", "reserved 3", "reserved_3", Structure::Transparent { size: 0x128 }, Free, uk(KeyRole::Uk9Df01), Reserved, &[]),
    ef(0xDF01, 0xEF19, "预留信息文件 4", "reserved 4", "reserved_4", Structure::Transparent { size: 0x128 }, Free, uk(KeyRole::UkaDf01), Reserved, &[]),
    ef(0xDF01, 0xEF1A, "预留信息文件 5", "reserved 5", "reserved_5", Structure::Transparent { size: 0x128 }, Free, uk(KeyRole::UkbDf01), Reserved, &[]),
];

// ---------------------------------------------------------------------------------------------
// DF02 就业与失业 (§5.4 table 5; table 9; §8.3)

#[rustfmt::skip]
static WORKER_QUALIFICATION: [ItemSpec; 5] = [
    it(0x5A, "职业资格（工人技术等级）名称代码", "occupation code", "occupation_code", An, 7),
    it(0x5B, "职业资格（工人技术等级）等级", "grade", "grade", An, 1),
    it(0x5C, "职业资格（工人技术等级）证书发证/年检机构名称", "issuing or inspecting body", "issuer", AnGbk, 0x46),
    date(0x5D, "职业资格（工人技术等级）证书发证/年检日期", "issue or inspection date", "issue_date"),
    it(0x5E, "职业资格（工人技术等级）证书编号", "certificate number", "certificate_number", An, 0x10),
];
#[rustfmt::skip]
static PROFESSIONAL_QUALIFICATION: [ItemSpec; 4] = [
    it(0x33, "职业资格（专业技术人员）名称代码", "qualification code (table 23)", "qualification_code", An, 3),
    it(0x34, "职业资格（专业技术人员）注册登记/年检机构名称", "registering or inspecting body", "registrar", AnGbk, 0x46),
    date(0x35, "职业资格（专业技术人员）注册登记/年检日期", "registration or inspection date", "registration_date"),
    it(0x36, "职业资格（专业技术人员）证书编号", "certificate number", "certificate_number", An, 0x10),
];
#[rustfmt::skip]
static DF02_EF05: [ItemSpec; 4] = [
    it(0x42, "专业技术职务代码", "professional title code (GB/T 8561)", "title_code", An, 3),
    it(0x41, "专业技术职务级别", "professional title level", "title_level", An, 3).code(&codes::TITLE_LEVEL),
    group(0x43, "职业资格（工人技术等级）信息", "worker qualification", "worker_qualifications", 0x6C, 2, &WORKER_QUALIFICATION),
    group(0x44, "职业资格（专业技术人员）信息", "professional qualification", "professional_qualifications", 0x65, 2, &PROFESSIONAL_QUALIFICATION),
];
#[rustfmt::skip]
static DF02_EF06: [ItemSpec; 7] = [
    date(0x4C, "最近一次办理就业登记日期", "last employment registration date", "employment_registration_date"),
    it(0x4B, "就业登记类型及形式", "employment registration type and form (tables 24, 25)", "employment_registration_type", An, 5).legacy(4),
    region(0x4D, "就业登记地行政区划代码", "employment registration region", "employment_registration_region").legacy(4),
    date(0x60, "最近一次办理失业登记日期", "last unemployment registration date", "unemployment_registration_date"),
    it(0x4F, "失业登记类型、原因及注销原因", "unemployment registration type, reason and cancellation (tables 26-28)", "unemployment_registration_type", An, 6).legacy(4),
    region(0x50, "失业登记地行政区划代码", "unemployment registration region", "unemployment_registration_region").legacy(4),
    it(0x3A, "现从事职业", "current occupation", "occupation", An, 7),
];
#[rustfmt::skip]
static DF02_EF07: [ItemSpec; 4] = [
    it(0, "从事职业", "occupation", "occupation", An, 7),
    date(0, "就业起始日期", "start date", "start_date"),
    date(0, "就业终止日期", "end date", "end_date"),
    it(0, "就业工作单位名称", "employer", "employer", AnGbk, 0x46),
];
#[rustfmt::skip]
static DF02_EF09: [ItemSpec; 4] = [
    it(0x55, "就业失业登记证编号", "employment registration certificate number", "certificate_number", An, 0x10).legacy(0x0A),
    it(0x56, "就业失业登记证发证机构", "issuing body", "certificate_issuer", AnGbk, 0x46),
    date(0x96, "就业失业登记证发证/年检日期", "issue or inspection date", "certificate_date"),
    region(0x97, "就业失业登记证发证地行政区划代码", "issuing region", "certificate_region").legacy(4),
];
#[rustfmt::skip]
static ASSISTANCE: [ItemSpec; 3] = [
    it(0x10, "认定为就业援助对象类型", "assistance type", "assistance_type", An, 3).code(&codes::ASSISTANCE_TYPE),
    date(0x11, "就业援助认定日期", "recognition date", "recognition_date"),
    region(0x12, "就业援助认定地行政区划代码", "recognition region", "recognition_region"),
];
#[rustfmt::skip]
static DF02_EF15: [ItemSpec; 3] = [
    group(0x99, "就业援助对象认定信息", "employment assistance recognition", "assistance", 0x10, 4, &ASSISTANCE),
    date(0x0F, "退出就业援助对象范围的认定日期", "exit recognition date", "exit_date"),
    region(0x1F, "退出就业援助对象范围的认定地行政区划代码", "exit recognition region", "exit_region"),
];
#[rustfmt::skip]
static DF02_EF16: [ItemSpec; 5] = [
    it(0, "享受就业扶持政策类型", "policy type", "policy_type", An, 3).code(&codes::SUPPORT_POLICY),
    date(0, "享受就业扶持政策核准日期", "approval date", "approval_date"),
    date(0, "就业扶持政策享受开始日期", "start date", "start_date"),
    date(0, "就业扶持政策享受终止日期", "end date", "end_date"),
    region(0, "就业扶持政策享受地行政区划代码", "region", "region"),
];

#[rustfmt::skip]
static DF02_FILES: [FileSpec; 6] = [
    ef(0xDF02, 0xEF05, "职业和专业技能信息文件", "occupation and skills", "skills", VAR, PinOrKey(KeyRole::Rk1Df02), uk(KeyRole::Uk1Df02), Preset, &DF02_EF05),
    ef(0xDF02, 0xEF06, "就业状况信息文件", "employment status", "employment_status", VAR, PinOrKey(KeyRole::Rk1Df02), uk(KeyRole::Uk2Df02), Enabled, &DF02_EF06),
    ef(0xDF02, 0xEF07, "就业记录信息文件", "employment records", "employment_records", cyclic(0x55, 4), PinOrKey(KeyRole::Rk1Df02), uk(KeyRole::Uk3Df02), Enabled, &DF02_EF07),
    ef(0xDF02, 0xEF09, "就业失业登记证信息文件", "employment registration certificate", "registration_certificate", VAR, PinOrKey(KeyRole::Rk1Df02), uk(KeyRole::Uk4Df02), Enabled, &DF02_EF09),
    ef(0xDF02, 0xEF15, "就业援助对象认定信息文件", "employment assistance", "assistance", VAR, PinOrKey(KeyRole::Rk1Df02), uk(KeyRole::Uk5Df02), Enabled, &DF02_EF15),
    ef(0xDF02, 0xEF16, "就业扶持政策享受信息文件", "employment support policies", "support_policies", cyclic(0x12, 4), PinOrKey(KeyRole::Rk1Df02), uk(KeyRole::Uk6Df02), Enabled, &DF02_EF16),
];

// ---------------------------------------------------------------------------------------------
// DF03 社会保险 1 (§5.5 table 6; table 9; §8.4)

#[rustfmt::skip]
static DF03_EF05: [ItemSpec; 8] = [
    region(0x61, "失业保险参保地所属行政区划代码", "unemployment insurance region", "insured_region").legacy(4),
    date(0x60, "最近一次办理失业登记日期", "last unemployment registration date", "unemployment_registration_date"),
    date(0x98, "最近一次失业保险金申领日期", "last benefit claim date", "last_claim_date"),
    date(0x62, "失业保险金申领报到日期/信息更新日期", "claim report or update date", "report_date"),
    it(0x63, "失业保险累计缴费年限", "contribution months", "contribution_months", An, 3).with_kind(ValueKind::Months),
    it(0x64, "失业保险有效缴费年限", "effective contribution months", "effective_months", An, 3).with_kind(ValueKind::Months),
    it(0x65, "应领取失业保险金月数", "benefit months due", "benefit_months", An, 3).with_kind(ValueKind::Months),
    it(0x66, "已领取失业保险金月数", "benefit months received", "received_months", An, 3).with_kind(ValueKind::Months),
];
#[rustfmt::skip]
static CONFIRMATION: [ItemSpec; 5] = [
    it(0x13, "申请确认事项代码", "confirmation item", "item", An, 2).code(&codes::APPRAISAL_ITEM),
    it(0x14, "确认事项结论", "conclusion", "conclusion", An, 1).code(&codes::CONFIRMATION_CONCLUSION),
    it(0x15, "配置辅助器具项目名称", "assistive device", "device", AnGbk, 0x14),
    date(0x16, "申请劳动能力确认日期", "confirmation date", "date"),
    it(0x17, "申请劳动能力确认机构名称", "confirming body", "body", AnGbk, 0x3C),
];
#[rustfmt::skip]
static DF03_EF06: [ItemSpec; 8] = [
    it(0x45, "劳动能力鉴定编号", "appraisal number", "appraisal_number", An, 0x14),
    it(0x46, "申请鉴定事项代码", "appraisal item", "appraisal_item", An, 2).code(&codes::APPRAISAL_ITEM),
    it(0x47, "伤残等级", "disability grade", "disability_grade", An, 2).code(&codes::DISABILITY_GRADE),
    it(0x48, "生活自理障碍等级", "self-care impairment grade", "self_care_grade", An, 1).code(&codes::SELF_CARE_GRADE),
    it(0x49, "丧失劳动能力鉴定结论", "loss of working ability", "work_ability_conclusion", An, 1).code(&codes::WORK_ABILITY_CONCLUSION),
    date(0x67, "劳动能力鉴定日期", "appraisal date", "appraisal_date"),
    it(0x6B, "劳动能力鉴定机构名称", "appraising body", "appraisal_body", AnGbk, 0x3C),
    group(0x4A, "申请确认事项", "confirmation", "confirmations", 0x61, 3, &CONFIRMATION),
];
#[rustfmt::skip]
static DF03_EF07: [ItemSpec; 6] = [
    it(0x70, "养老保险险种类型", "pension insurance type", "pension_type", An, 3).code(&codes::PENSION_TYPE),
    region(0x71, "养老保险参保地所属行政区划代码", "pension insurance region", "pension_region").legacy(4),
    date(0x6E, "基本养老保险个人账户建立日期", "personal account opened", "account_date"),
    date(0x6C, "离退休日期", "retirement date", "retirement_date"),
    date(0x6F, "待遇享受开始日期", "benefits start", "benefit_start_date"),
    date(0x73, "养老保险信息更新日期", "pension data updated", "pension_update_date"),
];
#[rustfmt::skip]
static DF03_EF15: [ItemSpec; 3] = [
    region(0x7A, "工伤保险参保地所属行政区划代码", "work-injury insurance region", "injury_region"),
    date(0x7B, "工伤定期待遇享受开始日期", "periodic benefits start", "injury_benefit_start_date"),
    date(0x7C, "工伤保险信息更新日期", "work-injury data updated", "injury_update_date"),
];
#[rustfmt::skip]
static DF03_EF16: [ItemSpec; 2] = [
    region(0x51, "生育保险参保地所属行政区划代码", "maternity insurance region", "maternity_region"),
    it(0x5F, "职工未就业配偶标识", "unemployed spouse of an employee", "unemployed_spouse", An, 1).code(&codes::UNEMPLOYED_SPOUSE),
];
#[rustfmt::skip]
static DF03_EF17: [ItemSpec; 5] = [
    it(0x3B, "工伤认定编号", "recognition number", "recognition_number", An, 0x14),
    it(0x3C, "用人单位名称", "employer", "employer", AnGbk, 0x46),
    it(0x3D, "工伤认定结论", "conclusion", "conclusion", An, 1).code(&codes::INJURY_CONCLUSION),
    date(0x3E, "工伤认定日期", "recognition date", "recognition_date"),
    it(0x3F, "工伤认定部门名称", "recognising department", "department", AnGbk, 0x3C),
];
#[rustfmt::skip]
static DF03_EF18: [ItemSpec; 5] = [
    it(0x74, "供养险种类型", "insurance of the benefit", "dependant_insurance", An, 3).code(&codes::DEPENDANT_INSURANCE),
    region(0x75, "参保地所属行政区划代码", "insurance region", "dependant_region"),
    it(0x76, "供养关系", "relation", "relation", Cn, 1).code(&codes::DEPENDANT_RELATION),
    date(0x77, "供养待遇享受开始日期", "benefits start", "dependant_start_date"),
    date(0x78, "供养亲属信息更新日期", "dependant data updated", "dependant_update_date"),
];
#[rustfmt::skip]
static CERTIFICATE: [ItemSpec; 7] = [
    it(0x18, "险种类型", "insurance type", "insurance_type", An, 3).code(&codes::INSURANCE_TYPE),
    region(0x19, "参保地所属行政区划代码", "insurance region", "region"),
    date(0x1A, "本地参保起始日期", "start date", "start_date"),
    date(0x1B, "本地参保终止日期", "end date", "end_date"),
    it(0x1C, "本地个人实际缴费金额", "contributions paid (fen)", "paid", Cn, 4).with_kind(ValueKind::Amount),
    it(0x1D, "本地实际缴费月数", "months paid", "months", An, 3).with_kind(ValueKind::Months),
    date(0x1E, "凭证出具日期", "certificate date", "certificate_date"),
];
static DF03_EF19: [ItemSpec; 1] = [group(
    0x79,
    "参保凭证信息",
    "insurance certificate (pension, medical, unemployment, reserved)",
    "certificates",
    0x27,
    4,
    &CERTIFICATE,
)];

#[rustfmt::skip]
static DF03_FILES: [FileSpec; 8] = [
    ef(0xDF03, 0xEF05, "失业保险信息文件", "unemployment insurance", "unemployment", VAR, PinOrKey(KeyRole::Rk2Df03), uk(KeyRole::Uk1Df03), Enabled, &DF03_EF05),
    ef(0xDF03, 0xEF06, "劳动能力鉴定信息文件", "work ability appraisal", "work_ability", VAR, PinOrKey(KeyRole::Rk1Df03), uk(KeyRole::Uk2Df03), Enabled, &DF03_EF06),
    ef(0xDF03, 0xEF07, "养老保险信息文件", "pension insurance", "pension", VAR, PinOrKey(KeyRole::Rk1Df03), uk(KeyRole::Uk3Df03), Enabled, &DF03_EF07),
    ef(0xDF03, 0xEF15, "工伤保险信息文件", "work-injury insurance", "work_injury", VAR, PinOrKey(KeyRole::Rk1Df03), uk(KeyRole::Uk4Df03), Enabled, &DF03_EF15),
    ef(0xDF03, 0xEF16, "生育保险信息文件", "maternity insurance", "maternity", VAR, PinOrKey(KeyRole::Rk1Df03), uk(KeyRole::Uk5Df03), Enabled, &DF03_EF16),
    ef(0xDF03, 0xEF17, "工伤认定信息文件", "work-injury recognition", "injury_recognition", VAR, PinOrKey(KeyRole::Rk1Df03), uk(KeyRole::Uk6Df03), Enabled, &DF03_EF17),
    ef(0xDF03, 0xEF18, "供养亲属信息文件", "dependants", "dependants", VAR, PinOrKey(KeyRole::Rk1Df03), uk(KeyRole::Uk7Df03), Enabled, &DF03_EF18),
    ef(0xDF03, 0xEF19, "参保凭证信息文件", "insurance certificates", "certificates", Structure::Fixed, PinOrKey(KeyRole::Rk1Df03), uk(KeyRole::Uk8Df03), Enabled, &DF03_EF19),
];

// ---------------------------------------------------------------------------------------------
// DF04 社会保险 2 (§5.6 table 7; table 9; §8.5)

#[rustfmt::skip]
static DF04_EF05: [ItemSpec; 16] = [
    it(0x81, "医疗保险险种类型及标识", "medical insurance type and flags (tables 42-47)", "medical_type", An, 8).legacy(0x46),
    region(0x84, "医疗保险参保地所属行政区划代码", "medical insurance region", "medical_region").legacy(0x46),
    it(0x87, "健康档案编号", "health record number", "health_record_number", An, 0x11).legacy(0x46),
    it(0x8C, "医疗保险参保人员类别", "insured person category", "medical_category", Cn, 1).code(&codes::MEDICAL_CATEGORY),
    date(0x80, "基本医疗保险个人账户建立日期", "personal account opened", "account_date"),
    it(0x8B, "基本医疗保险个人账号", "personal account number", "account_number", An, 0x1D),
    it(0x8A, "医疗证号", "medical certificate number", "medical_certificate", An, 0x0F),
    it(0x83, "定点医疗机构代码 1", "designated hospital 1", "hospital_1", An, 9),
    it(0x86, "定点医疗机构代码 2", "designated hospital 2", "hospital_2", An, 9),
    it(0x89, "定点医疗机构代码 3", "designated hospital 3", "hospital_3", An, 9),
    it(0x7D, "工伤协议医疗机构代码 1", "work-injury hospital 1", "injury_hospital_1", An, 9),
    it(0x7E, "工伤协议医疗机构代码 2", "work-injury hospital 2", "injury_hospital_2", An, 9),
    it(0x7F, "工伤协议医疗机构代码 3", "work-injury hospital 3", "injury_hospital_3", An, 9),
    it(0x8D, "生育定点医疗机构代码 1", "maternity hospital 1", "maternity_hospital_1", An, 9),
    it(0x8E, "生育定点医疗机构代码 2", "maternity hospital 2", "maternity_hospital_2", An, 9),
    it(0x8F, "医疗保险用卡方式", "card use", "card_use", An, 1).code(&codes::MEDICAL_CARD_USE),
];
#[rustfmt::skip]
static DF04_EF06: [ItemSpec; 3] = [
    it(0x90, "准许脱网医保结算标识", "offline settlement allowed", "offline_allowed", An, 1).code(&codes::OFFLINE_ALLOWED).legacy(4),
    it(0x92, "脱网医保结算累计金额", "offline settlements total (fen)", "offline_total", Cn, 4).with_kind(ValueKind::Amount),
    it(0x93, "脱网医保结算累计次数", "offline settlements count", "offline_count", An, 2).legacy(4),
];
#[rustfmt::skip]
static DF04_EF08: [ItemSpec; 7] = [
    it(0, "交易序号", "transaction serial", "serial", B, 2),
    it(0, "交易类型", "transaction type", "type", An, 1).code(&codes::TRANSACTION_TYPE),
    it(0, "终端机编号", "terminal number", "terminal", Cn, 6),
    it(0, "交易时间", "time", "time", Cn, 7).with_kind(ValueKind::DateTime),
    it(0, "个人账户交易金额", "personal account amount (fen)", "account_amount", B, 4),
    it(0, "个人自付金额", "paid by the person (fen)", "self_paid", B, 4),
    it(0, "统筹基金支付金额", "paid by the pooled fund (fen)", "fund_paid", B, 4),
];
#[rustfmt::skip]
static DF04_EF15: [ItemSpec; 2] = [
    it(0, "交易序号", "transaction serial", "serial", B, 2),
    it(0, "结算类别", "settlement type", "type", An, 1).code(&codes::SETTLEMENT_TYPE),
];

#[rustfmt::skip]
static DF04_FILES: [FileSpec; 4] = [
    ef(0xDF04, 0xEF05, "医疗保险基本信息文件", "medical insurance", "medical", VAR, PinOrKey(KeyRole::Rk1Df04), uk(KeyRole::Uk1Df04), Enabled, &DF04_EF05),
    ef(0xDF04, 0xEF06, "医疗保险临时脱网结算信息文件", "offline settlement", "offline", VAR, PinAndKey(KeyRole::Rk1Df04), uk(KeyRole::Uk2Df04), Enabled, &DF04_EF06),
    ef(0xDF04, 0xEF08, "医疗交易明细文件", "medical transactions", "transactions", cyclic(0x1C, 30), Pin, Internal, Enabled, &DF04_EF08),
    ef(0xDF04, 0xEF15, "特殊医疗结算记录文件", "special settlements", "special_settlements", cyclic(3, 8), PinOrKey(KeyRole::Rk1Df04), uk(KeyRole::Uk2Df04), Enabled, &DF04_EF15),
];

// ---------------------------------------------------------------------------------------------
// DF07 人事与人才 (§5.7 table 8; table 9; §8.6)

#[rustfmt::skip]
static DF07_EF05: [ItemSpec; 5] = [
    it(0xF0, "荣誉称号名称代码", "honorary title (table 53)", "honour", An, 2),
    it(0xF1, "荣誉称号级别", "honour level", "honour_level", An, 1).code(&codes::HONOUR_LEVEL),
    date(0xF2, "荣誉称号批准日期", "honour date", "honour_date"),
    it(0xF3, "荣誉奖章名称代码", "medal", "medal", An, 3).code(&codes::MEDAL),
    date(0xF4, "荣誉奖章批准日期", "medal date", "medal_date"),
];
#[rustfmt::skip]
static DF07_EF06: [ItemSpec; 3] = [
    it(0xF5, "专家类别", "expert category (table 56)", "expert_category", An, 3),
    date(0xF6, "批准日期", "approval date", "expert_date"),
    it(0xF7, "批准单位名称", "approving body", "expert_body", AnGbk, 0x46),
];
#[rustfmt::skip]
static DF07_EF07: [ItemSpec; 2] = [
    date(0xF8, "批准转业日期", "demobilisation date", "demobilisation_date"),
    it(0xF9, "安置方式", "resettlement", "resettlement", An, 1).code(&codes::RESETTLEMENT),
];

#[rustfmt::skip]
static DF07_FILES: [FileSpec; 3] = [
    ef(0xDF07, 0xEF05, "荣誉信息文件", "honours", "honours", VAR, rk(KeyRole::Rk1Df07), uk(KeyRole::Uk1Df07), Preset, &DF07_EF05),
    ef(0xDF07, 0xEF06, "专家信息文件", "expert", "expert", VAR, rk(KeyRole::Rk2Df07), uk(KeyRole::Uk2Df07), Preset, &DF07_EF06),
    ef(0xDF07, 0xEF07, "军队转业干部信息文件", "demobilised officer", "officer", VAR, rk(KeyRole::Rk3Df07), uk(KeyRole::Uk3Df07), Preset, &DF07_EF07),
];

// ---------------------------------------------------------------------------------------------
// DF05 生命与健康 (appendix B table B3, informative)

const fn flag(tag: u8, name_zh: &'static str, name: &'static str, field: &'static str) -> ItemSpec {
    it(tag, name_zh, name, field, An, 1).code(&codes::MEDICAL_FLAG)
}
#[rustfmt::skip]
static CONTRAINDICATED_DRUG: [ItemSpec; 2] = [
    it(0xA5, "禁忌药", "drug", "drug", AnGbk, 0x10),
    it(0xA6, "禁忌药代码", "drug code", "drug_code", An, 4),
];
#[rustfmt::skip]
static MAJOR_DISEASE: [ItemSpec; 2] = [
    it(0xA7, "重大疾病", "disease", "disease", AnGbk, 0x10),
    it(0xA8, "重大疾病代码", "disease code", "disease_code", An, 3),
];
#[rustfmt::skip]
static DF05_EF05: [ItemSpec; 25] = [
    it(0xA0, "健康状况", "health status", "health_status", An, 1).code(&codes::HEALTH_STATUS),
    it(0xA1, "残疾类别", "disability category", "disability_category", An, 1).code(&codes::DISABILITY_CATEGORY),
    it(0xB9, "残疾等级", "disability level", "disability_level", An, 1).code(&codes::DISABILITY_LEVEL),
    it(0xA2, "ABO 血型代码", "ABO blood group", "abo_blood_group", AnGbk, 4),
    it(0xA9, "RH 血型代码", "Rh blood group", "rh_blood_group", Cn, 1).code(&codes::RH_BLOOD_GROUP),
    group(0xA3, "禁忌药信息", "contraindicated drug", "contraindicated_drugs", 0x18, 5, &CONTRAINDICATED_DRUG),
    group(0xA4, "重大疾病信息", "major disease", "major_diseases", 0x17, 5, &MAJOR_DISEASE),
    it(0xBA, "过敏物质名称", "allergen", "allergen", AnGbk, 0x14),
    it(0xBB, "过敏反应", "allergic reaction", "allergic_reaction", AnGbk, 0x64),
    it(0xAA, "免疫接种名称", "vaccination", "vaccination", AnGbk, 0x14),
    date(0xAB, "免疫接种时间", "vaccination date", "vaccination_date"),
    flag(0xAC, "哮喘标志", "asthma", "asthma"),
    flag(0xAD, "心脏病标志", "heart disease", "heart_disease"),
    flag(0xAE, "心脑血管标志", "cardiovascular disease", "cardiovascular"),
    flag(0xAF, "癫痫病标志", "epilepsy", "epilepsy"),
    flag(0xB0, "凝血紊乱标志", "coagulation disorder", "coagulation_disorder"),
    flag(0xB1, "糖尿病标志", "diabetes", "diabetes"),
    flag(0xB2, "青光眼标志", "glaucoma", "glaucoma"),
    flag(0xB3, "透析标志", "dialysis", "dialysis"),
    flag(0xB4, "器官移植标志", "organ transplant", "organ_transplant"),
    flag(0xB5, "器官缺失标志", "missing organ", "missing_organ"),
    flag(0xB6, "可装卸的义肢标志", "removable prosthesis", "prosthesis"),
    flag(0xB7, "心脏起搏器标志", "pacemaker", "pacemaker"),
    flag(0xBC, "精神病标志", "mental illness", "mental_illness"),
    it(0xB8, "其他医学警示名称", "other medical warning", "other_warning", AnGbk, 0x28),
];

static DF05_FILES: [FileSpec; 1] = [ef(
    0xDF05,
    0xEF05,
    "生命与健康数据文件",
    "life and health",
    "health",
    VAR,
    Free,
    uk(KeyRole::Uk1Df05),
    Preset,
    &DF05_EF05,
)];

// ---------------------------------------------------------------------------------------------
// DF06 社会救助与优待抚恤 (appendix B tables B6-B8, B4.2; informative)

const fn amount(
    tag: u8,
    name_zh: &'static str,
    name: &'static str,
    field: &'static str,
) -> ItemSpec {
    it(tag, name_zh, name, field, Cn, 4).with_kind(ValueKind::Amount)
}
const fn month(
    tag: u8,
    name_zh: &'static str,
    name: &'static str,
    field: &'static str,
) -> ItemSpec {
    it(tag, name_zh, name, field, Cn, 3).with_kind(ValueKind::YearMonth)
}
const fn year(tag: u8, name_zh: &'static str, name: &'static str, field: &'static str) -> ItemSpec {
    it(tag, name_zh, name, field, Cn, 2).with_kind(ValueKind::Year)
}
/// Table B7: one social assistance record (the parts of `C3`, `C4`, `C5`).
#[rustfmt::skip]
static SOCIAL_ASSISTANCE: [ItemSpec; 5] = [
    it(0xE3, "社会救助代码", "form of assistance (table B26)", "code", Cn, 1).code(&codes::SOCIAL_ASSISTANCE),
    date(0xE4, "社会救助批准日期", "approval date", "approval_date"),
    date(0xE5, "社会救助复核日期", "review date", "review_date"),
    amount(0xE6, "最近一次获得社会救助的金额", "last amount received (fen)", "last_amount"),
    month(0xE7, "社会救助已发放月度", "paid up to month (YYYYMM)", "paid_month"),
];
/// Table B6.
#[rustfmt::skip]
static DF06_EF05: [ItemSpec; 5] = [
    it(0xC0, "救助金发放机构名称", "paying body", "assistance_body", AnGbk, 0x46),
    it(0xC2, "救助金发放机构代码", "paying body's organization code", "assistance_body_code", An, 9),
    group(0xC3, "社会救助信息 1", "social assistance 1", "assistance_1", 0x1A, 1, &SOCIAL_ASSISTANCE),
    group(0xC4, "社会救助信息 2", "social assistance 2", "assistance_2", 0x1A, 1, &SOCIAL_ASSISTANCE),
    group(0xC5, "社会救助信息 3", "social assistance 3", "assistance_3", 0x1A, 1, &SOCIAL_ASSISTANCE),
];
/// Table B8: the paying body, then four forms of special care (codes of table B27), each with
/// its approval and end dates, this year's standards and what has been paid.
#[rustfmt::skip]
static DF06_EF06: [ItemSpec; 28] = [
    it(0xC6, "优待抚恤金发放机构", "paying body", "care_body", AnGbk, 0x46),
    it(0xC8, "优待抚恤金发放机构代码", "paying body's organization code", "care_body_code", An, 9),
    it(0xC9, "优待抚恤代码 1", "form of care 1 (table B27)", "care_code_1", Cn, 1).code(&codes::SPECIAL_CARE),
    date(0xCA, "优待抚恤批准日期 1", "approval date 1", "approval_date_1"),
    date(0xCB, "优待抚恤截止日期 1", "end date 1", "end_date_1"),
    amount(0xCC, "当年义务兵优待金发放标准", "this year's conscript allowance standard (fen)", "conscript_allowance_standard"),
    year(0xCD, "优待抚恤已发放年度 1", "paid up to year 1 (YYYY)", "paid_year_1"),
    it(0xCE, "优待抚恤代码 2", "form of care 2 (table B27)", "care_code_2", Cn, 1).code(&codes::SPECIAL_CARE),
    date(0xCF, "优待抚恤批准日期 2", "approval date 2", "approval_date_2"),
    date(0xD0, "优待抚恤截止日期 2", "end date 2", "end_date_2"),
    amount(0xD1, "当年定期抚恤金发放标准", "this year's periodic pension standard (fen)", "periodic_pension_standard"),
    month(0xD2, "优待抚恤已发放月度 2", "paid up to month 2 (YYYYMM)", "paid_month_2"),
    it(0xD3, "优待抚恤代码 3", "form of care 3 (table B27)", "care_code_3", Cn, 1).code(&codes::SPECIAL_CARE),
    date(0xD4, "优待抚恤批准日期 3", "approval date 3", "approval_date_3"),
    date(0xD5, "优待抚恤截止日期 3", "end date 3", "end_date_3"),
    amount(0xD6, "当年定期补助发放标准", "this year's periodic allowance standard (fen)", "periodic_allowance_standard"),
    month(0xD7, "优待抚恤已发放月度 3", "paid up to month 3 (YYYYMM)", "paid_month_3"),
    it(0xD8, "优待抚恤代码 4", "form of care 4 (table B27)", "care_code_4", Cn, 1).code(&codes::SPECIAL_CARE),
    date(0xD9, "优待抚恤批准日期 4", "approval date 4", "approval_date_4"),
    date(0xDA, "优待抚恤截止日期 4", "end date 4", "end_date_4"),
    amount(0xDB, "当年抚恤金标准（中央）", "this year's pension standard, central (fen)", "pension_standard_central"),
    amount(0xDC, "当年抚恤金补助标准（地方）", "this year's pension supplement, local (fen)", "pension_supplement_local"),
    amount(0xDD, "当年保健金标准（中央）", "this year's health-care allowance, central (fen)", "health_care_standard_central"),
    amount(0xDE, "当年保健金补助标准（地方）", "this year's health-care supplement, local (fen)", "health_care_supplement_local"),
    month(0xDF, "伤残抚恤金已发放月度", "disability pension paid up to month (YYYYMM)", "disability_pension_paid_month"),
    month(0xE0, "伤残抚恤补助金已发放月度", "disability supplement paid up to month (YYYYMM)", "disability_supplement_paid_month"),
    year(0xE1, "伤残保健金已发放年度", "health-care allowance paid up to year (YYYY)", "health_care_paid_year"),
    year(0xE2, "伤残保健补助金已发放年度", "health-care supplement paid up to year (YYYY)", "health_care_supplement_paid_year"),
];

#[rustfmt::skip]
static DF06_FILES: [FileSpec; 2] = [
    ef(0xDF06, 0xEF05, "社会救助信息数据文件", "social assistance", "social_assistance", VAR, rk(KeyRole::Rk1Df06), uk(KeyRole::Uk1Df06), Preset, &DF06_EF05),
    ef(0xDF06, 0xEF06, "优待抚恤信息数据文件", "special care and pensions", "special_care", VAR, rk(KeyRole::Rk1Df06), uk(KeyRole::Uk2Df06), Preset, &DF06_EF06),
];

// ---------------------------------------------------------------------------------------------
// The DFs (§5.1 tables 1-2; appendix B table B1)

static AID_DF01: [u8; 6] = [0xD1, 0x56, 0x00, 0x00, 0x05, 0x00];
static AID_DF02: [u8; 6] = [0xD1, 0x56, 0x00, 0x00, 0x05, 0x01];
static AID_DF03: [u8; 6] = [0xD1, 0x56, 0x00, 0x00, 0x05, 0x02];
static AID_DF04: [u8; 6] = [0xD1, 0x56, 0x00, 0x00, 0x05, 0x03];
static AID_DF07: [u8; 6] = [0xD1, 0x56, 0x00, 0x00, 0x05, 0x04];
/// "生命与健康信息区" in GBK: the application label of appendix B table B1, its DF name.
static LABEL_DF05: [u8; 16] = [
    0xC9, 0xFA, 0xC3, 0xFC, 0xD3, 0xEB, 0xBD, 0xA1, 0xBF, 0xB5, 0xD0, 0xC5, 0xCF, 0xA2, 0xC7, 0xF8,
];

/// "救助与优抚信息区" in GBK: the application label of appendix B table B1, DF06's DF name.
static LABEL_DF06: [u8; 16] = [
    0xBE, 0xC8, 0xD6, 0xFA, 0xD3, 0xEB, 0xD3, 0xC5, 0xB8, 0xA7, 0xD0, 0xC5, 0xCF, 0xA2, 0xC7, 0xF8,
];

#[allow(clippy::too_many_arguments)]
const fn df(
    id: DfId,
    df_name: &'static [u8],
    name_zh: &'static str,
    name: &'static str,
    area: Area,
    informative: bool,
    files: &'static [FileSpec],
) -> DfSpec {
    DfSpec {
        id,
        df_name: Cow::Borrowed(df_name),
        name_zh: Cow::Borrowed(name_zh),
        name: Cow::Borrowed(name),
        area,
        informative,
        files: Cow::Borrowed(files),
    }
}

/// SSSE and every data area DF of the V2.0 notice, DF05 and DF06 (appendix B) last.
#[rustfmt::skip]
pub static NATIONAL: [DfSpec; 8] = [
    df(DfId::Ssse, &SSSE_AID, "社会保障系统环境", "social security environment", Area::Basic, false, &SSSE_FILES),
    df(DfId::Df(0xDF01), &AID_DF01, "公共应用信息区", "public data", Area::Public, false, &DF01_FILES),
    df(DfId::Df(0xDF02), &AID_DF02, "就业与失业信息区", "employment and unemployment", Area::Employment, false, &DF02_FILES),
    df(DfId::Df(0xDF03), &AID_DF03, "社会保险信息区 1", "social insurance 1", Area::Insurance, false, &DF03_FILES),
    df(DfId::Df(0xDF04), &AID_DF04, "社会保险信息区 2", "social insurance 2 (medical)", Area::Medical, false, &DF04_FILES),
    df(DfId::Df(0xDF07), &AID_DF07, "人事人才信息区", "personnel and talent", Area::Talent, false, &DF07_FILES),
    df(DfId::Df(0xDF05), &LABEL_DF05, "生命与健康信息区", "life and health (appendix B, informative)", Area::Health, true, &DF05_FILES),
    df(DfId::Df(0xDF06), &LABEL_DF06, "救助与优抚信息区", "social assistance and special care (appendix B, informative)", Area::Assistance, true, &DF06_FILES),
];

/// The DF `id` of the national table.
pub fn national_df(id: DfId) -> Option<&'static DfSpec> {
    NATIONAL.iter().find(|d| d.id == id)
}

/// The EF `id` of the national table.
pub fn national_file(id: FileId) -> Option<&'static FileSpec> {
    national_df(id.df).and_then(|d| d.file(id.ef))
}

// ---------------------------------------------------------------------------------------------
// Errors

/// Why a data item, a file address or a regional declaration is not acceptable. Every message
/// names the file and the item (`DF01EF05 20 household_type (户口类别)`).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum AreaError {
    /// A value does not fit its item: too long, wrong characters, not a date, not a code ….
    #[error("{file} {item}: {reason}")]
    Invalid {
        /// The file (`DF01EF05`).
        file: String,
        /// The item (`20 household_type (户口类别)`).
        item: String,
        /// What is wrong.
        reason: String,
    },
    /// The file has no data item with this record identifier.
    #[error("{file}: no data item with tag {tag:02X} (its items: {known})")]
    UnknownTag {
        /// The file.
        file: String,
        /// The tag asked for.
        tag: u8,
        /// The file's tags.
        known: String,
    },
    /// The file is in no table (national or regional).
    #[error("unknown file {0}: not in the V2.0 notice nor declared as a regional extension")]
    UnknownFile(String),
    /// An occurrence the item does not have (`40:4`; 40 occurs 3 times).
    #[error("{file} {item}: occurrence {occurrence}, the item has {max}")]
    Occurrence {
        /// The file.
        file: String,
        /// The item.
        item: String,
        /// The occurrence asked for.
        occurrence: u8,
        /// How many the item has.
        max: u8,
    },
    /// The file cannot be written from outside the card (DF04 EF08).
    #[error("{0}: written by the card OS only (不允许改写), never by a terminal")]
    NotWritable(String),
    /// A cyclic record that would break the file's order.
    #[error("{file}: record out of order: {reason}")]
    OutOfOrder {
        /// The file.
        file: String,
        /// Why.
        reason: String,
    },
    /// A regional extension that breaks the rules of §6.
    #[error("regional extension: {0}")]
    Extension(String),
    /// Reading the file needs a PIN or a key that was not given.
    #[error("{file} is read with {rule}: give {what}")]
    AccessNeeded {
        /// The file.
        file: String,
        /// Its read rule (`PIN or RK1DF02`).
        rule: String,
        /// What to give (`the holder's PIN or a key holder`).
        what: String,
    },
    /// The file needs no key: an HSM is not asked (reader interface appendix A `-2204`).
    #[error("{0} is read freely or with the PIN alone: no HSM authentication is needed (-2204)")]
    NoKeyNeeded(String),
    /// The card answered that it has no such DF (`6A82` to SELECT).
    #[error("the card has no {df} ({name}): it was issued without this data area")]
    AreaMissing {
        /// The DF (`DF02`).
        df: String,
        /// Its name (`就业与失业信息区`).
        name: String,
    },
}

impl AreaError {
    fn invalid(file: &FileSpec, item: &ItemSpec, reason: impl Into<String>) -> AreaError {
        AreaError::Invalid {
            file: file.id.to_string(),
            item: item.label(),
            reason: reason.into(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Values

/// A data item's value as read or to be written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// `an`: text (ASCII or GBK), padding removed.
    Text(String),
    /// `cn`: decimal digits, padding removed.
    Digits(String),
    /// `b`: bytes.
    Bytes(Vec<u8>),
    /// A B-TLV group's parts or a cyclic record's fields, in the table's order.
    Parts(Vec<Value>),
    /// Bytes that do not decode as the item says (shown in hex): a 1.0 definition of an item
    /// appendix C redefined, or damaged data.
    Raw(Vec<u8>),
}

/// Part separator of a group or a cyclic record in the text form (reader interface §2.1.2(4)).
pub const PART_SEPARATOR: char = '^';

impl Value {
    /// The text form: the value itself, `b` and raw bytes in upper-case hex, parts each
    /// followed by `^` (reader interface §2.1.2(4) for cyclic records, \[design\] D22 for
    /// groups).
    pub fn text(&self) -> String {
        match self {
            Value::Text(t) | Value::Digits(t) => t.clone(),
            Value::Bytes(b) | Value::Raw(b) => hex::encode_upper(b),
            Value::Parts(parts) => parts
                .iter()
                .map(|p| format!("{}{PART_SEPARATOR}", p.text()))
                .collect(),
        }
    }

    /// Whether nothing is written (an empty text, no digits, no bytes, all parts empty).
    pub fn is_empty(&self) -> bool {
        match self {
            Value::Text(t) | Value::Digits(t) => t.is_empty(),
            Value::Bytes(b) | Value::Raw(b) => b.is_empty(),
            Value::Parts(p) => p.iter().all(Value::is_empty),
        }
    }
}

/// How an item read from a card relates to the V2.0 definition (appendix C).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
pub enum Compat {
    /// The V2.0 item.
    Current,
    /// A 1.0 card's record rewritten with the V2.0 item and padded with `E` (appendix C: "读出
    /// 时若最后为'EE'…值取前 N 位").
    Rewritten,
    /// A 1.0 card's record still holding the 1.0 definition (no `EE`): given raw.
    OldDefinition,
}

/// An item as read: its value, what it means when it is a code, and its appendix C status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reading {
    /// The value.
    pub value: Value,
    /// The code's meaning, when the item has a code table and the code is in it.
    pub meaning: Option<&'static str>,
    /// Appendix C status.
    pub compat: Compat,
}

/// Whether `value` is blank: all `00` or all `FF` (an unwritten record or part).
fn blank(value: &[u8]) -> bool {
    value.iter().all(|&b| b == 0x00) || value.iter().all(|&b| b == 0xFF)
}

fn decode_plain(format: Format, value: &[u8]) -> Value {
    let fallback = || Value::Raw(value.to_vec());
    match format {
        Format::An | Format::AnGbk => {
            if blank(value) {
                return Value::Text(String::new());
            }
            crate::codec::decode_gbk("item", value).map_or_else(|_| fallback(), Value::Text)
        }
        Format::Cn => {
            if value.iter().all(|&b| b == 0xFF) {
                return Value::Digits(String::new());
            }
            crate::codec::decode_cn("item", value).map_or_else(|_| fallback(), Value::Digits)
        }
        Format::B => Value::Bytes(value.to_vec()),
    }
}

impl ItemSpec {
    /// Decodes a value read from a card (never fails: what does not decode is
    /// [`Value::Raw`]). A value longer than the item is an appendix C case when the item was
    /// redefined: ending in `EE`, the first [`ItemSpec::len`] bytes are the V2.0 value
    /// ([`Compat::Rewritten`]); a value of the 1.0 length without `EE` is the 1.0 definition
    /// ([`Compat::OldDefinition`]).
    pub fn read(&self, value: &[u8]) -> Reading {
        let (value, compat) = if self.legacy_len > 0 && value.len() != self.len {
            if value.len() > self.len && value.last() == Some(&0xEE) {
                (value.get(..self.len).unwrap_or(value), Compat::Rewritten)
            } else if value.len() == self.legacy_len {
                return Reading {
                    value: Value::Raw(value.to_vec()),
                    meaning: None,
                    compat: Compat::OldDefinition,
                };
            } else {
                (value, Compat::Current)
            }
        } else {
            (value, Compat::Current)
        };
        let decoded = if self.is_group() {
            self.decode_group(value)
        } else {
            decode_plain(self.format, value)
        };
        let meaning = match (&decoded, self.codes()) {
            (Value::Text(c) | Value::Digits(c), Some(t)) => t.meaning(c),
            _ => None,
        };
        Reading {
            value: decoded,
            meaning,
            compat,
        }
    }

    fn decode_group(&self, value: &[u8]) -> Value {
        let Ok(tlvs) = crate::tlv::parse_simple(value) else {
            return Value::Raw(value.to_vec());
        };
        Value::Parts(
            self.parts
                .iter()
                .map(|part| {
                    tlvs.iter()
                        .find(|(t, _)| *t == part.tag)
                        .map_or(Value::Text(String::new()), |(_, v)| part.read(v).value)
                })
                .collect(),
        )
    }
}

/// Encodes `text` as a plain item of `file`, padded to its length (V2.0 notice §7: `an`
/// right-padded with `00`, `cn` with `F`), after the checks of its kind.
fn encode_plain(file: &FileSpec, item: &ItemSpec, text: &str) -> Result<Vec<u8>, AreaError> {
    let bad = |reason: String| AreaError::invalid(file, item, reason);
    if text.contains(['|', '$', PART_SEPARATOR]) {
        return Err(bad(format!(
            "{text:?} contains a separator of the file-address syntax (| $ ^)"
        )));
    }
    let digits = |n: usize, what: &str| -> Result<(), AreaError> {
        if text.len() == n && text.bytes().all(|b| b.is_ascii_digit()) {
            Ok(())
        } else {
            Err(bad(format!("{text:?} is not {what} ({n} digits)")))
        }
    };
    if !text.is_empty() {
        match item.kind {
            ValueKind::Code(table) if table.meaning(text).is_none() => {
                return Err(bad(format!(
                    "{text:?} is not a code of {} {} ({})",
                    table.source,
                    table.title,
                    table.list()
                )));
            }
            ValueKind::Date => {
                digits(8, "a date YYYYMMDD")?;
                crate::data::BcdDate::parse(text)
                    .map_err(|e| bad(format!("{text:?} is not a date: {e}")))?;
            }
            ValueKind::DateTime => digits(14, "a time YYYYMMDDhhmmss")?,
            ValueKind::Region => digits(6, "a region code")?,
            ValueKind::Months => digits(3, "a number of months")?,
            ValueKind::YearMonth => {
                digits(6, "a month YYYYMM")?;
                if !matches!(text.get(4..), Some(m) if ("01"..="12").contains(&m)) {
                    return Err(bad(format!("{text:?} is not a month YYYYMM (month 01-12)")));
                }
            }
            ValueKind::Year => digits(4, "a year YYYY")?,
            ValueKind::Amount if !text.bytes().all(|b| b.is_ascii_digit()) => {
                return Err(bad(format!("{text:?} is not an amount in fen (digits)")));
            }
            _ => {}
        }
    }
    let field = "item";
    let result = match item.format {
        Format::An => crate::codec::encode_an(field, text, item.len),
        Format::AnGbk => crate::codec::to_gbk(field, text)
            .and_then(|g| crate::codec::encode_gbk(field, &g, item.len)),
        Format::Cn => crate::codec::encode_cn(field, text, item.len),
        Format::B => {
            let bytes = hex::decode(text.trim())
                .map_err(|_| bad(format!("{text:?} is not hex (a b item is given in hex)")))?;
            crate::codec::encode_b(field, &bytes, item.len)
        }
    };
    result.map_err(|e| match e {
        crate::data::DataError::Invalid { reason, .. } => bad(reason),
        other => bad(other.to_string()),
    })
}

/// Splits the text form of parts (`a^b^c^`) into exactly `n` parts (missing trailing parts are
/// empty).
fn split_parts<'t>(
    file: &FileSpec,
    item: &ItemSpec,
    text: &'t str,
    n: usize,
) -> Result<Vec<&'t str>, AreaError> {
    let body = text.strip_suffix(PART_SEPARATOR).unwrap_or(text);
    let mut parts: Vec<&str> = body.split(PART_SEPARATOR).collect();
    if parts.len() > n {
        return Err(AreaError::invalid(
            file,
            item,
            format!("{} parts given, the item has {n}", parts.len()),
        ));
    }
    parts.resize(n, "");
    Ok(parts)
}

impl FileSpec {
    /// Encodes the text form of `item`'s value (a B-TLV group: its parts separated by `^`) as
    /// the record value written to the card, padded to the item's length.
    pub fn encode_item(&self, item: &ItemSpec, text: &str) -> Result<Vec<u8>, AreaError> {
        if !item.is_group() {
            return encode_plain(self, item, text);
        }
        let parts = split_parts(self, item, text, item.parts.len())?;
        let mut out = Vec::with_capacity(item.len);
        for (part, t) in item.parts.iter().zip(parts) {
            // a part's error names its group too (DF06's C3-C5 share their parts)
            let v = encode_plain(self, part, t).map_err(|e| match e {
                AreaError::Invalid {
                    file,
                    item: p,
                    reason,
                } => AreaError::Invalid {
                    file,
                    item: format!("{} {p}", item.label()),
                    reason,
                },
                other => other,
            })?;
            out.extend(crate::tlv::simple(part.tag, &v));
        }
        if out.len() != item.len {
            return Err(AreaError::invalid(
                self,
                item,
                format!(
                    "the parts make {} bytes, the group has {}",
                    out.len(),
                    item.len
                ),
            ));
        }
        Ok(out)
    }

    /// Encodes the text form of a cyclic record (its fields separated by `^`) as the record,
    /// each field padded to its length.
    pub fn encode_record(&self, text: &str) -> Result<Vec<u8>, AreaError> {
        let whole = ItemSpec {
            field: Cow::Borrowed("record"),
            name_zh: self.name_zh.clone(),
            ..it(0, "", "", "record", Format::B, self.record_len())
        };
        let fields = split_parts(self, &whole, text, self.items.len())?;
        let mut out = Vec::with_capacity(self.record_len());
        for (item, t) in self.items.iter().zip(fields) {
            out.extend(encode_plain(self, item, t)?);
        }
        Ok(out)
    }

    /// Decodes a cyclic record into its fields.
    pub fn read_record(&self, record: &[u8]) -> Value {
        let mut at = 0;
        let mut parts = Vec::with_capacity(self.items.len());
        for item in self.items.iter() {
            let Some(v) = record.get(at..at + item.len) else {
                return Value::Raw(record.to_vec());
            };
            parts.push(item.read(v).value);
            at += item.len;
        }
        Value::Parts(parts)
    }

    /// The item with `tag`, or [`AreaError::UnknownTag`] naming the file's tags.
    pub fn require_item(&self, tag: u8) -> Result<&ItemSpec, AreaError> {
        self.item(tag).ok_or_else(|| AreaError::UnknownTag {
            file: self.id.to_string(),
            tag,
            known: self
                .items
                .iter()
                .map(|i| format!("{:02X}", i.tag))
                .collect::<Vec<_>>()
                .join(" "),
        })
    }
}

impl FileSpec {
    /// The position of the field that orders a cyclic file's records (\[design\] D23): the
    /// first date or time field (就业起始日期, 核准日期), or the transaction serial for files
    /// without one (DF04 EF15). `None` for other files.
    fn order_field(&self) -> Option<usize> {
        if !self.structure.is_cyclic() {
            return None;
        }
        self.items
            .iter()
            .position(|i| matches!(i.kind, ValueKind::Date | ValueKind::DateTime))
            .or_else(|| self.items.iter().position(|i| i.format == Format::B))
    }

    /// The bytes of a cyclic record's order field.
    fn order_key<'r>(&self, record: &'r [u8]) -> Option<&'r [u8]> {
        let index = self.order_field()?;
        let start: usize = self.items.iter().take(index).map(|i| i.len).sum();
        let item = self.items.get(index)?;
        let key = record.get(start..start + item.len)?;
        // an unwritten field (all F or all 0) orders nothing
        (!blank(key)).then_some(key)
    }

    /// Checks that `record` may be appended after `newest` (the file's record 1): its order
    /// field may not be earlier (\[design\] D23). Dates and serials compare as big-endian
    /// bytes, which is their order.
    pub fn check_order(&self, newest: Option<&[u8]>, record: &[u8]) -> Result<(), AreaError> {
        let (Some(newest), Some(new_key)) = (newest, self.order_key(record)) else {
            return Ok(());
        };
        let Some(old_key) = self.order_key(newest) else {
            return Ok(());
        };
        if new_key < old_key {
            let name = self
                .order_field()
                .and_then(|i| self.items.get(i))
                .map(|i| i.label())
                .unwrap_or_default();
            return Err(AreaError::OutOfOrder {
                file: self.label(),
                reason: format!(
                    "its {name} {} is earlier than the newest record's {}: records are appended newest last",
                    hex::encode_upper(new_key),
                    hex::encode_upper(old_key)
                ),
            });
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Regional extensions (§6)

/// A regional DF (from `DF0A`, §6 "DF 应用文件扩充规则").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExtensionDf {
    /// The file identifier, `DF0A` or later.
    pub df: String,
    /// The DF name SELECT takes, hex (5-16 bytes).
    pub df_name: String,
    /// What the DF holds.
    pub name: String,
}

/// An item of a regional file, or a regional item of a national file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExtensionItem {
    /// The record identifier, hex (`00` for a field of a cyclic record).
    #[serde(default)]
    pub tag: String,
    /// What the item holds.
    pub name: String,
    /// `an`, `gbk` (an holding GBK text), `cn` or `b`.
    pub format: String,
    /// The value length in bytes.
    pub len: usize,
    /// How many records carry it (default 1).
    #[serde(default = "one")]
    pub occurs: u8,
}

fn one() -> u8 {
    1
}

/// A regional EF (from `EF0C`, §6 "EF 基本文件扩充规则") in SSSE, a national DF or a regional
/// DF.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExtensionFile {
    /// The file name: `DF02EF0C`, `DF0AEF05` (a regional DF's EFs may use any identifier).
    pub file: String,
    /// What the file holds.
    pub name: String,
    /// The structure.
    pub structure: Structure,
    /// The read rule: `free`, `PIN`, `RK1DF02`, `PIN or RK1DF02`, `PIN & RK1DF02`.
    pub read: String,
    /// The write rule: an update key role, or `internal`.
    pub write: String,
    /// The items (record files) or fields (cyclic files).
    #[serde(default)]
    pub items: Vec<ExtensionItem>,
}

/// Regional items added to a national record file (§6 "数据项扩充规则": not in SSSE's files,
/// not in cyclic files).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExtensionItems {
    /// The national file (`DF01EF05`).
    pub file: String,
    /// The added items.
    pub items: Vec<ExtensionItem>,
}

/// What a region adds to the notice's file structure (§6), declared as JSON in a card image
/// and given to the library the same way.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Extensions {
    /// Regional DFs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dfs: Vec<ExtensionDf>,
    /// Regional EFs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<ExtensionFile>,
    /// Regional items of national files.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub items: Vec<ExtensionItems>,
}

impl Extensions {
    /// Whether nothing is declared.
    pub fn is_empty(&self) -> bool {
        self.dfs.is_empty() && self.files.is_empty() && self.items.is_empty()
    }
}

/// The file structure a card has: the national table and a region's extensions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AreaProfile {
    dfs: Vec<DfSpec>,
    extensions: Extensions,
}

impl Default for AreaProfile {
    fn default() -> Self {
        AreaProfile::national()
    }
}

fn ext_err(what: impl Into<String>) -> AreaError {
    AreaError::Extension(what.into())
}

fn ext_item(file: &str, e: &ExtensionItem, cyclic: bool) -> Result<ItemSpec, AreaError> {
    let tag = if e.tag.trim().is_empty() {
        0
    } else {
        u8::from_str_radix(e.tag.trim(), 16)
            .map_err(|_| ext_err(format!("{file}: tag {:?} is not one hex byte", e.tag)))?
    };
    if cyclic != (tag == 0) || tag == 0xFF {
        return Err(ext_err(format!(
            "{file}: tag {:?}: record items need a tag 01-FE, cyclic record fields none",
            e.tag
        )));
    }
    let format = match e.format.trim().to_ascii_lowercase().as_str() {
        "an" => Format::An,
        "gbk" => Format::AnGbk,
        "cn" => Format::Cn,
        "b" => Format::B,
        other => {
            return Err(ext_err(format!(
                "{file} {:?}: format {other:?} (an, gbk, cn or b)",
                e.name
            )))
        }
    };
    if e.len == 0 || e.len > 0xFE || e.occurs == 0 {
        return Err(ext_err(format!(
            "{file} {:?}: length {} and occurrences {} (1-254 bytes, at least once)",
            e.name, e.len, e.occurs
        )));
    }
    Ok(ItemSpec {
        tag,
        name_zh: Cow::Owned(e.name.clone()),
        name: Cow::Owned(e.name.clone()),
        field: Cow::Owned(e.name.clone()),
        format,
        len: e.len,
        occurs: e.occurs,
        parts: Cow::Borrowed(&[]),
        kind: if format == Format::B {
            ValueKind::Binary
        } else {
            ValueKind::Text
        },
        legacy_len: 0,
    })
}

impl AreaProfile {
    /// The notice's file structure, without extensions.
    pub fn national() -> AreaProfile {
        AreaProfile {
            dfs: NATIONAL.to_vec(),
            extensions: Extensions::default(),
        }
    }

    /// The national structure with a region's extensions, checked against §6: regional DFs
    /// from `DF0A`, regional EFs of SSSE and the national DFs from `EF0C`, no identifier, SFI,
    /// DF name or item tag used twice, no items added to SSSE's files or to cyclic files.
    pub fn with_extensions(extensions: &Extensions) -> Result<AreaProfile, AreaError> {
        let mut dfs = NATIONAL.to_vec();
        for d in &extensions.dfs {
            let id =
                DfId::parse(&d.df).ok_or_else(|| ext_err(format!("{:?} is not a DF", d.df)))?;
            match id {
                DfId::Df(fid) if fid >= 0xDF0A => {}
                _ => {
                    return Err(ext_err(format!(
                        "{}: regional DFs begin at DF0A (§6)",
                        d.df
                    )))
                }
            }
            let name = hex::decode(d.df_name.trim())
                .map_err(|_| ext_err(format!("{}: df_name is not hex", d.df)))?;
            if !(5..=16).contains(&name.len()) {
                return Err(ext_err(format!("{}: a DF name has 5 to 16 bytes", d.df)));
            }
            if dfs
                .iter()
                .any(|x| x.id == id || x.df_name.as_ref() == name.as_slice())
            {
                return Err(ext_err(format!(
                    "{}: identifier or DF name used twice",
                    d.df
                )));
            }
            dfs.push(DfSpec {
                id,
                df_name: Cow::Owned(name),
                name_zh: Cow::Owned(d.name.clone()),
                name: Cow::Owned(d.name.clone()),
                area: Area::Regional,
                informative: false,
                files: Cow::Owned(Vec::new()),
            });
        }
        for f in &extensions.files {
            let id = FileId::parse(&f.file)
                .ok_or_else(|| ext_err(format!("{:?} is not a file name like DF02EF0C", f.file)))?;
            let df = dfs
                .iter_mut()
                .find(|d| d.id == id.df)
                .ok_or_else(|| ext_err(format!("{}: no DF {}", f.file, id.df)))?;
            if df.area != Area::Regional && id.ef < 0xEF0C {
                return Err(ext_err(format!(
                    "{}: regional EFs begin at EF0C (§6)",
                    f.file
                )));
            }
            let sfi = (id.ef & 0x1F) as u8;
            if !(1..=30).contains(&sfi) || df.files.iter().any(|x| x.id == id || x.sfi == sfi) {
                return Err(ext_err(format!(
                    "{}: identifier or SFI {sfi:02X} used twice in {}",
                    f.file, id.df
                )));
            }
            let cyclic = f.structure.is_cyclic();
            let items = f
                .items
                .iter()
                .map(|i| ext_item(&f.file, i, cyclic))
                .collect::<Result<Vec<_>, _>>()?;
            match f.structure {
                Structure::Cyclic {
                    record_len,
                    min_records,
                } => {
                    let sum: usize = items.iter().map(|i| i.len).sum();
                    if sum != record_len || min_records == 0 || record_len > 0xFE {
                        return Err(ext_err(format!(
                            "{}: the fields make {sum} bytes, the record has {record_len} (and at least one record)",
                            f.file
                        )));
                    }
                }
                Structure::Transparent { size } if size == 0 || size > 0x7FFF => {
                    return Err(ext_err(format!("{}: size {size}", f.file)))
                }
                _ => {}
            }
            check_tags(&f.file, &items)?;
            let read: ReadRule = f
                .read
                .parse()
                .map_err(|e| ext_err(format!("{}: read {e}", f.file)))?;
            let write: WriteRule = f
                .write
                .parse()
                .map_err(|e| ext_err(format!("{}: write {e}", f.file)))?;
            // a regional EF of SSSE is guarded by SSSE's keys, those of a DF by area keys
            let write_key = match write {
                WriteRule::Key(k) => Some(k),
                WriteRule::Internal => None,
            };
            for k in [read.key(), write_key].into_iter().flatten() {
                if (id.df == DfId::Ssse) != k.area_df().is_none() {
                    return Err(ext_err(format!(
                        "{}: {k} does not live in {} (SSSE's files take SSSE's keys, a DF's files area keys)",
                        f.file, id.df
                    )));
                }
            }
            df.files.to_mut().push(FileSpec {
                id,
                sfi,
                name_zh: Cow::Owned(f.name.clone()),
                name: Cow::Owned(f.name.clone()),
                field: Cow::Owned(id.to_string()),
                structure: f.structure,
                read,
                write,
                status: FileStatus::Regional,
                items: Cow::Owned(items),
            });
        }
        for add in &extensions.items {
            let id = FileId::parse(&add.file)
                .ok_or_else(|| ext_err(format!("{:?} is not a file name", add.file)))?;
            if id.df == DfId::Ssse {
                return Err(ext_err(format!(
                    "{}: SSSE's files take no more items (§6)",
                    add.file
                )));
            }
            let file = dfs
                .iter_mut()
                .find(|d| d.id == id.df)
                .and_then(|d| d.files.to_mut().iter_mut().find(|x| x.id == id))
                .ok_or_else(|| ext_err(format!("{}: no such file", add.file)))?;
            if !matches!(file.structure, Structure::Variable | Structure::Fixed) {
                return Err(ext_err(format!(
                    "{}: only record files take more items; cyclic files take more records (§6)",
                    add.file
                )));
            }
            for i in &add.items {
                file.items.to_mut().push(ext_item(&add.file, i, false)?);
            }
            check_tags(&add.file, &file.items)?;
        }
        Ok(AreaProfile {
            dfs,
            extensions: extensions.clone(),
        })
    }

    /// The extensions this profile was built with.
    pub fn extensions(&self) -> &Extensions {
        &self.extensions
    }

    /// Every DF: SSSE, the national areas, DF05, DF06, then the regional DFs.
    pub fn dfs(&self) -> &[DfSpec] {
        &self.dfs
    }

    /// The DF `id`.
    pub fn df(&self, id: DfId) -> Option<&DfSpec> {
        self.dfs.iter().find(|d| d.id == id)
    }

    /// The DF whose DF name (AID or label) is `name`.
    pub fn df_by_name(&self, name: &[u8]) -> Option<&DfSpec> {
        self.dfs.iter().find(|d| d.df_name.as_ref() == name)
    }

    /// The EF `id`.
    pub fn file(&self, id: FileId) -> Option<&FileSpec> {
        self.df(id.df).and_then(|d| d.file(id.ef))
    }

    /// The EF `id`, or [`AreaError::UnknownFile`].
    pub fn require_file(&self, id: FileId) -> Result<&FileSpec, AreaError> {
        self.file(id)
            .ok_or_else(|| AreaError::UnknownFile(id.to_string()))
    }

    /// The DF of an area (a regional area has none).
    pub fn area(&self, area: Area) -> Option<&DfSpec> {
        area.df().and_then(|id| self.df(id))
    }
}

fn check_tags(file: &str, items: &[ItemSpec]) -> Result<(), AreaError> {
    let mut tags: Vec<u8> = items.iter().map(|i| i.tag).filter(|t| *t != 0).collect();
    let n = tags.len();
    tags.sort_unstable();
    tags.dedup();
    if tags.len() != n {
        return Err(ext_err(format!("{file}: a tag is used twice")));
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn file(name: &str) -> &'static FileSpec {
        national_file(FileId::parse(name).unwrap()).unwrap()
    }

    /// §5.1 table 2 and tables 3-8: the DFs, their AIDs and how many EFs each has.
    #[test]
    fn dfs_and_files_of_the_notice() {
        let expected: &[(u16, &str, usize)] = &[
            (0xDF01, "D15600000500", 12),
            (0xDF02, "D15600000501", 6),
            (0xDF03, "D15600000502", 8),
            (0xDF04, "D15600000503", 4),
            (0xDF07, "D15600000504", 3),
        ];
        for &(fid, aid, files) in expected {
            let d = national_df(DfId::Df(fid)).unwrap();
            assert_eq!(hex::encode_upper(&d.df_name), aid);
            assert_eq!(d.files.len(), files, "{fid:04X}");
            assert!(!d.informative);
        }
        let health = national_df(DfId::Df(0xDF05)).unwrap();
        assert!(health.informative);
        let (label, _, _) = encoding_rs::GBK.encode("生命与健康信息区");
        assert_eq!(health.df_name.as_ref(), &label[..]);
        let assistance = national_df(DfId::Df(0xDF06)).unwrap();
        assert!(assistance.informative);
        let (label, _, _) = encoding_rs::GBK.encode("救助与优抚信息区");
        assert_eq!(assistance.df_name.as_ref(), &label[..]);
        assert_eq!(assistance.files.len(), 2);
        assert_eq!(Area::from_name("assistance"), Some(Area::Assistance));
        assert_eq!(Area::Assistance.df(), Some(DfId::Df(0xDF06)));
        assert!(!Area::NATIONAL.contains(&Area::Assistance));
        assert_eq!(national_df(DfId::Ssse).unwrap().files.len(), 4);
        assert_eq!(Area::from_name("Employment"), Some(Area::Employment));
        assert_eq!(Area::Medical.df(), Some(DfId::Df(0xDF04)));
    }

    /// Table 9's B-TLV lengths are their parts with their headers; a cyclic record is its
    /// fields; SFIs and tags are unique; every key a file names lives in the file's DF.
    #[test]
    fn table_is_consistent() {
        for d in &NATIONAL {
            let mut sfis: Vec<u8> = d.files.iter().map(|f| f.sfi).collect();
            sfis.sort_unstable();
            sfis.dedup();
            assert_eq!(sfis.len(), d.files.len(), "{}", d.id);
            for f in d.files.iter() {
                assert_eq!(f.id.df, d.id);
                assert_eq!(u16::from(f.sfi), f.id.ef & 0x1F, "{}", f.id);
                for k in d.file_keys() {
                    let home = match d.id {
                        DfId::Ssse => None,
                        DfId::Df(fid) => Some(fid),
                    };
                    assert_eq!(k.area_df(), home, "{} names {k}", f.id);
                }
                match f.structure {
                    Structure::Cyclic {
                        record_len,
                        min_records,
                    } => {
                        let sum: usize = f.items.iter().map(|i| i.len).sum();
                        assert_eq!(sum, record_len, "{}", f.id);
                        assert!(min_records >= 4);
                        assert!(f.items.iter().all(|i| i.tag == 0));
                    }
                    Structure::Transparent { .. } => assert!(f.items.is_empty()),
                    Structure::Variable | Structure::Fixed => {
                        let mut tags: Vec<u8> = f.items.iter().map(|i| i.tag).collect();
                        tags.sort_unstable();
                        tags.dedup();
                        assert_eq!(tags.len(), f.items.len(), "{}", f.id);
                    }
                }
                for i in f.items.iter() {
                    assert!(!i.field.is_empty() && !i.name_zh.is_empty());
                    if i.is_group() {
                        let sum: usize = i.parts.iter().map(|p| p.len + 2).sum();
                        assert_eq!(sum, i.len, "{} {:02X}", f.id, i.tag);
                        // repeated: by occurrences (40:1-3), or by tags (DF06 C3-C5)
                        let same = f.items.iter().filter(|o| o.parts == i.parts).count();
                        assert!(i.occurs >= 2 || same >= 2, "{} {:02X}", f.id, i.tag);
                    }
                    assert_ne!(i.legacy_len, i.len);
                }
            }
        }
    }

    /// Rows of tables 4-9 as the notice prints them.
    #[test]
    fn rows_of_the_notice() {
        let f = file("DF01EF15");
        let degree = f.item(0x40).unwrap();
        assert_eq!(
            (degree.len, degree.occurs, degree.parts.len()),
            (0x34, 3, 3)
        );
        assert_eq!(f.write, WriteRule::Key(KeyRole::Uk6Df01));
        let f = file("DF02EF05");
        assert_eq!(f.item(0x43).unwrap().len, 0x6C);
        assert_eq!(f.item(0x44).unwrap().len, 0x65);
        assert_eq!(f.status, FileStatus::Preset);
        let f = file("DF02EF07");
        assert_eq!(
            f.structure,
            Structure::Cyclic {
                record_len: 0x55,
                min_records: 4
            }
        );
        assert_eq!(f.write, WriteRule::Key(KeyRole::Uk3Df02));
        assert_eq!(f.read, ReadRule::PinOrKey(KeyRole::Rk1Df02));
        assert_eq!(file("DF03EF05").read, ReadRule::PinOrKey(KeyRole::Rk2Df03));
        assert_eq!(file("DF03EF19").structure, Structure::Fixed);
        assert_eq!(file("DF04EF06").read, ReadRule::PinAndKey(KeyRole::Rk1Df04));
        let tx = file("DF04EF08");
        assert_eq!((tx.read, tx.write), (ReadRule::Pin, WriteRule::Internal));
        assert_eq!(
            tx.structure,
            Structure::Cyclic {
                record_len: 0x1C,
                min_records: 30
            }
        );
        assert_eq!(
            file("DF04EF15").structure,
            Structure::Cyclic {
                record_len: 3,
                min_records: 8
            }
        );
        assert_eq!(file("DF07EF06").read, ReadRule::Key(KeyRole::Rk2Df07));
        assert_eq!(
            file("DF01EF16").structure,
            Structure::Transparent { size: 0x128 }
        );
        assert_eq!(file("DF01EF16").read, ReadRule::Free);
        assert_eq!(
            file("SSSEEF08").structure,
            Structure::Transparent { size: 0x1000 }
        );
        let ef06 = file("SSSEEF06");
        assert_eq!(
            ef06.read_rule(Generation::V3),
            ReadRule::Key(KeyRole::Rkssse)
        );
        assert_eq!(ef06.read_rule(Generation::V2), ReadRule::Free);
        assert_eq!(ef06.items_on(Generation::V1).count(), 6);
        assert_eq!(ef06.items_on(Generation::V2).count(), 7);
        assert_eq!(
            file("DF01EF05").item(0x20).unwrap().codes().unwrap().source,
            "V2 table 16"
        );
    }

    /// Appendix B tables B6-B8 (DF06): rules, items, the B-TLV records of table B7, and the
    /// value kinds of B4.2 (amounts in fen, months YYYYMM, years YYYY, codes of B26/B27).
    #[test]
    fn df06_rows_of_tables_b6_to_b8() {
        let f = file("DF06EF05");
        assert_eq!(
            (f.sfi, f.structure, f.read, f.write),
            (
                0x05,
                Structure::Variable,
                ReadRule::Key(KeyRole::Rk1Df06),
                WriteRule::Key(KeyRole::Uk1Df06)
            )
        );
        let tags: Vec<u8> = f.items.iter().map(|i| i.tag).collect();
        assert_eq!(tags, [0xC0, 0xC2, 0xC3, 0xC4, 0xC5]);
        assert_eq!(
            (f.item(0xC0).unwrap().len, f.item(0xC2).unwrap().len),
            (0x46, 9)
        );
        let record = f.item(0xC4).unwrap();
        assert_eq!(record.len, 0x1A);
        let parts: Vec<(u8, usize)> = record.parts.iter().map(|p| (p.tag, p.len)).collect();
        assert_eq!(
            parts,
            [(0xE3, 1), (0xE4, 4), (0xE5, 4), (0xE6, 4), (0xE7, 3)]
        );
        let v = f
            .encode_item(record, "02^20230115^20240115^35000^202406^")
            .unwrap();
        assert_eq!(v.len(), 0x1A);
        assert_eq!(&v[..3], &[0xE3, 0x01, 0x02]);
        assert_eq!(&v[15..21], &[0xE6, 0x04, 0x35, 0x00, 0x0F, 0xFF]);
        assert_eq!(&v[21..], &[0xE7, 0x03, 0x20, 0x24, 0x06]);
        let r = record.read(&v);
        assert_eq!(r.value.text(), "02^20230115^20240115^35000^202406^");
        let bad = |item: &ItemSpec, text: &str| f.encode_item(item, text).unwrap_err().to_string();
        let e = bad(record, "05^^^^^");
        assert!(
            e.contains("assistance_2") && e.contains("V2 table B26"),
            "{e}"
        );
        let e = bad(record, "01^^^^202413^");
        assert!(e.contains("not a month YYYYMM"), "{e}");
        let e = bad(record, "01^^^12.5^^");
        assert!(e.contains("amount in fen"), "{e}");
        let e = bad(f.item(0xC0).unwrap(), &"救".repeat(36));
        assert!(
            e.contains("assistance_body") && e.contains("at most 70"),
            "{e}"
        );

        let f = file("DF06EF06");
        assert_eq!(
            (f.sfi, f.read, f.write),
            (
                0x06,
                ReadRule::Key(KeyRole::Rk1Df06),
                WriteRule::Key(KeyRole::Uk2Df06)
            )
        );
        assert_eq!(f.items.len(), 28);
        assert_eq!(f.items.first().unwrap().tag, 0xC6);
        assert_eq!(f.items.last().unwrap().tag, 0xE2);
        let row = |tag: u8| {
            let i = f.item(tag).unwrap();
            (i.format, i.len, i.kind)
        };
        assert_eq!(row(0xC6), (AnGbk, 0x46, ValueKind::Text));
        assert_eq!(row(0xC8), (An, 9, ValueKind::Text));
        assert_eq!(row(0xCC), (Cn, 4, ValueKind::Amount));
        assert_eq!(row(0xCD), (Cn, 2, ValueKind::Year));
        assert_eq!(row(0xD2), (Cn, 3, ValueKind::YearMonth));
        assert_eq!(row(0xDB), (Cn, 4, ValueKind::Amount));
        assert_eq!(row(0xE1), (Cn, 2, ValueKind::Year));
        let code = f.item(0xD8).unwrap();
        assert_eq!(code.codes().unwrap().source, "V2 table B27");
        assert_eq!(f.encode_item(code, "04").unwrap(), [0x04]);
        assert_eq!(code.read(&[0x04]).meaning, Some("伤残抚恤金和伤残保健金"));
        assert_eq!(
            f.encode_item(f.item(0xCD).unwrap(), "2024").unwrap(),
            [0x20, 0x24]
        );
        let e = f
            .encode_item(f.item(0xCD).unwrap(), "24")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("paid_year_1") && e.contains("a year YYYY"),
            "{e}"
        );
        // every key a DF06 file names is DF06's
        let df = national_df(DfId::Df(0xDF06)).unwrap();
        assert_eq!(
            df.file_keys(),
            [KeyRole::Rk1Df06, KeyRole::Uk1Df06, KeyRole::Uk2Df06]
        );
    }

    #[test]
    fn names_parse_and_print() {
        for name in ["SSSEEF05", "DF01EF15", "DF0AEF0C"] {
            assert_eq!(FileId::parse(name).unwrap().to_string(), name);
        }
        assert_eq!(
            FileId::parse("df01ef05"),
            Some(FileId::area(0xDF01, 0xEF05))
        );
        for bad in ["", "DF01", "XX01EF05", "DF01EG05", "SSSE05", "DF1EF05"] {
            assert_eq!(FileId::parse(bad), None, "{bad:?}");
        }
        for rule in ["free", "PIN", "RK1DF07", "PIN or RK1DF02", "PIN & RK1DF04"] {
            let r: ReadRule = rule.parse().unwrap();
            assert_eq!(r.to_string(), rule);
        }
        assert!("PIN or XK".parse::<ReadRule>().is_err());
        assert_eq!(
            "internal".parse::<WriteRule>().unwrap(),
            WriteRule::Internal
        );
    }

    #[test]
    fn values_encode_padded_and_read_back() {
        let f = file("DF01EF05");
        let t = f.item(0x20).unwrap();
        assert_eq!(f.encode_item(t, "11").unwrap(), b"11");
        let r = t.read(b"11");
        assert_eq!(r.value, Value::Text("11".into()));
        assert_eq!(r.meaning, Some("本地非农业户口(本地城镇)"));
        let addr = f.item(0x21).unwrap();
        let v = f.encode_item(addr, "北京市东城区").unwrap();
        assert_eq!(v.len(), 0x50);
        assert_eq!(&v[12..], &[0u8; 0x50 - 12][..]);
        assert_eq!(addr.read(&v).value.text(), "北京市东城区");
        let region = f.item(0x0E).unwrap();
        assert_eq!(f.encode_item(region, "110101").unwrap(), [0x11, 0x01, 0x01]);
        // a group: 40 = 57 + 58 + 59, each a padded TLV
        let f = file("DF01EF15");
        let g = f.item(0x40).unwrap();
        let v = f.encode_item(g, "401^080901^清华大学^").unwrap();
        assert_eq!(v.len(), 0x34);
        assert_eq!(&v[..5], &[0x57, 0x03, b'4', b'0', b'1']);
        assert_eq!(&v[5..10], &[0x58, 0x03, 0x08, 0x09, 0x01]);
        assert_eq!(g.read(&v).value.text(), "401^080901^清华大学^");
        // a cyclic record: its fields, no tags
        let f = file("DF02EF07");
        let rec = f
            .encode_record("2020100^20200301^20231231^某某有限公司^")
            .unwrap();
        assert_eq!(rec.len(), 0x55);
        assert_eq!(&rec[7..11], &[0x20, 0x20, 0x03, 0x01]);
        assert_eq!(
            f.read_record(&rec).text(),
            "2020100^20200301^20231231^某某有限公司^"
        );
        // a blank value reads as empty
        assert_eq!(t.read(&[0, 0]).value, Value::Text(String::new()));
        assert!(region.read(&[0xFF; 3]).value.is_empty());
    }

    #[test]
    fn bad_values_name_the_item() {
        let f = file("DF01EF05");
        let msg = |tag: u8, text: &str| {
            f.encode_item(f.item(tag).unwrap(), text)
                .unwrap_err()
                .to_string()
        };
        let e = msg(0x20, "99");
        assert!(
            e.contains("DF01EF05 20 household_type (户口类别)") && e.contains("V2 table 16"),
            "{e}"
        );
        let e = msg(0x20, "110");
        assert!(e.contains("household_type"), "{e}");
        let e = msg(0x0E, "11010A");
        assert!(
            e.contains("household_region") && e.contains("region code"),
            "{e}"
        );
        let long = "很".repeat(41);
        let e = msg(0x21, &long);
        assert!(
            e.contains("household_address") && e.contains("82 bytes, at most 80"),
            "{e}"
        );
        let e = msg(0x21, "a|b");
        assert!(e.contains("separator"), "{e}");
        let f = file("DF03EF07");
        let e = f
            .encode_item(f.item(0x6C).unwrap(), "20230231")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("retirement_date") && e.contains("not a date"),
            "{e}"
        );
        let f = file("DF01EF15");
        let e = f
            .encode_item(f.item(0x40).unwrap(), "1^2^3^4^")
            .unwrap_err()
            .to_string();
        assert!(e.contains("4 parts given, the item has 3"), "{e}");
        let e = file("DF01EF05").require_item(0x42).unwrap_err().to_string();
        assert!(
            e.contains("no data item with tag 42") && e.contains("20 21 0E"),
            "{e}"
        );
        let f = file("DF04EF08");
        let e = f.encode_record("zz^1^^^^^^").unwrap_err().to_string();
        assert!(e.contains("serial") && e.contains("hex"), "{e}");
    }

    /// Appendix C: a 1.0 record rewritten with the 2.0 item ends in `EE`; without it the
    /// record still holds the 1.0 definition.
    #[test]
    fn appendix_c_compatibility() {
        let f = file("DF01EF09");
        let item = f.item(0x32).unwrap();
        let r = item.read(&[b'1', b'1', 0xEE]);
        assert_eq!(
            (r.value.text(), r.compat),
            ("11".to_owned(), Compat::Rewritten)
        );
        assert_eq!(r.meaning, Some("国家公务员"));
        let r = item.read(b"123");
        assert_eq!(r.compat, Compat::OldDefinition);
        assert_eq!(r.value, Value::Raw(b"123".to_vec()));
        let f = file("DF04EF05");
        let region = f.item(0x84).unwrap();
        let mut old = vec![0x11, 0x01, 0x01];
        old.resize(0x46, 0xEE);
        let r = region.read(&old);
        assert_eq!(
            (r.value.text(), r.compat),
            ("110101".to_owned(), Compat::Rewritten)
        );
        assert_eq!(item.read(b"11").compat, Compat::Current);
    }

    #[test]
    fn cyclic_records_keep_their_order() {
        let f = file("DF02EF07");
        let older = f.encode_record("1^20100101^20151231^A^").unwrap();
        let newer = f.encode_record("1^20160101^20191231^B^").unwrap();
        f.check_order(Some(&older), &newer).unwrap();
        f.check_order(None, &older).unwrap();
        let e = f.check_order(Some(&newer), &older).unwrap_err().to_string();
        assert!(e.contains("start_date") && e.contains("earlier"), "{e}");
        let undated = f.encode_record("1^^^C^").unwrap();
        f.check_order(Some(&newer), &undated).unwrap();
        let f = file("DF04EF15");
        let a = f.encode_record("0007^1^").unwrap();
        let b = f.encode_record("0006^2^").unwrap();
        assert!(f.check_order(Some(&a), &b).is_err());
        assert!(f.check_order(Some(&b), &a).is_ok());
    }

    #[test]
    fn regional_extensions_follow_section_6() {
        let json = r#"{
            "dfs": [ { "df": "DF0A", "df_name": "D1560000050A", "name": "本地应用" } ],
            "files": [
                { "file": "DF0AEF05", "name": "本地信息", "structure": { "kind": "variable" },
                  "read": "PIN or RK1DF01", "write": "UK1DF01",
                  "items": [ { "tag": "01", "name": "local_code", "format": "an", "len": 4 } ] },
                { "file": "DF02EF0C", "name": "本地记录",
                  "structure": { "kind": "cyclic", "record_len": 8, "min_records": 6 },
                  "read": "PIN", "write": "UK3DF02",
                  "items": [ { "name": "date", "format": "cn", "len": 4 },
                             { "name": "amount", "format": "b", "len": 4 } ] }
            ],
            "items": [ { "file": "DF01EF05", "items": [ { "tag": "C1", "name": "street", "format": "gbk", "len": 20 } ] } ]
        }"#;
        let ext: Extensions = serde_json::from_str(json).unwrap();
        let p = AreaProfile::with_extensions(&ext).unwrap();
        let local = p.file(FileId::parse("DF0AEF05").unwrap()).unwrap();
        assert_eq!(local.read, ReadRule::PinOrKey(KeyRole::Rk1Df01));
        assert_eq!(
            p.df_by_name(&hex::decode("D1560000050A").unwrap())
                .unwrap()
                .area,
            Area::Regional
        );
        let rec = p.file(FileId::parse("DF02EF0C").unwrap()).unwrap();
        assert_eq!(rec.record_len(), 8);
        assert_eq!(
            p.file(FileId::area(0xDF01, 0xEF05))
                .unwrap()
                .item(0xC1)
                .unwrap()
                .len,
            20
        );
        assert!(AreaProfile::national()
            .file(FileId::parse("DF02EF0C").unwrap())
            .is_none());
        let refuse = |patch: &str| {
            let ext: Extensions = serde_json::from_str(patch).unwrap();
            AreaProfile::with_extensions(&ext).unwrap_err().to_string()
        };
        assert!(
            refuse(r#"{"dfs":[{"df":"DF09","df_name":"D156000005AA","name":"x"}]}"#)
                .contains("DF0A")
        );
        assert!(refuse(r#"{"files":[{"file":"DF02EF08","name":"x","structure":{"kind":"variable"},"read":"PIN","write":"UK1DF02"}]}"#).contains("EF0C"));
        assert!(refuse(r#"{"files":[{"file":"DF01EF16","name":"x","structure":{"kind":"variable"},"read":"PIN","write":"UK1DF01"}]}"#).contains("twice"));
        assert!(refuse(r#"{"items":[{"file":"SSSEEF05","items":[{"tag":"50","name":"x","format":"an","len":1}]}]}"#).contains("SSSE"));
        assert!(refuse(r#"{"items":[{"file":"DF02EF07","items":[{"tag":"50","name":"x","format":"an","len":1}]}]}"#).contains("cyclic"));
        assert!(refuse(r#"{"items":[{"file":"DF01EF05","items":[{"tag":"20","name":"x","format":"an","len":1}]}]}"#).contains("twice"));
        assert!(refuse(r#"{"files":[{"file":"DF02EF0C","name":"x","structure":{"kind":"cyclic","record_len":9,"min_records":4},"read":"PIN","write":"UK1DF02","items":[{"name":"a","format":"an","len":4}]}]}"#).contains("9"));
    }
}
