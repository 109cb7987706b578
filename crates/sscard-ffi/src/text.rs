//! The strings of the reader interface: parsing what the caller passes (`iType`, `pCardInfo`,
//! `pKey`, `pPayInfo`; `pFileAddr` and `pWriteData` are `sscard_core::fileaddr`'s) and encoding what libsscard writes back
//! (GBK or UTF-8). Every malformed input is a [`Failure`] with appendix A's code; nothing here
//! panics (the fuzz target `ffi_strings` checks it).
//!
//! This file is also compiled into the fuzz crate (`fuzz/src/ffi_strings.rs`): it refers to
//! its sibling module as `super::codes` and depends on nothing but `std`, `sscard_core`, `hex`
//! and `encoding_rs`.

use std::fmt;

use sscard_core::data::{CardIdentificationCode, CardNumber};

use super::codes::{
    Failure, BAD_CARD_ID, BAD_DATA, ILLEGAL_CHARACTERS, WRONG_CARD_TYPE, WRONG_DATA_LENGTH,
};

/// Which card `iType` asks for (reader interface §1.1.2 (1)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CardType {
    /// 1: the contact card.
    Contact,
    /// 2: the contactless card.
    Contactless,
    /// 3: whichever is present, the contact card first.
    ContactFirst,
    /// 4: whichever is present, the contactless card first.
    ContactlessFirst,
}

impl CardType {
    /// The card type of `iType`; `-1` (卡类型不对) for anything but 1-4.
    pub fn from_itype(itype: i32) -> Result<CardType, Failure> {
        match itype {
            1 => Ok(CardType::Contact),
            2 => Ok(CardType::Contactless),
            3 => Ok(CardType::ContactFirst),
            4 => Ok(CardType::ContactlessFirst),
            other => Err(Failure::new(
                WRONG_CARD_TYPE,
                format!(
                    "iType {other}: 1 contact, 2 contactless, 3 contact first, 4 contactless first"
                ),
            )),
        }
    }
}

/// How libsscard reads and writes the interface's strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextEncoding {
    /// GB 18030's GBK subset (what callers on Windows expect).
    Gbk,
    /// UTF-8.
    Utf8,
}

impl TextEncoding {
    /// `gbk` / `utf-8` (also `gb18030`, `utf8`, `cp936`), case-insensitive.
    pub fn parse(text: &str) -> Option<TextEncoding> {
        match text.trim().to_ascii_lowercase().as_str() {
            "gbk" | "gb18030" | "cp936" | "gb2312" => Some(TextEncoding::Gbk),
            "utf-8" | "utf8" => Some(TextEncoding::Utf8),
            _ => None,
        }
    }

    /// Decodes a caller's string; `-23` (传入数据不合法) for bytes that are not text in this
    /// encoding.
    pub fn decode(self, bytes: &[u8], what: &str) -> Result<String, Failure> {
        let bad = || {
            Failure::new(
                BAD_DATA,
                format!("{what} is not {self} text ({} bytes)", bytes.len()),
            )
        };
        match self {
            TextEncoding::Utf8 => std::str::from_utf8(bytes)
                .map(str::to_owned)
                .map_err(|_| bad()),
            TextEncoding::Gbk => {
                let (text, had_errors) = encoding_rs::GBK.decode_without_bom_handling(bytes);
                if had_errors {
                    Err(bad())
                } else {
                    Ok(text.into_owned())
                }
            }
        }
    }

    /// Encodes `text` into at most `capacity - 1` bytes (room for the terminating NUL), cutting
    /// at a character boundary. The second value says whether all of it fit.
    pub fn encode(self, text: &str, capacity: usize) -> (Vec<u8>, bool) {
        let limit = capacity.saturating_sub(1);
        let mut out = Vec::with_capacity(text.len().min(limit));
        let mut buf = [0u8; 4];
        for c in text.chars() {
            let piece: Vec<u8> = match self {
                TextEncoding::Utf8 => c.encode_utf8(&mut buf).as_bytes().to_vec(),
                TextEncoding::Gbk => {
                    let s = c.encode_utf8(&mut buf);
                    let (bytes, _, had_errors) = encoding_rs::GBK.encode(s);
                    if had_errors {
                        vec![b'?']
                    } else {
                        bytes.into_owned()
                    }
                }
            };
            if out.len() + piece.len() > limit {
                return (out, false);
            }
            out.extend_from_slice(&piece);
        }
        (out, true)
    }
}

impl fmt::Display for TextEncoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TextEncoding::Gbk => "GBK",
            TextEncoding::Utf8 => "UTF-8",
        })
    }
}

