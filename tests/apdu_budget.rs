//! APDU budgets of the specification's operations. On a real card every APDU costs 10-25 ms,
//! so the number of APDUs is the speed of a terminal. The counts are deterministic; each one is
//! derived below from the flow the library runs (docs/card-os.md §2, §4) and pinned for every
//! generation, algorithm and transmission protocol.
//!
//! The building blocks, with what they cost:
//!
//! - **SELECT SSSE** (`00A4 0400 0F <AID> 00`): 1 APDU on T=1 (the FCI comes with `9000`); 2 on
//!   T=0, where the card answers `61xx` and the FCI comes with GET RESPONSE (part 2 §9.3.2.2);
//! - **READ RECORD** of one data item by SFI with Le = the item's length + 2: 1 APDU, never a
//!   `6Cxx` (part 5 §6.10, [design] D16: the library knows every item's length, V2.0 notice
//!   table 9). EF05 has 7 items, EF06 6 on 1.0 cards and 7 (with the name extension 4E) on 2.0
//!   and 3.0 cards;
//! - **INTERNAL AUTHENTICATION** (case 4): 1 APDU on T=1, 2 on T=0 (`61 08`, GET RESPONSE);
//! - **EXTERNAL AUTHENTICATION**: GET CHALLENGE + the command = 2;
//! - **a secured command** (PIN RELOAD/UNBLOCK, APPLICATION/CARD BLOCK, [design] D12): EXTERNAL
//!   AUTHENTICATION with PUK or BK (2), GET CHALLENGE + the command with its MAC (2) = 4;
//! - VERIFY, CHANGE PIN, UPDATE RECORD, SELECT of an EF: 1 each (no response data).
//!
//! The library reads the card identification code (EF05 01) once per card session, when the
//! first key holder computation needs the card's region (the factors, part 9 §7.3), and the spec
//! version (EF05 03) when the operation needs the generation.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use sscard::crypto::KeyLevel;
use sscard::keyholder::KeyHolder;
use sscard::lifecycle::{
    self, ActivateOptions, Addressing, PersonalizeOptions, ReadOptions, ValidityPolicy,
};
use sscard::profile::{Ef, Generation};
use sscard::sim::{CardSpec, SimCard};
use sscard::{Algorithm, Error};

/// The operations whose budgets are pinned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Read,
    ReadVerified,
    ReadTraceAddressing,
    Personalize,
    PersonalizeRerun,
    CheckValidity,
    Activate,
    ActivateWithoutKeys,
    PinStatus,
    VerifyPin,
    ChangePin,
    ReloadPin,
    UnblockPin,
    BlockApplication,
    BlockCard,
    ReadFingerprint,
    ReadPhoto,
}

const OPS: [Op; 17] = [
    Op::Read,
    Op::ReadVerified,
    Op::ReadTraceAddressing,
    Op::Personalize,
    Op::PersonalizeRerun,
    Op::CheckValidity,
    Op::Activate,
    Op::ActivateWithoutKeys,
    Op::PinStatus,
    Op::VerifyPin,
    Op::ChangePin,
    Op::ReloadPin,
    Op::UnblockPin,
    Op::BlockApplication,
    Op::BlockCard,
    Op::ReadFingerprint,
    Op::ReadPhoto,
];

