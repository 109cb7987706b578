//! The properties sscard is fuzzed for, shared by the cargo-fuzz targets (`fuzz/fuzz_targets`)
//! and the bounded property tests (`tests/properties.rs`, which includes this file as a module).
//!
//! Every `check_*` function takes arbitrary bytes and panics only when a property is broken:
//!
//! - [`check_parsers`]: the response, command, status-word, BER-TLV, FCI and SIMPLE-TLV record
//!   parsers, the data-element codecs and the typed EF05/EF06 data never panic, and what they
//!   accept round-trips;
//! - [`check_replay_read`] / [`check_replay_personalize`]: the library's reading flows (read,
//!   validity check, PIN status, EF07/EF08, the bank account, the HSM basic read) and its writing
//!   flows (personalization, activation, PIN change/reload/unblock, blocking, EF07/EF08 writes,
//!   the HSM PIN flows) against a [`ReplayCard`], a fake card answering every command with the
//!   next response of the input, never panic, always end, send only well-formed APDUs, and never
//!   write a card number before the rest of its personalization ([design] D15);
//! - [`check_sim_handler`]: the simulated card (or PSAM), in a chosen state, fed a sequence of
//!   APDUs, authentications, MAC-secured commands, resets and power losses, always answers a
//!   status word (nothing only while torn) of at most 258 bytes, its image still serializes to
//!   JSON and loads back equal, and without a successful authentication its files and block
//!   flags never change;
//! - [`check_person_record`]: person records (JSON, or the cells of a CSV-like row) never panic
//!   the validation, and validated data round-trips through the card records and JSON.
//!
//! The input formats are documented on each function; `fuzz/examples/make_seeds.rs` writes the
//! seed corpora in `fixtures/fuzz/` with the encoders here.
#![forbid(unsafe_code)]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeSet, HashMap};
use std::sync::{Mutex, OnceLock};

use sscard_core::apdu::{commands, Command, Response, StatusWord};
use sscard_core::codec;
use sscard_core::crypto::{self, Pin, SecretKey};
use sscard_core::data::{
    BcdDate, CardIdentificationCode, CardIssuingData, HolderData, Name, PersonRecord,
    Personalization, RegionCode,
};
use sscard_core::keyholder::{CardContext, KeyFile, KeyHolder, KeyHolderError, SecureMessage};
use sscard_core::keys::{KeyRole, RootKeys};
use sscard_core::lifecycle::{
    self, hsm, ActivateOptions, Addressing, Card, PersonalizeOptions, ReadOptions, ValidityPolicy,
};
use sscard_core::profile::fci::Fci;
use sscard_core::profile::{self, Ef, Generation};
use sscard_core::tlv;
use sscard_core::transport::{Transport, TransportError};
use sscard_core::Algorithm;
use sscard_sim::{
    CardImage, CardSpec, FinancialApp, PsamSpec, SimCard, SimPsam, SimTransport, Tear,
};

/// libsscard's string parsers (the fuzz target `ffi_strings`).
pub mod ffi_strings;

/// The version-2 test key file (TEST KEYS ONLY).
pub const TEST_KEYS: &str = include_str!("../../fixtures/keys/test-keys.json");

/// The fixture persons, one per generation (1.0, 2.0, 3.0).
pub const PERSONS: [&str; 3] = [
    include_str!("../../fixtures/persons/li-si-1.json"),
    include_str!("../../fixtures/persons/zhang-san-2.json"),
    include_str!("../../fixtures/persons/wang-wu-3.json"),
];

/// The ATR serial (historical bytes TA-TD) of every simulated card here.
pub const SERIAL: [u8; 4] = [0x00, 0xBF, 0x7C, 0x7A];

/// The region of the fixture persons' cards.
pub const REGION: &str = "639900";

/// The PIN the holder of an activated card chose.
pub const ACTIVATED_PIN: &str = "258036";

/// The PIN the writing flows change to or reload.
pub const NEW_PIN: &str = "604917";

/// "Today" for the validity check.
pub const TODAY: &str = "20261123";

/// The bank account of the simulated cards with a financial application.
pub const PAN: &str = "6217000010001234567";

/// The seeds of `replay_read` and `replay_personalize` that are recorded sessions of a
/// simulated card which succeeded: replayed, they succeed again.
pub const SUCCEEDING_SEEDS: &[&str] = &[
    "read-v1-free",
    "read-v2-free",
    "read-v2-keys",
    "read-v2-t1",
    "read-v2-select-ef",
    "read-v2-atr",
    "read-v2-reset",
    "read-v3-keys",
    "validity-v2",
    "pin-status-v3",
    "photo-v3",
    "fingerprint-v2",
    "bank-account",
    "hsm-basic-v3",
    "personalize-v1-3des",
    "personalize-v2-sm4",
    "personalize-v3-3des-t1",
    "personalize-v2-resume",
    "personalize-v2-reset",
    "personalize-v3-already-done",
    "personalize-v2-overwrite",
    "personalize-v2-no-read-back",
    "activate-v2",
    "change-pin-v3",
    "reload-pin-v2",
    "unblock-pin-v3",
    "application-block-v2",
    "card-block-v3",
    "write-photo-v3",
    "hsm-reload-v2",
];

const GENERATIONS: [Generation; 3] = [Generation::V1, Generation::V2, Generation::V3];
const ALGORITHMS: [Algorithm; 2] = [Algorithm::Tdes, Algorithm::Sm4];

/// The test key file as a key holder.
pub fn test_keys() -> KeyFile {
    KeyFile::from_json(TEST_KEYS).expect("fixtures/keys/test-keys.json")
}

/// The test keys as a key holder whose random numbers (the original data of authentications)
/// are a counter: a recorded session replays exactly, INTERNAL AUTHENTICATION included.
pub struct FuzzKeys {
    keys: KeyFile,
    counter: u64,
}

/// The test keys with deterministic random numbers.
pub fn fuzz_keys() -> FuzzKeys {
    FuzzKeys {
        keys: test_keys(),
        counter: 0,
    }
}

impl KeyHolder for FuzzKeys {
    fn supports(&self, alg: Algorithm) -> bool {
        self.keys.supports(alg)
    }

    fn random(&mut self) -> Result<[u8; 8], KeyHolderError> {
        self.counter = self.counter.wrapping_add(0x9E37_79B9_7F4A_7C15);
        Ok(self.counter.to_be_bytes())
    }

    fn authenticate(
        &mut self,
        card: &CardContext,
        role: KeyRole,
        process_factor: &[u8],
        original: &[u8; 8],
    ) -> Result<[u8; 8], KeyHolderError> {
        self.keys.authenticate(card, role, process_factor, original)
    }

    fn secure_message(
        &mut self,
        card: &CardContext,
        role: KeyRole,
        challenge: &[u8],
        header: [u8; 4],
        new_pin: Option<&Pin>,
    ) -> Result<SecureMessage, KeyHolderError> {
        self.keys
            .secure_message(card, role, challenge, header, new_pin)
    }
}

