//! The SSSE files: their identifiers, structures, data items and access rules.
//!
//! Sources: part 6 §6.2 table 4 and the V2.0 notice §5.2 table 3 (the four files of the basic
//! application data area under the SSSE DDF), V2.0 notice §7 table 9 (the data items, their
//! tags, formats and lengths), profile D11 (who may read and write each file).

use crate::{SpecVersion, KEY_RKSSSE, KEY_UKSSSE};

/// The SSSE DDF name `sx1.sh.社会保障` (part 6 table 1, V2.0 notice table 1).
pub const SSSE_NAME: [u8; 15] = [
    0x73, 0x78, 0x31, 0x2E, 0x73, 0x68, 0x2E, 0xC9, 0xE7, 0xBB, 0xE1, 0xB1, 0xA3, 0xD5, 0xCF,
];

/// The MF file identifier (part 5 §6.11.2).
pub const MF_FID: [u8; 2] = [0x3F, 0x00];

/// The social security card application identifier inside the card identification code,
/// `D1 56 00 00 05` (V2.0 notice §8.1.1.1, table 10).
pub const SSC_AID: [u8; 5] = [0xD1, 0x56, 0x00, 0x00, 0x05];

/// Who may perform an operation on a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// No condition.
    Free,
    /// A successful EXTERNAL AUTHENTICATE with the key of this identifier in the current DF.
    Key(u8),
}

/// How a file is structured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Structure {
    /// Variable-length records, each one SIMPLE-TLV data item (profile D16).
    Records,
    /// A transparent file of this many bytes.
    Transparent(usize),
}

/// The static description of one SSSE elementary file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EfSpec {
    /// File identifier.
    pub fid: u16,
    /// Short file identifier.
    pub sfi: u8,
    /// Structure.
    pub structure: Structure,
    /// Read condition.
    pub read: Access,
    /// Write condition.
    pub write: Access,
}

/// The SSSE elementary files present on a card of `version`.
///
/// EF05 (issuer data) and EF06 (cardholder data) are variable-length record files on every
/// card. EF07 (fingerprint, `0x300` bytes) and EF08 (photo, `0x1000` bytes) are transparent
/// files of 2.0 and 3.0 cards (V2.0 notice table 3 and table 9). Reads of EF05 are free;
/// EF06 is free on 1.0/2.0 cards and needs RKSSSE on 3.0 cards (reader-interface
/// specification §10.2); EF07/EF08 need RKSSSE; all writes need UKSSSE (profile D11).
pub fn ef_specs(version: SpecVersion) -> Vec<EfSpec> {
    let mut v = vec![
        EfSpec {
            fid: 0xEF05,
            sfi: 0x05,
            structure: Structure::Records,
            read: Access::Free,
            write: Access::Key(KEY_UKSSSE),
        },
        EfSpec {
            fid: 0xEF06,
            sfi: 0x06,
            structure: Structure::Records,
            read: if version == SpecVersion::V3 {
                Access::Key(KEY_RKSSSE)
            } else {
                Access::Free
            },
            write: Access::Key(KEY_UKSSSE),
        },
    ];
    if version != SpecVersion::V1 {
        v.push(EfSpec {
            fid: 0xEF07,
            sfi: 0x07,
            structure: Structure::Transparent(0x300),
            read: Access::Key(KEY_RKSSSE),
            write: Access::Key(KEY_UKSSSE),
        });
        v.push(EfSpec {
            fid: 0xEF08,
            sfi: 0x08,
            structure: Structure::Transparent(0x1000),
            read: Access::Key(KEY_RKSSSE),
            write: Access::Key(KEY_UKSSSE),
        });
    }
    v
}

/// The format of a data item (V2.0 notice §7).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Compressed numeric, right-padded with `F` nibbles.
    Cn,
    /// Alphanumeric, right-padded with `00`.
    An,
}

/// One data item of the SSSE record files (V2.0 notice table 9).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Item {
    /// Tag, which is also the record identifier (part 3 §5.3.1).
    pub tag: u8,
    /// Format.
    pub format: Format,
    /// Length of the value in bytes.
    pub len: usize,
    /// Name in the notice.
    pub name: &'static str,
}

const fn item(tag: u8, format: Format, len: usize, name: &'static str) -> Item {
    Item {
        tag,
        format,
        len,
        name,
    }
}

/// The data items of SSSE EF05 (issuer data).
pub const EF05_ITEMS: [Item; 7] = [
    item(0x01, Format::Cn, 0x10, "卡的识别码"),
    item(0x02, Format::An, 0x01, "卡的类别"),
    item(0x03, Format::An, 0x04, "规范版本"),
    item(0x04, Format::Cn, 0x0C, "初始化机构编号"),
    item(0x05, Format::Cn, 0x04, "发卡日期"),
    item(0x06, Format::Cn, 0x04, "卡有效期"),
    item(0x07, Format::An, 0x09, "卡号"),
];

/// The data items of SSSE EF06 (cardholder data). Tag `4E` (name extension) was added by the
/// V2.0 notice and does not exist on 1.0 cards.
pub const EF06_ITEMS: [Item; 7] = [
    item(0x08, Format::An, 0x12, "社会保障号码"),
    item(0x09, Format::An, 0x1E, "姓名"),
    item(0x4E, Format::An, 0x14, "姓名扩展"),
    item(0x0A, Format::An, 0x01, "性别"),
    item(0x0B, Format::Cn, 0x01, "民族"),
    item(0x0C, Format::Cn, 0x03, "出生地"),
    item(0x0D, Format::Cn, 0x04, "出生日期"),
];

/// The data item of tag `tag` in the record file `fid` of a card of `version`, if the file
/// holds such an item.
pub fn item_for(version: SpecVersion, fid: u16, tag: u8) -> Option<Item> {
    let items: &[Item] = match fid {
        0xEF05 => &EF05_ITEMS,
        0xEF06 => &EF06_ITEMS,
        _ => return None,
    };
    if version == SpecVersion::V1 && tag == 0x4E {
        return None;
    }
    items.iter().find(|i| i.tag == tag).copied()
}

/// The contents of one elementary file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Contents {
    /// Records in creation order (record number = index + 1, part 3 §5.3.2); each record is
    /// the whole SIMPLE-TLV data object.
    Records(Vec<Vec<u8>>),
    /// The bytes of a transparent file.
    Transparent(Vec<u8>),
}

/// Which occurrence an identifier reference designates (part 5 table 32, part 3 §5.3.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Occurrence {
    /// First occurrence.
    First,
    /// Last occurrence.
    Last,
    /// Next occurrence after the record pointer.
    Next,
    /// Previous occurrence before the record pointer.
    Previous,
}

/// Finds the record index designated by identifier `id` (`00` = any identifier) and
/// `occurrence`, relative to the record pointer `pointer` (part 3 §5.3.1: with no current
/// record, next = first and previous = last).
pub fn find_by_id(
    records: &[Vec<u8>],
    id: u8,
    occurrence: Occurrence,
    pointer: Option<usize>,
) -> Option<usize> {
    let matches = |i: &usize| id == 0 || records.get(*i).and_then(|r| r.first()) == Some(&id);
    let n = records.len();
    match (occurrence, pointer) {
        (Occurrence::First, _) | (Occurrence::Next, None) => (0..n).find(matches),
        (Occurrence::Last, _) | (Occurrence::Previous, None) => (0..n).rev().find(matches),
        (Occurrence::Next, Some(p)) => (p.saturating_add(1)..n).find(matches),
        (Occurrence::Previous, Some(p)) => (0..p.min(n)).rev().find(matches),
    }
}
