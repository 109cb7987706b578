//! Writes the seed corpora of the fuzz targets into `fixtures/fuzz/<target>/` from real
//! sessions of the library with the simulated card, the fixture persons and hand-made inputs:
//!
//! ```sh
//! cargo run --manifest-path fuzz/Cargo.toml --example make_seeds
//! ```
//!
//! Each target's seeds are rewritten (kept crash inputs, `regression-*`, stay). Recorded `replay_*` sessions replay to success
//! (checked here before writing; their names are `sscard_fuzz::SUCCEEDING_SEEDS`); the
//! `sim_handler` seeds are the library's commands against a card whose random generator the
//! harness seeds the same way, so their authentications succeed again (checked too). The
//! output changes from run to run only in the terminal's random data (original data of
//! authentications), which the replaying fake card never checks.
#![forbid(unsafe_code)]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fs;
use std::path::{Path, PathBuf};

use sscard_core::apdu::{commands, RecordRef};
use sscard_core::crypto::Pin;
use sscard_core::data::{CardIdentificationCode, PersonRecord};
use sscard_core::keyholder::{CardContext, HsmRequest, KeyHolder};
use sscard_core::keys::KeyRole;
use sscard_core::lifecycle::{
    self, hsm, ActivateOptions, Addressing, Card, PersonalizeOptions, ReadOptions, ValidityPolicy,
};
use sscard_core::profile::{self, Ef, Generation, SSSE_AID};
use sscard_core::Algorithm;
use sscard_fuzz::{
    encode_apdu, encode_chunk, fixture_person, fuzz_keys, op, person_row, read_flow, sim_card,
    sim_prefix, write_flow, FuzzKeys, Recorder, ResetOnce, SimState, ACTIVATED_PIN, NEW_PIN,
    PERSONS, SUCCEEDING_SEEDS, TODAY,
};
use sscard_sim::{CardImage, PsamSpec, SimCard, SimPsam, SimTransport};

const TARGETS: [&str; 5] = [
    "response_parsing",
    "replay_read",
    "replay_personalize",
    "sim_handler",
    "person_record",
];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn write(target: &str, name: &str, bytes: &[u8]) {
    let dir = root().join("fixtures/fuzz").join(target);
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join(name), bytes).unwrap();
}

fn pin(digits: &str) -> Pin {
    Pin::new(digits).unwrap()
}

/// A simulated card of the harness in `state`: T=0 unless `t1`, with the bank application when
/// `bank`, its random generator seeded.
fn sim(g: Generation, alg: Algorithm, state: SimState, t1: bool, bank: bool) -> SimCard {
    let [c, s] = sim_prefix(g, alg, Some(state), t1, bank);
    sim_card(c, s).unwrap()
}

type Rec = Card<Recorder<SimTransport<SimCard>>>;

fn recorded(card: SimCard) -> Rec {
    Card::open(Recorder::new(SimTransport::new(card))).unwrap()
}

fn stream_of(card: Rec) -> Vec<u8> {
    card.into_transport().stream
}

fn context(card: &SimCard) -> CardContext {
    let id: [u8; 16] = card.image().card_id().unwrap().try_into().unwrap();
    CardContext {
        algorithm: card.image().algorithm,
        atr: card.atr(),
        card_id: CardIdentificationCode::from_bytes(&id).unwrap(),
    }
}

/// What an HSM holding the test keys answers (reader interface §1.3, §6.3-6.4).
fn hsm_answer(keys: &mut FuzzKeys, card: &CardContext, request: &HsmRequest) -> String {
    let h = |bytes: &[u8]| hex::encode_upper(bytes);
    let role_at = |address: u16| {
        KeyRole::ALL
            .into_iter()
            .find(|r| r.hsm_address(1) == Some(address))
            .unwrap()
    };
    match request {
        HsmRequest::CardAuthentication {
            internal, external, ..
        } => {
            let ia = keys
                .authenticate(card, KeyRole::Irk, &internal.0, &internal.1)
                .unwrap();
            let mut answer = format!("{}{}|", h(&ia), h(&internal.1));
            if let Some((factor, original)) = external {
                let ea = keys
                    .authenticate(card, KeyRole::Rkssse, factor, original)
                    .unwrap();
                answer.push_str(&format!("{}{}|", h(&ea), h(original)));
            }
            answer
        }
        HsmRequest::ExternalAuthentication {
            address,
            process_factor,
            original,
            ..
        } => {
            let auth = keys
                .authenticate(card, role_at(*address), process_factor, original)
                .unwrap();
            format!("{}{}|", h(&auth), h(original))
        }
        HsmRequest::SecureMessaging {
            address,
            process_factor,
            header,
            plaintext,
            ..
        } => {
            let new_pin = (!plaintext.is_empty()).then(|| pin(plaintext));
            let [cla, ins, p1, p2, _] = *header;
            let sm = keys
                .secure_message(
                    card,
                    role_at(*address),
                    process_factor,
                    [cla, ins, p1, p2],
                    new_pin.as_ref(),
                )
                .unwrap();
            format!("{}{}|", h(&sm.enciphered), h(&sm.mac))
        }
    }
}

