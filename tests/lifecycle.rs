//! The whole card lifecycle of the national specification, in process, for every generation
//! (1.0, 2.0, 3.0), every algorithm (3DES and SM4; AES-128 as sscard's **[extension]**), T=0
//! and T=1, with the development key file and with a simulated PSAM holding national, province
//! or city keys (part 9 §8):
//!
//! blank card → personalize (part 10 §5.4, [design] D15) → rerun (nothing written) → read
//! without keys (3.0: RKSSSE needed) → read with INTERNAL AUTHENTICATION → validity check
//! (part 7 §5.4, §5.6) → activation (CHANGE PIN from the initial PIN) → VERIFY / CHANGE PIN →
//! wrong PINs until blocked → PIN UNBLOCK → PIN RELOAD → fingerprint and photo files (2.0, 3.0)
//! → APPLICATION BLOCK (`9303`) or CARD BLOCK (`6A81`), both permanent (part 7 §13).
//!
//! Then the personalization edge cases (other card number, overwrite, region mismatch), every
//! verdict of the validity check, the financial application, and the HSM key holder.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::cell::RefCell;
use std::rc::Rc;

use common::*;
use sscard::crypto::{KeyLevel, Pin};
use sscard::data::{BcdDate, CardIdentificationCode, CardNumber};
use sscard::keyholder::{CardContext, HsmKeyHolder, HsmRequest, KeyFile, KeyHolder};
use sscard::keys::KeyRole;
use sscard::lifecycle::hsm::{self, PinMaintenance};
use sscard::lifecycle::{
    self, ActivateOptions, Blocklist, Card, PersonalizeOptions, PinStatus, ReadOptions,
    ValidityPolicy, Verdict,
};
use sscard::profile::{Ef, Generation};
use sscard::sim::{CardSpec, FinancialApp, SimCard, SimTransport};
use sscard::transport::Transport;
use sscard::{Algorithm, Error};

/// SELECT SSSE by name, raw (`00A4 0400 0F <AID> 00`).
const SELECT_SSSE: &str = "00A404000F7378312E73682EC9E7BBE1B1A3D5CF00";

type SimCardReader = Card<SimTransport<SimCard>>;

/// Who holds the keys in a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Holder {
    /// The development key file.
    KeyFile,
    /// A simulated PSAM holding every key at this level.
    Psam(KeyLevel),
}

const HOLDERS: [Holder; 4] = [
    Holder::KeyFile,
    Holder::Psam(KeyLevel::National),
    Holder::Psam(KeyLevel::Province),
    Holder::Psam(KeyLevel::City),
];

fn key_holder(algorithm: Algorithm, holder: Holder) -> Box<dyn KeyHolder> {
    match holder {
        Holder::KeyFile => Box::new(test_keys()),
        // the key holder guesses national keys first and falls back (part 9 §8, scheme one)
        Holder::Psam(level) => Box::new(psam_key_holder(algorithm, level)),
    }
}

/// Sends raw hex, returns the status word (bypasses the library's card model).
fn raw_sw<T: Transport>(card: &mut Card<T>, apdu: &str) -> u16 {
    let bytes = hex::decode(apdu).unwrap();
    let response = card.raw().transport_mut().transmit(&bytes).unwrap();
    sw_of(&response)
}

fn today() -> BcdDate {
    "20261123".parse().unwrap()
}

fn spec_for(generation: Generation, algorithm: Algorithm, t0: bool) -> CardSpec {
    let spec = card_spec(generation, algorithm, SERIAL).with_card_serial([0x52, 0x00, 0x01, 0x07]);
    if t0 {
        spec
    } else {
        spec.with_t1()
    }
}

/// The `iReadCardBas` line the card of `spec` personalized with the fixture person gives.
fn expected_basic_line(spec: &CardSpec, terminal: Option<&str>) -> String {
    let p = person_record(spec.generation);
    let card_id = CardIdentificationCode::from_bytes(&spec.card_id()).unwrap();
    format!(
        "639900|{}|{}|{card_id}|{}|{}|{}|{}|{}|{}||",
        p.ssn,
        p.card_number,
        p.name,
        hex::encode_upper(spec.historical().to_bytes()),
        spec.generation.spec_version(),
        p.issue_date,
        p.expiry_date,
        terminal.unwrap_or_default(),
    )
}

