//! Status words `SW1 SW2`: the ones of part 5 table 5 (and §7's account commands), named.

use std::fmt;

/// A status word, with a variant for every status word of part 5 (table 5 and the command
/// tables) and [`StatusWord::Other`] for the rest.
///
/// `StatusWord::from(u16)` followed by `u16::from(..)` gives back every one of the 65536
/// values. `Other` is meant for values without a named variant; an `Other` holding a named
/// value (e.g. `Other(0x9000)`) still converts to that value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StatusWord {
    /// `61xx`: xx more bytes wait for GET RESPONSE (`00` means 256).
    MoreData(u8),
    /// `6Cxx`: wrong Le; resend with Le = xx (`00` means 256).
    WrongLe(u8),
    /// `63Cx`: verification or authentication failed, x tries left (PIN: part 5 §6.14.5;
    /// keys: §6.4.5).
    VerificationFailed {
        /// Tries left (0 to 15).
        tries_left: u8,
    },
    /// `9000`: success.
    Ok,
    /// `6581`: memory failure (a write did not complete).
    MemoryFailure,
    /// `6700`: wrong length (Lc, Le).
    WrongLength,
    /// `6901`: command not accepted in the current state (part 5 §7: the account state machine).
    CommandNotAccepted,
    /// `6981`: command incompatible with the file structure.
    IncompatibleFileStructure,
    /// `6982`: security status not satisfied (authentication or PIN needed).
    SecurityNotSatisfied,
    /// `6983`: authentication method blocked (PIN or key locked).
    AuthMethodBlocked,
    /// `6984`: referenced data invalid (no valid challenge).
    InvalidReferenceData,
    /// `6985`: conditions of use not satisfied.
    ConditionsNotSatisfied,
    /// `6986`: command not allowed, no current EF.
    NoCurrentEf,
    /// `6987`: secure-messaging data object missing.
    SecureMessagingMissing,
    /// `6988`: secure-messaging data incorrect (wrong MAC).
    WrongMac,
    /// `6A80`: incorrect parameters in the data field.
    WrongData,
    /// `6A81`: function not supported; after CARD BLOCK every command answers it (part 5 §6.2.1).
    FunctionNotSupported,
    /// `6A82`: file or application not found.
    FileNotFound,
    /// `6A83`: record not found.
    RecordNotFound,
    /// `6A84`: not enough memory in the file.
    NotEnoughMemory,
    /// `6A85`: Lc inconsistent with the TLV structure.
    LcInconsistentWithTlv,
    /// `6A86`: incorrect P1 P2.
    IncorrectP1P2,
    /// `6A88`: referenced data (key) not found.
    ReferenceNotFound,
    /// `6B00`: wrong parameters (offset beyond the EF).
    WrongP1P2,
    /// `6D00`: instruction not supported.
    InsNotSupported,
    /// `6E00`: class not supported.
    ClaNotSupported,
    /// `6F00`: data invalid, no precise diagnosis.
    NoPreciseDiagnosis,
    /// `9302`: MAC invalid (account transactions, part 5 §7).
    MacInvalid,
    /// `9303`: application permanently blocked (part 5 §6.1).
    PermanentlyBlocked,
    /// `9401`: insufficient balance.
    InsufficientBalance,
    /// `9402`: transaction counter at its maximum.
    CounterAtMaximum,
    /// `9403`: key index not supported.
    KeyIndexNotSupported,
    /// `9406`: the MAC (or TAC) asked for is not available.
    MacNotAvailable,
    /// Any other status word.
    Other(u16),
}

impl StatusWord {
    /// The status word of the two bytes `SW1 SW2`.
    pub fn from_bytes(sw1: u8, sw2: u8) -> StatusWord {
        StatusWord::from(u16::from_be_bytes([sw1, sw2]))
    }

    /// The two bytes `SW1 SW2`.
    pub fn to_bytes(self) -> [u8; 2] {
        u16::from(self).to_be_bytes()
    }

    /// Whether this is `9000`.
    pub fn is_ok(self) -> bool {
        u16::from(self) == 0x9000
    }