// ---------------------------------------------------------------------------------------------
// response_parsing
// ---------------------------------------------------------------------------------------------

fn gen_name(g: Generation) -> u8 {
    g.number()
}

fn bytes_of(command: &sscard_core::apdu::Command) -> Vec<u8> {
    command.to_bytes().unwrap().to_vec()
}

fn response_parsing() {
    let t = "response_parsing";
    for g in Generation::ALL {
        for alg in [Algorithm::Tdes, Algorithm::Sm4] {
            // T=1: the FCI comes at once
            let mut card = sim(g, alg, SimState::Activated, true, false);
            let fci = card.handle(&bytes_of(&commands::select_aid(&SSSE_AID)));
            write(t, &format!("fci-{}-{}", gen_name(g), alg.name()), &fci);
            if alg == Algorithm::Sm4 {
                continue;
            }
            // every record of EF05 and EF06, alone (with its SW) and all together (the data)
            let mut keys = fuzz_keys();
            let mut lib = Card::open(SimTransport::new(card)).unwrap();
            lifecycle::read_verified(&mut lib, &mut keys, &ReadOptions::default()).unwrap();
            let mut card = lib.into_transport().into_card();
            for ef in Ef::RECORD_FILES {
                let mut all = Vec::new();
                for spec in profile::records(g, ef) {
                    let read = commands::read_record(
                        Some(ef.sfi()),
                        RecordRef::Tag(spec.tag),
                        spec.len + 2,
                    );
                    let response = card.handle(&bytes_of(&read));
                    if spec.tag == profile::tag::NAME || spec.tag == profile::tag::CARD_ID {
                        write(
                            t,
                            &format!("record-{ef}-{:02X}-{}", spec.tag, gen_name(g)),
                            &response,
                        );
                    }
                    all.extend_from_slice(&response[..response.len() - 2]);
                }
                write(t, &format!("records-{ef}-{}-data", gen_name(g)), &all);
            }
        }
    }
    // T=0: 61xx, then GET RESPONSE
    let mut card = sim(
        Generation::V2,
        Algorithm::Sm4,
        SimState::Activated,
        false,
        false,
    );
    write(
        t,
        "fci-t0-61xx",
        &card.handle(&bytes_of(&commands::select_aid(&SSSE_AID))),
    );
    write(
        t,
        "fci-t0-get-response",
        &card.handle(&bytes_of(&commands::get_response(0x1B))),
    );
    // the field trace card's FCI (docs/card-os.md), with a directory SFI
    write(
        t,
        "fci-field-trace",
        &hex::decode("6F1C840F7378312E73682EC9E7BBE1B1A3D5CFA50988011E9F0C038601039000").unwrap(),
    );
    // the PSAM's FCI
    let keys = sscard_fuzz::root_keys();
    let mut psam =
        SimPsam::from_root_keys(&keys, &PsamSpec::new(Algorithm::Sm4, "123456789012")).unwrap();
    write(
        t,
        "fci-psam-sm4",
        &psam.handle(&bytes_of(&commands::select_aid(&profile::PSAM_AID))),
    );
    // the financial application: PSE, ADF, GET PROCESSING OPTIONS, the record with 5A
    let mut card = sim(
        Generation::V2,
        Algorithm::Tdes,
        SimState::Activated,
        true,
        true,
    );
    write(
        t,
        "bank-pse-fci",
        &card.handle(&bytes_of(&commands::select_aid(b"1PAY.SYS.DDF01"))),
    );
    write(
        t,
        "bank-adf-fci",
        &card.handle(&bytes_of(&commands::select_aid(&lifecycle::PBOC_DEBIT_AID))),
    );
    write(
        t,
        "bank-gpo",
        &card.handle(&bytes_of(&commands::get_processing_options(&[]))),
    );
    let wrong_le = card.handle(&hex::decode("00B2010C00").unwrap());
    write(t, "bank-record-6cxx", &wrong_le);
    let le = wrong_le.get(1).copied().unwrap_or(0);
    write(
        t,
        "bank-record",
        &card.handle(&[0x00, 0xB2, 0x01, 0x0C, le]),
    );
    // status words and commands
    for (name, bytes) in [
        ("sw-9000", &[0x90u8, 0x00][..]),
        ("sw-6a82", &[0x6A, 0x82]),
        ("sw-61xx", &[0x61, 0x1B]),
        ("sw-6cxx", &[0x6C, 0x12]),
        ("sw-63c2", &[0x63, 0xC2]),
        ("sw-9303", &[0x93, 0x03]),
        ("sw-6a81", &[0x6A, 0x81]),
        ("bcd-date", &[0x20, 0x15, 0x07, 0x11]),
        ("bcd-region", &[0x63, 0x99, 0x00]),
        ("pin-cn", &[0x12, 0x34, 0x56]),
        (
            "card-id",
            &hex::decode("639900D15600000500000001FFFFFFFF").unwrap(),
        ),
        (
            "apdu-extended",
            &[0x00, 0xDC, 0x07, 0x2C, 0x00, 0x00, 0x03, 0x07, 0x01, 0x33],
        ),
    ] {
        write(t, name, bytes);
    }
    write(
        t,
        "apdu-select",
        &bytes_of(&commands::select_aid(&SSSE_AID)),
    );
    write(
        t,
        "apdu-read-record",
        &bytes_of(&commands::read_record(Some(5), RecordRef::Tag(7), 11)),
    );
    write(
        t,
        "apdu-update-record",
        &bytes_of(&commands::update_record(
            Some(5),
            RecordRef::Tag(7),
            sscard_core::tlv::simple(7, b"KD5578904"),
        )),
    );
    write(
        t,
        "apdu-external-authenticate",
        &bytes_of(&commands::external_authenticate(
            0x04, [0x11; 8], [0x22; 8], None,
        )),
    );
    write(
        t,
        "apdu-change-pin",
        &bytes_of(&commands::change_pin(
            &[0x12, 0x34, 0x56],
            &[0x25, 0x80, 0x36],
        )),
    );
}

