//! Shared helpers of the top-level tests: the test root keys (`fixtures/keys/test-keys.json`,
//! TEST KEYS ONLY), the fixture persons, simulated cards and PSAMs, and a recording transport.
//!
//! Every test target includes this module with `mod common;` and uses only part of it.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use sscard::crypto::{self, KeyLevel, Pin, SecretKey};
use sscard::data::{PersonRecord, Personalization, RegionCode};
use sscard::keyholder::{KeyFile, PsamKeyHolder, PsamLevels};
use sscard::keys::{KeyRole, RootKeys};
use sscard::lifecycle::{self, Card, PersonalizeOptions};
use sscard::profile::Generation;
use sscard::sim::{CardSpec, PsamSpec, SimCard, SimPsam, SimTransport};
use sscard::transport::{Transport, TransportError};
use sscard::Algorithm;

/// The version-2 test key file (national root keys, TEST KEYS ONLY).
pub const TEST_KEYS: &str = include_str!("../../fixtures/keys/test-keys.json");

/// The version-1 key file of sscard before the specification protocol (refused).
pub const LEGACY_V1_KEYS: &str = include_str!("../../fixtures/keys/legacy-v1-test-keys.json");

/// The ATR serial (historical bytes TA-TD) of most test cards.
pub const SERIAL: [u8; 4] = [0x2B, 0x11, 0x96, 0xEB];

/// The terminal number of the test PSAMs (12 digits, part 9 §5.3).
pub const TERMINAL_NUMBER: &str = "639900000042";

/// The test root keys.
pub fn root_keys() -> RootKeys {
    RootKeys::from_json(TEST_KEYS).unwrap()
}

/// A key holder over the test root keys.
pub fn test_keys() -> KeyFile {
    KeyFile::from_json(TEST_KEYS).unwrap()
}

/// The test key file with the roots of `roles` (by name, e.g. `"IRK"`) changed for every
/// algorithm: cards made with the test keys no longer match these roles.
pub fn keys_with_wrong(roles: &[&str]) -> KeyFile {
    let mut v: serde_json::Value = serde_json::from_str(TEST_KEYS).unwrap();
    for alg in ["3des", "sm4", "aes"] {
        for role in roles {
            let key = v["roots"][alg][*role].as_str().unwrap().to_owned();
            let flipped = if key.starts_with('0') { "1" } else { "0" };
            v["roots"][alg][*role] = serde_json::Value::String(format!("{flipped}{}", &key[1..]));
        }
    }
    KeyFile::from_json(&v.to_string()).unwrap()
}

/// The region of the test cards and of every fixture person: `639900`.
pub fn region() -> RegionCode {
    "639900".parse().unwrap()
}

/// The fixture person of each generation, as given.
pub fn person_record(generation: Generation) -> PersonRecord {
    let text = match generation {
        Generation::V1 => include_str!("../../fixtures/persons/li-si-1.json"),
        Generation::V2 => include_str!("../../fixtures/persons/zhang-san-2.json"),
        Generation::V3 => include_str!("../../fixtures/persons/wang-wu-3.json"),
    };
    PersonRecord::from_json(text).unwrap()
}

/// The fixture person of `generation`, validated.
pub fn person(generation: Generation) -> Personalization {
    person_record(generation).validate().unwrap()
}

/// A PIN from its digits.
pub fn pin(digits: &str) -> Pin {
    Pin::new(digits).unwrap()
}

/// The spec of a T=0 test card of region [`region`] with ATR serial `serial`.
pub fn card_spec(generation: Generation, algorithm: Algorithm, serial: [u8; 4]) -> CardSpec {
    CardSpec::new(generation, algorithm, region(), serial)
}

/// A blank (initialized, not personalized) simulated card of `spec`, with the card keys of the
/// test root keys.
pub fn blank_sim_of(spec: CardSpec) -> SimCard {
    SimCard::blank(spec, &root_keys()).unwrap()
}

