//! VERIFY, CHANGE PIN and PIN CHANGE/UNBLOCK (part 5 §6.3, §6.8, §6.14; part 7 §5.6-§5.8, §9;
//! \[design\] D4, D9, D12, D15).

use sscard_core::crypto::{self, Pin};
use sscard_core::keys::KeyRole;
use sscard_core::profile::Generation;
use sscard_core::Algorithm;

use crate::test_support::*;

#[test]
fn verify_probe_and_counter() {
    // blank card: the PIN is empty, the probe answers 9000
    let mut t = Terminal::new(Generation::V2, Algorithm::Tdes);
    assert_eq!(t.sw("0020000000"), 0x6A88, "no PIN in the MF");
    t.select();
    assert_eq!(t.sw("0020000000"), 0x9000);
    assert_eq!(t.sw("00200000"), 0x9000, "case 1 is the same header");
    // comparing with the empty PIN fails and spends a try
    assert_eq!(t.verify("123456"), 0x63C2);
    assert_eq!(t.card.image().pin.tries_left, 2);
    // personalized: 63C3, then 63Cx down to 6983
    let mut t = Terminal::personalized(Generation::V2, Algorithm::Sm4);
    t.select();
    assert_eq!(t.sw("0020000000"), 0x63C3);
    assert_eq!(t.verify("123456"), 0x9000);
    assert!(t.card.pin_verified());
    assert_eq!(t.verify("654321"), 0x63C2);
    assert_eq!(t.sw("0020000000"), 0x63C2, "the probe costs nothing");
    assert_eq!(t.verify("123456"), 0x9000);
    assert_eq!(t.card.image().pin.tries_left, 3);
    for expected in [0x63C2, 0x63C1, 0x63C0, 0x6983, 0x6983] {
        assert_eq!(t.verify("1111"), expected);
    }
    assert_eq!(t.verify("123456"), 0x6983);
    assert_eq!(t.sw("0020000000"), 0x63C0);
    // odd digit counts: cn with one F nibble; other lengths and parameters
    assert_eq!(t.sw("0020000001 12"), 0x6700);
    assert_eq!(t.sw("0020000009 123456789012345678"), 0x6700);
    assert_eq!(t.sw("0020000103 123456"), 0x6A86);
    assert_eq!(t.sw("8020000003 123456"), 0x6E00);
}

#[test]
fn verify_survives_reselection_until_reset() {
    let mut t = Terminal::personalized(Generation::V2, Algorithm::Sm4);
    t.select();
    assert_eq!(t.verify("123456"), 0x9000);
    assert_eq!(t.sw("00A40000023F00"), 0x9000);
    assert!(t.card.pin_verified());
    t.card.reset();
    assert!(!t.card.pin_verified());
}

#[test]
fn change_pin() {
    let mut t = Terminal::personalized(Generation::V2, Algorithm::Tdes);
    t.select();
    assert_eq!(t.change_pin("123456", "13579"), 0x9000);
    assert_eq!(t.card.image().pin.value.expose(), [0x13, 0x57, 0x9F]);
    assert_eq!(t.verify("13579"), 0x9000);
    assert_eq!(t.change_pin("123456", "2580"), 0x63C2);
    assert_eq!(t.change_pin("13579", "2580"), 0x9000);
    assert_eq!(t.card.image().pin.tries_left, 3);
    // malformed: no separator, a new PIN that is not cn, too short; nothing spent
    assert_eq!(t.sw("805E0100 06 2580 2580 1234"), 0x6A80);
    assert_eq!(t.sw("805E0100 05 2580 FF 12 3A"), 0x6A80);
    assert_eq!(t.sw("805E0100 04 2580 FF 12"), 0x6A80);
    assert_eq!(t.card.image().pin.tries_left, 3);
    // Lc 03 to 11, P1 P2, CLA
    assert_eq!(t.sw("805E0100 02 FF12"), 0x6700);
    assert_eq!(t.sw("805E0000 06 2580FF123456"), 0x6A86);
    assert_eq!(t.sw("005E0100 06 2580FF123456"), 0x6E00);
    // blocked
    for _ in 0..3 {
        t.change_pin("9999", "1234");
    }
    assert_eq!(t.change_pin("2580", "1234"), 0x6983);
    // outside SSSE
    assert_eq!(t.sw("00A40000023F00"), 0x9000);
    assert_eq!(t.change_pin("2580", "1234"), 0x6A88);
}

#[test]
fn change_pin_with_absent_pins() {
    // a blank card's empty PIN: the old PIN is absent
    let mut t = Terminal::new(Generation::V2, Algorithm::Sm4);
    t.select();
    assert_eq!(t.sw("805E0100 04 FF 123456"), 0x9000);
    assert_eq!(t.verify("123456"), 0x9000);
    // an absent new PIN empties it
    assert_eq!(t.sw("805E0100 04 123456 FF"), 0x9000);
    assert_eq!(t.sw("0020000000"), 0x9000);
}

