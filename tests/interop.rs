//! sscard against implementations of the specification written by someone else from the same
//! documents, without sscard's code (`crates/cleanroom/*`): sscard's library drives the
//! clean-room card, the clean-room terminal drives sscard's simulated card. Every operation of
//! the issue "Speak the national card specification" in both directions: read, validity check,
//! personalization writes, PIN verify/change/reload/unblock, application and card block.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;

use cleanroom_card::{Algorithm as CrAlgorithm, Card as CrCard, CardConfig, SpecVersion};
use cleanroom_terminal::{PinStatus as CrPinStatus, Reader, ReaderError, Terminal};
use sscard::crypto::Pin;
use sscard::data::{PersonRecord, RegionCode};
use sscard::keyholder::KeyFile;
use sscard::keys::RootKeys;
use sscard::lifecycle::{self, Card, PersonalizeOptions, PinStatus, ReadOptions, Verdict};
use sscard::profile::Generation;
use sscard::sim::{CardSpec, SimCard};
use sscard::transport::{Transport, TransportError};
use sscard::{Algorithm, Error};

const KEYS: &str = include_str!("../fixtures/keys/test-keys.json");

fn roots(alg: &str) -> BTreeMap<String, Vec<u8>> {
    let v: serde_json::Value = serde_json::from_str(KEYS).unwrap();
    v["roots"][alg]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), hex::decode(v.as_str().unwrap()).unwrap()))
        .collect()
}

/// The clean-room card behind sscard's transport trait.
struct CleanroomTransport(CrCard);

impl Transport for CleanroomTransport {
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, TransportError> {
        Ok(self.0.transmit(command))
    }
    fn atr(&mut self) -> Result<Vec<u8>, TransportError> {
        Ok(self.0.atr())
    }
    fn reset_epoch(&self) -> u64 {
        0
    }
}

/// sscard's simulated card behind the clean-room terminal's reader trait. The card runs T=0:
/// this reader does what a reader driver does for T=0 cards (part 2 §9.3.2): `61xx` is followed
/// by GET RESPONSE, `6Cxx` by the command again with the right Le.
struct SimReader(SimCard);

impl Reader for SimReader {
    fn transmit(&mut self, apdu: &[u8]) -> Result<Vec<u8>, ReaderError> {
        let mut response = self.0.handle(apdu);
        if let [.., 0x6C, le] = response[..] {
            let mut again = apdu.to_vec();
            if apdu.len() == 5 || apdu.len() == 4 {
                again.truncate(4);
                again.push(le);
            } else if let Some(last) = again.last_mut() {
                *last = le;
            }
            response = self.0.handle(&again);
        }
        let mut data = Vec::new();
        while let [.., 0x61, n] = response[..] {
            data.extend_from_slice(&response[..response.len() - 2]);
            response = self.0.handle(&[0x00, 0xC0, 0x00, 0x00, n]);
        }
        data.extend_from_slice(&response);
        Ok(data)
    }
    fn atr(&mut self) -> Result<Vec<u8>, ReaderError> {
        Ok(self.0.atr())
    }
}

const CASES: [(Algorithm, Generation); 6] = [
    (Algorithm::Tdes, Generation::V1),
    (Algorithm::Tdes, Generation::V2),
    (Algorithm::Tdes, Generation::V3),
    (Algorithm::Sm4, Generation::V1),
    (Algorithm::Sm4, Generation::V2),
    (Algorithm::Sm4, Generation::V3),
];

fn person(generation: Generation) -> sscard::data::Personalization {
    let g = generation.number();
    PersonRecord::from_json(&format!(
        r#"{{"ssn":"111111198101011110","name":"张三","sex":"1","ethnicity":"01",
        "birthplace":"639900","birth_date":"19810101","card_number":"KD5578904",
        "generation":"{g}","issue_date":"20150711","expiry_date":"20350711","region":"519900",
        "initializing_body":"915600000251990051990001"}}"#
    ))
    .unwrap()
    .validate()
    .unwrap()
}

