//! Unit tests of the card OS, command by command, and the lifecycle at the APDU level.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;
use crate::test_support::*;

use sscard_core::apdu::commands::{self, RecordRef};

const EF05_SFI_TAG: u8 = 5 << 3;
const EF05_SFI_NUMBER: u8 = (5 << 3) | 0b100;
const EF05_SFI_ALL: u8 = (5 << 3) | 0b101;
const EF06_SFI_TAG: u8 = 6 << 3;

#[test]
fn atr_layout_and_card_factor() {
    let mut t = Terminal::new(Generation::V2, Algorithm::Tdes);
    // default: T=1 ATR (TB1, TC1, TD1=81, TD2=31, TA3=FE, TB3=45), 13 historical bytes, TCK
    let atr = t.card.atr();
    assert_eq!(
        hex::encode_upper(&atr),
        "3BED00008131FE45008153534341524431123456784A"
    );
    assert_eq!(atr[1] & 0x0F, 13);
    assert_eq!(atr.iter().skip(1).fold(0u8, |x, b| x ^ b), 0, "TCK");
    assert_eq!(&atr[atr.len() - 5..atr.len() - 1], &SERIAL);
    assert_eq!(t.factors.card, atr[atr.len() - 9..atr.len() - 1]);
    // T=0 mode: the field's T=0-only ATR, same historical bytes, same card factor
    let mut options = t.card.image().options;
    options.t0_mode = true;
    t.card.set_options(options);
    let atr = t.card.atr();
    assert_eq!(
        hex::encode_upper(&atr),
        "3B6D000000815353434152443112345678"
    );
    assert_eq!(t.factors.card, atr[atr.len() - 8..]);
}

#[test]
fn select_forms() {
    let mut t = Terminal::new(Generation::V2, Algorithm::Sm4);
    // EF before SSSE
    assert_eq!(t.sw("00A4000002EF05"), 0x6A82);
    let (fci, sw) = t.send(&commands::select_aid(&profile::SSSE_AID));
    assert_eq!(sw, 0x9000);
    assert_eq!(
        hex::encode_upper(&fci),
        "6F2584 0F7378312E73682EC9E7BBE1B1A3D5CF A512 9F0C03860103 DF010101 DF020100 DF030102"
            .replace(' ', "")
    );
    // case 3 select: no data
    let (data, sw) = t.send(&commands::select_aid_no_response(&profile::SSSE_AID));
    assert_eq!((data.len(), sw), (0, 0x9000));
    assert_eq!(t.sw("00A4040006D15600000590"), 0x6A82);
    assert_eq!(t.sw("00A40400"), 0x6700);
    assert_eq!(t.sw("00A4040C0F7378312E73682EC9E7BBE1B1A3D5CF"), 0x6A86);
    assert_eq!(t.sw("00A4000002EF05"), 0x9000);
    assert_eq!(t.sw("00A4020002EF06"), 0x9000);
    assert_eq!(t.sw("00A4000002EF07"), 0x6A82);
    assert_eq!(t.sw("00A4000003EF0500"), 0x6700);
    assert_eq!(t.sw("00A4080002EF05"), 0x6A86);
    assert_eq!(t.sw("00A40000023F00"), 0x9000);
    assert_eq!(t.sw("00A4000002EF05"), 0x6A82);
}

#[test]
fn read_record_forms_and_errors() {
    let mut t = Terminal::new(Generation::V2, Algorithm::Tdes);
    // SFI addressing needs SSSE
    assert_eq!(t.sw(&format!("00B201{EF05_SFI_NUMBER:02X}00")), 0x6A82);
    t.select();
    let (data, sw) = t.send_hex(&format!("00B203{EF05_SFI_TAG:02X}00"));
    assert_eq!(
        (hex::encode_upper(&data).as_str(), sw),
        ("030400000000", 0x9000)
    );
    let (data, sw) = t.send_hex(&format!("00B202{EF05_SFI_NUMBER:02X}00"));
    assert_eq!((hex::encode_upper(&data).as_str(), sw), ("020100", 0x9000));
    let (data, sw) = t.send(&commands::read_record(Some(5), RecordRef::AllFrom(6)));
    assert_eq!(sw, 0x9000);
    assert_eq!(
        hex::encode_upper(&data),
        format!("060400000000 0709{}", "00".repeat(9)).replace(' ', "")
    );
    // record 0, unknown records and tags
    assert_eq!(t.sw(&format!("00B200{EF05_SFI_NUMBER:02X}00")), 0x6A83);
    assert_eq!(t.sw(&format!("00B208{EF05_SFI_NUMBER:02X}00")), 0x6A83);
    assert_eq!(t.sw(&format!("00B208{EF05_SFI_ALL:02X}00")), 0x6A83);
    assert_eq!(t.sw(&format!("00B208{EF05_SFI_TAG:02X}00")), 0x6A83);
    assert_eq!(t.sw(&format!("00B200{EF05_SFI_ALL:02X}00")), 0x6A83);
    // modes
    assert_eq!(t.sw(&format!("00B201{:02X}00", (5 << 3) | 0b010)), 0x6A86);
    assert_eq!(t.sw(&format!("00B201{:02X}00", (5 << 3) | 0b111)), 0x6A86);
    // unknown SFI, no current EF
    assert_eq!(
        t.sw(&format!("00B201{:02X}00", (0x1E << 3) | 0b100)),
        0x6A82
    );
    t.select();
    assert_eq!(t.sw("00B2010400"), 0x6986);
    // current EF after SELECT and after an SFI read
    assert_eq!(t.sw("00A4000002EF06"), 0x9000);
    let (data, _) = t.send_hex("00B2010400");
    assert_eq!(data[0], 0x08);
    t.send_hex(&format!("00B201{EF05_SFI_NUMBER:02X}00"));
    let (data, _) = t.send_hex("00B2020400");
    assert_eq!(data, [0x02, 0x01, 0x00]);
    // Le: short -> 6Cxx, exact and 00 -> data; no Le -> data
    assert_eq!(t.sw(&format!("00B207{EF05_SFI_TAG:02X}05")), 0x6C0B);
    assert_eq!(t.send_hex(&format!("00B207{EF05_SFI_TAG:02X}0B")).1, 0x9000);
    assert_eq!(t.send_hex(&format!("00B207{EF05_SFI_TAG:02X}FF")).1, 0x9000);
    assert_eq!(t.send_hex(&format!("00B207{EF05_SFI_TAG:02X}")).0.len(), 11);
    // command data is wrong
    assert_eq!(t.sw(&format!("00B207{EF05_SFI_TAG:02X}0100")), 0x6700);
}

