//! A social security card (社会保障卡) simulated in process from the public national
//! specification alone: 《社会保障（个人）卡规范》 parts 2-10, the V2.0 notice on the file
//! structure and data items, the 2016 reader-interface specification, and sscard's
//! interoperability profile (`docs/interop-profile.md`, cited as "profile Dn") for the points
//! the specification leaves open.
//!
//! It is written without looking at sscard's own code so that it can serve as an independent
//! conformance oracle for sscard's terminal side.
//!
//! ```
//! use cleanroom_card::{Algorithm, Card, CardConfig, SpecVersion};
//! use std::collections::BTreeMap;
//!
//! let mut roots = BTreeMap::new();
//! for role in ["IRK", "RKSSSE", "UKSSSE", "PUK", "STKSSSE", "BK"] {
//!     roots.insert(role.to_string(), vec![0x11; 16]);
//! }
//! let mut card = Card::new(CardConfig {
//!     algorithm: Algorithm::Sm4,
//!     version: SpecVersion::V3,
//!     region: "519900".into(),
//!     atr_serial: [0x00, 0x00, 0x01, 0xAC],
//!     card_serial: [0x10, 0x00, 0x0B, 0x26],
//!     roots,
//! })
//! .unwrap();
//! assert_eq!(card.atr()[..4], [0x3B, 0x6D, 0x00, 0x00]);
//! let mut select = vec![0x00, 0xA4, 0x04, 0x00, 0x0F];
//! select.extend_from_slice(&cleanroom_card::fs::SSSE_NAME);
//! let answer = card.transmit(&select);
//! assert_eq!(answer[answer.len() - 2..], [0x90, 0x00]);
//! ```
#![forbid(unsafe_code)]

pub mod apdu;
pub mod crypto;
pub mod fs;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use rand::rngs::StdRng;
use rand::{RngCore, SeedableRng};

use apdu::{Body, Command, Sw};
use crypto::Factors;
use fs::{Access, Contents, EfSpec, Occurrence, Structure};

/// Card key identifier of STKSSSE, the maintenance MAC/encryption key (profile D2).
pub const KEY_STKSSSE: u8 = 0x02;
/// Card key identifier of UKSSSE (= UKMF), the update key of the SSSE files (profile D2).
pub const KEY_UKSSSE: u8 = 0x04;
/// Card key identifier of BK, the blocking key (profile D2).
pub const KEY_BK: u8 = 0x05;
/// Card key identifier of PUK, the PIN unblock/reload key (profile D2).
pub const KEY_PUK: u8 = 0x06;
/// Card key identifier of RKSSSE, the read key of the SSSE files (profile D2).
pub const KEY_RKSSSE: u8 = 0x0A;
/// INTERNAL AUTHENTICATE P2 addressing IRK (profile D2).
pub const KEY_IRK: u8 = 0x00;

/// The key version byte (17th data byte of EXTERNAL/INTERNAL AUTHENTICATE, part 5 §6.4.3 and
/// §6.7.3) the card accepts: its keys are those of group 1 (profile D3).
pub const KEY_VERSION: u8 = 0x01;

/// Try limit of the PIN and of every counted key (profile D4).
pub const MAX_TRIES: u8 = 3;

/// The seven manufacturer-defined historical bytes T1..T7 of the ATR (chip provider, chip or
/// OS provider, card manufacturer: part 2 §8.4 table 16). The specification leaves their
/// values to the manufacturer; these are the ones of the field trace's card.
pub const ATR_MANUFACTURER_BYTES: [u8; 7] = [0x00, 0x81, 0x4A, 0x44, 0x46, 0x86, 0x60];

/// The authentication code written in the card identification code of a blank card. The
/// specification says it is "obtained by encryption" without defining how (V2.0 notice
/// §8.1.1.1); profile D15 treats it as opaque. `FF FF FF FF` is what the field trace's card
/// holds.
pub const BLANK_AUTH_CODE: [u8; 4] = [0xFF; 4];

/// The block cipher family of a card.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Algorithm {
    /// DES / two-key triple DES, 8-byte blocks.
    Des,
    /// SM4, 16-byte blocks.
    Sm4,
}

impl Algorithm {
    /// The block length in bytes.
    pub fn block_len(self) -> usize {
        match self {
            Algorithm::Des => 8,
            Algorithm::Sm4 => 16,
        }
    }

    /// The algorithm identifier of the SSSE FCI (`9F0C` → `86`): `01` DES, `03` SM4
    /// (reader-interface specification §10.1).
    pub fn id(self) -> u8 {
        match self {
            Algorithm::Des => 0x01,
            Algorithm::Sm4 => 0x03,
        }
    }

    /// The length a root key of `role` must have (profile D2): 16 bytes, except STKSSSE on
    /// DES cards, which is an 8-byte single-DES key.
    pub fn key_len(self, role: &str) -> usize {
        if self == Algorithm::Des && role == "STKSSSE" {
            8
        } else {
            16
        }
    }
}

/// The specification version a card follows (V2.0 notice §8.1.1.3; reader-interface
/// specification §10.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SpecVersion {
    /// "1.00": LB002-2000 cards; no tag `4E`, no EF07/EF08.
    V1,
    /// "2.00": V2.0 notice cards.
    V2,
    /// "3.00": 3.0 cards; EF06 is read under RKSSSE.
    V3,
}

impl SpecVersion {
    /// The text of data item `03` (规范版本) for this version.
    pub fn as_str(self) -> &'static str {
        match self {
            SpecVersion::V1 => "1.00",
            SpecVersion::V2 => "2.00",
            SpecVersion::V3 => "3.00",
        }
    }
}

/// Everything needed to manufacture a blank card.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CardConfig {
    /// The algorithm family.
    pub algorithm: Algorithm,
    /// The specification version.
    pub version: SpecVersion,
    /// The 6-digit region code (行政区划代码) of the issuing area, e.g. `"519900"`.
    pub region: String,
    /// Historical bytes TA..TD of the ATR: the issuer's unique card serial (part 2 table 16).
    pub atr_serial: [u8; 4],
    /// The serial number (卡的流水号) inside the card identification code (V2.0 notice
    /// table 10).
    pub card_serial: [u8; 4],
    /// National root keys by role name: `IRK`, `RKSSSE`, `UKSSSE`, `PUK`, `STKSSSE`, `BK`.
    /// Other entries are ignored. `RKSSSE` is not needed on 1.0 cards.
    pub roots: BTreeMap<String, Vec<u8>>,
}

