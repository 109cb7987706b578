//! Bounded property tests (a few seconds in CI):
//!
//! - the library never panics and always ends, whatever a card answers: a fake card replaying
//!   arbitrary responses, and the simulated card with one of its answers corrupted;
//! - a corrupted answer never damages the card: personalization completes when run again, and
//!   the card then reads back exactly the person's data;
//! - person-record validation never panics, and its errors name a field;
//! - the simulated card and PSAM never panic on any command sequence (raw APDUs, correct
//!   authentications and secured commands, resets); the card always answers a status word,
//!   and its image stays valid and survives a JSON round trip after every command.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use proptest::prelude::*;
use sscard::data::PersonRecord;
use sscard::keys::KeyRole;
use sscard::lifecycle::{self, ActivateOptions, Card, PersonalizeOptions, ReadOptions};
use sscard::profile::{Ef, Generation};
use sscard::sim::{CardImage, CardSpec, SimCard, SimTransport};
use sscard::transport::{Transport, TransportError};
use sscard::{Algorithm, Error};

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

const GENERATIONS: [Generation; 3] = Generation::ALL;
const ALGORITHMS: [Algorithm; 3] = Algorithm::ALL;

/// A status word: the ones the card OS uses, now and then any.
fn status_word() -> impl Strategy<Value = [u8; 2]> {
    prop_oneof![
        4 => Just([0x90u8, 0x00]),
        1 => Just([0x61, 0x08]),
        1 => Just([0x61, 0x00]),
        1 => Just([0x6C, 0x06]),
        1 => Just([0x6C, 0x00]),
        1 => Just([0x63, 0xC2]),
        1 => Just([0x63, 0xCF]),
        1 => Just([0x69, 0x82]),
        1 => Just([0x69, 0x83]),
        1 => Just([0x69, 0x84]),
        1 => Just([0x6A, 0x81]),
        1 => Just([0x6A, 0x82]),
        1 => Just([0x6A, 0x83]),
        1 => Just([0x93, 0x03]),
        2 => any::<[u8; 2]>(),
    ]
}

/// A plausible response: data (now and then a SIMPLE-TLV record or an FCI) and a status word;
/// now and then fewer than two bytes.
fn response() -> impl Strategy<Value = Vec<u8>> {
    let data = prop_oneof![
        3 => prop::collection::vec(any::<u8>(), 0..40),
        2 => (any::<u8>(), prop::collection::vec(any::<u8>(), 0..32)).prop_map(|(tag, v)| {
            let mut r = vec![tag, v.len() as u8];
            r.extend(v);
            r
        }),
        1 => Just(hex::decode("6F1B840F7378312E73682EC9E7BBE1B1A3D5CFA5089F0C03860103").unwrap()),
    ];
    prop_oneof![
        12 => (data, status_word()).prop_map(|(mut d, sw)| {
            d.extend_from_slice(&sw);
            d
        }),
        1 => prop::collection::vec(any::<u8>(), 0..2),
    ]
}

/// A card that answers every command with the next response of a list, then fails as a pulled
/// card does. Counts what it was sent after the list ran out.
struct Replay {
    responses: Vec<Vec<u8>>,
    next: usize,
    after_end: usize,
}

impl Transport for Replay {
    fn transmit(&mut self, _command: &[u8]) -> Result<Vec<u8>, TransportError> {
        let Some(response) = self.responses.get(self.next) else {
            self.after_end += 1;
            return Err(TransportError::CardRemoved);
        };
        self.next += 1;
        Ok(response.clone())
    }
    fn atr(&mut self) -> Result<Vec<u8>, TransportError> {
        Ok(hex::decode("3B6D000000814A44468660639900000001").unwrap())
    }
    fn reset_epoch(&self) -> u64 {
        0
    }
}

/// The library operations the properties run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Read,
    ReadVerified,
    Personalize,
    CheckValidity,
    PinStatus,
    VerifyPin,
    ChangePin,
    Activate,
    ReloadPin,
    UnblockPin,
    BlockApplication,
    BlockCard,
    ReadPhoto,
    BankAccount,
}