/// The test root keys.
pub fn root_keys() -> RootKeys {
    RootKeys::from_json(TEST_KEYS).expect("fixtures/keys/test-keys.json")
}

/// The validated fixture person `index` (0: 1.0, 1: 2.0, 2: 3.0; taken modulo 3).
pub fn fixture_person(index: usize) -> Personalization {
    let text = PERSONS[index % PERSONS.len()];
    PersonRecord::from_json(text)
        .and_then(|r| r.validate())
        .expect("fixture person")
}

fn generation_index(g: Generation) -> usize {
    GENERATIONS.iter().position(|x| *x == g).unwrap_or(0)
}

// ---------------------------------------------------------------------------------------------
// Parsers
// ---------------------------------------------------------------------------------------------

/// BER-TLV tags the library looks for in FCIs and in the financial application's records.
const BER_TAGS: [&[u8]; 8] = [
    &[0x6F],
    &[0x84],
    &[0x88],
    &[0xA5],
    &[0x9F, 0x0C],
    &[0x5A],
    &[0x94],
    &[0x9F, 0x38],
];

/// Response, command and status-word parsing; BER-TLV and FCI; the element codecs of every
/// data item; the BCD types; the typed EF05/EF06 data on whatever records parse. Nothing may
/// panic, and what parses re-encodes to what it came from (or to an encoding that parses to
/// the same thing).
pub fn check_parsers(data: &[u8]) {
    if let Ok(response) = Response::parse(data) {
        assert_eq!(response.to_bytes(), data, "Response parse / to_bytes");
        let sw = response.sw();
        assert_eq!(
            StatusWord::from(u16::from(sw)),
            sw,
            "StatusWord u16 round trip"
        );
        let [a, b] = sw.to_bytes();
        assert_eq!(
            StatusWord::from_bytes(a, b),
            sw,
            "StatusWord bytes round trip"
        );
        let _ = sw.description();
    }
    if let Ok(command) = Command::parse(data) {
        let bytes = command.to_bytes().expect("a parsed command encodes");
        let again = Command::parse(&bytes).expect("an encoded command parses");
        assert_eq!(again.header(), command.header());
        assert_eq!(again.data(), command.data());
        assert_eq!(again.le(), command.le());
    }
    for tag in BER_TAGS {
        let _ = tlv::find_ber(data, tag);
    }
    let _ = tlv::parse_dol(data);
    if let Ok(fci) = Fci::parse(data) {
        if let Some(byte) = fci.algorithm {
            let _ = Algorithm::from_byte(byte);
        }
    }
    let _ = codec::decode_an("fuzz", data);
    let _ = codec::decode_gbk("fuzz", data);
    let _ = codec::decode_cn("fuzz", data);
    let _ = codec::from_gbk("fuzz", data);
    let _ = Name::from_parts(data, data.get(..data.len() / 2));
    if let Ok(pin) = Pin::from_bcd(data) {
        let again = Pin::from_bcd(&pin.to_bcd()).expect("an encoded PIN decodes");
        assert!(again.ct_eq(&pin), "PIN cn round trip");
    }
    if let Ok(date) = BcdDate::from_bcd(data) {
        assert_eq!(
            BcdDate::from_bcd(&date.to_bcd()).ok(),
            Some(date),
            "BCD date round trip"
        );
    }
    if let Ok(region) = RegionCode::from_bcd(data) {
        assert_eq!(
            RegionCode::from_bcd(&region.to_bcd()).ok(),
            Some(region),
            "region round trip"
        );
    }
    if let Ok(id) = CardIdentificationCode::from_slice(data) {
        assert_eq!(id.to_bytes().as_slice(), data, "card identification code");
    }
    check_element_codecs(data);
    check_records(data);
    if let Some((_, rest)) = data.split_first() {
        check_records(rest);
    }
}

/// Every data item's decoder on `value`; a decoded value encodes to the item's length and
/// decodes to itself.
fn check_element_codecs(value: &[u8]) {
    for g in GENERATIONS {
        for ef in Ef::RECORD_FILES {
            for spec in profile::records(g, ef) {
                let Ok(decoded) = codec::decode_value(spec, value) else {
                    continue;
                };
                let Ok(encoded) = codec::encode_value(spec, &decoded) else {
                    continue;
                };
                assert_eq!(
                    encoded.len(),
                    spec.len,
                    "{} encodes to its length",
                    spec.field
                );
                let again = codec::decode_value(spec, &encoded)
                    .unwrap_or_else(|e| panic!("{}: re-encoded value: {e}", spec.field));
                assert_eq!(again, decoded, "{} round trip", spec.field);
            }
        }
    }
}

/// The `(tag, full TLV)` records of a `to_records` concatenated, as a card stores them.
fn concat_records(records: &[(u8, Vec<u8>)]) -> Vec<u8> {
    records
        .iter()
        .flat_map(|(_, tlv)| tlv.iter().copied())
        .collect()
}