/// One whole lifecycle. Ends with the card forked: one copy blocked by APPLICATION BLOCK, the
/// other by CARD BLOCK.
fn run_lifecycle(generation: Generation, algorithm: Algorithm, t0: bool, holder: Holder) {
    let what = format!("{generation}/{algorithm}/t0={t0}/{holder:?}");
    let spec = spec_for(generation, algorithm, t0);
    let mut card = Card::open(SimTransport::new(blank_sim_of(spec.clone()))).unwrap();
    let mut kh = key_holder(algorithm, holder);
    let data = person(generation);
    let atr = card.atr().to_vec();
    assert_eq!(atr, spec.atr(), "{what}");
    assert_eq!(
        atr[1] & 0xF0 == 0x60,
        t0,
        "{what}: T=0 ATR is 3B 6x (part 2 table 7)"
    );

    // a blank card (D14): no PIN, nothing to read
    assert_eq!(
        lifecycle::pin_status(&mut card).unwrap(),
        PinStatus::NotSet,
        "{what}"
    );
    assert!(
        matches!(lifecycle::read(&mut card), Err(Error::Blank(_))),
        "{what}"
    );

    // personalize (part 10 §5.4): initial PIN by reload, UKSSSE writes, card number last
    let report = lifecycle::personalize(&mut card, &mut kh, &data, &PersonalizeOptions::default())
        .unwrap_or_else(|e| panic!("{what}: personalize: {e}"));
    assert!(!report.already_done, "{what}");
    assert_eq!(report.card_id.to_bytes(), spec.card_id(), "{what}");
    assert_eq!(report.card_number, *data.card_number(), "{what}");
    assert_eq!(report.generation, generation, "{what}");
    // a rerun finds the card number and writes nothing
    let writes = card.channel().transport().card().persistent_writes();
    let again = lifecycle::personalize(&mut card, &mut kh, &data, &PersonalizeOptions::default())
        .unwrap_or_else(|e| panic!("{what}: rerun: {e}"));
    assert!(again.already_done, "{what}");
    assert_eq!(
        card.channel().transport().card().persistent_writes(),
        writes,
        "{what}: a rerun wrote to the card"
    );

    // read without keys: free on 1.0 and 2.0, EF06 needs RKSSSE on 3.0 (RI §10.2)
    match lifecycle::read(&mut card) {
        Ok(free) => {
            assert_ne!(generation, Generation::V3, "{what}: 3.0 EF06 read freely");
            assert_eq!(free.holder, *data.holder(), "{what}");
            assert_eq!(free.genuine, None, "{what}");
            assert_eq!(
                free.basic_line(),
                expected_basic_line(&spec, None),
                "{what}"
            );
        }
        Err(Error::ReadKeyRequired) => assert_eq!(generation, Generation::V3, "{what}"),
        Err(e) => panic!("{what}: read without keys: {e}"),
    }

    // read with the key holder: the card proves it is genuine (IRK)
    let read = lifecycle::read_verified(&mut card, &mut kh, &ReadOptions::default())
        .unwrap_or_else(|e| panic!("{what}: read_verified: {e}"));
    assert_eq!(read.genuine, Some(true), "{what}");
    assert_eq!(read.holder, *data.holder(), "{what}");
    assert_eq!(read.issuing, data.issuing_data(report.card_id), "{what}");
    assert_eq!(read.generation, generation, "{what}");
    assert_eq!(read.algorithm, algorithm, "{what}");
    assert_eq!(
        read.issuing.initializing_body, "915600000263990063990001",
        "{what}"
    );
    let terminal = match holder {
        Holder::KeyFile => None,
        Holder::Psam(_) => Some(TERMINAL_NUMBER),
    };
    assert_eq!(read.terminal_number.as_deref(), terminal, "{what}");
    assert_eq!(
        read.basic_line(),
        expected_basic_line(&spec, terminal),
        "{what}"
    );

    // the validity check of a terminal that accepts this card: the PIN must be entered
    let policy = ValidityPolicy {
        initializing_bodies: vec!["9156000002639900".into()],
        card_types: vec!['3'],
        generations: vec![generation],
        today: Some(today()),
        blocklist: None,
        block_blocklisted: false,
    };
    let (verdict, issuing) = lifecycle::check_validity(&mut card, &mut kh, &policy)
        .unwrap_or_else(|e| panic!("{what}: check_validity: {e}"));
    assert_eq!(
        verdict,
        Verdict::Valid {
            pin: PinStatus::Required { tries_left: 3 }
        },
        "{what}"
    );
    assert_eq!(issuing, read.issuing, "{what}");

    // activation at the bank outlet: CHANGE PIN from 123456 to the holder's
    let holder_pin = pin("975310");
    lifecycle::activate_verified(
        &mut card,
        &mut *kh,
        &holder_pin,
        &ActivateOptions::default(),
    )
    .unwrap_or_else(|e| panic!("{what}: activate: {e}"));
    assert!(
        matches!(
            lifecycle::verify_pin(&mut card, &Pin::initial()),
            Err(Error::WrongPin { tries_left: 2 })
        ),
        "{what}: the initial PIN still works"
    );
    lifecycle::verify_pin(&mut card, &holder_pin).unwrap();
    assert_eq!(
        lifecycle::pin_status(&mut card).unwrap(),
        PinStatus::Required { tries_left: 3 },
        "{what}: a right PIN restores the tries"
    );

    // CHANGE PIN by the holder, to a 12-digit PIN
    let long_pin = pin("864213579024");
    lifecycle::change_pin(&mut card, &holder_pin, &long_pin).unwrap();
    lifecycle::verify_pin(&mut card, &long_pin).unwrap();

    // three wrong PINs block it; the right one is refused then too
    for tries_left in [2, 1] {
        assert!(
            matches!(
                lifecycle::verify_pin(&mut card, &holder_pin),
                Err(Error::WrongPin { tries_left: t }) if t == tries_left
            ),
            "{what}"
        );
    }
    assert!(
        matches!(
            lifecycle::verify_pin(&mut card, &holder_pin),
            Err(Error::PinBlocked)
        ),
        "{what}"
    );
    assert!(
        matches!(
            lifecycle::verify_pin(&mut card, &long_pin),
            Err(Error::PinBlocked)
        ),
        "{what}"
    );
    assert_eq!(
        lifecycle::pin_status(&mut card).unwrap(),
        PinStatus::Blocked,
        "{what}"
    );

    // PIN UNBLOCK (part 5 §6.8, P2 00): the counter only
    lifecycle::unblock_pin(&mut card, &mut kh).unwrap_or_else(|e| panic!("{what}: unblock: {e}"));
    lifecycle::verify_pin(&mut card, &long_pin).unwrap();

    // PIN RELOAD (P2 01): a new PIN, 16 digits (two blocks of LD ‖ PIN on 3DES)
    let reloaded = pin("1357924680135792");
    lifecycle::reload_pin(&mut card, &mut kh, &reloaded)
        .unwrap_or_else(|e| panic!("{what}: reload: {e}"));
    assert!(
        matches!(
            lifecycle::verify_pin(&mut card, &long_pin),
            Err(Error::WrongPin { tries_left: 2 })
        ),
        "{what}"
    );
    lifecycle::verify_pin(&mut card, &reloaded).unwrap();

    // fingerprint EF07 and photo EF08 (2.0 and later): written in a UKSSSE session, read
    // with RKSSSE
    binary_files(&mut card, &mut kh, generation, &what);

    // the data is unchanged by all of this
    let after = lifecycle::read_verified(&mut card, &mut kh, &ReadOptions::default()).unwrap();
    assert_eq!(after.holder, read.holder, "{what}");
    assert_eq!(after.issuing, read.issuing, "{what}");

    // blocking a lost card, both permanent (part 7 §13); fork the card to do both
    let image = card.channel().transport().card().image().clone();
    let mut other = Card::open(SimTransport::new(SimCard::from_image(image).unwrap())).unwrap();
    block_application_then_check(&mut card, &mut kh, &what);
    block_card_then_check(&mut other, &mut kh, &what);
}