// ---------------------------------------------------------------------------------------------
// replay_read
// ---------------------------------------------------------------------------------------------

/// Writes a replay seed (flags ‖ stream) after checking it does what the recording did.
fn replay_seed(target: &str, name: &str, seed: Vec<u8>, succeeded: bool) {
    let replayed = match target {
        "replay_read" => sscard_fuzz::check_replay_read(&seed),
        _ => sscard_fuzz::check_replay_personalize(&seed),
    };
    assert_eq!(replayed, succeeded, "{target}/{name} replays as recorded");
    assert_eq!(
        SUCCEEDING_SEEDS.contains(&name),
        succeeded,
        "{target}/{name}: SUCCEEDING_SEEDS is up to date"
    );
    write(target, name, &seed);
}

fn with_file(image: CardImage, ef: Ef) -> SimCard {
    let mut card = Card::open(SimTransport::new(SimCard::from_image(image).unwrap())).unwrap();
    let content: Vec<u8> = (0..ef.size()).map(|i| (i * 7 % 253) as u8 + 1).collect();
    let mut keys = fuzz_keys();
    let mut session = card.authenticate_for_update(&mut keys).unwrap();
    session.write_binary(ef, 0, &content).unwrap();
    let mut sim = card.into_transport().into_card();
    sim.reset();
    sim.seed_rng(5);
    sim
}

