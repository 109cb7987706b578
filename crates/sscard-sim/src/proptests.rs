//! Property tests: `handle` never panics on arbitrary APDUs or sequences, in any state; every
//! answer is a status word the specification allows; the image stays valid and loadable,
//! also when power is lost anywhere.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use proptest::prelude::*;

use sscard_core::keys::KeyRole;
use sscard_core::profile::Generation;
use sscard_core::Algorithm;

use crate::card::SimCard;
use crate::financial::FinancialApp;
use crate::psam::{PsamSpec, SimPsam};
use crate::tear::Tear;
use crate::test_support::{keys, spec, split, Terminal};

fn algorithm() -> impl Strategy<Value = Algorithm> {
    prop_oneof![
        Just(Algorithm::Tdes),
        Just(Algorithm::Sm4),
        Just(Algorithm::Aes128)
    ]
}

fn generation() -> impl Strategy<Value = Generation> {
    prop_oneof![
        Just(Generation::V1),
        Just(Generation::V2),
        Just(Generation::V3)
    ]
}

/// APDUs with the card's and the PSAM's headers (so every command's code is reached), near
/// misses, or noise.
fn apdu() -> impl Strategy<Value = Vec<u8>> {
    let ins = prop_oneof![
        Just(0xA4u8),
        Just(0xB2),
        Just(0xDC),
        Just(0xB0),
        Just(0xD6),
        Just(0x84),
        Just(0x82),
        Just(0x88),
        Just(0x20),
        Just(0x5E),
        Just(0x24),
        Just(0x1E),
        Just(0x16),
        Just(0xC0),
        Just(0xA8),
        Just(0xDE),
        Just(0xEC),
        Just(0xFA),
        any::<u8>(),
    ];
    let cla = prop_oneof![
        Just(0x00u8),
        Just(0x80),
        Just(0x84),
        Just(0xBF),
        any::<u8>()
    ];
    let p1 = prop_oneof![
        Just(0u8),
        Just(1),
        Just(2),
        Just(4),
        Just(5),
        Just(7),
        any::<u8>()
    ];
    let p2 = prop_oneof![
        Just(0u8),
        Just(1),
        Just(0x28),
        Just(0x2C),
        Just(0x30),
        Just(0x0C),
        any::<u8>()
    ];
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..40),
        (
            cla.clone(),
            ins.clone(),
            p1.clone(),
            p2.clone(),
            proptest::collection::vec(any::<u8>(), 0..8)
        )
            .prop_map(|(cla, ins, p1, p2, body)| {
                let mut apdu = vec![cla, ins, p1, p2];
                apdu.extend(body);
                apdu
            }),
        (
            cla,
            ins,
            p1,
            p2,
            proptest::collection::vec(any::<u8>(), 1..40),
            proptest::option::of(any::<u8>())
        )
            .prop_map(|(cla, ins, p1, p2, data, le)| {
                let mut apdu = vec![cla, ins, p1, p2, data.len() as u8];
                apdu.extend(&data);
                apdu.extend(le);
                apdu
            }),
        Just(crate::test_support::h(
            "00A404000F7378312E73682EC9E7BBE1B1A3D5CF"
        )),
        Just(crate::test_support::h("00A4040008A000000333010101")),
        Just(crate::test_support::h("00A4040006D15600000590")),
        Just(vec![0x00, 0x84, 0x00, 0x00, 0x08]),
        Just(vec![0x00, 0xC0, 0x00, 0x00, 0x00]),
    ]
}

/// Status words of part 5 table 5 (with `6Cxx`, `61xx`, `63Cx`), part 9 and the profile.
fn allowed(sw: u16) -> bool {
    matches!(sw >> 8, 0x61 | 0x6C)
        || (0x63C0..=0x63CF).contains(&sw)
        || [
            0x9000, 0x6581, 0x6700, 0x6901, 0x6981, 0x6982, 0x6983, 0x6984, 0x6985, 0x6986, 0x6988,
            0x6A80, 0x6A81, 0x6A82, 0x6A83, 0x6A84, 0x6A85, 0x6A86, 0x6A88, 0x6B00, 0x6D00, 0x6E00,
            0x6F00, 0x9303,
        ]
        .contains(&sw)
}

