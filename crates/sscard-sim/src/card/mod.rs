//! The simulated social security card: a card OS implementing docs/card-os.md behind
//! [`SimCard::handle`].
//!
//! State is split as on a real chip:
//! - persistent ([`CardImage`]): keys, records, lifecycle and block state, PIN and its counter;
//!   every change goes through the one method `SimCard::persist`, which counts the writes; each
//!   call is one atomic write, and it is the seam where power loss during a command is
//!   simulated ([`crate::tear`]);
//! - volatile: the selected DF/EF, the current challenge, the authenticated key ids, the PIN
//!   verified flag and pending T=0 response data, all lost on [`SimCard::reset`].
//!
//! # ATR
//! `3B 6D 00 00` ‖ 13 historical bytes `00 81 53 53 43 41 52 44 31` ‖ chip serial (4 bytes).
//! `T0 = 6D`: TB1 and TC1 present (both `00`), no TD1, so only T=0 is offered and, as ISO/IEC
//! 7816-3 requires for T=0-only ATRs, there is no TCK. The historical bytes are a category
//! indicator `00`, `81 53` and the ASCII text `SCARD1`, then the chip serial; the last 8 of
//! them (`41 52 44 31` ‖ serial) are the card factor.
//!
//! # Choices where docs/card-os.md is silent
//! - Order of checks: card blocked (`9303` for everything) → header shorter than 4 bytes
//!   (`6700`) → unknown INS (`6D00`) → CLA (`6E00`) → malformed length (`6700`) → application
//!   block rules → the command's own checks (P1/P2 `6A86`, Lc `6700`, state, security).
//! - After reset the MF is current. Commands acting on the application (authentication, PIN,
//!   blocking, ACTIVATE/DEACTIVATE FILE) need SSSE selected, else `6985`; READ/UPDATE RECORD by
//!   SFI outside SSSE answer `6A82`. A failed SELECT keeps the current selection.
//! - Only the exact AID selects SSSE (no partial AID matching); `00A4 040C` answers `6A86`.
//! - The challenge is consumed by the first EXTERNAL AUTHENTICATE or MAC-secured command that
//!   arrives (whatever its outcome) and by reset; other commands leave it. A challenge whose
//!   length is not the block size counts as none (`6985`). A MAC command without a challenge
//!   answers `6985`, like EXTERNAL AUTHENTICATE. A failed EXTERNAL AUTHENTICATE also drops that
//!   key id from the security state.
//! - READ RECORD without Le returns the whole record (Le is optional in §3); Le greater than
//!   the data returns the data. Mode `101` with P1 = 0 or beyond the last record: `6A83`.
//! - UPDATE RECORD is refused (`6985`) on personalized and activated cards: re-personalization
//!   starts with DEACTIVATE FILE, so nothing reads as personalized with partly new data. A TLV
//!   that is not one record (trailing bytes) answers `6700`, an undecodable one `6A80`.
//! - VERIFY, CHANGE PIN and PIN UNBLOCK before any PIN is set: `6985`. A malformed PIN (not
//!   4-12 packed BCD digits) answers `6A80` without spending a try, as does CHANGE PIN with
//!   new = old. VERIFY without data answers `6983` when the PIN is blocked.
//! - PIN RELOAD (`8424 0001`) sets an *initial* PIN and leaves the application state as it is
//!   (except blank → personalizing); CHANGE PIN on an activated card keeps it activated.
//! - APPLICATION UNBLOCK on an application that is not blocked answers `9000` and changes
//!   nothing. A temporarily blocked application refuses APPLICATION BLOCK and CARD BLOCK
//!   (`6A81`): unblock first.
//! - T=0 mode: the Le of the original command is ignored (no `6Cxx`); GET RESPONSE must ask
//!   for exactly the pending length (`00` = 256 when more is pending), otherwise `6Cxx` with
//!   the data kept. GET RESPONSE with nothing pending (always so in T=1 mode): `6985`.

mod files;
mod security;
#[cfg(test)]
mod tests;

