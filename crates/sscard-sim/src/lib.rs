//! # sscard-sim
//!
//! A simulated social security card (社会保障卡) and PSAM implementing `docs/card-os.md`:
//!
//! - [`SimCard`]: the card OS behind `handle(apdu) -> response`, with a persistent
//!   [`CardImage`] (JSON) and volatile RAM state lost on [`SimCard::reset`];
//! - [`SimPsam`]: a terminal key holder card (DIVERSIFY, CIPHER, terminal number);
//! - [`SimTransport`]: either of them, in process, as a [`sscard_core::transport::Transport`];
//! - [`vpcd`]: either of them as a virtual card in a real pcscd;
//! - [`tear`]: power loss after the n-th APDU or at the n-th persistent write, for tearing
//!   tests (docs/reliability.md).
//!
//! The card computes with the same `sscard_core::crypto` functions as the library; its tests
//! also check it against cryptograms computed step by step from the block ciphers.
#![forbid(unsafe_code)]

pub mod card;
pub mod error;
pub mod image;
mod ops;
pub mod psam;
mod t0;
pub mod tear;
pub mod transport;
pub mod vpcd;

#[cfg(test)]
mod independent_tests;
#[cfg(test)]
mod proptests;
#[cfg(test)]
mod test_support;

pub use card::{atr_for, atr_for_serial, CardSpec, SimCard, CARD_KEY_IDS};
pub use error::SimError;
pub use image::{AppState, BlockState, CardImage, CardOptions, HexBytes, PinState, SecretBytes};
pub use psam::SimPsam;
pub use tear::Tear;
pub use transport::{SimTransport, VirtualCard};
