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
