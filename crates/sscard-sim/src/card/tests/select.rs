//! SELECT (part 5 §6.11) and the ATR (part 2 §8).

use sscard_core::profile::Generation;
use sscard_core::Algorithm;

use crate::test_support::*;

const SELECT_SSSE: &str = "00A404000F7378312E73682EC9E7BBE1B1A3D5CF";
const FCI_SM4: &str = "6F19840F7378312E73682EC9E7BBE1B1A3D5CFA5069F0C03860103";

#[test]
fn atr_is_the_basic_t0_atr_with_the_part_2_historical_bytes() {
    let t = Terminal::new(Generation::V3, Algorithm::Sm4);
    // 3B 6D 00 00 | 00 81 (chip) 4A 44 46 (COS) 86 60 (maker) 51 99 (region) 00 00 01 AC
    // (serial): with the default T1-T7 the field trace's ATR
    assert_eq!(
        hex::encode_upper(t.card.atr()),
        "3B6D000000814A444686605199000001AC"
    );
    let factors = t.card.factors().unwrap();
    assert_eq!(
        factors.card,
        [0x86, 0x60, 0x51, 0x99, 0x00, 0x00, 0x01, 0xAC]
    );
    assert_eq!(factors, t.spec.factors());
    // the card identification code carries the issuer's serial, not the ATR's
    let id = t.card.image().card_id().unwrap().to_vec();
    assert_eq!(hex::encode_upper(id), "519900D15600000510000B26FFFFFFFF");
    // T=1 for tests: TD1 announces T=1, same historical bytes, a TCK
    let mut t1 = Terminal::with_spec(spec(Generation::V3, Algorithm::Sm4).with_t1());
    let atr = t1.card.atr();
    assert_eq!(&atr[..8], &h("3BED00008131FE45")[..]);
    assert_eq!(atr.iter().skip(1).fold(0, |x, b| x ^ b), 0);
    assert_eq!(
        sscard_core::crypto::card_factor_from_atr(&atr).unwrap(),
        factors.card
    );
    t1.card.set_t0(true);
    assert_eq!(t1.card.atr(), t.card.atr());
}

#[test]
fn select_ssse_answers_the_table_36_fci_through_get_response_on_t0() {
    let mut t = Terminal::new(Generation::V3, Algorithm::Sm4);
    // the field trace's command: case 3, the card answers 61xx
    assert_eq!(t.sw(SELECT_SSSE), 0x611B);
    let (fci, sw) = t.hex("00C000001B");
    assert_eq!((hex::encode_upper(fci), sw), (FCI_SM4.into(), 0x9000));
    // with Le 00 (case 4) the same
    assert_eq!(t.sw(&format!("{SELECT_SSSE}00")), 0x611B);
    // 3DES: algorithm byte 01
    let mut t = Terminal::new(Generation::V1, Algorithm::Tdes);
    let fci = t.select();
    assert_eq!(fci[fci.len() - 1], 0x01);
    assert_eq!(&fci[fci.len() - 6..fci.len() - 1], &h("9F0C038601")[..]);
}

#[test]
fn on_t1_the_fci_comes_at_once() {
    let mut t = Terminal::with_spec(spec(Generation::V2, Algorithm::Sm4).with_t1());
    let (fci, sw) = t.hex(SELECT_SSSE);
    assert_eq!((hex::encode_upper(fci), sw), (FCI_SM4.into(), 0x9000));
    let (fci, sw) = t.hex(&format!("{SELECT_SSSE}00"));
    assert_eq!((fci.len(), sw), (27, 0x9000));
    // a non-zero Le shorter than the FCI
    assert_eq!(t.sw(&format!("{SELECT_SSSE}10")), 0x6C1B);
}

#[test]
fn select_errors() {
    let mut t = Terminal::new(Generation::V2, Algorithm::Sm4);
    // unknown name, PSE on a card without financial application
    assert_eq!(t.sw("00A4040006D15600000590"), 0x6A82);
    assert_eq!(t.sw("00A404000E315041592E5359532E4444463031"), 0x6A82);
    // Lc: a name of 5 to 16 bytes, an FID of 2
    assert_eq!(t.sw("00A4040004D1560000"), 0x6700);
    assert_eq!(t.sw("00A40400"), 0x6700);
    assert_eq!(t.sw("00A4020003EF0500"), 0x6700);
    assert_eq!(t.sw("00A40200"), 0x6700);
    // P1 and P2
    assert_eq!(t.sw(&SELECT_SSSE.replace("00A40400", "00A40800")), 0x6A86);
    assert_eq!(t.sw(&SELECT_SSSE.replace("00A40400", "00A4040C")), 0x6A86);
    // the next occurrence never exists (no partial names)
    assert_eq!(t.sw(&SELECT_SSSE.replace("00A40400", "00A40402")), 0x6A82);
    // CLA
    assert_eq!(t.sw(&SELECT_SSSE.replace("00A4", "80A4")), 0x6E00);
    // EFs only inside SSSE, and only with P1 02
    assert_eq!(t.sw("00A4020002EF05"), 0x6A82);
    t.select();
    assert_eq!(t.sw("00A4000002EF05"), 0x6A82);
    assert_eq!(t.sw("00A4020002EF05"), 0x9000);
    assert_eq!(t.sw("00A4020002EF08"), 0x9000);
    assert_eq!(t.sw("00A4020002EF09"), 0x6A82);
    assert_eq!(t.sw("00A4020202EF05"), 0x6A82);
    // a failed SELECT keeps the selection
    assert_eq!(t.sw("00A4040006D15600000590"), 0x6A82);
    assert_eq!(t.sw("00A4020002EF06"), 0x9000);
}

#[test]
fn mf_selection_and_1_0_files() {
    let mut t = Terminal::new(Generation::V1, Algorithm::Tdes);
    t.select();
    assert_eq!(t.sw("00A4020002EF07"), 0x6A82, "1.0 cards have no EF07");
    assert_eq!(t.sw("00A4020002EF08"), 0x6A82);
    assert_eq!(t.sw("00A40000023F00"), 0x9000);
    assert_eq!(t.sw("00A4020002EF05"), 0x6A82, "the MF has no EF05");
    t.select();
    assert_eq!(t.sw("00A4000000"), 0x9000, "P1 00 without data: the MF");
    assert_eq!(t.sw("00A4000002DF01"), 0x6A82);
    assert_eq!(t.sw("00A40002023F00"), 0x6A82);
}