    /// A short English description (part 5 table 5).
    pub fn description(self) -> &'static str {
        use StatusWord::*;
        match StatusWord::from(u16::from(self)) {
            MoreData(_) => "more response data available (GET RESPONSE)",
            WrongLe(_) => "wrong expected length Le",
            VerificationFailed { .. } => "verification failed",
            Ok => "success",
            MemoryFailure => "memory failure",
            WrongLength => "wrong length",
            CommandNotAccepted => "command not accepted (invalid state)",
            IncompatibleFileStructure => "command incompatible with the file structure",
            SecurityNotSatisfied => "security status not satisfied",
            AuthMethodBlocked => "authentication method blocked",
            InvalidReferenceData => "referenced data invalid (no valid challenge)",
            ConditionsNotSatisfied => "conditions of use not satisfied",
            NoCurrentEf => "command not allowed: no current EF",
            SecureMessagingMissing => "secure messaging data missing",
            WrongMac => "secure messaging data incorrect (wrong MAC)",
            WrongData => "incorrect data",
            FunctionNotSupported => "function not supported",
            FileNotFound => "file or application not found",
            RecordNotFound => "record not found",
            NotEnoughMemory => "not enough memory in the file",
            LcInconsistentWithTlv => "Lc inconsistent with the TLV structure",
            IncorrectP1P2 => "incorrect parameters P1 P2",
            ReferenceNotFound => "referenced data (key) not found",
            WrongP1P2 => "wrong parameters (offset beyond the file)",
            InsNotSupported => "instruction not supported",
            ClaNotSupported => "class not supported",
            NoPreciseDiagnosis => "data invalid",
            MacInvalid => "MAC invalid",
            PermanentlyBlocked => "application permanently blocked",
            InsufficientBalance => "insufficient balance",
            CounterAtMaximum => "transaction counter at maximum",
            KeyIndexNotSupported => "key index not supported",
            MacNotAvailable => "required MAC not available",
            Other(sw) => match sw >> 8 {
                0x62 | 0x63 => "warning: non-volatile memory state changed or unchanged",
                0x64 | 0x65 => "execution error",
                0x66 => "security-related issue",
                0x67 => "wrong length",
                0x68 => "function in CLA not supported",
                0x69 => "command not allowed",
                0x6A => "wrong parameters",
                0x90..=0x9F => "application-specific status",
                _ => "unknown status word",
            },
        }
    }
}

impl From<u16> for StatusWord {
    fn from(sw: u16) -> StatusWord {
        use StatusWord::*;
        let [sw1, sw2] = sw.to_be_bytes();
        match (sw1, sw2) {
            (0x61, n) => MoreData(n),
            (0x6C, n) => WrongLe(n),
            (0x63, 0xC0..=0xCF) => VerificationFailed {
                tries_left: sw2 & 0x0F,
            },
            (0x90, 0x00) => Ok,
            (0x65, 0x81) => MemoryFailure,
            (0x67, 0x00) => WrongLength,
            (0x69, 0x01) => CommandNotAccepted,
            (0x69, 0x81) => IncompatibleFileStructure,
            (0x69, 0x82) => SecurityNotSatisfied,
            (0x69, 0x83) => AuthMethodBlocked,
            (0x69, 0x84) => InvalidReferenceData,
            (0x69, 0x85) => ConditionsNotSatisfied,
            (0x69, 0x86) => NoCurrentEf,
            (0x69, 0x87) => SecureMessagingMissing,
            (0x69, 0x88) => WrongMac,
            (0x6A, 0x80) => WrongData,
            (0x6A, 0x81) => FunctionNotSupported,
            (0x6A, 0x82) => FileNotFound,
            (0x6A, 0x83) => RecordNotFound,
            (0x6A, 0x84) => NotEnoughMemory,
            (0x6A, 0x85) => LcInconsistentWithTlv,
            (0x6A, 0x86) => IncorrectP1P2,
            (0x6A, 0x88) => ReferenceNotFound,
            (0x6B, 0x00) => WrongP1P2,
            (0x6D, 0x00) => InsNotSupported,
            (0x6E, 0x00) => ClaNotSupported,
            (0x6F, 0x00) => NoPreciseDiagnosis,
            (0x93, 0x02) => MacInvalid,
            (0x93, 0x03) => PermanentlyBlocked,
            (0x94, 0x01) => InsufficientBalance,
            (0x94, 0x02) => CounterAtMaximum,
            (0x94, 0x03) => KeyIndexNotSupported,
            (0x94, 0x06) => MacNotAvailable,
            _ => Other(sw),
        }
    }
}

impl From<StatusWord> for u16 {
    fn from(sw: StatusWord) -> u16 {
        use StatusWord::*;
        match sw {
            MoreData(n) => 0x6100 | u16::from(n),
            WrongLe(n) => 0x6C00 | u16::from(n),
            VerificationFailed { tries_left } => 0x63C0 | u16::from(tries_left & 0x0F),
            Ok => 0x9000,
            MemoryFailure => 0x6581,
            WrongLength => 0x6700,
            CommandNotAccepted => 0x6901,
            IncompatibleFileStructure => 0x6981,
            SecurityNotSatisfied => 0x6982,
            AuthMethodBlocked => 0x6983,
            InvalidReferenceData => 0x6984,
            ConditionsNotSatisfied => 0x6985,
            NoCurrentEf => 0x6986,
            SecureMessagingMissing => 0x6987,
            WrongMac => 0x6988,
            WrongData => 0x6A80,
            FunctionNotSupported => 0x6A81,
            FileNotFound => 0x6A82,
            RecordNotFound => 0x6A83,
            NotEnoughMemory => 0x6A84,
            LcInconsistentWithTlv => 0x6A85,
            IncorrectP1P2 => 0x6A86,
            ReferenceNotFound => 0x6A88,
            WrongP1P2 => 0x6B00,
            InsNotSupported => 0x6D00,
            ClaNotSupported => 0x6E00,
            NoPreciseDiagnosis => 0x6F00,
            MacInvalid => 0x9302,
            PermanentlyBlocked => 0x9303,
            InsufficientBalance => 0x9401,
            CounterAtMaximum => 0x9402,
            KeyIndexNotSupported => 0x9403,
            MacNotAvailable => 0x9406,
            Other(sw) => sw,
        }
    }
}

