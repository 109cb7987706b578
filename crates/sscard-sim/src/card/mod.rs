//! The simulated social security card: a card OS behind [`SimCard::handle`] that behaves as the
//! national specification says, with sscard's choices where it is silent
//! (`docs/interop-profile.md`, marked \[design\]).
//!
//! # Files
//!
//! The MF holds the DDF of SSSE, selected by name `sx1.sh.社会保障` (part 3 §6.2, §6.4), and on
//! a bank-issued card the DDF `1PAY.SYS.DDF01` with its financial application
//! ([`crate::financial`], part 4 §5.1). SSSE holds EF05 and EF06 (variable-length record files of
//! SIMPLE-TLV records, SFI 5 and 6) and on 2.0 and 3.0 cards EF07 (`0300` bytes) and EF08
//! (`1000` bytes), transparent, SFI 7 and 8 (V2.0 notice §5.2 table 3, §7 table 9).
//!
//! # Commands
//!
//! Part 5 chapter 6: SELECT, READ RECORD, UPDATE RECORD, READ BINARY, UPDATE BINARY, GET
//! CHALLENGE, EXTERNAL AUTHENTICATION, INTERNAL AUTHENTICATION, VERIFY, CHANGE PIN, PIN
//! CHANGE/UNBLOCK, APPLICATION BLOCK, CARD BLOCK, GET RESPONSE; and GET PROCESSING OPTIONS of
//! the financial application. On a card with the medical account, the commands of chapter 7
//! (class `B0`) in DF04 ([`account`](self) module `card::account`).
//!
//! # Checks, in order
//!
//! 1. after CARD BLOCK, every command answers `6A81` (part 5 §6.2.1);
//! 2. fewer than 4 bytes: `6700`;
//! 3. with a blocked SSSE current, every command but SELECT answers `9303` (part 7 §13.2);
//! 4. a CLA no command uses (`00`, `80`, `84`): `6E00`; an unknown INS: `6D00`; the wrong CLA
//!    for the INS: `6E00` (part 5 tables 6 to 46);
//! 5. a body that does not match its Lc, or an extended length: `6700` (part 2 §9.4.1);
//! 6. the command's own checks: P1 P2 (`6A86`), Lc (`6700`), file, security state, data.
//!
//! # State
//!
//! Persistent state is the [`CardImage`]; every change goes through `SimCard::persist`, one
//! atomic transaction per call, where tearing is simulated ([`crate::tear`]). Volatile state —
//! current DF and EF, record pointer, challenge, authenticated keys, PIN verified, pending T=0
//! data — is lost on [`SimCard::reset`]. A successful EXTERNAL AUTHENTICATION holds until reset
//! or until another DF is selected; reselecting the current DF or selecting an EF keeps it. A
//! verified PIN holds until reset. A challenge serves the first command that uses it (EXTERNAL
//! AUTHENTICATION or a command with a MAC) and is gone then, or when another DF is selected
//! (\[design\] D10).
//!
//! # Response data
//!
//! Case 2 commands (GET CHALLENGE, READ RECORD, READ BINARY) answer their data with `9000` when
//! Le is right, `6Cxx` otherwise (part 2 §9.3.2.1). Case 4 commands (SELECT of a DF, INTERNAL
//! AUTHENTICATION, GET PROCESSING OPTIONS) answer `61xx` on T=0 and keep the data for GET
//! RESPONSE (part 2 §9.3.2.2, `t0`); a T=1 card sends the data at once (`6Cxx` when a
//! non-zero Le is too small).

mod account;
mod areas;
mod files;
mod security;
#[cfg(test)]
mod tests;

use std::collections::BTreeSet;
use std::path::Path;

use rand::{rngs::StdRng, RngCore, SeedableRng};
use zeroize::Zeroizing;

use sscard_core::apdu::commands::{CLA_ISO, CLA_PROPRIETARY, CLA_SECURE};
use sscard_core::crypto::{CardFactors, Pin};
use sscard_core::keys::{KeyRole, RootKeys};
use sscard_core::profile::areas::{AreaProfile, DfId};
use sscard_core::profile::Ef;

use crate::apdu::{sw, with_ok, Apdu};
use crate::error::SimError;
use crate::image::{CardImage, HexBytes, SecretBytes};
use crate::spec::CardSpec;
use crate::t0;
use crate::tear::TearState;
use crate::virtual_card::VirtualCard;

/// Instruction bytes the card knows (part 5's, named once in [`sscard_core::apdu::instruction`]),
/// with the class each needs.
pub(crate) mod ins {
    use sscard_core::apdu::commands::{CLA_ISO, CLA_PROPRIETARY, CLA_SECURE};
    pub(crate) use sscard_core::apdu::instruction::*;

