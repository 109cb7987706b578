//! Field encodings of the card's data elements (docs/card-os.md §1); their SIMPLE-TLV framing
//! is [`crate::tlv`]'s.
//!
//! - `an`: ASCII, right-padded with `20` on write;
//! - `an` GBK (names): GBK bytes, right-padded with `00` on write;
//! - `cn`: packed BCD digits, left-justified, padded with `F` nibbles;
//! - `b`: binary, exact length.
//!
//! On read, trailing `20`, `00` and `FF` are stripped from `an` values (real name extensions are
//! padded with `00` or `FF`). Every function here is total: bad input is a [`DataError`] naming
//! the field, never a panic.

use crate::data::DataError;
use crate::profile::{ElementSpec, Format};

/// Serializes bytes as upper-case hex: the JSON form of ATRs, MACs and TACs.
pub(crate) fn serialize_hex<S, B>(bytes: &B, s: S) -> Result<S::Ok, S::Error>
where
    S: serde::Serializer,
    B: AsRef<[u8]> + ?Sized,
{
    s.serialize_str(&hex::encode_upper(bytes))
}

/// A value before encoding / after decoding, by kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldValue {
    /// Text: ASCII for [`Format::An`], any GBK-representable text for [`Format::AnGbk`].
    Text(String),
    /// Decimal digits for [`Format::Cn`].
    Digits(String),
    /// Raw bytes for [`Format::B`]; for [`Format::AnGbk`], already-encoded GBK bytes.
    Bytes(Vec<u8>),
}

/// Encodes `value` as the element `spec`, padded to exactly `spec.len` bytes.
pub fn encode_value(spec: &ElementSpec, value: &FieldValue) -> Result<Vec<u8>, DataError> {
    let field = spec.field;
    match (spec.format, value) {
        (Format::An, FieldValue::Text(s)) => encode_an(field, s, spec.len),
        (Format::AnGbk, FieldValue::Text(s)) => {
            let gbk = to_gbk(field, s)?;
            encode_gbk(field, &gbk, spec.len)
        }
        (Format::AnGbk, FieldValue::Bytes(b)) => encode_gbk(field, b, spec.len),
        (Format::Cn, FieldValue::Digits(d)) => encode_cn(field, d, spec.len),
        (Format::B, FieldValue::Bytes(b)) => encode_b(field, b, spec.len),
        (format, value) => Err(DataError::invalid(
            field,
            format!("a {} value cannot be encoded as {format:?}", kind(value)),
        )),
    }
}

/// Decodes the value of the element `spec` (padding removed; `b` values must have the exact
/// length).
pub fn decode_value(spec: &ElementSpec, value: &[u8]) -> Result<FieldValue, DataError> {
    let field = spec.field;
    if value.len() > spec.len {
        return Err(DataError::invalid(
            field,
            format!("{} bytes, the element has {}", value.len(), spec.len),
        ));
    }
    match spec.format {
        Format::An => decode_an(field, value).map(FieldValue::Text),
        Format::AnGbk => decode_gbk(field, value).map(FieldValue::Text),
        Format::Cn => decode_cn(field, value).map(FieldValue::Digits),
        Format::B => {
            if value.len() != spec.len {
                return Err(DataError::invalid(
                    field,
                    format!("{} bytes, expected {}", value.len(), spec.len),
                ));
            }
            Ok(FieldValue::Bytes(value.to_vec()))
        }
    }
}

fn kind(value: &FieldValue) -> &'static str {
    match value {
        FieldValue::Text(_) => "text",
        FieldValue::Digits(_) => "digits",
        FieldValue::Bytes(_) => "bytes",
    }
}

fn too_long(field: &'static str, len: usize, max: usize) -> DataError {
    DataError::invalid(field, format!("{len} bytes, at most {max} fit"))
}

/// `an`: printable ASCII `text`, left-justified and right-padded with `00` to `len` bytes
/// (V2.0 notice §7; part 10 §5.4.1).
pub fn encode_an(field: &'static str, text: &str, len: usize) -> Result<Vec<u8>, DataError> {
    if let Some(c) = text.chars().find(|c| !(' '..='~').contains(c)) {
        return Err(DataError::invalid(
            field,
            format!("{c:?} is not printable ASCII"),
        ));
    }
    if text.len() > len {
        return Err(too_long(field, text.len(), len));
    }
    let mut out = text.as_bytes().to_vec();
    out.resize(len, 0x00);
    Ok(out)
}

/// Strips trailing `20`, `00` and `FF` (the paddings seen on cards).
pub fn strip_padding(value: &[u8]) -> &[u8] {
    let end = value
        .iter()
        .rposition(|&b| !matches!(b, 0x20 | 0x00 | 0xFF))
        .map_or(0, |i| i + 1);
    value.get(..end).unwrap_or_default()
}

/// `an`: the ASCII text of a value, padding stripped. Non-printable bytes are an error.
pub fn decode_an(field: &'static str, value: &[u8]) -> Result<String, DataError> {
    let text = strip_padding(value);
    if let Some(b) = text.iter().find(|b| !(0x20..=0x7E).contains(*b)) {
        return Err(DataError::invalid(
            field,
            format!("byte {b:02X} is not printable ASCII"),
        ));
    }
    Ok(text.iter().map(|&b| char::from(b)).collect())
}

