//! The answer to reset of the simulated card (part 2 §8).
//!
//! The default is the basic T=0 ATR of part 2 table 7 without TA1: `3B 6D 00 00` (T0 `6D`: TB1
//! and TC1 present, 13 historical bytes; TB1 `00`, no VPP; TC1 `00`, no extra guard time), no
//! TD1, so T=0 and no TCK (§8.3.3.11). The 13 historical bytes follow part 2 table 16:
//!
//! | bytes | content |
//! |---|---|
//! | T1-T2 | chip provider registration number |
//! | T3-T5 | defined by the chip or COS provider |
//! | T6-T7 | card manufacturer registration number |
//! | T8-T9 | the first four digits of the issuing region, BCD |
//! | TA-TD | the card's serial, unique in the region |
//!
//! T6 to TD are the card factor of key diversification (part 9 §7.3.3).
//!
//! For tests of T=1 stacks the card can also announce T=1 ([`atr`] with `t0 = false`):
//! `3B ED 00 00 81 31 FE 45` (TD1 `81`: T=1, TD2 follows; TD2 `31`: T=1, TA3 and TB3; TA3 `FE`:
//! IFSC 254; TB3 `45`: BWI 4, CWI 5), the same historical bytes, then the TCK that a T=1 ATR
//! needs (ISO/IEC 7816-3 §8.2.5).

use sscard_core::data::RegionCode;

/// Number of historical bytes of the card's ATR.
pub const HISTORICAL_LEN: usize = 13;

/// Default T1-T2 of the simulated card: the field trace card's (`docs/card-os.md` §1.1).
pub const DEFAULT_CHIP_PROVIDER: [u8; 2] = [0x00, 0x81];
/// Default T3-T5 of the simulated card: the field trace card's.
pub const DEFAULT_COS: [u8; 3] = [0x4A, 0x44, 0x46];
/// Default T6-T7 of the simulated card: the field trace card's.
pub const DEFAULT_MANUFACTURER: [u8; 2] = [0x86, 0x60];

/// The 13 historical bytes of part 2 table 16.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct HistoricalBytes {
    /// T1-T2: the chip provider.
    pub chip_provider: [u8; 2],
    /// T3-T5: chip or COS provider's own bytes.
    pub cos: [u8; 3],
    /// T6-T7: the card manufacturer.
    pub manufacturer: [u8; 2],
    /// T8-T9: the first four digits of the issuing region, BCD.
    pub region: [u8; 2],
    /// TA-TD: the card's serial (the ATR serial).
    pub serial: [u8; 4],
}

impl HistoricalBytes {
    /// The historical bytes of a card of `region` with the default T1-T7 and `serial`.
    pub fn new(region: &RegionCode, serial: [u8; 4]) -> HistoricalBytes {
        let [r0, r1, _] = region.to_bcd();
        HistoricalBytes {
            chip_provider: DEFAULT_CHIP_PROVIDER,
            cos: DEFAULT_COS,
            manufacturer: DEFAULT_MANUFACTURER,
            region: [r0, r1],
            serial,
        }
    }

    /// The 13 bytes T1..TD.
    pub fn to_bytes(&self) -> [u8; HISTORICAL_LEN] {
        let [a, b] = self.chip_provider;
        let [c, d, e] = self.cos;
        let [f, g] = self.manufacturer;
        let [h, i] = self.region;
        let [j, k, l, m] = self.serial;
        [a, b, c, d, e, f, g, h, i, j, k, l, m]
    }

    /// Splits 13 bytes into their fields.
    pub fn from_bytes(bytes: &[u8; HISTORICAL_LEN]) -> HistoricalBytes {
        let [a, b, c, d, e, f, g, h, i, j, k, l, m] = *bytes;
        HistoricalBytes {
            chip_provider: [a, b],
            cos: [c, d, e],
            manufacturer: [f, g],
            region: [h, i],
            serial: [j, k, l, m],
        }
    }

    /// The card factor T6..TD (part 9 §7.3.3).
    pub fn card_factor(&self) -> [u8; 8] {
        let [f, g] = self.manufacturer;
        let [h, i] = self.region;
        let [j, k, l, m] = self.serial;
        [f, g, h, i, j, k, l, m]
    }
}

/// The ATR announcing `historical` (at most 15 bytes): the basic T=0 ATR of part 2 table 7 when
/// `t0`, otherwise the T=1 ATR of the module documentation with its TCK.
pub fn atr(historical: &[u8], t0: bool) -> Vec<u8> {
    let historical = historical.get(..15).unwrap_or(historical);
    let k = historical.len() as u8;
    let mut out = Vec::with_capacity(historical.len() + 9);
    if t0 {
        out.extend_from_slice(&[0x3B, 0x60 | k, 0x00, 0x00]);
        out.extend_from_slice(historical);
    } else {
        out.extend_from_slice(&[0x3B, 0xE0 | k, 0x00, 0x00, 0x81, 0x31, 0xFE, 0x45]);
        out.extend_from_slice(historical);
        let tck = out.iter().skip(1).fold(0u8, |x, b| x ^ b);
        out.push(tck);
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use sscard_core::atr::historical_bytes;
    use sscard_core::crypto::card_factor_from_atr;

    /// The field trace's ATR (`加密机方式指令流.txt`) is exactly this layout.
    #[test]
    fn field_trace_layout() {
        let hist: [u8; 13] = hex::decode("00814A444686605199000001AC")
            .unwrap()
            .try_into()
            .unwrap();
        let h = HistoricalBytes::from_bytes(&hist);
        assert_eq!(h.region, [0x51, 0x99]);
        assert_eq!(h.serial, [0x00, 0x00, 0x01, 0xAC]);
        assert_eq!(h.to_bytes(), hist);
        let atr = atr(&hist, true);
        assert_eq!(
            hex::encode_upper(&atr),
            "3B6D000000814A444686605199000001AC"
        );
        assert_eq!(card_factor_from_atr(&atr).unwrap(), h.card_factor());
    }

    #[test]
    fn t1_atr_has_a_tck_and_the_same_historical_bytes() {
        let region = RegionCode::parse("440305").unwrap();
        let h = HistoricalBytes::new(&region, [1, 2, 3, 4]);
        assert_eq!(h.region, [0x44, 0x03]);
        let t1 = atr(&h.to_bytes(), false);
        assert_eq!(t1.iter().skip(1).fold(0u8, |x, b| x ^ b), 0);
        assert_eq!(historical_bytes(&t1).unwrap(), h.to_bytes());
        assert_eq!(card_factor_from_atr(&t1).unwrap(), h.card_factor());
        let t0 = atr(&h.to_bytes(), true);
        assert_eq!(t0.len(), 17);
        assert_eq!(card_factor_from_atr(&t0).unwrap(), h.card_factor());
    }
}