fn replay_read() {
    let t = "replay_read";
    let reads: [(&str, Generation, Algorithm, SimState, bool, u8); 10] = [
        // name, generation, algorithm, state, T=1, flags
        (
            "read-v1-free",
            Generation::V1,
            Algorithm::Tdes,
            SimState::Personalized,
            false,
            0x00,
        ),
        (
            "read-v2-free",
            Generation::V2,
            Algorithm::Sm4,
            SimState::Activated,
            false,
            0x00,
        ),
        (
            "read-v2-keys",
            Generation::V2,
            Algorithm::Tdes,
            SimState::Personalized,
            false,
            0x02,
        ),
        (
            "read-v2-t1",
            Generation::V2,
            Algorithm::Sm4,
            SimState::Activated,
            true,
            0x06,
        ),
        (
            "read-v2-select-ef",
            Generation::V2,
            Algorithm::Tdes,
            SimState::Activated,
            false,
            0x82,
        ),
        (
            "read-v3-keys",
            Generation::V3,
            Algorithm::Sm4,
            SimState::Activated,
            false,
            0x02,
        ),
        (
            "read-v3-no-keys",
            Generation::V3,
            Algorithm::Tdes,
            SimState::Activated,
            false,
            0x00,
        ),
        (
            "read-blank",
            Generation::V2,
            Algorithm::Tdes,
            SimState::Blank,
            false,
            0x02,
        ),
        (
            "read-blocked",
            Generation::V2,
            Algorithm::Sm4,
            SimState::ApplicationBlocked,
            false,
            0x02,
        ),
        (
            "read-half-personalized",
            Generation::V3,
            Algorithm::Sm4,
            SimState::HalfPersonalized,
            false,
            0x02,
        ),
    ];
    for (name, g, alg, state, t1, flags) in reads {
        let card = sim(g, alg, state, t1, false);
        let addressing = if flags & 0x80 != 0 {
            Addressing::SelectEf
        } else {
            Addressing::Sfi
        };
        let mut lib = recorded(card).with_addressing(addressing);
        let ok = if flags & 2 != 0 {
            let options = ReadOptions {
                internal_authentication: flags & 4 == 0,
            };
            lifecycle::read_verified(&mut lib, &mut fuzz_keys(), &options).is_ok()
        } else {
            lifecycle::read(&mut lib).is_ok()
        };
        let mut seed = vec![flags];
        seed.extend(stream_of(lib));
        replay_seed(t, name, seed, ok);
    }
    // a custom ATR chunk (flag bit 0)
    let card = sim(
        Generation::V2,
        Algorithm::Tdes,
        SimState::Activated,
        false,
        false,
    );
    let atr = card.atr();
    let mut lib = recorded(card);
    let ok = lifecycle::read(&mut lib).is_ok();
    let mut seed = vec![0x01];
    encode_chunk(&mut seed, &atr);
    seed.extend(stream_of(lib));
    replay_seed(t, "read-v2-atr", seed, ok);
    // another program resets the card in the middle of the read: the library starts over
    let card = sim(
        Generation::V2,
        Algorithm::Sm4,
        SimState::Activated,
        false,
        false,
    );
    let mut lib = Card::open(Recorder::new(ResetOnce {
        inner: SimTransport::new(card),
        at: 6,
    }))
    .unwrap();
    let ok = lifecycle::read_verified(&mut lib, &mut fuzz_keys(), &ReadOptions::default()).is_ok();
    let mut seed = vec![0x02];
    seed.extend(lib.into_transport().stream);
    replay_seed(t, "read-v2-reset", seed, ok);

    let flow = |f: u8| f << 4;
    // the validity check
    let mut lib = recorded(sim(
        Generation::V2,
        Algorithm::Sm4,
        SimState::Activated,
        false,
        false,
    ));
    let policy = ValidityPolicy {
        today: TODAY.parse().ok(),
        ..ValidityPolicy::default()
    };
    let ok = lifecycle::check_validity(&mut lib, &mut fuzz_keys(), &policy).is_ok();
    let mut seed = vec![flow(read_flow::VALIDITY) | 0x02];
    seed.extend(stream_of(lib));
    replay_seed(t, "validity-v2", seed, ok);
    // PIN status and VERIFY
    let mut lib = recorded(sim(
        Generation::V3,
        Algorithm::Tdes,
        SimState::Activated,
        false,
        false,
    ));
    let ok = lifecycle::pin_status(&mut lib).is_ok()
        && lifecycle::verify_pin(&mut lib, &pin(ACTIVATED_PIN)).is_ok();
    let mut seed = vec![flow(read_flow::PIN)];
    seed.extend(stream_of(lib));
    replay_seed(t, "pin-status-v3", seed, ok);
    // EF08 and EF07
    for (name, g, alg, ef, bit2) in [
        ("photo-v3", Generation::V3, Algorithm::Sm4, Ef::Ef08, 4u8),
        (
            "fingerprint-v2",
            Generation::V2,
            Algorithm::Tdes,
            Ef::Ef07,
            0,
        ),
    ] {
        let image = sim(g, alg, SimState::Activated, false, false).into_image();
        let mut lib = recorded(with_file(image, ef));
        let ok = lifecycle::read_binary_file(&mut lib, &mut fuzz_keys(), ef).is_ok();
        let mut seed = vec![flow(read_flow::BINARY) | bit2];
        seed.extend(stream_of(lib));
        replay_seed(t, name, seed, ok);
    }
    // the bank account
    let mut lib = recorded(sim(
        Generation::V2,
        Algorithm::Sm4,
        SimState::Activated,
        false,
        true,
    ));
    let ok = lifecycle::read_bank_account(&mut lib).is_ok();
    let mut seed = vec![flow(read_flow::BANK)];
    seed.extend(stream_of(lib));
    replay_seed(t, "bank-account", seed, ok);
    // the HSM basic read: the HSM's answer chunk comes before the card's responses
    for (name, g, alg, good) in [
        ("hsm-basic-v3", Generation::V3, Algorithm::Tdes, true),
        (
            "hsm-basic-v2-wrong-answer",
            Generation::V2,
            Algorithm::Sm4,
            false,
        ),
    ] {
        let card = sim(g, alg, SimState::Activated, false, false);
        let ctx = context(&card);
        let mut lib = recorded(card);
        let step = hsm::read_basic_step1(&mut lib).unwrap();
        let mut answer = hsm_answer(&mut fuzz_keys(), &ctx, &step.request);
        if !good {
            answer.replace_range(0..2, "00");
        }
        let ok = hsm::read_basic_step2(&mut lib, &step, &answer).is_ok();
        let mut seed = vec![flow(read_flow::HSM_BASIC)];
        encode_chunk(&mut seed, answer.as_bytes());
        seed.extend(stream_of(lib));
        replay_seed(t, name, seed, ok);
    }
}

