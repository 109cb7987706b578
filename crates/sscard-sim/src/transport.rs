//! The in-process transport: a [`VirtualCard`] in a virtual reader, for tests and demos.

use sscard_core::transport::{Transport, TransportError};

pub use crate::vpcd::VirtualCard;

/// A virtual reader holding one [`VirtualCard`], implementing [`Transport`] in process.
///
/// [`SimTransport::power_cycle`] resets the card and increments the reset epoch, as a real
/// reader does when the card is reset or reconnected; [`SimTransport::remove_card`] takes the
/// card out (every exchange then fails with [`TransportError::CardRemoved`]) until
/// [`SimTransport::insert_card`].
#[derive(Debug)]
pub struct SimTransport<C: VirtualCard> {
    card: C,
    epoch: u64,
    present: bool,
    exchanges: u64,
}

impl<C: VirtualCard> SimTransport<C> {
    /// A reader with `card` inserted and powered.
    pub fn new(card: C) -> SimTransport<C> {
        SimTransport {
            card,
            epoch: 0,
            present: true,
            exchanges: 0,
        }
    }

    /// The card in the reader (also while removed), e.g. to inspect its image.
    pub fn card(&self) -> &C {
        &self.card
    }

    /// Mutable access to the card, e.g. to change options in a test.
    pub fn card_mut(&mut self) -> &mut C {
        &mut self.card
    }

    /// Takes the card back out of the reader.
    pub fn into_card(self) -> C {
        self.card
    }

    /// Resets the card (volatile state lost) and increments the reset epoch.
    pub fn power_cycle(&mut self) {
        self.card.reset();
        self.epoch = self.epoch.wrapping_add(1);
    }

    /// Removes the card: exchanges fail with [`TransportError::CardRemoved`].
    pub fn remove_card(&mut self) {
        self.present = false;
    }

    /// Inserts the card again: it is powered up afresh (a reset, a new epoch).
    pub fn insert_card(&mut self) {
        self.present = true;
        self.power_cycle();
    }

    /// Whether the card is in the reader.
    pub fn is_present(&self) -> bool {
        self.present
    }

    /// Number of APDUs the card answered through this reader.
    pub fn exchanges(&self) -> u64 {
        self.exchanges
    }
}

impl<C: VirtualCard> Transport for SimTransport<C> {
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, TransportError> {
        if !self.present {
            return Err(TransportError::CardRemoved);
        }
        self.exchanges = self.exchanges.wrapping_add(1);
        let response = self.card.handle(command);
        if response.len() < 2 {
            // a card that lost power mid-command answers nothing
            self.present = false;
            return Err(TransportError::CardRemoved);
        }
        Ok(response)
    }

    fn atr(&mut self) -> Result<Vec<u8>, TransportError> {
        if !self.present {
            return Err(TransportError::NoCard);
        }
        Ok(self.card.atr())
    }

    fn reset_epoch(&self) -> u64 {
        self.epoch
    }
}
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::test_support::{h, Terminal};
    use sscard_core::profile::Generation;
    use sscard_core::Algorithm;

    #[test]
    fn power_cycle_removal_and_epochs() {
        let t = Terminal::new(Generation::V3, Algorithm::Sm4);
        let atr = t.card.atr();
        let mut transport = SimTransport::new(t.card);
        assert_eq!(transport.reset_epoch(), 0);
        assert_eq!(transport.atr().unwrap(), atr);
        let select = h("00A404000F7378312E73682EC9E7BBE1B1A3D5CF");
        assert_eq!(transport.transmit(&select).unwrap(), [0x61, 0x1B]);
        assert_eq!(
            transport.transmit(&h("00A4020002EF05")).unwrap(),
            [0x90, 0x00]
        );
        assert_eq!(transport.exchanges(), 2);
        // a power cycle: new epoch, the MF current again
        transport.power_cycle();
        assert_eq!(transport.reset_epoch(), 1);
        assert_eq!(
            transport.transmit(&h("00A4020002EF05")).unwrap(),
            [0x6A, 0x82]
        );
        // removal
        transport.remove_card();
        assert!(matches!(
            transport.transmit(&select),
            Err(TransportError::CardRemoved)
        ));
        assert!(matches!(transport.atr(), Err(TransportError::NoCard)));
        assert_eq!(transport.card().atr(), atr, "still there to inspect");
        transport.insert_card();
        assert_eq!(transport.reset_epoch(), 2);
        assert!(transport.transmit(&select).is_ok());
        transport.card_mut().reset();
        assert_eq!(transport.into_card().atr(), atr);
    }

    #[test]
    fn boxed_virtual_cards() {
        let t = Terminal::new(Generation::V1, Algorithm::Tdes);
        let boxed: Box<dyn VirtualCard> = Box::new(t.card);
        let mut transport = SimTransport::new(boxed);
        assert_eq!(
            transport.transmit(&[0x00, 0xCA, 0x00, 0x00, 0x00]).unwrap(),
            [0x6D, 0x00]
        );
    }
}
