//! Why a blocklist file, key or entry was refused.

use std::path::PathBuf;

use sscard_core::data::BcdDate;

/// A refusal. Whatever the refusal, a terminal keeps the list it held.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Not a blocklist file at all (wrong magic).
    #[error("not an sscard blocklist file (it does not start with \"SSBL\")")]
    NotBlocklist,
    /// A file format version this library does not read.
    #[error(
        "blocklist format version {found} is not supported (this sscard reads version {supported})"
    )]
    FormatVersion {
        /// The file's.
        found: u16,
        /// The one supported.
        supported: u16,
    },
    /// The file is shorter than its header announces.
    #[error("the blocklist file is truncated: {actual} bytes, its header announces {expected}")]
    Truncated {
        /// Bytes announced.
        expected: u64,
        /// Bytes present.
        actual: u64,
    },
    /// Bytes follow the signature.
    #[error("the blocklist file has {extra} bytes after its end")]
    TrailingData {
        /// How many.
        extra: u64,
    },
    /// Signed by a key other than the one the terminal trusts.
    #[error("the blocklist is signed by another key (key id {found}); the terminal trusts key id {trusted}")]
    WrongKey {
        /// The key id in the file.
        found: String,
        /// The trusted key's id.
        trusted: String,
    },
    /// The signature does not verify: the file was altered after signing.
    #[error(
        "the blocklist's SM2 signature does not verify: the file was tampered with or damaged"
    )]
    BadSignature,
    /// The working list's checksum does not match.
    #[error("the working list's SM3 checksum does not match: the file is damaged")]
    BadChecksum,
    /// Signed, but inconsistent inside (a writer bug, or a file not written by sscard).
    #[error("malformed blocklist: {0}")]
    Malformed(String),
    /// A delta where a full list was needed, or the other way round.
    #[error("{0}")]
    WrongKind(String),
    /// Older than the list held.
    #[error("rollback refused: the file is version {offered}, the terminal holds version {held}")]
    Rollback {
        /// The version held.
        held: u64,
        /// The file's version.
        offered: u64,
    },
    /// The same version as the list held.
    #[error("the terminal holds version {held} already")]
    NotNewer {
        /// The version held.
        held: u64,
    },
    /// A delta that does not follow the version held.
    #[error("the delta updates version {base} to {offered}, but the terminal holds version {held}: apply the deltas in between or a full list")]
    Gap {
        /// The version held.
        held: u64,
        /// The delta's base.
        base: u64,
        /// The delta's version.
        offered: u64,
    },
    /// Past its validity period.
    #[error("the blocklist (version {version}) expired on {valid_until}; today is {today}: a current list is needed")]
    Expired {
        /// The file's version.
        version: u64,
        /// Its last valid day.
        valid_until: BcdDate,
        /// Today.
        today: BcdDate,
    },
    /// Before its validity period.
    #[error("the blocklist (version {version}) is valid from {valid_from}; today is {today}")]
    NotYetValid {
        /// The file's version.
        version: u64,
        /// Its first valid day.
        valid_from: BcdDate,
        /// Today.
        today: BcdDate,
    },
    /// An entry that cannot be listed (bad card number, date out of range, …).
    #[error("{0}")]
    BadEntry(String),
    /// Removing an entry that is not on the list.
    #[error("{0} is not on the list")]
    NotListed(String),
    /// A key file or public key that cannot be used.
    #[error("{0}")]
    Key(String),
    /// A file holding a secret that others may access.
    #[error("{path} holds the blocklist signing key and is accessible by other users (mode {mode:04o}): run `chmod 600 {path}`")]
    Permissions {
        /// The file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// An I/O error on a file of the list or the store.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The terminal's store is inconsistent (a file it names is missing or refused).
    #[error("blocklist store {path}: {message}")]
    Store {
        /// The store directory.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A simulated crash (tests of the atomic update).
    #[error("simulated crash at {0:?}")]
    Crash(crate::crash::CrashPoint),
}

impl Error {
    pub(crate) fn io(path: &std::path::Path, source: std::io::Error) -> Error {
        Error::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// Shorthand result.
pub type Result<T> = std::result::Result<T, Error>;
