//! The financial application a bank-issued card carries beside SSSE (part 4 §5.1 figure: the
//! DDF `1PAY.SYS.DDF01` next to the DDF `sx1.sh.社会保障` under the MF, separated by the
//! application firewall of §5.5).
//!
//! The simulator gives it only the basics of JR/T 0025 a terminal needs to find and read it:
//!
//! - SELECT `1PAY.SYS.DDF01` (the PSE) → `6F { 84 <name>, A5 { 88 01 01 } }`;
//! - READ RECORD SFI 1 record 1 of the PSE (its directory) →
//!   `70 { 61 { 4F <AID>, 50 <label>, 87 01 01 } }`;
//! - SELECT `<AID>` (by default the PBOC debit application `A000000333010101`) →
//!   `6F { 84 <AID>, A5 { 50 <label>, 87 01 01 } }`;
//! - GET PROCESSING OPTIONS `80A8 0000 02 8300 00` → `80 { AIP ‖ AFL }`, AIP `0000` (no offline
//!   data authentication, no cardholder verification list: none is simulated) and AFL
//!   `08 01 01 00` (SFI 1, record 1);
//! - READ RECORD SFI 1 record 1 of the application →
//!   `70 { 57 <track 2 equivalent>, 5A <PAN>, 5F24 <expiry YYMMDD>, 5F34 <PAN sequence> }`.
//!
//! Nothing else (offline authentication, GENERATE AC, PIN) is simulated.

use serde::{Deserialize, Serialize};

use sscard_core::profile::fci::Fci;
use sscard_core::tlv::ber;

use crate::error::SimError;
use crate::secret::HexBytes;

/// The PBOC debit application identifier (JR/T 0025).
pub const DEBIT_AID: [u8; 8] = [0xA0, 0x00, 0x00, 0x03, 0x33, 0x01, 0x01, 0x01];

/// The name of the payment system environment DDF.
pub const PSE_NAME: &[u8; 14] = b"1PAY.SYS.DDF01";

/// The application interchange profile the simulated application announces.
pub const AIP: [u8; 2] = [0x00, 0x00];

/// The SFI of the PSE directory and of the application's record file.
pub const RECORD_SFI: u8 = 1;

/// The data of the financial application of a bank-issued card.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FinancialApp {
    /// The application identifier, 5 to 16 bytes ([`DEBIT_AID`] by default).
    pub aid: HexBytes,
    /// The application label (tag `50`): 1 to 16 printable ASCII characters.
    pub label: String,
    /// The primary account number: 12 to 19 digits.
    pub pan: String,
    /// The expiry date `YYMMDD`.
    pub expiry: String,
    /// The PAN sequence number, 0 to 99.
    pub pan_sequence: u8,
    /// The service code of the track 2 equivalent data: 3 digits.
    pub service_code: String,
}

impl FinancialApp {
    /// A debit application ([`DEBIT_AID`], label `PBOC DEBIT`, service code `220`, PAN sequence
    /// `01`) for `pan`, expiring `expiry` (`YYMMDD`).
    pub fn debit(pan: &str, expiry: &str) -> Result<FinancialApp, SimError> {
        let app = FinancialApp {
            aid: HexBytes(DEBIT_AID.to_vec()),
            label: "PBOC DEBIT".into(),
            pan: pan.into(),
            expiry: expiry.into(),
            pan_sequence: 1,
            service_code: "220".into(),
        };
        app.validate()?;
        Ok(app)
    }

    /// Checks every field.
    pub fn validate(&self) -> Result<(), SimError> {
        let bad = |what: String| {
            Err(SimError::InvalidSpec(format!(
                "financial application: {what}"
            )))
        };
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if !(5..=16).contains(&self.aid.0.len()) {
            return bad(format!(
                "an AID has 5 to 16 bytes, not {}",
                self.aid.0.len()
            ));
        }
        if self.aid.0 == PSE_NAME.as_slice() {
            return bad("the AID is the PSE name".into());
        }
        if !(1..=16).contains(&self.label.len())
            || !self.label.bytes().all(|b| (0x20..0x7F).contains(&b))
        {
            return bad("the label has 1 to 16 printable ASCII characters".into());
        }
        if !digits(&self.pan) || !(12..=19).contains(&self.pan.len()) {
            return bad("the PAN has 12 to 19 digits".into());
        }
        let month = self.expiry.get(2..4).and_then(|m| m.parse::<u8>().ok());
        let day = self.expiry.get(4..6).and_then(|d| d.parse::<u8>().ok());
        if self.expiry.len() != 6
            || !digits(&self.expiry)
            || !month.is_some_and(|m| (1..=12).contains(&m))
            || !day.is_some_and(|d| (1..=31).contains(&d))
        {
            return bad(format!("expiry {:?} is not YYMMDD", self.expiry));
        }
        if self.pan_sequence > 99 {
            return bad("the PAN sequence number is 0 to 99".into());
        }
        if self.service_code.len() != 3 || !digits(&self.service_code) {
            return bad("the service code has 3 digits".into());
        }
        Ok(())
    }