/// Why a card could not be built.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConfigError {
    /// The region code is not six ASCII digits.
    BadRegion(String),
    /// A root key the card needs is missing.
    MissingRoot(&'static str),
    /// A root key has the wrong length for the algorithm (profile D2).
    BadRootLength {
        /// The role.
        role: &'static str,
        /// The length given.
        len: usize,
        /// The length required.
        expected: usize,
    },
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::BadRegion(r) => write!(f, "region code {r:?} is not six digits"),
            ConfigError::MissingRoot(role) => write!(f, "root key {role} is missing"),
            ConfigError::BadRootLength {
                role,
                len,
                expected,
            } => write!(f, "root key {role} has {len} bytes, {expected} expected"),
        }
    }
}

impl std::error::Error for ConfigError {}

/// One key loaded in the SSSE.
#[derive(Clone, Debug)]
struct CardKey {
    role: &'static str,
    value: Vec<u8>,
    /// Whether EXTERNAL AUTHENTICATE failures count against a try limit (profile D4: not for
    /// BK and STKSSSE).
    counted: bool,
    /// Whether EXTERNAL AUTHENTICATE may address it.
    external: bool,
}

/// The current dedicated file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Df {
    Mf,
    Ssse,
}

/// The answer of one command before T=0 chaining is applied.
struct Answer {
    data: Vec<u8>,
    sw: Sw,
    /// A case-4 command (SELECT with FCI, INTERNAL AUTHENTICATE): under T=0 its data is
    /// announced with `61xx` and fetched with GET RESPONSE.
    case4: bool,
}

impl Answer {
    fn sw(sw: Sw) -> Answer {
        Answer {
            data: Vec::new(),
            sw,
            case4: false,
        }
    }

    fn data(data: Vec<u8>) -> Answer {
        Answer {
            data,
            sw: Sw::OK,
            case4: false,
        }
    }

    fn case4(data: Vec<u8>) -> Answer {
        Answer {
            data,
            sw: Sw::OK,
            case4: true,
        }
    }
}

impl From<Sw> for Answer {
    fn from(sw: Sw) -> Answer {
        Answer::sw(sw)
    }
}

/// A simulated social security card.
///
/// Persistent state (records, transparent files, PIN, try counters, block states) survives
/// [`Card::reset`]; volatile state (current DF/EF, record pointer, challenge, security state)
/// does not.
pub struct Card {
    algorithm: Algorithm,
    version: SpecVersion,
    region: String,
    historical: [u8; 13],
    factors: Factors,
    keys: BTreeMap<u8, CardKey>,
    specs: Vec<EfSpec>,
    // Persistent.
    files: BTreeMap<u16, Contents>,
    pin: Option<Vec<u8>>,
    pin_tries: u8,
    key_tries: BTreeMap<u8, u8>,
    app_blocked: bool,
    card_blocked: bool,
    // Volatile.
    df: Df,
    ef: Option<u16>,
    record_pointer: Option<usize>,
    challenge: Option<Vec<u8>>,
    authenticated: BTreeSet<u8>,
    pin_verified: bool,
    pending: Vec<u8>,
    // Behaviour.
    t0_chaining: bool,
    rng: StdRng,
}

impl fmt::Debug for Card {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Card")
            .field("algorithm", &self.algorithm)
            .field("version", &self.version)
            .field("region", &self.region)
            .field("app_blocked", &self.app_blocked)
            .field("card_blocked", &self.card_blocked)
            .finish_non_exhaustive()
    }
}

fn bcd_digits(digits: &[u8]) -> Vec<u8> {
    digits
        .chunks(2)
        .map(|pair| {
            let hi = pair.first().map_or(0xF, |d| d.wrapping_sub(b'0'));
            let lo = pair.get(1).map_or(0xF, |d| d.wrapping_sub(b'0'));
            (hi << 4) | (lo & 0x0F)
        })
        .collect()
}

/// Whether `pin` is a valid `cn` PIN (part 5 §6.3.1): packed decimal digits, only the low
/// nibble of the last byte may be the `F` filler, at least 4 digits; at most 8 bytes (the
/// largest VERIFY data field, part 5 table 46).
pub fn is_valid_pin(pin: &[u8]) -> bool {
    if pin.is_empty() || pin.len() > 8 {
        return false;
    }
    let nibbles: Vec<u8> = pin.iter().flat_map(|b| [b >> 4, b & 0x0F]).collect();
    let digits = match nibbles.split_last() {
        Some((0x0F, rest)) => rest,
        _ => &nibbles[..],
    };
    digits.len() >= 4 && digits.iter().all(|n| *n <= 9)
}

