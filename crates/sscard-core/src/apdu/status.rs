//! Status words `SW1 SW2` (ISO/IEC 7816-4 and `docs/card-os.md` section 3).

use std::fmt;

/// A status word, with a variant for every status word the social security card protocol
/// uses and [`StatusWord::Other`] for the rest.
///
/// `StatusWord::from(u16)` followed by `u16::from(..)` gives back every one of the 65536
/// values. `Other` is meant for values without a named variant; an `Other` holding a named
/// value (e.g. `Other(0x9000)`) still converts to that value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StatusWord {
    /// `9000`: success.
    Ok,
    /// `61xx`: xx more bytes wait for GET RESPONSE (`00` means 256).
    MoreData(u8),
    /// `6Cxx`: wrong Le; resend with Le = xx (`00` means 256).
    WrongLe(u8),
    /// `63Cx`: wrong PIN, x tries left.
    WrongPin {
        /// Tries left before the PIN blocks (0 to 15).
        tries_left: u8,
    },
    /// `6300`: authentication failed (wrong cryptogram).
    AuthenticationFailed,
    /// `6282`: end of record or file reached before Le bytes.
    EndOfRecord,
    /// `6283`: the selected file is invalidated.
    FileInvalidated,
    /// `6581`: memory failure (a write did not complete).
    MemoryFailure,
    /// `6700`: wrong length (Lc or record length).
    WrongLength,
    /// `6982`: security status not satisfied (authentication needed).
    SecurityNotSatisfied,
    /// `6983`: authentication method blocked (PIN blocked).
    AuthMethodBlocked,
    /// `6985`: conditions of use not satisfied.
    ConditionsNotSatisfied,
    /// `6986`: command not allowed, no current EF.
    NoCurrentEf,
    /// `6988`: wrong secure-messaging data (wrong MAC).
    WrongMac,
    /// `6A80`: wrong data.
    WrongData,
    /// `6A81`: function not supported; on this card: application blocked.
    ApplicationBlocked,
    /// `6A82`: file or application not found.
    FileNotFound,
    /// `6A83`: record not found.
    RecordNotFound,
    /// `6A84`: not enough memory in the file.
    NotEnoughMemory,
    /// `6A86`: incorrect P1 P2.
    IncorrectP1P2,
    /// `6A88`: referenced data (key) not found.
    ReferenceNotFound,
    /// `6B00`: wrong parameters P1 P2.
    WrongP1P2,
    /// `6D00`: instruction not supported.
    InsNotSupported,
    /// `6E00`: class not supported.
    ClaNotSupported,
    /// `6F00`: no precise diagnosis.
    NoPreciseDiagnosis,
    /// `9303`: application or card permanently blocked.
    PermanentlyBlocked,
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

    /// A short English description.
    pub fn description(self) -> &'static str {
        use StatusWord::*;
        match StatusWord::from(u16::from(self)) {
            Ok => "success",
            MoreData(_) => "more response data available (GET RESPONSE)",
            WrongLe(_) => "wrong expected length Le",
            WrongPin { .. } => "wrong PIN",
            AuthenticationFailed => "authentication failed",
            EndOfRecord => "end of record or file reached before Le bytes",
            FileInvalidated => "selected file invalidated",
            MemoryFailure => "memory failure",
            WrongLength => "wrong length",
            SecurityNotSatisfied => "security status not satisfied",
            AuthMethodBlocked => "authentication method (PIN) blocked",
            ConditionsNotSatisfied => "conditions of use not satisfied",
            NoCurrentEf => "command not allowed: no current EF",
            WrongMac => "wrong MAC",
            WrongData => "wrong data",
            ApplicationBlocked => "application blocked",
            FileNotFound => "file or application not found",
            RecordNotFound => "record not found",
            NotEnoughMemory => "not enough memory in the file",
            IncorrectP1P2 => "incorrect parameters P1 P2",
            ReferenceNotFound => "referenced data (key) not found",
            WrongP1P2 => "wrong parameters P1 P2",
            InsNotSupported => "instruction not supported",
            ClaNotSupported => "class not supported",
            NoPreciseDiagnosis => "no precise diagnosis",
            PermanentlyBlocked => "permanently blocked",
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
            (0x90, 0x00) => Ok,
            (0x61, n) => MoreData(n),
            (0x6C, n) => WrongLe(n),
            (0x63, 0xC0..=0xCF) => WrongPin {
                tries_left: sw2 & 0x0F,
            },
            (0x63, 0x00) => AuthenticationFailed,
            (0x62, 0x82) => EndOfRecord,
            (0x62, 0x83) => FileInvalidated,
            (0x65, 0x81) => MemoryFailure,
            (0x67, 0x00) => WrongLength,
            (0x69, 0x82) => SecurityNotSatisfied,
            (0x69, 0x83) => AuthMethodBlocked,
            (0x69, 0x85) => ConditionsNotSatisfied,
            (0x69, 0x86) => NoCurrentEf,
            (0x69, 0x88) => WrongMac,
            (0x6A, 0x80) => WrongData,
            (0x6A, 0x81) => ApplicationBlocked,
            (0x6A, 0x82) => FileNotFound,
            (0x6A, 0x83) => RecordNotFound,
            (0x6A, 0x84) => NotEnoughMemory,
            (0x6A, 0x86) => IncorrectP1P2,
            (0x6A, 0x88) => ReferenceNotFound,
            (0x6B, 0x00) => WrongP1P2,
            (0x6D, 0x00) => InsNotSupported,
            (0x6E, 0x00) => ClaNotSupported,
            (0x6F, 0x00) => NoPreciseDiagnosis,
            (0x93, 0x03) => PermanentlyBlocked,
            _ => Other(sw),
        }
    }
}

