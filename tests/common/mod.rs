//! Shared helpers of the top-level tests: test keys, fixture persons, blank simulated cards.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use sscard::crypto::Pin;
use sscard::data::{PersonRecord, Personalization, RegionCode};
use sscard::keyholder::KeyFile;
use sscard::lifecycle::Card;
use sscard::profile::Generation;
use sscard::sim::{CardSpec, SimCard, SimTransport};
use sscard::Algorithm;

/// The development master keys of `fixtures/keys/test-keys.json` (TEST KEYS ONLY).
pub fn test_keys() -> KeyFile {
    KeyFile::from_json(include_str!("../../fixtures/keys/test-keys.json")).unwrap()
}

/// The fixture person of each generation.
pub fn person_record(generation: Generation) -> PersonRecord {
    let text = match generation {
        Generation::V1 => include_str!("../../fixtures/persons/li-si-1.json"),
        Generation::V2 => include_str!("../../fixtures/persons/zhang-san-2.json"),
        Generation::V3 => include_str!("../../fixtures/persons/wang-wu-3.json"),
    };
    PersonRecord::from_json(text).unwrap()
}

/// The validated personalization data of the fixture person of `generation`.
pub fn person(generation: Generation) -> Personalization {
    person_record(generation).validate().unwrap()
}

/// A blank simulated card of the test region, made by the "manufacturer" with the test keys.
pub fn blank_sim(generation: Generation, algorithm: Algorithm, serial: [u8; 4]) -> SimCard {
    let spec = CardSpec::new(generation, algorithm, region(), serial);
    SimCard::blank(spec, &mut test_keys()).unwrap()
}

/// The region of the fixture persons' cards.
pub fn region() -> RegionCode {
    "639900".parse().unwrap()
}

/// A blank simulated card opened through the in-process transport.
pub fn blank_card(
    generation: Generation,
    algorithm: Algorithm,
    serial: [u8; 4],
) -> Card<SimTransport<SimCard>> {
    Card::open(SimTransport::new(blank_sim(generation, algorithm, serial))).unwrap()
}

/// Shorthand for a PIN.
pub fn pin(digits: &str) -> Pin {
    Pin::new(digits).unwrap()
}
