//! A lost card stops working everywhere: the holder reports card A lost, the issuer publishes
//! a delta, a terminal holding the previous list applies it and from then on refuses card A in
//! the validity check of part 7 §5.4 — and accepts the replacement card B (same holder, same
//! card number, a new chip). Through the library, the simulated cards and the store on disk.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use sscard_blocklist::{Entry, Error as ListError, IssuerKey, IssuerList, Mark, Reason, Store};
use sscard_core::data::{BcdDate, CardIssuingData, PersonRecord, RegionCode};
use sscard_core::keyholder::KeyFile;
use sscard_core::keys::RootKeys;
use sscard_core::lifecycle::{
    self, Blocklist, Card, PersonalizeOptions, PinStatus, ValidityPolicy, Verdict,
};
use sscard_core::profile::Generation;
use sscard_core::{Algorithm, Error};
use sscard_sim::{CardSpec, SimCard, SimTransport};

const TEST_KEYS: &str = include_str!("../../../fixtures/keys/test-keys.json");
const PERSON: &str = include_str!("../../../fixtures/persons/zhang-san-2.json");

fn date(text: &str) -> BcdDate {
    text.parse().unwrap()
}

fn keys() -> KeyFile {
    KeyFile::from_json(TEST_KEYS).unwrap()
}

/// A personalized 2.0 SM4 card of the fixture person with the chip serial `serial`.
fn card(serial: [u8; 4]) -> Card<SimTransport<SimCard>> {
    let region: RegionCode = "639900".parse().unwrap();
    let spec = CardSpec::new(Generation::V2, Algorithm::Sm4, region, serial);
    let roots = RootKeys::from_json(TEST_KEYS).unwrap();
    let mut card = Card::open(SimTransport::new(SimCard::blank(spec, &roots).unwrap())).unwrap();
    let person = PersonRecord::from_json(PERSON).unwrap().validate().unwrap();
    lifecycle::personalize(
        &mut card,
        &mut keys(),
        &person,
        &PersonalizeOptions::default(),
    )
    .unwrap();
    card
}

fn check(
    card: &mut Card<SimTransport<SimCard>>,
    list: &dyn Blocklist,
    block: bool,
) -> Result<(Verdict, CardIssuingData), Error> {
    let policy = ValidityPolicy {
        today: Some(date(TODAY)),
        blocklist: Some(list),
        block_blocklisted: block,
        ..ValidityPolicy::default()
    };
    lifecycle::check_validity(card, &mut keys(), &policy)
}

const TODAY: &str = "20261201";

fn publish(issuer: &mut IssuerList, key: &IssuerKey) -> sscard_blocklist::Publication {
    issuer
        .publish(key, date(TODAY), date(TODAY), date("20261231"))
        .unwrap()
}