    /// The FCI of the PSE: its name and the SFI of its directory.
    pub(crate) fn pse_fci(&self) -> Vec<u8> {
        Fci {
            df_name: Some(PSE_NAME.to_vec()),
            directory_sfi: Some(RECORD_SFI),
            algorithm: None,
        }
        .to_bytes()
    }

    /// The records of the PSE directory (SFI 1): one entry, the application.
    pub(crate) fn pse_records(&self) -> Vec<Vec<u8>> {
        let mut entry = ber(&[0x4F], &self.aid.0);
        entry.extend(ber(&[0x50], self.label.as_bytes()));
        entry.extend(ber(&[0x87], &[0x01]));
        vec![ber(&[0x70], &ber(&[0x61], &entry))]
    }

    /// The FCI of the application.
    pub(crate) fn adf_fci(&self) -> Vec<u8> {
        let mut a5 = ber(&[0x50], self.label.as_bytes());
        a5.extend(ber(&[0x87], &[0x01]));
        let mut body = ber(&[0x84], &self.aid.0);
        body.extend(ber(&[0xA5], &a5));
        ber(&[0x6F], &body)
    }

    /// The answer to GET PROCESSING OPTIONS, response format 1: `80 { AIP ‖ AFL }`.
    pub(crate) fn gpo_response(&self) -> Vec<u8> {
        let mut value = AIP.to_vec();
        value.extend_from_slice(&[RECORD_SFI << 3, 0x01, 0x01, 0x00]);
        ber(&[0x80], &value)
    }

    /// The records of the application's file (SFI 1): one record.
    pub(crate) fn adf_records(&self) -> Vec<Vec<u8>> {
        let mut track2 = String::with_capacity(40);
        track2.push_str(&self.pan);
        track2.push('D');
        track2.push_str(self.expiry.get(..4).unwrap_or_default());
        track2.push_str(&self.service_code);
        let mut body = ber(&[0x57], &nibbles(&track2));
        body.extend(ber(&[0x5A], &nibbles(&self.pan)));
        body.extend(ber(&[0x5F, 0x24], &nibbles(&self.expiry)));
        let seq = self.pan_sequence;
        body.extend(ber(&[0x5F, 0x34], &[((seq / 10) << 4) | (seq % 10)]));
        vec![ber(&[0x70], &body)]
    }
}

/// Packs hex-digit text (`0`-`9`, `D`) two nibbles a byte, padding an odd count with `F`.
fn nibbles(text: &str) -> Vec<u8> {
    let values: Vec<u8> = text
        .bytes()
        .map(|c| match c {
            b'0'..=b'9' => c - b'0',
            b'D' => 0x0D,
            _ => 0x0F,
        })
        .collect();
    values
        .chunks(2)
        .map(|pair| match pair {
            [hi, lo] => (hi << 4) | lo,
            [hi] => (hi << 4) | 0x0F,
            _ => 0xFF,
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn objects() {
        let app = FinancialApp::debit("6217000010001234567", "301231").unwrap();
        assert_eq!(
            hex::encode_upper(app.pse_fci()),
            "6F15840E315041592E5359532E4444463031A503880101"
        );
        assert_eq!(
            hex::encode_upper(&app.pse_records()[0]),
            "701B61194F08A000000333010101500A50424F43204445424954870101"
        );
        assert_eq!(
            hex::encode_upper(app.adf_fci()),
            "6F1B8408A000000333010101A50F500A50424F43204445424954870101"
        );
        assert_eq!(
            hex::encode_upper(app.gpo_response()),
            "80060000".to_owned() + "08010100"
        );
        assert_eq!(
            hex::encode_upper(&app.adf_records()[0]),
            "7026570E6217000010001234567D3012220F5A0A6217000010001234567F5F24033012315F340101"
        );
    }

    #[test]
    fn validation() {
        assert!(FinancialApp::debit("12345", "301231").is_err());
        assert!(FinancialApp::debit("621700001000123456A", "301231").is_err());
        assert!(FinancialApp::debit("6217000010001234567", "301331").is_err());
        let mut app = FinancialApp::debit("6217000010001234", "301231").unwrap();
        app.label = String::new();
        assert!(app.validate().is_err());
        app.label = "X".into();
        app.aid = HexBytes(vec![1, 2]);
        assert!(app.validate().is_err());
    }
}