    /// The CLA of `ins`: `00` for the ISO commands, `80` for CHANGE PIN (part 5 table 10) and GET
    /// PROCESSING OPTIONS, `84` for the commands with a MAC (part 5 tables 6, 8, 24).
    pub(crate) fn class(ins: u8) -> Option<u8> {
        Some(match ins {
            SELECT
            | READ_RECORD
            | UPDATE_RECORD
            | READ_BINARY
            | UPDATE_BINARY
            | GET_CHALLENGE
            | EXTERNAL_AUTHENTICATE
            | INTERNAL_AUTHENTICATE
            | VERIFY
            | GET_RESPONSE => CLA_ISO,
            CHANGE_PIN | GET_PROCESSING_OPTIONS => CLA_PROPRIETARY,
            PIN_CHANGE_UNBLOCK | APPLICATION_BLOCK | CARD_BLOCK => CLA_SECURE,
            _ => return None,
        })
    }
}

/// The dedicated files of the card.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Df {
    /// The MF (`3F00`).
    Mf,
    /// The SSSE DDF `sx1.sh.社会保障`.
    Ssse,
    /// The payment system environment `1PAY.SYS.DDF01`.
    Pse,
    /// The financial application.
    Adf,
    /// A data area DF below SSSE (`DF01` …, V2.0 notice §5.3-5.7; regional DFs, §6).
    Area(u16),
}

/// An elementary file as the current EF.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum File {
    /// A file of SSSE.
    Ssse(Ef),
    /// The PSE directory (SFI 1 of the PSE).
    PseDir,
    /// The record file of the financial application (SFI 1 of the ADF).
    AdfRecords,
    /// An EF of a data area DF, or a regional EF of SSSE ([`areas`]).
    Area(DfId, u16),
}

/// One atomic change of persistent memory ([`crate::tear`]).
#[derive(Debug)]
pub(crate) enum Change {
    /// A key's try counter.
    KeyTries { role: KeyRole, tries: u8 },
    /// The PIN's try counter.
    PinTries(u8),
    /// A new PIN (empty: no PIN) with its counter.
    Pin { value: SecretBytes, tries: u8 },
    /// Record `index` of `ef` replaced (`None`: a record appended).
    Record {
        ef: Ef,
        index: Option<usize>,
        tlv: Vec<u8>,
    },
    /// Bytes of a transparent file.
    Binary {
        ef: Ef,
        offset: usize,
        data: Vec<u8>,
    },
    /// APPLICATION BLOCK.
    SsseBlocked,
    /// CARD BLOCK.
    CardBlocked,
    /// A change in a data area.
    Area(areas::AreaChange),
    /// A change of the medical account (one transaction: amounts, counters, proof, record).
    Account(account::AccountChange),
}

/// Why a command stopped: a status word, or simulated power loss.
#[derive(Debug)]
pub(crate) enum Abort {
    /// Answer this status word, without data.
    Status(u16),
    /// Power was lost at a persistent write ([`crate::tear`]): no answer.
    PowerLoss,
}

impl From<u16> for Abort {
    fn from(sw: u16) -> Abort {
        Abort::Status(sw)
    }
}

/// What a command produced before the protocol delivers it.
pub(crate) enum Reply {
    /// `9000`, no data.
    Done,
    /// Data of a case 2 command, already checked against Le: `data ‖ 9000`.
    Exact(Zeroizing<Vec<u8>>),
    /// Data of a case 4 command: `61xx` on T=0, the data at once on T=1.
    Outgoing(Zeroizing<Vec<u8>>),
}

pub(crate) type Outcome = Result<Reply, Abort>;

/// Volatile (RAM) state, lost on reset.
pub(crate) struct Volatile {
    pub(crate) df: Df,
    pub(crate) ef: Option<File>,
    pub(crate) record: Option<usize>,
    pub(crate) challenge: Option<Zeroizing<Vec<u8>>>,
    pub(crate) authenticated: BTreeSet<KeyRole>,
    pub(crate) pin_verified: bool,
    pub(crate) pending: Option<Zeroizing<Vec<u8>>>,
    /// The medical account's state (part 5 table 49).
    pub(crate) account: account::State,
}

impl Volatile {
    fn power_on() -> Volatile {
        Volatile {
            df: Df::Mf,
            ef: None,
            record: None,
            challenge: None,
            authenticated: BTreeSet::new(),
            pin_verified: false,
            pending: None,
            account: account::State::Idle,
        }
    }
}