impl Card {
    /// Manufactures a blank card (profile D14): the SSSE files created, the card keys (each
    /// national root diversified by the province, city and card factors, profile D1/D5,
    /// part 9 §7.3) loaded, the PIN empty with 3 tries, every counted key at 3 tries, and
    /// EF05 record `01` (card identification code: region ‖ `D1 56 00 00 05` ‖ serial ‖
    /// authentication code, V2.0 notice §8.1.1.1) written.
    pub fn new(config: CardConfig) -> Result<Card, ConfigError> {
        let region_bytes = config.region.as_bytes();
        if region_bytes.len() != 6 || !region_bytes.iter().all(u8::is_ascii_digit) {
            return Err(ConfigError::BadRegion(config.region.clone()));
        }
        let mut historical = [0u8; 13];
        historical[..7].copy_from_slice(&ATR_MANUFACTURER_BYTES);
        let t8t9 = bcd_digits(&region_bytes[..4]);
        historical[7..9].copy_from_slice(&t8t9);
        historical[9..].copy_from_slice(&config.atr_serial);
        let factors = Factors::new(&config.region, &historical)
            .ok_or_else(|| ConfigError::BadRegion(config.region.clone()))?;

        let alg = config.algorithm;
        let mut roles: Vec<(&'static str, u8, bool, bool)> = vec![
            ("IRK", KEY_IRK, false, false),
            ("UKSSSE", KEY_UKSSSE, true, true),
            ("PUK", KEY_PUK, true, true),
            ("STKSSSE", KEY_STKSSSE, false, true),
            ("BK", KEY_BK, false, true),
        ];
        if config.version != SpecVersion::V1 {
            roles.push(("RKSSSE", KEY_RKSSSE, true, true));
        }
        let mut keys = BTreeMap::new();
        let mut key_tries = BTreeMap::new();
        for (role, id, counted, external) in roles {
            let root = config
                .roots
                .get(role)
                .ok_or(ConfigError::MissingRoot(role))?;
            let expected = alg.key_len(role);
            if root.len() != expected {
                return Err(ConfigError::BadRootLength {
                    role,
                    len: root.len(),
                    expected,
                });
            }
            let value = crypto::diversify_chain(alg, root, &factors.in_order()).ok_or(
                ConfigError::BadRootLength {
                    role,
                    len: root.len(),
                    expected,
                },
            )?;
            if counted {
                key_tries.insert(id, MAX_TRIES);
            }
            keys.insert(
                id,
                CardKey {
                    role,
                    value,
                    counted,
                    external,
                },
            );
        }

        let specs = fs::ef_specs(config.version);
        let mut files = BTreeMap::new();
        for spec in &specs {
            let contents = match spec.structure {
                Structure::Records => Contents::Records(Vec::new()),
                Structure::Transparent(size) => Contents::Transparent(vec![0u8; size]),
            };
            files.insert(spec.fid, contents);
        }
        let mut id_code = bcd_digits(region_bytes);
        id_code.extend_from_slice(&fs::SSC_AID);
        id_code.extend_from_slice(&config.card_serial);
        id_code.extend_from_slice(&BLANK_AUTH_CODE);
        let mut record = vec![0x01, 0x10];
        record.extend_from_slice(&id_code);
        if let Some(Contents::Records(records)) = files.get_mut(&0xEF05) {
            records.push(record);
        }

        Ok(Card {
            algorithm: alg,
            version: config.version,
            region: config.region,
            historical,
            factors,
            keys,
            specs,
            files,
            pin: None,
            pin_tries: MAX_TRIES,
            key_tries,
            app_blocked: false,
            card_blocked: false,
            df: Df::Mf,
            ef: None,
            record_pointer: None,
            challenge: None,
            authenticated: BTreeSet::new(),
            pin_verified: false,
            pending: Vec::new(),
            t0_chaining: false,
            rng: StdRng::from_os_rng(),
        })
    }

    /// The answer to reset: the basic T=0 ATR of part 2 §8.2 table 7 (`3B`, T0 = `6D`: TB1
    /// and TC1 present and 13 historical bytes, TB1 = `00`, TC1 = `00`) followed by the
    /// historical bytes of part 2 §8.4 table 16: T1..T7 = [`ATR_MANUFACTURER_BYTES`],
    /// T8..T9 = the first four region digits in BCD, TA..TD = the ATR serial.
    pub fn atr(&self) -> Vec<u8> {
        let mut atr = vec![0x3B, 0x6D, 0x00, 0x00];
        atr.extend_from_slice(&self.historical);
        atr
    }

    /// The 13 historical bytes of the ATR.
    pub fn historical_bytes(&self) -> [u8; 13] {
        self.historical
    }

    /// The diversification factors of this card (profile D5).
    pub fn factors(&self) -> &Factors {
        &self.factors
    }

    /// The card's algorithm.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The card's specification version.
    pub fn version(&self) -> SpecVersion {
        self.version
    }

    /// The card keys (after diversification) by role name, for tests and tooling.
    pub fn card_keys(&self) -> BTreeMap<String, Vec<u8>> {
        self.keys
            .values()
            .map(|k| (k.role.to_string(), k.value.clone()))
            .collect()
    }

    /// The PIN try counter.
    pub fn pin_tries(&self) -> u8 {
        self.pin_tries
    }

    /// The try counter of the key of card key identifier `id` (`None` for a key whose
    /// failures do not count, or an unknown identifier).
    pub fn key_tries(&self, id: u8) -> Option<u8> {
        self.key_tries.get(&id).copied()
    }

    /// Whether a VERIFY has succeeded since the last reset (part 7 §5.8).
    pub fn pin_verified(&self) -> bool {
        self.pin_verified
    }

    /// Whether APPLICATION BLOCK has blocked the SSSE.
    pub fn is_application_blocked(&self) -> bool {
        self.app_blocked
    }

    /// Whether CARD BLOCK has blocked the card.
    pub fn is_card_blocked(&self) -> bool {
        self.card_blocked
    }

    /// Makes the challenges reproducible (tests).
    pub fn set_rng_seed(&mut self, seed: u64) {
        self.rng = StdRng::seed_from_u64(seed);
    }

    /// Switches T=0 response chaining on or off (off by default). When on, a case-4 command
    /// that has response data (SELECT of the SSSE, INTERNAL AUTHENTICATE) answers `61xx` and
    /// the data is fetched with GET RESPONSE (part 5 §6.6), as a T=0 card does. When off the
    /// data comes directly with `9000`.
    pub fn set_t0_chaining(&mut self, on: bool) {
        self.t0_chaining = on;
    }

    /// Power off and on again: the volatile state (current DF and EF, record pointer,
    /// challenge, security state, verified PIN, pending response data) is lost and the MF is
    /// current; the persistent state is kept.
    pub fn reset(&mut self) {
        self.df = Df::Mf;
        self.ef = None;
        self.record_pointer = None;
        self.challenge = None;
        self.authenticated.clear();
        self.pin_verified = false;
        self.pending.clear();
    }

    /// Processes one command APDU and returns the response data followed by `SW1 SW2`.
    /// Never panics; malformed commands get a status word.
    pub fn transmit(&mut self, apdu: &[u8]) -> Vec<u8> {
        let pending = std::mem::take(&mut self.pending);
        let answer = self.process(apdu, pending);
        let mut out = answer.data;
        let mut sw = answer.sw;
        if self.t0_chaining && answer.case4 && !out.is_empty() {
            sw = Sw::more_data(out.len());
            self.pending = std::mem::take(&mut out);
        }
        out.extend_from_slice(&sw.bytes());
        out
    }

