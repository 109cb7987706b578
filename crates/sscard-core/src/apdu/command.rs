//! Command APDUs: the four ISO/IEC 7816-3 cases in short and extended encoding.

use std::fmt;

use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use super::ApduError;

/// The longest command data an (extended) Lc can announce.
pub const MAX_LC: usize = 65_535;
/// The largest expected response length an (extended) Le can ask for.
pub const MAX_LE: usize = 65_536;

/// The data field of a command APDU.
#[derive(Clone)]
pub enum CommandData {
    /// Data that may be shown in logs and traces.
    Plain(Vec<u8>),
    /// Secret data (PIN, cryptogram, PIN block, MAC): zeroized on drop, printed as `REDACTED`.
    Sensitive(Zeroizing<Vec<u8>>),
}

impl CommandData {
    /// The data bytes.
    pub fn as_slice(&self) -> &[u8] {
        match self {
            CommandData::Plain(d) => d,
            CommandData::Sensitive(d) => d,
        }
    }

    /// The number of data bytes (Nc).
    pub fn len(&self) -> usize {
        self.as_slice().len()
    }

    /// Whether there is no data.
    pub fn is_empty(&self) -> bool {
        self.as_slice().is_empty()
    }

    /// Whether the data is secret.
    pub fn is_sensitive(&self) -> bool {
        matches!(self, CommandData::Sensitive(_))
    }
}

impl Default for CommandData {
    fn default() -> Self {
        CommandData::Plain(Vec::new())
    }
}

impl fmt::Debug for CommandData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CommandData::Plain(d) => write!(f, "Plain({})", hex::encode_upper(d)),
            CommandData::Sensitive(d) => write!(f, "Sensitive(REDACTED({} bytes))", d.len()),
        }
    }
}

impl PartialEq for CommandData {
    /// Same kind and same bytes; the bytes are compared in constant time (for a given length).
    fn eq(&self, other: &Self) -> bool {
        self.is_sensitive() == other.is_sensitive()
            && bool::from(self.as_slice().ct_eq(other.as_slice()))
    }
}

impl Eq for CommandData {}

/// A command APDU: header `CLA INS P1 P2`, optional data (Nc bytes) and optional expected
/// response length Ne ("Le").
///
/// Build one with [`Command::new`] and the `with_*` methods, or take it ready-made from
/// [`super::commands`]. The ISO case follows from the content: no data and no Le is case 1,
/// Le only case 2, data only case 3, both case 4. [`Command::to_bytes`] uses the short
/// encoding whenever Nc ≤ 255 and Ne ≤ 256, the extended one otherwise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    /// Class byte.
    pub cla: u8,
    /// Instruction byte.
    pub ins: u8,
    /// First parameter.
    pub p1: u8,
    /// Second parameter.
    pub p2: u8,
    data: CommandData,
    le: Option<usize>,
    sensitive_response: bool,
}

impl Command {
    /// A case 1 command: header only.
    pub fn new(cla: u8, ins: u8, p1: u8, p2: u8) -> Command {
        Command {
            cla,
            ins,
            p1,
            p2,
            data: CommandData::default(),
            le: None,
            sensitive_response: false,
        }
    }

    /// Sets plain (loggable) command data.
    pub fn with_data(mut self, data: Vec<u8>) -> Command {
        self.data = CommandData::Plain(data);
        self
    }

    /// Sets secret command data (PIN, cryptogram, PIN block, MAC): zeroized on drop and
    /// redacted in `Debug` output and traces.
    pub fn with_sensitive_data(mut self, data: Zeroizing<Vec<u8>>) -> Command {
        self.data = CommandData::Sensitive(data);
        self
    }

    /// Sets the expected response length Ne, `1..=65536`. `256` is encoded as the short Le
    /// byte `00`, `65536` as the extended Le `0000`. A value out of range makes
    /// [`Command::to_bytes`] fail with [`ApduError::LeOutOfRange`].
    pub fn with_le(mut self, le: usize) -> Command {
        self.le = Some(le);
        self
    }

    /// Removes the expected response length (case 1 or 3).
    pub fn without_le(mut self) -> Command {
        self.le = None;
        self
    }

    /// Marks the response data as secret: the channel's tracer redacts it (including data
    /// fetched with GET RESPONSE for this command).
    pub fn with_sensitive_response(mut self) -> Command {
        self.sensitive_response = true;
        self
    }

    /// The header bytes `CLA INS P1 P2`.
    pub fn header(&self) -> [u8; 4] {
        [self.cla, self.ins, self.p1, self.p2]
    }

