//! Key holders: whoever holds the issuer's keys computes authentication data and secure
//! messages for a card, without handing the keys out.
//!
//! A terminal never holds card keys itself. A [`KeyHolder`] gets the card's identity
//! ([`CardContext`]: algorithm, region, ATR), the [`KeyRole`] and the data, and answers:
//!
//! - [`KeyFile`]: development root keys ([`crate::keys::RootKeys`]; tests and the simulator,
//!   never real cards);
//! - [`PsamKeyHolder`]: a PSAM in a second reader, spoken to with part 9's DELIVERY SESSION
//!   KEY and CIPHER DATA;
//! - [`HsmKeyHolder`]: a hardware security module (加密机) reached by the calling program, asked
//!   with the reader interface's request strings ([`HsmRequest`]).

pub mod account;
mod hsm;
mod key_file;
mod psam;

use thiserror::Error;
use zeroize::Zeroizing;

use crate::algorithm::UnsupportedAlgorithm;
use crate::apdu::StatusWord;
use crate::channel::ChannelError;
use crate::crypto::{CardFactors, CryptoError, Pin};
use crate::data::{CardIdentificationCode, RegionCode};
use crate::keys::KeyRole;
use crate::Algorithm;

pub use hsm::{HsmKeyHolder, HsmRequest, HsmResponseError};
pub use key_file::KeyFile;
pub use psam::{PsamKeyHolder, PsamLevels};

/// What a key holder needs to know about a card to derive its keys: the algorithm of its FCI,
/// the region of its card identification code (province and city factors) and its ATR (card
/// factor), part 9 §7.3.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardContext {
    /// The card's algorithm.
    pub algorithm: Algorithm,
    /// The card's ATR.
    pub atr: Vec<u8>,
    /// The card identification code (its region gives the province and city factors).
    pub card_id: CardIdentificationCode,
}

impl CardContext {
    /// The region of the card identification code.
    pub fn region(&self) -> RegionCode {
        self.card_id.region
    }

    /// The card's three diversification factors.
    pub fn factors(&self) -> Result<CardFactors, CryptoError> {
        CardFactors::new(&self.atr, &self.card_id.region)
    }
}

/// An enciphered PIN and the MAC of a secured command, as a key holder computes them.
pub struct SecureMessage {
    /// The enciphered data (part 4 §8.3); empty when the command carries none.
    pub enciphered: Zeroizing<Vec<u8>>,
    /// The MAC (part 4 §8.2) over `CLA INS P1 P2 Lc ‖ enciphered`.
    pub mac: [u8; 4],
}

impl std::fmt::Debug for SecureMessage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecureMessage(REDACTED)")
    }
}

/// Computes with the issuer's keys without handing them out.
pub trait KeyHolder {
    /// Whether this key holder computes with `alg`.
    fn supports(&self, alg: Algorithm) -> bool;

    /// 8 random bytes: the original data (原始信息) of an authentication, from the terminal
    /// or the PSAM (part 7 §5.4, §6.4). By default the terminal's: the operating system's
    /// random generator (a PSAM answers GET CHALLENGE instead).
    fn random(&mut self) -> Result<[u8; 8], KeyHolderError> {
        let mut out = [0u8; 8];
        rand::RngCore::fill_bytes(&mut rand::rng(), &mut out);
        Ok(out)
    }

    /// Authentication data (part 4 §9.3) with the card key of `role`: the process key from
    /// `process_factor` (part 4 §8.4), over `original`. For EXTERNAL AUTHENTICATION the process
    /// factor is the card's challenge; for INTERNAL AUTHENTICATION (IRK) the terminal's random,
    /// and the result is what the card must answer.
    fn authenticate(
        &mut self,
        card: &CardContext,
        role: KeyRole,
        process_factor: &[u8],
        original: &[u8; 8],
    ) -> Result<[u8; 8], KeyHolderError>;

    /// Secure messaging for a command with header `header` (CLA INS P1 P2) under the card key
    /// of `role` and the card's `challenge`: the new PIN, if any, enciphered as part 4 §8.3
    /// (`LD ‖ PIN as cn`), and the MAC of part 4 §8.2 over the header, Lc and the enciphered
    /// data.
    fn secure_message(
        &mut self,
        card: &CardContext,
        role: KeyRole,
        challenge: &[u8],
        header: [u8; 4],
        new_pin: Option<&Pin>,
    ) -> Result<SecureMessage, KeyHolderError>;

