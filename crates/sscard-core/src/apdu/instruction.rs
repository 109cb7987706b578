//! Instruction bytes (INS) of the commands in `docs/card-os.md` sections 3 and 5.

/// SELECT (`A4`).
pub const SELECT: u8 = 0xA4;
/// READ RECORD (`B2`).
pub const READ_RECORD: u8 = 0xB2;
/// UPDATE RECORD (`DC`).
pub const UPDATE_RECORD: u8 = 0xDC;
/// GET CHALLENGE (`84`).
pub const GET_CHALLENGE: u8 = 0x84;
/// EXTERNAL AUTHENTICATE (`82`).
pub const EXTERNAL_AUTHENTICATE: u8 = 0x82;
/// INTERNAL AUTHENTICATE (`88`).
pub const INTERNAL_AUTHENTICATE: u8 = 0x88;
/// VERIFY (`20`).
pub const VERIFY: u8 = 0x20;
/// CHANGE PIN (`5E`, proprietary).
pub const CHANGE_PIN: u8 = 0x5E;
/// PIN RELOAD / PIN UNBLOCK (`24`).
pub const PIN_RELOAD: u8 = 0x24;
/// APPLICATION BLOCK (`1E`).
pub const APPLICATION_BLOCK: u8 = 0x1E;
/// APPLICATION UNBLOCK (`18`).
pub const APPLICATION_UNBLOCK: u8 = 0x18;
/// CARD BLOCK (`16`).
pub const CARD_BLOCK: u8 = 0x16;
/// ACTIVATE FILE (`44`): finishes personalization.
pub const ACTIVATE_FILE: u8 = 0x44;
/// DEACTIVATE FILE (`04`): starts re-personalization.
pub const DEACTIVATE_FILE: u8 = 0x04;
/// GET RESPONSE (`C0`).
pub const GET_RESPONSE: u8 = 0xC0;
/// READ BINARY (`B0`).
pub const READ_BINARY: u8 = 0xB0;
/// PSAM DIVERSIFY (`DE`, with CLA `BF`).
pub const PSAM_DIVERSIFY: u8 = 0xDE;
/// PSAM CIPHER (`FA`, with CLA `80`): encipher or MAC with the working key.
pub const PSAM_CIPHER: u8 = 0xFA;

/// The name of an instruction byte this protocol uses, e.g. `"VERIFY"` for `0x20`.
pub fn name(ins: u8) -> Option<&'static str> {
    Some(match ins {
        SELECT => "SELECT",
        READ_RECORD => "READ RECORD",
        UPDATE_RECORD => "UPDATE RECORD",
        GET_CHALLENGE => "GET CHALLENGE",
        EXTERNAL_AUTHENTICATE => "EXTERNAL AUTHENTICATE",
        INTERNAL_AUTHENTICATE => "INTERNAL AUTHENTICATE",
        VERIFY => "VERIFY",
        CHANGE_PIN => "CHANGE PIN",
        PIN_RELOAD => "PIN RELOAD",
        APPLICATION_BLOCK => "APPLICATION BLOCK",
        APPLICATION_UNBLOCK => "APPLICATION UNBLOCK",
        CARD_BLOCK => "CARD BLOCK",
        ACTIVATE_FILE => "ACTIVATE FILE",
        DEACTIVATE_FILE => "DEACTIVATE FILE",
        GET_RESPONSE => "GET RESPONSE",
        READ_BINARY => "READ BINARY",
        PSAM_DIVERSIFY => "PSAM DIVERSIFY",
        PSAM_CIPHER => "PSAM CIPHER",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(name(VERIFY), Some("VERIFY"));
        assert_eq!(name(GET_RESPONSE), Some("GET RESPONSE"));
        assert_eq!(name(0x00), None);
    }
}
