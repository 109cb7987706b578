//! The transport: how raw APDU bytes reach a card. Implemented by the PC/SC crate, the
//! simulator and test doubles; driven only by [`crate::channel::Channel`].
//!
//! A transport knows nothing of the card's application: raw command bytes in, raw response
//! bytes (`data ‖ SW1 SW2`) out. GET RESPONSE, Le correction and tracing are the channel's job.

use thiserror::Error;

/// Raw access to one card.
pub trait Transport {
    /// Send one raw command APDU, return the raw response (data ‖ SW1 SW2). No retries, no GET RESPONSE.
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, TransportError>;

    /// The card's ATR.
    fn atr(&mut self) -> Result<Vec<u8>, TransportError>;

    /// A counter that changes whenever the card was reset / reconnected / replaced since it was last read.
    /// Authenticated sessions remember it and refuse to continue once it changes.
    fn reset_epoch(&self) -> u64;

    /// Begin an exclusive transaction (default: nothing to do).
    fn begin_transaction(&mut self) -> Result<(), TransportError> {
        Ok(())
    }

    /// End the exclusive transaction (default: nothing to do).
    fn end_transaction(&mut self) -> Result<(), TransportError> {
        Ok(())
    }
}

impl<T: Transport + ?Sized> Transport for &mut T {
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, TransportError> {
        (**self).transmit(command)
    }

    fn atr(&mut self) -> Result<Vec<u8>, TransportError> {
        (**self).atr()
    }

    fn reset_epoch(&self) -> u64 {
        (**self).reset_epoch()
    }

    fn begin_transaction(&mut self) -> Result<(), TransportError> {
        (**self).begin_transaction()
    }

    fn end_transaction(&mut self) -> Result<(), TransportError> {
        (**self).end_transaction()
    }
}

impl<T: Transport + ?Sized> Transport for Box<T> {
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, TransportError> {
        (**self).transmit(command)
    }

    fn atr(&mut self) -> Result<Vec<u8>, TransportError> {
        (**self).atr()
    }

    fn reset_epoch(&self) -> u64 {
        (**self).reset_epoch()
    }

    fn begin_transaction(&mut self) -> Result<(), TransportError> {
        (**self).begin_transaction()
    }

    fn end_transaction(&mut self) -> Result<(), TransportError> {
        (**self).end_transaction()
    }
}

/// Why a transport could not reach the card.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum TransportError {
    /// The smart-card service is not reachable.
    #[error("the smart-card service is not available (is pcscd running?)")]
    NoService,
    /// No card reader is connected.
    #[error("no smart-card reader found")]
    NoReaders,
    /// No reader matches the name asked for.
    #[error("no smart-card reader matches {0:?}")]
    ReaderNotFound(String),
    /// The reader is empty.
    #[error("no card in the reader")]
    NoCard,
    /// The card was removed during the operation.
    #[error("the card was removed")]
    CardRemoved,
    /// Another process or a power cycle reset the card: its security state is lost.
    #[error("the card was reset (by another program or a power cycle)")]
    CardReset,
    /// Another process holds the card exclusively.
    #[error("the card is in exclusive use by another program")]
    SharingViolation,
    /// The card or reader did not answer in time.
    #[error("the card did not answer in time")]
    Timeout,
    /// No card was inserted while the reader was watched for one (the seconds waited).
    #[error("no card was inserted within {0} s")]
    NoCardInserted(u64),
    /// A reader name fragment that matches several readers (the message names them).
    #[error("{0}")]
    AmbiguousReader(String),
    /// The card or reader broke the transmission protocol.
    #[error("transmission protocol error: {0}")]
    Protocol(String),
    /// An I/O error of the connection (socket, USB).
    #[error("I/O error talking to the reader: {0}")]
    Io(String),
    /// Anything else the transport reports.
    #[error("{0}")]
    Other(String),
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    struct Echo(u64);

    impl Transport for Echo {
        fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, TransportError> {
            let mut out = command.to_vec();
            out.extend_from_slice(&[0x90, 0x00]);
            Ok(out)
        }
        fn atr(&mut self) -> Result<Vec<u8>, TransportError> {
            Ok(vec![0x3B, 0x00])
        }
        fn reset_epoch(&self) -> u64 {
            self.0
        }
    }

    fn use_it<T: Transport>(mut t: T) -> (Vec<u8>, Vec<u8>, u64) {
        t.begin_transaction().unwrap();
        let r = t.transmit(&[1, 2]).unwrap();
        t.end_transaction().unwrap();
        (r, t.atr().unwrap(), t.reset_epoch())
    }

    #[test]
    fn blanket_impls_forward() {
        let mut echo = Echo(7);
        let expected = (vec![1, 2, 0x90, 0x00], vec![0x3B, 0x00], 7);
        assert_eq!(use_it(&mut echo), expected);
        assert_eq!(use_it(Box::new(Echo(7))), expected);
        let boxed: Box<dyn Transport> = Box::new(Echo(7));
        assert_eq!(use_it(boxed), expected);
        let mut dynamic: Box<dyn Transport> = Box::new(Echo(7));
        assert_eq!(use_it(&mut *dynamic), expected);
    }

    #[test]
    fn messages() {
        assert!(TransportError::NoService
            .to_string()
            .contains("is pcscd running?"));
        assert_eq!(
            TransportError::ReaderNotFound("ACS".into()).to_string(),
            "no smart-card reader matches \"ACS\""
        );
    }
}