#[test]
fn sscard_library_drives_the_cleanroom_card() {
    for (alg, generation) in CASES {
        let what = format!("{alg} {generation}");
        let card = CrCard::new(CardConfig {
            algorithm: match alg {
                Algorithm::Tdes => CrAlgorithm::Des,
                _ => CrAlgorithm::Sm4,
            },
            version: match generation {
                Generation::V1 => SpecVersion::V1,
                Generation::V2 => SpecVersion::V2,
                Generation::V3 => SpecVersion::V3,
            },
            region: "519900".into(),
            atr_serial: [0x00, 0x00, 0x01, 0xAC],
            card_serial: [0x10, 0x00, 0x0B, 0x26],
            roots: roots(alg.name()),
        })
        .unwrap();
        let mut card = Card::open(CleanroomTransport(card)).unwrap();
        let mut keys = KeyFile::from_json(KEYS).unwrap();

        // personalization writes (and the initial PIN by reload)
        let report = lifecycle::personalize(
            &mut card,
            &mut keys,
            &person(generation),
            &PersonalizeOptions::default(),
        )
        .unwrap();
        assert!(!report.already_done, "{what}");
        assert_eq!(
            report.card_id.to_string(),
            "519900D15600000510000B26FFFFFFFF"
        );
        // read with internal authentication (and RKSSSE on 3.0)
        let data = lifecycle::read_verified(&mut card, &mut keys, &ReadOptions::default()).unwrap();
        assert_eq!(data.genuine, Some(true), "{what}");
        assert_eq!(
            data.basic_line(),
            format!(
                "519900|111111198101011110|KD5578904|519900D15600000510000B26FFFFFFFF|张三|00814A444686605199000001AC|{}|20150711|20350711|||",
                generation.spec_version()
            )
        );
        match generation {
            Generation::V3 => assert!(matches!(
                lifecycle::read(&mut card),
                Err(Error::ReadKeyRequired)
            )),
            _ => assert_eq!(lifecycle::read(&mut card).unwrap().holder, data.holder),
        }
        // the validity check of part 7 §5.4
        let (verdict, _) =
            lifecycle::check_validity(&mut card, &mut keys, &Default::default()).unwrap();
        assert_eq!(
            verdict,
            Verdict::Valid {
                pin: PinStatus::Required { tries_left: 3 }
            },
            "{what}"
        );
        // activation, PIN verify, change, reload, unblock
        let holder_pin = Pin::new("975310").unwrap();
        lifecycle::activate_verified(&mut card, &mut keys, &holder_pin, &Default::default())
            .unwrap();
        assert!(matches!(
            lifecycle::verify_pin(&mut card, &Pin::initial()),
            Err(Error::WrongPin { tries_left: 2 })
        ));
        lifecycle::verify_pin(&mut card, &holder_pin).unwrap();
        let changed = Pin::new("8642").unwrap();
        lifecycle::change_pin(&mut card, &holder_pin, &changed).unwrap();
        for left in [2, 1] {
            assert!(matches!(
                lifecycle::verify_pin(&mut card, &holder_pin),
                Err(Error::WrongPin { tries_left }) if tries_left == left
            ));
        }
        assert!(matches!(
            lifecycle::verify_pin(&mut card, &holder_pin),
            Err(Error::PinBlocked)
        ));
        lifecycle::unblock_pin(&mut card, &mut keys).unwrap();
        lifecycle::verify_pin(&mut card, &changed).unwrap();
        let reloaded = Pin::new("13579246").unwrap();
        lifecycle::reload_pin(&mut card, &mut keys, &reloaded).unwrap();
        lifecycle::verify_pin(&mut card, &reloaded).unwrap();
        // blocking a lost card
        lifecycle::block_application(&mut card, &mut keys).unwrap();
        assert!(matches!(
            lifecycle::read_verified(&mut card, &mut keys, &ReadOptions::default()),
            Err(Error::ApplicationBlocked)
        ));
    }
}

#[test]
fn sscard_library_blocks_the_cleanroom_card() {
    let card = CrCard::new(CardConfig {
        algorithm: CrAlgorithm::Sm4,
        version: SpecVersion::V3,
        region: "330100".into(),
        atr_serial: [0x12, 0x34, 0x56, 0x78],
        card_serial: [0x00, 0x00, 0x00, 0x09],
        roots: roots("sm4"),
    })
    .unwrap();
    let mut card = Card::open(CleanroomTransport(card)).unwrap();
    let mut keys = KeyFile::from_json(KEYS).unwrap();
    lifecycle::block_card(&mut card, &mut keys).unwrap();
    assert!(matches!(
        lifecycle::read(&mut card),
        Err(Error::CardBlocked)
    ));
}

fn sim_card(alg: Algorithm, generation: Generation) -> SimCard {
    let keys = RootKeys::from_json(KEYS).unwrap();
    let spec = CardSpec::new(
        generation,
        alg,
        RegionCode::parse("519900").unwrap(),
        [0x00, 0x00, 0x01, 0xAC],
    )
    .with_card_serial([0x10, 0x00, 0x0B, 0x26]);
    SimCard::blank(spec, &keys).unwrap()
}

#[test]
fn cleanroom_terminal_drives_the_sscard_simulated_card() {
    for (alg, generation) in CASES {
        let what = format!("{alg} {generation}");
        let mut t = Terminal::new(SimReader(sim_card(alg, generation)), roots(alg.name()));
        let version = generation.spec_version();
        let mut items: Vec<(u8, Vec<u8>)> = vec![
            (0x02, b"3".to_vec()),
            (0x03, version.as_bytes().to_vec()),
            (0x04, hex::decode("915600000251990051990001").unwrap()),
            (0x05, hex::decode("20150711").unwrap()),
            (0x06, hex::decode("20350711").unwrap()),
            (0x07, b"KD5578904".to_vec()),
            (0x08, b"111111198101011110".to_vec()),
            (0x09, vec![0xD5, 0xC5, 0xC8, 0xFD]),
            (0x0A, b"1".to_vec()),
            (0x0B, vec![0x01]),
            (0x0C, hex::decode("639900").unwrap()),
            (0x0D, hex::decode("19810101").unwrap()),
        ];
        if generation != Generation::V1 {
            items.push((0x4E, Vec::new()));
        }
        t.personalize(&items)
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        let line = t.basic_line().unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(
            line,
            format!(
                "519900|111111198101011110|KD5578904|519900D15600000510000B26{}|张三|{}|{version}|20150711|20350711|||",
                hex::encode_upper(&t.reader().0.image().card_id().unwrap_or_default()[12..]),
                hex::encode_upper(sscard::atr::historical_bytes(&t.reader().0.atr()).unwrap())
            ),
            "{what}"
        );
        t.check_validity("20261201")
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        t.change_pin("123456", "975310").unwrap();
        assert_eq!(t.verify_pin("975310").unwrap(), CrPinStatus::Accepted);
        assert!(matches!(
            t.verify_pin("000000").unwrap(),
            CrPinStatus::Rejected { tries_left: 2 }
        ));
        t.reload_pin("24680")
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(t.verify_pin("24680").unwrap(), CrPinStatus::Accepted);
        t.unblock_pin().unwrap_or_else(|e| panic!("{what}: {e}"));
        t.block_application()
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        assert!(t.basic_line().is_err());
        // the library sees what the clean-room terminal did
        let SimReader(sim) = t.into_reader();
        assert!(sim.image().ssse_blocked, "{what}");
    }
}