/// A card in one of several states.
fn card(alg: Algorithm, generation: Generation, state: u8, t0: bool) -> Terminal {
    let mut t = match state % 6 {
        0 => Terminal::new(generation, alg),
        1 | 2 => Terminal::personalized(generation, alg),
        3 => {
            let app = FinancialApp::debit("6217000010001234567", "301231").unwrap();
            Terminal::with_spec(spec(generation, alg).with_financial(app))
        }
        _ => Terminal::personalized(generation, alg),
    };
    t.card.set_t0(t0);
    if state % 6 != 0 {
        t.select();
    }
    if state % 6 == 2 {
        assert_eq!(t.authenticate(KeyRole::Ukssse), 0x9000);
        assert_eq!(t.authenticate(KeyRole::Puk), 0x9000);
        assert_eq!(t.authenticate(KeyRole::Bk), 0x9000);
        assert_eq!(t.authenticate(KeyRole::Rkssse), 0x9000);
    }
    if state % 6 == 4 {
        t.card = SimCard::from_image({
            let mut image = t.card.image().clone();
            image.ssse_blocked = true;
            image
        })
        .unwrap();
        t.card.set_t0(t0);
    }
    if state % 6 == 5 {
        let mut image = t.card.image().clone();
        image.card_blocked = true;
        t.card = SimCard::from_image(image).unwrap();
    }
    t
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn the_card_never_panics_and_answers_spec_status_words(
        alg in algorithm(),
        generation in generation(),
        state in 0u8..6,
        t0 in any::<bool>(),
        apdus in proptest::collection::vec(apdu(), 1..32),
    ) {
        let mut t = card(alg, generation, state, t0);
        for apdu in &apdus {
            let (_, sw) = split(t.card.handle(apdu));
            prop_assert!(allowed(sw), "{} -> {sw:04X}", hex::encode_upper(apdu));
            prop_assert!(t0 || sw >> 8 != 0x61, "61xx on T=1");
            prop_assert!(t.card.image().validate().is_ok());
        }
        let json = t.card.save_json().unwrap();
        let loaded = SimCard::load_json(&json).unwrap();
        prop_assert_eq!(loaded.image(), t.card.image());
    }

    #[test]
    fn power_lost_anywhere_leaves_a_valid_card(
        alg in algorithm(),
        generation in generation(),
        state in 0u8..4,
        tear_at in 1u64..6,
        after_apdu in any::<bool>(),
        apdus in proptest::collection::vec(apdu(), 1..24),
    ) {
        let mut t = card(alg, generation, state, true);
        t.card.arm_tear(if after_apdu { Tear::AfterApdu(tear_at) } else { Tear::AtWrite(tear_at) });
        for apdu in &apdus {
            let response = t.card.handle(apdu);
            if response.is_empty() {
                prop_assert!(t.card.is_torn());
                t.card.reset();
            }
        }
        prop_assert!(t.card.image().validate().is_ok());
        prop_assert!(SimCard::load_json(&t.card.save_json().unwrap()).is_ok());
    }

    #[test]
    fn the_psam_never_panics(
        alg in algorithm(),
        select_first in any::<bool>(),
        apdus in proptest::collection::vec(apdu(), 1..32),
    ) {
        let mut p = SimPsam::from_root_keys(&keys(), &PsamSpec::new(alg, "519900000001")).unwrap();
        if select_first {
            p.handle(&crate::test_support::h("00A4040006D15600000590"));
        }
        for apdu in &apdus {
            let (_, sw) = split(p.handle(apdu));
            prop_assert!(allowed(sw), "{} -> {sw:04X}", hex::encode_upper(apdu));
        }
    }
}

