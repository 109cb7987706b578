//! Secure PIN entry on the reader's PIN pad (PC/SC part 10, "IFDs with secure PIN entry
//! capabilities", v2.02): the reader lists its features (`CM_IOCTL_GET_FEATURE_REQUEST`), and
//! `FEATURE_VERIFY_PIN_DIRECT` / `FEATURE_MODIFY_PIN_DIRECT` let the holder type the PIN on the
//! reader, which inserts it into a command APDU and sends it to the card itself: the PIN never
//! reaches the host.
//!
//! [`features`] asks a reader what it offers; [`VerifyPin`] and [`ModifyPin`] build the
//! `PIN_VERIFY_STRUCTURE` / `PIN_MODIFY_STRUCTURE` (all multi-byte fields little-endian, as
//! part 10 defines them); [`control`] sends one to the reader through `SCardControl` and returns
//! the card's answer (or the reader's own `64xx` status for a timeout, a cancel, …).
//!
//! The structures carry the command APDU as a template; where the PIN goes in it is the
//! caller's business (the social security card's VERIFY and CHANGE PIN are built by the
//! reader-interface library, `crates/sscard-ffi`).

use sscard_core::transport::TransportError;

use crate::error::map_error;
use crate::transport::PcscTransport;

/// `CM_IOCTL_GET_FEATURE_REQUEST` = `SCARD_CTL_CODE(3400)` (PC/SC part 10 §2.2).
pub fn get_feature_request() -> u32 {
    // pcsc::ctl_code is a DWORD (c_ulong on Linux): the control codes fit in 32 bits
    u32::try_from(pcsc::ctl_code(3400)).unwrap_or(0x4200_0000 + 3400)
}

/// Tag of `FEATURE_VERIFY_PIN_DIRECT` in the feature list.
pub const FEATURE_VERIFY_PIN_DIRECT: u8 = 0x06;
/// Tag of `FEATURE_MODIFY_PIN_DIRECT` in the feature list.
pub const FEATURE_MODIFY_PIN_DIRECT: u8 = 0x07;

/// What a reader offers for secure PIN entry: the control codes of its features.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PinPadFeatures {
    /// The control code of `FEATURE_VERIFY_PIN_DIRECT`, if offered.
    pub verify_direct: Option<u32>,
    /// The control code of `FEATURE_MODIFY_PIN_DIRECT`, if offered.
    pub modify_direct: Option<u32>,
}

impl PinPadFeatures {
    /// Parses the answer to `CM_IOCTL_GET_FEATURE_REQUEST`: TLV items `tag 04 code` with the
    /// control code big-endian (part 10 §2.2). Items of another length are skipped; a truncated
    /// list ends the parse.
    pub fn parse(tlv: &[u8]) -> PinPadFeatures {
        let mut out = PinPadFeatures::default();
        let mut rest = tlv;
        while let [tag, len, tail @ ..] = rest {
            let len = usize::from(*len);
            let Some(value) = tail.get(..len) else {
                break;
            };
            if let Ok(code) = <[u8; 4]>::try_from(value) {
                let code = u32::from_be_bytes(code);
                match *tag {
                    FEATURE_VERIFY_PIN_DIRECT => out.verify_direct = Some(code),
                    FEATURE_MODIFY_PIN_DIRECT => out.modify_direct = Some(code),
                    _ => {}
                }
            }
            rest = &tail[len..];
        }
        out
    }
}

/// What the reader's feature list says about secure PIN entry. A reader (or driver) that does
/// not answer `CM_IOCTL_GET_FEATURE_REQUEST` offers nothing: that is not an error.
pub fn features(transport: &mut PcscTransport) -> Result<PinPadFeatures, TransportError> {
    match control(transport, get_feature_request(), &[]) {
        Ok(answer) => Ok(PinPadFeatures::parse(&answer)),
        Err(TransportError::NoCard) => Err(TransportError::NoCard),
        Err(TransportError::CardRemoved) => Err(TransportError::CardRemoved),
        Err(TransportError::NoService) => Err(TransportError::NoService),
        Err(_) => Ok(PinPadFeatures::default()),
    }
}

