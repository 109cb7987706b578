//! # sscard
//!
//! Read, write and simulate China's social security card (社会保障卡).
//!
//! A terminal program needs this one crate. What a bank outlet or a hospital uses every day is
//! here at the root: [`Card`], the operations [`read`], [`read_verified`], [`check_validity`],
//! [`activate`], [`activate_verified`], [`verify_pin`], [`pin_status`], [`change_pin`], the
//! key holders ([`PsamKeyHolder`], [`HsmKeyHolder`], [`KeyFile`]), the PC/SC reader
//! ([`PcscTransport`]), [`Pin`], [`Error`] and [`Result`]. They are re-exports: each lives in
//! the module named below, with the rest of its family.
//!
//! Every error of the library converts into [`Error`] with `?` (a [`crypto::PinError`], a
//! [`keys::KeyFileError`], a [`transport::TransportError`], a [`keyholder::KeyHolderError`] …),
//! so a terminal's functions can return [`Result`].
//!
//! ## Read a card on a PC/SC reader
//!
//! ```no_run
//! use sscard::{Card, OpenOptions, PcscTransport};
//!
//! fn main() -> sscard::Result<()> {
//!     // the first reader holding a card (or the one $SSCARD_READER names)
//!     let mut card = Card::open(PcscTransport::open(&OpenOptions::default())?)?;
//!     let data = sscard::read(&mut card)?;           // 1.0 and 2.0 cards, no keys needed
//!     println!("{} {}", data.holder.name, data.issuing.card_number);
//!     println!("{}", data.basic_line());             // the reader interface's iReadCardBas line
//!     Ok(())
//! }
//! ```
//!
//! Without keys this reads 1.0 and 2.0 cards; a 3.0 card answers [`Error::ReadKeyRequired`]:
//! give it a key holder with [`read_verified`], which also proves the card genuine.
//!
//! ## Activate a card with a PSAM in a second reader
//!
//! ```no_run
//! use sscard::{ActivateOptions, Card, OpenOptions, PcscTransport, Pin, PsamKeyHolder};
//! use sscard::ReaderSelector;
//!
//! /// `new_pin` as the PIN pad gave it (a PIN never comes from a command line).
//! fn activate_at_the_counter(new_pin: &str) -> sscard::Result<()> {
//!     let reader = |index| {
//!         PcscTransport::open(&OpenOptions {
//!             reader: Some(ReaderSelector::Index(index)),
//!             ..OpenOptions::default()
//!         })
//!     };
//!     let mut card = Card::open(reader(0)?)?;          // the holder's card in the first reader
//!     let mut psam = PsamKeyHolder::open(reader(1)?)?; // the outlet's PSAM in the second
//!     let new_pin = Pin::new(new_pin)?;
//!     // proves the card genuine with the PSAM (IRK), then CHANGE PIN from the initial PIN
//!     sscard::activate_verified(&mut card, &mut psam, &new_pin, &ActivateOptions::default())
//! }
//! # fn main() -> sscard::Result<()> { activate_at_the_counter("258036") }
//! ```
//!
//! ## The modules
//!
//! - [`sscard_core`], re-exported module by module: card profile, data items, APDUs, the
//!   specification's cryptography, key roles and key holders, lifecycle operations (no I/O);
//! - [`sim`]: the simulated card and PSAM;
//! - [`pcsc`]: the PC/SC transport (readers, waiting for cards, transactions);
//!
//! and the few things that need the operating system: [`keyfile::load_key_file`] (refuses
//! key files others can read) and [`clock::today`].
//!
//! Writes to a card exist only on an authenticated session ([`lifecycle::AuthenticatedSession`]);
//! raw commands only behind the escape hatch [`Card::raw`], which says it bypasses the rules.
#![forbid(unsafe_code)]

pub mod clock;
pub mod keyfile;

pub use sscard_core::{
    account, algorithm, apdu, atr, channel, codec, crypto, data, fileaddr, keyholder, keys,
    lifecycle, profile, tlv, transport, Algorithm, Error, Result,
};
pub use sscard_pcsc as pcsc;
pub use sscard_sim as sim;

// What a terminal programmer looks for first (re-exports; see the modules for the rest).
pub use sscard_core::crypto::Pin;
pub use sscard_core::keyholder::{HsmKeyHolder, KeyFile, KeyHolder, PsamKeyHolder};
pub use sscard_core::lifecycle::{
    activate, activate_verified, change_pin, check_validity, pin_status, read, read_verified,
    verify_pin, ActivateOptions, Card, CardData, PinStatus, ReadOptions, ValidityPolicy, Verdict,
};
pub use sscard_core::transport::Transport;
pub use sscard_pcsc::{OpenOptions, PcscTransport, ReaderSelector};
