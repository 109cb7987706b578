//! The data items of the SSSE basic files EF05 and EF06 (V2.0 notice, table 9), their formats
//! and padding (V2.0 §7, part 10 §5.4.1) and their decoding.

use std::collections::BTreeMap;

use crate::error::TerminalError;

/// Data item formats (part 5 §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `an`: alphanumeric text, left aligned, right-padded with `00` bytes.
    An,
    /// `cn`: compressed numeric (packed BCD), left aligned, right-padded with `F` nibbles.
    Cn,
}

/// One data item of V2.0 table 9.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ItemSpec {
    /// The tag, also the record identifier (profile D16).
    pub tag: u8,
    /// The item's name in the specification.
    pub name: &'static str,
    /// Its format.
    pub format: Format,
    /// Its length in bytes.
    pub len: usize,
    /// The SSSE file holding it: `0x05` (EF05) or `0x06` (EF06).
    pub file: u8,
}

const fn item(tag: u8, name: &'static str, format: Format, len: usize, file: u8) -> ItemSpec {
    ItemSpec {
        tag,
        name,
        format,
        len,
        file,
    }
}

/// The items of EF05 (issuer data) and EF06 (cardholder basic data), V2.0 table 9, in the
/// order of the table.
pub const SSSE_ITEMS: [ItemSpec; 14] = [
    item(0x01, "卡的识别码", Format::Cn, 0x10, 0x05),
    item(0x02, "卡的类别", Format::An, 0x01, 0x05),
    item(0x03, "规范版本", Format::An, 0x04, 0x05),
    item(0x04, "初始化机构编号", Format::Cn, 0x0C, 0x05),
    item(0x05, "发卡日期", Format::Cn, 0x04, 0x05),
    item(0x06, "卡有效期", Format::Cn, 0x04, 0x05),
    item(0x07, "卡号", Format::An, 0x09, 0x05),
    item(0x08, "社会保障号码", Format::An, 0x12, 0x06),
    item(0x09, "姓名", Format::An, 0x1E, 0x06),
    item(0x4E, "姓名扩展", Format::An, 0x14, 0x06),
    item(0x0A, "性别", Format::An, 0x01, 0x06),
    item(0x0B, "民族", Format::Cn, 0x01, 0x06),
    item(0x0C, "出生地", Format::Cn, 0x03, 0x06),
    item(0x0D, "出生日期", Format::Cn, 0x04, 0x06),
];

/// The table 9 entry of an EF05/EF06 tag.
pub fn item_spec(tag: u8) -> Option<&'static ItemSpec> {
    SSSE_ITEMS.iter().find(|s| s.tag == tag)
}

fn spec_or_err(tag: u8) -> Result<&'static ItemSpec, TerminalError> {
    item_spec(tag).ok_or_else(|| {
        TerminalError::InvalidInput(format!(
            "tag {tag:02X} is not an EF05/EF06 item (V2.0 table 9)"
        ))
    })
}

/// Pads an encoded value to the item's length (V2.0 §7): `an` with `00` bytes, `cn` with `FF`
/// (whole `F` nibbles). A value longer than the item is refused.
pub fn pad_value(tag: u8, value: &[u8]) -> Result<Vec<u8>, TerminalError> {
    let spec = spec_or_err(tag)?;
    if value.len() > spec.len {
        return Err(TerminalError::InvalidInput(format!(
            "item {tag:02X} takes at most {} bytes, got {}",
            spec.len,
            value.len()
        )));
    }
    let fill = match spec.format {
        Format::An => 0x00,
        Format::Cn => 0xFF,
    };
    let mut out = value.to_vec();
    out.resize(spec.len, fill);
    Ok(out)
}

/// Packs decimal digits as `cn`: two digits a byte, an odd count ending in an `F` nibble
/// (part 5 §6.3.1).
pub fn pack_cn(digits: &str) -> Result<Vec<u8>, TerminalError> {
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(TerminalError::InvalidInput(format!(
            "{digits:?} is not a string of decimal digits"
        )));
    }
    let nibbles: Vec<u8> = digits.bytes().map(|b| b - b'0').collect();
    Ok(nibbles
        .chunks(2)
        .map(|pair| (pair[0] << 4) | pair.get(1).copied().unwrap_or(0x0F))
        .collect())
}

/// Encodes a text value for an EF05/EF06 item and pads it: `an` as GBK (V2.0 §8.1.2.2: Chinese
/// characters), `cn` as packed digits.
pub fn encode_text(tag: u8, text: &str) -> Result<Vec<u8>, TerminalError> {
    let spec = spec_or_err(tag)?;
    let raw = match spec.format {
        Format::An => {
            let (bytes, _, unmappable) = encoding_rs::GBK.encode(text);
            if unmappable {
                return Err(TerminalError::InvalidInput(format!(
                    "{text:?} has characters GBK cannot encode"
                )));
            }
            bytes.into_owned()
        }
        Format::Cn => pack_cn(text)?,
    };
    pad_value(tag, &raw)
}

