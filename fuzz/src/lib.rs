//! The properties sscard is fuzzed for, shared by the cargo-fuzz targets (`fuzz/fuzz_targets`)
//! and the bounded property tests (`tests/properties.rs`, which includes this file as a module).
//!
//! Every `check_*` function takes arbitrary bytes and panics only when a property is broken:
//!
//! - [`check_parsers`]: the response, command, record and FCI parsers and the typed EF data never
//!   panic, and what they accept round-trips;
//! - [`check_replay_read`] / [`check_replay_personalize`]: the high-level read and personalize
//!   flows against a [`ReplayCard`], a fake card answering every command with the next response
//!   from the input (as OpenSC's fuzzing reader does), never panic and always end;
//! - [`check_sim_handler`]: the simulated card, in a chosen state, fed a sequence of APDUs, always
//!   answers a status word, and its image still serializes to JSON and loads back equal;
//! - [`check_person_record`]: person records (JSON, or the cells of a CSV-like row) never panic
//!   the validation, and validated data round-trips through the card records.
//!
//! The input formats are documented on each function; `fuzz/examples/make_seeds.rs` writes the
//! seed corpora in `fixtures/fuzz/` with the encoders here.
#![forbid(unsafe_code)]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use sscard_core::apdu::{Command, Response};
use sscard_core::codec;
use sscard_core::crypto::{self, Pin, SecretKey};
use sscard_core::data::{
    BcdDate, CardIdentificationCode, CardIssuingData, HolderData, PersonRecord, Personalization,
    SupplementaryData,
};
use sscard_core::keyholder::KeyFile;
use sscard_core::lifecycle::{self, Application, Card, PersonalizeOptions, ReadOptions};
use sscard_core::profile::Generation;
use sscard_core::transport::{Transport, TransportError};
use sscard_core::Algorithm;
use sscard_sim::{CardImage, CardSpec, SecretBytes, SimCard, SimPsam, SimTransport};

/// The development master keys (TEST KEYS ONLY).
pub const TEST_KEYS: &str = include_str!("../../fixtures/keys/test-keys.json");

/// The fixture persons, one per generation (1.0, 2.0, 3.0).
pub const PERSONS: [&str; 3] = [
    include_str!("../../fixtures/persons/li-si-1.json"),
    include_str!("../../fixtures/persons/zhang-san-2.json"),
    include_str!("../../fixtures/persons/wang-wu-3.json"),
];

/// The chip serial of every simulated card here (the scenario files' default).
pub const SERIAL: [u8; 4] = [0x00, 0xBF, 0x7C, 0x7A];

/// The region of the fixture persons' cards.
pub const REGION: &str = "639900";

/// The PIN the holder of an "activated" card chose.
pub const ACTIVATED_PIN: &str = "258036";

const GENERATIONS: [Generation; 3] = [Generation::V1, Generation::V2, Generation::V3];

/// The test key file.
pub fn test_keys() -> KeyFile {
    KeyFile::from_json(TEST_KEYS).expect("fixtures/keys/test-keys.json")
}

/// The validated fixture person `index` (0: 1.0, 1: 2.0, 2: 3.0; taken modulo 3).
pub fn fixture_person(index: usize) -> Personalization {
    let text = PERSONS[index % PERSONS.len()];
    PersonRecord::from_json(text)
        .and_then(|r| r.validate())
        .expect("fixture person")
}

// ---------------------------------------------------------------------------------------------
// Parsers
// ---------------------------------------------------------------------------------------------

