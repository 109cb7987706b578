//! The diversification factors of a card (分散因子), part 9 §7.3 and reader interface §10.3:
//! the province factor and the city factor from the region code of the card identification
//! code, the card factor from the ATR historical bytes.

use super::CryptoError;
use crate::atr::historical_bytes;
use crate::data::RegionCode;

/// The three diversification factors of a card, applied to a national root key in this order
/// (part 9 figure 12).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CardFactors {
    /// Level 1, the province factor: [`province_factor`].
    pub province: [u8; 8],
    /// Level 2, the city factor: [`city_factor`].
    pub city: [u8; 8],
    /// Level 3, the card factor: [`card_factor_from_atr`].
    pub card: [u8; 8],
}

impl CardFactors {
    /// The factors of the card with this ATR whose card identification code carries `region`.
    pub fn new(atr: &[u8], region: &RegionCode) -> Result<CardFactors, CryptoError> {
        Ok(CardFactors {
            province: province_factor(region),
            city: city_factor(region),
            card: card_factor_from_atr(atr)?,
        })
    }

    /// The factors a key held at `level` still needs, in the order they are applied: a national
    /// root (level 1) takes province, city and card; a province key (level 2) city and card; a
    /// city key (level 3) the card factor; a card key (level 4) none.
    pub fn path_from(&self, level: KeyLevel) -> Vec<[u8; 8]> {
        match level {
            KeyLevel::National => vec![self.province, self.city, self.card],
            KeyLevel::Province => vec![self.city, self.card],
            KeyLevel::City => vec![self.card],
            KeyLevel::Card => Vec::new(),
        }
    }
}

/// Where in the diversification tree of part 9 figure 12 a key sits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KeyLevel {
    /// The national root (一级根密钥): three diversifications to a card key.
    National,
    /// A province key (二级根密钥): two.
    Province,
    /// A city key (三级根密钥): one.
    City,
    /// A card key (卡级密钥): the key inside one card.
    Card,
}

impl KeyLevel {
    /// How many diversifications a key at this level needs to become a card key (3, 2, 1, 0);
    /// the `N` of DELIVERY SESSION KEY (part 9 §9.7.3) and the b8-b6 of a PSAM key's usage byte.
    pub fn diversifications(self) -> u8 {
        match self {
            KeyLevel::National => 3,
            KeyLevel::Province => 2,
            KeyLevel::City => 1,
            KeyLevel::Card => 0,
        }
    }

    /// The level whose keys need `n` diversifications.
    pub fn from_diversifications(n: u8) -> Option<KeyLevel> {
        match n {
            3 => Some(KeyLevel::National),
            2 => Some(KeyLevel::Province),
            1 => Some(KeyLevel::City),
            0 => Some(KeyLevel::Card),
            _ => None,
        }
    }
}

/// The card factor (三级分散因子): the 6th to 13th ATR historical bytes, T6..TD (part 9
/// §7.3.3; part 2 table 16: T6-T7 manufacturer, T8-T9 the region's first four digits, TA-TD the
/// card's serial).
pub fn card_factor_from_atr(atr: &[u8]) -> Result<[u8; 8], CryptoError> {
    let hist = historical_bytes(atr)?;
    hist.get(5..13)
        .and_then(|bytes| bytes.try_into().ok())
        .ok_or(CryptoError::ShortHistoricalBytes(hist.len()))
}

/// The province factor (一级分散因子): the ASCII of the region code's first two digits ‖
/// `30 30 30 30 73 68` (part 9 §7.3.1).
pub fn province_factor(region: &RegionCode) -> [u8; 8] {
    let d = region.ascii();
    [d[0], d[1], 0x30, 0x30, 0x30, 0x30, 0x73, 0x68]
}

