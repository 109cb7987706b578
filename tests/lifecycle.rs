//! The whole card lifecycle, in process, for every generation (1.0, 2.0, 3.0) and every
//! algorithm (3DES, SM4, AES): personalize → read back equals input → activate → verify →
//! change PIN → wrong PINs until blocked → unblock with the issuer key → temporary block (reads
//! fail as blocked) → unblock → permanent block; and reissue.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use sscard::data::BcdDate;
use sscard::lifecycle::{self, AppState, PersonalizeOptions, ReadOptions};
use sscard::profile::Generation;
use sscard::Algorithm;
use sscard::Error;

fn today() -> BcdDate {
    "20261123".parse().unwrap()
}

fn run_lifecycle(generation: Generation, algorithm: Algorithm, t0: bool) {
    let what = format!("{generation:?}/{algorithm}/t0={t0}");
    let mut keys = test_keys();
    let mut sim = blank_sim(generation, algorithm, [0x00, 0xBF, 0x7C, 0x7A]);
    if t0 {
        let mut options = sim.image().options;
        options.t0_mode = true;
        sim.set_options(options);
    }
    let mut card = lifecycle::Card::open(sscard::sim::SimTransport::new(sim)).unwrap();
    let data = person(generation);

    // personalize, then read back equals input
    let report =
        lifecycle::personalize(&mut card, &mut keys, &data, &PersonalizeOptions::default())
            .unwrap_or_else(|e| panic!("{what}: personalize: {e}"));
    assert_eq!(report.card_id.chip_serial, [0x00, 0xBF, 0x7C, 0x7A]);
    let read = lifecycle::read(&mut card, Some(&mut keys), &ReadOptions::default())
        .unwrap_or_else(|e| panic!("{what}: read: {e}"));
    assert_eq!(read.holder, *data.holder(), "{what}");
    assert_eq!(read.issuing, data.issuing_data(report.card_id), "{what}");
    assert_eq!(read.generation, generation);
    assert_eq!(read.algorithm, algorithm);
    assert_eq!(read.state, Some(AppState::Personalized));
    assert_eq!(read.genuine, Some(true));
    assert_eq!(read.card_id_mac_verified, Some(true));
    let with_ef0d = lifecycle::read(
        &mut card,
        Some(&mut keys),
        &ReadOptions::default().with_supplementary(true),
    )
    .unwrap();
    assert_eq!(
        with_ef0d.supplementary.as_ref(),
        data.supplementary(),
        "{what}"
    );

    // without a key holder (and after a reselect, which clears the read key's security
    // state): free on 1.0/2.0, the read key is needed on 3.0
    card.select().unwrap();
    match lifecycle::read(&mut card, None, &ReadOptions::default()) {
        Ok(free) => {
            assert_ne!(
                generation,
                Generation::V3,
                "{what}: 3.0 data read without the read key"
            );
            assert_eq!(free.holder, *data.holder());
        }
        Err(Error::ReadKeyRequired) => assert_eq!(generation, Generation::V3, "{what}"),
        Err(e) => panic!("{what}: free read: {e}"),
    }

    // PIN transactions are refused before activation
    assert!(matches!(
        lifecycle::verify_pin(&mut card, &pin("123456")),
        Err(Error::NotActivated)
    ));

    // activate: the holder replaces the initial PIN
    lifecycle::activate(
        &mut card,
        &mut keys,
        &pin("123456"),
        &pin("258036"),
        today(),
    )
    .unwrap_or_else(|e| panic!("{what}: activate: {e}"));
    assert_eq!(card.select().unwrap().state, Some(AppState::Activated));
    assert!(matches!(
        lifecycle::activate(
            &mut card,
            &mut keys,
            &pin("123456"),
            &pin("258036"),
            today()
        ),
        Err(Error::AlreadyActivated)
    ));

    // verify, change
    lifecycle::verify_pin(&mut card, &pin("258036")).unwrap();
    lifecycle::change_pin(&mut card, &pin("258036"), &pin("604917")).unwrap();
    lifecycle::verify_pin(&mut card, &pin("604917")).unwrap();
    assert_eq!(lifecycle::pin_tries_left(&mut card).unwrap(), 3);

    // wrong PINs until blocked
    assert!(matches!(
        lifecycle::verify_pin(&mut card, &pin("258036")),
        Err(Error::WrongPin { tries_left: 2 })
    ));
    assert!(matches!(
        lifecycle::verify_pin(&mut card, &pin("258036")),
        Err(Error::WrongPin { tries_left: 1 })
    ));
    let third = lifecycle::verify_pin(&mut card, &pin("258036"));
    assert!(
        matches!(
            third,
            Err(Error::PinBlocked) | Err(Error::WrongPin { tries_left: 0 })
        ),
        "{what}: {third:?}"
    );
    assert!(matches!(
        lifecycle::verify_pin(&mut card, &pin("604917")),
        Err(Error::PinBlocked)
    ));

    // unblock with the issuer key: the PIN works again
    lifecycle::unblock_pin(&mut card, &mut keys).unwrap_or_else(|e| panic!("{what}: unblock: {e}"));
    lifecycle::verify_pin(&mut card, &pin("604917")).unwrap();

    // reload (forgotten PIN): the issuer sets a new one
    lifecycle::reload_pin(&mut card, &mut keys, &pin("385027")).unwrap();
    lifecycle::verify_pin(&mut card, &pin("385027")).unwrap();

    // temporary block: reads and PIN fail as blocked; unblock restores
    lifecycle::block_application(&mut card, &mut keys, false).unwrap();
    assert!(matches!(
        lifecycle::read(&mut card, Some(&mut keys), &ReadOptions::default()),
        Err(Error::ApplicationBlocked)
    ));
    // a terminal that ignores the FCI gets 6A81 from the card itself
    let (_, sw) = card
        .channel_mut()
        .send(&sscard::apdu::commands::read_record(
            Some(5),
            sscard::apdu::RecordRef::Tag(1),
        ))
        .map(|r| (r.data().to_vec(), r.sw()))
        .unwrap();
    assert_eq!(sw, sscard::apdu::StatusWord::ApplicationBlocked);
    lifecycle::unblock_application(&mut card, &mut keys).unwrap();
    let again = lifecycle::read(&mut card, Some(&mut keys), &ReadOptions::default()).unwrap();
    assert_eq!(again.holder, *data.holder());

    // permanent block: nothing works any more, unblock is refused
    lifecycle::block_application(&mut card, &mut keys, true).unwrap();
    assert!(matches!(
        lifecycle::read(&mut card, Some(&mut keys), &ReadOptions::default()),
        Err(Error::PermanentlyBlocked)
    ));
    assert!(matches!(
        lifecycle::unblock_application(&mut card, &mut keys),
        Err(Error::PermanentlyBlocked)
    ));
}

