//! The card's cryptography: thin adapters from the simulator's stored key bytes to the
//! `sscard_core::crypto` functions (the same, spec'd, functions the library uses), mapping
//! failures to status words.

use zeroize::Zeroizing;

use sscard_core::apdu::StatusWord;
use sscard_core::crypto::{self, SecretKey};
use sscard_core::Algorithm;

use crate::card::Abort;
use crate::image::SecretBytes;

fn internal_error<E>(_: E) -> Abort {
    StatusWord::NoPreciseDiagnosis.into()
}

fn key(bytes: &SecretBytes) -> Result<SecretKey, Abort> {
    SecretKey::from_bytes(bytes.expose()).map_err(internal_error)
}

/// `E_SK(R)` with `SK = Div(CK, R[0..8])` (docs/card-os.md §4).
pub(crate) fn external_auth_cryptogram(
    alg: Algorithm,
    card_key: &SecretBytes,
    challenge: &[u8],
) -> Result<Zeroizing<Vec<u8>>, Abort> {
    crypto::external_auth_cryptogram(alg, &key(card_key)?, challenge).map_err(internal_error)
}

/// `E_{Div(CK_08, process factor)}(data)`.
pub(crate) fn internal_auth_response(
    alg: Algorithm,
    card_key: &SecretBytes,
    process_factor: &[u8; 8],
    data: &[u8],
) -> Result<Zeroizing<Vec<u8>>, Abort> {
    crypto::internal_auth_response(alg, &key(card_key)?, process_factor, data)
        .map_err(internal_error)
}

/// The 4-byte MAC of docs/card-os.md §4.
pub(crate) fn mac(
    alg: Algorithm,
    card_key: &SecretBytes,
    iv: &[u8],
    message: &[u8],
) -> Result<[u8; 4], Abort> {
    crypto::mac(alg, &key(card_key)?, iv, message).map_err(internal_error)
}

/// Deciphers a PIN block with `CK_06` and returns the PIN in packed BCD (`6A80` when the block
/// does not hold a PIN).
pub(crate) fn pin_from_block(
    alg: Algorithm,
    card_key: &SecretBytes,
    block: &[u8],
) -> Result<Zeroizing<Vec<u8>>, Abort> {
    let plain = crypto::decipher(alg, &key(card_key)?, block).map_err(internal_error)?;
    let pin =
        crypto::parse_pin_block(alg, &plain).map_err(|_| Abort::Status(StatusWord::WrongData))?;
    Ok(pin.to_bcd())
}