// ---------------------------------------------------------------------------------------------
// replay_personalize
// ---------------------------------------------------------------------------------------------

fn replay_personalize() {
    let t = "replay_personalize";
    let person_flags = |g: Generation| (g.number() - 1) << 1;
    // personalization of blank and half-personalized cards
    for (name, g, alg, state, t1, extra) in [
        (
            "personalize-v1-3des",
            Generation::V1,
            Algorithm::Tdes,
            SimState::Blank,
            false,
            0u8,
        ),
        (
            "personalize-v2-sm4",
            Generation::V2,
            Algorithm::Sm4,
            SimState::Blank,
            false,
            0,
        ),
        (
            "personalize-v3-3des-t1",
            Generation::V3,
            Algorithm::Tdes,
            SimState::Blank,
            true,
            0,
        ),
        (
            "personalize-v2-resume",
            Generation::V2,
            Algorithm::Sm4,
            SimState::HalfPersonalized,
            false,
            0,
        ),
        (
            "personalize-v2-no-read-back",
            Generation::V2,
            Algorithm::Tdes,
            SimState::Blank,
            false,
            0x10,
        ),
        (
            "personalize-v3-already-done",
            Generation::V3,
            Algorithm::Sm4,
            SimState::Activated,
            false,
            0,
        ),
    ] {
        let mut lib = recorded(sim(g, alg, state, t1, false));
        let person = fixture_person(usize::from(g.number() - 1));
        let options = PersonalizeOptions {
            read_back: extra & 0x10 == 0,
            ..PersonalizeOptions::default()
        };
        let ok = lifecycle::personalize(&mut lib, &mut fuzz_keys(), &person, &options).is_ok();
        let mut seed = vec![person_flags(g) | extra];
        seed.extend(stream_of(lib));
        replay_seed(t, name, seed, ok);
    }
    // another program resets the card in the middle of the personalization
    let card = sim(
        Generation::V2,
        Algorithm::Tdes,
        SimState::Blank,
        false,
        false,
    );
    let mut lib = Card::open(Recorder::new(ResetOnce {
        inner: SimTransport::new(card),
        at: 12,
    }))
    .unwrap();
    let ok = lifecycle::personalize(
        &mut lib,
        &mut fuzz_keys(),
        &fixture_person(1),
        &PersonalizeOptions::default(),
    )
    .is_ok();
    let mut seed = vec![person_flags(Generation::V2)];
    seed.extend(lib.into_transport().stream);
    replay_seed(t, "personalize-v2-reset", seed, ok);
    // over a card personalized for another person (li-si's data on a 2.0 card), with and
    // without permission
    let mut other = PersonRecord::from_json(PERSONS[0]).unwrap();
    other.generation = "2".into();
    let other = other.validate().unwrap();
    let blank = sim(
        Generation::V2,
        Algorithm::Sm4,
        SimState::Blank,
        false,
        false,
    );
    let mut lib = Card::open(SimTransport::new(blank)).unwrap();
    lifecycle::personalize(
        &mut lib,
        &mut fuzz_keys(),
        &other,
        &PersonalizeOptions::default(),
    )
    .unwrap();
    let mut card = lib.into_transport().into_card();
    card.reset();
    let image = card.into_image();
    for (name, overwrite) in [
        ("personalize-v2-overwrite", true),
        ("personalize-v2-refused", false),
    ] {
        let mut card = SimCard::from_image(image.clone()).unwrap();
        card.seed_rng(3);
        let mut lib = recorded(card);
        let options = PersonalizeOptions {
            overwrite,
            ..PersonalizeOptions::default()
        };
        let ok = lifecycle::personalize(&mut lib, &mut fuzz_keys(), &fixture_person(1), &options)
            .is_ok();
        let mut seed = vec![person_flags(Generation::V2) | if overwrite { 0x08 } else { 0 }];
        seed.extend(stream_of(lib));
        replay_seed(t, name, seed, ok);
    }

    let flow = |f: u8| f << 5;
    type Run = fn(&mut Rec, &mut FuzzKeys) -> bool;
    let runs: [(&str, Generation, Algorithm, SimState, u8, Run); 8] = [
        (
            "activate-v2",
            Generation::V2,
            Algorithm::Sm4,
            SimState::Personalized,
            flow(write_flow::ACTIVATE),
            |c, k| {
                lifecycle::activate_verified(c, k, &pin(ACTIVATED_PIN), &ActivateOptions::default())
                    .is_ok()
            },
        ),
        (
            "change-pin-v3",
            Generation::V3,
            Algorithm::Tdes,
            SimState::Activated,
            flow(write_flow::CHANGE_PIN),
            |c, _| lifecycle::change_pin(c, &pin(ACTIVATED_PIN), &pin(NEW_PIN)).is_ok(),
        ),
        (
            "reload-pin-v2",
            Generation::V2,
            Algorithm::Tdes,
            SimState::PinBlocked,
            flow(write_flow::RELOAD_PIN),
            |c, k| lifecycle::reload_pin(c, k, &pin(NEW_PIN)).is_ok(),
        ),
        (
            "unblock-pin-v3",
            Generation::V3,
            Algorithm::Sm4,
            SimState::PinBlocked,
            flow(write_flow::UNBLOCK_PIN),
            |c, k| lifecycle::unblock_pin(c, k).is_ok(),
        ),
        (
            "application-block-v2",
            Generation::V2,
            Algorithm::Sm4,
            SimState::Activated,
            flow(write_flow::BLOCK),
            |c, k| lifecycle::block_application(c, k).is_ok(),
        ),
        (
            "card-block-v3",
            Generation::V3,
            Algorithm::Tdes,
            SimState::Activated,
            flow(write_flow::BLOCK) | 0x08,
            |c, k| lifecycle::block_card(c, k).is_ok(),
        ),
        (
            "card-block-after-application-block",
            Generation::V2,
            Algorithm::Tdes,
            SimState::ApplicationBlocked,
            flow(write_flow::BLOCK) | 0x08,
            |c, k| lifecycle::block_card(c, k).is_ok(),
        ),
        (
            "write-photo-v3",
            Generation::V3,
            Algorithm::Sm4,
            SimState::Activated,
            flow(write_flow::WRITE_BINARY) | 0x08,
            |c, k| {
                let content: Vec<u8> = (0..300u16).map(|i| (i % 251) as u8 + 1).collect();
                let mut session = c.authenticate_for_update(k).unwrap();
                session.write_binary(Ef::Ef08, 0, &content).is_ok()
            },
        ),
    ];
    for (name, g, alg, state, flags, run) in runs {
        let mut lib = recorded(sim(g, alg, state, false, false));
        let ok = run(&mut lib, &mut fuzz_keys());
        let mut seed = vec![flags];
        seed.extend(stream_of(lib));
        replay_seed(t, name, seed, ok);
    }
    // the HSM PIN reload: the two HSM answers come before the card's responses
    let card = sim(
        Generation::V2,
        Algorithm::Sm4,
        SimState::PinBlocked,
        false,
        false,
    );
    let ctx = context(&card);
    let mut lib = recorded(card);
    let mut keys = fuzz_keys();
    let new_pin = pin(NEW_PIN);
    let step = hsm::pin_step1(&mut lib, hsm::PinMaintenance::Reload, None).unwrap();
    let first = hsm_answer(&mut keys, &ctx, &step.request);
    let step = hsm::pin_step2(&mut lib, &step, &first, Some(&new_pin)).unwrap();
    let second = hsm_answer(&mut keys, &ctx, &step.request);
    let ok = hsm::pin_step3(&mut lib, &step, &second).is_ok();
    let mut seed = vec![flow(write_flow::HSM_PIN)];
    encode_chunk(&mut seed, first.as_bytes());
    encode_chunk(&mut seed, second.as_bytes());
    seed.extend(stream_of(lib));
    replay_seed(t, "hsm-reload-v2", seed, ok);
}

