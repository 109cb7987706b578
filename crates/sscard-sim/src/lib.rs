//! # sscard-sim
//!
//! A simulated social security card (社会保障卡) and PSAM (being written).
#![forbid(unsafe_code)]

pub mod error;
pub mod image;
pub mod transport;
pub mod vpcd;

pub use error::SimError;
pub use image::{AppState, BlockState, CardImage, CardOptions, HexBytes, PinState, SecretBytes};
pub use transport::{SimTransport, VirtualCard};