/// The pinned budget of `op` on a card of `g`, T=1 and T=0: `(t1, t0)`. `None` where the
/// operation does not exist for the generation.
fn budget(op: Op, g: Generation) -> Option<(u64, u64)> {
    use Generation::{V1, V2, V3};
    Some(match (op, g) {
        // SELECT 1, spec version 03 and card id 01 (1 + 1), the rest of EF05 (02 04 05 06 07:
        // 5), EF06 (6 on 1.0): 1 + 7 + 6 = 14; T=0 adds the GET RESPONSE of SELECT
        (Op::Read, V1) => (14, 15),
        // 1 + 7 + 7 = 15 (16 on T=0)
        (Op::Read, V2) => (15, 16),
        // a 3.0 card's EF06 needs RKSSSE: the read stops after EF05 with ReadKeyRequired,
        // 1 + 7 = 8 (9)
        (Op::Read, V3) => (8, 9),
        // read plus INTERNAL AUTHENTICATION (IRK, 1; 2 on T=0): 15 (1.0), 16 (2.0); T=0 adds
        // the GET RESPONSE of SELECT and of INTERNAL AUTHENTICATION: 17, 18
        (Op::ReadVerified, V1) => (15, 17),
        (Op::ReadVerified, V2) => (16, 18),
        // and on 3.0 EXTERNAL AUTHENTICATION with RKSSSE before EF06 (2): 18, 20
        (Op::ReadVerified, V3) => (18, 20),
        // the field trace's addressing: SELECT EF05 and SELECT EF06 (2) on top of the read,
        // READ RECORD of the current EF: 2.0 1 + 1 + 7 + 1 + 7 = 17 (18 on T=0)
        (Op::ReadTraceAddressing, V1) => (16, 17),
        (Op::ReadTraceAddressing, V2) => (17, 18),
        (Op::ReadTraceAddressing, V3) => return None,
        // SELECT 1, card id 1, is there a card number? (07: 6A83) 1, PIN RELOAD of the initial
        // PIN 4, EXTERNAL AUTHENTICATION with UKSSSE 2, UPDATE RECORD of every item but the
        // card id (1.0: 6 + 5 + 1 = 12; 2.0 and 3.0: 7 + 5 + 1 = 13), every item read back
        // (12, 13; on 3.0 after RKSSSE, 2): 1.0 1+1+1+4+2+12+12 = 33, 2.0 35, 3.0 37; T=0 +1
        (Op::Personalize, V1) => (33, 34),
        (Op::Personalize, V2) => (35, 36),
        (Op::Personalize, V3) => (37, 38),
        // a rerun finds the card number and reads back the other items: 1 + 1 + 1 + 11 = 14,
        // 2.0 15, 3.0 with RKSSSE 17; T=0 +1
        (Op::PersonalizeRerun, V1) => (14, 15),
        (Op::PersonalizeRerun, V2) => (15, 16),
        (Op::PersonalizeRerun, V3) => (17, 18),
        // part 7 §5.4-5.6: SELECT 1, spec version 1, card id 1, INTERNAL AUTHENTICATION 1,
        // EF05 02 04 05 06 07 (5), VERIFY without data 1: 10; T=0 +2 (SELECT, IA)
        (Op::CheckValidity, _) => (10, 12),
        // SELECT 1, card id 1, INTERNAL AUTHENTICATION 1, CHANGE PIN 1: 4; T=0 +2
        (Op::Activate, _) => (4, 6),
        // SELECT 1, CHANGE PIN 1: 2; T=0 +1
        (Op::ActivateWithoutKeys | Op::ChangePin, _) => (2, 3),
        // SELECT 1, VERIFY (without data, or with the PIN) 1: 2; T=0 +1
        (Op::PinStatus | Op::VerifyPin, _) => (2, 3),
        // SELECT 1, card id 1, secured command 4: 6; T=0 +1
        (Op::ReloadPin | Op::UnblockPin | Op::BlockApplication | Op::BlockCard, _) => (6, 7),
        // 2.0 and 3.0: SELECT 1, spec version 1, card id 1, RKSSSE 2, SELECT EF 1, READ BINARY
        // of 256 bytes: EF07 (0x300) 3, EF08 (0x1000) 16 → 9 and 22; T=0 +1
        (Op::ReadFingerprint | Op::ReadPhoto, V1) => return None,
        (Op::ReadFingerprint, _) => (9, 10),
        (Op::ReadPhoto, _) => (22, 23),
    })
}

/// A personalized card of `spec` with EF07 and EF08 (2.0+) filled, powered afresh.
fn ready_sim(spec: CardSpec) -> SimCard {
    let generation = spec.generation;
    let sim = personalized_sim_of(spec);
    if generation == Generation::V1 {
        return sim;
    }
    let mut card = recorded(sim);
    let mut keys = test_keys();
    let mut session = card.authenticate_for_update(&mut keys).unwrap();
    session.write_binary(Ef::Ef07, 0, &[0x11; 0x300]).unwrap();
    session.write_binary(Ef::Ef08, 0, &[0x22; 0x1000]).unwrap();
    let mut sim = card.into_transport().inner.into_card();
    sim.reset();
    sim
}