use std::collections::BTreeSet;
use std::path::Path;

use rand::{rngs::StdRng, RngCore, SeedableRng};
use zeroize::Zeroizing;

use sscard_core::apdu::{instruction as ins, Command, StatusWord};
use sscard_core::crypto::{self, CardFactors, KeyId};
use sscard_core::data::RegionCode;
use sscard_core::keyholder::KeyHolder;
use sscard_core::profile::{self, Ef, Generation};
use sscard_core::Algorithm;

use crate::error::SimError;
pub(crate) use crate::image::is_pin_bcd;
use crate::image::{key_name, IMAGE_FORMAT, MAX_PIN_TRIES};
use crate::image::{AppState, BlockState, CardImage, CardOptions, HexBytes, PinState, SecretBytes};
use crate::t0::{self, length_byte};
use crate::tear::TearState;
use crate::transport::VirtualCard;

/// The first bytes of a T=0 simulated card's ATR, as field cards have it: TS, T0 (TB1 + TC1,
/// 13 historical bytes), TB1, TC1; no TD1 (T=0 only), so no TCK.
pub const ATR_PREFIX: [u8; 4] = [0x3B, 0x6D, 0x00, 0x00];
/// The first bytes of a T=1 simulated card's ATR: TS, T0 (TB1 + TC1 + TD1, 13 historical
/// bytes), TB1, TC1, TD1 (T=1, TD2 follows), TD2 (T=1, TA3 + TB3), TA3 (IFSC 254), TB3
/// (BWI 4, CWI 5). A TCK follows the historical bytes.
pub const ATR_PREFIX_T1: [u8; 8] = [0x3B, 0xED, 0x00, 0x00, 0x81, 0x31, 0xFE, 0x45];
/// The historical bytes before the chip serial.
pub const HISTORICAL_PREFIX: [u8; 9] = [0x00, 0x81, 0x53, 0x53, 0x43, 0x41, 0x52, 0x44, 0x31];

/// The key ids the manufacturer loads (every card key of docs/card-os.md §4 except `20`,
/// the card identification code MAC key, which never leaves the issuer).
pub const CARD_KEY_IDS: [u8; 7] = [0x00, 0x04, 0x06, 0x07, 0x08, 0x0A, 0x0D];

/// Default PIN try counter (docs/card-os.md §4).
pub const DEFAULT_PIN_TRIES: u8 = 3;

/// The ATR of a T=0 simulated card with chip serial `serial` (the chip serial is the tail of
/// the historical bytes, so the card factor is the same whatever the protocol).
pub fn atr_for_serial(serial: [u8; 4]) -> Vec<u8> {
    atr_for(serial, true)
}

/// The ATR of a simulated card: T=0 only like field cards (`t0`), or T=1 with its TCK. A PC/SC
/// stack picks the protocol from it, so a card served through pcscd behaves as its ATR says.
pub fn atr_for(serial: [u8; 4], t0: bool) -> Vec<u8> {
    let mut atr = Vec::with_capacity(ATR_PREFIX_T1.len() + HISTORICAL_PREFIX.len() + 5);
    atr.extend_from_slice(if t0 {
        &ATR_PREFIX[..]
    } else {
        &ATR_PREFIX_T1[..]
    });
    atr.extend_from_slice(&HISTORICAL_PREFIX);
    atr.extend_from_slice(&serial);
    if !t0 {
        let tck = atr.iter().skip(1).fold(0u8, |x, b| x ^ b);
        atr.push(tck);
    }
    atr
}

/// What the manufacturer needs to initialize a blank card.
#[derive(Debug, Clone)]
pub struct CardSpec {
    /// Record layout and read conditions (1.0, 2.0, 3.0).
    pub generation: Generation,
    /// The card's algorithm.
    pub algorithm: Algorithm,
    /// The region code the issuer keys are diversified for (city factor).
    pub region: RegionCode,
    /// The chip serial (last 4 ATR historical bytes).
    pub chip_serial: [u8; 4],
    /// Card OS options (T=0 mode, all-records READ RECORD mode).
    pub options: CardOptions,
    /// PIN try counter for PINs set on this card (1 to 15).
    pub pin_max_tries: u8,
}

