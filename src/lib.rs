//! # sscard
//!
//! Read, write and simulate China's social security card (社会保障卡).
//!
//! This facade re-exports the workspace crates so applications and the top-level examples and
//! tests need one dependency:
//! - [`sscard_core`]: card profile, data elements, APDUs, crypto, key holders, lifecycle (no I/O);
//! - [`sim`]: the simulated card and PSAM;
//! - [`pcsc`]: the PC/SC transport (readers, waiting for cards, transactions);
//!
//! and adds the few things that need the operating system: [`keyfile::load_key_file`] (refuses
//! key files others can read) and [`clock::today`].
#![forbid(unsafe_code)]

pub mod clock;
pub mod keyfile;

pub use sscard_core::{
    algorithm, apdu, channel, codec, crypto, data, keyholder, lifecycle, profile, transport,
    Algorithm, Error,
};
pub use sscard_pcsc as pcsc;
pub use sscard_sim as sim;