fn binary_files(
    card: &mut SimCardReader,
    kh: &mut dyn KeyHolder,
    generation: Generation,
    what: &str,
) {
    let fingerprint: Vec<u8> = (0..Ef::Ef07.size()).map(|i| (i * 7 + 1) as u8).collect();
    let photo: Vec<u8> = (0..Ef::Ef08.size()).map(|i| (i * 13 + 5) as u8).collect();
    let mut session = card
        .authenticate_for_update(kh)
        .unwrap_or_else(|e| panic!("{what}: UKSSSE: {e}"));
    if generation == Generation::V1 {
        // 1.0 cards have no EF07 (V2.0 notice §5.2 table 3)
        assert!(
            matches!(
                session.write_binary(Ef::Ef07, 0, &fingerprint),
                Err(Error::Card {
                    sw: sscard::apdu::StatusWord::FileNotFound,
                    ..
                })
            ),
            "{what}"
        );
        return;
    }
    session.write_binary(Ef::Ef07, 0, &fingerprint).unwrap();
    session.write_binary(Ef::Ef08, 0, &photo).unwrap();
    // a short write in the middle of the photo
    session.write_binary(Ef::Ef08, 0x0800, b"JPEG").unwrap();
    let mut expected_photo = photo.clone();
    expected_photo[0x0800..0x0804].copy_from_slice(b"JPEG");
    assert_eq!(
        lifecycle::read_binary_file(card, &mut *kh, Ef::Ef07).unwrap(),
        fingerprint,
        "{what}"
    );
    assert_eq!(
        lifecycle::read_binary_file(card, &mut *kh, Ef::Ef08).unwrap(),
        expected_photo,
        "{what}"
    );
    // without RKSSSE (fresh power-on) the card refuses READ BINARY
    card.raw().transport_mut().power_cycle();
    let select = raw_sw(card, SELECT_SSSE);
    assert!(
        select == 0x9000 || select >> 8 == 0x61,
        "{what}: {select:04X}"
    );
    assert_eq!(raw_sw(card, "00B0870000"), 0x6982, "{what}");
}

