//! The error type of the lifecycle operations: one variant per thing a terminal operator must
//! be told, with the lower layers' errors kept as sources.

use thiserror::Error;

use crate::account::{AccountError, AmountError};
use crate::algorithm::UnsupportedAlgorithm;
use crate::apdu::{ApduError, StatusWord, TriesLeft};
use crate::channel::ChannelError;
use crate::crypto::{CryptoError, PinError};
use crate::data::RegionCode;
use crate::data::{BcdDate, DataError};
use crate::fileaddr::FileAddressError;
use crate::keyholder::{HsmResponseError, KeyHolderError};
use crate::keys::{KeyFileError, KeyRole};
use crate::profile::AreaError;
use crate::tlv::TlvError;
use crate::transport::TransportError;

/// Why a card operation did not complete.
///
/// Every variant says what happened in terms of the card, the PIN or the input, so a terminal
/// can show it as is. The card's state after an error is described on each operation.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum Error {
    /// The reader, pcscd or the connection failed.
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// A command or response could not be encoded or decoded.
    #[error("malformed APDU: {0}")]
    Apdu(#[from] ApduError),
    /// The card kept answering `61xx`: the exchange was abandoned.
    #[error("the card kept announcing more data (61xx) without end")]
    EndlessResponse,
    /// The card answered a status word this operation did not expect.
    #[error("{command}: the card answered {sw}")]
    Card {
        /// The command that failed, e.g. `READ RECORD EF05`.
        command: &'static str,
        /// The status word the card answered.
        sw: StatusWord,
    },
    /// The card's answer does not have the structure the protocol defines.
    #[error("{command}: malformed card response: {reason}")]
    MalformedResponse {
        /// The command whose response was malformed.
        command: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The card or its data failed validation.
    #[error(transparent)]
    Data(#[from] DataError),
    /// A cryptographic computation failed.
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    /// The key holder (key file, PSAM or HSM) failed.
    #[error(transparent)]
    KeyHolder(#[from] KeyHolderError),
    /// The card uses an algorithm sscard cannot compute.
    #[error(transparent)]
    UnsupportedAlgorithm(#[from] UnsupportedAlgorithm),
    /// The key holder does not hold keys for the card's algorithm.
    #[error("the key holder has no {0} keys, which this card needs")]
    KeyHolderAlgorithm(crate::Algorithm),
    /// The social security application (SSSE) is not on this card.
    #[error("this card has no social security application (SSSE): not a social security card")]
    NotSocialSecurityCard,
    /// Wrong PIN; the card counted the try (`63Cx`).
    #[error("wrong PIN: {}", TriesLeft(*.tries_left))]
    WrongPin {
        /// Tries left before the PIN blocks.
        tries_left: u8,
    },
    /// The PIN is blocked (`6983`): it must be unblocked or reloaded with the issuer's PUK.
    #[error("the PIN is blocked: it must be unblocked or reloaded with the issuer's key (PUK)")]
    PinBlocked,
    /// The social security application is permanently blocked (APPLICATION BLOCK; `9303`,
    /// part 7 §13.2).
    #[error(
        "the social security application is permanently blocked (9303): the card must be replaced"
    )]
    ApplicationBlocked,
    /// The whole card is blocked (CARD BLOCK; every command answers `6A81`, part 5 §6.2.1).
    #[error("the card is blocked (6A81 to every command): it must be replaced")]
    CardBlocked,
    /// INTERNAL AUTHENTICATION with IRK failed: the card does not hold the issuer's keys
    /// (part 7 §5.4).
    #[error("the card is not genuine: internal authentication with IRK failed")]
    NotGenuine,
    /// The card refused the authentication data (`63Cx`): wrong key holder or wrong keys.
    #[error(
        "external authentication with {role} failed ({}): the key holder's keys do not match this card",
        TriesLeft(*.tries_left)
    )]
    AuthenticationFailed {
        /// The key used.
        role: KeyRole,
        /// Tries left before the key locks (`63CF`: failures of this key are not counted).
        tries_left: u8,
    },
    /// The key is locked on this card (`6983` to EXTERNAL AUTHENTICATION).
    #[error("the card's {role} key is locked after too many failed authentications")]
    KeyLocked {
        /// The key.
        role: KeyRole,
    },
    /// A 3.0 card's EF06 needs RKSSSE and no key holder was given.
    #[error("this card (3.0) protects the holder data with RKSSSE (reader interface §10.2): give a key holder (key file, PSAM or HSM)")]
    ReadKeyRequired,
    /// A key holder is needed for this operation.
    #[error("{0} needs a key holder (key file, PSAM or HSM)")]
    KeyHolderRequired(&'static str),
    /// The card has no holder data: it is blank (initialized, not personalized).
    #[error("the card is blank (not personalized): {0}")]
    Blank(&'static str),
    /// The card carries part of a personalization: the card number, written last, is missing
    /// (a torn or interrupted personalization, \[design\] D15).
    #[error("personalization of this card was interrupted (no card number): run personalization again to complete it")]
    PersonalizationIncomplete,
    /// The card is personalized for someone else and overwriting was not asked for.
    #[error("the card is already personalized (card number {card_number}); ask for re-personalization explicitly")]
    AlreadyPersonalized {
        /// The card number found on the card.
        card_number: String,
    },
    /// The card was initialized for another region than the data.
    #[error("the card was initialized for region {card} (its card identification code), the data is for region {data}")]
    RegionMismatch {
        /// The region of the card identification code.
        card: RegionCode,
        /// The region of the data.
        data: RegionCode,
    },
    /// The card's expiry date has passed.
    #[error("the card expired on {expiry}")]
    Expired {
        /// The card's expiry date.
        expiry: BcdDate,
    },
    /// The new PIN is too easy to guess.
    #[error("the new PIN is too weak (repeated or sequential digits, or a well-known PIN)")]
    WeakPin,
    /// The new PIN equals the initial PIN.
    #[error("the new PIN must differ from the initial PIN")]
    InitialPin,
    /// The card was reset or replaced during an authenticated session: its security state is gone.
    #[error("the card was reset or replaced: its authenticated state is lost, start the operation again")]
    CardReset,
    /// The card in the reader is not the card this operation was about.
    #[error("wrong card: {0}")]
    WrongCard(String),
    /// The data read back after writing differs from what was written.
    #[error("read-back after personalization differs from the data written: {0}")]
    ReadBackMismatch(String),
    /// The card has no financial (bank) application.
    #[error("the card has no financial application (A000000333010101)")]
    NoFinancialApplication,
    /// A data area file or item cannot be read or written as asked (V2.0 notice; the message
    /// names the file and the item).
    #[error(transparent)]
    Area(#[from] AreaError),
    /// A medical account transaction or read did not happen as asked (part 5 §7, part 7
    /// §11-12; the message says whether anything was written).
    #[error(transparent)]
    Account(#[from] AccountError),
    /// A PIN given to the library is not a PIN (4 to 16 digits); the message never shows it.
    #[error(transparent)]
    Pin(#[from] PinError),
    /// A key file cannot be used (unreadable, readable by others, not a version-2 key file).
    #[error(transparent)]
    KeyFile(#[from] KeyFileError),
    /// Bytes are not the TLVs they should be (a record, an FCI).
    #[error(transparent)]
    Tlv(#[from] TlvError),
}

/// An HSM's answer that cannot be used is the key holder's failure.
impl From<HsmResponseError> for Error {
    fn from(e: HsmResponseError) -> Self {
        Error::KeyHolder(KeyHolderError::Hsm(e))
    }
}

/// An amount that cannot be read is the account operation's failure.
impl From<AmountError> for Error {
    fn from(e: AmountError) -> Self {
        Error::Account(AccountError::Amount(e))
    }
}

/// A file address or file data text (the reader interface's `iReadCard`/`iWriteCard`) that
/// names something the card does not have, or does not follow the syntax, is a data area
/// error: the message names the file and the item.
impl From<FileAddressError> for Error {
    fn from(e: FileAddressError) -> Self {
        match e {
            FileAddressError::Area(a) => Error::Area(a),
            other => Error::Area(AreaError::Invalid {
                file: "file address".into(),
                item: String::new(),
                reason: other.to_string(),
            }),
        }
    }
}

impl From<ChannelError> for Error {
    fn from(e: ChannelError) -> Self {
        match e {
            ChannelError::Transport(t) => Error::Transport(t),
            ChannelError::Apdu(a) => Error::Apdu(a),
            ChannelError::TooManyGetResponse => Error::EndlessResponse,
            ChannelError::Status(sw) => Error::Card {
                command: "command",
                sw,
            },
            #[allow(unreachable_patterns)]
            other => Error::MalformedResponse {
                command: "exchange",
                reason: other.to_string(),
            },
        }
    }
}

/// Result type of the lifecycle operations.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    /// A terminal shows these messages as they are: one try is "1 try left".
    #[test]
    fn tries_are_worded_singular_and_plural() {
        assert_eq!(
            Error::WrongPin { tries_left: 1 }.to_string(),
            "wrong PIN: 1 try left"
        );
        assert_eq!(
            Error::WrongPin { tries_left: 2 }.to_string(),
            "wrong PIN: 2 tries left"
        );
        let auth = |tries_left| Error::AuthenticationFailed {
            role: KeyRole::Puk,
            tries_left,
        };
        assert!(
            auth(1).to_string().contains("failed (1 try left)"),
            "{}",
            auth(1)
        );
        assert!(
            auth(0).to_string().contains("failed (0 tries left)"),
            "{}",
            auth(0)
        );
        let card = Error::Card {
            command: "VERIFY",
            sw: StatusWord::VerificationFailed { tries_left: 1 },
        };
        assert_eq!(
            card.to_string(),
            "VERIFY: the card answered 63C1 (verification failed, 1 try left)"
        );
    }
}
