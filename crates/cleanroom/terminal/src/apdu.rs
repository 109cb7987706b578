//! APDUs: command building, response parsing, the T=0 mapping of part 2 §9.3 and a small
//! BER-TLV reader for the FCI (part 5 §6.11.4).

use crate::error::{ReaderError, TerminalError};

/// A response APDU: data field and status word (part 5 §5.2, table 3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The response data (possibly empty).
    pub data: Vec<u8>,
    /// SW1 SW2.
    pub sw: u16,
}

impl Response {
    /// Splits `data ‖ SW1 SW2`. An answer shorter than two bytes is malformed.
    pub fn parse(raw: &[u8]) -> Result<Response, TerminalError> {
        if raw.len() < 2 {
            return Err(TerminalError::Malformed(format!(
                "response of {} byte(s), no status word",
                raw.len()
            )));
        }
        let (data, sw) = raw.split_at(raw.len() - 2);
        Ok(Response {
            data: data.to_vec(),
            sw: u16::from_be_bytes([sw[0], sw[1]]),
        })
    }

    /// SW1.
    pub fn sw1(&self) -> u8 {
        (self.sw >> 8) as u8
    }

    /// SW2.
    pub fn sw2(&self) -> u8 {
        (self.sw & 0xFF) as u8
    }

    /// `true` for `9000`.
    pub fn is_ok(&self) -> bool {
        self.sw == 0x9000
    }
}

/// Builds a short command APDU `CLA INS P1 P2 [Lc data] [Le]` (part 5 §5.1, table 1).
///
/// `data` longer than 255 bytes cannot be encoded in a short APDU and is refused.
pub fn command(
    cla: u8,
    ins: u8,
    p1: u8,
    p2: u8,
    data: &[u8],
    le: Option<u8>,
) -> Result<Vec<u8>, TerminalError> {
    let mut out = vec![cla, ins, p1, p2];
    if !data.is_empty() {
        let lc = u8::try_from(data.len()).map_err(|_| {
            TerminalError::InvalidInput("command data longer than 255 bytes".into())
        })?;
        out.push(lc);
        out.extend_from_slice(data);
    }
    if let Some(le) = le {
        out.push(le);
    }
    Ok(out)
}

/// The four command cases of ISO/IEC 7816-4 (part 2 §9.4, table 20).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApduCase {
    /// No data either way.
    One,
    /// Response data only (`Le`).
    Two,
    /// Command data only (`Lc data`).
    Three,
    /// Both (`Lc data Le`).
    Four,
}

/// The case of a short command APDU, `None` when its length is inconsistent.
///
/// A five-byte APDU is taken as case 2 (its fifth byte as Le).
pub fn apdu_case(apdu: &[u8]) -> Option<ApduCase> {
    match apdu.len() {
        0..=3 => None,
        4 => Some(ApduCase::One),
        5 => Some(ApduCase::Two),
        n => {
            let lc = usize::from(apdu[4]);
            if lc == 0 {
                None
            } else if n == 5 + lc {
                Some(ApduCase::Three)
            } else if n == 6 + lc {
                Some(ApduCase::Four)
            } else {
                None
            }
        }
    }
}

/// The T=0 command TPDU of a command APDU (part 2 §9.3.1): case 1 gets `P3 = 00`
/// (§9.3.1.1), case 4 loses its Le (§9.3.1.4: the card answers `61xx` and the data come back
/// through GET RESPONSE); cases 2 and 3 are unchanged.
///
/// Field traces logged at the T=0 level show commands in this form.
pub fn to_t0_tpdu(apdu: &[u8]) -> Vec<u8> {
    match apdu_case(apdu) {
        Some(ApduCase::One) => {
            let mut out = apdu.to_vec();
            out.push(0x00);
            out
        }
        Some(ApduCase::Four) => apdu[..apdu.len() - 1].to_vec(),
        _ => apdu.to_vec(),
    }
}

/// Upper bound on the `61xx` / `6Cxx` rounds of one exchange.
const MAX_ROUNDS: usize = 64;

/// Exchanges `apdu` through `send` with the transport recovery of part 2 §9.3.2:
/// `61xx` → GET RESPONSE `00 C0 00 00 xx` (data accumulated), `6Cxx` → the same command again
/// with `P3 = xx` (Le replaced; only for commands that carry an Le).
///
/// Returns `data ‖ SW1 SW2` of the final answer. An answer shorter than two bytes is returned
/// as it is (the caller decides that it is malformed).
pub fn exchange_t0<F>(apdu: &[u8], mut send: F) -> Result<Vec<u8>, ReaderError>
where
    F: FnMut(&[u8]) -> Result<Vec<u8>, ReaderError>,
{
    let mut current = apdu.to_vec();
    let mut collected = Vec::new();
    for _ in 0..MAX_ROUNDS {
        let answer = send(&current)?;
        if answer.len() < 2 {
            collected.extend_from_slice(&answer);
            return Ok(collected);
        }
        let (data, sw) = answer.split_at(answer.len() - 2);
        match sw[0] {
            0x61 => {
                collected.extend_from_slice(data);
                current = vec![0x00, 0xC0, 0x00, 0x00, sw[1]];
            }
            0x6C => match apdu_case(&current) {
                Some(ApduCase::Two) | Some(ApduCase::Four) => {
                    if let Some(last) = current.last_mut() {
                        *last = sw[1];
                    }
                }
                _ => {
                    collected.extend_from_slice(&answer);
                    return Ok(collected);
                }
            },
            _ => {
                collected.extend_from_slice(&answer);
                return Ok(collected);
            }
        }
    }
    Err(ReaderError::Other(
        "too many 61xx/6Cxx procedure rounds".to_string(),
    ))
}

/// One BER-TLV data object: tag bytes and value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tlv {
    /// The tag, all its bytes (for example `[0x9F, 0x0C]`).
    pub tag: Vec<u8>,
    /// The value.
    pub value: Vec<u8>,
}

/// Reads a sequence of BER-TLV objects (tags of one or more bytes, lengths in one to three
/// bytes). Any inconsistency is reported as malformed; nothing is skipped silently.
pub fn parse_tlvs(mut data: &[u8]) -> Result<Vec<Tlv>, TerminalError> {
    let bad = |what: &str| TerminalError::Malformed(format!("BER-TLV: {what}"));
    let mut out = Vec::new();
    while !data.is_empty() {
        let mut tag = vec![data[0]];
        let mut i = 1;
        if data[0] & 0x1F == 0x1F {
            loop {
                let b = *data.get(i).ok_or_else(|| bad("truncated tag"))?;
                tag.push(b);
                i += 1;
                if b & 0x80 == 0 {
                    break;
                }
                if tag.len() > 4 {
                    return Err(bad("tag too long"));
                }
            }
        }
        let first = *data.get(i).ok_or_else(|| bad("missing length"))?;
        i += 1;
        let len = match first {
            0x00..=0x7F => usize::from(first),
            0x81 => {
                let b = *data.get(i).ok_or_else(|| bad("truncated length"))?;
                i += 1;
                usize::from(b)
            }
            0x82 => {
                let hi = *data.get(i).ok_or_else(|| bad("truncated length"))?;
                let lo = *data.get(i + 1).ok_or_else(|| bad("truncated length"))?;
                i += 2;
                usize::from(u16::from_be_bytes([hi, lo]))
            }
            _ => return Err(bad("unsupported length encoding")),
        };
        let value = data
            .get(i..i + len)
            .ok_or_else(|| bad("value longer than the data"))?;
        out.push(Tlv {
            tag,
            value: value.to_vec(),
        });
        data = &data[i + len..];
    }
    Ok(out)
}