fn block_application_then_check(card: &mut SimCardReader, kh: &mut dyn KeyHolder, what: &str) {
    lifecycle::block_application(card, &mut *kh)
        .unwrap_or_else(|e| panic!("{what}: application block: {e}"));
    assert!(
        matches!(lifecycle::read(card), Err(Error::ApplicationBlocked)),
        "{what}"
    );
    assert!(
        matches!(
            lifecycle::verify_pin(card, &pin("1357924680135792")),
            Err(Error::ApplicationBlocked)
        ),
        "{what}"
    );
    // 9303 to SELECT SSSE and to everything inside it (part 5 §6.1, part 7 §13.2)
    assert_eq!(raw_sw(card, SELECT_SSSE), 0x9303, "{what}");
    assert_eq!(raw_sw(card, "00B2012800"), 0x9303, "{what}");
    assert_eq!(raw_sw(card, "0020000000"), 0x9303, "{what}");
    // permanent: still blocked after a reset; there is no application unblock in the spec
    card.raw().transport_mut().power_cycle();
    assert_eq!(raw_sw(card, SELECT_SSSE), 0x9303, "{what}");
    // D19: CARD BLOCK needs BK, which lives in the blocked SSSE
    assert!(
        matches!(
            lifecycle::block_card(card, &mut *kh),
            Err(Error::ApplicationBlocked)
        ),
        "{what}"
    );
}

fn block_card_then_check(card: &mut SimCardReader, kh: &mut dyn KeyHolder, what: &str) {
    lifecycle::block_card(card, &mut *kh).unwrap_or_else(|e| panic!("{what}: card block: {e}"));
    assert!(
        matches!(lifecycle::read(card), Err(Error::CardBlocked)),
        "{what}"
    );
    assert!(
        matches!(lifecycle::pin_status(card), Err(Error::CardBlocked)),
        "{what}"
    );
    // 6A81 to every command (part 5 §6.2.1), after a reset too
    card.raw().transport_mut().power_cycle();
    for apdu in [SELECT_SSSE, "00A40000023F00", "0084000008", "00C0000000"] {
        assert_eq!(raw_sw(card, apdu), 0x6A81, "{what}: {apdu}");
    }
}

fn lifecycles(generation: Generation, algorithm: Algorithm) {
    for t0 in [true, false] {
        for holder in HOLDERS {
            run_lifecycle(generation, algorithm, t0, holder);
        }
    }
}

#[test]
fn lifecycle_1_0_3des() {
    lifecycles(Generation::V1, Algorithm::Tdes);
}

#[test]
fn lifecycle_1_0_sm4() {
    lifecycles(Generation::V1, Algorithm::Sm4);
}

#[test]
fn lifecycle_2_0_3des() {
    lifecycles(Generation::V2, Algorithm::Tdes);
}

#[test]
fn lifecycle_2_0_sm4() {
    lifecycles(Generation::V2, Algorithm::Sm4);
}

#[test]
fn lifecycle_3_0_3des() {
    lifecycles(Generation::V3, Algorithm::Tdes);
}

#[test]
fn lifecycle_3_0_sm4() {
    lifecycles(Generation::V3, Algorithm::Sm4);
}

/// AES-128 is sscard's [extension] (FCI algorithm byte `04`): the same lifecycle.
#[test]
fn lifecycle_extension_aes() {
    for generation in Generation::ALL {
        lifecycles(generation, Algorithm::Aes128);
    }
}

/// A key holder of the wrong algorithm is refused before any cryptogram is sent.
#[test]
fn psam_of_another_algorithm_is_refused() {
    let mut card = personalized_card(Generation::V2, Algorithm::Sm4, SERIAL);
    let mut psam = psam_key_holder(Algorithm::Tdes, KeyLevel::National);
    let opened = psam.channel().apdu_count();
    assert!(matches!(
        lifecycle::read_verified(&mut card, &mut psam, &ReadOptions::default()),
        Err(Error::KeyHolderAlgorithm(Algorithm::Sm4))
    ));
    assert_eq!(
        psam.channel().apdu_count(),
        opened,
        "the PSAM was not asked"
    );
}

/// Personalization refuses a card of another card number unless asked to overwrite; the
/// overwrite clears the card number first and leaves the new holder's data.
#[test]
fn personalize_other_card_number_and_overwrite() {
    for generation in Generation::ALL {
        let mut card = personalized_card(generation, Algorithm::Sm4, SERIAL);
        let mut keys = test_keys();
        let mut other = person_record(generation);
        other.card_number = "KD5578904".into();
        if generation == Generation::V2 {
            other.card_number = "X00000019".into();
        }
        other.name = "赵六".into();
        let other = other.validate().unwrap();
        let old_number = person(generation).card_number().to_string();
        match lifecycle::personalize(&mut card, &mut keys, &other, &PersonalizeOptions::default()) {
            Err(Error::AlreadyPersonalized { card_number }) => assert_eq!(card_number, old_number),
            other => panic!("{generation}: {other:?}"),
        }
        let options = PersonalizeOptions {
            overwrite: true,
            ..PersonalizeOptions::default()
        };
        let report = lifecycle::personalize(&mut card, &mut keys, &other, &options).unwrap();
        assert!(!report.already_done);
        let read = lifecycle::read_verified(&mut card, &mut keys, &ReadOptions::default()).unwrap();
        assert_eq!(read.holder.name.as_str(), "赵六");
        assert_eq!(read.issuing.card_number, *other.card_number());
    }
}

