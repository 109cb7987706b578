//! The card cryptography of the specification, over the RustCrypto block ciphers.
//!
//! - [`encipher`] / [`decipher`]: ECB; DES or 3DES by key length on 3DES cards, SM4, AES;
//! - [`diversify`] / [`diversify_path`]: `Div(K, f)` of part 9 §7.1.1 / §7.2.1;
//!   [`CardFactors`] and [`KeyLevel`]: the factors of part 9 §7.3 and the levels of figure 12;
//! - [`process_key`], [`auth_data`], [`authenticate`]: part 4 §8.4 and §9.3 (INTERNAL and
//!   EXTERNAL AUTHENTICATION);
//! - [`mac`]: part 4 §8.2.4 (zero IV, `80` padding always, 4 bytes, folded for 16-byte blocks);
//!   [`tac_key`]: part 7 §15;
//! - [`encipher_data`] / [`decipher_data`]: part 4 §8.3 (LD, padding only when short);
//! - [`Pin`]: the cardholder PIN and its `cn` encoding (part 5 §6.3.1);
//! - [`SecretKey`]: 8- or 16-byte keys, wiped on drop, compared in constant time;
//!   [`ct_equal`]: the same comparison for MACs, TACs and authentication data.
//!
//! `docs/card-os.md` §4 says which key, process factor and data each command uses.

pub mod account;
mod block;
mod diversify;
mod enciphered_data;
mod factors;
mod key;
mod mac;
mod pin;
mod session;

use thiserror::Error;

use crate::atr::AtrError;

pub use block::{decipher, encipher};
pub use diversify::{diversify, diversify_path};
pub use enciphered_data::{decipher_data, encipher_data, ld_blocks};
pub use factors::{card_factor_from_atr, city_factor, province_factor, CardFactors, KeyLevel};
pub use key::{SecretKey, KEY_LEN, SINGLE_KEY_LEN};
pub use mac::{mac, pad_80, reduce_mac, tac_key, MAC_LEN};
pub use pin::{Pin, PinError};
pub use session::{auth_data, authenticate, process_key, AUTH_LEN};

/// Whether two cryptograms (MACs, TACs, authentication data) are equal, compared in constant
/// time (their lengths are not hidden).
pub fn ct_equal(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

/// Why a cryptographic computation could not be done.
///
/// Messages never contain key, PIN or cryptogram bytes.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum CryptoError {
    /// A key must be 8 or 16 bytes (16 for SM4 and AES).
    #[error("a key must be 8 or {KEY_LEN} bytes (16 for SM4 and AES), got {len}")]
    KeyLength {
        /// The length given.
        len: usize,
    },
    /// A key given as text is not 16 or 32 hex digits.
    #[error("a key must be 16 or 32 hex digits")]
    KeyHex,
    /// ECB data must be a non-empty whole number of blocks.
    #[error("{len} bytes is not a whole number of {block}-byte blocks")]
    NotWholeBlocks {
        /// The data length.
        len: usize,
        /// The algorithm's block length.
        block: usize,
    },
    /// A process factor has 1 to one block of bytes.
    #[error("a process factor must have 1 to {block} bytes, got {len}")]
    ProcessFactor {
        /// The length given.
        len: usize,
        /// The algorithm's block length.
        block: usize,
    },
    /// Data to encipher must fit the one-byte length LD.
    #[error("{0} bytes is too long for enciphered data (at most 255)")]
    DataTooLong(usize),
    /// Deciphered data does not have the layout `LD ‖ data ‖ 80 00…`.
    #[error("the deciphered data is malformed (length byte or padding)")]
    EncipheredData,
    /// The ATR is malformed or too short.
    #[error(transparent)]
    Atr(#[from] AtrError),
    /// The ATR has fewer than 13 historical bytes, so it gives no card factor.
    #[error("the ATR has {0} historical bytes; the card factor needs 13 (T6..TD)")]
    ShortHistoricalBytes(usize),
    /// A PIN is invalid.
    #[error(transparent)]
    Pin(#[from] PinError),
}
