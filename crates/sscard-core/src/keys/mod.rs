//! The keys of the social security application: their roles and where each lives (on the
//! card, in a PSAM, behind an HSM address), and the development root-key file.
//!
//! - [`KeyRole`]: IRK, RKSSSE, UKSSSE, PUK, STKSSSE, BK and the medical account keys, with the
//!   identifiers of part 9 appendix B and the reader interface's appendix B;
//! - [`RootKeys`]: national root keys read from a key file (development and tests only), and
//!   the card keys derived from them (part 9 §7.3).

mod role;
mod roots;

pub use role::{AreaKey, AreaKeyKind, KeyRole, KeyScope, AREA_KEYS};
pub use roots::{KeyFileError, RootKeys, KEY_FILE_FORMAT, KEY_FILE_VERSION};