/// Data for another region than the card's initialization is refused before any write.
#[test]
fn personalize_region_mismatch() {
    let mut card = blank_card(Generation::V2, Algorithm::Tdes, SERIAL);
    let mut record = person_record(Generation::V2);
    record.region = "519900".into();
    let data = record.validate().unwrap();
    match lifecycle::personalize(
        &mut card,
        &mut test_keys(),
        &data,
        &PersonalizeOptions::default(),
    ) {
        Err(Error::RegionMismatch { card: c, data: d }) => {
            assert_eq!(c.as_str(), "639900");
            assert_eq!(d.as_str(), "519900");
        }
        other => panic!("{other:?}"),
    }
    let sim = card.channel().transport().card();
    assert_eq!(sim.persistent_writes(), 0);
    assert_eq!(
        sim.image().ef05.len(),
        1,
        "only the card identification code"
    );
}

/// Data of a later generation on a 1.0 card: the card refuses the name extension (4E), and the
/// error says so; running personalization again with 1.0 data completes the card.
#[test]
fn personalize_generation_mismatch_is_explained_and_recoverable() {
    let mut card = blank_card(Generation::V1, Algorithm::Sm4, SERIAL);
    let mut keys = test_keys();
    match lifecycle::personalize(
        &mut card,
        &mut keys,
        &person(Generation::V2),
        &PersonalizeOptions::default(),
    ) {
        Err(Error::WrongCard(message)) => {
            assert!(
                message.contains("4E") && message.contains("1.0"),
                "{message}"
            )
        }
        other => panic!("{other:?}"),
    }
    // no card number was written: the card is not taken for personalized
    let report = lifecycle::personalize(
        &mut card,
        &mut keys,
        &person(Generation::V1),
        &PersonalizeOptions::default(),
    )
    .unwrap();
    assert!(!report.already_done);
    let read = lifecycle::read_verified(&mut card, &mut keys, &ReadOptions::default()).unwrap();
    assert_eq!(read.generation, Generation::V1);
}