/// The `|`-separated fields of `text`: the interface ends the last field with `|` too
/// (`a|b|`); a missing final `|` is accepted. `None` when there are not exactly `n` fields.
fn fields(text: &str, n: usize) -> Option<Vec<&str>> {
    let body = text.strip_suffix('|').unwrap_or(text);
    let parts: Vec<&str> = body.split('|').collect();
    (parts.len() == n).then_some(parts)
}

/// `pCardInfo` (reader interface §2.1.2 (3)): `卡识别码|卡号|`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardInfo {
    /// The card identification code.
    pub card_id: CardIdentificationCode,
    /// The card number (9 characters, §10.4).
    pub card_number: CardNumber,
}

impl CardInfo {
    /// Parses `pCardInfo`: `-14` when it is not two `|`-separated fields, `-20` for a card
    /// identification code that is not 32 hex digits of the V2.0 notice's structure, `-23` for
    /// a card number that is not 9 digits or capital letters.
    pub fn parse(text: &str) -> Result<CardInfo, Failure> {
        let Some(parts) = fields(text.trim(), 2) else {
            return Err(Failure::parameter(
                "pCardInfo must be 卡识别码|卡号| (the card identification code and the card number, each followed by |)",
            ));
        };
        let id = parts[0].trim();
        let card_id = id
            .parse::<CardIdentificationCode>()
            .map_err(|e| Failure::new(BAD_CARD_ID, format!("pCardInfo: {e}")))?;
        let card_number = CardNumber::from_card(parts[1].trim())
            .map_err(|e| Failure::new(BAD_DATA, format!("pCardInfo: {e}")))?;
        Ok(CardInfo {
            card_id,
            card_number,
        })
    }
}

impl fmt::Display for CardInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}|{}|", self.card_id, self.card_number)
    }
}

/// Checks that `field` is `digits` hex digits: `-41` (运算数据含非法字符) for other characters,
/// `-42` (运算数据长度错) for another length.
pub fn hex_field(field: &str, lengths: &[usize], what: &str) -> Result<Vec<u8>, Failure> {
    let field = field.trim();
    if let Some(c) = field.chars().find(|c| !c.is_ascii_hexdigit()) {
        return Err(Failure::new(
            ILLEGAL_CHARACTERS,
            format!("{what}: {c:?} is not a hex digit"),
        ));
    }
    if !lengths.contains(&field.len()) {
        let want: Vec<String> = lengths.iter().map(usize::to_string).collect();
        return Err(Failure::new(
            WRONG_DATA_LENGTH,
            format!(
                "{what}: {} hex digits instead of {}",
                field.len(),
                want.join(" or ")
            ),
        ));
    }
    hex::decode(field).map_err(|_| Failure::new(ILLEGAL_CHARACTERS, format!("{what}: not hex")))
}

/// `pKey` of `iReadCardBas_HSM_Step2` (§1.3.2 (1)): the internal authentication result (32 hex
/// digits: authentication data ‖ original data), then the external authentication result (32
/// hex digits, or empty when no external authentication is made), each followed by `|`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BasicReadKey {
    /// The internal authentication result, 16 bytes.
    pub internal: Vec<u8>,
    /// The external authentication result, 16 bytes, if any.
    pub external: Option<Vec<u8>>,
}

impl BasicReadKey {
    /// Parses the HSM's answer.
    pub fn parse(text: &str) -> Result<BasicReadKey, Failure> {
        let text = text.trim();
        let parts = fields(text, 2)
            .or_else(|| fields(text, 1))
            .ok_or_else(|| {
                Failure::parameter(
                    "pKey must be 内部认证结果|外部认证结果| (32 hex digits each; the second empty without external authentication)",
                )
            })?;
        let internal = hex_field(parts[0], &[32], "pKey (internal authentication result)")?;
        let external = match parts.get(1).map(|s| s.trim()) {
            None | Some("") => None,
            Some(ea) => Some(hex_field(
                ea,
                &[32],
                "pKey (external authentication result)",
            )?),
        };
        Ok(BasicReadKey { internal, external })
    }

    /// The answer in the library's form (`IA|EA|`).
    pub fn to_line(&self) -> String {
        format!(
            "{}|{}|",
            hex::encode_upper(&self.internal),
            self.external
                .as_deref()
                .map(hex::encode_upper)
                .unwrap_or_default()
        )
    }
}

/// `pKey` of a step 2 (§2.3.2 (1)): authentication data ‖ original data, 32 hex digits (a
/// final `|` is accepted).
pub fn authentication_key(text: &str) -> Result<String, Failure> {
    let text = text.trim();
    let body = text.strip_suffix('|').unwrap_or(text);
    let bytes = hex_field(body, &[32], "pKey (authentication data ‖ original data)")?;
    Ok(hex::encode_upper(bytes))
}

