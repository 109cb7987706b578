//! # sscard-sim
//!
//! A simulated social security card (社会保障卡) and PSAM that behave as the national
//! specification says (parts 2-10 of 《社会保障（个人）卡规范》, the V2.0 notice on the file
//! structure and data items, the reader-interface specification), with sscard's choices where
//! it is silent (`docs/interop-profile.md`, marked \[design\] in this crate's documentation):
//!
//! - [`SimCard`]: the card OS behind `handle(apdu) -> response` ([`card`]), with a persistent
//!   [`CardImage`] (JSON, [`image`]) and volatile RAM state lost on [`SimCard::reset`]; made
//!   blank or personalized from a [`CardSpec`] and root keys; optionally with the financial
//!   application of a bank-issued card ([`financial`]);
//! - [`account`]: DF04's medical account (part 5 §7) on cards made with it — the amounts, the
//!   transaction details, the proofs, the commands and their state machine (`card::account`);
//! - [`SimPsam`]: the terminal's PSAM of part 9 ([`psam`]), built from root keys at any level,
//!   with INIT SAM / CREDIT SAM FOR PURCHASE for the account;
//! - [`SimTransport`]: either of them in process as a [`sscard_core::transport::Transport`];
//! - [`vpcd`]: either of them as a virtual card in a real pcscd;
//! - [`tear`]: power loss after the n-th APDU or at the n-th persistent write.
//!
//! The chips compute with `sscard_core::crypto`; the tests also check them against values
//! computed step by step from the raw block ciphers.
#![forbid(unsafe_code)]

pub mod account;
mod apdu;
pub mod areas;
pub mod atr;
pub mod card;
pub mod card_key;
mod convert;
pub mod error;
pub mod financial;
pub mod image;
pub mod psam;
mod secret;
pub mod spec;
mod t0;
pub mod tear;
pub mod transport;
pub mod virtual_card;
pub mod vpcd;

#[cfg(test)]
mod independent_tests;
#[cfg(test)]
mod proptests;
#[cfg(test)]
mod test_support;

pub use account::{AccountImage, AccountSpec};
pub use areas::{AreaImage, DataAreas, FileContent};
pub use atr::HistoricalBytes;
pub use card::SimCard;
pub use card_key::CardKey;
pub use error::SimError;
pub use financial::FinancialApp;
pub use image::{CardImage, HexBytes, PinRecord, SecretBytes};
pub use psam::{PsamImage, PsamKey, PsamSpec, SimPsam};
pub use spec::CardSpec;
pub use tear::Tear;
pub use transport::{FileCard, SimTransport};
pub use virtual_card::VirtualCard;