impl CardSpec {
    /// A spec with default options (T=1 behaviour, all-records mode on, 3 PIN tries).
    pub fn new(
        generation: Generation,
        algorithm: Algorithm,
        region: RegionCode,
        chip_serial: [u8; 4],
    ) -> CardSpec {
        CardSpec {
            generation,
            algorithm,
            region,
            chip_serial,
            options: CardOptions::default(),
            pin_max_tries: DEFAULT_PIN_TRIES,
        }
    }

    /// Sets the card OS options.
    pub fn with_options(mut self, options: CardOptions) -> CardSpec {
        self.options = options;
        self
    }
}

/// One change of persistent memory. Everything that changes the [`CardImage`] of a running card
/// is one of these, applied by `SimCard::persist`.
#[derive(Debug)]
pub(crate) enum Change {
    /// DF01.
    AppState(AppState),
    /// DF02.
    BlockState(BlockState),
    /// CARD BLOCK.
    CardBlocked,
    /// The PIN try counter.
    PinTries(u8),
    /// A new PIN (with its counter and initial flag).
    Pin(PinState),
    /// Activation: the holder's PIN replaces the initial PIN and the application state becomes
    /// activated, in one atomic write (the card OS commits both together, as it would through
    /// its transaction buffer), so no tear leaves a personalized card with the holder's PIN or
    /// an activated card with the initial PIN.
    Activation(PinState),
    /// Record `index` (0-based) of `ef` replaced by `tlv`.
    Record { ef: Ef, index: usize, tlv: Vec<u8> },
}

/// Why a command stopped: a status word to answer, or simulated power loss.
#[derive(Debug)]
pub(crate) enum Abort {
    /// Answer this status word, without data.
    Status(StatusWord),
    /// Power was lost at a persistent write (crate::tear): the command ends here, the write
    /// and every later one do not happen, and the card answers nothing.
    PowerLoss,
}

impl From<StatusWord> for Abort {
    fn from(sw: StatusWord) -> Abort {
        Abort::Status(sw)
    }
}

/// What a command produced before Le and T=0 handling.
pub(crate) enum Reply {
    /// A status word without data (usually `9000`).
    Status(StatusWord),
    /// Response data with `9000`.
    Data(Zeroizing<Vec<u8>>),
}

pub(crate) type Outcome = Result<Reply, Abort>;

/// The selected dedicated file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Df {
    Mf,
    Ssse,
}

/// Volatile (RAM) state, lost on reset.
pub(crate) struct Volatile {
    pub(crate) df: Df,
    pub(crate) ef: Option<Ef>,
    pub(crate) challenge: Option<Zeroizing<Vec<u8>>>,
    pub(crate) authenticated: BTreeSet<u8>,
    pub(crate) pin_verified: bool,
    pub(crate) pending: Option<Zeroizing<Vec<u8>>>,
}

impl Volatile {
    fn power_on() -> Volatile {
        Volatile {
            df: Df::Mf,
            ef: None,
            challenge: None,
            authenticated: BTreeSet::new(),
            pin_verified: false,
            pending: None,
        }
    }
}

/// A simulated social security card.
pub struct SimCard {
    image: CardImage,
    vol: Volatile,
    rng: StdRng,
    writes: u64,
    pub(crate) tear: TearState,
}

impl std::fmt::Debug for SimCard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimCard")
            .field("image", &self.image)
            .field("persistent_writes", &self.writes)
            .finish_non_exhaustive()
    }
}