/// Sends `data` to the reader with `SCardControl(code)` and returns its answer.
pub fn control(
    transport: &mut PcscTransport,
    code: u32,
    data: &[u8],
) -> Result<Vec<u8>, TransportError> {
    let reader = transport.reader_name().to_owned();
    let mut buffer = vec![0u8; 1024];
    transport
        .with_card_handle(|card| {
            card.control(code.into(), data, &mut buffer)
                .map(<[u8]>::to_vec)
        })?
        .map_err(|e| map_error(e, Some(&reader)))
}

/// How the PIN is formatted into the APDU template (part 10 `bmFormatString`,
/// `bmPINBlockString`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PinFormat {
    /// Offset of the PIN in the template's data field, in bytes.
    pub offset: u8,
    /// BCD (two digits a byte) when true, ASCII otherwise; always left-justified.
    pub bcd: bool,
    /// Size of the PIN block in bytes (the bytes the reader fills).
    pub block_size: u8,
    /// Fewest digits the holder may enter.
    pub min_digits: u8,
    /// Most digits the holder may enter.
    pub max_digits: u8,
}

impl PinFormat {
    fn format_string(&self) -> u8 {
        // b7 = 1: offset in bytes; b6-b3: the offset; b2 = 0: left-justified; b1-b0: 01 BCD,
        // 10 ASCII
        0x80 | ((self.offset & 0x0F) << 3) | if self.bcd { 0x01 } else { 0x02 }
    }

    fn block_string(&self) -> u8 {
        // b7-b4 = 0: no PIN length field; b3-b0: the block size in bytes
        self.block_size & 0x0F
    }

    fn extra_digits(&self) -> [u8; 2] {
        // wPINMaxExtraDigit = min << 8 | max, little-endian
        [self.max_digits, self.min_digits]
    }
}

/// Language of the reader's messages (`wLangId`): Chinese (PRC), `0x0804`.
const LANG_ZH_CN: [u8; 2] = [0x04, 0x08];

/// `bEntryValidationCondition`: the holder confirms with the validation key.
const VALIDATION_KEY: u8 = 0x02;

/// A `PIN_VERIFY_STRUCTURE` (part 10 §2.5.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyPin {
    /// Seconds the reader waits for the first key (`bTimerOut`).
    pub timeout: u8,
    /// The PIN's format in the template.
    pub format: PinFormat,
    /// The command APDU with room for the PIN.
    pub apdu: Vec<u8>,
}

impl VerifyPin {
    /// The structure's bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = structure_head(self.timeout, &self.format);
        out.extend_from_slice(&self.format.extra_digits());
        out.push(VALIDATION_KEY);
        out.push(0x01); // bNumberMessage
        out.extend_from_slice(&LANG_ZH_CN);
        out.push(0x00); // bMsgIndex
        structure_tail(out, &self.apdu)
    }
}

/// A `PIN_MODIFY_STRUCTURE` (part 10 §2.5.3): the current PIN, then the new PIN twice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModifyPin {
    /// Seconds the reader waits for the first key.
    pub timeout: u8,
    /// The PINs' format (offset = the current PIN's offset).
    pub format: PinFormat,
    /// Offset of the new PIN in the template's data field, in bytes.
    pub new_offset: u8,
    /// The command APDU with room for both PINs.
    pub apdu: Vec<u8>,
}

impl ModifyPin {
    /// The structure's bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = structure_head(self.timeout, &self.format);
        out.extend_from_slice(&[self.format.offset, self.new_offset]);
        out.extend_from_slice(&self.format.extra_digits());
        out.push(0x03); // bConfirmPIN: the current PIN, and the new one confirmed
        out.push(VALIDATION_KEY);
        out.push(0x03); // bNumberMessage
        out.extend_from_slice(&LANG_ZH_CN);
        out.extend_from_slice(&[0x00, 0x01, 0x02]); // bMsgIndex1-3
        structure_tail(out, &self.apdu)
    }
}

/// The fields both structures begin with: `bTimerOut`, `bTimerOut2`, `bmFormatString`,
/// `bmPINBlockString`, `bmPINLengthFormat` (no length field).
fn structure_head(timeout: u8, format: &PinFormat) -> Vec<u8> {
    vec![
        timeout,
        timeout,
        format.format_string(),
        format.block_string(),
        0x00,
    ]
}