/// GBK bytes of `text`; an error if a character has no GBK encoding.
pub fn to_gbk(field: &'static str, text: &str) -> Result<Vec<u8>, DataError> {
    let (bytes, _, unmappable) = encoding_rs::GBK.encode(text);
    if unmappable {
        let bad = text
            .chars()
            .find(|c| {
                let mut buf = [0u8; 4];
                encoding_rs::GBK.encode(c.encode_utf8(&mut buf)).2
            })
            .map(|c| format!("{c:?} (U+{:04X})", u32::from(c)))
            .unwrap_or_else(|| "a character".into());
        return Err(DataError::invalid(
            field,
            format!("{bad} cannot be written in GBK"),
        ));
    }
    Ok(bytes.into_owned())
}

/// `an` GBK: `gbk` bytes right-padded with `00` to `len` bytes.
pub fn encode_gbk(field: &'static str, gbk: &[u8], len: usize) -> Result<Vec<u8>, DataError> {
    if gbk.len() > len {
        return Err(too_long(field, gbk.len(), len));
    }
    let mut out = gbk.to_vec();
    out.resize(len, 0x00);
    Ok(out)
}

/// `an` GBK: the text of a GBK value, padding stripped. Bytes that are not GBK are an error.
pub fn decode_gbk(field: &'static str, value: &[u8]) -> Result<String, DataError> {
    from_gbk(field, strip_padding(value))
}

/// Decodes GBK bytes (no padding handling).
pub fn from_gbk(field: &'static str, gbk: &[u8]) -> Result<String, DataError> {
    encoding_rs::GBK
        .decode_without_bom_handling_and_without_replacement(gbk)
        .map(|s| s.into_owned())
        .ok_or_else(|| {
            DataError::invalid(
                field,
                format!("{} is not valid GBK", hex::encode_upper(gbk)),
            )
        })
}

/// `cn`: decimal `digits` packed two per byte, left-justified, padded with `F` nibbles to
/// `len` bytes.
pub fn encode_cn(field: &'static str, digits: &str, len: usize) -> Result<Vec<u8>, DataError> {
    let mut nibbles = Vec::with_capacity(len * 2);
    for c in digits.chars() {
        let d = c
            .to_digit(10)
            .ok_or_else(|| DataError::invalid(field, format!("{c:?} is not a digit")))?;
        nibbles.push(d as u8);
    }
    if nibbles.len() > len * 2 {
        return Err(DataError::invalid(
            field,
            format!("{} digits, at most {} fit", nibbles.len(), len * 2),
        ));
    }
    nibbles.resize(len * 2, 0x0F);
    Ok(nibbles
        .chunks(2)
        .map(|pair| match pair {
            [hi, lo] => (hi << 4) | lo,
            _ => 0xFF,
        })
        .collect())
}

/// `cn`: the digits of a packed BCD value up to the first `F` nibble. A nibble `A`-`E`, or a
/// digit after the `F` padding, is an error.
pub fn decode_cn(field: &'static str, value: &[u8]) -> Result<String, DataError> {
    let mut digits = String::with_capacity(value.len() * 2);
    let mut padding = false;
    for (i, nibble) in value.iter().flat_map(|b| [b >> 4, b & 0x0F]).enumerate() {
        match nibble {
            0x0F => padding = true,
            0..=9 if !padding => digits.push(char::from(b'0' + nibble)),
            _ => {
                return Err(DataError::invalid(
                    field,
                    format!(
                        "{} is not packed BCD (nibble {} is {nibble:X})",
                        hex::encode_upper(value),
                        i + 1
                    ),
                ))
            }
        }
    }
    Ok(digits)
}