// ---------------------------------------------------------------------------------------------
// sim_handler
// ---------------------------------------------------------------------------------------------

/// A `sim_handler` seed from a library session: the start bytes, then every command the library
/// sent. Replayed by the harness (same card, same random generator) it must leave the card as
/// the session did.
fn session_seed(
    name: &str,
    (g, alg, state, t1, bank): (Generation, Algorithm, SimState, bool, bool),
    run: impl FnOnce(&mut Rec, &mut FuzzKeys),
) {
    let prefix = sim_prefix(g, alg, Some(state), t1, bank);
    let mut lib = recorded(sim_card(prefix[0], prefix[1]).unwrap());
    run(&mut lib, &mut fuzz_keys());
    let recorder = lib.into_transport();
    let expected = recorder.inner.card().image().clone();
    let mut seed = prefix.to_vec();
    for command in &recorder.commands {
        encode_apdu(&mut seed, command);
    }
    let replayed = sscard_fuzz::run_sim(&seed).unwrap();
    assert_eq!(
        replayed.image(),
        &expected,
        "sim_handler/{name} replays the session"
    );
    write("sim_handler", name, &seed);
}

fn sim_handler() {
    let v2 = (
        Generation::V2,
        Algorithm::Sm4,
        SimState::Blank,
        false,
        false,
    );
    session_seed("personalize-v2-sm4", v2, |c, k| {
        lifecycle::personalize(c, k, &fixture_person(1), &PersonalizeOptions::default()).unwrap();
    });
    let v3 = (
        Generation::V3,
        Algorithm::Tdes,
        SimState::Blank,
        true,
        false,
    );
    session_seed("personalize-v3-3des-t1", v3, |c, k| {
        lifecycle::personalize(c, k, &fixture_person(2), &PersonalizeOptions::default()).unwrap();
    });
    let v1 = (
        Generation::V1,
        Algorithm::Tdes,
        SimState::HalfPersonalized,
        false,
        false,
    );
    session_seed("personalize-v1-resume", v1, |c, k| {
        lifecycle::personalize(c, k, &fixture_person(0), &PersonalizeOptions::default()).unwrap();
    });
    let personalized = (
        Generation::V3,
        Algorithm::Sm4,
        SimState::Personalized,
        false,
        false,
    );
    session_seed("read-activate-v3", personalized, |c, k| {
        lifecycle::read_verified(c, k, &ReadOptions::default()).unwrap();
        lifecycle::activate_verified(c, k, &pin(ACTIVATED_PIN), &ActivateOptions::default())
            .unwrap();
    });
    let activated = (
        Generation::V2,
        Algorithm::Tdes,
        SimState::Activated,
        false,
        false,
    );
    session_seed("pin-change-wrong-verify-v2", activated, |c, _| {
        assert!(lifecycle::verify_pin(c, &pin("135790")).is_err());
        lifecycle::change_pin(c, &pin(ACTIVATED_PIN), &pin(NEW_PIN)).unwrap();
    });
    let blocked = (
        Generation::V2,
        Algorithm::Sm4,
        SimState::PinBlocked,
        false,
        false,
    );
    session_seed("reload-unblock-v2", blocked, |c, k| {
        lifecycle::unblock_pin(c, k).unwrap();
        lifecycle::reload_pin(c, k, &pin(NEW_PIN)).unwrap();
    });
    let activated3 = (
        Generation::V3,
        Algorithm::Tdes,
        SimState::Activated,
        false,
        false,
    );
    session_seed("application-block-v3", activated3, |c, k| {
        lifecycle::block_application(c, k).unwrap();
    });
    session_seed("card-block-v2", activated, |c, k| {
        lifecycle::block_card(c, k).unwrap();
    });
    session_seed("photo-write-read-v3", activated3, |c, k| {
        let content: Vec<u8> = (0..500u16).map(|i| (i % 13) as u8 + 1).collect();
        let mut session = c.authenticate_for_update(k).unwrap();
        session.write_binary(Ef::Ef08, 0, &content).unwrap();
        lifecycle::read_binary_file(c, k, Ef::Ef08).unwrap();
    });
    let bank = (
        Generation::V2,
        Algorithm::Tdes,
        SimState::Activated,
        true,
        true,
    );
    session_seed("bank-account-t1", bank, |c, _| {
        lifecycle::read_bank_account(c).unwrap();
    });
    // hand-made, with the harness's own operations: an authenticated write, a PIN reload with
    // the harness enciphering the PIN, a torn write, a MAC under the wrong key
    let mut seed = sim_prefix(
        Generation::V2,
        Algorithm::Sm4,
        Some(SimState::Blank),
        false,
        false,
    )
    .to_vec();
    encode_apdu(&mut seed, &bytes_of(&commands::select_aid(&SSSE_AID)));
    seed.extend([op::AUTH, 0x04]);
    let update =
        commands::update_record(Some(5), RecordRef::Tag(2), sscard_core::tlv::simple(2, b"3"));
    encode_apdu(&mut seed, &bytes_of(&update));
    seed.extend([op::AUTH, 0x06]);
    seed.extend([op::MAC, 0x82, 7, 0x84, 0x24, 0x00, 0x01, 0x12, 0x34, 0x56]);
    seed.extend([op::TEAR, 0x01, op::AUTH, 0x04, op::RESET]);
    encode_apdu(&mut seed, &bytes_of(&commands::select_aid(&SSSE_AID)));
    seed.extend([op::AUTH, 0x05, op::MAC, 0x05, 4, 0x84, 0x1E, 0x00, 0x01]);
    let after = sscard_fuzz::run_sim(&seed).unwrap();
    assert_eq!(
        after.image().record_value(Ef::Ef05, 2),
        Some(&b"3"[..]),
        "the authenticated write landed"
    );
    assert!(
        !after.image().pin.value.is_empty(),
        "the reloaded PIN landed"
    );
    assert!(!after.image().ssse_blocked, "a MAC under BK is refused");
    write("sim_handler", "harness-auth-mac-tear", &seed);
    // the PSAM: select, terminal number, BFDE, CIPHER DATA
    let mut seed = sim_prefix(Generation::V2, Algorithm::Tdes, None, false, false).to_vec();
    for apdu in [
        "00A4040006D15600000590",
        "00B0960006",
        "BFDE4808180000000000000000",
        "80FA050008000102030405060700",
    ] {
        encode_apdu(&mut seed, &hex::decode(apdu).unwrap());
    }
    write("sim_handler", "psam", &seed);
}