/// The city factor (二级分散因子): the ASCII of the six digits ‖ `73 78` (part 9 §7.3.2); for
/// regions beginning with `33` (Zhejiang) the ASCII of the first four digits ‖ `30 30 73 78`
/// (reader interface §10.3).
pub fn city_factor(region: &RegionCode) -> [u8; 8] {
    let d = region.ascii();
    if d[0] == b'3' && d[1] == b'3' {
        [d[0], d[1], d[2], d[3], 0x30, 0x30, 0x73, 0x78]
    } else {
        [d[0], d[1], d[2], d[3], d[4], d[5], 0x73, 0x78]
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::atr::AtrError;

    /// The ATR of the 3.0 SM4 card of the field trace (`加密机方式指令流.txt`).
    const TRACE_ATR: &str = "3B6D000000814A444686605199000001AC";

    #[test]
    fn trace_atr_card_factor() {
        let atr = hex::decode(TRACE_ATR).unwrap();
        let f = card_factor_from_atr(&atr).unwrap();
        assert_eq!(hex::encode_upper(f), "86605199000001AC");
        // T8-T9 are the first four digits of the region (part 2 table 16)
        assert_eq!(&f[2..4], &[0x51, 0x99]);
    }

    #[test]
    fn province_and_city_factors() {
        let region = RegionCode::parse("519900").unwrap();
        assert_eq!(
            hex::encode_upper(province_factor(&region)),
            "3531303030307368"
        );
        assert_eq!(hex::encode_upper(city_factor(&region)), "3531393930307378");
        // part 9 §7.3.1's example: 650100 → 36 35 …
        let region = RegionCode::parse("650100").unwrap();
        assert_eq!(
            hex::encode_upper(province_factor(&region)),
            "3635303030307368"
        );
        assert_eq!(hex::encode_upper(city_factor(&region)), "3635303130307378");
        // reader interface §10.3: Zhejiang, 3301 → 33 33 30 31 30 30 73 78
        let region = RegionCode::parse("330100").unwrap();
        assert_eq!(hex::encode_upper(city_factor(&region)), "3333303130307378");
        let region = RegionCode::parse("330782").unwrap();
        assert_eq!(hex::encode_upper(city_factor(&region)), "3333303730307378");
        assert_eq!(
            hex::encode_upper(province_factor(&region)),
            "3333303030307368"
        );
    }

    #[test]
    fn paths_by_level() {
        let atr = hex::decode(TRACE_ATR).unwrap();
        let f = CardFactors::new(&atr, &RegionCode::parse("519900").unwrap()).unwrap();
        assert_eq!(
            f.path_from(KeyLevel::National),
            vec![f.province, f.city, f.card]
        );
        assert_eq!(f.path_from(KeyLevel::Province), vec![f.city, f.card]);
        assert_eq!(f.path_from(KeyLevel::City), vec![f.card]);
        assert!(f.path_from(KeyLevel::Card).is_empty());
        for n in 0..4 {
            assert_eq!(
                KeyLevel::from_diversifications(n)
                    .unwrap()
                    .diversifications(),
                n
            );
        }
        assert_eq!(KeyLevel::from_diversifications(4), None);
    }

    #[test]
    fn interface_bytes_and_tck_are_skipped() {
        // TS, T0 (Y1=9: TA1 TD1; K=13), TA1, TD1 (Y2=8: TD2; T=1), TD2 (Y3=1: TA3; T=15), TA3,
        // 13 historical bytes, TCK
        let hist = "0102030405060708090A0B0C0D";
        let atr = hex::decode(format!("3B9D13811FFE{hist}AA")).unwrap();
        assert_eq!(
            card_factor_from_atr(&atr).unwrap(),
            [6, 7, 8, 9, 10, 11, 12, 13]
        );
    }

    #[test]
    fn malformed_atrs_are_errors() {
        // announces 13 historical bytes, carries 12
        let atr = hex::decode("3B6D000000814A444686605199000001").unwrap();
        assert!(matches!(
            card_factor_from_atr(&atr),
            Err(CryptoError::Atr(AtrError::Short { len: 16 }))
        ));
        // 12 historical bytes: no TD
        let atr = hex::decode("3B0C112233445566778899AABBCC").unwrap();
        assert_eq!(
            card_factor_from_atr(&atr),
            Err(CryptoError::ShortHistoricalBytes(12))
        );
    }
}