    /// The command data bytes (empty for cases 1 and 2).
    pub fn data(&self) -> &[u8] {
        self.data.as_slice()
    }

    /// The command data with its sensitivity.
    pub fn command_data(&self) -> &CommandData {
        &self.data
    }

    /// The expected response length Ne, if any.
    pub fn le(&self) -> Option<usize> {
        self.le
    }

    /// Whether the command data is secret.
    pub fn is_sensitive(&self) -> bool {
        self.data.is_sensitive()
    }

    /// Whether the response data is secret.
    pub fn has_sensitive_response(&self) -> bool {
        self.sensitive_response
    }

    /// Whether this command needs the extended encoding (Nc > 255 or Ne > 256).
    pub fn is_extended(&self) -> bool {
        self.data.len() > 255 || self.le.is_some_and(|le| le > 256)
    }

    /// Encodes the command: short form when it fits, extended form otherwise.
    pub fn to_bytes(&self) -> Result<Zeroizing<Vec<u8>>, ApduError> {
        self.encode().map(|(bytes, _)| bytes)
    }

    /// Encodes the command and also returns where the data field starts in the encoding
    /// (the data is `bytes[start..start + self.data().len()]`). Used by the channel's tracer
    /// to redact exactly the data field.
    pub(crate) fn encode(&self) -> Result<(Zeroizing<Vec<u8>>, usize), ApduError> {
        let data = self.data.as_slice();
        let nc = data.len();
        if nc > MAX_LC {
            return Err(ApduError::DataTooLong(nc));
        }
        if let Some(le) = self.le {
            if le == 0 || le > MAX_LE {
                return Err(ApduError::LeOutOfRange(le));
            }
        }
        let extended = self.is_extended();
        let mut out = Zeroizing::new(Vec::with_capacity(4 + 3 + nc + 3));
        out.extend_from_slice(&self.header());
        if nc > 0 {
            if extended {
                out.push(0);
                out.extend_from_slice(&u16_be(nc));
            } else {
                out.push(nc as u8);
            }
        }
        let start = out.len();
        out.extend_from_slice(data);
        if let Some(le) = self.le {
            if extended {
                // case 2E has its own 00 marker; in case 4E the Lc's 00 serves
                if nc == 0 {
                    out.push(0);
                }
                // 65536 wraps to 0000 as ISO/IEC 7816-3 specifies
                out.extend_from_slice(&u16_be(le % MAX_LE));
            } else {
                // 256 wraps to 00
                out.push((le % 256) as u8);
            }
        }
        Ok((out, start))
    }

    /// Decodes a command APDU in any ISO/IEC 7816-3 case (1, 2S, 3S, 4S, 2E, 3E, 4E).
    ///
    /// The data is taken as plain. Bytes that fit none of the cases give an [`ApduError`];
    /// this never panics.
    pub fn parse(bytes: &[u8]) -> Result<Command, ApduError> {
        let (&[cla, ins, p1, p2], body) = split_header(bytes)?;
        let command = Command::new(cla, ins, p1, p2);
        match body {
            // case 1
            [] => Ok(command),
            // case 2S
            [le] => Ok(command.with_le(short_le(*le))),
            // short Lc: cases 3S and 4S
            [lc, rest @ ..] if *lc != 0 => {
                let nc = usize::from(*lc);
                if rest.len() == nc {
                    Ok(command.with_data(rest.to_vec()))
                } else if rest.len() == nc + 1 {
                    let (data, le) = rest.split_at(nc);
                    let le = le.first().copied().map(short_le).unwrap_or(256);
                    Ok(command.with_data(data.to_vec()).with_le(le))
                } else {
                    Err(ApduError::Malformed(
                        "the body length does not match the short Lc",
                    ))
                }
            }
            // case 2E
            [0, hi, lo] => Ok(command.with_le(extended_le(*hi, *lo))),
            // extended Lc: cases 3E and 4E
            [0, hi, lo, rest @ ..] => {
                let nc = usize::from(u16::from_be_bytes([*hi, *lo]));
                if nc == 0 {
                    return Err(ApduError::Malformed("extended Lc of 0"));
                }
                if rest.len() == nc {
                    Ok(command.with_data(rest.to_vec()))
                } else if rest.len() == nc + 2 {
                    let (data, le) = rest.split_at(nc);
                    match le {
                        [hi, lo] => Ok(command
                            .with_data(data.to_vec())
                            .with_le(extended_le(*hi, *lo))),
                        _ => Err(ApduError::Malformed("extended Le must be 2 bytes")),
                    }
                } else {
                    Err(ApduError::Malformed(
                        "the body length does not match the extended Lc",
                    ))
                }
            }
            _ => Err(ApduError::Malformed(
                "a body starting with 00 must be an extended Le or Lc (3 bytes or more)",
            )),
        }
    }
}

