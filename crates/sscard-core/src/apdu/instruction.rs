//! Instruction bytes (INS) of the commands of part 5 (the card), part 9 (the PSAM) and the
//! GET PROCESSING OPTIONS of the financial application.

/// SELECT (part 5 §6.11).
pub const SELECT: u8 = 0xA4;
/// READ RECORD (§6.10).
pub const READ_RECORD: u8 = 0xB2;
/// UPDATE RECORD (§6.13).
pub const UPDATE_RECORD: u8 = 0xDC;
/// READ BINARY (§6.9).
pub const READ_BINARY: u8 = 0xB0;
/// UPDATE BINARY (§6.12).
pub const UPDATE_BINARY: u8 = 0xD6;
/// GET CHALLENGE (§6.5).
pub const GET_CHALLENGE: u8 = 0x84;
/// EXTERNAL AUTHENTICATION (§6.4).
pub const EXTERNAL_AUTHENTICATE: u8 = 0x82;
/// INTERNAL AUTHENTICATION (§6.7).
pub const INTERNAL_AUTHENTICATE: u8 = 0x88;
/// VERIFY (§6.14).
pub const VERIFY: u8 = 0x20;
/// CHANGE PIN (§6.3, CLA `80`).
pub const CHANGE_PIN: u8 = 0x5E;
/// PIN CHANGE/UNBLOCK (§6.8, CLA `84`): reload (P2 `01`) or unblock (P2 `00`).
pub const PIN_CHANGE_UNBLOCK: u8 = 0x24;
/// APPLICATION BLOCK (§6.1, CLA `84`).
pub const APPLICATION_BLOCK: u8 = 0x1E;
/// CARD BLOCK (§6.2, CLA `84`).
pub const CARD_BLOCK: u8 = 0x16;
/// GET RESPONSE (§6.6).
pub const GET_RESPONSE: u8 = 0xC0;
/// INITIALIZE FOR LOAD (P1 `00`) / INITIALIZE FOR PURCHASE (P1 `01`), CLA `B0` (§7.5, §7.6).
pub const INITIALIZE: u8 = 0x28;
/// CREDIT FOR LOAD (§7.1, CLA `B0`).
pub const CREDIT_FOR_LOAD: u8 = 0x2A;
/// DEBIT FOR PURCHASE (§7.2, CLA `B0`).
pub const DEBIT_FOR_PURCHASE: u8 = 0x2C;
/// GET BALANCE (§7.3, CLA `B0`).
pub const GET_BALANCE: u8 = 0x26;
/// GET TRANSACTION PROOF (§7.4, CLA `B0`).
pub const GET_TRANSACTION_PROOF: u8 = 0x2E;
/// UPDATE STARTING DAY (P1 `00`) / GET STARTING DAY (P1 `01`), CLA `B0` (§7.7, §7.8).
pub const STARTING_DAY: u8 = 0x56;
/// PSAM DELIVERY SESSION KEY (part 9 §9.7, CLA `BF`).
pub const DELIVERY_SESSION_KEY: u8 = 0xDE;
/// PSAM CIPHER DATA (part 9 §9.8, CLA `80`).
pub const CIPHER_DATA: u8 = 0xFA;
/// PSAM INITIALIZE ENVIRONMENT (part 9 §9.3, CLA `BF`).
pub const INITIALIZE_ENVIRONMENT: u8 = 0xEC;
/// PSAM INIT SAM FOR PURCHASE (part 9 §9.9, CLA `80`): MAC1.
pub const INIT_SAM_FOR_PURCHASE: u8 = 0x70;
/// PSAM CREDIT SAM FOR PURCHASE (part 9 §9.10, CLA `80`): checks MAC2.
pub const CREDIT_SAM_FOR_PURCHASE: u8 = 0x72;
/// PSAM CREATE KEY / CHANGE KEY (part 9 §9.5, §9.6, CLA `84`).
pub const CREATE_CHANGE_KEY: u8 = 0xD4;
/// GET PROCESSING OPTIONS of the financial application (JR/T 0025, CLA `80`).
pub const GET_PROCESSING_OPTIONS: u8 = 0xA8;

/// The name of an instruction byte this protocol uses, e.g. `"VERIFY"` for `0x20`.
pub fn name(ins: u8) -> Option<&'static str> {
    Some(match ins {
        SELECT => "SELECT",
        READ_RECORD => "READ RECORD",
        UPDATE_RECORD => "UPDATE RECORD",
        READ_BINARY => "READ BINARY",
        UPDATE_BINARY => "UPDATE BINARY",
        GET_CHALLENGE => "GET CHALLENGE",
        EXTERNAL_AUTHENTICATE => "EXTERNAL AUTHENTICATION",
        INTERNAL_AUTHENTICATE => "INTERNAL AUTHENTICATION",
        VERIFY => "VERIFY",
        CHANGE_PIN => "CHANGE PIN",
        PIN_CHANGE_UNBLOCK => "PIN CHANGE/UNBLOCK",
        APPLICATION_BLOCK => "APPLICATION BLOCK",
        CARD_BLOCK => "CARD BLOCK",
        GET_RESPONSE => "GET RESPONSE",
        INITIALIZE => "INITIALIZE FOR LOAD/PURCHASE",
        CREDIT_FOR_LOAD => "CREDIT FOR LOAD",
        DEBIT_FOR_PURCHASE => "DEBIT FOR PURCHASE",
        GET_BALANCE => "GET BALANCE",
        GET_TRANSACTION_PROOF => "GET TRANSACTION PROOF",
        STARTING_DAY => "UPDATE/GET STARTING DAY",
        DELIVERY_SESSION_KEY => "DELIVERY SESSION KEY",
        CIPHER_DATA => "CIPHER DATA",
        INITIALIZE_ENVIRONMENT => "INITIALIZE ENVIRONMENT",
        INIT_SAM_FOR_PURCHASE => "INIT SAM FOR PURCHASE",
        CREDIT_SAM_FOR_PURCHASE => "CREDIT SAM FOR PURCHASE",
        CREATE_CHANGE_KEY => "CREATE/CHANGE KEY",
        GET_PROCESSING_OPTIONS => "GET PROCESSING OPTIONS",
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
        assert_eq!(name(DELIVERY_SESSION_KEY), Some("DELIVERY SESSION KEY"));
        assert_eq!(name(0x00), None);
    }
}