const OPS: [Op; 14] = [
    Op::Read,
    Op::ReadVerified,
    Op::Personalize,
    Op::CheckValidity,
    Op::PinStatus,
    Op::VerifyPin,
    Op::ChangePin,
    Op::Activate,
    Op::ReloadPin,
    Op::UnblockPin,
    Op::BlockApplication,
    Op::BlockCard,
    Op::ReadPhoto,
    Op::BankAccount,
];

fn run_op<T: Transport>(card: &mut Card<T>, op: Op, generation: Generation) -> Result<(), Error> {
    let mut keys = test_keys();
    match op {
        Op::Read => lifecycle::read(card).map(|_| ()),
        Op::ReadVerified => {
            lifecycle::read_verified(card, &mut keys, &ReadOptions::default()).map(|_| ())
        }
        Op::Personalize => lifecycle::personalize(
            card,
            &mut keys,
            &person(generation),
            &PersonalizeOptions::default(),
        )
        .map(|_| ()),
        Op::CheckValidity => {
            lifecycle::check_validity(card, &mut keys, &Default::default()).map(|_| ())
        }
        Op::PinStatus => lifecycle::pin_status(card).map(|_| ()),
        Op::VerifyPin => lifecycle::verify_pin(card, &pin("123456")),
        Op::ChangePin => lifecycle::change_pin(card, &pin("123456"), &pin("8642")),
        Op::Activate => lifecycle::activate_verified(
            card,
            &mut keys,
            &pin("975310"),
            &ActivateOptions::default(),
        ),
        Op::ReloadPin => lifecycle::reload_pin(card, &mut keys, &pin("2468")),
        Op::UnblockPin => lifecycle::unblock_pin(card, &mut keys),
        Op::BlockApplication => lifecycle::block_application(card, &mut keys),
        Op::BlockCard => lifecycle::block_card(card, &mut keys),
        Op::ReadPhoto => lifecycle::read_binary_file(card, &mut keys, Ef::Ef08).map(|_| ()),
        Op::BankAccount => lifecycle::read_bank_account(card).map(|_| ()),
    }
}

proptest! {
    #![proptest_config(config(256))]

    /// Whatever a card answers, every operation returns (Ok or an error) without panicking,
    /// and stops talking to a card that no longer answers: at most one more command after the
    /// end (the operation does not start over after a pulled card).
    #[test]
    fn library_survives_arbitrary_answers(
        responses in prop::collection::vec(response(), 0..48),
        op in prop::sample::select(OPS.to_vec()),
        generation in prop::sample::select(GENERATIONS.to_vec()),
    ) {
        let mut card = Card::open(Replay { responses, next: 0, after_end: 0 }).unwrap();
        let _ = run_op(&mut card, op, generation);
        prop_assert!(card.channel().transport().after_end <= 1);
    }
}

/// How one answer of the simulated card is corrupted.
#[derive(Debug, Clone)]
enum Corruption {
    /// One byte XORed (data or status word).
    Flip { at: prop::sample::Index, mask: u8 },
    /// Cut to this many bytes.
    Truncate(prop::sample::Index),
    /// The status word replaced.
    StatusWord([u8; 2]),
    /// Bytes appended before the status word.
    Extra(Vec<u8>),
    /// A whole other answer.
    Replace(Vec<u8>),
}

fn corruption() -> impl Strategy<Value = Corruption> {
    prop_oneof![
        3 => (any::<prop::sample::Index>(), 1u8..=255).prop_map(|(at, mask)| Corruption::Flip { at, mask }),
        1 => any::<prop::sample::Index>().prop_map(Corruption::Truncate),
        2 => status_word().prop_map(Corruption::StatusWord),
        1 => prop::collection::vec(any::<u8>(), 1..8).prop_map(Corruption::Extra),
        1 => response().prop_map(Corruption::Replace),
    ]
}

impl Corruption {
    fn apply(&self, response: &mut Vec<u8>) {
        match self {
            Corruption::Flip { at, mask } => {
                let i = at.index(response.len());
                response[i] ^= mask;
            }
            Corruption::Truncate(at) => {
                let n = at.index(response.len());
                response.truncate(n);
            }
            Corruption::StatusWord(sw) => {
                let n = response.len();
                response[n - 2..].copy_from_slice(sw);
            }
            Corruption::Extra(bytes) => {
                let n = response.len();
                let sw = response.split_off(n - 2);
                response.extend_from_slice(bytes);
                response.extend(sw);
            }
            Corruption::Replace(other) => *response = other.clone(),
        }
    }
}