/// The fields both structures end with: `bTeoPrologue`, `ulDataLength` and the APDU.
fn structure_tail(mut out: Vec<u8>, apdu: &[u8]) -> Vec<u8> {
    out.extend_from_slice(&[0, 0, 0]);
    out.extend_from_slice(&u32::try_from(apdu.len()).unwrap_or(0).to_le_bytes());
    out.extend_from_slice(apdu);
    out
}

/// The reader's own answers to a secure PIN entry (part 10 §2.5.2, as readers implement it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PinPadOutcome {
    /// `6400`: the holder did not type in time.
    Timeout,
    /// `6401`: the holder pressed cancel.
    Cancelled,
    /// `6402`: the two new PINs differ.
    Mismatch,
    /// `6403`: the PIN's length is outside the limits.
    WrongLength,
}

impl PinPadOutcome {
    /// The reader's own outcome in `SW1 SW2`, if it is one.
    pub fn of(sw: [u8; 2]) -> Option<PinPadOutcome> {
        match sw {
            [0x64, 0x00] => Some(PinPadOutcome::Timeout),
            [0x64, 0x01] => Some(PinPadOutcome::Cancelled),
            [0x64, 0x02] => Some(PinPadOutcome::Mismatch),
            [0x64, 0x03] => Some(PinPadOutcome::WrongLength),
            _ => None,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn feature_list() {
        // a reader offering VERIFY (0x42330006) and MODIFY (0x42330007) and another feature
        let tlv = [
            0x06, 4, 0x42, 0x33, 0x00, 0x06, 0x07, 4, 0x42, 0x33, 0x00, 0x07, 0x12, 4, 0x42, 0x33,
            0x00, 0x12,
        ];
        let f = PinPadFeatures::parse(&tlv);
        assert_eq!(f.verify_direct, Some(0x4233_0006));
        assert_eq!(f.modify_direct, Some(0x4233_0007));
        assert_eq!(PinPadFeatures::parse(&[]), PinPadFeatures::default());
        // truncated: nothing past the break
        assert_eq!(
            PinPadFeatures::parse(&[0x06, 4, 0x42]),
            PinPadFeatures::default()
        );
        // pcsc-lite: SCARD_CTL_CODE(code) = 0x42000000 + code
        #[cfg(target_os = "linux")]
        assert_eq!(get_feature_request(), 0x4200_0000 + 3400);
    }

    #[test]
    fn verify_structure() {
        let s = VerifyPin {
            timeout: 30,
            format: PinFormat {
                offset: 0,
                bcd: true,
                block_size: 3,
                min_digits: 6,
                max_digits: 6,
            },
            apdu: vec![0x00, 0x20, 0x00, 0x00, 0x03, 0xFF, 0xFF, 0xFF],
        };
        let bytes = s.to_bytes();
        assert_eq!(
            bytes,
            vec![
                30, 30, 0x81, 0x03, 0x00, 6, 6, 0x02, 0x01, 0x04, 0x08, 0x00, 0, 0, 0, 8, 0, 0, 0,
                0x00, 0x20, 0x00, 0x00, 0x03, 0xFF, 0xFF, 0xFF
            ]
        );
        assert_eq!(
            PinPadOutcome::of([0x64, 0x01]),
            Some(PinPadOutcome::Cancelled)
        );
        assert_eq!(PinPadOutcome::of([0x90, 0x00]), None);
    }

    #[test]
    fn modify_structure() {
        let s = ModifyPin {
            timeout: 30,
            format: PinFormat {
                offset: 0,
                bcd: true,
                block_size: 3,
                min_digits: 6,
                max_digits: 6,
            },
            new_offset: 4,
            apdu: vec![
                0x80, 0x5E, 0x01, 0x00, 0x07, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
            ],
        };
        let bytes = s.to_bytes();
        assert_eq!(&bytes[..7], &[30, 30, 0x81, 0x03, 0x00, 0, 4]);
        assert_eq!(&bytes[7..10], &[6, 6, 0x03]);
        assert_eq!(&bytes[20..24], &[12, 0, 0, 0]);
        assert_eq!(bytes.len(), 24 + 12);
    }
}
