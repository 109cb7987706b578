//! Errors of the simulator's constructors and image files. The simulated card and PSAM
//! themselves never fail: they answer status words.

use thiserror::Error;

/// Building, loading, converting or saving a simulated card or PSAM failed.
///
/// Messages never contain key or PIN bytes.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum SimError {
    /// Reading or writing an image file failed.
    #[error("image file: {0}")]
    Io(#[from] std::io::Error),
    /// The text is not JSON, or not JSON of the expected shape.
    #[error("image JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// A version-1 card image: written by sscard before it spoke the national specification.
    #[error(
        "this is a version-1 card image: it predates the specification protocol (invented key \
         ids, application state in the FCI) and no specification terminal can use it as it is; \
         convert it with `CardImage::convert_v1` and the version-2 root keys (the conversion \
         keeps its records, PIN, region, serials, generation and algorithm and derives new card \
         keys)"
    )]
    VersionOne,
    /// Another format, or a version this simulator does not read.
    #[error("unsupported image: format {}, version {} (this simulator reads \"{expected}\" version 2)", .format.as_deref().unwrap_or("none"), .version.map_or("none".to_owned(), |v| v.to_string()))]
    Unsupported {
        /// The `format` field, if it is a string.
        format: Option<String>,
        /// The `version` field, if it is a number.
        version: Option<u64>,
        /// The format expected here.
        expected: &'static str,
    },
    /// The image parsed but is inconsistent.
    #[error("invalid image: {0}")]
    InvalidImage(String),
    /// The image path has no file name.
    #[error("not a file path: {0}")]
    InvalidPath(String),
    /// The card or PSAM specification is unusable (region, serial, terminal number, record …).
    #[error("invalid specification: {0}")]
    InvalidSpec(String),
    /// The root keys lack a key the card or PSAM needs.
    #[error("keys: {0}")]
    Keys(String),
    /// A cryptographic computation failed.
    #[error("crypto: {0}")]
    Crypto(String),
}

impl From<sscard_core::crypto::CryptoError> for SimError {
    fn from(e: sscard_core::crypto::CryptoError) -> SimError {
        SimError::Crypto(e.to_string())
    }
}
