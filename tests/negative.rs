//! Negative cases: what the card and the library refuse, and that refusing loses nothing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use sscard::apdu::{commands, RecordRef, StatusWord};
use sscard::crypto::{KeyId, SecretKey};
use sscard::data::{DataError, PersonRecord};
use sscard::keyholder::KeyFile;
use sscard::lifecycle::{self, AppState, BlockState, PersonalizeOptions, ReadOptions};
use sscard::profile::Generation;
use sscard::Algorithm;
use sscard::Error;

/// A key file with the right shape but other keys (another issuer's, or a forgery).
fn wrong_keys() -> KeyFile {
    let mut keys = KeyFile::new();
    for alg in Algorithm::ALL {
        for id in KeyId::ALL {
            let key = SecretKey::from_bytes(&[0x5A ^ id.0; 16]).unwrap();
            keys.insert(alg, id, key);
        }
    }
    keys
}

#[test]
fn write_without_authentication_is_refused_6982() {
    let mut card = blank_card(Generation::V2, Algorithm::Tdes, [9, 9, 9, 1]);
    card.select().unwrap();
    let tlv = vec![
        0x07, 0x09, b'K', b'D', b'5', b'5', b'7', b'8', b'9', b'0', b'4',
    ];
    let response = card
        .channel_mut()
        .send(&commands::update_record(Some(5), RecordRef::Tag(7), tlv))
        .unwrap();
    assert_eq!(response.sw(), StatusWord::SecurityNotSatisfied);
    assert_eq!(card.select().unwrap().state, Some(AppState::Blank));
}

#[test]
fn wrong_cryptogram_is_refused_and_nothing_is_written() {
    for alg in Algorithm::ALL {
        let mut card = blank_card(Generation::V2, alg, [9, 9, 9, 2]);
        let result = lifecycle::personalize(
            &mut card,
            &mut wrong_keys(),
            &person(Generation::V2),
            &PersonalizeOptions::default(),
        );
        assert!(
            matches!(result, Err(Error::AuthenticationFailed { key: 0x04 })),
            "{alg}: {result:?}"
        );
        assert_eq!(card.select().unwrap().state, Some(AppState::Blank));
    }
}

#[test]
fn forged_card_fails_internal_authentication_and_card_id_mac() {
    // a card made with other keys: it answers, but not what the issuer's key holder expects
    let spec = sscard::sim::CardSpec::new(Generation::V2, Algorithm::Sm4, region(), [9, 9, 9, 3]);
    let sim = sscard::sim::SimCard::blank(spec, &mut wrong_keys()).unwrap();
    let mut card = sscard::lifecycle::Card::open(sscard::sim::SimTransport::new(sim)).unwrap();
    lifecycle::personalize(
        &mut card,
        &mut wrong_keys(),
        &person(Generation::V2),
        &PersonalizeOptions::default(),
    )
    .unwrap();
    let genuine = lifecycle::read(&mut card, Some(&mut test_keys()), &ReadOptions::default());
    assert!(matches!(genuine, Err(Error::NotGenuine)), "{genuine:?}");
    let mac_only = lifecycle::read(
        &mut card,
        Some(&mut test_keys()),
        &ReadOptions::default().with_verify_genuine(false),
    );
    assert!(matches!(mac_only, Err(Error::CardIdForged)), "{mac_only:?}");
    // without a key holder the data still reads (nothing to check it against)
    lifecycle::read(&mut card, None, &ReadOptions::default()).unwrap();
}

#[test]
fn wrong_mac_is_refused_and_the_card_is_not_blocked() {
    let mut card = personalized_card(Generation::V2, Algorithm::Aes128, [9, 9, 9, 4]);
    let result = lifecycle::block_application(&mut card, &mut wrong_keys(), false);
    assert!(
        matches!(
            result,
            Err(Error::Card {
                sw: StatusWord::WrongMac,
                ..
            })
        ),
        "{result:?}"
    );
    assert_eq!(card.select().unwrap().block, Some(BlockState::None));
    lifecycle::read(&mut card, Some(&mut test_keys()), &ReadOptions::default()).unwrap();
}

#[test]
fn replayed_mac_is_refused() {
    let mut card = personalized_card(Generation::V2, Algorithm::Tdes, [9, 9, 9, 5]);
    let mut keys = test_keys();
    lifecycle::block_application(&mut card, &mut keys, false).unwrap();
    let block = card.channel().transport().sent.last().unwrap().clone();
    assert_eq!(&block[..4], &[0x84, 0x1E, 0x00, 0x00]);
    lifecycle::unblock_application(&mut card, &mut keys).unwrap();
    // an eavesdropper replays the captured block command, with or without a new challenge
    card.select().unwrap();
    assert_eq!(raw_sw(&mut card, &block), 0x6985, "no challenge: refused");
    raw_sw(&mut card, &[0x00, 0x84, 0x00, 0x00, 0x08]);
    assert_eq!(raw_sw(&mut card, &block), 0x6988, "stale MAC: refused");
    assert_eq!(card.select().unwrap().block, Some(BlockState::None));
}

