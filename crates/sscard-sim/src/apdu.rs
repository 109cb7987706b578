//! How the simulated chips read a command APDU, and the status words they answer.
//!
//! The chips parse the raw bytes themselves, as a card OS does: the four-byte header, then the
//! short body of one of the four cases of part 2 §9.4.1 (Lc 1 to 255, Le 0 to 255 where `00`
//! asks for 256). Extended lengths do not exist in part 2 and are refused with `6700`.

/// Status words of part 5 table 5 (and part 9) the simulated chips answer.
pub(crate) mod sw {
    /// Success.
    pub(crate) const OK: u16 = 0x9000;
    /// Memory failure (never answered: the simulated EEPROM does not fail).
    pub(crate) const MEMORY_FAILURE: u16 = 0x6581;
    /// Wrong length: Lc, or Le of GET CHALLENGE.
    pub(crate) const WRONG_LENGTH: u16 = 0x6700;
    /// Command not accepted: PSAM CIPHER DATA without a DELIVERY SESSION KEY (part 9 table 26).
    pub(crate) const NOT_ACCEPTED: u16 = 0x6901;
    /// Command incompatible with the file structure.
    pub(crate) const INCOMPATIBLE_FILE: u16 = 0x6981;
    /// Security status not satisfied.
    pub(crate) const SECURITY: u16 = 0x6982;
    /// Authentication method (PIN, key) blocked.
    pub(crate) const BLOCKED: u16 = 0x6983;
    /// Referenced data invalid: no usable challenge.
    pub(crate) const NO_CHALLENGE: u16 = 0x6984;
    /// Conditions of use not satisfied.
    pub(crate) const CONDITIONS: u16 = 0x6985;
    /// No current EF.
    pub(crate) const NO_CURRENT_EF: u16 = 0x6986;
    /// Secure-messaging data incorrect: wrong MAC.
    pub(crate) const WRONG_MAC: u16 = 0x6988;
    /// Incorrect data.
    pub(crate) const WRONG_DATA: u16 = 0x6A80;
    /// Function not supported; after CARD BLOCK, the answer to everything.
    pub(crate) const NOT_SUPPORTED: u16 = 0x6A81;
    /// File or application not found.
    pub(crate) const FILE_NOT_FOUND: u16 = 0x6A82;
    /// Record not found.
    pub(crate) const RECORD_NOT_FOUND: u16 = 0x6A83;
    /// Not enough memory in the file (a record value longer than its data item).
    pub(crate) const NO_SPACE: u16 = 0x6A84;
    /// Lc inconsistent with the TLV structure.
    pub(crate) const LC_TLV: u16 = 0x6A85;
    /// Incorrect P1 P2.
    pub(crate) const P1P2: u16 = 0x6A86;
    /// Referenced data (key, PIN) not found.
    pub(crate) const NOT_FOUND: u16 = 0x6A88;
    /// Offset beyond the EF.
    pub(crate) const OFFSET: u16 = 0x6B00;
    /// Instruction not supported.
    pub(crate) const INS: u16 = 0x6D00;
    /// Class not supported.
    pub(crate) const CLA: u16 = 0x6E00;
    /// Data invalid: GET RESPONSE with nothing to give (part 5 §6.6.4).
    pub(crate) const NO_DATA: u16 = 0x6F00;
    /// MAC invalid (part 5 §7; part 9 table 31).
    pub(crate) const MAC_INVALID: u16 = 0x9302;
    /// Application permanently blocked.
    pub(crate) const APP_BLOCKED: u16 = 0x9303;
    /// Insufficient balance (part 5 §7.2).
    pub(crate) const INSUFFICIENT: u16 = 0x9401;
    /// A transaction counter at its maximum.
    pub(crate) const COUNTER_MAX: u16 = 0x9402;
    /// Key index not supported.
    pub(crate) const KEY_INDEX: u16 = 0x9403;
    /// The MAC asked for is not available (GET TRANSACTION PROOF, part 5 §7.4).
    pub(crate) const NO_PROOF: u16 = 0x9406;

    /// `61xx`: `len` bytes wait for GET RESPONSE (`00` for 256).
    pub(crate) fn more_data(len: usize) -> u16 {
        0x6100 | u16::from(length_byte(len))
    }

    /// `6Cxx`: resend with Le = `len` (`00` for 256).
    pub(crate) fn wrong_le(len: usize) -> u16 {
        0x6C00 | u16::from(length_byte(len))
    }

    /// `63Cx`: verification failed, `tries` tries left (a nibble).
    pub(crate) fn tries_left(tries: u8) -> u16 {
        0x63C0 | u16::from(tries & 0x0F)
    }

    /// The `xx` of `61xx` / `6Cxx`: the length, `00` for 256.
    pub(crate) fn length_byte(len: usize) -> u8 {
        u8::try_from(len).unwrap_or(0)
    }
}

/// A response: `data` and `9000`.
pub(crate) fn with_ok(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + 2);
    out.extend_from_slice(data);
    out.extend_from_slice(&sw::OK.to_be_bytes());
    out
}