#[test]
fn a_card_reported_lost_is_refused_after_the_delta_and_its_replacement_accepted() {
    let key = IssuerKey::generate();
    let public = key.public().unwrap();
    let mut issuer = IssuerList::new();
    // the list already holds other cards
    issuer.add(
        &Entry::Card {
            card_id: "639900D15600000512345678FFFFFFFF".parse().unwrap(),
            card_number: "X00000019".parse().unwrap(),
        },
        Mark::new(Reason::Damaged, date("20260301")).unwrap(),
    );
    let v1 = publish(&mut issuer, &key);
    let dir = tempfile::tempdir().unwrap();
    let store_path = dir.path().join("terminal");
    let mut store = Store::create(&store_path, v1.full, &public, Some(date(TODAY))).unwrap();

    // card A is in use and valid
    let mut a = card([0x11, 0x22, 0x33, 0x44]);
    let (verdict, issuing_a) = check(&mut a, store.list(), false).unwrap();
    assert_eq!(
        verdict,
        Verdict::Valid {
            pin: PinStatus::Required { tries_left: 3 }
        }
    );

    // the holder reports it lost; the issuer lists it and publishes version 2
    issuer.add(
        &Entry::Card {
            card_id: issuing_a.card_id,
            card_number: issuing_a.card_number.clone(),
        },
        Mark::new(Reason::Lost, date("20261130")).unwrap(),
    );
    let v2 = publish(&mut issuer, &key);
    let delta = v2.delta.unwrap();
    assert!(
        delta.len() < 400,
        "a one-card delta is small: {} bytes",
        delta.len()
    );

    // the terminal still holding version 1 accepts card A…
    assert!(matches!(
        check(&mut a, store.list(), false).unwrap().0,
        Verdict::Valid { .. }
    ));
    // …until it applies the delta
    let applied = store.apply(delta, Some(date(TODAY))).unwrap();
    assert_eq!((applied.from, applied.to, applied.added), (1, 2, 1));
    let (verdict, _) = check(&mut a, store.list(), false).unwrap();
    assert_eq!(
        verdict,
        Verdict::Blocklisted {
            reason: "reported lost on 20261130 (single card; blocklist version 2)".into()
        }
    );

    // the replacement: same holder and card number, a new chip (another card identification
    // code): accepted
    let mut b = card([0x55, 0x66, 0x77, 0x88]);
    let (verdict, issuing_b) = check(&mut b, store.list(), false).unwrap();
    assert_eq!(issuing_b.card_number, issuing_a.card_number);
    assert_ne!(issuing_b.card_id, issuing_a.card_id);
    assert!(matches!(verdict, Verdict::Valid { .. }), "{verdict:?}");

    // after a restart the terminal's store still refuses A and accepts B
    drop(store);
    let store = Store::open(&store_path, &public).unwrap();
    assert_eq!(store.list().version(), 2);
    assert!(matches!(
        check(&mut a, store.list(), false).unwrap().0,
        Verdict::Blocklisted { .. }
    ));
    assert!(matches!(
        check(&mut b, store.list(), false).unwrap().0,
        Verdict::Valid { .. }
    ));

    // a terminal holding BK blocks card A's application when it sees it (policy flag): from
    // then on card A answers 9303 everywhere, with or without a list
    let (verdict, _) = check(&mut a, store.list(), true).unwrap();
    assert!(
        matches!(&verdict, Verdict::BlocklistedAndBlocked { reason } if reason.contains("reported lost")),
        "{verdict:?}"
    );
    assert!(matches!(
        check(&mut a, store.list(), false),
        Err(Error::ApplicationBlocked)
    ));
    // the flag never touches a card that is not listed
    assert!(matches!(
        check(&mut b, store.list(), true).unwrap().0,
        Verdict::Valid { .. }
    ));
}

/// A forged "unblock" (a delta removing card A, signed by another key) does not make the
/// terminal accept card A again.
#[test]
fn a_forged_delta_does_not_readmit_a_lost_card() {
    let key = IssuerKey::generate();
    let public = key.public().unwrap();
    let mut a = card([0x0A, 0x0B, 0x0C, 0x0D]);
    let issuing = lifecycle::read(&mut a).unwrap().issuing;
    let lost = Entry::Card {
        card_id: issuing.card_id,
        card_number: issuing.card_number,
    };
    let mut issuer = IssuerList::new();
    issuer.add(&lost, Mark::new(Reason::Lost, date("20261130")).unwrap());
    let v1 = publish(&mut issuer, &key);
    let mut list = sscard_blocklist::TerminalList::from_full(v1.full, &public, None).unwrap();
    // the forger copies the list and removes the card, signing with their own key
    let forger = IssuerKey::generate();
    let mut forged = issuer.clone();
    forged.remove(&lost).unwrap();
    let forged = publish(&mut forged, &forger);
    let e = list
        .apply(forged.delta.unwrap(), &public, Some(date(TODAY)))
        .unwrap_err();
    assert!(matches!(e, ListError::WrongKey { .. }), "{e}");
    assert!(matches!(
        check(&mut a, &list, false).unwrap().0,
        Verdict::Blocklisted { .. }
    ));
}