#[test]
fn replayed_cryptogram_is_refused() {
    let mut card = personalized_card(Generation::V2, Algorithm::Sm4, [9, 9, 9, 6]);
    let sent = &card.channel().transport().sent;
    let external_auth = sent
        .iter()
        .find(|c| c.len() > 4 && c[1] == 0x82 && c[3] == 0x04)
        .unwrap()
        .clone();
    card.select().unwrap();
    raw_sw(&mut card, &[0x00, 0x84, 0x00, 0x00, 0x10]);
    assert_eq!(raw_sw(&mut card, &external_auth), 0x6300);
    // and the replay granted nothing
    let tlv = vec![0x0A, 0x01, b'2'];
    let response = card
        .channel_mut()
        .send(&commands::update_record(Some(6), RecordRef::Tag(0x0A), tlv))
        .unwrap();
    assert_eq!(response.sw(), StatusWord::SecurityNotSatisfied);
}

#[test]
fn wrong_pin_counts_down_and_survives_reset_and_reselect() {
    let mut card = personalized_card(Generation::V2, Algorithm::Tdes, [9, 9, 9, 7]);
    let mut keys = test_keys();
    let today = "20261123".parse().unwrap();
    lifecycle::activate(&mut card, &mut keys, &pin("123456"), &pin("258036"), today).unwrap();
    assert!(matches!(
        lifecycle::verify_pin(&mut card, &pin("999999")),
        Err(Error::WrongPin { tries_left: 2 })
    ));
    card.channel_mut().transport_mut().inner.power_cycle();
    assert_eq!(lifecycle::pin_tries_left(&mut card).unwrap(), 2);
    card.select().unwrap();
    assert_eq!(lifecycle::pin_tries_left(&mut card).unwrap(), 2);
    assert!(matches!(
        lifecycle::verify_pin(&mut card, &pin("999999")),
        Err(Error::WrongPin { tries_left: 1 })
    ));
    // the right PIN restores the counter
    lifecycle::verify_pin(&mut card, &pin("258036")).unwrap();
    assert_eq!(lifecycle::pin_tries_left(&mut card).unwrap(), 3);
}

/// A transport whose card another "process" can reset at any moment (through the handle).
struct SharedReader {
    inner: sscard::sim::SimTransport<sscard::sim::SimCard>,
    reset_requests: std::sync::Arc<std::sync::atomic::AtomicU64>,
    seen: u64,
}

impl sscard::transport::Transport for SharedReader {
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, sscard::transport::TransportError> {
        let requested = self
            .reset_requests
            .load(std::sync::atomic::Ordering::SeqCst);
        if requested != self.seen {
            self.seen = requested;
            self.inner.power_cycle();
        }
        self.inner.transmit(command)
    }
    fn atr(&mut self) -> Result<Vec<u8>, sscard::transport::TransportError> {
        self.inner.atr()
    }
    fn reset_epoch(&self) -> u64 {
        self.inner.reset_epoch()
            + self
                .reset_requests
                .load(std::sync::atomic::Ordering::SeqCst)
    }
}

#[test]
fn reset_during_an_authenticated_session_invalidates_it() {
    use sscard::transport::Transport as _;
    let resets = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let reader = SharedReader {
        inner: sscard::sim::SimTransport::new(blank_sim(
            Generation::V2,
            Algorithm::Tdes,
            [9, 9, 9, 8],
        )),
        reset_requests: resets.clone(),
        seen: 0,
    };
    let mut card = sscard::lifecycle::Card::open(reader).unwrap();
    let mut keys = test_keys();
    card.select().unwrap();
    let factors = card.factors_for(&region()).unwrap();
    let mut session = card
        .authenticate(&mut keys, KeyId::UPDATE, factors)
        .unwrap();
    let tlv = vec![0x02, 0x01, b'3'];
    session
        .update_record(sscard::profile::Ef::Ef05, 0x02, tlv.clone())
        .unwrap();
    // another process resets the card behind the session's back
    resets.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    assert!(matches!(
        session.update_record(sscard::profile::Ef::Ef05, 0x02, tlv.clone()),
        Err(Error::CardReset)
    ));
    // and the card agrees: its security state is gone
    let response = card
        .channel_mut()
        .send(&commands::update_record(Some(5), RecordRef::Tag(2), tlv))
        .unwrap();
    assert_ne!(response.sw(), StatusWord::Ok);
    let _ = card.channel_mut().transport_mut().reset_epoch();
}

