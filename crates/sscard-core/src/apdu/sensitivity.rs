//! The one sensitivity policy: which command data and which responses of the card and PSAM
//! commands are secrets, and so never shown in a trace, a log or a tool's output.
//!
//! Every renderer of APDU bytes goes through [`crate::channel`], which redacts what this
//! policy says (on top of what a command marks itself, [`super::Command::with_sensitive_data`]
//! and [`super::Command::with_sensitive_response`]): the card trace, the PSAM trace, `sscard
//! apdu`, the C library's log. A raw APDU typed by hand is therefore redacted exactly like the
//! library's own.
//!
//! | command | data | response |
//! |---|---|---|
//! | VERIFY `0020`, CHANGE PIN `805E` | the PIN(s) | – |
//! | PIN CHANGE/UNBLOCK `8424` | enciphered PIN and MAC | – |
//! | EXTERNAL AUTHENTICATION `0082` | authentication data | – |
//! | INTERNAL AUTHENTICATION `0088` | – (the terminal's randoms) | the card's cryptogram |
//! | APPLICATION BLOCK `841E`, CARD BLOCK `8416` | MAC | – |
//! | any other command with secure messaging (CLA bit `04`: `04`, `84`, `0C`, `8C`) | its last 4 bytes, the MAC | – |
//! | INITIALIZE FOR LOAD `B028 00` (part 5 §7.5) | – | MAC1 with the rest |
//! | CREDIT FOR LOAD `B02A`, DEBIT FOR PURCHASE `B02C` (§7.1-7.2) | the MAC at its end | TAC (and MAC2) |
//! | GET TRANSACTION PROOF `B02E` (§7.4) | – | MAC or TAC |
//! | PSAM DELIVERY SESSION KEY `BFDE` (part 9 §9.7) | the factors | – |
//! | PSAM CIPHER DATA `80FA` (§9.8) | PIN blocks and MAC input | the cryptogram or MAC |
//! | PSAM INIT SAM FOR PURCHASE `8070`, CREDIT SAM FOR PURCHASE `8072` (§9.9-9.10) | MAC2 (`72`) | MAC1 (`70`) |
//! | PSAM CREATE / CHANGE KEY `84D4` (§9.5-9.6) | key material | – |
//!
//! GET RESPONSE carries on the answer of the command before it ([`crate::channel`] marks it).

use super::instruction as ins;

/// How much of a command's data is secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DataSecret {
    /// Nothing: the data is shown.
    None,
    /// All of it.
    All,
    /// The trailing MAC of this many bytes; the rest is shown.
    Tail(usize),
}

/// What of one command is secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Sensitivity {
    /// The command data.
    pub data: DataSecret,
    /// The response data (the status word is always shown).
    pub response: bool,
}

const PLAIN: Sensitivity = Sensitivity {
    data: DataSecret::None,
    response: false,
};

const fn secret_data() -> Sensitivity {
    Sensitivity {
        data: DataSecret::All,
        response: false,
    }
}

/// The length of a secure messaging MAC (part 4 §8).
pub const MAC_LEN: usize = 4;

/// Whether a class byte announces secure messaging (ISO/IEC 7816-4 §5.4.1: bits b3-b4).
pub fn has_secure_messaging(cla: u8) -> bool {
    cla & 0x0C != 0 && cla != 0xBF
}

/// The policy for the command with this header.
pub fn classify(cla: u8, instruction: u8, p1: u8) -> Sensitivity {
    let mac = Sensitivity {
        data: DataSecret::Tail(MAC_LEN),
        response: false,
    };
    match (cla, instruction) {
        (_, ins::VERIFY) | (_, ins::CHANGE_PIN) | (_, ins::PIN_CHANGE_UNBLOCK) => secret_data(),
        (_, ins::EXTERNAL_AUTHENTICATE) => secret_data(),
        (_, ins::INTERNAL_AUTHENTICATE) => Sensitivity {
            data: DataSecret::None,
            response: true,
        },
        (_, ins::APPLICATION_BLOCK) | (_, ins::CARD_BLOCK) => secret_data(),
        (0xB0, ins::INITIALIZE) => Sensitivity {
            data: DataSecret::None,
            response: p1 == 0x00,
        },
        (0xB0, ins::CREDIT_FOR_LOAD) | (0xB0, ins::DEBIT_FOR_PURCHASE) => Sensitivity {
            data: DataSecret::Tail(MAC_LEN),
            response: true,
        },
        (0xB0, ins::GET_TRANSACTION_PROOF) => Sensitivity {
            data: DataSecret::None,
            response: true,
        },
        (0xBF, ins::DELIVERY_SESSION_KEY) => secret_data(),
        (0x80, ins::CIPHER_DATA) => Sensitivity {
            data: DataSecret::All,
            response: true,
        },
        (0x80, ins::INIT_SAM_FOR_PURCHASE) => Sensitivity {
            data: DataSecret::None,
            response: true,
        },
        (0x80, ins::CREDIT_SAM_FOR_PURCHASE) => secret_data(),
        (_, ins::CREATE_CHANGE_KEY) => secret_data(),
        (cla, _) if has_secure_messaging(cla) => mac,
        _ => PLAIN,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_covers_pins_cryptograms_macs_and_keys() {
        assert_eq!(classify(0x00, 0x20, 0).data, DataSecret::All);
        assert_eq!(classify(0x80, 0x5E, 0).data, DataSecret::All);
        assert_eq!(classify(0x84, 0x24, 0).data, DataSecret::All);
        assert_eq!(classify(0x00, 0x82, 0).data, DataSecret::All);
        assert!(classify(0x00, 0x88, 0).response);
        assert_eq!(classify(0x00, 0x88, 0).data, DataSecret::None);
        assert_eq!(classify(0x84, 0x1E, 0).data, DataSecret::All);
        assert_eq!(classify(0x84, 0x16, 0).data, DataSecret::All);
        // UPDATE RECORD / BINARY with a MAC: only the MAC
        assert_eq!(classify(0x04, 0xDC, 0).data, DataSecret::Tail(4));
        assert_eq!(classify(0x84, 0xD6, 0).data, DataSecret::Tail(4));
        assert_eq!(classify(0x00, 0xDC, 0), PLAIN);
        // the PSAM
        assert!(classify(0x80, 0xFA, 0).response);
        assert_eq!(classify(0xBF, 0xDE, 0).data, DataSecret::All);
        assert_eq!(classify(0x84, 0xD4, 0).data, DataSecret::All);
        assert!(classify(0x80, 0x70, 0).response);
        // the medical account
        assert!(classify(0xB0, 0x28, 0x00).response);
        assert!(!classify(0xB0, 0x28, 0x01).response);
        assert_eq!(classify(0xB0, 0x2C, 0).data, DataSecret::Tail(4));
        assert!(classify(0xB0, 0x2E, 0).response);
        // plain commands
        for (cla, i) in [
            (0x00, 0xA4),
            (0x00, 0xB2),
            (0x00, 0xB0),
            (0x00, 0x84),
            (0x00, 0xC0),
        ] {
            assert_eq!(classify(cla, i, 0), PLAIN, "{cla:02X}{i:02X}");
        }
        assert!(!has_secure_messaging(0x00));
        assert!(!has_secure_messaging(0x80));
        assert!(has_secure_messaging(0x04));
    }
}