    /// The terminal number (终端机编号, 12 digits) if the key holder has one (a PSAM, part 9
    /// §5.3).
    fn terminal_number(&mut self) -> Result<Option<String>, KeyHolderError> {
        Ok(None)
    }
}

impl<K: KeyHolder + ?Sized> KeyHolder for &mut K {
    fn supports(&self, alg: Algorithm) -> bool {
        (**self).supports(alg)
    }
    fn random(&mut self) -> Result<[u8; 8], KeyHolderError> {
        (**self).random()
    }
    fn authenticate(
        &mut self,
        card: &CardContext,
        role: KeyRole,
        process_factor: &[u8],
        original: &[u8; 8],
    ) -> Result<[u8; 8], KeyHolderError> {
        (**self).authenticate(card, role, process_factor, original)
    }
    fn secure_message(
        &mut self,
        card: &CardContext,
        role: KeyRole,
        challenge: &[u8],
        header: [u8; 4],
        new_pin: Option<&Pin>,
    ) -> Result<SecureMessage, KeyHolderError> {
        (**self).secure_message(card, role, challenge, header, new_pin)
    }
    fn terminal_number(&mut self) -> Result<Option<String>, KeyHolderError> {
        (**self).terminal_number()
    }
}

impl<K: KeyHolder + ?Sized> KeyHolder for Box<K> {
    fn supports(&self, alg: Algorithm) -> bool {
        (**self).supports(alg)
    }
    fn random(&mut self) -> Result<[u8; 8], KeyHolderError> {
        (**self).random()
    }
    fn authenticate(
        &mut self,
        card: &CardContext,
        role: KeyRole,
        process_factor: &[u8],
        original: &[u8; 8],
    ) -> Result<[u8; 8], KeyHolderError> {
        (**self).authenticate(card, role, process_factor, original)
    }
    fn secure_message(
        &mut self,
        card: &CardContext,
        role: KeyRole,
        challenge: &[u8],
        header: [u8; 4],
        new_pin: Option<&Pin>,
    ) -> Result<SecureMessage, KeyHolderError> {
        (**self).secure_message(card, role, challenge, header, new_pin)
    }
    fn terminal_number(&mut self) -> Result<Option<String>, KeyHolderError> {
        (**self).terminal_number()
    }
}

/// Why a key holder could not compute. Messages never contain key bytes.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum KeyHolderError {
    /// The key holder has no key of this role for this algorithm.
    #[error("the key holder has no {algorithm} key {role} ({zh})", zh = .role.name_zh())]
    UnknownKey {
        /// The algorithm asked for.
        algorithm: Algorithm,
        /// The role asked for.
        role: KeyRole,
    },
    /// The key holder does not compute with this algorithm (a PSAM has one algorithm).
    #[error("the key holder does not hold {0} keys")]
    AlgorithmNotHeld(Algorithm),
    /// A PSAM announces an algorithm sscard does not implement.
    #[error("the PSAM uses an unsupported algorithm: {0}")]
    PsamAlgorithm(#[source] UnsupportedAlgorithm),
    /// The computation itself failed (wrong data length, malformed ATR, …).
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    /// The PSAM's reader or the APDU exchange failed.
    #[error("PSAM: {0}")]
    Channel(#[from] ChannelError),
    /// The card in the PSAM slot has no social security PSAM application (`D15600000590`).
    #[error("no PSAM application (D15600000590) in the PSAM slot: SELECT answered {0}")]
    NotPsam(StatusWord),
    /// The PSAM refused a command.
    #[error("PSAM {command}: {sw}")]
    Psam {
        /// The command, e.g. `DELIVERY SESSION KEY`.
        command: &'static str,
        /// The status word the PSAM answered.
        sw: StatusWord,
    },
    /// The PSAM's answer does not have the structure part 9 defines.
    #[error("PSAM {command}: malformed response: {reason}")]
    MalformedResponse {
        /// The command.
        command: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// The HSM (or whoever answers its requests) failed or answered something unusable.
    #[error("HSM: {0}")]
    Hsm(#[from] HsmResponseError),
}
