//! Errors of the simulator's constructors and image files (the card itself answers status words,
//! never errors).

use thiserror::Error;

/// Building, loading or saving a simulated card or PSAM failed.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum SimError {
    /// Reading or writing an image file failed.
    #[error("card image file: {0}")]
    Io(#[from] std::io::Error),
    /// The image is not valid JSON for this simulator.
    #[error("card image JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// The image parsed but is inconsistent.
    #[error("invalid card image: {0}")]
    InvalidImage(String),
    /// The image path has no file name.
    #[error("not a file path: {0}")]
    InvalidPath(String),
    /// The card specification is unusable (region code, PIN, terminal number...).
    #[error("invalid card specification: {0}")]
    InvalidSpec(String),
    /// The key holder could not provide a card key.
    #[error("key holder: {0}")]
    KeyHolder(String),
    /// A cryptographic operation failed.
    #[error("crypto: {0}")]
    Crypto(String),
}