impl fmt::Display for StatusWord {
    /// `6A82 (file or application not found)`; `63Cx` also shows the tries left.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let value = u16::from(*self);
        match StatusWord::from(value) {
            StatusWord::VerificationFailed { tries_left } => {
                write!(
                    f,
                    "{value:04X} (verification failed, {})",
                    TriesLeft(tries_left)
                )
            }
            _ => write!(f, "{value:04X} ({})", self.description()),
        }
    }
}

/// A try counter in words, singular or plural: `1 try left`, `0 tries left`, `2 tries left`.
///
/// The one place the library words a try counter (a PIN's, a key's: `63Cx`), so every message
/// agrees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TriesLeft(pub u8);

impl fmt::Display for TriesLeft {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            1 => f.write_str("1 try left"),
            n => write!(f, "{n} tries left"),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn every_u16_round_trips() {
        for value in 0..=u16::MAX {
            let sw = StatusWord::from(value);
            assert_eq!(u16::from(sw), value, "{value:04X}");
            let [a, b] = value.to_be_bytes();
            assert_eq!(StatusWord::from_bytes(a, b), sw);
            assert_eq!(sw.to_bytes(), [a, b]);
            if let StatusWord::Other(v) = sw {
                assert_eq!(v, value);
            }
            assert!(!sw.description().is_empty());
        }
    }

    #[test]
    fn named_values() {
        assert_eq!(StatusWord::from(0x9000), StatusWord::Ok);
        assert!(StatusWord::Ok.is_ok());
        assert!(!StatusWord::Other(0x9001).is_ok());
        assert!(StatusWord::Other(0x9000).is_ok());
        assert_eq!(StatusWord::from(0x6110), StatusWord::MoreData(0x10));
        assert_eq!(StatusWord::from(0x6C04), StatusWord::WrongLe(4));
        assert_eq!(
            StatusWord::from(0x63C2),
            StatusWord::VerificationFailed { tries_left: 2 }
        );
        assert_eq!(StatusWord::from(0x63D0), StatusWord::Other(0x63D0));
        assert_eq!(StatusWord::from(0x9303), StatusWord::PermanentlyBlocked);
        assert_eq!(StatusWord::from(0x6A81), StatusWord::FunctionNotSupported);
        assert_eq!(StatusWord::from(0x6984), StatusWord::InvalidReferenceData);
        assert_eq!(
            u16::from(StatusWord::VerificationFailed { tries_left: 3 }),
            0x63C3
        );
    }

    #[test]
    fn named_variants_round_trip() {
        use StatusWord::*;
        for sw in [
            MoreData(0),
            MoreData(0xFF),
            WrongLe(0x12),
            VerificationFailed { tries_left: 15 },
            Ok,
            MemoryFailure,
            WrongLength,
            CommandNotAccepted,
            IncompatibleFileStructure,
            SecurityNotSatisfied,
            AuthMethodBlocked,
            InvalidReferenceData,
            ConditionsNotSatisfied,
            NoCurrentEf,
            SecureMessagingMissing,
            WrongMac,
            WrongData,
            FunctionNotSupported,
            FileNotFound,
            RecordNotFound,
            NotEnoughMemory,
            LcInconsistentWithTlv,
            IncorrectP1P2,
            ReferenceNotFound,
            WrongP1P2,
            InsNotSupported,
            ClaNotSupported,
            NoPreciseDiagnosis,
            MacInvalid,
            PermanentlyBlocked,
            InsufficientBalance,
            CounterAtMaximum,
            KeyIndexNotSupported,
            MacNotAvailable,
            Other(0x6999),
        ] {
            assert_eq!(StatusWord::from(u16::from(sw)), sw);
        }
    }

    #[test]
    fn tries_in_words() {
        assert_eq!(TriesLeft(0).to_string(), "0 tries left");
        assert_eq!(TriesLeft(1).to_string(), "1 try left");
        assert_eq!(TriesLeft(2).to_string(), "2 tries left");
        assert_eq!(TriesLeft(15).to_string(), "15 tries left");
    }

    #[test]
    fn display_and_description() {
        assert_eq!(
            StatusWord::FileNotFound.to_string(),
            "6A82 (file or application not found)"
        );
        assert_eq!(
            StatusWord::VerificationFailed { tries_left: 1 }.to_string(),
            "63C1 (verification failed, 1 try left)"
        );
        assert_eq!(
            StatusWord::VerificationFailed { tries_left: 2 }.to_string(),
            "63C2 (verification failed, 2 tries left)"
        );
        assert_eq!(StatusWord::Other(0x9000).description(), "success");
        assert_eq!(
            StatusWord::Other(0x1234).to_string(),
            "1234 (unknown status word)"
        );
    }
}