fn check_records(data: &[u8]) {
    let Ok(records) = tlv::parse_simple(data) else {
        return;
    };
    for generation in GENERATIONS {
        if let Ok(issuing) = CardIssuingData::from_records(generation, &records) {
            if let Ok(encoded) = issuing.to_records(generation) {
                let bytes = concat_records(&encoded);
                let borrowed = tlv::parse_simple(&bytes).expect("encoded records parse");
                let back = CardIssuingData::from_records(generation, &borrowed)
                    .expect("re-encoded EF05 records parse");
                assert_eq!(back, issuing, "EF05 round trip ({generation:?})");
            }
        }
        if let Ok(holder) = HolderData::from_records(generation, &records) {
            if let Ok(encoded) = holder.to_records(generation) {
                let bytes = concat_records(&encoded);
                let borrowed = tlv::parse_simple(&bytes).expect("encoded records parse");
                let back = HolderData::from_records(generation, &borrowed)
                    .expect("re-encoded EF06 records parse");
                assert_eq!(back, holder, "EF06 round trip ({generation:?})");
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Replay: a fake card answering from the input
// ---------------------------------------------------------------------------------------------

/// Response chunk markers of the replay format (see [`ReplayCard`]).
pub mod marker {
    /// The next two bytes (big endian) are the response length.
    pub const LONG: u8 = 0xFD;
    /// A transport error; the next byte chooses which.
    pub const ERROR: u8 = 0xFE;
    /// The card was reset (the reset epoch changes); then the next chunk.
    pub const RESET: u8 = 0xFF;
    /// Lengths up to this are a single length byte.
    pub const MAX_SHORT: u8 = 0xFC;
}

/// Most exchanges one replayed operation may take: far above any real operation (with
/// GET RESPONSE chains and one restart); reaching it means the library loops.
pub const MAX_EXCHANGES: usize = 2_000;

/// A fake card that answers each command with the next response of a byte stream, whatever the
/// command was.
///
/// Each response is a chunk: a length byte `0..=FC` and that many bytes; `FD hi lo` and a
/// 16-bit length; `FE e`: a transport error (`e` chooses it); `FF`: the card was reset (the
/// reset epoch changes), then the next chunk. A chunk longer than the rest of the stream is cut
/// short. At the end of the stream the card is gone (`CardRemoved`).
#[derive(Debug)]
pub struct ReplayCard<'a> {
    stream: &'a [u8],
    atr: Vec<u8>,
    epoch: u64,
    /// Every command received, in order.
    pub sent: Vec<Vec<u8>>,
}

impl<'a> ReplayCard<'a> {
    /// A card with `atr` answering from `stream`.
    pub fn new(atr: Vec<u8>, stream: &'a [u8]) -> ReplayCard<'a> {
        ReplayCard {
            stream,
            atr,
            epoch: 0,
            sent: Vec::new(),
        }
    }

    fn byte(&mut self) -> Option<u8> {
        let (&b, rest) = self.stream.split_first()?;
        self.stream = rest;
        Some(b)
    }

    fn take(&mut self, len: usize) -> Vec<u8> {
        let (chunk, rest) = self.stream.split_at(len.min(self.stream.len()));
        self.stream = rest;
        chunk.to_vec()
    }

    /// The next chunk of the stream as a response.
    pub fn next_response(&mut self) -> Result<Vec<u8>, TransportError> {
        loop {
            let len = match self.byte().ok_or(TransportError::CardRemoved)? {
                marker::RESET => {
                    self.epoch = self.epoch.wrapping_add(1);
                    continue;
                }
                marker::ERROR => {
                    return Err(transport_error(self.byte().unwrap_or(0)));
                }
                marker::LONG => {
                    let hi = self.byte().unwrap_or(0);
                    let lo = self.byte().unwrap_or(0);
                    usize::from(u16::from_be_bytes([hi, lo]))
                }
                n => usize::from(n),
            };
            return Ok(self.take(len));
        }
    }
}

fn transport_error(e: u8) -> TransportError {
    match e % 8 {
        0 => TransportError::CardRemoved,
        1 => TransportError::CardReset,
        2 => TransportError::NoService,
        3 => TransportError::Timeout,
        4 => TransportError::SharingViolation,
        5 => TransportError::NoCard,
        6 => TransportError::Protocol("fuzz".into()),
        _ => TransportError::Io("fuzz".into()),
    }
}

impl Transport for ReplayCard<'_> {
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, TransportError> {
        assert!(
            Command::parse(command).is_ok(),
            "the library sent a malformed APDU {}",
            hex::encode_upper(command)
        );
        self.sent.push(command.to_vec());
        assert!(
            self.sent.len() <= MAX_EXCHANGES,
            "runaway: more than {MAX_EXCHANGES} APDUs for one operation"
        );
        self.next_response()
    }

    fn atr(&mut self) -> Result<Vec<u8>, TransportError> {
        Ok(self.atr.clone())
    }

    fn reset_epoch(&self) -> u64 {
        self.epoch
    }
}

/// Appends `response` to a replay stream as one chunk.
pub fn encode_chunk(out: &mut Vec<u8>, response: &[u8]) {
    match u8::try_from(response.len()) {
        Ok(n) if n <= marker::MAX_SHORT => out.push(n),
        _ => {
            let n = u16::try_from(response.len()).expect("response up to 65535 bytes");
            out.push(marker::LONG);
            out.extend_from_slice(&n.to_be_bytes());
        }
    }
    out.extend_from_slice(response);
}

/// The ATR of the simulated cards here (2.0, SM4, T=0).
pub fn default_atr() -> Vec<u8> {
    CardSpec::new(
        Generation::V2,
        Algorithm::Sm4,
        REGION.parse().expect("region"),
        SERIAL,
    )
    .atr()
}

/// Splits a replay input: the flags byte, then (flag bit 0) an ATR chunk, then (when `texts` is
/// more than 0) that many text chunks (HSM answers), then the response stream.
fn replay_setup(data: &[u8], texts: usize) -> (u8, Vec<u8>, Vec<String>, &[u8]) {
    let Some((&flags, rest)) = data.split_first() else {
        return (0, default_atr(), Vec::new(), &[]);
    };
    let mut head = ReplayCard::new(Vec::new(), rest);
    let atr = if flags & 1 != 0 {
        head.next_response().unwrap_or_default()
    } else {
        default_atr()
    };
    let answers = (0..texts)
        .map(|_| String::from_utf8_lossy(&head.next_response().unwrap_or_default()).into_owned())
        .collect();
    (flags, atr, answers, head.stream)
}

/// The reading flows of [`check_replay_read`], chosen by bits 4-6 of the flags.
pub mod read_flow {
    /// `read` (bit 1 clear) or `read_verified` with the test keys (bit 1 set; bit 2 switches
    /// INTERNAL AUTHENTICATION off).
    pub const READ: u8 = 0;
    /// `check_validity` with the test keys, today [`super::TODAY`].
    pub const VALIDITY: u8 = 1;
    /// `pin_status`, then `verify_pin` of the activated PIN.
    pub const PIN: u8 = 2;
    /// `read_binary_file` of EF07 (bit 2 clear) or EF08 (bit 2 set).
    pub const BINARY: u8 = 3;
    /// `read_bank_account`.
    pub const BANK: u8 = 4;
    /// The HSM basic read: step 1, then step 2 with the first text chunk as the HSM's answer.
    pub const HSM_BASIC: u8 = 5;
}

/// A reading flow of the library against a [`ReplayCard`]. Input: a flags byte — bit 0: an ATR
/// chunk follows (else [`default_atr`]); bit 1: a key holder (the test keys); bit 2: see
/// [`read_flow`]; bits 4-6: the flow ([`read_flow`]); bit 7: records addressed by SELECT of the
/// EF (the field trace's way) instead of by SFI — then for [`read_flow::HSM_BASIC`] one text
/// chunk (the HSM's answer), then the response stream. Errors are fine; panics, runaway loops
/// and malformed APDUs are not. Returns whether the flow succeeded.
pub fn check_replay_read(data: &[u8]) -> bool {
    let flow = data.first().map_or(0, |f| (f >> 4) & 7);
    let texts = usize::from(flow == read_flow::HSM_BASIC);
    let (flags, atr, answers, stream) = replay_setup(data, texts);
    let Ok(card) = Card::open(ReplayCard::new(atr, stream)) else {
        return false;
    };
    let addressing = if flags & 0x80 != 0 {
        Addressing::SelectEf
    } else {
        Addressing::Sfi
    };
    let mut card = card.with_addressing(addressing);
    let mut keys = fuzz_keys();
    let bit2 = flags & 4 != 0;
    match flow {
        read_flow::READ => {
            let read = if flags & 2 != 0 {
                let options = ReadOptions {
                    internal_authentication: !bit2,
                };
                lifecycle::read_verified(&mut card, &mut keys, &options)
            } else {
                lifecycle::read(&mut card)
            };
            match read {
                Ok(data) => {
                    let _ = data.basic_line();
                    serde_json::to_string(&data).expect("CardData serializes");
                    true
                }
                Err(_) => false,
            }
        }
        read_flow::VALIDITY => {
            let policy = ValidityPolicy {
                today: TODAY.parse().ok(),
                ..ValidityPolicy::default()
            };
            lifecycle::check_validity(&mut card, &mut keys, &policy).is_ok()
        }
        read_flow::PIN => {
            lifecycle::pin_status(&mut card).is_ok()
                && lifecycle::verify_pin(&mut card, &Pin::new(ACTIVATED_PIN).expect("PIN")).is_ok()
        }
        read_flow::BINARY => {
            let ef = if bit2 { Ef::Ef08 } else { Ef::Ef07 };
            match lifecycle::read_binary_file(&mut card, &mut keys, ef) {
                Ok(bytes) => {
                    assert!(bytes.len() <= ef.size(), "{ef} read past its size");
                    true
                }
                Err(_) => false,
            }
        }
        read_flow::BANK => lifecycle::read_bank_account(&mut card).is_ok(),
        read_flow::HSM_BASIC => {
            let Ok(step) = hsm::read_basic_step1(&mut card) else {
                return false;
            };
            let _ = step.request.to_line();
            let answer = answers.first().map(String::as_str).unwrap_or_default();
            match hsm::read_basic_step2(&mut card, &step, answer) {
                Ok(info) => {
                    let _ = info.line("", "");
                    true
                }
                Err(_) => false,
            }
        }
        _ => lifecycle::pin_status(&mut card).is_ok(),
    }
}

/// The writing flows of [`check_replay_personalize`], chosen by bits 5-7 of the flags.
pub mod write_flow {
    /// `personalize` with the test keys: bits 1-2 the fixture person (modulo 3), bit 3 over
    /// another card number, bit 4 without read-back.
    pub const PERSONALIZE: u8 = 0;
    /// `activate` with the test keys, to [`super::ACTIVATED_PIN`].
    pub const ACTIVATE: u8 = 1;
    /// `change_pin` from [`super::ACTIVATED_PIN`] to [`super::NEW_PIN`].
    pub const CHANGE_PIN: u8 = 2;
    /// `reload_pin` to [`super::NEW_PIN`].
    pub const RELOAD_PIN: u8 = 3;
    /// `unblock_pin`.
    pub const UNBLOCK_PIN: u8 = 4;
    /// `block_application` (bit 3 clear) or `block_card` (bit 3 set).
    pub const BLOCK: u8 = 5;
    /// EF07 (bit 3 clear) or EF08 (bit 3 set) written through an authenticated session, 300
    /// bytes at offset 0.
    pub const WRITE_BINARY: u8 = 6;
    /// The HSM PIN reload (bit 3 clear) or unblock (bit 3 set): steps 1-3 with two text chunks
    /// as the HSM's answers.
    pub const HSM_PIN: u8 = 7;
}

/// A writing flow of the library against a [`ReplayCard`]. Input: a flags byte — bit 0: an ATR
/// chunk follows; bits 1-4: see [`write_flow`]; bits 5-7: the flow ([`write_flow`]) — then for
/// [`write_flow::HSM_PIN`] two text chunks (the HSM's answers), then the response stream.
///
/// Besides never panicking or looping: in a personalization, whatever the card answers, an
/// UPDATE RECORD of a (non-blank) card number is sent only after every other data item was
/// written since the last SELECT of SSSE ([design] D15). Returns whether the flow succeeded.
pub fn check_replay_personalize(data: &[u8]) -> bool {
    let flow = data.first().map_or(0, |f| (f >> 5) & 7);
    let texts = if flow == write_flow::HSM_PIN { 2 } else { 0 };
    let (flags, atr, answers, stream) = replay_setup(data, texts);
    let Ok(mut card) = Card::open(ReplayCard::new(atr, stream)) else {
        return false;
    };
    let mut keys = fuzz_keys();
    let bit3 = flags & 8 != 0;
    let pin = |digits| Pin::new(digits).expect("PIN");
    match flow {
        write_flow::PERSONALIZE => {
            let person = fixture_person(usize::from((flags >> 1) & 3));
            let options = PersonalizeOptions {
                overwrite: bit3,
                read_back: flags & 16 == 0,
                ..PersonalizeOptions::default()
            };
            let ok = lifecycle::personalize(&mut card, &mut keys, &person, &options).is_ok();
            let sent = &card.channel().transport().sent;
            if let Err(e) = card_number_written_last(sent, person.generation()) {
                panic!("{e}");
            }
            ok
        }
        write_flow::ACTIVATE => lifecycle::activate_verified(
            &mut card,
            &mut keys,
            &pin(ACTIVATED_PIN),
            &ActivateOptions::default(),
        )
        .is_ok(),
        write_flow::CHANGE_PIN => {
            lifecycle::change_pin(&mut card, &pin(ACTIVATED_PIN), &pin(NEW_PIN)).is_ok()
        }
        write_flow::RELOAD_PIN => {
            lifecycle::reload_pin(&mut card, &mut keys, &pin(NEW_PIN)).is_ok()
        }
        write_flow::UNBLOCK_PIN => lifecycle::unblock_pin(&mut card, &mut keys).is_ok(),
        write_flow::BLOCK if bit3 => lifecycle::block_card(&mut card, &mut keys).is_ok(),
        write_flow::BLOCK => lifecycle::block_application(&mut card, &mut keys).is_ok(),
        write_flow::WRITE_BINARY => {
            let ef = if bit3 { Ef::Ef08 } else { Ef::Ef07 };
            let content: Vec<u8> = (0..300u16).map(|i| (i % 251) as u8 + 1).collect();
            match card.authenticate_for_update(&mut keys) {
                Ok(mut session) => session.write_binary(ef, 0, &content).is_ok(),
                Err(_) => false,
            }
        }
        _ => {
            let kind = if bit3 {
                hsm::PinMaintenance::Unblock
            } else {
                hsm::PinMaintenance::Reload
            };
            let new_pin = pin(NEW_PIN);
            let new = (!bit3).then_some(&new_pin);
            let answer = |i: usize| answers.get(i).map(String::as_str).unwrap_or_default();
            hsm::pin_step1(&mut card, kind, None)
                .and_then(|step| {
                    let _ = step.request.to_line();
                    hsm::pin_step2(&mut card, &step, answer(0), new)
                })
                .and_then(|step| hsm::pin_step3(&mut card, &step, answer(1)))
                .is_ok()
        }
    }
}

/// Whether every UPDATE RECORD of a non-blank card number in `sent` comes after the UPDATE
/// RECORD of every other data item of `generation` since the last SELECT of SSSE.
pub fn card_number_written_last(sent: &[Vec<u8>], generation: Generation) -> Result<(), String> {
    let select_ssse = commands::select_aid(&profile::SSSE_AID)
        .to_bytes()
        .map(|b| b[..5].to_vec())
        .unwrap_or_default();
    let mut needed: BTreeSet<u8> = Ef::RECORD_FILES
        .iter()
        .flat_map(|ef| profile::records(generation, *ef))
        .map(|spec| spec.tag)
        .collect();
    needed.remove(&profile::tag::CARD_ID);
    needed.remove(&profile::tag::CARD_NUMBER);
    let mut written = BTreeSet::new();
    for command in sent {
        if command.get(..5) == Some(select_ssse.as_slice()) {
            written.clear();
            continue;
        }
        let Ok(parsed) = Command::parse(command) else {
            continue;
        };
        let [_, ins, p1, _] = parsed.header();
        if ins != 0xDC {
            continue;
        }
        let value = parsed.data().get(2..).unwrap_or_default();
        if p1 == profile::tag::CARD_NUMBER && value.iter().any(|&b| b != 0) {
            let missing: Vec<String> = needed
                .difference(&written)
                .map(|t| format!("{t:02X}"))
                .collect();
            if !missing.is_empty() {
                return Err(format!(
                    "the card number was written before the items {}",
                    missing.join(" ")
                ));
            }
        }
        written.insert(p1);
    }
    Ok(())
}

/// Records the responses of a real (simulated) session as a replay stream, and the commands
/// sent: wraps a transport. Transport errors and resets (a change of the reset epoch) are
/// recorded too.
pub struct Recorder<T> {
    /// The wrapped transport.
    pub inner: T,
    /// The responses so far, in the replay format.
    pub stream: Vec<u8>,
    /// The commands so far.
    pub commands: Vec<Vec<u8>>,
    epoch: Option<u64>,
}

impl<T> Recorder<T> {
    /// Wraps `inner`.
    pub fn new(inner: T) -> Recorder<T> {
        Recorder {
            inner,
            stream: Vec::new(),
            commands: Vec::new(),
            epoch: None,
        }
    }
}

fn error_code(e: &TransportError) -> u8 {
    match e {
        TransportError::CardRemoved => 0,
        TransportError::CardReset => 1,
        TransportError::NoService => 2,
        TransportError::Timeout => 3,
        TransportError::SharingViolation => 4,
        TransportError::NoCard => 5,
        TransportError::Protocol(_) => 6,
        _ => 7,
    }
}

impl<T: Transport> Transport for Recorder<T> {
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, TransportError> {
        self.commands.push(command.to_vec());
        let before = *self.epoch.get_or_insert(self.inner.reset_epoch());
        let result = self.inner.transmit(command);
        let after = self.inner.reset_epoch();
        if after != before {
            self.stream.push(marker::RESET);
            self.epoch = Some(after);
        }
        match &result {
            Ok(response) => encode_chunk(&mut self.stream, response),
            Err(e) => self.stream.extend([marker::ERROR, error_code(e)]),
        }
        result
    }

    fn atr(&mut self) -> Result<Vec<u8>, TransportError> {
        self.inner.atr()
    }

    fn reset_epoch(&self) -> u64 {
        self.inner.reset_epoch()
    }
}

/// A simulated card that another program resets once: at the `at`-th command the card is
/// power-cycled and the command fails with `CardReset`, as PC/SC reports it.
pub struct ResetOnce {
    /// The reader with the card.
    pub inner: SimTransport<SimCard>,
    /// The command (1-based) that meets the reset; 0 once it happened.
    pub at: usize,
}

impl Transport for ResetOnce {
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, TransportError> {
        if self.at == 1 {
            self.at = 0;
            self.inner.power_cycle();
            return Err(TransportError::CardReset);
        }
        self.at = self.at.saturating_sub(1);
        self.inner.transmit(command)
    }

    fn atr(&mut self) -> Result<Vec<u8>, TransportError> {
        self.inner.atr()
    }

    fn reset_epoch(&self) -> u64 {
        self.inner.reset_epoch()
    }
}

// ---------------------------------------------------------------------------------------------
// The simulated card
// ---------------------------------------------------------------------------------------------

/// Operation markers of the simulated-card format (see [`check_sim_handler`]).
pub mod op {
    /// Arms a power loss: the next byte `t` gives `AfterApdu(t & 7F)` when bit 7 is set, else
    /// `AtWrite(t)` (counted from now).
    pub const TEAR: u8 = 0xFB;
    /// Power-on reset.
    pub const RESET: u8 = 0xFC;
    /// GET CHALLENGE + EXTERNAL AUTHENTICATION with the card key whose id is the next byte
    /// (the harness computes the authentication data with the card's own key).
    pub const AUTH: u8 = 0xFD;
    /// GET CHALLENGE + a MAC-secured command: a key byte (the card key id of the MAC key,
    /// normally `02` STKSSSE; bit 7 set: the data is first enciphered as `LD ‖ data ‖ padding`
    /// under the same process key, as PIN RELOAD carries its PIN), a length byte, then
    /// `CLA INS P1 P2 ‖ data before the MAC`; the harness appends the MAC.
    pub const MAC: u8 = 0xFE;
    /// An APDU with a 16-bit length (two bytes, big endian) follows.
    pub const LONG: u8 = 0xFF;
    /// Lengths up to this are a single length byte.
    pub const MAX_SHORT: u8 = 0xFA;
}

/// The life stage a simulated card starts in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SimState {
    /// Blank, as it leaves initialization ([design] D14).
    Blank,
    /// Personalized with the fixture person of its generation (initial PIN).
    Personalized,
    /// Personalized and activated (holder PIN [`ACTIVATED_PIN`]).
    Activated,
    /// Activated, then the PIN blocked by wrong PINs.
    PinBlocked,
    /// Activated, then SSSE blocked (APPLICATION BLOCK).
    ApplicationBlocked,
    /// Activated, then CARD BLOCK.
    CardBlocked,
    /// A personalization torn at its 10th persistent write.
    HalfPersonalized,
}

/// The start states in the order of the state byte of [`check_sim_handler`].
pub const SIM_STATES: [SimState; 7] = [
    SimState::Blank,
    SimState::Personalized,
    SimState::Activated,
    SimState::PinBlocked,
    SimState::ApplicationBlocked,
    SimState::CardBlocked,
    SimState::HalfPersonalized,
];

fn build_image(
    generation: Generation,
    algorithm: Algorithm,
    state: SimState,
    bank: bool,
) -> CardImage {
    let mut spec = CardSpec::new(
        generation,
        algorithm,
        REGION.parse().expect("region"),
        SERIAL,
    );
    if bank {
        spec = spec.with_financial(FinancialApp::debit(PAN, "301231").expect("financial app"));
    }
    let sim = SimCard::blank(spec, &root_keys()).expect("blank card");
    if state == SimState::Blank {
        return sim.into_image();
    }
    let person = fixture_person(generation_index(generation));
    let mut card = Card::open(SimTransport::new(sim)).expect("open");
    let mut keys = test_keys();
    if state == SimState::HalfPersonalized {
        let mut sim = card.into_transport().into_card();
        sim.arm_tear(Tear::AtWrite(10));
        let mut card = Card::open(SimTransport::new(sim)).expect("open");
        let torn = lifecycle::personalize(
            &mut card,
            &mut keys,
            &person,
            &PersonalizeOptions::default(),
        );
        assert!(torn.is_err(), "the personalization was torn");
        let mut sim = card.into_transport().into_card();
        sim.reset();
        return sim.into_image();
    }
    lifecycle::personalize(
        &mut card,
        &mut keys,
        &person,
        &PersonalizeOptions::default(),
    )
    .expect("personalize");
    if state != SimState::Personalized {
        lifecycle::activate_verified(
            &mut card,
            &mut keys,
            &Pin::new(ACTIVATED_PIN).expect("PIN"),
            &ActivateOptions::default(),
        )
        .expect("activate");
    }
    match state {
        SimState::PinBlocked => {
            let wrong = Pin::new("135790").expect("PIN");
            for _ in 0..3 {
                let _ = lifecycle::verify_pin(&mut card, &wrong);
            }
        }
        SimState::ApplicationBlocked => {
            lifecycle::block_application(&mut card, &mut keys).expect("application block")
        }
        SimState::CardBlocked => lifecycle::block_card(&mut card, &mut keys).expect("card block"),
        _ => {}
    }
    card.into_transport().into_card().into_image()
}

type ImageKey = (usize, usize, usize, bool);

/// The card image of `generation`, `algorithm` and `state` (with a financial application when
/// `bank`), built with the library once per process.
pub fn sim_image(
    generation: Generation,
    algorithm: Algorithm,
    state: SimState,
    bank: bool,
) -> CardImage {
    static CACHE: OnceLock<Mutex<HashMap<ImageKey, CardImage>>> = OnceLock::new();
    let key = (
        generation_index(generation),
        ALGORITHMS.iter().position(|a| *a == algorithm).unwrap_or(0),
        SIM_STATES.iter().position(|s| *s == state).unwrap_or(0),
        bank,
    );
    let cache = CACHE.get_or_init(|| Mutex::new(HashMap::new()));
    let mut cache = cache.lock().unwrap_or_else(|e| e.into_inner());
    cache
        .entry(key)
        .or_insert_with(|| build_image(generation, algorithm, state, bank))
        .clone()
}

/// The card byte and state byte of [`check_sim_handler`] for a card (`state` `None`: the PSAM).
pub fn sim_prefix(
    generation: Generation,
    algorithm: Algorithm,
    state: Option<SimState>,
    t1: bool,
    bank: bool,
) -> [u8; 2] {
    let g = generation_index(generation) as u8;
    let a = ALGORITHMS.iter().position(|x| *x == algorithm).unwrap_or(0) as u8;
    let s = match state {
        Some(state) => SIM_STATES.iter().position(|x| *x == state).unwrap_or(0) as u8,
        None => 7,
    };
    [
        a * 3 + g,
        s | if t1 { 8 } else { 0 } | if bank { 16 } else { 0 },
    ]
}

/// The simulated card a [`check_sim_handler`] input starts with (`None` for the PSAM), its
/// random generator seeded from the two bytes (so recorded sessions replay exactly).
pub fn sim_card(card_byte: u8, state_byte: u8) -> Option<SimCard> {
    if state_byte % 8 == 7 {
        return None;
    }
    let generation = GENERATIONS[usize::from(card_byte % 3)];
    let algorithm = ALGORITHMS[usize::from(card_byte / 3 % 2)];
    let state = SIM_STATES[usize::from(state_byte % 8)];
    let image = sim_image(generation, algorithm, state, state_byte & 16 != 0);
    let mut sim = SimCard::from_image(image).expect("image");
    sim.set_t0(state_byte & 8 == 0);
    sim.seed_rng(u64::from(card_byte) << 8 | u64::from(state_byte));
    Some(sim)
}

/// The role whose card key id is `id`.
fn role_of(id: u8) -> Option<KeyRole> {
    sscard_core::keys::KeyRole::SSSE
        .into_iter()
        .find(|r| *r != KeyRole::Irk && r.card_key_id() == Some(id))
}

fn card_key(sim: &SimCard, id: u8) -> Option<SecretKey> {
    let key = sim.image().key(role_of(id)?)?;
    SecretKey::from_bytes(key.value.expose()).ok()
}

/// GET CHALLENGE for 8 bytes (a T=0 card answers at once: case 2).
fn get_challenge(sim: &mut SimCard) -> Option<[u8; 8]> {
    let answer = sim.handle(&[0x00, 0x84, 0x00, 0x00, 0x08]);
    match answer.split_last_chunk::<2>() {
        Some((challenge, [0x90, 0x00])) => challenge.try_into().ok(),
        _ => None,
    }
}

/// GET CHALLENGE + EXTERNAL AUTHENTICATION with card key `id`, the authentication data computed
/// with the card's own key (part 4 §9.3, part 7 §6.6). Returns the last response.
pub fn authenticate(sim: &mut SimCard, id: u8) -> Vec<u8> {
    let algorithm = sim.image().algorithm;
    let Some(challenge) = get_challenge(sim) else {
        return sim.handle(&[0x00, 0x82, 0x00, id]);
    };
    let original = [0x5A; 8];
    let auth = card_key(sim, id)
        .and_then(|key| crypto::authenticate(algorithm, &key, &challenge, &original).ok())
        .unwrap_or([0; 8]);
    let command = commands::external_authenticate(id, auth, original, None);
    match command.to_bytes() {
        Ok(bytes) => sim.handle(&bytes),
        Err(_) => sim.handle(&[0x00, 0x82, 0x00, id]),
    }
}

/// GET CHALLENGE + `header ‖ Lc ‖ data ‖ MAC` with the process key of card key `key & 7F` for
/// the challenge (part 4 §8.2); bit 7 of `key`: the data enciphered first (part 4 §8.3).
pub fn mac_command(sim: &mut SimCard, key: u8, header_and_data: &[u8]) -> Vec<u8> {
    let algorithm = sim.image().algorithm;
    let Some((header, data)) = header_and_data.split_first_chunk::<4>() else {
        return sim.handle(header_and_data);
    };
    let Some(challenge) = get_challenge(sim) else {
        return sim.handle(header_and_data);
    };
    let session =
        card_key(sim, key & 0x7F).and_then(|k| crypto::process_key(algorithm, &k, &challenge).ok());
    let body = match (&session, key & 0x80 != 0) {
        (Some(s), true) => crypto::encipher_data(algorithm, s, data)
            .map(|d| d.to_vec())
            .unwrap_or_else(|_| data.to_vec()),
        _ => data.to_vec(),
    };
    let [cla, ins, p1, p2] = *header;
    let input = commands::mac_input(cla, ins, p1, p2, &body);
    let mac = session
        .and_then(|s| crypto::mac(algorithm, &s, &input).ok())
        .unwrap_or([0; 4]);
    let mut data = body;
    data.extend_from_slice(&mac);
    match Command::new(cla, ins, p1, p2).with_data(data).to_bytes() {
        Ok(bytes) => sim.handle(&bytes),
        Err(_) => sim.handle(header_and_data),
    }
}

/// What a successful authentication protects: the files and the block flags.
fn protected(image: &CardImage) -> (Vec<u8>, bool, bool) {
    let mut files = Vec::new();
    for ef in Ef::RECORD_FILES {
        for record in image.records(ef) {
            files.extend_from_slice(&record.0);
        }
        files.push(0xFF);
    }
    for ef in [Ef::Ef07, Ef::Ef08] {
        files.extend(image.binary(ef).unwrap_or_default());
    }
    (files, image.ssse_blocked, image.card_blocked)
}

/// Runs a [`check_sim_handler`] input on its card and returns the card afterwards (`None` for
/// the PSAM or an input without the two start bytes).
pub fn run_sim(data: &[u8]) -> Option<SimCard> {
    let (&card_byte, rest) = data.split_first()?;
    let (&state_byte, stream) = rest.split_first()?;
    let Some(mut sim) = sim_card(card_byte, state_byte) else {
        check_psam(ALGORITHMS[usize::from(card_byte / 3 % 2)], stream);
        return None;
    };
    let mut checked_writes = sim.persistent_writes();
    let mut ops = Ops { input: stream };
    while let Some(op) = ops.next() {
        let before = protected(sim.image());
        let authenticated = !sim.authenticated_roles().is_empty();
        let response = match op {
            Op::Reset => {
                sim.reset();
                continue;
            }
            Op::Tear(t) => {
                sim.arm_tear(if t & 0x80 != 0 {
                    Tear::AfterApdu(u64::from(t & 0x7F))
                } else {
                    Tear::AtWrite(u64::from(t))
                });
                continue;
            }
            Op::Apdu(apdu) => sim.handle(apdu),
            Op::Auth(id) => authenticate(&mut sim, id),
            Op::Mac(key, body) => mac_command(&mut sim, key, body),
        };
        if sim.is_torn() {
            assert!(response.is_empty(), "a torn card answered");
        } else {
            assert!(response.len() >= 2, "a response without a status word");
        }
        assert!(
            response.len() <= 258,
            "a response of {} bytes to a short APDU",
            response.len()
        );
        // nothing can forge EXTERNAL AUTHENTICATION: without a key the card accepted before
        // the operation, the files and the block flags stay as they were
        if !authenticated {
            assert!(
                protected(sim.image()) == before,
                "the files or block flags changed without authentication"
            );
        }
        // the image changes only through the card's persistence point, which counts writes:
        // round-trip it after every operation that wrote
        if sim.persistent_writes() != checked_writes {
            checked_writes = sim.persistent_writes();
            let json = sim.save_json().expect("the image serializes");
            let loaded = SimCard::load_json(&json).expect("the serialized image loads");
            assert_eq!(loaded.image(), sim.image(), "the image round-trips JSON");
        }
    }
    Some(sim)
}

/// The simulated card's `handle`. Input: a card byte (`b % 3` generation 1.0/2.0/3.0,
/// `b / 3 % 2` 3DES/SM4), a state byte (`b % 8` the index in [`SIM_STATES`], or 7: the PSAM; bit
/// 3: T=1 instead of T=0; bit 4: with the financial application), then operations ([`op`]): a
/// length byte `0..=FA` and an APDU of that length; `FF hi lo` and an APDU of a 16-bit length;
/// `FB t` a power loss armed; `FC` power-on reset; `FD k` authenticate with card key `k`;
/// `FE k n <n bytes>` a MAC-secured command.
///
/// After every operation: the card answered at least a status word (nothing while it has no
/// power after a tear), at most 258 bytes; without a successful authentication since the last
/// reset the files and block flags are unchanged; after every operation that wrote, the image
/// serializes to JSON and loads back equal.
pub fn check_sim_handler(data: &[u8]) {
    let _ = run_sim(data);
}

fn check_psam(algorithm: Algorithm, stream: &[u8]) {
    let spec = PsamSpec::new(algorithm, "123456789012");
    let mut psam = SimPsam::from_root_keys(&root_keys(), &spec).expect("PSAM");
    psam.seed_rng(7);
    let mut ops = Ops { input: stream };
    while let Some(op) = ops.next() {
        let response = match op {
            Op::Apdu(apdu) | Op::Mac(_, apdu) => psam.handle(apdu),
            Op::Reset => {
                psam.reset();
                continue;
            }
            Op::Auth(_) | Op::Tear(_) => continue,
        };
        assert!(response.len() >= 2, "a PSAM response without a status word");
        assert!(
            response.len() <= 258,
            "a PSAM response of {} bytes",
            response.len()
        );
    }
}

enum Op<'a> {
    Reset,
    Tear(u8),
    Apdu(&'a [u8]),
    Auth(u8),
    Mac(u8, &'a [u8]),
}

struct Ops<'a> {
    input: &'a [u8],
}

impl<'a> Ops<'a> {
    fn byte(&mut self) -> Option<u8> {
        let (&b, rest) = self.input.split_first()?;
        self.input = rest;
        Some(b)
    }

    fn take(&mut self, len: usize) -> &'a [u8] {
        let (chunk, rest) = self.input.split_at(len.min(self.input.len()));
        self.input = rest;
        chunk
    }

    fn next(&mut self) -> Option<Op<'a>> {
        let op = self.byte()?;
        Some(match op {
            op::RESET => Op::Reset,
            op::TEAR => Op::Tear(self.byte()?),
            op::AUTH => Op::Auth(self.byte()?),
            op::MAC => {
                let key = self.byte()?;
                let len = self.byte()?;
                Op::Mac(key, self.take(usize::from(len)))
            }
            op::LONG => {
                let hi = self.byte()?;
                let lo = self.byte()?;
                Op::Apdu(self.take(usize::from(u16::from_be_bytes([hi, lo]))))
            }
            n => Op::Apdu(self.take(usize::from(n))),
        })
    }
}