impl From<StatusWord> for u16 {
    fn from(sw: StatusWord) -> u16 {
        use StatusWord::*;
        match sw {
            Ok => 0x9000,
            MoreData(n) => 0x6100 | u16::from(n),
            WrongLe(n) => 0x6C00 | u16::from(n),
            WrongPin { tries_left } => 0x63C0 | u16::from(tries_left & 0x0F),
            AuthenticationFailed => 0x6300,
            EndOfRecord => 0x6282,
            FileInvalidated => 0x6283,
            MemoryFailure => 0x6581,
            WrongLength => 0x6700,
            SecurityNotSatisfied => 0x6982,
            AuthMethodBlocked => 0x6983,
            ConditionsNotSatisfied => 0x6985,
            NoCurrentEf => 0x6986,
            WrongMac => 0x6988,
            WrongData => 0x6A80,
            ApplicationBlocked => 0x6A81,
            FileNotFound => 0x6A82,
            RecordNotFound => 0x6A83,
            NotEnoughMemory => 0x6A84,
            IncorrectP1P2 => 0x6A86,
            ReferenceNotFound => 0x6A88,
            WrongP1P2 => 0x6B00,
            InsNotSupported => 0x6D00,
            ClaNotSupported => 0x6E00,
            NoPreciseDiagnosis => 0x6F00,
            PermanentlyBlocked => 0x9303,
            Other(sw) => sw,
        }
    }
}

impl fmt::Display for StatusWord {
    /// `6A82 (file or application not found)`; a wrong PIN also shows the tries left.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let value = u16::from(*self);
        match StatusWord::from(value) {
            StatusWord::WrongPin { tries_left } => {
                write!(f, "{value:04X} (wrong PIN, {tries_left} tries left)")
            }
            _ => write!(f, "{value:04X} ({})", self.description()),
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
            // named values never fall back to Other, and Other only holds unnamed values
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
            StatusWord::WrongPin { tries_left: 2 }
        );
        assert_eq!(
            StatusWord::from(0x63C0),
            StatusWord::WrongPin { tries_left: 0 }
        );
        assert_eq!(StatusWord::from(0x6300), StatusWord::AuthenticationFailed);
        assert_eq!(StatusWord::from(0x63D0), StatusWord::Other(0x63D0));
        assert_eq!(StatusWord::from(0x9303), StatusWord::PermanentlyBlocked);
        assert_eq!(StatusWord::from(0x6A81), StatusWord::ApplicationBlocked);
        assert_eq!(u16::from(StatusWord::WrongPin { tries_left: 3 }), 0x63C3);
    }

    #[test]
    fn named_variants_round_trip() {
        use StatusWord::*;
        for sw in [
            Ok,
            MoreData(0),
            MoreData(0xFF),
            WrongLe(0x12),
            WrongPin { tries_left: 15 },
            AuthenticationFailed,
            EndOfRecord,
            FileInvalidated,
            MemoryFailure,
            WrongLength,
            SecurityNotSatisfied,
            AuthMethodBlocked,
            ConditionsNotSatisfied,
            NoCurrentEf,
            WrongMac,
            WrongData,
            ApplicationBlocked,
            FileNotFound,
            RecordNotFound,
            NotEnoughMemory,
            IncorrectP1P2,
            ReferenceNotFound,
            WrongP1P2,
            InsNotSupported,
            ClaNotSupported,
            NoPreciseDiagnosis,
            PermanentlyBlocked,
            Other(0x6999),
        ] {
            assert_eq!(StatusWord::from(u16::from(sw)), sw);
        }
    }

    #[test]
    fn display_and_description() {
        assert_eq!(
            StatusWord::FileNotFound.to_string(),
            "6A82 (file or application not found)"
        );
        assert_eq!(
            StatusWord::WrongPin { tries_left: 1 }.to_string(),
            "63C1 (wrong PIN, 1 tries left)"
        );
        assert_eq!(StatusWord::Other(0x9000).description(), "success");
        assert_eq!(
            StatusWord::Other(0x1234).to_string(),
            "1234 (unknown status word)"
        );
    }
}
