//! APPLICATION BLOCK and CARD BLOCK (part 5 §6.1, §6.2; part 7 §13; \[design\] D4, D12, D13).

use sscard_core::keys::KeyRole;
use sscard_core::profile::Generation;
use sscard_core::Algorithm;

use crate::card::SimCard;
use crate::test_support::*;

const APPLICATION_BLOCK: [u8; 4] = [0x84, 0x1E, 0x00, 0x01];
const CARD_BLOCK: [u8; 4] = [0x84, 0x16, 0x00, 0x00];

#[test]
fn application_block_is_permanent_and_answers_9303() {
    let mut t = Terminal::personalized(Generation::V2, Algorithm::Sm4);
    t.select();
    assert_eq!(t.maintenance(APPLICATION_BLOCK, &[]), 0x6982, "BK first");
    assert_eq!(t.authenticate(KeyRole::Bk), 0x9000);
    assert_eq!(t.sw("841E0001 04 01020304"), 0x6984, "no challenge");
    t.challenge(8);
    assert_eq!(t.sw("841E0001 04 01020304"), 0x6988, "wrong MAC");
    assert_eq!(t.maintenance(APPLICATION_BLOCK, &[]), 0x9000);
    assert!(t.card.image().ssse_blocked);
    // inside the blocked application every command answers 9303
    for apdu in [
        "0084000008",
        "00B2010C00",
        "0020000000",
        "00C0000010",
        "00A4020002EF05",
        "0047000000",
    ] {
        assert_eq!(t.sw(apdu), 0x9303, "{apdu}");
    }
    // selecting it again: 9303; the MF is still reachable
    assert_eq!(t.sw("00A404000F7378312E73682EC9E7BBE1B1A3D5CF"), 0x9303);
    assert_eq!(t.sw("00A40000023F00"), 0x9000);
    assert_eq!(t.sw("0084000008"), 0x9000);
    // for good
    let json = t.card.save_json().unwrap();
    let mut again = SimCard::load_json(&json).unwrap();
    let (_, sw) = split(again.handle(&h("00A404000F7378312E73682EC9E7BBE1B1A3D5CF")));
    assert_eq!(sw, 0x9303);
}

#[test]
fn application_block_parameters() {
    let mut t = Terminal::new(Generation::V2, Algorithm::Tdes);
    t.select();
    assert_eq!(t.authenticate(KeyRole::Bk), 0x9000);
    assert_eq!(t.maintenance([0x84, 0x1E, 0x00, 0x00], &[]), 0x6A86);
    assert_eq!(t.sw("841E0001 05 0102030405"), 0x6700);
    assert_eq!(t.sw("801E0001 04 01020304"), 0x6E00);
    // a MAC from the BK itself is not the STKSSSE MAC
    let challenge = t.challenge(8);
    let bk =
        sscard_core::crypto::process_key(Algorithm::Tdes, &t.card_key(KeyRole::Bk), &challenge)
            .unwrap();
    let apdu = t.mac_apdu(&bk, APPLICATION_BLOCK, &[]);
    assert_eq!(t.raw(&apdu).1, 0x6988);
    assert!(!t.card.image().ssse_blocked);
    // PUK does not allow blocking
    let mut p = Terminal::new(Generation::V2, Algorithm::Tdes);
    p.select();
    assert_eq!(p.authenticate(KeyRole::Puk), 0x9000);
    assert_eq!(p.maintenance(APPLICATION_BLOCK, &[]), 0x6982);
}

#[test]
fn card_block_silences_the_card_with_6a81() {
    let mut t = Terminal::personalized(Generation::V3, Algorithm::Tdes);
    t.select();
    assert_eq!(t.maintenance(CARD_BLOCK, &[]), 0x6982);
    assert_eq!(t.authenticate(KeyRole::Bk), 0x9000);
    assert_eq!(t.maintenance([0x84, 0x16, 0x00, 0x01], &[]), 0x6A86);
    assert_eq!(t.maintenance(CARD_BLOCK, &[]), 0x9000);
    assert!(t.card.image().card_blocked);
    for apdu in [
        "00A404000F7378312E73682EC9E7BBE1B1A3D5CF",
        "00A40000023F00",
        "0084000008",
        "00C0000000",
        "FFFFFFFF",
        "00",
    ] {
        assert_eq!(t.sw(apdu), 0x6A81, "{apdu}");
    }
    t.card.reset();
    assert_eq!(t.sw("00A40000023F00"), 0x6A81);
}