/// Appends an APDU to a simulated-card operation stream.
pub fn encode_apdu(out: &mut Vec<u8>, apdu: &[u8]) {
    match u8::try_from(apdu.len()) {
        Ok(n) if n <= op::MAX_SHORT => out.push(n),
        _ => {
            let n = u16::try_from(apdu.len()).expect("APDU up to 65535 bytes");
            out.push(op::LONG);
            out.extend_from_slice(&n.to_be_bytes());
        }
    }
    out.extend_from_slice(apdu);
}

// ---------------------------------------------------------------------------------------------
// Person records
// ---------------------------------------------------------------------------------------------

/// The columns of a person row, in the order the row mode of [`check_person_record`] fills them.
pub const ROW_COLUMNS: [&str; 13] = [
    "ssn",
    "name",
    "sex",
    "ethnicity",
    "birthplace",
    "birth_date",
    "card_number",
    "generation",
    "issue_date",
    "expiry_date",
    "region",
    "initializing_body",
    "card_type",
];

/// Person records: input starting with `{` (or, after a first byte `0`, anything) is JSON text
/// (UTF-8, lossy) for `PersonRecord::from_json`; otherwise it is one CSV-like row whose
/// `,`-separated cells (UTF-8, or GBK like the batch input) fill [`ROW_COLUMNS`] in order.
/// Validation never panics, a valid person's EF05/EF06 data round-trips through the card
/// records, and the record through JSON.
pub fn check_person_record(data: &[u8]) {
    let record = match data.first() {
        Some(b'{') => PersonRecord::from_json(&String::from_utf8_lossy(data)).ok(),
        Some(0) => PersonRecord::from_json(&String::from_utf8_lossy(&data[1..])).ok(),
        _ => Some(row_record(data)),
    };
    let Some(record) = record else {
        return;
    };
    let Ok(person) = record.validate() else {
        return;
    };
    let generation = person.generation();
    let holder = person.holder();
    let encoded = holder
        .to_records(generation)
        .expect("valid holder data encodes");
    let bytes = concat_records(&encoded);
    let borrowed = tlv::parse_simple(&bytes).expect("encoded records parse");
    let back = HolderData::from_records(generation, &borrowed).expect("EF06 records parse");
    assert_eq!(&back, holder, "EF06 round trip of a valid person");
    let spec = CardSpec::new(generation, Algorithm::Sm4, person.region(), SERIAL);
    let card_id = CardIdentificationCode::from_bytes(&spec.card_id()).expect("card id");
    let issuing = person.issuing_data(card_id);
    let encoded = issuing
        .to_records(generation)
        .expect("valid issuing data encodes");
    let bytes = concat_records(&encoded);
    let borrowed = tlv::parse_simple(&bytes).expect("encoded records parse");
    let back = CardIssuingData::from_records(generation, &borrowed).expect("EF05 records parse");
    assert_eq!(back, issuing, "EF05 round trip of a valid person");
    let json = serde_json::to_string(&record).expect("PersonRecord serializes");
    let again = PersonRecord::from_json(&json).expect("serialized PersonRecord parses");
    assert_eq!(again, record, "PersonRecord JSON round trip");
}

