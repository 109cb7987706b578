//! # sscard-sim
//!
//! A simulated social security card (社会保障卡) and PSAM.
#![forbid(unsafe_code)]

pub mod vpcd;