/// Response, command, SIMPLE-TLV record and FCI parsing, and the typed EF05/EF06/EF0D data on
/// whatever records parse. Nothing may panic; a parsed response or command re-encodes to bytes
/// that parse to the same thing; typed data that parses re-encodes to records that parse back
/// to equal data.
pub fn check_parsers(data: &[u8]) {
    if let Ok(response) = Response::parse(data) {
        assert_eq!(
            response.to_bytes(),
            data,
            "Response::parse / to_bytes round trip"
        );
    }
    if let Ok(command) = Command::parse(data) {
        // a parsed command always encodes again, and the encoding parses to the same command
        let bytes = command.to_bytes().expect("a parsed command encodes");
        let again = Command::parse(&bytes).expect("an encoded command parses");
        assert_eq!(again.header(), command.header());
        assert_eq!(again.data(), command.data());
        assert_eq!(again.le(), command.le());
    }
    let _ = Application::from_fci(data);
    // the field decoders on the raw bytes
    let _ = codec::decode_an("fuzz", data);
    let _ = codec::decode_gbk("fuzz", data);
    let _ = codec::decode_cn("fuzz", data);
    let _ = codec::from_gbk("fuzz", data);
    let _ = sscard_core::data::Name::from_parts(data, None);
    // the typed data, on the records of the whole input
    check_records(data);
    // and with the first byte as an FCI-less prefix dropped (records rarely start at byte 0 of
    // a mutated input)
    if let Some((_, rest)) = data.split_first() {
        check_records(rest);
    }
}

/// The `(tag, full TLV)` records of a `to_records` concatenated, as a card returns them.
fn concat_records(records: &[(u8, Vec<u8>)]) -> Vec<u8> {
    records
        .iter()
        .flat_map(|(_, tlv)| tlv.iter().copied())
        .collect()
}