fn split_header(bytes: &[u8]) -> Result<(&[u8; 4], &[u8]), ApduError> {
    match bytes.split_first_chunk::<4>() {
        Some(split) => Ok(split),
        None => Err(ApduError::CommandTooShort(bytes.len())),
    }
}

fn u16_be(n: usize) -> [u8; 2] {
    [(n >> 8) as u8, n as u8]
}

fn short_le(b: u8) -> usize {
    if b == 0 {
        256
    } else {
        usize::from(b)
    }
}

fn extended_le(hi: u8, lo: u8) -> usize {
    match u16::from_be_bytes([hi, lo]) {
        0 => MAX_LE,
        n => usize::from(n),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn hex(s: &str) -> Vec<u8> {
        hex::decode(s.replace(' ', "")).unwrap()
    }

    fn round_trip(c: &Command, expected: &str) {
        let bytes = c.to_bytes().unwrap();
        assert_eq!(hex::encode_upper(&*bytes), expected.replace(' ', ""));
        assert_eq!(&Command::parse(&bytes).unwrap(), c);
    }

    #[test]
    fn case_1() {
        round_trip(&Command::new(0x00, 0x44, 0x00, 0x00), "00 44 00 00");
    }

    #[test]
    fn case_2_short() {
        round_trip(&Command::new(0, 0x84, 0, 0).with_le(8), "00 84 00 00 08");
        round_trip(
            &Command::new(0, 0xB2, 1, 0x2C).with_le(256),
            "00 B2 01 2C 00",
        );
    }

    #[test]
    fn case_3_short() {
        round_trip(
            &Command::new(0, 0xA4, 0, 0).with_data(vec![0x3F, 0x00]),
            "00 A4 00 00 02 3F 00",
        );
        let max = Command::new(0, 0xDC, 1, 4).with_data(vec![0xAB; 255]);
        let bytes = max.to_bytes().unwrap();
        assert_eq!(bytes.len(), 4 + 1 + 255);
        assert_eq!(Command::parse(&bytes).unwrap(), max);
    }

    #[test]
    fn case_4_short() {
        round_trip(
            &Command::new(0, 0xA4, 4, 0)
                .with_data(hex("D15600000590"))
                .with_le(256),
            "00 A4 04 00 06 D1 56 00 00 05 90 00",
        );
        round_trip(
            &Command::new(0, 0x88, 0, 0)
                .with_data(vec![1; 16])
                .with_le(8),
            &format!("00880000 10 {} 08", "01".repeat(16)),
        );
    }

    #[test]
    fn case_2_extended() {
        round_trip(
            &Command::new(0, 0xB0, 0, 0).with_le(257),
            "00 B0 00 00 00 01 01",
        );
        round_trip(
            &Command::new(0, 0xB0, 0, 0).with_le(65536),
            "00 B0 00 00 00 00 00",
        );
        round_trip(
            &Command::new(0, 0xB0, 0, 0).with_le(65535),
            "00 B0 00 00 00 FF FF",
        );
    }

    #[test]
    fn case_3_extended() {
        let c = Command::new(0, 0xDC, 1, 4).with_data(vec![0x5A; 256]);
        round_trip(&c, &format!("00DC0104 00 0100 {}", "5A".repeat(256)));
        let big = Command::new(0, 0xDC, 1, 4).with_data(vec![7; MAX_LC]);
        let bytes = big.to_bytes().unwrap();
        assert_eq!(bytes.len(), 4 + 3 + MAX_LC);
        assert_eq!(Command::parse(&bytes).unwrap(), big);
    }

    #[test]
    fn case_4_extended() {
        // data needs extended
        let c = Command::new(0x80, 0xFA, 0, 0)
            .with_data(vec![0x11; 300])
            .with_le(256);
        round_trip(&c, &format!("80FA0000 00 012C {} 0100", "11".repeat(300)));
        // Le needs extended, data would fit short: both fields go extended
        let c = Command::new(0, 0xB2, 1, 0x2D)
            .with_data(vec![1, 2])
            .with_le(1000);
        round_trip(&c, "00 B2 01 2D 00 00 02 01 02 03 E8");
        let c = Command::new(0, 0xB2, 1, 0x2D)
            .with_data(vec![1])
            .with_le(65536);
        round_trip(&c, "00 B2 01 2D 00 00 01 01 00 00");
    }

    #[test]
    fn out_of_range_lengths_are_errors() {
        let c = Command::new(0, 0xDC, 0, 0).with_data(vec![0; MAX_LC + 1]);
        assert_eq!(c.to_bytes(), Err(ApduError::DataTooLong(MAX_LC + 1)));
        let c = Command::new(0, 0xB0, 0, 0).with_le(0);
        assert_eq!(c.to_bytes(), Err(ApduError::LeOutOfRange(0)));
        let c = Command::new(0, 0xB0, 0, 0).with_le(MAX_LE + 1);
        assert_eq!(c.to_bytes(), Err(ApduError::LeOutOfRange(MAX_LE + 1)));
    }

    #[test]
    fn malformed_commands_are_rejected() {
        for bad in [
            "",
            "00",
            "00A404",
            // short Lc 2 with 1 data byte
            "00A40000 02 3F",
            // short Lc 2 with 4 bytes after it
            "00A40000 02 3F 00 00 00",
            // 00 followed by one byte
            "00B00000 00 01",
            // extended Lc 0
            "00DC0000 00 0000 00",
            // extended Lc 2, 1 byte of data
            "00DC0000 00 0002 01",
            // extended Lc 2 with a 1-byte Le
            "00DC0000 00 0002 01 02 00",
            // extended Lc 1 with a 3-byte tail
            "00DC0000 00 0001 01 00 00 00",
        ] {
            let bytes = hex(bad);
            assert!(Command::parse(&bytes).is_err(), "accepted {bad}");
        }
        assert_eq!(
            Command::parse(&[0, 0xA4]),
            Err(ApduError::CommandTooShort(2))
        );
    }

    #[test]
    fn sensitive_data_is_redacted_in_debug() {
        let c =
            Command::new(0, 0x20, 0, 0).with_sensitive_data(Zeroizing::new(vec![0x12, 0x34, 0x56]));
        let text = format!("{c:?}");
        assert!(text.contains("REDACTED(3 bytes)"), "{text}");
        assert!(
            !text.contains("123456") && !text.contains("18, 52, 86"),
            "{text}"
        );
        assert!(c.is_sensitive());
        assert_eq!(c.data(), &[0x12, 0x34, 0x56]);
        // encoding still carries the real bytes
        assert_eq!(&*c.to_bytes().unwrap(), &hex("0020000003123456")[..]);
    }

    #[test]
    fn plain_and_sensitive_data_differ() {
        let a = Command::new(0, 0x20, 0, 0).with_data(vec![1]);
        let b = Command::new(0, 0x20, 0, 0).with_sensitive_data(Zeroizing::new(vec![1]));
        assert_ne!(a, b);
    }

    fn arb_command() -> impl Strategy<Value = Command> {
        (
            any::<[u8; 4]>(),
            prop_oneof![
                3 => proptest::collection::vec(any::<u8>(), 0..=255),
                1 => proptest::collection::vec(any::<u8>(), 256..700),
            ],
            prop_oneof![
                Just(None),
                (1usize..=256).prop_map(Some),
                (257usize..=MAX_LE).prop_map(Some),
                Just(Some(MAX_LE)),
            ],
        )
            .prop_map(|([cla, ins, p1, p2], data, le)| {
                let mut c = Command::new(cla, ins, p1, p2);
                if !data.is_empty() {
                    c = c.with_data(data);
                }
                if let Some(le) = le {
                    c = c.with_le(le);
                }
                c
            })
    }

    proptest! {
        #[test]
        fn parse_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            let _ = Command::parse(&bytes);
        }

        #[test]
        fn parse_never_panics_near_valid(
            header in any::<[u8; 4]>(),
            marker in prop_oneof![Just(0u8), any::<u8>()],
            lc in any::<u16>(),
            tail in proptest::collection::vec(any::<u8>(), 0..300),
        ) {
            let mut bytes = header.to_vec();
            bytes.push(marker);
            bytes.extend_from_slice(&lc.to_be_bytes());
            bytes.extend_from_slice(&tail);
            if let Ok(c) = Command::parse(&bytes) {
                // anything accepted re-encodes to something that parses to the same command
                let again = c.to_bytes().unwrap();
                prop_assert_eq!(Command::parse(&again).unwrap(), c);
            }
        }

        #[test]
        fn parse_inverts_to_bytes(c in arb_command()) {
            let bytes = c.to_bytes().unwrap();
            prop_assert_eq!(Command::parse(&bytes).unwrap(), c.clone());
            let short = c.data().len() <= 255 && c.le().is_none_or(|le| le <= 256);
            prop_assert_eq!(short, !c.is_extended());
        }
    }
}
