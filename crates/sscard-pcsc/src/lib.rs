//! # sscard-pcsc
//!
//! The PC/SC transport of sscard: raw APDUs to a social security card (社会保障卡) in a real
//! reader, through the platform's smart-card service (pcscd / pcsc-lite on Linux).
//!
//! - [`Pcsc`] lists readers ([`ReaderInfo`]: name, card presence, ATR), picks one by exact
//!   name, name fragment or index ([`ReaderSelector`], with the `SSCARD_READER` environment
//!   variable as fallback) and waits for a card.
//! - [`PcscTransport`] implements [`sscard_core::transport::Transport`] on one reader: shared
//!   or exclusive connection, explicit transactions, typed errors, automatic reconnection after
//!   another program reset the card (reported once as [`TransportError::CardReset`], with a new
//!   [`Transport::reset_epoch`]) and re-establishment of the PC/SC context after pcscd restarted.
//!
//! ```no_run
//! use sscard_core::transport::Transport;
//! use sscard_pcsc::{OpenOptions, PcscTransport};
//!
//! # fn main() -> Result<(), sscard_core::transport::TransportError> {
//! let mut card = PcscTransport::open(&OpenOptions::default())?;
//! let response = card.transmit(&[0x00, 0xA4, 0x04, 0x00, 0x00])?;
//! println!("{:02X?}", response);
//! # Ok(())
//! # }
//! ```
#![forbid(unsafe_code)]

mod error;
mod handle;
pub mod pinpad;
mod reader;
mod transport;

#[cfg(feature = "testing")]
pub mod testing;

pub use error::map_error;
pub use reader::{Pcsc, ReaderInfo, ReaderSelector, READER_ENV};
pub use transport::{Disposition, OpenOptions, PcscTransport, ShareMode};

pub use sscard_core::transport::{Transport, TransportError};