#[test]
fn all_records_mode_can_be_switched_off() {
    let mut t = Terminal::new(Generation::V2, Algorithm::Tdes);
    let mut options = t.card.image().options;
    options.all_records_mode = false;
    t.card.set_options(options);
    t.select();
    assert_eq!(t.sw(&format!("00B201{EF05_SFI_ALL:02X}00")), 0x6A86);
    assert_eq!(t.sw(&format!("00B201{EF05_SFI_NUMBER:02X}00")), 0x9000);
}

#[test]
fn generation_3_reads_need_the_read_key() {
    let mut t = Terminal::new(Generation::V3, Algorithm::Sm4);
    t.select();
    // free on 3.0: EF05 tags 01-04, 07
    assert_eq!(t.sw(&format!("00B201{EF05_SFI_TAG:02X}00")), 0x9000);
    assert_eq!(t.sw(&format!("00B207{EF05_SFI_TAG:02X}00")), 0x9000);
    assert_eq!(t.sw(&format!("00B205{EF05_SFI_TAG:02X}00")), 0x6982);
    assert_eq!(t.sw(&format!("00B208{EF06_SFI_TAG:02X}00")), 0x6982);
    assert_eq!(t.sw(&format!("00B201{EF05_SFI_ALL:02X}00")), 0x6982);
    assert_eq!(t.sw(&format!("00B2EA{:02X}00", 13 << 3)), 0x6982);
    // the update key does not grant reading
    assert_eq!(t.authenticate(0x04), 0x9000);
    assert_eq!(t.sw(&format!("00B208{EF06_SFI_TAG:02X}00")), 0x6982);
    assert_eq!(t.authenticate(0x0A), 0x9000);
    assert_eq!(t.sw(&format!("00B208{EF06_SFI_TAG:02X}00")), 0x9000);
    assert_eq!(t.sw(&format!("00B201{EF05_SFI_ALL:02X}00")), 0x9000);
    assert_eq!(t.sw(&format!("00B2EA{:02X}00", 13 << 3)), 0x9000);
    // 2.0 reads everything freely
    let mut t2 = Terminal::new(Generation::V2, Algorithm::Sm4);
    t2.select();
    assert_eq!(t2.sw(&format!("00B208{EF06_SFI_TAG:02X}00")), 0x9000);
}

