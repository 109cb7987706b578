//! # sscard-core
//!
//! Everything sscard knows about China's social security card (社会保障卡), without any I/O:
//! the card file structure and data elements, APDU commands and responses, the cryptography
//! (3DES, SM4, AES; key diversification, cryptograms, MACs, PIN blocks), key holders
//! (a development key file or a PSAM), and the lifecycle operations (read, personalize,
//! activate, PIN management, blocking, reissue) generic over a [`transport::Transport`].
//!
//! The card protocol sscard speaks is written down in `docs/card-os.md`.
#![forbid(unsafe_code)]

pub mod algorithm;
pub mod apdu;
pub mod channel;
pub mod codec;
pub mod crypto;
pub mod data;
pub mod error;
pub mod keyholder;
pub mod lifecycle;
pub mod profile;
pub mod transport;

pub use algorithm::Algorithm;
pub use error::{Error, Result};