/// A blank T=0 simulated card.
pub fn blank_sim(generation: Generation, algorithm: Algorithm, serial: [u8; 4]) -> SimCard {
    blank_sim_of(card_spec(generation, algorithm, serial))
}

/// A blank T=0 simulated card opened through the in-process transport.
pub fn blank_card(
    generation: Generation,
    algorithm: Algorithm,
    serial: [u8; 4],
) -> Card<SimTransport<SimCard>> {
    Card::open(SimTransport::new(blank_sim(generation, algorithm, serial))).unwrap()
}

/// A simulated card of `spec` personalized by the library with the fixture person of its
/// generation (initial PIN `123456`), powered afresh.
pub fn personalized_sim_of(spec: CardSpec) -> SimCard {
    let generation = spec.generation;
    let mut card = Card::open(SimTransport::new(blank_sim_of(spec))).unwrap();
    lifecycle::personalize(
        &mut card,
        &mut test_keys(),
        &person(generation),
        &PersonalizeOptions::default(),
    )
    .unwrap();
    let mut sim = card.into_transport().into_card();
    sim.reset();
    sim
}

/// A personalized T=0 simulated card ([`personalized_sim_of`]).
pub fn personalized_sim(generation: Generation, algorithm: Algorithm, serial: [u8; 4]) -> SimCard {
    personalized_sim_of(card_spec(generation, algorithm, serial))
}

/// A personalized T=0 simulated card opened through the in-process transport.
pub fn personalized_card(
    generation: Generation,
    algorithm: Algorithm,
    serial: [u8; 4],
) -> Card<SimTransport<SimCard>> {
    Card::open(SimTransport::new(personalized_sim(
        generation, algorithm, serial,
    )))
    .unwrap()
}

/// The spec of a test PSAM of `algorithm` holding every SSSE key at `level` (keys below the
/// national level are those of region [`region`]).
pub fn psam_spec(algorithm: Algorithm, level: KeyLevel) -> PsamSpec {
    PsamSpec::new(algorithm, TERMINAL_NUMBER)
        .with_region(region())
        .with_all_levels(level)
}

/// A simulated PSAM ([`psam_spec`]).
pub fn sim_psam(algorithm: Algorithm, level: KeyLevel) -> SimPsam {
    SimPsam::from_root_keys(&root_keys(), &psam_spec(algorithm, level)).unwrap()
}

/// A PSAM key holder over a simulated PSAM in its own in-process reader. The key holder first
/// guesses national keys and finds the PSAM's level by part 9 §8's fallback.
pub fn psam_key_holder(
    algorithm: Algorithm,
    level: KeyLevel,
) -> PsamKeyHolder<SimTransport<SimPsam>> {
    PsamKeyHolder::open(SimTransport::new(sim_psam(algorithm, level))).unwrap()
}

/// Like [`psam_key_holder`], told the PSAM's level in advance (no fallback round trips).
pub fn psam_key_holder_at(
    algorithm: Algorithm,
    level: KeyLevel,
) -> PsamKeyHolder<SimTransport<SimPsam>> {
    psam_key_holder(algorithm, level).with_levels(PsamLevels::all(level))
}

/// The card key of `role` on the card of `spec` (the test roots diversified by its factors).
pub fn card_key(spec: &CardSpec, role: KeyRole) -> SecretKey {
    root_keys()
        .card_key(spec.algorithm, role, &spec.factors())
        .unwrap()
        .unwrap()
}

/// `header ‖ Lc ‖ data` (a short case 3 command).
pub fn with_lc(header: [u8; 4], data: &[u8]) -> Vec<u8> {
    let mut apdu = header.to_vec();
    apdu.push(u8::try_from(data.len()).unwrap());
    apdu.extend_from_slice(data);
    apdu
}