#[test]
fn update_record_rules() {
    let mut t = Terminal::new(Generation::V2, Algorithm::Tdes);
    t.select();
    let card_type = format!("00DC02{EF05_SFI_TAG:02X}03020133");
    assert_eq!(t.sw(&card_type), 0x6982);
    assert_eq!(t.card.image().app_state, AppState::Blank);
    // the EF0D key does not write EF05
    assert_eq!(t.authenticate(0x0D), 0x9000);
    assert_eq!(t.sw(&card_type), 0x6982);
    assert_eq!(t.authenticate(0x04), 0x9000);
    let writes = t.card.persistent_writes();
    // wrong tag, wrong length, not a TLV, trailing bytes, mode 101, unknown record
    assert_eq!(t.sw(&format!("00DC02{EF05_SFI_TAG:02X}03030133")), 0x6A80);
    assert_eq!(t.sw(&format!("00DC02{EF05_SFI_TAG:02X}0402023333")), 0x6700);
    assert_eq!(t.sw(&format!("00DC02{EF05_SFI_TAG:02X}03020233")), 0x6A80);
    assert_eq!(
        t.sw(&format!("00DC02{EF05_SFI_TAG:02X}050201330100")),
        0x6700
    );
    assert_eq!(t.sw(&format!("00DC02{EF05_SFI_ALL:02X}03020133")), 0x6A86);
    assert_eq!(
        t.sw(&format!("00DC09{EF05_SFI_NUMBER:02X}03020133")),
        0x6A83
    );
    assert_eq!(t.sw(&format!("00DC02{EF05_SFI_TAG:02X}")), 0x6700);
    assert_eq!(t.card.persistent_writes(), writes);
    assert_eq!(t.card.image().app_state, AppState::Blank);
    // success by tag, then by number; the first write makes the card personalizing
    assert_eq!(t.sw(&card_type), 0x9000);
    assert_eq!(t.card.image().app_state, AppState::Personalizing);
    assert_eq!(t.card.persistent_writes(), writes + 2);
    assert_eq!(
        t.sw(&format!("00DC03{EF05_SFI_NUMBER:02X}060304322E3030")),
        0x9000
    );
    assert_eq!(t.card.persistent_writes(), writes + 3);
    assert_eq!(
        t.card.image().record_value(Ef::Ef05, 0x02),
        Some(&[0x33][..])
    );
    assert_eq!(
        t.card.image().record_value(Ef::Ef05, 0x03),
        Some(&b"2.00"[..])
    );
    let (data, _) = t.send(&commands::read_record(Some(5), RecordRef::Tag(3)));
    assert_eq!(data, h("0304322E3030"));
}

#[test]
fn get_challenge_lengths() {
    let mut t = Terminal::new(Generation::V2, Algorithm::Tdes);
    for le in [4usize, 8, 16] {
        let (data, sw) = t.send_hex(&format!("00840000{le:02X}"));
        assert_eq!((data.len(), sw), (le, 0x9000));
    }
    assert_eq!(t.sw("0084000005"), 0x6700);
    assert_eq!(t.sw("00840000"), 0x6700);
    assert_eq!(t.sw("0084000000"), 0x6700);
    assert_eq!(t.sw("0084010008"), 0x6A86);
    assert_eq!(t.sw("8084000008"), 0x6E00);
    // two challenges differ
    let a = t.send_hex("0084000008").0;
    let b = t.send_hex("0084000008").0;
    assert_ne!(a, b);
}

#[test]
fn external_authenticate_rules() {
    for alg in Algorithm::ALL {
        let mut t = Terminal::new(Generation::V2, alg);
        let b = alg.block_len();
        t.select();
        let zeros = "00".repeat(b);
        // no challenge
        assert_eq!(t.sw(&format!("00820004{b:02X}{zeros}")), 0x6985);
        // unknown keys (20 never on the card)
        t.send_hex(&format!("00840000{b:02X}"));
        assert_eq!(t.sw(&format!("00820020{b:02X}{zeros}")), 0x6A88);
        t.send_hex(&format!("00840000{b:02X}"));
        assert_eq!(t.sw(&format!("00820055{b:02X}{zeros}")), 0x6A88);
        // wrong length, wrong P1
        assert_eq!(t.sw("008200040400000000"), 0x6700);
        assert_eq!(t.sw(&format!("00820104{b:02X}{zeros}")), 0x6A86);
        // a challenge of the wrong length does not count
        t.send_hex("0084000004");
        assert_eq!(t.sw(&format!("00820004{b:02X}{zeros}")), 0x6985);
        // wrong cryptogram
        t.send_hex(&format!("00840000{b:02X}"));
        assert_eq!(t.sw(&format!("00820004{b:02X}{zeros}")), 0x6300);
        assert!(t.card.authenticated_keys().is_empty());
        // right cryptogram, then replayed
        let challenge = t.send_hex(&format!("00840000{b:02X}")).0;
        let cryptogram = t.cryptogram(0x04, &challenge);
        let command = commands::external_authenticate(0x04, cryptogram);
        assert_eq!(t.send(&command).1, 0x9000);
        assert_eq!(t.card.authenticated_keys(), vec![0x04]);
        assert_eq!(t.send(&command).1, 0x6985);
        t.send_hex(&format!("00840000{b:02X}"));
        assert_eq!(t.send(&command).1, 0x6300);
        // a failed attempt drops that key
        assert!(t.card.authenticated_keys().is_empty());
    }
}

#[test]
fn security_state_cleared_on_reselect_and_reset() {
    let mut t = Terminal::new(Generation::V3, Algorithm::Aes128);
    t.select();
    assert_eq!(t.authenticate(0x0A), 0x9000);
    assert_eq!(t.authenticate(0x04), 0x9000);
    assert_eq!(t.card.authenticated_keys(), vec![0x04, 0x0A]);
    // selecting an EF keeps it
    assert_eq!(t.sw("00A4000002EF06"), 0x9000);
    assert_eq!(t.sw(&format!("00B208{EF06_SFI_TAG:02X}00")), 0x9000);
    t.select();
    assert!(t.card.authenticated_keys().is_empty());
    assert_eq!(t.sw(&format!("00B208{EF06_SFI_TAG:02X}00")), 0x6982);
    assert_eq!(t.authenticate(0x0A), 0x9000);
    assert_eq!(t.sw("00A40000023F00"), 0x9000);
    assert!(t.card.authenticated_keys().is_empty());
    t.select();
    assert_eq!(t.authenticate(0x0A), 0x9000);
    t.card.reset();
    assert!(t.card.authenticated_keys().is_empty());
    // after reset the MF is selected: SFI reads fail until SSSE is selected
    assert_eq!(t.sw(&format!("00B208{EF06_SFI_TAG:02X}00")), 0x6A82);
    t.select();
    assert_eq!(t.sw(&format!("00B208{EF06_SFI_TAG:02X}00")), 0x6982);
}