/// `pKey` of a PIN maintenance step 3 (§6.4.2, §7.4.2): command header (optional) ‖ enciphered
/// data ‖ MAC. `data_bytes` is the number of enciphered bytes the command carries: 0 for PIN
/// unblock (18 hex digits with the header), 8 (34) or 16 (50) for PIN reload.
pub fn secure_messaging_key(text: &str, data_bytes: &[usize]) -> Result<String, Failure> {
    let text = text.trim();
    let body = text.strip_suffix('|').unwrap_or(text);
    let mut lengths: Vec<usize> = Vec::new();
    for n in data_bytes {
        lengths.push(2 * (5 + n + 4));
        lengths.push(2 * (n + 4));
    }
    let bytes = hex_field(body, &lengths, "pKey (secure messaging data)")?;
    Ok(hex::encode_upper(bytes))
}

/// An amount in fen (分), from the interface's yuan with two decimals (§8.1.2 (3): less than
/// 42949672.95).
fn amount(text: &str, what: &str) -> Result<u32, Failure> {
    let bad = |why: &str| Failure::new(BAD_DATA, format!("pPayInfo {what} {text:?}: {why}"));
    let (yuan, fen) = text
        .trim()
        .split_once('.')
        .ok_or_else(|| bad("an amount in yuan with two decimals, e.g. 12.30"))?;
    if yuan.is_empty()
        || fen.len() != 2
        || !yuan.bytes().all(|b| b.is_ascii_digit())
        || !fen.bytes().all(|b| b.is_ascii_digit())
        || yuan.len() > 8
    {
        return Err(bad("an amount in yuan with two decimals, e.g. 12.30"));
    }
    let value = yuan
        .parse::<u64>()
        .ok()
        .and_then(|y| y.checked_mul(100))
        .and_then(|y| y.checked_add(fen.parse::<u64>().ok()?))
        .ok_or_else(|| bad("not a number"))?;
    u32::try_from(value)
        .ok()
        .filter(|v| *v < u32::MAX)
        .ok_or_else(|| bad("must be less than 42949672.95"))
}

/// A date and time `YYYYMMDDHHMMSS`.
fn date_time(text: &str) -> Result<String, Failure> {
    let t = text.trim();
    let bad = || {
        Failure::new(
            BAD_DATA,
            format!("pPayInfo 交易时间 {t:?}: YYYYMMDDHHMMSS expected"),
        )
    };
    if t.len() != 14 || !t.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let n = |r: std::ops::Range<usize>| t.get(r).and_then(|s| s.parse::<u32>().ok());
    let (Some(month), Some(day), Some(hour), Some(minute), Some(second)) =
        (n(4..6), n(6..8), n(8..10), n(10..12), n(12..14))
    else {
        return Err(bad());
    };
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 59
    {
        return Err(bad());
    }
    Ok(t.to_owned())
}

/// `pPayInfo` (§8.1.2 (3)): 本次消费总金额|个人账户交易金额和统筹基金支付金额相加的总金额|交易时间|.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayInfo {
    /// The total of this purchase, in fen.
    pub total: u32,
    /// The personal account and pooled fund amounts together, in fen.
    pub account_and_fund: u32,
    /// `YYYYMMDDHHMMSS`.
    pub time: String,
}

impl PayInfo {
    /// Parses `pPayInfo`: `-14` for a wrong field count, `-23` for amounts or a time that are
    /// not what §8.1.2 says.
    pub fn parse(text: &str) -> Result<PayInfo, Failure> {
        let parts = fields(text.trim(), 3).ok_or_else(|| {
            Failure::parameter(
                "pPayInfo must be 本次消费总金额|个人账户和统筹基金总金额|交易时间(YYYYMMDDHHMMSS)|",
            )
        })?;
        Ok(PayInfo {
            total: amount(parts[0], "本次消费总金额")?,
            account_and_fund: amount(parts[1], "个人账户和统筹基金总金额")?,
            time: date_time(parts[2])?,
        })
    }
}

