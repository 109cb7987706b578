//! The financial application behind the firewall (part 3 §5; part 4 §5.1-5.5): a bank outlet
//! reads the bank account number (tag `5A`) of the PBOC debit application (JR/T 0025).

use serde::Serialize;

use crate::apdu::{commands, RecordRef, StatusWord};
use crate::error::{Error, Result};
use crate::tlv::{self, TlvError};
use crate::transport::Transport;

use super::card::{status_error, Card};

/// The AID of the PBOC debit application (借记).
pub const PBOC_DEBIT_AID: [u8; 8] = [0xA0, 0x00, 0x00, 0x03, 0x33, 0x01, 0x01, 0x01];

/// The bank account of the card's financial application.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
pub struct BankAccount {
    /// The primary account number (tag `5A`), digits.
    pub pan: String,
    /// The application expiration date (tag `5F24`, `YYMMDD`), if the card gives it.
    pub expiry: Option<String>,
}

fn digits(bcd: &[u8]) -> String {
    bcd.iter()
        .flat_map(|b| [b >> 4, b & 0x0F])
        .take_while(|&n| n <= 9)
        .map(|n| char::from(b'0' + n))
        .collect()
}

/// Tags of the PBOC debit application (JR/T 0025).
mod tag {
    /// The processing options data object list, in the FCI.
    pub const PDOL: [u8; 2] = [0x9F, 0x38];
    /// Response message template format 1 of GET PROCESSING OPTIONS (AIP ‖ AFL).
    pub const FORMAT_1: u8 = 0x80;
    /// The application file locator (format 2).
    pub const AFL: u8 = 0x94;
    /// The primary account number.
    pub const PAN: u8 = 0x5A;
    /// The application expiration date.
    pub const EXPIRY: [u8; 2] = [0x5F, 0x24];
}

/// Zeros for every data object a DOL asks for.
fn dol_zeros(dol: &[u8]) -> Result<Vec<u8>, TlvError> {
    let len = tlv::parse_dol(dol)?
        .iter()
        .map(|(_, len)| usize::from(*len))
        .sum();
    Ok(vec![0; len])
}

/// Reads the bank account number: SELECT `A000000333010101`, GET PROCESSING OPTIONS, then the
/// records the AFL names until one carries `5A`. Selecting the financial application leaves
/// SSSE (the firewall): the next card operation selects SSSE again.
pub fn read_bank_account<T: Transport>(card: &mut Card<T>) -> Result<BankAccount> {
    card.operation(|card| {
        card.forget();
        let (fci, sw) = card.exchange_raw(&commands::select_aid(&PBOC_DEBIT_AID))?;
        card.forget();
        match sw {
            StatusWord::Ok => {}
            StatusWord::FileNotFound => return Err(Error::NoFinancialApplication),
            sw => return Err(status_error("SELECT financial application", sw)),
        }
        let malformed = |e: TlvError| Error::MalformedResponse {
            command: "GET PROCESSING OPTIONS",
            reason: e.to_string(),
        };
        let pdol = tlv::find_ber(&fci, &tag::PDOL).map_err(malformed)?;
        let pdol_data = dol_zeros(pdol.unwrap_or_default()).map_err(malformed)?;
        let gpo = commands::get_processing_options(&pdol_data);
        let answer = card.exchange("GET PROCESSING OPTIONS", &gpo)?;
        let afl = match answer.split_first() {
            Some((&tag::FORMAT_1, _)) => tlv::find_ber(&answer, &[tag::FORMAT_1])
                .map_err(malformed)?
                .and_then(|v| v.get(2..))
                .unwrap_or_default()
                .to_vec(),
            _ => tlv::find_ber(&answer, &[tag::AFL])
                .map_err(malformed)?
                .unwrap_or_default()
                .to_vec(),
        };
        let mut expiry = None;
        for entry in afl.chunks_exact(4) {
            let sfi = entry[0] >> 3;
            for record in entry[1]..=entry[2] {
                let command = commands::read_record(Some(sfi), RecordRef::Number(record), 256);
                let data = card.exchange("READ RECORD (financial)", &command)?;
                let record_malformed = |e: TlvError| Error::MalformedResponse {
                    command: "READ RECORD (financial)",
                    reason: e.to_string(),
                };
                if let Some(date) = tlv::find_ber(&data, &tag::EXPIRY).map_err(record_malformed)? {
                    expiry = Some(digits(date));
                }
                if let Some(pan) = tlv::find_ber(&data, &[tag::PAN]).map_err(record_malformed)? {
                    return Ok(BankAccount {
                        pan: digits(pan),
                        expiry,
                    });
                }
            }
        }
        Err(Error::MalformedResponse {
            command: "READ RECORD (financial)",
            reason: "no account number (5A) in the records of the AFL".into(),
        })
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn pan_digits_and_dol() {
        assert_eq!(digits(&[0x62, 0x22, 0x12, 0x34, 0x5F]), "622212345");
        assert_eq!(dol_zeros(&[0x9F, 0x66, 0x04, 0x95, 0x05]).unwrap().len(), 9);
        assert!(dol_zeros(&[]).unwrap().is_empty());
        assert!(dol_zeros(&[0x9F]).is_err(), "a truncated PDOL is refused");
    }
}