/// The EXTERNAL AUTHENTICATION command (`0082 00 <key id> 10 <auth> <original>`) with the card
/// key of `role` for the card's `challenge` (part 4 §8.4, §9.3; part 5 §6.4).
pub fn external_auth_apdu(
    spec: &CardSpec,
    role: KeyRole,
    challenge: &[u8],
    original: [u8; 8],
) -> Vec<u8> {
    let auth =
        crypto::authenticate(spec.algorithm, &card_key(spec, role), challenge, &original).unwrap();
    let mut data = auth.to_vec();
    data.extend_from_slice(&original);
    with_lc([0x00, 0x82, 0x00, role.card_key_id().unwrap()], &data)
}

/// A maintenance command (`header Lc data ‖ MAC`) secured under the STKSSSE process key of the
/// card's `challenge` ([design] D9, D12): `plain_pin`, if any, enciphered as `LD ‖ PIN` (part 4
/// §8.3), then the MAC over `header Lc ‖ data` (part 4 §8.2).
pub fn secured_apdu(
    spec: &CardSpec,
    challenge: &[u8],
    header: [u8; 4],
    plain_pin: Option<&Pin>,
) -> Vec<u8> {
    let alg = spec.algorithm;
    let session = crypto::process_key(alg, &card_key(spec, KeyRole::Stkssse), challenge).unwrap();
    let data = match plain_pin {
        Some(pin) => crypto::encipher_data(alg, &session, &pin.to_bcd())
            .unwrap()
            .to_vec(),
        None => Vec::new(),
    };
    let [cla, ins, p1, p2] = header;
    let input = sscard::apdu::commands::mac_input(cla, ins, p1, p2, &data);
    let mac = crypto::mac(alg, &session, &input).unwrap();
    let mut full = data;
    full.extend_from_slice(&mac);
    with_lc(header, &full)
}

/// The status word ending a raw response.
pub fn sw_of(response: &[u8]) -> u16 {
    match response {
        [.., a, b] => u16::from_be_bytes([*a, *b]),
        _ => panic!("a response of {} bytes has no status word", response.len()),
    }
}

/// One raw exchange seen by [`Recording`]: the command and the card's response (empty when
/// the transport failed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exchange {
    /// The command APDU.
    pub command: Vec<u8>,
    /// The response APDU (data ‖ SW1 SW2), empty on a transport error.
    pub response: Vec<u8>,
}

impl Exchange {
    /// The INS byte.
    pub fn ins(&self) -> u8 {
        self.command[1]
    }

    /// The status word of the response (0 on a transport error).
    pub fn sw(&self) -> u16 {
        if self.response.len() < 2 {
            0
        } else {
            sw_of(&self.response)
        }
    }
}

/// A transport wrapper that records every raw exchange.
pub struct Recording<T> {
    /// The wrapped transport.
    pub inner: T,
    /// Every exchange, in order.
    pub log: Vec<Exchange>,
}

impl<T: Transport> Recording<T> {
    /// Wraps `inner`.
    pub fn new(inner: T) -> Self {
        Recording {
            inner,
            log: Vec::new(),
        }
    }

    /// Every command sent, in order.
    pub fn commands(&self) -> Vec<Vec<u8>> {
        self.log.iter().map(|e| e.command.clone()).collect()
    }
}

impl<T: Transport> Transport for Recording<T> {
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, TransportError> {
        let result = self.inner.transmit(command);
        self.log.push(Exchange {
            command: command.to_vec(),
            response: result.clone().unwrap_or_default(),
        });
        result
    }
    fn atr(&mut self) -> Result<Vec<u8>, TransportError> {
        self.inner.atr()
    }
    fn reset_epoch(&self) -> u64 {
        self.inner.reset_epoch()
    }
    fn begin_transaction(&mut self) -> Result<(), TransportError> {
        self.inner.begin_transaction()
    }
    fn end_transaction(&mut self) -> Result<(), TransportError> {
        self.inner.end_transaction()
    }
}

/// A simulated card in a recording in-process reader.
pub type RecordedSim = Recording<SimTransport<SimCard>>;

/// Opens `sim` in a recording reader.
pub fn recorded(sim: SimCard) -> Card<RecordedSim> {
    Card::open(Recording::new(SimTransport::new(sim))).unwrap()
}
