//! Property tests: `handle` never panics on arbitrary bytes, in any state, and the image always
//! stays serializable and loadable.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use proptest::prelude::*;

use sscard_core::profile::Generation;
use sscard_core::Algorithm;

use crate::card::SimCard;
use crate::image::SecretBytes;
use crate::psam::SimPsam;
use crate::test_support::{master_key, split, Terminal};

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

/// APDUs with a plausible header (so the commands' code paths are reached) or plain noise.
fn apdu() -> impl Strategy<Value = Vec<u8>> {
    let ins = prop_oneof![
        Just(0xA4u8),
        Just(0xB2),
        Just(0xDC),
        Just(0x84),
        Just(0x82),
        Just(0x88),
        Just(0x20),
        Just(0x5E),
        Just(0x24),
        Just(0x1E),
        Just(0x18),
        Just(0x16),
        Just(0x44),
        Just(0x04),
        Just(0xC0),
        Just(0xB0),
        Just(0xDE),
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
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..300),
        (
            cla,
            ins,
            any::<u8>(),
            any::<u8>(),
            proptest::collection::vec(any::<u8>(), 0..40)
        )
            .prop_map(|(cla, ins, p1, p2, body)| {
                let mut apdu = vec![cla, ins, p1, p2];
                apdu.extend(body);
                apdu
            }),
        (
            cla_ins_case4(),
            proptest::collection::vec(any::<u8>(), 0..40),
            any::<bool>()
        )
            .prop_map(|((cla, ins, p1, p2), data, le)| {
                let mut apdu = vec![cla, ins, p1, p2, data.len() as u8];
                apdu.extend(&data);
                if le {
                    apdu.push(0);
                }
                apdu
            }),
    ]
}

fn cla_ins_case4() -> impl Strategy<Value = (u8, u8, u8, u8)> {
    prop_oneof![
        Just((0x00u8, 0xA4u8, 0x04u8, 0x00u8)),
        Just((0x00, 0xA4, 0x00, 0x00)),
        Just((0x00, 0xDC, 0x02, 0x28)),
        Just((0x00, 0x82, 0x00, 0x04)),
        Just((0x00, 0x88, 0x00, 0x00)),
        Just((0x00, 0x20, 0x00, 0x00)),
        Just((0x80, 0x5E, 0x01, 0x00)),
        Just((0x84, 0x24, 0x00, 0x01)),
        Just((0x84, 0x1E, 0x00, 0x00)),
        Just((0xBF, 0xDE, 0x48, 0x04)),
        Just((0x80, 0xFA, 0x00, 0x00)),
        Just((0x80, 0xFA, 0x05, 0x00)),
    ]
}

fn check_response(response: &[u8]) {
    assert!(response.len() >= 2);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn handle_never_panics(
        alg in algorithm(),
        generation in generation(),
        t0 in any::<bool>(),
        select_first in any::<bool>(),
        personalize in any::<bool>(),
        apdus in proptest::collection::vec(apdu(), 1..24),
    ) {
        let mut t = Terminal::new(generation, alg);
        let mut options = t.card.image().options;
        options.t0_mode = t0;
        t.card.set_options(options);
        if personalize {
            t.personalize_minimal();
            t.authenticate(0x04);
        } else if select_first {
            t.select();
        }
        for apdu in &apdus {
            let response = t.card.handle(apdu);
            check_response(&response);
            let (_, sw) = split(response);
            prop_assert!(sw != 0x0000);
        }
        let json = t.card.save_json().unwrap();
        let loaded = SimCard::load_json(&json).unwrap();
        prop_assert_eq!(loaded.image(), t.card.image());
    }

    #[test]
    fn psam_handle_never_panics(
        alg in algorithm(),
        select_first in any::<bool>(),
        apdus in proptest::collection::vec(apdu(), 1..24),
    ) {
        let keys: Vec<(u8, SecretBytes)> = [0x04u8, 0x0A]
            .iter()
            .map(|id| (*id, SecretBytes::from_slice(&master_key(alg, *id))))
            .collect();
        let mut psam = SimPsam::new(alg, &keys, "123456789012").unwrap();
        if select_first {
            psam.handle(&[0x00, 0xA4, 0x04, 0x00, 0x06, 0xD1, 0x56, 0x00, 0x00, 0x05, 0x90]);
        }
        for apdu in &apdus {
            check_response(&psam.handle(apdu));
        }
    }
}