#[test]
fn lifecycle_every_generation_and_algorithm() {
    for generation in Generation::ALL {
        for algorithm in Algorithm::ALL {
            run_lifecycle(generation, algorithm, false);
        }
    }
}

#[test]
fn lifecycle_on_a_t0_card() {
    // every response through 61xx + GET RESPONSE
    run_lifecycle(Generation::V2, Algorithm::Sm4, true);
    run_lifecycle(Generation::V3, Algorithm::Tdes, true);
}

#[test]
fn card_block_is_final() {
    let mut keys = test_keys();
    let mut card = blank_card(Generation::V2, Algorithm::Sm4, [1, 2, 3, 4]);
    let data = person(Generation::V2);
    lifecycle::personalize(&mut card, &mut keys, &data, &PersonalizeOptions::default()).unwrap();
    lifecycle::block_card(&mut card, &mut keys).unwrap();
    assert!(matches!(card.select(), Err(Error::CardBlocked)));
    assert!(matches!(
        lifecycle::read(&mut card, Some(&mut keys), &ReadOptions::default()),
        Err(Error::CardBlocked)
    ));
}

#[test]
fn reissue_personalizes_the_new_card_and_blocks_the_old_one() {
    for generation in Generation::ALL {
        let mut keys = test_keys();
        let data = person(generation);
        let mut old = blank_card(generation, Algorithm::Sm4, [0x10, 0, 0, 1]);
        lifecycle::personalize(&mut old, &mut keys, &data, &PersonalizeOptions::default()).unwrap();
        lifecycle::activate(&mut old, &mut keys, &pin("123456"), &pin("258036"), today()).unwrap();

        let mut new = blank_card(generation, Algorithm::Sm4, [0x10, 0, 0, 2]);
        let report = lifecycle::reissue(
            Some(&mut old),
            &mut new,
            &mut keys,
            &data,
            &PersonalizeOptions::default(),
        )
        .unwrap();
        assert!(report.old_card_blocked);
        assert_eq!(report.new_card.card_id.chip_serial, [0x10, 0, 0, 2]);
        let read = lifecycle::read(&mut new, Some(&mut keys), &ReadOptions::default()).unwrap();
        assert_eq!(read.holder, *data.holder());
        assert!(matches!(
            lifecycle::read(&mut old, Some(&mut keys), &ReadOptions::default()),
            Err(Error::PermanentlyBlocked)
        ));
    }
}