#[test]
fn internal_authenticate_answers_the_diversified_encipherment() {
    for alg in Algorithm::ALL {
        let mut t = Terminal::new(Generation::V2, alg);
        let b = alg.block_len();
        t.select();
        let factor = [1, 2, 3, 4, 5, 6, 7, 8];
        let data: Vec<u8> = (0..b as u8).collect();
        let (answer, sw) = t.send(&commands::internal_authenticate(factor, &data));
        assert_eq!(sw, 0x9000);
        assert_eq!(answer, t.internal_auth(&factor, &data));
        assert_eq!(t.sw("0088000004010203040506070800"), 0x6700);
        assert_eq!(
            t.sw(&format!("00880100{:02X}{}", 8 + b, "00".repeat(8 + b))),
            0x6A86
        );
    }
}

#[test]
fn commands_outside_ssse_and_unknown_instructions() {
    let mut t = Terminal::new(Generation::V2, Algorithm::Tdes);
    assert_eq!(t.sw("0020000003123456"), 0x6985);
    assert_eq!(t.sw("00440000"), 0x6985);
    assert_eq!(t.sw(&format!("0088000010{}", "00".repeat(16))), 0x6985);
    assert_eq!(t.sw("00CA000000"), 0x6D00);
    assert_eq!(t.sw("80CA000000"), 0x6D00);
    assert_eq!(t.sw("00B0960006"), 0x6D00);
    assert_eq!(t.sw("80B2010400"), 0x6E00);
    assert_eq!(t.sw("84A4040000"), 0x6E00);
    assert_eq!(t.sw("005E0100"), 0x6E00);
    assert_eq!(t.sw("0024000004AABBCCDD"), 0x6E00);
    assert_eq!(t.sw(""), 0x6700);
    assert_eq!(t.sw("00A4"), 0x6700);
    assert_eq!(t.sw("00A4040005AABB"), 0x6700);
    assert_eq!(t.sw("00A404000000"), 0x6700);
}

#[test]
fn pin_verify_counter_is_persistent_and_spent_before_comparing() {
    let mut t = Terminal::new(Generation::V2, Algorithm::Tdes);
    t.select();
    // no PIN yet
    assert_eq!(t.sw("0020000003123456"), 0x6985);
    assert_eq!(t.sw("00200000"), 0x6985);
    assert_eq!(t.reload_pin("123456"), 0x9000);
    assert_eq!(t.card.image().app_state, AppState::Personalizing);
    assert!(t.card.image().pin.as_ref().is_some_and(|p| p.initial));
    assert_eq!(t.sw("00200000"), 0x63C3);
    assert_eq!(t.verify("123456"), 0x9000);
    assert!(t.card.pin_verified());
    // malformed PIN: no try spent
    assert_eq!(t.sw("002000000112"), 0x6A80);
    assert_eq!(t.sw("002000000312A456"), 0x6A80);
    assert_eq!(t.sw("00200000"), 0x63C3);
    // a wrong PIN costs a try, written before the comparison
    let writes = t.card.persistent_writes();
    assert_eq!(t.verify("654321"), 0x63C2);
    assert_eq!(t.card.persistent_writes(), writes + 1);
    assert!(!t.card.pin_verified());
    assert_eq!(t.card.image().pin.as_ref().map(|p| p.tries_left), Some(2));
    // the counter survives reset (and a reload of the image)
    t.card.reset();
    t.select();
    assert_eq!(t.sw("00200000"), 0x63C2);
    let json = t.card.save_json().unwrap();
    t.card = SimCard::load_json(&json).unwrap();
    t.select();
    assert_eq!(t.verify("111111"), 0x63C1);
    // success restores the counter
    assert_eq!(t.verify("123456"), 0x9000);
    assert_eq!(t.sw("00200000"), 0x63C3);
    assert_eq!(t.verify("111111"), 0x63C2);
    assert_eq!(t.verify("111111"), 0x63C1);
    assert_eq!(t.verify("111111"), 0x63C0);
    assert_eq!(t.verify("123456"), 0x6983);
    assert_eq!(t.sw("00200000"), 0x6983);
    assert_eq!(t.change_pin("123456", "246810"), 0x6983);
    // PIN UNBLOCK (counter reset only)
    assert_eq!(t.mac_command([0x84, 0x24, 0x00, 0x00], &[], 0x06), 0x9000);
    assert_eq!(t.verify("123456"), 0x9000);
    // odd-length PINs are F-filled
    assert_eq!(t.reload_pin("12345"), 0x9000);
    assert_eq!(t.sw("00200000031234 5F".replace(' ', "").as_str()), 0x9000);
}