/// Where READ/UPDATE BINARY points (part 5 tables 29, 41): P1 `100xxxxx` names the file by its
/// SFI with P2 the offset (`Some(sfi)`), P1 `0xxxxxxx` the current EF with P1 ‖ P2 the offset
/// (`None`); P1 `1xxxxxxx` with b7 or b6 set is `6A86`.
pub(crate) fn binary_address(p1: u8, p2: u8) -> Result<(Option<u8>, usize), u16> {
    if p1 & 0x80 == 0 {
        return Ok((None, usize::from(u16::from_be_bytes([p1, p2]))));
    }
    if p1 & 0x60 != 0 {
        return Err(sw::P1P2);
    }
    Ok((Some(p1 & 0x1F), usize::from(p2)))
}

/// What READ BINARY answers from a transparent file's `content` at `offset` (part 5 §6.9,
/// table 30): `le` bytes (absent or 256: what is left, at most 256); an offset at or past the
/// end `6B00`; an Le past the end `6Cxx` with what is left.
pub(crate) fn binary_window(
    content: &[u8],
    offset: usize,
    le: Option<usize>,
) -> Result<&[u8], u16> {
    let rest = content
        .get(offset..)
        .filter(|r| !r.is_empty())
        .ok_or(sw::OFFSET)?;
    let take = match le {
        None | Some(256) => rest.len().min(256),
        Some(n) if n <= rest.len() => n,
        Some(_) => return Err(sw::wrong_le(rest.len())),
    };
    Ok(rest.get(..take).unwrap_or_default())
}

/// A command APDU as the chip sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Apdu<'a> {
    pub(crate) cla: u8,
    pub(crate) ins: u8,
    pub(crate) p1: u8,
    pub(crate) p2: u8,
    /// The command data (Nc = Lc bytes; empty in cases 1 and 2).
    pub(crate) data: &'a [u8],
    /// Ne: `None` in cases 1 and 3, 1 to 256 in cases 2 and 4.
    pub(crate) le: Option<usize>,
}

impl<'a> Apdu<'a> {
    /// Splits the raw bytes per part 2 §9.4.1: `6700` for fewer than 4 bytes, an extended
    /// length, or a body that does not match its Lc.
    pub(crate) fn parse(bytes: &'a [u8]) -> Result<Apdu<'a>, u16> {
        let ([cla, ins, p1, p2], body) = match bytes.split_first_chunk::<4>() {
            Some((header, body)) => (*header, body),
            None => return Err(sw::WRONG_LENGTH),
        };
        let short_le = |b: u8| if b == 0 { 256 } else { usize::from(b) };
        let (data, le): (&[u8], Option<usize>) = match body {
            [] => (&[], None),
            [le] => (&[], Some(short_le(*le))),
            [lc, rest @ ..] if *lc != 0 => {
                let nc = usize::from(*lc);
                match rest.len() {
                    n if n == nc => (rest, None),
                    n if n == nc + 1 => {
                        let (data, le) = rest.split_at(nc);
                        (data, le.first().map(|b| short_le(*b)))
                    }
                    _ => return Err(sw::WRONG_LENGTH),
                }
            }
            _ => return Err(sw::WRONG_LENGTH),
        };
        Ok(Apdu {
            cla,
            ins,
            p1,
            p2,
            data,
            le,
        })
    }

    /// The command data must be absent (`6700` otherwise).
    pub(crate) fn no_data(&self) -> Result<(), u16> {
        if self.data.is_empty() {
            Ok(())
        } else {
            Err(sw::WRONG_LENGTH)
        }
    }

    /// P1 P2 must be exactly these (`6A86` otherwise).
    pub(crate) fn p1p2(&self, p1: u8, p2: u8) -> Result<(), u16> {
        if self.p1 == p1 && self.p2 == p2 {
            Ok(())
        } else {
            Err(sw::P1P2)
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn the_four_cases_and_refusals() {
        let a = Apdu::parse(&[0, 0xA4, 4, 0]).unwrap();
        assert_eq!((a.data, a.le), (&[][..], None));
        let a = Apdu::parse(&[0, 0x84, 0, 0, 8]).unwrap();
        assert_eq!(a.le, Some(8));
        let a = Apdu::parse(&[0, 0x20, 0, 0, 0]).unwrap();
        assert_eq!((a.data.len(), a.le), (0, Some(256)));
        let a = Apdu::parse(&[0, 0xA4, 0, 0, 2, 0x3F, 0]).unwrap();
        assert_eq!((a.data, a.le), (&[0x3F, 0][..], None));
        let a = Apdu::parse(&[0, 0x88, 0, 0, 1, 9, 0]).unwrap();
        assert_eq!((a.data, a.le), (&[9][..], Some(256)));
        for bad in [
            &[0u8, 0xA4, 4][..],
            &[0, 0xA4, 0, 0, 2, 0x3F],
            &[0, 0xA4, 0, 0, 1, 1, 2, 3],
            &[0, 0xB0, 0, 0, 0, 1, 0],
        ] {
            assert_eq!(Apdu::parse(bad), Err(sw::WRONG_LENGTH));
        }
        assert_eq!(sw::more_data(256), 0x6100);
        assert_eq!(sw::wrong_le(18), 0x6C12);
        assert_eq!(sw::tries_left(2), 0x63C2);
    }
}
