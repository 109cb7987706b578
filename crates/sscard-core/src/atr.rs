//! The answer to reset (ATR, ISO/IEC 7816-3 §8.2; part 2 §8): its structure, walked to the
//! historical bytes, where part 2 table 16 puts the card's manufacturer, region and serial.
//!
//! The historical bytes give the card factor of key diversification
//! ([`crate::crypto::card_factor_from_atr`], part 9 §7.3.3) and the 卡复位信息 of the reader
//! interface ([`crate::lifecycle::CardData::historical_bytes_hex`]).

use thiserror::Error;

/// Why bytes are not an ATR.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum AtrError {
    /// No bytes at all.
    #[error("malformed ATR: empty")]
    Empty,
    /// TS is neither `3B` (direct convention) nor `3F` (inverse).
    #[error("malformed ATR: unknown TS byte {0:02X}")]
    UnknownTs(u8),
    /// The ATR is shorter than the structure its format and interface bytes announce.
    #[error("malformed ATR: {len} bytes is shorter than its structure")]
    Short {
        /// The ATR's length.
        len: usize,
    },
}

/// The historical bytes of an ATR.
///
/// Walks the structure: TS, T0 (Y1 and K, the number of historical bytes), the interface bytes
/// TAi, TBi, TCi, TDi announced by each Yi, then K historical bytes (a TCK may follow). Fails on
/// an unknown TS or when the ATR is shorter than its own structure announces.
pub fn historical_bytes(atr: &[u8]) -> Result<&[u8], AtrError> {
    let short = || AtrError::Short { len: atr.len() };
    match atr.first() {
        Some(0x3B | 0x3F) => {}
        Some(&ts) => return Err(AtrError::UnknownTs(ts)),
        None => return Err(AtrError::Empty),
    }
    let t0 = *atr.get(1).ok_or_else(short)?;
    let k = usize::from(t0 & 0x0F);
    let mut y = t0 >> 4;
    let mut pos = 2usize;
    loop {
        pos += (y & 0x07).count_ones() as usize;
        if y & 0x08 == 0 {
            break;
        }
        let td = *atr.get(pos).ok_or_else(short)?;
        pos += 1;
        y = td >> 4;
    }
    atr.get(pos..pos + k).ok_or_else(short)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn field_trace_atr() {
        // the 3.0 SM4 card of the field trace (`加密机方式指令流.txt`)
        let atr = hex::decode("3B6D000000814A444686605199000001AC").unwrap();
        assert_eq!(
            hex::encode_upper(historical_bytes(&atr).unwrap()),
            "00814A444686605199000001AC"
        );
    }

    #[test]
    fn interface_bytes_and_tck_are_skipped() {
        // TS, T0 (Y1=9: TA1 TD1; K=13), TA1, TD1 (Y2=8: TD2; T=1), TD2 (Y3=1: TA3; T=15), TA3,
        // 13 historical bytes, TCK
        let hist = "0102030405060708090A0B0C0D";
        let atr = hex::decode(format!("3B9D13811FFE{hist}AA")).unwrap();
        assert_eq!(
            hex::encode_upper(historical_bytes(&atr).unwrap()),
            hist.to_uppercase()
        );
    }

    #[test]
    fn malformed_atrs_are_errors() {
        assert_eq!(historical_bytes(&[]), Err(AtrError::Empty));
        assert_eq!(historical_bytes(&[0x3B]), Err(AtrError::Short { len: 1 }));
        assert_eq!(
            historical_bytes(&hex::decode("12000000").unwrap()),
            Err(AtrError::UnknownTs(0x12))
        );
        // announces 13 historical bytes, carries 12
        let atr = hex::decode("3B6D000000814A444686605199000001").unwrap();
        assert_eq!(historical_bytes(&atr), Err(AtrError::Short { len: 16 }));
        // announces TD1, which is missing
        assert_eq!(
            historical_bytes(&[0x3B, 0x80]),
            Err(AtrError::Short { len: 2 })
        );
    }
}