/// Runs `op` on a fresh card session; the exchanges.
fn run(op: Op, spec: &CardSpec, ready: &SimCard) -> (Vec<Exchange>, u64) {
    let sim = match op {
        Op::Personalize => blank_sim_of(spec.clone()),
        _ => SimCard::from_image(ready.image().clone()).unwrap(),
    };
    let mut card = recorded(sim);
    if op == Op::ReadTraceAddressing {
        card = card.with_addressing(Addressing::SelectEf);
    }
    let mut keys = test_keys();
    let g = spec.generation;
    let data = person(g);
    let result: Result<(), Error> = match op {
        Op::Read | Op::ReadTraceAddressing => lifecycle::read(&mut card).map(|read| {
            assert_eq!(read.holder, *data.holder());
        }),
        Op::ReadVerified => lifecycle::read_verified(&mut card, &mut keys, &ReadOptions::default())
            .map(|read| {
                assert_eq!(read.genuine, Some(true));
                assert_eq!(read.holder, *data.holder());
            }),
        Op::Personalize | Op::PersonalizeRerun => {
            lifecycle::personalize(&mut card, &mut keys, &data, &PersonalizeOptions::default())
                .map(|report| assert_eq!(report.already_done, op == Op::PersonalizeRerun))
        }
        Op::CheckValidity => {
            lifecycle::check_validity(&mut card, &mut keys, &ValidityPolicy::default()).map(|_| ())
        }
        Op::Activate => lifecycle::activate_verified(
            &mut card,
            &mut keys,
            &pin("975310"),
            &ActivateOptions::default(),
        ),
        Op::ActivateWithoutKeys => {
            lifecycle::activate(&mut card, &pin("975310"), &ActivateOptions::default())
        }
        Op::PinStatus => lifecycle::pin_status(&mut card).map(|_| ()),
        Op::VerifyPin => lifecycle::verify_pin(&mut card, &pin("123456")),
        Op::ChangePin => lifecycle::change_pin(&mut card, &pin("123456"), &pin("5757")),
        Op::ReloadPin => lifecycle::reload_pin(&mut card, &mut keys, &pin("4321")),
        Op::UnblockPin => lifecycle::unblock_pin(&mut card, &mut keys),
        Op::BlockApplication => lifecycle::block_application(&mut card, &mut keys),
        Op::BlockCard => lifecycle::block_card(&mut card, &mut keys),
        Op::ReadFingerprint => {
            lifecycle::read_binary_file(&mut card, &mut keys, Ef::Ef07).map(|d| {
                assert_eq!(d, vec![0x11; 0x300]);
            })
        }
        Op::ReadPhoto => lifecycle::read_binary_file(&mut card, &mut keys, Ef::Ef08).map(|d| {
            assert_eq!(d, vec![0x22; 0x1000]);
        }),
    };
    match (op, g, result) {
        (Op::Read, Generation::V3, Err(Error::ReadKeyRequired)) => {}
        (_, _, Ok(())) => {}
        (op, g, Err(e)) => panic!("{op:?} on {g}: {e}"),
    }
    let count = card.apdu_count();
    (card.into_transport().log, count)
}

/// Commands sent more than once in one operation, other than GET CHALLENGE and GET RESPONSE
/// (whose bytes repeat by nature).
fn repeated(log: &[Exchange]) -> Vec<Vec<u8>> {
    let mut seen: Vec<&[u8]> = Vec::new();
    let mut twice = Vec::new();
    for e in log {
        if matches!(e.ins(), 0x84 | 0xC0) {
            continue;
        }
        if seen.contains(&e.command.as_slice()) {
            twice.push(e.command.clone());
        }
        seen.push(&e.command);
    }
    twice
}

#[test]
fn budgets_per_generation_algorithm_and_protocol() {
    for generation in Generation::ALL {
        for algorithm in Algorithm::ALL {
            for t0 in [false, true] {
                let mut spec = card_spec(generation, algorithm, SERIAL);
                if !t0 {
                    spec = spec.with_t1();
                }
                let ready = ready_sim(spec.clone());
                for op in OPS {
                    let Some((t1_budget, t0_budget)) = budget(op, generation) else {
                        continue;
                    };
                    let what = format!("{op:?} {generation} {algorithm} t0={t0}");
                    let (log, count) = run(op, &spec, &ready);
                    let expected = if t0 { t0_budget } else { t1_budget };
                    assert_eq!(count, expected, "{what}: {}", listing(&log));
                    assert_eq!(
                        log.len() as u64,
                        count,
                        "{what}: the channel counts them all"
                    );
                    // the right Le at the first try: no 6Cxx, to READ RECORD or anything else
                    for e in &log {
                        assert_ne!(e.sw() >> 8, 0x6C, "{what}: {}", listing(&log));
                        // every record is there, but the card number of a blank card, which
                        // personalization looks for first (6A83, [design] D14)
                        if e.ins() == 0xB2 && e.sw() != 0x9000 {
                            assert_eq!(op, Op::Personalize, "{what}: {}", listing(&log));
                            assert_eq!(e.command, hex::decode("00B207280B").unwrap());
                            assert_eq!(e.sw(), 0x6A83, "{what}");
                        }
                    }
                    // no command twice; personalization reads the card number before writing
                    // and again when reading back what it wrote (a rerun, which writes
                    // nothing, does not read it again)
                    let twice = repeated(&log);
                    match op {
                        Op::Personalize => {
                            assert_eq!(twice, vec![hex::decode("00B207280B").unwrap()], "{what}")
                        }
                        _ => assert!(twice.is_empty(), "{what}: {}", listing(&log)),
                    }
                    // on T=0 only case 4 answers come with 61xx; on T=1 none
                    let get_responses = log.iter().filter(|e| e.ins() == 0xC0).count();
                    let case4 = log
                        .iter()
                        .filter(|e| matches!(e.ins(), 0xA4 | 0x88) && e.command.len() > 7)
                        .count();
                    if t0 {
                        assert_eq!(get_responses, case4, "{what}: {}", listing(&log));
                    } else {
                        assert_eq!(get_responses, 0, "{what}");
                    }
                }
            }
        }
    }
}