/// The simulated card behind a reader that corrupts its `at`-th answer (0-based).
struct Corrupting {
    inner: SimTransport<SimCard>,
    at: usize,
    corruption: Corruption,
    sent: usize,
}

impl Transport for Corrupting {
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, TransportError> {
        let mut response = self.inner.transmit(command)?;
        if self.sent == self.at {
            self.corruption.apply(&mut response);
        }
        self.sent += 1;
        Ok(response)
    }
    fn atr(&mut self) -> Result<Vec<u8>, TransportError> {
        self.inner.atr()
    }
    fn reset_epoch(&self) -> u64 {
        self.inner.reset_epoch()
    }
}

fn spec_of(generation: Generation, algorithm: Algorithm, t0: bool) -> CardSpec {
    let spec = card_spec(generation, algorithm, SERIAL);
    if t0 {
        spec
    } else {
        spec.with_t1()
    }
}

proptest! {
    #![proptest_config(config(192))]

    /// One answer of a real (simulated) card corrupted: the operation returns without
    /// panicking, and the library never sends the card anything that damages it — the card
    /// still does the operation when asked again.
    #[test]
    fn library_survives_one_corrupted_answer(
        op in prop::sample::select(OPS.to_vec()),
        generation in prop::sample::select(GENERATIONS.to_vec()),
        algorithm in prop::sample::select(ALGORITHMS.to_vec()),
        t0 in any::<bool>(),
        at in 0usize..40,
        corruption in corruption(),
    ) {
        let spec = spec_of(generation, algorithm, t0);
        let sim = if op == Op::Personalize {
            blank_sim_of(spec.clone())
        } else {
            personalized_sim_of(spec.clone())
        };
        let transport = Corrupting { inner: SimTransport::new(sim), at, corruption, sent: 0 };
        let mut card = Card::open(transport).unwrap();
        let _ = run_op(&mut card, op, generation);
        // a reader that cuts a response short makes the channel fail; the card stays as the
        // commands it executed left it
        let mut sim = card.into_transport().inner.into_card();
        sim.reset();
        let mut again = Card::open(SimTransport::new(sim)).unwrap();
        match op {
            Op::Personalize | Op::Read | Op::ReadVerified | Op::CheckValidity | Op::ReadPhoto
            | Op::PinStatus => {
                // nothing of these changes the data: personalization completes, the data is
                // the person's
                lifecycle::personalize(
                    &mut again,
                    &mut test_keys(),
                    &person(generation),
                    &PersonalizeOptions::default(),
                )
                .unwrap();
                let read = lifecycle::read_verified(&mut again, &mut test_keys(), &ReadOptions::default()).unwrap();
                let expected = person(generation);
                prop_assert_eq!(&read.holder, expected.holder());
                prop_assert_eq!(read.genuine, Some(true));
            }
            // blocking may have happened before the answer was corrupted; PIN operations may
            // have counted a try: the card is only required to answer
            _ => {
                let _ = lifecycle::pin_status(&mut again);
            }
        }
    }
}

/// A person record with every field either the fixture's or arbitrary text.
fn person_record_strategy() -> impl Strategy<Value = PersonRecord> {
    let text = || {
        prop_oneof![
            Just(None),
            "[0-9]{0,26}".prop_map(Some),
            "[0-9A-Z]{0,20}".prop_map(Some),
            "\\PC{0,20}".prop_map(Some),
        ]
    };
    (
        prop::sample::select(GENERATIONS.to_vec()),
        prop::collection::vec(text(), 13),
    )
        .prop_map(|(generation, fields)| {
            let mut r = person_record(generation);
            let slots: [&mut String; 13] = [
                &mut r.ssn,
                &mut r.name,
                &mut r.sex,
                &mut r.ethnicity,
                &mut r.birthplace,
                &mut r.birth_date,
                &mut r.card_number,
                &mut r.card_type,
                &mut r.generation,
                &mut r.issue_date,
                &mut r.expiry_date,
                &mut r.region,
                &mut r.initializing_body,
            ];
            for (slot, value) in slots.into_iter().zip(fields) {
                if let Some(v) = value {
                    *slot = v;
                }
            }
            r
        })
}