impl SimCard {
    /// The manufacturer step: a blank card (every record present with an all-`00` value, no
    /// PIN) whose card keys are derived from the master keys of `key_holder`:
    /// `CK_id = Div(Div(MK_id, card factor), city factor)` for the issuer keys and
    /// `Div(MK_id, card factor)` for the nationwide keys (docs/card-os.md §4), for every id of
    /// [`CARD_KEY_IDS`].
    ///
    /// The key holder computes each `Div` as the encipherment of `f ‖ NOT f` under the master key
    /// diversified by the preceding factors (the same bytes for 8- and 16-byte blocks), so the
    /// master keys never leave the key holder. The nationwide keys need an encipherment with
    /// the undiversified master key, which a [`sscard_core::keyholder::KeyFile`] does and a PSAM
    /// (DIVERSIFY takes 1 to 3 factors) does not: manufacture with a key file.
    pub fn blank(spec: CardSpec, key_holder: &mut dyn KeyHolder) -> Result<SimCard, SimError> {
        let factors = spec_factors(&spec)?;
        if !key_holder.supports(spec.algorithm) {
            return Err(SimError::KeyHolder(format!(
                "the key holder does not support {}",
                spec.algorithm
            )));
        }
        let mut keys = std::collections::BTreeMap::new();
        for id in CARD_KEY_IDS {
            let path = crypto::key_factors(KeyId(id), &factors.card, &factors.city);
            let (last, before) = path
                .split_last()
                .ok_or_else(|| SimError::Crypto("empty diversification path".into()))?;
            let mut input = Zeroizing::new(Vec::with_capacity(16));
            input.extend_from_slice(last);
            input.extend(last.iter().map(|b| !b));
            let key = key_holder
                .encipher(spec.algorithm, KeyId(id), before, &input)
                .map_err(|e| SimError::KeyHolder(format!("card key {id:02X}: {e}")))?;
            if key.len() != 16 {
                return Err(SimError::KeyHolder(format!(
                    "card key {id:02X}: {} bytes instead of 16",
                    key.len()
                )));
            }
            keys.insert(key_name(id), SecretBytes::new(key));
        }
        Self::assemble(spec, keys)
    }

    /// A blank card loaded with the given card keys `CK_id` (16 bytes each, by key id), for
    /// tests that bring their own keys.
    pub fn blank_with_card_keys(
        spec: CardSpec,
        card_keys: &[(u8, SecretBytes)],
    ) -> Result<SimCard, SimError> {
        spec_factors(&spec)?;
        let keys = card_keys
            .iter()
            .map(|(id, key)| (key_name(*id), key.clone()))
            .collect();
        Self::assemble(spec, keys)
    }

    fn assemble(
        spec: CardSpec,
        keys: std::collections::BTreeMap<String, SecretBytes>,
    ) -> Result<SimCard, SimError> {
        if spec.pin_max_tries == 0 || spec.pin_max_tries > MAX_PIN_TRIES {
            return Err(SimError::InvalidSpec(format!(
                "PIN tries {} not in 1..=15",
                spec.pin_max_tries
            )));
        }
        let mut files = std::collections::BTreeMap::new();
        for ef in Ef::ALL {
            let records = profile::records(spec.generation, ef)
                .iter()
                .map(|element| {
                    let mut tlv = vec![element.tag, element.len as u8];
                    tlv.resize(2 + element.len, 0x00);
                    HexBytes(tlv)
                })
                .collect();
            files.insert(ef, records);
        }
        let image = CardImage {
            format: IMAGE_FORMAT,
            generation: spec.generation,
            algorithm: spec.algorithm,
            chip_serial: spec.chip_serial,
            region: spec.region,
            keys,
            files,
            app_state: AppState::Blank,
            block_state: BlockState::None,
            card_blocked: false,
            pin: None,
            options: CardOptions {
                pin_max_tries: spec.pin_max_tries,
                ..spec.options
            },
        };
        SimCard::from_image(image)
    }

    /// A card running on an existing image (validated first).
    pub fn from_image(image: CardImage) -> Result<SimCard, SimError> {
        image.validate()?;
        Ok(SimCard {
            image,
            vol: Volatile::power_on(),
            rng: StdRng::from_os_rng(),
            writes: 0,
            tear: TearState::default(),
        })
    }