/// A simulated social security card (see the module documentation).
pub struct SimCard {
    image: CardImage,
    /// The file structure of the data areas (the notice's and the image's extensions).
    profile: AreaProfile,
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
    /// A blank card ([`CardImage::blank`], \[design\] D14) with the card keys of `keys`.
    pub fn blank(spec: CardSpec, keys: &RootKeys) -> Result<SimCard, SimError> {
        SimCard::from_image(CardImage::blank(&spec, keys)?)
    }

    /// A personalized card in one step ([`CardImage::personalized`]).
    pub fn personalized(
        spec: CardSpec,
        keys: &RootKeys,
        records: &[(u8, Vec<u8>)],
        pin: &Pin,
    ) -> Result<SimCard, SimError> {
        SimCard::from_image(CardImage::personalized(&spec, keys, records, pin)?)
    }

    /// A freshly powered card running on `image` (validated first).
    pub fn from_image(image: CardImage) -> Result<SimCard, SimError> {
        image.validate()?;
        Ok(SimCard {
            profile: image.area_profile()?,
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

    /// Saves the image to `path` atomically.
    pub fn save(&self, path: &Path) -> Result<(), SimError> {
        self.image.save(path)
    }

    /// A freshly powered card from an image file.
    pub fn load(path: &Path) -> Result<SimCard, SimError> {
        SimCard::from_image(CardImage::load(path)?)
    }

    /// The ATR ([`crate::atr`]).
    pub fn atr(&self) -> Vec<u8> {
        self.image.atr()
    }

    /// The card's diversification factors (part 9 §7.3).
    pub fn factors(&self) -> Result<CardFactors, SimError> {
        self.image.factors()
    }

    /// Switches between the T=0 (default) and the T=1 ATR and response behaviour. A test
    /// convenience: not a card command, not a persistent write.
    pub fn set_t0(&mut self, t0: bool) {
        self.image.t0 = t0;
    }

    /// Makes GET CHALLENGE deterministic (tests).
    pub fn seed_rng(&mut self, seed: u64) {
        self.rng = StdRng::seed_from_u64(seed);
    }

    /// Power-on reset: the volatile state is lost, the image stays. A card without power
    /// after a tear is powered again.
    pub fn reset(&mut self) {
        self.vol = Volatile::power_on();
        self.tear.power_on();
    }

    /// Persistent writes since this card object was created or loaded.
    pub fn persistent_writes(&self) -> u64 {
        self.writes
    }

    /// The keys authenticated in the current security state.
    pub fn authenticated_roles(&self) -> Vec<KeyRole> {
        self.vol.authenticated.iter().copied().collect()
    }

    /// Whether the PIN was verified since the last reset.
    pub fn pin_verified(&self) -> bool {
        self.vol.pin_verified
    }

    /// Power lost: volatile state gone, no answer until reset.
    fn lose_power(&mut self) -> Vec<u8> {
        self.vol = Volatile::power_on();
        Vec::new()
    }

    /// The one place persistent memory changes: one atomic transaction per call, counted; an
    /// armed tear can stop the command here ([`crate::tear`]).
    pub(crate) fn persist(&mut self, change: Change) -> Result<(), Abort> {
        if self.tear.before_write() {
            return Err(Abort::PowerLoss);
        }
        self.writes = self.writes.wrapping_add(1);
        let image = &mut self.image;
        match change {
            Change::KeyTries { role, tries } => match image.keys.get_mut(role.name()) {
                Some(key) => key.tries_left = tries,
                None => return Err(sw::MEMORY_FAILURE.into()),
            },
            Change::PinTries(tries) => image.pin.tries_left = tries,
            Change::Pin { value, tries } => {
                image.pin.value = value;
                image.pin.tries_left = tries;
            }
            Change::Record { ef, index, tlv } => {
                let list = match ef {
                    Ef::Ef05 => &mut image.ef05,
                    Ef::Ef06 => &mut image.ef06,
                    Ef::Ef07 | Ef::Ef08 => return Err(sw::MEMORY_FAILURE.into()),
                };
                match index {
                    Some(i) => match list.get_mut(i) {
                        Some(record) => record.0 = tlv,
                        None => return Err(sw::MEMORY_FAILURE.into()),
                    },
                    None => list.push(HexBytes(tlv)),
                }
            }
            Change::Binary { ef, offset, data } => {
                let stored = match ef {
                    Ef::Ef07 => image.ef07.as_mut(),
                    Ef::Ef08 => image.ef08.as_mut(),
                    Ef::Ef05 | Ef::Ef06 => None,
                };
                let Some(stored) = stored else {
                    return Err(sw::MEMORY_FAILURE.into());
                };
                stored.write_at(offset, &data);
            }
            Change::SsseBlocked => image.ssse_blocked = true,
            Change::CardBlocked => image.card_blocked = true,
            Change::Area(change) => areas::apply(image, change)?,
            Change::Account(change) => account::apply(image, change)?,
        }
        Ok(())
    }

    /// Processes one command APDU; the answer is response data ‖ SW1 SW2. Never panics. A card
    /// without power after a tear answers nothing (an empty vector).
    pub fn handle(&mut self, apdu: &[u8]) -> Vec<u8> {
        if !self.tear.begin_apdu() {
            return Vec::new();
        }
        if apdu.get(1) != Some(&ins::GET_RESPONSE) {
            self.vol.pending = None;
        }
        let response = match self.process(apdu) {
            Ok(bytes) => bytes,
            Err(Abort::Status(status)) => status.to_be_bytes().to_vec(),
            Err(Abort::PowerLoss) => return self.lose_power(),
        };
        if self.tear.end_apdu() || self.tear.powered_off() {
            return self.lose_power();
        }
        response
    }

    fn process(&mut self, bytes: &[u8]) -> Result<Vec<u8>, Abort> {
        if self.image.card_blocked {
            return Err(sw::NOT_SUPPORTED.into());
        }
        let (cla, ins_byte) = match bytes {
            [cla, ins, _, _, ..] => (*cla, *ins),
            _ => return Err(sw::WRONG_LENGTH.into()),
        };
        if matches!(self.vol.df, Df::Ssse | Df::Area(_))
            && self.image.ssse_blocked
            && ins_byte != ins::SELECT
        {
            return Err(sw::APP_BLOCKED.into());
        }
        if cla == account::CLA {
            return self.account_command(bytes);
        }
        if ins_byte != ins::GET_RESPONSE {
            // INITIALIZE is valid for the next command only (part 5 §7.5.1, §7.6.1)
            self.vol.account = account::State::Idle;
        }
        if !matches!(cla, CLA_ISO | CLA_PROPRIETARY | CLA_SECURE) {
            return Err(sw::CLA.into());
        }
        let class = ins::class(ins_byte).ok_or(sw::INS)?;
        if cla != class {
            return Err(sw::CLA.into());
        }
        let apdu = Apdu::parse(bytes)?;
        if ins_byte == ins::GET_RESPONSE {
            return t0::get_response(&mut self.vol.pending, &apdu).map_err(Abort::Status);
        }
        let reply = match ins_byte {
            ins::SELECT => self.select(&apdu),
            ins::READ_RECORD => self.read_record(&apdu),
            ins::UPDATE_RECORD => self.update_record(&apdu),
            ins::READ_BINARY => self.read_binary(&apdu),
            ins::UPDATE_BINARY => self.update_binary(&apdu),
            ins::GET_CHALLENGE => self.get_challenge(&apdu),
            ins::EXTERNAL_AUTHENTICATE => self.external_authentication(&apdu),
            ins::INTERNAL_AUTHENTICATE => self.internal_authentication(&apdu),
            ins::VERIFY => self.verify(&apdu),
            ins::CHANGE_PIN => self.change_pin(&apdu),
            ins::PIN_CHANGE_UNBLOCK => self.pin_change_unblock(&apdu),
            ins::APPLICATION_BLOCK => self.application_block(&apdu),
            ins::CARD_BLOCK => self.card_block(&apdu),
            ins::GET_PROCESSING_OPTIONS => self.get_processing_options(&apdu),
            _ => Err(sw::INS.into()),
        }?;
        Ok(self.deliver(reply, apdu.le))
    }

    /// Delivers a reply on the card's protocol (module documentation, "Response data").
    fn deliver(&mut self, reply: Reply, le: Option<usize>) -> Vec<u8> {
        match reply {
            Reply::Done => sw::OK.to_be_bytes().to_vec(),
            Reply::Exact(data) => with_ok(&data),
            Reply::Outgoing(data) if self.image.t0 => t0::announce(&mut self.vol.pending, data),
            Reply::Outgoing(data) => match le {
                Some(le) if le < data.len() => sw::wrong_le(data.len()).to_be_bytes().to_vec(),
                _ => with_ok(&data),
            },
        }
    }

    /// Random bytes (GET CHALLENGE).
    pub(crate) fn random(&mut self, len: usize) -> Zeroizing<Vec<u8>> {
        let mut out = Zeroizing::new(vec![0u8; len]);
        self.rng.fill_bytes(&mut out);
        out
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
