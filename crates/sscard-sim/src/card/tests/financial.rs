//! The financial application and the firewall (part 4 §5.1-§5.5).

use sscard_core::keys::KeyRole;
use sscard_core::profile::Generation;
use sscard_core::Algorithm;

use crate::financial::FinancialApp;
use crate::test_support::*;

fn bank_card() -> Terminal {
    let app = FinancialApp::debit("6217000010001234567", "301231").unwrap();
    Terminal::with_spec(spec(Generation::V3, Algorithm::Sm4).with_financial(app))
}

#[test]
fn pse_directory_application_and_records() {
    let mut t = bank_card();
    let (fci, sw) = t.send(&h("00A404000E315041592E5359532E4444463031 00"));
    assert_eq!(sw, 0x9000);
    assert_eq!(
        hex::encode_upper(fci),
        "6F15840E315041592E5359532E4444463031A503880101"
    );
    // the directory, SFI 1 record 1: exact Le, 6Cxx otherwise
    assert_eq!(t.sw("00B2010C00"), 0x6C1D);
    let (dir, sw) = t.hex("00B2010C1D");
    assert_eq!(sw, 0x9000);
    assert_eq!(
        hex::encode_upper(&dir),
        "701B61194F08A000000333010101500A50424F43204445424954870101"
    );
    assert_eq!(t.sw("00B2020C00"), 0x6A83);
    // the application named in the directory
    let (fci, sw) = t.send(&h("00A4040008A000000333010101 00"));
    assert_eq!(sw, 0x9000);
    assert_eq!(
        hex::encode_upper(fci),
        "6F1B8408A000000333010101A50F500A50424F43204445424954870101"
    );
    // GPO with the empty PDOL data: AIP ‖ AFL
    let (gpo, sw) = t.send(&h("80A80000028300 00"));
    assert_eq!(
        (hex::encode_upper(gpo), sw),
        ("8006000008010100".into(), 0x9000)
    );
    assert_eq!(t.sw("80A8000002830100"), 0x6A80);
    assert_eq!(t.sw("80A800000183"), 0x6700);
    assert_eq!(t.sw("80A80100028300"), 0x6A86);
    // the record of the AFL
    let (_, sw) = t.hex("00B2010C00");
    let (record, sw2) = t.hex(&format!("00B2010C{:02X}", sw & 0xFF));
    assert_eq!(sw >> 8, 0x6C);
    assert_eq!(sw2, 0x9000);
    assert_eq!(
        hex::encode_upper(record),
        "7026570E6217000010001234567D3012220F5A0A6217000010001234567F5F24033012315F340101"
    );
}

#[test]
fn the_firewall() {
    let mut t = bank_card();
    t.select();
    assert_eq!(t.authenticate(KeyRole::Ukssse), 0x9000);
    let _ = t.challenge(8);
    // into the financial application: SSSE state, challenge and files are gone
    assert_eq!(t.send(&h("00A4040008A000000333010101")).1, 0x9000);
    assert!(t.card.authenticated_roles().is_empty());
    assert_eq!(t.read_tag(5, 0x01).1, 0x6A82);
    assert_eq!(t.sw("00A4020002EF05"), 0x6A82);
    assert_eq!(t.sw("00B0870000"), 0x6A82);
    assert_eq!(t.sw("0020000000"), 0x6A88);
    let challenge = t.challenge(8);
    let apdu = t.external_auth_apdu(KeyRole::Ukssse, &challenge, [0; 8]);
    assert_eq!(t.raw(&apdu).1, 0x6A88);
    // and back: SSSE knows nothing of the financial files
    t.select();
    assert_eq!(t.sw("00B2010C00"), 0x6A82);
    assert_eq!(t.sw("80A80000028300"), 0x6985);
    // the financial records cannot be written
    assert_eq!(
        t.send(&h("00A404000E315041592E5359532E4444463031")).1,
        0x9000
    );
    assert_eq!(t.sw("00DC010C 03 700100"), 0x6982);
}

#[test]
fn a_card_without_it() {
    let mut t = Terminal::new(Generation::V3, Algorithm::Sm4);
    assert_eq!(t.sw("00A404000E315041592E5359532E4444463031"), 0x6A82);
    assert_eq!(t.sw("00A4040008A000000333010101"), 0x6A82);
    assert_eq!(t.sw("80A80000028300"), 0x6985);
}
