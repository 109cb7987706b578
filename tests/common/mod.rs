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

/// A transport wrapper that records every raw command APDU, for replay tests.
pub struct Recording<T> {
    /// The wrapped transport.
    pub inner: T,
    /// Every command sent, in order.
    pub sent: Vec<Vec<u8>>,
}

impl<T: sscard::transport::Transport> Recording<T> {
    /// Wraps `inner`.
    pub fn new(inner: T) -> Self {
        Recording {
            inner,
            sent: Vec::new(),
        }
    }
}

impl<T: sscard::transport::Transport> sscard::transport::Transport for Recording<T> {
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, sscard::transport::TransportError> {
        self.sent.push(command.to_vec());
        self.inner.transmit(command)
    }
    fn atr(&mut self) -> Result<Vec<u8>, sscard::transport::TransportError> {
        self.inner.atr()
    }
    fn reset_epoch(&self) -> u64 {
        self.inner.reset_epoch()
    }
}

/// A personalized (not yet activated) card of `generation`, recorded.
pub fn personalized_card(
    generation: Generation,
    algorithm: Algorithm,
    serial: [u8; 4],
) -> Card<Recording<SimTransport<SimCard>>> {
    let transport = Recording::new(SimTransport::new(blank_sim(generation, algorithm, serial)));
    let mut card = Card::open(transport).unwrap();
    sscard::lifecycle::personalize(
        &mut card,
        &mut test_keys(),
        &person(generation),
        &sscard::lifecycle::PersonalizeOptions::default(),
    )
    .unwrap();
    card
}

/// Sends a raw APDU (hex) and returns the status word.
pub fn raw_sw<T: sscard::transport::Transport>(card: &mut Card<T>, apdu: &[u8]) -> u16 {
    let response = card.channel_mut().transport_mut().transmit(apdu).unwrap();
    let n = response.len();
    u16::from_be_bytes([response[n - 2], response[n - 1]])
}
