//! Errors of the reader layer and of the terminal.

use std::fmt;

use crate::keys::KeyRole;

/// A failure to exchange bytes with the card: the transport, not the card's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReaderError {
    /// The PC/SC layer reported an error (its text).
    Pcsc(String),
    /// No card, or the card was removed or reset.
    NoCard,
    /// Anything else the reader implementation wants to report.
    Other(String),
}

impl fmt::Display for ReaderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReaderError::Pcsc(text) => write!(f, "PC/SC error: {text}"),
            ReaderError::NoCard => write!(f, "no card in the reader"),
            ReaderError::Other(text) => write!(f, "reader error: {text}"),
        }
    }
}

impl std::error::Error for ReaderError {}

/// Everything that can make a terminal operation fail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TerminalError {
    /// The reader could not exchange the command.
    Reader(ReaderError),
    /// The card answered a status word other than the expected one (`9000`).
    Status {
        /// Name of the command that failed (for example `"READ RECORD"`).
        command: &'static str,
        /// The status word SW1 SW2.
        sw: u16,
    },
    /// The card's answer could not be understood (too short, wrong length, bad TLV…).
    Malformed(String),
    /// INTERNAL AUTHENTICATION: the card's authentication data differ from the expected one
    /// (part 7 §5.4): the card is not genuine.
    InternalAuthenticationFailed,
    /// The card is outside its validity period (part 7 §5.4, last check).
    Expired {
        /// The card's expiry date (EF05 item `06`, YYYYMMDD).
        expiry: String,
        /// The date given to the check.
        today: String,
    },
    /// The card's issue date (EF05 item `05`) lies after the date given to the check.
    NotYetValid {
        /// The card's issue date (YYYYMMDD).
        issued: String,
        /// The date given to the check.
        today: String,
    },
    /// The card uses an algorithm this terminal cannot compute (SSF33, or an unknown code).
    UnsupportedAlgorithm(u8),
    /// The card's specification version (EF05 item `03`) is not one the terminal supports.
    UnsupportedVersion(String),
    /// No root key was given for this role.
    MissingKey(KeyRole),
    /// The root key of this role has a length the card's algorithm cannot use.
    BadKeyLength {
        /// The key's role.
        role: KeyRole,
        /// Its length in bytes.
        len: usize,
    },
    /// The caller gave an argument the specification does not allow (PIN format, tag, length…).
    InvalidInput(String),
    /// An operation needs a step that has not happened (for example no SSSE selected).
    State(&'static str),
}

impl TerminalError {
    /// The card's status word, when the error is a status word.
    pub fn status_word(&self) -> Option<u16> {
        match self {
            TerminalError::Status { sw, .. } => Some(*sw),
            _ => None,
        }
    }
}

impl fmt::Display for TerminalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TerminalError::Reader(e) => write!(f, "{e}"),
            TerminalError::Status { command, sw } => {
                write!(f, "{command} answered status word {sw:04X}")
            }
            TerminalError::Malformed(what) => write!(f, "malformed card answer: {what}"),
            TerminalError::InternalAuthenticationFailed => {
                write!(f, "internal authentication failed: the card is not genuine")
            }
            TerminalError::Expired { expiry, today } => {
                write!(f, "card expired on {expiry} (today {today})")
            }
            TerminalError::NotYetValid { issued, today } => {
                write!(f, "card issued on {issued}, after today {today}")
            }
            TerminalError::UnsupportedAlgorithm(code) => {
                write!(f, "unsupported algorithm identifier {code:02X}")
            }
            TerminalError::UnsupportedVersion(v) => {
                write!(f, "unsupported specification version {v:?}")
            }
            TerminalError::MissingKey(role) => write!(f, "no root key for {role}"),
            TerminalError::BadKeyLength { role, len } => {
                write!(
                    f,
                    "root key for {role} has an unusable length of {len} bytes"
                )
            }
            TerminalError::InvalidInput(what) => write!(f, "invalid input: {what}"),
            TerminalError::State(what) => write!(f, "invalid state: {what}"),
        }
    }
}

impl std::error::Error for TerminalError {}

impl From<ReaderError> for TerminalError {
    fn from(e: ReaderError) -> Self {
        TerminalError::Reader(e)
    }
}
