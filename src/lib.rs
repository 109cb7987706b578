//! # sscard
//!
//! Read, write and simulate China's social security card (社会保障卡).
//!
//! This facade re-exports the workspace crates so applications and the top-level examples and
//! tests need one dependency:
//! - [`sscard_core`]: card profile, data items, APDUs, the specification's cryptography, key
//!   roles and key holders, lifecycle operations (no I/O);
//! - [`sim`]: the simulated card and PSAM;
//! - [`pcsc`]: the PC/SC transport (readers, waiting for cards, transactions);
//!
//! and adds the few things that need the operating system: [`keyfile::load_key_file`] (refuses
//! key files others can read) and [`clock::today`].
#![forbid(unsafe_code)]

pub mod clock;
pub mod keyfile;

pub use sscard_core::{
    account, algorithm, apdu, channel, codec, crypto, data, fci, fileaddr, keyholder, keys,
    lifecycle, profile, tlv, transport, Algorithm, Error,
};
pub use sscard_pcsc as pcsc;
pub use sscard_sim as sim;