#[test]
fn change_pin_activates_a_personalized_card() {
    let mut t = Terminal::new(Generation::V2, Algorithm::Sm4);
    t.personalize_minimal();
    assert_eq!(t.card.image().app_state, AppState::Personalized);
    // same PIN: 6A80 without spending a try
    assert_eq!(t.change_pin("123456", "123456"), 0x6A80);
    assert_eq!(t.sw("00200000"), 0x63C3);
    // wrong old PIN
    assert_eq!(t.change_pin("000000", "246810"), 0x63C2);
    assert_eq!(t.card.image().app_state, AppState::Personalized);
    // malformed: no separator, bad digits
    assert_eq!(t.sw("805E010003123456"), 0x6A80);
    assert_eq!(t.sw("805E010007123456FF12345A"), 0x6A80);
    assert_eq!(t.sw("805E000007123456FF246810"), 0x6A86);
    assert_eq!(t.change_pin("123456", "246810"), 0x9000);
    assert_eq!(t.card.image().app_state, AppState::Activated);
    let pin = t.card.image().pin.clone().unwrap();
    assert!(!pin.initial);
    assert_eq!(pin.tries_left, 3);
    assert_eq!(t.verify("123456"), 0x63C2);
    assert_eq!(t.verify("246810"), 0x9000);
    let (fci, _) = t.send(&commands::select_aid(&profile::SSSE_AID));
    assert_eq!(fci_byte(&fci, 0x01), Some(0x04));
}

#[test]
fn mac_commands_check_and_consume_the_challenge() {
    let mut t = Terminal::new(Generation::V2, Algorithm::Aes128);
    t.select();
    assert_eq!(t.reload_pin("123456"), 0x9000);
    // no challenge
    assert_eq!(t.sw("841E00000401020304"), 0x6985);
    // wrong MAC
    t.send_hex("0084000010");
    assert_eq!(t.sw("841E00000401020304"), 0x6988);
    assert_eq!(t.card.image().block_state, BlockState::None);
    // wrong Lc / P1P2
    assert_eq!(t.sw("841E0000050102030405"), 0x6700);
    assert_eq!(t.sw("841E00020401020304"), 0x6A86);
    assert_eq!(t.sw("842400020401020304"), 0x6A86);
    assert_eq!(t.sw("84240001040102030405"), 0x6700);
    // a MAC made with another key
    let challenge = t.send_hex("0084000010").0;
    let mac = t.mac(0x06, &challenge, &h("841E000004"));
    assert_eq!(t.sw(&format!("841E000004{}", hex::encode(mac))), 0x6988);
    // a right MAC, replayed
    let challenge = t.send_hex("0084000010").0;
    let mac = t.mac(0x06, &challenge, &h("8424000004"));
    let apdu = format!("8424000004{}", hex::encode(mac));
    assert_eq!(t.sw(&apdu), 0x9000);
    assert_eq!(t.sw(&apdu), 0x6985);
    t.send_hex("0084000010");
    assert_eq!(t.sw(&apdu), 0x6988);
    // CLA 80 is accepted (and is part of the MAC input)
    let challenge = t.send_hex("0084000010").0;
    let mac = t.mac(0x06, &challenge, &h("8024000004"));
    assert_eq!(t.sw(&format!("8024000004{}", hex::encode(mac))), 0x9000);
    // PIN unblock needs a PIN
    let mut blank = Terminal::new(Generation::V2, Algorithm::Aes128);
    blank.select();
    assert_eq!(
        blank.mac_command([0x84, 0x24, 0x00, 0x00], &[], 0x06),
        0x6985
    );
}

#[test]
fn pin_reload_refuses_a_block_without_a_pin() {
    let mut t = Terminal::new(Generation::V2, Algorithm::Tdes);
    t.select();
    let block = t.encipher(0x06, &h("0000000000000000"));
    assert_eq!(
        t.mac_command([0x84, 0x24, 0x00, 0x01], &block, 0x06),
        0x6A80
    );
    assert!(t.card.image().pin.is_none());
    assert_eq!(t.card.image().app_state, AppState::Blank);
}

