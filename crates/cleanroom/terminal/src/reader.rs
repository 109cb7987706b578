//! Readers: anything that exchanges APDUs with a card, and the PC/SC implementation.

use std::ffi::CString;

use crate::apdu::exchange_t0;
use crate::error::ReaderError;

/// Anything that exchanges APDUs with a card.
pub trait Reader {
    /// Sends a command APDU and returns `response data ‖ SW1 SW2`.
    fn transmit(&mut self, apdu: &[u8]) -> Result<Vec<u8>, ReaderError>;
    /// The card's answer to reset.
    fn atr(&mut self) -> Result<Vec<u8>, ReaderError>;
}

impl<R: Reader + ?Sized> Reader for &mut R {
    fn transmit(&mut self, apdu: &[u8]) -> Result<Vec<u8>, ReaderError> {
        (**self).transmit(apdu)
    }
    fn atr(&mut self) -> Result<Vec<u8>, ReaderError> {
        (**self).atr()
    }
}

impl<R: Reader + ?Sized> Reader for Box<R> {
    fn transmit(&mut self, apdu: &[u8]) -> Result<Vec<u8>, ReaderError> {
        (**self).transmit(apdu)
    }
    fn atr(&mut self) -> Result<Vec<u8>, ReaderError> {
        (**self).atr()
    }
}

fn pcsc_error(e: pcsc::Error) -> ReaderError {
    match e {
        pcsc::Error::NoSmartcard | pcsc::Error::RemovedCard | pcsc::Error::ResetCard => {
            ReaderError::NoCard
        }
        other => ReaderError::Pcsc(other.to_string()),
    }
}

/// A card in a PC/SC reader, connected in shared mode with T=0 or T=1.
///
/// On T=0 the card's procedure bytes reach the application: `61xx` is followed by GET
/// RESPONSE and `6Cxx` by the same command with `P3 = xx` (part 2 §9.3.2), so callers always
/// get the whole answer.
pub struct PcscReader {
    card: pcsc::Card,
    name: String,
}

impl std::fmt::Debug for PcscReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PcscReader")
            .field("name", &self.name)
            .finish()
    }
}

impl PcscReader {
    /// The names of the readers PC/SC knows.
    pub fn list() -> Result<Vec<String>, ReaderError> {
        let ctx = pcsc::Context::establish(pcsc::Scope::User).map_err(pcsc_error)?;
        let names = ctx.list_readers_owned().map_err(pcsc_error)?;
        Ok(names
            .into_iter()
            .map(|n| n.to_string_lossy().into_owned())
            .collect())
    }

    /// Connects to the card in the reader called `reader_name` (shared mode, T=0 or T=1).
    pub fn connect(reader_name: &str) -> Result<PcscReader, ReaderError> {
        let ctx = pcsc::Context::establish(pcsc::Scope::User).map_err(pcsc_error)?;
        let cname = CString::new(reader_name)
            .map_err(|_| ReaderError::Other("reader name contains a NUL byte".to_string()))?;
        let card = ctx
            .connect(
                &cname,
                pcsc::ShareMode::Shared,
                pcsc::Protocols::T0 | pcsc::Protocols::T1,
            )
            .map_err(pcsc_error)?;
        Ok(PcscReader {
            card,
            name: reader_name.to_string(),
        })
    }

    /// The reader's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    fn transmit_once(card: &pcsc::Card, apdu: &[u8]) -> Result<Vec<u8>, ReaderError> {
        let mut buffer = [0u8; pcsc::MAX_BUFFER_SIZE];
        card.transmit(apdu, &mut buffer)
            .map(<[u8]>::to_vec)
            .map_err(pcsc_error)
    }
}

impl Reader for PcscReader {
    fn transmit(&mut self, apdu: &[u8]) -> Result<Vec<u8>, ReaderError> {
        let card = &self.card;
        exchange_t0(apdu, |cmd| PcscReader::transmit_once(card, cmd))
    }

    fn atr(&mut self) -> Result<Vec<u8>, ReaderError> {
        let status = self.card.status2_owned().map_err(pcsc_error)?;
        Ok(status.atr().to_vec())
    }
}