fn listing(log: &[Exchange]) -> String {
    log.iter()
        .map(|e| {
            format!(
                "\n  {} -> {:04X}",
                hex::encode_upper(&e.command[..e.command.len().min(5)]),
                e.sw()
            )
        })
        .collect()
}

/// The SSSE READ RECORDs carry exactly the item's length + 2 as Le: the 2.0 T=1 read is
/// SELECT, then 7 + 7 READ RECORDs of these exact bytes.
#[test]
fn the_2_0_read_is_select_and_fourteen_exact_read_records() {
    let spec = card_spec(Generation::V2, Algorithm::Sm4, SERIAL).with_t1();
    let mut card = recorded(personalized_sim_of(spec));
    lifecycle::read(&mut card).unwrap();
    let sent: Vec<String> = card
        .channel()
        .transport()
        .log
        .iter()
        .map(|e| hex::encode_upper(&e.command))
        .collect();
    assert_eq!(
        sent,
        [
            "00A404000F7378312E73682EC9E7BBE1B1A3D5CF00",
            // EF05 by SFI 5 (P2 = 0x28): spec version, card id, then 02 04 05 06 07
            "00B2032806",
            "00B2012812",
            "00B2022803",
            "00B204280E",
            "00B2052806",
            "00B2062806",
            "00B207280B",
            // EF06 by SFI 6 (P2 = 0x30): 08 09 4E 0A 0B 0C 0D
            "00B2083014",
            "00B2093020",
            "00B24E3016",
            "00B20A3003",
            "00B20B3003",
            "00B20C3005",
            "00B20D3006",
        ]
    );
}

/// A PSAM key holder costs APDUs on its own reader: per EXTERNAL AUTHENTICATION the original
/// data (GET CHALLENGE 1), DELIVERY SESSION KEY 1 and CIPHER DATA with GET RESPONSE 2 = 4; per
/// INTERNAL AUTHENTICATION two randoms, 2 + 1 + 2 = 5. A PSAM holding province keys answers the
/// first national guess of each key with `6A80` (1 more), city keys the national and the
/// province guess (2 more); the level found is then remembered (part 9 §8, schemes one and two).
#[test]
fn psam_budget_of_a_3_0_read_per_key_level() {
    for (level, first, second) in [
        (KeyLevel::National, 9, 9),
        (KeyLevel::Province, 11, 9),
        (KeyLevel::City, 13, 9),
    ] {
        let sim = personalized_sim(Generation::V3, Algorithm::Sm4, SERIAL);
        let mut card = recorded(sim);
        let mut psam = psam_key_holder(Algorithm::Sm4, level);
        let opened = psam.channel().apdu_count();
        // at open: READ BINARY of the terminal number, SELECT of D15600000590 with GET RESPONSE
        assert_eq!(opened, 3, "{level:?}");
        for expected in [first, second] {
            // a fresh card session each time; the PSAM keeps what it learnt
            card.raw().transport_mut().inner.power_cycle();
            psam.channel_mut().reset_apdu_count();
            let read =
                lifecycle::read_verified(&mut card, &mut psam, &ReadOptions::default()).unwrap();
            assert_eq!(read.terminal_number.as_deref(), Some(TERMINAL_NUMBER));
            assert_eq!(psam.channel().apdu_count(), expected, "{level:?}");
        }
        // the card's side does not depend on the key holder
        assert_eq!(
            card.apdu_count(),
            2 * 20,
            "{level:?}: two reads of 20 APDUs"
        );
    }
}

/// The PSAM's secure messaging for a PIN reload: the enciphered PIN (DELIVERY SESSION KEY 1,
/// CIPHER DATA 2) and the MAC (again 1 + 2), plus the PUK authentication (4): 10.
#[test]
fn psam_budget_of_a_pin_reload() {
    let mut card = personalized_card(Generation::V2, Algorithm::Tdes, SERIAL);
    let mut psam = psam_key_holder_at(Algorithm::Tdes, KeyLevel::National);
    psam.channel_mut().reset_apdu_count();
    lifecycle::reload_pin(&mut card, &mut psam, &pin("4321")).unwrap();
    assert_eq!(psam.channel().apdu_count(), 10);
    assert_eq!(card.apdu_count(), 7);
    lifecycle::verify_pin(&mut card, &pin("4321")).unwrap();
    assert!(psam.supports(Algorithm::Tdes));
}
