//! A terminal for China's social security card (社会保障卡), written from the public national
//! specification alone, to serve as an independent conformance oracle.
//!
//! Sources: 《社会保障（个人）卡规范》 parts 2-7, 9 and 10, the V2.0 notice on the file
//! structure and data items, the 2016 reader-interface specification (RI), a field APDU trace,
//! and the interoperability profile for the points the specification leaves open (D1-D17).
//!
//! * [`reader`]: the [`Reader`] trait and [`PcscReader`] (PC/SC, T=0 procedure bytes handled);
//! * [`terminal`]: [`Terminal`], the command flows (selection, validity check, basic read,
//!   personalization, PIN and blocking maintenance, binary files);
//! * [`keys`]: key roles and the [`KeyService`] that computes with root keys ([`RootKeys`]);
//! * [`crypto`]: diversification, process keys, authentication data, MAC and encipherment;
//! * [`data`]: the EF05/EF06 data items, their padding and decoding;
//! * [`apdu`]: APDU building and parsing, the T=0 mapping, BER-TLV;
//! * [`hsm`]: encryption-machine request and answer strings of RI.
//!
//! ```no_run
//! use std::collections::BTreeMap;
//! use cleanroom_terminal::{PcscReader, Terminal};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let reader = PcscReader::connect(&PcscReader::list()?[0])?;
//! let mut roots = BTreeMap::new();
//! for role in ["IRK", "RKSSSE", "UKSSSE", "PUK", "STKSSSE", "BK"] {
//!     roots.insert(role.to_string(), vec![0u8; 16]); // the national root keys
//! }
//! let mut terminal = Terminal::new(reader, roots);
//! println!("{}", terminal.basic_line()?);
//! terminal.check_validity("20240101")?;
//! # Ok(())
//! # }
//! ```
#![forbid(unsafe_code)]

pub mod apdu;
pub mod crypto;
pub mod data;
pub mod error;
pub mod hsm;
pub mod keys;
pub mod reader;
pub mod terminal;

pub use crypto::Algorithm;
pub use data::BasicInfo;
pub use error::{ReaderError, TerminalError};
pub use keys::{CardContext, KeyRole, KeyService, RootKeys, RootLevel};
pub use reader::{PcscReader, Reader};
pub use terminal::{CardSummary, Fci, PinStatus, RandomSource, Terminal};
