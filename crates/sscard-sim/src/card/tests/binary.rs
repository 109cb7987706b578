//! READ BINARY and UPDATE BINARY of EF07 and EF08 (part 5 §6.9, §6.12; \[design\] D11).

use sscard_core::keys::KeyRole;
use sscard_core::profile::Generation;
use sscard_core::Algorithm;

use crate::test_support::*;

#[test]
fn fingerprint_and_photo_need_the_keys() {
    let mut t = Terminal::new(Generation::V2, Algorithm::Sm4);
    t.select();
    // read needs RKSSSE, write UKSSSE, on 2.0 as on 3.0
    assert_eq!(t.sw("00B0870000"), 0x6982);
    assert_eq!(t.sw("00D6880003010203"), 0x6982);
    assert_eq!(t.authenticate(KeyRole::Ukssse), 0x9000);
    assert_eq!(t.sw("00D6880003010203"), 0x9000);
    assert_eq!(t.sw("00B0880000"), 0x6982);
    assert_eq!(t.authenticate(KeyRole::Rkssse), 0x9000);
    let (data, sw) = t.hex("00B0880004");
    assert_eq!((data, sw), (vec![1, 2, 3, 0], 0x9000));
    // both keys stay authenticated
    assert_eq!(t.sw("00D6870102 AABB"), 0x9000);
    let (data, _) = t.hex("00B0870102");
    assert_eq!(data, [0xAA, 0xBB]);
}

#[test]
fn offsets_and_lengths() {
    let mut t = Terminal::new(Generation::V3, Algorithm::Tdes);
    t.select();
    assert_eq!(t.authenticate(KeyRole::Ukssse), 0x9000);
    assert_eq!(t.authenticate(KeyRole::Rkssse), 0x9000);
    // Le 00: 256 bytes
    let (data, sw) = t.hex("00B0870000");
    assert_eq!((data.len(), sw), (256, 0x9000));
    // current-EF form: P1 P2 is a 15-bit offset; EF07 became current through its SFI
    assert_eq!(t.sw("00D602FE 02 1122"), 0x9000);
    let (data, _) = t.hex("00B002FE02");
    assert_eq!(data, [0x11, 0x22]);
    // the last bytes: Le 00 gives what is left, a larger Le 6Cxx
    let (data, sw) = t.hex("00B002F000");
    assert_eq!((data.len(), sw), (16, 0x9000));
    assert_eq!(t.sw("00B002F020"), 0x6C10);
    // at or past the end
    assert_eq!(t.sw("00B0030000"), 0x6B00);
    assert_eq!(t.sw("00D6030001 00"), 0x6B00);
    assert_eq!(t.sw("00D602FF02 0000"), 0x6700);
    // EF08 has 0x1000 bytes
    assert_eq!(t.sw("00A4020002EF08"), 0x9000);
    assert_eq!(t.sw("00D60FFF01 77"), 0x9000);
    assert_eq!(t.hex("00B00FFF01").0, [0x77]);
    assert_eq!(t.sw("00B0100001"), 0x6B00);
    assert_eq!(t.card.image().ef08.as_ref().unwrap().0.len(), 0x1000);
    // P1 with b8 set: b7-b6 must be 0, an SFI must be given
    assert_eq!(t.sw("00B0C70000"), 0x6A86);
    assert_eq!(t.sw("00B0800000"), 0x6A86);
    // record files, unknown SFIs, no current EF
    assert_eq!(t.sw("00B0850000"), 0x6981);
    assert_eq!(t.sw("00B0890000"), 0x6A82);
    t.select();
    assert_eq!(t.sw("00B0000000"), 0x6986);
    assert_eq!(t.sw("00A4020002EF05"), 0x9000);
    assert_eq!(t.sw("00B0000000"), 0x6981);
    // Lc
    assert_eq!(t.sw("00D68700"), 0x6700);
    assert_eq!(t.sw("00B08700 01 00 00"), 0x6700);
}

#[test]
fn one_point_zero_cards_have_no_transparent_files() {
    let mut t = Terminal::new(Generation::V1, Algorithm::Tdes);
    t.select();
    assert_eq!(t.authenticate(KeyRole::Rkssse), 0x9000);
    assert_eq!(t.sw("00B0870000"), 0x6A82);
    assert_eq!(t.sw("00B0880000"), 0x6A82);
}
