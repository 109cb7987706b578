//! # sscard-core
//!
//! Everything sscard knows about China's social security card (社会保障卡), without any I/O:
//! the card file structure and data items, APDU commands and responses, the cryptography of
//! the national specification (3DES and SM4; diversification, process keys, authentication
//! data, MACs, enciphered data), the key roles (IRK, RKSSSE, UKSSSE, PUK, STKSSSE, BK …), key
//! holders (a development key file, a PSAM, an HSM asked step by step), and the lifecycle
//! operations (read, validity check, personalize, activate, PIN management, blocking) generic
//! over a [`transport::Transport`].
//!
//! The card protocol sscard speaks is written down in `docs/card-os.md`, with the section of
//! the specification behind every fact; `docs/interop-profile.md` lists sscard's choices where
//! the specification is silent.
#![forbid(unsafe_code)]

pub mod account;
pub mod algorithm;
pub mod apdu;
pub mod atr;
pub mod channel;
pub mod codec;
pub mod crypto;
pub mod data;
pub mod error;
pub mod fileaddr;
pub mod keyholder;
pub mod keys;
pub mod lifecycle;
pub mod profile;
pub mod tlv;
pub mod transport;

pub use algorithm::Algorithm;
pub use error::{Error, Result};
