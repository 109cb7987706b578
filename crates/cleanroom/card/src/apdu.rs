//! Command APDU parsing (part 5 §5.1, tables 1 and 2) and status words (part 5 §5.4,
//! table 5; profile D13).

/// A status word `SW1 SW2`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sw(pub u16);

impl Sw {
    /// `9000`: normal processing.
    pub const OK: Sw = Sw(0x9000);
    /// `6581`: memory error.
    pub const MEMORY: Sw = Sw(0x6581);
    /// `6700`: wrong length (Lc / Le).
    pub const WRONG_LENGTH: Sw = Sw(0x6700);
    /// `6981`: command incompatible with the file structure.
    pub const INCOMPATIBLE_FILE: Sw = Sw(0x6981);
    /// `6982`: security status not satisfied.
    pub const SECURITY: Sw = Sw(0x6982);
    /// `6983`: authentication method blocked.
    pub const BLOCKED: Sw = Sw(0x6983);
    /// `6984`: referenced data invalid (no usable challenge, profile D13).
    pub const NO_CHALLENGE: Sw = Sw(0x6984);
    /// `6986`: command not allowed, no current EF.
    pub const NO_CURRENT_EF: Sw = Sw(0x6986);
    /// `6988`: secure messaging data object incorrect (wrong MAC, profile D13).
    pub const BAD_MAC: Sw = Sw(0x6988);
    /// `6A80`: incorrect parameters in the data field.
    pub const BAD_DATA: Sw = Sw(0x6A80);
    /// `6A81`: function not supported (also every answer of a blocked card).
    pub const NOT_SUPPORTED: Sw = Sw(0x6A81);
    /// `6A82`: file not found.
    pub const FILE_NOT_FOUND: Sw = Sw(0x6A82);
    /// `6A83`: record not found.
    pub const RECORD_NOT_FOUND: Sw = Sw(0x6A83);
    /// `6A84`: not enough memory space in the file (value longer than the data item).
    pub const NO_SPACE: Sw = Sw(0x6A84);
    /// `6A85`: Lc inconsistent with the TLV structure.
    pub const TLV_MISMATCH: Sw = Sw(0x6A85);
    /// `6A86`: incorrect P1 P2.
    pub const BAD_P1P2: Sw = Sw(0x6A86);
    /// `6A88`: referenced data (key) not found.
    pub const KEY_NOT_FOUND: Sw = Sw(0x6A88);
    /// `6B00`: offset outside the EF.
    pub const BAD_OFFSET: Sw = Sw(0x6B00);
    /// `6D00`: instruction not supported.
    pub const BAD_INS: Sw = Sw(0x6D00);
    /// `6E00`: class not supported.
    pub const BAD_CLA: Sw = Sw(0x6E00);
    /// `6F00`: no precise diagnosis / data invalid.
    pub const NO_DATA: Sw = Sw(0x6F00);
    /// `9303`: application permanently blocked.
    pub const APP_BLOCKED: Sw = Sw(0x9303);

    /// `63Cx`: verification failed, `x` tries left.
    pub fn tries_left(x: u8) -> Sw {
        Sw(0x63C0 | u16::from(x & 0x0F))
    }

    /// `6Cxx`: wrong Le, `xx` is the exact length (`00` stands for 256).
    pub fn exact_length(len: usize) -> Sw {
        Sw(0x6C00 | u16::from((len & 0xFF) as u8))
    }

    /// `61xx`: `xx` more bytes available through GET RESPONSE (`00` stands for 256).
    pub fn more_data(len: usize) -> Sw {
        Sw(0x6100 | u16::from((len & 0xFF) as u8))
    }

    /// The two bytes `SW1 SW2`.
    pub fn bytes(self) -> [u8; 2] {
        self.0.to_be_bytes()
    }
}

/// The body of a parsed command: which of the ISO/IEC 7816-4 cases it has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Body<'a> {
    /// Case 1: header only.
    None,
    /// A single byte `P3` after the header: Le of a case-2 command, or `Lc = 00` of a case-3
    /// command (part 5 §6.14.2 allows `Lc = 00` for VERIFY; T=0 sends P3 in both cases).
    P3(u8),
    /// Case 3: `Lc` and data.
    Data(&'a [u8]),
    /// Case 4: `Lc`, data and `Le`.
    DataLe(&'a [u8], u8),
}

/// A command APDU split into header and body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Command<'a> {
    /// Class byte.
    pub cla: u8,
    /// Instruction byte.
    pub ins: u8,
    /// Parameter 1.
    pub p1: u8,
    /// Parameter 2.
    pub p2: u8,
    /// The body.
    pub body: Body<'a>,
}

impl<'a> Command<'a> {
    /// Parses a short-length command APDU. Anything that is not one of the four cases with a
    /// consistent Lc (including extended lengths, which the card does not support) is
    /// `6700`.
    pub fn parse(apdu: &'a [u8]) -> Result<Command<'a>, Sw> {
        let (header, rest) = match apdu.split_first_chunk::<4>() {
            Some(split) => split,
            None => return Err(Sw::WRONG_LENGTH),
        };
        let [cla, ins, p1, p2] = *header;
        let body = match rest {
            [] => Body::None,
            [p3] => Body::P3(*p3),
            [lc, data @ ..] => {
                let lc = usize::from(*lc);
                if lc == 0 {
                    return Err(Sw::WRONG_LENGTH);
                }
                if data.len() == lc {
                    Body::Data(data)
                } else if data.len() == lc + 1 {
                    let (d, le) = data.split_at(lc);
                    Body::DataLe(d, le.first().copied().unwrap_or(0))
                } else {
                    return Err(Sw::WRONG_LENGTH);
                }
            }
        };
        Ok(Command {
            cla,
            ins,
            p1,
            p2,
            body,
        })
    }

    /// The command data field (empty for cases 1 and 2 and for `Lc = 00`).
    pub fn data(&self) -> &'a [u8] {
        match self.body {
            Body::Data(d) | Body::DataLe(d, _) => d,
            Body::None | Body::P3(_) => &[],
        }
    }

    /// The Lc byte as sent (`None` when the command has no data field; `Some(0)` for a P3 of
    /// `00` read as Lc).
    pub fn lc_byte(&self) -> Option<u8> {
        match self.body {
            Body::Data(d) | Body::DataLe(d, _) => u8::try_from(d.len()).ok(),
            Body::P3(0) => Some(0),
            Body::None | Body::P3(_) => None,
        }
    }

    /// Checks that the command is of case 1 or 2 (no data field) and returns its Le byte
    /// (`None` when absent). A data field answers `6700`.
    pub fn expect_le_only(&self) -> Result<Option<u8>, Sw> {
        match self.body {
            Body::None => Ok(None),
            Body::P3(le) => Ok(Some(le)),
            Body::Data(_) | Body::DataLe(..) => Err(Sw::WRONG_LENGTH),
        }
    }

    /// The header bytes `CLA INS P1 P2`.
    pub fn header(&self) -> [u8; 4] {
        [self.cla, self.ins, self.p1, self.p2]
    }
}

/// Converts an Le byte to the number of bytes it asks for (`00` = 256, part 5 §5.1).
pub fn le_len(le: u8) -> usize {
    if le == 0 {
        256
    } else {
        usize::from(le)
    }
}
