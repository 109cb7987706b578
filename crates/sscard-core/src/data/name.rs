//! Names 姓名: UTF-8 text that must be representable in GBK, split over tags 09 and 4E.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::DataError;
use crate::codec;
use crate::profile::{Generation, NAME_EXTENSION_LEN, NAME_LEN};

const FIELD: &str = "name";

/// A holder's name: not empty, no control characters, no leading or trailing whitespace,
/// every character representable in GBK, at most 50 GBK bytes (30 on 1.0 cards, checked by
/// [`Name::split`] / [`Name::check_generation`]). Serialized as the UTF-8 string.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
pub struct Name {
    text: String,
    gbk: Vec<u8>,
}

impl Name {
    /// Validates `text` and encodes it in GBK.
    pub fn new(text: &str) -> Result<Name, DataError> {
        if text.trim().is_empty() {
            return Err(DataError::invalid(FIELD, "the name is empty"));
        }
        if text.trim() != text {
            return Err(DataError::invalid(
                FIELD,
                "the name has leading or trailing whitespace",
            ));
        }
        if let Some(c) = text.chars().find(|c| c.is_control()) {
            return Err(DataError::invalid(
                FIELD,
                format!(
                    "the name contains the control character U+{:04X}",
                    u32::from(c)
                ),
            ));
        }
        let gbk = codec::to_gbk(FIELD, text)?;
        let max = NAME_LEN + NAME_EXTENSION_LEN;
        if gbk.len() > max {
            return Err(DataError::invalid(
                FIELD,
                format!("{} GBK bytes, at most {max} fit on a card", gbk.len()),
            ));
        }
        Ok(Name {
            text: text.to_owned(),
            gbk,
        })
    }

    /// The name read from a card: the value of tag 09 followed by the value of tag 4E (when
    /// present), each with its `00`/`FF`/`20` padding stripped, decoded from GBK.
    ///
    /// When the extension carries text, the name continues there: tag 09 then loses only its
    /// `00`/`FF` padding, so a space at the split point (`… IBRAHIMOV| KHAN`) stays.
    pub fn from_parts(name: &[u8], extension: Option<&[u8]>) -> Result<Name, DataError> {
        let ext = extension.map(codec::strip_padding).unwrap_or_default();
        let mut gbk = if ext.is_empty() {
            codec::strip_padding(name).to_vec()
        } else {
            let end = name
                .iter()
                .rposition(|&b| !matches!(b, 0x00 | 0xFF))
                .map_or(0, |i| i + 1);
            name.get(..end).unwrap_or_default().to_vec()
        };
        gbk.extend_from_slice(ext);
        let text = codec::from_gbk(FIELD, &gbk)?;
        Name::new(&text)
    }

    /// The name as UTF-8.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The name in GBK (unpadded).
    pub fn gbk(&self) -> &[u8] {
        &self.gbk
    }

    /// Fails when the name does not fit a card of `generation` (30 GBK bytes on 1.0, which has
    /// no name extension).
    pub fn check_generation(&self, generation: Generation) -> Result<(), DataError> {
        self.split(generation).map(|_| ())
    }

