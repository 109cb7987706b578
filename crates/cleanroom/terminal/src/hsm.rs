//! Request and answer strings of an encryption machine (HSM) in the reader-interface
//! specification's formats (RI §1.2.2, §1.3.2, §2.2.2, §2.3.2, §6.3.2; profile D17).
//!
//! The terminal itself computes with [`crate::keys::KeyService`]; these helpers let a caller
//! hand the same computations to an encryption machine, and let tests compare with a field
//! trace.

use crate::crypto::Algorithm;
use crate::error::TerminalError;
use crate::keys::{CardContext, KeyRole};

fn up(bytes: &[u8]) -> String {
    hex::encode_upper(bytes)
}

/// The combined internal + external authentication request of the basic read (profile D17):
/// `region|ATR|algorithm|card id|IA process factor|IA original|EA process factor|EA original|terminal code|`.
///
/// The EA fields are empty when there is no external authentication (RI §1.2.2); the terminal
/// code is 32 hexadecimal digits, all `0` when `None`.
pub fn basic_read_request(
    card: &CardContext,
    ia_process_factor: &[u8],
    ia_original: &[u8],
    ea: Option<(&[u8], &[u8])>,
    terminal_code: Option<&str>,
) -> String {
    let (ea_pf, ea_orig) = ea.map_or((String::new(), String::new()), |(p, o)| (up(p), up(o)));
    format!(
        "{}|{}|{:02X}|{}|{}|{}|{}|{}|{}|",
        card.region,
        up(&card.atr),
        card.algorithm.code(),
        up(&card.card_id),
        up(ia_process_factor),
        up(ia_original),
        ea_pf,
        ea_orig,
        terminal_code.unwrap_or("00000000000000000000000000000000"),
    )
}

/// An external authentication request (RI §2.2.2): `algorithm|key address|process factor|original|`.
pub fn auth_request(
    algorithm: Algorithm,
    role: KeyRole,
    process_factor: &[u8],
    original: &[u8],
) -> String {
    format!(
        "{:02X}|{}|{}|{}|",
        algorithm.code(),
        role.hsm_address(),
        up(process_factor),
        up(original)
    )
}

/// A secure-messaging request (RI §6.3.2, §7.3.2):
/// `algorithm|key address|process factor|command header|plain data|` (plain data: the new PIN's
/// digits, or empty for PIN unblock).
pub fn secure_message_request(
    algorithm: Algorithm,
    role: KeyRole,
    process_factor: &[u8],
    header: &[u8; 5],
    plain: &str,
) -> String {
    format!(
        "{:02X}|{}|{}|{}|{}|",
        algorithm.code(),
        role.hsm_address(),
        up(process_factor),
        up(header),
        plain
    )
}

fn hex8(text: &str) -> Result<[u8; 8], TerminalError> {
    let bytes = hex::decode(text.trim())
        .map_err(|_| TerminalError::InvalidInput(format!("{text:?} is not hexadecimal")))?;
    <[u8; 8]>::try_from(bytes.as_slice())
        .map_err(|_| TerminalError::InvalidInput(format!("{text:?} is not 8 bytes")))
}

/// One authentication result: 16 hex digits of authentication data then the 16 hex digits of
/// the original it was computed for (RI §1.3.2, §2.3.2). Returns `(authentication data, original)`.
pub fn parse_auth_answer(text: &str) -> Result<([u8; 8], [u8; 8]), TerminalError> {
    let t = text.trim();
    if t.len() != 32 || !t.is_ascii() {
        return Err(TerminalError::InvalidInput(format!(
            "{text:?} is not 32 hexadecimal digits"
        )));
    }
    Ok((hex8(&t[..16])?, hex8(&t[16..])?))
}

/// A parsed basic-read answer: internal result, optional external result.
pub type BasicReadAnswer = (([u8; 8], [u8; 8]), Option<([u8; 8], [u8; 8])>);

/// The basic-read answer `IA result|EA result|` (RI §1.3.2; the EA result empty when none).
pub fn parse_basic_read_answer(text: &str) -> Result<BasicReadAnswer, TerminalError> {
    let mut parts = text.trim().split('|');
    let ia = parse_auth_answer(parts.next().unwrap_or_default())?;
    let ea = match parts.next().map(str::trim) {
        None | Some("") => None,
        Some(s) => Some(parse_auth_answer(s)?),
    };
    Ok((ia, ea))
}
