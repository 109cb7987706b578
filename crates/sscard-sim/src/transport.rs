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
    use crate::test_support::{Terminal, SERIAL};
    use sscard_core::apdu::commands;
    use sscard_core::channel::Channel;
    use sscard_core::profile::{self, Generation};
    use sscard_core::Algorithm;

    #[test]
    fn power_cycle_removal_and_channel() {
        let t = Terminal::new(Generation::V2, Algorithm::Tdes);
        let mut options = t.card.image().options;
        options.t0_mode = true;
        let mut card = t.card;
        card.set_options(options);
        let mut transport = SimTransport::new(card);
        assert_eq!(transport.reset_epoch(), 0);
        assert_eq!(&transport.atr().unwrap()[13..], &SERIAL);
        // the core channel hides T=0
        let mut channel = Channel::new(&mut transport);
        let fci = channel
            .send_ok(&commands::select_aid(&profile::SSSE_AID))
            .unwrap();
        assert_eq!(fci.first(), Some(&0x6F));
        let data = channel
            .send_ok(&commands::read_record(
                Some(5),
                commands::RecordRef::AllFrom(1),
            ))
            .unwrap();
        assert_eq!(data.first(), Some(&0x01));
        drop(channel);
        assert!(transport.exchanges() >= 4);
        // power cycle: new epoch, MF selected again
        transport.power_cycle();
        assert_eq!(transport.reset_epoch(), 1);
        let response = transport.transmit(&[0x00, 0xB2, 0x01, 0x2C, 0x00]).unwrap();
        assert_eq!(response, [0x6A, 0x82]);
        // removal
        transport.remove_card();
        assert!(!transport.is_present());
        assert!(matches!(
            transport.transmit(&[0x00, 0x84, 0x00, 0x00, 0x08]),
            Err(TransportError::CardRemoved)
        ));
        assert!(matches!(transport.atr(), Err(TransportError::NoCard)));
        // the card is still reachable for inspection
        assert_eq!(transport.card().image().chip_serial, SERIAL);
        transport.insert_card();
        assert_eq!(transport.reset_epoch(), 2);
        assert!(transport.transmit(&[0x00, 0x84, 0x00, 0x00, 0x08]).is_ok());
        transport.card_mut().reset();
        let card = transport.into_card();
        assert_eq!(card.image().chip_serial, SERIAL);
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