    /// The persistent state.
    pub fn image(&self) -> &CardImage {
        &self.image
    }

    /// Consumes the card, giving its persistent state.
    pub fn into_image(self) -> CardImage {
        self.image
    }

    /// The image as JSON (contains the card keys and the PIN).
    pub fn save_json(&self) -> Result<Zeroizing<String>, SimError> {
        self.image.to_json()
    }

    /// A freshly powered card from an image in JSON.
    pub fn load_json(text: &str) -> Result<SimCard, SimError> {
        SimCard::from_image(CardImage::from_json(text)?)
    }

    /// Saves the image to `path` atomically (temporary file + rename).
    pub fn save(&self, path: &Path) -> Result<(), SimError> {
        self.image.save(path)
    }

    /// A freshly powered card from an image file.
    pub fn load(path: &Path) -> Result<SimCard, SimError> {
        SimCard::from_image(CardImage::load(path)?)
    }

    /// Changes the card OS options (a test convenience; not a card command, not counted as a
    /// persistent write).
    pub fn set_options(&mut self, options: CardOptions) {
        self.image.options = options;
    }

    /// Makes GET CHALLENGE deterministic (tests).
    pub fn seed_rng(&mut self, seed: u64) {
        self.rng = StdRng::seed_from_u64(seed);
    }

    /// The ATR (see the module documentation).
    pub fn atr(&self) -> Vec<u8> {
        atr_for(self.image.chip_serial, self.image.options.t0_mode)
    }

    /// Power-on reset: all volatile state is lost (selection, challenge, security state, PIN
    /// verified, pending response); the persistent image stays. A card without power after a
    /// tear ([`crate::tear`]) is powered again.
    pub fn reset(&mut self) {
        self.vol = Volatile::power_on();
        self.tear.power_on();
    }

    /// Power lost (a tear): volatile state gone, no answer until reset.
    fn lose_power(&mut self) -> Vec<u8> {
        self.vol = Volatile::power_on();
        Vec::new()
    }

    /// Number of persistent writes since this card object was created or loaded.
    pub fn persistent_writes(&self) -> u64 {
        self.writes
    }

    /// The key ids authenticated in the current security state (volatile).
    pub fn authenticated_keys(&self) -> Vec<u8> {
        self.vol.authenticated.iter().copied().collect()
    }

    /// Whether the PIN has been verified since the last reset or reselection.
    pub fn pin_verified(&self) -> bool {
        self.vol.pin_verified
    }

    /// The one place persistent memory changes. Counts every write. Each call is one atomic
    /// write (all or nothing); an armed tear ([`crate::tear`]) can stop the command here.
    pub(crate) fn persist(&mut self, change: Change) -> Result<(), Abort> {
        if self.tear.before_write() {
            return Err(Abort::PowerLoss);
        }
        self.writes = self.writes.wrapping_add(1);
        match change {
            Change::AppState(state) => self.image.app_state = state,
            Change::BlockState(state) => self.image.block_state = state,
            Change::CardBlocked => self.image.card_blocked = true,
            Change::PinTries(tries) => match self.image.pin.as_mut() {
                Some(pin) => pin.tries_left = tries,
                None => return Err(StatusWord::MemoryFailure.into()),
            },
            Change::Pin(pin) => self.image.pin = Some(pin),
            Change::Activation(pin) => {
                self.image.pin = Some(pin);
                self.image.app_state = AppState::Activated;
            }
            Change::Record { ef, index, tlv } => {
                match self
                    .image
                    .files
                    .get_mut(&ef)
                    .and_then(|records| records.get_mut(index))
                {
                    Some(record) => record.0 = tlv,
                    None => return Err(StatusWord::MemoryFailure.into()),
                }
            }
        }
        Ok(())
    }

