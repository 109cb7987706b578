//! APDUs: command and response encoding (ISO/IEC 7816-3 and 7816-4), status words, instruction
//! bytes and one constructor per command sscard sends (`docs/card-os.md` sections 3 and 5).
//!
//! This layer is pure: it builds and parses bytes and never talks to a card. Sending is the
//! job of [`crate::channel::Channel`].
//!
//! Command data that is secret (a PIN, a cryptogram, a PIN block, a MAC) is carried as
//! [`CommandData::Sensitive`]; such data is zeroized when dropped and never shown by `Debug` or
//! by the channel's tracer. A command whose *response* is secret is marked with
//! [`Command::with_sensitive_response`].

mod command;
pub mod commands;
pub mod instruction;
mod response;
pub mod sensitivity;
mod status;

pub use command::{Command, CommandData, MAX_LC, MAX_LE};
pub use commands::RecordRef;
pub use response::Response;
pub use status::{StatusWord, TriesLeft};

use thiserror::Error;

/// Why bytes could not be encoded as, or decoded from, an APDU.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ApduError {
    /// A command APDU needs at least the 4 header bytes `CLA INS P1 P2`.
    #[error("command APDU too short: {0} bytes, the header alone needs 4")]
    CommandTooShort(usize),
    /// A response APDU needs at least the 2 status bytes `SW1 SW2`.
    #[error("response APDU too short: {0} bytes, the status word alone needs 2")]
    ResponseTooShort(usize),
    /// Command data longer than an extended Lc can announce.
    #[error("command data too long: {0} bytes (at most 65535)")]
    DataTooLong(usize),
    /// An expected response length outside `1..=65536`.
    #[error("expected response length (Le) {0} out of range (1 to 65536)")]
    LeOutOfRange(usize),
    /// The body after the header matches none of the ISO/IEC 7816-3 cases.
    #[error("malformed command APDU: {0}")]
    Malformed(&'static str),
}