// ---------------------------------------------------------------------------------------------
// person_record
// ---------------------------------------------------------------------------------------------

fn person_record() {
    let names = ["li-si-1", "zhang-san-2", "wang-wu-3"];
    for (i, text) in PERSONS.iter().enumerate() {
        write(
            "person_record",
            &format!("{}.json", names[i]),
            text.as_bytes(),
        );
        write(
            "person_record",
            &format!("{}.row", names[i]),
            person_row(i).as_bytes(),
        );
    }
    // a GBK row (the batch input accepts GBK files)
    let row = person_row(1);
    let (gbk, _, _) = encoding_rs::GBK.encode(&row);
    write("person_record", "zhang-san-2-gbk.row", &gbk);
    // numbers for the codes
    write(
        "person_record",
        "numbers.json",
        br#"{"ssn":"111111198101011110","name":"ZHANG SAN","sex":1,"ethnicity":1,"birthplace":"110101","birth_date":"19810101","card_number":"KD5578904","generation":2,"issue_date":"20150711","expiry_date":"20350711","region":"639900","initializing_body":"915600000263990063990001"}"#,
    );
}

fn main() {
    // the seeds are rewritten; kept crash inputs (regression-*) stay
    for target in TARGETS {
        let dir = root().join("fixtures/fuzz").join(target);
        for entry in fs::read_dir(&dir).into_iter().flatten() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if !name.starts_with("regression-") {
                fs::remove_file(&path).unwrap();
            }
        }
    }
    response_parsing();
    replay_read();
    replay_personalize();
    sim_handler();
    person_record();
    for target in TARGETS {
        let dir = root().join("fixtures/fuzz").join(target);
        let n = fs::read_dir(&dir).map(|d| d.count()).unwrap_or(0);
        println!("{target}: {n} seeds in {}", dir.display());
    }
    // every seed passes its property
    for target in TARGETS {
        let dir = root().join("fixtures/fuzz").join(target);
        for entry in fs::read_dir(&dir).unwrap() {
            let bytes = fs::read(entry.unwrap().path()).unwrap();
            match target {
                "response_parsing" => sscard_fuzz::check_parsers(&bytes),
                "replay_read" => {
                    let _ = sscard_fuzz::check_replay_read(&bytes);
                }
                "replay_personalize" => {
                    let _ = sscard_fuzz::check_replay_personalize(&bytes);
                }
                "sim_handler" => sscard_fuzz::check_sim_handler(&bytes),
                _ => sscard_fuzz::check_person_record(&bytes),
            }
        }
    }
}