/// A PIN operation of the model test.
#[derive(Debug, Clone)]
enum PinOp {
    Reset,
    Probe,
    Verify(usize),
    Change(usize, usize),
    AuthenticatePuk,
    Reload(usize),
    Unblock,
}

const PINS: [&str; 4] = ["123456", "2580", "13579", "0000"];

fn pin_op() -> impl Strategy<Value = PinOp> {
    prop_oneof![
        1 => Just(PinOp::Reset),
        1 => Just(PinOp::Probe),
        4 => (0..PINS.len()).prop_map(PinOp::Verify),
        2 => (0..PINS.len(), 0..PINS.len()).prop_map(|(a, b)| PinOp::Change(a, b)),
        1 => Just(PinOp::AuthenticatePuk),
        1 => (0..PINS.len()).prop_map(PinOp::Reload),
        1 => Just(PinOp::Unblock),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// The PIN against a model of part 5 §6.3, §6.8, §6.14 and part 7 §5.8: status words, the
    /// stored PIN and the counter after every operation.
    #[test]
    fn pin_behaviour_matches_the_model(
        alg in algorithm(),
        ops in proptest::collection::vec(pin_op(), 1..40),
    ) {
        let mut t = Terminal::personalized(Generation::V2, alg);
        t.select();
        let cn = |i: usize| sscard_core::crypto::Pin::new(PINS[i]).unwrap().to_bcd().to_vec();
        let (mut pin, mut tries, mut puk) = (cn(0), 3u8, false);
        for op in ops {
            let expected = match &op {
                PinOp::Reset => {
                    t.card.reset();
                    t.select();
                    puk = false;
                    continue;
                }
                PinOp::Probe => {
                    let sw = t.sw("0020000000");
                    prop_assert_eq!(sw, 0x63C0 | u16::from(tries));
                    continue;
                }
                PinOp::Verify(i) => {
                    let sw = t.verify(PINS[*i]);
                    let expected = if tries == 0 {
                        0x6983
                    } else if cn(*i) == pin {
                        tries = 3;
                        0x9000
                    } else {
                        tries -= 1;
                        0x63C0 | u16::from(tries)
                    };
                    (sw, expected)
                }
                PinOp::Change(a, b) => {
                    let sw = t.change_pin(PINS[*a], PINS[*b]);
                    let expected = if tries == 0 {
                        0x6983
                    } else if cn(*a) == pin {
                        pin = cn(*b);
                        tries = 3;
                        0x9000
                    } else {
                        tries -= 1;
                        0x63C0 | u16::from(tries)
                    };
                    (sw, expected)
                }
                PinOp::AuthenticatePuk => {
                    puk = true;
                    (t.authenticate(KeyRole::Puk), 0x9000)
                }
                PinOp::Reload(i) => {
                    let apdu = t.reload_apdu(&cn(*i));
                    let sw = t.raw(&apdu).1;
                    let expected = if puk {
                        pin = cn(*i);
                        tries = 3;
                        0x9000
                    } else {
                        0x6982
                    };
                    (sw, expected)
                }
                PinOp::Unblock => {
                    let challenge = t.challenge(8);
                    let session = t.stk_session(&challenge);
                    let apdu = t.mac_apdu(&session, [0x84, 0x24, 0x00, 0x00], &[]);
                    let sw = t.raw(&apdu).1;
                    let expected = if puk {
                        tries = 3;
                        0x9000
                    } else {
                        0x6982
                    };
                    (sw, expected)
                }
            };
            prop_assert_eq!(expected.0, expected.1, "{:?}", op);
            prop_assert_eq!(t.card.image().pin.value.expose(), &pin[..], "{:?}", op);
            prop_assert_eq!(t.card.image().pin.tries_left, tries, "{:?}", op);
        }
    }
}