    /// The unpadded GBK values of tag 09 and tag 4E on a card of `generation`: up to 30 bytes
    /// in 09, the rest in 4E (2.0+ only), split on a character boundary. 4E is `None` when the
    /// name fits in 09. An error when the name does not fit.
    pub fn split(&self, generation: Generation) -> Result<(Vec<u8>, Option<Vec<u8>>), DataError> {
        // the last character boundary at or before NAME_LEN
        let mut cut = 0;
        let mut i = 0;
        while i < self.gbk.len() {
            let width = match self.gbk.get(i) {
                Some(&b) if b >= 0x81 => 2,
                _ => 1,
            };
            if i + width > NAME_LEN {
                break;
            }
            i += width;
            cut = i;
        }
        let (head, tail) = self.gbk.split_at(cut.min(self.gbk.len()));
        if tail.is_empty() {
            return Ok((head.to_vec(), None));
        }
        if !generation.has_name_extension() {
            return Err(DataError::invalid(
                FIELD,
                format!(
                    "{} GBK bytes, a {} card holds at most {NAME_LEN}",
                    self.gbk.len(),
                    generation
                ),
            ));
        }
        if tail.len() > NAME_EXTENSION_LEN {
            return Err(DataError::invalid(
                FIELD,
                format!(
                    "{} GBK bytes do not fit 30 + 20 bytes split on a character boundary",
                    self.gbk.len()
                ),
            ));
        }
        Ok((head.to_vec(), Some(tail.to_vec())))
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

crate::data::text_conversions!(Name, DataError, Name::new);

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn gbk_names() {
        let n = Name::new("张三").unwrap();
        assert_eq!(n.gbk(), [0xD5, 0xC5, 0xC8, 0xFD]);
        assert_eq!(n.split(Generation::V1).unwrap(), (n.gbk().to_vec(), None));
        assert_eq!(n.split(Generation::V2).unwrap(), (n.gbk().to_vec(), None));
        let minority = Name::new("阿依古丽·买买提").unwrap();
        assert_eq!(minority.as_str(), "阿依古丽·买买提");
        assert_eq!(Name::new("John Smith").unwrap().gbk(), b"John Smith");
        let json = serde_json::to_string(&n).unwrap();
        assert_eq!(json, "\"张三\"");
        assert_eq!(serde_json::from_str::<Name>(&json).unwrap(), n);
    }

    #[test]
    fn rejections() {
        for bad in ["", "   ", " 张三", "张三 ", "张\u{7}三", "张😀", "𠀀"] {
            let e = Name::new(bad).unwrap_err();
            assert_eq!(e.field(), Some("name"), "{bad:?}");
        }
        // 26 two-byte characters = 52 bytes: too long for every generation
        let long = "张".repeat(26);
        assert!(Name::new(&long).is_err());
        assert!(serde_json::from_str::<Name>("\"张😀\"").is_err());
    }

    #[test]
    fn split_on_character_boundary() {
        // 16 characters = 32 bytes: 15 in 09 (30 bytes), 1 in 4E
        let n = Name::new(&"张".repeat(16)).unwrap();
        let e = n.split(Generation::V1).unwrap_err();
        assert_eq!(e.field(), Some("name"));
        let (head, ext) = n.split(Generation::V2).unwrap();
        assert_eq!(head.len(), 30);
        assert_eq!(ext.unwrap(), [0xD5, 0xC5]);
        assert!(n.check_generation(Generation::V3).is_ok());
        // "A" + 15 two-byte characters: the 15th does not fit in 30 bytes, cut at 29
        let n = Name::new(&format!("A{}", "张".repeat(15))).unwrap();
        let (head, ext) = n.split(Generation::V2).unwrap();
        assert_eq!(head.len(), 29);
        assert_eq!(ext.as_deref().unwrap(), [0xD5, 0xC5]);
        let back = Name::from_parts(&head, ext.as_deref()).unwrap();
        assert_eq!(back, n);
        // "A" + 24 two-byte characters = 49 bytes: 29 + 20, fits
        let n = Name::new(&format!("A{}", "张".repeat(24))).unwrap();
        let (head, ext) = n.split(Generation::V2).unwrap();
        assert_eq!((head.len(), ext.as_ref().map(Vec::len)), (29, Some(20)));
        // 25 two-byte characters = 50 bytes: 30 + 20
        let n = Name::new(&"张".repeat(25)).unwrap();
        assert!(n.split(Generation::V2).is_ok());
        // "AB" + 24 two-byte characters = 50 bytes, but the cut at 30 leaves 20 → fine;
        // "A" + 24 two-byte + "B" = 50 bytes: 29 + 21 → does not fit
        let n = Name::new(&format!("A{}B", "张".repeat(24))).unwrap();
        assert!(n.split(Generation::V3).is_err());
    }

    #[test]
    fn from_card_parts() {
        let mut v09 = vec![0xD5, 0xC5, 0xC8, 0xFD];
        v09.resize(30, 0);
        assert_eq!(Name::from_parts(&v09, None).unwrap().as_str(), "张三");
        assert_eq!(
            Name::from_parts(&v09, Some(&[0xFF; 20])).unwrap().as_str(),
            "张三"
        );
        assert_eq!(
            Name::from_parts(&v09, Some(&[0x00; 20])).unwrap().as_str(),
            "张三"
        );
        assert!(Name::from_parts(&[0; 30], None).is_err());
        assert!(Name::from_parts(&[0xD5], None).is_err(), "half a character");
    }

    #[test]
    fn a_space_at_the_split_point_is_kept() {
        // the fuzz finding: a 2.0 name whose 30th byte is a space
        let text = "ABDURAHMAN MUHAMMAD IBRAHIMOV KHAN";
        let name = Name::new(text).unwrap();
        let (n09, n4e) = name.split(Generation::V2).unwrap();
        let mut v09 = n09.clone();
        v09.resize(30, 0);
        let mut v4e = n4e.clone().unwrap_or_default();
        v4e.resize(20, 0);
        assert_eq!(Name::from_parts(&v09, Some(&v4e)).unwrap().as_str(), text);
        // without text in 4E, trailing spaces are padding
        assert_eq!(
            Name::from_parts(b"AB  \0\0", Some(&[0u8; 20]))
                .unwrap()
                .as_str(),
            "AB"
        );
    }
}