    /// Processes one command APDU; the answer is response data ‖ SW1 SW2. Never panics.
    /// A card without power after a tear ([`crate::tear`]) answers nothing (an empty vector).
    pub fn handle(&mut self, apdu: &[u8]) -> Vec<u8> {
        if !self.tear.begin_apdu() {
            return Vec::new();
        }
        if apdu.get(1) != Some(&ins::GET_RESPONSE) {
            self.vol.pending = None;
        }
        let response = match self.process(apdu) {
            Ok(bytes) => bytes,
            Err(Abort::Status(sw)) => sw.to_bytes().to_vec(),
            Err(Abort::PowerLoss) => return self.lose_power(),
        };
        if self.tear.end_apdu() || self.tear.powered_off() {
            return self.lose_power();
        }
        response
    }

    fn process(&mut self, apdu: &[u8]) -> Result<Vec<u8>, Abort> {
        if self.image.card_blocked {
            return Err(StatusWord::PermanentlyBlocked.into());
        }
        let (cla, ins_byte) = match apdu {
            [cla, ins, _, _, ..] => (*cla, *ins),
            _ => return Err(StatusWord::WrongLength.into()),
        };
        let class = instruction_class(ins_byte).ok_or(StatusWord::InsNotSupported)?;
        let cla_ok = match class {
            Class::Iso => cla == 0x00,
            Class::Proprietary => cla == 0x80,
            Class::Mac => cla == 0x84 || cla == 0x80,
        };
        if !cla_ok {
            return Err(StatusWord::ClaNotSupported.into());
        }
        let command = Command::parse(apdu).map_err(|_| StatusWord::WrongLength)?;
        self.check_block_state(ins_byte)?;
        if ins_byte == ins::GET_RESPONSE {
            return t0::get_response(&mut self.vol.pending, &command).map_err(Abort::Status);
        }
        let reply = match ins_byte {
            ins::SELECT => self.select(&command),
            ins::READ_RECORD => self.read_record(&command),
            ins::UPDATE_RECORD => self.update_record(&command),
            ins::GET_CHALLENGE => self.get_challenge(&command),
            ins::EXTERNAL_AUTHENTICATE => self.external_authenticate(&command),
            ins::INTERNAL_AUTHENTICATE => self.internal_authenticate(&command),
            ins::VERIFY => self.verify(&command),
            ins::CHANGE_PIN => self.change_pin(&command),
            ins::PIN_RELOAD => self.pin_reload(&command),
            ins::APPLICATION_BLOCK => self.application_block(&command),
            ins::APPLICATION_UNBLOCK => self.application_unblock(&command),
            ins::CARD_BLOCK => self.card_block(&command),
            ins::ACTIVATE_FILE => self.activate_file(&command),
            ins::DEACTIVATE_FILE => self.deactivate_file(&command),
            _ => Err(StatusWord::InsNotSupported.into()),
        }?;
        Ok(self.deliver(reply, command.le()))
    }

    /// docs/card-os.md §2 "Effect of blocking".
    fn check_block_state(&self, ins_byte: u8) -> Result<(), Abort> {
        match self.image.block_state {
            BlockState::None => Ok(()),
            BlockState::Temporary => match ins_byte {
                ins::SELECT | ins::GET_CHALLENGE | ins::GET_RESPONSE | ins::APPLICATION_UNBLOCK => {
                    Ok(())
                }
                _ => Err(StatusWord::ApplicationBlocked.into()),
            },
            BlockState::Permanent => match ins_byte {
                ins::SELECT | ins::GET_RESPONSE => Ok(()),
                _ => Err(StatusWord::PermanentlyBlocked.into()),
            },
        }
    }

    /// Le handling (T=1: `6Cxx` when 0 < Le < length) or T=0 handling (`61xx`, data kept for
    /// GET RESPONSE).
    fn deliver(&mut self, reply: Reply, le: Option<usize>) -> Vec<u8> {
        match reply {
            Reply::Status(sw) => sw.to_bytes().to_vec(),
            Reply::Data(data) if data.is_empty() => StatusWord::Ok.to_bytes().to_vec(),
            Reply::Data(data) => {
                if self.image.options.t0_mode {
                    return t0::announce(&mut self.vol.pending, data);
                }
                match le {
                    Some(le) if le > 0 && le < data.len() => {
                        StatusWord::WrongLe(length_byte(data.len()))
                            .to_bytes()
                            .to_vec()
                    }
                    _ => with_ok(&data),
                }
            }
        }
    }