#[test]
fn temporary_block() {
    let mut t = Terminal::new(Generation::V2, Algorithm::Tdes);
    t.personalize_minimal();
    assert_eq!(t.mac_command([0x84, 0x1E, 0x00, 0x00], &[], 0x07), 0x9000);
    assert_eq!(t.card.image().block_state, BlockState::Temporary);
    let (fci, sw) = t.send(&commands::select_aid(&profile::SSSE_AID));
    assert_eq!((fci_byte(&fci, 0x02), sw), (Some(0x01), 0x9000));
    assert_eq!(t.sw(&format!("00B201{EF05_SFI_NUMBER:02X}00")), 0x6A81);
    assert_eq!(t.verify("123456"), 0x6A81);
    assert_eq!(t.sw("00200000"), 0x6A81);
    assert_eq!(t.sw("00CA000000"), 0x6D00);
    assert_eq!(t.authenticate(0x04), 0x6A81);
    assert_eq!(t.mac_command([0x84, 0x1E, 0x00, 0x01], &[], 0x07), 0x6A81);
    // GET CHALLENGE and APPLICATION UNBLOCK work
    assert_eq!(t.sw("0084000008"), 0x9000);
    assert_eq!(t.mac_command([0x84, 0x18, 0x00, 0x00], &[], 0x07), 0x9000);
    assert_eq!(t.card.image().block_state, BlockState::None);
    assert_eq!(t.sw(&format!("00B201{EF05_SFI_NUMBER:02X}00")), 0x9000);
    // unblocking an unblocked card changes nothing
    let writes = t.card.persistent_writes();
    assert_eq!(t.mac_command([0x84, 0x18, 0x00, 0x00], &[], 0x07), 0x9000);
    assert_eq!(t.card.persistent_writes(), writes);
}

#[test]
fn permanent_block() {
    let mut t = Terminal::new(Generation::V3, Algorithm::Sm4);
    t.select();
    assert_eq!(t.mac_command([0x84, 0x1E, 0x00, 0x01], &[], 0x07), 0x9000);
    assert_eq!(t.card.image().block_state, BlockState::Permanent);
    let (fci, sw) = t.send(&commands::select_aid(&profile::SSSE_AID));
    assert_eq!((fci_byte(&fci, 0x02), sw), (Some(0x02), 0x9000));
    assert_eq!(t.sw("00A4000002EF05"), 0x9000);
    assert_eq!(t.sw(&format!("00B201{EF05_SFI_NUMBER:02X}00")), 0x9303);
    assert_eq!(t.sw("0084000010"), 0x9303);
    assert_eq!(t.sw("841800000401020304"), 0x9303);
    assert_eq!(t.sw("841600000401020304"), 0x9303);
    assert_eq!(t.sw("00C0000010"), 0x6985);
    // survives reset
    t.card.reset();
    t.select();
    assert_eq!(t.sw("00200000"), 0x9303);
}

#[test]
fn permanent_block_in_t0_mode_still_delivers_the_fci() {
    let mut t = Terminal::new(Generation::V2, Algorithm::Tdes);
    let mut options = t.card.image().options;
    options.t0_mode = true;
    t.card.set_options(options);
    t.select();
    assert_eq!(t.mac_command([0x84, 0x1E, 0x00, 0x01], &[], 0x07), 0x9000);
    assert_eq!(t.sw("00A404000F7378312E73682EC9E7BBE1B1A3D5CF00"), 0x6127);
    let (fci, sw) = t.send_hex("00C0000027");
    assert_eq!((fci_byte(&fci, 0x02), sw), (Some(0x02), 0x9000));
}

#[test]
fn card_block_blocks_everything() {
    let mut t = Terminal::new(Generation::V2, Algorithm::Tdes);
    t.select();
    // needs key 00's MAC
    assert_eq!(t.mac_command([0x84, 0x16, 0x00, 0x00], &[], 0x07), 0x6988);
    assert_eq!(t.mac_command([0x84, 0x16, 0x00, 0x00], &[], 0x00), 0x9000);
    assert!(t.card.image().card_blocked);
    assert_eq!(t.sw("00A404000F7378312E73682EC9E7BBE1B1A3D5CF00"), 0x9303);
    assert_eq!(t.sw("00A40000023F00"), 0x9303);
    assert_eq!(t.sw("00C0000010"), 0x9303);
    assert_eq!(t.sw("00CA000000"), 0x9303);
    assert_eq!(t.sw(""), 0x9303);
    t.card.reset();
    assert_eq!(t.sw("0084000008"), 0x9303);
}

#[test]
fn activate_and_deactivate_file() {
    let mut t = Terminal::new(Generation::V2, Algorithm::Tdes);
    t.select();
    // blank: not authenticated, then not personalizing
    assert_eq!(t.sw("00440000"), 0x6982);
    assert_eq!(t.authenticate(0x04), 0x9000);
    assert_eq!(t.sw("00440000"), 0x6985);
    assert_eq!(t.sw("0044000100"), 0x6A86);
    // personalizing without a PIN
    assert_eq!(t.sw(&format!("00DC02{EF05_SFI_TAG:02X}03020133")), 0x9000);
    assert_eq!(t.sw("00440000"), 0x6985);
    assert_eq!(t.reload_pin("123456"), 0x9000);
    assert_eq!(t.sw("00440000"), 0x9000);
    assert_eq!(t.card.image().app_state, AppState::Personalized);
    assert_eq!(t.sw("00440000"), 0x6985);
    // no more writes on a personalized card
    assert_eq!(t.sw(&format!("00DC02{EF05_SFI_TAG:02X}03020131")), 0x6985);
    // DEACTIVATE needs key 00
    assert_eq!(t.sw("00040000"), 0x6982);
    assert_eq!(t.authenticate(0x00), 0x9000);
    assert_eq!(t.sw("00040000"), 0x9000);
    assert_eq!(t.card.image().app_state, AppState::Personalizing);
    assert_eq!(t.sw("00040000"), 0x6985);
    assert_eq!(t.sw(&format!("00DC02{EF05_SFI_TAG:02X}03020131")), 0x9000);
    // key 00 alone finishes too
    t.select();
    assert_eq!(t.authenticate(0x00), 0x9000);
    assert_eq!(t.sw("00440000"), 0x9000);
}

