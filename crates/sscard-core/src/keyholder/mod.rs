//! Key holders: whoever holds the issuer's master keys computes cryptograms and MACs.
//!
//! Terminals never hold master keys themselves. A [`KeyHolder`] gets the master key id, the
//! diversification factors (in order) and the data, and answers with the result:
//!
//! - [`KeyFile`]: development master keys parsed from JSON (tests and the simulator; never
//!   for real cards);
//! - [`PsamKeyHolder`]: a PSAM in a second reader slot, spoken to with the commands of
//!   `docs/card-os.md` §5 (SELECT `D15600000590`, DIVERSIFY `BFDE`, CIPHER `80FA`).

mod fci;
mod key_file;
mod psam;

use thiserror::Error;
use zeroize::Zeroizing;

use crate::algorithm::UnsupportedAlgorithm;
use crate::apdu::StatusWord;
use crate::channel::ChannelError;
use crate::crypto::{CryptoError, KeyId};
use crate::Algorithm;

pub use key_file::KeyFile;
pub use psam::{PsamKeyHolder, MAX_FACTORS};

/// Computes with the issuer's master keys without handing them out.
///
/// The working key of every operation is master key `key` of algorithm `alg` diversified by
/// each of `factors` in order (`docs/card-os.md` §4; see
/// [`crypto::key_factors`](crate::crypto::key_factors) for the card keys).
pub trait KeyHolder {
    /// Whether this key holder computes with `alg`.
    fn supports(&self, alg: Algorithm) -> bool;

    /// ECB-encipher `data` with master key `key` diversified by `factors` in order.
    fn encipher(
        &mut self,
        alg: Algorithm,
        key: KeyId,
        factors: &[[u8; 8]],
        data: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, KeyHolderError>;

    /// 4-byte MAC (§4) with master key `key` diversified by `factors`, IV `iv`.
    fn mac(
        &mut self,
        alg: Algorithm,
        key: KeyId,
        factors: &[[u8; 8]],
        iv: &[u8],
        message: &[u8],
    ) -> Result<[u8; 4], KeyHolderError>;

    /// Terminal number (12 digits) if the key holder has one (PSAM).
    fn terminal_number(&mut self) -> Result<Option<String>, KeyHolderError> {
        Ok(None)
    }
}

impl<K: KeyHolder + ?Sized> KeyHolder for &mut K {
    fn supports(&self, alg: Algorithm) -> bool {
        (**self).supports(alg)
    }
    fn encipher(
        &mut self,
        alg: Algorithm,
        key: KeyId,
        factors: &[[u8; 8]],
        data: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, KeyHolderError> {
        (**self).encipher(alg, key, factors, data)
    }
    fn mac(
        &mut self,
        alg: Algorithm,
        key: KeyId,
        factors: &[[u8; 8]],
        iv: &[u8],
        message: &[u8],
    ) -> Result<[u8; 4], KeyHolderError> {
        (**self).mac(alg, key, factors, iv, message)
    }
    fn terminal_number(&mut self) -> Result<Option<String>, KeyHolderError> {
        (**self).terminal_number()
    }
}

impl<K: KeyHolder + ?Sized> KeyHolder for Box<K> {
    fn supports(&self, alg: Algorithm) -> bool {
        (**self).supports(alg)
    }
    fn encipher(
        &mut self,
        alg: Algorithm,
        key: KeyId,
        factors: &[[u8; 8]],
        data: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, KeyHolderError> {
        (**self).encipher(alg, key, factors, data)
    }
    fn mac(
        &mut self,
        alg: Algorithm,
        key: KeyId,
        factors: &[[u8; 8]],
        iv: &[u8],
        message: &[u8],
    ) -> Result<[u8; 4], KeyHolderError> {
        (**self).mac(alg, key, factors, iv, message)
    }
    fn terminal_number(&mut self) -> Result<Option<String>, KeyHolderError> {
        (**self).terminal_number()
    }
}

/// Why a key holder could not compute. Messages never contain key bytes.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum KeyHolderError {
    /// The key file text is not a valid key file.
    #[error("invalid key file: {0}")]
    KeyFile(String),
    /// The key holder has no master key with this id for this algorithm.
    #[error("the key holder has no {algorithm} master key {key} ({name})", name = .key.name())]
    UnknownKey {
        /// The algorithm asked for.
        algorithm: Algorithm,
        /// The key id asked for.
        key: KeyId,
    },
    /// The key holder does not compute with this algorithm (a PSAM has one algorithm).
    #[error("the key holder does not hold {0} keys")]
    AlgorithmNotHeld(Algorithm),
    /// A PSAM announces an algorithm sscard does not implement.
    #[error("the PSAM uses an unsupported algorithm: {0}")]
    PsamAlgorithm(#[source] UnsupportedAlgorithm),
    /// The computation itself failed (wrong data or IV length, ...).
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    /// The PSAM's reader or the APDU exchange failed.
    #[error("PSAM: {0}")]
    Channel(#[from] ChannelError),
    /// The card in the PSAM slot has no PSAM application (`D15600000590`).
    #[error("no PSAM application (D15600000590) in the PSAM slot: SELECT answered {0}")]
    NotPsam(StatusWord),
    /// The PSAM refused a command.
    #[error("PSAM {command}: {sw}")]
    Psam {
        /// The command, e.g. `DIVERSIFY`.
        command: &'static str,
        /// The status word the PSAM answered.
        sw: StatusWord,
    },
    /// The PSAM's answer does not have the structure §5 defines.
    #[error("PSAM {command}: malformed response: {reason}")]
    MalformedResponse {
        /// The command.
        command: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// A PSAM diversifies with 1 to 3 factors in one DIVERSIFY.
    #[error("a PSAM diversifies by 1 to {MAX_FACTORS} factors, {0} were given")]
    FactorCount(usize),
}