#[test]
fn reissue_refuses_an_old_card_of_another_person() {
    let mut keys = test_keys();
    let mut old = blank_card(Generation::V2, Algorithm::Tdes, [0x20, 0, 0, 1]);
    lifecycle::personalize(
        &mut old,
        &mut keys,
        &person(Generation::V2),
        &PersonalizeOptions::default(),
    )
    .unwrap();
    let mut new = blank_card(Generation::V2, Algorithm::Tdes, [0x20, 0, 0, 2]);
    let mut someone_else = person_record(Generation::V2);
    someone_else.ssn = "440305200002290045".into();
    someone_else.birth_date = "20000229".into();
    someone_else.sex = "2".into();
    let someone_else = someone_else.validate().unwrap();
    let result = lifecycle::reissue(
        Some(&mut old),
        &mut new,
        &mut keys,
        &someone_else,
        &PersonalizeOptions::default(),
    );
    assert!(matches!(result, Err(Error::WrongCard(_))), "{result:?}");
    // nothing was written to the new card, and the old card still reads
    assert_eq!(new.select().unwrap().state, Some(AppState::Blank));
    lifecycle::read(&mut old, Some(&mut keys), &ReadOptions::default()).unwrap();
}

#[test]
fn personalization_refuses_a_personalized_card_unless_asked() {
    let mut keys = test_keys();
    let mut card = blank_card(Generation::V2, Algorithm::Aes128, [0x30, 0, 0, 1]);
    let data = person(Generation::V2);
    lifecycle::personalize(&mut card, &mut keys, &data, &PersonalizeOptions::default()).unwrap();
    match lifecycle::personalize(&mut card, &mut keys, &data, &PersonalizeOptions::default()) {
        Err(Error::AlreadyPersonalized { card_number }) => assert_eq!(card_number, "KD5578904"),
        other => panic!("{other:?}"),
    }
    // re-personalization with another card number
    let mut changed = person_record(Generation::V2);
    changed.card_number = "B20000024".into();
    let changed = changed.validate().unwrap();
    let report = lifecycle::personalize(
        &mut card,
        &mut keys,
        &changed,
        &PersonalizeOptions::default().with_repersonalize(true),
    )
    .unwrap();
    assert!(report.repersonalized);
    let read = lifecycle::read(&mut card, Some(&mut keys), &ReadOptions::default()).unwrap();
    assert_eq!(read.issuing.card_number.to_string(), "B20000024");
    assert_eq!(read.state, Some(AppState::Personalized));
}

#[test]
fn personalization_refuses_data_for_another_generation_before_writing() {
    let mut keys = test_keys();
    let mut card = blank_card(Generation::V1, Algorithm::Tdes, [0x40, 0, 0, 1]);
    let result = lifecycle::personalize(
        &mut card,
        &mut keys,
        &person(Generation::V2),
        &PersonalizeOptions::default(),
    );
    assert!(matches!(result, Err(Error::WrongCard(_))), "{result:?}");
    assert_eq!(card.select().unwrap().state, Some(AppState::Blank));
}

#[test]
fn activation_refuses_weak_initial_and_expired() {
    let mut keys = test_keys();
    let mut card = blank_card(Generation::V2, Algorithm::Sm4, [0x50, 0, 0, 1]);
    lifecycle::personalize(
        &mut card,
        &mut keys,
        &person(Generation::V2),
        &PersonalizeOptions::default(),
    )
    .unwrap();
    let before = card.apdu_count();
    for weak in ["111111", "123456", "654321", "121212"] {
        let r = lifecycle::activate(&mut card, &mut keys, &pin("123456"), &pin(weak), today());
        assert!(
            matches!(r, Err(Error::WeakPin) | Err(Error::InitialPin)),
            "{weak}: {r:?}"
        );
    }
    assert_eq!(
        card.apdu_count(),
        before,
        "weak PINs are refused before any APDU"
    );
    let late: BcdDate = "20400101".parse().unwrap();
    assert!(matches!(
        lifecycle::activate(&mut card, &mut keys, &pin("123456"), &pin("258036"), late),
        Err(Error::Expired { .. })
    ));
    // a wrong initial PIN costs a try and changes nothing else
    assert!(matches!(
        lifecycle::activate(
            &mut card,
            &mut keys,
            &pin("999999"),
            &pin("258036"),
            today()
        ),
        Err(Error::WrongPin { tries_left: 2 })
    ));
    assert_eq!(card.select().unwrap().state, Some(AppState::Personalized));
    lifecycle::activate(
        &mut card,
        &mut keys,
        &pin("123456"),
        &pin("258036"),
        today(),
    )
    .unwrap();
}
