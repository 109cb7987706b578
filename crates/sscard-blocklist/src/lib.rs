//! # sscard-blocklist
//!
//! The terminal blocklist (黑名单) of the social security card specification: part 8 §7 asks
//! terminals to store and search two kinds of records — a single card (card identification
//! code and card number) and a card-number range — and to accept updates only through
//! authenticated, integrity-protected channels; part 7 §5.4 consults the list during the
//! validity check. Format and maintenance are left open (part 7 §5.4 note ①), so this crate
//! defines them (\[design\] D28, docs/blocklist.md):
//!
//! - **issuer side** ([`IssuerList`]): add and remove cards and ranges, each with a
//!   [`Reason`] and a date; publish a signed full list and the delta from the previous version,
//!   each with a monotonic version and a validity period, signed with SM2 over SM3 by an
//!   [`IssuerKey`] (a PKCS#8 file of mode 0600, zeroized in memory);
//! - **terminal side** ([`TerminalList`], [`Store`]): load a full list, apply deltas, refuse any
//!   file that is tampered with, truncated, older than the list held, expired, signed by another
//!   key or of another format version — keeping the list held; updates reach the disk
//!   atomically; the list plugs into `sscard_core::lifecycle::check_validity` as its
//!   [`Blocklist`](sscard_core::lifecycle::Blocklist);
//! - **compact and exact**: a single card is keyed exactly (no hash, no false positive) by
//!   128 bits; ten million entries take under 16 bytes each, on disk and in memory, and a
//!   look-up reads one bucket of about 22 records.
//!
//! ```
//! use sscard_blocklist::{Entry, IssuerKey, IssuerList, Mark, Reason, TerminalList};
//!
//! let key = IssuerKey::generate();
//! let mut issuer = IssuerList::new();
//! let card_id = "639900D15600000500BF7C7A48FB4966".parse()?;
//! let card_number = sscard_core::data::CardNumber::parse("KD5578904")?;
//! let lost = Entry::Card { card_id, card_number: card_number.clone() };
//! let day = "20261120".parse()?;
//! issuer.add(&lost, Mark::new(Reason::Lost, day)?);
//! let v1 = issuer.publish(&key, day, day, "20261220".parse()?)?;
//!
//! let list = TerminalList::from_full(v1.full, &key.public()?, Some(day))?;
//! let hit = list.lookup(&card_id, &card_number).expect("listed");
//! assert_eq!(hit.mark.reason, Reason::Lost);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]

pub mod crash;
pub mod entry;
pub mod error;
pub mod format;
pub mod issuer;
pub mod keys;
pub mod store;
mod table;
pub mod terminal;

pub use crash::CrashPoint;
pub use entry::{CardRange, Entry, Mark, Reason};
pub use error::{Error, Result};
pub use format::{Header, Kind};
pub use issuer::{sign_delta, sign_full, IssuerList, Period, Publication};
pub use keys::{IssuerKey, KeyId, TrustedKey};
pub use store::Store;
pub use terminal::{Applied, Counts, Delta, Hit, TerminalList};