proptest! {
    #![proptest_config(config(512))]

    /// Validation never panics; a refusal names one of the record's fields; an accepted
    /// record encodes for its generation and decodes back to the same holder data.
    #[test]
    fn person_validation_never_panics(record in person_record_strategy()) {
        const FIELDS: [&str; 13] = [
            "ssn", "name", "sex", "ethnicity", "birthplace", "birth_date", "card_number",
            "card_type", "generation", "issue_date", "expiry_date", "region",
            "initializing_body",
        ];
        match record.validate() {
            Ok(p) => {
                let g = p.generation();
                let records = p.holder().to_records(g).unwrap();
                let values: Vec<(u8, Vec<u8>)> = records
                    .iter()
                    .map(|(t, tlv)| (*t, tlv[2..].to_vec()))
                    .collect();
                let borrowed: Vec<(u8, &[u8])> =
                    values.iter().map(|(t, v)| (*t, v.as_slice())).collect();
                let back = sscard::data::HolderData::from_records(g, &borrowed).unwrap();
                prop_assert_eq!(&back, p.holder());
            }
            Err(e) => {
                let field = e.field();
                prop_assert!(field.is_some_and(|f| FIELDS.contains(&f)), "{}", e);
            }
        }
    }

    /// Any text as a person record's JSON: parsed or refused, never a panic.
    #[test]
    fn person_json_never_panics(text in "\\PC{0,200}") {
        if let Ok(record) = PersonRecord::from_json(&text) {
            let _ = record.validate();
        }
    }
}

/// A command for the simulated card: raw, or one a terminal with the keys computes.
#[derive(Debug, Clone)]
enum Step {
    /// Raw bytes.
    Raw(Vec<u8>),
    /// Power off and on.
    Reset,
    /// GET CHALLENGE, then a correct EXTERNAL AUTHENTICATION with the role.
    Authenticate(KeyRole),
    /// GET CHALLENGE, then a command with a correct STKSSSE MAC (and enciphered PIN).
    Secured([u8; 4], Option<String>),
}

/// An APDU with a header the card knows, or noise.
fn apdu() -> impl Strategy<Value = Vec<u8>> {
    let header = prop_oneof![
        Just([0x00u8, 0xA4, 0x04, 0x00]),
        Just([0x00, 0xA4, 0x02, 0x00]),
        Just([0x00, 0xA4, 0x00, 0x00]),
        Just([0x00, 0xB2, 0x07, 0x28]),
        Just([0x00, 0xB2, 0x08, 0x30]),
        Just([0x00, 0xB2, 0x01, 0x2C]),
        Just([0x00, 0xDC, 0x02, 0x28]),
        Just([0x00, 0xDC, 0x09, 0x30]),
        Just([0x00, 0xB0, 0x87, 0x00]),
        Just([0x00, 0xD6, 0x88, 0x10]),
        Just([0x00, 0x84, 0x00, 0x00]),
        Just([0x00, 0x82, 0x00, 0x04]),
        Just([0x00, 0x88, 0x00, 0x00]),
        Just([0x00, 0x20, 0x00, 0x00]),
        Just([0x80, 0x5E, 0x01, 0x00]),
        Just([0x84, 0x24, 0x00, 0x01]),
        Just([0x80, 0xA8, 0x00, 0x00]),
        Just([0x00, 0xC0, 0x00, 0x00]),
        any::<[u8; 4]>(),
    ];
    let aid = prop_oneof![
        Just(sscard::profile::SSSE_AID.to_vec()),
        Just(hex::decode("A000000333010101").unwrap()),
        Just(b"1PAY.SYS.DDF01".to_vec()),
        Just(vec![0xEF, 0x07]),
        prop::collection::vec(any::<u8>(), 0..24),
    ];
    prop_oneof![
        5 => (header, aid, prop::option::of(any::<u8>())).prop_map(|(h, data, le)| {
            let mut apdu = h.to_vec();
            if !data.is_empty() {
                apdu.push(data.len() as u8);
                apdu.extend(&data);
            }
            apdu.extend(le);
            apdu
        }),
        1 => prop::collection::vec(any::<u8>(), 0..12),
    ]
}