fn check_records(data: &[u8]) {
    let Ok(records) = codec::parse_records(data) else {
        return;
    };
    for generation in GENERATIONS {
        if let Ok(issuing) = CardIssuingData::from_records(generation, &records) {
            if let Ok(encoded) = issuing.to_records(generation) {
                let bytes = concat_records(&encoded);
                let borrowed = codec::parse_records(&bytes).expect("encoded records parse");
                let back = CardIssuingData::from_records(generation, &borrowed)
                    .expect("re-encoded EF05 records parse");
                assert_eq!(back, issuing, "EF05 round trip ({generation:?})");
            }
        }
        if let Ok(holder) = HolderData::from_records(generation, &records) {
            if let Ok(encoded) = holder.to_records(generation) {
                let bytes = concat_records(&encoded);
                let borrowed = codec::parse_records(&bytes).expect("encoded records parse");
                let back = HolderData::from_records(generation, &borrowed)
                    .expect("re-encoded EF06 records parse");
                assert_eq!(back, holder, "EF06 round trip ({generation:?})");
            }
        }
        if let Ok(supplementary) = SupplementaryData::from_records(generation, &records) {
            if let Ok(encoded) = supplementary.to_records(generation) {
                let bytes = concat_records(&encoded);
                let borrowed = codec::parse_records(&bytes).expect("encoded records parse");
                let back = SupplementaryData::from_records(generation, &borrowed)
                    .expect("re-encoded EF0D records parse");
                assert_eq!(back, supplementary, "EF0D round trip ({generation:?})");
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
    /// Commands received.
    pub exchanges: usize,
}

impl<'a> ReplayCard<'a> {
    /// A card with `atr` answering from `stream`.
    pub fn new(atr: Vec<u8>, stream: &'a [u8]) -> ReplayCard<'a> {
        ReplayCard {
            stream,
            atr,
            epoch: 0,
            exchanges: 0,
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
        assert!(!command.is_empty(), "the library sent an empty APDU");
        self.exchanges += 1;
        assert!(
            self.exchanges <= MAX_EXCHANGES,
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

/// Splits the replay input: flags byte, then (flag bit 0) an ATR chunk, then the stream.
fn replay_setup(data: &[u8]) -> (u8, Vec<u8>, &[u8]) {
    let Some((&flags, rest)) = data.split_first() else {
        return (0, sscard_sim::atr_for_serial(SERIAL), &[]);
    };
    if flags & 1 == 0 {
        return (flags, sscard_sim::atr_for_serial(SERIAL), rest);
    }
    let mut atr_card = ReplayCard::new(Vec::new(), rest);
    let atr = atr_card.next_response().unwrap_or_default();
    (flags, atr, atr_card.stream)
}

/// `lifecycle::read` against a [`ReplayCard`]. Input: a flags byte (bit 0: an ATR chunk
/// follows, else the simulated card's ATR; bit 1: a key holder (the test keys); bit 2: read
/// EF0D; bit 3: internal authentication; bit 4: check the card identification code), then the
/// response stream. Errors are fine; panics and runaway loops are not. Returns whether the
/// read succeeded.
pub fn check_replay_read(data: &[u8]) -> bool {
    let (flags, atr, stream) = replay_setup(data);
    let Ok(mut card) = Card::open(ReplayCard::new(atr, stream)) else {
        return false;
    };
    let options = ReadOptions::default()
        .with_supplementary(flags & 4 != 0)
        .with_verify_genuine(flags & 8 != 0)
        .with_verify_card_id(flags & 16 != 0);
    let mut keys = test_keys();
    let key_holder: Option<&mut dyn sscard_core::keyholder::KeyHolder> = if flags & 2 != 0 {
        Some(&mut keys)
    } else {
        None
    };
    match lifecycle::read(&mut card, key_holder, &options) {
        Ok(data) => {
            // whatever was read is displayable and serializable
            let _ = data.basic_line();
            serde_json::to_string(&data).expect("CardData serializes");
            true
        }
        Err(_) => false,
    }
}

/// `lifecycle::personalize` with the test keys against a [`ReplayCard`]. Input: a flags byte
/// (bit 0: an ATR chunk follows; bits 1-2: the fixture person (modulo 3); bit 3:
/// re-personalization allowed; bit 4: no read-back), then the response stream. Returns whether
/// the personalization succeeded.
pub fn check_replay_personalize(data: &[u8]) -> bool {
    let (flags, atr, stream) = replay_setup(data);
    let Ok(mut card) = Card::open(ReplayCard::new(atr, stream)) else {
        return false;
    };
    let person = fixture_person(usize::from((flags >> 1) & 3));
    let options = PersonalizeOptions::default()
        .with_repersonalize(flags & 8 != 0)
        .with_verify(flags & 16 == 0);
    lifecycle::personalize(&mut card, &mut test_keys(), &person, &options).is_ok()
}

/// Records the responses of a real (simulated) session as a replay stream: wraps a transport and
/// appends every response it gives as a chunk.
pub struct Recorder<T> {
    /// The wrapped transport.
    pub inner: T,
    /// The responses so far, in the replay format.
    pub stream: Vec<u8>,
}

impl<T: Transport> Transport for Recorder<T> {
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, TransportError> {
        let response = self.inner.transmit(command)?;
        encode_chunk(&mut self.stream, &response);
        Ok(response)
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
    /// Power-on reset.
    pub const RESET: u8 = 0xFC;
    /// GET CHALLENGE + EXTERNAL AUTHENTICATE with the card key given by the next byte.
    pub const AUTH: u8 = 0xFD;
    /// GET CHALLENGE + a MAC command: key byte, length byte, `CLA INS P1 P2 ‖ data before the
    /// MAC`; the harness appends the MAC with the card key.
    pub const MAC: u8 = 0xFE;
    /// An APDU with a 16-bit length (two bytes, big endian) follows.
    pub const LONG: u8 = 0xFF;
    /// Lengths up to this are a single length byte.
    pub const MAX_SHORT: u8 = 0xFB;
}

/// The life stage a simulated card starts in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SimState {
    /// Blank (manufactured).
    Blank,
    /// Personalized with the fixture person of its generation.
    Personalized,
    /// Personalized and activated (holder PIN [`ACTIVATED_PIN`]).
    Activated,
    /// Personalized, application temporarily blocked.
    TempBlocked,
    /// Personalized, application permanently blocked.
    PermBlocked,
    /// Personalized, card blocked.
    CardBlocked,
    /// Half personalized: authenticated with key 04 and one record written, then torn.
    Personalizing,
}

const SIM_STATES: [SimState; 7] = [
    SimState::Blank,
    SimState::Personalized,
    SimState::Activated,
    SimState::TempBlocked,
    SimState::PermBlocked,
    SimState::CardBlocked,
    SimState::Personalizing,
];

fn build_image(generation: Generation, algorithm: Algorithm, state: SimState) -> CardImage {
    let mut keys = test_keys();
    let region = REGION.parse().expect("region");
    let spec = CardSpec::new(generation, algorithm, region, SERIAL);
    let sim = SimCard::blank(spec, &mut keys).expect("blank card");
    if state == SimState::Blank {
        return sim.into_image();
    }
    let index = GENERATIONS
        .iter()
        .position(|g| *g == generation)
        .unwrap_or(0);
    let person = fixture_person(index);
    let mut card = Card::open(SimTransport::new(sim)).expect("open");
    if state == SimState::Personalizing {
        let mut sim = card.into_transport().into_card();
        sim.handle(
            &sscard_core::apdu::commands::select_aid(&sscard_core::profile::SSSE_AID)
                .to_bytes()
                .expect("select")[..],
        );
        authenticate(&mut sim, 0x04);
        let tlv = codec::tlv(0x02, b"3");
        let command = sscard_core::apdu::commands::update_record(
            Some(5),
            sscard_core::apdu::RecordRef::Tag(2),
            tlv,
        );
        sim.handle(&command.to_bytes().expect("update"));
        return sim.into_image();
    }
    lifecycle::personalize(
        &mut card,
        &mut keys,
        &person,
        &PersonalizeOptions::default(),
    )
    .expect("personalize");
    match state {
        SimState::Activated => {
            let today: BcdDate = "20261123".parse().expect("date");
            lifecycle::activate(
                &mut card,
                &mut keys,
                &Pin::initial(),
                &Pin::new(ACTIVATED_PIN).expect("pin"),
                today,
            )
            .expect("activate");
        }
        SimState::TempBlocked | SimState::PermBlocked => {
            lifecycle::block_application(&mut card, &mut keys, state == SimState::PermBlocked)
                .expect("block");
        }
        SimState::CardBlocked => lifecycle::block_card(&mut card, &mut keys).expect("block card"),
        _ => {}
    }
    card.into_transport().into_card().into_image()
}

type ImageKey = (usize, usize, usize);

/// The card image of `generation`, `algorithm` and `state`, built once per process.
pub fn sim_image(generation: Generation, algorithm: Algorithm, state: SimState) -> CardImage {
    static CACHE: OnceLock<Mutex<HashMap<ImageKey, CardImage>>> = OnceLock::new();
    let key = (
        GENERATIONS
            .iter()
            .position(|g| *g == generation)
            .unwrap_or(0),
        Algorithm::ALL
            .iter()
            .position(|a| *a == algorithm)
            .unwrap_or(0),
        SIM_STATES.iter().position(|s| *s == state).unwrap_or(0),
    );
    let cache = CACHE.get_or_init(|| Mutex::new(HashMap::new()));
    let mut cache = cache.lock().unwrap_or_else(|e| e.into_inner());
    cache
        .entry(key)
        .or_insert_with(|| build_image(generation, algorithm, state))
        .clone()
}

fn card_key(sim: &SimCard, id: u8) -> Option<SecretKey> {
    SecretKey::from_bytes(sim.image().key(id)?.expose()).ok()
}

fn get_challenge(sim: &mut SimCard) -> Option<Vec<u8>> {
    let b = sim.image().algorithm.block_len();
    let mut answer = sim.handle(&[0x00, 0x84, 0x00, 0x00, b as u8]);
    if answer.len() >= 2 && answer[answer.len() - 2] == 0x61 {
        // T=0: the challenge comes with GET RESPONSE
        let le = answer[answer.len() - 1];
        answer = sim.handle(&[0x00, 0xC0, 0x00, 0x00, le]);
    }
    match answer.split_last_chunk::<2>() {
        Some((challenge, [0x90, 0x00])) if challenge.len() == b => Some(challenge.to_vec()),
        _ => None,
    }
}

/// GET CHALLENGE + EXTERNAL AUTHENTICATE with card key `id` (from the card's own image).
pub fn authenticate(sim: &mut SimCard, id: u8) -> Vec<u8> {
    let algorithm = sim.image().algorithm;
    let Some(challenge) = get_challenge(sim) else {
        return sim.handle(&[0x00, 0x82, 0x00, id]);
    };
    let cryptogram = card_key(sim, id)
        .and_then(|key| crypto::external_auth_cryptogram(algorithm, &key, &challenge).ok())
        .map(|c| c.to_vec())
        .unwrap_or_else(|| vec![0; challenge.len()]);
    let mut command = vec![0x00, 0x82, 0x00, id, cryptogram.len() as u8];
    command.extend_from_slice(&cryptogram);
    sim.handle(&command)
}

/// GET CHALLENGE + `header Lc data_before ‖ MAC` with card key `id`.
pub fn mac_command(sim: &mut SimCard, id: u8, header_and_data: &[u8]) -> Vec<u8> {
    let algorithm = sim.image().algorithm;
    let Some((header, data_before)) = header_and_data.split_first_chunk::<4>() else {
        return sim.handle(header_and_data);
    };
    let Some(challenge) = get_challenge(sim) else {
        return sim.handle(header_and_data);
    };
    let [cla, ins, p1, p2] = *header;
    let input = sscard_core::apdu::commands::mac_input(cla, ins, p1, p2, data_before);
    let mac = card_key(sim, id)
        .and_then(|key| crypto::mac(algorithm, &key, &challenge, &input).ok())
        .unwrap_or([0; 4]);
    let mut command = header.to_vec();
    let lc = data_before.len() + 4;
    if lc <= 255 {
        command.push(lc as u8);
    } else {
        command.push(0);
        command.extend_from_slice(&(lc as u16).to_be_bytes());
    }
    command.extend_from_slice(data_before);
    command.extend_from_slice(&mac);
    sim.handle(&command)
}

/// The simulated card's `handle`. Input: a card byte (`b % 3` generation, `b / 3 % 3`
/// algorithm), a state byte (`b % 8`: blank, personalized, activated, temporarily blocked,
/// permanently blocked, card blocked, personalizing, or 7: the PSAM; bit 3: T=0 behaviour;
/// bit 4: no all-records READ RECORD mode), then operations: a length byte `0..=FB` and an APDU
/// of that length; `FF hi lo` and an APDU of a 16-bit length; `FC` power-on reset; `FD k`
/// authenticate with card key `k`; `FE k n <n bytes>` a MAC command with card key `k` (header and
/// data before the MAC; the harness computes the MAC).
///
/// After every operation the card answered at least a status word, and after every operation
/// that wrote persistent memory its image serializes to JSON and loads back equal.
pub fn check_sim_handler(data: &[u8]) {
    let mut input = data;
    let mut byte = || -> Option<u8> {
        let (&b, rest) = input.split_first()?;
        input = rest;
        Some(b)
    };
    let (Some(card_byte), Some(state_byte)) = (byte(), byte()) else {
        return;
    };
    let generation = GENERATIONS[usize::from(card_byte % 3)];
    let algorithm = Algorithm::ALL[usize::from(card_byte / 3 % 3)];
    let stream = input;
    if state_byte % 8 == 7 {
        check_psam(algorithm, stream);
        return;
    }
    let state = SIM_STATES[usize::from(state_byte % 8)];
    let mut sim = SimCard::from_image(sim_image(generation, algorithm, state)).expect("image");
    sim.seed_rng(u64::from(card_byte) << 8 | u64::from(state_byte));
    let mut options = sim.image().options;
    options.t0_mode = state_byte & 8 != 0;
    options.all_records_mode = state_byte & 16 == 0;
    sim.set_options(options);

    let mut checked_writes = u64::MAX; // the start image is checked too
    let mut ops = Ops { input: stream };
    while let Some(op) = ops.next() {
        let response = match op {
            Op::Reset => {
                sim.reset();
                continue;
            }
            Op::Apdu(apdu) => sim.handle(apdu),
            Op::Auth(key) => authenticate(&mut sim, key),
            Op::Mac(key, body) => mac_command(&mut sim, key, body),
        };
        assert!(response.len() >= 2, "a response without a status word");
        assert!(response.len() <= 65_538, "a response longer than 65536 + 2");
        // the image changes only through the card's persistence point, which counts writes:
        // round-trip it after every APDU that wrote
        if sim.persistent_writes() != checked_writes {
            checked_writes = sim.persistent_writes();
            let json = sim.save_json().expect("the image serializes");
            let loaded = SimCard::load_json(&json).expect("the serialized image loads");
            assert_eq!(loaded.image(), sim.image(), "the image round-trips JSON");
        }
    }
}

fn check_psam(algorithm: Algorithm, stream: &[u8]) {
    let keys: serde_json::Value = serde_json::from_str(TEST_KEYS).expect("key file JSON");
    let master: Vec<(u8, SecretBytes)> = keys["algorithms"][algorithm.name()]
        .as_object()
        .map(|m| {
            m.iter()
                .filter_map(|(id, hex_key)| {
                    let id = u8::from_str_radix(id, 16).ok()?;
                    let key = hex::decode(hex_key.as_str()?).ok()?;
                    Some((id, SecretBytes::from_slice(&key)))
                })
                .collect()
        })
        .unwrap_or_default();
    let mut psam = SimPsam::new(algorithm, &master, "123456789012").expect("PSAM");
    let mut ops = Ops { input: stream };
    while let Some(op) = ops.next() {
        let response = match op {
            Op::Apdu(apdu) | Op::Mac(_, apdu) => psam.handle(apdu),
            Op::Reset | Op::Auth(_) => continue,
        };
        assert!(response.len() >= 2, "a PSAM response without a status word");
    }
}

enum Op<'a> {
    Reset,
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

/// The card byte and state byte of [`check_sim_handler`] for a start state.
pub fn sim_prefix(
    generation: Generation,
    algorithm: Algorithm,
    state: Option<SimState>,
    t0: bool,
    all_records: bool,
) -> [u8; 2] {
    let g = GENERATIONS
        .iter()
        .position(|x| *x == generation)
        .unwrap_or(0) as u8;
    let a = Algorithm::ALL
        .iter()
        .position(|x| *x == algorithm)
        .unwrap_or(0) as u8;
    let s = match state {
        Some(state) => SIM_STATES.iter().position(|x| *x == state).unwrap_or(0) as u8,
        None => 7,
    };
    [
        a * 3 + g,
        s | if t0 { 8 } else { 0 } | if all_records { 0 } else { 16 },
    ]
}

// ---------------------------------------------------------------------------------------------
// Person records
// ---------------------------------------------------------------------------------------------

/// The columns of a person row, in the order the row mode of [`check_person_record`] fills them.
pub const ROW_COLUMNS: [&str; 15] = [
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
    "person_id",
    "first_region",
];

/// Person records: input starting with `{` (or anything but `,`-separated text, after a first
/// byte `0`) is JSON text (UTF-8, lossy) for `PersonRecord::from_json`; otherwise it is one
/// CSV-like row whose `,`-separated cells (UTF-8, or GBK like the batch input) fill
/// [`ROW_COLUMNS`] in order (empty optional cells are absent). Validation never panics, and a
/// valid person's EF05/EF06/EF0D data round-trips through the card records.
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
    let borrowed = codec::parse_records(&bytes).expect("encoded records parse");
    let back = HolderData::from_records(generation, &borrowed).expect("EF06 records parse");
    assert_eq!(&back, holder, "EF06 round trip of a valid person");
    if let Some(supplementary) = person.supplementary() {
        let encoded = supplementary
            .to_records(generation)
            .expect("valid supplementary data encodes");
        let bytes = concat_records(&encoded);
        let borrowed = codec::parse_records(&bytes).expect("encoded records parse");
        let back =
            SupplementaryData::from_records(generation, &borrowed).expect("EF0D records parse");
        assert_eq!(&back, supplementary, "EF0D round trip of a valid person");
    }
    let mut id = [0u8; 16];
    id[..3].copy_from_slice(&[0x63, 0x99, 0x00]);
    id[3..8].copy_from_slice(&[0xD1, 0x56, 0x00, 0x00, 0x05]);
    id[8..12].copy_from_slice(&SERIAL);
    let card_id = CardIdentificationCode::from_bytes(&id).expect("card id");
    let issuing = person.issuing_data(card_id);
    let encoded = issuing
        .to_records(generation)
        .expect("valid issuing data encodes");
    let bytes = concat_records(&encoded);
    let borrowed = codec::parse_records(&bytes).expect("encoded records parse");
    let back = CardIssuingData::from_records(generation, &borrowed).expect("EF05 records parse");
    assert_eq!(back, issuing, "EF05 round trip of a valid person");
    // the record re-serializes to JSON that reads back the same
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
    let person_id = Some(next()).filter(|c| !c.is_empty());
    let first_region = Some(next()).filter(|c| !c.is_empty());
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
        person_id,
        first_region,
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