impl fmt::Display for PayInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}.{:02}|{}.{:02}|{}|",
            self.total / 100,
            self.total % 100,
            self.account_and_fund / 100,
            self.account_and_fund % 100,
            self.time
        )
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn itype() {
        assert_eq!(CardType::from_itype(3).unwrap(), CardType::ContactFirst);
        assert_eq!(CardType::from_itype(0).unwrap_err().code, -1);
        assert_eq!(CardType::from_itype(5).unwrap_err().code, -1);
    }

    #[test]
    fn card_info() {
        let ok = CardInfo::parse("639900D15600000500BF7C7AFFFFFFFF|KD5578904|").unwrap();
        assert_eq!(ok.card_number.as_str(), "KD5578904");
        assert_eq!(
            ok.to_string(),
            "639900D15600000500BF7C7AFFFFFFFF|KD5578904|"
        );
        // the final | may be missing, lower case hex is fine
        assert_eq!(
            CardInfo::parse("639900d15600000500bf7c7affffffff|KD5578904").unwrap(),
            ok
        );
        assert_eq!(CardInfo::parse("").unwrap_err().code, -14);
        assert_eq!(CardInfo::parse("a|b|c|").unwrap_err().code, -14);
        assert_eq!(
            CardInfo::parse("639900D15600000500BF7C7A|KD5578904|")
                .unwrap_err()
                .code,
            -20
        );
        assert_eq!(
            CardInfo::parse("639900AA5600000500BF7C7AFFFFFFFF|KD5578904|")
                .unwrap_err()
                .code,
            -20
        );
        assert_eq!(
            CardInfo::parse("639900D15600000500BF7C7AFFFFFFFF|KD55|")
                .unwrap_err()
                .code,
            -23
        );
    }

    #[test]
    fn keys() {
        let k = BasicReadKey::parse(
            "F4A0CF965BDCEA30DBF7A936D0D18C9E|774A08EDF447A1DEE603E2CAADAF02B6|",
        )
        .unwrap();
        assert!(k.external.is_some());
        let k2 = BasicReadKey::parse("F4A0CF965BDCEA30DBF7A936D0D18C9E||").unwrap();
        assert_eq!(k2.external, None);
        assert_eq!(k2.to_line(), "F4A0CF965BDCEA30DBF7A936D0D18C9E||");
        assert_eq!(BasicReadKey::parse("F4A0|").unwrap_err().code, -42);
        assert_eq!(
            BasicReadKey::parse("G4A0CF965BDCEA30DBF7A936D0D18C9E|")
                .unwrap_err()
                .code,
            -41
        );
        assert_eq!(BasicReadKey::parse("a|b|c|d|").unwrap_err().code, -14);
        assert_eq!(
            authentication_key("50C45431554CBADC1B0D7286F2DC77AF").unwrap(),
            "50C45431554CBADC1B0D7286F2DC77AF"
        );
        assert_eq!(authentication_key("50C4").unwrap_err().code, -42);
        // the field trace's PIN reload answer (SM4: 16 enciphered bytes, no header) and the
        // same with the header
        let sm = "2bc19c17ae974cd2427039c301cff79ffd937aa7";
        assert!(secure_messaging_key(sm, &[8, 16]).is_ok());
        assert!(secure_messaging_key(&format!("8424000114{sm}"), &[8, 16]).is_ok());
        assert_eq!(secure_messaging_key(sm, &[0]).unwrap_err().code, -42);
        assert_eq!(
            secure_messaging_key("8424000004zz112233", &[0])
                .unwrap_err()
                .code,
            -41
        );
    }

    #[test]
    fn pay_info() {
        let p = PayInfo::parse("12.30|10.00|20261123101500|").unwrap();
        assert_eq!((p.total, p.account_and_fund), (1230, 1000));
        assert_eq!(p.to_string(), "12.30|10.00|20261123101500|");
        assert_eq!(PayInfo::parse("12.30|10.00|").unwrap_err().code, -14);
        assert_eq!(
            PayInfo::parse("12.3|10.00|20261123101500|")
                .unwrap_err()
                .code,
            -23
        );
        assert_eq!(
            PayInfo::parse("42949672.95|1.00|20261123101500|")
                .unwrap_err()
                .code,
            -23
        );
        assert!(PayInfo::parse("42949672.94|1.00|20261123101500|").is_ok());
        assert_eq!(
            PayInfo::parse("1.00|1.00|20261323101500|")
                .unwrap_err()
                .code,
            -23
        );
    }

    #[test]
    fn encodings() {
        let (gbk, all) = TextEncoding::Gbk.encode("张三|", 1024);
        assert!(all);
        assert_eq!(gbk, vec![0xD5, 0xC5, 0xC8, 0xFD, b'|']);
        assert_eq!(TextEncoding::Gbk.decode(&gbk, "x").unwrap(), "张三|");
        // cut at a character boundary, room left for the NUL
        let (cut, all) = TextEncoding::Gbk.encode("张三", 4);
        assert!(!all);
        assert_eq!(cut, vec![0xD5, 0xC5]);
        let (cut, _) = TextEncoding::Utf8.encode("张三", 6);
        assert_eq!(cut, "张".as_bytes());
        assert_eq!(
            TextEncoding::Utf8
                .decode(&[0xD5, 0xC5], "pWriteData")
                .unwrap_err()
                .code,
            -23
        );
        assert_eq!(
            TextEncoding::Gbk
                .decode(&[0xFF, 0xFF], "pWriteData")
                .unwrap_err()
                .code,
            -23
        );
    }
}
