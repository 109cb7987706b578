//! The card cryptography of `docs/card-os.md` §4, over the RustCrypto block ciphers.
//!
//! Everything here is generic over the `cipher` 0.5 traits ([`cipher::BlockCipherEncrypt`],
//! [`cipher::BlockCipherDecrypt`], [`cipher::KeyInit`]) with one small dispatch on
//! [`Algorithm`](crate::Algorithm): two-key 3DES ([`des::TdesEde2`]), SM4 ([`sm4::Sm4`]) and
//! AES-128 ([`aes::Aes128`]).
//!
//! - [`encipher`] / [`decipher`]: ECB over whole blocks;
//! - [`diversify`] / [`diversify_path`]: `Div(K, f)`, PBOC style; [`key_factors`] gives the
//!   factor list of a card key, [`card_key`] derives it;
//! - [`mac`]: ISO 9797-1 padding method 2, MAC algorithm 3 (retail MAC) for 3DES and MAC
//!   algorithm 1 (CBC-MAC) for SM4/AES, IV given, first 4 bytes;
//! - [`external_auth_cryptogram`] and [`internal_auth_response`]: what a card computes;
//! - [`Pin`], [`pin_block`] / [`parse_pin_block`]: PINs and the enciphered PIN block of PIN
//!   RELOAD;
//! - [`SecretKey`], [`KeyId`], [`CardFactors`].
//!
//! Secrets (keys, PINs, cryptograms, PIN blocks) live in [`zeroize::Zeroizing`] buffers and
//! are compared in constant time.

mod block;
mod diversify;
mod factors;
mod key;
mod mac;
mod pin;
mod pin_block;

use thiserror::Error;

pub use block::{decipher, encipher};
pub use diversify::{
    card_key, diversify, diversify_path, external_auth_cryptogram, internal_auth_response,
    key_factors,
};
pub use factors::{card_factor_from_atr, city_factor, historical_bytes, CardFactors};
pub use key::{KeyId, SecretKey, KEY_LEN};
pub use mac::{mac, MAC_LEN};
pub use pin::{Pin, PinError};
pub use pin_block::{parse_pin_block, pin_block};

/// Why a cryptographic computation could not be done.
///
/// Messages never contain key, PIN or cryptogram bytes.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum CryptoError {
    /// A key must be 16 bytes.
    #[error("a key must be {KEY_LEN} bytes, got {len}")]
    KeyLength {
        /// The length given.
        len: usize,
    },
    /// A key given as text is not 32 hex digits.
    #[error("a key must be {} hex digits", KEY_LEN * 2)]
    KeyHex,
    /// ECB data must be a non-empty whole number of blocks.
    #[error("{len} bytes is not a whole number of {block}-byte blocks")]
    NotWholeBlocks {
        /// The data length.
        len: usize,
        /// The algorithm's block length.
        block: usize,
    },
    /// The data must be exactly one block (a challenge, an internal-authentication input, a
    /// PIN block).
    #[error("{what} must be one {block}-byte block, got {len} bytes")]
    NotOneBlock {
        /// What was given.
        what: &'static str,
        /// The length given.
        len: usize,
        /// The algorithm's block length.
        block: usize,
    },
    /// The MAC initial value must be one block.
    #[error("the MAC initial value must be {block} bytes, got {len}")]
    IvLength {
        /// The length given.
        len: usize,
        /// The algorithm's block length.
        block: usize,
    },
    /// The ATR is malformed or too short.
    #[error("malformed ATR: {0}")]
    Atr(String),
    /// The ATR has fewer than 8 historical bytes, so it gives no card factor.
    #[error("the ATR has {0} historical bytes; the card factor needs at least 8")]
    ShortHistoricalBytes(usize),
    /// A deciphered PIN block does not have the PIN block layout.
    #[error("the deciphered PIN block is malformed")]
    PinBlock,
    /// A PIN is invalid.
    #[error(transparent)]
    Pin(#[from] PinError),
}
