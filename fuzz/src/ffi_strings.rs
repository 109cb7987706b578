//! The string parsers of libsscard (`crates/sscard-ffi/src/text.rs`: `iType`, `pCardInfo`,
//! `pKey`, `pPayInfo`, GBK/UTF-8; `pFileAddr` and `pWriteData` through `sscard_core::fileaddr`)
//! and its return codes
//! (`codes.rs`), compiled here from their source files: the library is a cdylib, which another
//! crate cannot link.
//!
//! [`check_ffi_strings`] is the property of the fuzz target `ffi_strings`: no input panics,
//! every failure carries one of appendix A's codes, and what a parser accepts prints back to a
//! string that parses to the same value.

#[path = "../../crates/sscard-ffi/src/codes.rs"]
#[allow(dead_code, missing_docs)]
pub mod codes;
#[path = "../../crates/sscard-ffi/src/text.rs"]
#[allow(dead_code, missing_docs)]
pub mod text;

use codes::Failure;
use sscard_core::fileaddr::{FileAddress, FileData};
use text::{BasicReadKey, CardInfo, CardType, PayInfo, TextEncoding};

fn known(f: &Failure) {
    assert!(f.code < 0, "a failure has a negative code: {f:?}");
    assert!(
        codes::description(f.code).is_some() || f.code == codes::UNKNOWN,
        "{} is a code of appendix A",
        f.code
    );
    assert!(!f.message().is_empty());
}

/// Input: byte 0 chooses the parser (and bit 7 the encoding the bytes are decoded with), the
/// rest is the caller's string; for `pWriteData` a NUL byte separates `pFileAddr` from it.
pub fn check_ffi_strings(data: &[u8]) {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let encoding = if selector & 0x80 != 0 {
        TextEncoding::Gbk
    } else {
        TextEncoding::Utf8
    };
    // what libsscard writes fits the buffer and reads back as a prefix of the text
    let lossy = String::from_utf8_lossy(rest);
    for cap in [1usize, 2, 7, 64, 1024] {
        let (bytes, complete) = encoding.encode(&lossy, cap);
        assert!(bytes.len() < cap, "room for the NUL");
        let back = encoding
            .decode(&bytes, "out")
            .unwrap_or_else(|f| panic!("libsscard's own output does not decode: {f}"));
        if encoding == TextEncoding::Utf8 {
            assert!(lossy.starts_with(&back), "cut at a character boundary");
            assert_eq!(complete, back.len() == lossy.len());
        }
    }
    let text = match encoding.decode(rest, "input") {
        Ok(t) => t,
        Err(f) => {
            known(&f);
            assert_eq!(f.code, codes::BAD_DATA);
            return;
        }
    };
    match selector & 0x07 {
        0 => match CardInfo::parse(&text) {
            Ok(info) => assert_eq!(CardInfo::parse(&info.to_string()), Ok(info)),
            Err(f) => known(&f),
        },
        1 => match BasicReadKey::parse(&text) {
            Ok(key) => assert_eq!(BasicReadKey::parse(&key.to_line()), Ok(key)),
            Err(f) => known(&f),
        },
        2 => match text::authentication_key(&text) {
            Ok(hex) => {
                assert_eq!(hex.len(), 32);
                assert_eq!(text::authentication_key(&hex), Ok(hex.clone()));
            }
            Err(f) => known(&f),
        },
        3 => {
            for sizes in [&[0usize][..], &[8, 16]] {
                match text::secure_messaging_key(&text, sizes) {
                    Ok(hex) => {
                        assert!(hex.bytes().all(|b| b.is_ascii_hexdigit()));
                        assert_eq!(text::secure_messaging_key(&hex, sizes), Ok(hex.clone()));
                    }
                    Err(f) => known(&f),
                }
            }
        }
        4 => match PayInfo::parse(&text) {
            Ok(pay) => {
                assert!(pay.total < u32::MAX && pay.account_and_fund < u32::MAX);
                assert_eq!(PayInfo::parse(&pay.to_string()), Ok(pay));
            }
            Err(f) => known(&f),
        },
        5 | 6 => {
            // pFileAddr / pWriteData: sscard_core::fileaddr's parsers, as libsscard uses them
            let (address, write) = match text.split_once('\0') {
                Some((a, w)) => (a, Some(w)),
                None => (text.as_str(), None),
            };
            if let Ok(parsed) = FileAddress::parse(address) {
                let printed = parsed.to_string();
                assert_eq!(
                    FileAddress::parse(&printed).as_ref(),
                    Ok(&parsed),
                    "{printed}"
                );
            }
            if let Ok(data) = FileData::parse(write.unwrap_or(address)) {
                let printed = data.to_string();
                assert_eq!(FileData::parse(&printed).as_ref(), Ok(&data), "{printed}");
            }
        }
        _ => {
            let itype =
                i32::from_le_bytes([rest, &[0; 4]].concat()[..4].try_into().unwrap_or([0; 4]));
            match CardType::from_itype(itype) {
                Ok(_) => assert!((1..=4).contains(&itype)),
                Err(f) => {
                    known(&f);
                    assert_eq!(f.code, codes::WRONG_CARD_TYPE);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every seed and regression input of `fixtures/fuzz/ffi_strings/` holds the property, and
    /// the seeds reach the success path of every parser.
    #[test]
    fn seeds_and_regressions() {
        let here = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let dir = here.join("../fixtures/fuzz/ffi_strings");
        let mut n = 0;
        for entry in std::fs::read_dir(&dir).expect("fixtures/fuzz/ffi_strings") {
            let bytes = std::fs::read(entry.unwrap().path()).unwrap();
            check_ffi_strings(&bytes);
            n += 1;
        }
        assert!(n >= 8, "{} has the seeds", dir.display());
        // the seeds are the interface's own examples: they parse
        assert!(CardInfo::parse("639900D15600000500BF7C7AFFFFFFFF|KD5578904|").is_ok());
        assert!(FileAddress::parse("DF01EF0A|37|$DF01EF15|2A|40:2|$").is_ok());
    }
}
