//! CLA, INS and length errors (part 5 table 5), GET RESPONSE (part 5 §6.6, part 2 §9.3).

use sscard_core::keys::KeyRole;
use sscard_core::profile::Generation;
use sscard_core::Algorithm;

use crate::test_support::*;

#[test]
fn class_instruction_and_length() {
    let mut t = Terminal::new(Generation::V2, Algorithm::Sm4);
    t.select();
    assert_eq!(t.sw("00"), 0x6700);
    assert_eq!(t.sw("00A404"), 0x6700);
    // a CLA no command uses, then unknown INS, then the wrong CLA for a known INS
    for cla in ["04", "0C", "10", "A0", "B0", "BF", "FF"] {
        assert_eq!(t.sw(&format!("{cla}84000008")), 0x6E00, "CLA {cla}");
    }
    for ins in [
        "CA", "44", "04", "18", "28", "2A", "E4", "FA", "DE", "70", "A5",
    ] {
        assert_eq!(t.sw(&format!("00{ins}000000")), 0x6D00, "INS {ins}");
    }
    assert_eq!(t.sw("8084000008"), 0x6E00);
    assert_eq!(t.sw("845E010003FF1234"), 0x6E00);
    assert_eq!(t.sw("001E000104 01020304"), 0x6E00);
    // a body that does not match Lc; extended lengths
    assert_eq!(t.sw("00A4020003EF05"), 0x6700);
    assert_eq!(t.sw("00B00000 000100"), 0x6700);
    assert_eq!(t.sw("00B2010C 00 0000"), 0x6700);
}

#[test]
fn get_response() {
    let mut t = Terminal::new(Generation::V2, Algorithm::Sm4);
    assert_eq!(t.sw("00C0000000"), 0x6F00, "nothing waits");
    assert_eq!(t.sw("00A404000F7378312E73682EC9E7BBE1B1A3D5CF"), 0x611B);
    assert_eq!(
        t.sw("00C0000000"),
        0x6C1B,
        "Le 00 with fewer than 256 bytes"
    );
    assert_eq!(t.sw("00C0000020"), 0x6C1B);
    assert_eq!(t.sw("00C0010000"), 0x6A86);
    assert_eq!(t.sw("80C000001B"), 0x6E00);
    let (part, sw) = t.hex("00C0000010");
    assert_eq!((part.len(), sw), (16, 0x610B));
    let (rest, sw) = t.hex("00C000000B");
    assert_eq!((rest.len(), sw), (11, 0x9000));
    assert_eq!(t.sw("00C000000B"), 0x6F00);
    // another command drops what waits
    assert_eq!(t.sw("00A404000F7378312E73682EC9E7BBE1B1A3D5CF"), 0x611B);
    assert_eq!(t.raw(&[0, 0x84, 0, 0, 8]).1, 0x9000);
    assert_eq!(t.sw("00C000001B"), 0x6F00);
    // case 2 commands answer at once on T=0
    let (r, sw) = t.raw(&[0, 0x84, 0, 0, 8]);
    assert_eq!((r.len(), sw), (8, 0x9000));
}

#[test]
fn t1_cards_never_use_get_response() {
    let mut t = Terminal::with_spec(spec(Generation::V3, Algorithm::Tdes).with_t1());
    let fci = t.select();
    assert_eq!(fci[0], 0x6F);
    // case 4 data at once; a non-zero Le shorter than the data: 6Cxx
    let ia = "008800001032D9E876ADB31BBFDBF7A936D0D18C9E";
    assert_eq!(t.hex(&format!("{ia}00")).0.len(), 8);
    assert_eq!(t.hex(ia).0.len(), 8, "case 3 on T=1: the data anyway");
    assert_eq!(t.sw(&format!("{ia}04")), 0x6C08);
    assert_eq!(t.sw("00C0000000"), 0x6F00);
    assert_eq!(t.authenticate(KeyRole::Rkssse), 0x9000);
}