fn step() -> impl Strategy<Value = Step> {
    let role = prop::sample::select(vec![
        KeyRole::Rkssse,
        KeyRole::Ukssse,
        KeyRole::Puk,
        KeyRole::Bk,
        KeyRole::Stkssse,
    ]);
    let secured = prop::sample::select(vec![
        [0x84u8, 0x24, 0x00, 0x00],
        [0x84, 0x24, 0x00, 0x01],
        [0x84, 0x1E, 0x00, 0x01],
        [0x84, 0x16, 0x00, 0x00],
    ]);
    prop_oneof![
        8 => apdu().prop_map(Step::Raw),
        1 => Just(Step::Reset),
        3 => role.prop_map(Step::Authenticate),
        1 => (secured, prop::option::of("[0-9]{4,16}")).prop_map(|(h, p)| Step::Secured(h, p)),
    ]
}

/// Sends one command; checks the card answered a status word.
fn send(sim: &mut SimCard, apdu: &[u8]) -> Vec<u8> {
    let response = sim.handle(apdu);
    assert!(
        response.len() >= 2,
        "no status word to {}",
        hex::encode_upper(apdu)
    );
    response
}

proptest! {
    #![proptest_config(config(256))]

    /// The simulated card never panics, always answers a status word, and keeps a valid image
    /// that survives JSON after every command.
    #[test]
    fn simulated_card_never_panics(
        generation in prop::sample::select(GENERATIONS.to_vec()),
        algorithm in prop::sample::select(ALGORITHMS.to_vec()),
        t0 in any::<bool>(),
        personalized in any::<bool>(),
        steps in prop::collection::vec(step(), 0..24),
    ) {
        let spec = spec_of(generation, algorithm, t0);
        let mut sim = if personalized {
            personalized_sim_of(spec.clone())
        } else {
            blank_sim_of(spec.clone())
        };
        // most interesting commands need SSSE
        send(&mut sim, &hex::decode("00A404000F7378312E73682EC9E7BBE1B1A3D5CF00").unwrap());
        for step in steps {
            match step {
                Step::Raw(apdu) => {
                    send(&mut sim, &apdu);
                }
                Step::Reset => sim.reset(),
                Step::Authenticate(role) => {
                    let answer = send(&mut sim, &[0x00, 0x84, 0x00, 0x00, 0x08]);
                    if answer.len() == 10 {
                        let apdu = external_auth_apdu(&spec, role, &answer[..8], [0x3C; 8]);
                        send(&mut sim, &apdu);
                    }
                }
                Step::Secured(header, new_pin) => {
                    let answer = send(&mut sim, &[0x00, 0x84, 0x00, 0x00, 0x08]);
                    if answer.len() == 10 {
                        let new_pin = new_pin.map(|p| pin(&p));
                        let apdu = secured_apdu(&spec, &answer[..8], header, new_pin.as_ref());
                        send(&mut sim, &apdu);
                    }
                }
            }
            sim.image().validate().unwrap();
            let json = sim.save_json().unwrap();
            prop_assert_eq!(&CardImage::from_json(&json).unwrap(), sim.image());
        }
    }

    /// The simulated PSAM never panics and always answers a status word.
    #[test]
    fn simulated_psam_never_panics(
        algorithm in prop::sample::select(ALGORITHMS.to_vec()),
        apdus in prop::collection::vec(
            prop_oneof![
                3 => apdu(),
                2 => (prop::sample::select(vec![0x60u8, 0x68, 0x48, 0x28, 0x07]),
                      prop::sample::select(vec![0x08u8, 0x0A, 0x10, 0x11, 0x12, 0x09]),
                      prop::collection::vec(any::<u8>(), 8..41))
                    .prop_map(|(usage, id, data)| with_lc([0xBF, 0xDE, usage, id], &data)),
                2 => (prop::sample::select(vec![0x00u8, 0x05, 0x07, 0x03, 0x01]),
                      prop::collection::vec(any::<u8>(), 1..40))
                    .prop_map(|(p1, data)| with_lc([0x80, 0xFA, p1, 0x00], &data)),
                1 => Just(hex::decode("00A4040006D15600000590").unwrap()),
            ],
            0..24,
        ),
    ) {
        let mut psam = sim_psam(algorithm, sscard::crypto::KeyLevel::National);
        for apdu in apdus {
            let response = psam.handle(&apdu);
            prop_assert!(response.len() >= 2);
        }
    }
}
