//! APDU budgets: on a real card every APDU costs 10-25 ms, so the number of APDUs is the speed
//! of a terminal. These counts are deterministic; each budget is derived in the operation's
//! module documentation (sscard-core `lifecycle`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use sscard::lifecycle::{self, Card, PersonalizeOptions, ReadOptions};
use sscard::profile::{self, Ef, Generation};
use sscard::sim::{SimCard, SimTransport};
use sscard::Algorithm;

fn today() -> sscard::data::BcdDate {
    "20261123".parse().unwrap()
}

/// A personalized card, reopened as a terminal would find it (fresh card session, counter 0).
fn fresh_session(
    generation: Generation,
    algorithm: Algorithm,
    all_records: bool,
) -> Card<Recording<SimTransport<SimCard>>> {
    let card = personalized_card(generation, algorithm, [7, 7, 7, 7]);
    let mut sim = card.into_transport().inner.into_card();
    let mut options = sim.image().options;
    options.all_records_mode = all_records;
    sim.set_options(options);
    sim.reset();
    Card::open(Recording::new(SimTransport::new(sim))).unwrap()
}

fn selects(card: &Card<Recording<SimTransport<SimCard>>>) -> usize {
    card.channel()
        .transport()
        .sent
        .iter()
        .filter(|c| c.get(1) == Some(&0xA4))
        .count()
}

#[test]
fn read_2_0_takes_3_apdus_with_the_all_records_mode() {
    for generation in [Generation::V1, Generation::V2] {
        let mut card = fresh_session(generation, Algorithm::Tdes, true);
        let data = lifecycle::read(&mut card, None, &ReadOptions::default()).unwrap();
        assert_eq!(data.holder, *person(generation).holder());
        assert_eq!(card.apdu_count(), 3, "{generation:?}: SELECT + EF05 + EF06");
        assert_eq!(selects(&card), 1);
    }
}

#[test]
fn read_falls_back_to_one_read_per_element_without_the_all_records_mode() {
    let mut full = fresh_session(Generation::V2, Algorithm::Tdes, true);
    let expected = lifecycle::read(&mut full, None, &ReadOptions::default()).unwrap();
    let mut card = fresh_session(Generation::V2, Algorithm::Tdes, false);
    let data = lifecycle::read(&mut card, None, &ReadOptions::default()).unwrap();
    assert_eq!(data.holder, expected.holder);
    assert_eq!(data.issuing, expected.issuing);
    let elements = profile::records(Generation::V2, Ef::Ef05).len()
        + profile::records(Generation::V2, Ef::Ef06).len();
    assert_eq!(elements, 14);
    // SELECT + the refused all-records READ RECORD + one READ RECORD per element
    assert_eq!(card.apdu_count(), 2 + elements as u64);
    assert!(card.apdu_count() <= 3 + elements as u64);
    // the library remembers: a second read costs one READ RECORD per element only
    card.channel_mut().reset_apdu_count();
    lifecycle::read(&mut card, None, &ReadOptions::default()).unwrap();
    assert_eq!(card.apdu_count(), elements as u64);
}

#[test]
fn read_3_0_with_the_read_key_and_internal_authentication_takes_6_apdus() {
    for algorithm in Algorithm::ALL {
        let mut card = fresh_session(Generation::V3, algorithm, true);
        let data =
            lifecycle::read(&mut card, Some(&mut test_keys()), &ReadOptions::default()).unwrap();
        assert_eq!(data.genuine, Some(true));
        // SELECT, GET CHALLENGE, EXTERNAL AUTHENTICATE, EF05, EF06, INTERNAL AUTHENTICATE
        assert_eq!(card.apdu_count(), 6, "{algorithm}");
    }
}

#[test]
fn read_2_0_with_a_key_holder_takes_4_apdus() {
    let mut card = fresh_session(Generation::V2, Algorithm::Sm4, true);
    lifecycle::read(&mut card, Some(&mut test_keys()), &ReadOptions::default()).unwrap();
    // SELECT, EF05, EF06, INTERNAL AUTHENTICATE
    assert_eq!(card.apdu_count(), 4);
}

#[test]
fn personalization_takes_the_derived_minimum() {
    // 1 SELECT + 2 (auth 04) + EF05 + EF06 records + [2 (auth 0D) + EF0D records]
    // + 2 (GET CHALLENGE + PIN RELOAD) + 1 ACTIVATE FILE
    let cases = [
        (Generation::V1, 1 + 2 + 7 + 6 + 2 + 1), // li-si: no EF0D data
        (Generation::V2, 1 + 2 + 7 + 7 + 2 + 2 + 2 + 1), // zhang-san: EF0D data
        (Generation::V3, 1 + 2 + 7 + 7 + 2 + 2 + 2 + 1),
    ];
    for (generation, budget) in cases {
        let mut card = blank_card(generation, Algorithm::Sm4, [7, 7, 7, 8]);
        lifecycle::personalize(
            &mut card,
            &mut test_keys(),
            &person(generation),
            &PersonalizeOptions::default().with_verify(false),
        )
        .unwrap();
        assert_eq!(card.apdu_count(), budget, "{generation:?}");
    }
    // read-back verification: one all-records READ RECORD per EF written (+ read key on 3.0)
    let mut card = blank_card(Generation::V3, Algorithm::Sm4, [7, 7, 7, 9]);
    lifecycle::personalize(
        &mut card,
        &mut test_keys(),
        &person(Generation::V3),
        &PersonalizeOptions::default(),
    )
    .unwrap();
    assert_eq!(card.apdu_count(), 24 + 2 + 3);
}

#[test]
fn activation_takes_4_apdus_or_6_on_3_0() {
    for (generation, budget) in [(Generation::V2, 4), (Generation::V3, 6)] {
        let mut card = fresh_session(generation, Algorithm::Sm4, true);
        lifecycle::activate(
            &mut card,
            &mut test_keys(),
            &pin("123456"),
            &pin("258036"),
            today(),
        )
        .unwrap();
        assert_eq!(card.apdu_count(), budget, "{generation:?}");
        assert_eq!(selects(&card), 1);
    }
}

#[test]
fn pin_verify_takes_select_plus_verify_and_no_redundant_select() {
    let mut card = fresh_session(Generation::V2, Algorithm::Tdes, true);
    lifecycle::activate(
        &mut card,
        &mut test_keys(),
        &pin("123456"),
        &pin("258036"),
        today(),
    )
    .unwrap();
    card.channel_mut().reset_apdu_count();
    lifecycle::verify_pin(&mut card, &pin("258036")).unwrap();
    lifecycle::verify_pin(&mut card, &pin("258036")).unwrap();
    assert_eq!(card.apdu_count(), 2, "two VERIFYs, no SELECT in between");
    lifecycle::read(&mut card, None, &ReadOptions::default()).unwrap();
    assert_eq!(selects(&card), 1, "one SELECT in the whole card session");
}