    fn process(&mut self, apdu: &[u8], pending: Vec<u8>) -> Answer {
        if apdu.len() < 4 {
            return Sw::WRONG_LENGTH.into();
        }
        // Part 5 §6.2.1: after CARD BLOCK every command answers 6A81.
        if self.card_blocked {
            return Sw::NOT_SUPPORTED.into();
        }
        // Part 7 §13.2: in a blocked application every command except SELECT answers 9303.
        let ins = apdu.get(1).copied().unwrap_or(0);
        if self.app_blocked && self.df == Df::Ssse && ins != 0xA4 {
            return Sw::APP_BLOCKED.into();
        }
        let cmd = match Command::parse(apdu) {
            Ok(c) => c,
            Err(sw) => return sw.into(),
        };
        if !matches!(cmd.cla, 0x00 | 0x04 | 0x80 | 0x84) {
            return Sw::BAD_CLA.into();
        }
        let result = match cmd.ins {
            0xA4 => self.select(&cmd),
            0xB2 => self.read_record(&cmd),
            0xDC => self.update_record(&cmd),
            0xB0 => self.read_binary(&cmd),
            0xD6 => self.update_binary(&cmd),
            0x84 => self.get_challenge(&cmd),
            0x82 => self.external_authenticate(&cmd),
            0x88 => self.internal_authenticate(&cmd),
            0x20 => self.verify(&cmd),
            0x5E => self.change_pin(&cmd),
            0x24 => self.pin_change_unblock(&cmd),
            0x1E => self.application_block(&cmd),
            0x16 => self.card_block(&cmd),
            0xC0 => self.get_response(&cmd, pending),
            _ => Err(Sw::BAD_INS),
        };
        match result {
            Ok(a) => a,
            Err(sw) => sw.into(),
        }
    }

    // ----- file system helpers -----

    fn spec_by_fid(&self, fid: u16) -> Option<EfSpec> {
        self.specs.iter().find(|s| s.fid == fid).copied()
    }

    fn spec_by_sfi(&self, sfi: u8) -> Option<EfSpec> {
        self.specs.iter().find(|s| s.sfi == sfi).copied()
    }

    /// Makes `df` current (part 5 §6.11.1; profile D10): entering another DF loses the
    /// security state and the challenge; selecting the current DF again keeps them. Either
    /// way no EF is current afterwards.
    fn enter_df(&mut self, df: Df) {
        if df != self.df {
            self.authenticated.clear();
            self.challenge = None;
            self.df = df;
        }
        self.ef = None;
        self.record_pointer = None;
    }

    fn make_ef_current(&mut self, fid: u16) {
        if self.ef != Some(fid) {
            self.ef = Some(fid);
            self.record_pointer = None;
        }
    }

    /// Resolves an EF referenced by short file identifier (`sfi` ≠ 0) or the current EF
    /// (`sfi` = 0). A referenced file becomes the current EF (part 3 §5.3: commands with a
    /// valid short EF identifier affect the record pointer).
    fn resolve_ef(&mut self, sfi: u8) -> Result<EfSpec, Sw> {
        if sfi == 0 {
            let fid = self.ef.ok_or(Sw::NO_CURRENT_EF)?;
            return self.spec_by_fid(fid).ok_or(Sw::NO_CURRENT_EF);
        }
        if self.df != Df::Ssse {
            return Err(Sw::FILE_NOT_FOUND);
        }
        let spec = self.spec_by_sfi(sfi).ok_or(Sw::FILE_NOT_FOUND)?;
        self.make_ef_current(spec.fid);
        Ok(spec)
    }

    fn check_access(&self, access: Access) -> Result<(), Sw> {
        match access {
            Access::Free => Ok(()),
            Access::Key(id) if self.authenticated.contains(&id) => Ok(()),
            Access::Key(_) => Err(Sw::SECURITY),
        }
    }

    fn records(&self, fid: u16) -> &[Vec<u8>] {
        match self.files.get(&fid) {
            Some(Contents::Records(r)) => r,
            _ => &[],
        }
    }

    fn fci(&self) -> Vec<u8> {
        // Part 5 table 36: 6F { 84 DF name, A5 { 88 SFI of the directory, 9F0C issuer data } }.
        // The issuer data carries the algorithm template 86 (reader-interface spec §10.1).
        let mut a5 = vec![0x88, 0x01, 0x1E];
        a5.extend_from_slice(&[0x9F, 0x0C, 0x03, 0x86, 0x01, self.algorithm.id()]);
        let mut inner = vec![0x84, fs::SSSE_NAME.len() as u8];
        inner.extend_from_slice(&fs::SSSE_NAME);
        inner.push(0xA5);
        inner.push(a5.len() as u8);
        inner.extend_from_slice(&a5);
        let mut fci = vec![0x6F, inner.len() as u8];
        fci.extend_from_slice(&inner);
        fci
    }

    // ----- secure messaging -----

    fn key(&self, id: u8) -> Option<&CardKey> {
        self.keys.get(&id)
    }

    /// Consumes the current challenge and derives from it the process key of `key_id`
    /// (part 4 §8.4; profile D7, D10). No challenge, or one too long for the block, is
    /// `6984`.
    fn session_key_from_challenge(&mut self, key_id: u8) -> Result<Vec<u8>, Sw> {
        let challenge = self.challenge.take().ok_or(Sw::NO_CHALLENGE)?;
        let key = self.key(key_id).ok_or(Sw::KEY_NOT_FOUND)?;
        crypto::process_key(self.algorithm, &key.value, &challenge).ok_or(Sw::NO_CHALLENGE)
    }