/// Decodes `cn`: the hexadecimal digits, trailing `F` nibbles removed.
pub fn decode_cn(bytes: &[u8]) -> String {
    let text = hex::encode_upper(bytes);
    text.trim_end_matches('F').to_string()
}

/// Removes the `00` padding of an `an` value.
pub fn trim_an(bytes: &[u8]) -> &[u8] {
    let end = bytes.iter().rposition(|&b| b != 0x00).map_or(0, |p| p + 1);
    &bytes[..end]
}

/// Decodes `an`: padding removed, then GBK (ASCII is a subset). Undecodable bytes become
/// U+FFFD.
pub fn decode_an(bytes: &[u8]) -> String {
    let (text, _) = encoding_rs::GBK.decode_without_bom_handling(trim_an(bytes));
    text.into_owned()
}

/// Everything read from EF05 and EF06 (V2.0 §8.1.1-§8.1.2), decoded.
///
/// A text field is empty when its record is absent (READ RECORD `6A83`, a card not yet
/// personalized, profile D14), or not read (the name extension on a 1.0 card).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BasicInfo {
    /// `01` card identification code (16 bytes: region, RID `D156000005`, serial, check code).
    pub card_id: Vec<u8>,
    /// `02` card type (`1`…`4`, V2.0 table 11).
    pub card_type: String,
    /// `03` specification version (for example `3.00`).
    pub version: String,
    /// `04` initializing institution number (24 digits).
    pub init_org: String,
    /// `05` issue date (YYYYMMDD).
    pub issue_date: String,
    /// `06` expiry date (YYYYMMDD).
    pub expiry_date: String,
    /// `07` card number.
    pub card_number: String,
    /// `08` social security number.
    pub ssn: String,
    /// Name: `09` followed by the name extension `4E` (RI §10.2), GBK decoded.
    pub name: String,
    /// The raw bytes of the name (`09 ‖ 4E`, padding removed), GBK.
    pub name_raw: Vec<u8>,
    /// `0A` sex (V2.0 table 13).
    pub sex: String,
    /// `0B` nation (two digits, V2.0 table 14).
    pub nation: String,
    /// `0C` birthplace (six digits).
    pub birthplace: String,
    /// `0D` birth date (YYYYMMDD).
    pub birth_date: String,
    /// Raw values of every record read, by tag (padding included).
    pub records: BTreeMap<u8, Vec<u8>>,
}

impl BasicInfo {
    /// Builds the decoded view from raw record values by tag.
    pub fn from_records(records: BTreeMap<u8, Vec<u8>>) -> BasicInfo {
        let an = |t: u8| records.get(&t).map(|v| decode_an(v)).unwrap_or_default();
        let cn = |t: u8| records.get(&t).map(|v| decode_cn(v)).unwrap_or_default();
        let mut name_raw = records
            .get(&0x09)
            .map(|v| trim_an(v).to_vec())
            .unwrap_or_default();
        if let Some(ext) = records.get(&0x4E) {
            name_raw.extend_from_slice(trim_an(ext));
        }
        let (name, _) = encoding_rs::GBK.decode_without_bom_handling(&name_raw);
        BasicInfo {
            card_id: records.get(&0x01).cloned().unwrap_or_default(),
            card_type: an(0x02),
            version: an(0x03),
            init_org: cn(0x04),
            issue_date: cn(0x05),
            expiry_date: cn(0x06),
            card_number: an(0x07),
            ssn: an(0x08),
            name: name.into_owned(),
            name_raw,
            sex: an(0x0A),
            nation: cn(0x0B),
            birthplace: cn(0x0C),
            birth_date: cn(0x0D),
            records,
        }
    }

    /// The region code: the first six digits of the card identification code.
    pub fn region(&self) -> String {
        hex::encode_upper(self.card_id.get(..3).unwrap_or_default())
    }
}

/// The major specification version of a card (RI §10.2: only the first three characters
/// count, an empty version is 1.0): 1, 2, 3…, or `None` when the text is not `d.d…`.
pub fn major_version(version: &str) -> Option<u8> {
    let v = version.trim_matches(|c: char| c == '\0' || c == ' ');
    if v.is_empty() {
        return Some(1);
    }
    let b = v.as_bytes();
    if b.len() >= 3 && b[0].is_ascii_digit() && b[1] == b'.' && b[2].is_ascii_digit() {
        Some(b[0] - b'0')
    } else {
        None
    }
}