fn row_record(data: &[u8]) -> PersonRecord {
    let text = match std::str::from_utf8(data) {
        Ok(text) => text.to_owned(),
        // not UTF-8: GBK, through the core's decoder (the batch input accepts GBK files)
        Err(_) => match codec::from_gbk("row", data) {
            Ok(text) => text,
            Err(_) => String::from_utf8_lossy(data).into_owned(),
        },
    };
    let mut cells = text.split(',').map(|c| c.trim().to_owned());
    let mut next = || cells.next().unwrap_or_default();
    let (ssn, name, sex, ethnicity, birthplace, birth_date) =
        (next(), next(), next(), next(), next(), next());
    let (card_number, generation, issue_date, expiry_date, region, initializing_body) =
        (next(), next(), next(), next(), next(), next());
    let card_type = next();
    PersonRecord {
        ssn,
        name,
        sex,
        ethnicity,
        birthplace,
        birth_date,
        card_number,
        card_type: if card_type.is_empty() {
            "3".into()
        } else {
            card_type
        },
        generation,
        issue_date,
        expiry_date,
        region,
        initializing_body,
    }
}

/// A fixture person as a row for [`check_person_record`].
pub fn person_row(index: usize) -> String {
    let value: serde_json::Value =
        serde_json::from_str(PERSONS[index % PERSONS.len()]).expect("fixture JSON");
    ROW_COLUMNS
        .iter()
        .map(|c| match &value[*c] {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Number(n) => n.to_string(),
            _ => String::new(),
        })
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every file of `fixtures/fuzz/<target>/`, with its name.
    fn corpus(target: &str) -> Vec<(String, Vec<u8>)> {
        let here = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let dir = [here.join("../fixtures/fuzz"), here.join("fixtures/fuzz")]
            .into_iter()
            .find(|d| d.is_dir())
            .expect("fixtures/fuzz")
            .join(target);
        let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| {
                let path = e.unwrap().path();
                let name = path.file_name().unwrap().to_string_lossy().into_owned();
                (name, std::fs::read(&path).unwrap())
            })
            .collect();
        files.sort();
        assert!(!files.is_empty(), "{} has seeds", dir.display());
        files
    }

    #[test]
    fn every_seed_and_regression_input_passes_its_property() {
        for (_, bytes) in corpus("response_parsing") {
            check_parsers(&bytes);
        }
        for (_, bytes) in corpus("sim_handler") {
            check_sim_handler(&bytes);
        }
        for (_, bytes) in corpus("person_record") {
            check_person_record(&bytes);
        }
    }

    /// The recorded sessions replay to what they did: exactly the seeds named in
    /// [`SUCCEEDING_SEEDS`] succeed.
    #[test]
    fn recorded_sessions_replay_to_their_outcome() {
        let mut succeeded = Vec::new();
        for (name, bytes) in corpus("replay_read") {
            if check_replay_read(&bytes) {
                succeeded.push(name);
            }
        }
        for (name, bytes) in corpus("replay_personalize") {
            if check_replay_personalize(&bytes) {
                succeeded.push(name);
            }
        }
        succeeded.sort();
        let mut expected: Vec<String> = SUCCEEDING_SEEDS.iter().map(|s| s.to_string()).collect();
        expected.sort();
        assert_eq!(succeeded, expected);
    }

    /// The fake card ends every operation: past the stream the card is gone.
    #[test]
    fn the_replay_card_ends_when_the_stream_ends() {
        assert!(!check_replay_read(&[]));
        assert!(!check_replay_read(&[0x02, 0x02, 0x90, 0x00]));
        assert!(!check_replay_personalize(&[0x00]));
    }

    /// The personalization property sees a card number written before the rest.
    #[test]
    fn an_early_card_number_is_seen() {
        let select = commands::select_aid(&profile::SSSE_AID)
            .to_bytes()
            .unwrap()
            .to_vec();
        let update = |tag: u8, value: &[u8]| {
            commands::update_record(
                Some(5),
                sscard_core::apdu::RecordRef::Tag(tag),
                tlv::simple(tag, value),
            )
            .to_bytes()
            .unwrap()
            .to_vec()
        };
        let g = Generation::V2;
        let others: Vec<Vec<u8>> = Ef::RECORD_FILES
            .iter()
            .flat_map(|ef| profile::records(g, *ef))
            .filter(|s| s.tag != profile::tag::CARD_ID && s.tag != profile::tag::CARD_NUMBER)
            .map(|s| update(s.tag, &vec![0x31; s.len]))
            .collect();
        let number = update(profile::tag::CARD_NUMBER, b"KD5578904");
        let cleared = update(profile::tag::CARD_NUMBER, &[0; 9]);
        // the library's order, an overwrite's cleared number first
        let mut good = vec![select.clone(), cleared];
        good.extend(others.iter().cloned());
        good.push(number.clone());
        assert_eq!(card_number_written_last(&good, g), Ok(()));
        // the number before the last item
        let mut bad = vec![select.clone()];
        bad.extend(others[..others.len() - 1].iter().cloned());
        bad.push(number.clone());
        bad.extend(others.last().cloned());
        assert!(card_number_written_last(&bad, g).is_err());
        // items written before a new SELECT (a restart) do not count for the next attempt
        let mut restarted = vec![select.clone()];
        restarted.extend(others.iter().cloned());
        restarted.push(select);
        restarted.push(number);
        assert!(card_number_written_last(&restarted, g).is_err());
    }
}

/// The blocklist file parser (the fuzz target `blocklist_file`).
pub mod blocklist;

/// The medical account commands of the simulated card and PSAM (the fuzz target `sim_account`).
pub mod account;