    /// Checks the MAC (the last 4 data bytes) of a secure-messaging command under STKSSSE
    /// (part 4 §8.2; part 7 §13; profile D12). Returns the data without the MAC and the
    /// process key, which also serves for the encipherment of the same command (profile D9).
    fn check_mac<'a>(&mut self, cmd: &Command<'a>) -> Result<(&'a [u8], Vec<u8>), Sw> {
        let data = cmd.data();
        let split = data.len().checked_sub(4).ok_or(Sw::WRONG_LENGTH)?;
        let (content, mac) = data.split_at(split);
        let lc = cmd.lc_byte().ok_or(Sw::WRONG_LENGTH)?;
        let session = self.session_key_from_challenge(KEY_STKSSSE)?;
        let mut input = cmd.header().to_vec();
        input.push(lc);
        input.extend_from_slice(content);
        let expected = crypto::mac(self.algorithm, &session, &input).ok_or(Sw::BAD_MAC)?;
        if !crypto::ct_eq(&expected, mac) {
            return Err(Sw::BAD_MAC);
        }
        Ok((content, session))
    }

    // ----- commands -----

    /// SELECT (part 5 §6.11).
    fn select(&mut self, cmd: &Command) -> Result<Answer, Sw> {
        if cmd.cla != 0x00 {
            return Err(Sw::BAD_CLA);
        }
        if cmd.p2 != 0x00 && cmd.p2 != 0x02 {
            return Err(Sw::BAD_P1P2);
        }
        let data = cmd.data();
        match cmd.p1 {
            // MF or DF by file identifier; an empty data field or 3F00 is the MF.
            0x00 => {
                if cmd.p2 != 0x00 {
                    return Err(Sw::BAD_P1P2);
                }
                if data.is_empty() || data == fs::MF_FID {
                    self.enter_df(Df::Mf);
                    return Ok(Answer::sw(Sw::OK));
                }
                if data.len() != 2 {
                    return Err(Sw::WRONG_LENGTH);
                }
                Err(Sw::FILE_NOT_FOUND)
            }
            // EF under the current DF by file identifier.
            0x02 => {
                if cmd.p2 != 0x00 {
                    return Err(Sw::BAD_P1P2);
                }
                let fid: [u8; 2] = data.try_into().map_err(|_| Sw::WRONG_LENGTH)?;
                if self.df != Df::Ssse {
                    return Err(Sw::FILE_NOT_FOUND);
                }
                if self.app_blocked {
                    return Err(Sw::APP_BLOCKED);
                }
                let spec = self
                    .spec_by_fid(u16::from_be_bytes(fid))
                    .ok_or(Sw::FILE_NOT_FOUND)?;
                self.ef = Some(spec.fid);
                self.record_pointer = None;
                Ok(Answer::sw(Sw::OK))
            }
            // DF by name, whole or leading part (part 5 §6.11.5); P2 = 02 asks for the next
            // matching DF, and the SSSE is the only one.
            0x04 => {
                if !(5..=16).contains(&data.len()) {
                    return Err(Sw::WRONG_LENGTH);
                }
                if !fs::SSSE_NAME.starts_with(data) {
                    return Err(Sw::FILE_NOT_FOUND);
                }
                if cmd.p2 == 0x02 && self.df == Df::Ssse {
                    return Err(Sw::FILE_NOT_FOUND);
                }
                self.enter_df(Df::Ssse);
                if self.app_blocked {
                    // Part 5 §6.1.1, part 7 §13.2.
                    return Err(Sw::APP_BLOCKED);
                }
                Ok(Answer::case4(self.fci()))
            }
            _ => Err(Sw::BAD_P1P2),
        }
    }

    /// READ RECORD (part 5 §6.10; profile D16).
    fn read_record(&mut self, cmd: &Command) -> Result<Answer, Sw> {
        if cmd.cla != 0x00 {
            return Err(Sw::BAD_CLA);
        }
        let le = cmd.expect_le_only()?;
        let sfi = cmd.p2 >> 3;
        let mode = cmd.p2 & 0x07;
        if mode == 0x07 || sfi == 0x1F || cmd.p1 == 0xFF {
            return Err(Sw::BAD_P1P2);
        }
        let spec = self.resolve_ef(sfi)?;
        if spec.structure != Structure::Records {
            return Err(Sw::INCOMPATIBLE_FILE);
        }
        self.check_access(spec.read)?;
        let records = self.records(spec.fid);
        let n = records.len();
        let by_number = |p1: u8, pointer: Option<usize>| -> Result<usize, Sw> {
            let idx = if p1 == 0 {
                pointer.ok_or(Sw::RECORD_NOT_FOUND)?
            } else {
                usize::from(p1) - 1
            };
            if idx < n {
                Ok(idx)
            } else {
                Err(Sw::RECORD_NOT_FOUND)
            }
        };
        let mut new_pointer = None;
        let payload: Vec<u8> = match mode {
            0x04 => {
                let idx = by_number(cmd.p1, self.record_pointer)?;
                records.get(idx).cloned().unwrap_or_default()
            }
            0x05 => {
                let idx = by_number(cmd.p1, self.record_pointer)?;
                records.iter().skip(idx).flatten().copied().collect()
            }
            0x06 => {
                let idx = by_number(cmd.p1, self.record_pointer)?;
                records.iter().skip(idx).rev().flatten().copied().collect()
            }
            _ => {
                let occurrence = match mode {
                    0 => Occurrence::First,
                    1 => Occurrence::Last,
                    2 => Occurrence::Next,
                    _ => Occurrence::Previous,
                };
                let idx = fs::find_by_id(records, cmd.p1, occurrence, self.record_pointer)
                    .ok_or(Sw::RECORD_NOT_FOUND)?;
                new_pointer = Some(idx);
                records.get(idx).cloned().unwrap_or_default()
            }
        };
        // Part 5 §6.10.4, profile D16: the record comes whole; Le = 00 or any Le other than
        // its length answers 6Cxx (and leaves the record pointer where it was).
        let want = le.unwrap_or(0);
        let exact = if payload.len() > 255 {
            want == 0 && payload.len() == 256
        } else {
            want != 0 && usize::from(want) == payload.len()
        };
        if !exact {
            return Err(Sw::exact_length(payload.len()));
        }
        if new_pointer.is_some() {
            self.record_pointer = new_pointer;
        }
        Ok(Answer::data(payload))
    }

    /// UPDATE RECORD (part 5 §6.13; profile D13, D16). Absent records are added (§6.13.1).
    fn update_record(&mut self, cmd: &Command) -> Result<Answer, Sw> {
        if cmd.cla != 0x00 && cmd.cla != 0x04 {
            return Err(Sw::BAD_CLA);
        }
        if cmd.data().is_empty() {
            return Err(Sw::WRONG_LENGTH);
        }
        let sfi = cmd.p2 >> 3;
        let mode = cmd.p2 & 0x07;
        if !matches!(mode, 0x00..=0x04) || sfi == 0x1F || cmd.p1 == 0xFF {
            return Err(Sw::BAD_P1P2);
        }
        let spec = self.resolve_ef(sfi)?;
        if spec.structure != Structure::Records {
            return Err(Sw::INCOMPATIBLE_FILE);
        }
        self.check_access(spec.write)?;
        let content = if cmd.cla == 0x04 {
            self.check_mac(cmd)?.0
        } else {
            cmd.data()
        };
        // One SIMPLE-TLV data object with a one-byte length.
        let (tag, len) = match content {
            [t, l, ..] => (*t, usize::from(*l)),
            _ => return Err(Sw::TLV_MISMATCH),
        };
        if len + 2 != content.len() {
            return Err(Sw::TLV_MISMATCH);
        }
        let item = fs::item_for(self.version, spec.fid, tag).ok_or(Sw::BAD_DATA)?;
        if len > item.len {
            return Err(Sw::NO_SPACE);
        }
        let pointer = self.record_pointer;
        let Some(Contents::Records(records)) = self.files.get_mut(&spec.fid) else {
            return Err(Sw::INCOMPATIBLE_FILE);
        };
        let n = records.len();
        let holds = |records: &[Vec<u8>], skip: Option<usize>| {
            records
                .iter()
                .enumerate()
                .any(|(j, r)| Some(j) != skip && r.first() == Some(&tag))
        };
        let written = if mode == 0x04 {
            let idx = if cmd.p1 == 0 {
                pointer.ok_or(Sw::RECORD_NOT_FOUND)?
            } else {
                usize::from(cmd.p1) - 1
            };
            if idx > n {
                return Err(Sw::RECORD_NOT_FOUND);
            }
            // Each data item is one record: a tag may not appear in two records.
            if holds(records, Some(idx)) {
                return Err(Sw::BAD_DATA);
            }
            if idx == n {
                records.push(content.to_vec());
            } else if let Some(slot) = records.get_mut(idx) {
                *slot = content.to_vec();
            }
            (cmd.p1 == 0).then_some(idx)
        } else {
            if cmd.p1 != 0 && tag != cmd.p1 {
                return Err(Sw::BAD_DATA);
            }
            if cmd.p1 != 0 && !holds(records, None) {
                records.push(content.to_vec());
                Some(n)
            } else {
                let occurrence = match mode {
                    0 => Occurrence::First,
                    1 => Occurrence::Last,
                    2 => Occurrence::Next,
                    _ => Occurrence::Previous,
                };
                let idx = fs::find_by_id(records, cmd.p1, occurrence, pointer)
                    .ok_or(Sw::RECORD_NOT_FOUND)?;
                let slot = records.get_mut(idx).ok_or(Sw::RECORD_NOT_FOUND)?;
                if slot.first() != Some(&tag) {
                    return Err(Sw::BAD_DATA);
                }
                *slot = content.to_vec();
                Some(idx)
            }
        };
        if written.is_some() {
            self.record_pointer = written;
        }
        Ok(Answer::sw(Sw::OK))
    }

    /// Resolves P1 P2 of READ/UPDATE BINARY (part 5 tables 29 and 41) to a transparent EF and
    /// an offset.
    fn resolve_binary(&mut self, p1: u8, p2: u8) -> Result<(EfSpec, usize), Sw> {
        let (spec, offset) = if p1 & 0x80 != 0 {
            let sfi = p1 & 0x1F;
            if p1 & 0x60 != 0 || sfi == 0 || sfi == 0x1F {
                return Err(Sw::BAD_P1P2);
            }
            (self.resolve_ef(sfi)?, usize::from(p2))
        } else {
            (
                self.resolve_ef(0)?,
                (usize::from(p1) << 8) | usize::from(p2),
            )
        };
        if !matches!(spec.structure, Structure::Transparent(_)) {
            return Err(Sw::INCOMPATIBLE_FILE);
        }
        Ok((spec, offset))
    }

    /// READ BINARY (part 5 §6.9).
    fn read_binary(&mut self, cmd: &Command) -> Result<Answer, Sw> {
        if cmd.cla != 0x00 {
            return Err(Sw::BAD_CLA);
        }
        let le = cmd.expect_le_only()?;
        let (spec, offset) = self.resolve_binary(cmd.p1, cmd.p2)?;
        self.check_access(spec.read)?;
        let bytes = match self.files.get(&spec.fid) {
            Some(Contents::Transparent(b)) => b,
            _ => return Err(Sw::INCOMPATIBLE_FILE),
        };
        if offset >= bytes.len() {
            return Err(Sw::BAD_OFFSET);
        }
        let available = bytes.len() - offset;
        let count = match le {
            None | Some(0) => available.min(256),
            Some(n) if usize::from(n) > available => return Err(Sw::exact_length(available)),
            Some(n) => usize::from(n),
        };
        let out = bytes
            .get(offset..offset + count)
            .unwrap_or_default()
            .to_vec();
        Ok(Answer::data(out))
    }

    /// UPDATE BINARY (part 5 §6.12).
    fn update_binary(&mut self, cmd: &Command) -> Result<Answer, Sw> {
        if cmd.cla != 0x00 && cmd.cla != 0x04 {
            return Err(Sw::BAD_CLA);
        }
        if cmd.data().is_empty() {
            return Err(Sw::WRONG_LENGTH);
        }
        let (spec, offset) = self.resolve_binary(cmd.p1, cmd.p2)?;
        self.check_access(spec.write)?;
        let content = if cmd.cla == 0x04 {
            let c = self.check_mac(cmd)?.0;
            if c.is_empty() {
                return Err(Sw::WRONG_LENGTH);
            }
            c
        } else {
            cmd.data()
        };
        let Some(Contents::Transparent(bytes)) = self.files.get_mut(&spec.fid) else {
            return Err(Sw::INCOMPATIBLE_FILE);
        };
        if offset >= bytes.len() {
            return Err(Sw::BAD_OFFSET);
        }
        let end = offset + content.len();
        let target = bytes.get_mut(offset..end).ok_or(Sw::WRONG_LENGTH)?;
        target.copy_from_slice(content);
        Ok(Answer::sw(Sw::OK))
    }

    /// GET CHALLENGE (part 5 §6.5): 4, 8 or 16 random bytes, kept for the next command that
    /// uses a challenge (profile D10).
    fn get_challenge(&mut self, cmd: &Command) -> Result<Answer, Sw> {
        if cmd.cla != 0x00 {
            return Err(Sw::BAD_CLA);
        }
        if cmd.p1 != 0 || cmd.p2 != 0 {
            return Err(Sw::BAD_P1P2);
        }
        let le = cmd.expect_le_only()?;
        let len = match le {
            Some(n @ (0x04 | 0x08 | 0x10)) => usize::from(n),
            _ => return Err(Sw::WRONG_LENGTH),
        };
        let mut challenge = vec![0u8; len];
        self.rng.fill_bytes(&mut challenge);
        self.challenge = Some(challenge.clone());
        Ok(Answer::data(challenge))
    }

    /// Checks the data field of EXTERNAL / INTERNAL AUTHENTICATE: 16 bytes, or 17 with a key
    /// version (part 5 §6.4.3, §6.7.3; profile D3).
    fn auth_fields<'a>(cmd: &Command<'a>) -> Result<(&'a [u8; 8], &'a [u8; 8]), Sw> {
        let data = cmd.data();
        if data.len() != 16 && data.len() != 17 {
            return Err(Sw::WRONG_LENGTH);
        }
        if let Some(version) = data.get(16) {
            if *version != KEY_VERSION {
                return Err(Sw::KEY_NOT_FOUND);
            }
        }
        let first = data
            .get(..8)
            .and_then(|s| <&[u8; 8]>::try_from(s).ok())
            .ok_or(Sw::WRONG_LENGTH)?;
        let second = data
            .get(8..16)
            .and_then(|s| <&[u8; 8]>::try_from(s).ok())
            .ok_or(Sw::WRONG_LENGTH)?;
        Ok((first, second))
    }

    /// EXTERNAL AUTHENTICATE (part 5 §6.4; part 7 §6.6; part 4 §9; profile D4, D10).
    ///
    /// Data: authentication data ‖ original data. The card derives the process key of key
    /// P2 from its last challenge, computes the authentication data of the original data and
    /// compares.
    fn external_authenticate(&mut self, cmd: &Command) -> Result<Answer, Sw> {
        if cmd.cla != 0x00 {
            return Err(Sw::BAD_CLA);
        }
        if cmd.p1 != 0x00 {
            return Err(Sw::BAD_P1P2);
        }
        let (cryptogram, original) = Self::auth_fields(cmd)?;
        if self.df != Df::Ssse {
            return Err(Sw::KEY_NOT_FOUND);
        }
        let key_id = cmd.p2;
        let key = self
            .key(key_id)
            .filter(|k| k.external)
            .ok_or(Sw::KEY_NOT_FOUND)?;
        let counted = key.counted;
        if counted && self.key_tries.get(&key_id).copied().unwrap_or(0) == 0 {
            return Err(Sw::BLOCKED);
        }
        let session = self.session_key_from_challenge(key_id)?;
        let expected =
            crypto::auth_data(self.algorithm, &session, original).ok_or(Sw::NO_CHALLENGE)?;
        if crypto::ct_eq(&expected, cryptogram) {
            if counted {
                self.key_tries.insert(key_id, MAX_TRIES);
            }
            self.authenticated.insert(key_id);
            return Ok(Answer::sw(Sw::OK));
        }
        if !counted {
            // Part 7 §13.1-13.2, profile D4: failures do not lock BK or STKSSSE.
            return Err(Sw::tries_left(0x0F));
        }
        let left = self
            .key_tries
            .get(&key_id)
            .copied()
            .unwrap_or(0)
            .saturating_sub(1);
        self.key_tries.insert(key_id, left);
        Err(Sw::tries_left(left))
    }

    /// INTERNAL AUTHENTICATE (part 5 §6.7; part 7 §5.4): data = process factor ‖ original
    /// data; the answer is the authentication data of the original data under the process
    /// key of IRK for the process factor.
    fn internal_authenticate(&mut self, cmd: &Command) -> Result<Answer, Sw> {
        if cmd.cla != 0x00 {
            return Err(Sw::BAD_CLA);
        }
        if cmd.p1 != 0x00 {
            return Err(Sw::BAD_P1P2);
        }
        let (factor, original) = Self::auth_fields(cmd)?;
        if self.df != Df::Ssse || cmd.p2 != KEY_IRK {
            return Err(Sw::KEY_NOT_FOUND);
        }
        let irk = self.key(KEY_IRK).ok_or(Sw::KEY_NOT_FOUND)?;
        let session =
            crypto::process_key(self.algorithm, &irk.value, factor).ok_or(Sw::KEY_NOT_FOUND)?;
        let out = crypto::auth_data(self.algorithm, &session, original).ok_or(Sw::KEY_NOT_FOUND)?;
        Ok(Answer::case4(out.to_vec()))
    }

    /// VERIFY (part 5 §6.14; part 7 §5.6-5.8).
    fn verify(&mut self, cmd: &Command) -> Result<Answer, Sw> {
        if cmd.cla != 0x00 {
            return Err(Sw::BAD_CLA);
        }
        if cmd.p1 != 0x00 || cmd.p2 != 0x00 {
            return Err(Sw::BAD_P1P2);
        }
        if matches!(cmd.body, Body::P3(n) if n != 0) || matches!(cmd.body, Body::DataLe(..)) {
            return Err(Sw::WRONG_LENGTH);
        }
        let data = cmd.data();
        if data.len() == 1 || data.len() > 8 {
            return Err(Sw::WRONG_LENGTH);
        }
        if self.df != Df::Ssse {
            return Err(Sw::KEY_NOT_FOUND);
        }
        // §6.14.5: after 63C0 every VERIFY answers 6983.
        if self.pin_tries == 0 {
            return Err(Sw::BLOCKED);
        }
        if data.is_empty() {
            // §6.14.5: the probe answers 9000 for an empty PIN, else 63Cx without counting.
            return match self.pin {
                None => Ok(Answer::sw(Sw::OK)),
                Some(_) => Err(Sw::tries_left(self.pin_tries)),
            };
        }
        // A stored empty PIN never matches a presented one (§6.14.5).
        let matches = self
            .pin
            .as_deref()
            .is_some_and(|pin| crypto::ct_eq(pin, data));
        if matches {
            self.pin_tries = MAX_TRIES;
            self.pin_verified = true;
            Ok(Answer::sw(Sw::OK))
        } else {
            self.pin_tries = self.pin_tries.saturating_sub(1);
            Err(Sw::tries_left(self.pin_tries))
        }
    }

    /// CHANGE PIN (part 5 §6.3; part 7 §9.5): data = current PIN ‖ `FF` ‖ new PIN, either PIN
    /// possibly absent (§6.3.3).
    fn change_pin(&mut self, cmd: &Command) -> Result<Answer, Sw> {
        if cmd.cla != 0x80 {
            return Err(Sw::BAD_CLA);
        }
        if cmd.p1 != 0x01 || cmd.p2 != 0x00 {
            return Err(Sw::BAD_P1P2);
        }
        let data = cmd.data();
        if !(3..=0x11).contains(&data.len()) {
            return Err(Sw::WRONG_LENGTH);
        }
        if self.df != Df::Ssse {
            return Err(Sw::KEY_NOT_FOUND);
        }
        let sep = data.iter().position(|b| *b == 0xFF).ok_or(Sw::BAD_DATA)?;
        let (old, rest) = data.split_at(sep);
        let new = rest.get(1..).unwrap_or_default();
        if !new.is_empty() && !is_valid_pin(new) {
            return Err(Sw::BAD_DATA);
        }
        if self.pin_tries == 0 {
            return Err(Sw::BLOCKED);
        }
        let old_ok = match &self.pin {
            None => old.is_empty(),
            Some(pin) => crypto::ct_eq(pin, old),
        };
        if !old_ok {
            self.pin_tries = self.pin_tries.saturating_sub(1);
            return Err(Sw::tries_left(self.pin_tries));
        }
        self.pin = (!new.is_empty()).then(|| new.to_vec());
        self.pin_tries = MAX_TRIES;
        Ok(Answer::sw(Sw::OK))
    }

    /// PIN CHANGE/UNBLOCK (part 5 §6.8; part 4 §8.2-8.4; profile D9, D12). Needs EXTERNAL
    /// AUTHENTICATE with PUK, then a challenge; the MAC (and the encipherment of
    /// `LD ‖ PIN`) use the process key of STKSSSE for that challenge. P2 = 00 resets the try
    /// counter; P2 = 01 also replaces the PIN (an empty enciphered PIN element, or LD = 0,
    /// empties it: §6.8.3).
    fn pin_change_unblock(&mut self, cmd: &Command) -> Result<Answer, Sw> {
        if cmd.cla != 0x84 {
            return Err(Sw::BAD_CLA);
        }
        if cmd.p1 != 0x00 || cmd.p2 > 0x01 {
            return Err(Sw::BAD_P1P2);
        }
        let len = cmd.data().len();
        let block = self.algorithm.block_len();
        let length_ok = if cmd.p2 == 0x00 {
            len == 4
        } else {
            len >= 4 && (len - 4) % block == 0
        };
        if !length_ok || matches!(cmd.body, Body::DataLe(..)) {
            return Err(Sw::WRONG_LENGTH);
        }
        if self.df != Df::Ssse || !self.authenticated.contains(&KEY_PUK) {
            return Err(Sw::SECURITY);
        }
        let (content, session) = self.check_mac(cmd)?;
        if cmd.p2 == 0x01 {
            let new_pin = if content.is_empty() {
                Vec::new()
            } else {
                crypto::decipher_ld(self.algorithm, &session, content).ok_or(Sw::BAD_DATA)?
            };
            if !new_pin.is_empty() && !is_valid_pin(&new_pin) {
                return Err(Sw::BAD_DATA);
            }
            self.pin = (!new_pin.is_empty()).then_some(new_pin);
        }
        self.pin_tries = MAX_TRIES;
        Ok(Answer::sw(Sw::OK))
    }

    /// The common part of APPLICATION BLOCK and CARD BLOCK (part 5 §6.1-6.2; part 7 §13;
    /// profile D12): EXTERNAL AUTHENTICATE with BK, a challenge, a MAC under STKSSSE.
    fn check_block_command(&mut self, cmd: &Command, p2: u8) -> Result<(), Sw> {
        if cmd.cla != 0x84 {
            return Err(Sw::BAD_CLA);
        }
        if cmd.p1 != 0x00 || cmd.p2 != p2 {
            return Err(Sw::BAD_P1P2);
        }
        if !matches!(cmd.body, Body::Data(d) if d.len() == 4) {
            return Err(Sw::WRONG_LENGTH);
        }
        if self.df != Df::Ssse || !self.authenticated.contains(&KEY_BK) {
            return Err(Sw::SECURITY);
        }
        self.check_mac(cmd)?;
        Ok(())
    }

    /// APPLICATION BLOCK (part 5 §6.1): `84 1E 00 01 04 MAC`.
    fn application_block(&mut self, cmd: &Command) -> Result<Answer, Sw> {
        self.check_block_command(cmd, 0x01)?;
        self.app_blocked = true;
        Ok(Answer::sw(Sw::OK))
    }

    /// CARD BLOCK (part 5 §6.2): `84 16 00 00 04 MAC`.
    fn card_block(&mut self, cmd: &Command) -> Result<Answer, Sw> {
        self.check_block_command(cmd, 0x00)?;
        self.card_blocked = true;
        Ok(Answer::sw(Sw::OK))
    }

    /// GET RESPONSE (part 5 §6.6): hands out data a T=0 exchange announced with `61xx`.
    /// Le = 00 answers `6Cxx` when data is available (§6.6.4), `6F00` when none is.
    fn get_response(&mut self, cmd: &Command, mut pending: Vec<u8>) -> Result<Answer, Sw> {
        if cmd.cla != 0x00 {
            return Err(Sw::BAD_CLA);
        }
        if cmd.p1 != 0 || cmd.p2 != 0 {
            return Err(Sw::BAD_P1P2);
        }
        let le = cmd.expect_le_only()?;
        if pending.is_empty() {
            return Err(Sw::NO_DATA);
        }
        let want = usize::from(le.unwrap_or(0));
        if want == 0 || want > pending.len() {
            let len = pending.len();
            self.pending = pending;
            return Err(Sw::exact_length(len));
        }
        let rest = pending.split_off(want);
        if rest.is_empty() {
            Ok(Answer::data(pending))
        } else {
            let sw = Sw::more_data(rest.len());
            self.pending = rest;
            Ok(Answer {
                data: pending,
                sw,
                case4: false,
            })
        }
    }
}