#[test]
fn t0_mode_get_response() {
    let mut t = Terminal::new(Generation::V2, Algorithm::Tdes);
    let mut options = t.card.image().options;
    options.t0_mode = true;
    t.card.set_options(options);
    assert_eq!(t.sw("00A404000F7378312E73682EC9E7BBE1B1A3D5CF00"), 0x6127);
    // wrong Le: 6Cxx, data kept
    assert_eq!(t.sw("00C0000010"), 0x6C27);
    assert_eq!(t.sw("00C0000000"), 0x6C27);
    assert_eq!(t.sw("00C0010025"), 0x6A86);
    assert_eq!(t.sw("00C00000"), 0x6700);
    let (fci, sw) = t.send_hex("00C0000027");
    assert_eq!((fci.len(), sw), (0x27, 0x9000));
    // nothing pending any more
    assert_eq!(t.sw("00C0000027"), 0x6985);
    // any other command discards pending data
    assert_eq!(t.sw(&format!("00B201{EF05_SFI_NUMBER:02X}00")), 0x6112);
    assert_eq!(t.sw("00CA000000"), 0x6D00);
    assert_eq!(t.sw("00C0000012"), 0x6985);
    // in T=0 the Le of the command does not matter; no 6Cxx
    assert_eq!(t.sw(&format!("00B201{EF05_SFI_NUMBER:02X}05")), 0x6112);
    let (data, sw) = t.send_hex("00C0000012");
    assert_eq!((data.len(), sw), (0x12, 0x9000));
    // commands without data answer 9000 directly
    assert_eq!(t.sw("0084000008"), 0x6108);
    assert_eq!(t.sw("00A4000002EF05"), 0x9000);
    assert_eq!(t.sw("00C0000008"), 0x6985);
    // the lifecycle works through GET RESPONSE
    assert_eq!(t.authenticate(0x04), 0x9000);
}

#[test]
fn t1_get_response_has_nothing_pending() {
    let mut t = Terminal::new(Generation::V2, Algorithm::Tdes);
    t.select();
    assert_eq!(t.sw("00C0000010"), 0x6985);
}

#[test]
fn image_round_trip_json_and_file() {
    let mut t = Terminal::new(Generation::V3, Algorithm::Sm4);
    t.personalize_minimal();
    assert_eq!(t.verify("000000"), 0x63C2);
    let json = t.card.save_json().unwrap();
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(value["generation"], "3.0");
    assert_eq!(value["algorithm"], "sm4");
    assert_eq!(value["chip_serial"], "12345678");
    assert_eq!(value["app_state"], "personalized");
    assert_eq!(value["pin"]["tries_left"], 2);
    assert_eq!(value["pin"]["bcd"], "123456");
    assert!(value["keys"]["0A"].is_string());
    assert!(value["keys"].get("20").is_none());
    assert_eq!(value["files"]["Ef05"][1], "020133");
    let loaded = SimCard::load_json(&json).unwrap();
    assert_eq!(loaded.image(), t.card.image());

    let dir = std::env::temp_dir().join(format!("sscard-sim-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("card.json");
    t.card.save(&path).unwrap();
    t.card.save(&path).unwrap();
    let loaded = SimCard::load(&path).unwrap();
    assert_eq!(loaded.image(), t.card.image());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0);
    }
    let leftovers: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
    assert_eq!(leftovers.len(), 1);
    std::fs::remove_dir_all(&dir).unwrap();

    // secrets are redacted in Debug
    let debug = format!("{:?}", t.card);
    assert!(debug.contains("REDACTED"));
    assert!(!debug.contains("123456"));
}

#[test]
fn invalid_images_are_refused() {
    let t = Terminal::new(Generation::V2, Algorithm::Tdes);
    let json = t.card.save_json().unwrap();
    let mut value: serde_json::Value = serde_json::from_str(&json).unwrap();
    let cases: Vec<(&str, serde_json::Value)> = vec![
        ("format", 2.into()),
        ("region", "12345".into()),
        ("chip_serial", "1234".into()),
        ("algorithm", "ssf33".into()),
    ];
    for (field, bad) in cases {
        let mut v = value.clone();
        v[field] = bad;
        assert!(SimCard::load_json(&v.to_string()).is_err(), "{field}");
    }
    value["keys"]["04"] = "0011".into();
    assert!(SimCard::load_json(&value.to_string()).is_err());
    let mut v: serde_json::Value = serde_json::from_str(&json).unwrap();
    v["files"]["Ef05"][0] = "0105AA".into();
    assert!(SimCard::load_json(&v.to_string()).is_err());
    let mut v: serde_json::Value = serde_json::from_str(&json).unwrap();
    v["pin"] = serde_json::json!({"bcd": "12", "tries_left": 3, "max_tries": 3, "initial": true});
    assert!(SimCard::load_json(&v.to_string()).is_err());
    assert!(SimCard::load_json("not json").is_err());
}

