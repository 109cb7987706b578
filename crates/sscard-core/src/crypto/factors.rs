//! The diversification factors of a card: the card factor from its ATR and the city factor
//! from its region code.

use super::CryptoError;
use crate::data::RegionCode;

/// The two diversification factors of a card (`docs/card-os.md` §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CardFactors {
    /// The card factor: the last 8 bytes of the ATR historical bytes.
    pub card: [u8; 8],
    /// The city factor: the 6-digit region code in ASCII ‖ `73 78`.
    pub city: [u8; 8],
}

impl CardFactors {
    /// The factors of the card with this ATR issued in `region`.
    pub fn new(atr: &[u8], region: &RegionCode) -> Result<CardFactors, CryptoError> {
        Ok(CardFactors {
            card: card_factor_from_atr(atr)?,
            city: city_factor(region),
        })
    }
}

/// The historical bytes of an ATR (ISO/IEC 7816-3 §8.2).
///
/// Walks the structure: TS, T0 (Y1 and K, the number of historical bytes), then the interface
/// bytes TAi, TBi, TCi, TDi announced by each Yi, then K historical bytes (a TCK may follow).
/// Fails on an unknown TS or when the ATR is shorter than its own structure announces.
pub fn historical_bytes(atr: &[u8]) -> Result<&[u8], CryptoError> {
    let short = || CryptoError::Atr(format!("{} bytes is shorter than its structure", atr.len()));
    match atr.first() {
        Some(0x3B | 0x3F) => {}
        Some(ts) => return Err(CryptoError::Atr(format!("unknown TS byte {ts:02X}"))),
        None => return Err(CryptoError::Atr("empty".into())),
    }
    let t0 = *atr.get(1).ok_or_else(short)?;
    let k = usize::from(t0 & 0x0F);
    let mut y = t0 >> 4;
    let mut pos = 2usize;
    loop {
        // TAi, TBi, TCi: one byte each when announced
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

/// The card factor: the last 8 bytes of the ATR historical bytes.
pub fn card_factor_from_atr(atr: &[u8]) -> Result<[u8; 8], CryptoError> {
    let hist = historical_bytes(atr)?;
    let start = hist
        .len()
        .checked_sub(8)
        .ok_or(CryptoError::ShortHistoricalBytes(hist.len()))?;
    hist.get(start..)
        .and_then(|tail| tail.try_into().ok())
        .ok_or(CryptoError::ShortHistoricalBytes(hist.len()))
}

/// The city factor: the region code's 6 ASCII digits ‖ `73 78`.
pub fn city_factor(region: &RegionCode) -> [u8; 8] {
    let digits = region.ascii();
    [
        digits[0], digits[1], digits[2], digits[3], digits[4], digits[5], 0x73, 0x78,
    ]
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    /// The historical bytes of the reference card (`iReadCardBas` example), behind a T=0
    /// ATR carrying TB1 and TC1.
    const HIST: &str = "00814E43238697159900BF7C7A";

    #[test]
    fn reference_atr() {
        let atr = hex::decode(format!("3B6D0000{HIST}")).unwrap();
        assert_eq!(hex::encode_upper(historical_bytes(&atr).unwrap()), HIST);
        let f = card_factor_from_atr(&atr).unwrap();
        assert_eq!(hex::encode_upper(f), "8697159900BF7C7A");
        // the chip serial of the reference card identification code is its last 4 bytes
        assert_eq!(hex::encode_upper(&f[4..]), "00BF7C7A");
    }

    #[test]
    fn interface_bytes_and_tck_are_skipped() {
        // TS, T0 (Y1=9: TA1 TD1; K=10), TA1, TD1 (Y2=8: TD2; T=1), TD2 (Y3=1: TA3; T=15),
        // TA3, 10 historical bytes, TCK
        let hist = "0102030405060708090A";
        let atr = hex::decode(format!("3B9A13811FFE{hist}AA")).unwrap();
        assert_eq!(
            hex::encode_upper(historical_bytes(&atr).unwrap()),
            hist.to_uppercase()
        );
        assert_eq!(
            card_factor_from_atr(&atr).unwrap(),
            [3, 4, 5, 6, 7, 8, 9, 10]
        );
        // no interface bytes at all
        let atr = hex::decode("3B0811223344556677CC").unwrap();
        assert_eq!(
            card_factor_from_atr(&atr).unwrap(),
            [0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0xCC]
        );
    }

    #[test]
    fn malformed_atrs_are_errors() {
        assert!(historical_bytes(&[]).is_err());
        assert!(historical_bytes(&[0x3B]).is_err());
        assert!(historical_bytes(&hex::decode("12000000").unwrap()).is_err());
        // announces 13 historical bytes, carries 12
        let atr = hex::decode("3B6D000000814E43238697159900BF7C").unwrap();
        assert!(matches!(historical_bytes(&atr), Err(CryptoError::Atr(_))));
        // TD1 announced but missing
        assert!(historical_bytes(&[0x3B, 0x80]).is_err());
        // fewer than 8 historical bytes
        let atr = hex::decode("3B0711223344556677").unwrap();
        assert_eq!(
            card_factor_from_atr(&atr),
            Err(CryptoError::ShortHistoricalBytes(7))
        );
    }

    #[test]
    fn city_factor_is_ascii_region_and_7378() {
        let region = RegionCode::parse("639900").unwrap();
        assert_eq!(city_factor(&region), *b"639900sx");
        assert_eq!(hex::encode_upper(city_factor(&region)), "3633393930307378");
        let atr = hex::decode(format!("3B6D0000{HIST}")).unwrap();
        let f = CardFactors::new(&atr, &region).unwrap();
        assert_eq!(f.city, *b"639900sx");
    }
}