/// A terminal's blocklist (part 8 §7) keyed by card number.
struct NumberBlocklist(Vec<&'static str>);

impl Blocklist for NumberBlocklist {
    fn lookup(&self, _card_id: &CardIdentificationCode, number: &CardNumber) -> Option<String> {
        self.0
            .contains(&number.as_str())
            .then(|| format!("{number} reported lost"))
    }
}

/// Every verdict of the validity check (part 7 §5.4), each from one policy on the same card.
#[test]
fn validity_verdicts() {
    for (generation, algorithm) in [
        (Generation::V1, Algorithm::Tdes),
        (Generation::V2, Algorithm::Sm4),
        (Generation::V3, Algorithm::Tdes),
    ] {
        let data = person(generation);
        let mut card = personalized_card(generation, algorithm, SERIAL);
        let mut keys = test_keys();
        let expiry = data.expiry_date();
        let version = generation.spec_version().to_owned();
        let blocklist = NumberBlocklist(vec!["X00000019", "KD5578904", "A10000015"]);
        let other_generation = if generation == Generation::V1 {
            Generation::V3
        } else {
            Generation::V1
        };
        let base = ValidityPolicy::default;
        let cases: Vec<(ValidityPolicy<'_>, Verdict)> = vec![
            (
                ValidityPolicy {
                    today: Some(expiry),
                    ..base()
                },
                Verdict::Valid {
                    pin: PinStatus::Required { tries_left: 3 },
                },
            ),
            (
                ValidityPolicy {
                    today: Some(BcdDate::new(expiry.year() + 1, 1, 1).unwrap()),
                    ..base()
                },
                Verdict::Expired(expiry),
            ),
            (
                ValidityPolicy {
                    initializing_bodies: vec!["9156000002510000".into()],
                    ..base()
                },
                Verdict::UnsupportedInitializingBody("915600000263990063990001".into()),
            ),
            (
                ValidityPolicy {
                    card_types: vec!['1', '2'],
                    ..base()
                },
                Verdict::UnsupportedCardType('3'),
            ),
            (
                ValidityPolicy {
                    generations: vec![other_generation],
                    ..base()
                },
                Verdict::UnsupportedVersion(version.clone()),
            ),
            (
                ValidityPolicy {
                    blocklist: Some(&blocklist),
                    ..base()
                },
                Verdict::Blocklisted {
                    reason: format!("{} reported lost", data.card_number()),
                },
            ),
        ];
        for (policy, expected) in cases {
            let (verdict, issuing) =
                lifecycle::check_validity(&mut card, &mut keys, &policy).unwrap();
            assert_eq!(verdict, expected, "{generation} {policy:?}");
            assert_eq!(issuing.card_number, *data.card_number());
        }
        // a card whose IRK does not match the issuer's keys is not genuine
        let (verdict, _) =
            lifecycle::check_validity(&mut card, &mut keys_with_wrong(&["IRK"]), &base()).unwrap();
        assert_eq!(verdict, Verdict::NotGenuine, "{generation}");
        assert!(matches!(
            lifecycle::read_verified(
                &mut card,
                &mut keys_with_wrong(&["IRK"]),
                &ReadOptions::default()
            ),
            Err(Error::NotGenuine)
        ));
        // a blank card has no card issuing data to check
        let mut blank = blank_card(generation, algorithm, SERIAL);
        assert!(matches!(
            lifecycle::check_validity(&mut blank, &mut keys, &base()),
            Err(Error::Blank(_))
        ));
        // a personalization that stopped before the card number, written last ([design] D15):
        // the validity check says what reading says, before judging anything
        let mut image = personalized_sim(generation, algorithm, SERIAL)
            .image()
            .clone();
        image
            .ef05
            .retain(|r| r.0.first() != Some(&sscard::profile::tag::CARD_NUMBER));
        let mut torn = Card::open(SimTransport::new(SimCard::from_image(image).unwrap())).unwrap();
        assert!(matches!(
            lifecycle::read_verified(&mut torn, &mut keys, &ReadOptions::default()),
            Err(Error::PersonalizationIncomplete)
        ));
        assert!(matches!(
            lifecycle::check_validity(&mut torn, &mut keys, &base()),
            Err(Error::PersonalizationIncomplete)
        ));
    }
}

/// After activation the validity check's PIN question counts down with wrong PINs.
#[test]
fn validity_pin_question_follows_the_counter() {
    let mut card = personalized_card(Generation::V2, Algorithm::Sm4, SERIAL);
    let mut keys = test_keys();
    lifecycle::activate(&mut card, &pin("975310"), &ActivateOptions::default()).unwrap();
    assert!(lifecycle::verify_pin(&mut card, &pin("000000")).is_err());
    let (verdict, _) =
        lifecycle::check_validity(&mut card, &mut keys, &ValidityPolicy::default()).unwrap();
    assert_eq!(
        verdict,
        Verdict::Valid {
            pin: PinStatus::Required { tries_left: 2 }
        }
    );
    // a reload restores the counter
    lifecycle::reload_pin(&mut card, &mut keys, &pin("2468")).unwrap();
    assert_eq!(
        lifecycle::pin_status(&mut card).unwrap(),
        PinStatus::Required { tries_left: 3 }
    );
}

/// Activation refuses the initial PIN and weak PINs before talking to the card, and a card
/// whose IRK does not match when asked to check it.
#[test]
fn activation_refusals() {
    let mut card = personalized_card(Generation::V3, Algorithm::Sm4, SERIAL);
    for (new, expected) in [
        ("123456", "initial"),
        ("111111", "weak"),
        ("123456789", "weak"),
    ] {
        match (
            lifecycle::activate(&mut card, &pin(new), &ActivateOptions::default()),
            expected,
        ) {
            (Err(Error::InitialPin), "initial") | (Err(Error::WeakPin), "weak") => {}
            (other, _) => panic!("{new}: {other:?}"),
        }
    }
    assert_eq!(card.apdu_count(), 0);
    let mut wrong = keys_with_wrong(&["IRK"]);
    assert!(matches!(
        lifecycle::activate_verified(
            &mut card,
            &mut wrong,
            &pin("975310"),
            &ActivateOptions::default()
        ),
        Err(Error::NotGenuine)
    ));
    // the PIN was not changed
    lifecycle::verify_pin(&mut card, &Pin::initial()).unwrap();
    // a weak PIN when the terminal allows it (no genuineness check without a key holder)
    let lenient = ActivateOptions { refuse_weak: false };
    lifecycle::activate(&mut card, &pin("111111"), &lenient).unwrap();
    lifecycle::verify_pin(&mut card, &pin("111111")).unwrap();
}

/// A bank-issued card: the account number of the financial application behind the firewall,
/// and SSSE readable right after (the library selects it again).
#[test]
fn bank_account_behind_the_firewall() {
    for (generation, algorithm, t0) in [
        (Generation::V2, Algorithm::Tdes, true),
        (Generation::V3, Algorithm::Sm4, false),
    ] {
        let app = FinancialApp::debit("6217003320000012345", "351231").unwrap();
        let mut spec = card_spec(generation, algorithm, SERIAL).with_financial(app);
        if !t0 {
            spec = spec.with_t1();
        }
        let mut card = Card::open(SimTransport::new(personalized_sim_of(spec))).unwrap();
        let account = lifecycle::read_bank_account(&mut card).unwrap();
        assert_eq!(account.pan, "6217003320000012345");
        assert_eq!(account.expiry.as_deref(), Some("351231"));
        let mut keys = test_keys();
        let read = lifecycle::read_verified(&mut card, &mut keys, &ReadOptions::default()).unwrap();
        assert_eq!(read.holder, *person(generation).holder());
        // and once more in the other order
        assert_eq!(lifecycle::read_bank_account(&mut card).unwrap(), account);
    }
    let mut plain = personalized_card(Generation::V2, Algorithm::Sm4, SERIAL);
    assert!(matches!(
        lifecycle::read_bank_account(&mut plain),
        Err(Error::NoFinancialApplication)
    ));
    // the SSSE still works after the failed selection
    assert!(lifecycle::read(&mut plain).is_ok());
}

/// An HSM as the calling program would reach it, simulated with the test keys: the answers
/// of the reader interface (§1.3, §2.3, §6.3-6.4) to each request. `card` is the card the
/// requests without card data (EXTERNAL AUTHENTICATION, secure messaging) are about.
fn hsm_answer(
    keys: &mut KeyFile,
    card: &CardContext,
    request: &HsmRequest,
) -> Result<String, String> {
    let h = |bytes: &[u8]| hex::encode_upper(bytes);
    let role_at = |address: u16| {
        KeyRole::ALL
            .into_iter()
            .find(|r| r.hsm_address(1) == Some(address))
            .ok_or_else(|| format!("no key at address {address:04X}"))
    };
    let e = |e: sscard::keyholder::KeyHolderError| e.to_string();
    match request {
        HsmRequest::CardAuthentication {
            atr,
            algorithm,
            card_id,
            internal,
            external,
            ..
        } => {
            let ctx = CardContext {
                algorithm: *algorithm,
                atr: atr.clone(),
                card_id: *card_id,
            };
            let ia = keys
                .authenticate(&ctx, KeyRole::Irk, &internal.0, &internal.1)
                .map_err(e)?;
            let mut answer = format!("{}{}|", h(&ia), h(&internal.1));
            if let Some((factor, original)) = external {
                let ea = keys
                    .authenticate(&ctx, KeyRole::Rkssse, factor, original)
                    .map_err(e)?;
                answer.push_str(&format!("{}{}|", h(&ea), h(original)));
            }
            Ok(answer)
        }
        HsmRequest::ExternalAuthentication {
            algorithm,
            address,
            process_factor,
            original,
        } => {
            let ctx = CardContext {
                algorithm: *algorithm,
                ..card.clone()
            };
            let auth = keys
                .authenticate(&ctx, role_at(*address)?, process_factor, original)
                .map_err(e)?;
            Ok(format!("{}{}|", h(&auth), h(original)))
        }
        HsmRequest::SecureMessaging {
            algorithm,
            address,
            process_factor,
            header,
            plaintext,
        } => {
            let ctx = CardContext {
                algorithm: *algorithm,
                ..card.clone()
            };
            let new_pin = if plaintext.is_empty() {
                None
            } else {
                Some(Pin::new(plaintext).map_err(|e| e.to_string())?)
            };
            let [cla, ins, p1, p2, _] = *header;
            let sm = keys
                .secure_message(
                    &ctx,
                    role_at(*address)?,
                    process_factor,
                    [cla, ins, p1, p2],
                    new_pin.as_ref(),
                )
                .map_err(e)?;
            Ok(format!("{}{}|", h(&sm.enciphered), h(&sm.mac)))
        }
    }
}

fn context_of(spec: &CardSpec) -> CardContext {
    CardContext {
        algorithm: spec.algorithm,
        atr: spec.atr(),
        card_id: CardIdentificationCode::from_bytes(&spec.card_id()).unwrap(),
    }
}

/// The HSM key holder: a read with INTERNAL AUTHENTICATION (and RKSSSE on 3.0), a PIN reload
/// and an unblock, each request in the reader interface's form.
#[test]
fn hsm_key_holder_reads_and_reloads() {
    for generation in Generation::ALL {
        for algorithm in [Algorithm::Tdes, Algorithm::Sm4] {
            let what = format!("{generation}/{algorithm}");
            let spec = card_spec(generation, algorithm, SERIAL);
            let ctx = context_of(&spec);
            let mut card =
                Card::open(SimTransport::new(personalized_sim_of(spec.clone()))).unwrap();
            let lines = Rc::new(RefCell::new(Vec::new()));
            let seen = Rc::clone(&lines);
            let mut keys = test_keys();
            let mut hsm = HsmKeyHolder::new(move |card: &CardContext, r: &HsmRequest| {
                // the card the library asks about is the card in the reader
                assert_eq!(card, &ctx);
                seen.borrow_mut().push(r.to_line());
                hsm_answer(&mut keys, card, r)
            });
            let read = lifecycle::read_verified(&mut card, &mut hsm, &ReadOptions::default())
                .unwrap_or_else(|e| panic!("{what}: {e}"));
            assert_eq!(read.genuine, Some(true));
            assert_eq!(
                read.basic_line(),
                expected_basic_line(&spec, None),
                "{what}"
            );
            let alg = format!("{:02X}", algorithm.to_byte());
            {
                let lines = lines.borrow();
                // the card authentication request: region|ATR|algorithm|card id|…
                let card_id = CardIdentificationCode::from_bytes(&spec.card_id()).unwrap();
                assert!(
                    lines[0].starts_with(&format!(
                        "639900|{}|{alg}|{card_id}|",
                        hex::encode_upper(spec.atr())
                    )),
                    "{what}: {}",
                    lines[0]
                );
                // 3.0: EXTERNAL AUTHENTICATION with RKSSSE at address 004C
                let rk = lines.iter().any(|l| l.starts_with(&format!("{alg}|004C|")));
                assert_eq!(rk, generation == Generation::V3, "{what}: {lines:?}");
            }
            lines.borrow_mut().clear();
            let new = pin("802413");
            lifecycle::reload_pin(&mut card, &mut hsm, &new).unwrap();
            lifecycle::verify_pin(&mut card, &new).unwrap();
            lifecycle::unblock_pin(&mut card, &mut hsm).unwrap();
            {
                let lines = lines.borrow();
                // PUK at 0090, then STKSSSE at 0173 with the command header and the PIN
                // (Lc 0C on 3DES: 8 bytes LD ‖ PIN ‖ padding + MAC; 14 on SM4)
                let lc = if algorithm == Algorithm::Tdes {
                    "0C"
                } else {
                    "14"
                };
                assert!(lines[0].starts_with(&format!("{alg}|0090|")), "{lines:?}");
                assert!(
                    lines[1].starts_with(&format!("{alg}|0173|"))
                        && lines[1].ends_with(&format!("|84240001{lc}|802413|")),
                    "{what}: {}",
                    lines[1]
                );
                assert!(lines[2].starts_with(&format!("{alg}|0090|")));
                assert!(lines[3].ends_with("|8424000004||"), "{}", lines[3]);
                assert_eq!(lines.len(), 4);
            }
        }
    }
}

/// The HSM key holder does not hold AES keys (the reader interface knows DES and SM4 only).
#[test]
fn hsm_key_holder_refuses_the_aes_extension() {
    let spec = card_spec(Generation::V2, Algorithm::Aes128, SERIAL);
    let mut card = Card::open(SimTransport::new(personalized_sim_of(spec))).unwrap();
    let mut asked = 0;
    let mut hsm = HsmKeyHolder::new(|_: &CardContext, _: &HsmRequest| {
        asked += 1;
        Err("not reached".to_owned())
    });
    assert!(matches!(
        lifecycle::read_verified(&mut card, &mut hsm, &ReadOptions::default()),
        Err(Error::KeyHolderAlgorithm(Algorithm::Aes128))
    ));
    drop(hsm);
    assert_eq!(asked, 0);
}

/// The reader interface's step-wise HSM flows (`iReadCardBas_HSM_Step1/2`,
/// `iReloadPIN_HSM_Step1/2/3`, `iUnblockPIN_HSM_…`) on the simulated card.
#[test]
fn hsm_step_flows() {
    for generation in Generation::ALL {
        for algorithm in [Algorithm::Tdes, Algorithm::Sm4] {
            let what = format!("{generation}/{algorithm}");
            let spec = card_spec(generation, algorithm, SERIAL);
            let ctx = context_of(&spec);
            let mut keys = test_keys();
            let mut card =
                Card::open(SimTransport::new(personalized_sim_of(spec.clone()))).unwrap();

            let step = hsm::read_basic_step1(&mut card).unwrap_or_else(|e| panic!("{what}: {e}"));
            let answer = hsm_answer(&mut keys, &ctx, &step.request).unwrap();
            let info = hsm::read_basic_step2(&mut card, &step, &answer)
                .unwrap_or_else(|e| panic!("{what}: {e}"));
            let p = person_record(generation);
            assert_eq!(info.ssn.to_string(), p.ssn);
            assert_eq!(info.name.as_str(), p.name);
            assert_eq!(info.card_number.as_str(), p.card_number);
            assert_eq!(info.spec_version, generation.spec_version());
            assert_eq!(info.card_id, ctx.card_id);

            // a wrong HSM answer (another card's IRK) says not genuine
            let step = hsm::read_basic_step1(&mut card).unwrap();
            let mut wrong = keys_with_wrong(&["IRK"]);
            let answer = hsm_answer(&mut wrong, &ctx, &step.request).unwrap();
            assert!(matches!(
                hsm::read_basic_step2(&mut card, &step, &answer),
                Err(Error::NotGenuine)
            ));

            // PIN reload, checked against the card identification code and card number
            let number = CardNumber::parse(&p.card_number).unwrap();
            let new = pin("55667788");
            let one = hsm::pin_step1(
                &mut card,
                PinMaintenance::Reload,
                Some((&ctx.card_id, &number)),
            )
            .unwrap();
            let a1 = hsm_answer(&mut keys, &ctx, &one.request).unwrap();
            let two = hsm::pin_step2(&mut card, &one, &a1, Some(&new)).unwrap();
            let a2 = hsm_answer(&mut keys, &ctx, &two.request).unwrap();
            hsm::pin_step3(&mut card, &two, &a2).unwrap_or_else(|e| panic!("{what}: {e}"));
            lifecycle::verify_pin(&mut card, &new).unwrap();

            // the wrong card is refused at step one
            let other = CardNumber::parse("X00000019").unwrap();
            let other = if other == number {
                CardNumber::parse("KD5578904").unwrap()
            } else {
                other
            };
            assert!(matches!(
                hsm::pin_step1(
                    &mut card,
                    PinMaintenance::Unblock,
                    Some((&ctx.card_id, &other))
                ),
                Err(Error::WrongCard(_))
            ));
        }
    }
}
