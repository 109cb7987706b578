//! Lifecycle operations (卡片生命周期) of the national specification, generic over any
//! [`crate::transport::Transport`] and any [`crate::keyholder::KeyHolder`]:
//!
//! - [`read()`] / [`read_verified()`]: card issuing data and holder data (part 7 §6; hospitals,
//!   banks, kiosks); [`read_binary_file`]: fingerprint and photo;
//! - [`check_validity()`]: the validity check of part 7 §5.4 and the PIN question of §5.6;
//! - [`personalize()`]: a card initialized by the manufacturer becomes the holder's card
//!   (part 10 §5.4; card-printing stations);
//! - [`activate()`] / [`activate_verified()`]: the holder replaces the initial PIN (bank
//!   outlets);
//! - PIN: [`pin_status`], [`verify_pin`], [`change_pin`], [`reload_pin`], [`unblock_pin`];
//! - blocking a lost card: [`block_application`], [`block_card`] (part 7 §13);
//! - [`read_bank_account`]: the financial application's account number;
//! - [`hsm`]: the reader interface's step-wise HSM flows;
//! - [`areas`]: the data areas of the V2.0 notice (DF01-DF04, DF07, regional extensions):
//!   items by area, file and tag, cyclic records, the photo, the file-address syntax of
//!   `iReadCard`/`iWriteCard`.
//! - [`account`]: the medical insurance account of DF04 (part 5 §7, part 7 §10-12, §14):
//!   credit, offline purchase, balance, transaction records, proof and recovery.
//!
//! Writes are only possible through an [`AuthenticatedSession`], which a card reset ends; raw
//! commands only through the escape hatch [`Card::raw`] ([`RawCard`]), which bypasses these
//! rules and says so.

pub mod account;
pub mod areas;
mod binary;
mod block;
mod card;
mod financial;
pub mod hsm;
mod personalize;
mod pin;
mod raw;
mod read;
mod session;
mod validity;

pub use binary::read_binary_file;
pub use block::{block_application, block_card};
pub use card::{Addressing, Application, Card};
pub use financial::{read_bank_account, BankAccount, PBOC_DEBIT_AID};
pub use personalize::{personalize, PersonalizeOptions, PersonalizeReport};
pub use pin::{
    activate, activate_verified, change_pin, pin_status, reload_pin, unblock_pin, verify_pin,
    ActivateOptions, PinStatus,
};
pub use raw::RawCard;
pub use read::{read, read_verified, CardData, ReadOptions};
pub use session::AuthenticatedSession;
pub use validity::{check_validity, Blocklist, ValidityPolicy, Verdict};