    /// Clears the per-key security state and the PIN verified flag (SELECT of SSSE or the MF).
    pub(crate) fn clear_security_state(&mut self) {
        self.vol.authenticated.clear();
        self.vol.pin_verified = false;
    }

    /// Commands that act on the SSSE application need it selected: `6985` otherwise.
    pub(crate) fn require_ssse(&self) -> Result<(), Abort> {
        if self.vol.df == Df::Ssse {
            Ok(())
        } else {
            Err(StatusWord::ConditionsNotSatisfied.into())
        }
    }

    /// The SSSE FCI (docs/card-os.md §2).
    pub(crate) fn fci(&self) -> Vec<u8> {
        let mut a5 = vec![0x9F, 0x0C, 0x03, 0x86, 0x01, self.image.algorithm.to_byte()];
        a5.extend_from_slice(&[0xDF, 0x01, 0x01, self.image.app_state.to_byte()]);
        a5.extend_from_slice(&[0xDF, 0x02, 0x01, self.image.block_state.to_byte()]);
        a5.extend_from_slice(&[0xDF, 0x03, 0x01, self.image.generation.number()]);
        let mut body = vec![0x84, profile::SSSE_AID.len() as u8];
        body.extend_from_slice(&profile::SSSE_AID);
        body.push(0xA5);
        body.push(a5.len() as u8);
        body.extend_from_slice(&a5);
        let mut fci = vec![0x6F, body.len() as u8];
        fci.extend_from_slice(&body);
        fci
    }

    pub(crate) fn random(&mut self, len: usize) -> Zeroizing<Vec<u8>> {
        let mut out = Zeroizing::new(vec![0u8; len]);
        self.rng.fill_bytes(&mut out);
        out
    }

    pub(crate) fn block_len(&self) -> usize {
        self.image.algorithm.block_len()
    }
}

impl VirtualCard for SimCard {
    fn atr(&self) -> Vec<u8> {
        SimCard::atr(self)
    }
    fn handle(&mut self, apdu: &[u8]) -> Vec<u8> {
        SimCard::handle(self, apdu)
    }
    fn reset(&mut self) {
        SimCard::reset(self)
    }
}

#[derive(Clone, Copy)]
enum Class {
    /// CLA `00`.
    Iso,
    /// CLA `80`.
    Proprietary,
    /// CLA `84` (or `80`): commands carrying a MAC.
    Mac,
}

fn instruction_class(ins_byte: u8) -> Option<Class> {
    Some(match ins_byte {
        ins::SELECT
        | ins::READ_RECORD
        | ins::UPDATE_RECORD
        | ins::GET_CHALLENGE
        | ins::EXTERNAL_AUTHENTICATE
        | ins::INTERNAL_AUTHENTICATE
        | ins::VERIFY
        | ins::ACTIVATE_FILE
        | ins::DEACTIVATE_FILE
        | ins::GET_RESPONSE => Class::Iso,
        ins::CHANGE_PIN => Class::Proprietary,
        ins::PIN_RELOAD | ins::APPLICATION_BLOCK | ins::APPLICATION_UNBLOCK | ins::CARD_BLOCK => {
            Class::Mac
        }
        _ => return None,
    })
}

fn with_ok(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + 2);
    out.extend_from_slice(data);
    out.extend_from_slice(&StatusWord::Ok.to_bytes());
    out
}

/// The card and city factors of a spec.
fn spec_factors(spec: &CardSpec) -> Result<CardFactors, SimError> {
    CardFactors::new(&atr_for_serial(spec.chip_serial), &spec.region)
        .map_err(|e| SimError::Crypto(e.to_string()))
}