/// `b`: `bytes` of exactly `len` bytes.
pub fn encode_b(field: &'static str, bytes: &[u8], len: usize) -> Result<Vec<u8>, DataError> {
    if bytes.len() != len {
        return Err(DataError::invalid(
            field,
            format!("{} bytes, expected {len}", bytes.len()),
        ));
    }
    Ok(bytes.to_vec())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::profile::{element, Generation};
    use proptest::prelude::*;

    fn spec(tag: u8) -> &'static ElementSpec {
        element(Generation::V2, tag).unwrap()
    }

    #[test]
    fn an_pads_with_zeros_and_strips_paddings() {
        assert_eq!(encode_an("x", "3", 1).unwrap(), b"3");
        assert_eq!(encode_an("x", "AB", 4).unwrap(), b"AB\0\0");
        assert!(encode_an("x", "ABCDE", 4).is_err());
        let e = encode_an("card_number", "A\u{e9}", 9).unwrap_err();
        assert_eq!(e.field(), Some("card_number"));
        assert!(encode_an("x", "A\n", 4).is_err());
        assert_eq!(decode_an("x", b"AB  ").unwrap(), "AB");
        assert_eq!(decode_an("x", b"AB\0\0").unwrap(), "AB");
        assert_eq!(decode_an("x", &[b'A', 0xFF, 0x20, 0x00]).unwrap(), "A");
        assert_eq!(decode_an("x", &[0, 0, 0]).unwrap(), "");
        assert_eq!(decode_an("x", b"").unwrap(), "");
        assert!(decode_an("x", &[b'A', 0x01, b'B']).is_err());
        assert!(decode_an("x", &[0xC9, 0xE7]).is_err());
    }

    #[test]
    fn gbk_names() {
        let gbk = to_gbk("name", "张三").unwrap();
        assert_eq!(gbk, [0xD5, 0xC5, 0xC8, 0xFD]);
        let v = encode_gbk("name", &gbk, 30).unwrap();
        assert_eq!(v.len(), 30);
        assert!(v[4..].iter().all(|&b| b == 0));
        assert_eq!(decode_gbk("name", &v).unwrap(), "张三");
        let mut ff = gbk.clone();
        ff.extend([0xFF; 6]);
        assert_eq!(decode_gbk("name", &ff).unwrap(), "张三");
        let e = to_gbk("name", "张😀").unwrap_err();
        assert_eq!(e.field(), Some("name"));
        assert!(e.to_string().contains("1F600"), "{e}");
        assert!(encode_gbk("name", &[0xB0; 31], 30).is_err());
        assert!(decode_gbk("name", &[0xD5, 0x20]).is_err());
    }

    #[test]
    fn cn_packs_left_justified() {
        assert_eq!(
            encode_cn("d", "20150711", 4).unwrap(),
            [0x20, 0x15, 0x07, 0x11]
        );
        assert_eq!(encode_cn("r", "639900", 3).unwrap(), [0x63, 0x99, 0x00]);
        assert_eq!(encode_cn("b", "123", 3).unwrap(), [0x12, 0x3F, 0xFF]);
        assert_eq!(encode_cn("b", "", 2).unwrap(), [0xFF, 0xFF]);
        assert!(encode_cn("b", "1234567", 3).is_err());
        assert!(encode_cn("b", "12a", 3).is_err());
        assert!(encode_cn("b", "１２", 3).is_err(), "full-width digits");
        assert_eq!(decode_cn("b", &[0x12, 0x3F, 0xFF]).unwrap(), "123");
        assert_eq!(decode_cn("b", &[0xFF]).unwrap(), "");
        assert_eq!(
            decode_cn("d", &[0x20, 0x15, 0x07, 0x11]).unwrap(),
            "20150711"
        );
        let e = decode_cn("birth_date", &[0x20, 0x1A, 0x07, 0x11]).unwrap_err();
        assert_eq!(e.field(), Some("birth_date"));
        assert!(
            decode_cn("b", &[0x1F, 0x2F]).is_err(),
            "digit after padding"
        );
        assert!(decode_cn("b", &[0xF1]).is_err());
    }

    #[test]
    fn b_and_value_dispatch() {
        assert!(encode_b("card_id", &[0; 15], 16).is_err());
        let id = spec(0x01);
        assert_eq!(
            encode_value(id, &FieldValue::Bytes(vec![1; 16])).unwrap(),
            vec![1; 16]
        );
        assert!(encode_value(id, &FieldValue::Text("x".into())).is_err());
        assert_eq!(
            encode_value(spec(0x07), &FieldValue::Text("KD5578904".into())).unwrap(),
            b"KD5578904"
        );
        assert_eq!(
            encode_value(spec(0x09), &FieldValue::Text("张三".into()))
                .unwrap()
                .len(),
            30
        );
        assert_eq!(
            encode_value(spec(0x4E), &FieldValue::Bytes(vec![0xB0, 0xA1]))
                .unwrap()
                .len(),
            20
        );
        assert_eq!(
            encode_value(spec(0x05), &FieldValue::Digits("20150711".into())).unwrap(),
            [0x20, 0x15, 0x07, 0x11]
        );
        assert_eq!(
            decode_value(spec(0x05), &[0x20, 0x15, 0x07, 0x11]).unwrap(),
            FieldValue::Digits("20150711".into())
        );
        assert_eq!(
            decode_value(spec(0x02), b"3").unwrap(),
            FieldValue::Text("3".into())
        );
        assert_eq!(
            decode_value(spec(0x09), &[0xD5, 0xC5, 0, 0]).unwrap(),
            FieldValue::Text("张".into())
        );
        assert!(decode_value(spec(0x01), &[0; 15]).is_err());
        assert!(decode_value(spec(0x02), b"33").is_err());
    }

    proptest! {
        #[test]
        fn cn_round_trips(digits in "[0-9]{0,24}") {
            let v = encode_cn("x", &digits, 12).unwrap();
            prop_assert_eq!(decode_cn("x", &v).unwrap(), digits);
        }

        #[test]
        fn decoders_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..40)) {
            let _ = decode_cn("x", &bytes);
            let _ = decode_an("x", &bytes);
            let _ = decode_gbk("x", &bytes);
        }
    }
}