#[test]
fn pin_reload_and_unblock() {
    for alg in Algorithm::ALL {
        let mut t = Terminal::new(Generation::V3, alg);
        t.select();
        // the personalization's initial PIN ([design] D15)
        assert_eq!(t.reload("123456"), 0x9000, "{alg}");
        assert_eq!(t.sw("0020000000"), 0x63C3);
        assert_eq!(t.verify("123456"), 0x9000);
        // block it, then unblock: the counter only (P2 00)
        for _ in 0..3 {
            t.verify("0000");
        }
        assert_eq!(t.verify("123456"), 0x6983);
        assert_eq!(t.maintenance([0x84, 0x24, 0x00, 0x00], &[]), 0x9000);
        assert_eq!(t.verify("123456"), 0x9000);
        // reload with an odd-length PIN; LD 0 empties the PIN
        let apdu = t.reload_apdu(&Pin::new("7654321").unwrap().to_bcd());
        assert_eq!(t.raw(&apdu).1, 0x9000);
        assert_eq!(t.card.image().pin.value.expose(), [0x76, 0x54, 0x32, 0x1F]);
        let apdu = t.reload_apdu(&[]);
        assert_eq!(t.raw(&apdu).1, 0x9000);
        assert_eq!(t.sw("0020000000"), 0x9000);
    }
}

#[test]
fn pin_reload_errors() {
    let mut t = Terminal::new(Generation::V2, Algorithm::Tdes);
    t.select();
    let cn = Pin::new("123456").unwrap().to_bcd();
    // PUK first
    let apdu = t.reload_apdu(&cn);
    assert_eq!(t.raw(&apdu).1, 0x6982);
    assert_eq!(t.authenticate(KeyRole::Puk), 0x9000);
    // a challenge first
    let challenge = t.challenge(8);
    let session = t.stk_session(&challenge);
    let enc = crypto::encipher_data(Algorithm::Tdes, &session, &cn).unwrap();
    let apdu = t.mac_apdu(&session, [0x84, 0x24, 0x00, 0x01], &enc);
    assert_eq!(t.raw(&apdu).1, 0x9000);
    assert_eq!(t.raw(&apdu).1, 0x6984, "the challenge served once");
    // a wrong MAC: 6988, nothing counted
    let mut apdu = t.reload_apdu(&cn);
    let last = apdu.len() - 1;
    apdu[last] ^= 1;
    assert_eq!(t.raw(&apdu).1, 0x6988);
    assert_eq!(t.card.image().key(KeyRole::Stkssse).unwrap().tries_left, 3);
    // a MAC made with the PUK instead of STKSSSE
    let challenge = t.challenge(8);
    let puk_session =
        crypto::process_key(Algorithm::Tdes, &t.card_key(KeyRole::Puk), &challenge).unwrap();
    let apdu = t.mac_apdu(&puk_session, [0x84, 0x24, 0x00, 0x01], &enc);
    assert_eq!(t.raw(&apdu).1, 0x6988);
    // the PIN inside is not cn
    let challenge = t.challenge(8);
    let session = t.stk_session(&challenge);
    let enc = crypto::encipher_data(Algorithm::Tdes, &session, &[0x12, 0x3A]).unwrap();
    let apdu = t.mac_apdu(&session, [0x84, 0x24, 0x00, 0x01], &enc);
    assert_eq!(t.raw(&apdu).1, 0x6A80);
    // the padding is wrong
    let challenge = t.challenge(8);
    let session = t.stk_session(&challenge);
    let enc = crypto::encipher(Algorithm::Tdes, &session, &h("0312345681000000")).unwrap();
    let apdu = t.mac_apdu(&session, [0x84, 0x24, 0x00, 0x01], &enc);
    assert_eq!(t.raw(&apdu).1, 0x6A80);
    // lengths: 3DES reloads are 0C or 14, unblock 04
    assert_eq!(t.sw("84240001 08 0102030405060708"), 0x6700);
    assert_eq!(t.sw("84240000 08 0102030405060708"), 0x6700);
    assert_eq!(t.sw("84240002 04 01020304"), 0x6A86);
    assert_eq!(t.sw("84240100 04 01020304"), 0x6A86);
    assert_eq!(t.sw("80240000 04 01020304"), 0x6E00);
    // SM4: 14 only
    let mut s = Terminal::new(Generation::V2, Algorithm::Sm4);
    s.select();
    assert_eq!(s.sw("84240001 0C 010203040506070801020304"), 0x6700);
}

#[test]
fn the_field_trace_reload_layout() {
    // 84240001 14: LD ‖ PIN ‖ 80 00… enciphered with the STKSSSE process key (16 bytes on SM4)
    // and the MAC over 84240001 14 ‖ enciphered
    let mut t = Terminal::new(Generation::V3, Algorithm::Sm4);
    t.select();
    assert_eq!(t.authenticate(KeyRole::Puk), 0x9000);
    let apdu = t.reload_apdu(&[0x12, 0x34, 0x56]);
    assert_eq!(&apdu[..5], &h("8424000114")[..]);
    assert_eq!(apdu.len(), 5 + 20);
    assert_eq!(t.raw(&apdu).1, 0x9000);
    assert_eq!(t.card.image().pin.value.expose(), [0x12, 0x34, 0x56]);
}