/// The full lifecycle at the APDU level for every algorithm: personalize (keys 04, 0D, PIN
/// reload), finish, read back, activate (CHANGE PIN), block and unblock, re-personalize.
#[test]
fn lifecycle_every_algorithm() {
    for alg in Algorithm::ALL {
        for generation in Generation::ALL {
            let mut t = Terminal::new(generation, alg);
            t.select();
            assert_eq!(t.authenticate(0x04), 0x9000, "{alg} {generation}");
            for spec in profile::records(generation, Ef::Ef05)
                .iter()
                .chain(profile::records(generation, Ef::Ef06))
            {
                let value = vec![0x31; spec.len];
                let tlv = sscard_core::codec::tlv(spec.tag, &value);
                let sfi = spec.ef.sfi();
                let sw = t
                    .send(&commands::update_record(
                        Some(sfi),
                        RecordRef::Tag(spec.tag),
                        tlv,
                    ))
                    .1;
                assert_eq!(sw, 0x9000, "{alg} {generation} tag {:02X}", spec.tag);
            }
            assert_eq!(t.authenticate(0x0D), 0x9000);
            let tlv = sscard_core::codec::tlv(0xEB, &[0x11, 0x01, 0x01]);
            assert_eq!(
                t.send(&commands::update_record(
                    Some(13),
                    RecordRef::Tag(0xEB),
                    tlv
                ))
                .1,
                0x9000
            );
            assert_eq!(t.reload_pin("123456"), 0x9000);
            assert_eq!(t.send(&commands::activate_file()).1, 0x9000);
            assert_eq!(t.card.image().app_state, AppState::Personalized);
            // read back (the read key on 3.0)
            t.select();
            if generation == Generation::V3 {
                assert_eq!(t.authenticate(0x0A), 0x9000);
            }
            let (all, sw) = t.send(&commands::read_record(Some(6), RecordRef::AllFrom(1)));
            assert_eq!(sw, 0x9000);
            let records = sscard_core::codec::parse_records(&all).unwrap();
            assert_eq!(records.len(), profile::records(generation, Ef::Ef06).len());
            assert!(records.iter().all(|(_, v)| v.iter().all(|b| *b == 0x31)));
            // activation
            assert_eq!(t.change_pin("123456", "802413"), 0x9000);
            assert_eq!(t.card.image().app_state, AppState::Activated);
            // block, unblock
            assert_eq!(t.mac_command([0x84, 0x1E, 0x00, 0x00], &[], 0x07), 0x9000);
            assert_eq!(t.verify("802413"), 0x6A81);
            assert_eq!(t.mac_command([0x84, 0x18, 0x00, 0x00], &[], 0x07), 0x9000);
            assert_eq!(t.verify("802413"), 0x9000);
            // issuer PIN reload on an activated card
            assert_eq!(t.reload_pin("135790"), 0x9000);
            assert_eq!(t.verify("135790"), 0x9000);
            // re-personalization
            assert_eq!(t.authenticate(0x00), 0x9000);
            assert_eq!(t.send(&commands::deactivate_file()).1, 0x9000);
            assert_eq!(t.authenticate(0x04), 0x9000);
            let tlv = sscard_core::codec::tlv(0x02, b"3");
            assert_eq!(
                t.send(&commands::update_record(Some(5), RecordRef::Tag(2), tlv))
                    .1,
                0x9000
            );
            assert_eq!(t.send(&commands::activate_file()).1, 0x9000);
            assert_eq!(t.card.image().app_state, AppState::Personalized);
        }
    }
}

#[test]
fn manufacturer_keys_follow_the_key_factors() {
    for alg in Algorithm::ALL {
        let t = Terminal::new(Generation::V2, alg);
        for id in CARD_KEY_IDS {
            let expected = t.card_key(id);
            assert_eq!(
                t.card.image().key(id).map(|k| k.expose().to_vec()),
                Some(expected.to_vec()),
                "{alg} key {id:02X}"
            );
        }
        assert!(t.card.image().key(0x20).is_none());
    }
}

#[test]
fn bad_specs_are_refused() {
    let mut keys = key_file();
    assert!(RegionCode::parse("12345X").is_err());
    let mut spec = CardSpec::new(Generation::V2, Algorithm::Tdes, region(), SERIAL);
    spec.pin_max_tries = 16;
    assert!(SimCard::blank(spec, &mut keys).is_err());
}

fn fci_byte(fci: &[u8], df_tag: u8) -> Option<u8> {
    fci.windows(4)
        .find(|w| w[0] == 0xDF && w[1] == df_tag && w[2] == 0x01)
        .map(|w| w[3])
}