#[test]
fn invalid_person_data_is_rejected_per_field() {
    let base = person_record(Generation::V2);
    type Change = Box<dyn Fn(&mut PersonRecord)>;
    let cases: Vec<(&str, Change)> = vec![
        ("ssn", Box::new(|p| p.ssn = "111111198101011111".into())), // wrong check digit
        ("ssn", Box::new(|p| p.ssn = "11111119810101111".into())),  // 17 characters
        ("birth_date", Box::new(|p| p.birth_date = "19810102".into())), // differs from SSN
        ("birth_date", Box::new(|p| p.birth_date = "19810230".into())), // impossible date
        ("sex", Box::new(|p| p.sex = "2".into())),                  // SSN says male
        ("sex", Box::new(|p| p.sex = "7".into())),
        ("name", Box::new(|p| p.name = "张三😀".into())), // not representable in GBK
        ("name", Box::new(|p| p.name = "张".repeat(26))), // 52 GBK bytes > 50
        ("name", Box::new(|p| p.name = String::new())),
        (
            "card_number",
            Box::new(|p| p.card_number = "KD5578905".into()),
        ), // check char
        (
            "card_number",
            Box::new(|p| p.card_number = "KD55-8904".into()),
        ),
        ("region", Box::new(|p| p.region = "999999".into())),
        ("birthplace", Box::new(|p| p.birthplace = "11010".into())),
        ("ethnicity", Box::new(|p| p.ethnicity = "77".into())),
        ("issue_date", Box::new(|p| p.issue_date = "20230229".into())),
        (
            "expiry_date",
            Box::new(|p| p.expiry_date = "20100101".into()),
        ), // before issue
        (
            "initializing_body",
            Box::new(|p| p.initializing_body = "63990A".into()),
        ),
    ];
    for (field, change) in cases {
        let mut record = base.clone();
        change(&mut record);
        let error: DataError = record.validate().map(|_| ()).unwrap_err();
        assert_eq!(error.field(), Some(field), "{record:?}: {error}");
    }
    // and a 1.0 card has no name extension: 32 GBK bytes do not fit
    let mut v1 = person_record(Generation::V1);
    v1.name = "阿卜杜热合曼·买买提依明·艾则孜".into();
    assert_eq!(v1.validate().map(|_| ()).unwrap_err().field(), Some("name"));
}

/// A reader where another process resets the card just before the `at`-th command, as PC/SC
/// reports it: the command is not delivered, the transport answers "card reset".
struct ResetBefore {
    inner: sscard::sim::SimTransport<sscard::sim::SimCard>,
    at: usize,
    sent: usize,
}

impl sscard::transport::Transport for ResetBefore {
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, sscard::transport::TransportError> {
        self.sent += 1;
        if self.sent == self.at {
            self.inner.power_cycle();
            return Err(sscard::transport::TransportError::CardReset);
        }
        self.inner.transmit(command)
    }
    fn atr(&mut self) -> Result<Vec<u8>, sscard::transport::TransportError> {
        self.inner.atr()
    }
    fn reset_epoch(&self) -> u64 {
        self.inner.reset_epoch()
    }
}

#[test]
fn an_operation_starts_over_once_when_another_process_resets_the_card() {
    let data = person(Generation::V3);
    // personalization: 29 APDUs; a reset before any one of them is survived
    for at in 1..=29 {
        let sim = blank_sim(Generation::V3, Algorithm::Sm4, [9, 9, 8, at as u8]);
        let reader = ResetBefore {
            inner: sscard::sim::SimTransport::new(sim),
            at,
            sent: 0,
        };
        let mut card = sscard::lifecycle::Card::open(reader).unwrap();
        let mut keys = test_keys();
        lifecycle::personalize(&mut card, &mut keys, &data, &PersonalizeOptions::default())
            .unwrap_or_else(|e| panic!("reset before APDU {at}: {e}"));
        let read = lifecycle::read(&mut card, Some(&mut keys), &ReadOptions::default()).unwrap();
        assert_eq!(read.holder, *data.holder(), "reset before APDU {at}");
        assert_eq!(read.state, Some(AppState::Personalized));
    }
    // a second reset in the same operation is reported, not retried for ever
    struct ResetAlways(sscard::sim::SimTransport<sscard::sim::SimCard>);
    impl sscard::transport::Transport for ResetAlways {
        fn transmit(&mut self, _: &[u8]) -> Result<Vec<u8>, sscard::transport::TransportError> {
            Err(sscard::transport::TransportError::CardReset)
        }
        fn atr(&mut self) -> Result<Vec<u8>, sscard::transport::TransportError> {
            self.0.atr()
        }
        fn reset_epoch(&self) -> u64 {
            0
        }
    }
    let sim = blank_sim(Generation::V2, Algorithm::Sm4, [9, 9, 8, 0]);
    let mut card =
        sscard::lifecycle::Card::open(ResetAlways(sscard::sim::SimTransport::new(sim))).unwrap();
    let result = lifecycle::read(&mut card, None, &ReadOptions::default());
    assert!(matches!(result, Err(Error::CardReset)), "{result:?}");
}
